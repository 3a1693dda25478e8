/*
 * hx-sqlite.h - what the identity store (hx-store) and the history
 * engine (hx-tsdb) do alike with a SQLite connection: run a set-up
 * statement, apply the connection settings, migrate the schema.
 *
 * Statement caches, error codes of their own and everything else about
 * each database stay in its module; this one only keeps the two from
 * writing the same set-up twice. It never prints.
 */
#ifndef HX_SQLITE_H
#define HX_SQLITE_H

#include <stddef.h>

#include <sqlite3.h>

/*
 * Prepare, step to the end and finalize one statement outside any cache.
 * The first column of the first row goes to res (if not NULL). Returns
 * SQLITE_OK or SQLite's error code; the message is sqlite3_errmsg(db).
 */
int hx_sqlite_exec(sqlite3 *db, const char *sql, char *res, size_t reslen);

/*
 * The settings both databases share, each checked where SQLite could
 * silently refuse: extended result codes, a busy timeout of busy_ms, no
 * writable_schema tricks and no SQL functions from the schema, WAL, and
 * synchronous = `synchronous` ("FULL", "NORMAL"), then each statement
 * of `extra` (NULL-ended, may be NULL). Returns SQLITE_OK, or an error
 * code with *err (caller frees).
 */
int hx_sqlite_configure(sqlite3 *db, int busy_ms, const char *synchronous,
    const char *const *extra, char **err);

/*
 * Bring the schema at PRAGMA user_version up to nversions by running the
 * NULL-ended steps of migrations[v] for each missing version v, all in
 * one IMMEDIATE transaction (a second connection opening meanwhile waits,
 * then sees the result). A version that is not a number, or newer than
 * nversions, is refused. Returns SQLITE_OK, or an error code with *err
 * (caller frees); nothing is changed then.
 */
int hx_sqlite_migrate(sqlite3 *db, const char *const *const *migrations,
    int nversions, char **err);

#endif
