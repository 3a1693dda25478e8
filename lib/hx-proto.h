/*
 * hx-proto.h - the WebSocket contract of DESIGN §3, written once.
 *
 * Two tables: the topics (name, who may subscribe where, per-VM filtering,
 * coalesced metrics or discrete events) and the events (type, topic, and
 * each field's JSON name, C type, unit and rounding). The daemon builds
 * every event's data object from the event table (hx_proto_encode, behind
 * the hx_event_* builders) and the clients decode it back into the same
 * typed structs (hx_proto_decode, hx_node_metrics_decode, ...), so a field
 * is named in one place. horcruxd's subscription rules, the CLI's topic
 * list and completion, horcrux-top's subscription, GET /api/protocol and
 * the docs and authorization tests read these tables too.
 *
 * This module knows nothing of sessions or transport; it never prints.
 */
#ifndef HX_PROTO_H
#define HX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hx-event.h"
#include "hx-node.h"
#include "hx-priv.h"

/* ---- topics ------------------------------------------------------------ */

enum hx_topic_id {
	HX_TOPIC_NODE_METRICS,
	HX_TOPIC_VM_METRICS,
	HX_TOPIC_VM_STATUS,
	HX_TOPIC_VM_EVENTS,
	HX_TOPIC_BACKUPS,
	HX_TOPIC_MIGRATIONS,
	HX_TOPIC_ALERTS,
	HX_TOPIC_NOTIFICATIONS,
	HX_TOPIC_COUNT
};

struct hx_topic {
	const char *name;
	hx_privs    priv; /* 0: every authenticated user */
	const char *path; /* ACL path checked to subscribe */
	hx_privs    alt_priv; /* or this, anywhere at or below */
	const char *alt_path; /* alt_path (alerts on VMs) */
	int	    per_vm; /* events filtered by VmAudit per VM */
	int	    metric; /* coalesced, snapshot on subscribe */
	const char *summary; /* one line for help and docs */
};

extern const struct hx_topic hx_topics[HX_TOPIC_COUNT];

/* Index of a topic name (enum hx_topic_id), or -1. */
int hx_topic_find(const char *name);

/* ---- events ------------------------------------------------------------ */

enum hx_event_type {
	HX_EV_NODE_METRICS,
	HX_EV_VM_METRICS,
	HX_EV_VM_STATUS_CHANGED,
	HX_EV_CONTAINER_STATUS_CHANGED,
	HX_EV_VM_CREATED,
	HX_EV_VM_DELETED,
	HX_EV_BACKUP_COMPLETED,
	HX_EV_MIGRATION_STARTED,
	HX_EV_MIGRATION_PROGRESS,
	HX_EV_MIGRATION_COMPLETED,
	HX_EV_MIGRATION_FAILED,
	HX_EV_ALERT_TRIGGERED,
	HX_EV_ALERT_RESOLVED,
	HX_EV_NOTIFICATION,
	HX_EV_PING,
	HX_EV_SUBSCRIBED,
	HX_EV_ERROR,
	HX_EV_VM_METRICS_BATCH,
	HX_EV_COUNT
};

/* How a field sits in its C struct (and so how it is written as JSON). */
enum hx_ctype {
	HX_C_STR, /* const char *, borrowed; NULL is null */
	HX_C_OWNSTR, /* char *, owned by the struct (decoded: strdup) */
	HX_C_STRBUF, /* char[size] */
	HX_C_DOUBLE, /* double; NaN or infinity is null */
	HX_C_I64, /* int64_t count; negative is null */
	HX_C_U64, /* uint64_t; never null (decoded null: 0) */
	HX_C_INT, /* int; never null */
	HX_C_DOUBLES, /* double[size] (load averages) */
	HX_C_DARRAY, /* double *, count in the int at count_off */
	HX_C_ARRAY, /* struct array, see struct hx_array */
	HX_C_JSON /* json_t *, borrowed (encoded as a copy) */
};

#define HX_F_SERIES 0x1 /* a number kept as a history series */
#define HX_F_OMIT_NULL 0x2 /* left out rather than written as null */
#define HX_F_KEY 0x4 /* identifies the subject (vm_id, ...) */
#define HX_F_COUNTER 0x8 /* a SERIES that only grows (until a reset) */

struct hx_array;

struct hx_field {
	const char	      *name; /* the JSON key */
	enum hx_ctype	       ctype;
	size_t		       off; /* offsetof in the struct */
	size_t		       size; /* STRBUF bytes, DOUBLES count */
	size_t		       count_off; /* DARRAY: offsetof the int count */
	int		       decimals; /* DOUBLE rounding; 0: whole */
	const char	      *unit; /* "percent", "bytes", ... */
	unsigned	       flags; /* HX_F_* */
	const struct hx_array *array; /* ARRAY: the element */
	const char	      *doc;
};

/*
 * An array of structs: elem_size bytes each, the pointer at the field's
 * off, the size_t count at count_off. When ok_off is not 0, an element
 * whose int at ok_off is 0 has every field but the first written as
 * null (a mount statvfs could not read).
 */
struct hx_array {
	const struct hx_field *fields;
	size_t		       nfields;
	size_t		       elem_size;
	size_t		       count_off;
	size_t		       ok_off;
};

