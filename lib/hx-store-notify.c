/*
 * hx-store-notify.c - notification targets and their delivery attempts
 * in the identity store: add, get (with the secret, for the delivery
 * thread alone), list (without it), delete with its attempts; record an
 * attempt, list a target's newest, purge old ones.
 *
 * What it does not do: check a target's fields (lib/hx-notify.c does,
 * before the store sees it) or deliver anything (horcruxd/notify.c).
 */
#include <stdlib.h>
#include <string.h>

#include "hx-store-int.h"

#define ATTEMPTS_MAX 1000

static void
target_row(sqlite3_stmt *s, struct hx_store_notify_target *t)
{
	t->name = store_col_dup(s, 0);
	t->type = store_col_dup(s, 1);
	t->config = store_col_dup(s, 2);
	t->secret = store_col_dup(s, 3);
	t->created = sqlite3_column_int64(s, 4);
}

int
hx_store_notify_target_add(struct hx_store *st,
    const struct hx_store_notify_target *t, char **err)
{
	sqlite3_stmt		     *s = st->stmt[S_NOTIFY_TARGET_INSERT];
	struct hx_store_notify_target old;
	char			      q[QBUF];
	int			      rc;

	if (empty(t->name) || empty(t->type) || empty(t->config))
		return hx_fail(err, HX_STORE_INVALID,
		    "a notification target needs a name, a type and its "
		    "settings");
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	memset(&old, 0, sizeof old);
	rc = hx_store_notify_target_get(st, t->name, &old, err);
	hx_store_notify_target_release(&old);
	if (rc == HX_STORE_OK) {
		rc = hx_fail(err, HX_STORE_CONFLICT,
		    "notification target '%s' already exists",
		    store_quote(q, t->name));
	} else if (rc == HX_STORE_NOT_FOUND) {
		free(err != NULL ? *err : NULL);
		if (err != NULL)
			*err = NULL;
		if ((bt(s, 1, t->name) | bt(s, 2, t->type) |
			bt(s, 3, t->config) | bt(s, 4, t->secret) |
			bi(s, 5, t->created)) != SQLITE_OK)
			rc = store_bind_fail(st, s, err);
		else
			rc = store_run(st, s, err);
	}
	return store_tx_end(st, rc, err);
}

int
hx_store_notify_target_get(struct hx_store *st, const char *name,
    struct hx_store_notify_target *out, char **err)
{
	sqlite3_stmt *s = st->stmt[S_NOTIFY_TARGET_GET];
	char	      q[QBUF];
	int	      rc;

	memset(out, 0, sizeof *out);
	if (bt(s, 1, name) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		target_row(s, out);
		done(s);
		return HX_STORE_OK;
	}
	if (rc != SQLITE_DONE)
		return store_bind_fail(st, s, err);
	done(s);
	return hx_fail(err, HX_STORE_NOT_FOUND,
	    "notification target '%s' not found", store_quote(q, name));
}

int
hx_store_notify_target_list(struct hx_store *st,
    struct hx_store_notify_target_list *out, char **err)
{
	sqlite3_stmt *s = st->stmt[S_NOTIFY_TARGET_LIST];
	int	      rc;

	memset(out, 0, sizeof *out);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->v = store_grow(out->v, out->n, sizeof *out->v);
		target_row(s, &out->v[out->n++]);
	}
	rc = store_rows_done(st, s, rc, err);
	if (rc != HX_STORE_OK)
		hx_store_notify_target_list_release(out);
	return rc;
}

