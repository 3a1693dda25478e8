/*
 * test-prom.c - the Prometheus exposition (horcruxd/prom.c): sample
 * values (NaN, infinities, whole numbers beyond 2^53, shortest round
 * trips), label escaping (quote, backslash, newline, Unicode, bytes that
 * are not UTF-8), and a rendering of a known host and VMs: names and
 * scales from the field tables, every series field exposed, nulls left
 * out, counters exact, filtering, horcrux_vm_state for every VM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-proto.h"
#include "hx-util.h"
#include "prom.h"
#include "tap.h"

#define UA "0b7e5a3c-0000-4000-8000-00000000000a"
#define UB "0b7e5a3c-0000-4000-8000-00000000000b"
#define UC "0b7e5a3c-0000-4000-8000-00000000000c"

static void
check_number(double v, const char *want)
{
	char out[PROM_NUMBER_MAX];

	prom_number(v, out, sizeof out);
	is_str(out, want, "number %s", want);
}

static void
check_label(const char *in, const char *want, const char *what)
{
	struct hx_buf b;

	hx_buf_init(&b, 0);
	is_int(prom_label_value(&b, in), 0, "label %s: fits", what);
	is_str(b.data, want, "label %s", what);
	hx_buf_release(&b);
}

static void
test_numbers(void)
{
	const double vs[] = { 0.1, 1.0 / 3, 123.456, 2.5e-300, 1e20,
		9007199254740993.0, -0.000123, 0.125 };
	char	     out[PROM_NUMBER_MAX];
	size_t	     i;

	check_number(NAN, "NaN");
	check_number(INFINITY, "+Inf");
	check_number(-INFINITY, "-Inf");
	check_number(0, "0");
	check_number(42, "42");
	check_number(-7, "-7");
	check_number(0.1, "0.1");
	check_number(0.125, "0.125");
	check_number(999999999999999.0, "999999999999999");
	/* 2^53 + 2, past whole-number printing: the shortest exact form. */
	check_number(9007199254740994.0, "9007199254740994");
	check_number(1e20, "1e+20");
	for (i = 0; i < HX_ARRAY_SIZE(vs); i++) {
		prom_number(vs[i], out, sizeof out);
		ok(strtod(out, NULL) == vs[i],
		    "%s reads back as the same "
		    "double",
		    out);
	}
}

static void
test_labels(void)
{
	struct hx_buf b;

	check_label("web-1", "\"web-1\"", "plain");
	check_label("", "\"\"", "empty");
	check_label("a\"b", "\"a\\\"b\"", "double quote");
	check_label("a\\b", "\"a\\\\b\"", "backslash");
	check_label("a\nb", "\"a\\nb\"", "newline");
	check_label("\\n", "\"\\\\n\"", "a backslash before n stays two");
	check_label("w\xc3\xa9"
		    "b-\xe2\x98\x83-\xf0\x9d\x84\x9e",
	    "\"w\xc3\xa9"
	    "b-\xe2\x98\x83-\xf0\x9d\x84\x9e\"",
	    "Unicode");
	check_label("tab\there\r", "\"tab\there\r\"", "other controls pass");
	check_label("x\xffy", "\"x\xef\xbf\xbdy\"", "a stray byte");
	check_label("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"", "overlong");
	check_label("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
	    "a surrogate");
	check_label("\xe2\x98", "\"\xef\xbf\xbd\xef\xbf\xbd\"", "cut short");
	hx_buf_init(&b, 4);
	is_int(prom_label_value(&b, "longer"), -1, "a label past the cap: -1");
	hx_buf_release(&b);
}

static struct hx_vm_sample *
sample(const char *name, const char *uuid)
{
	struct hx_vm_sample *s = xcalloc(1, sizeof *s);

	s->vm_id = xstrdup(name);
	s->name = xstrdup(name);
	s->uuid = xstrdup(uuid);
	s->state = "running";
	s->m.vm_id = s->vm_id;
	s->m.name = s->name;
	s->m.cpu_usage = 37.5;
	s->m.memory_usage = NAN;
	s->m.disk_read = INT64_C(1) << 60;
	s->m.disk_write = 0;
	s->m.network_rx = -1;
	s->m.network_tx = 12345;
	s->m.vcpus = 2;
	s->m.memory_bytes = 1073741824;
	s->m.memory_max_bytes = 2147483648;
	s->m.disk_read_bps = 1.5;
	s->m.disk_write_bps = NAN;
	s->m.network_rx_bps = 0;
	s->m.network_tx_bps = 8;
	s->ndisks = 1;
	s->disks = xcalloc(1, sizeof *s->disks);
	s->disks[0].target = xstrdup("vda");
	s->disks[0].a = 4096;
	s->disks[0].b = -1;
	return s;
}

static int
only_not_hidden(const char *vm_id, void *arg)
{
	return strcmp(vm_id, (const char *)arg) != 0;
}

static int
has_line(const char *text, const char *line)
{
	size_t	    n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	}
	return 0;
}

