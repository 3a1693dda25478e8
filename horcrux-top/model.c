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

#include "hx-hash.h"
#include "hx-proto.h"
#include "hx-util.h"
#include "model.h"

const struct top_col_info top_cols[COL_COUNT] = {
	[COL_NAME] = { "NAME", 16, 0, 0 },
	[COL_STATE] = { "STATE", 9, 0, 0 },
	[COL_CPU] = { "CPU%", 6, 1, 0 },
	[COL_MEMPCT] = { "MEM%", 6, 1, 0 },
	[COL_MEM] = { "MEM", 7, 1, 1 },
	[COL_DISK_RD] = { "DISK R/s", 9, 1, 1 },
	[COL_DISK_WR] = { "DISK W/s", 9, 1, 1 },
	[COL_NET_RX] = { "NET RX/s", 9, 1, 1 },
	[COL_NET_TX] = { "NET TX/s", 9, 1, 1 },
};

const char *const top_hist_fields[TOP_HIST_COUNT] = {
	[TOP_HIST_CPU] = "cpu_usage",
	[TOP_HIST_MEM] = "memory_usage",
	[TOP_HIST_RX] = "network_rx_bps",
	[TOP_HIST_TX] = "network_tx_bps",
};

#define FLASH_MS 2000
#define HELLO_MS 5000 /* how long "Connected: ..." shows */

void
model_init(struct top_model *m)
{
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < TOP_HIST_COUNT; i++)
		spark_init(&m->hist[i]);
	m->spark_step_ms = TOP_SPARK_STEP_MS;
	m->spark_end = -1;
}

static void
vm_clear_metrics(struct top_vm *vm)
{
	int c;

	for (c = COL_CPU; c < COL_COUNT; c++)
		vm->v[c] = NAN;
	vm->has_metrics = 0;
}

/* --- firing alerts ------------------------------------------------------ */

static void
alert_release(struct top_alert *a)
{
	free(a->id);
	free(a->rule);
	free(a->severity);
	free(a->target);
	free(a->acked_by);
}

static char *
jdup(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? xstrdup(s) : NULL;
}

static void
alert_remove(struct top_model *m, const char *id)
{
	size_t i;

	for (i = 0; i < m->nalerts; i++)
		if (strcmp(m->alerts[i].id, id) == 0) {
			alert_release(&m->alerts[i]);
			memmove(&m->alerts[i], &m->alerts[i + 1],
			    (m->nalerts - i - 1) * sizeof(*m->alerts));
			m->nalerts--;
			return;
		}
}

/* Add (or replace) the alert o describes; since from its field since. */
static void
alert_add(struct top_model *m, const json_t *o, const char *since)
{
	struct top_alert a;
	json_t		*v = json_object_get(o, "value");
	const char	*ts = json_string_value(json_object_get(o, since));

	memset(&a, 0, sizeof(a));
	if ((a.id = jdup(o, "alert_id")) == NULL)
		return;
	alert_remove(m, a.id);
	a.rule = jdup(o, "rule_name");
	a.severity = jdup(o, "severity");
	a.target = jdup(o, "target");
	a.acked_by = jdup(o, "acked_by");
	a.value = json_is_number(v) ? json_number_value(v) : NAN;
	a.since_ms = ts != NULL ? hx_parse_rfc3339_ms(ts) : 0;
	if (a.since_ms < 0)
		a.since_ms = 0;
	m->alerts = xrealloc(m->alerts, (m->nalerts + 1) * sizeof(*m->alerts));
	m->alerts[m->nalerts++] = a;
}

int
model_set_alerts(struct top_model *m, json_t *answer)
{
	json_t *arr = json_object_get(answer, "alerts"), *o;
	size_t	i;

	if (!json_is_array(arr))
		return -1;
	for (i = 0; i < m->nalerts; i++)
		alert_release(&m->alerts[i]);
	m->nalerts = 0;
	json_array_foreach(arr, i, o) {
		const char *st = json_string_value(json_object_get(o, "state"));

		if (st == NULL || strcmp(st, "firing") == 0)
			alert_add(m, o, "started_at");
	}
	return 0;
}

