/*
 * test-proc.c - unit tests for the /proc parsers and the df arithmetic
 * (lib/hx-proc.c).
 *
 * Each parser runs on the fixtures in tests/fixtures/proc, whose expected
 * values were worked out by hand (the comments show the sums), and on
 * malformed, truncated, empty and oversized text built here. The sampler
 * that combines them over time is tested in test-node.c. Run from the top
 * of the source tree, where the fixtures are found.
 */
#include <sys/statvfs.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "hx-proc.h"
#include "hx-util.h"

/* tests/unit/test-proc.c -> tests/fixtures/proc, from __FILE__. */
static char *
fixture_path(const char *name)
{
	const char *f = __FILE__, *u;

	if ((u = strstr(f, "unit/test-proc.c")) == NULL)
		return xasprintf("tests/fixtures/proc/%s", name);
	return xasprintf("%.*sfixtures/proc/%s", (int)(u - f), f, name);
}

/* A fixture's text; the caller frees. Empty (and a failed test) if absent. */
static char *
fixture(const char *name)
{
	char *path, *text;

	path = fixture_path(name);
	text = hx_read_file(path, 1 << 20, NULL);
	ok(text != NULL, "fixture %s is readable", name);
	free(path);
	return text != NULL ? text : xstrdup("");
}

/* Run the stat parser on a fixture expected to fail; check the message. */
static void
stat_fails(const char *name, const char *want)
{
	struct hx_proc_stat st;
	char		   *text, *err = NULL;

	text = fixture(name);
	is_int(hx_proc_stat_parse(text, &st, &err), -1, "%s: fails", name);
	is_str(err, want, "%s: message", name);
	ok(st.cpus == NULL && st.ncpus == 0, "%s: output left empty", name);
	hx_proc_stat_release(&st);
	free(err);
	free(text);
}

static void
test_stat(void)
{
	struct hx_proc_stat st;
	char		   *text, *err = NULL;

	text = fixture("stat");
	is_int(hx_proc_stat_parse(text, &st, &err), 0, "stat: parses");
	is_str(err, NULL, "stat: no message");
	is_int(st.total.id, -1, "stat: total id");
	is_int(st.total.user, 1000, "stat: total user (guest 50 not added)");
	is_int(st.total.nice, 20, "stat: total nice (guest_nice 0)");
	is_int(st.total.system, 300, "stat: total system");
	is_int(st.total.idle, 5000, "stat: total idle");
	is_int(st.total.iowait, 100, "stat: total iowait");
	is_int(st.total.irq, 10, "stat: total irq");
	is_int(st.total.softirq, 20, "stat: total softirq");
	is_int(st.total.steal, 5, "stat: total steal");
	is_int(st.ncpus, 2, "stat: 2 cpus, intr/ctxt/softirq lines skipped");
	is_int(st.cpus[0].id, 0, "stat: cpu0 id");
	is_int(st.cpus[0].user, 600, "stat: cpu0 user");
	is_int(st.cpus[0].steal, 3, "stat: cpu0 steal");
	is_int(st.cpus[1].id, 1, "stat: cpu1 id");
	is_int(st.cpus[1].idle, 2600, "stat: cpu1 idle");
	is_int(st.cpus[1].iowait, 40, "stat: cpu1 iowait");
	hx_proc_stat_release(&st);
	hx_proc_stat_release(&st);
	ok(st.cpus == NULL, "stat: release twice is harmless");
	free(text);

	/* 2.4: user nice system idle only; the rest reads as 0. */
	text = fixture("stat-old");
	is_int(hx_proc_stat_parse(text, &st, NULL), 0, "stat-old: parses");
	is_int(st.total.user, 100, "stat-old: user");
	is_int(st.total.nice, 2, "stat-old: nice");
	is_int(st.total.system, 30, "stat-old: system");
	is_int(st.total.idle, 500, "stat-old: idle");
	ok(st.total.iowait == 0 && st.total.irq == 0 && st.total.softirq == 0 &&
		st.total.steal == 0,
	    "stat-old: missing fields are 0");
	is_int(st.ncpus, 1, "stat-old: 1 cpu, 'disk'/'page'/'swap' skipped");
	hx_proc_stat_release(&st);
	free(text);

	text = fixture("stat-hotplug");
	is_int(hx_proc_stat_parse(text, &st, NULL), 0, "stat-hotplug: parses");
	is_int(st.ncpus, 3, "stat-hotplug: 3 online cpus");
	ok(st.cpus[0].id == 0 && st.cpus[1].id == 2 && st.cpus[2].id == 3,
	    "stat-hotplug: ids 0 2 3 (cpu1 offline)");
	hx_proc_stat_release(&st);
	free(text);

	stat_fails("stat-bad-number",
	    "cannot parse /proc/stat line 2: bad number in field 7: '1x'");
	stat_fails("stat-few-fields",
	    "cannot parse /proc/stat line 2: 3 fields, want at least 4");
	stat_fails("stat-truncated",
	    "cannot parse /proc/stat: truncated (no final newline)");
	stat_fails("stat-no-total", "cannot parse /proc/stat: no 'cpu' line");
	stat_fails("stat-no-cpus", "cannot parse /proc/stat: no 'cpuN' line");
	stat_fails("stat-dup-cpu",
	    "cannot parse /proc/stat: cpu0 listed twice");
	stat_fails("stat-bad-name",
	    "cannot parse /proc/stat line 2: bad cpu name 'cpu1x'");
	/* Line 1 holds UINT64_MAX, which fits; line 2 one more does not. */
	stat_fails("stat-overflow",
	    "cannot parse /proc/stat line 2: "
	    "bad number in field 1: '18446744073709551616'");
}

