/*
 * test-tsdb.c - the history engine: settings, series, points across
 * blocks and across flushed and unflushed data, reopening, the tiers'
 * min/avg/max against sums done here, retention by age and by bytes,
 * globs, a reader thread beside the writer, kill -9 in the middle of a
 * batch and of a flush, and a full database. Each database lives in a
 * fresh temporary directory.
 */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hx-tsdb.h"
#include "hx-util.h"
#include "tap.h"

#define T0 1760000400000LL /* a whole hour, in ms */
#define MIN 60000LL
#define HOUR 3600000LL

static char  tmpdir[] = "/tmp/hx-test-tsdb-XXXXXX";
static char *err;
static int   dbn;

static void
clr(void)
{
	free(err);
	err = NULL;
}

/* A fresh database path in the temporary directory; the caller frees. */
static char *
new_path(void)
{
	return xasprintf("%s/metrics-%d.db", tmpdir, ++dbn);
}

/* First column of the first row of sql, as text, in a static buffer. */
static const char *
sql_str(sqlite3 *db, const char *sql)
{
	static char   buf[256];
	sqlite3_stmt *s;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return "(prepare failed)";
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		hx_strlcpy(buf, (const char *)sqlite3_column_text(s, 0),
		    sizeof buf);
	sqlite3_finalize(s);
	return buf;
}

/* --- collecting points --------------------------------------------------- */

struct pts {
	struct hx_tsdb_point *p;
	size_t		      n;
	size_t		      alloc;
	size_t		      stop_at; /* 0: never stop */
};

static int
collect(const struct hx_tsdb_point *p, void *arg)
{
	struct pts *c = arg;

	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 256;
		c->p = xrealloc(c->p, c->alloc * sizeof *c->p);
	}
	c->p[c->n++] = *p;
	return c->stop_at != 0 && c->n >= c->stop_at;
}

static int
query(struct hx_tsdb *db, const char *name, int tier, int64_t from, int64_t to,
    struct pts *c)
{
	c->n = 0;
	clr();
	return hx_tsdb_query(db, name, tier, from, to, collect, c, &err);
}

/* The raw value of point i of the test series: some NaN, some repeats. */
static double
val(long i)
{
	if (i % 11 == 5)
		return NAN;
	return (double)((i * 7) % 13) + (i % 3) * 0.25;
}

/* Do c's points equal points first .. first+n-1 at t = T0 + i * step? */
static int
same_raw(const struct pts *c, long first, long n, int64_t step)
{
	long   i;
	double w;

	if ((long)c->n != n) {
		printf("#   %zu points, want %ld\n", c->n, n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		w = val(first + i);
		if (c->p[i].t != T0 + (first + i) * step ||
		    (isnan(w) ? !isnan(c->p[i].v) : c->p[i].v != w) ||
		    c->p[i].n != (isnan(w) ? 0u : 1u)) {
			printf("#   point %ld: t %lld v %g, want t %lld v %g\n",
			    i, (long long)c->p[i].t, c->p[i].v,
			    (long long)(T0 + (first + i) * step), w);
			return 0;
		}
	}
	return 1;
}

static struct hx_tsdb *
open_db(const char *path, const struct hx_tsdb_config *cfg)
{
	struct hx_tsdb *db = NULL;
	int		rc;

	clr();
	rc = hx_tsdb_open(path, cfg, &db, &err);
	if (rc != HX_TSDB_OK)
		printf("# open '%s': %d %s\n", path, rc, err);
	return db;
}

static int
add_range(struct hx_tsdb *db, int64_t id, long from, long to, int64_t step)
{
	long i;

	for (i = from; i < to; i++) {
		clr();
		if (hx_tsdb_add(db, id, T0 + i * step, val(i), &err) != 0) {
			printf("# add %ld: %s\n", i, err);
			return -1;
		}
	}
	return 0;
}

/* --- tests --------------------------------------------------------------- */

static void
test_open(void)
{
	struct hx_tsdb *db;
	struct stat	sb;
	char	       *path = new_path();
	int64_t		a, b;

	db = open_db(path, NULL);
	ok(db != NULL, "open creates the database");
	if (db == NULL)
		goto out;
	is_str(sql_str(hx_tsdb_sqlite(db), "PRAGMA journal_mode"), "wal",
	    "journal_mode is WAL");
	is_str(sql_str(hx_tsdb_sqlite(db), "PRAGMA synchronous"), "1",
	    "synchronous is NORMAL");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "the file is 0600");
	is_int(hx_tsdb_series(db, "node:cpu_usage", "percent", "gauge", &a,
		   &err),
	    HX_TSDB_OK, "a series is created");
	is_int(hx_tsdb_series(db, "node:cpu_usage", NULL, NULL, &b, &err),
	    HX_TSDB_OK, "and found again");
	is_int(a, b, "with the same id");
	clr();
	is_int(hx_tsdb_series(db, "", NULL, NULL, &b, &err), HX_TSDB_INVALID,
	    "an empty name is refused");
	clr();
	is_int(hx_tsdb_series(db, "a\nb", NULL, NULL, &b, &err),
	    HX_TSDB_INVALID, "a name with a newline is refused");
	clr();
	is_int(hx_tsdb_add(db, 999, T0, 1.0, &err), HX_TSDB_NOT_FOUND,
	    "a point for an unknown id: NOT_FOUND");
	clr();
	is_int(hx_tsdb_query(db, "nope", HX_TSDB_RAW, 0, T0, collect, NULL,
		   &err),
	    HX_TSDB_NOT_FOUND,
	    "a query of an unknown series: "
	    "NOT_FOUND");
	ok(err != NULL && strstr(err, "'nope'") != NULL, "naming it: %s",
	    tap_s(err));
	hx_tsdb_close(db);
out:
	free(path);
}

