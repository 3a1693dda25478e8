/*
 * tsdb-bench.c - the history engine's micro-benchmark (bench/tsdb runs
 * it; see bench/README.md).
 *
 *   tsdb-bench DIR [HOURS [VMS [OPENMETRICS]]]
 *
 * Feeds lib/hx-tsdb with what horcruxd would give it over HOURS (default
 * 1) of simulated time: one host at 1 s (its DESIGN §8 series, four
 * cores) and VMS (default 100) VMs at 2 s, with timestamps jittered by a
 * few ms as the collector's are and values shaped and rounded as
 * hx-proto sends them (percentages to 2 decimals, noisy; byte counters
 * growing by whole amounts; rates in whole bytes/s, often 0; constants).
 * Every simulated minute it downsamples and flushes, as the history
 * thread will. Then it measures queries: the last hour of one series
 * raw; the last day (at most) of every VM's cpu_usage at 1 minute, by
 * glob; all of them at 1 hour.
 *
 * With OPENMETRICS, it also writes every raw sample, read back through
 * hx_tsdb_query, as OpenMetrics text (one family `hx`, the series name in
 * label `s`, exact values, ms timestamps) for `promtool tsdb
 * create-blocks-from openmetrics`: Prometheus' bytes on the very same
 * samples.
 *
 * Prints a table, then one JSON line. All randomness comes from a fixed
 * seed, so two runs store the same bytes. Exit 0, or 1 on any engine
 * error (printed).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "hx-tsdb.h"
#include "hx-util.h"

#define T0	1760000400000LL		/* a whole hour */

enum cat { C_PERCENT, C_COUNTER, C_RATE, C_CONST, C_SLOW, C__N };

static const char *const cat_name[C__N] = {
	[C_PERCENT] = "noisy percent (2 dp)",
	[C_COUNTER] = "byte counter (growing)",
	[C_RATE] = "rate (whole bytes/s)",
	[C_CONST] = "constant",
	[C_SLOW] = "slow gauge (2 dp / 4 KiB)",
};
static const char *const cat_key[C__N] = {
	[C_PERCENT] = "percent", [C_COUNTER] = "counter", [C_RATE] = "rate",
	[C_CONST] = "constant", [C_SLOW] = "slow",
};

struct ser {
	int64_t		id;
	enum cat	cat;
	int		every;		/* seconds between samples */
	double		v;		/* state */
	double		level;
};

static struct ser	*ser;
static size_t		 nser;
static struct hx_tsdb	*db;
static uint64_t		 seed = 42;

