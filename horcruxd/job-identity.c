/*
 * job-identity.c - what the identity jobs share: the audit record every
 * change writes (identities as user@realm), the body helpers that
 * validate a request's JSON fields, and the JSON shapes of users, keys,
 * sessions and roles that the service thread's read routes show too.
 *
 * The jobs themselves live by concern: job-login.c (login, renew,
 * logout, sessions), job-user.c (users and passwords) and job-access.c
 * (API keys, roles, ACL entries, the audit log). They all run on the
 * worker thread, except a login's password check, which runs first on the
 * login pool (job_login) and only reads the store.
 *
 * The service thread has already authenticated the caller and checked the
 * route's privilege; a job validates its body, talks to the store, writes
 * an audit record for every change and fills the reply. Read-only views
 * (user and key listings, roles, ACL, /me) are answered by the service
 * thread from the identity cache instead, so they never wait for a job.
 * This file holds no job of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "hx-auth.h"
#include "hx-log.h"
#include "hx-rbac.h"
#include "hx-util.h"
#include "job-identity-int.h"

/* --- JSON of users and keys, audit ---------------------------------------- */

json_t *
job_time_or_null(int64_t secs)
{
	char ts[32];

	if (secs == 0 || hx_rfc3339_ms(secs * 1000, ts, sizeof ts) != 0)
		return json_null();
	return json_string(ts);
}

json_t *
job_strv_json(const struct hx_store_strv *v)
{
	json_t *a = json_array();
	size_t	i;

	for (i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

json_t *
job_user_json(const struct hx_store_user *u)
{
	return json_pack("{s:s,s:s,s:o,s:b,s:o,s:o}", "username", u->username,
	    "realm", u->realm, "email",
	    u->email ? json_string(u->email) : json_null(), "enabled",
	    u->enabled, "roles", job_strv_json(&u->roles), "created_at",
	    job_time_or_null(u->created));
}

json_t *
job_key_json(const struct hx_store_key *k)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "key_id", k->keyid,
	    "user", k->username, "name", k->name ? k->name : "", "roles",
	    k->restricted ? job_strv_json(&k->roles) : json_null(),
	    "expires_at", job_time_or_null(k->expires), "created_at",
	    job_time_or_null(k->created), "last_used_at",
	    job_time_or_null(k->last_used));
}

/*
 * name as user@realm, the realm read from the store ("local" when the
 * user is gone or unknown, e.g. a failed login's name). Whole, however
 * long: the store cuts audit fields itself, and marks the cut. The caller
 * frees it.
 */
char *
job_qualify(const struct worker_env *env, const char *name)
{
	struct hx_store_user u;
	char		    *err = NULL, *who;

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
void
identity_audit(const struct worker_env *env, struct job *j, const char *actor,
    const char *action, const char *target, const char *detail)
{
	char *qa = NULL, *qt = NULL, *err = NULL;

	if (actor == j->actor && j->actor_who[0] != '\0')
		actor = j->actor_who;
	else
		actor = qa = job_qualify(env, actor);
	if (target != NULL && strncmp(action, "role.", 5) != 0) {
		if (target == j->actor && j->actor_who[0] != '\0')
			target = j->actor_who;
		else
			target = qt = job_qualify(env, target);
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
int
job_only_fields(struct job *j, const char *const *allowed)
{
	const char *key;
	json_t	   *v;
	char	   *msg;
	size_t	    i;

	if (!json_is_object(j->body)) {
		job_error(j, 400, "BAD_REQUEST",
		    "the body must be a JSON "
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
int
job_get_str(struct job *j, const char *name, int required, const char **out)
{
	json_t *v = json_object_get(j->body, name);
	char   *msg;

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
int
job_get_strv(struct job *j, const char *name, char ***out)
{
	json_t *v = json_object_get(j->body, name), *e;
	char   *msg;
	size_t	i;

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

/* --- JSON of sessions and roles ------------------------------------------ */

json_t *
job_session_json(const struct hx_store_session *se, const char *current_jti)
{
	char id[HX_SESSION_ID_LEN + 1];

	hx_session_public_id(se->jti, id);
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:b}", "id", id, "user",
	    se->username, "created_at", job_time_or_null(se->created),
	    "expires_at", job_time_or_null(se->expires), "absolute_expires_at",
	    job_time_or_null(se->absolute_expires), "last_renewed_at",
	    se->last_seen > se->created ? job_time_or_null(se->last_seen) :
					  json_null(),
	    "remote",
	    se->remote != NULL ? json_string(se->remote) : json_null(),
	    "current",
	    current_jti != NULL && strcmp(se->jti, current_jti) == 0);
}

json_t *
job_role_json(const char *name, hx_privs privs, int builtin, const char *scope)
{
	json_t *names = json_array();
	int	i;

	for (i = 0; i < HX_PRIV_COUNT; i++) {
		if (privs & (1u << i))
			json_array_append_new(names,
			    json_string(hx_priv_name(1u << i)));
	}
	return json_pack("{s:s,s:o,s:b,s:s}", "name", name, "privileges", names,
	    "builtin", builtin, "scope", scope);
}
