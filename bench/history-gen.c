/*
 * history-gen.c - long histories for bench/history's query benchmark,
 * made of recorded samples (see bench/README.md).
 *
 *   history-gen SRC_DB DST_DB OM_DIR END_MS UUID...
 *
 * A daemon cannot sample a day or a month inside a benchmark, so this
 * tool takes what it did sample: the raw tier of SRC_DB (a metrics.db a
 * horcruxd just wrote, its daemon stopped), its node:cpu_usage and its
 * vm:*:cpu_usage series. It repeats each recorded sequence back to back,
 * shifted back in time, so that it ends at END_MS, and writes the result
 * through lib/hx-tsdb into a fresh DST_DB, an hour at a time, downsampled
 * and flushed after each hour as the history thread would, then expired
 * at END_MS with the default ages (48 h raw, 30 days of minutes):
 *
 *   node:cpu_usage            the last 2 h (1 h raw queries)
 *   vm:UUID:cpu_usage         the last 24 h, one series per UUID given,
 *                             the recorded VM series dealt out in turn
 *   the first UUID's series   the last 30 days (1 h tier queries)
 *
 * The very same points go to OpenMetrics files in OM_DIR, one per 2-hour
 * range (N.om holds [N × 2 h, (N + 1) × 2 h) since the epoch, Prometheus'
 * block ranges), one family `hx` with the series name in label `s`
 * (exact values, ms timestamps), each series' points together, for
 * `promtool tsdb create-blocks-from openmetrics` (one run per file).
 *
 * It does not choose the queries or time them (bench/history does), and
 * never touches SRC_DB: the writer handle it opens there is closed
 * without a flush. Prints one JSON line. Exit 0, 1 on an engine or file
 * error (printed), 2 on bad usage.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx-tsdb.h"
#include "hx-util.h"

#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)
#define NODE_SPAN (2 * HOUR_MS)
#define VM_SPAN DAY_MS
#define LONG_SPAN (30 * DAY_MS)
#define BLOCK_MS (2 * HOUR_MS) /* Prometheus' block range */

/* A recorded sequence: offsets from its first point, and values. */
struct rec {
	char	*name;
	char	*unit;
	char	*kind;
	int64_t *dt;
	double	*v;
	size_t	 n;
	int64_t	 period; /* the sequence repeats this often */
};

/* A series to write: a recording laid over [end - span, end]. */
struct out {
	char		 *name;
	const struct rec *r;
	int64_t		  start;
	int64_t		  id;
	/* The cursor: repetition m, point k. */
	int64_t m;
	size_t	k;
};

struct names {
	char **name, **unit, **kind;
	size_t n;
};

static void
die(const char *what, char *err)
{
	fprintf(stderr, "history-gen: %s: %s\n", what, err ? err : "?");
	free(err);
	exit(1);
}

static int
names_cb(const struct hx_tsdb_series_info *s, void *arg)
{
	struct names *l = arg;

	l->name = xrealloc(l->name, (l->n + 1) * sizeof *l->name);
	l->unit = xrealloc(l->unit, (l->n + 1) * sizeof *l->unit);
	l->kind = xrealloc(l->kind, (l->n + 1) * sizeof *l->kind);
	l->name[l->n] = xstrdup(s->name);
	l->unit[l->n] = xstrdup(s->unit);
	l->kind[l->n] = xstrdup(s->kind);
	l->n++;
	return 0;
}

static int
rec_cb(const struct hx_tsdb_point *p, void *arg)
{
	struct rec *r = arg;

	r->dt = xrealloc(r->dt, (r->n + 1) * sizeof *r->dt);
	r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	r->dt[r->n] = p->t;
	r->v[r->n] = p->v;
	r->n++;
	return 0;
}

/*
 * Read series i of l from src into r; 0 when it has at least two points.
 * The period is the recording's length plus one mean interval, so the
 * copies follow each other at the sampling rate.
 */
static int
record(struct hx_tsdb *src, const struct names *l, size_t i, struct rec *r)
{
	char   *err = NULL;
	size_t	k;
	int64_t span;

	memset(r, 0, sizeof *r);
	if (hx_tsdb_query(src, l->name[i], HX_TSDB_RAW, INT64_MIN, INT64_MAX,
		rec_cb, r, &err) != HX_TSDB_OK)
		die(l->name[i], err);
	if (r->n < 2)
		return -1;
	span = r->dt[r->n - 1] - r->dt[0];
	for (k = r->n; k-- > 0;)
		r->dt[k] -= r->dt[0];
	r->period = span + span / (int64_t)(r->n - 1);
	r->name = l->name[i];
	r->unit = l->unit[i];
	r->kind = l->kind[i];
	return 0;
}

/* The cursor's point of o, or -1 past end. */
static int64_t
point_t(const struct out *o)
{
	return o->start + o->m * o->r->period + o->r->dt[o->k];
}

static void
step(struct out *o)
{
	if (++o->k == o->r->n) {
		o->k = 0;
		o->m++;
	}
}

static void
om_point(FILE *f, const char *name, int64_t t, double v)
{
	if (isnan(v))
		fprintf(f, "hx{s=\"%s\"} NaN %lld.%03lld\n", name,
		    (long long)(t / 1000), (long long)(t % 1000));
	else
		fprintf(f, "hx{s=\"%s\"} %.17g %lld.%03lld\n", name, v,
		    (long long)(t / 1000), (long long)(t % 1000));
}

