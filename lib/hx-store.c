/*
 * hx-store.c - the identity store on SQLite (see hx-store.h).
 *
 * Three parts. The schema is a list of migrations, each a list of
 * statements; migration N takes user_version from N-1 to N. Append new
 * ones, never edit one that has shipped. Every statement the store runs
 * is one entry of stmt_sql[], prepared at open and cached on the handle.
 * Each exported function is one transaction: begin, check, write,
 * commit, or roll back on any failure, so a refused change leaves nothing
 * behind. Reads that take more than one statement get a read transaction
 * so they see one state of the database.
 *
 * No SQL is built from data. The only formatted statement sets
 * user_version from a compile-time constant.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "hx-store.h"
#include "hx-util.h"

#define BUSY_TIMEOUT_MS	5000

/* Room for a quoted name in a message (see quote()). */
#define QBUF		128
#define QLIMIT		80

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
	" roles TEXT,"			/* JSON array; NULL: no subset */
	" expires INTEGER,"		/* NULL: never */
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
	" ts INTEGER NOT NULL,"		/* epoch ms */
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" target TEXT,"
	" detail TEXT,"
	" remote TEXT)",
	"CREATE INDEX audit_ts ON audit (ts)",
	NULL
};

/* migrations[i] takes user_version from i to i + 1. */
static const char *const *const migrations[] = {
	migration_1,
};

#define SCHEMA_VERSION	((int)HX_ARRAY_SIZE(migrations))

/* Names reserved for the built-in roles of DESIGN §5; never stored. */
static const char *const builtin_roles[] = {
	HX_STORE_ADMIN_ROLE, "VmAdmin", "VmUser", "StorageAdmin", "Auditor",
	NULL
};

/* --- statements ---------------------------------------------------------- */

#define USER_COLS	"id, username, realm, email, enabled, " \
			"password_hash, created"
#define ACL_COLS	"a.path, a.role, u.username, a.propagate"
#define ACL_FROM	" FROM acl a JOIN users u ON u.id = a.user_id"
#define KEY_COLS	"k.keyid, u.username, u.enabled, k.name, k.hash, " \
			"k.roles, k.expires, k.created, k.last_used"
#define KEY_FROM	" FROM api_keys k JOIN users u ON u.id = k.user_id"
#define SESSION_COLS	"s.jti, u.username, u.enabled, s.created, " \
			"s.expires, s.absolute_expires, s.last_seen, " \
			"s.csrf_token, s.remote"
#define SESSION_FROM	" FROM sessions s JOIN users u ON u.id = s.user_id"
#define AUDIT_COLS	"id, ts, actor, action, target, detail, remote"

enum stmt_id {
	S_BEGIN,
	S_BEGIN_WRITE,
	S_COMMIT,
	S_ROLLBACK,

	S_USER_FIND,
	S_USER_INSERT,
	S_USER_GET,
	S_USER_LIST,
	S_USER_ROLES,
	S_USER_ROLE_ADD,
	S_USER_ROLE_CLEAR,
	S_USER_SET_EMAIL,
	S_USER_SET_ENABLED,
	S_USER_SET_HASH,
	S_USER_DELETE,
	S_ADMIN_COUNT,
	S_HAS_CREDENTIALS,

	S_ROLE_GET,
	S_ROLE_LIST,
	S_ROLE_INSERT,
	S_ROLE_UPDATE,
	S_ROLE_DELETE,
	S_ROLE_IN_USE,

	S_ACL_PUT,
	S_ACL_DELETE,
	S_ACL_LIST,
	S_ACL_LIST_USER,

	S_KEY_EXISTS,
	S_KEY_INSERT,
	S_KEY_GET,
	S_KEY_LIST_USER,
	S_KEY_LIST_ALL,
	S_KEY_COUNT_USER,
	S_KEY_DELETE,
	S_KEY_TOUCH,

	S_SESSION_LIMIT,
	S_SESSION_INSERT,
	S_SESSION_GET,
	S_SESSION_LIST_ALL,
	S_SESSION_LIST_USER,
	S_SESSION_EXTEND,
	S_SESSION_DELETE,
	S_SESSION_DELETE_USER,
	S_SESSION_PURGE,

	S_AUDIT_INSERT,
	S_AUDIT_QUERY,
	S_AUDIT_PURGE,

	S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN",
	[S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",

	[S_USER_FIND] = "SELECT id, realm = 'pam' FROM users"
	    " WHERE username = ?1",
	[S_USER_INSERT] = "INSERT INTO users (username, realm, email, enabled,"
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
	[S_HAS_CREDENTIALS] = "SELECT EXISTS (SELECT 1 FROM users"
	    " WHERE enabled = 1"
	    " AND (password_hash IS NOT NULL OR realm = 'pam'))"
	    " OR EXISTS (SELECT 1 FROM api_keys)",

	[S_ROLE_GET] = "SELECT name, privs FROM roles WHERE name = ?1",
	[S_ROLE_LIST] = "SELECT name, privs FROM roles ORDER BY name",
	[S_ROLE_INSERT] = "INSERT INTO roles (name, privs, builtin)"
	    " VALUES (?1, ?2, 0)",
	[S_ROLE_UPDATE] = "UPDATE roles SET privs = ?2 WHERE name = ?1",
	[S_ROLE_DELETE] = "DELETE FROM roles WHERE name = ?1",
	[S_ROLE_IN_USE] = "SELECT"
	    " EXISTS (SELECT 1 FROM user_roles WHERE role = ?1)"
	    " OR EXISTS (SELECT 1 FROM acl WHERE role = ?1)"
	    " OR EXISTS (SELECT 1 FROM api_keys k, json_each(k.roles) j"
	    " WHERE j.value = ?1)",

	[S_ACL_PUT] = "INSERT INTO acl (path, role, user_id, propagate)"
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
	[S_KEY_INSERT] = "INSERT INTO api_keys (keyid, user_id, name, hash,"
	    " roles, expires, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_KEY_GET] = "SELECT " KEY_COLS KEY_FROM " WHERE k.keyid = ?1",
	[S_KEY_LIST_USER] = "SELECT " KEY_COLS KEY_FROM
	    " WHERE k.user_id = ?1 ORDER BY k.keyid",
	[S_KEY_LIST_ALL] = "SELECT " KEY_COLS KEY_FROM " ORDER BY k.keyid",
	[S_KEY_COUNT_USER] = "SELECT count(*) FROM api_keys WHERE user_id = ?1",
	[S_KEY_DELETE] = "DELETE FROM api_keys WHERE keyid = ?1"
	    " AND (?2 IS NULL OR user_id = ?2)",
	[S_KEY_TOUCH] = "UPDATE api_keys SET last_used = ?2 WHERE keyid = ?1",

	[S_SESSION_LIMIT] = "SELECT absolute_expires FROM sessions"
	    " WHERE jti = ?1",
	[S_SESSION_INSERT] = "INSERT INTO sessions (jti, user_id, created,"
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
	[S_AUDIT_QUERY] = "SELECT " AUDIT_COLS " FROM audit"
	    " WHERE (?1 IS NULL OR actor = ?1 OR (instr(?1, '@') = 0 AND"
	    " substr(actor, 1, length(?1) + 1) = ?1 || '@'))"
	    " AND (?2 IS NULL OR action = ?2)"
	    " AND ts >= ?3 ORDER BY ts DESC, id DESC LIMIT ?4",
	[S_AUDIT_PURGE] = "DELETE FROM audit WHERE ts < ?1",
};

struct hx_store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S__COUNT];
};

/* --- messages ------------------------------------------------------------ */

static int fail(char **err, int rc, const char *fmt, ...) HX_PRINTF(3, 4);