static void
test_blocks(void)
{
	struct hx_tsdb_config cfg = { .block_points = 10 };
	struct hx_tsdb_stats  st;
	struct hx_tsdb	     *db;
	struct pts	      c = { 0 };
	char		     *path = new_path();
	int64_t		      id;

	db = open_db(path, &cfg);
	if (db == NULL) {
		ok(0, "open");
		goto out;
	}
	hx_tsdb_series(db, "s", "", "gauge", &id, &err);
	ok(add_range(db, id, 0, 25, 1000) == 0, "25 points added");
	is_int(hx_tsdb_flush(db, &err), HX_TSDB_OK, "flush");
	ok(add_range(db, id, 25, 37, 1000) == 0, "12 more, not flushed");

	is_int(query(db, "s", HX_TSDB_RAW, 0, INT64_MAX, &c), HX_TSDB_OK,
	    "query everything");
	ok(same_raw(&c, 0, 37, 1000), "37 points, flushed and not, exact");
	query(db, "s", HX_TSDB_RAW, T0 + 7000, T0 + 31000, &c);
	ok(same_raw(&c, 7, 25, 1000),
	    "7 .. 31 across three blocks and "
	    "memory");
	query(db, "s", HX_TSDB_RAW, T0 + 9500, T0 + 9999, &c);
	is_int(c.n, 0, "a range between two points is empty");
	c.stop_at = 5;
	query(db, "s", HX_TSDB_RAW, 0, INT64_MAX, &c);
	is_int(c.n, 5, "a callback can stop the walk");
	c.stop_at = 0;

	clr();
	is_int(hx_tsdb_add(db, id, T0 + 36000, 1.0, &err), HX_TSDB_INVALID,
	    "a point at the last one's time is refused");
	clr();
	is_int(hx_tsdb_add(db, id, T0, 1.0, &err), HX_TSDB_INVALID,
	    "an older point is refused");
	query(db, "s", HX_TSDB_RAW, 0, INT64_MAX, &c);
	ok(same_raw(&c, 0, 37, 1000), "and nothing was added");

	is_int(hx_tsdb_flush(db, &err), HX_TSDB_OK, "flush again");
	hx_tsdb_stats(db, &st, &err);
	is_int(st.blocks[HX_TSDB_RAW], 4, "four raw blocks (10+10+10+7)");
	is_int(st.points[HX_TSDB_RAW], 37, "holding 37 points");
	is_str(sql_str(hx_tsdb_sqlite(db),
		   "SELECT group_concat(open) FROM "
		   "(SELECT open FROM blocks ORDER BY t_start)"),
	    "0,0,0,1", "only the last is open");
	hx_tsdb_close(db);

	/* Reopen: everything flushed is there; the open block goes on. */
	db = open_db(path, &cfg);
	ok(db != NULL, "reopen");
	if (db == NULL)
		goto out;
	query(db, "s", HX_TSDB_RAW, 0, INT64_MAX, &c);
	ok(same_raw(&c, 0, 37, 1000), "37 points after reopening");
	hx_tsdb_series(db, "s", NULL, NULL, &id, &err);
	clr();
	is_int(hx_tsdb_add(db, id, T0 + 36000, 1.0, &err), HX_TSDB_INVALID,
	    "the last time survives reopening");
	ok(add_range(db, id, 37, 45, 1000) == 0, "8 more");
	is_int(hx_tsdb_flush(db, &err), HX_TSDB_OK, "flush");
	hx_tsdb_stats(db, &st, &err);
	is_int(st.blocks[HX_TSDB_RAW], 5,
	    "the reopened block filled up "
	    "(10) and a new one opened");
	query(db, "s", HX_TSDB_RAW, 0, INT64_MAX, &c);
	ok(same_raw(&c, 0, 45, 1000), "45 points");
	hx_tsdb_close(db);

	/* A block closes on its span too. */
	cfg.block_span_ms = 5000;
	free(path);
	path = new_path();
	db = open_db(path, &cfg);
	hx_tsdb_series(db, "s", "", "", &id, &err);
	add_range(db, id, 0, 12, 1000);
	hx_tsdb_flush(db, &err);
	hx_tsdb_stats(db, &st, &err);
	is_int(st.blocks[HX_TSDB_RAW], 3,
	    "5 s span: 12 points at 1 s in "
	    "three blocks");
	hx_tsdb_close(db);
out:
	free(c.p);
	free(path);
}

