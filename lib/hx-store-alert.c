/*
 * hx-store-alert.c - alert rules and alert episodes in the identity store
 * (see hx-store.h). The daemon's alert thread owns the only connection that
 * calls these, so they are rare and short: their statements are prepared
 * per call instead of joining the cached set of hx-store.c.
 *
 * What it does not do: parse or validate rules (lib/hx-alert does), decide
 * what an episode is, or who may see it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hx-store-int.h"

#define EPISODE_COLS \
	"alert_id, rule_name, severity, target, vm, track, series, message, " \
	"value, threshold, peak, started_at, resolved_at, acked_by, " \
	"acked_at, comment"

static int
prep(struct hx_store *st, const char *sql, sqlite3_stmt **s, char **err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK) {
		*s = NULL;
		return store_db_fail(st, err);
	}
	return HX_STORE_OK;
}

/* Step s (no rows) and finalize it. */
static int
run_fin(struct hx_store *st, sqlite3_stmt *s, char **err)
{
	int rc = store_run(st, s, err);

	sqlite3_finalize(s);
	return rc;
}

static void
bind_real(sqlite3_stmt *s, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

static double
col_real(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ?
	    NAN :
	    sqlite3_column_double(s, i);
}

int
hx_store_alert_rules(struct hx_store *st, struct hx_store_strv *names,
    struct hx_store_strv *docs, char **err)
{
	sqlite3_stmt *s;
	char	     *a, *b;
	int	      rc;

	memset(names, 0, sizeof *names);
	memset(docs, 0, sizeof *docs);
	if ((rc = prep(st, "SELECT name, doc FROM alert_rules ORDER BY name",
		 &s, err)) != HX_STORE_OK)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a = store_col_dup(s, 0);
		b = store_col_dup(s, 1);
		store_strv_push(names, a);
		store_strv_push(docs, b);
		free(a);
		free(b);
	}
	rc = store_rows_done(st, s, rc, err);
	sqlite3_finalize(s);
	if (rc != HX_STORE_OK) {
		hx_store_strv_release(names);
		hx_store_strv_release(docs);
	}
	return rc;
}

int
hx_store_alert_rule_get(struct hx_store *st, const char *name, char **doc,
    char **err)
{
	sqlite3_stmt *s;
	char	      q[QBUF];
	int	      rc;

	*doc = NULL;
	if ((rc = prep(st, "SELECT doc FROM alert_rules WHERE name = ?1", &s,
		 err)) != HX_STORE_OK)
		return rc;
	bt(s, 1, name);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*doc = store_col_dup(s, 0);
		rc = HX_STORE_OK;
		done(s);
	} else if (rc == SQLITE_DONE) {
		done(s);
		rc = hx_fail(err, HX_STORE_NOT_FOUND, "rule '%s' not found",
		    store_quote(q, name));
	} else
		rc = store_rows_done(st, s, rc, err);
	sqlite3_finalize(s);
	return rc;
}

int
hx_store_alert_rule_put(struct hx_store *st, const char *name, const char *doc,
    int create, char **err)
{
	sqlite3_stmt *s;
	char	      q[QBUF];
	int	      rc;

	if (empty(name) || doc == NULL)
		return hx_fail(err, HX_STORE_INVALID, "a rule needs a name");
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = prep(st,
	    create ? "INSERT OR IGNORE INTO alert_rules (name, doc) "
		     "VALUES (?1, ?2)" :
		     "UPDATE alert_rules SET doc = ?2 WHERE name = ?1",
	    &s, err);
	if (rc == HX_STORE_OK) {
		bt(s, 1, name);
		bt(s, 2, doc);
		rc = run_fin(st, s, err);
	}
	if (rc == HX_STORE_OK && changes(st) == 0)
		rc = create ?
		    hx_fail(err, HX_STORE_CONFLICT, "rule '%s' already exists",
			store_quote(q, name)) :
		    hx_fail(err, HX_STORE_NOT_FOUND, "rule '%s' not found",
			store_quote(q, name));
	return store_tx_end(st, rc, err);
}

int
hx_store_alert_rule_delete(struct hx_store *st, const char *name, char **err)
{
	sqlite3_stmt *s;
	char	      q[QBUF];
	int	      rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if ((rc = prep(st, "DELETE FROM alert_rules WHERE name = ?1", &s,
		 err)) == HX_STORE_OK) {
		bt(s, 1, name);
		rc = run_fin(st, s, err);
	}
	if (rc == HX_STORE_OK && changes(st) == 0)
		rc = hx_fail(err, HX_STORE_NOT_FOUND, "rule '%s' not found",
		    store_quote(q, name));
	return store_tx_end(st, rc, err);
}

int
hx_store_alert_insert(struct hx_store *st, const struct hx_store_alert *a,
    char **err)
{
	sqlite3_stmt *s;
	int	      rc;

	if (empty(a->alert_id) || empty(a->rule_name) || empty(a->track))
		return hx_fail(err, HX_STORE_INVALID, "an alert needs an id");
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if ((rc = prep(st,
		 "INSERT INTO alert_episodes (alert_id, rule_name, "
		 "severity, target, vm, track, series, message, value, "
		 "threshold, peak, started_at) VALUES (?1, ?2, ?3, ?4, ?5, "
		 "?6, ?7, ?8, ?9, ?10, ?11, ?12)",
		 &s, err)) == HX_STORE_OK) {
		bt(s, 1, a->alert_id);
		bt(s, 2, a->rule_name);
		bt(s, 3, a->severity ? a->severity : "warning");
		bt(s, 4, a->target ? a->target : "");
		bt(s, 5, a->vm);
		bt(s, 6, a->track);
		bt(s, 7, a->series);
		bt(s, 8, a->message);
		bind_real(s, 9, a->value);
		bind_real(s, 10, a->threshold);
		bind_real(s, 11, a->peak);
		bi(s, 12, a->started_at);
		rc = run_fin(st, s, err);
	}
	return store_tx_end(st, rc, err);
}

