/*
 * hx-event.c - event builders and the frame serializer (see hx-event.h).
 *
 * The builders fill the event's struct and hand it to hx_proto_encode:
 * field names, order, units and rounding live in hx-proto.c's tables.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hx-event.h"
#include "hx-proto.h"
#include "hx-util.h"

json_t *
hx_json_real(double v, int decimals)
{
	double scale;

	if (!isfinite(v))
		return json_null();
	if (decimals <= 0)
		return json_integer((json_int_t)llround(v));
	scale = pow(10, decimals);
	return json_real(round(v * scale) / scale);
}

json_t *
hx_event_stamp(json_t *data, int64_t ts_ms)
{
	char ts[32];

	if (hx_rfc3339_ms(ts_ms, ts, sizeof ts) == 0)
		json_object_set_new(data, "timestamp", json_string(ts));
	else
		json_object_set_new(data, "timestamp", json_null());
	return data;
}

json_t *
hx_event_node_metrics(const struct hx_node_metrics *m)
{
	return hx_proto_encode(HX_EV_NODE_METRICS, m, m->timestamp_ms);
}

json_t *
hx_event_vm_metrics(const struct hx_vm_metrics *m, int64_t ts_ms)
{
	return hx_proto_encode(HX_EV_VM_METRICS, m, ts_ms);
}

json_t *
hx_event_vm_status_changed(const char *vm_id, const char *vm_uuid,
    const char *old_status, const char *new_status, const char *user,
    int64_t ts_ms)
{
	struct hx_ev_status e = { vm_id, vm_uuid, old_status, new_status,
		user };

	return hx_proto_encode(HX_EV_VM_STATUS_CHANGED, &e, ts_ms);
}

json_t *
hx_event_container_status_changed(const char *container_id,
    const char *old_status, const char *new_status, const char *user,
    int64_t ts_ms)
{
	struct hx_ev_status e = { container_id, NULL, old_status, new_status,
		user };

	return hx_proto_encode(HX_EV_CONTAINER_STATUS_CHANGED, &e, ts_ms);
}

json_t *
hx_event_vm_created(const char *vm_id, const char *vm_uuid, const char *name,
    const char *user, int64_t ts_ms)
{
	struct hx_ev_lifecycle e = { vm_id, vm_uuid, name, user };

	return hx_proto_encode(HX_EV_VM_CREATED, &e, ts_ms);
}

json_t *
hx_event_vm_deleted(const char *vm_id, const char *vm_uuid, const char *name,
    const char *user, int64_t ts_ms)
{
	struct hx_ev_lifecycle e = { vm_id, vm_uuid, name, user };

	return hx_proto_encode(HX_EV_VM_DELETED, &e, ts_ms);
}

json_t *
hx_event_backup_completed(const char *vm_id, const char *vm_uuid,
    const char *backup_id, int64_t size_bytes, double duration_seconds,
    int64_t ts_ms)
{
	struct hx_ev_backup e = { vm_id, vm_uuid, backup_id, size_bytes,
		duration_seconds };

	return hx_proto_encode(HX_EV_BACKUP_COMPLETED, &e, ts_ms);
}

json_t *
hx_event_migration_started(const char *vm_id, const char *vm_uuid,
    const char *source_node, const char *target_node, int64_t ts_ms)
{
	struct hx_ev_migration e = { .vm_id = vm_id,
		.vm_uuid = vm_uuid,
		.source_node = source_node,
		.target_node = target_node };

	return hx_proto_encode(HX_EV_MIGRATION_STARTED, &e, ts_ms);
}

json_t *
hx_event_migration_progress(const char *vm_id, const char *vm_uuid,
    double progress, int64_t transferred_bytes, int64_t total_bytes,
    int64_t iteration, int64_t ts_ms)
{
	struct hx_ev_migration e = { .vm_id = vm_id,
		.vm_uuid = vm_uuid,
		.progress = progress,
		.transferred_bytes = transferred_bytes,
		.total_bytes = total_bytes,
		.iteration = iteration };

	return hx_proto_encode(HX_EV_MIGRATION_PROGRESS, &e, ts_ms);
}

json_t *
hx_event_migration_completed(const char *vm_id, const char *vm_uuid,
    const char *target_node, double duration_seconds, int64_t ts_ms)
{
	struct hx_ev_migration e = { .vm_id = vm_id,
		.vm_uuid = vm_uuid,
		.target_node = target_node,
		.duration_seconds = duration_seconds };

	return hx_proto_encode(HX_EV_MIGRATION_COMPLETED, &e, ts_ms);
}

json_t *
hx_event_migration_failed(const char *vm_id, const char *vm_uuid,
    const char *source_node, const char *target_node, const char *reason,
    int64_t ts_ms)
{
	struct hx_ev_migration e = { .vm_id = vm_id,
		.vm_uuid = vm_uuid,
		.source_node = source_node,
		.target_node = target_node,
		.reason = reason };

	return hx_proto_encode(HX_EV_MIGRATION_FAILED, &e, ts_ms);
}

json_t *
hx_event_alert_triggered(const char *alert_id, const char *rule_name,
    const char *severity, const char *target, const char *message, double value,
    double threshold, int64_t ts_ms)
{
	struct hx_ev_alert e = { alert_id, rule_name, severity, target, message,
		value, threshold, -1 };

	return hx_proto_encode(HX_EV_ALERT_TRIGGERED, &e, ts_ms);
}

json_t *
hx_event_alert_resolved(const char *alert_id, const char *rule_name,
    const char *target, int64_t ts_ms)
{
	struct hx_ev_alert e = { .alert_id = alert_id,
		.rule_name = rule_name,
		.target = target,
		.seq = -1 };

	return hx_proto_encode(HX_EV_ALERT_RESOLVED, &e, ts_ms);
}

json_t *
hx_event_notification(const char *level, const char *title, const char *message,
    int64_t ts_ms)
{
	struct hx_ev_notification e = { level, title, message };

	return hx_proto_encode(HX_EV_NOTIFICATION, &e, ts_ms);
}

json_t *
hx_event_ping(int64_t ts_ms)
{
	return hx_event_stamp(json_object(), ts_ms);
}

json_t *
hx_event_subscribed(json_t *topics, int64_t ts_ms)
{
	struct hx_ev_subscribed e = { topics };

	return hx_proto_encode(HX_EV_SUBSCRIBED, &e, ts_ms);
}

json_t *
hx_event_error(const char *code, const char *message, const char *topic,
    int64_t ts_ms)
{
	struct hx_ev_error e = { code, message, topic };

	return hx_proto_encode(HX_EV_ERROR, &e, ts_ms);
}

char *
hx_event_frame(const char *type, json_t *data, size_t *len, size_t *data_off,
    size_t *data_len)
{
	struct hx_buf b;
	json_t	     *t;
	char	     *body, *tq;
	size_t	      blen;

	/*
	 * Built by hand around one dump of data, so the data span is known
	 * exactly without searching the text; type names are our own
	 * identifiers, but quote them through jansson all the same.
	 */
	body = json_dumps(data, HX_JSON_FLAGS | JSON_ENCODE_ANY);
	json_decref(data);
	if (body == NULL)
		abort();
	t = json_string(type);
	tq = json_dumps(t, JSON_ENCODE_ANY);
	json_decref(t);
	if (tq == NULL)
		abort();
	blen = strlen(body);
	hx_buf_init(&b, 0);
	hx_buf_addf(&b, "{\"type\":%s,\"data\":", tq);
	if (data_off != NULL)
		*data_off = b.len;
	if (data_len != NULL)
		*data_len = blen;
	hx_buf_add(&b, body, blen);
	hx_buf_add(&b, "}", 1);
	free(body);
	free(tq);
	return hx_buf_detach(&b, len);
}