/*
 * Timestamps anywhere in int64: nothing overflows (UBSan would abort),
 * every point comes back, buckets are where floor division puts them.
 */
static void
test_extremes(void)
{
	static const int64_t ts[] = { INT64_MIN + 1, -5000000000000000000LL, -1,
		0, 59999, 5000000000000000000LL, INT64_MAX - 1, INT64_MAX };
	struct hx_tsdb_config cfg = { .block_points = 3 };
	struct hx_tsdb	     *db;
	struct pts	      c = { 0 };
	char		     *path = new_path();
	int64_t		      id, del;
	size_t		      i;
	int		      bad = 0;

	db = open_db(path, &cfg);
	hx_tsdb_series(db, "x", "", "", &id, &err);
	for (i = 0; i < HX_ARRAY_SIZE(ts); i++) {
		clr();
		bad += hx_tsdb_add(db, id, ts[i], (double)i, &err) != 0;
	}
	ok(bad == 0, "points from INT64_MIN + 1 to INT64_MAX are taken");
	hx_tsdb_flush(db, &err);
	query(db, "x", HX_TSDB_RAW, INT64_MIN, INT64_MAX, &c);
	for (i = 0; i < HX_ARRAY_SIZE(ts) && c.n == HX_ARRAY_SIZE(ts); i++)
		bad += c.p[i].t != ts[i] || c.p[i].v != (double)i;
	ok(c.n == HX_ARRAY_SIZE(ts) && bad == 0, "and read back (%zu)", c.n);
	query(db, "x", HX_TSDB_MINUTE, INT64_MIN, INT64_MAX, &c);
	ok(c.n == 6 && c.p[2].t == -60000 && c.p[3].t == 0 && c.p[3].n == 2,
	    "minutes: -1 in the minute at -60000, 0 and 59999 in the one at "
	    "0 (%zu)",
	    c.n);
	is_int(hx_tsdb_downsample(db, INT64_MIN, &err), HX_TSDB_OK,
	    "downsample at INT64_MIN");
	is_int(hx_tsdb_expire(db, INT64_MIN, &del, &err), HX_TSDB_OK,
	    "expire at INT64_MIN");
	is_int(hx_tsdb_expire(db, INT64_MAX, &del, &err), HX_TSDB_OK,
	    "expire at INT64_MAX");
	hx_tsdb_close(db);
	free(c.p);
	free(path);
}

/* How many raw points the series of the tier tests has. */
static long npoints;

/* Expected aggregate of raw points [a, b) (indexes at 10 s). */
static void
expect(long a, long b, double *mn, double *avg, double *mx, unsigned *n)
{
	double sum = 0, v;
	long   i;

	if (b > npoints)
		b = npoints;
	*n = 0;
	*mn = *mx = NAN;
	for (i = a; i < b; i++) {
		v = val(i);
		if (isnan(v))
			continue;
		if (*n == 0 || v < *mn)
			*mn = v;
		if (*n == 0 || v > *mx)
			*mx = v;
		sum += v;
		(*n)++;
	}
	*avg = *n ? sum / *n : NAN;
}

static int
same_num(double a, double b, double eps)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= eps;
}