static int
fail(char **err, int rc, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL) {
		va_start(ap, fmt);
		*err = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* SQLite's reason, for the log. Call it before resetting the statement. */
static int
db_fail(struct hx_store *st, char **err)
{
	return fail(err, HX_STORE_ERROR, "database error: %s",
	    sqlite3_errmsg(st->db));
}

/*
 * Render s for a message into buf (QBUF bytes): backslash, quote and
 * control characters escaped, so a name with CR/LF cannot forge a log
 * line; cut at about QLIMIT bytes on a UTF-8 character boundary.
 */
static const char *
quote(char *buf, const char *s)
{
	size_t		len = 0;
	unsigned char	c;

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

static int
user_not_found(char **err, const char *username)
{
	char	q[QBUF];

	return fail(err, HX_STORE_NOT_FOUND, "user '%s' not found",
	    quote(q, username));
}

/* --- small helpers ------------------------------------------------------- */

static int
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* Grow an array of n elements of size bytes so element n fits. */
static void *
grow(void *v, size_t n, size_t size)
{
	if (v == NULL)
		return xcalloc(8, size);
	if (n >= 8 && (n & (n - 1)) == 0)
		return xrealloc(v, 2 * n * size);
	return v;
}

static void
strv_push(struct hx_store_strv *sv, const char *s)
{
	sv->v = xrealloc(sv->v, (sv->n + 2) * sizeof *sv->v);
	sv->v[sv->n++] = xstrdup(s);
	sv->v[sv->n] = NULL;
}

static int
strv_has(const struct hx_store_strv *sv, const char *s)
{
	size_t	i;

	for (i = 0; i < sv->n; i++) {
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	}
	return 0;
}

void
hx_store_strv_release(struct hx_store_strv *sv)
{
	size_t	i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/*
 * Is name a built-in role? Exact match for references (user roles, ACL,
 * key subsets); ignoring case for new custom names, as hx-rbac does, so
 * "administrator" cannot sit next to "Administrator".
 */
static int
is_builtin_role(const char *name, int ignore_case)
{
	int	i;

	for (i = 0; builtin_roles[i] != NULL; i++) {
		if ((ignore_case ? strcasecmp(name, builtin_roles[i]) :
		    strcmp(name, builtin_roles[i])) == 0)
			return 1;
	}
	return 0;
}

/* [A-Za-z0-9_.-]{1,64} but not "." or "..", the rule of hx-rbac. */
static int
is_role_name(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return i >= 1 && i <= 64 && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

/* [A-Za-z0-9-]{1,64}: no '_', which separates the parts of a key. */
static int
is_keyid(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	}
	return i >= 1 && i <= 64;
}

static int
is_sha256_hex(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return i == 64;
}

/* --- statement helpers --------------------------------------------------- */

static void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Bind text; NULL binds SQL NULL. The value must outlive the step. */
static int
bt(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int
bi(sqlite3_stmt *s, int i, int64_t v)
{
	return sqlite3_bind_int64(s, i, v);
}

static int
bind_fail(struct hx_store *st, sqlite3_stmt *s, char **err)
{
	int	rc;

	rc = db_fail(st, err);
	done(s);
	return rc;
}

/* A copy of a text column, or NULL for SQL NULL. Aborts on exhaustion. */
static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char	*t;

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	if ((t = sqlite3_column_text(s, i)) == NULL)
		abort();
	return xstrdup((const char *)t);
}

/* Step a statement that returns no rows to completion, then reset it. */
static int
run(struct hx_store *st, sqlite3_stmt *s, char **err)
{
	int	rc;

	rc = sqlite3_step(s);
	rc = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? HX_STORE_OK :
	    db_fail(st, err);
	done(s);
	return rc;
}

/* The first column of the first row; NOT_FOUND (no message) if no row. */
static int
query_int(struct hx_store *st, sqlite3_stmt *s, int64_t *v, char **err)
{
	int	rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = HX_STORE_OK;
	} else if (rc == SQLITE_DONE)
		rc = HX_STORE_NOT_FOUND;
	else
		rc = db_fail(st, err);
	done(s);
	return rc;
}

/* After a row loop: map the last sqlite3_step result, reset. */
static int
rows_done(struct hx_store *st, sqlite3_stmt *s, int rc, char **err)
{
	rc = rc == SQLITE_DONE ? HX_STORE_OK : db_fail(st, err);
	done(s);
	return rc;
}

static int64_t
changes(struct hx_store *st)
{
	return sqlite3_changes64(st->db);
}

static int
tx_begin(struct hx_store *st, int write, char **err)
{
	return run(st, st->stmt[write ? S_BEGIN_WRITE : S_BEGIN], err);
}

/* Commit if rc is OK (an error then becomes rc), else roll back. */
static int
tx_end(struct hx_store *st, int rc, char **err)
{
	if (rc == HX_STORE_OK) {
		if (run(st, st->stmt[S_COMMIT], err) == HX_STORE_OK)
			return HX_STORE_OK;
		rc = HX_STORE_ERROR;
	}
	/* SQLite may already have rolled back (I/O error, full disk). */
	if (!sqlite3_get_autocommit(st->db))
		run(st, st->stmt[S_ROLLBACK], NULL);
	return rc;
}

/* --- open and close ------------------------------------------------------ */

/*
 * Prepare, step and finalize one statement outside the cache (set-up and
 * migrations). The first column of the first row goes to res, if given.
 */
static int
run_once(struct hx_store *st, const char *sql, char *res, size_t reslen,
    char **err)
{
	sqlite3_stmt		*s;
	const unsigned char	*t;
	int			 rc;

	if (res != NULL)
		*res = '\0';
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (res != NULL && *res == '\0' &&
		    (t = sqlite3_column_text(s, 0)) != NULL)
			hx_strlcpy(res, (const char *)t, reslen);
	}
	rc = rc == SQLITE_DONE ? HX_STORE_OK : db_fail(st, err);
	sqlite3_finalize(s);
	return rc;
}

static int
migrate(struct hx_store *st, char **err)
{
	char			 buf[32], sql[64];
	long long		 ver;
	const char *const	*step;
	int			 rc, v;

	/* IMMEDIATE: a second connection opening now waits, then sees ours. */
	if ((rc = run_once(st, "BEGIN IMMEDIATE", NULL, 0, err)) != HX_STORE_OK)
		return rc;
	if ((rc = run_once(st, "PRAGMA user_version", buf, sizeof buf,
	    err)) != HX_STORE_OK)
		goto out;
	if (hx_parse_ll(buf, INT_MIN, INT_MAX, &ver) != 0 || ver < 0) {
		rc = fail(err, HX_STORE_ERROR, "database schema version %s is "
		    "not valid", buf);
		goto out;
	}
	if (ver > SCHEMA_VERSION) {
		rc = fail(err, HX_STORE_ERROR, "database schema version %lld "
		    "is newer than this horcruxd supports (%d)", ver,
		    SCHEMA_VERSION);
		goto out;
	}
	for (v = (int)ver; v < SCHEMA_VERSION; v++) {
		for (step = migrations[v]; *step != NULL; step++) {
			if ((rc = run_once(st, *step, NULL, 0, err)) !=
			    HX_STORE_OK)
				goto out;
		}
	}
	if (ver < SCHEMA_VERSION) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
		    SCHEMA_VERSION);
		if ((rc = run_once(st, sql, NULL, 0, err)) != HX_STORE_OK)
			goto out;
	}
	rc = run_once(st, "COMMIT", NULL, 0, err);
out:
	if (rc != HX_STORE_OK && !sqlite3_get_autocommit(st->db))
		run_once(st, "ROLLBACK", NULL, 0, NULL);
	return rc;
}

/* Per-connection settings of DESIGN §2, each checked by reading it back. */
static int
configure(struct hx_store *st, char **err)
{
	char	buf[32];
	int	rc;

	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	/* No writable_schema tricks, no SQL functions from the schema. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

	if ((rc = run_once(st, "PRAGMA foreign_keys = ON", NULL, 0,
	    err)) != HX_STORE_OK ||
	    (rc = run_once(st, "PRAGMA foreign_keys", buf, sizeof buf,
	    err)) != HX_STORE_OK)
		return rc;
	if (strcmp(buf, "1") != 0)
		return fail(err, HX_STORE_ERROR, "database error: this SQLite "
		    "does not enforce foreign keys");
	if ((rc = run_once(st, "PRAGMA journal_mode = WAL", buf, sizeof buf,
	    err)) != HX_STORE_OK)
		return rc;
	if (strcmp(buf, "wal") != 0)
		return fail(err, HX_STORE_ERROR, "database error: cannot use "
		    "WAL (journal mode is '%s')", buf);
	return run_once(st, "PRAGMA synchronous = FULL", NULL, 0, err);
}

int
hx_store_open(const char *path, struct hx_store **out, char **err)
{
	struct hx_store	*st;
	int		 fd, rc, i, flags;

	*out = NULL;
	if (empty(path))
		return fail(err, HX_STORE_INVALID, "no database path");

	/*
	 * Create the file ourselves so it is 0600 from the start whatever
	 * the umask; SQLite gives the -wal and -shm files the same mode.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (fchmod(fd, 0600) != 0) {
			rc = errno;
			close(fd);
			return fail(err, HX_STORE_ERROR, "cannot set the mode "
			    "of '%s': %s", path, strerror(rc));
		}
		close(fd);
	} else if (errno != EEXIST)
		return fail(err, HX_STORE_ERROR, "cannot create '%s': %s", path,
		    strerror(errno));

	st = xcalloc(1, sizeof *st);
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		rc = fail(err, HX_STORE_ERROR, "database error: cannot open "
		    "'%s': %s", path, st->db != NULL ? sqlite3_errmsg(st->db) :
		    "out of memory");
		goto fail;
	}
	if ((rc = configure(st, err)) != HX_STORE_OK ||
	    (rc = migrate(st, err)) != HX_STORE_OK)
		goto fail;
	for (i = 0; i < S__COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			rc = fail(err, HX_STORE_ERROR, "database error: "
			    "statement %d: %s", i, sqlite3_errmsg(st->db));
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
	int	i;

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

/* --- users --------------------------------------------------------------- */

/* The user's id (and whether they are in the pam realm); NOT_FOUND quiet. */
static int
user_find(struct hx_store *st, const char *username, int64_t *id,
    int *is_pam, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_USER_FIND];
	int		 rc;

	if (bt(s, 1, username) != SQLITE_OK)
		return bind_fail(st, s, err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		if (is_pam != NULL)
			*is_pam = sqlite3_column_int(s, 1);
		rc = HX_STORE_OK;
	} else if (rc == SQLITE_DONE)
		rc = HX_STORE_NOT_FOUND;
	else
		rc = db_fail(st, err);
	done(s);
	return rc;
}

