/*
 * hx-store.c - the identity store on SQLite (see hx-store.h): opening and
 * closing the connection, its pragmas, the schema and its migrations, the
 * statement cache, and the helpers the other hx-store-*.c files run on
 * (declared in hx-store-int.h).
 *
 * The schema is a list of migrations, each a list of statements;
 * migration N takes user_version from N-1 to N. Append new ones, never
 * edit one that has shipped. Every statement the store runs is one entry
 * of stmt_sql[], prepared at open and cached on the handle. Each exported
 * function (here and in the other files) is one transaction: begin,
 * check, write, commit, or roll back on any failure, so a refused change
 * leaves nothing behind. Reads that take more than one statement get a
 * read transaction so they see one state of the database.
 *
 * What it does not do: touch users, roles, keys, sessions or the audit
 * log; each family has a file of its own. No SQL is built from data. The
 * only formatted statement sets user_version from a compile-time constant.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hx-sqlite.h"
#include "hx-store-int.h"

#define BUSY_TIMEOUT_MS 5000

/* --- schema -------------------------------------------------------------- */

/*
 * Migration 1: the whole schema. Built-in roles are not rows: roles holds
 * custom roles only, and user_roles.role, acl.role and the JSON array in
 * api_keys.roles name either kind, so their integrity is checked in code
 * (unknown names refused on insert, roles in use refused on delete).
 */
static const char *const migration_1[] = {
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" username TEXT NOT NULL UNIQUE COLLATE BINARY"
	"  CHECK (length(username) > 0),"
	" realm TEXT NOT NULL CHECK (realm IN ('local', 'pam')),"
	" email TEXT,"
	" enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
	" password_hash TEXT"
	"  CHECK (password_hash IS NULL OR realm = 'local'),"
	" created INTEGER NOT NULL)",

	"CREATE TABLE roles ("
	" name TEXT PRIMARY KEY NOT NULL COLLATE BINARY,"
	" privs INTEGER NOT NULL CHECK (privs >= 0),"
	" builtin INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)))",

	"CREATE TABLE user_roles ("
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" role TEXT NOT NULL,"
	" PRIMARY KEY (user_id, role))",
	"CREATE INDEX user_roles_role ON user_roles (role)",

	"CREATE TABLE acl ("
	" id INTEGER PRIMARY KEY,"
	" path TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" propagate INTEGER NOT NULL DEFAULT 1 CHECK (propagate IN (0, 1)),"
	" UNIQUE (path, role, user_id))",
	"CREATE INDEX acl_user ON acl (user_id)",
	"CREATE INDEX acl_role ON acl (role)",

	"CREATE TABLE api_keys ("
	" keyid TEXT PRIMARY KEY NOT NULL,"
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" name TEXT NOT NULL DEFAULT '',"
	" hash TEXT NOT NULL CHECK (length(hash) = 64),"
	" roles TEXT," /* JSON array; NULL: no subset */
	" expires INTEGER," /* NULL: never */
	" created INTEGER NOT NULL,"
	" last_used INTEGER)",
	"CREATE INDEX api_keys_user ON api_keys (user_id)",

	"CREATE TABLE sessions ("
	" jti TEXT PRIMARY KEY NOT NULL,"
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" absolute_expires INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" csrf_token TEXT NOT NULL,"
	" remote TEXT)",
	"CREATE INDEX sessions_user ON sessions (user_id)",
	"CREATE INDEX sessions_expires ON sessions (expires)",

	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL," /* epoch ms */
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" target TEXT,"
	" detail TEXT,"
	" remote TEXT)",
	"CREATE INDEX audit_ts ON audit (ts)", NULL
};

/*
 * Migration 2: notification targets and their delivery attempts. The
 * secret column holds the webhook secret or SMTP password; the database
 * is 0600 like the password hashes. Attempts name their target by name
 * and go with it (deleted in the same transaction, not by a foreign key,
 * so an attempt that ends after its target was deleted is simply not
 * recorded).
 */
