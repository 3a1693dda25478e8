/*
 * test-snapshot.c - the daemon's latest state (horcruxd/snapshot.c):
 * what a drained mail item leaves in it, what an inventory prunes, the
 * readers, and the references it takes and gives back (ASan reports a
 * leak, a double unref is a use after free).
 */
#include <stdlib.h>
#include <string.h>

#include "hx-event.h"
#include "hx-node.h"
#include "hx-util.h"
#include "hx-virt.h"
#include "snapshot.h"
#include "tap.h"
#include "hx-proto.h"

#define UA "0b7e5a3c-0000-4000-8000-00000000000a"
#define UB "0b7e5a3c-0000-4000-8000-00000000000b"
#define UC "0b7e5a3c-0000-4000-8000-00000000000c"

/* A sample of one VM as the collector makes it (uuid may be NULL). */
static struct hx_vm_sample *
sample(const char *name, const char *uuid, double cpu)
{
	struct hx_vm_sample *s = xcalloc(1, sizeof *s);

	s->vm_id = xstrdup(name);
	s->name = xstrdup(name);
	s->uuid = uuid != NULL ? xstrdup(uuid) : NULL;
	s->state = "running";
	s->timestamp_ms = 1760265045123LL;
	s->m.vm_id = s->vm_id;
	s->m.name = s->name;
	s->m.cpu_usage = cpu;
	s->m.vcpus = 2;
	s->ndisks = 1;
	s->disks = xcalloc(1, sizeof *s->disks);
	s->disks[0].target = xstrdup("vda");
	s->disks[0].a = 4096;
	return s;
}

static struct frame *
vm_frame(const struct hx_vm_sample *s)
{
	char key[128];

	snprintf(key, sizeof key, "VmMetrics:%s", s->vm_id);
	return frame_new("VmMetrics",
	    hx_event_vm_metrics(&s->m, s->timestamp_ms), HX_TOPIC_VM_METRICS,
	    key, s->vm_id);
}

/* Post a VmMetrics of name as the collector does; returns the frame. */
static struct frame *
put_vm(struct snapshot *snap, const char *name, const char *uuid, double cpu)
{
	struct mail m;

	memset(&m, 0, sizeof m);
	m.vm = sample(name, uuid, cpu);
	m.frame = vm_frame(m.vm);
	frame_ref(m.frame); /* the test's own, to watch the count */
	snapshot_update(snap, &m);
	ok(m.vm == NULL, "%s: the sample is taken", name);
	frame_unref(m.frame); /* what fan-out would drop */
	return m.frame;
}

static void
put_inventory(struct snapshot *snap, json_t *inv)
{
	struct mail m;

	memset(&m, 0, sizeof m);
	m.inventory = inv;
	snapshot_update(snap, &m);
	ok(m.inventory == NULL, "the inventory is taken");
}

/* Host figures as the collector posts them (allocated parts included). */
static struct hx_node_metrics *
node_figures(double cpu)
{
	struct hx_node_metrics *nm = xcalloc(1, sizeof *nm);

	nm->cpu_usage = cpu;
	nm->cpu_cores = 2;
	nm->cpu_per_core = xcalloc(2, sizeof *nm->cpu_per_core);
	nm->cpu_per_core[1] = 2.5;
	nm->disks = xcalloc(1, sizeof *nm->disks);
	nm->disks[0].mount = xstrdup("/");
	nm->ndisks = 1;
	return nm;
}

static json_t *
entry(const char *id, const char *uuid, const char *state)
{
	json_t *e = json_pack("{s:s,s:s}", "id", id, "state", state);

	if (uuid != NULL)
		json_object_set_new(e, "uuid", json_string(uuid));
	return e;
}

/*
 * Many VMs: the index by UUID must follow every entry the pruning moves,
 * so each survivor is still found, and a new sample of it replaces its
 * entry instead of adding a second one.
 */