int
hx_store_notify_target_delete(struct hx_store *st, const char *name, char **err)
{
	sqlite3_stmt *s = st->stmt[S_NOTIFY_TARGET_DELETE];
	sqlite3_stmt *a = st->stmt[S_NOTIFY_ATTEMPT_DELETE_TARGET];
	char	      q[QBUF];
	int	      rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if (bt(s, 1, name) != SQLITE_OK)
		rc = store_bind_fail(st, s, err);
	else if ((rc = store_run(st, s, err)) == HX_STORE_OK &&
	    changes(st) == 0)
		rc = hx_fail(err, HX_STORE_NOT_FOUND,
		    "notification target '%s' not found", store_quote(q, name));
	else if (rc == HX_STORE_OK) {
		if (bt(a, 1, name) != SQLITE_OK)
			rc = store_bind_fail(st, a, err);
		else
			rc = store_run(st, a, err);
	}
	return store_tx_end(st, rc, err);
}

void
hx_store_notify_target_release(struct hx_store_notify_target *t)
{
	free(t->name);
	free(t->type);
	free(t->config);
	if (t->secret != NULL)
		explicit_bzero(t->secret, strlen(t->secret));
	free(t->secret);
	memset(t, 0, sizeof *t);
}

void
hx_store_notify_target_list_release(struct hx_store_notify_target_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		hx_store_notify_target_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

int
hx_store_notify_attempt_add(struct hx_store *st,
    const struct hx_store_notify_attempt *a, char **err)
{
	sqlite3_stmt *s = st->stmt[S_NOTIFY_ATTEMPT_INSERT];
	char	      q[QBUF];
	int	      rc;

	if (empty(a->target) || empty(a->event) || empty(a->outcome))
		return hx_fail(err, HX_STORE_INVALID,
		    "an attempt needs a target, an event and an outcome");
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, a->target) | bi(s, 2, a->ts) | bi(s, 3, a->delivery) |
		bi(s, 4, a->attempt) | bt(s, 5, a->event) |
		bt(s, 6, a->outcome) | bi(s, 7, a->status) |
		bt(s, 8, a->error) | bi(s, 9, a->duration_ms)) != SQLITE_OK)
		rc = store_bind_fail(st, s, err);
	else if ((rc = store_run(st, s, err)) == HX_STORE_OK &&
	    changes(st) == 0)
		rc = hx_fail(err, HX_STORE_NOT_FOUND,
		    "notification target '%s' not found",
		    store_quote(q, a->target));
	return store_tx_end(st, rc, err);
}

int
hx_store_notify_attempt_list(struct hx_store *st, const char *target, int limit,
    struct hx_store_notify_attempt_list *out, char **err)
{
	sqlite3_stmt		       *s = st->stmt[S_NOTIFY_ATTEMPT_LIST];
	struct hx_store_notify_attempt *a;
	int				rc;

	memset(out, 0, sizeof *out);
	if (limit <= 0 || limit > ATTEMPTS_MAX)
		limit = ATTEMPTS_MAX;
	if ((bt(s, 1, target) | bi(s, 2, limit)) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->v = store_grow(out->v, out->n, sizeof *out->v);
		a = &out->v[out->n++];
		a->id = sqlite3_column_int64(s, 0);
		a->target = store_col_dup(s, 1);
		a->ts = sqlite3_column_int64(s, 2);
		a->delivery = sqlite3_column_int64(s, 3);
		a->attempt = sqlite3_column_int(s, 4);
		a->event = store_col_dup(s, 5);
		a->outcome = store_col_dup(s, 6);
		a->status = sqlite3_column_int(s, 7);
		a->error = store_col_dup(s, 8);
		a->duration_ms = sqlite3_column_int64(s, 9);
	}
	rc = store_rows_done(st, s, rc, err);
	if (rc != HX_STORE_OK)
		hx_store_notify_attempt_list_release(out);
	return rc;
}

void
hx_store_notify_attempt_list_release(struct hx_store_notify_attempt_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].target);
		free(l->v[i].event);
		free(l->v[i].outcome);
		free(l->v[i].error);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

int
hx_store_notify_attempt_purge(struct hx_store *st, int64_t before,
    int64_t *purged, char **err)
{
	return store_purge(st, st->stmt[S_NOTIFY_ATTEMPT_PURGE], before, purged,
	    err);
}