void
model_alert_counts(const struct top_model *m, int *crit, int *warn, int *info)
{
	size_t i;

	*crit = *warn = *info = 0;
	for (i = 0; i < m->nalerts; i++) {
		const char *s = m->alerts[i].severity ? m->alerts[i].severity :
							"";

		if (strcmp(s, "critical") == 0)
			(*crit)++;
		else if (strcmp(s, "warning") == 0)
			(*warn)++;
		else
			(*info)++;
	}
}

void
model_release(struct top_model *m)
{
	size_t i;

	hx_node_metrics_release(&m->node);
	for (i = 0; i < m->nvms; i++) {
		free(m->vms[i].id);
		free(m->vms[i].name);
		free(m->vms[i].uuid);
		free(m->vms[i].cpu_hist);
	}
	free(m->vms);
	for (i = 0; i < m->nalerts; i++)
		alert_release(&m->alerts[i]);
	free(m->alerts);
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
	free(vm->uuid);
	free(vm->cpu_hist);
	memmove(&m->vms[i], &m->vms[i + 1], (m->nvms - i - 1) * sizeof(*vm));
	m->nvms--;
}

/* Learn vm's UUID from o's key (vm_uuid in events, uuid in the list). */
static void
vm_learn_uuid(struct top_vm *vm, json_t *o, const char *key)
{
	const char *u = json_string_value(json_object_get(o, key));

	if (u == NULL || *u == '\0' ||
	    (vm->uuid != NULL && strcmp(vm->uuid, u) == 0))
		return;
	free(vm->uuid);
	vm->uuid = xstrdup(u);
}

/* The REST VM list's fields (GET /api/vms is not a WebSocket event). */
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

/*
 * A VM that is not running (or blocked, waiting on I/O while active) uses
 * no CPU, whatever a counter said (the test driver's clock runs on for a
 * paused domain): no CPU figure.
 */
static void
vm_settle(struct top_vm *vm)
{
	if (strcmp(vm->state, "running") != 0 &&
	    strcmp(vm->state, "blocked") != 0)
		vm->v[COL_CPU] = NAN;
}

/* Record text as vm's newest event, at the daemon's time ts_ms (else ours). */
static void
vm_event(struct top_vm *vm, int64_t ts_ms, const char *text)
{
	memmove(&vm->ev[1], &vm->ev[0],
	    (TOP_VM_EVENTS - 1) * sizeof(vm->ev[0]));
	vm->ev[0].wall_ms = ts_ms >= 0 ? ts_ms : hx_wall_ms();
	hx_strlcpy(vm->ev[0].text, text, sizeof(vm->ev[0].text));
	if (vm->nev < TOP_VM_EVENTS)
		vm->nev++;
}

static void set_note(struct top_model *m, int level, const char *fmt, ...)
    HX_PRINTF(3, 4);

