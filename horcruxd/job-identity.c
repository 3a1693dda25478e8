/*
 * job-identity.c - the identity changes that run on the worker thread:
 * login, renew, logout, users, passwords, API keys, roles, ACL entries,
 * the audit log query and its purge. A login's password check runs first
 * on the login pool (job_login), which only reads the store.
 *
 * The service thread has already authenticated the caller and checked the
 * route's privilege; a job validates its body, talks to the store, writes
 * an audit record for every change and fills the reply. Read-only views
 * (user and key listings, roles, ACL, /me) are answered by the service
 * thread from the identity cache instead, so they never wait for a job.
 */
#include <ctype.h>
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-auth.h"
#include "hx-event.h"
#include "hx-log.h"
#include "hx-rbac.h"
#include "hx-util.h"
#include "job-identity.h"

#define SESSION_LIFETIME	(2 * 3600)	/* sliding */
#define SESSION_ABSOLUTE	(12 * 3600)	/* from login */
#define KEY_DAYS_MAX		3650

static json_t *
time_or_null(int64_t secs)
{
	char	ts[32];

	if (secs == 0 || hx_rfc3339_ms(secs * 1000, ts, sizeof ts) != 0)
		return json_null();
	return json_string(ts);
}

static json_t *
strv_json(const struct hx_store_strv *v)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

json_t *
job_user_json(const struct hx_store_user *u)
{
	return json_pack("{s:s,s:s,s:o,s:b,s:o,s:o}", "username", u->username,
	    "realm", u->realm, "email", u->email ? json_string(u->email) :
	    json_null(), "enabled", u->enabled, "roles", strv_json(&u->roles),
	    "created_at", time_or_null(u->created));
}

json_t *
job_key_json(const struct hx_store_key *k)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "key_id", k->keyid,
	    "user", k->username, "name", k->name ? k->name : "",
	    "roles", k->restricted ? strv_json(&k->roles) : json_null(),
	    "expires_at", time_or_null(k->expires),
	    "created_at", time_or_null(k->created),
	    "last_used_at", time_or_null(k->last_used));
}

/*
 * name as user@realm, the realm read from the store ("local" when the
 * user is gone or unknown, e.g. a failed login's name). Whole, however
 * long: the store cuts audit fields itself, and marks the cut. The caller
 * frees it.
 */
static char *
qualify(const struct worker_env *env, const char *name)
{
	struct hx_store_user	 u;
	char			*err = NULL, *who;

	memset(&u, 0, sizeof u);
	if (hx_store_user_get(env->store, name, &u, &err) == HX_STORE_OK)
		who = xasprintf("%s@%s", name, u.realm);
	else
		who = xasprintf("%s@local", name);
	hx_store_user_release(&u);
	free(err);
	return who;
}

/*
 * Identities go into the audit log as user@realm, so the local-trust
 * administrator (root@local) never reads like a database user; so does
 * the target of every action on a user (everything but roles).
 */
static void
audit(const struct worker_env *env, struct job *j, const char *actor,
    const char *action, const char *target, const char *detail)
{
	char	*qa = NULL, *qt = NULL, *err = NULL;

	if (actor == j->actor && j->actor_who[0] != '\0')
		actor = j->actor_who;
	else
		actor = qa = qualify(env, actor);
	if (target != NULL && strncmp(action, "role.", 5) != 0) {
		if (target == j->actor && j->actor_who[0] != '\0')
			target = j->actor_who;
		else
			target = qt = qualify(env, target);
	}
	if (hx_store_audit_add(env->store, 0, actor, action, target, detail,
	    j->remote, &err) != HX_STORE_OK) {
		log_error("cannot write the audit log: %s", err);
		free(err);
	}
	free(qa);
	free(qt);
}

/* --- body helpers ---------------------------------------------------------- */

/* Refuse any key of body not in allowed (NULL-terminated). */
static int
only_fields(struct job *j, const char *const *allowed)
{
	const char	*key;
	json_t		*v;
	char		*msg;
	size_t		 i;

	if (!json_is_object(j->body)) {
		job_error(j, 400, "BAD_REQUEST", "the body must be a JSON "
		    "object");
		return -1;
	}
	json_object_foreach(j->body, key, v) {
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(key, allowed[i]) == 0)
				break;
		}
		if (allowed[i] == NULL) {
			msg = xasprintf("unknown field '%.64s'", key);
			job_error(j, 422, "VALIDATION_ERROR", msg);
			free(msg);
			return -1;
		}
	}
	return 0;
}

