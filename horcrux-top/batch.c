/*
 * batch.c - the batch printers. The text form follows the screen's order
 * (host, meters, VM table by CPU) with the same units; the JSON form keeps
 * the daemon's field names and writes null for what is unknown.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "hx-util.h"

static void
pct(FILE *f, double v)
{
	if (isnan(v))
		fputs("-", f);
	else
		fprintf(f, "%.1f%%", v);
}

void
batch_print_text(const struct top_model *m, FILE *f)
{
	json_t *node = m->node, *la, *per, *disks, *d;
	const char *host = json_string_value(json_object_get(node, "hostname"));
	const char *ts = json_string_value(json_object_get(node, "timestamp"));
	char a[16], b[16];
	size_t *idx = xcalloc(m->nvms + 1, sizeof(*idx)), n, i;
	int running, total, c;

	if (node == NULL) {
		/* An account without node:metrics: the VMs only. */
		fputs("horcrux-top - no host figures\n", f);
		goto vms;
	}
	fprintf(f, "horcrux-top - %s  %s\n", host ? host : "-", ts ? ts : "-");
	fputs("CPU ", f);
	pct(f, model_node_num(m, "cpu_usage"));
	fputs("  Mem ", f);
	pct(f, model_node_num(m, "memory_usage"));
	fprintf(f, " %s/%s", hx_fmt_bytes(model_node_num(m, "memory_used_bytes"),
	    a, sizeof(a)), hx_fmt_bytes(model_node_num(m, "memory_total_bytes"),
	    b, sizeof(b)));
	fputs("  Swap ", f);
	pct(f, model_node_num(m, "swap_usage"));
	la = json_object_get(node, "load_average");
	if (json_array_size(la) == 3)
		fprintf(f, "  Load %.2f %.2f %.2f",
		    json_number_value(json_array_get(la, 0)),
		    json_number_value(json_array_get(la, 1)),
		    json_number_value(json_array_get(la, 2)));
	if (!isnan(model_node_num(m, "uptime_seconds")))
		fprintf(f, "  Uptime %.0fs", model_node_num(m, "uptime_seconds"));
	fputc('\n', f);
	per = json_object_get(node, "cpu_per_core");
	fputs("CPUs", f);
	for (i = 0; i < json_array_size(per); i++) {
		fputc(' ', f);
		pct(f, json_is_number(json_array_get(per, i)) ?
		    json_number_value(json_array_get(per, i)) : NAN);
	}
	fputc('\n', f);
	disks = json_object_get(node, "disks");
	json_array_foreach(disks, i, d) {
		json_t *u = json_object_get(d, "usage");

		fprintf(f, "Mount %s ", json_string_value(json_object_get(d,
		    "mount")) ? json_string_value(json_object_get(d, "mount")) :
		    "-");
		pct(f, json_is_number(u) ? json_number_value(u) : NAN);
		fprintf(f, " %s/%s\n", hx_fmt_bytes(json_number_value(
		    json_object_get(d, "used_bytes")), a, sizeof(a)),
		    hx_fmt_bytes(json_number_value(json_object_get(d,
		    "total_bytes")), b, sizeof(b)));
	}
	model_vm_counts(m, &running, &total);
	fprintf(f, "Disk R %s/s W %s/s", hx_fmt_bytes(model_node_num(m,
	    "disk_read_bps"), a, sizeof(a)), hx_fmt_bytes(model_node_num(m,
	    "disk_write_bps"), b, sizeof(b)));
	fprintf(f, "  Net RX %s/s TX %s/s", hx_fmt_bytes(model_node_num(m,
	    "network_rx_bps"), a, sizeof(a)), hx_fmt_bytes(model_node_num(m,
	    "network_tx_bps"), b, sizeof(b)));
	fprintf(f, "  VMs %d running / %d total\n", running, total);
vms:
	if (m->hidden[0] != '\0')
		fprintf(f, "%s\n", m->hidden);
	fputc('\n', f);

	for (c = 0; c < COL_COUNT; c++)
		fprintf(f, c == COL_NAME ? "%-*s" : top_cols[c].numeric ?
		    " %*s" : " %-*s", top_cols[c].width, top_cols[c].title);
	fputc('\n', f);
	n = model_view(m, COL_CPU, 0, NULL, idx);
	for (i = 0; i < n; i++) {
		const struct top_vm *vm = &m->vms[idx[i]];

		for (c = 0; c < COL_COUNT; c++) {
			char cell[256];

			model_cell(vm, (enum top_col)c, cell, sizeof(cell));
			/* One row per VM whatever its name holds. */
			hx_term_safe(cell);
			fprintf(f, c == COL_NAME ? "%-*s" : top_cols[c].numeric ?
			    " %*s" : " %-*s", top_cols[c].width, cell);
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
batch_print_json(const struct top_model *m, FILE *f)
{
	json_t *o = json_object(), *vms = json_array();
	json_t *ts = json_object_get(m->node, "timestamp");
	size_t *idx = xcalloc(m->nvms + 1, sizeof(*idx)), n, i;
	char *s;

	json_object_set(o, "timestamp", ts != NULL ? ts : json_null());
	json_object_set(o, "node", m->node != NULL ? m->node : json_null());
	n = model_view(m, COL_NAME, 0, NULL, idx);
	for (i = 0; i < n; i++) {
		const struct top_vm *vm = &m->vms[idx[i]];
		json_t *v = json_object();

		json_object_set_new(v, "id", json_string(vm->id));
		json_object_set_new(v, "name", json_string(vm->name));
		json_object_set_new(v, "state", json_string(vm->state));
		json_object_set_new(v, "container", json_boolean(vm->container));
		json_object_set_new(v, "vcpus", vm->vcpus ?
		    json_integer(vm->vcpus) : json_null());
		json_object_set_new(v, "cpu_usage", num_or_null(vm->v[COL_CPU]));
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
