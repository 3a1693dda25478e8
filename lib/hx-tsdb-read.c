/*
 * hx-tsdb-read.c - the history engine's read side (see hx-tsdb.h and the
 * top of hx-tsdb.c): snapshots of a series, the walk over its stored
 * blocks, its unflushed blocks and the buckets built on the fly, and the
 * query, glob, listing and statistics calls. The writer's downsampling
 * walks here too.
 *
 * What it does not do: change the database or the writer's memory.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hx-tsdb-int.h"

/* --- snapshots and walks ------------------------------------------------- */

void
tsdb_snap_release(struct hx_tsdb *db, struct snap *sn)
{
	size_t i;
	int    t;

	for (t = 0; t < HX_TSDB_TIERS; t++) {
		for (i = 0; i < sn->n[t]; i++)
			free(sn->b[t][i].data);
		free(sn->b[t]);
	}
	if (sn->in_tx)
		tsdb_tx_end(db, HX_TSDB_OK, NULL);
	memset(sn, 0, sizeof *sn);
}

/* Copy s's unflushed blocks. Call with the lock held (or as the writer). */
static void
snap_copy(struct snap *sn, struct tseries *s)
{
	struct mblock *mb;
	struct sblock *b;
	size_t	       i;
	int	       t;

	sn->id = s->id;
	for (t = 0; t < HX_TSDB_TIERS; t++) {
		sn->mark[t] = s->tier[t].mark;
		sn->n[t] = s->tier[t].n;
		sn->b[t] = xcalloc(sn->n[t] ? sn->n[t] : 1, sizeof *sn->b[t]);
		for (i = 0; i < sn->n[t]; i++) {
			mb = &s->tier[t].blk[i];
			b = &sn->b[t][i];
			b->rowid = mb->rowid;
			b->count = mb->enc.count;
			b->len = mb->enc.len;
			b->data = xmalloc(b->len ? b->len : 1);
			if (b->len > 0)
				memcpy(b->data, mb->enc.data, b->len);
		}
	}
}

/*
 * The snapshot of series name (by_name) or s for a walk: a read
 * transaction pinned and the unflushed blocks copied, both under the
 * lock. NOT_FOUND when there is no such series.
 */
int
tsdb_snap_take(struct hx_tsdb *db, const char *name, struct tseries *s,
    struct snap *sn, char **err)
{
	int rc;

	memset(sn, 0, sizeof *sn);
	pthread_mutex_lock(&db->mem->lock);
	if (s == NULL && (s = tsdb_find_name(db->mem, name)) == NULL) {
		pthread_mutex_unlock(&db->mem->lock);
		return hx_fail(err, HX_TSDB_NOT_FOUND, "no series '%s'", name);
	}
	if ((rc = tsdb_run(db, db->stmt[S_BEGIN], err)) == HX_TSDB_OK) {
		sn->in_tx = 1;
		rc = tsdb_run(db, db->stmt[S_PIN], err);
	}
	if (rc == HX_TSDB_OK)
		snap_copy(sn, s);
	pthread_mutex_unlock(&db->mem->lock);
	if (rc != HX_TSDB_OK)
		tsdb_snap_release(db, sn);
	return rc;
}

/* Accumulates finer points into buckets of one aggregated tier. */
struct agg {
	int64_t		 bucket;
	int64_t		 cur;
	int		 have;
	double		 sum, min, max;
	uint64_t	 n;
	hx_tsdb_point_cb cb;
	void		*arg;
	int		 stopped;
};

static int
agg_emit(struct agg *a)
{
	struct hx_tsdb_point p;

	if (!a->have)
		return 0;
	a->have = 0;
	p.t = a->cur;
	p.n = a->n > UINT32_MAX ? UINT32_MAX : (uint32_t)a->n;
	p.v = a->n > 0 ? a->sum / (double)a->n : NAN;
	p.min = a->n > 0 ? a->min : NAN;
	p.max = a->n > 0 ? a->max : NAN;
	if (a->cb(&p, a->arg) != 0)
		a->stopped = 1;
	return a->stopped;
}

static int
agg_add(const struct hx_tsdb_point *p, void *arg)
{
	struct agg *a = arg;
	int64_t	    b = tsdb_floor(p->t, a->bucket);

	if (a->have && b != a->cur && agg_emit(a))
		return 1;
	if (!a->have) {
		a->have = 1;
		a->cur = b;
		a->sum = 0;
		a->n = 0;
		a->min = a->max = NAN;
	}
	if (p->n > 0) {
		a->sum += p->v * (double)p->n;
		if (a->n == 0 || p->min < a->min)
			a->min = p->min;
		if (a->n == 0 || p->max > a->max)
			a->max = p->max;
		a->n += p->n;
	}
	return 0;
}

/*
 * Decode one block and call cb for its points in [from, to]. Returns 0,
 * 1 when cb stopped the walk, or an error.
 */
