/*
 * model.c - horcrux-top's picture of the host: applies WebSocket events and
 * the REST VM list, and orders the VM table. Every figure comes from a
 * message horcruxd sent; what it did not send stays unknown (NAN, "-").
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hx-util.h"
#include "model.h"

const struct top_col_info top_cols[COL_COUNT] = {
	[COL_NAME]	= { "NAME", 16, 0, 0 },
	[COL_STATE]	= { "STATE", 9, 0, 0 },
	[COL_CPU]	= { "CPU%", 6, 1, 0 },
	[COL_MEMPCT]	= { "MEM%", 6, 1, 0 },
	[COL_MEM]	= { "MEM", 7, 1, 1 },
	[COL_DISK_RD]	= { "DISK R/s", 9, 1, 1 },
	[COL_DISK_WR]	= { "DISK W/s", 9, 1, 1 },
	[COL_NET_RX]	= { "NET RX/s", 9, 1, 1 },
	[COL_NET_TX]	= { "NET TX/s", 9, 1, 1 },
};

#define FLASH_MS	2000

void
model_init(struct top_model *m)
{
	memset(m, 0, sizeof(*m));
}

static void
vm_clear_metrics(struct top_vm *vm)
{
	int c;

	for (c = COL_CPU; c < COL_COUNT; c++)
		vm->v[c] = NAN;
	vm->has_metrics = 0;
}

void
model_release(struct top_model *m)
{
	size_t i;

	hx_node_metrics_release(&m->node);
	json_decref(m->node_data);
	for (i = 0; i < m->nvms; i++) {
		free(m->vms[i].id);
		free(m->vms[i].name);
	}
	free(m->vms);
	memset(m, 0, sizeof(*m));
}

struct top_vm *
model_vm(struct top_model *m, const char *id)
{
	size_t i;

	for (i = 0; i < m->nvms; i++)
		if (strcmp(m->vms[i].id, id) == 0)
			return &m->vms[i];
	return NULL;
}

static struct top_vm *
vm_add(struct top_model *m, const char *id, const char *name)
{
	struct top_vm *vm;

	if (m->nvms == m->avms) {
		m->avms = m->avms ? m->avms * 2 : 16;
		m->vms = xrealloc(m->vms, m->avms * sizeof(*m->vms));
	}
	vm = &m->vms[m->nvms++];
	memset(vm, 0, sizeof(*vm));
	vm->id = xstrdup(id);
	vm->name = xstrdup(name != NULL ? name : id);
	hx_strlcpy(vm->state, "unknown", sizeof(vm->state));
	vm_clear_metrics(vm);
	return vm;
}

static struct top_vm *
vm_get(struct top_model *m, const char *id, const char *name)
{
	struct top_vm *vm = model_vm(m, id);

	return vm != NULL ? vm : vm_add(m, id, name);
}

static void
vm_remove(struct top_model *m, struct top_vm *vm)
{
	size_t i = (size_t)(vm - m->vms);

	free(vm->id);
	free(vm->name);
	memmove(&m->vms[i], &m->vms[i + 1], (m->nvms - i - 1) * sizeof(*vm));
	m->nvms--;
}

static double
num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "2025-10-12T10:30:45.123Z" as ms since the epoch, or -1. */
static int64_t
ts_ms(const char *ts)
{
	struct tm tm = { 0 };
	int msec = 0;

	if (ts == NULL || sscanf(ts, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &msec) < 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + msec;
}

static uint64_t
u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ?
	    (uint64_t)json_integer_value(v) : 0;
}

/*
 * NodeMetrics data into the sampler's struct (released first). Until
 * lib/hx-proto.h's hx_node_metrics_decode: the same rules (a missing or
 * null number is NaN, bytes 0, the CPU count the array's length, a mount
 * with no figure not ok).
 */
