/*
 * job-login.c - login sessions on the worker side: the login itself (its
 * password check, local or PAM, on the login pool; the session written on
 * the identity worker), renew, logout, and ending a user's sessions, all
 * or one. The session token's checks on each request are access.c's, not
 * this file's.
 */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-auth.h"
#include "hx-log.h"
#include "hx-util.h"
#include "job-identity-int.h"
#include "ldap-realm.h"
#include "realm.h"

#define SESSION_LIFETIME (2 * 3600) /* sliding */
#define SESSION_ABSOLUTE (12 * 3600) /* from login */

/* --- PAM ----------------------------------------------------------------- */

struct pam_answer {
	const char *password;
};

static int
pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_answer   *a = data;
	struct pam_response *r;
	int		     i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = xcalloc((size_t)n, sizeof *r);
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = xstrdup(a->password);
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* 1 if PAM accepts user/password for service, else 0. */
static int
pam_check(const char *service, const char *user, const char *password)
{
	struct pam_answer a = { password };
	struct pam_conv	  conv = { pam_conv_fn, &a };
	pam_handle_t	 *h = NULL;
	int		  r;

	if (pam_start(service, user, &conv, &h) != PAM_SUCCESS)
		return 0;
	r = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (r == PAM_SUCCESS)
		r = pam_acct_mgmt(h, PAM_SILENT);
	pam_end(h, r);
	return r == PAM_SUCCESS;
}

/* --- sessions ------------------------------------------------------------ */

static char *
session_cookie(const char *token, int64_t max_age)
{
	return xasprintf("%s=%s; HttpOnly; SameSite=Strict; Path=/; "
			 "Max-Age=%lld",
	    ACCESS_COOKIE_NAME, token, (long long)max_age);
}

static int
random_hex(size_t nbytes, char **out)
{
	unsigned char buf[64];

	if (nbytes > sizeof buf || hx_random_bytes(buf, nbytes) != 0)
		return -1;
	*out = hx_hex_encode(buf, nbytes);
	explicit_bzero(buf, sizeof buf);
	return 0;
}

/*
 * Start a login session of u that ends by abs_exp at the latest: the
 * reply {token, csrf_token, username, roles, expires_at} with status 200
 * and the session cookie. Returns 0, or -1 with the error reply set.
 */
