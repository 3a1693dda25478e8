/*
 * prom.h - the Prometheus exposition of GET /metrics (DESIGN §10): text
 * format 0.0.4 written from the latest state, never from a new sample.
 *
 * The node and VM series are derived from lib/hx-proto's field tables
 * (every HX_F_SERIES field, its unit deciding the name's suffix and the
 * scale, HX_F_COUNTER making a `_total` counter, its doc the HELP text),
 * so a field added there is exposed without a second list. Who may see
 * what is the caller's business: it leaves out the node or self-metrics
 * and filters VMs with a callback. No lws here, so a unit test drives it.
 */
#ifndef HORCRUXD_PROM_H
#define HORCRUXD_PROM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hx-node.h"
#include "hx-util.h"
#include "hx-virt.h"

/* The daemon's own counters (horcrux_ws_*). */
struct prom_self {
	uint64_t sessions; /* open WebSocket sessions */
	uint64_t frames_sent; /* since start, every session */
	uint64_t frames_coalesced; /* replaced unsent in a slot */
	uint64_t sessions_closed_slow; /* "too slow" closes */
	uint64_t sessions_msgpack; /* open, on horcrux.msgpack */
};

struct prom_input {
	const struct hx_node_metrics	 *node; /* NULL: no node series */
	const struct hx_vm_sample *const *vms; /* the active VMs' samples */
	size_t				  nvms;
	json_t				 *inventory; /* GET /api/vms entries */
	const struct prom_self		 *self; /* NULL: left out */
	/* May the caller see VM vm_id? NULL: every VM. */
	int (*vm_visible)(const char *vm_id, void *arg);
	void *arg;
};

/* Room for any number prom_number writes. */
#define PROM_NUMBER_MAX 32

/*
 * Append the exposition of in to b: node series, then per-VM series,
 * horcrux_vm_state for every visible VM of the inventory, then the
 * daemon's own. A value the sample lacks (NaN, a negative counter) is
 * left out rather than written as NaN. Returns 0, or -1 when b's cap
 * was reached (b then holds a truncated text).
 */
int prom_render(struct hx_buf *b, const struct prom_input *in);

/*
 * v as a sample value: "NaN", "+Inf", "-Inf", a whole number without
 * exponent below 1e15, else the shortest of %.15g and %.17g that reads
 * back as v.
 */
void prom_number(double v, char *out, size_t outlen);

/*
 * Append s as a label value between double quotes: backslash, double
 * quote and newline escaped (\\, \", \n), other UTF-8 as it is, and a
 * byte that is not valid UTF-8 as U+FFFD. Returns 0 or -1 (b's cap).
 */
int prom_label_value(struct hx_buf *b, const char *s);

#endif
