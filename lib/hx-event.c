/*
 * hx-event.c - event builders and the frame serializer (see hx-event.h).
 *
 * Field order follows DESIGN §3 (seed fields first) because jansson keeps
 * insertion order and people read these frames.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hx-event.h"
#include "hx-util.h"

json_t *
hx_json_real(double v, int decimals)
{
	double	scale;

	if (!isfinite(v))
		return json_null();
	if (decimals <= 0)
		return json_integer((json_int_t)llround(v));
	scale = pow(10, decimals);
	return json_real(round(v * scale) / scale);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
count_or_null(int64_t v)
{
	return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

json_t *
hx_event_stamp(json_t *data, int64_t ts_ms)
{
	char	ts[32];

	if (hx_rfc3339_ms(ts_ms, ts, sizeof ts) == 0)
		json_object_set_new(data, "timestamp", json_string(ts));
	else
		json_object_set_new(data, "timestamp", json_null());
	return data;
}

json_t *
hx_event_node_metrics(const struct hx_node_metrics *m)
{
	json_t	*d, *load, *cores, *disks, *disk;
	size_t	 i;

	d = json_object();
	json_object_set_new(d, "hostname", json_string(m->hostname));
	json_object_set_new(d, "cpu_usage", hx_json_real(m->cpu_usage, 2));
	json_object_set_new(d, "memory_usage",
	    hx_json_real(m->memory_usage, 2));
	json_object_set_new(d, "disk_usage", hx_json_real(m->disk_usage, 2));
	load = json_array();
	for (i = 0; i < 3; i++)
		json_array_append_new(load,
		    hx_json_real(m->load_average[i], 2));
	json_object_set_new(d, "load_average", load);
	json_object_set_new(d, "cpu_cores", json_integer(m->cpu_cores));
	cores = json_array();
	for (i = 0; i < (size_t)m->cpu_cores; i++)
		json_array_append_new(cores,
		    hx_json_real(m->cpu_per_core[i], 2));
	json_object_set_new(d, "cpu_per_core", cores);
	json_object_set_new(d, "memory_total_bytes",
	    json_integer((json_int_t)m->memory_total_bytes));
	json_object_set_new(d, "memory_used_bytes",
	    json_integer((json_int_t)m->memory_used_bytes));
	json_object_set_new(d, "memory_available_bytes",
	    json_integer((json_int_t)m->memory_available_bytes));
	json_object_set_new(d, "swap_usage", hx_json_real(m->swap_usage, 2));
	json_object_set_new(d, "swap_total_bytes",
	    json_integer((json_int_t)m->swap_total_bytes));
	json_object_set_new(d, "swap_used_bytes",
	    json_integer((json_int_t)m->swap_used_bytes));
	disks = json_array();
	for (i = 0; i < m->ndisks; i++) {
		const struct hx_node_disk *k = &m->disks[i];

		disk = json_object();
		json_object_set_new(disk, "mount", json_string(k->mount));
		if (k->ok) {
			json_object_set_new(disk, "usage",
			    hx_json_real(k->usage, 2));
			json_object_set_new(disk, "total_bytes",
			    json_integer((json_int_t)k->total_bytes));
			json_object_set_new(disk, "used_bytes",
			    json_integer((json_int_t)k->used_bytes));
			json_object_set_new(disk, "available_bytes",
			    json_integer((json_int_t)k->avail_bytes));
		} else {
			json_object_set_new(disk, "usage", json_null());
			json_object_set_new(disk, "total_bytes", json_null());
			json_object_set_new(disk, "used_bytes", json_null());
			json_object_set_new(disk, "available_bytes",
			    json_null());
		}
		json_array_append_new(disks, disk);
	}
	json_object_set_new(d, "disks", disks);
	json_object_set_new(d, "disk_read_bps",
	    hx_json_real(m->disk_read_bps, 0));
	json_object_set_new(d, "disk_write_bps",
	    hx_json_real(m->disk_write_bps, 0));
	json_object_set_new(d, "network_rx_bps",
	    hx_json_real(m->network_rx_bps, 0));
	json_object_set_new(d, "network_tx_bps",
	    hx_json_real(m->network_tx_bps, 0));
	json_object_set_new(d, "uptime_seconds",
	    hx_json_real(m->uptime_seconds, 2));
	return hx_event_stamp(d, m->timestamp_ms);
}

json_t *
hx_event_vm_metrics(const struct hx_vm_metrics *m, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "vm_id", json_string(m->vm_id));
	json_object_set_new(d, "cpu_usage", hx_json_real(m->cpu_usage, 2));
	json_object_set_new(d, "memory_usage",
	    hx_json_real(m->memory_usage, 2));
	json_object_set_new(d, "disk_read", count_or_null(m->disk_read));
	json_object_set_new(d, "disk_write", count_or_null(m->disk_write));
	json_object_set_new(d, "network_rx", count_or_null(m->network_rx));
	json_object_set_new(d, "network_tx", count_or_null(m->network_tx));
	json_object_set_new(d, "name", str_or_null(m->name));
	json_object_set_new(d, "vcpus", count_or_null(m->vcpus));
	json_object_set_new(d, "memory_bytes", count_or_null(m->memory_bytes));
	json_object_set_new(d, "memory_max_bytes",
	    count_or_null(m->memory_max_bytes));
	json_object_set_new(d, "disk_read_bps",
	    hx_json_real(m->disk_read_bps, 0));
	json_object_set_new(d, "disk_write_bps",
	    hx_json_real(m->disk_write_bps, 0));
	json_object_set_new(d, "network_rx_bps",
	    hx_json_real(m->network_rx_bps, 0));
	json_object_set_new(d, "network_tx_bps",
	    hx_json_real(m->network_tx_bps, 0));
	return hx_event_stamp(d, ts_ms);
}

static json_t *
status_change(const char *idkey, const char *id, const char *old_status,
    const char *new_status, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, idkey, json_string(id));
	json_object_set_new(d, "old_status", str_or_null(old_status));
	json_object_set_new(d, "new_status", str_or_null(new_status));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_vm_status_changed(const char *vm_id, const char *old_status,
    const char *new_status, int64_t ts_ms)
{
	return status_change("vm_id", vm_id, old_status, new_status, ts_ms);
}

json_t *
hx_event_container_status_changed(const char *container_id,
    const char *old_status, const char *new_status, int64_t ts_ms)
{
	return status_change("container_id", container_id, old_status,
	    new_status, ts_ms);
}

static json_t *
vm_lifecycle(const char *vm_id, const char *name, const char *user,
    int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "vm_id", json_string(vm_id));
	json_object_set_new(d, "name", str_or_null(name));
	json_object_set_new(d, "user", str_or_null(user));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_vm_created(const char *vm_id, const char *name, const char *user,
    int64_t ts_ms)
{
	return vm_lifecycle(vm_id, name, user, ts_ms);
}

json_t *
hx_event_vm_deleted(const char *vm_id, const char *name, const char *user,
    int64_t ts_ms)
{
	return vm_lifecycle(vm_id, name, user, ts_ms);
}

json_t *
hx_event_backup_completed(const char *vm_id, const char *backup_id,
    int64_t size_bytes, double duration_seconds, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "vm_id", json_string(vm_id));
	json_object_set_new(d, "backup_id", str_or_null(backup_id));
	json_object_set_new(d, "size_bytes", count_or_null(size_bytes));
	json_object_set_new(d, "duration_seconds",
	    hx_json_real(duration_seconds, 3));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_migration_started(const char *vm_id, const char *source_node,
    const char *target_node, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "vm_id", json_string(vm_id));
	json_object_set_new(d, "source_node", str_or_null(source_node));
	json_object_set_new(d, "target_node", str_or_null(target_node));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_migration_progress(const char *vm_id, double progress,
    int64_t transferred_bytes, int64_t total_bytes, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "vm_id", json_string(vm_id));
	json_object_set_new(d, "progress", hx_json_real(progress, 2));
	json_object_set_new(d, "transferred_bytes",
	    count_or_null(transferred_bytes));
	json_object_set_new(d, "total_bytes", count_or_null(total_bytes));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_migration_completed(const char *vm_id, const char *target_node,
    double duration_seconds, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "vm_id", json_string(vm_id));
	json_object_set_new(d, "target_node", str_or_null(target_node));
	json_object_set_new(d, "duration_seconds",
	    hx_json_real(duration_seconds, 3));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_alert_triggered(const char *alert_id, const char *rule_name,
    const char *severity, const char *target, const char *message,
    double value, double threshold, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "alert_id", json_string(alert_id));
	json_object_set_new(d, "rule_name", str_or_null(rule_name));
	json_object_set_new(d, "severity", str_or_null(severity));
	json_object_set_new(d, "target", str_or_null(target));
	json_object_set_new(d, "message", str_or_null(message));
	json_object_set_new(d, "value", hx_json_real(value, 2));
	json_object_set_new(d, "threshold", hx_json_real(threshold, 2));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_alert_resolved(const char *alert_id, const char *rule_name,
    const char *target, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "alert_id", json_string(alert_id));
	json_object_set_new(d, "rule_name", str_or_null(rule_name));
	json_object_set_new(d, "target", str_or_null(target));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_notification(const char *level, const char *title,
    const char *message, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "level", json_string(level));
	json_object_set_new(d, "title", str_or_null(title));
	json_object_set_new(d, "message", str_or_null(message));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_ping(int64_t ts_ms)
{
	return hx_event_stamp(json_object(), ts_ms);
}

json_t *
hx_event_subscribed(json_t *topics, int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "topics", json_deep_copy(topics));
	return hx_event_stamp(d, ts_ms);
}

json_t *
hx_event_error(const char *code, const char *message, const char *topic,
    int64_t ts_ms)
{
	json_t	*d = json_object();

	json_object_set_new(d, "code", json_string(code));
	json_object_set_new(d, "message", str_or_null(message));
	if (topic != NULL)
		json_object_set_new(d, "topic", json_string(topic));
	return hx_event_stamp(d, ts_ms);
}

char *
hx_event_frame(const char *type, json_t *data, size_t *len, size_t *data_off,
    size_t *data_len)
{
	struct hx_buf	 b;
	json_t		*t;
	char		*body, *tq;
	size_t		 blen;

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
