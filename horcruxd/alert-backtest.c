/*
 * alert-backtest.c - POST /api/alerts/backtest: the episodes a rule would
 * have fired over the stored metrics history, so a threshold can be tuned
 * before it pages anyone.
 *
 * Body: {"rule": "<name of a stored rule>" | {rule object}, "since":
 * "24h" | "-90m" | "7d" | RFC 3339, "until"?: the same or "now"}. Answer:
 * {"rule": <the rule>, "from", "to", "tier": "raw"|"minute"|"hour",
 * "episodes": [{target, series, start, end (null: still firing at the
 * end), peak}]}, oldest first.
 *
 * Where it runs. The service thread (alerts_backtest_submit) resolves a
 * rule name against the alert engine's rules (a copy taken under its
 * mutex), decides what the caller may read exactly as the history routes
 * do (node series with SysAudit on /nodes, a VM's with VmAudit on it,
 * VMs of the inventory by their current name), and queues the job on the
 * history's query thread, whose reader sees the unflushed points too.
 *
 * What it does not do: status rules (the history keeps no statuses: 422),
 * other rules' overrides (the rule is tried alone), or silences (past
 * episodes are what the values say). The tier is the finest that still
 * holds the start of the range; minute and hour points are averages, so
 * a short spike may not show there.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "alert.h"
#include "history.h"
#include "hx-alert.h"
#include "hx-log.h"
#include "hx-proto.h"
#include "hx-rbac.h"
#include "hx-tsdb.h"
#include "hx-util.h"
#include "snapshot.h"
#include "worker.h"

/* Series one backtest walks at most. */
#define BT_MAX_SERIES 10000

/* What the service thread decided, and the rule it resolved. */
struct bt {
	int		   node_ok;
	struct history_vm *vms;
	size_t		   nvms;
	json_t		  *rule; /* the rule object, or NULL */
	int		   unknown; /* the named rule does not exist */
	int64_t		   now_ms;
	int64_t		   keep_ms[2]; /* raw, minute retention */
};

static void
bt_free(void *p)
{
	struct bt *b = p;

	history_vms_free(b->vms, b->nvms);
	json_decref(b->rule);
	free(b);
}

int
alerts_backtest_submit(struct alerts *a, struct history *h, struct job *j,
    const struct identity *id, const struct snapshot *snap,
    const struct options *opts)
{
	struct bt *b = xcalloc(1, sizeof *b);
	json_t	  *r = json_object_get(j->body, "rule");

	b->node_ok = access_allowed(id, HX_PRIV_SYS_AUDIT, "/nodes");
	b->now_ms = hx_wall_ms();
	b->keep_ms[0] = opts->history_raw_retention_ms;
	b->keep_ms[1] = opts->history_minute_retention_ms;
	if (json_is_string(r)) {
		b->rule = alerts_rule_json(a, json_string_value(r));
		b->unknown = b->rule == NULL;
	} else if (r != NULL)
		b->rule = json_incref(r);
	b->vms = history_readable_vms(id, snap, &b->nvms);
	j->ctx = b;
	j->ctx_free = bt_free;
	return history_queue_job(h, j);
}

/*
 * A time of the body: RFC 3339, "now", or a duration back from now
 * ("24h", "-90m", "7d", "3600s", "3600"). -1 when it is none of those.
 */
static int64_t
bt_time(const char *s, int64_t now)
{
	long long n;
	char	 *end;
	int64_t	  mul = 1000;

	if (s == NULL)
		return -1;
	if (strcmp(s, "now") == 0)
		return now;
	if (strchr(s, 'T') != NULL)
		return hx_parse_rfc3339_ms(s);
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	n = strtoll(s, &end, 10);
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else if (strcmp(end, "d") == 0)
		mul = 86400000;
	else
		return -1;
	if (n < 0 || n > 3660LL * 86400)
		return -1;
	return now - (int64_t)n * mul;
}

