/*
 * test-alert.c - lib/hx-alert: rule validation (each error names its
 * field), globs and series against the protocol's field tables, which
 * rule applies (the narrowest of a severity), and the state machine on
 * known sequences: pending, for_seconds, hysteresis, silences, status.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hx-alert.h"
#include "hx-event.h"
#include "hx-node.h"
#include "hx-util.h"
#include "tap.h"

/* Parse JSON text as a rule; the field at fault, or "" when accepted. */
static const char *
field_of(const char *text, struct hx_alert_rule *out)
{
	static char	     buf[64];
	struct hx_alert_rule r;
	const char	    *field;
	json_t		    *o = json_loads(text, 0, NULL);
	char		    *err = NULL;

	if (hx_alert_rule_parse(o, NULL, &r, &field, &err) != 0) {
		snprintf(buf, sizeof buf, "%s", field);
		free(err);
	} else {
		buf[0] = '\0';
		if (out != NULL)
			*out = r;
		else
			hx_alert_rule_release(&r);
	}
	json_decref(o);
	return buf;
}

static void
test_validation(void)
{
	struct hx_alert_rule r;
	json_t		    *j;

	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\",\"threshold\":90}",
		   NULL),
	    "", "a minimal series rule");
	is_str(field_of("{\"name\":\"a\",\"status_of\":\"vm:*\","
			"\"equals\":\"crashed\"}",
		   NULL),
	    "", "a status rule");
	is_str(field_of("{\"series\":\"node:cpu_usage\",\"op\":\">\","
			"\"threshold\":1}",
		   NULL),
	    "name", "no name");
	is_str(field_of("{\"name\":\"a b\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\",\"threshold\":1}",
		   NULL),
	    "name", "a name with a space");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:nope\","
			"\"op\":\">\",\"threshold\":1}",
		   NULL),
	    "series", "an unknown node field");
	is_str(field_of("{\"name\":\"a\",\"series\":\"vm:*:nope\","
			"\"op\":\">\",\"threshold\":1}",
		   NULL),
	    "series", "an unknown VM field");
	is_str(field_of("{\"name\":\"a\",\"series\":\"cpu_usage\","
			"\"op\":\">\",\"threshold\":1}",
		   NULL),
	    "series", "no node: or vm: prefix");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\"=>\",\"threshold\":1}",
		   NULL),
	    "op", "a bad operator");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\"}",
		   NULL),
	    "threshold", "no threshold");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\",\"threshold\":1,\"for_seconds\":-1}",
		   NULL),
	    "for_seconds", "a negative duration");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\",\"threshold\":90,"
			"\"clear_threshold\":95}",
		   NULL),
	    "clear_threshold", "clear above a > threshold");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\"<\",\"threshold\":10,"
			"\"clear_threshold\":5}",
		   NULL),
	    "clear_threshold", "clear below a < threshold");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\"<\",\"threshold\":10,"
			"\"clear_threshold\":15}",
		   NULL),
	    "", "clear above a < threshold");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\",\"threshold\":1,\"severity\":\"high\"}",
		   NULL),
	    "severity", "a bad severity");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\",\"threshold\":1,\"notify\":[\"a/b\"]}",
		   NULL),
	    "notify", "a bad target name");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\",\"threshold\":1,"
			"\"silence_until\":\"tomorrow\"}",
		   NULL),
	    "silence_until", "a bad silence");
	is_str(field_of("{\"name\":\"a\",\"status_of\":\"vm:*\","
			"\"equals\":\"exploded\"}",
		   NULL),
	    "equals", "an unknown status");
	is_str(field_of("{\"name\":\"a\",\"status_of\":\"node:*\","
			"\"equals\":\"crashed\"}",
		   NULL),
	    "status_of", "status of a node");
	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\",\"threshold\":1,\"colour\":1}",
		   NULL),
	    "rule", "an unknown field");

	/* What is accepted comes back as written, defaults filled. */
	is_str(field_of("{\"name\":\"w\",\"series\":\"vm:*:cpu_usage\","
			"\"op\":\">=\",\"threshold\":80,"
			"\"clear_threshold\":70,\"for_seconds\":60,"
			"\"notify\":[\"ops\"],"
			"\"silence_until\":\"2030-01-01T00:00:00.000Z\"}",
		   &r),
	    "", "a full rule");
	j = hx_alert_rule_json(&r);
	is_str(json_string_value(json_object_get(j, "op")), ">=", "op");
	is_str(json_string_value(json_object_get(j, "severity")), "warning",
	    "severity defaults to warning");
	ok(json_is_true(json_object_get(j, "enabled")), "enabled by default");
	is_str(json_string_value(json_object_get(j, "silence_until")),
	    "2030-01-01T00:00:00.000Z", "silence_until round-trips");
	is_int(json_integer_value(json_object_get(j, "for_seconds")), 60,
	    "for_seconds");
	json_decref(j);
	hx_alert_rule_release(&r);
}