static void
set_note(struct top_model *m, int level, const char *fmt, ...)
{
	va_list ap;

	m->note_until = 0;
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

/* A decoded count (-1: unknown) as a column value. */
static double
count(int64_t v)
{
	return v >= 0 ? (double)v : NAN;
}

/*
 * One handler per event type horcrux-top shows, called with the event's
 * data object (always an object). Each decodes it with lib/hx-proto's
 * field table and returns TOP_CH_* flags.
 */
typedef int (*apply_fn)(struct top_model *m, enum hx_event_type type,
    json_t *data, int64_t now);

/*
 * A live sample at wall time t_ms into sparkline s (unless the history's
 * answer already holds it); moves the common end on.
 */
static void
spark_live(struct top_model *m, struct spark *s, int64_t t_ms, double v)
{
	int64_t b;

	if (t_ms <= 0 || t_ms <= m->hist_until_ms)
		return;
	spark_add(s, m->spark_step_ms, t_ms, v);
	b = spark_bucket(t_ms, m->spark_step_ms);
	if (b > m->spark_end)
		m->spark_end = b;
}

/* The newest NodeMetrics into the header's sparklines. */
static void
node_spark(struct top_model *m)
{
	int i;

	for (i = 0; i < TOP_HIST_COUNT; i++)
		spark_live(m, &m->hist[i], m->node.timestamp_ms,
		    model_node_num(m, top_hist_fields[i]));
}

static struct spark *
vm_spark(struct top_vm *vm)
{
	if (vm->cpu_hist == NULL) {
		vm->cpu_hist = xmalloc(sizeof(*vm->cpu_hist));
		spark_init(vm->cpu_hist);
	}
	return vm->cpu_hist;
}

static int
apply_node(struct top_model *m, enum hx_event_type type, json_t *data,
    int64_t now)
{
	struct hx_node_metrics nm;

	(void)type;
	if (hx_node_metrics_decode(data, &nm) < 0)
		return 0;
	hx_node_metrics_release(&m->node);
	m->node = nm;
	m->has_node = 1;
	m->node_mono_ms = now;
	node_spark(m);
	return TOP_CH_NODE;
}

static int
apply_vm_metrics(struct top_model *m, enum hx_event_type type, json_t *data,
    int64_t now)
{
	struct hx_vm_metrics vmm;
	struct top_vm	    *vm;
	double		     used, max;
	const char	    *ts;

	(void)type;
	if (hx_vm_metrics_decode(data, &vmm) < 0 || vmm.vm_id == NULL)
		return 0;
	vm = vm_get(m, vmm.vm_id, vmm.name);
	vm_learn_uuid(vm, data, "vm_uuid");
	vm->seen_ms = now;
	vm->has_metrics = 1;
	vm->v[COL_CPU] = vmm.cpu_usage;
	vm->v[COL_MEMPCT] = vmm.memory_usage;
	used = count(vmm.memory_bytes);
	max = count(vmm.memory_max_bytes);
	vm->v[COL_MEM] = used;
	if (isnan(vm->v[COL_MEMPCT]) && used >= 0 && max > 0)
		vm->v[COL_MEMPCT] = 100.0 * used / max;
	vm->v[COL_DISK_RD] = vmm.disk_read_bps;
	vm->v[COL_DISK_WR] = vmm.disk_write_bps;
	vm->v[COL_NET_RX] = vmm.network_rx_bps;
	vm->v[COL_NET_TX] = vmm.network_tx_bps;
	if (vmm.vcpus >= 1)
		vm->vcpus = (int)vmm.vcpus;
	/* Metrics come only for a live domain. */
	if (strcmp(vm->state, "unknown") == 0)
		hx_strlcpy(vm->state, "running", sizeof(vm->state));
	vm_settle(vm);
	ts = json_string_value(json_object_get(data, "timestamp"));
	if (ts != NULL)
		spark_live(m, vm_spark(vm), hx_parse_rfc3339_ms(ts),
		    vm->v[COL_CPU]);
	return TOP_CH_VMS;
}

static int
apply_status(struct top_model *m, enum hx_event_type type, json_t *data,
    int64_t now)
{
	struct hx_ev_status ev;
	struct top_vm	   *vm;
	const char	   *user;
	int64_t		    ts;
	char		    text[96];

	if (hx_proto_decode(type, data, &ev, &ts) < 0 || ev.id == NULL ||
	    ev.new_status == NULL)
		return 0;
	user = ev.user;
	vm = vm_get(m, ev.id, NULL);
	vm_learn_uuid(vm, data, "vm_uuid");
	vm->seen_ms = now;
	vm->container = type == HX_EV_CONTAINER_STATUS_CHANGED;
	hx_strlcpy(vm->state, ev.new_status, sizeof(vm->state));
	vm->flash_until = now + FLASH_MS;
	if (strcmp(ev.new_status, "running") != 0 &&
	    strcmp(ev.new_status, "paused") != 0)
		vm_clear_metrics(vm); /* a stopped VM reports nothing */
	vm_settle(vm);
	snprintf(text, sizeof(text), "%s -> %s%s%s",
	    ev.old_status ? ev.old_status : "?", ev.new_status,
	    user ? " by " : "", user ? user : "");
	vm_event(vm, ts, text);
	return TOP_CH_VMS;
}

static int
apply_lifecycle(struct top_model *m, enum hx_event_type type, json_t *data,
    int64_t now)
{
	int		       created = type == HX_EV_VM_CREATED;
	struct hx_ev_lifecycle ev;
	struct top_vm	      *vm;
	int64_t		       ts;

	if (hx_proto_decode(type, data, &ev, &ts) < 0 || ev.vm_id == NULL)
		return 0;
	vm = model_vm(m, ev.vm_id);
	if (created && vm == NULL)
		vm = vm_add(m, ev.vm_id, ev.name);
	if (created) {
		vm_learn_uuid(vm, data, "vm_uuid");
		vm->seen_ms = now;
		vm->flash_until = now + FLASH_MS;
		vm_event(vm, ts, ev.user ? "defined by" : "defined");
	} else if (vm != NULL)
		vm_remove(m, vm);
	set_note(m, 0, "VM %s %s%s%s", ev.name ? ev.name : ev.vm_id,
	    created ? "defined" : "undefined", ev.user ? " by " : "",
	    ev.user ? ev.user : "");
	m->need_vm_list = 1;
	return TOP_CH_VMS | TOP_CH_NOTE;
}

static int
apply_notification(struct top_model *m, enum hx_event_type type, json_t *data,
    int64_t now)
{
	struct hx_ev_notification ev;
	const char		 *u;

	if (hx_proto_decode(type, data, &ev, NULL) < 0)
		return 0;
	if (ev.title != NULL && strcmp(ev.title, "Connected") == 0 &&
	    ev.message != NULL && (u = strstr(ev.message, "for user ")) != NULL)
		hx_strlcpy(m->user, u + 9, sizeof(m->user));
	/* The welcome of a daemon that can resume names its boot. */
	if (ev.title != NULL && strcmp(ev.title, "Connected") == 0 &&
	    (u = json_string_value(json_object_get(data, "boot_id"))) != NULL)
		hx_strlcpy(m->boot_id, u, sizeof(m->boot_id));
	set_note(m, level_of(ev.level), "%s: %s",
	    ev.title ? ev.title : "notice", ev.message ? ev.message : "");
	/* The greeting is news for a moment, not a standing message. */
	if (ev.title != NULL && strcmp(ev.title, "Connected") == 0)
		m->note_until = now + HELLO_MS;
	return TOP_CH_NOTE;
}

static int
apply_alert(struct top_model *m, enum hx_event_type type, json_t *data,
    int64_t now)
{
	struct hx_ev_alert ev;
	const char *id = json_string_value(json_object_get(data, "alert_id"));

	(void)now;
	if (hx_proto_decode(type, data, &ev, NULL) < 0)
		return 0;
	/* The firing list: the header's counts and the alert view. */
	if (id != NULL && type == HX_EV_ALERT_TRIGGERED)
		alert_add(m, data, "timestamp");
	else if (id != NULL)
		alert_remove(m, id);
	if (type == HX_EV_ALERT_TRIGGERED)
		set_note(m, level_of(ev.severity) ? 2 : 1, "ALERT %s on %s: %s",
		    ev.rule_name ? ev.rule_name : "?",
		    ev.target ? ev.target : "?", ev.message ? ev.message : "");
	else
		set_note(m, 0, "resolved: %s on %s",
		    ev.rule_name ? ev.rule_name : "?",
		    ev.target ? ev.target : "?");
	return TOP_CH_NOTE | TOP_CH_ALERTS;
}

static int
apply_subscribed(struct top_model *m, enum hx_event_type type, json_t *data,
    int64_t now)
{
	(void)type;
	(void)data;
	(void)now;
	m->hidden[0] = '\0';
	m->no_node = 0;
	return TOP_CH_SUBSCRIBED;
}

static int
apply_error(struct top_model *m, enum hx_event_type type, json_t *data,
    int64_t now)
{
	struct hx_ev_error ev;
	size_t		   n = strlen(m->hidden);

	(void)now;
	if (hx_proto_decode(type, data, &ev, NULL) < 0)
		return 0;
	if (ev.code != NULL && ev.topic != NULL &&
	    (strcmp(ev.code, "FORBIDDEN_TOPIC") == 0 ||
		strcmp(ev.code, "UNKNOWN_TOPIC") == 0)) {
		if (n == 0)
			hx_strlcpy(m->hidden,
			    "not shown (no privilege): ", sizeof(m->hidden));
		else
			hx_strlcpy(m->hidden + n, ", ", sizeof(m->hidden) - n);
		n = strlen(m->hidden);
		hx_strlcpy(m->hidden + n, ev.topic, sizeof(m->hidden) - n);
		if (hx_topic_find(ev.topic) == HX_TOPIC_NODE_METRICS)
			m->no_node = 1;
		return TOP_CH_NOTE;
	}
	set_note(m, 2, "server error %s: %s", ev.code ? ev.code : "?",
	    ev.message ? ev.message : "");
	return TOP_CH_NOTE;
}

/* Event types with no handler (pings, backups, migrations) change nothing. */
static const apply_fn appliers[HX_EV_COUNT] = {
	[HX_EV_NODE_METRICS] = apply_node,
	[HX_EV_VM_METRICS] = apply_vm_metrics,
	[HX_EV_VM_STATUS_CHANGED] = apply_status,
	[HX_EV_CONTAINER_STATUS_CHANGED] = apply_status,
	[HX_EV_VM_CREATED] = apply_lifecycle,
	[HX_EV_VM_DELETED] = apply_lifecycle,
	[HX_EV_ALERT_TRIGGERED] = apply_alert,
	[HX_EV_ALERT_RESOLVED] = apply_alert,
	[HX_EV_NOTIFICATION] = apply_notification,
	[HX_EV_SUBSCRIBED] = apply_subscribed,
	[HX_EV_ERROR] = apply_error,
};

int
model_apply(struct top_model *m, const char *msg, size_t len, int64_t now)
{
	json_t	   *root = json_loadb(msg, len, 0, NULL), *data, *seq;
	const char *type;
	int	    t, ch = 0;

	if (root == NULL)
		return 0;
	type = json_string_value(json_object_get(root, "type"));
	data = json_object_get(root, "data");
	seq = json_object_get(data, "seq");
	if (json_is_integer(seq) && json_integer_value(seq) > m->seq)
		m->seq = (long long)json_integer_value(seq);
	/* One frame for every VM of a tick (a batch subscription). */
	if (type != NULL && strcmp(type, "VmMetricsBatch") == 0 &&
	    json_is_object(data)) {
		json_t *vms = json_object_get(data, "vms"), *v,
		       *ts = json_object_get(data, "timestamp");
		size_t i;

		if (m->hold_metrics || !json_is_array(vms))
			goto out;
		json_array_foreach(vms, i, v) {
			if (json_is_object(v) && ts != NULL &&
			    json_object_get(v, "timestamp") == NULL)
				json_object_set(v, "timestamp", ts);
			if (json_is_object(v))
				ch |= apply_vm_metrics(m, HX_EV_VM_METRICS, v,
				    now);
		}
		if (ch != 0)
			m->data_mono_ms = now;
		goto out;
	}
	if (type == NULL || !json_is_object(data) ||
	    (t = hx_event_type_find(type)) < 0 || appliers[t] == NULL)
		goto out;
	/* Paused: metrics wait; status and notes still count. */
	if (m->hold_metrics && hx_events[t].topic >= 0 &&
	    hx_topics[hx_events[t].topic].metric)
		goto out;
	ch = appliers[t](m, (enum hx_event_type)t, data, now);
	if (ch & (TOP_CH_NODE | TOP_CH_VMS))
		m->data_mono_ms = now;
out:
	json_decref(root);
	return ch;
}

int
model_set_vm_list(struct top_model *m, json_t *list)
{
	size_t	i, k;
	json_t *o;

	if (!json_is_array(list))
		return -1;
	for (i = 0; i < m->nvms; i++)
		m->vms[i].listed = 0;
	json_array_foreach(list, k, o) {
		const char    *id = str(o, "id"), *state = str(o, "state");
		struct top_vm *vm;
		double	       v;

		if (id == NULL)
			continue;
		vm = vm_get(m, id, str(o, "name"));
		vm->listed = 1;
		vm_learn_uuid(vm, o, "uuid");
		vm->container = json_is_true(json_object_get(o, "container"));
		if (state != NULL)
			hx_strlcpy(vm->state, state, sizeof(vm->state));
		vm_settle(vm);
		if ((v = num(o, "vcpus")) >= 1)
			vm->vcpus = (int)v;
	}
	for (i = m->nvms; i-- > 0;)
		if (!m->vms[i].listed)
			vm_remove(m, &m->vms[i]);
	m->need_vm_list = 0;
	return 0;
}

/* Whether a's row is the better one for a VM two hosts report. */
static int
vm_better(const struct top_vm *a, const struct top_vm *b)
{
	int ra = strcmp(a->state, "running") == 0,
	    rb = strcmp(b->state, "running") == 0;

	if (ra != rb)
		return ra;
	return a->seen_ms > b->seen_ms;
}

static void
vm_copy(struct top_vm *d, const struct top_vm *s, int host)
{
	*d = *s;
	d->id = xstrdup(s->id);
	d->name = xstrdup(s->name);
	d->uuid = s->uuid != NULL ? xstrdup(s->uuid) : NULL;
	d->host = host;
	if (s->cpu_hist != NULL) {
		d->cpu_hist = xmalloc(sizeof(*d->cpu_hist));
		*d->cpu_hist = *s->cpu_hist;
	}
}

void
model_merge(struct top_model *dst, struct top_model *const *src, size_t n)
{
	struct hx_hash *rows; /* dst row by UUID, case-blind */
	size_t		h, i, k;

	for (i = 0; i < dst->nvms; i++) {
		free(dst->vms[i].id);
		free(dst->vms[i].name);
		free(dst->vms[i].uuid);
		free(dst->vms[i].cpu_hist);
	}
	dst->nvms = 0;
	for (i = 0; i < dst->nalerts; i++)
		alert_release(&dst->alerts[i]);
	dst->nalerts = 0;
	/* Rows by UUID, so thousands of VMs merge in linear time. */
	rows = hx_hash_new(1);
	for (h = 0; h < n; h++) {
		const struct top_model *m = src[h];

		for (i = 0; i < m->nvms; i++) {
			const struct top_vm *v = &m->vms[i];
			struct top_vm	    *d = NULL;

			if (v->uuid != NULL &&
			    hx_hash_get(rows, v->uuid, &k) == 0)
				d = &dst->vms[k];
			if (d != NULL) {
				if (!vm_better(v, d))
					continue;
				free(d->id);
				free(d->name);
				free(d->uuid);
				free(d->cpu_hist);
			} else {
				if (dst->nvms == dst->avms) {
					dst->avms = dst->avms ? dst->avms * 2 :
								16;
					dst->vms = xrealloc(dst->vms,
					    dst->avms * sizeof(*dst->vms));
				}
				if (v->uuid != NULL)
					hx_hash_set(rows, v->uuid, dst->nvms);
				d = &dst->vms[dst->nvms++];
			}
			vm_copy(d, v, (int)h);
		}
		for (i = 0; i < m->nalerts; i++) {
			const struct top_alert *a = &m->alerts[i];
			struct top_alert       *d;

			dst->alerts = xrealloc(dst->alerts,
			    (dst->nalerts + 1) * sizeof(*dst->alerts));
			d = &dst->alerts[dst->nalerts++];
			*d = *a;
			d->id = xstrdup(a->id);
			d->rule = a->rule ? xstrdup(a->rule) : NULL;
			d->severity = a->severity ? xstrdup(a->severity) : NULL;
			d->target = a->target ? xstrdup(a->target) : NULL;
			d->acked_by = a->acked_by ? xstrdup(a->acked_by) : NULL;
			d->host = (int)h;
		}
		if (m->spark_end > dst->spark_end)
			dst->spark_end = m->spark_end;
		if (m->data_mono_ms > dst->data_mono_ms)
			dst->data_mono_ms = m->data_mono_ms;
	}
	hx_hash_free(rows);
}

/* The VM named name (the history names VM series by name), or NULL. */
static struct top_vm *
vm_named(struct top_model *m, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < m->nvms; i++)
		if (strlen(m->vms[i].name) == len &&
		    strncmp(m->vms[i].name, name, len) == 0)
			return &m->vms[i];
	return NULL;
}

