/*
 * job-identity-int.h - private to the identity jobs (job-identity.c,
 * job-login.c, job-user.c, job-access.c): the helpers they share. Other
 * files include job-identity.h only.
 */
#ifndef HORCRUXD_JOB_IDENTITY_INT_H
#define HORCRUXD_JOB_IDENTITY_INT_H

#include <stdint.h>

#include "job-identity.h"

/* secs as an RFC 3339 string, or null when 0. Caller owns the reference. */
json_t *job_time_or_null(int64_t secs);
/* v as a JSON array of strings. Caller owns the reference. */
json_t *job_strv_json(const struct hx_store_strv *v);

/*
 * name as user@realm, the realm read from the store ("local" when the
 * user is gone or unknown). The caller frees it.
 */
char *job_qualify(const struct worker_env *env, const char *name);

/*
 * Write an audit record of action by actor on target (either may be
 * j->actor, which is then shown as j->actor_who), qualified as
 * user@realm; targets of role.* actions stay bare. A store failure is
 * logged, never replied.
 */
void identity_audit(const struct worker_env *env, struct job *j,
    const char *actor, const char *action, const char *target,
    const char *detail);

/* Refuse any key of body not in allowed (NULL-terminated). */
int job_only_fields(struct job *j, const char *const *allowed);
/*
 * The string field name into *out (pointing into j->body): NULL when
 * absent, 0; -1 (replied) when not a string or required and missing.
 */
int job_get_str(struct job *j, const char *name, int required,
    const char **out);
/*
 * A NULL-terminated copy of a JSON array of strings into *out; the caller
 * frees the array, not the strings (they belong to j->body). -1 (replied)
 * if not one.
 */
int job_get_strv(struct job *j, const char *name, char ***out);

/*
 * Start a login session of u that ends by abs_exp at the latest: the
 * reply {token, csrf_token, username, roles, expires_at} with status 200
 * and the session cookie. Returns 0, or -1 with the error reply set.
 */
int job_session_start(struct job *j, const struct worker_env *env,
    const struct hx_store_user *u, int64_t now, int64_t abs_exp);
/*
 * End every login session of user and audit it with why. Returns how
 * many there were, or -1 (logged) if the store failed.
 */
int job_sessions_end(struct job *j, const struct worker_env *env,
    const char *user, const char *why);

#endif
