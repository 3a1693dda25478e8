/*
 * hx-tsdb.c - the metrics history's storage engine (see hx-tsdb.h).
 *
 * Memory. The writer keeps every series (id, name, unit, kind, the
 * downsampling marks) and, per tier, the blocks the database does not
 * have in their latest form: the closed ones not yet flushed and the open
 * one. A flushed block keeps its row id so the next flush rewrites it in
 * place. The series table and those blocks are the `struct mem` a reader
 * handle shares, under its mutex: the writer takes it to change them, a
 * reader to look at them; the writer reads them without it (it is the
 * only one changing them).
 *
 * A query takes a snapshot under the mutex: it opens a read transaction
 * (whose first read fixes what the database shows it) and copies the
 * series' unflushed blocks. The writer commits a flush under the same
 * mutex, so the copy and the database view are of one instant: a block
 * is either still unflushed in the copy or committed in the view, never
 * both (a row the copy also holds, by id, is skipped) nor neither.
 *
 * This file: the schema, opening, the series and blocks in memory, and
 * everything the writer does (add, flush, downsample, expire).
 * hx-tsdb-read.c has the snapshots, walks and queries.
 *
 * What it does not do: name series, decide when to flush or downsample
 * (the daemon's history thread does, on its own clock), or print.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hx-sqlite.h"
#include "hx-tsdb-int.h"

#define BUSY_TIMEOUT_MS 5000
#define CACHE_KIB "16384"
#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)

/* --- schema -------------------------------------------------------------- */

/*
 * Every query is an index search, never a scan of the blocks: there are
 * millions of them at 48 h of 1,000 VMs. Blocks of one series and tier
 * never overlap, so ordering them by t_start also orders them by t_end.
 * blocks.open is 1 while the writer may still rewrite the row: expiry
 * and the byte cap only delete closed blocks. ds_minute and ds_hour are
 * the downsampling marks: every bucket before them has been built
 * (INT64_MIN: none yet).
 */
static const char *const migration_1[] = { "CREATE TABLE series ("
					   " id INTEGER PRIMARY KEY,"
					   " name TEXT NOT NULL UNIQUE,"
					   " unit TEXT NOT NULL DEFAULT '',"
					   " kind TEXT NOT NULL DEFAULT '',"
					   " ds_minute INTEGER NOT NULL,"
					   " ds_hour INTEGER NOT NULL)",

	"CREATE TABLE blocks ("
	" id INTEGER PRIMARY KEY,"
	" series_id INTEGER NOT NULL REFERENCES series (id),"
	" tier INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 2),"
	" t_start INTEGER NOT NULL,"
	" t_end INTEGER NOT NULL,"
	" count INTEGER NOT NULL CHECK (count > 0),"
	" open INTEGER NOT NULL CHECK (open IN (0, 1)),"
	" nbytes INTEGER NOT NULL,"
	" data BLOB NOT NULL)",
	"CREATE INDEX blocks_series ON blocks (series_id, tier, t_start)",
	"CREATE INDEX blocks_age ON blocks (tier, t_end)",
	"CREATE INDEX blocks_open ON blocks (series_id, tier, t_start)"
	" WHERE open = 1",

	/* The blocks' bytes, kept by triggers: the cap never scans. */
	"CREATE TABLE usage ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" bytes INTEGER NOT NULL)",
	"INSERT INTO usage (id, bytes) VALUES (1, 0)",
	"CREATE TRIGGER blocks_insert AFTER INSERT ON blocks BEGIN"
	" UPDATE usage SET bytes = bytes + new.nbytes WHERE id = 1; END",
	"CREATE TRIGGER blocks_delete AFTER DELETE ON blocks BEGIN"
	" UPDATE usage SET bytes = bytes - old.nbytes WHERE id = 1; END",
	"CREATE TRIGGER blocks_update AFTER UPDATE OF nbytes ON blocks BEGIN"
	" UPDATE usage SET bytes = bytes - old.nbytes + new.nbytes"
	" WHERE id = 1; END",
	NULL };

/*
 * migrations[i] takes user_version from i to i + 1. As for the identity
 * store (lib/hx-store.c): a new one keeps tests/0835-upgrade.bats passing
 * from every fixture in tests/fixtures/upgrade/ and adds its own fixture.
 */
static const char *const *const migrations[] = {
	migration_1,
};

#define SCHEMA_VERSION ((int)HX_ARRAY_SIZE(migrations))

