/*
 * job-user.c - the user jobs: add, update, delete, and a password change
 * (which ends the user's sessions). Who may hand out which role is
 * checked here; the privileges of the route itself were checked by the
 * service thread before the job was queued.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-auth.h"
#include "hx-log.h"
#include "hx-rbac.h"
#include "hx-util.h"
#include "job-identity-int.h"
#include "realm.h"

/* --- users --------------------------------------------------------------- */

static void
reply_user(struct job *j, const struct worker_env *env, const char *name,
    int status)
{
	struct hx_store_user u;
	char		    *err = NULL;
	int		     rc;

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
	if (job_get_str(j, field, 1, pw) != 0)
		return -1;
	if (strlen(*pw) < 8 || strlen(*pw) > HX_PASSWORD_MAX) {
		job_error(j, 422, "VALIDATION_ERROR",
		    "a password must be 8 "
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
	const unsigned char *p;

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
role_change_ok(struct job *j, const struct worker_env *env, char *const *before,
    char *const *after)
{
	struct hx_store_role role;
	char *const	    *lists[2] = { after, before };
	char *const	    *other[2] = { before, after };
	const char	    *name;
	char		    *msg;
	size_t		     k, i;
	int		     known;

	for (k = 0; k < 2; k++) {
		for (i = 0; lists[k] != NULL && lists[k][i] != NULL; i++) {
			name = lists[k][i];
			if (strv_contains(other[k], name))
				continue; /* kept, not changed */
			memset(&role, 0, sizeof role);
			known = hx_rbac_builtin(name) != NULL ||
			    hx_store_role_get(env->store, name, &role, NULL) ==
				HX_STORE_OK;
			hx_store_role_release(&role);
			if (!known)
				continue;
			if (!j->may_modify_perms)
				msg = xasprintf("changing roles needs "
						"PermissionsModify on /access");
			else if (!strv_contains(j->grantable.v, name))
				msg = xasprintf("role '%.64s' gives rights you "
						"do not hold",
				    name);
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
	const char		*name, *pw = NULL, *email, *realm;
	char		       **roles = NULL, *phc = NULL, *err = NULL;
	json_t			*en;
	int			 rc, enabled = 1;

	if (job_only_fields(j, fields) != 0 ||
	    job_get_str(j, "username", 1, &name) != 0 ||
	    job_get_str(j, "email", 0, &email) != 0 ||
	    job_get_str(j, "realm", 0, &realm) != 0 ||
	    job_get_strv(j, "roles", &roles) != 0)
		return;
	if (hx_rbac_name_ok("username", name, &err) != 0) {
		job_error(j, 422, "VALIDATION_ERROR", err);
		goto out;
	}
	if (role_change_ok(j, env, NULL, roles) != 0)
		goto out;
	if (realm == NULL)
		realm = "local";
	if (realm_type(env->realms, realm) == REALM_NONE) {
		char *names = realms_password_names(env->realms);

		free(err);
		err = xasprintf("realm must be %s%s%s%s", names,
		    env->realms->oidc_name != NULL ? " or '" : "",
		    env->realms->oidc_name != NULL ? env->realms->oidc_name :
						     "",
		    env->realms->oidc_name != NULL ? "'" : "");
		free(names);
		job_error(j, 422, "VALIDATION_ERROR", err);
		goto out;
	}
	if (email != NULL && !email_ok(email)) {
		job_error(j, 422, "VALIDATION_ERROR",
		    "email is not an "
		    "address");
		goto out;
	}
	if ((en = json_object_get(j->body, "enabled")) != NULL) {
		if (!json_is_boolean(en)) {
			job_error(j, 422, "VALIDATION_ERROR",
			    "'enabled' "
			    "must be true or false");
			goto out;
		}
		enabled = json_is_true(en);
	}
	if (strcmp(realm, "local") != 0) {
		/* pam, or a directory's user made before their first login */
		if (json_object_get(j->body, "password") != NULL) {
			job_error(j, 422, "VALIDATION_ERROR",
			    strcmp(realm, "pam") == 0 ?
				"a pam user's password belongs to the "
				"system, not to horcrux" :
				"a directory or provider user's password "
				"belongs to it, not to horcrux");
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
	identity_audit(env, j, j->actor, "user.add", name, realm);
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
	static const char *const    fields[] = { "email", "enabled", "roles",
		   NULL };
	struct hx_store_user_change ch = { NULL, -1, NULL };
	struct hx_store_user	    cur;
	const char		   *email;
	char			  **roles = NULL, *err = NULL;
	json_t			   *en;
	int			    rc;

	if (job_only_fields(j, fields) != 0 ||
	    job_get_str(j, "email", 0, &email) != 0 ||
	    job_get_strv(j, "roles", &roles) != 0)
		return;
	if (json_object_size(j->body) == 0) {
		job_error(j, 422, "VALIDATION_ERROR",
		    "nothing to change: give "
		    "email, enabled or roles");
		goto out;
	}
	if (email != NULL && *email != '\0' && !email_ok(email)) {
		job_error(j, 422, "VALIDATION_ERROR",
		    "email is not an "
		    "address");
		goto out;
	}
	ch.email = email;
	if ((en = json_object_get(j->body, "enabled")) != NULL) {
		if (!json_is_boolean(en)) {
			job_error(j, 422, "VALIDATION_ERROR",
			    "'enabled' "
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
	identity_audit(env, j, j->actor, "user.modify", j->param[0], NULL);
	j->changed = 1;
	/* Disabled ends every session: enabling again revives none. */
	if (ch.enabled == 0)
		job_sessions_end(j, env, j->param[0], "disabled");
	reply_user(j, env, j->param[0], 200);
out:
	free(roles);
	free(err);
}

void
job_user_delete(struct job *j, const struct worker_env *env)
{
	char *err = NULL;
	int   rc;

	if ((rc = hx_store_user_delete(env->store, j->param[0], &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	identity_audit(env, j, j->actor, "user.delete", j->param[0], NULL);
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
	if (job_only_fields(j, fields) != 0 ||
	    get_password(j, "password", &pw) != 0 ||
	    job_get_str(j, "old_password", 0, &old) != 0)
		return;
	if ((j->actor_kind == ACCESS_TOKEN || j->actor_kind == ACCESS_COOKIE) &&
	    strcmp(j->actor, j->param[0]) == 0 &&
	    hx_store_session_get(env->store, j->actor_cred, &self, NULL) !=
		HX_STORE_OK)
		hx_store_session_release(&self);
	if ((rc = hx_store_user_get(env->store, j->param[0], &u, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	if (strcmp(u.realm, "local") != 0) {
		job_error(j, 422, "VALIDATION_ERROR",
		    strcmp(u.realm, "pam") == 0 ?
			"a pam user's password belongs to the system, not "
			"to horcrux" :
			"a directory or provider user's password belongs to "
			"it, not to horcrux");
		goto out;
	}
	/* Changing one's own password without UserModify needs the old one. */
	if (!j->may_modify_users &&
	    (old == NULL || u.password_hash == NULL ||
		hx_password_verify(u.password_hash, old) != 1)) {
		if (old == NULL || u.password_hash == NULL)
			hx_password_burn(pw);
		identity_audit(env, j, j->actor, "password.failed", j->param[0],
		    NULL);
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
	identity_audit(env, j, j->actor, "password.change", j->param[0], NULL);
	j->status = 204;
	/*
	 * Whoever knew the old password may hold a session: end them all.
	 * A session changing its own password gets a fresh one in the reply,
	 * with the old one's absolute end, so the change does not log it out.
	 */
	job_sessions_end(j, env, j->param[0], "password changed");
	if (self.jti != NULL)
		job_session_start(j, env, &u, time(NULL),
		    self.absolute_expires);
out:
	free(phc);
	free(err);
	hx_store_user_release(&u);
	hx_store_session_release(&self);
}
