/*
 * cmd-alert.c - alerts (DESIGN §9) from the command line: the episodes
 * (alert list/show/ack), the rules (alert rule list/add/modify/delete)
 * and the backtest (alert test), which shows when a rule would have
 * fired over the stored history before it pages anyone.
 *
 * The daemon validates every rule and answers 422 naming the field; this
 * file only builds the rule's JSON from flags (or a file), prints the
 * answers as tables with local times, or passes the daemon's JSON on. It
 * keeps no state and evaluates nothing. There is no GET of one alert, so
 * `alert show` picks it out of the list of every alert the caller may see.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "hx-proto.h"

/* Rule and body documents read from a file or standard input. */
#define RULE_FILE_MAX (64 * 1024)

/* "2026-12-05 14:03:07" in local time from an RFC 3339 field; or "-". */
static const char *
jtime(const json_t *o, const char *key, char *buf, size_t len)
{
	const char *s = jstr(o, key);
	int64_t	    ms;
	time_t	    t;
	struct tm   tm;

	if (s == NULL || (ms = hx_parse_rfc3339_ms(s)) < 0)
		return "-";
	t = (time_t)(ms / 1000);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return s;
	return buf;
}

/* A number as written in a rule (80, 0.5, 12.25); "-" when absent. */
static const char *
jfig(const json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return "-";
	snprintf(buf, len, "%.10g", json_number_value(v));
	return buf;
}

/* /api/alerts/rules[/NAME], NAME escaped. Caller frees. */
static char *
rule_path(const char *name)
{
	char *n, *p;

	if (name == NULL)
		return xstrdup("/api/alerts/rules");
	n = hx_url_escape(name);
	p = xasprintf("/api/alerts/rules/%s", n);
	free(n);
	return p;
}

/* --- alerts ----------------------------------------------------------------*/

static const char *const alert_states[] = { "firing", "resolved", "all", NULL };

int
cmd_alert_list(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	const char   *state = cmd_flag(e, a, "state");
	struct table *t;
	json_t	     *r, *v;
	size_t	      i;
	char	      b1[32], b2[32], path[64];
	int	      rc, k;

	if (state == NULL)
		state = "firing";
	for (k = 0; alert_states[k] != NULL; k++)
		if (strcmp(alert_states[k], state) == 0)
			break;
	if (alert_states[k] == NULL)
		return cli_usage(e,
		    "--state: '%s' is not firing, resolved or "
		    "all",
		    state);
	snprintf(path, sizeof path, "/api/alerts?state=%s", state);
	if ((rc = cli_api(cli, "GET", path, NULL, &r, "list the alerts")) !=
	    CLI_OK)
		return rc;
	if (cli->out == OUT_JSON) {
		out_json(r);
		json_decref(r);
		return CLI_OK;
	}
	t = table_new((const char *const[]){ "ID", "SEVERITY", "RULE", "TARGET",
	    "STATE", "VALUE", "SINCE", "ACKED BY", NULL });
	json_array_foreach(json_object_get(r, "alerts"), i, v)
		table_add(t, jstr(v, "alert_id"), jstr(v, "severity"),
		    jstr(v, "rule_name"), jstr(v, "target"), jstr(v, "state"),
		    jfig(v, "value", b1, sizeof b1),
		    jtime(v, "started_at", b2, sizeof b2), jstr(v, "acked_by"));
	table_print_free(cli, t);
	json_decref(r);
	return CLI_OK;
}

