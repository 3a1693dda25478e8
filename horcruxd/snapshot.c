/*
 * snapshot.c - the latest state, kept from the drained mailbox (see
 * snapshot.h).
 *
 * The VMs are an unsorted array searched linearly, as the sessions'
 * coalescing slots are: it is touched once per VmMetrics and once per
 * inventory, both at vm_interval, and a host runs hundreds of VMs, not
 * millions.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hx-node.h"
#include "hx-util.h"
#include "snapshot.h"
#include "hx-proto.h"

struct snapshot {
	struct frame	       *latest[HX_TOPIC_COUNT]; /* not per VM */
	struct hx_node_metrics *node; /* latest[NodeMetrics]'s figures */
	struct snapshot_vm     *vms;
	size_t			nvms, vmcap;
	json_t		       *inventory;
};

struct snapshot *
snapshot_new(void)
{
	return xcalloc(1, sizeof(struct snapshot));
}

static void
vm_release(struct snapshot_vm *v)
{
	frame_unref(v->frame);
	hx_vm_samples_free(v->sample, 1);
}

static void
node_free(struct hx_node_metrics *node)
{
	if (node == NULL)
		return;
	hx_node_metrics_release(node);
	free(node);
}

void
snapshot_free(struct snapshot *snap)
{
	size_t i;
	int    t;

	if (snap == NULL)
		return;
	for (t = 0; t < HX_TOPIC_COUNT; t++)
		frame_unref(snap->latest[t]);
	node_free(snap->node);
	for (i = 0; i < snap->nvms; i++)
		vm_release(&snap->vms[i]);
	free(snap->vms);
	json_decref(snap->inventory);
	free(snap);
}

/*
 * Are a and b samples of one VM? The UUID says so; a name says so only
 * when a sample lacks its UUID (a name can pass from one VM to another).
 */
static int
same_vm(const struct hx_vm_sample *a, const struct hx_vm_sample *b)
{
	if (a->uuid != NULL && b->uuid != NULL)
		return strcasecmp(a->uuid, b->uuid) == 0;
	return a->vm_id != NULL && b->vm_id != NULL &&
	    strcmp(a->vm_id, b->vm_id) == 0;
}

/* Keep f (a new reference) and sample (taken) as their VM's newest. */
static void
vm_put(struct snapshot *snap, struct frame *f, struct hx_vm_sample *sample)
{
	struct snapshot_vm *v;
	size_t		    i;

	for (i = 0; i < snap->nvms; i++) {
		v = &snap->vms[i];
		if (same_vm(v->sample, sample)) {
			vm_release(v);
			v->frame = frame_ref(f);
			v->sample = sample;
			return;
		}
	}
	if (snap->nvms == snap->vmcap) {
		snap->vmcap = snap->vmcap ? snap->vmcap * 2 : 16;
		snap->vms = xrealloc(snap->vms,
		    snap->vmcap * sizeof *snap->vms);
	}
	v = &snap->vms[snap->nvms++];
	v->frame = frame_ref(f);
	v->sample = sample;
}

/* Does the inventory list the VM of sample s as running or paused? */
static int
vm_active(json_t *inventory, const struct hx_vm_sample *s)
{
	const char *id, *uuid, *state;
	json_t	   *e;
	size_t	    k;
	int	    same;

	json_array_foreach(inventory, k, e) {
		id = json_string_value(json_object_get(e, "id"));
		uuid = json_string_value(json_object_get(e, "uuid"));
		if (uuid != NULL && s->uuid != NULL)
			same = strcasecmp(uuid, s->uuid) == 0;
		else
			same = id != NULL && s->vm_id != NULL &&
			    strcmp(id, s->vm_id) == 0;
		if (!same)
			continue;
		state = json_string_value(json_object_get(e, "state"));
		return state != NULL &&
		    (strcmp(state, "running") == 0 ||
			strcmp(state, "paused") == 0);
	}
	return 0;
}

/* A new inventory (taken): keep it, forget every VM no longer active. */
static void
take_inventory(struct snapshot *snap, json_t *inventory)
{
	size_t i;

	json_decref(snap->inventory);
	snap->inventory = inventory;
	for (i = 0; i < snap->nvms;) {
		if (vm_active(inventory, snap->vms[i].sample)) {
			i++;
			continue;
		}
		vm_release(&snap->vms[i]);
		snap->vms[i] = snap->vms[--snap->nvms];
	}
}

void
snapshot_update(struct snapshot *snap, struct mail *m)
{
	struct hx_vm_sample    *sample = m->vm;
	struct hx_node_metrics *node = m->node;
	json_t		       *inventory = m->inventory;
	struct frame	       *f = m->frame;

	m->vm = NULL;
	m->node = NULL;
	m->inventory = NULL;
	if (f != NULL && f->topic >= 0 && f->topic < HX_TOPIC_COUNT &&
	    hx_topics[f->topic].metric) {
		if (!hx_topics[f->topic].per_vm) {
			frame_unref(snap->latest[f->topic]);
			snap->latest[f->topic] = frame_ref(f);
			if (f->topic == HX_TOPIC_NODE_METRICS) {
				node_free(snap->node);
				snap->node = node;
				node = NULL;
			}
		} else if (sample != NULL) {
			vm_put(snap, f, sample);
			sample = NULL;
		}
	}
	hx_vm_samples_free(sample, 1);
	node_free(node);
	if (inventory != NULL)
		take_inventory(snap, inventory);
}

const struct hx_node_metrics *
snapshot_node(const struct snapshot *snap)
{
	return snap->node;
}

struct frame *
snapshot_latest(const struct snapshot *snap, int t)
{
	if (t < 0 || t >= HX_TOPIC_COUNT)
		return NULL;
	return snap->latest[t];
}

json_t *
snapshot_inventory(const struct snapshot *snap)
{
	return snap->inventory;
}

const struct snapshot_vm *
snapshot_vm_find(const struct snapshot *snap, const char *vm_id)
{
	size_t i;

	for (i = 0; i < snap->nvms; i++) {
		if (snap->vms[i].sample->vm_id != NULL &&
		    strcmp(snap->vms[i].sample->vm_id, vm_id) == 0)
			return &snap->vms[i];
	}
	return NULL;
}

const struct snapshot_vm *
snapshot_vm_by_uuid(const struct snapshot *snap, const char *uuid)
{
	size_t i;

	for (i = 0; i < snap->nvms; i++) {
		if (snap->vms[i].sample->uuid != NULL &&
		    strcasecmp(snap->vms[i].sample->uuid, uuid) == 0)
			return &snap->vms[i];
	}
	return NULL;
}

const struct snapshot_vm *
snapshot_vm_at(const struct snapshot *snap, size_t i)
{
	return i < snap->nvms ? &snap->vms[i] : NULL;
}

size_t
snapshot_vm_count(const struct snapshot *snap)
{
	return snap->nvms;
}

const char *
snapshot_vm_resolve(const struct snapshot *snap, const char *id)
{
	json_t	   *e;
	const char *name, *uuid, *found = NULL;
	size_t	    i;

	if (snap->inventory == NULL)
		return id;
	json_array_foreach(snap->inventory, i, e) {
		name = json_string_value(json_object_get(e, "id"));
		uuid = json_string_value(json_object_get(e, "uuid"));
		if (name != NULL && strcmp(name, id) == 0)
			return id;
		if (found == NULL && uuid != NULL && name != NULL &&
		    strcasecmp(uuid, id) == 0)
			found = name;
	}
	return found != NULL ? found : id;
}
