/*
 * hx-alert.c - alert rules: parsing and validation, globs and which rule
 * applies, the pending/firing/resolved machine, and the walk of a sample's
 * series (see hx-alert.h). Pure: it never prints, sleeps or reads a clock.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-alert.h"
#include "hx-proto.h"
#include "hx-util.h"

static const char *const op_names[] = { ">", ">=", "<", "<=" };
static const char *const severities[] = { "info", "warning", "critical" };
static const char *const statuses[] = { "running", "stopped", "paused",
	"shutdown", "crashed", "suspended", "unknown" };

const char *
hx_alert_op_name(int op)
{
	return op >= 0 && op < 4 ? op_names[op] : "?";
}

int
hx_alert_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) > HX_ALERT_NAME_MAX)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '.' || s[i] == '-'))
			return 0;
	}
	return 1;
}

int
hx_alert_status_known(const char *word)
{
	size_t i;

	for (i = 0; i < HX_ARRAY_SIZE(statuses); i++) {
		if (strcmp(statuses[i], word) == 0)
			return 1;
	}
	return 0;
}

/* --- globs ----------------------------------------------------------------- */

int
hx_alert_glob(const char *p, const char *s)
{
	const char *star = NULL, *mark = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p == '?' || *p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++mark;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int
hx_alert_wildcards(const char *pat)
{
	int n = 0;

	for (; pat != NULL && *pat != '\0'; pat++)
		n += *pat == '*' || *pat == '?';
	return n;
}

/* Does glob g match some series field name of fields[]? */
static int
field_glob_known(const char *g, const struct hx_field *fields, size_t n,
    int arrays)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(fields[i].flags & HX_F_SERIES))
			continue;
		if ((fields[i].ctype == HX_C_DOUBLES ||
			fields[i].ctype == HX_C_DARRAY) != arrays)
			continue;
		if (hx_alert_glob(g, fields[i].name))
			return 1;
	}
	return 0;
}

/* Is every character of s a digit or a wildcard (an index glob)? */
static int
index_glob(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!(*s == '*' || *s == '?' || (*s >= '0' && *s <= '9')))
			return 0;
	}
	return 1;
}

int
hx_alert_series_known(const char *glob)
{
	const struct hx_event_info *node = &hx_events[HX_EV_NODE_METRICS];
	const struct hx_event_info *vm = &hx_events[HX_EV_VM_METRICS];
	const char		   *rest, *last;
	char			   *head;
	size_t			    i;
	int			    ok = 0;

	if (glob == NULL || strlen(glob) > 512)
		return 0;
	if (strncmp(glob, "vm:", 3) == 0) {
		/* vm:NAME:FIELD; the name may be any glob, even hold ':'. */
		rest = glob + 3;
		if ((last = strrchr(rest, ':')) == NULL || last == rest)
			return 0;
		return field_glob_known(last + 1, vm->fields, vm->nfields, 0);
	}
	if (strncmp(glob, "node:", 5) != 0)
		return 0;
	rest = glob + 5;
	if (*rest == '\0')
		return 0;
	/* node:FIELD */
	if (strchr(rest, ':') == NULL)
		return field_glob_known(rest, node->fields, node->nfields, 0);
	last = strrchr(rest, ':');
	head = xstrndup(rest, (size_t)(last - rest));
	/* node:cpu_per_core:N, node:load_average:1 */
	if (strchr(head, ':') == NULL && index_glob(last + 1) &&
	    field_glob_known(head, node->fields, node->nfields, 1))
		ok = 1;
	/* node:disk:MOUNT:FIELD (a mount may hold ':' too) */
	for (i = 0; !ok && i < node->nfields; i++) {
		const struct hx_array *a = node->fields[i].array;

		if (node->fields[i].ctype != HX_C_ARRAY ||
		    strcmp(node->fields[i].name, "disks") != 0)
			continue;
		if ((strncmp(head, "disk:", 5) == 0 && head[5] != '\0') ||
		    strcmp(head, "*") == 0)
			ok = field_glob_known(last + 1, a->fields + 1,
			    a->nfields - 1, 0);
	}
	free(head);
	return ok;
}

/* --- which rule applies ---------------------------------------------------- */