static void
alert_kv(struct cli *cli, const json_t *v)
{
	struct kv *kv = kv_new();
	char	   b[40];

	kv_add(kv, "ID", "%s", jstr(v, "alert_id") ? jstr(v, "alert_id") : "-");
#define S(k, f) kv_add(kv, k, "%s", jstr(v, f) ? jstr(v, f) : "-")
	S("Rule", "rule_name");
	S("Severity", "severity");
	S("Target", "target");
	S("State", "state");
	S("Series", "series");
	S("Message", "message");
#undef S
	kv_add(kv, "Value", "%s", jfig(v, "value", b, sizeof b));
	kv_add(kv, "Threshold", "%s", jfig(v, "threshold", b, sizeof b));
	kv_add(kv, "Peak", "%s", jfig(v, "peak", b, sizeof b));
	kv_add(kv, "Started", "%s", jtime(v, "started_at", b, sizeof b));
	kv_add(kv, "Resolved", "%s", jtime(v, "resolved_at", b, sizeof b));
	kv_add(kv, "Acked by", "%s",
	    jstr(v, "acked_by") ? jstr(v, "acked_by") : "-");
	kv_add(kv, "Acked at", "%s", jtime(v, "acked_at", b, sizeof b));
	kv_add(kv, "Comment", "%s",
	    jstr(v, "comment") ? jstr(v, "comment") : "-");
	kv_print_free(cli, kv);
}

int
cmd_alert_show(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	json_t	   *r, *v, *found = NULL;
	const char *id = a->argv[0];
	size_t	    i;
	int	    rc;

	(void)e;
	if ((rc = cli_api(cli, "GET", "/api/alerts?state=all", NULL, &r,
		 "show alert '%s'", id)) != CLI_OK)
		return rc;
	json_array_foreach(json_object_get(r, "alerts"), i, v) {
		if (jstr(v, "alert_id") != NULL &&
		    strcmp(jstr(v, "alert_id"), id) == 0)
			found = v;
	}
	if (found == NULL) {
		cli_error("cannot show alert '%s': alert not found", id);
		json_decref(r);
		return CLI_ERR;
	}
	if (cli->out == OUT_JSON)
		out_json(found);
	else
		alert_kv(cli, found);
	json_decref(r);
	return CLI_OK;
}

int
cmd_alert_ack(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	const char *comment = cmd_flag(e, a, "comment");
	json_t	   *body = json_object(), *r;
	char	   *id = hx_url_escape(a->argv[0]), *path;
	int	    rc;

	if (comment != NULL)
		json_object_set_new(body, "comment", json_string(comment));
	path = xasprintf("/api/alerts/%s/ack", id);
	rc = cli_api(cli, "POST", path, body, &r, "acknowledge alert '%s'",
	    a->argv[0]);
	free(path);
	free(id);
	json_decref(body);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(r);
	else
		printf("acknowledged alert '%s'\n", a->argv[0]);
	json_decref(r);
	return CLI_OK;
}

/* --- rules -----------------------------------------------------------------*/

/* "> 90 for 300s, clear 85" or "equals crashed for 0s". Caller frees. */
static char *
rule_condition(const json_t *r)
{
	char  t[32], c[32], f[32];
	char *s;

	jnum(r, "for_seconds", f, sizeof f);
	if (jstr(r, "status_of") != NULL)
		return xasprintf("equals %s for %ss",
		    jstr(r, "equals") ? jstr(r, "equals") : "?", f);
	s = xasprintf("%s %s for %ss", jstr(r, "op") ? jstr(r, "op") : "?",
	    jfig(r, "threshold", t, sizeof t), f);
	if (json_is_number(json_object_get(r, "clear_threshold"))) {
		char *w = xasprintf("%s, clear %s", s,
		    jfig(r, "clear_threshold", c, sizeof c));

		free(s);
		s = w;
	}
	return s;
}

int
cmd_alert_rule_list(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	struct table *t;
	json_t	     *r, *v;
	size_t	      i;
	char	     *cond, *notify, b[32];
	int	      rc;

	(void)e;
	(void)a;
	if ((rc = cli_api(cli, "GET", "/api/alerts/rules", NULL, &r,
		 "list the alert rules")) != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON) {
		out_json(r);
		json_decref(r);
		return CLI_OK;
	}
	t = table_new((const char *const[]){ "NAME", "ON", "CONDITION",
	    "SEVERITY", "ENABLED", "NOTIFY", "SILENCED UNTIL", NULL });
	json_array_foreach(json_object_get(r, "rules"), i, v) {
		cond = rule_condition(v);
		notify = jjoin(v, "notify", ",");
		table_add(t, jstr(v, "name"),
		    jstr(v, "series") ? jstr(v, "series") :
					jstr(v, "status_of"),
		    cond, jstr(v, "severity"),
		    json_is_false(json_object_get(v, "enabled")) ? "no" : "yes",
		    notify, jtime(v, "silence_until", b, sizeof b));
		free(cond);
		free(notify);
	}
	table_print_free(cli, t);
	json_decref(r);
	return CLI_OK;
}

