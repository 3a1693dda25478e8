/*
 * hx-proto.c - the topic and event tables, and the one encoder and
 * decoder that walk them (see hx-proto.h).
 *
 * Field order follows DESIGN §3 (seed fields first) because jansson keeps
 * insertion order and people read these frames. Adding a field to an
 * event is one row here and one member in its struct: the daemon writes
 * it, every client decodes it, GET /api/protocol lists it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-proto.h"
#include "hx-util.h"

/* ---- topics ------------------------------------------------------------ */

const struct hx_topic hx_topics[HX_TOPIC_COUNT] = {
	[HX_TOPIC_NODE_METRICS] = {
		.name = "node:metrics", .priv = HX_PRIV_SYS_AUDIT,
		.path = "/nodes", .metric = 1,
		.summary = "host CPU, memory, swap, disks, load, I/O rates",
	},
	[HX_TOPIC_VM_METRICS] = {
		.name = "vm:metrics", .priv = HX_PRIV_VM_AUDIT,
		.path = "/vms", .per_vm = 1, .metric = 1,
		.summary = "per-VM CPU, memory, disk and network figures",
	},
	[HX_TOPIC_VM_STATUS] = {
		.name = "vm:status", .priv = HX_PRIV_VM_AUDIT,
		.path = "/vms", .per_vm = 1,
		.summary = "VM and container state changes",
	},
	[HX_TOPIC_VM_EVENTS] = {
		.name = "vm:events", .priv = HX_PRIV_VM_AUDIT,
		.path = "/vms", .per_vm = 1,
		.summary = "VMs defined and undefined",
	},
	[HX_TOPIC_BACKUPS] = {
		.name = "backups", .priv = HX_PRIV_VM_AUDIT,
		.path = "/vms", .per_vm = 1,
		.summary = "finished backup jobs",
	},
	[HX_TOPIC_MIGRATIONS] = {
		.name = "migrations", .priv = HX_PRIV_VM_AUDIT,
		.path = "/vms", .per_vm = 1,
		.summary = "live migrations: start, progress, end",
	},
	/* Node alerts need SysAudit; alerts about VMs need VmAudit. */
	[HX_TOPIC_ALERTS] = {
		.name = "alerts", .priv = HX_PRIV_SYS_AUDIT, .path = "/nodes",
		.alt_priv = HX_PRIV_VM_AUDIT, .alt_path = "/vms",
		.summary = "alerts triggered and resolved",
	},
	[HX_TOPIC_NOTIFICATIONS] = {
		.name = "notifications", .priv = 0, .path = "/",
		.summary = "messages from the daemon to its users",
	},
};