/* The sparkline a history series name feeds, or NULL. */
static struct spark *
history_target(struct top_model *m, const char *name)
{
	static const char vm_suffix[] = ":cpu_usage";
	size_t		  len = strlen(name), sl = sizeof(vm_suffix) - 1;
	struct top_vm	 *vm;
	int		  i;

	if (strncmp(name, "node:", 5) == 0) {
		for (i = 0; i < TOP_HIST_COUNT; i++)
			if (strcmp(name + 5, top_hist_fields[i]) == 0)
				return &m->hist[i];
		return NULL;
	}
	if (strncmp(name, "vm:", 3) != 0 || len <= 3 + sl ||
	    strcmp(name + len - sl, vm_suffix) != 0)
		return NULL;
	vm = vm_named(m, name + 3, len - 3 - sl);
	return vm != NULL ? vm_spark(vm) : NULL;
}

int
model_apply_history(struct top_model *m, json_t *root)
{
	json_t *series = json_object_get(root, "series"), *o, *p;
	size_t	i, k;
	int	applied = 0;
	int64_t newest = -1;

	if (!json_is_array(series))
		return -1;
	json_array_foreach(series, i, o) {
		const char *name = json_string_value(
		    json_object_get(o, "name"));
		json_t	     *pts = json_object_get(o, "points");
		struct spark *s;

		if (name == NULL || !json_is_array(pts) ||
		    (s = history_target(m, name)) == NULL)
			continue;
		json_array_foreach(pts, k, p) {
			json_t *t = json_array_get(p, 0),
			       *v = json_array_get(p, 1);

			if (!json_is_integer(t))
				continue;
			spark_set(s, m->spark_step_ms,
			    (int64_t)json_integer_value(t),
			    json_is_number(v) ? json_number_value(v) : NAN);
			if (json_integer_value(t) > newest)
				newest = (int64_t)json_integer_value(t);
		}
		applied++;
	}
	/*
	 * The daemon's clock, not ours: the newest bucket of the answer is
	 * where the lines end, and a live sample counts from the bucket after
	 * it (one in that bucket may be in its average already).
	 */
	if (newest >= 0) {
		int64_t b = spark_bucket(newest, m->spark_step_ms);

		if ((b + 1) * m->spark_step_ms > m->hist_until_ms)
			m->hist_until_ms = (b + 1) * m->spark_step_ms - 1;
		if (b > m->spark_end)
			m->spark_end = b;
	}
	return applied;
}