static int
walk_block(int tier, const void *data, size_t len, uint32_t count, int64_t from,
    int64_t to, hx_tsdb_point_cb cb, void *arg, int64_t sid, char **err)
{
	struct hx_gorilla_dec d;
	struct hx_tsdb_point  p;
	double		      v[HX_GORILLA_MAXK];
	int		      r;

	hx_gorilla_dec_init(&d, data, len, count, tsdb_tier_k(tier));
	while ((r = hx_gorilla_dec_next(&d, &p.t, v)) == 1) {
		if (p.t < from)
			continue;
		if (p.t > to)
			return 0;
		if (tier == HX_TSDB_RAW) {
			p.v = p.min = p.max = v[0];
			p.n = isnan(v[0]) ? 0 : 1;
		} else {
			p.min = v[0];
			p.v = v[1];
			p.max = v[2];
			p.n = v[3] >= 0 && v[3] <= UINT32_MAX ? (uint32_t)v[3] :
								0;
		}
		if (cb(&p, arg) != 0)
			return 1;
	}
	if (r < 0)
		return hx_fail(err, HX_TSDB_ERROR,
		    "database error: a block of "
		    "series %lld (tier %d) is damaged",
		    (long long)sid, tier);
	return 0;
}

static int
in_snap(const struct snap *sn, int tier, int64_t rowid)
{
	size_t i;

	for (i = 0; i < sn->n[tier]; i++)
		if (sn->b[tier][i].rowid == rowid)
			return 1;
	return 0;
}

/*
 * Call cb for the points of tier in [from, to] of the snapshot's series,
 * oldest first: the stored blocks, the unflushed ones, then (aggregated
 * tiers) the buckets from the mark on, built from the finer tier. Returns
 * 0, 1 when cb stopped, or an error.
 */
int
tsdb_walk(struct hx_tsdb *db, struct snap *sn, int tier, int64_t from,
    int64_t to, hx_tsdb_point_cb cb, void *arg, char **err)
{
	sqlite3_stmt *s = db->stmt[S_BLOCK_RANGE];
	struct agg    a;
	int64_t	      built_to = to, bk, lo, hi;
	size_t	      i;
	int	      rc = 0, r = SQLITE_DONE, built = 1;

	if (tier != HX_TSDB_RAW) {
		if (sn->mark[tier] == INT64_MIN)
			built = 0;
		else if (sn->mark[tier] - 1 < built_to)
			built_to = sn->mark[tier] - 1;
	}
	if (built && from <= built_to) {
		sqlite3_bind_int64(s, 1, sn->id);
		sqlite3_bind_int(s, 2, tier);
		sqlite3_bind_int64(s, 3, from);
		sqlite3_bind_int64(s, 4, built_to);
		while (rc == 0 && (r = sqlite3_step(s)) == SQLITE_ROW) {
			if (in_snap(sn, tier, sqlite3_column_int64(s, 0)))
				continue;
			rc = walk_block(tier, sqlite3_column_blob(s, 2),
			    (size_t)sqlite3_column_bytes(s, 2),
			    (uint32_t)sqlite3_column_int64(s, 1), from,
			    built_to, cb, arg, sn->id, err);
		}
		if (rc == 0 && r != SQLITE_DONE)
			rc = tsdb_db_fail(db, err);
		tsdb_done(s);
		for (i = 0; rc == 0 && i < sn->n[tier]; i++)
			rc = walk_block(tier, sn->b[tier][i].data,
			    sn->b[tier][i].len, sn->b[tier][i].count, from,
			    built_to, cb, arg, sn->id, err);
		if (rc != 0)
			return rc;
	}
	if (tier == HX_TSDB_RAW || to < sn->mark[tier])
		return 0;
	bk = hx_tsdb_bucket_ms(tier);
	lo = tsdb_floor(from, bk);
	if (lo < from) {
		if (lo > INT64_MAX - bk)
			return 0;
		lo += bk;
	}
	if (lo < sn->mark[tier])
		lo = sn->mark[tier];
	hi = tsdb_floor(to, bk);
	if (hi > INT64_MAX - bk)
		hi = INT64_MAX;
	else
		hi += bk - 1;
	if (lo > hi)
		return 0;
	memset(&a, 0, sizeof a);
	a.bucket = bk;
	a.cb = cb;
	a.arg = arg;
	rc = tsdb_walk(db, sn, tier - 1, lo, hi, agg_add, &a, err);
	if (rc < 0)
		return rc;
	if (a.stopped)
		return 1;
	return agg_emit(&a);
}

/* --- reading ------------------------------------------------------------- */

int
hx_tsdb_query(struct hx_tsdb *db, const char *name, enum hx_tsdb_tier tier,
    int64_t from_ms, int64_t to_ms, hx_tsdb_point_cb cb, void *arg, char **err)
{
	struct snap sn;
	int	    rc;

	if ((int)tier < 0 || tier >= HX_TSDB_TIERS)
		return hx_fail(err, HX_TSDB_INVALID, "no tier %d", (int)tier);
	if (name == NULL)
		return hx_fail(err, HX_TSDB_INVALID, "no series name");
	if (from_ms > to_ms)
		return HX_TSDB_OK;
	if ((rc = tsdb_snap_take(db, name, NULL, &sn, err)) != HX_TSDB_OK)
		return rc;
	rc = tsdb_walk(db, &sn, tier, from_ms, to_ms, cb, arg, err);
	tsdb_snap_release(db, &sn);
	return rc < 0 ? rc : HX_TSDB_OK;
}