static const char *const migration_2[] = {
	"CREATE TABLE notify_targets ("
	" name TEXT PRIMARY KEY NOT NULL COLLATE BINARY,"
	" type TEXT NOT NULL CHECK (type IN ('webhook', 'email')),"
	" config TEXT NOT NULL," /* JSON object, no secrets */
	" secret TEXT,"
	" created INTEGER NOT NULL)",

	"CREATE TABLE notify_attempts ("
	" id INTEGER PRIMARY KEY,"
	" target TEXT NOT NULL,"
	" ts INTEGER NOT NULL," /* epoch ms */
	" delivery INTEGER NOT NULL,"
	" attempt INTEGER NOT NULL,"
	" event TEXT NOT NULL,"
	" outcome TEXT NOT NULL,"
	" status INTEGER NOT NULL,"
	" error TEXT,"
	" duration_ms INTEGER NOT NULL)",
	"CREATE INDEX notify_attempts_target ON notify_attempts (target, ts)",
	"CREATE INDEX notify_attempts_ts ON notify_attempts (ts)", NULL
};

/*
 * Migration 3: alerts (DESIGN §9). A rule is stored as the JSON the API
 * accepts (lib/hx-alert parses and validates it; the store only keeps it
 * by name). The shipped defaults are rows an administrator may edit or
 * delete. alert_episodes holds one row per firing episode: resolved_at
 * NULL while it fires (restored after a restart), kept 90 days after.
 * Times are epoch milliseconds.
 */
static const char *const migration_3[] = {
	/* rules: the API's JSON, by name */
	"CREATE TABLE alert_rules (name TEXT PRIMARY KEY, doc TEXT NOT NULL)",
	"INSERT INTO alert_rules (name, doc) VALUES"
	" ('node-cpu', '{\"name\":\"node-cpu\",\"series\":\"node:cpu_usage\","
	"\"op\":\">\",\"threshold\":90,\"clear_threshold\":85,"
	"\"for_seconds\":300,\"severity\":\"warning\"}'),"
	" ('node-memory', '{\"name\":\"node-memory\","
	"\"series\":\"node:memory_usage\",\"op\":\">\",\"threshold\":90,"
	"\"clear_threshold\":85,\"for_seconds\":300,"
	"\"severity\":\"warning\"}'),"
	" ('node-disk', '{\"name\":\"node-disk\",\"series\":\"node:disk_usage\","
	"\"op\":\">\",\"threshold\":90,\"clear_threshold\":85,"
	"\"for_seconds\":300,\"severity\":\"warning\"}'),"
	" ('vm-crashed', '{\"name\":\"vm-crashed\",\"status_of\":\"vm:*\","
	"\"equals\":\"crashed\",\"severity\":\"critical\"}')",
	"CREATE TABLE alert_episodes ("
	" alert_id TEXT PRIMARY KEY,"
	" rule_name TEXT NOT NULL,"
	" severity TEXT NOT NULL,"
	" target TEXT NOT NULL," /* node:HOST or vm:NAME */
	" vm TEXT," /* the VM's name, NULL for the node */
	" track TEXT NOT NULL," /* the engine's key: rule and series */
	" series TEXT,"
	" message TEXT,"
	" value REAL,"
	" threshold REAL,"
	" peak REAL,"
	" started_at INTEGER NOT NULL,"
	" resolved_at INTEGER,"
	" acked_by TEXT,"
	" acked_at INTEGER,"
	" comment TEXT)",
	"CREATE INDEX alert_episodes_resolved ON alert_episodes (resolved_at)",
	NULL
};

/*
 * Migration 4: realms beyond local and pam (DESIGN §11). users.realm may
 * be any realm name (a word: [a-z][a-z0-9_-]{0,31}); a password hash
 * still only in realm local. SQLite cannot change a CHECK in place, so
 * the table is rebuilt its documented way (new table, copy, drop,
 * rename) with foreign keys off (migrate() turns them off around every
 * migration and hx_sqlite_migrate runs foreign_key_check before it
 * commits): ids are kept, so roles, ACL entries, keys and sessions still
 * point at the same users.
 */
static const char *const migration_4[] = {
	"CREATE TABLE users_new ("
	" id INTEGER PRIMARY KEY,"
	" username TEXT NOT NULL UNIQUE COLLATE BINARY"
	"  CHECK (length(username) > 0),"
	" realm TEXT NOT NULL CHECK (length(realm) BETWEEN 1 AND 32"
	"  AND realm GLOB '[a-z]*' AND realm NOT GLOB '*[^a-z0-9_-]*'),"
	" email TEXT,"
	" enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
	" password_hash TEXT"
	"  CHECK (password_hash IS NULL OR realm = 'local'),"
	" created INTEGER NOT NULL)",
	"INSERT INTO users_new (id, username, realm, email, enabled,"
	" password_hash, created) SELECT id, username, realm, email, enabled,"
	" password_hash, created FROM users",
	"DROP TABLE users", "ALTER TABLE users_new RENAME TO users", NULL
};

