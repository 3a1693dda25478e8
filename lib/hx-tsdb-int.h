/*
 * hx-tsdb-int.h - private to the history engine: the handle, the
 * in-memory series and blocks, the statement ids, and the helpers
 * hx-tsdb.c (open, memory, writing) and hx-tsdb-read.c (snapshots,
 * walks, queries, listing) share. Nothing outside lib/hx-tsdb*.c
 * includes it.
 */
#ifndef HX_TSDB_INT_H
#define HX_TSDB_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "hx-gorilla.h"
#include "hx-tsdb.h"
#include "hx-util.h"

enum stmt {
	S_BEGIN,
	S_BEGIN_WRITE,
	S_COMMIT,
	S_ROLLBACK,
	S_PIN,
	S_SERIES_INSERT,
	S_SERIES_ALL,
	S_SERIES_MARKS,
	S_LAST_T,
	S_OPEN_BLOCKS,
	S_BLOCK_INSERT,
	S_BLOCK_UPDATE,
	S_BLOCK_RANGE,
	S_EXPIRE_AGE,
	S_TOTAL_BYTES,
	S_CAP_CANDIDATES,
	S_BLOCK_DELETE,
	S_STATS,
	S__COUNT
};

/* A block the database lacks in its latest form (see hx-tsdb.c). */
struct mblock {
	int64_t		      rowid; /* 0: not in the database yet */
	int64_t		      newid; /* the row a flush in progress made */
	int64_t		      t_start;
	int64_t		      t_end;
	int		      closed;
	int		      dirty;
	struct hx_gorilla_enc enc;
};

struct tier_state {
	struct mblock *blk; /* oldest first; the last may be open */
	size_t	       n;
	int64_t	       last_t; /* INT64_MIN: no point yet */
	int64_t	       mark; /* MINUTE, HOUR: buckets before done;
					   INT64_MIN: none yet */
};

struct tseries {
	int64_t		  id;
	char		 *name;
	char		 *unit;
	char		 *kind;
	int		  marks_dirty;
	struct tier_state tier[HX_TSDB_TIERS];
};

/* The writer's series, shared with its readers under lock. */
struct mem {
	pthread_mutex_t	 lock;
	struct tseries **s; /* sorted by id */
	size_t		 n;
	size_t		 alloc;
	size_t		*hash; /* index + 1; 0: empty slot */
	size_t		 hsize; /* a power of two */
};

struct hx_tsdb {
	sqlite3		     *db;
	sqlite3_stmt	     *stmt[S__COUNT];
	char		     *path;
	struct hx_tsdb_config cfg;
	struct mem	     *mem;
	int		      writer;
};

/* A snapshot's copy of one unflushed block. */
struct sblock {
	int64_t	 rowid;
	uint32_t count;
	uint8_t *data;
	size_t	 len;
};

/* One series as a query sees it: marks and unflushed blocks per tier. */
struct snap {
	int64_t	       id;
	int64_t	       mark[HX_TSDB_TIERS];
	struct sblock *b[HX_TSDB_TIERS];
	size_t	       n[HX_TSDB_TIERS];
	int	       in_tx;
};

/* SQLite's failure as ours: HX_TSDB_FULL for a full database. */
int tsdb_db_fail(struct hx_tsdb *db, char **err);
/* Reset a statement and clear its bindings. */
void tsdb_done(sqlite3_stmt *s);
/* Step a statement to its end; OK or the failure. Resets it. */
int tsdb_run(struct hx_tsdb *db, sqlite3_stmt *s, char **err);
/* Commit if rc is OK (a failure then becomes rc), else roll back. */
int tsdb_tx_end(struct hx_tsdb *db, int rc, char **err);
/* Prepare, run, finalize; the first column of the first row to res. */
int tsdb_run_once(struct hx_tsdb *db, const char *sql, char *res, size_t reslen,
    char **err);
/* A series by name; NULL if none. The lock held, or as the writer. */
struct tseries *tsdb_find_name(struct mem *m, const char *name);
/* Values per point in a tier's blocks. */
unsigned tsdb_tier_k(int tier);
/* t down to a multiple of b; INT64_MIN when that is below INT64_MIN. */
int64_t tsdb_floor(int64_t t, int64_t b);
/* 1 .. HX_TSDB_NAME_MAX bytes without control characters. */
int tsdb_name_valid(const char *s);

/*
 * A read transaction pinned and series name's (or s's) unflushed blocks
 * copied, both under the lock. NOT_FOUND when there is no such series.
 * Release it with tsdb_snap_release, which ends the transaction.
 */
int  tsdb_snap_take(struct hx_tsdb *db, const char *name, struct tseries *s,
     struct snap *sn, char **err);
void tsdb_snap_release(struct hx_tsdb *db, struct snap *sn);
/*
 * Call cb for the points of tier in [from, to] of the snapshot's series,
 * oldest first. Returns 0, 1 when cb stopped the walk, or an error.
 */
int tsdb_walk(struct hx_tsdb *db, struct snap *sn, int tier, int64_t from,
    int64_t to, hx_tsdb_point_cb cb, void *arg, char **err);

#endif
