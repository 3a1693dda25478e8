/*
 * request.c - the one door to the REST API: send a request with the
 * session's credentials, decode the JSON answer, and turn a failure into
 * one git-style line and an exit code.
 *
 * Every command goes through cli_api(), so every error reads the same way
 * ("cannot delete user 'bob': user 'bob' not found") and maps to the same
 * exit codes (401 -> 3, 403 -> 4, anything else -> 1). Completion uses the
 * quiet variant: a missing name list must never print in the middle of a
 * command line.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
cli_code_for_status(int status)
{
	return status == 401 ? CLI_AUTH :
	    status == 403    ? CLI_FORBIDDEN :
			       CLI_ERR;
}

/* The daemon's message, or the status. Caller frees. */
static char *
daemon_message(const struct hx_http_resp *r)
{
	json_t	   *o = json_loads(r->body ? r->body : "", 0, NULL);
	const char *msg = jstr(o, "message");
	char	   *s;

	if (msg != NULL)
		s = hx_term_safe(xstrdup(msg));
	else
		s = xasprintf("the daemon answered HTTP %d", r->status);
	json_decref(o);
	return s;
}

/* One request; 0 with *r filled, or -1 with *err. */
static int
request(struct cli *cli, const char *method, const char *path, json_t *body,
    struct hx_http_resp *r, char **err)
{
	char *text = NULL;
	int   rc;

	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT);
	rc = hx_http_request(&cli->srv, &cli->cred, method, path, text,
	    CLI_TIMEOUT_MS, r, err);
	free(text);
	return rc;
}

/*
 * Send one request and check its status. Returns CLI_OK with *r filled
 * (the caller releases it), or prints "cannot W: why" and returns the
 * exit code with *r released.
 */
static int
call(struct cli *cli, const char *method, const char *path, json_t *body,
    struct hx_http_resp *r, const char *w)
{
	char *err = NULL, *msg;
	int   code;

	if (request(cli, method, path, body, r, &err) < 0) {
		/* Unreachable: say where that server came from. */
		msg = hx_client_server_origin(&cli->conf);
		cli_error("cannot %s: %s%s", w, err, msg);
		free(msg);
		free(err);
		return CLI_ERR;
	}
	if (r->status < 200 || r->status > 299) {
		msg = daemon_message(r);
		cli_error("cannot %s: %s", w, msg);
		free(msg);
		code = cli_code_for_status(r->status);
		hx_http_resp_release(r);
		return code;
	}
	return CLI_OK;
}

int
cli_api(struct cli *cli, const char *method, const char *path, json_t *body,
    json_t **out, const char *what, ...)
{
	struct hx_http_resp r;
	json_error_t	    jerr;
	va_list		    ap;
	char		   *w;
	json_t		   *v = NULL;
	int		    code;

	if (out != NULL)
		*out = NULL;
	va_start(ap, what);
	w = xvasprintf(what, ap);
	va_end(ap);
	if ((code = call(cli, method, path, body, &r, w)) != CLI_OK) {
		free(w);
		return code;
	}
	if (r.len > 0 && (v = json_loads(r.body, 0, &jerr)) == NULL) {
		cli_error("cannot %s: the daemon's answer is not JSON: %s", w,
		    jerr.text);
		code = CLI_ERR;
	}
	if (out != NULL)
		*out = v;
	else
		json_decref(v);
	hx_http_resp_release(&r);
	free(w);
	return code;
}

int
cli_api_text(struct cli *cli, const char *path, char **text, size_t *len,
    const char *what, ...)
{
	struct hx_http_resp r;
	va_list		    ap;
	char		   *w;
	int		    code;

	*text = NULL;
	*len = 0;
	va_start(ap, what);
	w = xvasprintf(what, ap);
	va_end(ap);
	if ((code = call(cli, "GET", path, NULL, &r, w)) == CLI_OK) {
		*text = r.body != NULL ? r.body : xstrdup("");
		*len = r.body != NULL ? r.len : 0;
		r.body = NULL;
		hx_http_resp_release(&r);
	}
	free(w);
	return code;
}

json_t *
cli_api_quiet(struct cli *cli, const char *path)
{
	struct hx_http_resp r;
	char		   *err = NULL;
	json_t		   *v = NULL;

	if (cli->offline)
		return NULL;
	if (request(cli, "GET", path, NULL, &r, &err) < 0) {
		free(err);
		return NULL;
	}
	if (r.status == 200)
		v = json_loads(r.body, 0, NULL);
	hx_http_resp_release(&r);
	return v;
}

const char *
cli_whoami(struct cli *cli, int *code)
{
	json_t *me;

	*code = CLI_OK;
	if (cli->me != NULL)
		return cli->me;
	if ((*code = cli_api(cli, "GET", "/api/auth/me", NULL, &me,
		 "find out who you are")) != CLI_OK)
		return NULL;
	if (jstr(me, "username") != NULL)
		cli->me = xstrdup(jstr(me, "username"));
	json_decref(me);
	if (cli->me == NULL) {
		cli_error("cannot find out who you are: no username in the "
			  "answer");
		*code = CLI_ERR;
	}
	return cli->me;
}

char *
cli_user_path(struct cli *cli, const char *user, const char *what,
    const char *id, int *code)
{
	char *u, *i, *p;

	*code = CLI_OK;
	if (user == NULL && (user = cli_whoami(cli, code)) == NULL)
		return NULL;
	u = hx_url_escape(user);
	if (what == NULL)
		p = xasprintf("/api/users/%s", u);
	else if (id == NULL)
		p = xasprintf("/api/users/%s/%s", u, what);
	else {
		i = hx_url_escape(id);
		p = xasprintf("/api/users/%s/%s/%s", u, what, i);
		free(i);
	}
	free(u);
	return p;
}

void
cli_forget_identity(struct cli *cli)
{
	free(cli->me);
	cli->me = NULL;
}

int
cli_local_trust_refused(struct cli *cli, const char *what, const char *why,
    int *code)
{
	if (cli->me == NULL || strcmp(cli->me, CLI_LOCAL_TRUST) != 0)
		return 0;
	cli_error("cannot %s: %s, the Unix socket's local trust, %s", what,
	    CLI_LOCAL_TRUST, why);
	*code = CLI_ERR;
	return 1;
}