/* As user_find, with "user 'x' not found" when absent. */
static int
user_need(struct hx_store *st, const char *username, int64_t *id,
    int *is_pam, char **err)
{
	int	rc;

	rc = user_find(st, username, id, is_pam, err);
	if (rc == HX_STORE_NOT_FOUND)
		return user_not_found(err, username);
	return rc;
}

/* Bind username's id as ?1 of s: user_need's codes, or a bind failure. */
static int
bind_user(struct hx_store *st, sqlite3_stmt *s, const char *username,
    char **err)
{
	int64_t	uid;
	int	rc;

	if ((rc = user_need(st, username, &uid, NULL, err)) != HX_STORE_OK)
		return rc;
	if (bi(s, 1, uid) != SQLITE_OK)
		return bind_fail(st, s, err);
	return HX_STORE_OK;
}

/* OK if role is built in or a stored custom role, else INVALID. */
static int
role_known(struct hx_store *st, const char *role, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ROLE_GET];
	char		 q[QBUF];
	int64_t		 dummy;
	int		 rc;

	if (empty(role))
		return fail(err, HX_STORE_INVALID, "empty role name");
	if (is_builtin_role(role, 0))
		return HX_STORE_OK;
	if (bt(s, 1, role) != SQLITE_OK)
		return bind_fail(st, s, err);
	rc = query_int(st, s, &dummy, err);
	if (rc == HX_STORE_NOT_FOUND)
		return fail(err, HX_STORE_INVALID, "unknown role '%s'",
		    quote(q, role));
	return rc;
}

static int
roles_known(struct hx_store *st, const char *const *roles, char **err)
{
	int	rc;

	for (; roles != NULL && *roles != NULL; roles++) {
		if ((rc = role_known(st, *roles, err)) != HX_STORE_OK)
			return rc;
	}
	return HX_STORE_OK;
}

static int
roles_add(struct hx_store *st, int64_t uid, const char *const *roles,
    char **err)
{
	sqlite3_stmt	*s = st->stmt[S_USER_ROLE_ADD];
	int		 rc;

	for (; roles != NULL && *roles != NULL; roles++) {
		if ((bi(s, 1, uid) | bt(s, 2, *roles)) != SQLITE_OK)
			return bind_fail(st, s, err);
		if ((rc = run(st, s, err)) != HX_STORE_OK)
			return rc;
	}
	return HX_STORE_OK;
}

static int
count_admins(struct hx_store *st, int64_t *n, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ADMIN_COUNT];

	if (bt(s, 1, HX_STORE_ADMIN_ROLE) != SQLITE_OK)
		return bind_fail(st, s, err);
	return query_int(st, s, n, err);	/* count(*) always has a row */
}

/*
 * The last-Administrator rule, checked after a change inside its
 * transaction: refuse when there was an enabled Administrator before and
 * none after.
 */
static int
admins_kept(struct hx_store *st, int64_t before, char **err)
{
	int64_t	after;
	int	rc;

	if (before == 0)
		return HX_STORE_OK;
	if ((rc = count_admins(st, &after, err)) != HX_STORE_OK)
		return rc;
	if (after == 0)
		return fail(err, HX_STORE_CONFLICT,
		    "cannot remove the last Administrator");
	return HX_STORE_OK;
}

static int
user_add_tx(struct hx_store *st, const char *username, const char *realm,
    const char *email, int enabled, const char *password_hash,
    const char *const *roles, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_USER_INSERT];
	char		 q[QBUF];
	int64_t		 uid;
	int		 rc;

	rc = user_find(st, username, &uid, NULL, err);
	if (rc == HX_STORE_OK)
		return fail(err, HX_STORE_CONFLICT, "user '%s' already exists",
		    quote(q, username));
	if (rc != HX_STORE_NOT_FOUND)
		return rc;
	if ((rc = roles_known(st, roles, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, username) | bt(s, 2, realm) |
	    bt(s, 3, empty(email) ? NULL : email) | bi(s, 4, enabled ? 1 : 0) |
	    bt(s, 5, password_hash) | bi(s, 6, (int64_t)time(NULL))) !=
	    SQLITE_OK)
		return bind_fail(st, s, err);
	if ((rc = run(st, s, err)) != HX_STORE_OK)
		return rc;
	return roles_add(st, sqlite3_last_insert_rowid(st->db), roles, err);
}

int
hx_store_user_add(struct hx_store *st, const char *username,
    const char *realm, const char *email, int enabled,
    const char *password_hash, const char *const *roles, char **err)
{
	char	q[QBUF];
	int	rc;

	if (empty(username))
		return fail(err, HX_STORE_INVALID, "empty username");
	if (realm == NULL ||
	    (strcmp(realm, "local") != 0 && strcmp(realm, "pam") != 0))
		return fail(err, HX_STORE_INVALID, "unknown realm '%s'",
		    quote(q, realm));
	if (password_hash != NULL && strcmp(realm, "pam") == 0)
		return fail(err, HX_STORE_INVALID, "a pam user has no password "
		    "hash");
	if (password_hash != NULL && *password_hash == '\0')
		return fail(err, HX_STORE_INVALID, "empty password hash");

	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = user_add_tx(st, username, realm, email, enabled, password_hash,
	    roles, err);
	return tx_end(st, rc, err);
}

static void
read_user(sqlite3_stmt *s, struct hx_store_user *u, int with_hash)
{
	u->id = sqlite3_column_int64(s, 0);
	u->username = col_dup(s, 1);
	u->realm = col_dup(s, 2);
	u->email = col_dup(s, 3);
	u->enabled = sqlite3_column_int(s, 4) != 0;
	u->password_hash = with_hash ? col_dup(s, 5) : NULL;
	u->created = sqlite3_column_int64(s, 6);
}

static int
read_user_roles(struct hx_store *st, struct hx_store_user *u, char **err)
{
	sqlite3_stmt		*s = st->stmt[S_USER_ROLES];
	const unsigned char	*t;
	int			 rc;

	if (bi(s, 1, u->id) != SQLITE_OK)
		return bind_fail(st, s, err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((t = sqlite3_column_text(s, 0)) != NULL)
			strv_push(&u->roles, (const char *)t);
	}
	return rows_done(st, s, rc, err);
}

/* Read every row of s (bound already) as a user, then each one's roles. */
static int
load_users(struct hx_store *st, sqlite3_stmt *s, struct hx_store_user_list *l,
    int with_hash, char **err)
{
	struct hx_store_user	*u;
	size_t			 i;
	int			 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = grow(l->v, l->n, sizeof *l->v);
		u = &l->v[l->n++];
		memset(u, 0, sizeof *u);
		read_user(s, u, with_hash);
	}
	rc = rows_done(st, s, rc, err);
	for (i = 0; rc == HX_STORE_OK && i < l->n; i++)
		rc = read_user_roles(st, &l->v[i], err);
	if (rc != HX_STORE_OK)
		hx_store_user_list_release(l);
	return rc;
}

int
hx_store_user_get(struct hx_store *st, const char *username,
    struct hx_store_user *out, char **err)
{
	struct hx_store_user_list	 l = { NULL, 0 };
	sqlite3_stmt			*s = st->stmt[S_USER_GET];
	int				 rc;