int
job_session_start(struct job *j, const struct worker_env *env,
    const struct hx_store_user *u, int64_t now, int64_t abs_exp)
{
	struct hx_store_session se;
	char		       *jti = NULL, *csrf = NULL, *token = NULL;
	char		       *err = NULL;
	int64_t			exp = now + SESSION_LIFETIME;
	int			rc, ret = -1;

	memset(&se, 0, sizeof se);
	if (exp > abs_exp)
		exp = abs_exp;
	if (random_hex(16, &jti) != 0 || random_hex(32, &csrf) != 0) {
		job_error(j, 500, "INTERNAL", "internal error");
		goto out;
	}
	rc = hx_store_session_add(env->store, jti, u->username, exp, abs_exp,
	    csrf, j->remote, &err);
	if (rc != HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	if (hx_jwt_issue(env->jwt_key, ACCESS_JWT_KEY_LEN, u->username, jti,
		now, exp, &token, &err) != 0) {
		log_error("cannot issue a session token: %s", err);
		job_error(j, 500, "INTERNAL", "internal error");
		goto out;
	}
	if (hx_store_session_get(env->store, jti, &se, NULL) == HX_STORE_OK)
		job_delta_session_put(j, &se);
	else
		j->changed = 1; /* cannot happen; reload everything */
	hx_store_session_release(&se);
	j->status = 200;
	json_decref(j->reply);
	j->reply = json_pack("{s:s,s:s,s:s,s:o,s:o}", "token", token,
	    "csrf_token", csrf, "username", u->username, "roles",
	    job_strv_json(&u->roles), "expires_at", job_time_or_null(exp));
	free(j->set_cookie);
	j->set_cookie = session_cookie(token, exp - now);
	ret = 0;
out:
	free(err);
	free(jti);
	free(csrf);
	if (token != NULL)
		explicit_bzero(token, strlen(token));
	free(token);
	return ret;
}

/*
 * End every login session of user (their WebSockets close when the new
 * snapshot reaches the service thread) and audit it with why. Returns how
 * many there were, or -1 (logged) if the store failed.
 */
int
job_sessions_end(struct job *j, const struct worker_env *env, const char *user,
    const char *why)
{
	struct hx_store_strv jtis = { NULL, 0 };
	char		    *err = NULL, *detail;
	size_t		     i;
	int		     n;

	if (hx_store_session_delete_user(env->store, user, &jtis, &err) !=
	    HX_STORE_OK) {
		log_error("cannot end the sessions of a user: %s", err);
		free(err);
		return -1;
	}
	n = (int)jtis.n;
	for (i = 0; i < jtis.n; i++)
		job_delta_session_drop(j, jtis.v[i]);
	hx_store_strv_release(&jtis);
	if (n > 0) {
		detail = xasprintf("%s: %d session%s", why, n,
		    n == 1 ? "" : "s");
		identity_audit(env, j, j->actor, "session.revoke", user,
		    detail);
		free(detail);
	}
	return n;
}

/* --- login, renew, logout ------------------------------------------------ */

/*
 * Ask the directory on this (pool) thread and keep what it said in j for
 * the identity worker: login_ok, login_unavailable, roles, email, why.
 */
static void
directory_check(struct job *j, const struct worker_env *env, const char *name,
    const char *pw)
{
	enum ldap_result r;

	r = ldap_realm_check(env->realms->ldap, name, pw, &j->login_roles,
	    &j->login_email, &j->login_why);
	j->login_ext = 1;
	j->login_ok = r == LDAP_REALM_OK;
	j->login_unavailable = r == LDAP_REALM_UNAVAILABLE;
	if (r == LDAP_REALM_UNAVAILABLE)
		log_error("realm %s: %s", env->realms->ldap_name, j->login_why);
	else if (r != LDAP_REALM_OK)
		log_info("realm %s: '%s' refused: %s", env->realms->ldap_name,
		    name, j->login_why);
}

/*
 * A login runs in two steps. On the login pool (its own read connection):
 * validate the body, read the user and check the password, the slow part
 * (Argon2, PAM, or the directory of the LDAP realm). Then on the identity
 * worker: write the session or the failure.
 *
 * Which realm checks: the one the body names; without one, the stored
 * user's realm; for a name not in the store, the LDAP realm when there
 * is one (a directory user's first login needs no realm), else local.
 */
void
job_login(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "username", "password", "realm",
		NULL };
	const struct realms	*rs = env->realms;
	struct hx_store_user	 u;
	const char		*name, *pw, *realm, *check;
	char			*err = NULL, *names, *msg;
	enum realm_type		 t;
	int			 rc, ok = 0;

	memset(&u, 0, sizeof u);
	if (job_only_fields(j, fields) != 0 ||
	    job_get_str(j, "username", 1, &name) != 0 ||
	    job_get_str(j, "password", 1, &pw) != 0 ||
	    job_get_str(j, "realm", 0, &realm) != 0)
		return;
	t = realm_type(rs, realm);
	if (realm != NULL && t == REALM_OIDC) {
		msg = xasprintf("realm '%s' signs in through the browser: "
				"GET /api/auth/oidc/start",
		    realm);
		job_error(j, 422, "VALIDATION_ERROR", msg);
		free(msg);
		return;
	}
	if (realm != NULL && t == REALM_NONE) {
		names = realms_password_names(rs);
		msg = xasprintf("unknown realm '%.64s': use %s", realm, names);
		job_error(j, 422, "VALIDATION_ERROR", msg);
		free(names);
		free(msg);
		return;
	}
	rc = hx_store_user_get(env->store, name, &u, &err);
	if (rc == HX_STORE_ERROR) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	free(err);
	if (realm != NULL)
		check = realm;
	else if (rc == HX_STORE_OK)
		check = u.realm;
	else
		check = rs->ldap_name != NULL ? rs->ldap_name : "local";
	j->login_realm = xstrdup(check);
	j->then = job_login_finish;
	if (realm_type(rs, check) == REALM_LDAP) {
		directory_check(j, env, name, pw);
		hx_store_user_release(&u);
		return;
	}
	/*
	 * Every failure below costs one password check, whether or not the
	 * user exists, so timing does not tell usernames apart.
	 */
	if (rc != HX_STORE_OK || !u.enabled || strcmp(check, u.realm) != 0)
		hx_password_burn(pw);
	else if (strcmp(u.realm, "pam") == 0)
		ok = pam_check(env->pam_service, name, pw);
	else if (u.password_hash == NULL || strcmp(u.realm, "local") != 0)
		hx_password_burn(pw);
	else
		ok = hx_password_verify(u.password_hash, pw) == 1;
	j->login_ok = ok;
	if (ok && u.password_hash != NULL)
		j->login_hash = xstrdup(u.password_hash);
	hx_store_user_release(&u);
}