static const char *const stmt_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN",
	[S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	/* A read that starts the read transaction's snapshot. */
	[S_PIN] = "SELECT count(*) FROM (SELECT 1 FROM series LIMIT 1)",
	[S_SERIES_INSERT] = "INSERT INTO series (name, unit, kind, ds_minute,"
			    " ds_hour) VALUES (?1, ?2, ?3, ?4, ?4)",
	[S_SERIES_ALL] = "SELECT id, name, unit, kind, ds_minute, ds_hour"
			 " FROM series ORDER BY id",
	[S_SERIES_MARKS] = "UPDATE series SET ds_minute = ?2, ds_hour = ?3"
			   " WHERE id = ?1",
	[S_LAST_T] = "SELECT t_end FROM blocks WHERE series_id = ?1"
		     " AND tier = ?2 ORDER BY t_start DESC LIMIT 1",
	[S_OPEN_BLOCKS] =
	    "SELECT id, series_id, tier, t_start, count, data"
	    " FROM blocks WHERE open = 1 ORDER BY series_id, tier, t_start",
	[S_BLOCK_INSERT] = "INSERT INTO blocks (series_id, tier, t_start,"
			   " t_end, count, open, nbytes, data)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, length(?7), ?7)",
	[S_BLOCK_UPDATE] =
	    "UPDATE blocks SET t_end = ?2, count = ?3,"
	    " open = ?4, nbytes = length(?5), data = ?5 WHERE id = ?1",
	/* From the block holding ?3 (the last to start at or before it). */
	[S_BLOCK_RANGE] =
	    "SELECT id, count, data FROM blocks"
	    " WHERE series_id = ?1 AND tier = ?2 AND t_start <= ?4"
	    " AND t_start >= coalesce((SELECT max(t_start) FROM blocks"
	    " WHERE series_id = ?1 AND tier = ?2 AND t_start <= ?3), ?3)"
	    " AND t_end >= ?3 ORDER BY t_start",
	[S_EXPIRE_AGE] = "DELETE FROM blocks WHERE tier = ?1 AND t_end < ?2"
			 " AND open = 0",
	[S_TOTAL_BYTES] = "SELECT bytes FROM usage WHERE id = 1",
	[S_CAP_CANDIDATES] = "SELECT id, nbytes FROM blocks WHERE open = 0"
			     " ORDER BY tier, t_end, id",
	[S_BLOCK_DELETE] = "DELETE FROM blocks WHERE id = ?1",
	/* The one scan: for tests and benchmarks, never on a hot path. */
	[S_STATS] = "SELECT tier, count(*), sum(nbytes), sum(count)"
		    " FROM blocks GROUP BY tier",
};

/* --- messages ------------------------------------------------------------ */

/* SQLite's failure as ours: a full database is told apart. */
int
tsdb_db_fail(struct hx_tsdb *db, char **err)
{
	if ((sqlite3_extended_errcode(db->db) & 0xff) == SQLITE_FULL)
		return hx_fail(err, HX_TSDB_FULL, "cannot write '%s': %s",
		    db->path, sqlite3_errmsg(db->db));
	return hx_fail(err, HX_TSDB_ERROR, "database error: %s",
	    sqlite3_errmsg(db->db));
}

/* --- statement helpers --------------------------------------------------- */

void
tsdb_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Step a statement to its end; OK or the failure. Resets it. */
int
tsdb_run(struct hx_tsdb *db, sqlite3_stmt *s, char **err)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	rc = rc == SQLITE_DONE ? HX_TSDB_OK : tsdb_db_fail(db, err);
	tsdb_done(s);
	return rc;
}

/* Commit if rc is OK (a failure then becomes rc), else roll back. */
int
tsdb_tx_end(struct hx_tsdb *db, int rc, char **err)
{
	if (rc == HX_TSDB_OK) {
		if ((rc = tsdb_run(db, db->stmt[S_COMMIT], err)) == HX_TSDB_OK)
			return rc;
	}
	/* SQLite may already have rolled back (full disk, I/O error). */
	if (!sqlite3_get_autocommit(db->db))
		tsdb_run(db, db->stmt[S_ROLLBACK], NULL);
	return rc;
}

/* One set-up statement (hx_sqlite_exec) with the engine's error codes. */
int
tsdb_run_once(struct hx_tsdb *db, const char *sql, char *res, size_t reslen,
    char **err)
{
	if (hx_sqlite_exec(db->db, sql, res, reslen) != SQLITE_OK)
		return tsdb_db_fail(db, err);
	return HX_TSDB_OK;
}