/* One series the caller may read that the rule matches. */
struct bt_series {
	char *name; /* as the caller reads it */
	char *stored;
	char *target;
};

struct bt_list {
	const struct bt		   *b;
	const struct hx_alert_rule *rule;
	const char		   *host;
	struct bt_series	   *v;
	size_t			    n;
};

static int
bt_list_cb(const struct hx_tsdb_series_info *s, void *arg)
{
	struct bt_list *l = arg;
	const char     *rest, *colon;
	char	       *name = NULL, *target = NULL;
	size_t		i;

	if (strncmp(s->name, "node:", 5) == 0) {
		if (!l->b->node_ok)
			return 0;
		name = xstrdup(s->name);
		target = xasprintf("node:%s", l->host);
	} else if (strncmp(s->name, "vm:", 3) == 0) {
		rest = s->name + 3;
		if ((colon = strchr(rest, ':')) == NULL)
			return 0;
		for (i = 0; i < l->b->nvms; i++) {
			if (strlen(l->b->vms[i].uuid) ==
				(size_t)(colon - rest) &&
			    strncmp(l->b->vms[i].uuid, rest,
				(size_t)(colon - rest)) == 0)
				break;
		}
		if (i == l->b->nvms)
			return 0;
		name = xasprintf("vm:%s%s", l->b->vms[i].name, colon);
		target = xasprintf("vm:%s", l->b->vms[i].name);
	} else
		return 0;
	if (!hx_alert_glob(l->rule->series, name) || l->n >= BT_MAX_SERIES) {
		free(name);
		free(target);
		return 0;
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n].name = name;
	l->v[l->n].stored = xstrdup(s->name);
	l->v[l->n].target = target;
	l->n++;
	return 0;
}

struct bt_walk {
	const struct hx_alert_rule *rule;
	struct hx_alert_track	    t;
	const struct bt_series	   *s;
	json_t			   *episodes;
	json_t			   *open; /* the episode firing now */
};

static json_t *
bt_ts(int64_t ms)
{
	char buf[40];

	if (hx_rfc3339_ms(ms, buf, sizeof buf) != 0)
		return json_null();
	return json_string(buf);
}

static int
bt_point(const struct hx_tsdb_point *p, void *arg)
{
	struct bt_walk *w = arg;

	switch (hx_alert_feed(w->rule, &w->t, p->v, p->t)) {
	case HX_ALERT_FIRED:
		w->open = json_pack("{s:s,s:s,s:o,s:n,s:o}", "target",
		    w->s->target, "series", w->s->name, "start", bt_ts(p->t),
		    "end", "peak", hx_json_real(w->t.peak, 2));
		json_array_append(w->episodes, w->open);
		break;
	case HX_ALERT_RESOLVED:
		json_object_set_new(w->open, "end", bt_ts(p->t));
		json_object_set_new(w->open, "peak",
		    hx_json_real(w->t.peak, 2));
		json_decref(w->open);
		w->open = NULL;
		break;
	default:
		if (w->open != NULL)
			json_object_set_new(w->open, "peak",
			    hx_json_real(w->t.peak, 2));
		break;
	}
	return 0;
}

static int
by_start(const void *a, const void *b)
{
	const char *x = json_string_value(
	    json_object_get(*(json_t *const *)a, "start"));
	const char *y = json_string_value(
	    json_object_get(*(json_t *const *)b, "start"));

	return strcmp(x ? x : "", y ? y : "");
}