	memset(out, 0, sizeof *out);
	if ((rc = tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	if (bt(s, 1, username) != SQLITE_OK)
		rc = bind_fail(st, s, err);
	else
		rc = load_users(st, s, &l, 1, err);
	if (rc == HX_STORE_OK && l.n == 0)
		rc = user_not_found(err, username);
	rc = tx_end(st, rc, err);
	if (rc == HX_STORE_OK) {
		*out = l.v[0];
		free(l.v);
	} else
		hx_store_user_list_release(&l);
	return rc;
}

void
hx_store_user_release(struct hx_store_user *u)
{
	free(u->username);
	free(u->realm);
	free(u->email);
	free(u->password_hash);
	hx_store_strv_release(&u->roles);
	memset(u, 0, sizeof *u);
}

int
hx_store_user_list(struct hx_store *st, struct hx_store_user_list *out,
    char **err)
{
	int	rc;

	memset(out, 0, sizeof *out);
	if ((rc = tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	rc = load_users(st, st->stmt[S_USER_LIST], out, 1, err);
	rc = tx_end(st, rc, err);
	if (rc != HX_STORE_OK)
		hx_store_user_list_release(out);
	return rc;
}

void
hx_store_user_list_release(struct hx_store_user_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		hx_store_user_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
user_update_tx(struct hx_store *st, const char *username,
    const struct hx_store_user_change *ch, char **err)
{
	sqlite3_stmt	*s;
	int64_t		 uid, before;
	int		 rc;

	if ((rc = user_need(st, username, &uid, NULL, err)) != HX_STORE_OK)
		return rc;
	if (ch->roles != NULL &&
	    (rc = roles_known(st, ch->roles, err)) != HX_STORE_OK)
		return rc;
	if ((rc = count_admins(st, &before, err)) != HX_STORE_OK)
		return rc;

	if (ch->email != NULL) {
		s = st->stmt[S_USER_SET_EMAIL];
		if ((bi(s, 1, uid) | bt(s, 2, *ch->email == '\0' ? NULL :
		    ch->email)) != SQLITE_OK)
			return bind_fail(st, s, err);
		if ((rc = run(st, s, err)) != HX_STORE_OK)
			return rc;
	}
	if (ch->enabled >= 0) {
		s = st->stmt[S_USER_SET_ENABLED];
		if ((bi(s, 1, uid) | bi(s, 2, ch->enabled ? 1 : 0)) !=
		    SQLITE_OK)
			return bind_fail(st, s, err);
		if ((rc = run(st, s, err)) != HX_STORE_OK)
			return rc;
	}
	if (ch->roles != NULL) {
		s = st->stmt[S_USER_ROLE_CLEAR];
		if (bi(s, 1, uid) != SQLITE_OK)
			return bind_fail(st, s, err);
		if ((rc = run(st, s, err)) != HX_STORE_OK ||
		    (rc = roles_add(st, uid, ch->roles, err)) != HX_STORE_OK)
			return rc;
	}
	return admins_kept(st, before, err);
}

int
hx_store_user_update(struct hx_store *st, const char *username,
    const struct hx_store_user_change *ch, char **err)
{
	static const struct hx_store_user_change	 keep = {
		NULL, -1, NULL
	};
	int						 rc;

	if (ch == NULL)
		ch = &keep;
	if (ch->enabled < -1)
		return fail(err, HX_STORE_INVALID, "enabled must be 0 or 1");
	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = user_update_tx(st, username, ch, err);
	return tx_end(st, rc, err);
}

static int
user_set_password_tx(struct hx_store *st, const char *username,
    const char *password_hash, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_USER_SET_HASH];
	char		 q[QBUF];
	int64_t		 uid;
	int		 rc, is_pam;

	if ((rc = user_need(st, username, &uid, &is_pam, err)) != HX_STORE_OK)
		return rc;
	if (is_pam)
		return fail(err, HX_STORE_INVALID, "user '%s' is in the pam "
		    "realm", quote(q, username));
	if ((bi(s, 1, uid) | bt(s, 2, password_hash)) != SQLITE_OK)
		return bind_fail(st, s, err);
	return run(st, s, err);
}

int
hx_store_user_set_password(struct hx_store *st, const char *username,
    const char *password_hash, char **err)
{
	int	rc;

	if (password_hash != NULL && *password_hash == '\0')
		return fail(err, HX_STORE_INVALID, "empty password hash");
	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = user_set_password_tx(st, username, password_hash, err);
	return tx_end(st, rc, err);
}

static int
user_delete_tx(struct hx_store *st, const char *username, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_USER_DELETE];
	int64_t		 uid, before;
	int		 rc;

	if ((rc = user_need(st, username, &uid, NULL, err)) != HX_STORE_OK ||
	    (rc = count_admins(st, &before, err)) != HX_STORE_OK)
		return rc;
	if (bi(s, 1, uid) != SQLITE_OK)
		return bind_fail(st, s, err);
	if ((rc = run(st, s, err)) != HX_STORE_OK)
		return rc;
	return admins_kept(st, before, err);
}

int
hx_store_user_delete(struct hx_store *st, const char *username, char **err)
{
	int	rc;

	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = user_delete_tx(st, username, err);
	return tx_end(st, rc, err);
}

int
hx_store_count_admins(struct hx_store *st, int64_t *count, char **err)
{
	*count = 0;
	return count_admins(st, count, err);
}

int
hx_store_has_credentials(struct hx_store *st, int *yes, char **err)
{
	int64_t	v = 0;
	int	rc;

	rc = query_int(st, st->stmt[S_HAS_CREDENTIALS], &v, err);
	*yes = rc == HX_STORE_OK && v != 0;
	return rc;
}

/* --- custom roles -------------------------------------------------------- */

static int
role_exists(struct hx_store *st, const char *name, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ROLE_GET];
	int64_t		 dummy;

	if (bt(s, 1, name) != SQLITE_OK)
		return bind_fail(st, s, err);
	return query_int(st, s, &dummy, err);
}

static int
role_add_tx(struct hx_store *st, const char *name, hx_privs privs,
    char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ROLE_INSERT];
	char		 q[QBUF];
	int		 rc;

	rc = role_exists(st, name, err);
	if (rc == HX_STORE_OK)
		return fail(err, HX_STORE_CONFLICT, "role '%s' already exists",
		    quote(q, name));
	if (rc != HX_STORE_NOT_FOUND)
		return rc;
	if ((bt(s, 1, name) | bi(s, 2, privs)) != SQLITE_OK)
		return bind_fail(st, s, err);
	return run(st, s, err);
}

static int
privs_ok(hx_privs privs, char **err)
{
	if ((privs & ~(hx_privs)HX_PRIV_ALL) != 0)
		return fail(err, HX_STORE_INVALID, "unknown privileges in "
		    "0x%lx", (unsigned long)privs);
	return HX_STORE_OK;
}

int
hx_store_role_add(struct hx_store *st, const char *name, hx_privs privs,
    char **err)
{
	char	q[QBUF];
	int	rc;

	if (name == NULL || !is_role_name(name))
		return fail(err, HX_STORE_INVALID, "invalid role name '%s'",
		    quote(q, name));
	if (is_builtin_role(name, 1))
		return fail(err, HX_STORE_CONFLICT, "role '%s' is built in",
		    name);
	if ((rc = privs_ok(privs, err)) != HX_STORE_OK)
		return rc;
	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = role_add_tx(st, name, privs, err);
	return tx_end(st, rc, err);
}

int
hx_store_role_update(struct hx_store *st, const char *name, hx_privs privs,
    char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ROLE_UPDATE];
	char		 q[QBUF];
	int		 rc;

	/* A name no role could have is simply not found. */
	if (name == NULL || !is_role_name(name))
		return fail(err, HX_STORE_NOT_FOUND, "role '%s' not found",
		    quote(q, name));
	if (is_builtin_role(name, 0))
		return fail(err, HX_STORE_CONFLICT, "role '%s' is built in",
		    name);
	if ((rc = privs_ok(privs, err)) != HX_STORE_OK)
		return rc;
	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, name) | bi(s, 2, privs)) != SQLITE_OK)
		rc = bind_fail(st, s, err);
	else if ((rc = run(st, s, err)) == HX_STORE_OK && changes(st) == 0)
		rc = fail(err, HX_STORE_NOT_FOUND, "role '%s' not found",
		    quote(q, name));
	return tx_end(st, rc, err);
}

