/*
 * batch.c - the batch printers. The text form follows the screen's order
 * (host, the meter classes' text, VM table by CPU) with the same units;
 * the JSON form writes the NodeMetrics with the protocol's own encoder
 * (the daemon's field names) and null for what is unknown.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "hx-event.h"
#include "hx-util.h"
#include "meter.h"

/*
 * The meter classes (meter.c) on the text form's lines, in order; two
 * spaces between meters, a meter with nothing to say left out.
 */
#define BATCH_LINE_METERS 6

static const enum top_meter_id batch_lines[][BATCH_LINE_METERS] = {
	{ METER_CPU, METER_MEM, METER_SWAP, METER_LOAD, METER_UPTIME,
	    METER_COUNT },
	{ METER_CPUS, METER_COUNT },
	{ METER_MOUNTS, METER_COUNT },
	{ METER_DISK, METER_NET, METER_VMS, METER_COUNT },
	{ METER_CPU_SPLIT, METER_COUNT },
};

static void
print_meters(const struct top_model *m, FILE *f)
{
	struct hx_buf b;
	size_t	      l, i;

	hx_buf_init(&b, 0);
	for (l = 0; l < HX_ARRAY_SIZE(batch_lines); l++) {
		hx_buf_reset(&b);
		for (i = 0; batch_lines[l][i] != METER_COUNT; i++) {
			size_t mark = b.len;

			if (b.len > 0)
				hx_buf_add(&b, "  ", 2);
			if (!top_meters[batch_lines[l][i]].text(m, &b) &&
			    b.data != NULL) {
				b.len = mark;
				b.data[mark] = '\0';
			}
		}
		if (b.len > 0)
			fprintf(f, "%s\n", b.data);
	}
	hx_buf_release(&b);
}

void
batch_print_text(const struct top_model *m, const char *server, int connected,
    FILE *f)
{
	char	ts[32];
	size_t *idx = xcalloc(m->nvms + 1, sizeof(*idx)), n, i;
	int	c;

	if (server != NULL) {
		char *safe = xstrdup(server);

		hx_term_safe(safe);
		fprintf(f, "== %s: %s ==\n", safe,
		    connected ? "connected" : "away, reconnecting");
		free(safe);
	}
	if (!m->has_node) {
		/* An account without node:metrics: the VMs only. */
		fputs("horcrux-top - no host figures\n", f);
		goto vms;
	}
	if (m->node.timestamp_ms < 0 ||
	    hx_rfc3339_ms(m->node.timestamp_ms, ts, sizeof(ts)) != 0)
		hx_strlcpy(ts, "-", sizeof(ts));
	fprintf(f, "horcrux-top - %s  %s%s\n",
	    m->node.hostname[0] ? m->node.hostname : "-", ts,
	    model_demo(m) ? "  DEMO: test-driver VMs, this host's meters" : "");
	print_meters(m, f);
vms:
	if (m->hidden[0] != '\0')
		fprintf(f, "%s\n", m->hidden);
	fputc('\n', f);

	for (c = 0; c < COL_COUNT; c++)
		fprintf(f,
		    c == COL_NAME	    ? "%-*s" :
			top_cols[c].numeric ? " %*s" :
					      " %-*s",
		    top_cols[c].width, top_cols[c].title);
	fputc('\n', f);
	n = model_view(m, COL_CPU, 0, NULL, idx);
	for (i = 0; i < n; i++) {
		const struct top_vm *vm = &m->vms[idx[i]];

		for (c = 0; c < COL_COUNT; c++) {
			char cell[256];

			model_cell(vm, (enum top_col)c, cell, sizeof(cell));
			/* One row per VM whatever its name holds. */
			hx_term_safe(cell);
			fprintf(f,
			    c == COL_NAME	    ? "%-*s" :
				top_cols[c].numeric ? " %*s" :
						      " %-*s",
			    top_cols[c].width, cell);
		}
		fputc('\n', f);
	}
	fputc('\n', f);
	fflush(f);
	free(idx);
}

static json_t *
num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

void
batch_print_json(const struct top_model *m, const char *server, int connected,
    FILE *f)
{
	json_t *o = json_object(), *vms = json_array();
	json_t *node = m->has_node ? hx_event_node_metrics(&m->node) : NULL;
	json_t *ts = json_object_get(node, "timestamp");
	size_t *idx = xcalloc(m->nvms + 1, sizeof(*idx)), n, i;
	char   *s;

	if (server != NULL) {
		json_object_set_new(o, "server", json_string(server));
		json_object_set_new(o, "connected", json_boolean(connected));
	}
	/* The node as the protocol writes it, from the decoded figures. */
	json_object_set(o, "timestamp", ts != NULL ? ts : json_null());
	json_object_set_new(o, "node", node != NULL ? node : json_null());
	n = model_view(m, COL_NAME, 0, NULL, idx);
	for (i = 0; i < n; i++) {
		const struct top_vm *vm = &m->vms[idx[i]];
		json_t		    *v = json_object();

		json_object_set_new(v, "id", json_string(vm->id));
		json_object_set_new(v, "name", json_string(vm->name));
		if (vm->uuid != NULL)
			json_object_set_new(v, "uuid", json_string(vm->uuid));
		json_object_set_new(v, "state", json_string(vm->state));
		json_object_set_new(v, "container",
		    json_boolean(vm->container));
		json_object_set_new(v, "vcpus",
		    vm->vcpus ? json_integer(vm->vcpus) : json_null());
		json_object_set_new(v, "cpu_usage",
		    num_or_null(vm->v[COL_CPU]));
		json_object_set_new(v, "memory_usage",
		    num_or_null(vm->v[COL_MEMPCT]));
		json_object_set_new(v, "memory_bytes",
		    num_or_null(vm->v[COL_MEM]));
		json_object_set_new(v, "disk_read_bps",
		    num_or_null(vm->v[COL_DISK_RD]));
		json_object_set_new(v, "disk_write_bps",
		    num_or_null(vm->v[COL_DISK_WR]));
		json_object_set_new(v, "network_rx_bps",
		    num_or_null(vm->v[COL_NET_RX]));
		json_object_set_new(v, "network_tx_bps",
		    num_or_null(vm->v[COL_NET_TX]));
		json_array_append_new(vms, v);
	}
	json_object_set_new(o, "vms", vms);
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	if (s != NULL) {
		/* C1 and bidi controls as \uXXXX: inert on a terminal. */
		char *safe = hx_json_term_safe(s);

		fprintf(f, "%s\n", safe);
		free(safe);
		free(s);
	}
	fflush(f);
	json_decref(o);
	free(idx);
}
