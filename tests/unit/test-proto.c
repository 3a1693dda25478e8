/*
 * test-proto.c - the protocol tables and the one encoder/decoder: every
 * event survives a round trip, unknown stays unknown (NaN, -1, null),
 * the tables are consistent, and RFC 3339 times parse back exactly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hx-proto.h"
#include "hx-util.h"
#include "tap.h"

/* Encode, dump, parse and decode again, as a client would see it. */
static json_t *
wire(json_t *data)
{
	char   *s = json_dumps(data, HX_JSON_FLAGS);
	json_t *j = json_loads(s, 0, NULL);

	free(s);
	json_decref(data);
	return j;
}

static void
test_tables(void)
{
	int i, j, bad = 0;

	for (i = 0; i < HX_TOPIC_COUNT; i++) {
		ok(hx_topics[i].name != NULL && hx_topics[i].summary != NULL,
		    "topic %d has a name and a summary", i);
		is_int(hx_topic_find(hx_topics[i].name), i, "find %s",
		    hx_topics[i].name);
	}
	is_int(hx_topic_find("vm:nothing"), -1, "unknown topic");
	is_int(hx_topic_find("VM:METRICS"), -1, "topic names are exact");
	for (i = 0; i < HX_EV_COUNT; i++) {
		is_int(hx_event_type_find(hx_events[i].type), i, "find %s",
		    hx_events[i].type);
		if (hx_events[i].topic < -1 ||
		    hx_events[i].topic >= HX_TOPIC_COUNT)
			bad++;
		for (j = 0; j < (int)hx_events[i].nfields; j++)
			if (hx_events[i].fields[j].name == NULL)
				bad++;
	}
	is_int(bad, 0, "every event has a valid topic and named fields");
	is_int(hx_event_type_find("nodemetrics"), -1, "types are exact");
	is_int(hx_events[HX_EV_PING].topic, -1, "Ping is a control message");
	is_int(hx_events[HX_EV_VM_METRICS].topic, HX_TOPIC_VM_METRICS,
	    "VmMetrics is on vm:metrics");
}