int
hx_store_alert_resolve(struct hx_store *st, const char *alert_id, int64_t t,
    double peak, double value, char **err)
{
	sqlite3_stmt *s;
	int	      rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if ((rc = prep(st,
		 "UPDATE alert_episodes SET resolved_at = ?2, peak = ?3, "
		 "value = coalesce(?4, value) WHERE alert_id = ?1",
		 &s, err)) == HX_STORE_OK) {
		bt(s, 1, alert_id);
		bi(s, 2, t);
		bind_real(s, 3, peak);
		bind_real(s, 4, value);
		rc = run_fin(st, s, err);
	}
	return store_tx_end(st, rc, err);
}

int
hx_store_alert_ack(struct hx_store *st, const char *alert_id, const char *who,
    int64_t t, const char *comment, char **err)
{
	sqlite3_stmt *s;
	char	      q[QBUF];
	int	      rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if ((rc = prep(st,
		 "UPDATE alert_episodes SET acked_by = ?2, acked_at = ?3, "
		 "comment = ?4 WHERE alert_id = ?1",
		 &s, err)) == HX_STORE_OK) {
		bt(s, 1, alert_id);
		bt(s, 2, who);
		bi(s, 3, t);
		bt(s, 4, comment);
		rc = run_fin(st, s, err);
	}
	if (rc == HX_STORE_OK && changes(st) == 0)
		rc = hx_fail(err, HX_STORE_NOT_FOUND, "alert '%s' not found",
		    store_quote(q, alert_id));
	return store_tx_end(st, rc, err);
}

static void
load_row(sqlite3_stmt *s, struct hx_store_alert *a)
{
	memset(a, 0, sizeof *a);
	a->alert_id = store_col_dup(s, 0);
	a->rule_name = store_col_dup(s, 1);
	a->severity = store_col_dup(s, 2);
	a->target = store_col_dup(s, 3);
	a->vm = store_col_dup(s, 4);
	a->track = store_col_dup(s, 5);
	a->series = store_col_dup(s, 6);
	a->message = store_col_dup(s, 7);
	a->value = col_real(s, 8);
	a->threshold = col_real(s, 9);
	a->peak = col_real(s, 10);
	a->started_at = sqlite3_column_int64(s, 11);
	a->resolved_at = sqlite3_column_int64(s, 12);
	a->acked_by = store_col_dup(s, 13);
	a->acked_at = sqlite3_column_int64(s, 14);
	a->comment = store_col_dup(s, 15);
}

int
hx_store_alert_get(struct hx_store *st, const char *alert_id,
    struct hx_store_alert *out, char **err)
{
	sqlite3_stmt *s;
	char	      q[QBUF];
	int	      rc;

	memset(out, 0, sizeof *out);
	if ((rc = prep(st,
		 "SELECT " EPISODE_COLS
		 " FROM alert_episodes WHERE alert_id = ?1",
		 &s, err)) != HX_STORE_OK)
		return rc;
	bt(s, 1, alert_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		load_row(s, out);
		done(s);
		rc = HX_STORE_OK;
	} else if (rc == SQLITE_DONE) {
		done(s);
		rc = hx_fail(err, HX_STORE_NOT_FOUND, "alert '%s' not found",
		    store_quote(q, alert_id));
	} else
		rc = store_rows_done(st, s, rc, err);
	sqlite3_finalize(s);
	return rc;
}

int
hx_store_alert_list(struct hx_store *st, enum hx_store_alert_state state,
    int limit, struct hx_store_alert_list *out, char **err)
{
	static const char *const where[] = { "", " WHERE resolved_at IS NULL",
		" WHERE resolved_at IS NOT NULL" };
	sqlite3_stmt		*s;
	char			*sql;
	int			 rc;

	memset(out, 0, sizeof *out);
	sql = xasprintf("SELECT " EPISODE_COLS " FROM alert_episodes%s "
			"ORDER BY started_at DESC, alert_id LIMIT ?1",
	    where[state]);
	rc = prep(st, sql, &s, err);
	free(sql);
	if (rc != HX_STORE_OK)
		return rc;
	bi(s, 1, limit > 0 ? limit : -1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->v = store_grow(out->v, out->n, sizeof *out->v);
		load_row(s, &out->v[out->n++]);
	}
	rc = store_rows_done(st, s, rc, err);
	sqlite3_finalize(s);
	if (rc != HX_STORE_OK)
		hx_store_alert_list_release(out);
	return rc;
}

int
hx_store_alert_purge(struct hx_store *st, int64_t t, int64_t *purged,
    char **err)
{
	sqlite3_stmt *s;
	int	      rc;

	if (purged != NULL)
		*purged = 0;
	if ((rc = prep(st,
		 "DELETE FROM alert_episodes WHERE resolved_at IS NOT NULL "
		 "AND resolved_at < ?1",
		 &s, err)) != HX_STORE_OK)
		return rc;
	rc = store_purge(st, s, t, purged, err);
	sqlite3_finalize(s);
	return rc;
}

void
hx_store_alert_release(struct hx_store_alert *a)
{
	if (a == NULL)
		return;
	free(a->alert_id);
	free(a->rule_name);
	free(a->severity);
	free(a->target);
	free(a->vm);
	free(a->track);
	free(a->series);
	free(a->message);
	free(a->acked_by);
	free(a->comment);
	memset(a, 0, sizeof *a);
}

void
hx_store_alert_list_release(struct hx_store_alert_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		hx_store_alert_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}