static void
test_many(void)
{
	enum {
		N = 600
	};
	struct snapshot		 *snap = snapshot_new();
	const struct snapshot_vm *v;
	struct mail		  m;
	json_t			 *inv = json_array();
	char			  name[16], uuid[40];
	size_t			  i, bad = 0;

	for (i = 0; i < N; i++) {
		snprintf(name, sizeof name, "vm%zu", i);
		snprintf(uuid, sizeof uuid, "0b7e5a3c-0000-4000-8000-%012zx",
		    i);
		memset(&m, 0, sizeof m);
		m.vm = sample(name, uuid, (double)i);
		m.frame = vm_frame(m.vm);
		snapshot_update(snap, &m);
		frame_unref(m.frame);
		/* Every third VM stops; the rest stay. */
		json_array_append_new(inv,
		    entry(name, uuid, i % 3 == 0 ? "shut off" : "running"));
	}
	is_int(snapshot_vm_count(snap), N, "%d VMs", N);
	memset(&m, 0, sizeof m);
	m.inventory = inv;
	snapshot_update(snap, &m);
	is_int(snapshot_vm_count(snap), N - N / 3, "a third pruned");
	for (i = 0; i < N; i++) {
		snprintf(uuid, sizeof uuid, "0B7E5A3C-0000-4000-8000-%012zX",
		    i);
		v = snapshot_vm_by_uuid(snap, uuid);
		snprintf(name, sizeof name, "vm%zu", i);
		if (i % 3 == 0 ?
			v != NULL :
			v == NULL || strcmp(v->sample->vm_id, name) != 0)
			bad++;
	}
	is_int(bad, 0, "every survivor found by UUID, no pruned one");
	for (i = 1; i < N; i += 3) {
		snprintf(name, sizeof name, "vm%zu", i);
		snprintf(uuid, sizeof uuid, "0b7e5a3c-0000-4000-8000-%012zx",
		    i);
		memset(&m, 0, sizeof m);
		m.vm = sample(name, uuid, 99);
		m.frame = vm_frame(m.vm);
		snapshot_update(snap, &m);
		frame_unref(m.frame);
	}
	is_int(snapshot_vm_count(snap), N - N / 3,
	    "new samples of survivors replace their entries");
	v = snapshot_vm_by_uuid(snap, "0b7e5a3c-0000-4000-8000-000000000001");
	ok(v != NULL && v->sample->m.cpu_usage == 99, "with the new figures");
	snapshot_free(snap);
}

/* A lifecycle event's change, as virt.c makes it, at monotonic time at. */
static struct inv_change *
change(const char *id, int container, const char *state, json_t *e, uint64_t at)
{
	struct inv_change *c = xcalloc(1, sizeof *c);

	c->id = xstrdup(id);
	c->container = container;
	c->gone = state == NULL && e == NULL;
	c->state = state != NULL ? xstrdup(state) : NULL;
	c->entry = e;
	c->at_ns = at;
	return c;
}

static void
put_change(struct snapshot *snap, struct inv_change *c)
{
	struct mail m;

	memset(&m, 0, sizeof m);
	m.frame = frame_new("VmStatusChanged", json_object(),
	    HX_TOPIC_VM_STATUS, NULL, c->id);
	m.change = c;
	snapshot_update(snap, &m);
	ok(m.change == NULL, "%s: the change is taken", c->id);
	is_int(m.frame->refs, 1, "%s: its frame is not kept", c->id);
	frame_unref(m.frame);
}

static void
put_inventory_at(struct snapshot *snap, json_t *inv, uint64_t started)
{
	struct mail m;

	memset(&m, 0, sizeof m);
	m.inventory = inv;
	m.inventory_ns = started;
	snapshot_update(snap, &m);
}

/* The state of id in the inventory (container or not), or "absent". */
static const char *
state_in(struct snapshot *snap, const char *id, int container)
{
	json_t *e;
	size_t	i;

	json_array_foreach(snapshot_inventory(snap), i, e) {
		if (strcmp(json_string_value(json_object_get(e, "id")), id) ==
			0 &&
		    json_is_true(json_object_get(e, "container")) ==
			(container != 0))
			return json_string_value(json_object_get(e, "state"));
	}
	return "absent";
}

/*
 * A lifecycle event's change: GET /api/vms shows it from the moment its
 * frame goes out, and an inventory read before it does not undo it.
 */
