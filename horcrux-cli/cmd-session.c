/*
 * cmd-session.c - who you are to the daemon: login, logout, whoami, and
 * the small commands around a session (version, quit).
 *
 * login stores the session token and the server it belongs to in
 * client.conf (0600, one atomic write by hx_client_conf_set_session) so
 * later commands and other clients use both without -c; the
 * password is read without echo and never appears on the command line.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Before asking for a password: is realm one the server signs in with a
 * password? An OIDC realm needs a browser; an unknown one is named with
 * the known ones. A server that cannot say (older, or unreachable now)
 * decides at the login itself.
 */
static int
realm_check(struct cli *cli, const char *realm)
{
	struct hx_cred none = { NULL, NULL }, saved = cli->cred;
	json_t	      *r, *o;
	const char    *type = NULL;
	char	      *names = NULL, *t;
	size_t	       i;
	int	       rc = CLI_OK;

	/* A public route: a stale token must not stand in the way. */
	cli->cred = none;
	r = cli_api_quiet(cli, "/api/auth/realms");
	cli->cred = saved;
	if (r == NULL)
		return CLI_OK;
	json_array_foreach(json_object_get(r, "realms"), i, o) {
		if (jstr(o, "name") == NULL || jstr(o, "type") == NULL ||
		    strcmp(jstr(o, "type"), "oidc") == 0)
			continue;
		t = names == NULL ? xstrdup(jstr(o, "name")) :
				    xasprintf("%s, %s", names, jstr(o, "name"));
		free(names);
		names = t;
	}
	json_array_foreach(json_object_get(r, "realms"), i, o) {
		if (jstr(o, "name") != NULL &&
		    strcmp(jstr(o, "name"), realm) == 0)
			type = jstr(o, "type");
	}
	if (type != NULL && strcmp(type, "oidc") == 0) {
		cli_error("realm '%s' signs in through a web browser, not "
			  "with a password: open the dashboard and choose "
			  "it there (GET /api/auth/oidc/start)",
		    realm);
		rc = CLI_ERR;
	} else if (type == NULL &&
	    json_is_array(json_object_get(r, "realms"))) {
		cli_error("unknown realm '%s': this server signs in with %s",
		    realm, names != NULL ? names : "none");
		rc = CLI_ERR;
	}
	free(names);
	json_decref(r);
	return rc;
}

int
cmd_login(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct hx_cred none = { NULL, NULL }, saved = cli->cred;
	const char    *realm = cmd_flag(e, a, "realm"), *tok;
	char	      *user, *pw, *err = NULL, *roles, *server = NULL;
	json_t	      *body, *r;
	int	       rc;

	if (realm != NULL && realm_check(cli, realm) != CLI_OK)
		return CLI_ERR;
	if (a->argc > 0)
		user = xstrdup(a->argv[0]);
	else if ((user = prompt_line("Username: ")) == NULL)
		return cli_usage(e,
		    "'login' needs USER when there is no "
		    "terminal to ask on");
	if ((pw = prompt_password("Password: ", 0,
		 cmd_flag_count(e, a, "password-stdin"))) == NULL) {
		free(user);
		return CLI_ERR;
	}
	body = json_pack("{s:s,s:s}", "username", user, "password", pw);
	prompt_free(pw);
	if (realm != NULL)
		json_object_set_new(body, "realm", json_string(realm));
	/* Log in afresh: a stale token must not stand in the way. */
	cli->cred = none;
	rc = cli_api(cli, "POST", "/api/auth/login", body, &r, "log in as '%s'",
	    user);
	cli->cred = saved;
	json_decref(body);
	if (rc != CLI_OK) {
		free(user);
		return rc;
	}
	if ((tok = jstr(r, "token")) == NULL) {
		cli_error("cannot log in as '%s': no token in the answer",
		    user);
		rc = CLI_ERR;
	} else if ((server = hx_client_conf_set_session(cli->conf.conf_path,
			cli->conf.server, tok, &err)) == NULL) {
		cli_error("cannot store the session token: %s", err);
		free(err);
		rc = CLI_ERR;
	} else {
		if (cli->conf.api_key != NULL)
			cli_warning("an API key is configured; other commands "
				    "use it before the stored session token");
		/* This session speaks as the new user from now on. */
		free(cli->conf.token);
		cli->conf.token = xstrdup(tok);
		cli->cred.token = cli->conf.token;
		cli->cred.api_key = NULL;
		cli_forget_identity(cli);
		if (cli->out == OUT_JSON) {
			json_object_del(r, "token");
			json_object_del(r, "csrf_token");
			out_json(r);
		} else {
			roles = jjoin(r, "roles", ", ");
			printf("logged in as %s (roles: %s) until %s; token "
			       "and server '%s' stored in %s\n",
			    jstr(r, "username"), roles,
			    jstr(r, "expires_at") ? jstr(r, "expires_at") : "-",
			    server, cli->conf.conf_path);
			free(roles);
		}
	}
	json_decref(r);
	free(server);
	free(user);
	return rc;
}