/* One part of a glob against one part of a name; '*' within the part. */
static int
part_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else
			return 0;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

int
hx_tsdb_glob_valid(const char *pattern)
{
	return tsdb_name_valid(pattern);
}

int
hx_tsdb_glob_match(const char *p, const char *s)
{
	const char *pe, *se;

	for (;;) {
		pe = strchr(p, ':');
		se = strchr(s, ':');
		if ((pe == NULL) != (se == NULL))
			return 0;
		if (pe == NULL)
			return part_match(p, strlen(p), s, strlen(s));
		if (!part_match(p, (size_t)(pe - p), s, (size_t)(se - s)))
			return 0;
		p = pe + 1;
		s = se + 1;
	}
}

int
hx_tsdb_glob_match_part(const char *p, const char *s)
{
	return part_match(p, strlen(p), s, strlen(s));
}

static int
info_cmp(const void *a, const void *b)
{
	const struct hx_tsdb_series_info *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int
hx_tsdb_list(struct hx_tsdb *db, const char *pattern, hx_tsdb_series_cb cb,
    void *arg, char **err)
{
	struct hx_tsdb_series_info *v = NULL;
	struct tseries		   *s;
	size_t			    i, n = 0;
	int			    exact;

	if (pattern != NULL && !hx_tsdb_glob_valid(pattern))
		return hx_fail(err, HX_TSDB_INVALID, "invalid series pattern");
	/* Copies, so cb runs without the lock and may call us again. */
	pthread_mutex_lock(&db->mem->lock);
	v = xcalloc(db->mem->n ? db->mem->n : 1, sizeof *v);
	/* Without a '*' a pattern matches one name alone: the hash has it. */
	exact = pattern != NULL && strchr(pattern, '*') == NULL;
	for (i = 0; i < db->mem->n; i++) {
		if (exact) {
			if ((s = tsdb_find_name(db->mem, pattern)) == NULL)
				break;
		} else
			s = db->mem->s[i];
		if (pattern != NULL && !exact &&
		    !hx_tsdb_glob_match(pattern, s->name))
			continue;
		v[n].id = s->id;
		v[n].name = xstrdup(s->name);
		v[n].unit = xstrdup(s->unit);
		v[n].kind = xstrdup(s->kind);
		n++;
		if (exact)
			break;
	}
	pthread_mutex_unlock(&db->mem->lock);
	qsort(v, n, sizeof *v, info_cmp);
	for (i = 0; i < n; i++)
		if (cb(&v[i], arg) != 0)
			break;
	for (i = 0; i < n; i++) {
		free((char *)v[i].name);
		free((char *)v[i].unit);
		free((char *)v[i].kind);
	}
	free(v);
	return HX_TSDB_OK;
}

int
hx_tsdb_stats(struct hx_tsdb *db, struct hx_tsdb_stats *st, char **err)
{
	sqlite3_stmt *q = db->stmt[S_STATS];
	char	      buf[32];
	long long     pages, freep, psize;
	int	      rc, t;

	memset(st, 0, sizeof *st);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		t = sqlite3_column_int(q, 0);
		if (t < 0 || t >= HX_TSDB_TIERS)
			continue;
		st->blocks[t] = sqlite3_column_int64(q, 1);
		st->bytes[t] = sqlite3_column_int64(q, 2);
		st->points[t] = sqlite3_column_int64(q, 3);
	}
	tsdb_done(q);
	if (rc != SQLITE_DONE)
		return tsdb_db_fail(db, err);
	if ((rc = tsdb_run_once(db, "PRAGMA page_count", buf, sizeof buf,
		 err)) != HX_TSDB_OK ||
	    hx_parse_ll(buf, 0, LLONG_MAX, &pages) != 0)
		return rc != HX_TSDB_OK ?
		    rc :
		    hx_fail(err, HX_TSDB_ERROR,
			"database error: page_count '%s'", buf);
	if ((rc = tsdb_run_once(db, "PRAGMA freelist_count", buf, sizeof buf,
		 err)) != HX_TSDB_OK ||
	    hx_parse_ll(buf, 0, LLONG_MAX, &freep) != 0)
		return rc != HX_TSDB_OK ?
		    rc :
		    hx_fail(err, HX_TSDB_ERROR,
			"database error: freelist_count '%s'", buf);
	if ((rc = tsdb_run_once(db, "PRAGMA page_size", buf, sizeof buf,
		 err)) != HX_TSDB_OK ||
	    hx_parse_ll(buf, 1, LLONG_MAX, &psize) != 0)
		return rc != HX_TSDB_OK ?
		    rc :
		    hx_fail(err, HX_TSDB_ERROR,
			"database error: page_size '%s'", buf);
	st->file_bytes = (pages - freep) * psize;
	pthread_mutex_lock(&db->mem->lock);
	st->series = (int64_t)db->mem->n;
	pthread_mutex_unlock(&db->mem->lock);
	return HX_TSDB_OK;
}