static void
node_decode(json_t *d, struct hx_node_metrics *o)
{
	json_t *per = json_object_get(d, "cpu_per_core");
	json_t *disks = json_object_get(d, "disks");
	json_t *la = json_object_get(d, "load_average"), *v;
	size_t i;

	hx_node_metrics_release(o);
	o->timestamp_ms = ts_ms(str(d, "timestamp"));
	hx_strlcpy(o->hostname, str(d, "hostname") ? str(d, "hostname") : "",
	    sizeof(o->hostname));
	o->cpu_usage = num(d, "cpu_usage");
	o->cpu_cores = (int)json_array_size(per);
	if (o->cpu_cores > 0)
		o->cpu_per_core = xcalloc((size_t)o->cpu_cores, sizeof(double));
	json_array_foreach(per, i, v)
		o->cpu_per_core[i] = json_is_number(v) ?
		    json_number_value(v) : NAN;
	o->memory_usage = num(d, "memory_usage");
	o->memory_total_bytes = u64(d, "memory_total_bytes");
	o->memory_used_bytes = u64(d, "memory_used_bytes");
	o->memory_available_bytes = u64(d, "memory_available_bytes");
	o->swap_usage = num(d, "swap_usage");
	o->swap_total_bytes = u64(d, "swap_total_bytes");
	o->swap_used_bytes = u64(d, "swap_used_bytes");
	for (i = 0; i < 3; i++) {
		v = json_array_get(la, i);
		o->load_average[i] = json_is_number(v) ?
		    json_number_value(v) : NAN;
	}
	o->uptime_seconds = num(d, "uptime_seconds");
	o->ndisks = json_array_size(disks);
	if (o->ndisks > 0)
		o->disks = xcalloc(o->ndisks, sizeof(*o->disks));
	json_array_foreach(disks, i, v) {
		struct hx_node_disk *k = &o->disks[i];

		k->mount = str(v, "mount") ? xstrdup(str(v, "mount")) : NULL;
		k->usage = num(v, "usage");
		k->total_bytes = u64(v, "total_bytes");
		k->used_bytes = u64(v, "used_bytes");
		k->avail_bytes = u64(v, "available_bytes");
		k->ok = !isnan(k->usage) || k->total_bytes || k->used_bytes;
	}
	o->disk_usage = num(d, "disk_usage");
	o->disk_read_bps = num(d, "disk_read_bps");
	o->disk_write_bps = num(d, "disk_write_bps");
	o->network_rx_bps = num(d, "network_rx_bps");
	o->network_tx_bps = num(d, "network_tx_bps");
}

static void
vm_event(struct top_vm *vm, json_t *data, const char *text)
{
	int64_t ms = ts_ms(str(data, "timestamp"));

	/* The daemon's time of day, else ours. */
	if (ms < 0)
		ms = hx_wall_ms();
	memmove(&vm->ev[1], &vm->ev[0], (TOP_VM_EVENTS - 1) * sizeof(vm->ev[0]));
	vm->ev[0].wall_ms = ms;
	hx_strlcpy(vm->ev[0].text, text, sizeof(vm->ev[0].text));
	if (vm->nev < TOP_VM_EVENTS)
		vm->nev++;
}

static int
apply_status(struct top_model *m, json_t *data, int container, int64_t now)
{
	const char *id = str(data, container ? "container_id" : "vm_id");
	const char *to = str(data, "new_status"), *from = str(data, "old_status");
	const char *user = str(data, "user");
	struct top_vm *vm;
	char text[96];

	if (id == NULL || to == NULL)
		return 0;
	vm = vm_get(m, id, NULL);
	vm->container = container;
	hx_strlcpy(vm->state, to, sizeof(vm->state));
	vm->flash_until = now + FLASH_MS;
	if (strcmp(to, "running") != 0 && strcmp(to, "paused") != 0)
		vm_clear_metrics(vm);	/* a stopped VM reports nothing */
	snprintf(text, sizeof(text), "%s -> %s%s%s", from ? from : "?", to,
	    user ? " by " : "", user ? user : "");
	vm_event(vm, data, text);
	return TOP_CH_VMS;
}

static int
apply_vm_metrics(struct top_model *m, json_t *data)
{
	const char *id = str(data, "vm_id");
	struct top_vm *vm;
	double vcpus, max, used;

	if (id == NULL)
		return 0;
	vm = vm_get(m, id, str(data, "name"));
	vm->has_metrics = 1;
	vm->v[COL_CPU] = num(data, "cpu_usage");
	vm->v[COL_MEMPCT] = num(data, "memory_usage");
	used = num(data, "memory_bytes");
	max = num(data, "memory_max_bytes");
	vm->v[COL_MEM] = used;
	if (isnan(vm->v[COL_MEMPCT]) && used >= 0 && max > 0)
		vm->v[COL_MEMPCT] = 100.0 * used / max;
	vm->v[COL_DISK_RD] = num(data, "disk_read_bps");
	vm->v[COL_DISK_WR] = num(data, "disk_write_bps");
	vm->v[COL_NET_RX] = num(data, "network_rx_bps");
	vm->v[COL_NET_TX] = num(data, "network_tx_bps");
	vcpus = num(data, "vcpus");
	if (vcpus >= 1)
		vm->vcpus = (int)vcpus;
	/* Metrics come only for a live domain. */
	if (strcmp(vm->state, "unknown") == 0)
		hx_strlcpy(vm->state, "running", sizeof(vm->state));
	return TOP_CH_VMS;
}

