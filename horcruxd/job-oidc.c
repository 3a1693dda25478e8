/*
 * job-oidc.c - the oidc realm's two browser routes as jobs (DESIGN §11).
 *
 * GET /api/auth/oidc/start runs on the login pool (discovery may touch the
 * network) and answers 302 to the provider. GET /api/auth/oidc/callback
 * runs on the login pool (code exchange, ID token check: oidc.c), then
 * always on the identity worker, which writes what happened: the user made
 * or updated from the token's claims, the same session as a password
 * login (job_session_start: cookie, CSRF token) and the same audit lines
 * with the realm named, or a login.failed line with why.
 *
 * The browser arrives at the callback from the provider's site, so the
 * answer is a small page of ours, not a redirect: the session cookie is
 * SameSite=Strict and would not ride on a redirect that a cross-site
 * navigation started, but it does on the navigation our own page makes.
 * The page carries the session's CSRF token, user and expiry in data
 * attributes; /js/oidc-done.js (a static file: the page's CSP allows no
 * inline script) puts them where the dashboard keeps a password login's
 * and opens the dashboard. A failure is a page that says why, with the
 * HTTP status of the failure.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-log.h"
#include "hx-util.h"
#include "job-identity-int.h"
#include "job-oidc.h"
#include "oidc.h"

#define SESSION_ABSOLUTE (12 * 3600) /* as a password login's */

struct oidc_job {
	struct oidc	 *oi; /* the daemon's; outlives every job */
	json_t		 *params; /* the callback's query */
	int		  status; /* oidc_finish's answer */
	char		 *why;
	struct oidc_login login;
};

static void
oidc_job_free(void *p)
{
	struct oidc_job *o = p;

	if (o == NULL)
		return;
	json_decref(o->params);
	free(o->why);
	oidc_login_release(&o->login);
	free(o);
}

void
job_oidc_attach(struct job *j, struct oidc *oi, json_t *params)
{
	struct oidc_job *o = xcalloc(1, sizeof *o);

	o->oi = oi;
	o->params = params;
	j->ctx = o;
	j->ctx_free = oidc_job_free;
}

/* --- pages ------------------------------------------------------------------- */

static void
add_escaped(struct hx_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			hx_buf_addf(b, "&lt;");
			break;
		case '>':
			hx_buf_addf(b, "&gt;");
			break;
		case '&':
			hx_buf_addf(b, "&amp;");
			break;
		case '"':
			hx_buf_addf(b, "&quot;");
			break;
		case '\'':
			hx_buf_addf(b, "&#39;");
			break;
		default:
			if ((unsigned char)*s >= ' ' && *s != 0x7f)
				hx_buf_add(b, s, 1);
		}
	}
}