static uint64_t
rnd(void)
{
	uint64_t	z = (seed += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
unif(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static double
ms_since(const struct timespec *a)
{
	struct timespec	b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static void
die(const char *what, char *err)
{
	fprintf(stderr, "tsdb-bench: %s: %s\n", what, err ? err : "?");
	free(err);
	exit(1);
}

static void
add_series(const char *name, enum cat c, int every, double start)
{
	char	*err = NULL;

	ser = xrealloc(ser, (nser + 1) * sizeof *ser);
	memset(&ser[nser], 0, sizeof *ser);
	if (hx_tsdb_series(db, name, "", cat_key[c], &ser[nser].id, &err) != 0)
		die(name, err);
	ser[nser].cat = c;
	ser[nser].every = every;
	ser[nser].v = start;
	ser[nser].level = start;
	nser++;
}

/* The next sample of s, shaped as hx-proto would send it. */
static double
next_value(struct ser *s)
{
	double	d;

	switch (s->cat) {
	case C_PERCENT:
		/* A level that wanders, plus noise, to 2 decimals, in 0-100. */
		s->level += (unif() - 0.5) * 2.0;
		s->level = fmin(fmax(s->level, 2.0), 95.0);
		d = s->level + (unif() - 0.5) * 6.0;
		return round(fmin(fmax(d, 0), 100) * 100) / 100;
	case C_COUNTER:
		/* Idle most of the time, bursts of whole kilobytes. */
		if (unif() < 0.3)
			s->v += floor(unif() * 2e6 / 512) * 512;
		return s->v;
	case C_RATE:
		if (unif() < 0.6)
			return 0;
		return floor(unif() * 5e5);
	case C_CONST:
		return s->v;
	case C_SLOW:
		if (unif() < 0.1)
			s->v += (unif() < 0.5 ? -1 : 1) * 4096 *
			    floor(1 + unif() * 8);
		return s->v;
	default:
		return 0;
	}
}

static int
dcmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct om {
	FILE		*f;
	const char	*name;
};

static int
om_cb(const struct hx_tsdb_point *p, void *arg)
{
	struct om	*o = arg;

	fprintf(o->f, "hx{s=\"%s\"} %.17g %lld.%03lld\n", o->name, p->v,
	    (long long)(p->t / 1000), (long long)(p->t % 1000));
	return 0;
}

static int
count_cb(const struct hx_tsdb_point *p, void *arg)
{
	(*(long *)arg)++;
	return 0;
}

struct idv {
	char	**names;
	size_t	  n;
};

static int
name_cb(const struct hx_tsdb_series_info *s, void *arg)
{
	struct idv	*v = arg;

	v->names = xrealloc(v->names, (v->n + 1) * sizeof *v->names);
	v->names[v->n++] = xstrdup(s->name);
	return 0;
}

/* p50 and p99 of n timings, in place. */
static void
pct(double *t, int n, double *p50, double *p99)
{
	qsort(t, (size_t)n, sizeof *t, dcmp);
	*p50 = t[n / 2];
	*p99 = t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
}

int
main(int argc, char **argv)
{
	struct hx_tsdb_stats	 st;
	struct timespec		 t0;
	sqlite3_stmt		*q;
	struct idv		 vms = { 0 };
	char			*err = NULL, *path, name[96];
	double			 add_ms = 0, flush_ms = 0, ds_ms = 0, *fl, v;
	double			 tq[200], p50, p99, rp50, rp99, mp50, mp99;
	double			 hp50, hp99;
	int64_t			 cat_bytes[C__N] = { 0 }, cat_pts[C__N] = { 0 };
	int64_t			 t, samples = 0, span;
	long			 n, hours = 1, nvm = 100, sec, end, nfl = 0;
	size_t			 i, j;
	int			 k, c;

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: tsdb-bench DIR [HOURS [VMS "
		    "[OPENMETRICS]]]\n");
		return 2;
	}
	if (argc > 2)
		hours = atol(argv[2]);
	if (argc > 3)
		nvm = atol(argv[3]);
	if (hours < 1 || nvm < 1) {
		fprintf(stderr, "tsdb-bench: HOURS and VMS are positive\n");
		return 2;
	}
	path = xasprintf("%s/metrics.db", argv[1]);
	if (hx_tsdb_open(path, NULL, &db, &err) != 0)
		die("open", err);

	/* The host: DESIGN §8's node series, four cores. */
	add_series("node:cpu_usage", C_PERCENT, 1, 20);
	for (k = 0; k < 4; k++) {
		snprintf(name, sizeof name, "node:cpu_per_core:%d", k);
		add_series(name, C_PERCENT, 1, 15 + 5 * k);
	}
	add_series("node:memory_usage", C_SLOW, 1, 0);
	ser[nser - 1].cat = C_PERCENT;	/* wanders like a percentage */
	add_series("node:disk_usage", C_CONST, 1, 41.27);
	add_series("node:load_average:1", C_PERCENT, 1, 1);
	add_series("node:load_average:5", C_PERCENT, 1, 1);
	add_series("node:load_average:15", C_PERCENT, 1, 1);
	add_series("node:memory_total_bytes", C_CONST, 1, 16.0 * (1 << 30));
	add_series("node:memory_used_bytes", C_SLOW, 1, 6.0 * (1 << 30));
	add_series("node:memory_available_bytes", C_SLOW, 1,
	    10.0 * (1 << 30));
	add_series("node:swap_usage", C_CONST, 1, 0);
	add_series("node:swap_total_bytes", C_CONST, 1, 0);
	add_series("node:swap_used_bytes", C_CONST, 1, 0);
	add_series("node:disk_read_bps", C_RATE, 1, 0);
	add_series("node:disk_write_bps", C_RATE, 1, 0);
	add_series("node:network_rx_bps", C_RATE, 1, 0);
	add_series("node:network_tx_bps", C_RATE, 1, 0);
	/* VMs: the numeric VmMetrics fields at vm_interval 2 s. */
	for (i = 0; i < (size_t)nvm; i++) {
		static const struct {
			const char	*f;
			enum cat	 c;
			double		 start;
		} vf[] = {
			{ "cpu_usage", C_PERCENT, 10 },
			{ "memory_usage", C_PERCENT, 40 },
			{ "disk_read", C_COUNTER, 1e9 },
			{ "disk_write", C_COUNTER, 3e9 },
			{ "network_rx", C_COUNTER, 5e8 },
			{ "network_tx", C_COUNTER, 2e8 },
			{ "vcpus", C_CONST, 2 },
			{ "memory_bytes", C_CONST, 2147483648.0 },
			{ "memory_max_bytes", C_CONST, 4294967296.0 },
			{ "disk_read_bps", C_RATE, 0 },
			{ "disk_write_bps", C_RATE, 0 },
			{ "network_rx_bps", C_RATE, 0 },
			{ "network_tx_bps", C_RATE, 0 },
		};
		for (j = 0; j < HX_ARRAY_SIZE(vf); j++) {
			snprintf(name, sizeof name, "vm:%08zx-4b1c-4f5e-9a7d-"
			    "%012zx:%s", i * 2654435761u % 0xffffffffu, i,
			    vf[j].f);
			add_series(name, vf[j].c, 2, vf[j].start);
		}
	}

	/* Ingest, a simulated minute at a time. */
	end = hours * 3600;
	fl = xcalloc((size_t)(end / 60 + 1), sizeof *fl);
	for (sec = 0; sec < end; sec++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < nser; i++) {
			if (sec % ser[i].every != 0)
				continue;
			/* The collector's deadline is absolute: a few ms late. */
			t = T0 + sec * 1000 + (int64_t)(rnd() % 6);
			v = next_value(&ser[i]);
			if (hx_tsdb_add(db, ser[i].id, t, v, &err) != 0)
				die("add", err);
			samples++;
		}
		add_ms += ms_since(&t0);
		if ((sec + 1) % 60 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			if (hx_tsdb_downsample(db, T0 + (sec + 1) * 1000,
			    &err) != 0)
				die("downsample", err);
			ds_ms += ms_since(&t0);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			if (hx_tsdb_flush(db, &err) != 0)
				die("flush", err);
			fl[nfl] = ms_since(&t0);
			flush_ms += fl[nfl++];
		}
	}
	if (hx_tsdb_stats(db, &st, &err) != 0)
		die("stats", err);

	/* Bytes per sample by kind of series: the raw tier's blocks. */
	if (sqlite3_prepare_v2(hx_tsdb_sqlite(db), "SELECT series_id, "
	    "sum(nbytes), sum(count) FROM blocks WHERE tier = 0 GROUP BY "
	    "series_id", -1, &q, NULL) != SQLITE_OK)
		die("stats by series", xstrdup(sqlite3_errmsg(
		    hx_tsdb_sqlite(db))));
	while (sqlite3_step(q) == SQLITE_ROW) {
		for (i = 0; i < nser; i++) {
			if (ser[i].id != sqlite3_column_int64(q, 0))
				continue;
			cat_bytes[ser[i].cat] += sqlite3_column_int64(q, 1);
			cat_pts[ser[i].cat] += sqlite3_column_int64(q, 2);
		}
	}
	sqlite3_finalize(q);

	/* Queries. (a) 1 h raw of one node series. */
	for (k = 0; k < 200; k++) {
		n = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (hx_tsdb_query(db, "node:cpu_usage", HX_TSDB_RAW,
		    T0 + end * 1000 - 3600000, T0 + end * 1000, count_cb, &n,
		    &err) != 0)
			die("query", err);
		tq[k] = ms_since(&t0);
	}
	pct(tq, 200, &rp50, &rp99);
	/* (b) The last day (or all there is) at 1 min of vm:*:cpu_usage. */
	span = (hours < 24 ? hours : 24) * 3600000LL;
	for (k = 0; k < 50; k++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		vms.n = 0;
		if (hx_tsdb_list(db, "vm:*:cpu_usage", name_cb, &vms,
		    &err) != 0)
			die("list", err);
		for (i = 0; i < vms.n; i++) {
			n = 0;
			if (hx_tsdb_query(db, vms.names[i], HX_TSDB_MINUTE,
			    T0 + end * 1000 - span, T0 + end * 1000,
			    count_cb, &n, &err) != 0)
				die("query", err);
			free(vms.names[i]);
		}
		tq[k] = ms_since(&t0);
	}
	pct(tq, 50, &mp50, &mp99);
	/* (c) everything at 1 h of every VM's cpu_usage. */
	for (k = 0; k < 50; k++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		vms.n = 0;
		hx_tsdb_list(db, "vm:*:cpu_usage", name_cb, &vms, &err);
		for (i = 0; i < vms.n; i++) {
			n = 0;
			if (hx_tsdb_query(db, vms.names[i], HX_TSDB_HOUR, 0,
			    INT64_MAX, count_cb, &n, &err) != 0)
				die("query", err);
			free(vms.names[i]);
		}
		tq[k] = ms_since(&t0);
	}
	pct(tq, 50, &hp50, &hp99);
	pct(fl, (int)nfl, &p50, &p99);

	if (argc > 4) {
		struct om	o;

		if ((o.f = fopen(argv[4], "w")) == NULL) {
			perror(argv[4]);
			return 1;
		}
		fprintf(o.f, "# TYPE hx gauge\n");
		vms.n = 0;
		hx_tsdb_list(db, NULL, name_cb, &vms, &err);
		for (i = 0; i < vms.n; i++) {
			o.name = vms.names[i];
			if (hx_tsdb_query(db, vms.names[i], HX_TSDB_RAW,
			    INT64_MIN, INT64_MAX, om_cb, &o, &err) != 0)
				die("export", err);
			free(vms.names[i]);
		}
		fprintf(o.f, "# EOF\n");
		if (fclose(o.f) != 0) {
			perror(argv[4]);
			return 1;
		}
	}

	printf("history engine: %zu series (1 host at 1 s, %ld VMs at 2 s), "
	    "%ld h simulated, %lld samples\n\n", nser, nvm, hours,
	    (long long)samples);
	printf("%-28s %12s %12s %8s\n", "raw tier by kind", "samples",
	    "bytes", "B/sample");
	for (c = 0; c < C__N; c++)
		printf("%-28s %12lld %12lld %8.3f\n", cat_name[c],
		    (long long)cat_pts[c], (long long)cat_bytes[c],
		    cat_pts[c] ? (double)cat_bytes[c] / cat_pts[c] : 0);
	printf("%-28s %12lld %12lld %8.3f\n", "all raw blocks",
	    (long long)st.points[0], (long long)st.bytes[0],
	    (double)st.bytes[0] / st.points[0]);
	printf("%-28s %12lld %12lld %8.3f\n", "1-minute blocks (per raw)",
	    (long long)st.points[1], (long long)st.bytes[1],
	    (double)st.bytes[1] / st.points[0]);
	printf("%-28s %12lld %12lld %8.3f\n", "1-hour blocks (per raw)",
	    (long long)st.points[2], (long long)st.bytes[2],
	    (double)st.bytes[2] / st.points[0]);
	printf("%-28s %12lld %12lld %8.3f\n", "whole file (all tiers)",
	    (long long)st.points[0], (long long)st.file_bytes,
	    (double)st.file_bytes / st.points[0]);
	printf("\n%-36s %10.0f samples/s\n", "ingest (add+downsample+flush)",
	    samples / ((add_ms + ds_ms + flush_ms) / 1e3));
	printf("%-36s %10.3f us\n", "add, per sample", add_ms * 1e3 / samples);
	printf("%-36s %10.1f / %.1f ms (p50/p99)\n", "flush, per minute", p50,
	    p99);
	printf("%-36s %10.1f ms\n", "downsample, per minute", ds_ms / nfl);
	printf("%-36s %10.2f / %.2f ms (p50/p99)\n", "query 1 h raw, 1 series",
	    rp50, rp99);
	printf("query %2lld h at 1 min, vm:*:cpu_usage %10.2f / %.2f ms "
	    "(p50/p99)\n", (long long)(span / 3600000), mp50, mp99);
	printf("%-36s %10.2f / %.2f ms (p50/p99)\n",
	    "query all at 1 h, vm:*:cpu_usage", hp50, hp99);
	printf("\n{\"series\":%zu,\"vms\":%ld,\"hours\":%ld,\"samples\":%lld,"
	    "\"raw_bytes_per_sample\":%.3f,\"minute_bytes\":%lld,"
	    "\"hour_bytes\":%lld,\"file_bytes_per_sample\":%.3f,"
	    "\"by_kind\":{", nser, nvm, hours, (long long)samples,
	    (double)st.bytes[0] / st.points[0], (long long)st.bytes[1],
	    (long long)st.bytes[2],
	    (double)st.file_bytes / st.points[0]);
	for (c = 0; c < C__N; c++)
		printf("%s\"%s\":%.3f", c ? "," : "", cat_key[c],
		    cat_pts[c] ? (double)cat_bytes[c] / cat_pts[c] : 0);
	printf("},\"ingest_samples_per_s\":%.0f,\"add_us\":%.3f,"
	    "\"flush_ms_p50\":%.1f,\"flush_ms_p99\":%.1f,"
	    "\"downsample_ms\":%.1f,"
	    "\"query_raw_1h_ms\":{\"p50\":%.2f,\"p99\":%.2f},"
	    "\"query_minute_vms_ms\":{\"hours\":%lld,\"p50\":%.2f,"
	    "\"p99\":%.2f},"
	    "\"query_hour_vms_ms\":{\"p50\":%.2f,\"p99\":%.2f}}\n",
	    samples / ((add_ms + ds_ms + flush_ms) / 1e3),
	    add_ms * 1e3 / samples, p50, p99, ds_ms / nfl, rp50, rp99,
	    (long long)(span / 3600000), mp50, mp99, hp50, hp99);
	free(vms.names);
	free(fl);
	free(ser);
	free(path);
	hx_tsdb_close(db);
	return 0;
}
