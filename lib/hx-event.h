/*
 * hx-event.h - JSON encoding of every WebSocket event of DESIGN §3.
 *
 * Builders return the event's `data` object (a jansson json_t the caller
 * owns, with "timestamp" set from ts_ms as RFC 3339 UTC milliseconds);
 * hx_event_frame() wraps one into the wire text {"type":..,"data":..}.
 * Doubles that are NaN (unknown) become null: a value that could not be
 * read is never invented. Percentages are rounded to 2 decimals and rates
 * to whole bytes per second, so frames stay small and stable.
 *
 * This module knows nothing of topics, sessions or transport.
 */
#ifndef HX_EVENT_H
#define HX_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hx-node.h"

/* VmMetrics fields; NaN for doubles and -1 for counts that are unknown. */
struct hx_vm_metrics {
	const char *vm_id;
	const char *vm_uuid; /* NULL: unknown (left out) */
	const char *name;
	double	    cpu_usage; /* percent of the VM's vCPUs */
	double	    memory_usage; /* percent */
	int64_t	    vcpus;
	int64_t	    memory_bytes;
	int64_t	    memory_max_bytes;
	int64_t	    disk_read; /* cumulative bytes */
	int64_t	    disk_write;
	int64_t	    network_rx;
	int64_t	    network_tx;
	double	    disk_read_bps; /* over the last interval */
	double	    disk_write_bps;
	double	    network_rx_bps;
	double	    network_tx_bps;
};

/* Timestamp helper: sets data["timestamp"]. Returns data. */
json_t *hx_event_stamp(json_t *data, int64_t ts_ms);

json_t *hx_event_node_metrics(const struct hx_node_metrics *m);
json_t *hx_event_vm_metrics(const struct hx_vm_metrics *m, int64_t ts_ms);
/*
 * vm_uuid, in every VM event, is the domain's UUID so a client can follow
 * a VM across hosts; NULL when unknown (the field is then left out).
 * user may be NULL (the change did not come through our API).
 */
json_t *hx_event_vm_status_changed(const char *vm_id, const char *vm_uuid,
    const char *old_status, const char *new_status, const char *user,
    int64_t ts_ms);
json_t *hx_event_container_status_changed(const char *container_id,
    const char *old_status, const char *new_status, const char *user,
    int64_t ts_ms);
json_t *hx_event_vm_created(const char *vm_id, const char *vm_uuid,
    const char *name, const char *user, int64_t ts_ms);
json_t *hx_event_vm_deleted(const char *vm_id, const char *vm_uuid,
    const char *name, const char *user, int64_t ts_ms);
json_t *hx_event_backup_completed(const char *vm_id, const char *vm_uuid,
    const char *backup_id, int64_t size_bytes, double duration_seconds,
    int64_t ts_ms);
json_t *hx_event_migration_started(const char *vm_id, const char *vm_uuid,
    const char *source_node, const char *target_node, int64_t ts_ms);
/* iteration: the pass, from 1, or -1 when unknown. */
json_t *hx_event_migration_progress(const char *vm_id, const char *vm_uuid,
    double progress, int64_t transferred_bytes, int64_t total_bytes,
    int64_t iteration, int64_t ts_ms);
json_t *hx_event_migration_completed(const char *vm_id, const char *vm_uuid,
    const char *target_node, double duration_seconds, int64_t ts_ms);
/* reason: libvirt's error message, or "cancelled"; NULL: unknown. */
json_t *hx_event_migration_failed(const char *vm_id, const char *vm_uuid,
    const char *source_node, const char *target_node, const char *reason,
    int64_t ts_ms);
json_t *hx_event_alert_triggered(const char *alert_id, const char *rule_name,
    const char *severity, const char *target, const char *message, double value,
    double threshold, int64_t ts_ms);
json_t *hx_event_alert_resolved(const char *alert_id, const char *rule_name,
    const char *target, int64_t ts_ms);
/* level: "info", "warning" or "error". */
json_t *hx_event_notification(const char *level, const char *title,
    const char *message, int64_t ts_ms);
json_t *hx_event_ping(int64_t ts_ms);
/* topics is borrowed (a json array of strings); the result holds a copy. */
json_t *hx_event_subscribed(json_t *topics, int64_t ts_ms);
/* topic may be NULL. */
json_t *hx_event_error(const char *code, const char *message, const char *topic,
    int64_t ts_ms);

/*
 * Serialize {"type":type,"data":data} compactly. Steals data. Returns a
 * malloc'd NUL-terminated string (caller frees) and its length in *len;
 * *data_off and *data_len (either may be NULL) give the span of the data
 * object inside it, so the same bytes can answer a REST read.
 */
char *hx_event_frame(const char *type, json_t *data, size_t *len,
    size_t *data_off, size_t *data_len);

/* Dump flags used for every frame and REST body. */
#define HX_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

/* A number, or null when v is NaN or infinite. Rounded to `decimals`. */
json_t *hx_json_real(double v, int decimals);

#endif
