/*
 * snapshot.h - the one owner of the latest state: the newest frame of
 * each metric topic that is not per VM (NodeMetrics), the newest
 * VmMetrics of every active VM with its typed sample, and the VM
 * inventory.
 *
 * It is filled only from drained mailbox items, on the service thread,
 * and read there by the HTTP routes and the snapshot a WebSocket session
 * gets when it subscribes. It takes no lock and serializes only the
 * inventory, once per inventory, when GET /api/vms first asks: the
 * frames it keeps were built by the collector, and a reader that wants
 * numbers gets the typed sample, never a frame's JSON to parse again.
 * It knows nothing of lws, sessions or privileges: who may see what is
 * the reader's business.
 */
#ifndef HORCRUXD_SNAPSHOT_H
#define HORCRUXD_SNAPSHOT_H

#include <stddef.h>

#include <jansson.h>

#include "frame.h"
#include "hx-virt.h"
#include "mailbox.h"

struct snapshot;

/* One active VM: its newest VmMetrics frame and the sample it was made of. */
struct snapshot_vm {
	struct frame	    *frame;
	struct hx_vm_sample *sample; /* keyed by sample->uuid */
};

/* An empty snapshot (never NULL); free it with snapshot_free. */
struct snapshot *snapshot_new(void);
/* Drop every reference the snapshot holds; NULL is a no-op. */
void snapshot_free(struct snapshot *snap);

/*
 * Keep what a drained mailbox item brings (service thread only):
 * - a metric frame of a topic that is not per VM becomes that topic's
 *   newest (a reference is taken; m->frame stays the caller's); a
 *   NodeMetrics frame's figures (m->node) come with it, or none;
 * - a VmMetrics frame with its sample (m->vm) replaces the entry of the
 *   VM with the same UUID, or adds one (a reference to the frame);
 * - an inventory replaces the previous one, and every VM it does not
 *   list as running or paused is forgotten, so nobody is shown a
 *   stopped VM's last figures as if they were current;
 * - a lifecycle event's change (m->change) is applied to the inventory at
 *   once (a VM it stops is forgotten too), and again to every inventory
 *   the collector began to read before the change (m->inventory_ns), so
 *   GET /api/vms never shows a state older than an event already sent.
 * m->vm, m->node, m->inventory and m->change are always taken (set to NULL;
 * freed when not kept); anything else in m, the job included, is left
 * alone.
 */
void snapshot_update(struct snapshot *snap, struct mail *m);

/*
 * The figures of the newest NodeMetrics frame, as its text decodes
 * (values rounded as sent), or NULL. Borrowed: valid until the next
 * snapshot_update.
 */
const struct hx_node_metrics *snapshot_node(const struct snapshot *snap);
/* The newest frame of metric topic t (not per VM), or NULL. Borrowed. */
struct frame *snapshot_latest(const struct snapshot *snap, int t);
/* The inventory (a JSON array of GET /api/vms entries), or NULL. Borrowed. */
json_t *snapshot_inventory(const struct snapshot *snap);
/*
 * The inventory as text (json_dumps with flags; the flags must be the
 * same on every call), serialized on the first call after each new
 * inventory and kept: GET /api/vms for a caller who may see every VM.
 * NULL when there is no inventory. Borrowed: valid until the next
 * snapshot_update.
 */
const char *snapshot_inventory_text(struct snapshot *snap, size_t flags,
    size_t *len);
/*
 * The active VM called vm_id (its name), or with that UUID; NULL if
 * none. Borrowed: valid until the next snapshot_update.
 */
const struct snapshot_vm *snapshot_vm_find(const struct snapshot *snap,
    const char							 *vm_id);
const struct snapshot_vm *snapshot_vm_by_uuid(const struct snapshot *snap,
    const char							    *uuid);
/* The active VMs, in no particular order: i from 0 until it gives NULL. */
const struct snapshot_vm *snapshot_vm_at(const struct snapshot *snap, size_t i);
size_t			  snapshot_vm_count(const struct snapshot *snap);
/*
 * The VM a route's :id names: a VM name in the inventory, or else a VM's
 * UUID (any case), so that a VM whose name cannot travel in a URL (lws
 * folds "." and ".." segments) is still addressable. Returns the VM's
 * name (borrowed from the inventory, valid until the next
 * snapshot_update) or id itself when nothing matches.
 */
const char *snapshot_vm_resolve(const struct snapshot *snap, const char *id);

#endif
