/*
 * hx-tsdb.h - the metrics history's storage engine (DESIGN §8): series of
 * (t_ms, double) points in compressed blocks (hx-gorilla) inside one
 * SQLite file, DATA_DIR/metrics.db, in three tiers.
 *
 * Tiers. RAW holds the samples as added. MINUTE and HOUR hold one point
 * per 1-minute / 1-hour bucket (stamped with the bucket's start) with the
 * bucket's min, avg and max and n, the number of known samples under it:
 * NaN (an unknown sample) is left out of all three, and a bucket of only
 * NaN samples is a point with NaN min/avg/max and n = 0. MINUTE is built
 * from RAW and HOUR from MINUTE (avg weighted by n), so both are exact up
 * to double rounding. hx_tsdb_downsample builds them from finished
 * buckets; a query on an aggregated tier computes the buckets not yet
 * built on the fly from the finer tier, so every tier answers up to the
 * newest sample.
 *
 * Blocks. Each series has, per tier, an open block in memory that grows
 * until it holds block_points points or spans block_span_ms (aggregated
 * tiers: block_points buckets); it then closes and a new one opens.
 * hx_tsdb_flush writes every block changed since the last flush (the open
 * ones included, rewritten in place) and the downsampling marks, in one
 * transaction: a crash (kill -9) loses at most what was added since the
 * last flush and never what a flush committed (WAL, synchronous=NORMAL).
 * Queries see the points not yet flushed too.
 *
 * Retention. hx_tsdb_expire deletes closed blocks whose newest point is
 * older than the tier's age, then, while the blocks' bytes exceed
 * max_bytes, the oldest closed blocks: every RAW one first, then MINUTE,
 * then HOUR. The cap counts the compressed blocks, not the file: SQLite
 * reuses freed pages, the file does not shrink.
 *
 * Series names are the daemon's business (node:cpu_usage, vm:UUID:...):
 * here a name is any text of 1 .. 255 bytes without control characters;
 * unit and kind are stored and listed, never interpreted.
 *
 * Each connection keeps up to 16 MiB of SQLite pages in memory (queries
 * read whole blocks of many series; SQLite's default 2 MiB made them
 * three times slower).
 *
 * Threads. One struct hx_tsdb is one SQLite connection used by one thread
 * at a time. The writer handle (hx_tsdb_open) owns the in-memory blocks
 * and is the only one that adds, flushes, downsamples and expires: the
 * daemon's history thread. A reader handle (hx_tsdb_open_reader) is a
 * second connection for another thread: it may query and list while the
 * writer works, and sees exactly what the writer had added at one instant
 * (a mutex in the writer ties the read transaction's snapshot to the copy
 * of the unflushed points). Close every reader before its writer. Two
 * writers on one file are not supported.
 *
 * Errors. Functions return enum hx_tsdb_rc; on anything but HX_TSDB_OK,
 * *err (when err is not NULL) is set to a message the caller frees.
 * HX_TSDB_FULL means SQLite could not grow the file (a full disk, a quota,
 * max_page_count): the transaction was rolled back, flushed data is
 * intact and readable, the unflushed points stay in memory; the daemon
 * stops history and says so. Nothing here prints or exits.
 */
#ifndef HX_TSDB_H
#define HX_TSDB_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct hx_tsdb;

enum hx_tsdb_rc {
	HX_TSDB_OK = 0,
	HX_TSDB_NOT_FOUND = 1, /* no such series */
	HX_TSDB_INVALID = 2, /* bad name, glob, tier, or a point out of order */
	HX_TSDB_ERROR = -1, /* SQLite or the file system failed */
	HX_TSDB_FULL = -2 /* the database cannot grow (disk full) */
};

enum hx_tsdb_tier {
	HX_TSDB_RAW,
	HX_TSDB_MINUTE,
	HX_TSDB_HOUR,
	HX_TSDB_TIERS
};

#define HX_TSDB_NAME_MAX 255

/* Zero fields take the defaults in brackets. */
struct hx_tsdb_config {
	int64_t	 retention_ms[HX_TSDB_TIERS]; /* [48 h, 30 d, 2 y] */
	int64_t	 max_bytes; /* blocks' bytes; [0: no cap] */
	uint32_t block_points; /* points per block [120] */
	int64_t	 block_span_ms; /* RAW block span [2 h] */
};

/*
 * One point. RAW: v is the sample, min = max = v, n is 1 (0 for NaN).
 * MINUTE and HOUR: t is the bucket's start, v its avg.
 */
struct hx_tsdb_point {
	int64_t	 t;
	double	 v;
	double	 min;
	double	 max;
	uint32_t n;
};

struct hx_tsdb_series_info {
	int64_t	    id;
	const char *name;
	const char *unit;
	const char *kind;
};