/*
 * migrations[i] takes user_version from i to i + 1.
 *
 * Upgrades are tested from real data: tests/fixtures/upgrade/ keeps a data
 * directory written by every schema version that shipped (identity-I-
 * metrics-M, made by tests/fixtures/make-fixture), and 0835-upgrade.bats
 * starts the current daemon on each and checks every piece of content.
 * A new migration must keep 0835 passing from every fixture, and comes
 * with the fixture of its own version (run make-fixture with the build
 * that has it; 0835 fails until that fixture exists).
 */
static const char *const *const migrations[] = {
	migration_1,
	migration_2,
	migration_3,
	migration_4,
};

#define SCHEMA_VERSION ((int)HX_ARRAY_SIZE(migrations))

/* --- statements ---------------------------------------------------------- */

#define USER_COLS \
	"id, username, realm, email, enabled, " \
	"password_hash, created"
#define ACL_COLS "a.path, a.role, u.username, a.propagate"
#define ACL_FROM " FROM acl a JOIN users u ON u.id = a.user_id"
#define KEY_COLS \
	"k.keyid, u.username, u.enabled, k.name, k.hash, " \
	"k.roles, k.expires, k.created, k.last_used"
#define KEY_FROM " FROM api_keys k JOIN users u ON u.id = k.user_id"
#define SESSION_COLS \
	"s.jti, u.username, u.enabled, s.created, " \
	"s.expires, s.absolute_expires, s.last_seen, " \
	"s.csrf_token, s.remote"
#define SESSION_FROM " FROM sessions s JOIN users u ON u.id = s.user_id"
#define AUDIT_COLS "id, ts, actor, action, target, detail, remote"