int
main(int argc, char **argv)
{
	struct hx_tsdb	    *src, *dst;
	struct hx_tsdb_stats st;
	struct names	     node = { 0 }, vms = { 0 };
	struct rec	     nrec, *vrec;
	struct out	    *o;
	FILE		    *om;
	char		    *err = NULL, name[HX_TSDB_NAME_MAX + 1];
	char		     path[4096];
	int64_t		     end, first, h, t, samples = 0;
	size_t		     nvrec = 0, no, i, nuuid;

	if (argc < 6) {
		fprintf(stderr,
		    "usage: history-gen SRC_DB DST_DB OM_DIR "
		    "END_MS UUID...\n");
		return 2;
	}
	end = strtoll(argv[4], NULL, 10);
	nuuid = (size_t)(argc - 5);
	if (end <= LONG_SPAN) {
		fprintf(stderr, "history-gen: END_MS is a wall time in ms\n");
		return 2;
	}

	/* The recordings. */
	if (hx_tsdb_open(argv[1], NULL, &src, &err) != HX_TSDB_OK)
		die(argv[1], err);
	if (hx_tsdb_list(src, "node:cpu_usage", names_cb, &node, &err) !=
		HX_TSDB_OK ||
	    hx_tsdb_list(src, "vm:*:cpu_usage", names_cb, &vms, &err) !=
		HX_TSDB_OK)
		die("list", err);
	if (node.n != 1 || record(src, &node, 0, &nrec) != 0)
		die(argv[1], xstrdup("no recorded node:cpu_usage"));
	vrec = xcalloc(vms.n ? vms.n : 1, sizeof *vrec);
	for (i = 0; i < vms.n; i++)
		if (record(src, &vms, i, &vrec[nvrec]) == 0)
			nvrec++;
	if (nvrec == 0)
		die(argv[1], xstrdup("no recorded vm:*:cpu_usage"));
	hx_tsdb_close(src);

	/* What to write: the node, then one series per UUID. */
	no = 1 + nuuid;
	o = xcalloc(no, sizeof *o);
	o[0].name = xstrdup("node:cpu_usage");
	o[0].r = &nrec;
	o[0].start = end - NODE_SPAN;
	for (i = 0; i < nuuid; i++) {
		snprintf(name, sizeof name, "vm:%s:cpu_usage", argv[5 + i]);
		o[1 + i].name = xstrdup(name);
		o[1 + i].r = &vrec[i % nvrec];
		o[1 + i].start = end - (i == 0 ? LONG_SPAN : VM_SPAN);
	}

	if (hx_tsdb_open(argv[2], NULL, &dst, &err) != HX_TSDB_OK)
		die(argv[2], err);
	for (i = 0; i < no; i++)
		if (hx_tsdb_series(dst, o[i].name, o[i].r->unit, o[i].r->kind,
			&o[i].id, &err) != HX_TSDB_OK)
			die(o[i].name, err);
	/* An hour at a time, every series, then downsample and flush. */
	first = end - LONG_SPAN;
	for (h = first; h <= end; h += HOUR_MS) {
		for (i = 0; i < no; i++) {
			while ((t = point_t(&o[i])) < h + HOUR_MS && t <= end) {
				if (hx_tsdb_add(dst, o[i].id, t,
					o[i].r->v[o[i].k], &err) != HX_TSDB_OK)
					die("add", err);
				samples++;
				step(&o[i]);
			}
		}
		if (hx_tsdb_downsample(dst,
			h + HOUR_MS < end ? h + HOUR_MS : end,
			&err) != HX_TSDB_OK ||
		    hx_tsdb_flush(dst, &err) != HX_TSDB_OK)
			die("flush", err);
	}
	if (hx_tsdb_expire(dst, end, NULL, &err) != HX_TSDB_OK ||
	    hx_tsdb_stats(dst, &st, &err) != HX_TSDB_OK)
		die("expire", err);
	hx_tsdb_close(dst);

	/*
	 * The same points for Prometheus, each series' together, one file
	 * per 2-hour block range: promtool reads its whole input once for
	 * every 2 h the input spans, 360 times for 30 days in one file.
	 */
	for (i = 0; i < no; i++) {
		o[i].m = 0;
		o[i].k = 0;
	}
	for (h = first / BLOCK_MS * BLOCK_MS; h <= end; h += BLOCK_MS) {
		snprintf(path, sizeof path, "%s/%lld.om", argv[3],
		    (long long)(h / BLOCK_MS));
		if ((om = fopen(path, "w")) == NULL) {
			perror(path);
			return 1;
		}
		fprintf(om, "# TYPE hx gauge\n");
		for (i = 0; i < no; i++) {
			while (
			    (t = point_t(&o[i])) < h + BLOCK_MS && t <= end) {
				om_point(om, o[i].name, t, o[i].r->v[o[i].k]);
				step(&o[i]);
			}
		}
		fprintf(om, "# EOF\n");
		if (fclose(om) != 0) {
			perror(path);
			return 1;
		}
	}
	printf("{\"series\":%zu,\"recorded_vm_series\":%zu,\"samples\":%lld,"
	       "\"end_ms\":%lld,\"raw_points\":%lld,\"minute_points\":%lld,"
	       "\"hour_points\":%lld,\"file_bytes\":%lld}\n",
	    no, nvrec, (long long)samples, (long long)end,
	    (long long)st.points[0], (long long)st.points[1],
	    (long long)st.points[2], (long long)st.file_bytes);
	return 0;
}