static void
test_stat_edges(void)
{
	struct hx_proc_stat st;
	struct hx_buf	    b;
	char		   *err = NULL;
	size_t		    i;
	int		    sorted;

	is_int(hx_proc_stat_parse("", &st, &err), -1, "stat empty: fails");
	is_str(err, "cannot parse /proc/stat: empty", "stat empty: message");
	free(err);
	err = NULL;
	is_int(hx_proc_stat_parse(NULL, &st, &err), -1, "stat NULL: fails");
	free(err);
	is_int(hx_proc_stat_parse("\n\n", &st, NULL), -1,
	    "stat blank lines: fails, err may be NULL");

	is_int(hx_proc_stat_parse("cpu 1 2 3 4\ncpu0 1 2 3 4\n", &st, NULL), 0,
	    "stat: one space after 'cpu' is fine");
	hx_proc_stat_release(&st);
	is_int(hx_proc_stat_parse("cpu 1 2 3 4\ncpufreq x\ncpu0 1 2 3 4\n", &st,
		   NULL),
	    0, "stat: an unknown 'cpu...' line is skipped");
	is_int(st.ncpus, 1, "stat: unknown line not taken for a cpu");
	hx_proc_stat_release(&st);
	is_int(hx_proc_stat_parse("cpu 1 2 3 -4\ncpu0 1 2 3 4\n", &st, &err),
	    -1, "stat: negative field fails");
	is_str(err,
	    "cannot parse /proc/stat line 1: bad number in field 4: "
	    "'-4'",
	    "stat: negative field message");
	free(err);
	err = NULL;
	is_int(hx_proc_stat_parse("cpu 1 2 3 4\ncpu0 1 2 3 4\r\n", &st, &err),
	    -1, "stat: CR is not a separator");
	is_str(err,
	    "cannot parse /proc/stat line 2: bad number in field 4: "
	    "'4?'",
	    "stat: control byte shown as '?'");
	free(err);
	err = NULL;
	is_int(hx_proc_stat_parse("cpu 1 2 3 4\ncpu4194304 1 2 3 4\n", &st,
		   NULL),
	    0, "stat: cpu4194304 is the highest id");
	is_int(st.cpus[0].id, 4194304, "stat: high id kept");
	hx_proc_stat_release(&st);
	is_int(hx_proc_stat_parse("cpu 1 2 3 4\ncpu4194305 1 2 3 4\n", &st,
		   &err),
	    -1, "stat: cpu4194305 fails");
	is_str(err,
	    "cannot parse /proc/stat line 2: bad cpu name "
	    "'cpu4194305'",
	    "stat: id too high message");
	free(err);
	err = NULL;
	is_int(hx_proc_stat_parse("cpu 1 2 3 4\ncpu 1 2 3 4\ncpu0 1 2 3 4\n",
		   &st, &err),
	    -1, "stat: two total lines fail");
	is_str(err, "cannot parse /proc/stat line 2: second 'cpu' line",
	    "stat: two total lines message");
	free(err);
	err = NULL;

	/* Oversized: a 40,000-field line, and 5000 CPUs listed backwards. */
	hx_buf_init(&b, 0);
	hx_buf_add(&b, "cpu 1 2 3 4 5 6 7 8", 19);
	for (i = 0; i < 40000; i++)
		hx_buf_addf(&b, " %zu", i);
	hx_buf_add(&b, "\n", 1);
	for (i = 5000; i-- > 0;)
		hx_buf_addf(&b, "cpu%zu %zu 0 0 1\n", i, i);
	is_int(hx_proc_stat_parse(b.data, &st, &err), 0,
	    "stat oversized: parses");
	is_int(st.total.steal, 8, "stat oversized: fields past 8 ignored");
	is_int(st.ncpus, 5000, "stat oversized: 5000 cpus");
	sorted = 1;
	for (i = 0; i < st.ncpus; i++)
		sorted &= st.cpus[i].id == (int)i && st.cpus[i].user == i;
	ok(sorted, "stat oversized: sorted by id");
	hx_proc_stat_release(&st);

	/* A 1000-byte bad token is cut in the message. */
	hx_buf_reset(&b);
	hx_buf_add(&b, "cpu 1 2 3 ", 10);
	for (i = 0; i < 1000; i++)
		hx_buf_add(&b, "x", 1);
	hx_buf_add(&b, "\ncpu0 1 2 3 4\n", 14);
	is_int(hx_proc_stat_parse(b.data, &st, &err), -1,
	    "stat long token: fails");
	is_str(err,
	    "cannot parse /proc/stat line 1: bad number in field 4: "
	    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'",
	    "stat long token: cut to 36 bytes");
	free(err);
	hx_buf_release(&b);
}

