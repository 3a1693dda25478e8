/*
 * job-oidc.h - the oidc realm's browser routes as worker jobs (job-oidc.c):
 * the sign-in's start and its callback. The relying party itself (network,
 * tokens, claims) is oidc.h's.
 */
#ifndef HORCRUXD_JOB_OIDC_H
#define HORCRUXD_JOB_OIDC_H

#include <jansson.h>

#include "worker.h"

struct oidc;

/*
 * Give j what its run needs, on the service thread before it is queued:
 * the relying party (not owned) and, for the callback, its query
 * parameters (a JSON object; the job takes the reference).
 */
void job_oidc_attach(struct job *j, struct oidc *oi, json_t *params);

/* Login pool: 302 to the provider, or an error page. */
void job_oidc_start(struct job *, const struct worker_env *);
/* Login pool: the code exchanged, the token checked; then the next. */
void job_oidc_callback(struct job *, const struct worker_env *);
/* Identity worker: user, session and audit written; the landing page. */
void job_oidc_callback_finish(struct job *, const struct worker_env *);

#endif