static void
set_note(struct top_model *m, int level, const char *fmt, ...)
    HX_PRINTF(3, 4);

static void
set_note(struct top_model *m, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->note, sizeof(m->note), fmt, ap);
	va_end(ap);
	m->note_level = level;
}

static int
level_of(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "error") == 0 || strcmp(s, "critical") == 0)
		return 2;
	return strcmp(s, "warning") == 0 ? 1 : 0;
}

static int
apply_error(struct top_model *m, json_t *data)
{
	const char *code = str(data, "code"), *topic = str(data, "topic");
	size_t n = strlen(m->hidden);

	if (code != NULL && topic != NULL &&
	    (strcmp(code, "FORBIDDEN_TOPIC") == 0 ||
	    strcmp(code, "UNKNOWN_TOPIC") == 0)) {
		if (n == 0)
			hx_strlcpy(m->hidden, "not shown (no privilege): ",
			    sizeof(m->hidden));
		else
			hx_strlcpy(m->hidden + n, ", ", sizeof(m->hidden) - n);
		n = strlen(m->hidden);
		hx_strlcpy(m->hidden + n, topic, sizeof(m->hidden) - n);
		if (strcmp(topic, "node:metrics") == 0)
			m->no_node = 1;
		return TOP_CH_NOTE;
	}
	set_note(m, 2, "server error %s: %s", code ? code : "?",
	    str(data, "message") ? str(data, "message") : "");
	return TOP_CH_NOTE;
}

int
model_apply(struct top_model *m, const char *msg, size_t len, int64_t now)
{
	json_t *root = json_loadb(msg, len, 0, NULL), *data;
	const char *type;
	int ch = 0;

	if (root == NULL)
		return 0;
	type = str(root, "type");
	data = json_object_get(root, "data");
	if (type == NULL || !json_is_object(data))
		goto out;
	if (strcmp(type, "NodeMetrics") == 0) {
		node_decode(data, &m->node);
		json_decref(m->node_data);
		m->node_data = json_incref(data);
		m->has_node = 1;
		m->node_mono_ms = now;
		ch = TOP_CH_NODE;
	} else if (strcmp(type, "VmMetrics") == 0) {
		ch = apply_vm_metrics(m, data);
	} else if (strcmp(type, "VmStatusChanged") == 0) {
		ch = apply_status(m, data, 0, now);
	} else if (strcmp(type, "ContainerStatusChanged") == 0) {
		ch = apply_status(m, data, 1, now);
	} else if (strcmp(type, "VmCreated") == 0 ||
	    strcmp(type, "VmDeleted") == 0) {
		int created = type[2] == 'C';
		const char *id = str(data, "vm_id"), *name = str(data, "name");
		const char *user = str(data, "user");

		if (id != NULL) {
			struct top_vm *vm = model_vm(m, id);

			if (created && vm == NULL)
				vm = vm_add(m, id, name);
			if (created) {
				vm->flash_until = now + FLASH_MS;
				vm_event(vm, data, user ? "defined by" : "defined");
			} else if (vm != NULL)
				vm_remove(m, vm);
			set_note(m, 0, "VM %s %s%s%s", name ? name : id,
			    created ? "defined" : "undefined",
			    user ? " by " : "", user ? user : "");
			m->need_vm_list = 1;
			ch = TOP_CH_VMS | TOP_CH_NOTE;
		}
	} else if (strcmp(type, "Notification") == 0) {
		const char *title = str(data, "title"), *text = str(data, "message");
		const char *u;

		if (title != NULL && strcmp(title, "Connected") == 0 &&
		    text != NULL && (u = strstr(text, "for user ")) != NULL)
			hx_strlcpy(m->user, u + 9, sizeof(m->user));
		set_note(m, level_of(str(data, "level")), "%s: %s",
		    title ? title : "notice", text ? text : "");
		ch = TOP_CH_NOTE;
	} else if (strcmp(type, "AlertTriggered") == 0) {
		set_note(m, level_of(str(data, "severity")) ? 2 : 1,
		    "ALERT %s on %s: %s", str(data, "rule_name") ?
		    str(data, "rule_name") : "?", str(data, "target") ?
		    str(data, "target") : "?", str(data, "message") ?
		    str(data, "message") : "");
		ch = TOP_CH_NOTE;
	} else if (strcmp(type, "AlertResolved") == 0) {
		set_note(m, 0, "resolved: %s on %s", str(data, "rule_name") ?
		    str(data, "rule_name") : "?", str(data, "target") ?
		    str(data, "target") : "?");
		ch = TOP_CH_NOTE;
	} else if (strcmp(type, "Subscribed") == 0) {
		m->hidden[0] = '\0';
		m->no_node = 0;
		ch = TOP_CH_SUBSCRIBED;
	} else if (strcmp(type, "Error") == 0) {
		ch = apply_error(m, data);
	}
	if (ch & (TOP_CH_NODE | TOP_CH_VMS))
		m->data_mono_ms = now;
out:
	json_decref(root);
	return ch;
}