static void
test_node(void)
{
	struct hx_node_metrics m, d;
	struct hx_node_disk    disks[2];
	double		       cores[3] = { 1.234, NAN, 99.999 };
	json_t		      *j;

	memset(&m, 0, sizeof m);
	m.timestamp_ms = 1760265045123LL;
	hx_strlcpy(m.hostname, "hv-1", sizeof m.hostname);
	m.cpu_usage = 12.345;
	m.cpu_cores = 3;
	m.cpu_per_core = cores;
	m.memory_usage = NAN;
	m.memory_total_bytes = 16ULL << 30;
	m.memory_used_bytes = 1;
	m.memory_available_bytes = (16ULL << 30) - 1;
	m.load_average[0] = 0.5;
	m.load_average[1] = NAN;
	m.load_average[2] = 2;
	m.uptime_seconds = 10.5;
	m.disk_read_bps = 1000.4;
	m.disk_write_bps = NAN;
	memset(disks, 0, sizeof disks);
	disks[0].mount = "/";
	disks[0].ok = 1;
	disks[0].usage = 50;
	disks[0].total_bytes = 200;
	disks[0].used_bytes = 100;
	disks[0].avail_bytes = 100;
	disks[1].mount = "/gone";
	m.disks = disks;
	m.ndisks = 2;

	j = wire(hx_event_node_metrics(&m));
	ok(json_is_null(json_object_get(j, "memory_usage")),
	    "NaN is written as null");
	ok(json_is_null(
	       json_object_get(json_array_get(json_object_get(j, "disks"), 1),
		   "usage")),
	    "an unreadable mount has null usage");
	is_int(hx_node_metrics_decode(j, &d), 0, "NodeMetrics decodes");
	is_str(d.hostname, "hv-1", "hostname");
	ok(d.timestamp_ms == m.timestamp_ms, "timestamp to the millisecond");
	ok(fabs(d.cpu_usage - 12.35) < 1e-9, "cpu_usage rounded to 2 places");
	ok(isnan(d.memory_usage), "null decodes to NaN");
	is_int(d.cpu_cores, 3, "cpu_cores");
	ok(d.cpu_per_core != NULL && fabs(d.cpu_per_core[0] - 1.23) < 1e-9 &&
		isnan(d.cpu_per_core[1]) &&
		fabs(d.cpu_per_core[2] - 100) < 1e-9,
	    "per-core values, NaN kept");
	ok(d.memory_total_bytes == 16ULL << 30, "memory_total_bytes");
	ok(d.load_average[0] == 0.5 && isnan(d.load_average[1]) &&
		d.load_average[2] == 2,
	    "load averages");
	ok(d.disk_read_bps == 1000 && isnan(d.disk_write_bps),
	    "rates are whole bytes per second, unknown is NaN");
	is_int((int)d.ndisks, 2, "two disks");
	is_str(d.disks[0].mount, "/", "first mount");
	ok(d.disks[0].ok && d.disks[0].total_bytes == 200 &&
		d.disks[0].avail_bytes == 100,
	    "a readable mount is ok");
	is_str(d.disks[1].mount, "/gone", "second mount");
	ok(!d.disks[1].ok, "an unreadable mount is not ok");
	hx_node_metrics_release(&d);
	json_decref(j);

	is_int(hx_node_metrics_decode(NULL, &d), -1, "NULL data refused");
	j = json_string("x");
	is_int(hx_node_metrics_decode(j, &d), -1, "a string is refused");
	json_decref(j);
	j = json_loads("{\"cpu_usage\":\"high\",\"disks\":{}}", 0, NULL);
	is_int(hx_node_metrics_decode(j, &d), 0, "wrong types decode");
	ok(isnan(d.cpu_usage) && d.ndisks == 0 && d.timestamp_ms == -1,
	    "a field of the wrong type is unknown");
	hx_node_metrics_release(&d);
	json_decref(j);
}

static void
test_vm(void)
{
	struct hx_vm_metrics m, d;
	json_t		    *j;

	memset(&m, 0, sizeof m);
	m.vm_id = "web-1";
	m.vm_uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
	m.name = "web-1";
	m.cpu_usage = 3.14159;
	m.memory_usage = NAN;
	m.vcpus = 2;
	m.memory_bytes = -1;
	m.memory_max_bytes = 1 << 30;
	m.disk_read = 0;
	m.disk_write = -1;
	m.network_rx = 5;
	m.network_tx = 6;
	m.disk_read_bps = 7.6;
	m.disk_write_bps = NAN;
	m.network_rx_bps = 0;
	m.network_tx_bps = 1;
	j = wire(hx_event_vm_metrics(&m, 1000));
	ok(json_is_null(json_object_get(j, "memory_bytes")),
	    "a negative count is null");
	is_int(hx_vm_metrics_decode(j, &d), 0, "VmMetrics decodes");
	is_str(d.vm_id, m.vm_id, "vm_id");
	is_str(d.vm_uuid, m.vm_uuid, "vm_uuid");
	is_str(d.name, "web-1", "name");
	ok(fabs(d.cpu_usage - 3.14) < 1e-9 && isnan(d.memory_usage),
	    "percentages");
	ok(d.vcpus == 2 && d.memory_bytes == -1 && d.disk_read == 0 &&
		d.disk_write == -1 && d.memory_max_bytes == 1 << 30,
	    "counts, unknown is -1, zero is zero");
	ok(d.disk_read_bps == 8 && isnan(d.disk_write_bps) &&
		d.network_rx_bps == 0,
	    "rates");
	json_decref(j);

	m.vm_uuid = NULL;
	j = wire(hx_event_vm_metrics(&m, 1000));
	ok(json_object_get(j, "vm_uuid") == NULL,
	    "an unknown vm_uuid is left out");
	is_int(hx_vm_metrics_decode(j, &d), 0,
	    "VmMetrics without vm_uuid decodes");
	ok(d.vm_uuid == NULL, "and its vm_uuid is NULL");
	json_decref(j);
}