int
hx_topic_find(const char *name)
{
	int i;

	for (i = 0; i < HX_TOPIC_COUNT; i++) {
		if (strcmp(hx_topics[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* ---- field tables ------------------------------------------------------ */

#define F(st, m) .off = offsetof(struct st, m)

static const struct hx_field disk_fields[] = {
	{ "mount", HX_C_OWNSTR, F(hx_node_disk, mount), .flags = HX_F_KEY,
	    .doc = "mount point" },
	{ "usage", HX_C_DOUBLE, F(hx_node_disk, usage), .decimals = 2,
	    .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "used / (used + available), as df" },
	{ "total_bytes", HX_C_U64, F(hx_node_disk, total_bytes),
	    .unit = "bytes", .flags = HX_F_SERIES, .doc = "size" },
	{ "used_bytes", HX_C_U64, F(hx_node_disk, used_bytes), .unit = "bytes",
	    .flags = HX_F_SERIES, .doc = "used" },
	{ "available_bytes", HX_C_U64, F(hx_node_disk, avail_bytes),
	    .unit = "bytes", .flags = HX_F_SERIES,
	    .doc = "available to unprivileged users" },
};

static const struct hx_array disk_array = { disk_fields,
	sizeof disk_fields / sizeof disk_fields[0], sizeof(struct hx_node_disk),
	offsetof(struct hx_node_metrics, ndisks),
	offsetof(struct hx_node_disk, ok) };

static const struct hx_field node_fields[] = {
	{ "hostname", HX_C_STRBUF, F(hx_node_metrics, hostname),
	    .size = sizeof((struct hx_node_metrics *)0)->hostname,
	    .flags = HX_F_KEY, .doc = "the host's name" },
	{ "cpu_usage", HX_C_DOUBLE, F(hx_node_metrics, cpu_usage),
	    .decimals = 2, .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "busy time of all CPUs" },
	{ "libvirt_driver", HX_C_STRBUF, F(hx_node_metrics, libvirt_driver),
	    .size = sizeof((struct hx_node_metrics *)0)->libvirt_driver,
	    .doc = "the scheme of the first libvirt URI (test: the demo's "
		   "VMs, not this host's)" },
	{ "cpu_user", HX_C_DOUBLE, F(hx_node_metrics, cpu_user), .decimals = 2,
	    .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "user and nice time of all CPUs" },
	{ "cpu_system", HX_C_DOUBLE, F(hx_node_metrics, cpu_system),
	    .decimals = 2, .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "system, irq and softirq time of all CPUs" },
	{ "cpu_iowait", HX_C_DOUBLE, F(hx_node_metrics, cpu_iowait),
	    .decimals = 2, .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "idle time waiting for I/O (not in cpu_usage)" },
	{ "cpu_steal", HX_C_DOUBLE, F(hx_node_metrics, cpu_steal),
	    .decimals = 2, .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "time the hypervisor gave to others" },
	{ "memory_usage", HX_C_DOUBLE, F(hx_node_metrics, memory_usage),
	    .decimals = 2, .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "(total - available) / total" },
	{ "disk_usage", HX_C_DOUBLE, F(hx_node_metrics, disk_usage),
	    .decimals = 2, .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "the fullest readable mount" },
	{ "load_average", HX_C_DOUBLES, F(hx_node_metrics, load_average),
	    .size = 3, .decimals = 2, .flags = HX_F_SERIES,
	    .doc = "1, 5 and 15 minute load averages" },
	{ "cpu_cores", HX_C_INT, F(hx_node_metrics, cpu_cores),
	    .doc = "CPUs listed in /proc/stat" },
	{ "cpu_per_core", HX_C_DARRAY, F(hx_node_metrics, cpu_per_core),
	    .count_off = offsetof(struct hx_node_metrics, cpu_cores),
	    .decimals = 2, .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "busy time of each CPU" },
	{ "memory_total_bytes", HX_C_U64,
	    F(hx_node_metrics, memory_total_bytes), .unit = "bytes",
	    .flags = HX_F_SERIES, .doc = "MemTotal" },
	{ "memory_used_bytes", HX_C_U64, F(hx_node_metrics, memory_used_bytes),
	    .unit = "bytes", .flags = HX_F_SERIES,
	    .doc = "MemTotal - MemAvailable" },
	{ "memory_available_bytes", HX_C_U64,
	    F(hx_node_metrics, memory_available_bytes), .unit = "bytes",
	    .flags = HX_F_SERIES, .doc = "MemAvailable" },
	{ "swap_usage", HX_C_DOUBLE, F(hx_node_metrics, swap_usage),
	    .decimals = 2, .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "0 when there is no swap" },
	{ "swap_total_bytes", HX_C_U64, F(hx_node_metrics, swap_total_bytes),
	    .unit = "bytes", .flags = HX_F_SERIES, .doc = "SwapTotal" },
	{ "swap_used_bytes", HX_C_U64, F(hx_node_metrics, swap_used_bytes),
	    .unit = "bytes", .flags = HX_F_SERIES,
	    .doc = "SwapTotal - SwapFree" },
	{ "disks", HX_C_ARRAY, F(hx_node_metrics, disks), .array = &disk_array,
	    .doc = "one per configured mount" },
	{ "disk_read_bps", HX_C_DOUBLE, F(hx_node_metrics, disk_read_bps),
	    .unit = "bytes/s", .flags = HX_F_SERIES,
	    .doc = "whole disks, not partitions" },
	{ "disk_write_bps", HX_C_DOUBLE, F(hx_node_metrics, disk_write_bps),
	    .unit = "bytes/s", .flags = HX_F_SERIES,
	    .doc = "whole disks, not partitions" },
	{ "network_rx_bps", HX_C_DOUBLE, F(hx_node_metrics, network_rx_bps),
	    .unit = "bytes/s", .flags = HX_F_SERIES,
	    .doc = "every interface but lo" },
	{ "network_tx_bps", HX_C_DOUBLE, F(hx_node_metrics, network_tx_bps),
	    .unit = "bytes/s", .flags = HX_F_SERIES,
	    .doc = "every interface but lo" },
	{ "uptime_seconds", HX_C_DOUBLE, F(hx_node_metrics, uptime_seconds),
	    .decimals = 2, .unit = "seconds", .flags = HX_F_SERIES,
	    .doc = "since boot" },
};

static const struct hx_field vm_fields[] = {
	{ "vm_id", HX_C_STR, F(hx_vm_metrics, vm_id), .flags = HX_F_KEY,
	    .doc = "the domain's name, as in /vms/{vm}" },
	{ "vm_uuid", HX_C_STR, F(hx_vm_metrics, vm_uuid),
	    .flags = HX_F_OMIT_NULL,
	    .doc = "the domain's UUID; left out when unknown" },
	{ "cpu_usage", HX_C_DOUBLE, F(hx_vm_metrics, cpu_usage), .decimals = 2,
	    .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "of the VM's vCPUs; null unless running" },
	{ "memory_usage", HX_C_DOUBLE, F(hx_vm_metrics, memory_usage),
	    .decimals = 2, .unit = "percent", .flags = HX_F_SERIES,
	    .doc = "guest memory in use" },
	{ "disk_read", HX_C_I64, F(hx_vm_metrics, disk_read), .unit = "bytes",
	    .flags = HX_F_SERIES | HX_F_COUNTER, .doc = "cumulative" },
	{ "disk_write", HX_C_I64, F(hx_vm_metrics, disk_write), .unit = "bytes",
	    .flags = HX_F_SERIES | HX_F_COUNTER, .doc = "cumulative" },
	{ "network_rx", HX_C_I64, F(hx_vm_metrics, network_rx), .unit = "bytes",
	    .flags = HX_F_SERIES | HX_F_COUNTER, .doc = "cumulative" },
	{ "network_tx", HX_C_I64, F(hx_vm_metrics, network_tx), .unit = "bytes",
	    .flags = HX_F_SERIES | HX_F_COUNTER, .doc = "cumulative" },
	{ "name", HX_C_STR, F(hx_vm_metrics, name), .doc = "domain name" },
	{ "vcpus", HX_C_I64, F(hx_vm_metrics, vcpus), .flags = HX_F_SERIES,
	    .doc = "vCPUs" },
	{ "memory_bytes", HX_C_I64, F(hx_vm_metrics, memory_bytes),
	    .unit = "bytes", .flags = HX_F_SERIES,
	    .doc = "current balloon size" },
	{ "memory_max_bytes", HX_C_I64, F(hx_vm_metrics, memory_max_bytes),
	    .unit = "bytes", .flags = HX_F_SERIES, .doc = "maximum" },
	{ "disk_read_bps", HX_C_DOUBLE, F(hx_vm_metrics, disk_read_bps),
	    .unit = "bytes/s", .flags = HX_F_SERIES,
	    .doc = "over the last interval" },
	{ "disk_write_bps", HX_C_DOUBLE, F(hx_vm_metrics, disk_write_bps),
	    .unit = "bytes/s", .flags = HX_F_SERIES,
	    .doc = "over the last interval" },
	{ "network_rx_bps", HX_C_DOUBLE, F(hx_vm_metrics, network_rx_bps),
	    .unit = "bytes/s", .flags = HX_F_SERIES,
	    .doc = "over the last interval" },
	{ "network_tx_bps", HX_C_DOUBLE, F(hx_vm_metrics, network_tx_bps),
	    .unit = "bytes/s", .flags = HX_F_SERIES,
	    .doc = "over the last interval" },
};

/* "user" is an addition to the seed's fields: who, when it was us. */
static const struct hx_field vm_status_fields[] = {
	{ "vm_id", HX_C_STR, F(hx_ev_status, id), .flags = HX_F_KEY },
	{ "vm_uuid", HX_C_STR, F(hx_ev_status, vm_uuid),
	    .flags = HX_F_OMIT_NULL,
	    .doc = "the domain's UUID; left out when unknown" },
	{ "old_status", HX_C_STR, F(hx_ev_status, old_status) },
	{ "new_status", HX_C_STR, F(hx_ev_status, new_status) },
	{ "user", HX_C_STR, F(hx_ev_status, user),
	    .doc = "who did it through our API, or null" },
};

static const struct hx_field container_status_fields[] = {
	{ "container_id", HX_C_STR, F(hx_ev_status, id), .flags = HX_F_KEY },
	{ "old_status", HX_C_STR, F(hx_ev_status, old_status) },
	{ "new_status", HX_C_STR, F(hx_ev_status, new_status) },
	{ "user", HX_C_STR, F(hx_ev_status, user),
	    .doc = "who did it through our API, or null" },
};

static const struct hx_field lifecycle_fields[] = {
	{ "vm_id", HX_C_STR, F(hx_ev_lifecycle, vm_id), .flags = HX_F_KEY },
	{ "vm_uuid", HX_C_STR, F(hx_ev_lifecycle, vm_uuid),
	    .flags = HX_F_OMIT_NULL,
	    .doc = "the domain's UUID; left out when unknown" },
	{ "name", HX_C_STR, F(hx_ev_lifecycle, name) },
	{ "user", HX_C_STR, F(hx_ev_lifecycle, user),
	    .doc = "who did it through our API, or null" },
};

static const struct hx_field backup_fields[] = {
	{ "vm_id", HX_C_STR, F(hx_ev_backup, vm_id), .flags = HX_F_KEY },
	{ "vm_uuid", HX_C_STR, F(hx_ev_backup, vm_uuid),
	    .flags = HX_F_OMIT_NULL,
	    .doc = "the domain's UUID; left out when unknown" },
	{ "backup_id", HX_C_STR, F(hx_ev_backup, backup_id) },
	{ "size_bytes", HX_C_I64, F(hx_ev_backup, size_bytes),
	    .unit = "bytes" },
	{ "duration_seconds", HX_C_DOUBLE, F(hx_ev_backup, duration_seconds),
	    .decimals = 3, .unit = "seconds" },
};

static const struct hx_field migration_started_fields[] = {
	{ "vm_id", HX_C_STR, F(hx_ev_migration, vm_id), .flags = HX_F_KEY },
	{ "vm_uuid", HX_C_STR, F(hx_ev_migration, vm_uuid),
	    .flags = HX_F_OMIT_NULL,
	    .doc = "the domain's UUID; left out when unknown" },
	{ "source_node", HX_C_STR, F(hx_ev_migration, source_node) },
	{ "target_node", HX_C_STR, F(hx_ev_migration, target_node) },
};

static const struct hx_field migration_progress_fields[] = {
	{ "vm_id", HX_C_STR, F(hx_ev_migration, vm_id), .flags = HX_F_KEY },
	{ "vm_uuid", HX_C_STR, F(hx_ev_migration, vm_uuid),
	    .flags = HX_F_OMIT_NULL,
	    .doc = "the domain's UUID; left out when unknown" },
	{ "progress", HX_C_DOUBLE, F(hx_ev_migration, progress), .decimals = 2,
	    .unit = "percent" },
	{ "transferred_bytes", HX_C_I64, F(hx_ev_migration, transferred_bytes),
	    .unit = "bytes" },
	{ "total_bytes", HX_C_I64, F(hx_ev_migration, total_bytes),
	    .unit = "bytes" },
	{ "iteration", HX_C_I64, F(hx_ev_migration, iteration),
	    .doc = "the pass over the guest's memory, from 1" },
};

static const struct hx_field migration_completed_fields[] = {
	{ "vm_id", HX_C_STR, F(hx_ev_migration, vm_id), .flags = HX_F_KEY },
	{ "vm_uuid", HX_C_STR, F(hx_ev_migration, vm_uuid),
	    .flags = HX_F_OMIT_NULL,
	    .doc = "the domain's UUID; left out when unknown" },
	{ "target_node", HX_C_STR, F(hx_ev_migration, target_node) },
	{ "duration_seconds", HX_C_DOUBLE, F(hx_ev_migration, duration_seconds),
	    .decimals = 3, .unit = "seconds" },
};

static const struct hx_field migration_failed_fields[] = {
	{ "vm_id", HX_C_STR, F(hx_ev_migration, vm_id), .flags = HX_F_KEY },
	{ "vm_uuid", HX_C_STR, F(hx_ev_migration, vm_uuid),
	    .flags = HX_F_OMIT_NULL,
	    .doc = "the domain's UUID; left out when unknown" },
	{ "source_node", HX_C_STR, F(hx_ev_migration, source_node) },
	{ "target_node", HX_C_STR, F(hx_ev_migration, target_node) },
	{ "reason", HX_C_STR, F(hx_ev_migration, reason),
	    .doc = "libvirt's error message, or \"cancelled\"; null when "
		   "libvirt kept neither" },
};

static const struct hx_field alert_triggered_fields[] = {
	{ "alert_id", HX_C_STR, F(hx_ev_alert, alert_id), .flags = HX_F_KEY },
	{ "rule_name", HX_C_STR, F(hx_ev_alert, rule_name) },
	{ "severity", HX_C_STR, F(hx_ev_alert, severity) },
	{ "target", HX_C_STR, F(hx_ev_alert, target) },
	{ "message", HX_C_STR, F(hx_ev_alert, message) },
	{ "value", HX_C_DOUBLE, F(hx_ev_alert, value), .decimals = 2 },
	{ "threshold", HX_C_DOUBLE, F(hx_ev_alert, threshold), .decimals = 2 },
	{ "seq", HX_C_I64, F(hx_ev_alert, seq), .flags = HX_F_OMIT_NULL,
	    .doc = "the daemon's count of discrete events" },
};

static const struct hx_field alert_resolved_fields[] = {
	{ "alert_id", HX_C_STR, F(hx_ev_alert, alert_id), .flags = HX_F_KEY },
	{ "rule_name", HX_C_STR, F(hx_ev_alert, rule_name) },
	{ "target", HX_C_STR, F(hx_ev_alert, target) },
	{ "seq", HX_C_I64, F(hx_ev_alert, seq), .flags = HX_F_OMIT_NULL,
	    .doc = "the daemon's count of discrete events" },
};

static const struct hx_field notification_fields[] = {
	{ "level", HX_C_STR, F(hx_ev_notification, level),
	    .doc = "info, warning or error" },
	{ "title", HX_C_STR, F(hx_ev_notification, title) },
	{ "message", HX_C_STR, F(hx_ev_notification, message) },
};

static const struct hx_field subscribed_fields[] = {
	{ "topics", HX_C_JSON, F(hx_ev_subscribed, topics),
	    .doc = "the topics now subscribed" },
};

static const struct hx_field error_fields[] = {
	{ "code", HX_C_STR, F(hx_ev_error, code) },
	{ "message", HX_C_STR, F(hx_ev_error, message) },
	{ "topic", HX_C_STR, F(hx_ev_error, topic), .flags = HX_F_OMIT_NULL },
};

static const struct hx_field vm_batch_fields[] = {
	{ "vms", HX_C_JSON, F(hx_ev_vm_batch, vms),
	    .doc = "the VmMetrics data of every VM the subscriber may see" },
};

#undef F

#define FIELDS(a) (a), sizeof(a) / sizeof(a)[0]

const struct hx_event_info hx_events[HX_EV_COUNT] = {
	[HX_EV_NODE_METRICS] = { "NodeMetrics", HX_TOPIC_NODE_METRICS,
	    FIELDS(node_fields), "hx_node_metrics",
	    "one host sample every node_interval" },
	[HX_EV_VM_METRICS] = { "VmMetrics", HX_TOPIC_VM_METRICS,
	    FIELDS(vm_fields), "hx_vm_metrics",
	    "one VM sample every vm_interval" },
	[HX_EV_VM_STATUS_CHANGED] = { "VmStatusChanged", HX_TOPIC_VM_STATUS,
	    FIELDS(vm_status_fields), "hx_ev_status", "a VM changed state" },
	[HX_EV_CONTAINER_STATUS_CHANGED] = { "ContainerStatusChanged",
	    HX_TOPIC_VM_STATUS, FIELDS(container_status_fields), "hx_ev_status",
	    "a container changed state" },
	[HX_EV_VM_CREATED] = { "VmCreated", HX_TOPIC_VM_EVENTS,
	    FIELDS(lifecycle_fields), "hx_ev_lifecycle", "a VM was defined" },
	[HX_EV_VM_DELETED] = { "VmDeleted", HX_TOPIC_VM_EVENTS,
	    FIELDS(lifecycle_fields), "hx_ev_lifecycle", "a VM was undefined" },
	[HX_EV_BACKUP_COMPLETED] = { "BackupCompleted", HX_TOPIC_BACKUPS,
	    FIELDS(backup_fields), "hx_ev_backup", "a backup job finished" },
	[HX_EV_MIGRATION_STARTED] = { "MigrationStarted", HX_TOPIC_MIGRATIONS,
	    FIELDS(migration_started_fields), "hx_ev_migration",
	    "a live migration began" },
	[HX_EV_MIGRATION_PROGRESS] = { "MigrationProgress", HX_TOPIC_MIGRATIONS,
	    FIELDS(migration_progress_fields), "hx_ev_migration",
	    "how far a live migration is" },
	[HX_EV_MIGRATION_COMPLETED] = { "MigrationCompleted",
	    HX_TOPIC_MIGRATIONS, FIELDS(migration_completed_fields),
	    "hx_ev_migration", "a live migration finished" },
	[HX_EV_MIGRATION_FAILED] = { "MigrationFailed", HX_TOPIC_MIGRATIONS,
	    FIELDS(migration_failed_fields), "hx_ev_migration",
	    "a live migration failed or was cancelled; the VM stays" },
	[HX_EV_ALERT_TRIGGERED] = { "AlertTriggered", HX_TOPIC_ALERTS,
	    FIELDS(alert_triggered_fields), "hx_ev_alert",
	    "a rule's condition held" },
	[HX_EV_ALERT_RESOLVED] = { "AlertResolved", HX_TOPIC_ALERTS,
	    FIELDS(alert_resolved_fields), "hx_ev_alert",
	    "a rule's condition cleared" },
	[HX_EV_NOTIFICATION] = { "Notification", HX_TOPIC_NOTIFICATIONS,
	    FIELDS(notification_fields), "hx_ev_notification",
	    "a message from the daemon" },
	[HX_EV_PING] = { "Ping", -1, NULL, 0, NULL,
	    "heartbeat from the daemon" },
	[HX_EV_SUBSCRIBED] = { "Subscribed", -1, FIELDS(subscribed_fields),
	    "hx_ev_subscribed", "the answer to a subscribe message" },
	[HX_EV_ERROR] = { "Error", -1, FIELDS(error_fields), "hx_ev_error",
	    "a refused message or topic" },
	[HX_EV_VM_METRICS_BATCH] = { "VmMetricsBatch", HX_TOPIC_VM_METRICS,
	    FIELDS(vm_batch_fields), "hx_ev_vm_batch",
	    "every visible VM's sample of one VM tick, to a \"batch\" "
	    "subscriber" },
};

#undef FIELDS

int
hx_event_type_find(const char *type)
{
	int i;

	for (i = 0; i < HX_EV_COUNT; i++) {
		if (strcmp(hx_events[i].type, type) == 0)
			return i;
	}
	return -1;
}

/* ---- encoding ---------------------------------------------------------- */

/*
 * The walkers below reach struct members through offsets and casts
 * (AT, CAT) that clang-format cannot read as expressions, so it is kept
 * off them.
 */
/* clang-format off */
#define AT(p, off, t)	((t *)(void *)((char *)(p) + (off)))
#define CAT(p, off, t)	((const t *)(const void *)((const char *)(p) + (off)))

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static void encode_fields(json_t *d, const struct hx_field *f, size_t n,
    const void *st, int nulls);

static json_t *
encode_one(const struct hx_field *f, const void *st, int null)
{
	const struct hx_array	*a;
	json_t			*arr, *o;
	size_t			 i, n;
	const char		*base;

	if (null)
		return json_null();
	switch (f->ctype) {
	case HX_C_STR:
	case HX_C_OWNSTR:
		return str_or_null(*CAT(st, f->off, char *));
	case HX_C_STRBUF:
		return json_string(CAT(st, f->off, char));
	case HX_C_DOUBLE:
		return hx_json_real(*CAT(st, f->off, double), f->decimals);
	case HX_C_I64: {
		int64_t v = *CAT(st, f->off, int64_t);

		return v >= 0 ? json_integer((json_int_t)v) : json_null();
	}
	case HX_C_U64:
		return json_integer((json_int_t)*CAT(st, f->off, uint64_t));
	case HX_C_INT:
		return json_integer(*CAT(st, f->off, int));
	case HX_C_DOUBLES:
		arr = json_array();
		for (i = 0; i < f->size; i++)
			json_array_append_new(arr, hx_json_real(
			    CAT(st, f->off, double)[i], f->decimals));
		return arr;
	case HX_C_DARRAY:
		arr = json_array();
		n = (size_t)*CAT(st, f->count_off, int);
		for (i = 0; i < n; i++)
			json_array_append_new(arr, hx_json_real(
			    (*CAT(st, f->off, double *))[i], f->decimals));
		return arr;
	case HX_C_ARRAY:
		a = f->array;
		arr = json_array();
		n = *CAT(st, a->count_off, size_t);
		base = *CAT(st, f->off, char *);
		for (i = 0; i < n; i++) {
			const char *el = base + i * a->elem_size;
			int bad = a->ok_off != 0 && !*CAT(el, a->ok_off, int);

			o = json_object();
			encode_fields(o, a->fields, a->nfields, el, bad);
			json_array_append_new(arr, o);
		}
		return arr;
	case HX_C_JSON:
		return json_deep_copy(*CAT(st, f->off, json_t *));
	}
	return json_null();
}

/* With nulls, every field after the first (the element's key) is null. */
static void
encode_fields(json_t *d, const struct hx_field *f, size_t n, const void *st,
    int nulls)
{
	size_t	 i;
	json_t	*v;

	for (i = 0; i < n; i++) {
		v = encode_one(&f[i], st, nulls && i > 0);
		if (json_is_null(v) && (f[i].flags & HX_F_OMIT_NULL)) {
			json_decref(v);
			continue;
		}
		json_object_set_new(d, f[i].name, v);
	}
}

json_t *
hx_proto_encode(enum hx_event_type type, const void *ev, int64_t ts_ms)
{
	const struct hx_event_info	*e = &hx_events[type];
	json_t				*d = json_object();

	encode_fields(d, e->fields, e->nfields, ev, 0);
	return hx_event_stamp(d, ts_ms);
}

/* ---- decoding ---------------------------------------------------------- */

static double
num_or_nan(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void decode_fields(json_t *d, const struct hx_field *f, size_t n,
    void *st);

/* Whether any of these fields is present and not null (encode's "ok"). */
static int
any_value(json_t *o, const struct hx_field *f, size_t n)
{
	size_t	i;
	json_t	*v;

	for (i = 0; i < n; i++) {
		v = json_object_get(o, f[i].name);
		if (v != NULL && !json_is_null(v))
			return 1;
	}
	return 0;
}

static void
decode_one(const struct hx_field *f, json_t *v, void *st)
{
	const struct hx_array	*a;
	json_t			*el;
	size_t			 i, n;
	char			*base;

	switch (f->ctype) {
	case HX_C_STR:
		*AT(st, f->off, const char *) = json_string_value(v);
		break;
	case HX_C_OWNSTR:
		*AT(st, f->off, char *) = json_is_string(v) ?
		    xstrdup(json_string_value(v)) : NULL;
		break;
	case HX_C_STRBUF:
		hx_strlcpy(AT(st, f->off, char), json_is_string(v) ?
		    json_string_value(v) : "", f->size);
		break;
	case HX_C_DOUBLE:
		*AT(st, f->off, double) = num_or_nan(v);
		break;
	case HX_C_I64:
		*AT(st, f->off, int64_t) = json_is_integer(v) &&
		    json_integer_value(v) >= 0 ?
		    (int64_t)json_integer_value(v) : -1;
		break;
	case HX_C_U64:
		*AT(st, f->off, uint64_t) = json_is_integer(v) &&
		    json_integer_value(v) >= 0 ?
		    (uint64_t)json_integer_value(v) : 0;
		break;
	case HX_C_INT:
		*AT(st, f->off, int) = json_is_integer(v) ?
		    (int)json_integer_value(v) : 0;
		break;
	case HX_C_DOUBLES:
		for (i = 0; i < f->size; i++)
			AT(st, f->off, double)[i] =
			    num_or_nan(json_array_get(v, i));
		break;
	case HX_C_DARRAY:
		/* The count is the array's own length, not a second field. */
		n = json_array_size(v);
		*AT(st, f->count_off, int) = (int)n;
		*AT(st, f->off, double *) = n ? xcalloc(n, sizeof(double)) :
		    NULL;
		for (i = 0; i < n; i++)
			(*AT(st, f->off, double *))[i] =
			    num_or_nan(json_array_get(v, i));
		break;
	case HX_C_ARRAY:
		a = f->array;
		n = json_array_size(v);
		*AT(st, a->count_off, size_t) = n;
		base = n ? xcalloc(n, a->elem_size) : NULL;
		*AT(st, f->off, char *) = base;
		json_array_foreach(v, i, el) {
			char *p = base + i * a->elem_size;

			decode_fields(el, a->fields, a->nfields, p);
			if (a->ok_off != 0)
				*AT(p, a->ok_off, int) = any_value(el,
				    a->fields + 1, a->nfields - 1);
		}
		break;
	case HX_C_JSON:
		*AT(st, f->off, json_t *) = v;
		break;
	}
}

static void
decode_fields(json_t *d, const struct hx_field *f, size_t n, void *st)
{
	size_t	i;

	for (i = 0; i < n; i++)
		decode_one(&f[i], json_object_get(d, f[i].name), st);
}

/* The size of the struct an event decodes into. */
static size_t
subject_size(enum hx_event_type type)
{
	switch (type) {
	case HX_EV_NODE_METRICS:
		return sizeof(struct hx_node_metrics);
	case HX_EV_VM_METRICS:
		return sizeof(struct hx_vm_metrics);
	case HX_EV_VM_STATUS_CHANGED:
	case HX_EV_CONTAINER_STATUS_CHANGED:
		return sizeof(struct hx_ev_status);
	case HX_EV_VM_CREATED:
	case HX_EV_VM_DELETED:
		return sizeof(struct hx_ev_lifecycle);
	case HX_EV_BACKUP_COMPLETED:
		return sizeof(struct hx_ev_backup);
	case HX_EV_MIGRATION_STARTED:
	case HX_EV_MIGRATION_PROGRESS:
	case HX_EV_MIGRATION_COMPLETED:
	case HX_EV_MIGRATION_FAILED:
		return sizeof(struct hx_ev_migration);
	case HX_EV_ALERT_TRIGGERED:
	case HX_EV_ALERT_RESOLVED:
		return sizeof(struct hx_ev_alert);
	case HX_EV_NOTIFICATION:
		return sizeof(struct hx_ev_notification);
	case HX_EV_SUBSCRIBED:
		return sizeof(struct hx_ev_subscribed);
	case HX_EV_ERROR:
		return sizeof(struct hx_ev_error);
	case HX_EV_VM_METRICS_BATCH:
		return sizeof(struct hx_ev_vm_batch);
	case HX_EV_PING:
	case HX_EV_COUNT:
		break;
	}
	return 0;
}

/*
 * Numbers a struct does not name in this event's table are unknown, not
 * zero: a MigrationProgress decodes with NaN duration, a VmMetrics with
 * every absent count -1.
 */
static void
decode_defaults(enum hx_event_type type, void *ev)
{
	struct hx_ev_migration	*mg;
	struct hx_ev_alert	*al;
	struct hx_ev_backup	*bk;

	switch (type) {
	case HX_EV_MIGRATION_STARTED:
	case HX_EV_MIGRATION_PROGRESS:
	case HX_EV_MIGRATION_COMPLETED:
	case HX_EV_MIGRATION_FAILED:
		mg = ev;
		mg->progress = mg->duration_seconds = NAN;
		mg->transferred_bytes = mg->total_bytes = -1;
		mg->iteration = -1;
		break;
	case HX_EV_ALERT_TRIGGERED:
	case HX_EV_ALERT_RESOLVED:
		al = ev;
		al->value = al->threshold = NAN;
		break;
	case HX_EV_BACKUP_COMPLETED:
		bk = ev;
		bk->size_bytes = -1;
		bk->duration_seconds = NAN;
		break;
	default:
		break;
	}
}

int
hx_proto_decode(enum hx_event_type type, json_t *data, void *ev,
    int64_t *ts_ms)
{
	const struct hx_event_info	*e = &hx_events[type];

	if (ts_ms != NULL)
		*ts_ms = -1;
	memset(ev, 0, subject_size(type));
	if (!json_is_object(data))
		return -1;
	decode_defaults(type, ev);
	decode_fields(data, e->fields, e->nfields, ev);
	if (ts_ms != NULL)
		*ts_ms = hx_parse_rfc3339_ms(json_string_value(
		    json_object_get(data, "timestamp")));
	return 0;
}

static void
release_fields(const struct hx_field *f, size_t n, void *st)
{
	const struct hx_array	*a;
	size_t			 i, j, cnt;
	char			*base;

	for (i = 0; i < n; i++) {
		switch (f[i].ctype) {
		case HX_C_OWNSTR:
			free(*AT(st, f[i].off, char *));
			*AT(st, f[i].off, char *) = NULL;
			break;
		case HX_C_DARRAY:
			free(*AT(st, f[i].off, double *));
			*AT(st, f[i].off, double *) = NULL;
			break;
		case HX_C_ARRAY:
			a = f[i].array;
			base = *AT(st, f[i].off, char *);
			cnt = *AT(st, a->count_off, size_t);
			for (j = 0; j < cnt; j++)
				release_fields(a->fields, a->nfields,
				    base + j * a->elem_size);
			free(base);
			*AT(st, f[i].off, char *) = NULL;
			*AT(st, a->count_off, size_t) = 0;
			break;
		default:
			break;
		}
	}
}

void
hx_proto_release(enum hx_event_type type, void *ev)
{
	release_fields(hx_events[type].fields, hx_events[type].nfields, ev);
}

/* clang-format on */

int
hx_node_metrics_decode(json_t *data, struct hx_node_metrics *out)
{
	int64_t ts;
	int	rc;

	rc = hx_proto_decode(HX_EV_NODE_METRICS, data, out, &ts);
	out->timestamp_ms = ts;
	return rc;
}

int
hx_vm_metrics_decode(json_t *data, struct hx_vm_metrics *out)
{
	return hx_proto_decode(HX_EV_VM_METRICS, data, out, NULL);
}

/* ---- description ------------------------------------------------------- */

static const char *
ctype_name(enum hx_ctype t)
{
	switch (t) {
	case HX_C_STR:
	case HX_C_OWNSTR:
	case HX_C_STRBUF:
		return "string";
	case HX_C_DOUBLE:
		return "number";
	case HX_C_I64:
	case HX_C_U64:
	case HX_C_INT:
		return "integer";
	case HX_C_DOUBLES:
	case HX_C_DARRAY:
		return "number[]";
	case HX_C_ARRAY:
		return "object[]";
	case HX_C_JSON:
		return "string[]";
	}
	return "unknown";
}

/* The names of the bits in p joined by ",", or null for none. */
static json_t *
privs_json(hx_privs p)
{
	struct hx_buf b;
	json_t	     *j;
	int	      i;

	if (p == 0)
		return json_null();
	hx_buf_init(&b, 0);
	for (i = 0; i < HX_PRIV_COUNT; i++) {
		if (p & (1u << i))
			hx_buf_addf(&b, "%s%s", b.len ? "," : "",
			    hx_priv_name((enum hx_priv)(1u << i)));
	}
	j = json_stringn(b.data, b.len);
	hx_buf_release(&b);
	return j;
}

static json_t *
describe_fields(const struct hx_field *f, size_t n)
{
	json_t *arr = json_array(), *o;
	size_t	i;

	for (i = 0; i < n; i++) {
		o = json_object();
		json_object_set_new(o, "name", json_string(f[i].name));
		json_object_set_new(o, "type",
		    json_string(ctype_name(f[i].ctype)));
		json_object_set_new(o, "unit", str_or_null(f[i].unit));
		json_object_set_new(o, "nullable",
		    json_boolean(f[i].ctype != HX_C_U64 &&
			f[i].ctype != HX_C_INT && f[i].ctype != HX_C_STRBUF &&
			!(f[i].flags & HX_F_KEY)));
		json_object_set_new(o, "series",
		    json_boolean(f[i].flags & HX_F_SERIES));
		if (f[i].doc != NULL)
			json_object_set_new(o, "doc", json_string(f[i].doc));
		if (f[i].ctype == HX_C_ARRAY)
			json_object_set_new(o, "fields",
			    describe_fields(f[i].array->fields,
				f[i].array->nfields));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *
hx_proto_describe(void)
{
	json_t *d = json_object(), *topics = json_array(),
	       *events = json_array(), *o;
	int i;

	for (i = 0; i < HX_TOPIC_COUNT; i++) {
		const struct hx_topic *t = &hx_topics[i];

		o = json_object();
		json_object_set_new(o, "name", json_string(t->name));
		json_object_set_new(o, "privilege", privs_json(t->priv));
		json_object_set_new(o, "path", json_string(t->path));
		json_object_set_new(o, "alt_privilege",
		    privs_json(t->alt_priv));
		json_object_set_new(o, "alt_path", str_or_null(t->alt_path));
		json_object_set_new(o, "per_vm", json_boolean(t->per_vm));
		json_object_set_new(o, "metric", json_boolean(t->metric));
		json_object_set_new(o, "summary", json_string(t->summary));
		json_array_append_new(topics, o);
	}
	for (i = 0; i < HX_EV_COUNT; i++) {
		const struct hx_event_info *e = &hx_events[i];

		o = json_object();
		json_object_set_new(o, "type", json_string(e->type));
		json_object_set_new(o, "topic",
		    e->topic >= 0 ? json_string(hx_topics[e->topic].name) :
				    json_null());
		json_object_set_new(o, "summary", json_string(e->summary));
		json_object_set_new(o, "fields",
		    describe_fields(e->fields, e->nfields));
		json_array_append_new(events, o);
	}
	json_object_set_new(d, "topics", topics);
	json_object_set_new(d, "events", events);
	return d;
}

/* ---- time -------------------------------------------------------------- */

int64_t
hx_parse_rfc3339_ms(const char *s)
{
	struct tm tm;
	int	  y, mo, d, h, mi, sec, ms = 0, n = 0;
	time_t	  t;

	if (s == NULL)
		return -1;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
		&n) != 6 ||
	    n != 19)
		return -1;
	s += n;
	if (*s == '.') {
		int digits = 0;

		for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
			if (digits < 3)
				ms = ms * 10 + (*s - '0');
		}
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (strcmp(s, "Z") != 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	return (int64_t)t * 1000 + ms;
}

double
hx_field_number(const struct hx_field *f, const void *base)
{
	const char *p = (const char *)base + f->off;
	int64_t	    i;

	switch (f->ctype) {
	case HX_C_DOUBLE:
		return *(const double *)(const void *)p;
	case HX_C_U64:
		return (double)*(const uint64_t *)(const void *)p;
	case HX_C_I64:
		i = *(const int64_t *)(const void *)p;
		return i < 0 ? NAN : (double)i;
	case HX_C_INT:
		return (double)*(const int *)(const void *)p;
	default:
		return NAN;
	}
}

static void
walk_series(const char *prefix, const struct hx_field *fields, size_t nfields,
    const char *base, hx_series_fn fn, void *arg)
{
	static const char *const load[] = { "1", "5", "15" };
	const struct hx_field	*f;
	const struct hx_array	*a;
	const char		*el, *mount;
	const double		*d;
	char			 name[600];
	size_t			 i, k, cnt;

	for (i = 0; i < nfields; i++) {
		f = &fields[i];
		if (f->ctype == HX_C_ARRAY) {
			if (strcmp(f->name, "disks") != 0)
				continue;
			a = f->array;
			el = *(
			    const char *const *)(const void *)(base + f->off);
			cnt = *(
			    const size_t *)(const void *)(base + a->count_off);
			for (k = 0; k < cnt; k++, el += a->elem_size) {
				mount = *(
				    const char *const *)(const void *)(el +
				    a->fields[0].off);
				if (mount == NULL ||
				    (a->ok_off != 0 &&
					!*(const int *)(const void *)(el +
					    a->ok_off)))
					continue;
				snprintf(name, sizeof name, "%s:disk:%s",
				    prefix, mount);
				walk_series(name, a->fields + 1, a->nfields - 1,
				    el, fn, arg);
			}
			continue;
		}
		if (!(f->flags & HX_F_SERIES))
			continue;
		if (f->ctype == HX_C_DOUBLES) {
			d = (const double *)(const void *)(base + f->off);
			for (k = 0; k < f->size; k++) {
				if (f->size == 3)
					snprintf(name, sizeof name, "%s:%s:%s",
					    prefix, f->name, load[k]);
				else
					snprintf(name, sizeof name, "%s:%s:%zu",
					    prefix, f->name, k);
				fn(name, f, d[k], arg);
			}
		} else if (f->ctype == HX_C_DARRAY) {
			d = *(
			    const double *const *)(const void *)(base + f->off);
			cnt = (size_t) *
			    (const int *)(const void *)(base + f->count_off);
			for (k = 0; d != NULL && k < cnt; k++) {
				snprintf(name, sizeof name, "%s:%s:%zu", prefix,
				    f->name, k);
				fn(name, f, d[k], arg);
			}
		} else {
			snprintf(name, sizeof name, "%s:%s", prefix, f->name);
			fn(name, f, hx_field_number(f, base), arg);
		}
	}
}

void
hx_proto_walk_series(int is_node, const char *prefix, const void *base,
    hx_series_fn fn, void *arg)
{
	const struct hx_event_info *e =
	    &hx_events[is_node ? HX_EV_NODE_METRICS : HX_EV_VM_METRICS];

	walk_series(prefix, e->fields, e->nfields, (const char *)base, fn, arg);
}