/*
 * A JSON document from FILE, or standard input for "-". Returns it (the
 * caller json_decref()s it), or NULL after printing why.
 */
static json_t *
read_json_file(const char *file, const char *what)
{
	json_error_t jerr;
	json_t	    *o;
	char	    *text;
	size_t	     len;

	if (strcmp(file, "-") == 0)
		o = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
	else if ((text = hx_read_file(file, RULE_FILE_MAX, &len)) == NULL) {
		cli_error("cannot %s: cannot read '%s': %s", what, file,
		    strerror(errno));
		return NULL;
	} else {
		o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		free(text);
	}
	if (o == NULL)
		cli_error("cannot %s: '%s' is not JSON: line %d: %s", what,
		    file, jerr.line, jerr.text);
	else if (!json_is_object(o)) {
		cli_error("cannot %s: '%s' is not a JSON object", what, file);
		json_decref(o);
		o = NULL;
	}
	return o;
}

/*
 * A duration as whole seconds: "300", "90s", "5m", "2h", "1d". Returns
 * 0, or -1 when v is none of them.
 */
static int
parse_seconds(const char *v, long long *out)
{
	static const struct {
		char	  unit;
		long long mul;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 } };
	size_t	  len = strlen(v), i;
	char	 *num;
	long long n, mul = 1;
	int	  ok;

	if (len == 0)
		return -1;
	for (i = 0; i < HX_ARRAY_SIZE(units); i++)
		if (v[len - 1] == units[i].unit) {
			mul = units[i].mul;
			len--;
		}
	num = xstrndup(v, len);
	ok = num[0] >= '0' && num[0] <= '9' &&
	    hx_parse_ll(num, 0, 366LL * 86400, &n) == 0 &&
	    n <= 366LL * 86400 / mul;
	free(num);
	if (!ok)
		return -1;
	*out = n * mul;
	return 0;
}

/* A number flag: strict, finite. Returns 0, or -1. */
static int
parse_number(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	return *v == '\0' || *end != '\0' || errno != 0 || !isfinite(*out) ?
	    -1 :
	    0;
}

/* "none" in a flag that may clear a field. */
static int
is_none(const char *v)
{
	return strcmp(v, "none") == 0 || *v == '\0';
}

/*
 * Apply the rule flags of e to the rule object o. A series flag drops the
 * status fields and the reverse, so `rule modify --status-of` turns a rule
 * into a status rule. Returns CLI_OK or a usage error's code.
 */