static void
test_real_mounts(void)
{
	const char *text = "proc /proc proc rw,relatime 0 0\n"
			   "sysfs /sys sysfs rw 0 0\n"
			   "/dev/sda2 /boot ext4 rw 0 0\n"
			   "/dev/sda1 / ext4 rw,relatime 0 0\n"
			   "tmpfs /run tmpfs rw 0 0\n"
			   "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n"
			   "overlay /var/lib/docker/x/merged overlay rw 0 0\n"
			   "/dev/loop3 /snap/core/1 squashfs ro 0 0\n"
			   "/dev/sdb1 /srv/my\\040data xfs rw 0 0\n"
			   "/dev/sda1 /mnt/bind ext4 rw 0 0\n"
			   "garbage\n"
			   "server:/export /net/home nfs4 rw 0 0";
	char	  **m;
	size_t	    n, i;

	m = hx_proc_real_mounts(text, &n);
	is_int(n, 4,
	    "real mounts: four (pseudo types, a bind mount and "
	    "a bad line left out)");
	is_str(n > 0 ? m[0] : NULL, "/", "real mounts: / first");
	is_str(n > 1 ? m[1] : NULL, "/boot", "real mounts: then mount order");
	is_str(n > 2 ? m[2] : NULL, "/srv/my data",
	    "real mounts: \\040 decoded to a space");
	is_str(n > 3 ? m[3] : NULL, "/net/home", "real mounts: NFS is real");
	for (i = 0; i < n; i++)
		free(m[i]);
	free(m);
	m = hx_proc_real_mounts("proc /proc proc rw 0 0\n", &n);
	ok(m == NULL && n == 0, "real mounts: none is NULL and 0");
}