int
cmd_logout(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	char *err = NULL;
	int   rc = CLI_OK;

	(void)e;
	(void)a;
	if (cli->cred.token == NULL && cli->conf.token == NULL) {
		cli_error("cannot log out: there is no session (no token "
			  "stored or in $HORCRUX_TOKEN)");
		return CLI_ERR;
	}
	if (cli->cred.token != NULL) {
		struct hx_cred saved = cli->cred;

		cli->cred.api_key = NULL;
		rc = cli_api(cli, "POST", "/api/auth/logout", NULL, NULL,
		    "end the session");
		cli->cred = saved;
		/* An expired session is over anyway: forget it below. */
		if (rc == CLI_AUTH)
			rc = CLI_OK;
	}
	if (hx_client_conf_set(cli->conf.conf_path, "token", NULL, &err) != 0) {
		cli_error("cannot remove the token from %s: %s",
		    cli->conf.conf_path, err);
		free(err);
		return CLI_ERR;
	}
	free(cli->conf.token);
	cli->conf.token = NULL;
	cli->cred.token = NULL;
	cli->cred.api_key = cli->conf.api_key;
	cli_forget_identity(cli);
	if (rc == CLI_OK && cli->out == OUT_TABLE)
		printf("logged out\n");
	return rc;
}

int
cmd_whoami(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct table *t;
	struct kv    *kv;
	const char   *path;
	json_t	     *me, *privs, *list;
	char	     *roles, *p;
	int	      rc;

	(void)e;
	(void)a;
	if ((rc = cli_api(cli, "GET", "/api/auth/me", NULL, &me,
		 "find out who you are")) != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON) {
		out_json(me);
		json_decref(me);
		return CLI_OK;
	}
	kv = kv_new();
	roles = jjoin(me, "roles", ", ");
	/* user@realm, as every identity is shown. */
	kv_add(kv, "User", "%s",
	    jstr(me, "userid")	     ? jstr(me, "userid") :
		jstr(me, "username") ? jstr(me, "username") :
				       "-");
	kv_add(kv, "Authenticated by", "%s",
	    jstr(me, "auth") ? jstr(me, "auth") : "-");
	kv_add(kv, "Roles", "%s", roles);
	free(roles);
	kv_print_free(cli, kv);
	privs = json_object_get(me, "privileges");
	if (json_object_size(privs) > 0) {
		putchar('\n');
		t = table_new(
		    (const char *const[]){ "PATH", "PRIVILEGES", NULL });
		json_object_foreach(privs, path, list) {
			json_t *o = json_pack("{s:O}", "p", list);

			p = jjoin(o, "p", " ");
			table_add(t, path, p);
			free(p);
			json_decref(o);
		}
		table_print_free(cli, t);
	}
	json_decref(me);
	return CLI_OK;
}

int
cmd_version(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	json_t *h;
	int	rc;

	(void)e;
	(void)a;
	rc = cli_api(cli, "GET", "/api/health", NULL, &h,
	    "ask the daemon for its version");
	if (cli->out == OUT_JSON) {
		json_t *o = json_pack("{s:s,s:O?}", "client", HX_VERSION,
		    "server", h);

		out_json(o);
		json_decref(o);
	} else {
		printf("horcrux-cli %s\n", HX_VERSION);
		if (rc == CLI_OK)
			printf("horcruxd %s at %s\n",
			    jstr(h, "version") ? jstr(h, "version") : "?",
			    cli->srv.display);
	}
	json_decref(h);
	return rc;
}

int
cmd_quit(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	(void)cli;
	(void)e;
	(void)a;
	return CLI_QUIT;
}