/* --- series in memory ---------------------------------------------------- */

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static void
hash_put(struct mem *m, size_t idx)
{
	size_t i;

	i = name_hash(m->s[idx]->name) & (m->hsize - 1);
	while (m->hash[i] != 0)
		i = (i + 1) & (m->hsize - 1);
	m->hash[i] = idx + 1;
}

struct tseries *
tsdb_find_name(struct mem *m, const char *name)
{
	size_t i, v;

	if (m->hsize == 0)
		return NULL;
	i = name_hash(name) & (m->hsize - 1);
	while ((v = m->hash[i]) != 0) {
		if (strcmp(m->s[v - 1]->name, name) == 0)
			return m->s[v - 1];
		i = (i + 1) & (m->hsize - 1);
	}
	return NULL;
}

static struct tseries *
find_id(struct mem *m, int64_t id)
{
	size_t lo = 0, hi = m->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->s[mid]->id == id)
			return m->s[mid];
		if (m->s[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Append a series (ids only grow). Call with the lock held. */
static struct tseries *
mem_add(struct mem *m, int64_t id, const char *name, const char *unit,
    const char *kind)
{
	struct tseries *s;
	size_t		i;
	int		t;

	s = xcalloc(1, sizeof *s);
	s->id = id;
	s->name = xstrdup(name);
	s->unit = xstrdup(unit != NULL ? unit : "");
	s->kind = xstrdup(kind != NULL ? kind : "");
	for (t = 0; t < HX_TSDB_TIERS; t++) {
		s->tier[t].last_t = INT64_MIN;
		s->tier[t].mark = INT64_MIN;
	}
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? 2 * m->alloc : 64;
		m->s = xrealloc(m->s, m->alloc * sizeof *m->s);
	}
	m->s[m->n++] = s;
	if (2 * m->n > m->hsize) {
		free(m->hash);
		m->hsize = m->hsize ? 2 * m->hsize : 128;
		m->hash = xcalloc(m->hsize, sizeof *m->hash);
		for (i = 0; i < m->n; i++)
			hash_put(m, i);
	} else
		hash_put(m, m->n - 1);
	return s;
}

static void
mem_free(struct mem *m)
{
	struct tseries *s;
	size_t		i, j;
	int		t;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		s = m->s[i];
		for (t = 0; t < HX_TSDB_TIERS; t++) {
			for (j = 0; j < s->tier[t].n; j++)
				hx_gorilla_enc_release(&s->tier[t].blk[j].enc);
			free(s->tier[t].blk);
		}
		free(s->name);
		free(s->unit);
		free(s->kind);
		free(s);
	}
	free(m->s);
	free(m->hash);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* --- tiers --------------------------------------------------------------- */

int64_t
hx_tsdb_bucket_ms(enum hx_tsdb_tier tier)
{
	return tier == HX_TSDB_MINUTE ? 60000 :
	    tier == HX_TSDB_HOUR      ? HOUR_MS :
					0;
}

unsigned
tsdb_tier_k(int tier)
{
	return tier == HX_TSDB_RAW ? 1 : 4; /* min, avg, max, n */
}

/* t down to a multiple of b; INT64_MIN when that is below INT64_MIN. */
int64_t
tsdb_floor(int64_t t, int64_t b)
{
	int64_t r = t % b;

	if (r >= 0)
		return t - r;
	return t - r < INT64_MIN + b ? INT64_MIN : t - r - b;
}

static int64_t
tier_span(struct hx_tsdb *db, int tier)
{
	if (tier == HX_TSDB_RAW)
		return db->cfg.block_span_ms;
	return (int64_t)db->cfg.block_points * hx_tsdb_bucket_ms(tier);
}

/*
 * Has a block that started at start reached span by t? In unsigned
 * arithmetic: timestamps are whatever the caller gave, and a signed
 * difference of two far-apart ones would overflow.
 */
static int
spanned(int64_t start, int64_t t, int64_t span)
{
	return t > start && (uint64_t)t - (uint64_t)start >= (uint64_t)span;
}

/* now - age, saturating at INT64_MIN. */
static int64_t
minus(int64_t now, int64_t age)
{
	return now < INT64_MIN + age ? INT64_MIN : now - age;
}

/* Append one point to a tier's open block. Call with the lock held. */
static void
append(struct hx_tsdb *db, struct tseries *s, int tier, int64_t t,
    const double *v)
{
	struct tier_state *ts = &s->tier[tier];
	struct mblock	  *b = ts->n > 0 ? &ts->blk[ts->n - 1] : NULL;

	if (b != NULL && !b->closed &&
	    (b->enc.count >= db->cfg.block_points ||
		spanned(b->t_start, t, tier_span(db, tier)))) {
		b->closed = 1;
		b->dirty = 1;
	}
	if (b == NULL || b->closed) {
		ts->blk = xrealloc(ts->blk, (ts->n + 1) * sizeof *ts->blk);
		b = &ts->blk[ts->n++];
		memset(b, 0, sizeof *b);
		hx_gorilla_enc_init(&b->enc, tsdb_tier_k(tier));
		b->t_start = t;
	}
	hx_gorilla_enc_add(&b->enc, t, v);
	b->t_end = t;
	b->dirty = 1;
	ts->last_t = t;
}

/* --- open and close ------------------------------------------------------ */

/* SQLite's code from set-up as ours: a full disk is told apart. */
static int
setup_rc(int rc)
{
	if (rc == SQLITE_OK)
		return HX_TSDB_OK;
	return (rc & 0xff) == SQLITE_FULL ? HX_TSDB_FULL : HX_TSDB_ERROR;
}

static int
migrate(struct hx_tsdb *db, char **err)
{
	return setup_rc(
	    hx_sqlite_migrate(db->db, migrations, SCHEMA_VERSION, err));
}

/*
 * DESIGN §8's settings: WAL, synchronous=NORMAL. Queries read whole
 * blocks of many series: keep CACHE_KIB of pages per connection
 * (SQLite's default is 2 MiB) instead of asking the kernel for them
 * again and again.
 */
static int
configure(struct hx_tsdb *db, char **err)
{
	static const char *const extra[] = { "PRAGMA cache_size = -" CACHE_KIB,
		NULL };

	return setup_rc(
	    hx_sqlite_configure(db->db, BUSY_TIMEOUT_MS, "NORMAL", extra, err));
}

static int
connect_db(struct hx_tsdb *db, char **err)
{
	int fd, e, i, rc;

	/* Created 0600 whatever the umask; -wal and -shm follow its mode. */
	fd = open(db->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (fchmod(fd, 0600) != 0) {
			e = errno;
			close(fd);
			return hx_fail(err, HX_TSDB_ERROR,
			    "cannot set the mode "
			    "of '%s': %s",
			    db->path, strerror(e));
		}
		close(fd);
	} else if (errno != EEXIST)
		return hx_fail(err, HX_TSDB_ERROR, "cannot create '%s': %s",
		    db->path, strerror(errno));
	if (sqlite3_open_v2(db->path, &db->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return hx_fail(err, HX_TSDB_ERROR,
		    "database error: cannot open "
		    "'%s': %s",
		    db->path,
		    db->db != NULL ? sqlite3_errmsg(db->db) : "out of memory");
	if ((rc = configure(db, err)) != HX_TSDB_OK ||
	    (rc = migrate(db, err)) != HX_TSDB_OK)
		return rc;
	for (i = 0; i < S__COUNT; i++) {
		if (sqlite3_prepare_v3(db->db, stmt_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &db->stmt[i],
			NULL) != SQLITE_OK)
			return hx_fail(err, HX_TSDB_ERROR,
			    "database error: "
			    "statement %d: %s",
			    i, sqlite3_errmsg(db->db));
	}
	return HX_TSDB_OK;
}

static const char *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? (const char *)t : "";
}

/* The series, their last points and their open blocks, into memory. */
static int
load(struct hx_tsdb *db, char **err)
{
	struct mem	     *m = db->mem;
	struct tseries	     *s;
	struct mblock	     *b;
	struct hx_gorilla_dec d;
	sqlite3_stmt	     *q;
	double		      v[HX_GORILLA_MAXK];
	int64_t		      t;
	size_t		      i;
	int		      rc, tier, r;

	q = db->stmt[S_SERIES_ALL];
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		s = mem_add(m, sqlite3_column_int64(q, 0), col_text(q, 1),
		    col_text(q, 2), col_text(q, 3));
		s->tier[HX_TSDB_MINUTE].mark = sqlite3_column_int64(q, 4);
		s->tier[HX_TSDB_HOUR].mark = sqlite3_column_int64(q, 5);
	}
	tsdb_done(q);
	if (rc != SQLITE_DONE)
		return tsdb_db_fail(db, err);

	/* The last point of each series and tier: one index search each. */
	q = db->stmt[S_LAST_T];
	for (i = 0; i < m->n; i++) {
		s = m->s[i];
		for (tier = 0; tier < HX_TSDB_TIERS; tier++) {
			sqlite3_bind_int64(q, 1, s->id);
			sqlite3_bind_int(q, 2, tier);
			if ((rc = sqlite3_step(q)) == SQLITE_ROW)
				s->tier[tier].last_t = sqlite3_column_int64(q,
				    0);
			tsdb_done(q);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				return tsdb_db_fail(db, err);
		}
	}

	/* Open blocks come back as open blocks: re-encode their points. */
	q = db->stmt[S_OPEN_BLOCKS];
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		s = find_id(m, sqlite3_column_int64(q, 1));
		tier = sqlite3_column_int(q, 2);
		if (s == NULL || tier < 0 || tier >= HX_TSDB_TIERS)
			continue;
		if (s->tier[tier].n > 0) /* two open: keep the newest */
			s->tier[tier].blk[s->tier[tier].n - 1].closed = 1;
		s->tier[tier].blk = xrealloc(s->tier[tier].blk,
		    (s->tier[tier].n + 1) * sizeof *b);
		b = &s->tier[tier].blk[s->tier[tier].n++];
		memset(b, 0, sizeof *b);
		b->rowid = sqlite3_column_int64(q, 0);
		b->t_start = sqlite3_column_int64(q, 3);
		hx_gorilla_enc_init(&b->enc, tsdb_tier_k(tier));
		hx_gorilla_dec_init(&d, sqlite3_column_blob(q, 5),
		    (size_t)sqlite3_column_bytes(q, 5),
		    (uint32_t)sqlite3_column_int64(q, 4), tsdb_tier_k(tier));
		while ((r = hx_gorilla_dec_next(&d, &t, v)) == 1) {
			hx_gorilla_enc_add(&b->enc, t, v);
			b->t_end = t;
		}
		if (r < 0 || b->enc.count == 0) {
			tsdb_done(q);
			return hx_fail(err, HX_TSDB_ERROR,
			    "database error: the "
			    "open block %lld of series '%s' is damaged",
			    (long long)b->rowid, s->name);
		}
	}
	tsdb_done(q);
	if (rc != SQLITE_DONE)
		return tsdb_db_fail(db, err);
	return HX_TSDB_OK;
}