static size_t
count(const char *text, const char *needle)
{
	const char *p;
	size_t	    n = 0;

	for (p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Is every series field of event ev (and of its arrays) in a HELP line? */
static void
every_series_field(const char *text, int ev)
{
	const struct hx_event_info *e = &hx_events[ev];
	const struct hx_field	   *f;
	char			    help[128];
	size_t			    i, k;

	for (i = 0; i < e->nfields; i++) {
		f = &e->fields[i];
		if (f->ctype == HX_C_ARRAY) {
			for (k = 0; k < f->array->nfields; k++) {
				if (!(f->array->fields[k].flags & HX_F_SERIES))
					continue;
				snprintf(help, sizeof help, " %s %s", e->type,
				    f->array->fields[k].name);
				ok(strstr(text, help) != NULL,
				    "%s.%s.%s is "
				    "exposed",
				    e->type, f->name, f->array->fields[k].name);
			}
			continue;
		}
		if (!(f->flags & HX_F_SERIES))
			continue;
		snprintf(help, sizeof help, " %s %s", e->type, f->name);
		ok(strstr(text, help) != NULL, "%s.%s is exposed", e->type,
		    f->name);
	}
}

/* No family is declared twice, and every sample line follows its TYPE. */
static void
families_once(const char *text)
{
	char	   *copy = xstrdup(text), *line, *next, *sp;
	char	    cur[160] = "";
	const char *types[256];
	size_t	    ntypes = 0, i;
	int	    dup = 0, orphan = 0;

	for (line = copy; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sp = strchr(line + 7, ' ');
			if (sp != NULL)
				*sp = '\0';
			for (i = 0; i < ntypes; i++)
				dup |= strcmp(types[i], line + 7) == 0;
			if (ntypes < HX_ARRAY_SIZE(types))
				types[ntypes++] = line + 7;
			hx_strlcpy(cur, line + 7, sizeof cur);
		} else if (line[0] != '#') {
			sp = line + strcspn(line, "{ ");
			orphan |= (size_t)(sp - line) != strlen(cur) ||
			    strncmp(line, cur, strlen(cur)) != 0;
		}
	}
	ok(!dup, "no family is declared twice");
	ok(!orphan, "every sample follows its own family's TYPE");
	ok(ntypes > 20, "%zu families", ntypes);
	free(copy);
}

static void
test_render(void)
{
	struct hx_node_metrics	   nm;
	struct hx_vm_sample	  *a = sample("we\"b\\1\n\xe2\x98\x83", UA);
	struct hx_vm_sample	  *h = sample("hidden", UB);
	const struct hx_vm_sample *vms[2] = { a, h };
	struct prom_self	   self = { 3, UINT64_MAX, 7, 1, 2 };
	struct prom_input	   in;
	struct hx_buf		   b;
	json_t			  *inv;
	double			   cores[2] = { 100, 50 };

	memset(&nm, 0, sizeof nm);
	hx_strlcpy(nm.hostname, "host", sizeof nm.hostname);
	nm.cpu_usage = 12.5;
	nm.cpu_cores = 2;
	nm.cpu_per_core = cores;
	nm.memory_usage = 50;
	nm.memory_total_bytes = UINT64_MAX;
	nm.memory_used_bytes = 1;
	nm.memory_available_bytes = 2;
	nm.swap_usage = 0;
	nm.load_average[0] = 0.5;
	nm.load_average[1] = 1.25;
	nm.load_average[2] = NAN;
	nm.uptime_seconds = 3600.5;
	nm.disk_usage = 40;
	nm.disk_read_bps = NAN;
	nm.disk_write_bps = 1e20;
	nm.network_rx_bps = 0;
	nm.network_tx_bps = 1;
	nm.ndisks = 2;
	nm.disks = xcalloc(2, sizeof *nm.disks);
	nm.disks[0].mount = xstrdup("/");
	nm.disks[0].ok = 1;
	nm.disks[0].usage = 40;
	nm.disks[0].total_bytes = 1000;
	nm.disks[0].used_bytes = 400;
	nm.disks[0].avail_bytes = 600;
	nm.disks[1].mount = xstrdup("/gone");
	nm.disks[1].ok = 0;

	inv = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}]", "id",
	    a->vm_id, "uuid", UA, "state", "running", "id", "off", "uuid", UC,
	    "state", "stopped", "id", "hidden", "uuid", UB, "state", "running");
	memset(&in, 0, sizeof in);
	in.node = &nm;
	in.vms = vms;
	in.nvms = 2;
	in.inventory = inv;
	in.self = &self;
	in.vm_visible = only_not_hidden;
	in.arg = (void *)"hidden";
	hx_buf_init(&b, 0);
	is_int(prom_render(&b, &in), 0, "render");

	ok(has_line(b.data, "# TYPE horcrux_node_cpu_usage_ratio gauge"),
	    "percent: a gauge named _ratio");
	ok(has_line(b.data, "horcrux_node_cpu_usage_ratio 0.125"),
	    "percent / 100");
	ok(has_line(b.data, "horcrux_node_cpu_per_core_ratio{cpu=\"1\"} 0.5"),
	    "per CPU, labelled cpu");
	ok(has_line(b.data,
	       "horcrux_node_memory_total_bytes "
	       "18446744073709551615"),
	    "a 64-bit byte count, exact");
	ok(has_line(b.data, "horcrux_node_load1 0.5") &&
		has_line(b.data, "horcrux_node_load5 1.25"),
	    "load1, load5");
	ok(strstr(b.data, "horcrux_node_load15 ") == NULL,
	    "a null load "
	    "average is left out");
	ok(strstr(b.data, "horcrux_node_disk_read_bytes_per_second ") == NULL,
	    "a null rate is left out");
	ok(has_line(b.data, "horcrux_node_disk_write_bytes_per_second 1e+20"),
	    "bytes/s: _bytes_per_second");
	ok(has_line(b.data, "horcrux_node_uptime_seconds 3600.5"), "seconds");
	ok(has_line(b.data, "horcrux_node_mount_usage_ratio{mount=\"/\"} 0.4"),
	    "a mount, labelled mount");
	ok(has_line(b.data,
	       "horcrux_node_mount_available_bytes{mount=\"/\"} "
	       "600"),
	    "a mount's bytes");
	ok(strstr(b.data, "/gone") == NULL,
	    "an unreadable mount has no "
	    "series");
	ok(has_line(b.data,
	       "# HELP horcrux_node_cpu_usage_ratio NodeMetrics "
	       "cpu_usage: busy time of all CPUs, as a ratio (percent / 100)"),
	    "HELP from the field's doc");

