/*
 * job-identity.h - worker jobs for identity changes, and the JSON shapes
 * of users, keys and roles shared with the service thread's read routes.
 */
#ifndef HORCRUXD_JOB_IDENTITY_H
#define HORCRUXD_JOB_IDENTITY_H

#include <jansson.h>

#include "hx-store.h"
#include "worker.h"

/* On the login pool: check the password; then job_login_finish. */
void job_login(struct job *, const struct worker_env *);
/* On the identity worker: the session, or the failure, written. */
void job_login_finish(struct job *, const struct worker_env *);
void job_renew(struct job *, const struct worker_env *);
/* On the login pool: a directory user's groups again; then job_renew. */
void job_renew_directory(struct job *, const struct worker_env *);
void job_logout(struct job *, const struct worker_env *);
void job_user_add(struct job *, const struct worker_env *);
void job_user_update(struct job *, const struct worker_env *);
void job_user_delete(struct job *, const struct worker_env *);
void job_user_password(struct job *, const struct worker_env *);
/* DELETE /api/users/:username/sessions[/:id]: end all, or one by id. */
void job_sessions_revoke(struct job *, const struct worker_env *);
void job_session_revoke(struct job *, const struct worker_env *);
void job_key_create(struct job *, const struct worker_env *);
void job_key_delete(struct job *, const struct worker_env *);
/* Record that the key actor_cred was used now (no reply). */
void job_key_touch(struct job *, const struct worker_env *);
void job_role_add(struct job *, const struct worker_env *);
void job_role_update(struct job *, const struct worker_env *);
void job_role_delete(struct job *, const struct worker_env *);
void job_acl_put(struct job *, const struct worker_env *);
void job_acl_delete(struct job *, const struct worker_env *);
void job_audit(struct job *, const struct worker_env *);
/*
 * A worker_every() call: delete audit records older than *(int *)arg
 * days (audit_retention_days).
 */
void job_audit_purge(const struct worker_env *, void *arg);

/* A user as the API shows it (never the hash). Caller json_decref()s. */
json_t *job_user_json(const struct hx_store_user *u);
/* An API key as the API shows it (never the secret or its hash). */
json_t *job_key_json(const struct hx_store_key *k);
/*
 * A login session as the API shows it: its public id (never the jti or
 * a token), times, peer, and whether it is current_jti (may be NULL).
 */
json_t *job_session_json(const struct hx_store_session *se,
    const char					       *current_jti);
/* A role: name, privilege names, builtin, scope. */
json_t *job_role_json(const char *name, hx_privs privs, int builtin,
    const char *scope);

#endif
