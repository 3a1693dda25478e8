/*
 * hx-store-int.h - what the files of the identity store share, and
 * nothing outside them may use: the handle, the statement cache, and the
 * helpers every family of functions runs on (lib/hx-store-*.c).
 *
 * hx-store.h stays the one public interface; this header adds no
 * function a caller could reach. Helpers shared between the files carry
 * the store_ prefix so they cannot meet another module's names at link
 * time. The one-line statement wrappers (bt, bi, done, empty, changes)
 * are static inline here instead: they are used on nearly every line
 * that touches a statement, and a prefix on each would cost more reading
 * than it buys.
 *
 * What it does not hold: SQL. The statement texts, the schema and its
 * migrations live in hx-store.c next to the code that prepares them;
 * the files here name statements only by enum stmt_id.
 */
#ifndef HX_STORE_INT_H
#define HX_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "hx-store.h"
#include "hx-util.h"

/* Room for a quoted name in a message (see store_quote()). */
#define QBUF 128
#define QLIMIT 80

/* One entry per cached statement; the SQL is stmt_sql[] in hx-store.c. */
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

	S_NOTIFY_TARGET_INSERT,
	S_NOTIFY_TARGET_GET,
	S_NOTIFY_TARGET_LIST,
	S_NOTIFY_TARGET_DELETE,
	S_NOTIFY_ATTEMPT_DELETE_TARGET,
	S_NOTIFY_ATTEMPT_INSERT,
	S_NOTIFY_ATTEMPT_LIST,
	S_NOTIFY_ATTEMPT_PURGE,

	S__COUNT
};

struct hx_store {
	sqlite3	     *db;
	sqlite3_stmt *stmt[S__COUNT];
};

/* --- messages (hx-store.c) ----------------------------------------------- */

/* HX_STORE_ERROR with SQLite's reason; call before resetting a statement. */
int store_db_fail(struct hx_store *, char **);
/* s escaped and cut for a message, in buf (QBUF bytes); returns buf. */
const char *store_quote(char *buf, const char *s);

/* --- small helpers (hx-store.c) ------------------------------------------ */

static inline int
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* Grow an array of n elements of size bytes so element n fits. */
void *store_grow(void *v, size_t n, size_t size);
void  store_strv_push(struct hx_store_strv *, const char *);

/* --- statement helpers (hx-store.c) -------------------------------------- */

static inline void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Bind text; NULL binds SQL NULL. The value must outlive the step. */
static inline int
bt(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static inline int
bi(sqlite3_stmt *s, int i, int64_t v)
{
	return sqlite3_bind_int64(s, i, v);
}

static inline int64_t
changes(struct hx_store *st)
{
	return sqlite3_changes64(st->db);
}

/* store_db_fail, then reset s: for a failed bind. */
int store_bind_fail(struct hx_store *, sqlite3_stmt *, char **);
/* A copy of a text column, or NULL for SQL NULL; the caller frees. */
char *store_col_dup(sqlite3_stmt *, int);
/* Step a statement that returns no rows to completion, then reset it. */
int store_run(struct hx_store *, sqlite3_stmt *, char **);
/* The first column of the first row; NOT_FOUND (no message) if no row. */
int store_query_int(struct hx_store *, sqlite3_stmt *, int64_t *, char **);
/* After a row loop: map the last sqlite3_step result, reset. */
int store_rows_done(struct hx_store *, sqlite3_stmt *, int, char **);
/* BEGIN (write: BEGIN IMMEDIATE). */
int store_tx_begin(struct hx_store *, int write, char **);
/* Commit if rc is OK (an error then becomes rc), else roll back. */
int store_tx_end(struct hx_store *, int rc, char **);
/*
 * Run s, a DELETE whose one parameter is the time t, in a write
 * transaction; how many rows went into *purged (if given; 0 on failure).
 */
int store_purge(struct hx_store *, sqlite3_stmt *s, int64_t t, int64_t *purged,
    char **);

/* --- users (hx-store-user.c) --------------------------------------------- */

/* The user's id (and whether they are in the pam realm); NOT_FOUND quiet. */
int store_user_find(struct hx_store *, const char *username, int64_t *id,
    int *is_pam, char **);
/* As store_user_find, with "user 'x' not found" when absent. */
int store_user_need(struct hx_store *, const char *username, int64_t *id,
    int *is_pam, char **);
/* Bind username's id as ?1 of s; store_user_need's codes, bind failure. */
int store_bind_user(struct hx_store *, sqlite3_stmt *, const char *username,
    char **);
/* Every row of s (bound already) as a user, then each one's roles. */
int store_load_users(struct hx_store *, sqlite3_stmt *,
    struct hx_store_user_list *, int with_hash, char **);

/* --- roles and ACL (hx-store-access.c) ----------------------------------- */

/* OK if every name is built in or a stored custom role, else INVALID. */
int store_roles_known(struct hx_store *, const char *const *roles, char **);
/* Every custom role, by name. */
int store_load_roles(struct hx_store *, struct hx_store_role_list *, char **);
/* Every row of s (S_ACL_LIST or S_ACL_LIST_USER, bound already). */
int store_load_acl(struct hx_store *, sqlite3_stmt *,
    struct hx_store_acl_list *, char **);

/* --- API keys and sessions (hx-store-key.c, hx-store-session.c) ---------- */

/* Every row of s (bound already); on failure the list is released. */
int store_load_keys(struct hx_store *, sqlite3_stmt *,
    struct hx_store_key_list *, char **);
int store_load_sessions(struct hx_store *, sqlite3_stmt *,
    struct hx_store_session_list *, char **);

#endif /* HX_STORE_INT_H */