static void
config_defaults(struct hx_tsdb_config *c, const struct hx_tsdb_config *in)
{
	static const int64_t age[HX_TSDB_TIERS] = { 2 * DAY_MS, 30 * DAY_MS,
		730 * DAY_MS };
	int		     t;

	if (in != NULL)
		*c = *in;
	else
		memset(c, 0, sizeof *c);
	for (t = 0; t < HX_TSDB_TIERS; t++)
		if (c->retention_ms[t] <= 0)
			c->retention_ms[t] = age[t];
	if (c->block_points == 0)
		c->block_points = 120;
	if (c->block_span_ms <= 0)
		c->block_span_ms = 2 * HOUR_MS;
	if (c->max_bytes < 0)
		c->max_bytes = 0;
}

int
hx_tsdb_open(const char *path, const struct hx_tsdb_config *cfg,
    struct hx_tsdb **out, char **err)
{
	struct hx_tsdb *db;
	int		rc;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return hx_fail(err, HX_TSDB_INVALID, "no database path");
	db = xcalloc(1, sizeof *db);
	db->path = xstrdup(path);
	db->writer = 1;
	config_defaults(&db->cfg, cfg);
	db->mem = xcalloc(1, sizeof *db->mem);
	pthread_mutex_init(&db->mem->lock, NULL);
	if ((rc = connect_db(db, err)) != HX_TSDB_OK ||
	    (rc = load(db, err)) != HX_TSDB_OK) {
		hx_tsdb_close(db);
		return rc;
	}
	*out = db;
	return HX_TSDB_OK;
}

