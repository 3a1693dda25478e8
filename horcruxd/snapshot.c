/*
 * snapshot.c - the latest state, kept from the drained mailbox (see
 * snapshot.h).
 *
 * The VMs are an unsorted array with an index by UUID: a VmMetrics
 * replaces its VM's entry, and an inventory prunes every VM it does not
 * list as active, both once per VM per vm_interval, so with thousands of
 * domains a linear search per VM would make a tick cost grow with the
 * square of their number. A sample or inventory entry without a UUID
 * (the collector always has one) is matched by name, linearly.
 *
 * A lifecycle event's change is applied to the inventory as its frame
 * goes out, and kept until an inventory read after it comes: one read
 * before it (the collector was listing domains as libvirt told us) gets
 * the change again, so GET /api/vms never goes back to a state an event
 * has already replaced.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hx-hash.h"
#include "hx-node.h"
#include "hx-util.h"
#include "snapshot.h"
#include "hx-proto.h"

struct snapshot {
	struct frame	       *latest[HX_TOPIC_COUNT]; /* not per VM */
	struct hx_node_metrics *node; /* latest[NodeMetrics]'s figures */
	struct snapshot_vm     *vms;
	size_t			nvms, vmcap;
	struct hx_hash	       *by_uuid; /* uuid -> index in vms */
	size_t			nnouuid; /* entries whose sample has none */
	json_t		       *inventory;
	char		       *inventory_text; /* NULL: not yet serialized */
	size_t			inventory_len;
	struct inv_change     **changes; /* newer than the inventory's read */
	size_t			nchanges;
};

/* More changes than a tick ever brings: the oldest go first. */
#define MAX_CHANGES 4096