void
model_spark_cells(const struct top_model *m, const struct spark *s, double *out,
    size_t ncells)
{
	size_t i;

	if (s == NULL || m->spark_end < 0) {
		for (i = 0; i < ncells; i++)
			out[i] = NAN;
		return;
	}
	spark_cells(s, m->spark_end, out, ncells);
}

int
model_demo(const struct top_model *m)
{
	return m->has_node && strcmp(m->node.libvirt_driver, "test") == 0;
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
static enum top_col	       sort_col;
static int		       sort_invert;

static int
cmp_rows(const void *a, const void *b)
{
	const struct top_vm *x = &sort_m->vms[*(const size_t *)a];
	const struct top_vm *y = &sort_m->vms[*(const size_t *)b];
	int		     r = 0;

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
model_cell(const struct top_vm *vm, enum top_col col, char *out, size_t outlen)
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
	const struct hx_event_info *e = &hx_events[HX_EV_NODE_METRICS];
	const char		   *base = (const char *)&m->node;
	size_t			    i;

	for (i = 0; m->has_node && i < e->nfields; i++) {
		const struct hx_field *f = &e->fields[i];

		if (strcmp(f->name, key) != 0)
			continue;
		switch (f->ctype) {
		case HX_C_DOUBLE:
			return *(const double *)(base + f->off);
		case HX_C_U64:
			return (double)*(const uint64_t *)(base + f->off);
		case HX_C_INT:
			return *(const int *)(base + f->off);
		default:
			return NAN; /* not a number */
		}
	}
	return NAN;
}