static void
test_cpu_usage(void)
{
	struct hx_proc_cpu	 a, b;
	struct hx_proc_cpu_split sp;

	memset(&a, 0, sizeof a);
	a.user = 100;
	a.nice = 10;
	a.system = 50;
	a.idle = 1000;
	a.iowait = 40;
	a.irq = 5;
	a.softirq = 5;
	a.steal = 0;
	b = a;
	/* busy: 20+0+10+2+3+5 = 40; idle: 50+10 = 60; 40/100. */
	b.user += 20;
	b.system += 10;
	b.irq += 2;
	b.softirq += 3;
	b.steal += 5;
	b.idle += 50;
	b.iowait += 10;
	is_near(hx_proc_cpu_usage(&a, &b), 40.0, 1e-9, "cpu usage: 40%%");
	ok(isnan(hx_proc_cpu_usage(&a, &a)), "cpu usage: no tick is NaN");
	/* The split of the same 100 ticks. */
	is_int(hx_proc_cpu_split(&a, &b, &sp), 0, "cpu split: computed");
	is_near(sp.user, 20.0, 1e-9, "cpu split: user 20%% (user + nice)");
	is_near(sp.system, 15.0, 1e-9,
	    "cpu split: system 15%% (system + irq + softirq)");
	is_near(sp.iowait, 10.0, 1e-9, "cpu split: iowait 10%%");
	is_near(sp.steal, 5.0, 1e-9, "cpu split: steal 5%%");
	is_near(sp.user + sp.system + sp.steal, hx_proc_cpu_usage(&a, &b), 1e-9,
	    "cpu split: user + system + steal is the usage");
	ok(hx_proc_cpu_split(&a, &a, &sp) == -1 && isnan(sp.user) &&
		isnan(sp.system) && isnan(sp.iowait) && isnan(sp.steal),
	    "cpu split: no tick is -1 and all NaN");

	/* proc(5): iowait may drop; idle+iowait still rose by 50. */
	b = a;
	b.user += 10;
	b.idle += 60;
	b.iowait -= 10;
	is_near(hx_proc_cpu_usage(&a, &b), 10.0 / 60.0 * 100.0, 1e-9,
	    "cpu usage: iowait dropping alone is not a reset");
	ok(hx_proc_cpu_split(&a, &b, &sp) == 0 && isnan(sp.iowait) &&
		fabs(sp.user - 10.0 / 60.0 * 100.0) < 1e-9,
	    "cpu split: iowait dropping leaves iowait alone NaN");
	b.idle -= 60;
	ok(isnan(hx_proc_cpu_usage(&a, &b)),
	    "cpu usage: idle+iowait dropping is a reset (NaN)");
	b = a;
	b.idle += 100;
	b.steal = a.steal;
	b.system -= 1;
	ok(isnan(hx_proc_cpu_usage(&a, &b)),
	    "cpu usage: system going backwards is NaN");
	b = a;
	b.user += 100;
	is_near(hx_proc_cpu_usage(&a, &b), 100.0, 1e-9, "cpu usage: 100%%");
	b = a;
	b.idle += 100;
	is_near(hx_proc_cpu_usage(&a, &b), 0.0, 1e-9, "cpu usage: 0%%");
	a.idle = UINT64_MAX;
	b = a;
	ok(isnan(hx_proc_cpu_usage(&a, &b)),
	    "cpu usage: overflowing idle sum is NaN, not a wrap");
}

static void
meminfo_fails(const char *name, const char *want)
{
	struct hx_proc_meminfo mi;
	char		      *text, *err = NULL;

	text = fixture(name);
	is_int(hx_proc_meminfo_parse(text, &mi, &err), -1, "%s: fails", name);
	is_str(err, want, "%s: message", name);
	ok(mi.total == 0 && mi.swap_free == 0, "%s: output zeroed", name);
	free(err);
	free(text);
}