/* Is the user still the one whose password the pool checked? */
static int
login_still_valid(const struct job *j, const struct hx_store_user *u)
{
	if (!u->enabled)
		return 0;
	if (j->login_hash == NULL)
		return strcmp(u->realm, "pam") == 0;
	return u->password_hash != NULL && strcmp(u->realm, "local") == 0 &&
	    strcmp(u->password_hash, j->login_hash) == 0;
}

/*
 * The login's audit lines name the user as name@realm with the realm
 * that checked (a directory user's first failure has no row to read a
 * realm from), and the realm again as the detail, with why it failed.
 */
static void
login_audit(const struct worker_env *env, struct job *j, const char *name,
    const char *action, const char *why)
{
	const char *realm = j->login_realm != NULL ? j->login_realm : "local";
	char	   *who, *detail, *err = NULL;

	/* Whole, however long: the store cuts audit fields itself. */
	who = xasprintf("%s@%s", name, realm);
	detail = why != NULL ? xasprintf("%s: %s", realm, why) : xstrdup(realm);
	if (hx_store_audit_add(env->store, 0, who, action, who, detail,
		j->remote, &err) != HX_STORE_OK) {
		log_error("cannot write the audit log: %s", err);
		free(err);
	}
	free(who);
	free(detail);
}

/* 503 REALM_UNAVAILABLE: the directory of j's realm could not be asked. */
static int
realm_unavailable(struct job *j)
{
	char *msg;

	msg = xasprintf("realm '%s' cannot be reached; try again later",
	    j->login_realm);
	job_error(j, 503, "REALM_UNAVAILABLE", msg);
	free(msg);
	return -1;
}

/*
 * The identity worker's half of an external realm's login: the user made
 * or updated from what the directory said. Returns 0 with *u filled, or
 * -1 with the reply set (and audited).
 */
static int
login_external(struct job *j, const struct worker_env *env, const char *name,
    struct hx_store_user *u)
{
	char *err = NULL, *msg;
	int   rc, changed = 0;

	if (j->login_unavailable) {
		login_audit(env, j, name, "login.failed", "unavailable");
		return realm_unavailable(j);
	}
	if (!j->login_ok) {
		login_audit(env, j, name, "login.failed", j->login_why);
		j->login_failed = 1;
		job_error(j, 401, "UNAUTHORIZED",
		    "invalid username or password");
		return -1;
	}
	rc = hx_store_user_external(env->store, name, j->login_realm,
	    j->login_email, (const char *const *)j->login_roles.v, &changed, u,
	    &err);
	if (rc == HX_STORE_CONFLICT) {
		/* The directory vouched for them: they may know why. */
		login_audit(env, j, name, "login.failed", err);
		msg = xasprintf("%s; an administrator must rename one of them",
		    err);
		job_error(j, 409, "CONFLICT", msg);
		free(msg);
		free(err);
		return -1;
	}
	if (rc != HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return -1;
	}
	if (changed)
		j->changed = 1;
	if (!u->enabled) {
		login_audit(env, j, name, "login.failed", "account disabled");
		j->login_failed = 1;
		job_error(j, 401, "UNAUTHORIZED",
		    "invalid username or password");
		return -1;
	}
	return 0;
}