int
hx_store_role_get(struct hx_store *st, const char *name,
    struct hx_store_role *out, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ROLE_GET];
	char		 q[QBUF];
	int		 rc;

	memset(out, 0, sizeof *out);
	if (bt(s, 1, name) != SQLITE_OK)
		return bind_fail(st, s, err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->name = col_dup(s, 0);
		out->privs = (hx_privs)sqlite3_column_int64(s, 1);
		rc = HX_STORE_OK;
	} else if (rc == SQLITE_DONE)
		rc = fail(err, HX_STORE_NOT_FOUND, "role '%s' not found",
		    quote(q, name));
	else
		rc = db_fail(st, err);
	done(s);
	return rc;
}

void
hx_store_role_release(struct hx_store_role *r)
{
	free(r->name);
	memset(r, 0, sizeof *r);
}

static int
load_roles(struct hx_store *st, struct hx_store_role_list *l, char **err)
{
	sqlite3_stmt		*s = st->stmt[S_ROLE_LIST];
	struct hx_store_role	*r;
	int			 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = grow(l->v, l->n, sizeof *l->v);
		r = &l->v[l->n++];
		r->name = col_dup(s, 0);
		r->privs = (hx_privs)sqlite3_column_int64(s, 1);
	}
	if ((rc = rows_done(st, s, rc, err)) != HX_STORE_OK)
		hx_store_role_list_release(l);
	return rc;
}

int
hx_store_role_list(struct hx_store *st, struct hx_store_role_list *out,
    char **err)
{
	memset(out, 0, sizeof *out);
	return load_roles(st, out, err);
}

void
hx_store_role_list_release(struct hx_store_role_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
role_delete_tx(struct hx_store *st, const char *name, char **err)
{
	sqlite3_stmt	*s;
	char		 q[QBUF];
	int64_t		 used;
	int		 rc;

	rc = role_exists(st, name, err);
	if (rc == HX_STORE_NOT_FOUND)
		return fail(err, rc, "role '%s' not found", quote(q, name));
	if (rc != HX_STORE_OK)
		return rc;
	s = st->stmt[S_ROLE_IN_USE];
	if (bt(s, 1, name) != SQLITE_OK)
		return bind_fail(st, s, err);
	if ((rc = query_int(st, s, &used, err)) != HX_STORE_OK)
		return rc;
	if (used)
		return fail(err, HX_STORE_CONFLICT, "role '%s' is in use",
		    quote(q, name));
	s = st->stmt[S_ROLE_DELETE];
	if (bt(s, 1, name) != SQLITE_OK)
		return bind_fail(st, s, err);
	return run(st, s, err);
}

int
hx_store_role_delete(struct hx_store *st, const char *name, char **err)
{
	char	q[QBUF];
	int	rc;

	if (empty(name))
		return fail(err, HX_STORE_NOT_FOUND, "role '' not found");
	if (is_builtin_role(name, 0))
		return fail(err, HX_STORE_CONFLICT, "role '%s' is built in",
		    quote(q, name));
	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = role_delete_tx(st, name, err);
	return tx_end(st, rc, err);
}

/* --- ACL ----------------------------------------------------------------- */

static int
acl_put_tx(struct hx_store *st, const char *path, const char *role,
    const char *username, int propagate, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ACL_PUT];
	int64_t		 uid;
	int		 rc;

	if ((rc = user_need(st, username, &uid, NULL, err)) != HX_STORE_OK ||
	    (rc = role_known(st, role, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, path) | bt(s, 2, role) | bi(s, 3, uid) |
	    bi(s, 4, propagate ? 1 : 0)) != SQLITE_OK)
		return bind_fail(st, s, err);
	return run(st, s, err);
}

int
hx_store_acl_put(struct hx_store *st, const char *path, const char *role,
    const char *username, int propagate, char **err)
{
	char	q[QBUF];
	int	rc;

	if (path == NULL || path[0] != '/')
		return fail(err, HX_STORE_INVALID, "invalid ACL path '%s'",
		    quote(q, path));
	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = acl_put_tx(st, path, role, username, propagate, err);
	return tx_end(st, rc, err);
}

static int
acl_delete_tx(struct hx_store *st, const char *path, const char *role,
    const char *username, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ACL_DELETE];
	char		 q1[QBUF], q2[QBUF], q3[QBUF];
	int64_t		 uid;
	int		 rc;

	if ((rc = user_need(st, username, &uid, NULL, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, path) | bt(s, 2, role) | bi(s, 3, uid)) != SQLITE_OK)
		return bind_fail(st, s, err);
	if ((rc = run(st, s, err)) != HX_STORE_OK)
		return rc;
	if (changes(st) == 0)
		return fail(err, HX_STORE_NOT_FOUND, "no ACL entry grants '%s' "
		    "to '%s' on '%s'", quote(q1, role), quote(q2, username),
		    quote(q3, path));
	return HX_STORE_OK;
}

int
hx_store_acl_delete(struct hx_store *st, const char *path, const char *role,
    const char *username, char **err)
{
	int	rc;

	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = acl_delete_tx(st, path, role, username, err);
	return tx_end(st, rc, err);
}

static int
load_acl(struct hx_store *st, sqlite3_stmt *s, struct hx_store_acl_list *l,
    char **err)
{
	struct hx_store_acl	*a;
	int			 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = grow(l->v, l->n, sizeof *l->v);
		a = &l->v[l->n++];
		a->path = col_dup(s, 0);
		a->role = col_dup(s, 1);
		a->username = col_dup(s, 2);
		a->propagate = sqlite3_column_int(s, 3) != 0;
	}
	if ((rc = rows_done(st, s, rc, err)) != HX_STORE_OK)
		hx_store_acl_list_release(l);
	return rc;
}

int
hx_store_acl_list(struct hx_store *st, const char *path,
    struct hx_store_acl_list *out, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ACL_LIST];

	memset(out, 0, sizeof *out);
	if (bt(s, 1, path) != SQLITE_OK)
		return bind_fail(st, s, err);
	return load_acl(st, s, out, err);
}

int
hx_store_acl_list_user(struct hx_store *st, const char *username,
    struct hx_store_acl_list *out, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_ACL_LIST_USER];
	int		 rc;

	memset(out, 0, sizeof *out);
	if ((rc = tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	if ((rc = bind_user(st, s, username, err)) == HX_STORE_OK)
		rc = load_acl(st, s, out, err);
	rc = tx_end(st, rc, err);
	if (rc != HX_STORE_OK)
		hx_store_acl_list_release(out);
	return rc;
}

void
hx_store_acl_list_release(struct hx_store_acl_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].role);
		free(l->v[i].username);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* --- API keys ------------------------------------------------------------ */

/* roles as a JSON array, duplicates dropped; the caller frees. */
static char *
roles_json(const char *const *roles)
{
	json_t			*a;
	struct hx_store_strv	 seen = { NULL, 0 };
	char			*s;

	if ((a = json_array()) == NULL)
		abort();
	for (; *roles != NULL; roles++) {
		if (strv_has(&seen, *roles))
			continue;
		strv_push(&seen, *roles);
		if (json_array_append_new(a, json_string(*roles)) != 0)
			abort();
	}
	hx_store_strv_release(&seen);
	if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
		abort();
	json_decref(a);
	return s;
}

/* Parse api_keys.roles into sv; -1 if it is not an array of strings. */
static int
roles_parse(const char *text, struct hx_store_strv *sv)
{
	json_t	*a, *e;
	size_t	 i;

	if ((a = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if (!json_is_array(a)) {
		json_decref(a);
		return -1;
	}
	json_array_foreach(a, i, e) {
		if (!json_is_string(e)) {
			json_decref(a);
			hx_store_strv_release(sv);
			return -1;
		}
		strv_push(sv, json_string_value(e));
	}
	json_decref(a);
	return 0;
}

static int
read_key(struct hx_store *st, sqlite3_stmt *s, struct hx_store_key *k,
    char **err)
{
	const unsigned char	*t;
	char			 q[QBUF];

	k->keyid = col_dup(s, 0);
	k->username = col_dup(s, 1);
	k->user_enabled = sqlite3_column_int(s, 2) != 0;
	k->name = col_dup(s, 3);
	k->hash = col_dup(s, 4);
	k->expires = sqlite3_column_int64(s, 6);
	k->created = sqlite3_column_int64(s, 7);
	k->last_used = sqlite3_column_int64(s, 8);
	if (k->name == NULL)
		k->name = xstrdup("");
	if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
		k->restricted = 1;
		if ((t = sqlite3_column_text(s, 5)) == NULL ||
		    roles_parse((const char *)t, &k->roles) != 0)
			return fail(err, HX_STORE_ERROR, "database error: API "
			    "key '%s' has malformed roles", quote(q, k->keyid));
	}
	return HX_STORE_OK;
}

static int
load_keys(struct hx_store *st, sqlite3_stmt *s, struct hx_store_key_list *l,
    char **err)
{
	struct hx_store_key	*k;
	int			 rc, r = HX_STORE_OK;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = grow(l->v, l->n, sizeof *l->v);
		k = &l->v[l->n++];
		memset(k, 0, sizeof *k);
		if ((r = read_key(st, s, k, err)) != HX_STORE_OK)
			break;
	}
	if (r == HX_STORE_OK)
		r = rows_done(st, s, rc, err);
	else
		done(s);
	if (r != HX_STORE_OK)
		hx_store_key_list_release(l);
	return r;
}