static void
test_changes(void)
{
	struct snapshot *snap = snapshot_new();
	json_t		*inv;
	const char	*text;
	size_t		 len;

	/* A change before any inventory: kept for the first one. */
	put_change(snap, change("a", 0, "paused", NULL, 100));
	ok(snapshot_inventory(snap) == NULL, "no inventory made up from it");
	inv = json_array();
	json_array_append_new(inv, entry("a", UA, "running"));
	json_array_append_new(inv, entry("b", UB, "paused"));
	put_inventory_at(snap, inv, 50);
	is_str(state_in(snap, "a", 0), "paused",
	    "an inventory read before the change gets it");

	/* Serialized once, then a change makes the text again. */
	text = snapshot_inventory_text(snap, JSON_COMPACT, &len);
	ok(text != NULL && strstr(text, "\"running\"") == NULL,
	    "the text has the change too");
	frame_unref(put_vm(snap, "b", UB, 3));
	put_change(snap, change("b", 0, "running", NULL, 200));
	is_str(state_in(snap, "b", 0), "running", "b resumed: at once");
	text = snapshot_inventory_text(snap, JSON_COMPACT, &len);
	ok(text != NULL && strstr(text, "\"paused\"") != NULL &&
		strstr(text, "\"running\"") != NULL,
	    "and the text made again: %s", text ? text : "(null)");

	/* The whole entry replaces what was there. */
	put_change(snap,
	    change("a", 0, "running",
		json_pack("{s:s,s:s,s:s,s:i}", "id", "a", "uuid", UA, "state",
		    "running", "vcpus", 4),
		300));
	is_str(state_in(snap, "a", 0), "running", "a resumed: its new entry");

	/* An inventory read after every change is taken as it is. */
	inv = json_array();
	json_array_append_new(inv, entry("a", UA, "stopped"));
	json_array_append_new(inv, entry("b", UB, "paused"));
	put_inventory_at(snap, inv, 301);
	is_str(state_in(snap, "a", 0), "stopped", "a newer read wins");
	is_str(state_in(snap, "b", 0), "paused", "for every VM");
	/* ...and the changes it had are forgotten. */
	inv = json_array();
	json_array_append_new(inv, entry("a", UA, "stopped"));
	put_inventory_at(snap, inv, 0);
	is_str(state_in(snap, "a", 0), "stopped",
	    "a change older than a read is not applied again");

	/* Created: the entry comes; a container of the same name is apart. */
	put_change(snap,
	    change("c", 1, NULL,
		json_pack("{s:s,s:s,s:b}", "id", "c", "state", "running",
		    "container", 1),
		400));
	is_str(state_in(snap, "c", 1), "running", "a new container is listed");
	is_str(state_in(snap, "c", 0), "absent", "as a container only");
	put_change(snap, change("a", 1, NULL, NULL, 401));
	is_str(state_in(snap, "a", 0), "stopped",
	    "a container's removal leaves the VM of its name");

	/* Gone: removed, and again from an inventory read before. */
	frame_unref(put_vm(snap, "b", UB, 3));
	put_change(snap,
	    change("b", 0, "running", entry("b", UB, "running"), 450));
	is_int(snapshot_vm_count(snap), 1, "b defined again, with figures");
	put_change(snap, change("b", 0, NULL, NULL, 500));
	is_str(state_in(snap, "b", 0), "absent", "b undefined: not listed");
	is_int(snapshot_vm_count(snap), 0, "and its figures forgotten");
	inv = json_array();
	json_array_append_new(inv, entry("a", UA, "stopped"));
	json_array_append_new(inv, entry("b", UB, "running"));
	put_inventory_at(snap, inv, 420);
	is_str(state_in(snap, "b", 0), "absent",
	    "an inventory read before the removal does not bring b back");
	snapshot_free(snap); /* ASan: the changes kept are freed */
}