static void
page_head(struct hx_buf *b, const char *title)
{
	hx_buf_addf(b,
	    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>");
	add_escaped(b, title);
	hx_buf_addf(b,
	    " - Horcrux</title>\n"
	    "<link rel=\"stylesheet\" href=\"/style.css\">\n");
}

static void
set_page(struct job *j, int status, struct hx_buf *b)
{
	free(j->raw);
	json_decref(j->reply);
	j->reply = NULL;
	j->status = status;
	j->raw = hx_buf_detach(b, &j->raw_len);
	j->raw_type = "text/html; charset=utf-8";
}

/* A failure page: what went wrong and a way back. */
static void
error_page(struct job *j, int status, const char *msg)
{
	struct hx_buf b;

	hx_buf_init(&b, 0);
	page_head(&b, "Sign-in failed");
	hx_buf_addf(&b,
	    "</head>\n<body>\n<main>\n<h1>Sign-in failed</h1>\n"
	    "<p id=\"oidc-error\" role=\"alert\">");
	add_escaped(&b, msg);
	hx_buf_addf(&b,
	    "</p>\n<p><a href=\"/\">Back to the sign-in "
	    "page</a></p>\n</main>\n</body>\n</html>\n");
	set_page(j, status, &b);
}

/* --- start ------------------------------------------------------------------- */

void
job_oidc_start(struct job *j, const struct worker_env *env)
{
	struct oidc_job *o = j->ctx;
	char		*url = NULL, *err = NULL;
	int		 st;

	(void)env;
	st = oidc_start(o->oi, &url, &err);
	if (st != 302) {
		error_page(j, st, err);
		free(err);
		return;
	}
	j->status = 302;
	j->location = url;
	j->raw = xstrdup("");
	j->raw_len = 0;
	j->raw_type = "text/plain";
}

/* --- callback ------------------------------------------------------------------ */

void
job_oidc_callback(struct job *j, const struct worker_env *env)
{
	struct oidc_job *o = j->ctx;

	(void)env;
	o->status = oidc_finish(o->oi, o->params, &o->login, &o->why);
	j->then = job_oidc_callback_finish;
}

/* The audit line of a failure: who, if the token said, in the realm. */
static void
audit_failure(const struct worker_env *env, struct job *j,
    const struct oidc_job *o, const char *why)
{
	char *who, *err = NULL;

	who = xasprintf("%s@%s",
	    o->login.username != NULL ? o->login.username : "(unknown)",
	    oidc_realm(o->oi));
	if (hx_store_audit_add(env->store, 0, who, "login.failed", who, why,
		j->remote, &err) != HX_STORE_OK) {
		log_error("cannot write the audit log: %s", err);
		free(err);
	}
	free(who);
}

void
job_oidc_callback_finish(struct job *j, const struct worker_env *env)
{
	struct oidc_job	    *o = j->ctx;
	struct hx_store_user u;
	const char	    *realm = oidc_realm(o->oi);
	struct hx_buf	     b;
	json_t		    *reply;
	char		    *err = NULL, *who, *msg;
	int64_t		     now;
	int		     rc, changed = 0;

	memset(&u, 0, sizeof u);
	if (o->status != 200) {
		log_info("oidc sign-in refused (%d): %s", o->status, o->why);
		audit_failure(env, j, o, o->why);
		error_page(j, o->status, o->why);
		return;
	}
	rc = hx_store_user_external(env->store, o->login.username, realm,
	    o->login.email, (const char *const *)o->login.roles.v, &changed, &u,
	    &err);
	if (changed)
		j->changed = 1;
	if (rc == HX_STORE_CONFLICT) {
		msg = xasprintf("the user name '%s' belongs to another realm "
				"here: ask an administrator",
		    o->login.username);
		audit_failure(env, j, o, msg);
		error_page(j, 409, msg);
		free(msg);
		goto out;
	}
	if (rc != HX_STORE_OK) {
		log_error("oidc sign-in: cannot write the user: %s", err);
		error_page(j, 500, "internal error");
		goto out;
	}
	if (!u.enabled) {
		audit_failure(env, j, o, "the account is disabled");
		error_page(j, 403, "this account is disabled here");
		goto out;
	}
	now = time(NULL);
	if (job_session_start(j, env, &u, now, now + SESSION_ABSOLUTE) != 0) {
		msg = xstrdup(
		    json_string_value(json_object_get(j->reply, "message")));
		error_page(j, j->status, msg != NULL ? msg : "internal error");
		free(msg);
		goto out;
	}
	who = xasprintf("%s@%s", u.username, realm);
	identity_audit(env, j, u.username, "login", u.username, realm);
	/* The JSON answer of job_session_start, as data for oidc-done.js. */
	reply = j->reply;
	j->reply = NULL;
	hx_buf_init(&b, 0);
	page_head(&b, "Signed in");
	hx_buf_addf(&b,
	    "<script type=\"module\" src=\"/js/oidc-done.js\">"
	    "</script>\n</head>\n<body>\n<main id=\"oidc-done\" "
	    "data-csrf-token=\"");
	add_escaped(&b,
	    json_string_value(json_object_get(reply, "csrf_token")));
	hx_buf_addf(&b, "\" data-username=\"");
	add_escaped(&b, u.username);
	hx_buf_addf(&b, "\" data-expires-at=\"");
	add_escaped(&b,
	    json_string_value(json_object_get(reply, "expires_at")));
	hx_buf_addf(&b, "\">\n<h1>Signed in</h1>\n<p>Signed in as ");
	add_escaped(&b, who);
	hx_buf_addf(&b,
	    ". <a href=\"/\">Open the dashboard</a></p>\n"
	    "</main>\n</body>\n</html>\n");
	json_decref(reply);
	free(who);
	set_page(j, 200, &b);
out:
	free(err);
	hx_store_user_release(&u);
}