static void
test_discrete(void)
{
	struct hx_ev_status    st;
	struct hx_ev_lifecycle lc;
	struct hx_ev_migration mg;
	struct hx_ev_alert     al;
	struct hx_ev_error     er;
	struct hx_ev_backup    bk;
	json_t		      *j, *topics;
	int64_t		       ts;

	j = wire(hx_event_vm_status_changed("u1", "uu1", "running", "paused",
	    "alice@local", 5));
	is_int(hx_proto_decode(HX_EV_VM_STATUS_CHANGED, j, &st, &ts), 0,
	    "status decodes");
	ok(strcmp(st.id, "u1") == 0 && strcmp(st.old_status, "running") == 0 &&
		strcmp(st.new_status, "paused") == 0 && ts == 5 &&
		strcmp(st.user, "alice@local") == 0 &&
		strcmp(st.vm_uuid, "uu1") == 0,
	    "status fields, who and timestamp");
	json_decref(j);

	j = wire(
	    hx_event_container_status_changed("c1", NULL, "running", NULL, 0));
	ok(json_object_get(j, "container_id") != NULL &&
		json_object_get(j, "vm_id") == NULL,
	    "containers use container_id");
	hx_proto_decode(HX_EV_CONTAINER_STATUS_CHANGED, j, &st, NULL);
	ok(strcmp(st.id, "c1") == 0 && st.old_status == NULL &&
		st.vm_uuid == NULL && st.user == NULL &&
		json_is_null(json_object_get(j, "user")),
	    "a null status or user decodes to NULL");
	json_decref(j);

	j = wire(hx_event_vm_created("u2", "uu2", "db", NULL, 0));
	hx_proto_decode(HX_EV_VM_CREATED, j, &lc, NULL);
	ok(strcmp(lc.name, "db") == 0 && lc.user == NULL &&
		strcmp(lc.vm_uuid, "uu2") == 0 &&
		json_is_null(json_object_get(j, "user")),
	    "user null, not missing");
	json_decref(j);

	j = wire(
	    hx_event_migration_progress("u3", "uu3", 42.424, 10, -1, 3, 0));
	hx_proto_decode(HX_EV_MIGRATION_PROGRESS, j, &mg, NULL);
	ok(strcmp(mg.vm_uuid, "uu3") == 0 && fabs(mg.progress - 42.42) < 1e-9 &&
		mg.transferred_bytes == 10 && mg.total_bytes == -1 &&
		mg.iteration == 3 && isnan(mg.duration_seconds) &&
		mg.target_node == NULL,
	    "progress; fields of other events unknown");
	ok(json_object_get(j, "target_node") == NULL,
	    "MigrationProgress has no target_node");
	json_decref(j);

	j = wire(hx_event_migration_completed("u3", NULL, "hv-2", 1.23456, 0));
	hx_proto_decode(HX_EV_MIGRATION_COMPLETED, j, &mg, NULL);
	ok(strcmp(mg.target_node, "hv-2") == 0 && mg.vm_uuid == NULL &&
		fabs(mg.duration_seconds - 1.235) < 1e-9,
	    "completed");
	json_decref(j);

	j = wire(hx_event_backup_completed("u4", "uu4", "b1", 1024, NAN, 0));
	hx_proto_decode(HX_EV_BACKUP_COMPLETED, j, &bk, NULL);
	ok(strcmp(bk.vm_uuid, "uu4") == 0 && bk.size_bytes == 1024 &&
		isnan(bk.duration_seconds),
	    "backup size, unknown duration");
	json_decref(j);

	j = wire(hx_event_alert_triggered("a1", "cpu", "warning", "node",
	    "CPU high", 91.234, 90, 0));
	hx_proto_decode(HX_EV_ALERT_TRIGGERED, j, &al, NULL);
	ok(strcmp(al.severity, "warning") == 0 &&
		fabs(al.value - 91.23) < 1e-9 && al.threshold == 90,
	    "alert");
	json_decref(j);

	j = wire(hx_event_error("FORBIDDEN_TOPIC", "no", NULL, 0));
	ok(json_object_get(j, "topic") == NULL, "a NULL topic is left out");
	hx_proto_decode(HX_EV_ERROR, j, &er, NULL);
	ok(strcmp(er.code, "FORBIDDEN_TOPIC") == 0 && er.topic == NULL,
	    "error decodes");
	json_decref(j);

	topics = json_pack("[ss]", "vm:status", "alerts");
	j = wire(hx_event_subscribed(topics, 0));
	ok(json_equal(json_object_get(j, "topics"), topics),
	    "Subscribed carries a copy of the topics");
	json_decref(topics);
	json_decref(j);
}