static int
rule_apply_flags(const struct cmd_entry *e, struct cmd_args *a, json_t *o)
{
	static const char *const series_keys[] = { "series", "op", "threshold",
		"clear_threshold", NULL };
	static const char *const status_keys[] = { "status_of", "equals",
		NULL };
	const char		*v;
	char		       **all;
	json_t			*n;
	long long		 secs;
	double			 d;
	size_t			 i;
	char			 ts[40];

	if (cmd_flag(e, a, "series") != NULL || cmd_flag(e, a, "op") != NULL ||
	    cmd_flag(e, a, "threshold") != NULL ||
	    cmd_flag(e, a, "clear") != NULL) {
		if (cmd_flag(e, a, "status-of") != NULL ||
		    cmd_flag(e, a, "equals") != NULL)
			return cli_usage(e,
			    "a rule is on a series (--series, --op, "
			    "--threshold, --clear) or on a status "
			    "(--status-of, --equals), not both");
		for (i = 0; status_keys[i] != NULL; i++)
			json_object_del(o, status_keys[i]);
	}
	if (cmd_flag(e, a, "status-of") != NULL ||
	    cmd_flag(e, a, "equals") != NULL) {
		for (i = 0; series_keys[i] != NULL; i++)
			json_object_del(o, series_keys[i]);
	}
	if ((v = cmd_flag(e, a, "series")) != NULL)
		json_object_set_new(o, "series", json_string(v));
	if ((v = cmd_flag(e, a, "op")) != NULL)
		json_object_set_new(o, "op", json_string(v));
	if ((v = cmd_flag(e, a, "threshold")) != NULL) {
		if (parse_number(v, &d) != 0)
			return cli_usage(e, "--threshold: '%s' is not a number",
			    v);
		json_object_set_new(o, "threshold", json_real(d));
	}
	if ((v = cmd_flag(e, a, "clear")) != NULL) {
		if (is_none(v))
			json_object_set_new(o, "clear_threshold", json_null());
		else if (parse_number(v, &d) != 0)
			return cli_usage(e,
			    "--clear: '%s' is not a number or "
			    "none",
			    v);
		else
			json_object_set_new(o, "clear_threshold", json_real(d));
	}
	if ((v = cmd_flag(e, a, "for")) != NULL) {
		if (parse_seconds(v, &secs) != 0)
			return cli_usage(e,
			    "--for: '%s' is not a duration "
			    "(300, 90s, 5m, 2h, 1d)",
			    v);
		json_object_set_new(o, "for_seconds", json_integer(secs));
	}
	if ((v = cmd_flag(e, a, "severity")) != NULL)
		json_object_set_new(o, "severity", json_string(v));
	if ((v = cmd_flag(e, a, "status-of")) != NULL)
		json_object_set_new(o, "status_of", json_string(v));
	if ((v = cmd_flag(e, a, "equals")) != NULL)
		json_object_set_new(o, "equals", json_string(v));
	if ((v = cmd_flag(e, a, "enabled")) != NULL) {
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
			json_object_set_new(o, "enabled", json_true());
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
			json_object_set_new(o, "enabled", json_false());
		else
			return cli_usage(e, "--enabled: '%s' is not yes or no",
			    v);
	}
	if (cmd_flag_count(e, a, "notify") > 0) {
		n = json_array();
		for (all = cmd_flag_all(e, a, "notify"); *all != NULL; all++)
			if (!is_none(*all))
				json_array_append_new(n, json_string(*all));
		json_object_set_new(o, "notify", n);
	}
	if ((v = cmd_flag(e, a, "silence-until")) != NULL) {
		if (is_none(v))
			json_object_set_new(o, "silence_until", json_null());
		else if (parse_seconds(v, &secs) == 0 && v[0] != '\0' &&
		    strchr("smhdw", v[strlen(v) - 1]) != NULL) {
			/* An age from now: "2h" silences for two hours. */
			if (hx_rfc3339_ms(hx_wall_ms() + secs * 1000, ts,
				sizeof ts) != 0)
				return cli_usage(e, "--silence-until: '%s'", v);
			json_object_set_new(o, "silence_until",
			    json_string(ts));
		} else if (hx_parse_rfc3339_ms(v) >= 0)
			json_object_set_new(o, "silence_until", json_string(v));
		else
			return cli_usage(e,
			    "--silence-until: '%s' is not RFC 3339, "
			    "a duration from now (30m, 2h, 1d) or none",
			    v);
	}
	return CLI_OK;
}

/* Print the rule the daemon stored (the answer), or a line. */
static void
rule_print(struct cli *cli, json_t *r, const char *done, const char *name)
{
	if (cli->out == OUT_JSON && r != NULL)
		out_json(r);
	else
		printf("%s alert rule '%s'\n", done, name);
}

int
cmd_alert_rule_add(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	const char *file = cmd_flag(e, a, "file");
	const char *name = a->argv[0];
	json_t	   *o, *r = NULL;
	char	   *what = xasprintf("add alert rule '%s'", name);
	int	    rc;

	if (file != NULL)
		o = read_json_file(file, what);
	else
		o = json_object();
	if (o == NULL) {
		free(what);
		return CLI_ERR;
	}
	json_object_set_new(o, "name", json_string(name));
	if ((rc = rule_apply_flags(e, a, o)) == CLI_OK)
		rc = cli_api(cli, "POST", "/api/alerts/rules", o, &r, "%s",
		    what);
	if (rc == CLI_OK)
		rule_print(cli, r, "added", name);
	json_decref(r);
	json_decref(o);
	free(what);
	return rc;
}