static const char *
rule_pattern(const struct hx_alert_rule *r)
{
	return r->series != NULL ? r->series : r->status_of;
}

/* <0 when pattern a is narrower than b: fewer wildcards, then more literals. */
static int
narrower(const char *a, const char *b)
{
	int wa = hx_alert_wildcards(a), wb = hx_alert_wildcards(b);

	if (wa != wb)
		return wa - wb;
	return (int)(strlen(b) - (size_t)wb) - (int)(strlen(a) - (size_t)wa);
}

int
hx_alert_applies(const struct hx_alert_rule *rules, size_t n, size_t i,
    const char *subject)
{
	const struct hx_alert_rule *r = &rules[i], *o;
	size_t			    k;

	if (!r->enabled || !hx_alert_glob(rule_pattern(r), subject))
		return 0;
	if (hx_alert_wildcards(rule_pattern(r)) == 0)
		return 1;
	for (k = 0; k < n; k++) {
		o = &rules[k];
		if (k == i || !o->enabled ||
		    (o->series == NULL) != (r->series == NULL) ||
		    strcmp(o->severity, r->severity) != 0)
			continue;
		if (narrower(rule_pattern(o), rule_pattern(r)) < 0 &&
		    hx_alert_glob(rule_pattern(o), subject))
			return 0;
	}
	return 1;
}

/* --- the state machine ----------------------------------------------------- */

int
hx_alert_holds(const struct hx_alert_rule *r, double v)
{
	if (isnan(v))
		return 0;
	switch (r->op) {
	case HX_ALERT_GT:
		return v > r->threshold;
	case HX_ALERT_GE:
		return v >= r->threshold;
	case HX_ALERT_LT:
		return v < r->threshold;
	default:
		return v <= r->threshold;
	}
}

int
hx_alert_cleared(const struct hx_alert_rule *r, double v)
{
	if (isnan(v))
		return 0;
	if (isnan(r->clear))
		return !hx_alert_holds(r, v);
	if (r->op == HX_ALERT_GT || r->op == HX_ALERT_GE)
		return v < r->clear;
	return v > r->clear;
}

enum hx_alert_change
hx_alert_step(const struct hx_alert_rule *r, struct hx_alert_track *t,
    int holds, int cleared, double v, int64_t now_ms)
{
	int high = r->op == HX_ALERT_GT || r->op == HX_ALERT_GE;

	t->value = v;
	switch (t->phase) {
	case HX_ALERT_IDLE:
		if (!holds)
			return HX_ALERT_NONE;
		t->phase = HX_ALERT_PENDING;
		t->pending_ms = now_ms;
		/* FALLTHROUGH */
	case HX_ALERT_PENDING:
		if (!holds) {
			t->phase = HX_ALERT_IDLE;
			return HX_ALERT_NONE;
		}
		if (now_ms - t->pending_ms < r->for_seconds * 1000 ||
		    r->silence_until_ms > now_ms)
			return HX_ALERT_NONE;
		t->phase = HX_ALERT_FIRING;
		t->peak = v;
		return HX_ALERT_FIRED;
	case HX_ALERT_FIRING:
		if (!isnan(v) &&
		    (isnan(t->peak) || (high ? v > t->peak : v < t->peak)))
			t->peak = v;
		if (!cleared)
			return HX_ALERT_NONE;
		t->phase = HX_ALERT_IDLE;
		return HX_ALERT_RESOLVED;
	}
	return HX_ALERT_NONE;
}

enum hx_alert_change
hx_alert_feed(const struct hx_alert_rule *r, struct hx_alert_track *t, double v,
    int64_t now_ms)
{
	if (isnan(v))
		return HX_ALERT_NONE;
	return hx_alert_step(r, t, hx_alert_holds(r, v), hx_alert_cleared(r, v),
	    v, now_ms);
}

/* --- rules as JSON --------------------------------------------------------- */

static int
bad(const char **field, char **err, const char *f, const char *msg)
{
	*field = f;
	*err = xasprintf("'%s': %s", f, msg);
	return -1;
}

