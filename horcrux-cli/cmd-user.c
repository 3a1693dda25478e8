/*
 * cmd-user.c - the user commands: list, show, add, modify, delete, passwd,
 * permissions, and login sessions (user sessions, user logout, session
 * list, session revoke).
 *
 * Each is one REST call (passwd may ask /api/auth/me first, to know whose
 * password and whether the old one is needed). Passwords come from the
 * terminal without echo, asked twice, or as one line of stdin with
 * --password-stdin; never from the command line.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NO_SESSIONS \
	"logs in with no session: name a user, or list " \
	"every user's with 'session list --all'"

/* /api/users/NAME[/what[/ID]] of a named user. Caller frees. */
static char *
user_path(const char *name, const char *what, const char *id)
{
	int code;

	return cli_user_path(NULL, name, what, id, &code);
}

/* Print one user object (after add, modify, show). */
static void
print_user(struct cli *cli, const json_t *u)
{
	struct kv    *kv;
	struct hx_buf acl;
	json_t	     *x;
	size_t	      i;
	char	     *roles, b[32];

	if (cli->out == OUT_JSON) {
		out_json(u);
		return;
	}
	roles = jjoin(u, "roles", ", ");
	kv = kv_new();
	kv_add(kv, "User", "%s@%s", jstr(u, "username"),
	    jstr(u, "realm") ? jstr(u, "realm") : "local");
	kv_add(kv, "Realm", "%s", jstr(u, "realm") ? jstr(u, "realm") : "-");
	kv_add(kv, "E-mail", "%s", jstr(u, "email") ? jstr(u, "email") : "-");
	kv_add(kv, "Enabled", "%s", jnum(u, "enabled", b, sizeof b));
	kv_add(kv, "Roles", "%s", roles);
	kv_add(kv, "Created", "%s",
	    jstr(u, "created_at") ? jstr(u, "created_at") : "-");
	/* The ACL entries naming the user: "PATH ROLE, ...". */
	hx_buf_init(&acl, 0);
	json_array_foreach(json_object_get(u, "acl"), i, x)
		hx_buf_addf(&acl, "%s%s %s%s", i > 0 ? ", " : "",
		    jstr(x, "path"), jstr(x, "role"),
		    json_is_false(json_object_get(x, "propagate")) ?
			" (no propagate)" :
			"");
	kv_add(kv, "ACL", "%s", acl.len > 0 ? acl.data : "-");
	hx_buf_release(&acl);
	kv_print_free(cli, kv);
	free(roles);
}