static int
key_add_tx(struct hx_store *st, const char *keyid, const char *username,
    const char *name, const char *hash, const char *const *roles,
    int64_t expires, char **err)
{
	sqlite3_stmt	*s;
	char		 q[QBUF], *json = NULL;
	int64_t		 uid, dummy;
	int		 rc;

	if ((rc = user_need(st, username, &uid, NULL, err)) != HX_STORE_OK)
		return rc;
	s = st->stmt[S_KEY_EXISTS];
	if (bt(s, 1, keyid) != SQLITE_OK)
		return bind_fail(st, s, err);
	rc = query_int(st, s, &dummy, err);
	if (rc == HX_STORE_OK)
		return fail(err, HX_STORE_CONFLICT, "API key '%s' already "
		    "exists", quote(q, keyid));
	if (rc != HX_STORE_NOT_FOUND)
		return rc;
	if (roles != NULL) {
		if ((rc = roles_known(st, roles, err)) != HX_STORE_OK)
			return rc;
		json = roles_json(roles);
	}
	s = st->stmt[S_KEY_INSERT];
	if ((bt(s, 1, keyid) | bi(s, 2, uid) | bt(s, 3, name ? name : "") |
	    bt(s, 4, hash) | bt(s, 5, json) |
	    (expires > 0 ? bi(s, 6, expires) : sqlite3_bind_null(s, 6)) |
	    bi(s, 7, (int64_t)time(NULL))) != SQLITE_OK)
		rc = bind_fail(st, s, err);
	else
		rc = run(st, s, err);
	free(json);
	return rc;
}

int
hx_store_key_add(struct hx_store *st, const char *keyid, const char *username,
    const char *name, const char *hash, const char *const *roles,
    int64_t expires, char **err)
{
	char	q[QBUF];
	int	rc;

	if (keyid == NULL || !is_keyid(keyid))
		return fail(err, HX_STORE_INVALID, "invalid API key id '%s'",
		    quote(q, keyid));
	if (hash == NULL || !is_sha256_hex(hash))
		return fail(err, HX_STORE_INVALID, "an API key hash is 64 "
		    "lowercase hex digits");
	if (expires < 0)
		return fail(err, HX_STORE_INVALID, "invalid expiry");
	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = key_add_tx(st, keyid, username, name, hash, roles, expires, err);
	return tx_end(st, rc, err);
}

int
hx_store_key_get(struct hx_store *st, const char *keyid,
    struct hx_store_key *out, char **err)
{
	struct hx_store_key_list	 l = { NULL, 0 };
	sqlite3_stmt			*s = st->stmt[S_KEY_GET];
	char				 q[QBUF];
	int				 rc;

	memset(out, 0, sizeof *out);
	if (bt(s, 1, keyid) != SQLITE_OK)
		return bind_fail(st, s, err);
	if ((rc = load_keys(st, s, &l, err)) != HX_STORE_OK)
		return rc;
	if (l.n == 0)
		return fail(err, HX_STORE_NOT_FOUND, "API key '%s' not found",
		    quote(q, keyid));
	*out = l.v[0];
	free(l.v);
	return HX_STORE_OK;
}

void
hx_store_key_release(struct hx_store_key *k)
{
	free(k->keyid);
	free(k->username);
	free(k->name);
	free(k->hash);
	hx_store_strv_release(&k->roles);
	memset(k, 0, sizeof *k);
}

int
hx_store_key_list(struct hx_store *st, const char *username,
    struct hx_store_key_list *out, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_KEY_LIST_USER];
	int		 rc;

	memset(out, 0, sizeof *out);
	if ((rc = tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	if ((rc = bind_user(st, s, username, err)) == HX_STORE_OK)
		rc = load_keys(st, s, out, err);
	rc = tx_end(st, rc, err);
	if (rc != HX_STORE_OK)
		hx_store_key_list_release(out);
	return rc;
}

int
hx_store_key_count(struct hx_store *st, const char *username, int64_t *n,
    char **err)
{
	sqlite3_stmt	*s = st->stmt[S_KEY_COUNT_USER];
	int		 rc;

	*n = 0;
	if ((rc = bind_user(st, s, username, err)) != HX_STORE_OK)
		return rc;
	return query_int(st, s, n, err);
}

void
hx_store_key_list_release(struct hx_store_key_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		hx_store_key_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
key_delete_tx(struct hx_store *st, const char *username, const char *keyid,
    char **err)
{
	sqlite3_stmt	*s = st->stmt[S_KEY_DELETE];
	char		 q[QBUF];
	int64_t		 uid = 0;
	int		 rc;

	if (username != NULL) {
		rc = user_find(st, username, &uid, NULL, err);
		if (rc == HX_STORE_NOT_FOUND)
			goto not_found;
		if (rc != HX_STORE_OK)
			return rc;
	}
	if ((bt(s, 1, keyid) |
	    (username != NULL ? bi(s, 2, uid) : sqlite3_bind_null(s, 2))) !=
	    SQLITE_OK)
		return bind_fail(st, s, err);
	if ((rc = run(st, s, err)) != HX_STORE_OK)
		return rc;
	if (changes(st) != 0)
		return HX_STORE_OK;
not_found:
	return fail(err, HX_STORE_NOT_FOUND, "API key '%s' not found",
	    quote(q, keyid));
}

int
hx_store_key_delete(struct hx_store *st, const char *username,
    const char *keyid, char **err)
{
	int	rc;

	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = key_delete_tx(st, username, keyid, err);
	return tx_end(st, rc, err);
}

int
hx_store_key_touch(struct hx_store *st, const char *keyid, int64_t now,
    char **err)
{
	sqlite3_stmt	*s = st->stmt[S_KEY_TOUCH];
	char		 q[QBUF];
	int		 rc;

	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, keyid) | bi(s, 2, now)) != SQLITE_OK)
		rc = bind_fail(st, s, err);
	else if ((rc = run(st, s, err)) == HX_STORE_OK && changes(st) == 0)
		rc = fail(err, HX_STORE_NOT_FOUND, "API key '%s' not found",
		    quote(q, keyid));
	return tx_end(st, rc, err);
}

/* --- sessions ------------------------------------------------------------ */

static int
session_add_tx(struct hx_store *st, const char *jti, const char *username,
    int64_t expires, int64_t absolute_expires, const char *csrf_token,
    const char *remote, char **err)
{
	sqlite3_stmt	*s;
	int64_t		 uid, dummy;
	int		 rc;

	if ((rc = user_need(st, username, &uid, NULL, err)) != HX_STORE_OK)
		return rc;
	s = st->stmt[S_SESSION_LIMIT];
	if (bt(s, 1, jti) != SQLITE_OK)
		return bind_fail(st, s, err);
	rc = query_int(st, s, &dummy, err);
	if (rc == HX_STORE_OK)
		return fail(err, HX_STORE_CONFLICT, "session already exists");
	if (rc != HX_STORE_NOT_FOUND)
		return rc;
	s = st->stmt[S_SESSION_INSERT];
	if ((bt(s, 1, jti) | bi(s, 2, uid) | bi(s, 3, (int64_t)time(NULL)) |
	    bi(s, 4, expires) | bi(s, 5, absolute_expires) |
	    bt(s, 6, csrf_token) | bt(s, 7, remote)) != SQLITE_OK)
		return bind_fail(st, s, err);
	return run(st, s, err);
}

int
hx_store_session_add(struct hx_store *st, const char *jti,
    const char *username, int64_t expires, int64_t absolute_expires,
    const char *csrf_token, const char *remote, char **err)
{
	int	rc;

	if (empty(jti) || empty(csrf_token))
		return fail(err, HX_STORE_INVALID, "a session needs an id and "
		    "a CSRF token");
	if (expires > absolute_expires)
		return fail(err, HX_STORE_INVALID, "a session cannot expire "
		    "after its absolute expiry");
	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = session_add_tx(st, jti, username, expires, absolute_expires,
	    csrf_token, remote, err);
	return tx_end(st, rc, err);
}