static void
test_series(void)
{
	ok(hx_alert_series_known("node:cpu_usage"), "node:cpu_usage");
	ok(hx_alert_series_known("node:disk_usage"), "node:disk_usage");
	ok(hx_alert_series_known("node:cpu_per_core:3"), "a core");
	ok(hx_alert_series_known("node:load_average:15"), "a load average");
	ok(hx_alert_series_known("node:disk:/var:usage"), "a mount's usage");
	ok(hx_alert_series_known("node:disk:*:usage"), "every mount");
	ok(hx_alert_series_known("vm:web-1:memory_usage"), "a VM's field");
	ok(hx_alert_series_known("vm:*:network_rx_bps"), "every VM");
	ok(hx_alert_series_known("vm:*:*_bps"), "a glob of fields");
	ok(!hx_alert_series_known("vm:web-1"), "a VM without a field");
	ok(!hx_alert_series_known("vm:*:name"), "a VM string field");
	ok(!hx_alert_series_known("node:hostname"), "a node string field");
	ok(!hx_alert_series_known("node:disk:/var:nope"), "a bad disk field");
	ok(!hx_alert_series_known("node:cpu_per_core:x"), "a bad core");
	ok(hx_alert_glob("vm:*:cpu_usage", "vm:a:b:cpu_usage"),
	    "'*' spans ':'");
	ok(!hx_alert_glob("vm:?:cpu_usage", "vm:ab:cpu_usage"), "'?' is one");
	is_int(hx_alert_wildcards("vm:*:c?u"), 2, "wildcards counted");
}

/* Rule i of v (n rules) applies to subject? */
static void
test_narrower(void)
{
	struct hx_alert_rule v[4];
	const char	    *texts[4] = {
			 "{\"name\":\"all\",\"series\":\"vm:*:cpu_usage\",\"op\":\">\","
				  "\"threshold\":90}",
			 "{\"name\":\"web1\",\"series\":\"vm:web-1:cpu_usage\","
				  "\"op\":\">\",\"threshold\":99}",
			 "{\"name\":\"crit\",\"series\":\"vm:*:cpu_usage\",\"op\":\">\","
				  "\"threshold\":98,\"severity\":\"critical\"}",
			 "{\"name\":\"webs\",\"series\":\"vm:web-*:cpu_usage\","
				  "\"op\":\">\",\"threshold\":95}",
	};
	size_t i;

	for (i = 0; i < 4; i++)
		is_str(field_of(texts[i], &v[i]), "", "rule %zu", i);
	ok(!hx_alert_applies(v, 4, 0, "vm:web-1:cpu_usage"),
	    "a literal name overrides the wider glob");
	ok(hx_alert_applies(v, 4, 1, "vm:web-1:cpu_usage"),
	    "the literal rule applies");
	ok(!hx_alert_applies(v, 4, 3, "vm:web-1:cpu_usage"),
	    "and overrides a narrower glob too");
	ok(hx_alert_applies(v, 4, 2, "vm:web-1:cpu_usage"),
	    "another severity is not overridden");
	ok(hx_alert_applies(v, 4, 3, "vm:web-2:cpu_usage"),
	    "web-2: web-* is the narrowest");
	ok(!hx_alert_applies(v, 4, 0, "vm:web-2:cpu_usage"),
	    "web-2: vm:* is overridden");
	ok(hx_alert_applies(v, 4, 0, "vm:db:cpu_usage"),
	    "db: only the wide rule matches");
	ok(!hx_alert_applies(v, 4, 1, "vm:db:cpu_usage"),
	    "db: the web-1 rule does not match");
	v[1].enabled = 0;
	ok(hx_alert_applies(v, 4, 3, "vm:web-1:cpu_usage"),
	    "a disabled rule overrides nothing");
	for (i = 0; i < 4; i++)
		hx_alert_rule_release(&v[i]);
}