int
hx_tsdb_open_reader(struct hx_tsdb *w, struct hx_tsdb **out, char **err)
{
	struct hx_tsdb *db;
	int		rc;

	*out = NULL;
	if (!w->writer)
		return hx_fail(err, HX_TSDB_INVALID,
		    "a reader needs the writer");
	db = xcalloc(1, sizeof *db);
	db->path = xstrdup(w->path);
	db->cfg = w->cfg;
	db->mem = w->mem;
	if ((rc = connect_db(db, err)) != HX_TSDB_OK) {
		hx_tsdb_close(db);
		return rc;
	}
	*out = db;
	return HX_TSDB_OK;
}

void
hx_tsdb_close(struct hx_tsdb *db)
{
	int i;

	if (db == NULL)
		return;
	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(db->stmt[i]);
	sqlite3_close(db->db);
	if (db->writer)
		mem_free(db->mem);
	free(db->path);
	free(db);
}

struct sqlite3 *
hx_tsdb_sqlite(struct hx_tsdb *db)
{
	return db->db;
}

/* --- writing ------------------------------------------------------------- */

int
tsdb_name_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return 0;
	return n > 0 && n <= HX_TSDB_NAME_MAX;
}

int
hx_tsdb_series(struct hx_tsdb *db, const char *name, const char *unit,
    const char *kind, int64_t *id, char **err)
{
	sqlite3_stmt   *s = db->stmt[S_SERIES_INSERT];
	struct tseries *ts;
	int		rc;

	if (!db->writer)
		return hx_fail(err, HX_TSDB_INVALID,
		    "a reader cannot add series");
	if (!tsdb_name_valid(name))
		return hx_fail(err, HX_TSDB_INVALID, "invalid series name");
	if ((ts = tsdb_find_name(db->mem, name)) != NULL) {
		*id = ts->id;
		return HX_TSDB_OK;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, unit != NULL ? unit : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind != NULL ? kind : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, INT64_MIN);
	if ((rc = tsdb_run(db, s, err)) != HX_TSDB_OK)
		return rc;
	*id = sqlite3_last_insert_rowid(db->db);
	pthread_mutex_lock(&db->mem->lock);
	mem_add(db->mem, *id, name, unit, kind);
	pthread_mutex_unlock(&db->mem->lock);
	return HX_TSDB_OK;
}