/* The string field name: NULL when absent; -1 (replied) when not a string. */
static int
get_str(struct job *j, const char *name, int required, const char **out)
{
	json_t	*v = json_object_get(j->body, name);
	char	*msg;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		msg = xasprintf("'%s' is required", name);
	} else if (!json_is_string(v))
		msg = xasprintf("'%s' must be a string", name);
	else {
		*out = json_string_value(v);
		if (strlen(*out) != json_string_length(v))
			msg = xasprintf("'%s' must not contain NUL", name);
		else
			return 0;
	}
	job_error(j, 422, "VALIDATION_ERROR", msg);
	free(msg);
	return -1;
}

/* A NULL-terminated copy of a JSON array of strings; -1 (replied) if not. */
static int
get_strv(struct job *j, const char *name, char ***out)
{
	json_t	*v = json_object_get(j->body, name), *e;
	char	*msg;
	size_t	 i;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > 64) {
		msg = xasprintf("'%s' must be an array of at most 64 names",
		    name);
		goto bad;
	}
	*out = xcalloc(json_array_size(v) + 1, sizeof **out);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			msg = xasprintf("'%s' must hold strings only", name);
			free(*out);
			*out = NULL;
			goto bad;
		}
		(*out)[i] = (char *)json_string_value(e);
	}
	return 0;
bad:
	job_error(j, 422, "VALIDATION_ERROR", msg);
	free(msg);
	return -1;
}

/* --- PAM ----------------------------------------------------------------- */

struct pam_answer {
	const char	*password;
};

static int
pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_answer	*a = data;
	struct pam_response	*r;
	int			 i;

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
	struct pam_answer	 a = { password };
	struct pam_conv		 conv = { pam_conv_fn, &a };
	pam_handle_t		*h = NULL;
	int			 r;

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
	    "Max-Age=%lld", ACCESS_COOKIE_NAME, token, (long long)max_age);
}