static void
test_meminfo(void)
{
	struct hx_proc_meminfo mi;
	char		      *text, *err = NULL;

	text = fixture("meminfo");
	is_int(hx_proc_meminfo_parse(text, &mi, &err), 0, "meminfo: parses");
	is_str(err, NULL, "meminfo: no message");
	is_int(mi.total, 16000000ULL * 1024, "meminfo: MemTotal in bytes");
	is_int(mi.free, 2000000ULL * 1024, "meminfo: MemFree");
	is_int(mi.available, 8000000ULL * 1024, "meminfo: MemAvailable");
	is_int(mi.available_estimated, 0, "meminfo: available not estimated");
	is_int(mi.buffers, 500000ULL * 1024, "meminfo: Buffers");
	is_int(mi.cached, 4000000ULL * 1024, "meminfo: Cached, not SwapCached");
	is_int(mi.swap_total, 4000000ULL * 1024, "meminfo: SwapTotal");
	is_int(mi.swap_free, 3000000ULL * 1024, "meminfo: SwapFree");
	free(text);

	/* Before 3.14: 100000 + 50000 + 250000 kB. */
	text = fixture("meminfo-old");
	is_int(hx_proc_meminfo_parse(text, &mi, NULL), 0,
	    "meminfo-old: parses");
	is_int(mi.available, 400000ULL * 1024,
	    "meminfo-old: available = free + buffers + cached");
	is_int(mi.available_estimated, 1, "meminfo-old: marked estimated");
	is_int(mi.swap_total, 0, "meminfo-old: no swap");
	free(text);

	is_int(
	    hx_proc_meminfo_parse(
		"MemTotal: 100 kB\nMemFree: 60 kB\n"
		"Buffers: 30 kB\nCached: 30 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
		&mi, NULL),
	    0, "meminfo estimate over total: parses");
	is_int(mi.available, 100 * 1024, "meminfo estimate capped at total");

	meminfo_fails("meminfo-bad-number",
	    "cannot parse /proc/meminfo line 2: bad number for MemFree: 'abc'");
	meminfo_fails("meminfo-missing",
	    "cannot parse /proc/meminfo: no SwapFree");
	meminfo_fails("meminfo-bad-unit",
	    "cannot parse /proc/meminfo line 1: MemTotal is not in kB");
	meminfo_fails("meminfo-truncated",
	    "cannot parse /proc/meminfo: truncated (no final newline)");

	is_int(hx_proc_meminfo_parse("", &mi, &err), -1,
	    "meminfo empty: fails");
	is_str(err, "cannot parse /proc/meminfo: empty",
	    "meminfo empty: message");
	free(err);
	err = NULL;
	is_int(hx_proc_meminfo_parse("MemTotal: 1 kB\nMemTotal: 2 kB\n", &mi,
		   &err),
	    -1, "meminfo duplicate: fails");
	is_str(err, "cannot parse /proc/meminfo line 2: MemTotal given twice",
	    "meminfo duplicate: message");
	free(err);
	err = NULL;
	is_int(hx_proc_meminfo_parse("MemTotal:\n", &mi, &err), -1,
	    "meminfo no value: fails");
	is_str(err, "cannot parse /proc/meminfo line 1: MemTotal has no value",
	    "meminfo no value: message");
	free(err);
	err = NULL;
	is_int(hx_proc_meminfo_parse("MemTotal: 1 kB extra\n", &mi, &err), -1,
	    "meminfo trailing junk: fails");
	free(err);
	err = NULL;
	/* UINT64_MAX / 1024 = 18014398509481983 kB fits, one more does not. */
	is_int(hx_proc_meminfo_parse("MemTotal: 18014398509481984 kB\n", &mi,
		   &err),
	    -1, "meminfo oversized: fails");
	is_str(err, "cannot parse /proc/meminfo line 1: MemTotal is too large",
	    "meminfo oversized: message");
	free(err);
	is_int(
	    hx_proc_meminfo_parse(
		"MemTotal: 18014398509481983 kB\n"
		"MemFree: 0 kB\nBuffers: 0 kB\nCached: 0 kB\nSwapTotal: 0 kB\n"
		"SwapFree: 0 kB\n",
		&mi, NULL),
	    0, "meminfo largest: parses");
	is_int(mi.total == 18014398509481983ULL * 1024, 1,
	    "meminfo largest: exact");
	/* A key that merely starts like ours is not ours. */
	is_int(
	    hx_proc_meminfo_parse(
		"MemTotalX: x\nMemTotal: 1 kB\n"
		"MemFree: 0 kB\nBuffers: 0 kB\nCached: 0 kB\nSwapTotal: 0 kB\n"
		"SwapFree: 0 kB\n",
		&mi, NULL),
	    0, "meminfo: similar key skipped");
}

static void
test_loadavg_uptime(void)
{
	double la[3] = { -1, -1, -1 }, up = -1;
	char  *text, *err = NULL;

	text = fixture("loadavg");
	is_int(hx_proc_loadavg_parse(text, la, &err), 0, "loadavg: parses");
	is_near(la[0], 0.52, 1e-12, "loadavg: 1 min");
	is_near(la[1], 1.07, 1e-12, "loadavg: 5 min");
	is_near(la[2], 12.25, 1e-12, "loadavg: 15 min");
	free(text);

	text = fixture("loadavg-bad");
	is_int(hx_proc_loadavg_parse(text, la, &err), -1, "loadavg-bad: fails");
	is_str(err, "cannot parse /proc/loadavg: bad number in field 2: 'x'",
	    "loadavg-bad: message");
	is_near(la[0], 0.52, 1e-12, "loadavg-bad: output untouched");
	free(err);
	err = NULL;
	free(text);

	text = fixture("loadavg-short");
	is_int(hx_proc_loadavg_parse(text, la, &err), -1,
	    "loadavg-short: fails");
	is_str(err, "cannot parse /proc/loadavg: 2 fields, want 3",
	    "loadavg-short: message");
	free(err);
	err = NULL;
	free(text);

	text = fixture("uptime");
	is_int(hx_proc_uptime_parse(text, &up, NULL), 0, "uptime: parses");
	is_near(up, 12345.67, 1e-9, "uptime: first number");
	free(text);

	text = fixture("uptime-truncated");
	is_int(hx_proc_uptime_parse(text, &up, &err), -1,
	    "uptime-truncated: fails");
	is_str(err, "cannot parse /proc/uptime: truncated (no final newline)",
	    "uptime-truncated: message");
	free(err);
	err = NULL;
	free(text);

	text = fixture("uptime-negative");
	is_int(hx_proc_uptime_parse(text, &up, &err), -1,
	    "uptime-negative: fails");
	is_str(err,
	    "cannot parse /proc/uptime: bad number in field 1: "
	    "'-5.00'",
	    "uptime-negative: message");
	free(err);
	err = NULL;
	free(text);

	is_int(hx_proc_uptime_parse("", &up, &err), -1, "uptime empty: fails");
	is_str(err, "cannot parse /proc/uptime: empty",
	    "uptime empty: message");
	free(err);
	is_int(hx_proc_uptime_parse("\n", &up, NULL), -1,
	    "uptime blank: fails");
	is_int(hx_proc_uptime_parse("1.\n", &up, NULL), -1,
	    "uptime '1.' fails");
	is_int(hx_proc_uptime_parse(".5\n", &up, NULL), -1,
	    "uptime '.5' fails");
	is_int(hx_proc_uptime_parse("1.2.3\n", &up, NULL), -1,
	    "uptime '1.2.3' fails");
	is_int(hx_proc_uptime_parse("1e3\n", &up, NULL), -1,
	    "uptime '1e3' fails");
	is_int(hx_proc_uptime_parse("42\n", &up, NULL), 0,
	    "uptime '42' parses");
	is_near(up, 42.0, 0, "uptime '42' value");
	is_int(hx_proc_uptime_parse("1.12345678901234567890123456789\n", &up,
		   NULL),
	    0, "uptime long fraction parses");
	is_near(up, 1.1234567890123457, 1e-15, "uptime long fraction value");
	is_int(hx_proc_uptime_parse("99999999999999999999.5\n", &up, NULL), -1,
	    "uptime oversized integer part fails");
}