struct snapshot *
snapshot_new(void)
{
	struct snapshot *snap = xcalloc(1, sizeof(struct snapshot));

	snap->by_uuid = hx_hash_new(1);
	return snap;
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
	hx_hash_free(snap->by_uuid);
	json_decref(snap->inventory);
	free(snap->inventory_text);
	for (i = 0; i < snap->nchanges; i++)
		inv_change_free(snap->changes[i]);
	free(snap->changes);
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

/* Index entry i of snap->vms (its sample just set) under its UUID. */
static void
vm_index(struct snapshot *snap, size_t i)
{
	if (snap->vms[i].sample->uuid != NULL)
		hx_hash_set(snap->by_uuid, snap->vms[i].sample->uuid, i);
	else
		snap->nnouuid++;
}

/* Take entry i of snap->vms out of the index (before its sample goes). */
static void
vm_unindex(struct snapshot *snap, size_t i)
{
	const char *uuid = snap->vms[i].sample->uuid;
	size_t	    at;

	if (uuid == NULL)
		snap->nnouuid--;
	else if (hx_hash_get(snap->by_uuid, uuid, &at) == 0 && at == i)
		hx_hash_del(snap->by_uuid, uuid);
}

/* The entry same_vm() finds for sample, or -1. */
static long
vm_slot(const struct snapshot *snap, const struct hx_vm_sample *sample)
{
	size_t i;

	if (sample->uuid != NULL &&
	    hx_hash_get(snap->by_uuid, sample->uuid, &i) == 0)
		return (long)i;
	/* Without a UUID on either side, names decide. */
	if (sample->uuid != NULL && snap->nnouuid == 0)
		return -1;
	for (i = 0; i < snap->nvms; i++) {
		if (same_vm(snap->vms[i].sample, sample))
			return (long)i;
	}
	return -1;
}

/* Keep f (a new reference) and sample (taken) as their VM's newest. */
static void
vm_put(struct snapshot *snap, struct frame *f, struct hx_vm_sample *sample)
{
	struct snapshot_vm *v;
	long		    at = vm_slot(snap, sample);
	size_t		    i;

	if (at >= 0) {
		i = (size_t)at;
		v = &snap->vms[i];
		vm_unindex(snap, i);
		vm_release(v);
		v->frame = frame_ref(f);
		v->sample = sample;
		vm_index(snap, i);
		return;
	}
	if (snap->nvms == snap->vmcap) {
		snap->vmcap = snap->vmcap ? snap->vmcap * 2 : 16;
		snap->vms = xrealloc(snap->vms,
		    snap->vmcap * sizeof *snap->vms);
	}
	i = snap->nvms++;
	v = &snap->vms[i];
	v->frame = frame_ref(f);
	v->sample = sample;
	vm_index(snap, i);
}

/* Is an inventory entry's state one whose VM keeps its figures? */
static int
entry_active(json_t *e)
{
	const char *state = json_string_value(json_object_get(e, "state"));

	return state != NULL &&
	    (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0);
}

/*
 * Does the inventory list the VM of sample s as running or paused? The
 * first entry that is the same VM decides: by UUID when both have one,
 * else by name. ix indexes the entries by UUID (the first of each), or is
 * NULL when some entry lacks a UUID and the order of a linear walk counts.
 */
static int
vm_active(json_t *inventory, const struct hx_hash *ix,
    const struct hx_vm_sample *s)
{
	const char *id, *uuid;
	json_t	   *e;
	size_t	    k;
	int	    same;

	if (ix != NULL && s->uuid != NULL)
		return hx_hash_get(ix, s->uuid, &k) == 0 &&
		    entry_active(json_array_get(inventory, k));
	json_array_foreach(inventory, k, e) {
		id = json_string_value(json_object_get(e, "id"));
		uuid = json_string_value(json_object_get(e, "uuid"));
		if (uuid != NULL && s->uuid != NULL)
			same = strcasecmp(uuid, s->uuid) == 0;
		else
			same = id != NULL && s->vm_id != NULL &&
			    strcmp(id, s->vm_id) == 0;
		if (same)
			return entry_active(e);
	}
	return 0;
}

/* An index of the inventory's entries by UUID, or NULL (see vm_active). */
static struct hx_hash *
inventory_index(json_t *inventory)
{
	struct hx_hash *ix = hx_hash_new(1);
	const char     *uuid;
	json_t	       *e;
	size_t		k;

	json_array_foreach(inventory, k, e) {
		if ((uuid = json_string_value(json_object_get(e, "uuid"))) ==
		    NULL) {
			hx_hash_free(ix);
			return NULL;
		}
		hx_hash_add(ix, uuid, k);
	}
	return ix;
}

/* Forget every VM the inventory does not list as active. */
static void
prune(struct snapshot *snap)
{
	struct hx_hash *ix;
	size_t		i;

	if (snap->nvms == 0)
		return;
	ix = inventory_index(snap->inventory);
	for (i = 0; i < snap->nvms;) {
		if (vm_active(snap->inventory, ix, snap->vms[i].sample)) {
			i++;
			continue;
		}
		vm_unindex(snap, i);
		vm_release(&snap->vms[i]);
		/* The last entry moves into the hole. */
		if (i != --snap->nvms) {
			vm_unindex(snap, snap->nvms);
			snap->vms[i] = snap->vms[snap->nvms];
			vm_index(snap, i);
		}
	}
	hx_hash_free(ix);
}

/* Make inventory say what c says of its domain. */
static void
apply_change(json_t *inventory, const struct inv_change *c)
{
	const char *id;
	json_t	   *e = NULL, *x;
	size_t	    k, i;

	json_array_foreach(inventory, i, x) {
		id = json_string_value(json_object_get(x, "id"));
		if (id != NULL && strcmp(id, c->id) == 0 &&
		    json_is_true(json_object_get(x, "container")) ==
			(c->container != 0)) {
			e = x;
			k = i;
			break;
		}
	}
	if (c->gone) {
		if (e != NULL)
			json_array_remove(inventory, k);
	} else if (c->entry != NULL) {
		/* A copy: the change stays as it came, to apply again. */
		if (e != NULL)
			json_array_set_new(inventory, k, json_copy(c->entry));
		else
			json_array_append_new(inventory, json_copy(c->entry));
	} else if (c->state != NULL && e != NULL)
		json_object_set_new(e, "state", json_string(c->state));
}

/*
 * A new inventory (taken), read from started_ns on: the changes older
 * than that are in it, the newer ones are applied to it again.
 */
static void
take_inventory(struct snapshot *snap, json_t *inventory, uint64_t started_ns)
{
	size_t i, n = 0;

	json_decref(snap->inventory);
	snap->inventory = inventory;
	free(snap->inventory_text);
	snap->inventory_text = NULL;
	for (i = 0; i < snap->nchanges; i++) {
		if (snap->changes[i]->at_ns < started_ns) {
			inv_change_free(snap->changes[i]);
			continue;
		}
		apply_change(inventory, snap->changes[i]);
		snap->changes[n++] = snap->changes[i];
	}
	snap->nchanges = n;
	prune(snap);
}

/* A lifecycle event's change (taken), as its frame goes out. */
static void
take_change(struct snapshot *snap, struct inv_change *c)
{
	if (snap->inventory != NULL) {
		apply_change(snap->inventory, c);
		free(snap->inventory_text);
		snap->inventory_text = NULL;
		prune(snap);
	}
	if (snap->nchanges == MAX_CHANGES) {
		inv_change_free(snap->changes[0]);
		memmove(snap->changes, snap->changes + 1,
		    --snap->nchanges * sizeof *snap->changes);
	}
	snap->changes = xrealloc(snap->changes,
	    (snap->nchanges + 1) * sizeof *snap->changes);
	snap->changes[snap->nchanges++] = c;
}

void
snapshot_update(struct snapshot *snap, struct mail *m)
{
	struct hx_vm_sample    *sample = m->vm;
	struct hx_node_metrics *node = m->node;
	json_t		       *inventory = m->inventory;
	struct inv_change      *change = m->change;
	struct frame	       *f = m->frame;

	m->vm = NULL;
	m->node = NULL;
	m->inventory = NULL;
	m->change = NULL;
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
		take_inventory(snap, inventory, m->inventory_ns);
	if (change != NULL)
		take_change(snap, change);
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

const char *
snapshot_inventory_text(struct snapshot *snap, size_t flags, size_t *len)
{
	if (snap->inventory == NULL)
		return NULL;
	if (snap->inventory_text == NULL) {
		snap->inventory_text = json_dumps(snap->inventory, flags);
		if (snap->inventory_text == NULL)
			return NULL;
		snap->inventory_len = strlen(snap->inventory_text);
	}
	*len = snap->inventory_len;
	return snap->inventory_text;
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

	if (hx_hash_get(snap->by_uuid, uuid, &i) != 0)
		return NULL;
	return &snap->vms[i];
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