static const char *const stmt_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN",
	[S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",

	[S_USER_FIND] = "SELECT id, realm <> 'local' FROM users"
			" WHERE username = ?1",
	[S_USER_INSERT] =
	    "INSERT INTO users (username, realm, email, enabled,"
	    " password_hash, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_USER_GET] = "SELECT " USER_COLS " FROM users WHERE username = ?1",
	[S_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY username",
	[S_USER_ROLES] = "SELECT role FROM user_roles WHERE user_id = ?1"
			 " ORDER BY role",
	[S_USER_ROLE_ADD] = "INSERT OR IGNORE INTO user_roles (user_id, role)"
			    " VALUES (?1, ?2)",
	[S_USER_ROLE_CLEAR] = "DELETE FROM user_roles WHERE user_id = ?1",
	[S_USER_SET_EMAIL] = "UPDATE users SET email = ?2 WHERE id = ?1",
	[S_USER_SET_ENABLED] = "UPDATE users SET enabled = ?2 WHERE id = ?1",
	[S_USER_SET_HASH] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
	[S_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
	[S_ADMIN_COUNT] = "SELECT count(*) FROM users u"
			  " JOIN user_roles r ON r.user_id = u.id"
			  " WHERE u.enabled = 1 AND r.role = ?1",
	[S_HAS_CREDENTIALS] =
	    "SELECT EXISTS (SELECT 1 FROM users"
	    " WHERE enabled = 1"
	    " AND (password_hash IS NOT NULL OR realm <> 'local'))"
	    " OR EXISTS (SELECT 1 FROM api_keys)",

	[S_ROLE_GET] = "SELECT name, privs FROM roles WHERE name = ?1",
	[S_ROLE_LIST] = "SELECT name, privs FROM roles ORDER BY name",
	[S_ROLE_INSERT] = "INSERT INTO roles (name, privs, builtin)"
			  " VALUES (?1, ?2, 0)",
	[S_ROLE_UPDATE] = "UPDATE roles SET privs = ?2 WHERE name = ?1",
	[S_ROLE_DELETE] = "DELETE FROM roles WHERE name = ?1",
	[S_ROLE_IN_USE] =
	    "SELECT"
	    " EXISTS (SELECT 1 FROM user_roles WHERE role = ?1)"
	    " OR EXISTS (SELECT 1 FROM acl WHERE role = ?1)"
	    " OR EXISTS (SELECT 1 FROM api_keys k, json_each(k.roles) j"
	    " WHERE j.value = ?1)",

	[S_ACL_PUT] =
	    "INSERT INTO acl (path, role, user_id, propagate)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (path, role, user_id)"
	    " DO UPDATE SET propagate = excluded.propagate",
	[S_ACL_DELETE] = "DELETE FROM acl WHERE path = ?1 AND role = ?2"
			 " AND user_id = ?3",
	[S_ACL_LIST] = "SELECT " ACL_COLS ACL_FROM
		       " WHERE ?1 IS NULL OR a.path = ?1"
		       " ORDER BY a.path, u.username, a.role",
	[S_ACL_LIST_USER] = "SELECT " ACL_COLS ACL_FROM
			    " WHERE a.user_id = ?1 ORDER BY a.path, a.role",

	[S_KEY_EXISTS] = "SELECT 1 FROM api_keys WHERE keyid = ?1",
	[S_KEY_INSERT] =
	    "INSERT INTO api_keys (keyid, user_id, name, hash,"
	    " roles, expires, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_KEY_GET] = "SELECT " KEY_COLS       KEY_FROM " WHERE k.keyid = ?1",
	[S_KEY_LIST_USER] = "SELECT " KEY_COLS KEY_FROM
			    " WHERE k.user_id = ?1 ORDER BY k.keyid",
	[S_KEY_LIST_ALL] = "SELECT " KEY_COLS KEY_FROM " ORDER BY k.keyid",
	[S_KEY_COUNT_USER] = "SELECT count(*) FROM api_keys WHERE user_id = ?1",
	[S_KEY_DELETE] = "DELETE FROM api_keys WHERE keyid = ?1"
			 " AND (?2 IS NULL OR user_id = ?2)",
	[S_KEY_TOUCH] = "UPDATE api_keys SET last_used = ?2 WHERE keyid = ?1",

	[S_SESSION_LIMIT] = "SELECT absolute_expires FROM sessions"
			    " WHERE jti = ?1",
	[S_SESSION_INSERT] =
	    "INSERT INTO sessions (jti, user_id, created,"
	    " expires, absolute_expires, last_seen, csrf_token, remote)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?3, ?6, ?7)",
	[S_SESSION_GET] = "SELECT " SESSION_COLS SESSION_FROM
			  " WHERE s.jti = ?1",
	[S_SESSION_LIST_ALL] = "SELECT " SESSION_COLS SESSION_FROM
			       " ORDER BY s.jti",
	[S_SESSION_LIST_USER] = "SELECT " SESSION_COLS SESSION_FROM
				" WHERE s.user_id = ?1 ORDER BY s.jti",
	[S_SESSION_EXTEND] = "UPDATE sessions SET expires = ?2, last_seen = ?3"
			     " WHERE jti = ?1",
	[S_SESSION_DELETE] = "DELETE FROM sessions WHERE jti = ?1",
	[S_SESSION_DELETE_USER] = "DELETE FROM sessions WHERE user_id = ?1"
				  " RETURNING jti",
	[S_SESSION_PURGE] = "DELETE FROM sessions WHERE expires <= ?1"
			    " OR absolute_expires <= ?1",

	[S_AUDIT_INSERT] = "INSERT INTO audit (ts, actor, action, target,"
			   " detail, remote) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_AUDIT_QUERY] =
	    "SELECT " AUDIT_COLS " FROM audit"
	    " WHERE (?1 IS NULL OR actor = ?1 OR (instr(?1, '@') = 0 AND"
	    " substr(actor, 1, length(?1) + 1) = ?1 || '@'))"
	    " AND (?2 IS NULL OR action = ?2)"
	    " AND ts >= ?3 ORDER BY ts DESC, id DESC LIMIT ?4",
	[S_AUDIT_PURGE] = "DELETE FROM audit WHERE ts < ?1",

	[S_NOTIFY_TARGET_INSERT] =
	    "INSERT INTO notify_targets (name, type, config, secret, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_NOTIFY_TARGET_GET] = "SELECT name, type, config, secret, created"
				" FROM notify_targets WHERE name = ?1",
	[S_NOTIFY_TARGET_LIST] = "SELECT name, type, config, NULL, created"
				 " FROM notify_targets ORDER BY name",
	[S_NOTIFY_TARGET_DELETE] = "DELETE FROM notify_targets WHERE name = ?1",
	[S_NOTIFY_ATTEMPT_DELETE_TARGET] = "DELETE FROM notify_attempts"
					   " WHERE target = ?1",
	[S_NOTIFY_ATTEMPT_INSERT] =
	    "INSERT INTO notify_attempts (target, ts, delivery, attempt,"
	    " event, outcome, status, error, duration_ms)"
	    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
	    " WHERE EXISTS (SELECT 1 FROM notify_targets WHERE name = ?1)",
	[S_NOTIFY_ATTEMPT_LIST] =
	    "SELECT id, target, ts, delivery, attempt, event, outcome,"
	    " status, error, duration_ms FROM notify_attempts"
	    " WHERE target = ?1 ORDER BY ts DESC, id DESC LIMIT ?2",
	[S_NOTIFY_ATTEMPT_PURGE] = "DELETE FROM notify_attempts WHERE ts < ?1",
};

/* --- messages ------------------------------------------------------------ */

/* SQLite's reason, for the log. Call it before resetting the statement. */
int
store_db_fail(struct hx_store *st, char **err)
{
	return hx_fail(err, HX_STORE_ERROR, "database error: %s",
	    sqlite3_errmsg(st->db));
}

/*
 * Render s for a message into buf (QBUF bytes): backslash, quote and
 * control characters escaped, so a name with CR/LF cannot forge a log
 * line; cut at about QLIMIT bytes on a UTF-8 character boundary.
 */
const char *
store_quote(char *buf, const char *s)
{
	size_t	      len = 0;
	unsigned char c;

	for (; s != NULL && *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (len >= QLIMIT &&
		    ((c & 0xc0) != 0x80 || len >= QLIMIT + 8)) {
			memcpy(buf + len, "...", 3);
			len += 3;
			break;
		}
		if (c == '\n' || c == '\r' || c == '\t') {
			buf[len++] = '\\';
			buf[len++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c == '\\' || c == '\'') {
			buf[len++] = '\\';
			buf[len++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(buf + len, QBUF - len, "\\x%02x", c);
			len += 4;
		} else
			buf[len++] = (char)c;
	}
	buf[len] = '\0';
	return buf;
}

/* --- small helpers ------------------------------------------------------- */

/* Grow an array of n elements of size bytes so element n fits. */
void *
store_grow(void *v, size_t n, size_t size)
{
	if (v == NULL)
		return xcalloc(8, size);
	if (n >= 8 && (n & (n - 1)) == 0)
		return xrealloc(v, 2 * n * size);
	return v;
}

void
store_strv_push(struct hx_store_strv *sv, const char *s)
{
	sv->v = xrealloc(sv->v, (sv->n + 2) * sizeof *sv->v);
	sv->v[sv->n++] = xstrdup(s);
	sv->v[sv->n] = NULL;
}

void
hx_store_strv_release(struct hx_store_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* --- statement helpers --------------------------------------------------- */

int
store_bind_fail(struct hx_store *st, sqlite3_stmt *s, char **err)
{
	int rc;

	rc = store_db_fail(st, err);
	done(s);
	return rc;
}

/* A copy of a text column, or NULL for SQL NULL. Aborts on exhaustion. */
char *
store_col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t;

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	if ((t = sqlite3_column_text(s, i)) == NULL)
		abort();
	return xstrdup((const char *)t);
}

/* Step a statement that returns no rows to completion, then reset it. */
int
store_run(struct hx_store *st, sqlite3_stmt *s, char **err)
{
	int rc;

	rc = sqlite3_step(s);
	rc = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? HX_STORE_OK :
						       store_db_fail(st, err);
	done(s);
	return rc;
}

/* The first column of the first row; NOT_FOUND (no message) if no row. */
int
store_query_int(struct hx_store *st, sqlite3_stmt *s, int64_t *v, char **err)
{
	int rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = HX_STORE_OK;
	} else if (rc == SQLITE_DONE)
		rc = HX_STORE_NOT_FOUND;
	else
		rc = store_db_fail(st, err);
	done(s);
	return rc;
}

/* After a row loop: map the last sqlite3_step result, reset. */
int
store_rows_done(struct hx_store *st, sqlite3_stmt *s, int rc, char **err)
{
	rc = rc == SQLITE_DONE ? HX_STORE_OK : store_db_fail(st, err);
	done(s);
	return rc;
}

int
store_tx_begin(struct hx_store *st, int write, char **err)
{
	return store_run(st, st->stmt[write ? S_BEGIN_WRITE : S_BEGIN], err);
}

/* Commit if rc is OK (an error then becomes rc), else roll back. */
int
store_tx_end(struct hx_store *st, int rc, char **err)
{
	if (rc == HX_STORE_OK) {
		if (store_run(st, st->stmt[S_COMMIT], err) == HX_STORE_OK)
			return HX_STORE_OK;
		rc = HX_STORE_ERROR;
	}
	/* SQLite may already have rolled back (I/O error, full disk). */
	if (!sqlite3_get_autocommit(st->db))
		store_run(st, st->stmt[S_ROLLBACK], NULL);
	return rc;
}

int
store_purge(struct hx_store *st, sqlite3_stmt *s, int64_t t, int64_t *purged,
    char **err)
{
	int64_t n = 0;
	int	rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if (bi(s, 1, t) != SQLITE_OK)
		rc = store_bind_fail(st, s, err);
	else if ((rc = store_run(st, s, err)) == HX_STORE_OK)
		n = changes(st);
	rc = store_tx_end(st, rc, err);
	if (purged != NULL)
		*purged = rc == HX_STORE_OK ? n : 0;
	return rc;
}

/* --- open and close ------------------------------------------------------ */

/* One set-up statement (hx_sqlite_exec) with the store's error codes. */
static int
run_once(struct hx_store *st, const char *sql, char *res, size_t reslen,
    char **err)
{
	if (hx_sqlite_exec(st->db, sql, res, reslen) != SQLITE_OK)
		return store_db_fail(st, err);
	return HX_STORE_OK;
}

/* Per-connection settings of DESIGN §2, each checked by reading it back. */
static int
configure(struct hx_store *st, char **err)
{
	char buf[32];
	int  rc;

	if (hx_sqlite_configure(st->db, BUSY_TIMEOUT_MS, "FULL", NULL, err) !=
	    SQLITE_OK)
		return HX_STORE_ERROR;
	if ((rc = run_once(st, "PRAGMA foreign_keys = ON", NULL, 0, err)) !=
		HX_STORE_OK ||
	    (rc = run_once(st, "PRAGMA foreign_keys", buf, sizeof buf, err)) !=
		HX_STORE_OK)
		return rc;
	if (strcmp(buf, "1") != 0)
		return hx_fail(err, HX_STORE_ERROR,
		    "database error: this SQLite "
		    "does not enforce foreign keys");
	return HX_STORE_OK;
}

/*
 * Foreign keys are off while migrations run (a table rebuild must not
 * cascade its DROP into the rows that point at it; the pragma is a no-op
 * inside a transaction, so it is set around it) and on again after,
 * whatever happened; hx_sqlite_migrate checks them before it commits.
 */
static int
migrate(struct hx_store *st, char **err)
{
	int rc;

	if ((rc = run_once(st, "PRAGMA foreign_keys = OFF", NULL, 0, err)) !=
	    HX_STORE_OK)
		return rc;
	rc = hx_sqlite_migrate(st->db, migrations, SCHEMA_VERSION, err) ==
		SQLITE_OK ?
	    HX_STORE_OK :
	    HX_STORE_ERROR;
	if (run_once(st, "PRAGMA foreign_keys = ON", NULL, 0,
		rc == HX_STORE_OK ? err : NULL) != HX_STORE_OK)
		rc = HX_STORE_ERROR;
	return rc;
}

int
hx_store_open(const char *path, struct hx_store **out, char **err)
{
	struct hx_store *st;
	int		 fd, rc, i, flags;

	*out = NULL;
	if (empty(path))
		return hx_fail(err, HX_STORE_INVALID, "no database path");

	/*
	 * Create the file ourselves so it is 0600 from the start whatever
	 * the umask; SQLite gives the -wal and -shm files the same mode.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (fchmod(fd, 0600) != 0) {
			rc = errno;
			close(fd);
			return hx_fail(err, HX_STORE_ERROR,
			    "cannot set the mode "
			    "of '%s': %s",
			    path, strerror(rc));
		}
		close(fd);
	} else if (errno != EEXIST)
		return hx_fail(err, HX_STORE_ERROR, "cannot create '%s': %s",
		    path, strerror(errno));

	st = xcalloc(1, sizeof *st);
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		rc = hx_fail(err, HX_STORE_ERROR,
		    "database error: cannot open "
		    "'%s': %s",
		    path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	if ((rc = configure(st, err)) != HX_STORE_OK ||
	    (rc = migrate(st, err)) != HX_STORE_OK)
		goto fail;
	for (i = 0; i < S__COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			rc = hx_fail(err, HX_STORE_ERROR,
			    "database error: "
			    "statement %d: %s",
			    i, sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	*out = st;
	return HX_STORE_OK;

fail:
	hx_store_close(st);
	return rc;
}

void
hx_store_close(struct hx_store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

int
hx_store_schema_version(void)
{
	return SCHEMA_VERSION;
}

struct sqlite3 *
hx_store_handle(struct hx_store *st)
{
	return st->db;
}