void
job_alert_backtest(struct job *j, const struct worker_env *env)
{
	static const char *const tiers[] = { "raw", "minute", "hour" };
	const struct bt		*b = j->ctx;
	struct hx_alert_rule	 rule;
	struct bt_list		 l;
	struct bt_walk		 w;
	enum hx_tsdb_tier	 tier;
	const char		*field;
	json_t			*eps, *sorted, *rj, *v;
	json_t		       **arr;
	char			 host[256], *err = NULL;
	int64_t			 from, to;
	size_t			 i, n;
	int			 rc;

	if (b->unknown) {
		job_error(j, 404, "NOT_FOUND", "no such alert rule");
		return;
	}
	if (b->rule == NULL) {
		j->status = 422;
		j->reply = json_pack("{s:s,s:s,s:s}", "error",
		    "VALIDATION_ERROR", "message",
		    "'rule': a rule name or a rule object is required", "field",
		    "rule");
		return;
	}
	rj = json_deep_copy(b->rule);
	if (json_is_object(rj) && json_object_get(rj, "name") == NULL)
		json_object_set_new(rj, "name", json_string("backtest"));
	rc = hx_alert_rule_parse(rj, NULL, &rule, &field, &err);
	json_decref(rj);
	if (rc != 0 || rule.series == NULL) {
		j->status = 422;
		j->reply = json_pack("{s:s,s:s,s:s}", "error",
		    "VALIDATION_ERROR", "message",
		    err ? err :
			  "'status_of': the history keeps no statuses: only a "
			  "series rule can be backtested",
		    "field", rc != 0 ? field : "status_of");
		free(err);
		if (rc == 0)
			hx_alert_rule_release(&rule);
		return;
	}
	v = json_object_get(j->body, "since");
	from = bt_time(json_string_value(v), b->now_ms);
	v = json_object_get(j->body, "until");
	to = v == NULL ? b->now_ms : bt_time(json_string_value(v), b->now_ms);
	if (from < 0 || to < 0 || from >= to) {
		j->status = 422;
		j->reply = json_pack("{s:s,s:s,s:s}", "error",
		    "VALIDATION_ERROR", "message",
		    "'since' and 'until' must be RFC 3339 times or durations "
		    "back from now (24h, 90m, 7d), since before until",
		    "field", from < 0 ? "since" : "until");
		hx_alert_rule_release(&rule);
		return;
	}
	tier = from >= b->now_ms - b->keep_ms[0] ? HX_TSDB_RAW :
	    from >= b->now_ms - b->keep_ms[1]	 ? HX_TSDB_MINUTE :
						   HX_TSDB_HOUR;
	if (gethostname(host, sizeof host - 1) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	memset(&l, 0, sizeof l);
	l.b = b;
	l.rule = &rule;
	l.host = host;
	if (hx_tsdb_list(env->tsdb, NULL, bt_list_cb, &l, &err) != HX_TSDB_OK) {
		log_error("backtest: cannot list series: %s", err);
		free(err);
		err = NULL;
	}
	eps = json_array();
	for (i = 0; i < l.n; i++) {
		memset(&w, 0, sizeof w);
		w.rule = &rule;
		w.t.peak = NAN;
		w.s = &l.v[i];
		w.episodes = eps;
		if (hx_tsdb_query(env->tsdb, l.v[i].stored, tier, from, to,
			bt_point, &w, &err) != HX_TSDB_OK) {
			log_debug("backtest: '%s': %s", l.v[i].stored, err);
			free(err);
			err = NULL;
		}
		json_decref(w.open);
		free(l.v[i].name);
		free(l.v[i].stored);
		free(l.v[i].target);
	}
	free(l.v);
	/* Oldest first, across series. */
	n = json_array_size(eps);
	arr = xcalloc(n + 1, sizeof *arr);
	for (i = 0; i < n; i++)
		arr[i] = json_array_get(eps, i);
	qsort(arr, n, sizeof *arr, by_start);
	sorted = json_array();
	for (i = 0; i < n; i++)
		json_array_append(sorted, arr[i]);
	free(arr);
	json_decref(eps);
	j->status = 200;
	j->reply = json_pack("{s:o,s:o,s:o,s:s,s:o}", "rule",
	    hx_alert_rule_json(&rule), "from", bt_ts(from), "to", bt_ts(to),
	    "tier", tiers[tier], "episodes", sorted);
	hx_alert_rule_release(&rule);
}
