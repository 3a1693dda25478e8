/*
 * test-event.c - JSON encoding of events: timestamps, field names and
 * order, null for unknown values, the frame wrapper and its data span;
 * hx_json_dtoa against jansson's own writing of the same doubles.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hx-event.h"
#include "hx-util.h"
#include "tap.h"

/* Whether hx_json_dtoa writes v as json_dumps does; *got, *want: both. */
static int
dtoa_same(double v, char *got, char **want)
{
	json_t *j = json_real(v);

	*want = json_dumps(j, JSON_ENCODE_ANY | HX_JSON_FLAGS);
	json_decref(j);
	return hx_json_dtoa(got, v) == strlen(*want) && strcmp(got, *want) == 0;
}

static uint64_t
rnd64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * hx_json_dtoa beside jansson: chosen values (its shortcuts' edges, the
 * exponent rewriting), then random whole numbers, two-decimal numbers
 * on every scale, any number around the range written without printf,
 * and finite bit patterns.
 */
static void
test_dtoa(void)
{
	static const double fixed[] = { 0.0, -0.0, 1, -1, 52.37, 52.3, 52.07,
		0.05, -0.01, 0.1, 99999999.99, 1e8, 1e8 + 0.5, 123456789.12,
		4294967296.0, 1e15, 1e20, 1e-5, 1.5e-7, 5e-324, DBL_MAX,
		-DBL_MAX, 1.0 / 3, 2.0 / 3, 12.345, 0.125, 1e9 + 1,
		9999999999.0, 10000000000.0, 1234567890123.0, 9999999999.5,
		0.12345678905, 1.00000000005, 0.0001, 0.00009999999999,
		0.000099999999996, 99.999999995, 1e-4 * 1.0000000001 };
	const double	    scale[] = { 1, 10, 100, 1e3, 1e4, 1e6, 1e8, 1e10 };
	char		    got[HX_JSON_DTOA_MAX], *want, bad[128] = "";
	uint64_t	    seed = 7, u;
	double		    v;
	size_t		    i;
	int		    fails = 0, same;

	for (i = 0; i < HX_ARRAY_SIZE(fixed); i++) {
		same = dtoa_same(fixed[i], got, &want);
		ok(same, "dtoa %.17g: '%s' as '%s'", fixed[i], got, want);
		free(want);
	}
	for (i = 0; i < 400000; i++) {
		u = rnd64(&seed);
		switch (i % 4) {
		case 0: /* whole numbers */
			v = (double)(int64_t)(u >> 20) / scale[u % 8];
			v = trunc(v);
			break;
		case 1: /* two decimals on every scale */
			v = (double)(int64_t)(u % 20000000000ULL) / 100 /
			    scale[(u >> 40) % 8];
			v = round(v * 100) / 100;
			break;
		case 2: /* 1e-6 .. 1e12 on a log scale */
			v = pow(10,
			    (double)(u >> 11) / (double)(1ULL << 53) * 18 - 6);
			break;
		default: /* anything finite */
			memcpy(&v, &u, sizeof v);
			if (!isfinite(v))
				continue;
		}
		if (u & 1)
			v = -v;
		if (!dtoa_same(v, got, &want) && fails++ == 0)
			snprintf(bad, sizeof bad, "%.17g: '%s' for '%s'", v,
			    got, want);
		free(want);
	}
	ok(fails == 0, "dtoa: 400000 random doubles as jansson writes them%s%s",
	    fails ? ", first miss " : "", bad);
}

/* Frame a data object and return the text; *span gets the data part. */
static char *
frame(const char *type, json_t *data, char **span)
{
	size_t len, off, dlen;
	char  *text = hx_event_frame(type, data, &len, &off, &dlen);

	*span = xstrndup(text + off, dlen);
	return text;
}

static void
check_type_and_ts(const char *text, const char *type, const char *what)
{
	json_error_t e;
	json_t	    *j = json_loads(text, 0, &e);
	const char  *ts;

	ok(j != NULL, "%s: frame is valid JSON", what);
	is_str(json_string_value(json_object_get(j, "type")), type, "%s: type",
	    what);
	ts = json_string_value(
	    json_object_get(json_object_get(j, "data"), "timestamp"));
	ok(ts != NULL && strlen(ts) == 24 && ts[10] == 'T' && ts[19] == '.' &&
		ts[23] == 'Z',
	    "%s: RFC 3339 ms timestamp (%s)", what, ts ? ts : "none");
	json_decref(j);
}

