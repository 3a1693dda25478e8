/*
 * job-access.c - the access-control jobs: API keys (create, revoke, and
 * the last-used touch), custom roles, ACL entries, and the audit log's
 * query and daily purge. It does not decide who may do what: that is
 * access.c on the service thread, reading the identity snapshot.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-auth.h"
#include "hx-log.h"
#include "hx-rbac.h"
#include "hx-util.h"
#include "job-identity-int.h"

#define KEY_DAYS_MAX 3650

/* --- API keys ------------------------------------------------------------ */

void
job_key_create(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "name", "expires_in_days",
		"roles", NULL };
	struct hx_store_key	 k;
	const char		*name;
	char		       **roles = NULL, *token = NULL, *err = NULL, *who;
	int64_t			 n;
	char			 keyid[HX_APIKEY_ID_LEN + 1];
	char			 hash[HX_APIKEY_HASH_LEN + 1];
	json_t			*days;
	int64_t			 expires = 0;
	int			 rc;

	memset(&k, 0, sizeof k);
	if (job_only_fields(j, fields) != 0 ||
	    job_get_str(j, "name", 1, &name) != 0 ||
	    job_get_strv(j, "roles", &roles) != 0)
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
		err = xasprintf(
		    "'%.64s' already has %lld API keys, the most "
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
	identity_audit(env, j, j->actor, "apikey.create", j->param[0], keyid);
	j->status = 201;
	j->reply = job_key_json(&k);
	json_object_set_new(j->reply, "userid",
	    json_string(who = job_qualify(env, j->param[0])));
	free(who);
	json_object_set_new(j->reply, "token", json_string(token));
	json_object_set_new(j->reply, "warning",
	    json_string("store this key "
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
	char *err = NULL;
	int   rc;

	if ((rc = hx_store_key_delete(env->store, j->param[0], j->param[1],
		 &err)) != HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	identity_audit(env, j, j->actor, "apikey.revoke", j->param[0],
	    j->param[1]);
	job_delta_key_drop(j, j->param[1]);
	j->status = 204;
}

void
job_key_touch(struct job *j, const struct worker_env *env)
{
	struct hx_store_key k;
	char		   *err = NULL;

	memset(&k, 0, sizeof k);
	if (hx_store_key_touch(env->store, j->actor_cred, time(NULL), &err) ==
		HX_STORE_OK &&
	    hx_store_key_get(env->store, j->actor_cred, &k, &err) ==
		HX_STORE_OK)
		job_delta_key_put(j, &k);
	hx_store_key_release(&k);
	free(err);
}

/* --- roles and ACL ------------------------------------------------------- */

/*
 * The privilege names of a role body into *bits, or a 422 on j and -1:
 * none given, or a name that is not a privilege.
 */
static int
privs_of(struct job *j, char **privs, hx_privs *bits)
{
	char  *err = NULL;
	size_t n = 0;

	while (privs != NULL && privs[n] != NULL)
		n++;
	if (privs == NULL || n == 0 ||
	    hx_rbac_privs_parse((const char *const *)privs, n, bits, &err) !=
		0) {
		job_error(j, 422, "VALIDATION_ERROR",
		    err ? err :
			  "'privileges' must list at least one privilege");
		free(err);
		return -1;
	}
	return 0;
}

void
job_role_add(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "name", "privileges", NULL };
	const char		*name;
	char		       **privs = NULL, *err = NULL;
	hx_privs		 bits = 0;
	int			 rc;

	if (job_only_fields(j, fields) != 0 ||
	    job_get_str(j, "name", 1, &name) != 0 ||
	    job_get_strv(j, "privileges", &privs) != 0)
		return;
	if (hx_rbac_role_name_new_ok(name, &err) != 0) {
		rc = hx_rbac_builtin(name) != NULL ? HX_STORE_CONFLICT :
						     HX_STORE_INVALID;
		job_store_error(j, rc, err);
		goto out;
	}
	if (privs_of(j, privs, &bits) != 0)
		goto out;
	if ((rc = hx_store_role_add(env->store, name, bits, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	identity_audit(env, j, j->actor, "role.add", name, NULL);
	j->changed = 1;
	j->status = 201;
	j->reply = job_role_json(name, bits, 0, "/");
out:
	free(privs);
	free(err);
}

/*
 * Replace a custom role's privileges, even while users, ACL entries or
 * keys hold it: the reloaded snapshot gives every live session the new
 * rights at once. Whether the caller may hand them out was checked on the
 * service thread (http_guard_role_privs_refused).
 */
void
job_role_update(struct job *j, const struct worker_env *env)
{
	static const char *const fields[] = { "privileges", NULL };
	char		       **privs = NULL, *err = NULL;
	hx_privs		 bits = 0;
	int			 rc;

	if (job_only_fields(j, fields) != 0 ||
	    job_get_strv(j, "privileges", &privs) != 0)
		return;
	if (hx_rbac_builtin(j->param[0]) != NULL) {
		job_error(j, 409, "CONFLICT",
		    "built-in roles cannot be "
		    "modified");
		goto out;
	}
	if (privs_of(j, privs, &bits) != 0)
		goto out;
	if ((rc = hx_store_role_update(env->store, j->param[0], bits, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	identity_audit(env, j, j->actor, "role.modify", j->param[0], NULL);
	j->changed = 1;
	j->reply = job_role_json(j->param[0], bits, 0, "/");
out:
	free(privs);
	free(err);
}

void
job_role_delete(struct job *j, const struct worker_env *env)
{
	char *err = NULL;
	int   rc;

	if (hx_rbac_builtin(j->param[0]) != NULL) {
		job_error(j, 409, "CONFLICT",
		    "built-in roles cannot be "
		    "deleted");
		return;
	}
	if ((rc = hx_store_role_delete(env->store, j->param[0], &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	identity_audit(env, j, j->actor, "role.delete", j->param[0], NULL);
	j->changed = 1;
	j->status = 204;
}

/* Fill path/role/user/propagate from the body; -1 (replied) if invalid. */
static int
acl_fields(struct job *j, const char **path, const char **role,
    const char **user, int *propagate)
{
	static const char *const fields[] = { "path", "role", "user",
		"propagate", NULL };
	json_t			*p;
	char			*err = NULL;

	if (job_only_fields(j, fields) != 0 ||
	    job_get_str(j, "path", 1, path) != 0 ||
	    job_get_str(j, "role", 1, role) != 0 ||
	    job_get_str(j, "user", 1, user) != 0)
		return -1;
	if (hx_rbac_path_ok(*path, &err) != 0) {
		job_error(j, 422, "VALIDATION_ERROR", err);
		free(err);
		return -1;
	}
	*propagate = 1;
	if ((p = json_object_get(j->body, "propagate")) != NULL) {
		if (!json_is_boolean(p)) {
			job_error(j, 422, "VALIDATION_ERROR",
			    "'propagate' "
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
	const char *path, *role, *user;
	char	   *err = NULL, *detail;
	int	    propagate, rc;

	if (acl_fields(j, &path, &role, &user, &propagate) != 0)
		return;
	if ((rc = hx_store_acl_put(env->store, path, role, user, propagate,
		 &err)) != HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	detail = xasprintf("%s %s%s", path, role,
	    propagate ? "" : " (no propagate)");
	identity_audit(env, j, j->actor, "acl.grant", user, detail);
	free(detail);
	j->changed = 1;
	j->reply = json_pack("{s:s,s:s,s:s,s:b}", "path", path, "role", role,
	    "user", user, "propagate", propagate);
}

void
job_acl_delete(struct job *j, const struct worker_env *env)
{
	const char *path, *role, *user;
	char	   *err = NULL, *detail;
	int	    propagate, rc;

	if (acl_fields(j, &path, &role, &user, &propagate) != 0)
		return;
	if ((rc = hx_store_acl_delete(env->store, path, role, user, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	detail = xasprintf("%s %s", path, role);
	identity_audit(env, j, j->actor, "acl.revoke", user, detail);
	free(detail);
	j->changed = 1;
	j->status = 204;
}

/* --- audit --------------------------------------------------------------- */

void
job_audit_purge(const struct worker_env *env, void *arg)
{
	int64_t days = *(const int *)arg, n = 0;
	char   *err = NULL;

	if (hx_store_audit_purge(env->store, hx_wall_ms() - days * 86400000, &n,
		&err) != HX_STORE_OK) {
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
	char *o = s;

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
	struct hx_store_audit_filter f = { NULL, NULL, 0, 100 };
	struct hx_store_audit_list   l;
	char			    *q, *part, *save = NULL, *eq, *err = NULL;
	long long		     v;
	json_t			    *a;
	size_t			     i;
	int			     rc;

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
				job_error(j, 400, "BAD_REQUEST",
				    "'since' must "
				    "be epoch milliseconds");
				goto out;
			}
			f.since = v;
		} else if (strcmp(part, "limit") == 0) {
			if (hx_parse_ll(eq, 1, 1000, &v) != 0) {
				job_error(j, 400, "BAD_REQUEST",
				    "'limit' must "
				    "be 1 to 1000");
				goto out;
			}
			f.limit = (int)v;
		} else {
			job_error(j, 400, "BAD_REQUEST",
			    "unknown query "
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
		char ts[32];

		hx_rfc3339_ms(l.v[i].ts, ts, sizeof ts);
		json_array_append_new(a,
		    json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,"
			      "s:o}",
			"id", (json_int_t)l.v[i].id, "timestamp", ts, "actor",
			l.v[i].actor, "action", l.v[i].action, "target",
			l.v[i].target ? json_string(l.v[i].target) :
					json_null(),
			"detail",
			l.v[i].detail ? json_string(l.v[i].detail) :
					json_null(),
			"remote",
			l.v[i].remote ? json_string(l.v[i].remote) :
					json_null()));
	}
	j->reply = a;
out:
	free(q);
	free(err);
	hx_store_audit_list_release(&l);
}