static void
test_describe(void)
{
	json_t *d = hx_proto_describe(), *t, *e, *f;
	size_t	i;
	int	found = 0;

	is_int((int)json_array_size(json_object_get(d, "topics")),
	    HX_TOPIC_COUNT, "every topic described");
	is_int((int)json_array_size(json_object_get(d, "events")), HX_EV_COUNT,
	    "every event described");
	t = json_array_get(json_object_get(d, "topics"), HX_TOPIC_ALERTS);
	is_str(json_string_value(json_object_get(t, "privilege")), "SysAudit",
	    "alerts need SysAudit");
	is_str(json_string_value(json_object_get(t, "alt_privilege")),
	    "VmAudit", "or VmAudit below /vms");
	t = json_array_get(json_object_get(d, "topics"),
	    HX_TOPIC_NOTIFICATIONS);
	ok(json_is_null(json_object_get(t, "privilege")),
	    "notifications need no privilege");
	e = json_array_get(json_object_get(d, "events"), HX_EV_NODE_METRICS);
	json_array_foreach(json_object_get(e, "fields"), i, f) {
		if (strcmp(json_string_value(json_object_get(f, "name")),
			"network_rx_bps") == 0)
			found = json_is_true(json_object_get(f, "series")) &&
			    strcmp(json_string_value(
				       json_object_get(f, "unit")),
				"bytes/s") == 0;
	}
	ok(found, "network_rx_bps is a bytes/s series");
	json_decref(d);
}

static void
test_time(void)
{
	char	buf[32];
	int64_t t;

	for (t = -1; t < 4000000000000LL; t += 123456789011LL) {
		hx_rfc3339_ms(t, buf, sizeof buf);
		if (hx_parse_rfc3339_ms(buf) != t)
			break;
	}
	ok(t >= 4000000000000LL, "format and parse agree (%s)", buf);
	ok(hx_parse_rfc3339_ms("2025-10-12T10:30:45Z") == 1760265045000LL,
	    "without fraction");
	ok(hx_parse_rfc3339_ms("2025-10-12T10:30:45.1Z") == 1760265045100LL,
	    "one fractional digit");
	ok(hx_parse_rfc3339_ms("2025-10-12T10:30:45.123456Z") ==
		1760265045123LL,
	    "more digits are cut");
	ok(hx_parse_rfc3339_ms("2025-10-12T10:30:45+02:00") == -1,
	    "an offset other than Z is refused");
	ok(hx_parse_rfc3339_ms("2025-13-12T10:30:45Z") == -1, "month 13");
	ok(hx_parse_rfc3339_ms("2025-10-12T10:30:45.Z") == -1,
	    "empty fraction");
	ok(hx_parse_rfc3339_ms("") == -1 && hx_parse_rfc3339_ms(NULL) == -1,
	    "empty and NULL");
}

int
main(void)
{
	test_tables();
	test_node();
	test_vm();
	test_discrete();
	test_describe();
	test_time();
	return done_testing();
}