static void
test_machine(void)
{
	struct hx_alert_rule  r;
	struct hx_alert_track t;
	/* for 10 s, > 90, clear below 85; one sample every 2 s */
	static const double vals[] = { 50, 95, 96, 80, 95, 95, 95, 95, 95, 95,
		92, 88, 86, 84, 95 };
	static const int want[] = { HX_ALERT_NONE, HX_ALERT_NONE, HX_ALERT_NONE,
		HX_ALERT_NONE, HX_ALERT_NONE, HX_ALERT_NONE, HX_ALERT_NONE,
		HX_ALERT_NONE, HX_ALERT_NONE, HX_ALERT_FIRED, HX_ALERT_NONE,
		HX_ALERT_NONE, HX_ALERT_NONE, HX_ALERT_RESOLVED,
		HX_ALERT_NONE };
	static const int phase[] = { HX_ALERT_IDLE, HX_ALERT_PENDING,
		HX_ALERT_PENDING, HX_ALERT_IDLE, HX_ALERT_PENDING,
		HX_ALERT_PENDING, HX_ALERT_PENDING, HX_ALERT_PENDING,
		HX_ALERT_PENDING, HX_ALERT_FIRING, HX_ALERT_FIRING,
		HX_ALERT_FIRING, HX_ALERT_FIRING, HX_ALERT_IDLE,
		HX_ALERT_PENDING };
	size_t		 i;
	int		 bad = 0;

	is_str(field_of("{\"name\":\"a\",\"series\":\"node:cpu_usage\","
			"\"op\":\">\",\"threshold\":90,\"clear_threshold\":85,"
			"\"for_seconds\":10}",
		   &r),
	    "", "the rule");
	memset(&t, 0, sizeof t);
	for (i = 0; i < HX_ARRAY_SIZE(vals); i++) {
		int c = hx_alert_feed(&r, &t, vals[i],
		    1000 + (int64_t)i * 2000);

		if (c != want[i] || (int)t.phase != phase[i]) {
			printf("# step %zu: value %g: change %d phase %d\n", i,
			    vals[i], c, t.phase);
			bad++;
		}
	}
	is_int(bad, 0, "pending, for_seconds, hysteresis on a known sequence");

	/* Fired at 10 s of holding, not before; peak kept. */
	memset(&t, 0, sizeof t);
	is_int(hx_alert_feed(&r, &t, 91, 0), HX_ALERT_NONE, "t=0 pending");
	is_int(hx_alert_feed(&r, &t, 99, 9999), HX_ALERT_NONE, "t=9.999 s");
	is_int(hx_alert_feed(&r, &t, 93, 10000), HX_ALERT_FIRED, "t=10 s");
	is_int(hx_alert_feed(&r, &t, 97, 11000), HX_ALERT_NONE, "firing");
	is_int(hx_alert_feed(&r, &t, NAN, 12000), HX_ALERT_NONE,
	    "an unknown value changes nothing");
	is_int(t.phase, HX_ALERT_FIRING, "still firing");
	is_int(hx_alert_feed(&r, &t, 85, 13000), HX_ALERT_NONE,
	    "85 is not below 85");
	is_int(hx_alert_feed(&r, &t, 84.9, 14000), HX_ALERT_RESOLVED,
	    "below the clear threshold resolves");
	ok(t.peak == 97, "the peak (%g)", t.peak);

	/* Silenced: pending never fires; firing still resolves. */
	memset(&t, 0, sizeof t);
	r.for_seconds = 0;
	r.silence_until_ms = 5000;
	is_int(hx_alert_feed(&r, &t, 95, 1000), HX_ALERT_NONE,
	    "silenced: no firing");
	is_int(t.phase, HX_ALERT_PENDING, "pending while silenced");
	is_int(hx_alert_feed(&r, &t, 95, 5000), HX_ALERT_FIRED,
	    "fires once the silence ends");
	r.silence_until_ms = 99999;
	is_int(hx_alert_feed(&r, &t, 10, 6000), HX_ALERT_RESOLVED,
	    "a firing alert resolves under a silence");

	/* Without clear_threshold: resolved once the condition fails. */
	r.silence_until_ms = 0;
	r.clear = NAN;
	memset(&t, 0, sizeof t);
	is_int(hx_alert_feed(&r, &t, 91, 0), HX_ALERT_FIRED,
	    "for 0 s fires at once");
	is_int(hx_alert_feed(&r, &t, 90, 1), HX_ALERT_RESOLVED,
	    "90 is not > 90: resolved");
	hx_alert_rule_release(&r);

	/* A status rule. */
	is_str(field_of("{\"name\":\"c\",\"status_of\":\"vm:*\","
			"\"equals\":\"crashed\"}",
		   &r),
	    "", "status rule");
	memset(&t, 0, sizeof t);
	is_int(hx_alert_step(&r, &t, 0, 1, NAN, 0), HX_ALERT_NONE, "running");
	is_int(hx_alert_step(&r, &t, 1, 0, NAN, 1), HX_ALERT_FIRED, "crashed");
	is_int(hx_alert_step(&r, &t, 1, 0, NAN, 2), HX_ALERT_NONE,
	    "crashed again: one episode");
	is_int(hx_alert_step(&r, &t, 0, 1, NAN, 3), HX_ALERT_RESOLVED,
	    "running again");
	hx_alert_rule_release(&r);
}