static int
random_hex(size_t nbytes, char **out)
{
	unsigned char	buf[64];

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
static int
start_session(struct job *j, const struct worker_env *env,
    const struct hx_store_user *u, int64_t now, int64_t abs_exp)
{
	struct hx_store_session	 se;
	char			*jti = NULL, *csrf = NULL, *token = NULL;
	char			*err = NULL;
	int64_t			 exp = now + SESSION_LIFETIME;
	int			 rc, ret = -1;

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
		j->changed = 1;	/* cannot happen; reload everything */
	hx_store_session_release(&se);
	j->status = 200;
	json_decref(j->reply);
	j->reply = json_pack("{s:s,s:s,s:s,s:o,s:o}", "token", token,
	    "csrf_token", csrf, "username", u->username, "roles",
	    strv_json(&u->roles), "expires_at", time_or_null(exp));
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
static int
revoke_sessions(struct job *j, const struct worker_env *env,
    const char *user, const char *why)
{
	struct hx_store_strv	 jtis = { NULL, 0 };
	char			*err = NULL, *detail;
	size_t			 i;
	int			 n;

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
		detail = xasprintf("%s: %d session%s", why, n, n == 1 ? "" :
		    "s");
		audit(env, j, j->actor, "session.revoke", user, detail);
		free(detail);
	}
	return n;
}

/*
 * A login runs in two steps. On the login pool (its own read connection):
 * validate the body, read the user and check the password, the slow part.
 * Then on the identity worker: write the session or the failure.
 */
void
job_login(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "username", "password", "realm",
	    NULL };
	struct hx_store_user	 u;
	const char		*name, *pw, *realm;
	char			*err = NULL;
	int			 rc, ok = 0;

	memset(&u, 0, sizeof u);
	if (only_fields(j, fields) != 0 || get_str(j, "username", 1,
	    &name) != 0 || get_str(j, "password", 1, &pw) != 0 ||
	    get_str(j, "realm", 0, &realm) != 0)
		return;
	if (realm != NULL && strcmp(realm, "local") != 0 &&
	    strcmp(realm, "pam") != 0) {
		job_error(j, 422, "VALIDATION_ERROR", "realm must be 'local' "
		    "or 'pam'");
		return;
	}
	rc = hx_store_user_get(env->store, name, &u, &err);
	if (rc == HX_STORE_ERROR) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	free(err);
	/*
	 * Every failure below costs one password check, whether or not the
	 * user exists, so timing does not tell usernames apart.
	 */
	if (rc != HX_STORE_OK || !u.enabled || (realm != NULL &&
	    strcmp(realm, u.realm) != 0))
		hx_password_burn(pw);
	else if (strcmp(u.realm, "pam") == 0)
		ok = pam_check(env->pam_service, name, pw);
	else if (u.password_hash == NULL)
		hx_password_burn(pw);
	else
		ok = hx_password_verify(u.password_hash, pw) == 1;
	j->login_ok = ok;
	if (ok && u.password_hash != NULL)
		j->login_hash = xstrdup(u.password_hash);
	j->then = job_login_finish;
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

void
job_login_finish(struct job *j, const struct worker_env *env)
{
	struct hx_store_user	 u;
	const char		*name;
	char			*err = NULL;
	int64_t			 now;
	int			 rc = HX_STORE_NOT_FOUND;

	memset(&u, 0, sizeof u);
	name = json_string_value(json_object_get(j->body, "username"));
	/*
	 * Between the check and now the password may have changed or the
	 * user been disabled: then this login fails as a wrong one would.
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
	if (!j->login_ok || rc != HX_STORE_OK || !login_still_valid(j, &u)) {
		audit(env, j, name, "login.failed", name, NULL);
		j->login_failed = 1;
		job_error(j, 401, "UNAUTHORIZED", "invalid username or "
		    "password");
		goto out;
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
	if (start_session(j, env, &u, now, now + SESSION_ABSOLUTE) != 0)
		goto out;
	audit(env, j, name, "login", name, u.realm);
out:
	free(err);
	hx_store_user_release(&u);
}

void
job_renew(struct job *j, const struct worker_env *env)
{
	struct hx_store_session	 s;
	char			*err = NULL, *token = NULL;
	int64_t			 now = time(NULL), exp;
	int			 rc;

	memset(&s, 0, sizeof s);
	if (j->actor_kind != ACCESS_TOKEN && j->actor_kind != ACCESS_COOKIE) {
		job_error(j, 400, "BAD_REQUEST", "only a login session can be "
		    "renewed");
		return;
	}
	rc = hx_store_session_get(env->store, j->actor_cred, &s, &err);
	if (rc != HX_STORE_OK || s.absolute_expires <= now) {
		job_error(j, 401, "UNAUTHORIZED", "the session has ended");
		goto out;
	}
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
	j->reply = json_pack("{s:s,s:s,s:s,s:o}", "token", token,
	    "csrf_token", s.csrf_token, "username", s.username, "expires_at",
	    time_or_null(exp));
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
	char	*err = NULL;
	int	 rc;

	if (j->actor_kind != ACCESS_TOKEN && j->actor_kind != ACCESS_COOKIE) {
		job_error(j, 400, "BAD_REQUEST", "only a login session can "
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
	audit(env, j, j->actor, "logout", j->actor, NULL);
	job_delta_session_drop(j, j->actor_cred);
	j->status = 204;
	j->set_cookie = session_cookie("", 0);
}

/* --- users --------------------------------------------------------------- */

static void
reply_user(struct job *j, const struct worker_env *env, const char *name,
    int status)
{
	struct hx_store_user	 u;
	char			*err = NULL;
	int			 rc;

	memset(&u, 0, sizeof u);
	if ((rc = hx_store_user_get(env->store, name, &u, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	j->status = status;
	j->reply = job_user_json(&u);
	hx_store_user_release(&u);
}

static int
get_password(struct job *j, const char *field, const char **pw)
{
	if (get_str(j, field, 1, pw) != 0)
		return -1;
	if (strlen(*pw) < 8 || strlen(*pw) > HX_PASSWORD_MAX) {
		job_error(j, 422, "VALIDATION_ERROR", "a password must be 8 "
		    "to 1024 bytes long");
		return -1;
	}
	return 0;
}


/*
 * An e-mail address as far as we check one: at most 254 bytes, an '@',
 * and no spaces or control characters (it is shown on terminals).
 */
static int
email_ok(const char *e)
{
	const unsigned char	*p;

	if (strlen(e) > 254 || strchr(e, '@') == NULL)
		return 0;
	for (p = (const unsigned char *)e; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static int
strv_contains(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++) {
		if (strcmp(*v, s) == 0)
			return 1;
	}
	return 0;
}

/*
 * Proxmox's rule for a user's roles: adding or taking one away needs
 * PermissionsModify on /access, and the role's privileges held by the
 * caller at its scope (j->grantable, worked out by the service thread),
 * so nobody hands out rights they lack or strips them from a stronger
 * user. Roles that exist nowhere are left for the store to refuse.
 * Returns 0, or -1 with the 403 reply set.
 */
static int
role_change_ok(struct job *j, const struct worker_env *env,
    char *const *before, char *const *after)
{
	struct hx_store_role	 role;
	char *const		*lists[2] = { after, before };
	char *const		*other[2] = { before, after };
	const char		*name;
	char			*msg;
	size_t			 k, i;
	int			 known;

	for (k = 0; k < 2; k++) {
		for (i = 0; lists[k] != NULL && lists[k][i] != NULL; i++) {
			name = lists[k][i];
			if (strv_contains(other[k], name))
				continue;	/* kept, not changed */
			memset(&role, 0, sizeof role);
			known = hx_rbac_builtin(name) != NULL ||
			    hx_store_role_get(env->store, name, &role,
			    NULL) == HX_STORE_OK;
			hx_store_role_release(&role);
			if (!known)
				continue;
			if (!j->may_modify_perms)
				msg = xasprintf("changing roles needs "
				    "PermissionsModify on /access");
			else if (!strv_contains(j->grantable.v, name))
				msg = xasprintf("role '%.64s' gives rights you "
				    "do not hold", name);
			else
				continue;
			job_error(j, 403, "FORBIDDEN", msg);
			free(msg);
			return -1;
		}
	}
	return 0;
}

void
job_user_add(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "username", "password", "email",
	    "realm", "roles", "enabled", NULL };
	const char	*name, *pw = NULL, *email, *realm;
	char		**roles = NULL, *phc = NULL, *err = NULL;
	json_t		*en;
	int		 rc, enabled = 1;

	if (only_fields(j, fields) != 0 || get_str(j, "username", 1,
	    &name) != 0 || get_str(j, "email", 0, &email) != 0 ||
	    get_str(j, "realm", 0, &realm) != 0 ||
	    get_strv(j, "roles", &roles) != 0)
		return;
	if (hx_rbac_name_ok("username", name, &err) != 0) {
		job_error(j, 422, "VALIDATION_ERROR", err);
		goto out;
	}
	if (role_change_ok(j, env, NULL, roles) != 0)
		goto out;
	if (realm == NULL)
		realm = "local";
	if (strcmp(realm, "local") != 0 && strcmp(realm, "pam") != 0) {
		job_error(j, 422, "VALIDATION_ERROR", "realm must be 'local' "
		    "or 'pam'");
		goto out;
	}
	if (email != NULL && !email_ok(email)) {
		job_error(j, 422, "VALIDATION_ERROR", "email is not an "
		    "address");
		goto out;
	}
	if ((en = json_object_get(j->body, "enabled")) != NULL) {
		if (!json_is_boolean(en)) {
			job_error(j, 422, "VALIDATION_ERROR", "'enabled' "
			    "must be true or false");
			goto out;
		}
		enabled = json_is_true(en);
	}
	if (strcmp(realm, "pam") == 0) {
		if (json_object_get(j->body, "password") != NULL) {
			job_error(j, 422, "VALIDATION_ERROR", "a pam user's "
			    "password belongs to the system, not to horcrux");
			goto out;
		}
	} else {
		if (get_password(j, "password", &pw) != 0)
			goto out;
		if (hx_password_hash(pw, &phc, &err) != 0) {
			log_error("cannot hash a password: %s", err);
			job_error(j, 500, "INTERNAL", "internal error");
			goto out;
		}
	}
	rc = hx_store_user_add(env->store, name, realm, email, enabled, phc,
	    (const char *const *)roles, &err);
	if (rc != HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	audit(env, j, j->actor, "user.add", name, realm);
	j->changed = 1;
	reply_user(j, env, name, 201);
out:
	free(roles);
	free(phc);
	free(err);
}

void
job_user_update(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "email", "enabled", "roles",
	    NULL };
	struct hx_store_user_change	 ch = { NULL, -1, NULL };
	struct hx_store_user		 cur;
	const char			*email;
	char				**roles = NULL, *err = NULL;
	json_t				*en;
	int				 rc;

	if (only_fields(j, fields) != 0 || get_str(j, "email", 0,
	    &email) != 0 || get_strv(j, "roles", &roles) != 0)
		return;
	if (json_object_size(j->body) == 0) {
		job_error(j, 422, "VALIDATION_ERROR", "nothing to change: give "
		    "email, enabled or roles");
		goto out;
	}
	if (email != NULL && *email != '\0' && !email_ok(email)) {
		job_error(j, 422, "VALIDATION_ERROR", "email is not an "
		    "address");
		goto out;
	}
	ch.email = email;
	if ((en = json_object_get(j->body, "enabled")) != NULL) {
		if (!json_is_boolean(en)) {
			job_error(j, 422, "VALIDATION_ERROR", "'enabled' "
			    "must be true or false");
			goto out;
		}
		ch.enabled = json_is_true(en);
	}
	if (roles != NULL) {
		memset(&cur, 0, sizeof cur);
		if ((rc = hx_store_user_get(env->store, j->param[0], &cur,
		    &err)) != HX_STORE_OK) {
			job_store_error(j, rc, err);
			goto out;
		}
		rc = role_change_ok(j, env, cur.roles.v, roles);
		hx_store_user_release(&cur);
		if (rc != 0)
			goto out;
	}
	ch.roles = (const char *const *)roles;
	if ((rc = hx_store_user_update(env->store, j->param[0], &ch, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	audit(env, j, j->actor, "user.modify", j->param[0], NULL);
	j->changed = 1;
	/* Disabled ends every session: enabling again revives none. */
	if (ch.enabled == 0)
		revoke_sessions(j, env, j->param[0], "disabled");
	reply_user(j, env, j->param[0], 200);
out:
	free(roles);
	free(err);
}

void
job_user_delete(struct job *j, const struct worker_env *env)
{
	char	*err = NULL;
	int	 rc;

	if ((rc = hx_store_user_delete(env->store, j->param[0], &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	audit(env, j, j->actor, "user.delete", j->param[0], NULL);
	j->changed = 1;
	j->status = 204;
}

void
job_user_password(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "password", "old_password",
	    NULL };
	struct hx_store_user	 u;
	struct hx_store_session	 self;
	const char		*pw, *old;
	char			*phc = NULL, *err = NULL;
	int			 rc;

	memset(&u, 0, sizeof u);
	memset(&self, 0, sizeof self);
	if (only_fields(j, fields) != 0 || get_password(j, "password",
	    &pw) != 0 || get_str(j, "old_password", 0, &old) != 0)
		return;
	if ((j->actor_kind == ACCESS_TOKEN || j->actor_kind ==
	    ACCESS_COOKIE) && strcmp(j->actor, j->param[0]) == 0 &&
	    hx_store_session_get(env->store, j->actor_cred, &self,
	    NULL) != HX_STORE_OK)
		hx_store_session_release(&self);
	if ((rc = hx_store_user_get(env->store, j->param[0], &u, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	if (strcmp(u.realm, "pam") == 0) {
		job_error(j, 422, "VALIDATION_ERROR", "a pam user's password "
		    "belongs to the system, not to horcrux");
		goto out;
	}
	/* Changing one's own password without UserModify needs the old one. */
	if (!j->may_modify_users && (old == NULL || u.password_hash == NULL ||
	    hx_password_verify(u.password_hash, old) != 1)) {
		if (old == NULL || u.password_hash == NULL)
			hx_password_burn(pw);
		audit(env, j, j->actor, "password.failed", j->param[0], NULL);
		j->login_failed = 1;
		job_error(j, 403, "FORBIDDEN", "the old password is wrong");
		goto out;
	}
	if (hx_password_hash(pw, &phc, &err) != 0) {
		log_error("cannot hash a password: %s", err);
		job_error(j, 500, "INTERNAL", "internal error");
		goto out;
	}
	if ((rc = hx_store_user_set_password(env->store, j->param[0], phc,
	    &err)) != HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	audit(env, j, j->actor, "password.change", j->param[0], NULL);
	j->status = 204;
	/*
	 * Whoever knew the old password may hold a session: end them all.
	 * A session changing its own password gets a fresh one in the reply,
	 * with the old one's absolute end, so the change does not log it out.
	 */
	revoke_sessions(j, env, j->param[0], "password changed");
	if (self.jti != NULL)
		start_session(j, env, &u, time(NULL), self.absolute_expires);
out:
	free(phc);
	free(err);
	hx_store_user_release(&u);
	hx_store_session_release(&self);
}

/* --- sessions of a user ------------------------------------------------- */

json_t *
job_session_json(const struct hx_store_session *se, const char *current_jti)
{
	char	id[HX_SESSION_ID_LEN + 1];

	hx_session_public_id(se->jti, id);
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:b}", "id", id,
	    "user", se->username, "created_at", time_or_null(se->created),
	    "expires_at", time_or_null(se->expires), "absolute_expires_at",
	    time_or_null(se->absolute_expires), "last_renewed_at",
	    se->last_seen > se->created ? time_or_null(se->last_seen) :
	    json_null(), "remote", se->remote != NULL ?
	    json_string(se->remote) : json_null(), "current",
	    current_jti != NULL && strcmp(se->jti, current_jti) == 0);
}

void
job_sessions_revoke(struct job *j, const struct worker_env *env)
{
	struct hx_store_user	 u;
	char			*err = NULL;
	int			 rc;

	memset(&u, 0, sizeof u);
	if ((rc = hx_store_user_get(env->store, j->param[0], &u, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	hx_store_user_release(&u);
	if (revoke_sessions(j, env, j->param[0], "signed out everywhere") <
	    0) {
		job_error(j, 500, "INTERNAL", "internal error");
		return;
	}
	j->status = 204;
}

void
job_session_revoke(struct job *j, const struct worker_env *env)
{
	struct hx_store_session_list	 l;
	char				 id[HX_SESSION_ID_LEN + 1], *err = NULL;
	char				*detail;
	size_t				 i;
	int				 rc;

	if ((rc = hx_store_session_list(env->store, j->param[0], &l,
	    &err)) != HX_STORE_OK) {
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
	audit(env, j, j->actor, "session.revoke", j->param[0], detail);
	free(detail);
	job_delta_session_drop(j, l.v[i].jti);
	j->status = 204;
out:
	free(err);
	hx_store_session_list_release(&l);
}

/* --- API keys ------------------------------------------------------------ */

void
job_key_create(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "name", "expires_in_days",
	    "roles", NULL };
	struct hx_store_key	 k;
	const char		*name;
	char			**roles = NULL, *token = NULL, *err = NULL;
	int64_t			 n;
	char			 keyid[HX_APIKEY_ID_LEN + 1];
	char			 hash[HX_APIKEY_HASH_LEN + 1];
	json_t			*days;
	int64_t			 expires = 0;
	int			 rc;

	memset(&k, 0, sizeof k);
	if (only_fields(j, fields) != 0 || get_str(j, "name", 1, &name) != 0 ||
	    get_strv(j, "roles", &roles) != 0)
		return;
	if (hx_rbac_name_ok("key name", name, &err) != 0) {
		job_error(j, 422, "VALIDATION_ERROR", err);
		goto out;
	}
	if ((days = json_object_get(j->body, "expires_in_days")) != NULL &&
	    !json_is_null(days)) {
		if (!json_is_integer(days) || json_integer_value(days) < 1 ||
		    json_integer_value(days) > KEY_DAYS_MAX) {
			job_error(j, 422, "VALIDATION_ERROR",
			    "'expires_in_days' must be a whole number from 1 "
			    "to 3650");
			goto out;
		}
		expires = time(NULL) + json_integer_value(days) * 86400;
	}
	/*
	 * A cap, so one account cannot grow the identity snapshot every
	 * request is checked against without bound. This worker is the only
	 * writer: the count cannot change before the insert.
	 */
	if ((rc = hx_store_key_count(env->store, j->param[0], &n, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	if (j->max_keys > 0 && n >= j->max_keys) {
		free(err);
		err = xasprintf("'%.64s' already has %lld API keys, the most "
		    "allowed (max_api_keys_per_user); revoke one first",
		    j->param[0], (long long)n);
		job_error(j, 409, "CONFLICT", err);
		goto out;
	}
	if (hx_apikey_new(&token, keyid, hash, &err) != 0) {
		log_error("cannot make an API key: %s", err);
		job_error(j, 500, "INTERNAL", "internal error");
		goto out;
	}
	rc = hx_store_key_add(env->store, keyid, j->param[0], name, hash,
	    (const char *const *)roles, expires, &err);
	if (rc == HX_STORE_OK)
		rc = hx_store_key_get(env->store, keyid, &k, &err);
	if (rc != HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	audit(env, j, j->actor, "apikey.create", j->param[0], keyid);
	j->status = 201;
	j->reply = job_key_json(&k);
	json_object_set_new(j->reply, "token", json_string(token));
	json_object_set_new(j->reply, "warning", json_string("store this key "
	    "now: it cannot be shown again"));
	job_delta_key_put(j, &k);
out:
	if (token != NULL)
		explicit_bzero(token, strlen(token));
	free(token);
	free(roles);
	free(err);
	hx_store_key_release(&k);
}

void
job_key_delete(struct job *j, const struct worker_env *env)
{
	char	*err = NULL;
	int	 rc;

	if ((rc = hx_store_key_delete(env->store, j->param[0], j->param[1],
	    &err)) != HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	audit(env, j, j->actor, "apikey.revoke", j->param[0], j->param[1]);
	job_delta_key_drop(j, j->param[1]);
	j->status = 204;
}

void
job_key_touch(struct job *j, const struct worker_env *env)
{
	struct hx_store_key	 k;
	char			*err = NULL;

	memset(&k, 0, sizeof k);
	if (hx_store_key_touch(env->store, j->actor_cred, time(NULL), &err) ==
	    HX_STORE_OK && hx_store_key_get(env->store, j->actor_cred, &k,
	    &err) == HX_STORE_OK)
		job_delta_key_put(j, &k);
	hx_store_key_release(&k);
	free(err);
}

/* --- roles and ACL ------------------------------------------------------- */

void
job_role_add(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "name", "privileges", NULL };
	const char	*name;
	char		**privs = NULL, *err = NULL;
	hx_privs	 bits = 0;
	size_t		 n = 0;
	int		 rc;

	if (only_fields(j, fields) != 0 || get_str(j, "name", 1, &name) != 0 ||
	    get_strv(j, "privileges", &privs) != 0)
		return;
	if (hx_rbac_role_name_new_ok(name, &err) != 0) {
		rc = hx_rbac_builtin(name) != NULL ? HX_STORE_CONFLICT :
		    HX_STORE_INVALID;
		job_store_error(j, rc, err);
		goto out;
	}
	while (privs != NULL && privs[n] != NULL)
		n++;
	if (privs == NULL || n == 0 || hx_rbac_privs_parse(
	    (const char *const *)privs, n, &bits, &err) != 0) {
		job_error(j, 422, "VALIDATION_ERROR", err ? err :
		    "'privileges' must list at least one privilege");
		goto out;
	}
	if ((rc = hx_store_role_add(env->store, name, bits, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	audit(env, j, j->actor, "role.add", name, NULL);
	j->changed = 1;
	j->status = 201;
	j->reply = job_role_json(name, bits, 0, "/");
out:
	free(privs);
	free(err);
}

void
job_role_delete(struct job *j, const struct worker_env *env)
{
	char	*err = NULL;
	int	 rc;

	if (hx_rbac_builtin(j->param[0]) != NULL) {
		job_error(j, 409, "CONFLICT", "built-in roles cannot be "
		    "deleted");
		return;
	}
	if ((rc = hx_store_role_delete(env->store, j->param[0], &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	audit(env, j, j->actor, "role.delete", j->param[0], NULL);
	j->changed = 1;
	j->status = 204;
}

json_t *
job_role_json(const char *name, hx_privs privs, int builtin,
    const char *scope)
{
	json_t	*names = json_array();
	int	 i;

	for (i = 0; i < HX_PRIV_COUNT; i++) {
		if (privs & (1u << i))
			json_array_append_new(names,
			    json_string(hx_priv_name(1u << i)));
	}
	return json_pack("{s:s,s:o,s:b,s:s}", "name", name, "privileges",
	    names, "builtin", builtin, "scope", scope);
}

/* Fill path/role/user/propagate from the body; -1 (replied) if invalid. */
static int
acl_fields(struct job *j, const char **path, const char **role,
    const char **user, int *propagate)
{
	static const char *const fields[] = { "path", "role", "user",
	    "propagate", NULL };
	json_t	*p;
	char	*err = NULL;

	if (only_fields(j, fields) != 0 || get_str(j, "path", 1, path) != 0 ||
	    get_str(j, "role", 1, role) != 0 || get_str(j, "user", 1,
	    user) != 0)
		return -1;
	if (hx_rbac_path_ok(*path, &err) != 0) {
		job_error(j, 422, "VALIDATION_ERROR", err);
		free(err);
		return -1;
	}
	*propagate = 1;
	if ((p = json_object_get(j->body, "propagate")) != NULL) {
		if (!json_is_boolean(p)) {
			job_error(j, 422, "VALIDATION_ERROR", "'propagate' "
			    "must be true or false");
			return -1;
		}
		*propagate = json_is_true(p);
	}
	return 0;
}

void
job_acl_put(struct job *j, const struct worker_env *env)
{
	const char	*path, *role, *user;
	char		*err = NULL, *detail;
	int		 propagate, rc;

	if (acl_fields(j, &path, &role, &user, &propagate) != 0)
		return;
	if ((rc = hx_store_acl_put(env->store, path, role, user, propagate,
	    &err)) != HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	detail = xasprintf("%s %s%s", path, role, propagate ? "" :
	    " (no propagate)");
	audit(env, j, j->actor, "acl.grant", user, detail);
	free(detail);
	j->changed = 1;
	j->reply = json_pack("{s:s,s:s,s:s,s:b}", "path", path, "role", role,
	    "user", user, "propagate", propagate);
}

void
job_acl_delete(struct job *j, const struct worker_env *env)
{
	const char	*path, *role, *user;
	char		*err = NULL, *detail;
	int		 propagate, rc;

	if (acl_fields(j, &path, &role, &user, &propagate) != 0)
		return;
	if ((rc = hx_store_acl_delete(env->store, path, role, user, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	detail = xasprintf("%s %s", path, role);
	audit(env, j, j->actor, "acl.revoke", user, detail);
	free(detail);
	j->changed = 1;
	j->status = 204;
}

/* --- audit --------------------------------------------------------------- */

void
job_audit_purge(const struct worker_env *env, void *arg)
{
	int64_t	 days = *(const int *)arg, n = 0;
	char	*err = NULL;

	if (hx_store_audit_purge(env->store, hx_wall_ms() - days * 86400000,
	    &n, &err) != HX_STORE_OK) {
		log_warn("cannot purge the audit log: %s", err);
		free(err);
		return;
	}
	if (n > 0)
		log_info("purged %lld audit record(s) older than %lld days",
		    (long long)n, (long long)days);
}

/* Decode %XX and '+' in place. */
static void
url_decode(char *s)
{
	char	*o = s;

	for (; *s != '\0'; s++) {
		if (*s == '%' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			char h[3] = { s[1], s[2], '\0' };

			*o++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else
			*o++ = *s == '+' ? ' ' : *s;
	}
	*o = '\0';
}

void
job_audit(struct job *j, const struct worker_env *env)
{
	struct hx_store_audit_filter	 f = { NULL, NULL, 0, 100 };
	struct hx_store_audit_list	 l;
	char				*q, *part, *save = NULL, *eq, *err = NULL;
	long long			 v;
	json_t				*a;
	size_t				 i;
	int				 rc;

	memset(&l, 0, sizeof l);
	q = xstrdup(j->query != NULL ? j->query : "");
	for (part = strtok_r(q, "&", &save); part != NULL;
	    part = strtok_r(NULL, "&", &save)) {
		if ((eq = strchr(part, '=')) == NULL)
			continue;
		*eq++ = '\0';
		url_decode(eq);
		if (strcmp(part, "user") == 0)
			f.actor = eq;
		else if (strcmp(part, "action") == 0)
			f.action = eq;
		else if (strcmp(part, "since") == 0) {
			if (hx_parse_ll(eq, 0, INT64_MAX / 2, &v) != 0) {
				job_error(j, 400, "BAD_REQUEST", "'since' must "
				    "be epoch milliseconds");
				goto out;
			}
			f.since = v;
		} else if (strcmp(part, "limit") == 0) {
			if (hx_parse_ll(eq, 1, 1000, &v) != 0) {
				job_error(j, 400, "BAD_REQUEST", "'limit' must "
				    "be 1 to 1000");
				goto out;
			}
			f.limit = (int)v;
		} else {
			job_error(j, 400, "BAD_REQUEST", "unknown query "
			    "parameter");
			goto out;
		}
	}
	if ((rc = hx_store_audit_query(env->store, &f, &l, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	a = json_array();
	for (i = 0; i < l.n; i++) {
		char	ts[32];

		hx_rfc3339_ms(l.v[i].ts, ts, sizeof ts);
		json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,"
		    "s:o}", "id", (json_int_t)l.v[i].id, "timestamp", ts,
		    "actor", l.v[i].actor, "action", l.v[i].action, "target",
		    l.v[i].target ? json_string(l.v[i].target) : json_null(),
		    "detail", l.v[i].detail ? json_string(l.v[i].detail) :
		    json_null(), "remote", l.v[i].remote ?
		    json_string(l.v[i].remote) : json_null()));
	}
	j->reply = a;
out:
	free(q);
	free(err);
	hx_store_audit_list_release(&l);
}