static int
load_sessions(struct hx_store *st, sqlite3_stmt *s,
    struct hx_store_session_list *l, char **err)
{
	struct hx_store_session	*x;
	int			 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = grow(l->v, l->n, sizeof *l->v);
		x = &l->v[l->n++];
		x->jti = col_dup(s, 0);
		x->username = col_dup(s, 1);
		x->user_enabled = sqlite3_column_int(s, 2) != 0;
		x->created = sqlite3_column_int64(s, 3);
		x->expires = sqlite3_column_int64(s, 4);
		x->absolute_expires = sqlite3_column_int64(s, 5);
		x->last_seen = sqlite3_column_int64(s, 6);
		x->csrf_token = col_dup(s, 7);
		x->remote = col_dup(s, 8);
	}
	if ((rc = rows_done(st, s, rc, err)) != HX_STORE_OK)
		hx_store_session_list_release(l);
	return rc;
}

int
hx_store_session_get(struct hx_store *st, const char *jti,
    struct hx_store_session *out, char **err)
{
	struct hx_store_session_list	 l = { NULL, 0 };
	sqlite3_stmt			*s = st->stmt[S_SESSION_GET];
	int				 rc;

	memset(out, 0, sizeof *out);
	if (bt(s, 1, jti) != SQLITE_OK)
		return bind_fail(st, s, err);
	if ((rc = load_sessions(st, s, &l, err)) != HX_STORE_OK)
		return rc;
	if (l.n == 0)
		return fail(err, HX_STORE_NOT_FOUND, "session not found");
	*out = l.v[0];
	free(l.v);
	return HX_STORE_OK;
}

int
hx_store_session_list(struct hx_store *st, const char *username,
    struct hx_store_session_list *out, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_SESSION_LIST_USER];
	int		 rc;

	memset(out, 0, sizeof *out);
	if ((rc = tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	if ((rc = bind_user(st, s, username, err)) == HX_STORE_OK)
		rc = load_sessions(st, s, out, err);
	if ((rc = tx_end(st, rc, err)) != HX_STORE_OK)
		hx_store_session_list_release(out);
	return rc;
}

void
hx_store_session_release(struct hx_store_session *x)
{
	free(x->jti);
	free(x->username);
	free(x->csrf_token);
	free(x->remote);
	memset(x, 0, sizeof *x);
}

void
hx_store_session_list_release(struct hx_store_session_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		hx_store_session_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
session_extend_tx(struct hx_store *st, const char *jti, int64_t expires,
    char **err)
{
	sqlite3_stmt	*s = st->stmt[S_SESSION_LIMIT];
	int64_t		 limit;
	int		 rc;

	if (bt(s, 1, jti) != SQLITE_OK)
		return bind_fail(st, s, err);
	rc = query_int(st, s, &limit, err);
	if (rc == HX_STORE_NOT_FOUND)
		return fail(err, rc, "session not found");
	if (rc != HX_STORE_OK)
		return rc;
	if (expires > limit)
		return fail(err, HX_STORE_INVALID, "a session cannot be "
		    "extended beyond its absolute expiry");
	s = st->stmt[S_SESSION_EXTEND];
	if ((bt(s, 1, jti) | bi(s, 2, expires) |
	    bi(s, 3, (int64_t)time(NULL))) != SQLITE_OK)
		return bind_fail(st, s, err);
	return run(st, s, err);
}

int
hx_store_session_extend(struct hx_store *st, const char *jti,
    int64_t expires, char **err)
{
	int	rc;

	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = session_extend_tx(st, jti, expires, err);
	return tx_end(st, rc, err);
}

int
hx_store_session_delete(struct hx_store *st, const char *jti, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_SESSION_DELETE];
	int		 rc;

	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if (bt(s, 1, jti) != SQLITE_OK)
		rc = bind_fail(st, s, err);
	else if ((rc = run(st, s, err)) == HX_STORE_OK && changes(st) == 0)
		rc = fail(err, HX_STORE_NOT_FOUND, "session not found");
	return tx_end(st, rc, err);
}

static int
session_delete_user_tx(struct hx_store *st, const char *username,
    struct hx_store_strv *jtis, char **err)
{
	sqlite3_stmt		*s = st->stmt[S_SESSION_DELETE_USER];
	const unsigned char	*t;
	int			 rc;

	if ((rc = bind_user(st, s, username, err)) != HX_STORE_OK)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((t = sqlite3_column_text(s, 0)) != NULL)
			strv_push(jtis, (const char *)t);
	}
	return rows_done(st, s, rc, err);
}

int
hx_store_session_delete_user(struct hx_store *st, const char *username,
    struct hx_store_strv *jtis, char **err)
{
	struct hx_store_strv	got = { NULL, 0 };
	int			rc;

	if (jtis != NULL)
		memset(jtis, 0, sizeof *jtis);
	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = session_delete_user_tx(st, username, &got, err);
	rc = tx_end(st, rc, err);
	if (rc == HX_STORE_OK && jtis != NULL)
		*jtis = got;
	else
		hx_store_strv_release(&got);
	return rc;
}

int
hx_store_session_purge(struct hx_store *st, int64_t now, int64_t *purged,
    char **err)
{
	sqlite3_stmt	*s = st->stmt[S_SESSION_PURGE];
	int64_t		 n = 0;
	int		 rc;

	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if (bi(s, 1, now) != SQLITE_OK)
		rc = bind_fail(st, s, err);
	else if ((rc = run(st, s, err)) == HX_STORE_OK)
		n = changes(st);
	rc = tx_end(st, rc, err);
	if (purged != NULL)
		*purged = rc == HX_STORE_OK ? n : 0;
	return rc;
}

/* --- audit --------------------------------------------------------------- */

/*
 * v, or a copy cut to HX_STORE_AUDIT_FIELD_MAX bytes on a UTF-8 character
 * boundary and ending in HX_STORE_AUDIT_CUT; *copy is what to free.
 */
static const char *
audit_field(const char *v, char **copy)
{
	size_t	n, keep = HX_STORE_AUDIT_FIELD_MAX - strlen(HX_STORE_AUDIT_CUT);

	*copy = NULL;
	if (v == NULL || (n = strlen(v)) <= HX_STORE_AUDIT_FIELD_MAX)
		return v;
	while (keep > 0 && ((unsigned char)v[keep] & 0xc0) == 0x80)
		keep--;
	*copy = xmalloc(keep + strlen(HX_STORE_AUDIT_CUT) + 1);
	memcpy(*copy, v, keep);
	memcpy(*copy + keep, HX_STORE_AUDIT_CUT,
	    strlen(HX_STORE_AUDIT_CUT) + 1);
	return *copy;
}

int
hx_store_audit_add(struct hx_store *st, int64_t ts, const char *actor,
    const char *action, const char *target, const char *detail,
    const char *remote, char **err)
{
	sqlite3_stmt	*s = st->stmt[S_AUDIT_INSERT];
	char		*cut[5];
	int		 rc, i;

	if (empty(actor) || empty(action))
		return fail(err, HX_STORE_INVALID, "an audit record needs an "
		    "actor and an action");
	/* The network chooses these: a 64 KiB username is stored cut. */
	actor = audit_field(actor, &cut[0]);
	action = audit_field(action, &cut[1]);
	target = audit_field(target, &cut[2]);
	detail = audit_field(detail, &cut[3]);
	remote = audit_field(remote, &cut[4]);
	if ((rc = tx_begin(st, 1, err)) == HX_STORE_OK) {
		if ((bi(s, 1, ts != 0 ? ts : hx_wall_ms()) | bt(s, 2, actor) |
		    bt(s, 3, action) | bt(s, 4, target) | bt(s, 5, detail) |
		    bt(s, 6, remote)) != SQLITE_OK)
			rc = bind_fail(st, s, err);
		else
			rc = run(st, s, err);
		rc = tx_end(st, rc, err);
	}
	for (i = 0; i < 5; i++)
		free(cut[i]);
	return rc;
}