int
hx_tsdb_add(struct hx_tsdb *db, int64_t id, int64_t t, double v, char **err)
{
	struct tseries *s;

	if (!db->writer)
		return hx_fail(err, HX_TSDB_INVALID,
		    "a reader cannot add points");
	if ((s = find_id(db->mem, id)) == NULL)
		return hx_fail(err, HX_TSDB_NOT_FOUND, "no series %lld",
		    (long long)id);
	if (t <= s->tier[HX_TSDB_RAW].last_t)
		return hx_fail(err, HX_TSDB_INVALID,
		    "point at %lld of series "
		    "'%s' is not after its last one (%lld)",
		    (long long)t, s->name,
		    (long long)s->tier[HX_TSDB_RAW].last_t);
	if (t < s->tier[HX_TSDB_MINUTE].mark)
		return hx_fail(err, HX_TSDB_INVALID,
		    "point at %lld of series "
		    "'%s' is in a minute already downsampled",
		    (long long)t, s->name);
	pthread_mutex_lock(&db->mem->lock);
	append(db, s, HX_TSDB_RAW, t, &v);
	pthread_mutex_unlock(&db->mem->lock);
	return HX_TSDB_OK;
}

static int
write_block(struct hx_tsdb *db, struct tseries *s, int tier, struct mblock *b,
    char **err)
{
	sqlite3_stmt *q;
	int	      rc;

	if (b->rowid != 0) {
		q = db->stmt[S_BLOCK_UPDATE];
		sqlite3_bind_int64(q, 1, b->rowid);
		sqlite3_bind_int64(q, 2, b->t_end);
		sqlite3_bind_int64(q, 3, b->enc.count);
		sqlite3_bind_int(q, 4, !b->closed);
		sqlite3_bind_blob(q, 5, b->enc.data, (int)b->enc.len,
		    SQLITE_STATIC);
		if ((rc = tsdb_run(db, q, err)) != HX_TSDB_OK)
			return rc;
		if (sqlite3_changes(db->db) > 0)
			return HX_TSDB_OK;
	}
	/* New, or its row was deleted under it: insert it (again). */
	q = db->stmt[S_BLOCK_INSERT];
	sqlite3_bind_int64(q, 1, s->id);
	sqlite3_bind_int(q, 2, tier);
	sqlite3_bind_int64(q, 3, b->t_start);
	sqlite3_bind_int64(q, 4, b->t_end);
	sqlite3_bind_int64(q, 5, b->enc.count);
	sqlite3_bind_int(q, 6, !b->closed);
	sqlite3_bind_blob(q, 7, b->enc.data, (int)b->enc.len, SQLITE_STATIC);
	if ((rc = tsdb_run(db, q, err)) != HX_TSDB_OK)
		return rc;
	b->newid = sqlite3_last_insert_rowid(db->db);
	return HX_TSDB_OK;
}

