/*
 * hx-sqlite.c - shared SQLite set-up (see hx-sqlite.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "hx-sqlite.h"
#include "hx-util.h"

int
hx_sqlite_exec(sqlite3 *db, const char *sql, char *res, size_t reslen)
{
	sqlite3_stmt	    *s;
	const unsigned char *t;
	int		     rc;

	if (res != NULL)
		*res = '\0';
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL)) != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (res != NULL && *res == '\0' &&
		    (t = sqlite3_column_text(s, 0)) != NULL)
			hx_strlcpy(res, (const char *)t, reslen);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* SQLite's failure rc of db as *err; returns rc. */
static int
db_fail(sqlite3 *db, int rc, char **err)
{
	return hx_fail(err, rc, "database error: %s", sqlite3_errmsg(db));
}

int
hx_sqlite_configure(sqlite3 *db, int busy_ms, const char *synchronous,
    const char *const *extra, char **err)
{
	char buf[32], sql[64];
	int  rc;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, busy_ms);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if ((rc = hx_sqlite_exec(db, "PRAGMA journal_mode = WAL", buf,
		 sizeof buf)) != SQLITE_OK)
		return db_fail(db, rc, err);
	if (strcmp(buf, "wal") != 0)
		return hx_fail(err, SQLITE_ERROR,
		    "database error: cannot use WAL "
		    "(journal mode is '%s')",
		    buf);
	snprintf(sql, sizeof sql, "PRAGMA synchronous = %s", synchronous);
	if ((rc = hx_sqlite_exec(db, sql, NULL, 0)) != SQLITE_OK)
		return db_fail(db, rc, err);
	for (; extra != NULL && *extra != NULL; extra++) {
		if ((rc = hx_sqlite_exec(db, *extra, NULL, 0)) != SQLITE_OK)
			return db_fail(db, rc, err);
	}
	return SQLITE_OK;
}

int
hx_sqlite_migrate(sqlite3 *db, const char *const *const *migrations,
    int nversions, char **err)
{
	char		   buf[32], sql[64];
	long long	   ver;
	const char *const *step;
	int		   rc, v;

	if ((rc = hx_sqlite_exec(db, "BEGIN IMMEDIATE", NULL, 0)) != SQLITE_OK)
		return db_fail(db, rc, err);
	if ((rc = hx_sqlite_exec(db, "PRAGMA user_version", buf, sizeof buf)) !=
	    SQLITE_OK) {
		db_fail(db, rc, err);
		goto out;
	}
	if (hx_parse_ll(buf, INT_MIN, INT_MAX, &ver) != 0 || ver < 0) {
		rc = hx_fail(err, SQLITE_ERROR,
		    "database schema version %s is "
		    "not valid",
		    buf);
		goto out;
	}
	if (ver > nversions) {
		rc = hx_fail(err, SQLITE_ERROR,
		    "database schema version %lld is "
		    "newer than this horcruxd supports (%d)",
		    ver, nversions);
		goto out;
	}
	for (v = (int)ver; v < nversions; v++) {
		for (step = migrations[v]; *step != NULL; step++) {
			if ((rc = hx_sqlite_exec(db, *step, NULL, 0)) !=
			    SQLITE_OK) {
				db_fail(db, rc, err);
				goto out;
			}
		}
	}
	if (ver < nversions) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
		    nversions);
		if ((rc = hx_sqlite_exec(db, sql, NULL, 0)) != SQLITE_OK) {
			db_fail(db, rc, err);
			goto out;
		}
	}
	/* A rebuilt table (foreign keys off) must leave no dangling row. */
	buf[0] = '\0';
	if (ver < nversions &&
	    ((rc = hx_sqlite_exec(db, "PRAGMA foreign_key_check", buf,
		  sizeof buf)) != SQLITE_OK ||
		buf[0] != '\0')) {
		if (rc == SQLITE_OK)
			rc = hx_fail(err, SQLITE_CONSTRAINT,
			    "database error: a migration left rows of '%s' "
			    "pointing nowhere",
			    buf);
		else
			db_fail(db, rc, err);
		goto out;
	}
	if ((rc = hx_sqlite_exec(db, "COMMIT", NULL, 0)) != SQLITE_OK)
		db_fail(db, rc, err);
out:
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(db))
		hx_sqlite_exec(db, "ROLLBACK", NULL, 0);
	return rc;
}
