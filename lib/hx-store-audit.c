/*
 * hx-store-audit.c - the audit log in the identity store: append a
 * record (fields the network chooses are cut to a bounded length),
 * query the newest records by actor, action and time, purge old ones.
 *
 * What it does not do: decide what is worth auditing or how long to keep
 * it; the daemon's callers do.
 */
#include <stdlib.h>
#include <string.h>

#include "hx-store-int.h"

/*
 * v, or a copy cut to HX_STORE_AUDIT_FIELD_MAX bytes on a UTF-8 character
 * boundary and ending in HX_STORE_AUDIT_CUT; *copy is what to free.
 */
static const char *
audit_field(const char *v, char **copy)
{
	size_t n, keep = HX_STORE_AUDIT_FIELD_MAX - strlen(HX_STORE_AUDIT_CUT);

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
	sqlite3_stmt *s = st->stmt[S_AUDIT_INSERT];
	char	     *cut[5];
	int	      rc, i;

	if (empty(actor) || empty(action))
		return hx_fail(err, HX_STORE_INVALID,
		    "an audit record needs an "
		    "actor and an action");
	/* The network chooses these: a 64 KiB username is stored cut. */
	actor = audit_field(actor, &cut[0]);
	action = audit_field(action, &cut[1]);
	target = audit_field(target, &cut[2]);
	detail = audit_field(detail, &cut[3]);
	remote = audit_field(remote, &cut[4]);
	if ((rc = store_tx_begin(st, 1, err)) == HX_STORE_OK) {
		if ((bi(s, 1, ts != 0 ? ts : hx_wall_ms()) | bt(s, 2, actor) |
			bt(s, 3, action) | bt(s, 4, target) | bt(s, 5, detail) |
			bt(s, 6, remote)) != SQLITE_OK)
			rc = store_bind_fail(st, s, err);
		else
			rc = store_run(st, s, err);
		rc = store_tx_end(st, rc, err);
	}
	for (i = 0; i < 5; i++)
		free(cut[i]);
	return rc;
}

int
hx_store_audit_query(struct hx_store *st, const struct hx_store_audit_filter *f,
    struct hx_store_audit_list *out, char **err)
{
	static const struct hx_store_audit_filter all;
	sqlite3_stmt				 *s;
	struct hx_store_audit			 *a;
	int					  rc, limit;

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
		return store_bind_fail(st, s, err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->v = store_grow(out->v, out->n, sizeof *out->v);
		a = &out->v[out->n++];
		a->id = sqlite3_column_int64(s, 0);
		a->ts = sqlite3_column_int64(s, 1);
		a->actor = store_col_dup(s, 2);
		a->action = store_col_dup(s, 3);
		a->target = store_col_dup(s, 4);
		a->detail = store_col_dup(s, 5);
		a->remote = store_col_dup(s, 6);
	}
	if ((rc = store_rows_done(st, s, rc, err)) != HX_STORE_OK)
		hx_store_audit_list_release(out);
	return rc;
}

void
hx_store_audit_list_release(struct hx_store_audit_list *l)
{
	size_t i;

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
	return store_purge(st, st->stmt[S_AUDIT_PURGE], before, purged, err);
}