static char *
opt_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static int
parse(json_t *o, const char *name, struct hx_alert_rule *r, const char **field,
    char **err)
{
	static const char *const keys[] = { "name", "series", "op", "threshold",
		"for_seconds", "clear_threshold", "severity", "enabled",
		"notify", "silence_until", "status_of", "equals" };
	const char		*key, *s;
	json_t			*v, *e;
	size_t			 i, k;

	if (!json_is_object(o))
		return bad(field, err, "rule", "must be a JSON object");
	json_object_foreach(o, key, v) {
		for (k = 0; k < HX_ARRAY_SIZE(keys); k++)
			if (strcmp(keys[k], key) == 0)
				break;
		if (k == HX_ARRAY_SIZE(keys)) {
			*field = "rule";
			*err = xasprintf("unknown field '%.64s'", key);
			return -1;
		}
	}
	v = json_object_get(o, "name");
	if (name != NULL && v != NULL &&
	    (!json_is_string(v) || strcmp(json_string_value(v), name) != 0))
		return bad(field, err, "name", "differs from the rule's path");
	if (name == NULL && !json_is_string(v))
		return bad(field, err, "name", "is required (a string)");
	r->name = xstrdup(name != NULL ? name : json_string_value(v));
	if (!hx_alert_name_ok(r->name))
		return bad(field, err, "name",
		    "must be 1 to 64 of A-Z a-z 0-9 _ . -");
	r->series = opt_str(o, "series");
	r->status_of = opt_str(o, "status_of");
	r->equals = opt_str(o, "equals");
	if ((json_object_get(o, "series") != NULL && r->series == NULL))
		return bad(field, err, "series", "must be a string");
	if (r->series != NULL && r->status_of != NULL)
		return bad(field, err, "status_of",
		    "a rule is on a series or on a status, not both");
	if (r->series == NULL && r->status_of == NULL)
		return bad(field, err, "series",
		    "is required (or status_of and equals)");
	r->clear = NAN;
	if (r->series != NULL) {
		if (!hx_alert_series_known(r->series))
			return bad(field, err, "series",
			    "names no known series (node:FIELD, "
			    "vm:NAME:FIELD, ...)");
		if (json_object_get(o, "equals") != NULL)
			return bad(field, err, "equals",
			    "belongs to a status rule");
		s = json_string_value(json_object_get(o, "op"));
		for (k = 0; s != NULL && k < 4; k++)
			if (strcmp(op_names[k], s) == 0)
				break;
		if (s == NULL || k == 4)
			return bad(field, err, "op",
			    "must be one of > >= < <=");
		r->op = (int)k;
		v = json_object_get(o, "threshold");
		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			return bad(field, err, "threshold",
			    "is required (a number)");
		r->threshold = json_number_value(v);
		v = json_object_get(o, "clear_threshold");
		if (v != NULL && !json_is_null(v)) {
			if (!json_is_number(v) ||
			    !isfinite(json_number_value(v)))
				return bad(field, err, "clear_threshold",
				    "must be a number");
			r->clear = json_number_value(v);
			if ((r->op <= HX_ALERT_GE && r->clear > r->threshold) ||
			    (r->op >= HX_ALERT_LT && r->clear < r->threshold))
				return bad(field, err, "clear_threshold",
				    "is on the wrong side of the threshold");
		}
	} else {
		if (strncmp(r->status_of, "vm:", 3) != 0 ||
		    r->status_of[3] == '\0')
			return bad(field, err, "status_of",
			    "must be vm:NAME or a glob (vm:*)");
		if (r->equals == NULL || !hx_alert_status_known(r->equals))
			return bad(field, err, "equals",
			    "must be a VM status (running, stopped, paused, "
			    "shutdown, crashed, suspended, unknown)");
		if (json_object_get(o, "op") != NULL ||
		    json_object_get(o, "threshold") != NULL ||
		    json_object_get(o, "clear_threshold") != NULL)
			return bad(field, err, "op",
			    "a status rule has no operator or threshold");
		r->op = HX_ALERT_GE;
		r->threshold = NAN;
	}
	v = json_object_get(o, "for_seconds");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 366 * 86400)
			return bad(field, err, "for_seconds",
			    "must be a whole number of seconds, 0 or more");
		r->for_seconds = (int64_t)json_integer_value(v);
	}
	v = json_object_get(o, "severity");
	s = v == NULL ? "warning" : json_string_value(v);
	for (k = 0; s != NULL && k < HX_ARRAY_SIZE(severities); k++)
		if (strcmp(severities[k], s) == 0)
			break;
	if (s == NULL || k == HX_ARRAY_SIZE(severities))
		return bad(field, err, "severity",
		    "must be info, warning or critical");
	r->severity = xstrdup(s);
	v = json_object_get(o, "enabled");
	if (v != NULL && !json_is_boolean(v))
		return bad(field, err, "enabled", "must be true or false");
	r->enabled = v == NULL || json_is_true(v);
	v = json_object_get(o, "notify");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_array(v) || json_array_size(v) > 32)
			return bad(field, err, "notify",
			    "must be a list of at most 32 target names");
		r->notify = xcalloc(json_array_size(v) + 1, sizeof(char *));
		json_array_foreach(v, i, e) {
			if (!hx_alert_name_ok(json_string_value(e)))
				return bad(field, err, "notify",
				    "a target name must be 1 to 64 of "
				    "A-Z a-z 0-9 _ . -");
			r->notify[r->nnotify++] = xstrdup(json_string_value(e));
		}
	}
	v = json_object_get(o, "silence_until");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    (r->silence_until_ms = hx_parse_rfc3339_ms(
			 json_string_value(v))) < 0) {
			r->silence_until_ms = 0;
			return bad(field, err, "silence_until",
			    "must be an RFC 3339 time or null");
		}
	}
	return 0;
}