int
hx_store_audit_query(struct hx_store *st,
    const struct hx_store_audit_filter *f, struct hx_store_audit_list *out,
    char **err)
{
	static const struct hx_store_audit_filter	 all;
	sqlite3_stmt					*s;
	struct hx_store_audit				*a;
	int						 rc, limit;

	memset(out, 0, sizeof *out);
	if (f == NULL)
		f = &all;
	limit = f->limit;
	if (limit <= 0)
		limit = HX_STORE_AUDIT_LIMIT_DEFAULT;
	if (limit > HX_STORE_AUDIT_LIMIT_MAX)
		limit = HX_STORE_AUDIT_LIMIT_MAX;

	s = st->stmt[S_AUDIT_QUERY];
	if ((bt(s, 1, f->actor) | bt(s, 2, f->action) | bi(s, 3, f->since) |
	    bi(s, 4, limit)) != SQLITE_OK)
		return bind_fail(st, s, err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->v = grow(out->v, out->n, sizeof *out->v);
		a = &out->v[out->n++];
		a->id = sqlite3_column_int64(s, 0);
		a->ts = sqlite3_column_int64(s, 1);
		a->actor = col_dup(s, 2);
		a->action = col_dup(s, 3);
		a->target = col_dup(s, 4);
		a->detail = col_dup(s, 5);
		a->remote = col_dup(s, 6);
	}
	if ((rc = rows_done(st, s, rc, err)) != HX_STORE_OK)
		hx_store_audit_list_release(out);
	return rc;
}

void
hx_store_audit_list_release(struct hx_store_audit_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].actor);
		free(l->v[i].action);
		free(l->v[i].target);
		free(l->v[i].detail);
		free(l->v[i].remote);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
hx_store_audit_purge(struct hx_store *st, int64_t before, int64_t *purged,
    char **err)
{
	sqlite3_stmt	*s = st->stmt[S_AUDIT_PURGE];
	int64_t		 n = 0;
	int		 rc;

	if ((rc = tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if (bi(s, 1, before) != SQLITE_OK)
		rc = bind_fail(st, s, err);
	else if ((rc = run(st, s, err)) == HX_STORE_OK)
		n = changes(st);
	rc = tx_end(st, rc, err);
	if (purged != NULL)
		*purged = rc == HX_STORE_OK ? n : 0;
	return rc;
}

/* --- snapshot ------------------------------------------------------------ */

static int
snapshot_load(struct hx_store *st, struct hx_store_snapshot *snap,
    char **err)
{
	sqlite3_stmt	*s;
	int		 rc;

	if ((rc = load_users(st, st->stmt[S_USER_LIST], &snap->users, 0,
	    err)) != HX_STORE_OK ||
	    (rc = load_roles(st, &snap->roles, err)) != HX_STORE_OK)
		return rc;
	s = st->stmt[S_ACL_LIST];
	if (sqlite3_bind_null(s, 1) != SQLITE_OK)
		return bind_fail(st, s, err);
	if ((rc = load_acl(st, s, &snap->acl, err)) != HX_STORE_OK ||
	    (rc = load_keys(st, st->stmt[S_KEY_LIST_ALL], &snap->keys,
	    err)) != HX_STORE_OK)
		return rc;
	return load_sessions(st, st->stmt[S_SESSION_LIST_ALL], &snap->sessions,
	    err);
}

int
hx_store_snapshot(struct hx_store *st, struct hx_store_snapshot **out,
    char **err)
{
	struct hx_store_snapshot	*snap;
	int				 rc;

	*out = NULL;
	if ((rc = tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	snap = xcalloc(1, sizeof *snap);
	rc = snapshot_load(st, snap, err);
	if ((rc = tx_end(st, rc, err)) != HX_STORE_OK) {
		hx_store_snapshot_free(snap);
		return rc;
	}
	*out = snap;
	return HX_STORE_OK;
}

/*
 * Where key belongs in v[0..n), elements of size bytes sorted by the
 * string at offset off (strcmp, as SQLite's BINARY collation orders
 * them): the first index whose string is not below key. *found says
 * whether that element's string is key itself.
 */
static size_t
snapshot_find(const void *v, size_t n, size_t size, size_t off,
    const char *key, int *found)
{
	const char	*base = v;
	size_t		 lo = 0, hi = n, mid;
	int		 c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(*(char *const *)(const void *)(base + mid * size +
		    off), key);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct hx_store_key *
hx_store_snapshot_key(const struct hx_store_snapshot *snap, const char *keyid)
{
	size_t	i;
	int	found;

	i = snapshot_find(snap->keys.v, snap->keys.n, sizeof *snap->keys.v,
	    offsetof(struct hx_store_key, keyid), keyid, &found);
	return found ? &snap->keys.v[i] : NULL;
}

const struct hx_store_session *
hx_store_snapshot_session(const struct hx_store_snapshot *snap,
    const char *jti)
{
	size_t	i;
	int	found;

	i = snapshot_find(snap->sessions.v, snap->sessions.n,
	    sizeof *snap->sessions.v, offsetof(struct hx_store_session, jti),
	    jti, &found);
	return found ? &snap->sessions.v[i] : NULL;
}

/*
 * One of the snapshot's sorted arrays seen without its element type:
 * the size of an element, the offset of its key string, and how to
 * release an element's strings. Keys and sessions share the code below.
 */
struct sorted_kind {
	size_t	  size;
	size_t	  off;
	void	(*release)(void *);
};

static void
key_release_any(void *p)
{
	hx_store_key_release(p);
}

static void
session_release_any(void *p)
{
	hx_store_session_release(p);
}

static const struct sorted_kind key_kind = {
	sizeof (struct hx_store_key), offsetof(struct hx_store_key, keyid),
	key_release_any
};
static const struct sorted_kind session_kind = {
	sizeof (struct hx_store_session),
	offsetof(struct hx_store_session, jti), session_release_any
};

/*
 * Move *elem into the sorted array v of *n elements, replacing (and
 * releasing) the one with the same key or inserting it in order; *elem
 * is zeroed. Returns the array, which may have moved.
 */
static void *
sorted_put(void *v, size_t *n, const struct sorted_kind *kind, void *elem)
{
	const char	*key;
	char		*base;
	size_t		 i;
	int		 found;

	key = *(char *const *)(const void *)((const char *)elem + kind->off);
	i = snapshot_find(v, *n, kind->size, kind->off, key, &found);
	if (found)
		kind->release((char *)v + i * kind->size);
	else {
		v = grow(v, *n, kind->size);
		base = v;
		memmove(base + (i + 1) * kind->size, base + i * kind->size,
		    (*n - i) * kind->size);
		(*n)++;
	}
	memcpy((char *)v + i * kind->size, elem, kind->size);
	memset(elem, 0, kind->size);
	return v;
}

/*
 * Release and remove the element whose key is key from the sorted
 * array v of *n elements. Returns 0, or -1 when there is none.
 */
static int
sorted_drop(void *v, size_t *n, const struct sorted_kind *kind,
    const char *key)
{
	char	*base = v;
	size_t	 i;
	int	 found;

	i = snapshot_find(v, *n, kind->size, kind->off, key, &found);
	if (!found)
		return -1;
	kind->release(base + i * kind->size);
	memmove(base + i * kind->size, base + (i + 1) * kind->size,
	    (*n - i - 1) * kind->size);
	(*n)--;
	return 0;
}

void
hx_store_snapshot_key_put(struct hx_store_snapshot *snap,
    struct hx_store_key *k)
{
	snap->keys.v = sorted_put(snap->keys.v, &snap->keys.n, &key_kind, k);
}

int
hx_store_snapshot_key_drop(struct hx_store_snapshot *snap, const char *keyid)
{
	return sorted_drop(snap->keys.v, &snap->keys.n, &key_kind, keyid);
}

void
hx_store_snapshot_session_put(struct hx_store_snapshot *snap,
    struct hx_store_session *se)
{
	snap->sessions.v = sorted_put(snap->sessions.v, &snap->sessions.n,
	    &session_kind, se);
}

int
hx_store_snapshot_session_drop(struct hx_store_snapshot *snap,
    const char *jti)
{
	return sorted_drop(snap->sessions.v, &snap->sessions.n,
	    &session_kind, jti);
}

size_t
hx_store_snapshot_session_purge(struct hx_store_snapshot *snap, int64_t now)
{
	struct hx_store_session_list	*l = &snap->sessions;
	size_t				 i, o = 0, gone;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].expires <= now || l->v[i].absolute_expires <= now)
			hx_store_session_release(&l->v[i]);
		else
			l->v[o++] = l->v[i];
	}
	gone = l->n - o;
	l->n = o;
	return gone;
}

void
hx_store_snapshot_free(struct hx_store_snapshot *snap)
{
	if (snap == NULL)
		return;
	hx_store_user_list_release(&snap->users);
	hx_store_role_list_release(&snap->roles);
	hx_store_acl_list_release(&snap->acl);
	hx_store_key_list_release(&snap->keys);
	hx_store_session_list_release(&snap->sessions);
	free(snap);
}