#define VL "vm=\"we\\\"b\\\\1\\n\xe2\x98\x83\",vm_uuid=\"" UA "\""
	ok(has_line(b.data, "# TYPE horcrux_vm_disk_read_bytes_total counter"),
	    "a cumulative VM counter is a counter");
	ok(has_line(b.data,
	       "horcrux_vm_disk_read_bytes_total{" VL "} "
	       "1152921504606846976"),
	    "2^60 exact, the name escaped");
	ok(has_line(b.data, "horcrux_vm_disk_write_bytes_total{" VL "} 0"),
	    "a zero counter");
	ok(strstr(b.data, "horcrux_vm_network_rx_bytes_total{") == NULL,
	    "an unknown counter is left out");
	ok(has_line(b.data, "horcrux_vm_cpu_usage_ratio{" VL "} 0.375"),
	    "VM percent / 100");
	ok(strstr(b.data, "horcrux_vm_memory_usage_ratio{") == NULL,
	    "a null VM gauge is left out");
	ok(has_line(b.data, "horcrux_vm_vcpus{" VL "} 2"), "vcpus");
	ok(has_line(b.data, "horcrux_vm_memory_max_bytes{" VL "} 2147483648"),
	    "memory_max_bytes");
	ok(has_line(b.data,
	       "horcrux_vm_block_read_bytes_total{" VL ",device=\"vda\"} 4096"),
	    "per disk, labelled device");
	ok(strstr(b.data, "horcrux_vm_block_write_bytes_total{") == NULL,
	    "an unknown device counter is left out");
	ok(strstr(b.data, "hidden") == NULL && strstr(b.data, UB) == NULL,
	    "a VM the caller may not see is not there at all");
	ok(has_line(b.data,
	       "horcrux_vm_state{vm=\"off\",vm_uuid=\"" UC
	       "\",state=\"stopped\"} 1"),
	    "a stopped VM's state");
	ok(has_line(b.data,
	       "horcrux_vm_state{vm=\"off\",vm_uuid=\"" UC
	       "\",state=\"running\"} 0"),
	    "and the states it is not in");
	is_int(count(b.data, "horcrux_vm_state{vm=\"off\""), 7,
	    "one series per possible state");
	is_int(count(b.data, "state=\"running\"} 1"), 1,
	    "one VM running "
	    "(of the visible)");
	ok(has_line(b.data, "horcrux_ws_sessions 3"), "sessions");
	ok(has_line(b.data,
	       "horcrux_ws_frames_sent_total "
	       "18446744073709551615"),
	    "frames sent");
	ok(has_line(b.data, "horcrux_ws_frames_coalesced_total 7"),
	    "frames coalesced");
	ok(has_line(b.data, "horcrux_ws_sessions_msgpack 2"),
	    "msgpack sessions");
	ok(has_line(b.data, "horcrux_ws_sessions_closed_slow_total 1"),
	    "slow closes");
	families_once(b.data);
	ok(b.len > 0 && b.data[b.len - 1] == '\n', "ends with a newline");

	/* Every value known: every series field of the tables is there. */
	nm.disk_read_bps = nm.load_average[2] = 1;
	a->m.memory_usage = a->m.disk_write_bps = 1;
	a->m.network_rx = 1;
	hx_buf_reset(&b);
	is_int(prom_render(&b, &in), 0, "render with every value known");
	every_series_field(b.data, HX_EV_NODE_METRICS);
	every_series_field(b.data, HX_EV_VM_METRICS);

	/* No node, no self: only what the caller may see. */
	hx_buf_reset(&b);
	in.node = NULL;
	in.self = NULL;
	is_int(prom_render(&b, &in), 0, "render without the node");
	ok(strstr(b.data, "horcrux_node_") == NULL &&
		strstr(b.data, "horcrux_ws_") == NULL,
	    "no node or self series");
	ok(strstr(b.data, "horcrux_vm_state{") != NULL, "VM states stay");
	hx_buf_release(&b);

	hx_buf_init(&b, 64);
	in.node = &nm;
	is_int(prom_render(&b, &in), -1, "past the buffer's cap: -1");
	hx_buf_release(&b);

	nm.cpu_per_core = NULL;
	hx_node_metrics_release(&nm);
	hx_vm_samples_free(a, 1);
	hx_vm_samples_free(h, 1);
	json_decref(inv);
}

int
main(void)
{
	test_numbers();
	test_labels();
	test_render();
	return done_testing();
}