struct hx_tsdb_stats {
	int64_t blocks[HX_TSDB_TIERS]; /* in the database */
	int64_t bytes[HX_TSDB_TIERS]; /* their blob bytes */
	int64_t points[HX_TSDB_TIERS]; /* their points */
	int64_t file_bytes; /* pages in use × page size */
	int64_t series;
};

/* Return non-zero to stop the walk (the call then returns HX_TSDB_OK). */
typedef int (*hx_tsdb_point_cb)(const struct hx_tsdb_point *p, void *arg);
typedef int (
    *hx_tsdb_series_cb)(const struct hx_tsdb_series_info *s, void *arg);

/* The bucket of an aggregated tier in ms (RAW: 0). */
int64_t hx_tsdb_bucket_ms(enum hx_tsdb_tier tier);

/*
 * Open (creating it 0600 if needed) the database at path as the writer,
 * with cfg (NULL: every default). Loads the series and their open blocks.
 */
int hx_tsdb_open(const char *path, const struct hx_tsdb_config *cfg,
    struct hx_tsdb **out, char **err);
/* A second connection to w's file for queries from another thread. */
int hx_tsdb_open_reader(struct hx_tsdb *w, struct hx_tsdb **out, char **err);
/* Close without flushing (a writer's unflushed points are lost). NULL ok. */
void hx_tsdb_close(struct hx_tsdb *db);

/*
 * The id of series name, created (with unit and kind, NULL for "") when
 * new. Writer only.
 */
int hx_tsdb_series(struct hx_tsdb *db, const char *name, const char *unit,
    const char *kind, int64_t *id, char **err);
/*
 * Add one point to series id. t must be after the series' last point and
 * not inside a minute already downsampled (INVALID otherwise: nothing is
 * added). v may be NaN (unknown). Writer only; never touches the disk.
 */
int hx_tsdb_add(struct hx_tsdb *db, int64_t id, int64_t t, double v,
    char **err);
/* Write every changed block and mark in one transaction. Writer only. */
int hx_tsdb_flush(struct hx_tsdb *db, char **err);
/*
 * Build the MINUTE and HOUR points of every bucket that ended at or
 * before now_ms, from the finer tier, into memory (the next flush writes
 * them). Call it after adding the samples stamped up to now_ms: a later
 * sample inside a built bucket is refused. Writer only.
 */
int hx_tsdb_downsample(struct hx_tsdb *db, int64_t now_ms, char **err);
/*
 * Close open blocks older than their span at now_ms, then delete blocks
 * past their tier's age and, over max_bytes, the oldest (see the top of
 * this file), in one transaction. *deleted (if not NULL) gets the number
 * of blocks deleted. Writer only.
 */
int hx_tsdb_expire(struct hx_tsdb *db, int64_t now_ms, int64_t *deleted,
    char **err);

/*
 * Call cb for every point of series name in tier with from_ms <= t <=
 * to_ms, oldest first, flushed or not. NOT_FOUND for an unknown series.
 * The walk holds a read transaction and a statement of db open: cb must
 * not call into db (another handle is fine).
 */
int hx_tsdb_query(struct hx_tsdb *db, const char *name, enum hx_tsdb_tier tier,
    int64_t from_ms, int64_t to_ms, hx_tsdb_point_cb cb, void *arg, char **err);

/*
 * Glob patterns for series names. A pattern and a name are split at ':'
 * into parts; they match when they have the same number of parts and
 * each part matches: '*' stands for any run (possibly empty) of
 * characters within one part, every other character for itself. So
 * "vm:*:cpu_usage" matches vm:UUID:cpu_usage but not
 * vm:UUID:disk:vda:cpu_usage, and "node:*" matches node:cpu_usage but not
 * node:load_average:1 (write "node:*:*" for that). No escapes: a '*' in a
 * name is matched by '*'. A valid pattern has 1 .. 255 bytes and no
 * control characters.
 */
int hx_tsdb_glob_valid(const char *pattern);
int hx_tsdb_glob_match(const char *pattern, const char *name);
/*
 * One part of a pattern against text that may hold ':' (a VM's name):
 * '*' stands for any run of characters, ':' included.
 */
int hx_tsdb_glob_match_part(const char *pattern, const char *text);
/*
 * Call cb for every series whose name matches pattern (NULL: all), in
 * byte order of name. INVALID for a bad pattern. The strings are valid
 * during the call only.
 */
int hx_tsdb_list(struct hx_tsdb *db, const char *pattern, hx_tsdb_series_cb cb,
    void *arg, char **err);

/*
 * Counts of what is in the database (not the unflushed points). It reads
 * every block's row: for tests and benchmarks, not for a timer.
 */
int hx_tsdb_stats(struct hx_tsdb *db, struct hx_tsdb_stats *st, char **err);

/* The handle's SQLite connection, for tests and maintenance only. */
struct sqlite3 *hx_tsdb_sqlite(struct hx_tsdb *db);

#endif