/* Check c against the buckets of `bucket` ms over raw points at 10 s. */
static int
check_buckets(const struct pts *c, int64_t bucket, long first_bucket,
    long nbuckets, double eps)
{
	long	 per = (long)(bucket / 10000), b;
	double	 mn, avg, mx;
	unsigned n;

	if ((long)c->n != nbuckets) {
		printf("#   %zu buckets, want %ld\n", c->n, nbuckets);
		return 0;
	}
	for (b = 0; b < nbuckets; b++) {
		expect((first_bucket + b) * per, (first_bucket + b + 1) * per,
		    &mn, &avg, &mx, &n);
		if (c->p[b].t != T0 + (first_bucket + b) * bucket ||
		    !same_num(c->p[b].min, mn, 0) ||
		    !same_num(c->p[b].max, mx, 0) ||
		    !same_num(c->p[b].v, avg, eps) || c->p[b].n != n) {
			printf("#   bucket %ld: t %lld %g/%g/%g n %u, want "
			       "%g/%g/%g n %u\n",
			    b, (long long)c->p[b].t, c->p[b].min, c->p[b].v,
			    c->p[b].max, c->p[b].n, mn, avg, mx, n);
			return 0;
		}
	}
	return 1;
}

static void
test_tiers(void)
{
	struct hx_tsdb_stats st;
	struct hx_tsdb	    *db;
	struct pts	     c = { 0 };
	char		    *path = new_path();
	int64_t		     id, nan_id;
	long		     i, n = 3 * 360 + 30; /* 3 h 5 min at 10 s */
	int		     rc;

	db = open_db(path, NULL);
	if (db == NULL) {
		ok(0, "open");
		goto out;
	}
	hx_tsdb_series(db, "s", "", "gauge", &id, &err);
	add_range(db, id, 0, npoints = n, 10000);
	/* A series whose first minute is all unknown. */
	hx_tsdb_series(db, "nan", "", "gauge", &nan_id, &err);
	for (i = 0; i < 12; i++)
		hx_tsdb_add(db, nan_id, T0 + i * 10000, i < 6 ? NAN : (double)i,
		    &err);

	/* Before any downsampling: built on the fly from raw. */
	query(db, "s", HX_TSDB_MINUTE, 0, INT64_MAX, &c);
	ok(check_buckets(&c, MIN, 0, 185, 0),
	    "minutes on the fly: "
	    "min/avg/max/n exact, NaN left out");
	query(db, "s", HX_TSDB_HOUR, 0, INT64_MAX, &c);
	ok(check_buckets(&c, HOUR, 0, 4, 1e-12), "hours on the fly");
	query(db, "nan", HX_TSDB_MINUTE, 0, INT64_MAX, &c);
	ok(c.n == 2 && isnan(c.p[0].v) && isnan(c.p[0].min) &&
		isnan(c.p[0].max) && c.p[0].n == 0 && c.p[1].n == 6 &&
		c.p[1].min == 6 && c.p[1].max == 11 && c.p[1].v == 8.5,
	    "a minute of only NaN is NaN with n 0; the next is 6/8.5/11");

	/* Downsample at 3 h 2 min 30 s: minutes up to 3:02, hours to 3:00. */
	is_int(hx_tsdb_downsample(db, T0 + 3 * HOUR + 150000, &err), HX_TSDB_OK,
	    "downsample");
	clr();
	is_int(hx_tsdb_add(db, nan_id, T0 + 3 * HOUR + 60000, 1.0, &err),
	    HX_TSDB_INVALID, "a late point in a built minute is refused");
	is_int(hx_tsdb_flush(db, &err), HX_TSDB_OK, "flush");
	hx_tsdb_stats(db, &st, &err);
	is_int(st.points[HX_TSDB_MINUTE], 182 + 2,
	    "182 minutes of s and 2 "
	    "of nan stored");
	is_int(st.points[HX_TSDB_HOUR], 3 + 1,
	    "3 hours of s and 1 of nan "
	    "stored");
	query(db, "s", HX_TSDB_MINUTE, 0, INT64_MAX, &c);
	ok(check_buckets(&c, MIN, 0, 185, 0),
	    "minutes: stored, then on the "
	    "fly, the same");
	query(db, "s", HX_TSDB_MINUTE, T0 + 100 * MIN + 1, T0 + 183 * MIN, &c);
	ok(check_buckets(&c, MIN, 101, 83, 0),
	    "a range of minutes across "
	    "the mark");
	query(db, "s", HX_TSDB_HOUR, 0, INT64_MAX, &c);
	ok(check_buckets(&c, HOUR, 0, 4, 1e-12),
	    "hours: from stored "
	    "minutes, then on the fly");
	query(db, "nan", HX_TSDB_MINUTE, 0, INT64_MAX, &c);
	ok(c.n == 2 && isnan(c.p[0].v) && c.p[0].n == 0 && c.p[1].v == 8.5,
	    "the NaN minute stored as NaN");
	hx_tsdb_close(db);

	/* After reopening, the marks and the built tiers are the same. */
	db = open_db(path, NULL);
	query(db, "s", HX_TSDB_HOUR, 0, INT64_MAX, &c);
	ok(check_buckets(&c, HOUR, 0, 4, 1e-12), "hours after reopening");
	hx_tsdb_series(db, "nan", NULL, NULL, &id, &err);
	clr();
	rc = hx_tsdb_add(db, id, T0 + 3 * HOUR + 120000 - 5, 1.0, &err);
	is_int(rc, HX_TSDB_INVALID, "the minute mark survives reopening");
	hx_tsdb_close(db);
out:
	free(c.p);
	free(path);
}