int
main(void)
{
	struct hx_node_metrics m;
	struct hx_node_disk    disks[2];
	struct hx_vm_metrics   vm;
	double		       cores[2] = { 12.345, NAN };
	char		       ts[32], *text, *span;
	json_t		      *j, *topics;

	is_int(hx_rfc3339_ms(1760265045123LL, ts, sizeof ts), 0, "format ok");
	is_str(ts, "2025-10-12T10:30:45.123Z", "RFC 3339 with ms and Z");
	hx_rfc3339_ms(0, ts, sizeof ts);
	is_str(ts, "1970-01-01T00:00:00.000Z", "epoch");
	hx_rfc3339_ms(-1, ts, sizeof ts);
	is_str(ts, "1969-12-31T23:59:59.999Z", "negative ms borrow a second");
	ok(hx_rfc3339_ms(1, ts, 10) == -1, "short buffer refused");

	memset(&m, 0, sizeof m);
	m.timestamp_ms = 1760265045123LL;
	hx_strlcpy(m.hostname, "node<1>", sizeof m.hostname);
	m.cpu_usage = 45.678;
	m.cpu_cores = 2;
	m.cpu_per_core = cores;
	m.memory_usage = 60.2;
	m.memory_total_bytes = 8ULL << 30;
	m.memory_used_bytes = 5ULL << 30;
	m.memory_available_bytes = 3ULL << 30;
	m.swap_usage = 0;
	m.load_average[0] = 0.5;
	m.load_average[1] = 1.25;
	m.load_average[2] = NAN;
	m.uptime_seconds = 3600.5;
	memset(disks, 0, sizeof disks);
	disks[0].mount = "/";
	disks[0].ok = 1;
	disks[0].usage = 42.4242;
	disks[0].total_bytes = 1000;
	disks[0].used_bytes = 400;
	disks[0].avail_bytes = 543;
	disks[1].mount = "/gone";
	disks[1].ok = 0;
	m.disks = disks;
	m.ndisks = 2;
	m.disk_usage = 42.4242;
	m.disk_read_bps = 1234.6;
	m.disk_write_bps = NAN;
	m.network_rx_bps = 0;
	m.network_tx_bps = 99.4;

	text = frame("NodeMetrics", hx_event_node_metrics(&m), &span);
	check_type_and_ts(text, "NodeMetrics", "NodeMetrics");
	ok(strncmp(text,
	       "{\"type\":\"NodeMetrics\",\"data\":{\"hostname\":"
	       "\"node<1>\",\"cpu_usage\":45.68,",
	       strlen(
		   "{\"type\":\"Node"
		   "Metrics\",\"data\":{\"hostname\":\"node<1>\",\"cpu_usage\":45.68,")) ==
		0,
	    "seed fields first, percent rounded to 2 decimals");
	j = json_loads(span, 0, NULL);
	ok(j != NULL && json_is_object(j), "data span is the data object");
	is_str(json_string_value(json_object_get(j, "timestamp")),
	    "2025-10-12T10:30:45.123Z", "timestamp from the sample");
	ok(json_is_null(json_array_get(json_object_get(j, "cpu_per_core"), 1)),
	    "NaN core is null");
	ok(json_is_null(json_array_get(json_object_get(j, "load_average"), 2)),
	    "NaN load is null");
	is_int(json_integer_value(json_object_get(j, "disk_read_bps")), 1235,
	    "rates are whole bytes per second");
	ok(json_is_null(json_object_get(j, "disk_write_bps")),
	    "unknown rate is null, never 0");
	is_int(json_integer_value(json_object_get(j, "memory_total_bytes")),
	    8LL << 30, "memory_total_bytes");
	is_int(json_array_size(json_object_get(j, "disks")), 2, "two disks");
	ok(json_is_null(
	       json_object_get(json_array_get(json_object_get(j, "disks"), 1),
		   "usage")),
	    "unreadable mount has null usage");
	is_str(json_string_value(
		   json_object_get(json_array_get(json_object_get(j, "disks"),
				       1),
		       "mount")),
	    "/gone", "unreadable mount still named");
	{
		static const char *keys[] = { "hostname", "cpu_usage",
			"memory_usage", "disk_usage", "load_average",
			"cpu_cores", "cpu_per_core", "memory_total_bytes",
			"memory_used_bytes", "memory_available_bytes",
			"swap_usage", "disks", "disk_read_bps",
			"disk_write_bps", "network_rx_bps", "network_tx_bps",
			"uptime_seconds", "timestamp" };
		size_t		   i, missing = 0;

		for (i = 0; i < HX_ARRAY_SIZE(keys); i++)
			missing += json_object_get(j, keys[i]) == NULL;
		is_int(missing, 0, "every DESIGN §3 NodeMetrics field present");
	}
	json_decref(j);
	free(text);
	free(span);

	memset(&vm, 0, sizeof vm);
	vm.vm_id = "vm-100";
	vm.name = "web \"1\"";
	vm.cpu_usage = 25.3;
	vm.memory_usage = NAN;
	vm.vcpus = 2;
	vm.memory_bytes = -1;
	vm.memory_max_bytes = 1 << 30;
	vm.disk_read = 10;
	vm.disk_write = -1;
	vm.network_rx = 0;
	vm.network_tx = 5;
	vm.disk_read_bps = vm.disk_write_bps = NAN;
	vm.network_rx_bps = vm.network_tx_bps = 1.0;
	text = frame("VmMetrics", hx_event_vm_metrics(&vm, 5), &span);
	check_type_and_ts(text, "VmMetrics", "VmMetrics");
	j = json_loads(span, 0, NULL);
	is_str(json_string_value(json_object_get(j, "name")), "web \"1\"",
	    "names are escaped and round-trip");
	ok(json_is_null(json_object_get(j, "memory_usage")) &&
		json_is_null(json_object_get(j, "memory_bytes")) &&
		json_is_null(json_object_get(j, "disk_write")),
	    "unknown VM values are null");
	is_int(json_integer_value(json_object_get(j, "network_rx")), 0,
	    "a real zero stays 0");
	json_decref(j);
	free(text);
	free(span);

#define SIMPLE(type, expr, key, want) \
	do { \
		text = frame(type, expr, &span); \
		check_type_and_ts(text, type, type); \
		j = json_loads(span, 0, NULL); \
		is_str(json_string_value(json_object_get(j, key)), want, \
		    type ": " key); \
		json_decref(j); \
		free(text); \
		free(span); \
	} while (0)

	SIMPLE("VmStatusChanged",
	    hx_event_vm_status_changed("vm-1", "u-1", "stopped", "running",
		NULL, 1),
	    "new_status", "running");
	SIMPLE("ContainerStatusChanged",
	    hx_event_container_status_changed("ct-1", "running", "stopped",
		"bob@pam", 1),
	    "container_id", "ct-1");
	SIMPLE("VmCreated",
	    hx_event_vm_created("vm-1", "u-1", "web", "alice@local", 1), "user",
	    "alice@local");
	SIMPLE("VmDeleted", hx_event_vm_deleted("vm-1", "u-1", "web", NULL, 1),
	    "name", "web");
	SIMPLE("BackupCompleted",
	    hx_event_backup_completed("vm-1", "u-1", "b1", 10, 1.5, 1),
	    "backup_id", "b1");
	SIMPLE("MigrationStarted",
	    hx_event_migration_started("vm-1", "u-1", "a", "b", 1),
	    "target_node", "b");
	SIMPLE("MigrationProgress",
	    hx_event_migration_progress("vm-1", "u-1", 50, 5, 10, 2, 1),
	    "vm_id", "vm-1");
	SIMPLE("MigrationCompleted",
	    hx_event_migration_completed("vm-1", "u-1", "b", 2, 1),
	    "target_node", "b");
	SIMPLE("MigrationFailed",
	    hx_event_migration_failed("vm-1", "u-1", "a", "b", "cancelled", 1),
	    "reason", "cancelled");
	SIMPLE("AlertTriggered",
	    hx_event_alert_triggered("a1", "cpu", "critical", "node", "hot", 95,
		90, 1),
	    "severity", "critical");
	SIMPLE("AlertResolved", hx_event_alert_resolved("a1", "cpu", "node", 1),
	    "alert_id", "a1");
	SIMPLE("Notification",
	    hx_event_notification("info", "Connected", "hi", 1), "level",
	    "info");
	SIMPLE("Error", hx_event_error("UNKNOWN_TOPIC", "no", "x", 1), "topic",
	    "x");

	/* Every VM event carries vm_uuid right after vm_id. */
	{
		json_t *evs[] = {
			hx_event_vm_status_changed("vm-1", "u-1", "stopped",
			    "running", NULL, 1),
			hx_event_vm_created("vm-1", "u-1", "web", NULL, 1),
			hx_event_vm_deleted("vm-1", "u-1", "web", NULL, 1),
			hx_event_backup_completed("vm-1", "u-1", "b1", 10, 1.5,
			    1),
			hx_event_migration_started("vm-1", "u-1", "a", "b", 1),
			hx_event_migration_progress("vm-1", "u-1", 50, 5, 10, 2,
			    1),
			hx_event_migration_completed("vm-1", "u-1", "b", 2, 1),
			hx_event_migration_failed("vm-1", "u-1", "a", NULL,
			    "cancelled", 1),
		};
		size_t i;
		void  *it;

		for (i = 0; i < sizeof evs / sizeof evs[0]; i++) {
			text = frame("VmEvent", evs[i], &span);
			j = json_loads(span, 0, NULL);
			is_str(json_string_value(json_object_get(j, "vm_uuid")),
			    "u-1", "VM event %zu carries vm_uuid", i);
			it = json_object_iter_next(j,
			    json_object_iter_at(j, "vm_id"));
			ok(it != NULL &&
				strcmp(json_object_iter_key(it), "vm_uuid") ==
				    0,
			    "VM event %zu: vm_uuid right after vm_id", i);
			json_decref(j);
			free(text);
			free(span);
		}
	}
	text = frame("VmStatusChanged",
	    hx_event_vm_status_changed("vm-1", NULL, "stopped", "running", NULL,
		1),
	    &span);
	j = json_loads(span, 0, NULL);
	ok(json_object_get(j, "vm_uuid") == NULL &&
		json_object_get(j, "vm_id") != NULL,
	    "an unknown vm_uuid is left out, never invented");
	json_decref(j);
	free(text);
	free(span);
	text = frame("ContainerStatusChanged",
	    hx_event_container_status_changed("ct-1", NULL, "running", NULL, 1),
	    &span);
	ok(strstr(span, "vm_uuid") == NULL, "containers carry no vm_uuid");
	free(text);
	free(span);

	text = frame("VmDeleted",
	    hx_event_vm_deleted("vm-1", "u-1", "web", NULL, 1), &span);
	j = json_loads(span, 0, NULL);
	ok(json_is_null(json_object_get(j, "user")),
	    "user null when the change did not come through the API");
	json_decref(j);
	free(text);
	free(span);

	text = frame("Error", hx_event_error("BAD_MESSAGE", "m", NULL, 1),
	    &span);
	j = json_loads(span, 0, NULL);
	ok(json_object_get(j, "topic") == NULL, "Error without topic omits it");
	json_decref(j);
	free(text);
	free(span);

	topics = json_pack("[ss]", "node:metrics", "vm:status");
	text = frame("Subscribed", hx_event_subscribed(topics, 1), &span);
	json_decref(topics);
	is_str(span,
	    "{\"topics\":[\"node:metrics\",\"vm:status\"],"
	    "\"timestamp\":\"1970-01-01T00:00:00.001Z\"}",
	    "Subscribed data");
	free(text);
	free(span);

	text = frame("Ping", hx_event_ping(1760265045123LL), &span);
	is_str(text,
	    "{\"type\":\"Ping\",\"data\":{\"timestamp\":"
	    "\"2025-10-12T10:30:45.123Z\"}}",
	    "Ping frame, exact bytes");
	free(text);
	free(span);

	j = hx_json_real(INFINITY, 2);
	ok(json_is_null(j), "infinity is null");
	json_decref(j);
	test_dtoa();
	return done_testing();
}