void
job_login_finish(struct job *j, const struct worker_env *env)
{
	struct hx_store_user u;
	const char	    *name;
	char		    *err = NULL;
	int64_t		     now;
	int		     rc = HX_STORE_NOT_FOUND;

	memset(&u, 0, sizeof u);
	name = json_string_value(json_object_get(j->body, "username"));
	if (j->login_ext) {
		if (login_external(j, env, name, &u) != 0)
			goto out;
	} else {
		/*
		 * Between the check and now the password may have changed or
		 * the user been disabled: then this login fails as a wrong
		 * one would.
		 */
		if (j->login_ok) {
			rc = hx_store_user_get(env->store, name, &u, &err);
			if (rc == HX_STORE_ERROR) {
				job_store_error(j, rc, err);
				goto out;
			}
			free(err);
			err = NULL;
		}
		if (!j->login_ok || rc != HX_STORE_OK ||
		    !login_still_valid(j, &u)) {
			login_audit(env, j, name, "login.failed", NULL);
			j->login_failed = 1;
			job_error(j, 401, "UNAUTHORIZED",
			    "invalid username or "
			    "password");
			goto out;
		}
	}

	now = time(NULL);
	/* Logins are rare and already slow: sweep dead sessions here. */
	if (hx_store_session_purge(env->store, now, NULL, &err) !=
	    HX_STORE_OK) {
		log_warn("cannot purge expired sessions: %s", err);
		free(err);
		err = NULL;
	} else
		job_delta_session_purge(j, now);
	if (job_session_start(j, env, &u, now, now + SESSION_ABSOLUTE) != 0)
		goto out;
	free(j->login_realm);
	j->login_realm = xstrdup(u.realm);
	login_audit(env, j, name, "login", NULL);
out:
	free(err);
	hx_store_user_release(&u);
}

/*
 * On the login pool: a directory user's renewal reads their groups again
 * with the service account (never on the identity worker, which must not
 * wait for a directory), then job_renew finishes on the worker.
 */
void
job_renew_directory(struct job *j, const struct worker_env *env)
{
	j->login_realm = xstrdup(env->realms->ldap_name);
	directory_check(j, env, j->actor, NULL);
	j->then = job_renew;
}

/*
 * job_renew's first step for a directory user: the roles the directory
 * gives now, or the end of every session of the user when it gives none
 * (removed from the directory or from every mapped group). Returns 0 to
 * go on renewing, or -1 with the reply set.
 */
static int
renew_external(struct job *j, const struct worker_env *env)
{
	struct hx_store_user u;
	char		    *err = NULL, *msg;
	int		     rc, changed = 0;

	memset(&u, 0, sizeof u);
	if (j->login_unavailable) {
		/* The session keeps its roles until it expires. */
		return realm_unavailable(j);
	}
	if (!j->login_ok) {
		msg = xasprintf("%s: %s", j->login_realm, j->login_why);
		identity_audit(env, j, j->actor, "renew.failed", j->actor, msg);
		free(msg);
		job_sessions_end(j, env, j->actor,
		    "the directory no longer grants access");
		job_error(j, 401, "UNAUTHORIZED", "the session has ended");
		return -1;
	}
	rc = hx_store_user_external(env->store, j->actor, j->login_realm,
	    j->login_email, (const char *const *)j->login_roles.v, &changed, &u,
	    &err);
	if (changed)
		j->changed = 1;
	if (rc != HX_STORE_OK || !u.enabled) {
		if (rc != HX_STORE_OK) {
			log_warn("cannot renew a session: %s", err);
			free(err);
		}
		hx_store_user_release(&u);
		job_error(j, 401, "UNAUTHORIZED", "the session has ended");
		return -1;
	}
	hx_store_user_release(&u);
	return 0;
}