int
hx_alert_rule_parse(json_t *o, const char *name, struct hx_alert_rule *r,
    const char **field, char **err)
{
	memset(r, 0, sizeof *r);
	*field = NULL;
	*err = NULL;
	if (parse(o, name, r, field, err) != 0) {
		hx_alert_rule_release(r);
		return -1;
	}
	return 0;
}

json_t *
hx_alert_rule_json(const struct hx_alert_rule *r)
{
	json_t *o = json_object(), *n = json_array();
	char	ts[40];
	size_t	i;

	json_object_set_new(o, "name", json_string(r->name));
	if (r->series != NULL) {
		json_object_set_new(o, "series", json_string(r->series));
		json_object_set_new(o, "op",
		    json_string(hx_alert_op_name(r->op)));
		json_object_set_new(o, "threshold", json_real(r->threshold));
		json_object_set_new(o, "clear_threshold",
		    isnan(r->clear) ? json_null() : json_real(r->clear));
	} else {
		json_object_set_new(o, "status_of", json_string(r->status_of));
		json_object_set_new(o, "equals", json_string(r->equals));
	}
	json_object_set_new(o, "for_seconds", json_integer(r->for_seconds));
	json_object_set_new(o, "severity", json_string(r->severity));
	json_object_set_new(o, "enabled", json_boolean(r->enabled));
	for (i = 0; i < r->nnotify; i++)
		json_array_append_new(n, json_string(r->notify[i]));
	json_object_set_new(o, "notify", n);
	if (r->silence_until_ms > 0 &&
	    hx_rfc3339_ms(r->silence_until_ms, ts, sizeof ts) == 0)
		json_object_set_new(o, "silence_until", json_string(ts));
	else
		json_object_set_new(o, "silence_until", json_null());
	return o;
}

void
hx_alert_rule_release(struct hx_alert_rule *r)
{
	size_t i;

	free(r->name);
	free(r->series);
	free(r->status_of);
	free(r->equals);
	free(r->severity);
	for (i = 0; i < r->nnotify; i++)
		free(r->notify[i]);
	free(r->notify);
	memset(r, 0, sizeof *r);
}

/* --- the series of a sample ------------------------------------------------ */

struct walk_to {
	hx_alert_series_fn fn;
	void		  *arg;
};

static void
walk_to(const char *name, const struct hx_field *f, double v, void *arg)
{
	struct walk_to *w = arg;

	(void)f;
	w->fn(name, v, w->arg);
}

void
hx_alert_walk(int is_node, const char *prefix, const void *base,
    hx_alert_series_fn fn, void *arg)
{
	struct walk_to w = { fn, arg };

	hx_proto_walk_series(is_node, prefix, base, walk_to, &w);
}