static void
test_retention(void)
{
	struct hx_tsdb_config cfg = {
		.retention_ms = { 10 * MIN, 60 * MIN, 0 },
		.block_points = 10,
	};
	struct hx_tsdb_stats st;
	struct hx_tsdb	    *db;
	struct pts	     c = { 0 };
	char		    *path = new_path();
	int64_t		     id, del, closed_raw;

	db = open_db(path, &cfg);
	if (db == NULL) {
		ok(0, "open");
		goto out;
	}
	/*
	 * 30 minutes at 10 s: 180 points in 18 raw blocks of 100 s; 30
	 * minutes in 3 minute blocks of 10 (the last one open).
	 */
	hx_tsdb_series(db, "s", "", "", &id, &err);
	add_range(db, id, 0, npoints = 180, 10000);
	hx_tsdb_downsample(db, T0 + 30 * MIN, &err);
	hx_tsdb_flush(db, &err);
	hx_tsdb_stats(db, &st, &err);
	is_int(st.blocks[HX_TSDB_RAW], 18, "18 raw blocks");
	is_int(st.blocks[HX_TSDB_MINUTE], 3, "3 minute blocks");
	is_int(hx_tsdb_expire(db, T0 + 30 * MIN, &del, &err), HX_TSDB_OK,
	    "expire at 30 min, raw kept 10 min");
	/* Blocks ending before 20:00 go: the first 12 (the 12th ends 19:50). */
	is_int(del, 12, "12 raw blocks deleted");
	query(db, "s", HX_TSDB_RAW, 0, INT64_MAX, &c);
	ok(same_raw(&c, 120, 60, 10000), "raw from 20:00 on is left");
	query(db, "s", HX_TSDB_MINUTE, 0, INT64_MAX, &c);
	ok(check_buckets(&c, MIN, 0, 30, 0), "the minutes are all there");
	hx_tsdb_close(db);

	/* The byte cap: every closed raw block first. */
	db = open_db(path, &cfg);
	hx_tsdb_stats(db, &st, &err);
	closed_raw = atoll(sql_str(hx_tsdb_sqlite(db),
	    "SELECT sum(nbytes) "
	    "FROM blocks WHERE tier = 0 AND open = 0"));
	hx_tsdb_close(db);
	cfg.max_bytes = st.bytes[HX_TSDB_RAW] + st.bytes[HX_TSDB_MINUTE] +
	    st.bytes[HX_TSDB_HOUR] - closed_raw;
	db = open_db(path, &cfg);
	hx_tsdb_expire(db, T0 + 30 * MIN, &del, &err);
	is_int(del, 5, "cap: the 5 closed raw blocks deleted");
	hx_tsdb_stats(db, &st, &err);
	is_int(st.blocks[HX_TSDB_RAW], 1, "the open one stays");
	is_int(st.blocks[HX_TSDB_MINUTE], 3, "minutes untouched");
	hx_tsdb_close(db);
	/* Then the minutes, oldest first. */
	cfg.max_bytes = 1;
	db = open_db(path, &cfg);
	hx_tsdb_expire(db, T0 + 30 * MIN, &del, &err);
	hx_tsdb_stats(db, &st, &err);
	is_int(st.blocks[HX_TSDB_MINUTE], 1,
	    "cap of 1 byte: the closed "
	    "minute blocks go too, the open one stays");
	query(db, "s", HX_TSDB_RAW, 0, INT64_MAX, &c);
	ok(same_raw(&c, 170, 10, 10000), "the open raw block still reads");
	is_str(sql_str(hx_tsdb_sqlite(db),
		   "SELECT (SELECT bytes FROM usage) ="
		   " (SELECT sum(nbytes) FROM blocks)"),
	    "1",
	    "the kept byte total "
	    "matches the blocks after inserts, updates and deletes");
	query(db, "s", HX_TSDB_MINUTE, 0, INT64_MAX, &c);
	ok(check_buckets(&c, MIN, 20, 10, 0), "and the open minute block");
	hx_tsdb_close(db);

	/* A series that stopped: its open block closes by span, then ages. */
	cfg.max_bytes = 0;
	free(path);
	path = new_path();
	db = open_db(path, &cfg);
	hx_tsdb_series(db, "gone", "", "", &id, &err);
	add_range(db, id, 0, 3, 10000);
	hx_tsdb_flush(db, &err);
	hx_tsdb_expire(db, T0 + 3 * HOUR, &del, &err);
	is_int(del, 0, "an open block is never deleted");
	hx_tsdb_flush(db, &err);
	hx_tsdb_expire(db, T0 + 3 * HOUR, &del, &err);
	is_int(del, 1, "once closed by its span and flushed, it ages out");
	hx_tsdb_close(db);
out:
	free(c.p);
	free(path);
}