void
job_renew(struct job *j, const struct worker_env *env)
{
	struct hx_store_session s;
	char		       *err = NULL, *token = NULL;
	int64_t			now = time(NULL), exp;
	int			rc;

	memset(&s, 0, sizeof s);
	if (j->actor_kind != ACCESS_TOKEN && j->actor_kind != ACCESS_COOKIE) {
		job_error(j, 400, "BAD_REQUEST",
		    "only a login session can be "
		    "renewed");
		return;
	}
	rc = hx_store_session_get(env->store, j->actor_cred, &s, &err);
	if (rc != HX_STORE_OK || s.absolute_expires <= now) {
		job_error(j, 401, "UNAUTHORIZED", "the session has ended");
		goto out;
	}
	/*
	 * After the session check: a user deleted while the directory was
	 * asked has no session left, and is not made again here.
	 */
	if (j->login_ext && renew_external(j, env) != 0)
		goto out;
	exp = now + SESSION_LIFETIME;
	if (exp > s.absolute_expires)
		exp = s.absolute_expires;
	if ((rc = hx_store_session_extend(env->store, s.jti, exp, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	free(err);
	err = NULL;
	if (hx_jwt_issue(env->jwt_key, ACCESS_JWT_KEY_LEN, s.username, s.jti,
		now, exp, &token, &err) != 0) {
		log_error("cannot issue a session token: %s", err);
		job_error(j, 500, "INTERNAL", "internal error");
		goto out;
	}
	j->reply = json_pack("{s:s,s:s,s:s,s:o}", "token", token, "csrf_token",
	    s.csrf_token, "username", s.username, "expires_at",
	    job_time_or_null(exp));
	j->set_cookie = session_cookie(token, exp - now);
	s.expires = exp;
	s.last_seen = now;
	job_delta_session_put(j, &s);
out:
	free(err);
	free(token);
	hx_store_session_release(&s);
}

void
job_logout(struct job *j, const struct worker_env *env)
{
	char *err = NULL;
	int   rc;

	if (j->actor_kind != ACCESS_TOKEN && j->actor_kind != ACCESS_COOKIE) {
		job_error(j, 400, "BAD_REQUEST",
		    "only a login session can "
		    "log out");
		return;
	}
	rc = hx_store_session_delete(env->store, j->actor_cred, &err);
	if (rc != HX_STORE_OK && rc != HX_STORE_NOT_FOUND) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	free(err);
	identity_audit(env, j, j->actor, "logout", j->actor, NULL);
	job_delta_session_drop(j, j->actor_cred);
	j->status = 204;
	j->set_cookie = session_cookie("", 0);
}

/* --- sessions of a user ------------------------------------------------- */

void
job_sessions_revoke(struct job *j, const struct worker_env *env)
{
	struct hx_store_user u;
	char		    *err = NULL;
	int		     rc;

	memset(&u, 0, sizeof u);
	if ((rc = hx_store_user_get(env->store, j->param[0], &u, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	hx_store_user_release(&u);
	if (job_sessions_end(j, env, j->param[0], "signed out everywhere") <
	    0) {
		job_error(j, 500, "INTERNAL", "internal error");
		return;
	}
	j->status = 204;
}

void
job_session_revoke(struct job *j, const struct worker_env *env)
{
	struct hx_store_session_list l;
	char			     id[HX_SESSION_ID_LEN + 1], *err = NULL;
	char			    *detail;
	size_t			     i;
	int			     rc;

	if ((rc = hx_store_session_list(env->store, j->param[0], &l, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	for (i = 0; i < l.n; i++) {
		if (hx_session_public_id(l.v[i].jti, id) == 0 &&
		    strcmp(id, j->param[1]) == 0)
			break;
	}
	if (i == l.n) {
		job_error(j, 404, "NOT_FOUND", "no such session");
		goto out;
	}
	if ((rc = hx_store_session_delete(env->store, l.v[i].jti, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	detail = xasprintf("session %s", id);
	identity_audit(env, j, j->actor, "session.revoke", j->param[0], detail);
	free(detail);
	job_delta_session_drop(j, l.v[i].jti);
	j->status = 204;
out:
	free(err);
	hx_store_session_list_release(&l);
}