struct seen {
	int    n;
	double cpu, disk_var, core1, load5;
};

static void
seen_fn(const char *name, double v, void *arg)
{
	struct seen *s = arg;

	s->n++;
	if (strcmp(name, "node:cpu_usage") == 0)
		s->cpu = v;
	else if (strcmp(name, "node:disk:/var:usage") == 0)
		s->disk_var = v;
	else if (strcmp(name, "node:cpu_per_core:1") == 0)
		s->core1 = v;
	else if (strcmp(name, "node:load_average:5") == 0)
		s->load5 = v;
}

static void
test_walk(void)
{
	struct hx_node_metrics m;
	struct hx_node_disk    d[1];
	double		       cores[2] = { 10, 20 };
	struct seen	       s = { 0, NAN, NAN, NAN, NAN };

	memset(&m, 0, sizeof m);
	memset(d, 0, sizeof d);
	m.cpu_usage = 42;
	m.load_average[1] = 1.5;
	m.cpu_per_core = cores;
	m.cpu_cores = 2;
	d[0].mount = (char *)"/var";
	d[0].usage = 77;
	d[0].ok = 1;
	m.disks = d;
	m.ndisks = 1;
	hx_alert_walk(1, "node", &m, seen_fn, &s);
	ok(s.cpu == 42 && s.disk_var == 77 && s.core1 == 20 && s.load5 == 1.5,
	    "the walk names series as the history does (%g %g %g %g)", s.cpu,
	    s.disk_var, s.core1, s.load5);
}

int
main(void)
{
	test_validation();
	test_series();
	test_narrower();
	test_machine();
	test_walk();
	return done_testing();
}