static int
list_cb(const struct hx_tsdb_series_info *s, void *arg)
{
	struct hx_buf *b = arg;

	hx_buf_addf(b, "%s%s", b->len ? " " : "", s->name);
	return 0;
}

static void
test_glob(void)
{
	static const struct {
		const char *pat, *name;
		int	    want;
	} cases[] = {
		{ "vm:*:cpu_usage", "vm:1f0e:cpu_usage", 1 },
		{ "vm:*:cpu_usage", "vm::cpu_usage", 1 },
		{ "vm:*:cpu_usage", "vm:a:b:cpu_usage", 0 },
		{ "vm:*:cpu_usage", "vm:a:cpu_usage_x", 0 },
		{ "node:*", "node:cpu_usage", 1 },
		{ "node:*", "node:load_average:1", 0 },
		{ "node:*:*", "node:load_average:1", 1 },
		{ "node:disk:*:usage", "node:disk:/var:usage", 1 },
		{ "node:cpu_*", "node:cpu_usage", 1 },
		{ "node:*_usage", "node:cpu_usage", 1 },
		{ "node:c*u*e", "node:cpu_usage", 1 },
		{ "node:c*u*x", "node:cpu_usage", 0 },
		{ "*", "node", 1 },
		{ "*", "node:x", 0 },
		{ "node:cpu_usage", "node:cpu_usage", 1 },
		{ "node:cpu_usage", "node:cpu_usag", 0 },
		{ "node:**", "node:a", 1 },
		{ "a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    0 },
	};
	struct hx_tsdb *db;
	struct hx_buf	b;
	char	       *path = new_path();
	int64_t		id;
	size_t		i;
	int		bad = 0;

	for (i = 0; i < HX_ARRAY_SIZE(cases); i++) {
		if (hx_tsdb_glob_match(cases[i].pat, cases[i].name) !=
		    cases[i].want) {
			printf("# '%s' on '%s': want %d\n", cases[i].pat,
			    cases[i].name, cases[i].want);
			bad++;
		}
	}
	ok(bad == 0, "%zu glob cases", HX_ARRAY_SIZE(cases));
	ok(!hx_tsdb_glob_valid("") && !hx_tsdb_glob_valid("a\tb") &&
		hx_tsdb_glob_valid("vm:*:cpu_usage"),
	    "empty and control "
	    "characters are not patterns");

	db = open_db(path, NULL);
	hx_tsdb_series(db, "vm:b:cpu_usage", "", "", &id, &err);
	hx_tsdb_series(db, "node:cpu_usage", "", "", &id, &err);
	hx_tsdb_series(db, "vm:a:cpu_usage", "", "", &id, &err);
	hx_tsdb_series(db, "vm:a:disk:vda:read_bps", "", "", &id, &err);
	hx_tsdb_series(db, "node:load_average:1", "", "", &id, &err);
	hx_buf_init(&b, 0);
	hx_tsdb_list(db, "vm:*:cpu_usage", list_cb, &b, &err);
	is_str(b.data, "vm:a:cpu_usage vm:b:cpu_usage",
	    "listing a glob, "
	    "sorted");
	hx_buf_reset(&b);
	hx_tsdb_list(db, NULL, list_cb, &b, &err);
	is_str(b.data,
	    "node:cpu_usage node:load_average:1 vm:a:cpu_usage "
	    "vm:a:disk:vda:read_bps vm:b:cpu_usage",
	    "listing all");
	hx_buf_release(&b);
	clr();
	is_int(hx_tsdb_list(db, "", list_cb, NULL, &err), HX_TSDB_INVALID,
	    "a bad pattern is INVALID");
	hx_tsdb_close(db);
	free(path);
}

/* --- a reader beside the writer ------------------------------------------ */

struct reader_ctx {
	struct hx_tsdb *r;
	int		stop;
	int		queries;
	int		bad;
};

static void *
reader_main(void *arg)
{
	struct reader_ctx *x = arg;
	struct pts	   c = { 0 };
	char		  *e = NULL;
	size_t		   i;

	while (!__atomic_load_n(&x->stop, __ATOMIC_SEQ_CST)) {
		c.n = 0;
		if (hx_tsdb_query(x->r, "s", HX_TSDB_RAW, 0, INT64_MAX, collect,
			&c, &e) != HX_TSDB_OK) {
			free(e);
			e = NULL;
			continue; /* not created yet */
		}
		__atomic_add_fetch(&x->queries, 1, __ATOMIC_SEQ_CST);
		/* Always a prefix: no point twice, none missing. */
		for (i = 0; i < c.n; i++)
			if (c.p[i].t != T0 + (int64_t)i * 1000)
				x->bad++;
	}
	free(c.p);
	return NULL;
}

static void
test_reader(void)
{
	struct hx_tsdb_config cfg = { .block_points = 7 };
	struct reader_ctx     x = { 0 };
	struct hx_buf	      b;
	struct hx_tsdb	     *db;
	pthread_t	      th;
	char		     *path = new_path();
	int64_t		      id;
	long		      i;

	db = open_db(path, &cfg);
	is_int(hx_tsdb_open_reader(db, &x.r, &err), HX_TSDB_OK,
	    "a reader opens");
	pthread_create(&th, NULL, reader_main, &x);
	hx_tsdb_series(db, "s", "", "", &id, &err);
	for (i = 0; i < 3000; i++) {
		hx_tsdb_add(db, id, T0 + i * 1000, (double)i, &err);
		if (i % 37 == 0)
			hx_tsdb_flush(db, &err);
		/* Let the reader in now and then. */
		if (i % 100 == 0)
			while (__atomic_load_n(&x.queries, __ATOMIC_SEQ_CST) <
			    i / 100)
				sched_yield();
	}
	__atomic_store_n(&x.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	ok(x.queries >= 29 && x.bad == 0,
	    "%d queries beside flushes: every "
	    "answer a whole prefix (%d bad)",
	    x.queries, x.bad);
	/* The reader lists the writer's series, the new ones too. */
	hx_tsdb_series(db, "vm:a:cpu_usage", "percent", "gauge", &id, &err);
	hx_buf_init(&b, 0);
	hx_tsdb_list(x.r, NULL, list_cb, &b, &err);
	is_str(b.data, "s vm:a:cpu_usage",
	    "a reader lists every series, "
	    "one just made too");
	hx_buf_release(&b);
	clr();
	is_int(hx_tsdb_add(x.r, id, T0, 1.0, &err), HX_TSDB_INVALID,
	    "a reader cannot add");
	clr();
	is_int(hx_tsdb_flush(x.r, &err), HX_TSDB_INVALID, "nor flush");
	clr();
	is_int(hx_tsdb_series(x.r, "x", NULL, NULL, &id, &err), HX_TSDB_INVALID,
	    "nor make series");
	clr();
	hx_tsdb_close(x.r);
	hx_tsdb_close(db);
	free(path);
}

/* --- kill -9 ------------------------------------------------------------- */

static int kill_after;

/* Counts only inside a transaction: the kill lands mid-flush. */
static int
killer(void *arg)
{
	if (!sqlite3_get_autocommit(arg) && --kill_after <= 0)
		raise(SIGKILL);
	return 0;
}

/*
 * The child writes 500 points in 5 flushed batches, then adds half of
 * the next batch and dies (mid_flush 0), or adds it all and dies inside
 * the flush's transaction (mid_flush 1: SQLite's progress handler).
 */
static void
child(const char *path, int mid_flush)
{
	struct hx_tsdb_config cfg = { .block_points = 64 };
	struct hx_tsdb	     *db;
	int64_t		      id, id2;
	long		      i;

	if (hx_tsdb_open(path, &cfg, &db, NULL) != 0 ||
	    hx_tsdb_series(db, "s", "", "", &id, NULL) != 0 ||
	    hx_tsdb_series(db, "t", "", "", &id2, NULL) != 0)
		_exit(3);
	for (i = 0; i < 600; i++) {
		if (hx_tsdb_add(db, id, T0 + i * 1000, val(i), NULL) != 0 ||
		    hx_tsdb_add(db, id2, T0 + i * 1000, (double)i, NULL) != 0)
			_exit(4);
		if (i == 550 && !mid_flush)
			raise(SIGKILL);
		if (i % 100 == 99) {
			if (i == 599) {
				kill_after = 3;
				sqlite3_progress_handler(hx_tsdb_sqlite(db), 20,
				    killer, hx_tsdb_sqlite(db));
			}
			if (hx_tsdb_flush(db, NULL) != 0)
				_exit(5);
		}
	}
	_exit(6); /* not reached: the flush was killed */
}

static void
test_kill(void)
{
	struct hx_tsdb *db;
	struct pts	c = { 0 };
	char	       *path;
	pid_t		pid;
	int		status, mid;

	for (mid = 0; mid <= 1; mid++) {
		path = new_path();
		fflush(stdout);
		if ((pid = fork()) == 0)
			child(path, mid);
		waitpid(pid, &status, 0);
		ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		    "%s: the writer was killed (status %#x)",
		    mid ? "mid-flush" : "mid-batch", status);
		db = open_db(path, NULL);
		ok(db != NULL, "reopens");
		if (db == NULL) {
			free(path);
			continue;
		}
		is_str(sql_str(hx_tsdb_sqlite(db), "PRAGMA integrity_check"),
		    "ok", "integrity_check");
		query(db, "s", HX_TSDB_RAW, 0, INT64_MAX, &c);
		ok(same_raw(&c, 0, 500, 1000),
		    "every flushed point of s is "
		    "there, exactly, and nothing after");
		query(db, "t", HX_TSDB_RAW, 0, INT64_MAX, &c);
		ok(c.n == 500 && c.p[499].v == 499.0, "and of t (%zu)", c.n);
		hx_tsdb_close(db);
		free(path);
	}
	free(c.p);
}

/* --- a full database ----------------------------------------------------- */

static void
test_full(void)
{
	struct hx_tsdb_config cfg = { .block_points = 50 };
	struct hx_tsdb	     *db;
	struct pts	      c = { 0 };
	char		     *path = new_path(), sql[80], name[32];
	const char	     *pages;
	int64_t		      id[40];
	long		      i;
	int		      j, rc;

	db = open_db(path, &cfg);
	if (db == NULL) {
		ok(0, "open");
		goto out;
	}
	for (j = 0; j < 40; j++) {
		snprintf(name, sizeof name, "s%d", j);
		hx_tsdb_series(db, name, "", "", &id[j], &err);
	}
	for (i = 0; i < 100; i++)
		for (j = 0; j < 40; j++)
			hx_tsdb_add(db, id[j], T0 + i * 1000, val(i), &err);
	is_int(hx_tsdb_flush(db, &err), HX_TSDB_OK,
	    "the first batch "
	    "flushes");
	/* No room to grow: what a full disk looks like to SQLite. */
	pages = sql_str(hx_tsdb_sqlite(db), "PRAGMA page_count");
	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %s", pages);
	sqlite3_exec(hx_tsdb_sqlite(db), sql, NULL, NULL, NULL);
	for (i = 100; i < 1100; i++)
		for (j = 0; j < 40; j++)
			hx_tsdb_add(db, id[j], T0 + i * 1000, val(i), &err);
	clr();
	rc = hx_tsdb_flush(db, &err);
	is_int(rc, HX_TSDB_FULL, "the next flush: HX_TSDB_FULL");
	ok(err != NULL && strstr(err, "full") != NULL && strstr(err, path),
	    "saying so: %s", tap_s(err));
	query(db, "s7", HX_TSDB_RAW, 0, INT64_MAX, &c);
	ok(same_raw(&c, 0, 1100, 1000),
	    "flushed and unflushed points "
	    "still read");
	sqlite3_exec(hx_tsdb_sqlite(db), "PRAGMA max_page_count = 1000000",
	    NULL, NULL, NULL);
	clr();
	is_int(hx_tsdb_flush(db, &err), HX_TSDB_OK,
	    "with room again, the "
	    "same points flush");
	hx_tsdb_close(db);
	db = open_db(path, &cfg);
	query(db, "s39", HX_TSDB_RAW, 0, INT64_MAX, &c);
	ok(same_raw(&c, 0, 1100, 1000),
	    "all of them, once, after "
	    "reopening");
	is_str(sql_str(hx_tsdb_sqlite(db), "PRAGMA integrity_check"), "ok",
	    "integrity_check");
	hx_tsdb_close(db);
out:
	free(c.p);
	free(path);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The scratch directory and all in it, without a shell. */
static int
rm_tmpdir(void)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_open();
	test_blocks();
	test_tiers();
	test_extremes();
	test_retention();
	test_glob();
	test_reader();
	test_kill();
	test_full();
	clr();
	rm_tmpdir();
	return done_testing();
}