int
model_set_vm_list(struct top_model *m, json_t *list)
{
	size_t i, k;
	json_t *o;

	if (!json_is_array(list))
		return -1;
	for (i = 0; i < m->nvms; i++)
		m->vms[i].listed = 0;
	json_array_foreach(list, k, o) {
		const char *id = str(o, "id"), *state = str(o, "state");
		struct top_vm *vm;
		double v;

		if (id == NULL)
			continue;
		vm = vm_get(m, id, str(o, "name"));
		vm->listed = 1;
		vm->container = json_is_true(json_object_get(o, "container"));
		if (state != NULL)
			hx_strlcpy(vm->state, state, sizeof(vm->state));
		if ((v = num(o, "vcpus")) >= 1)
			vm->vcpus = (int)v;
	}
	for (i = m->nvms; i-- > 0;)
		if (!m->vms[i].listed)
			vm_remove(m, &m->vms[i]);
	m->need_vm_list = 0;
	return 0;
}

void
model_vm_counts(const struct top_model *m, int *running, int *total)
{
	size_t i;

	*running = 0;
	for (i = 0; i < m->nvms; i++)
		if (strcmp(m->vms[i].state, "running") == 0)
			(*running)++;
	*total = (int)m->nvms;
}

/* qsort has no context argument: the view's order lives here. */
static const struct top_model *sort_m;
static enum top_col sort_col;
static int sort_invert;

static int
cmp_rows(const void *a, const void *b)
{
	const struct top_vm *x = &sort_m->vms[*(const size_t *)a];
	const struct top_vm *y = &sort_m->vms[*(const size_t *)b];
	int r = 0;

	if (sort_col == COL_STATE)
		r = strcmp(x->state, y->state);
	else if (sort_col != COL_NAME) {
		double p = x->v[sort_col], q = y->v[sort_col];

		/* Unknown values sort last whichever the direction. */
		if (isnan(p) != isnan(q))
			return isnan(p) ? 1 : -1;
		if (!isnan(p))
			r = p > q ? -1 : p < q ? 1 : 0;
	}
	if (r == 0)
		r = strcmp(x->name, y->name);
	return sort_invert ? -r : r;
}

size_t
model_view(const struct top_model *m, enum top_col col, int invert,
    const char *filter, size_t *idx)
{
	size_t i, n = 0;

	for (i = 0; i < m->nvms; i++)
		if (filter == NULL || *filter == '\0' ||
		    strcasestr(m->vms[i].name, filter) != NULL)
			idx[n++] = i;
	sort_m = m;
	sort_col = col;
	sort_invert = invert;
	qsort(idx, n, sizeof(*idx), cmp_rows);
	return n;
}

void
model_cell(const struct top_vm *vm, enum top_col col, char *out,
    size_t outlen)
{
	double v = vm->v[col];

	switch (col) {
	case COL_NAME:
		hx_strlcpy(out, vm->name, outlen);
		break;
	case COL_STATE:
		hx_strlcpy(out, vm->state, outlen);
		break;
	case COL_CPU:
	case COL_MEMPCT:
		if (isnan(v))
			hx_strlcpy(out, "-", outlen);
		else
			snprintf(out, outlen, "%.1f", v);
		break;
	default:
		hx_fmt_bytes(v, out, outlen);
		break;
	}
}

double
model_node_num(const struct top_model *m, const char *key)
{
	return m->has_node ? num(m->node_data, key) : NAN;
}
