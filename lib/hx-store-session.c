/*
 * hx-store-session.c - login sessions in the identity store: add, get,
 * list, extend (never past the absolute expiry), delete one, delete a
 * user's (returning their ids so the caller can close their
 * connections), purge the expired, plus the session loader the snapshot
 * shares (store_load_sessions).
 *
 * What it does not do: make session ids or CSRF tokens, or decide the
 * lifetimes; the caller passes them in.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-store-int.h"

static int
session_add_tx(struct hx_store *st, const char *jti, const char *username,
    int64_t expires, int64_t absolute_expires, const char *csrf_token,
    const char *remote, char **err)
{
	sqlite3_stmt *s;
	int64_t	      uid, dummy;
	int	      rc;

	if ((rc = store_user_need(st, username, &uid, NULL, err)) !=
	    HX_STORE_OK)
		return rc;
	s = st->stmt[S_SESSION_LIMIT];
	if (bt(s, 1, jti) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	rc = store_query_int(st, s, &dummy, err);
	if (rc == HX_STORE_OK)
		return hx_fail(err, HX_STORE_CONFLICT,
		    "session already exists");
	if (rc != HX_STORE_NOT_FOUND)
		return rc;
	s = st->stmt[S_SESSION_INSERT];
	if ((bt(s, 1, jti) | bi(s, 2, uid) | bi(s, 3, (int64_t)time(NULL)) |
		bi(s, 4, expires) | bi(s, 5, absolute_expires) |
		bt(s, 6, csrf_token) | bt(s, 7, remote)) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	return store_run(st, s, err);
}

int
hx_store_session_add(struct hx_store *st, const char *jti, const char *username,
    int64_t expires, int64_t absolute_expires, const char *csrf_token,
    const char *remote, char **err)
{
	int rc;

	if (empty(jti) || empty(csrf_token))
		return hx_fail(err, HX_STORE_INVALID,
		    "a session needs an id and "
		    "a CSRF token");
	if (expires > absolute_expires)
		return hx_fail(err, HX_STORE_INVALID,
		    "a session cannot expire "
		    "after its absolute expiry");
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = session_add_tx(st, jti, username, expires, absolute_expires,
	    csrf_token, remote, err);
	return store_tx_end(st, rc, err);
}

int
store_load_sessions(struct hx_store *st, sqlite3_stmt *s,
    struct hx_store_session_list *l, char **err)
{
	struct hx_store_session *x;
	int			 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = store_grow(l->v, l->n, sizeof *l->v);
		x = &l->v[l->n++];
		x->jti = store_col_dup(s, 0);
		x->username = store_col_dup(s, 1);
		x->user_enabled = sqlite3_column_int(s, 2) != 0;
		x->created = sqlite3_column_int64(s, 3);
		x->expires = sqlite3_column_int64(s, 4);
		x->absolute_expires = sqlite3_column_int64(s, 5);
		x->last_seen = sqlite3_column_int64(s, 6);
		x->csrf_token = store_col_dup(s, 7);
		x->remote = store_col_dup(s, 8);
	}
	if ((rc = store_rows_done(st, s, rc, err)) != HX_STORE_OK)
		hx_store_session_list_release(l);
	return rc;
}

int
hx_store_session_get(struct hx_store *st, const char *jti,
    struct hx_store_session *out, char **err)
{
	struct hx_store_session_list l = { NULL, 0 };
	sqlite3_stmt		    *s = st->stmt[S_SESSION_GET];
	int			     rc;

	memset(out, 0, sizeof *out);
	if (bt(s, 1, jti) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	if ((rc = store_load_sessions(st, s, &l, err)) != HX_STORE_OK)
		return rc;
	if (l.n == 0)
		return hx_fail(err, HX_STORE_NOT_FOUND, "session not found");
	*out = l.v[0];
	free(l.v);
	return HX_STORE_OK;
}

int
hx_store_session_list(struct hx_store *st, const char *username,
    struct hx_store_session_list *out, char **err)
{
	sqlite3_stmt *s = st->stmt[S_SESSION_LIST_USER];
	int	      rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	if ((rc = store_bind_user(st, s, username, err)) == HX_STORE_OK)
		rc = store_load_sessions(st, s, out, err);
	if ((rc = store_tx_end(st, rc, err)) != HX_STORE_OK)
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
	size_t i;

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
	sqlite3_stmt *s = st->stmt[S_SESSION_LIMIT];
	int64_t	      limit;
	int	      rc;

	if (bt(s, 1, jti) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	rc = store_query_int(st, s, &limit, err);
	if (rc == HX_STORE_NOT_FOUND)
		return hx_fail(err, rc, "session not found");
	if (rc != HX_STORE_OK)
		return rc;
	if (expires > limit)
		return hx_fail(err, HX_STORE_INVALID,
		    "a session cannot be "
		    "extended beyond its absolute expiry");
	s = st->stmt[S_SESSION_EXTEND];
	if ((bt(s, 1, jti) | bi(s, 2, expires) |
		bi(s, 3, (int64_t)time(NULL))) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	return store_run(st, s, err);
}

int
hx_store_session_extend(struct hx_store *st, const char *jti, int64_t expires,
    char **err)
{
	int rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = session_extend_tx(st, jti, expires, err);
	return store_tx_end(st, rc, err);
}

int
hx_store_session_delete(struct hx_store *st, const char *jti, char **err)
{
	sqlite3_stmt *s = st->stmt[S_SESSION_DELETE];
	int	      rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if (bt(s, 1, jti) != SQLITE_OK)
		rc = store_bind_fail(st, s, err);
	else if ((rc = store_run(st, s, err)) == HX_STORE_OK &&
	    changes(st) == 0)
		rc = hx_fail(err, HX_STORE_NOT_FOUND, "session not found");
	return store_tx_end(st, rc, err);
}

static int
session_delete_user_tx(struct hx_store *st, const char *username,
    struct hx_store_strv *jtis, char **err)
{
	sqlite3_stmt	    *s = st->stmt[S_SESSION_DELETE_USER];
	const unsigned char *t;
	int		     rc;

	if ((rc = store_bind_user(st, s, username, err)) != HX_STORE_OK)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((t = sqlite3_column_text(s, 0)) != NULL)
			store_strv_push(jtis, (const char *)t);
	}
	return store_rows_done(st, s, rc, err);
}

int
hx_store_session_delete_user(struct hx_store *st, const char *username,
    struct hx_store_strv *jtis, char **err)
{
	struct hx_store_strv got = { NULL, 0 };
	int		     rc;

	if (jtis != NULL)
		memset(jtis, 0, sizeof *jtis);
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = session_delete_user_tx(st, username, &got, err);
	rc = store_tx_end(st, rc, err);
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
	return store_purge(st, st->stmt[S_SESSION_PURGE], now, purged, err);
}