/* After a flush: adopt new row ids, forget flushed closed blocks. */
static void
flush_settle(struct hx_tsdb *db, int committed)
{
	struct tier_state *ts;
	struct tseries	  *s;
	size_t		   i, j, k;
	int		   t;

	for (i = 0; i < db->mem->n; i++) {
		s = db->mem->s[i];
		if (committed)
			s->marks_dirty = 0;
		for (t = 0; t < HX_TSDB_TIERS; t++) {
			ts = &s->tier[t];
			for (j = k = 0; j < ts->n; j++) {
				if (committed && ts->blk[j].newid != 0)
					ts->blk[j].rowid = ts->blk[j].newid;
				ts->blk[j].newid = 0;
				if (committed)
					ts->blk[j].dirty = 0;
				if (committed && ts->blk[j].closed) {
					hx_gorilla_enc_release(&ts->blk[j].enc);
					continue;
				}
				ts->blk[k++] = ts->blk[j];
			}
			ts->n = k;
		}
	}
}

int
hx_tsdb_flush(struct hx_tsdb *db, char **err)
{
	sqlite3_stmt   *q = db->stmt[S_SERIES_MARKS];
	struct tseries *s;
	size_t		i, j;
	int		rc, t;

	if (!db->writer)
		return hx_fail(err, HX_TSDB_INVALID, "a reader cannot flush");
	if ((rc = tsdb_run(db, db->stmt[S_BEGIN_WRITE], err)) != HX_TSDB_OK)
		return rc;
	for (i = 0; rc == HX_TSDB_OK && i < db->mem->n; i++) {
		s = db->mem->s[i];
		for (t = 0; rc == HX_TSDB_OK && t < HX_TSDB_TIERS; t++)
			for (j = 0; rc == HX_TSDB_OK && j < s->tier[t].n; j++)
				if (s->tier[t].blk[j].dirty)
					rc = write_block(db, s, t,
					    &s->tier[t].blk[j], err);
		if (rc == HX_TSDB_OK && s->marks_dirty) {
			sqlite3_bind_int64(q, 1, s->id);
			sqlite3_bind_int64(q, 2, s->tier[HX_TSDB_MINUTE].mark);
			sqlite3_bind_int64(q, 3, s->tier[HX_TSDB_HOUR].mark);
			rc = tsdb_run(db, q, err);
		}
	}
	/* Commit and settle under the lock: readers see before or after. */
	pthread_mutex_lock(&db->mem->lock);
	rc = tsdb_tx_end(db, rc, err);
	flush_settle(db, rc == HX_TSDB_OK);
	pthread_mutex_unlock(&db->mem->lock);
	return rc;
}

struct ds_ctx {
	struct hx_tsdb *db;
	struct tseries *s;
	int		tier;
};

static int
ds_append(const struct hx_tsdb_point *p, void *arg)
{
	struct ds_ctx *c = arg;
	double	       v[4];

	v[0] = p->min;
	v[1] = p->v;
	v[2] = p->max;
	v[3] = (double)p->n;
	pthread_mutex_lock(&c->db->mem->lock);
	append(c->db, c->s, c->tier, p->t, v);
	pthread_mutex_unlock(&c->db->mem->lock);
	return 0;
}