struct hx_event_info {
	const char	      *type; /* "NodeMetrics" */
	int		       topic; /* enum hx_topic_id; -1: control */
	const struct hx_field *fields;
	size_t		       nfields;
	const char	      *subject; /* the C struct the fields are in */
	const char	      *summary;
};

extern const struct hx_event_info hx_events[HX_EV_COUNT];

/* enum hx_event_type of a type name ("VmMetrics"), or -1. */
int hx_event_type_find(const char *type);

/* The structs the discrete events are encoded from and decoded into. */
struct hx_ev_status { /* VmStatusChanged, Container... */
	const char *id; /* vm_id or container_id */
	const char
	    *vm_uuid; /* NULL: unknown (left out); unused for containers */
	const char *old_status;
	const char *new_status;
	const char *user; /* who, through our API; NULL: not us */
};

struct hx_ev_lifecycle { /* VmCreated, VmDeleted */
	const char *vm_id;
	const char *vm_uuid; /* NULL: unknown (left out) */
	const char *name;
	const char *user; /* NULL: not through our API */
};

struct hx_ev_backup {
	const char *vm_id;
	const char *vm_uuid; /* NULL: unknown (left out) */
	const char *backup_id;
	int64_t	    size_bytes;
	double	    duration_seconds;
};

struct hx_ev_migration { /* the four migration events */
	const char *vm_id;
	const char *vm_uuid; /* NULL: unknown (left out) */
	const char *source_node;
	const char *target_node;
	double	    progress; /* percent */
	int64_t	    transferred_bytes;
	int64_t	    total_bytes;
	int64_t	    iteration; /* the pass, from 1; -1: unknown */
	double	    duration_seconds;
	const char *reason; /* MigrationFailed: libvirt's words */
};

struct hx_ev_alert { /* AlertTriggered, AlertResolved */
	const char *alert_id;
	const char *rule_name;
	const char *severity;
	const char *target;
	const char *message;
	double	    value;
	double	    threshold;
	int64_t	    seq; /* discrete-event count; -1: left out */
};

struct hx_ev_notification {
	const char *level; /* "info", "warning", "error" */
	const char *title;
	const char *message;
};

struct hx_ev_subscribed {
	json_t *topics; /* array of names */
};

/* VmMetricsBatch: every VmMetrics data of one VM tick a session may see. */
struct hx_ev_vm_batch {
	json_t *vms; /* array of VmMetrics data objects */
};

struct hx_ev_error {
	const char *code;
	const char *message;
	const char *topic; /* NULL: left out */
};

/*
 * The data object of event `type` from its struct `ev` (the type the
 * event's `subject` names), fields in table order, then "timestamp"
 * from ts_ms. Never returns NULL; the caller owns the result.
 */
json_t *hx_proto_encode(enum hx_event_type type, const void *ev, int64_t ts_ms);

/*
 * Fill `ev` (zeroed first) from a data object of event `type`. Strings
 * are borrowed from data (valid while it lives) except HX_C_OWNSTR,
 * STRBUF and arrays, which are copied: release them with
 * hx_proto_release. A missing or null number is NaN (DOUBLE) or -1
 * (I64); a field of the wrong JSON type counts as missing. *ts_ms (may
 * be NULL) gets the timestamp, or -1. Returns 0, or -1 when data is not
 * an object.
 */
int hx_proto_decode(enum hx_event_type type, json_t *data, void *ev,
    int64_t *ts_ms);

/* Free what hx_proto_decode allocated in ev. */
void hx_proto_release(enum hx_event_type type, void *ev);

/* NodeMetrics into the sampler's struct; release: hx_node_metrics_release. */
int hx_node_metrics_decode(json_t *data, struct hx_node_metrics *out);
/* VmMetrics; strings borrowed from data. */
int hx_vm_metrics_decode(json_t *data, struct hx_vm_metrics *out);

/*
 * The whole contract as JSON (GET /api/protocol, --dump-protocol):
 * {"topics":[{name, privilege, path, alt_privilege, alt_path, per_vm,
 * metric, summary}], "events":[{type, topic, summary, fields:[{name,
 * type, unit, series, fields?}]}]}. The caller owns the result.
 */
json_t *hx_proto_describe(void);

/*
 * The value of scalar field f of the struct at base as a double: NaN when
 * it is null (a negative int64_t, NaN) or not a number (a string, a
 * list). The history's and the alert engine's walks over a sample.
 */
double hx_field_number(const struct hx_field *f, const void *base);

/* Called by hx_proto_walk_series for every series of a sample. */
typedef void (*hx_series_fn)(const char *name, const struct hx_field *f,
    double v, void *arg);
/*
 * Every series of a NodeMetrics (is_node) or VmMetrics struct at base,
 * named as DESIGN §8 names them under prefix ("node", "vm:UUID"): each
 * HX_F_SERIES field as prefix:NAME, arrays of numbers as prefix:NAME:N
 * (from 0), load averages as :1, :5, :15, each readable mount's fields as
 * prefix:disk:MOUNT:NAME. f is the field (its unit and flags); v is NaN
 * when the value is null. The history's and the alert engine's walks.
 */
void hx_proto_walk_series(int is_node, const char *prefix, const void *base,
    hx_series_fn fn, void *arg);

/* Milliseconds since the epoch of an RFC 3339 UTC time, or -1. */
int64_t hx_parse_rfc3339_ms(const char *s);

#endif
