/*
 * cmd-access.c - the access model beyond users: roles, privileges, ACL
 * entries and API keys.
 *
 * Every command is one REST call except `role show`, `role modify
 * --append` and `privilege list`, which read the role list (the API has no
 * per-role GET) and, for the privilege names, lib/hx-priv's table, the
 * same one the daemon checks; privilege words are matched to it in any
 * case, with the closest name suggested for a typo. An API key is printed
 * once, with the daemon's warning on stderr. `audit` reads the audit log
 * with the API's filters.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hx-proto.h"

#include "cli.h"
#include "hx-priv.h"

/* --- roles and privileges ------------------------------------------------- */

static void
role_row(struct table *t, const json_t *r)
{
	char *privs = jjoin(r, "privileges", ",");

	table_add(t, jstr(r, "name"), jstr(r, "scope"),
	    json_is_true(json_object_get(r, "builtin")) ? "built-in" : "custom",
	    privs);
	free(privs);
}

int
cmd_role_list(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct table *t;
	json_t	     *list, *r;
	size_t	      i;
	int	      rc;

	(void)e;
	(void)a;
	if ((rc = cli_api(cli, "GET", "/api/roles", NULL, &list,
		 "list the roles")) != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(list);
	else {
		t = table_new((const char *const[]){ "ROLE", "SCOPE", "TYPE",
		    "PRIVILEGES", NULL });
		json_array_foreach(list, i, r)
			role_row(t, r);
		table_print_free(cli, t);
	}
	json_decref(list);
	return CLI_OK;
}

int
cmd_role_show(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct kv *kv;
	json_t	  *list, *r, *found = NULL;
	size_t	   i;
	char	  *privs;
	int	   rc;

	(void)e;
	if ((rc = cli_api(cli, "GET", "/api/roles", NULL, &list,
		 "show role '%s'", a->argv[0])) != CLI_OK)
		return rc;
	json_array_foreach(list, i, r) {
		if (jstr(r, "name") != NULL &&
		    strcmp(jstr(r, "name"), a->argv[0]) == 0)
			found = r;
	}
	if (found == NULL) {
		cli_error("cannot show role '%s': no such role", a->argv[0]);
		rc = CLI_ERR;
	} else if (cli->out == OUT_JSON)
		out_json(found);
	else {
		kv = kv_new();
		privs = jjoin(found, "privileges", " ");
		kv_add(kv, "Role", "%s", jstr(found, "name"));
		kv_add(kv, "Scope", "%s",
		    jstr(found, "scope") ? jstr(found, "scope") : "-");
		kv_add(kv, "Type", "%s",
		    json_is_true(json_object_get(found, "builtin")) ?
			"built-in" :
			"custom");
		kv_add(kv, "Privileges", "%s", privs);
		free(privs);
		kv_print_free(cli, kv);
	}
	json_decref(list);
	return rc;
}

/* Edit distance of a and b ignoring case (short words: a row at a time). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, k, prev, cur, *row;

	if (la > 64 || lb > 64)
		return (size_t)-1;
	row = xcalloc(lb + 1, sizeof *row);
	for (k = 0; k <= lb; k++)
		row[k] = k;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (k = 1; k <= lb; k++) {
			cur = row[k];
			row[k] = prev +
			    (tolower((unsigned char)a[i - 1]) !=
				tolower((unsigned char)b[k - 1]));
			if (cur + 1 < row[k])
				row[k] = cur + 1;
			if (row[k - 1] + 1 < row[k])
				row[k] = row[k - 1] + 1;
			prev = cur;
		}
	}
	k = row[lb];
	free(row);
	return k;
}

/*
 * The privilege names of words as hx-priv spells them, in a JSON array:
 * "vmaudit" is VmAudit. A word that is no name in any case but close to
 * one is refused here, naming it; others go to the daemon as typed, for
 * its own "unknown privilege". Returns CLI_OK, or CLI_ERR after saying
 * why ("cannot WHAT: ...").
 */
static int
privs_json(char **words, int n, const char *what, json_t **out)
{
	const char *name, *best;
	size_t	    d, bestd;
	int	    i, b;

	*out = json_array();
	for (i = 0; i < n; i++) {
		best = NULL;
		bestd = (size_t)-1;
		for (b = 0; b < HX_PRIV_COUNT; b++) {
			name = hx_priv_name(1u << b);
			if ((d = distance(words[i], name)) < bestd) {
				bestd = d;
				best = name;
			}
		}
		if (bestd == 0)
			json_array_append_new(*out, json_string(best));
		else if (bestd <= 1 + strlen(best) / 4) {
			cli_error("cannot %s: unknown privilege '%s'; did you "
				  "mean '%s'?",
			    what, words[i], best);
			json_decref(*out);
			*out = NULL;
			return CLI_ERR;
		} else
			json_array_append_new(*out, json_string(words[i]));
	}
	return CLI_OK;
}

int
cmd_role_add(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	json_t *body, *privs, *r;
	char   *what = xasprintf("add role '%s'", a->argv[0]);
	int	rc;

	(void)e;
	rc = privs_json(a->argv + 1, a->argc - 1, what, &privs);
	free(what);
	if (rc != CLI_OK)
		return rc;
	body = json_pack("{s:s,s:o}", "name", a->argv[0], "privileges", privs);
	rc = cli_api(cli, "POST", "/api/roles", body, &r, "add role '%s'",
	    a->argv[0]);
	json_decref(body);
	if (rc == CLI_OK) {
		if (cli->out == OUT_JSON)
			out_json(r);
		else
			printf("added role '%s'\n", a->argv[0]);
	}
	json_decref(r);
	return rc;
}

int
cmd_role_modify(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	json_t *body, *privs, *list = NULL, *r, *p;
	char   *what = xasprintf("modify role '%s'", a->argv[0]), *n, *path;
	size_t	i, k;
	int	rc;

	rc = privs_json(a->argv + 1, a->argc - 1, what, &privs);
	if (rc == CLI_OK && cmd_flag_count(e, a, "append")) {
		/* The role's own, then the new ones (the daemon dedups). */
		if ((rc = cli_api(cli, "GET", "/api/roles", NULL, &list, "%s",
			 what)) != CLI_OK)
			json_decref(privs);
		json_array_foreach(list, i, r) {
			if (jstr(r, "name") == NULL ||
			    strcmp(jstr(r, "name"), a->argv[0]) != 0)
				continue;
			json_array_foreach(json_object_get(r, "privileges"), k,
			    p)
				json_array_append(privs, p);
		}
		json_decref(list);
	}
	free(what);
	if (rc != CLI_OK)
		return rc;
	n = hx_url_escape(a->argv[0]);
	path = xasprintf("/api/roles/%s", n);
	free(n);
	body = json_pack("{s:o}", "privileges", privs);
	rc = cli_api(cli, "PUT", path, body, &r, "modify role '%s'",
	    a->argv[0]);
	free(path);
	json_decref(body);
	if (rc == CLI_OK) {
		if (cli->out == OUT_JSON)
			out_json(r);
		else {
			n = jjoin(r, "privileges", " ");
			printf("modified role '%s': %s\n", a->argv[0], n);
			free(n);
		}
	}
	json_decref(r);
	return rc;
}

int
cmd_role_delete(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	char *n = hx_url_escape(a->argv[0]), *p;
	int   rc;

	(void)e;
	p = xasprintf("/api/roles/%s", n);
	free(n);
	rc = cli_api(cli, "DELETE", p, NULL, NULL, "delete role '%s'",
	    a->argv[0]);
	free(p);
	if (rc == CLI_OK && cli->out == OUT_TABLE)
		printf("deleted role '%s'\n", a->argv[0]);
	return rc;
}

int
cmd_privilege_list(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	struct table *t = NULL;
	json_t	     *roles, *out = json_array(), *r, *p, *holders;
	const char   *name;
	size_t	      i, k;
	int	      rc, bit;
	char	     *joined;

	(void)e;
	(void)a;
	if ((rc = cli_api(cli, "GET", "/api/roles", NULL, &roles,
		 "list the privileges")) != CLI_OK) {
		json_decref(out);
		return rc;
	}
	for (bit = 0; bit < HX_PRIV_COUNT; bit++) {
		name = hx_priv_name(1u << bit);
		holders = json_array();
		json_array_foreach(roles, i, r) {
			json_array_foreach(json_object_get(r, "privileges"), k,
			    p) {
				if (json_is_string(p) &&
				    strcmp(name, json_string_value(p)) == 0)
					json_array_append_new(holders,
					    json_string(jstr(r, "name")));
			}
		}
		json_array_append_new(out,
		    json_pack("{s:s,s:o}", "name", name, "roles", holders));
	}
	if (cli->out == OUT_JSON)
		out_json(out);
	else {
		t = table_new(
		    (const char *const[]){ "PRIVILEGE", "ROLES", NULL });
		json_array_foreach(out, i, r) {
			joined = jjoin(r, "roles", ",");
			table_add(t, jstr(r, "name"), joined);
			free(joined);
		}
		table_print_free(cli, t);
	}
	json_decref(out);
	json_decref(roles);
	return CLI_OK;
}

/* --- ACL ----------------------------------------------------------------- */

/* PATH itself or below it ("/" holds everything). */
static int
under(const char *path, const char *top)
{
	size_t n = strlen(top);

	if (strcmp(top, "/") == 0)
		return 1;
	return strncmp(path, top, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

int
cmd_acl_list(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct table *t;
	json_t	     *list, *sel, *x;
	size_t	      i;
	char	      b[16];
	int	      rc;

	(void)e;
	if ((rc = cli_api(cli, "GET", "/api/acl", NULL, &list,
		 "list the ACL")) != CLI_OK)
		return rc;
	sel = json_array();
	json_array_foreach(list, i, x) {
		if (a->argc == 0 ||
		    (jstr(x, "path") != NULL &&
			under(jstr(x, "path"), a->argv[0])))
			json_array_append(sel, x);
	}
	if (cli->out == OUT_JSON)
		out_json(sel);
	else {
		t = table_new((const char *const[]){ "PATH", "ROLE", "USER",
		    "PROPAGATE", NULL });
		json_array_foreach(sel, i, x)
			table_add(t, jstr(x, "path"), jstr(x, "role"),
			    jstr(x, "userid") ? jstr(x, "userid") :
						jstr(x, "user"),
			    jnum(x, "propagate", b, sizeof b));
		table_print_free(cli, t);
	}
	json_decref(sel);
	json_decref(list);
	return CLI_OK;
}

int
cmd_acl_grant(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	json_t *body, *r;
	int	rc;

	body = json_pack("{s:s,s:s,s:s,s:b}", "path", a->argv[0], "role",
	    a->argv[1], "user", a->argv[2], "propagate",
	    !cmd_flag_count(e, a, "no-propagate"));
	rc = cli_api(cli, "PUT", "/api/acl", body, &r,
	    "grant %s on %s to "
	    "'%s'",
	    a->argv[1], a->argv[0], a->argv[2]);
	json_decref(body);
	if (rc == CLI_OK) {
		if (cli->out == OUT_JSON)
			out_json(r);
		else
			printf("granted %s on %s to '%s'\n", a->argv[1],
			    a->argv[0], a->argv[2]);
	}
	json_decref(r);
	return rc;
}

int
cmd_acl_revoke(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	json_t *body;
	int	rc;

	(void)e;
	body = json_pack("{s:s,s:s,s:s}", "path", a->argv[0], "role",
	    a->argv[1], "user", a->argv[2]);
	rc = cli_api(cli, "DELETE", "/api/acl", body, NULL,
	    "revoke %s on %s "
	    "from '%s'",
	    a->argv[1], a->argv[0], a->argv[2]);
	json_decref(body);
	if (rc == CLI_OK && cli->out == OUT_TABLE)
		printf("revoked %s on %s from '%s'\n", a->argv[1], a->argv[0],
		    a->argv[2]);
	return rc;
}

/* --- API keys -------------------------------------------------------------- */

int
cmd_apikey_list(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct table *t;
	json_t	     *list, *k;
	size_t	      i;
	char	     *p, *roles;
	int	      rc;

	(void)e;
	if ((p = cli_user_path(cli, a->argc ? a->argv[0] : NULL, "api-keys",
		 NULL, &rc)) == NULL)
		return rc;
	if (a->argc == 0 &&
	    cli_local_trust_refused(cli,
		"list the API keys "
		"of 'root@local'",
		"has no API keys: keys belong to users; make "
		"one with 'horcrux-cli user add NAME --role ROLE', then "
		"'horcrux-cli apikey create NAME --name KEYNAME'",
		&rc)) {
		free(p);
		return rc;
	}
	rc = cli_api(cli, "GET", p, NULL, &list, "list the API keys of '%s'",
	    a->argc ? a->argv[0] : cli->me);
	free(p);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(list);
	else {
		t = table_new((const char *const[]){ "KEYID", "NAME", "ROLES",
		    "EXPIRES", "CREATED", "LAST-USED", NULL });
		json_array_foreach(list, i, k) {
			roles = json_is_array(json_object_get(k, "roles")) ?
			    jjoin(k, "roles", ",") :
			    xstrdup("(all)");
			table_add(t, jstr(k, "key_id"), jstr(k, "name"), roles,
			    jstr(k, "expires_at") ? jstr(k, "expires_at") :
						    "never",
			    jstr(k, "created_at"), jstr(k, "last_used_at"));
			free(roles);
		}
		table_print_free(cli, t);
	}
	json_decref(list);
	return CLI_OK;
}

int
cmd_apikey_create(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	const char *name = cmd_flag(e, a, "name");
	const char *days = cmd_flag(e, a, "expires");
	const char *user = a->argc ? a->argv[0] : NULL;
	long long   d = 0;
	struct kv  *kv;
	json_t	   *body, *k;
	char	   *p, *roles;
	int	    rc;

	if (days != NULL && hx_parse_ll(days, 1, 3650, &d) != 0)
		return cli_usage(e,
		    "--expires: '%s' is not a number of days "
		    "from 1 to 3650",
		    days);
	if ((p = cli_user_path(cli, user, "api-keys", NULL, &rc)) == NULL)
		return rc;
	if (user == NULL &&
	    cli_local_trust_refused(cli,
		"create an API key "
		"for 'root@local'",
		"can have no API keys: keys belong to users; "
		"make one with 'horcrux-cli user add NAME --role ROLE', then "
		"'horcrux-cli apikey create NAME --name KEYNAME'",
		&rc)) {
		free(p);
		return rc;
	}
	if (user == NULL)
		user = cli->me;
	body = json_pack("{s:s}", "name", name);
	if (days != NULL)
		json_object_set_new(body, "expires_in_days", json_integer(d));
	if (cmd_flag_count(e, a, "role") > 0) {
		json_t *r = json_array();
		char  **v;

		for (v = cmd_flag_all(e, a, "role"); *v != NULL; v++)
			json_array_append_new(r, json_string(*v));
		json_object_set_new(body, "roles", r);
	}
	rc = cli_api(cli, "POST", p, body, &k, "create an API key for '%s'",
	    user);
	free(p);
	json_decref(body);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(k);
	else {
		kv = kv_new();
		roles = json_is_array(json_object_get(k, "roles")) ?
		    jjoin(k, "roles", ", ") :
		    xstrdup("(all of the user's)");
		kv_add(kv, "Key ID", "%s", jstr(k, "key_id"));
		kv_add(kv, "User", "%s",
		    jstr(k, "userid") ? jstr(k, "userid") : jstr(k, "user"));
		kv_add(kv, "Name", "%s", jstr(k, "name"));
		kv_add(kv, "Roles", "%s", roles);
		kv_add(kv, "Expires", "%s",
		    jstr(k, "expires_at") ? jstr(k, "expires_at") : "never");
		kv_add(kv, "Key", "%s",
		    jstr(k, "token") ? jstr(k, "token") : "-");
		kv_print_free(cli, kv);
		free(roles);
	}
	cli_warning("%s",
	    jstr(k, "warning") ?
		jstr(k, "warning") :
		"store this key now: it cannot be shown again");
	json_decref(k);
	return CLI_OK;
}

int
cmd_apikey_revoke(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	const char *user = a->argc == 2 ? a->argv[0] : NULL;
	const char *key = a->argv[a->argc - 1];
	char	   *p;
	int	    rc;

	(void)e;
	if ((p = cli_user_path(cli, user, "api-keys", key, &rc)) == NULL)
		return rc;
	if (user == NULL)
		user = cli->me;
	rc = cli_api(cli, "DELETE", p, NULL, NULL,
	    "revoke API key '%s' of "
	    "'%s'",
	    key, user);
	free(p);
	if (rc == CLI_OK && cli->out == OUT_TABLE)
		printf("revoked API key '%s' of '%s'\n", key, user);
	return rc;
}

/* --- audit ---------------------------------------------------------------- */

/*
 * --since as epoch milliseconds: RFC 3339, epoch milliseconds, or an age
 * ("90s", "30m", "12h", "7d") before now. -1 when it is none of them.
 */
static int64_t
since_ms(const char *v)
{
	static const struct {
		char	u;
		int64_t ms;
	} units[] = { { 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 },
		{ 'd', 86400000 } };
	long long n;
	size_t	  len = strlen(v), i;
	char	 *num;

	if (hx_parse_ll(v, 0, INT64_MAX / 2, &n) == 0)
		return n;
	for (i = 0; len > 1 && i < HX_ARRAY_SIZE(units); i++) {
		if (v[len - 1] != units[i].u)
			continue;
		num = xstrndup(v, len - 1);
		if (hx_parse_ll(num, 0, 36500LL * 86400, &n) != 0)
			n = -1;
		free(num);
		return n < 0 ? -1 : hx_wall_ms() - n * units[i].ms;
	}
	return hx_parse_rfc3339_ms(v);
}

int
cmd_audit(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	static const char *const filters[] = { "user", "action", NULL };
	const char		*since = cmd_flag(e, a, "since");
	const char		*limit = cmd_flag(e, a, "limit");
	struct hx_buf		 q;
	struct table		*t;
	long long		 n;
	int64_t			 ms;
	json_t			*list, *x;
	size_t			 i;
	char			*v;
	int			 rc;

	(void)a;
	if (limit != NULL && hx_parse_ll(limit, 1, 1000, &n) != 0)
		return cli_usage(e,
		    "--limit: '%s' is not a number from 1 to "
		    "1000",
		    limit);
	if (since != NULL && (ms = since_ms(since)) < 0)
		return cli_usage(e,
		    "--since: '%s' is no time: give RFC 3339, "
		    "epoch milliseconds or an age such as 30m",
		    since);
	hx_buf_init(&q, 0);
	hx_buf_add(&q, "/api/audit", 10);
	for (i = 0; filters[i] != NULL; i++) {
		if (cmd_flag(e, a, filters[i]) == NULL)
			continue;
		v = hx_url_escape(cmd_flag(e, a, filters[i]));
		hx_buf_addf(&q, "%c%s=%s", q.len > 10 ? '&' : '?', filters[i],
		    v);
		free(v);
	}
	if (since != NULL)
		hx_buf_addf(&q, "%csince=%lld", q.len > 10 ? '&' : '?',
		    (long long)ms);
	if (limit != NULL)
		hx_buf_addf(&q, "%climit=%lld", q.len > 10 ? '&' : '?', n);
	v = hx_buf_detach(&q, NULL);
	rc = cli_api(cli, "GET", v, NULL, &list, "read the audit log");
	free(v);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(list);
	else {
		t = table_new((const char *const[]){ "TIME", "ACTOR", "ACTION",
		    "TARGET", "DETAIL", "FROM", NULL });
		json_array_foreach(list, i, x)
			table_add(t, jstr(x, "timestamp"), jstr(x, "actor"),
			    jstr(x, "action"), jstr(x, "target"),
			    jstr(x, "detail"), jstr(x, "remote"));
		table_print_free(cli, t);
	}
	json_decref(list);
	return CLI_OK;
}
