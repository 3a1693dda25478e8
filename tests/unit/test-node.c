/*
 * test-node.c - unit tests for the host sampler (lib/hx-node.c).
 *
 * The sampler runs over a temporary root into which the test copies one
 * fixture tree per sample (tests/fixtures/proc/node/t0 .. t3), with a
 * /sys/block built here: sda, sdb and vda are whole disks (they have a
 * device entry), dm-0 and loop0 are not, and partitions are not in
 * /sys/block at all, as on a real host. Every percentage and rate is
 * checked against a value worked out by hand from the fixtures (the sums
 * are in the comments). The parsers themselves are tested in test-proc.c.
 * Run from the top of the source tree, where the fixtures are found.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "hx-node.h"
#include "hx-proc.h"
#include "hx-util.h"

#define SEC 1000000000ULL
#define T0 (100 * SEC)

/* Fixture file name -> where it goes under the root. */
static const struct {
	const char *fixture;
	const char *path;
} tree_files[] = {
	{ "stat", "proc/stat" },
	{ "meminfo", "proc/meminfo" },
	{ "loadavg", "proc/loadavg" },
	{ "uptime", "proc/uptime" },
	{ "diskstats", "proc/diskstats" },
	{ "net-dev", "proc/net/dev" },
};

static char root[64];

/* tests/unit/test-node.c -> tests/fixtures/proc/node, from __FILE__. */
static char *
fixture_path(const char *tree, const char *name)
{
	const char *f = __FILE__, *u;

	if ((u = strstr(f, "unit/test-node.c")) == NULL)
		return xasprintf("tests/fixtures/proc/node/%s/%s", tree, name);
	return xasprintf("%.*sfixtures/proc/node/%s/%s", (int)(u - f), f, tree,
	    name);
}