int
cmd_alert_rule_modify(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	const char *file = cmd_flag(e, a, "file");
	const char *name = a->argv[0];
	json_t	   *o = NULL, *f, *r = NULL;
	char	   *what = xasprintf("modify alert rule '%s'", name);
	char	   *path = rule_path(name);
	int	    rc;

	/* The stored rule, the file's fields over it, then the flags. */
	rc = cli_api(cli, "GET", path, NULL, &o, "%s", what);
	if (rc == CLI_OK && file != NULL) {
		if ((f = read_json_file(file, what)) == NULL)
			rc = CLI_ERR;
		else {
			if (json_object_get(f, "status_of") != NULL) {
				json_object_del(o, "series");
				json_object_del(o, "op");
				json_object_del(o, "threshold");
				json_object_del(o, "clear_threshold");
			} else if (json_object_get(f, "series") != NULL) {
				json_object_del(o, "status_of");
				json_object_del(o, "equals");
			}
			json_object_update(o, f);
			json_decref(f);
		}
	}
	if (rc == CLI_OK)
		rc = rule_apply_flags(e, a, o);
	if (rc == CLI_OK)
		rc = cli_api(cli, "PUT", path, o, &r, "%s", what);
	if (rc == CLI_OK)
		rule_print(cli, r, "modified", name);
	json_decref(r);
	json_decref(o);
	free(path);
	free(what);
	return rc;
}

int
cmd_alert_rule_delete(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	char *path = rule_path(a->argv[0]);
	int   rc;

	(void)e;
	rc = cli_api(cli, "DELETE", path, NULL, NULL, "delete alert rule '%s'",
	    a->argv[0]);
	free(path);
	if (rc == CLI_OK && cli->out != OUT_JSON)
		printf("deleted alert rule '%s'\n", a->argv[0]);
	return rc;
}

/* --- backtest --------------------------------------------------------------*/

int
cmd_alert_test(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	const char   *arg = a->argv[0];
	const char   *since = cmd_flag(e, a, "since");
	const char   *until = cmd_flag(e, a, "until");
	struct table *t;
	json_error_t  jerr;
	json_t	     *rule, *body, *r, *v;
	size_t	      i;
	char	      b1[32], b2[32], b3[32];
	int	      rc;

	if (strcmp(arg, "-") == 0) {
		if ((rule = read_json_file("-", "test the rule")) == NULL)
			return CLI_ERR;
	} else if (arg[0] == '{') {
		if ((rule = json_loads(arg, JSON_REJECT_DUPLICATES, &jerr)) ==
		    NULL)
			return cli_usage(e, "the rule is not JSON: %s",
			    jerr.text);
	} else
		rule = json_string(arg);
	body = json_pack("{s:o,s:s}", "rule", rule, "since",
	    since != NULL ? since : "24h");
	if (until != NULL)
		json_object_set_new(body, "until", json_string(until));
	rc = cli_api(cli, "POST", "/api/alerts/backtest", body, &r,
	    "test the rule");
	json_decref(body);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON) {
		out_json(r);
		json_decref(r);
		return CLI_OK;
	}
	if (cli->out != OUT_CSV)
		printf("%zu episode%s from %s to %s (%s points)\n",
		    json_array_size(json_object_get(r, "episodes")),
		    json_array_size(json_object_get(r, "episodes")) == 1 ? "" :
									   "s",
		    jtime(r, "from", b1, sizeof b1),
		    jtime(r, "to", b2, sizeof b2),
		    jstr(r, "tier") ? jstr(r, "tier") : "?");
	t = table_new(
	    (const char *const[]){ "TARGET", "START", "END", "PEAK", NULL });
	json_array_foreach(json_object_get(r, "episodes"), i, v)
		table_add(t, jstr(v, "target"),
		    jtime(v, "start", b1, sizeof b1),
		    json_is_null(json_object_get(v, "end")) ?
			"(firing)" :
			jtime(v, "end", b2, sizeof b2),
		    jfig(v, "peak", b3, sizeof b3));
	table_print_free(cli, t);
	json_decref(r);
	return CLI_OK;
}