/* The whole disks in the diskstats fixture. */
static int
keep_whole(const char *name, void *arg)
{
	int *calls = arg;

	(*calls)++;
	return strcmp(name, "sda") == 0 || strcmp(name, "nvme0n1") == 0;
}

static void
diskstats_fails(const char *name, const char *want)
{
	struct hx_proc_diskstats ds;
	char			*text, *err = NULL;

	text = fixture(name);
	is_int(hx_proc_diskstats_parse(text, NULL, NULL, &ds, &err), -1,
	    "%s: fails", name);
	is_str(err, want, "%s: message", name);
	ok(ds.disks == NULL && ds.ndisks == 0, "%s: output empty", name);
	free(err);
	free(text);
}

static void
test_diskstats(void)
{
	struct hx_proc_diskstats ds;
	char			*text, *err = NULL;
	int			 calls = 0;

	text = fixture("diskstats");
	is_int(hx_proc_diskstats_parse(text, NULL, NULL, &ds, &err), 0,
	    "diskstats: parses");
	is_int(ds.ndisks, 6, "diskstats: all 6 devices without a filter");
	is_str(ds.disks[0].name, "sda", "diskstats: first name");
	is_int(ds.disks[0].read_bytes, 20000ULL * 512,
	    "diskstats: sda read = field 6 * 512");
	is_int(ds.disks[0].write_bytes, 40000ULL * 512,
	    "diskstats: sda written = field 10 * 512");
	is_str(ds.disks[4].name, "dm-0", "diskstats: dm-0 kept too");
	hx_proc_diskstats_release(&ds);

	is_int(hx_proc_diskstats_parse(text, keep_whole, &calls, &ds, NULL), 0,
	    "diskstats filtered: parses");
	is_int(calls, 6, "diskstats filtered: predicate asked per device");
	is_int(ds.ndisks, 2, "diskstats filtered: 2 whole disks");
	is_str(ds.disks[0].name, "sda", "diskstats filtered: sda");
	is_str(ds.disks[1].name, "nvme0n1", "diskstats filtered: nvme0n1");
	is_int(ds.disks[1].read_bytes, 8000ULL * 512,
	    "diskstats filtered: nvme0n1 read");
	is_int(ds.disks[1].write_bytes, 9000ULL * 512,
	    "diskstats filtered: nvme0n1 written");
	hx_proc_diskstats_release(&ds);
	hx_proc_diskstats_release(&ds);
	free(text);

	text = fixture("diskstats-old");
	is_int(hx_proc_diskstats_parse(text, NULL, NULL, &ds, NULL), 0,
	    "diskstats-old: parses");
	is_int(ds.ndisks, 2, "diskstats-old: 2 devices");
	is_int(ds.disks[0].read_bytes, 9550688ULL * 512,
	    "diskstats-old: 14-column disk read");
	is_int(ds.disks[0].write_bytes, 5922052ULL * 512,
	    "diskstats-old: 14-column disk written");
	is_int(ds.disks[1].read_bytes, 71000ULL * 512,
	    "diskstats-old: 7-column partition read");
	is_int(ds.disks[1].write_bytes, 16000ULL * 512,
	    "diskstats-old: 7-column partition written");
	hx_proc_diskstats_release(&ds);
	free(text);

	diskstats_fails("diskstats-short",
	    "cannot parse /proc/diskstats line 2: 10 fields, want at least 14");
	diskstats_fails("diskstats-bad-number",
	    "cannot parse /proc/diskstats "
	    "line 1: bad number in field 10: '4OOOO'");
	diskstats_fails("diskstats-truncated",
	    "cannot parse /proc/diskstats: truncated (no final newline)");

	is_int(hx_proc_diskstats_parse("", NULL, NULL, &ds, NULL), 0,
	    "diskstats empty: a host without block devices");
	is_int(ds.ndisks, 0, "diskstats empty: no devices");
	hx_proc_diskstats_release(&ds);
	is_int(
	    hx_proc_diskstats_parse(
		"8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n",
		NULL, NULL, &ds, NULL),
	    0, "diskstats: extra future columns ok");
	is_int(ds.disks[0].write_bytes, 7 * 512,
	    "diskstats: extra columns "
	    "do not shift the fields");
	hx_proc_diskstats_release(&ds);
	is_int(hx_proc_diskstats_parse("x 0 sda 1 2 3 4 5 6 7 8 9 10 11\n",
		   NULL, NULL, &ds, &err),
	    -1, "diskstats: bad major fails");
	is_str(err,
	    "cannot parse /proc/diskstats line 1: bad number in "
	    "field 1: 'x'",
	    "diskstats: bad major message");
	free(err);
}