static int
write_file(const char *path, const char *data, size_t len)
{
	FILE *f;
	int   r;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	r = fwrite(data, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

static void
root_write(const char *rel, const char *data)
{
	char *path;

	path = xasprintf("%s/%s", root, rel);
	if (write_file(path, data, strlen(data)) == -1)
		ok(0, "write %s: %s", path, strerror(errno));
	free(path);
}

static void
root_remove(const char *rel)
{
	char *path;

	path = xasprintf("%s/%s", root, rel);
	unlink(path);
	free(path);
}

/* Make the root hold exactly the files of fixture tree t. */
static void
load_tree(const char *t)
{
	char  *src, *text;
	size_t i, len;
	int    good = 1;

	for (i = 0; i < HX_ARRAY_SIZE(tree_files); i++) {
		src = fixture_path(t, tree_files[i].fixture);
		text = hx_read_file(src, 1 << 20, &len);
		if (text == NULL && errno != ENOENT) {
			printf("# cannot read %s: %s\n", src, strerror(errno));
			good = 0;
		}
		if (text != NULL)
			root_write(tree_files[i].path, text);
		else
			root_remove(tree_files[i].path);
		free(text);
		free(src);
	}
	/* Every tree has a stat: its absence means the path is wrong. */
	src = fixture_path(t, "stat");
	good &= access(src, R_OK) == 0;
	free(src);
	ok(good, "fixture tree %s loaded", t);
}

static void
root_mkdir(const char *rel)
{
	char *path;

	path = xasprintf("%s/%s", root, rel);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		ok(0, "mkdir %s: %s", path, strerror(errno));
	free(path);
}

static void
make_root(void)
{
	static const char *dirs[] = {
		"proc",
		"proc/net",
		"proc/self",
		"sys",
		"sys/block",
		"sys/block/sda",
		"sys/block/sda/device",
		"sys/block/sdb",
		"sys/block/sdb/device",
		"sys/block/vda",
		"sys/block/vda/device",
		"sys/block/dm-0",
		"sys/block/loop0",
	};
	const char *tmp;
	size_t	    i;

	if ((tmp = getenv("TMPDIR")) == NULL || strlen(tmp) > 30)
		tmp = "/tmp";
	snprintf(root, sizeof root, "%s/hx-test-node.XXXXXX", tmp);
	if (mkdtemp(root) == NULL) {
		ok(0, "mkdtemp %s: %s", root, strerror(errno));
		exit(done_testing());
	}
	for (i = 0; i < HX_ARRAY_SIZE(dirs); i++)
		root_mkdir(dirs[i]);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
remove_root(void)
{
	ok(nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0,
	    "temporary root removed");
}

static void
test_sequence(void)
{
	const char *mounts[] = { "/", root, "/nonexistent/horcrux" };
	struct hx_node_sampler *s;
	struct hx_node_metrics	m;
	struct hx_fs_usage	fu;
	struct statvfs		sv;
	char		       *err = NULL, host[256];
	int64_t			before, after;
	size_t			i;

	/* A trailing '/' on the root must not matter. */
	snprintf(host, sizeof host, "%s/", root);
	s = hx_node_sampler_new(host, mounts, HX_ARRAY_SIZE(mounts));

	/* t0: the first sample has levels but no rates. */
	load_tree("t0");
	before = hx_wall_ms();
	is_int(hx_node_sample(s, T0, &m, &err), 0, "t0: sample");
	after = hx_wall_ms();
	is_str(err, NULL, "t0: no error");
	ok(m.timestamp_ms >= before && m.timestamp_ms <= after,
	    "t0: timestamp is the wall clock");
	memset(host, 0, sizeof host);
	gethostname(host, sizeof host - 1);
	is_str(m.hostname, host, "t0: hostname");
	ok(isnan(m.cpu_usage), "t0: cpu_usage NaN on the first sample");
	ok(isnan(m.cpu_user) && isnan(m.cpu_system) && isnan(m.cpu_iowait) &&
		isnan(m.cpu_steal),
	    "t0: the cpu split NaN on the first sample");
	is_int(m.cpu_cores, 3, "t0: 3 cpus");
	ok(isnan(m.cpu_per_core[0]) && isnan(m.cpu_per_core[1]) &&
		isnan(m.cpu_per_core[2]),
	    "t0: per-core NaN on the first sample");
	/* 8000000 kB total, 2000000 kB available. */
	is_int(m.memory_total_bytes, 8192000000ULL, "t0: memory total");
	is_int(m.memory_available_bytes, 2048000000ULL, "t0: memory available");
	is_int(m.memory_used_bytes, 6144000000ULL,
	    "t0: memory used = total - available");
	is_near(m.memory_usage, 75.0, 1e-9, "t0: memory 75%%");
	/* swap 1000000 kB, 750000 kB free. */
	is_int(m.swap_total_bytes, 1024000000ULL, "t0: swap total");
	is_int(m.swap_used_bytes, 256000000ULL, "t0: swap used");
	is_near(m.swap_usage, 25.0, 1e-9, "t0: swap 25%%");
	is_near(m.load_average[0], 1.5, 1e-12, "t0: load 1");
	is_near(m.load_average[1], 0.75, 1e-12, "t0: load 5");
	is_near(m.load_average[2], 0.25, 1e-12, "t0: load 15");
	is_near(m.uptime_seconds, 1000.5, 1e-9, "t0: uptime");
	ok(isnan(m.disk_read_bps) && isnan(m.disk_write_bps),
	    "t0: disk rates NaN on the first sample");
	ok(isnan(m.network_rx_bps) && isnan(m.network_tx_bps),
	    "t0: network rates NaN on the first sample");

	/* Mounts: "/" and the root are real, the third is not. */
	is_int(m.ndisks, 3, "t0: one entry per configured mount");
	is_str(m.disks[0].mount, "/", "t0: mount 0 is /");
	is_int(m.disks[0].ok, 1, "t0: / is readable");
	if (statvfs("/", &sv) == 0) {
		hx_fs_usage_from_statvfs(&sv, &fu);
		is_int(m.disks[0].total_bytes, fu.total_bytes,
		    "t0: / total as statvfs");
		is_near(m.disks[0].usage, fu.usage, 0.01, "t0: / usage as df");
	}
	is_int(m.disks[1].ok, 1, "t0: the temporary root is readable");
	is_str(m.disks[2].mount, "/nonexistent/horcrux",
	    "t0: missing mount still listed");
	is_int(m.disks[2].ok, 0, "t0: missing mount not ok");
	ok(isnan(m.disks[2].usage), "t0: missing mount usage NaN");
	is_int(m.disks[2].total_bytes, 0, "t0: missing mount total 0");
	is_near(m.disk_usage, fmax(m.disks[0].usage, m.disks[1].usage), 0,
	    "t0: disk_usage is the fullest readable mount");
	hx_node_metrics_release(&m);
	hx_node_metrics_release(&m);
	ok(m.cpu_per_core == NULL && m.disks == NULL,
	    "t0: release twice is harmless");

	/*
	 * A broken /proc/stat in between fails the sample and leaves every
	 * baseline as it was: t1 below is still measured from t0.
	 */
	root_write("proc/stat", "cpu 1 2 3\n");
	is_int(hx_node_sample(s, T0 + SEC, &m, &err), -1, "bad stat: fails");
	is_str(err, "cannot parse /proc/stat line 1: 3 fields, want at least 4",
	    "bad stat: message");
	ok(m.cpu_per_core == NULL && m.disks == NULL, "bad stat: out empty");
	hx_node_metrics_release(&m);
	free(err);
	err = NULL;

	/* t1, 2 s after t0. */
	load_tree("t1");
	is_int(hx_node_sample(s, T0 + 2 * SEC, &m, &err), 0, "t1: sample");
	/*
	 * busy: user 300 + system 100 + irq 20 + softirq 30 + steal 50 = 500
	 * (guest 100 is inside user); idle 400 + iowait 100 = 500.
	 */
	is_near(m.cpu_usage, 50.0, 1e-9, "t1: cpu 50%%");
	/* Of the 1000 ticks: user 300, system 100 + irq 20 + softirq 30,
	 * iowait 100, steal 50. */
	is_near(m.cpu_user, 30.0, 1e-9, "t1: cpu_user 30%%");
	is_near(m.cpu_system, 15.0, 1e-9, "t1: cpu_system 15%%");
	is_near(m.cpu_iowait, 10.0, 1e-9, "t1: cpu_iowait 10%%");
	is_near(m.cpu_steal, 5.0, 1e-9, "t1: cpu_steal 5%%");
	is_int(m.cpu_cores, 3, "t1: 3 cpus (cpu1 went, cpu3 came)");
	/* cpu0: user 40 + nice 20 busy, idle 140. */
	is_near(m.cpu_per_core[0], 30.0, 1e-9, "t1: cpu0 30%%");
	/* cpu2: system 150 busy, idle 25 + iowait 25. */
	is_near(m.cpu_per_core[1], 75.0, 1e-9, "t1: cpu2 75%% (matched by id)");
	ok(isnan(m.cpu_per_core[2]), "t1: new cpu3 NaN");
	/* No MemAvailable: 1000000 + 200000 + 800000 kB of 8000000. */
	is_int(m.memory_available_bytes, 2048000000ULL,
	    "t1: available estimated from free + buffers + cached");
	is_near(m.memory_usage, 75.0, 1e-9, "t1: memory 75%%");
	is_near(m.load_average[0], 2.0, 1e-12, "t1: load 1");
	is_near(m.uptime_seconds, 1002.5, 1e-9, "t1: uptime");
	/*
	 * Whole disks only: sda read +2000 sectors, vda +1000; sdb is new.
	 * (3000 * 512) / 2 s. Partitions, dm-0 and loop0 moved a lot and
	 * would show if counted.
	 */
	is_near(m.disk_read_bps, 768000.0, 1e-6, "t1: disk read B/s");
	/* sda written +4000 sectors: 4000 * 512 / 2 s. */
	is_near(m.disk_write_bps, 1024000.0, 1e-6, "t1: disk write B/s");
	/* eth0 rx +2000000, tx +1000000 over 2 s; lo left out. */
	is_near(m.network_rx_bps, 1000000.0, 1e-6, "t1: net rx B/s");
	is_near(m.network_tx_bps, 500000.0, 1e-6, "t1: net tx B/s");
	hx_node_metrics_release(&m);

	/* t2, 1 s later: resets everywhere, and no loadavg. */
	load_tree("t2");
	is_int(hx_node_sample(s, T0 + 3 * SEC, &m, &err), 0, "t2: sample");
	ok(isnan(m.cpu_usage), "t2: total user went backwards: NaN");
	is_int(m.cpu_cores, 4, "t2: 4 cpus");
	ok(isnan(m.cpu_per_core[0]), "t2: cpu0 reset: NaN");
	ok(isnan(m.cpu_per_core[1]), "t2: cpu1 back online: NaN");
	/* cpu2: system 100 busy, idle 300. cpu3: user 90, idle 10. */
	is_near(m.cpu_per_core[2], 25.0, 1e-9, "t2: cpu2 25%%");
	is_near(m.cpu_per_core[3], 90.0, 1e-9, "t2: cpu3 90%% (baseline t1)");
	ok(isnan(m.load_average[0]) && isnan(m.load_average[1]) &&
		isnan(m.load_average[2]),
	    "t2: no loadavg: NaN");
	is_near(m.uptime_seconds, 1003.5, 1e-9, "t2: uptime");
	ok(isnan(m.disk_read_bps), "t2: vda read went backwards: NaN");
	/* written: sda +1000, vda +100 sectors = 1100 * 512 in 1 s. */
	is_near(m.disk_write_bps, 563200.0, 1e-6,
	    "t2: disk write still counted");
	is_near(m.network_rx_bps, 100.0, 1e-9, "t2: eth0 rx +100");
	ok(isnan(m.network_tx_bps), "t2: eth0 tx went backwards: NaN");
	hx_node_metrics_release(&m);

	/* t3, 1 s later: everything measured from the restarted baselines. */
	load_tree("t3");
	is_int(hx_node_sample(s, T0 + 4 * SEC, &m, &err), 0, "t3: sample");
	/* user 200 busy, idle 200. */
	is_near(m.cpu_usage, 50.0, 1e-9, "t3: cpu 50%% from the t2 baseline");
	is_int(m.cpu_cores, 4, "t3: 4 cpus");
	/* cpu0 25/100, cpu1 50/100, cpu2 0/100, cpu3 100/100. */
	is_near(m.cpu_per_core[0], 25.0, 1e-9, "t3: cpu0 25%% after reset");
	is_near(m.cpu_per_core[1], 50.0, 1e-9, "t3: cpu1 50%%");
	is_near(m.cpu_per_core[2], 0.0, 1e-9, "t3: cpu2 idle");
	is_near(m.cpu_per_core[3], 100.0, 1e-9, "t3: cpu3 busy");
	/* 6000000 kB available of 8000000; no swap. */
	is_near(m.memory_usage, 25.0, 1e-9, "t3: memory 25%%");
	is_int(m.swap_total_bytes, 0, "t3: no swap");
	is_near(m.swap_usage, 0.0, 0, "t3: no swap is 0%%");
	is_near(m.load_average[2], 0.75, 1e-12, "t3: loadavg back");
	/* vda read +200 sectors from its t2 reading. */
	is_near(m.disk_read_bps, 102400.0, 1e-6, "t3: disk read B/s");
	is_near(m.disk_write_bps, 0.0, 0, "t3: disk write 0");
	/* eth0 rx +300, tx +400; vnet1 is new. */
	is_near(m.network_rx_bps, 300.0, 1e-9, "t3: net rx B/s");
	is_near(m.network_tx_bps, 400.0, 1e-9, "t3: net tx B/s");
	hx_node_metrics_release(&m);

	/* The same time again: no interval, so no rate; CPU has no ticks. */
	is_int(hx_node_sample(s, T0 + 4 * SEC, &m, &err), 0,
	    "t3 again: sample");
	ok(isnan(m.disk_read_bps) && isnan(m.network_rx_bps),
	    "t3 again: zero interval gives NaN rates");
	ok(isnan(m.cpu_usage), "t3 again: no tick elapsed gives NaN cpu");
	hx_node_metrics_release(&m);

	/* Optional sources missing: the sample still succeeds. */
	root_remove("proc/diskstats");
	root_remove("proc/net/dev");
	root_remove("proc/uptime");
	is_int(hx_node_sample(s, T0 + 5 * SEC, &m, &err), 0,
	    "no diskstats, net/dev, uptime: sample");
	ok(isnan(m.disk_read_bps) && isnan(m.disk_write_bps) &&
		isnan(m.network_rx_bps) && isnan(m.network_tx_bps),
	    "no diskstats, net/dev: NaN rates");
	ok(isnan(m.uptime_seconds), "no uptime: NaN");
	hx_node_metrics_release(&m);
	/* They come back: measured from their last reading, at T0 + 4 s. */
	load_tree("t3");
	root_write("proc/diskstats",
	    " 252 0 vda 70 0 1212 0 70 0 700 0 0 0 0 0 0 0 0 0 0\n");
	is_int(hx_node_sample(s, T0 + 6 * SEC, &m, &err), 0, "back: sample");
	/* vda read 700 -> 1212 sectors over 2 s; sda has gone. */
	is_near(m.disk_read_bps, 512.0 * 512 / 2, 1e-6,
	    "back: rate over the time since its last reading");
	hx_node_metrics_release(&m);

	/* Required files. */
	root_remove("proc/stat");
	is_int(hx_node_sample(s, T0 + 7 * SEC, &m, &err), -1, "no stat: fails");
	snprintf(host, sizeof host, "cannot read '%s/proc/stat': %s", root,
	    strerror(ENOENT));
	is_str(err, host, "no stat: message names the file");
	free(err);
	err = NULL;
	load_tree("t3");
	root_remove("proc/meminfo");
	is_int(hx_node_sample(s, T0 + 7 * SEC, &m, &err), -1,
	    "no meminfo: fails");
	ok(err != NULL && strstr(err, "/proc/meminfo") != NULL,
	    "no meminfo: message names the file");
	free(err);
	err = NULL;
	load_tree("t3");
	root_write("proc/meminfo", "MemTotal: 1 kB\n");
	is_int(hx_node_sample(s, T0 + 7 * SEC, &m, &err), -1,
	    "bad meminfo: fails");
	is_str(err, "cannot parse /proc/meminfo: no MemFree",
	    "bad meminfo: message");
	free(err);
	err = NULL;
	hx_node_sampler_free(s);
	hx_node_sampler_free(NULL);
	for (i = 0; i < HX_ARRAY_SIZE(tree_files); i++)
		root_remove(tree_files[i].path);
}

static void
test_oversized(void)
{
	struct hx_node_sampler *s;
	struct hx_node_metrics	m;
	struct hx_buf		b;
	char		       *err = NULL, *path;
	size_t			i;

	load_tree("t0");
	/* Over the sampler's 4 MiB bound for one file. */
	hx_buf_init(&b, 0);
	hx_buf_add(&b, "cpu 1 2 3 4\ncpu0 1 2 3 4\nintr", 29);
	for (i = 0; b.len <= 4 * 1024 * 1024; i++)
		hx_buf_add(&b, " 1234567", 8);
	hx_buf_add(&b, "\n", 1);
	root_write("proc/stat", b.data);
	hx_buf_release(&b);

	s = hx_node_sampler_new(root, NULL, 0);
	is_int(hx_node_sample(s, T0, &m, &err), -1, "oversized stat: fails");
	path = xasprintf("cannot read '%s/proc/stat': %s", root,
	    strerror(EFBIG));
	is_str(err, path, "oversized stat: message");
	free(path);
	free(err);
	err = NULL;

	/* No mounts configured: no disks, no disk_usage. */
	load_tree("t0");
	is_int(hx_node_sample(s, T0, &m, &err), 0, "no mounts: sample");
	is_int(m.ndisks, 0, "no mounts: no disks");
	ok(isnan(m.disk_usage), "no mounts: disk_usage NaN");
	hx_node_metrics_release(&m);
	hx_node_sampler_free(s);
}

static void
test_real_mounts(void)
{
	char **m;
	size_t n, i;

	root_write("proc/self/mounts",
	    "proc /proc proc rw 0 0\n"
	    "/dev/sdb1 /tmp xfs rw 0 0\n"
	    "tmpfs /run tmpfs rw 0 0\n"
	    "/dev/sda1 / ext4 rw 0 0\n");
	m = hx_node_real_mounts(root, &n);
	is_int(n, 2, "real mounts: two from ROOT/proc/self/mounts");
	is_str(n > 0 ? m[0] : NULL, "/", "real mounts: / first");
	is_str(n > 1 ? m[1] : NULL, "/tmp", "real mounts: then /tmp");
	for (i = 0; i < n; i++)
		free(m[i]);
	free(m);
	root_remove("proc/self/mounts");
	m = hx_node_real_mounts(root, &n);
	ok(n == 1 && strcmp(m[0], "/") == 0,
	    "real mounts: / alone when the list cannot be read");
	free(m[0]);
	free(m);
}

int
main(void)
{
	make_root();
	test_sequence();
	test_oversized();
	test_real_mounts();
	remove_root();
	return done_testing();
}