int
hx_tsdb_downsample(struct hx_tsdb *db, int64_t now_ms, char **err)
{
	struct ds_ctx	c;
	struct snap	sn;
	struct tseries *s;
	int64_t		end;
	size_t		i;
	int		rc = HX_TSDB_OK, tier;

	if (!db->writer)
		return hx_fail(err, HX_TSDB_INVALID,
		    "a reader cannot downsample");
	for (i = 0; rc == HX_TSDB_OK && i < db->mem->n; i++) {
		s = db->mem->s[i];
		for (tier = HX_TSDB_MINUTE; tier < HX_TSDB_TIERS; tier++) {
			end = tsdb_floor(now_ms, hx_tsdb_bucket_ms(tier));
			if (s->tier[tier].mark >= end)
				continue;
			/* Nothing finer (since the mark): just move it. */
			if (s->tier[tier - 1].last_t == INT64_MIN ||
			    s->tier[tier - 1].last_t < s->tier[tier].mark) {
				s->tier[tier].mark = end;
				s->marks_dirty = 1;
				continue;
			}
			if ((rc = tsdb_snap_take(db, NULL, s, &sn, err)) !=
			    HX_TSDB_OK)
				break;
			c.db = db;
			c.s = s;
			c.tier = tier;
			/* The built part only: from the mark to the end. */
			sn.mark[tier] = s->tier[tier].mark;
			rc = tsdb_walk(db, &sn, tier, s->tier[tier].mark,
			    end - 1, ds_append, &c, err);
			tsdb_snap_release(db, &sn);
			if (rc < 0)
				break;
			rc = HX_TSDB_OK;
			pthread_mutex_lock(&db->mem->lock);
			s->tier[tier].mark = end;
			pthread_mutex_unlock(&db->mem->lock);
			s->marks_dirty = 1;
		}
	}
	return rc;
}

int
hx_tsdb_expire(struct hx_tsdb *db, int64_t now_ms, int64_t *deleted, char **err)
{
	sqlite3_stmt   *q;
	struct mblock  *b;
	struct tseries *s;
	int64_t		n = 0, total = 0, *ids = NULL, cut;
	size_t		i, nids = 0, aids = 0;
	int		rc, t, r = SQLITE_DONE;

	if (deleted != NULL)
		*deleted = 0;
	if (!db->writer)
		return hx_fail(err, HX_TSDB_INVALID, "a reader cannot expire");

	/* A series that stopped (a VM gone) must not keep a block open. */
	pthread_mutex_lock(&db->mem->lock);
	for (i = 0; i < db->mem->n; i++) {
		s = db->mem->s[i];
		for (t = 0; t < HX_TSDB_TIERS; t++) {
			if (s->tier[t].n == 0)
				continue;
			b = &s->tier[t].blk[s->tier[t].n - 1];
			if (!b->closed &&
			    spanned(b->t_start, now_ms, tier_span(db, t))) {
				b->closed = 1;
				b->dirty = 1;
			}
		}
	}
	pthread_mutex_unlock(&db->mem->lock);

	if ((rc = tsdb_run(db, db->stmt[S_BEGIN_WRITE], err)) != HX_TSDB_OK)
		return rc;
	q = db->stmt[S_EXPIRE_AGE];
	for (t = 0; rc == HX_TSDB_OK && t < HX_TSDB_TIERS; t++) {
		cut = minus(now_ms, db->cfg.retention_ms[t]);
		sqlite3_bind_int(q, 1, t);
		sqlite3_bind_int64(q, 2, cut);
		if ((rc = tsdb_run(db, q, err)) == HX_TSDB_OK)
			n += sqlite3_changes(db->db);
	}
	if (rc == HX_TSDB_OK && db->cfg.max_bytes > 0) {
		q = db->stmt[S_TOTAL_BYTES];
		if ((r = sqlite3_step(q)) == SQLITE_ROW)
			total = sqlite3_column_int64(q, 0);
		else
			rc = tsdb_db_fail(db, err);
		tsdb_done(q);
		/* Oldest first, finest tier first, until under the cap. */
		q = db->stmt[S_CAP_CANDIDATES];
		while (rc == HX_TSDB_OK && total > db->cfg.max_bytes &&
		    (r = sqlite3_step(q)) == SQLITE_ROW) {
			if (nids == aids) {
				aids = aids ? 2 * aids : 64;
				ids = xrealloc(ids, aids * sizeof *ids);
			}
			ids[nids++] = sqlite3_column_int64(q, 0);
			total -= sqlite3_column_int64(q, 1);
		}
		if (rc == HX_TSDB_OK && total > db->cfg.max_bytes &&
		    r != SQLITE_DONE)
			rc = tsdb_db_fail(db, err);
		tsdb_done(q);
		q = db->stmt[S_BLOCK_DELETE];
		for (i = 0; rc == HX_TSDB_OK && i < nids; i++) {
			sqlite3_bind_int64(q, 1, ids[i]);
			if ((rc = tsdb_run(db, q, err)) == HX_TSDB_OK)
				n += sqlite3_changes(db->db);
		}
		free(ids);
	}
	rc = tsdb_tx_end(db, rc, err);
	if (deleted != NULL && rc == HX_TSDB_OK)
		*deleted = n;
	return rc;
}