static void
netdev_fails(const char *name, const char *want)
{
	struct hx_proc_netdev nd;
	char		     *text, *err = NULL;

	text = fixture(name);
	is_int(hx_proc_netdev_parse(text, &nd, &err), -1, "%s: fails", name);
	is_str(err, want, "%s: message", name);
	ok(nd.ifs == NULL && nd.nifs == 0, "%s: output empty", name);
	free(err);
	free(text);
}

static void
test_netdev(void)
{
	static const char    *hdr = "Inter-| Receive | Transmit\n"
				    " face |bytes | bytes\n";
	struct hx_proc_netdev nd;
	char		     *text, *err = NULL, *s;

	text = fixture("net-dev");
	is_int(hx_proc_netdev_parse(text, &nd, &err), 0, "net-dev: parses");
	is_int(nd.nifs, 2, "net-dev: lo left out");
	is_str(nd.ifs[0].name, "eth0", "net-dev: eth0");
	is_int(nd.ifs[0].rx_bytes, 1000000, "net-dev: eth0 rx bytes");
	is_int(nd.ifs[0].tx_bytes, 500000, "net-dev: eth0 tx bytes");
	is_str(nd.ifs[1].name, "wlan0", "net-dev: wlan0");
	is_int(nd.ifs[1].rx_bytes, 0, "net-dev: wlan0 rx");
	hx_proc_netdev_release(&nd);
	hx_proc_netdev_release(&nd);
	free(text);

	text = fixture("net-dev-old");
	is_int(hx_proc_netdev_parse(text, &nd, NULL), 0, "net-dev-old: parses");
	is_int(nd.nifs, 1, "net-dev-old: lo left out");
	is_str(nd.ifs[0].name, "eth0", "net-dev-old: name before the colon");
	is_int(nd.ifs[0].rx_bytes, 98765432,
	    "net-dev-old: rx glued to the colon");
	is_int(nd.ifs[0].tx_bytes, 87654321, "net-dev-old: tx");
	hx_proc_netdev_release(&nd);
	free(text);

	netdev_fails("net-dev-no-colon",
	    "cannot parse /proc/net/dev line 3: no ':' after the name");
	netdev_fails("net-dev-short",
	    "cannot parse /proc/net/dev line 3: 9 fields, want at least 16");
	netdev_fails("net-dev-no-header",
	    "cannot parse /proc/net/dev line 1: bad header");

	is_int(hx_proc_netdev_parse("", &nd, &err), -1, "net-dev empty: fails");
	is_str(err, "cannot parse /proc/net/dev: empty",
	    "net-dev empty: message");
	free(err);
	err = NULL;
	is_int(hx_proc_netdev_parse("Inter-| Receive | Transmit\n", &nd, &err),
	    -1, "net-dev one header line: fails");
	is_str(err, "cannot parse /proc/net/dev: no header",
	    "net-dev one header line: message");
	free(err);
	err = NULL;
	is_int(hx_proc_netdev_parse(hdr, &nd, NULL), 0,
	    "net-dev headers only: no interfaces");
	is_int(nd.nifs, 0, "net-dev headers only: 0");

	s = xasprintf("%s  e th0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	    hdr);
	is_int(hx_proc_netdev_parse(s, &nd, &err), -1,
	    "net-dev: space in name");
	is_str(err, "cannot parse /proc/net/dev line 3: bad interface name",
	    "net-dev: space in name message");
	free(err);
	err = NULL;
	free(s);
	s = xasprintf("%s : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", hdr);
	is_int(hx_proc_netdev_parse(s, &nd, NULL), -1, "net-dev: empty name");
	free(s);
	/* The first ':' ends the name, so a second one is in the numbers. */
	s = xasprintf("%s eth0:1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	    hdr);
	is_int(hx_proc_netdev_parse(s, &nd, NULL), -1,
	    "net-dev: second ':' fails");
	free(s);
	s = xasprintf(
	    "%s lo0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	    " vnet12: 18446744073709551615 0 0 0 0 0 0 0 7 0 0 0 0 0 0 0\n",
	    hdr);
	is_int(hx_proc_netdev_parse(s, &nd, NULL), 0,
	    "net-dev: lo0 and vnet12 parse");
	is_int(nd.nifs, 2, "net-dev: only exactly 'lo' is left out");
	ok(nd.ifs[1].rx_bytes == UINT64_MAX, "net-dev: UINT64_MAX rx");
	is_int(nd.ifs[1].tx_bytes, 7, "net-dev: tx is field 9");
	hx_proc_netdev_release(&nd);
	free(s);
}

static void
test_df(void)
{
	struct statvfs	   sv;
	struct hx_fs_usage fu;

	/* 1000 blocks of 4 KiB, 400 free of which 300 for non-root. */
	memset(&sv, 0, sizeof sv);
	sv.f_bsize = 65536;
	sv.f_frsize = 4096;
	sv.f_blocks = 1000;
	sv.f_bfree = 400;
	sv.f_bavail = 300;
	hx_fs_usage_from_statvfs(&sv, &fu);
	is_int(fu.total_bytes, 4096000, "df: total = blocks * frsize");
	is_int(fu.used_bytes, 2457600, "df: used = (blocks - bfree) * frsize");
	is_int(fu.avail_bytes, 1228800, "df: avail = bavail * frsize");
	is_near(fu.usage, 600.0 / 900.0 * 100.0, 1e-9,
	    "df: usage = used / (used + avail), root reserve left out");

	sv.f_frsize = 0;
	sv.f_bsize = 1024;
	hx_fs_usage_from_statvfs(&sv, &fu);
	is_int(fu.total_bytes, 1024000, "df: frsize 0 falls back to bsize");

	memset(&sv, 0, sizeof sv);
	sv.f_frsize = 4096;
	hx_fs_usage_from_statvfs(&sv, &fu);
	is_int(fu.total_bytes, 0, "df empty: total 0");
	is_near(fu.usage, 0.0, 0, "df empty: usage 0, not NaN");

	sv.f_blocks = 100;
	sv.f_bfree = 100;
	sv.f_bavail = 100;
	hx_fs_usage_from_statvfs(&sv, &fu);
	is_near(fu.usage, 0.0, 0, "df unused: 0%%");
	sv.f_bfree = 0;
	sv.f_bavail = 0;
	hx_fs_usage_from_statvfs(&sv, &fu);
	is_near(fu.usage, 100.0, 0, "df full: 100%%");
	sv.f_bfree = 200;
	hx_fs_usage_from_statvfs(&sv, &fu);
	is_int(fu.used_bytes, 0, "df: bfree > blocks gives used 0, no wrap");

	sv.f_blocks = (fsblkcnt_t)-1;
	sv.f_bfree = 0;
	sv.f_bavail = 0;
	hx_fs_usage_from_statvfs(&sv, &fu);
	ok(fu.total_bytes == UINT64_MAX, "df: overflowing total saturates");
	is_near(fu.usage, 100.0, 0,
	    "df: usage from blocks, not from saturated bytes");

	if (statvfs("/", &sv) == 0) {
		hx_fs_usage_from_statvfs(&sv, &fu);
		ok(fu.total_bytes > 0 && fu.used_bytes <= fu.total_bytes &&
			fu.usage >= 0 && fu.usage <= 100,
		    "df /: plausible");
	} else
		ok(0, "statvfs /");
}

int
main(void)
{
	test_stat();
	test_stat_edges();
	test_cpu_usage();
	test_real_mounts();
	test_meminfo();
	test_loadavg_uptime();
	test_diskstats();
	test_netdev();
	test_df();
	return done_testing();
}