int
main(void)
{
	struct snapshot		 *snap = snapshot_new();
	const struct snapshot_vm *v;
	struct frame		 *n1, *n2, *st, *fa, *fa2, *fb, *fc, *fd;
	struct frame		 *lone;
	struct mail		  m;
	json_t			 *inv1, *inv2;
	size_t			  i, seen;

	/* Empty. */
	ok(snapshot_latest(snap, HX_TOPIC_NODE_METRICS) == NULL, "no host yet");
	ok(snapshot_latest(snap, -1) == NULL &&
		snapshot_latest(snap, HX_TOPIC_COUNT) == NULL,
	    "no topic, no frame");
	ok(snapshot_inventory(snap) == NULL, "no inventory yet");
	is_int(snapshot_vm_count(snap), 0, "no VM yet");
	ok(snapshot_vm_at(snap, 0) == NULL, "nothing to iterate");
	ok(snapshot_vm_find(snap, "a") == NULL, "nothing to find");
	ok(strcmp(snapshot_vm_resolve(snap, "a"), "a") == 0,
	    "without an inventory :id is itself");

	/* NodeMetrics: the newest is kept, the one before given back. */
	memset(&m, 0, sizeof m);
	m.frame = n1 = frame_new("NodeMetrics", json_object(),
	    HX_TOPIC_NODE_METRICS, "NodeMetrics", NULL);
	snapshot_update(snap, &m);
	ok(snapshot_latest(snap, HX_TOPIC_NODE_METRICS) == n1,
	    "host frame kept");
	is_int(n1->refs, 2, "a reference of its own");
	m.frame = n2 = frame_new("NodeMetrics", json_object(),
	    HX_TOPIC_NODE_METRICS, "NodeMetrics", NULL);
	snapshot_update(snap, &m);
	ok(snapshot_latest(snap, HX_TOPIC_NODE_METRICS) == n2,
	    "a newer host frame replaces it");
	is_int(n1->refs, 1, "the older one's reference given back");
	frame_unref(n1);
	ok(snapshot_node(snap) == NULL, "a host frame without figures: none");

	/*
	 * A host frame's figures come with it and go with the next one;
	 * figures beside another frame are freed (ASan would see a leak).
	 */
	m.frame = n1 = frame_new("NodeMetrics", json_object(),
	    HX_TOPIC_NODE_METRICS, "NodeMetrics", NULL);
	m.node = node_figures(12.5);
	snapshot_update(snap, &m);
	ok(m.node == NULL, "the figures are taken");
	ok(snapshot_node(snap) != NULL &&
		snapshot_node(snap)->cpu_usage == 12.5 &&
		snapshot_node(snap)->cpu_cores == 2 &&
		snapshot_node(snap)->cpu_per_core[1] == 2.5,
	    "the newest host figures kept, typed");
	m.node = node_figures(30);
	snapshot_update(snap, &m);
	ok(snapshot_node(snap)->cpu_usage == 30, "newer figures replace them");
	frame_unref(n1);
	m.frame = n1 = frame_new("NodeMetrics", json_object(),
	    HX_TOPIC_NODE_METRICS, "NodeMetrics", NULL);
	snapshot_update(snap, &m);
	ok(snapshot_node(snap) == NULL,
	    "a newer host frame without figures leaves none (never stale)");
	m.frame = n2;
	m.node = node_figures(40);
	snapshot_update(snap, &m);
	ok(snapshot_node(snap)->cpu_usage == 40, "figures again");
	m.frame = NULL;
	m.node = node_figures(50);
	snapshot_update(snap, &m);
	ok(m.node == NULL && snapshot_node(snap)->cpu_usage == 40,
	    "figures without a host frame are freed, not kept");
	is_int(n1->refs, 1, "the frame before given back");
	frame_unref(n1);

	/* Frames that are not metrics pass through untouched. */
	memset(&m, 0, sizeof m);
	m.frame = st = frame_new("VmStatusChanged", json_object(),
	    HX_TOPIC_VM_STATUS, NULL, "a");
	m.vm = sample("a", UA, 1); /* a stray sample is freed, not kept */
	snapshot_update(snap, &m);
	ok(m.vm == NULL, "a sample without a VmMetrics frame is taken");
	is_int(st->refs, 1, "a status frame is not kept");
	ok(snapshot_latest(snap, HX_TOPIC_VM_STATUS) == NULL,
	    "no snapshot of vm:status");
	is_int(snapshot_vm_count(snap), 0, "and no VM from it");
	frame_unref(st);

	/* VmMetrics: one entry per UUID, with the typed sample. */
	fa = put_vm(snap, "a", UA, 12.5);
	fb = put_vm(snap, "b", UB, 30);
	is_int(snapshot_vm_count(snap), 2, "two VMs");
	ok(snapshot_latest(snap, HX_TOPIC_VM_METRICS) == NULL,
	    "per-VM frames are not a topic's one newest");
	v = snapshot_vm_find(snap, "a");
	ok(v != NULL && v->frame == fa, "a found by name, with its frame");
	is_near(v ? v->sample->m.cpu_usage : -1, 12.5, 1e-9,
	    "its numbers typed, not in JSON");
	is_str(v ? v->sample->disks[0].target : NULL, "vda", "its devices too");
	is_int(fa->refs, 2, "the snapshot holds a's frame");
	v = snapshot_vm_by_uuid(snap, "0B7E5A3C-0000-4000-8000-00000000000B");
	ok(v != NULL && v->frame == fb, "b found by UUID in any case");
	ok(snapshot_vm_by_uuid(snap, UC) == NULL, "an unknown UUID: none");

	fa2 = put_vm(snap, "a", UA, 50);
	is_int(snapshot_vm_count(snap), 2, "a newer sample replaces a's");
	v = snapshot_vm_find(snap, "a");
	ok(v != NULL && v->frame == fa2, "a's newest frame");
	is_near(v ? v->sample->m.cpu_usage : -1, 50, 1e-9,
	    "a's newest numbers");
	is_int(fa->refs, 1, "a's older frame given back");
	frame_unref(fa);

	/* The UUID is the key: a renamed VM is still one entry. */
	frame_unref(fa2);
	fa2 = put_vm(snap, "a2", UA, 60);
	is_int(snapshot_vm_count(snap), 2, "renamed: still two VMs");
	ok(snapshot_vm_find(snap, "a") == NULL, "the old name is gone");
	v = snapshot_vm_find(snap, "a2");
	ok(v != NULL && v->frame == fa2, "the new name has the frame");

	/* A VmMetrics frame without its sample is not kept. */
	memset(&m, 0, sizeof m);
	m.frame = lone = frame_new("VmMetrics", json_object(),
	    HX_TOPIC_VM_METRICS, "VmMetrics:z", "z");
	snapshot_update(snap, &m);
	is_int(lone->refs, 1, "no sample, no entry");
	is_int(snapshot_vm_count(snap), 2, "still two VMs");
	frame_unref(lone);

	fc = put_vm(snap, "c", UC, 5);
	fd = put_vm(snap, "d", NULL, 7); /* no UUID: its name counts */
	is_int(snapshot_vm_count(snap), 4, "four VMs");

	/* An inventory keeps running and paused VMs only. */
	inv1 = json_array();
	json_array_append_new(inv1, entry("a2", UA, "running"));
	json_array_append_new(inv1, entry("b", UB, "stopped"));
	json_array_append_new(inv1, entry("c", UC, "paused"));
	json_array_append_new(inv1, entry("d", NULL, "running"));
	json_incref(inv1);
	put_inventory(snap, inv1);
	ok(snapshot_inventory(snap) == inv1, "the inventory is kept");
	is_int(snapshot_vm_count(snap), 3, "the stopped VM is forgotten");
	ok(snapshot_vm_find(snap, "b") == NULL, "b is gone");
	is_int(fb->refs, 1, "b's frame given back");
	ok(snapshot_vm_find(snap, "c") != NULL, "a paused VM stays");
	ok(snapshot_vm_find(snap, "d") != NULL,
	    "a VM without a UUID is matched by name");
	for (i = 0, seen = 0; (v = snapshot_vm_at(snap, i)) != NULL; i++)
		seen |= v->frame == fa2 ? 1 :
		    v->frame == fc	? 2 :
		    v->frame == fd	? 4 :
					  8;
	is_int(i, 3, "iteration sees three VMs");
	is_int(seen, 7, "a2, c and d, nothing else");

	/* :id is a name, or a UUID in any case. */
	is_str(snapshot_vm_resolve(snap, "c"), "c", "a name is itself");
	is_str(snapshot_vm_resolve(snap,
		   "0B7E5A3C-0000-4000-8000-00000000000C"),
	    "c", "a UUID names c");
	is_str(snapshot_vm_resolve(snap, "nope"), "nope",
	    "an unknown :id is itself");

	/* The next inventory replaces the first; a vanished VM goes. */
	inv2 = json_array();
	json_array_append_new(inv2, entry("c", UC, "running"));
	json_array_append_new(inv2, entry("x", UA, "running"));
	put_inventory(snap, inv2);
	is_int(inv1->refcount, 1, "the first inventory given back");
	json_decref(inv1);
	is_int(snapshot_vm_count(snap), 2, "d is not listed any more");
	is_int(fd->refs, 1, "d's frame given back");
	ok(snapshot_vm_find(snap, "a2") != NULL,
	    "a2 is listed under another name but the same UUID: it stays");

	/* Freeing gives every reference back. */
	snapshot_free(snap);
	snapshot_free(NULL);
	is_int(n2->refs, 1, "host frame given back");
	is_int(fa2->refs, 1, "a2's frame given back");
	is_int(fc->refs, 1, "c's frame given back");
	frame_unref(n2);
	frame_unref(fa2);
	frame_unref(fb);
	frame_unref(fc);
	frame_unref(fd);
	test_many();
	test_changes();
	return done_testing();
}