int
cmd_user_list(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct table *t;
	json_t	     *list, *u;
	size_t	      i;
	char	     *roles, *who, b[16];
	int	      rc;

	(void)e;
	(void)a;
	if ((rc = cli_api(cli, "GET", "/api/users", NULL, &list,
		 "list the users")) != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(list);
	else {
		t = table_new((const char *const[]){ "USER", "ENABLED", "ROLES",
		    "EMAIL", NULL });
		json_array_foreach(list, i, u) {
			roles = jjoin(u, "roles", ",");
			who = xasprintf("%s@%s", jstr(u, "username"),
			    jstr(u, "realm") ? jstr(u, "realm") : "local");
			table_add(t, who, jnum(u, "enabled", b, sizeof b),
			    roles, jstr(u, "email"));
			free(who);
			free(roles);
		}
		table_print_free(cli, t);
	}
	json_decref(list);
	return CLI_OK;
}

int
cmd_user_show(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	char   *p = user_path(a->argv[0], NULL, NULL);
	json_t *u;
	int	rc;

	(void)e;
	rc = cli_api(cli, "GET", p, NULL, &u, "show user '%s'", a->argv[0]);
	free(p);
	if (rc == CLI_OK)
		print_user(cli, u);
	json_decref(u);
	return rc;
}

/* A JSON array of the strings in v (NULL-terminated). */
static json_t *
strv_json(char **v)
{
	json_t *a = json_array();

	for (; *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

int
cmd_user_add(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	const char *name = a->argv[0], *realm = cmd_flag(e, a, "realm");
	const char *email = cmd_flag(e, a, "email");
	char	   *pw, *label;
	json_t	   *body, *u;
	int	    rc;

	body = json_pack("{s:s}", "username", name);
	if (realm != NULL)
		json_object_set_new(body, "realm", json_string(realm));
	if (email != NULL)
		json_object_set_new(body, "email", json_string(email));
	if (cmd_flag_count(e, a, "role") > 0)
		json_object_set_new(body, "roles",
		    strv_json(cmd_flag_all(e, a, "role")));
	if (cmd_flag_count(e, a, "disabled"))
		json_object_set_new(body, "enabled", json_false());
	/* Only a local user has a password here; pam's, a directory's
	 * or a provider's belongs to them. */
	if (realm == NULL || strcmp(realm, "local") == 0) {
		label = xasprintf("Password for %s: ", name);
		pw = prompt_password(label, 1,
		    cmd_flag_count(e, a, "password-stdin"));
		free(label);
		if (pw == NULL) {
			json_decref(body);
			return CLI_ERR;
		}
		json_object_set_new(body, "password", json_string(pw));
		prompt_free(pw);
	}
	rc = cli_api(cli, "POST", "/api/users", body, &u, "add user '%s'",
	    name);
	json_decref(body);
	if (rc == CLI_OK) {
		if (cli->out == OUT_JSON)
			out_json(u);
		else
			printf("added user '%s'\n", name);
	}
	json_decref(u);
	return rc;
}

int
cmd_user_modify(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	const char *email = cmd_flag(e, a, "email");
	json_t	   *body, *u;
	char	   *p;
	int	    rc, roles = cmd_flag_count(e, a, "role");
	int	    none = cmd_flag_count(e, a, "no-roles");
	int	    en = cmd_flag_count(e, a, "enable");
	int	    dis = cmd_flag_count(e, a, "disable");

	if (roles > 0 && none)
		return cli_usage(e,
		    "--role and --no-roles contradict each "
		    "other");
	if (en && dis)
		return cli_usage(e,
		    "--enable and --disable contradict each "
		    "other");
	if (email == NULL && roles == 0 && !none && !en && !dis)
		return cli_usage(e,
		    "nothing to change: give --email, --role, "
		    "--no-roles, --enable or --disable");
	body = json_object();
	if (email != NULL)
		json_object_set_new(body, "email", json_string(email));
	if (roles > 0 || none)
		json_object_set_new(body, "roles",
		    strv_json(cmd_flag_all(e, a, "role")));
	if (en || dis)
		json_object_set_new(body, "enabled", json_boolean(en));
	p = user_path(a->argv[0], NULL, NULL);
	rc = cli_api(cli, "PATCH", p, body, &u, "modify user '%s'", a->argv[0]);
	free(p);
	json_decref(body);
	if (rc == CLI_OK) {
		if (cli->out == OUT_JSON)
			out_json(u);
		else
			printf("modified user '%s'\n", a->argv[0]);
	}
	json_decref(u);
	return rc;
}

int
cmd_user_delete(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	char *p = user_path(a->argv[0], NULL, NULL);
	int   rc;

	(void)e;
	rc = cli_api(cli, "DELETE", p, NULL, NULL, "delete user '%s'",
	    a->argv[0]);
	free(p);
	if (rc == CLI_OK && cli->out == OUT_TABLE)
		printf("deleted user '%s'\n", a->argv[0]);
	return rc;
}

/* Whether /api/auth/me grants priv on path (or on /). */
static int
me_has(const json_t *me, const char *path, const char *priv)
{
	const char *const paths[] = { path, "/" };
	json_t		 *privs = json_object_get(me, "privileges"), *p;
	size_t		  i, k;

	for (k = 0; k < 2; k++) {
		json_array_foreach(json_object_get(privs, paths[k]), i, p) {
			if (json_is_string(p) &&
			    strcmp(json_string_value(p), priv) == 0)
				return 1;
		}
	}
	return 0;
}

int
cmd_user_passwd(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	int	    from_stdin = cmd_flag_count(e, a, "password-stdin");
	const char *me_name, *name, *tok, *env;
	char	   *old = NULL, *pw, *p, *label, *err = NULL;
	json_t	   *me, *body, *r = NULL;
	int	    rc;

	if ((rc = cli_api(cli, "GET", "/api/auth/me", NULL, &me,
		 "find out who you are")) != CLI_OK)
		return rc;
	me_name = jstr(me, "username");
	name = a->argc > 0 ? a->argv[0] : me_name;
	if (name == NULL) {
		json_decref(me);
		cli_error("cannot change a password: no user given");
		return CLI_USAGE;
	}
	/* Without UserModify one changes only one's own, with the old one. */
	if (me_name != NULL && strcmp(name, me_name) == 0 &&
	    !me_has(me, "/access", "UserModify") &&
	    (old = prompt_password("Current password: ", 0, from_stdin)) ==
		NULL) {
		json_decref(me);
		return CLI_ERR;
	}
	label = xasprintf("New password for %s: ", name);
	pw = prompt_password(label, 1, from_stdin);
	free(label);
	if (pw == NULL) {
		prompt_free(old);
		json_decref(me);
		return CLI_ERR;
	}
	body = json_pack("{s:s}", "password", pw);
	if (old != NULL)
		json_object_set_new(body, "old_password", json_string(old));
	prompt_free(pw);
	prompt_free(old);
	p = user_path(name, "password", NULL);
	rc = cli_api(cli, "POST", p, body, &r,
	    "change the password of "
	    "'%s'",
	    name);
	free(p);
	json_decref(body);
	/*
	 * A change ends every session of the user; one's own comes back
	 * renewed. Keep using it when it was the token in client.conf (not
	 * one from $HORCRUX_TOKEN, which wins over the file).
	 */
	env = getenv("HORCRUX_TOKEN");
	if (rc == CLI_OK && (tok = jstr(r, "token")) != NULL &&
	    (env == NULL || *env == '\0') && cli->cred.token != NULL &&
	    cli->cred.token == cli->conf.token) {
		if (hx_client_conf_set(cli->conf.conf_path, "token", tok,
			&err) != 0) {
			cli_warning("cannot store the renewed session token: "
				    "%s",
			    err);
			free(err);
		} else {
			free(cli->conf.token);
			cli->conf.token = xstrdup(tok);
			cli->cred.token = cli->conf.token;
		}
	}
	json_decref(r);
	if (rc == CLI_OK && cli->out == OUT_TABLE)
		printf("changed the password of '%s'\n", name);
	json_decref(me);
	return rc;
}

int
cmd_user_sessions(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	struct table *t;
	const char   *name;
	json_t	     *list, *se;
	size_t	      i;
	char	     *p;
	int	      rc, code;

	(void)e;
	if ((name = a->argc > 0 ? a->argv[0] : cli_whoami(cli, &code)) == NULL)
		return code;
	if (a->argc == 0 &&
	    cli_local_trust_refused(cli,
		"list the sessions "
		"of 'root@local'",
		NO_SESSIONS, &code))
		return code;
	p = user_path(name, "sessions", NULL);
	rc = cli_api(cli, "GET", p, NULL, &list, "list the sessions of '%s'",
	    name);
	free(p);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(list);
	else {
		t = table_new((const char *const[]){ "ID", "CURRENT", "STARTED",
		    "EXPIRES", "RENEWED", "FROM", NULL });
		json_array_foreach(list, i, se) {
			table_add(t, jstr(se, "id"),
			    json_is_true(json_object_get(se, "current")) ?
				"yes" :
				"no",
			    jstr(se, "created_at"), jstr(se, "expires_at"),
			    jstr(se, "last_renewed_at"), jstr(se, "remote"));
		}
		table_print_free(cli, t);
	}
	json_decref(list);
	return CLI_OK;
}

int
cmd_user_logout(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	const char *name = a->argv[0], *id = a->argc > 1 ? a->argv[1] : NULL;
	char	   *p;
	int	    rc;

	(void)e;
	p = user_path(name, "sessions", id);
	if (id != NULL)
		rc = cli_api(cli, "DELETE", p, NULL, NULL,
		    "end session '%s' "
		    "of '%s'",
		    id, name);
	else
		rc = cli_api(cli, "DELETE", p, NULL, NULL,
		    "end the sessions "
		    "of '%s'",
		    name);
	free(p);
	if (rc == CLI_OK && cli->out == OUT_TABLE) {
		if (id != NULL)
			printf("ended session '%s' of '%s'\n", id, name);
		else
			printf("ended every session of '%s'\n", name);
	}
	return rc;
}

int
cmd_user_permissions(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	struct table *t;
	const char   *path;
	json_t	     *o, *v;
	char	     *p, *q, *names;
	int	      rc;

	(void)e;
	p = user_path(a->argv[0], "permissions", NULL);
	if (a->argc > 1) {
		q = hx_url_escape(a->argv[1]);
		names = xasprintf("%s?path=%s", p, q);
		free(q);
		free(p);
		p = names;
	}
	rc = cli_api(cli, "GET", p, NULL, &o, "show the permissions of '%s'",
	    a->argv[0]);
	free(p);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(o);
	else {
		t = table_new(
		    (const char *const[]){ "PATH", "PRIVILEGES", NULL });
		json_object_foreach(o, path, v) {
			names = jjoin(o, path, ",");
			table_add(t, path, names);
			free(names);
		}
		table_print_free(cli, t);
	}
	json_decref(o);
	return CLI_OK;
}

/* --- session list / revoke ----------------------------------------------- */

/* Add the live sessions of name to all; CLI_OK or the failure's code. */
static int
sessions_of(struct cli *cli, const char *name, json_t *all)
{
	json_t *list;
	char   *p = user_path(name, "sessions", NULL);
	int	rc;

	rc = cli_api(cli, "GET", p, NULL, &list, "list the sessions of '%s'",
	    name);
	free(p);
	if (rc == CLI_OK)
		json_array_extend(all, list);
	json_decref(list);
	return rc;
}

int
cmd_session_list(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct table *t;
	const char   *name = a->argc > 0 ? a->argv[0] : NULL;
	json_t	     *all, *users, *u, *se;
	size_t	      i;
	int	      rc = CLI_OK;

	if (name != NULL && cmd_flag_count(e, a, "all"))
		return cli_usage(e, "USER and --all contradict each other");
	all = json_array();
	if (cmd_flag_count(e, a, "all")) {
		if ((rc = cli_api(cli, "GET", "/api/users", NULL, &users,
			 "list the sessions of every user")) == CLI_OK) {
			json_array_foreach(users, i, u) {
				if (jstr(u, "username") != NULL &&
				    (rc = sessions_of(cli, jstr(u, "username"),
					 all)) != CLI_OK)
					break;
			}
			json_decref(users);
		}
	} else if (name == NULL && (name = cli_whoami(cli, &rc)) != NULL &&
	    cli_local_trust_refused(cli, "list the sessions of 'root@local'",
		NO_SESSIONS, &rc))
		name = NULL;
	if (rc == CLI_OK && name != NULL)
		rc = sessions_of(cli, name, all);
	if (rc != CLI_OK) {
		json_decref(all);
		return rc;
	}
	if (cli->out == OUT_JSON)
		out_json(all);
	else {
		t = table_new((const char *const[]){ "USER", "ID", "CURRENT",
		    "STARTED", "EXPIRES", "FROM", NULL });
		json_array_foreach(all, i, se) {
			table_add(t,
			    jstr(se, "userid") ? jstr(se, "userid") :
						 jstr(se, "user"),
			    jstr(se, "id"),
			    json_is_true(json_object_get(se, "current")) ?
				"yes" :
				"no",
			    jstr(se, "created_at"), jstr(se, "expires_at"),
			    jstr(se, "remote"));
		}
		table_print_free(cli, t);
	}
	json_decref(all);
	return CLI_OK;
}

int
cmd_session_revoke(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	const char *name = a->argc > 1 ? a->argv[0] : NULL;
	const char *id = a->argv[a->argc - 1];
	char	   *p;
	int	    rc;

	(void)e;
	if (name == NULL &&
	    ((name = cli_whoami(cli, &rc)) == NULL ||
		cli_local_trust_refused(cli, "end a session of 'root@local'",
		    NO_SESSIONS, &rc)))
		return rc;
	p = user_path(name, "sessions", id);
	rc = cli_api(cli, "DELETE", p, NULL, NULL, "end session '%s' of '%s'",
	    id, name);
	free(p);
	if (rc == CLI_OK && cli->out == OUT_TABLE)
		printf("ended session '%s' of '%s'\n", id, name);
	return rc;
}
