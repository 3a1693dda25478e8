/*
 * job-notify.h - the REST side of notification targets (DESIGN §4, §9):
 * worker jobs that list, add, show and delete targets and list their
 * delivery attempts, on the identity worker (the targets live in the
 * identity database). A test message is the delivery thread's
 * (notify_submit_test); job_notify_test only names that route.
 *
 * A target as the API shows it: {name, type, created, url | smtp_url,
 * from, to, username, secret_set | password_set}. The secret and the
 * password are write-only: accepted in a POST body, never shown, never
 * logged or audited (the audit names the target and its type).
 */
#ifndef HORCRUXD_JOB_NOTIFY_H
#define HORCRUXD_JOB_NOTIFY_H

#include "worker.h"

/* GET /api/notify/targets */
void job_notify_targets(struct job *, const struct worker_env *);
/* POST /api/notify/targets: 201 and the target; 422 naming the field. */
void job_notify_target_add(struct job *, const struct worker_env *);
/* GET /api/notify/targets/:name: the target and its newest attempts. */
void job_notify_target_show(struct job *, const struct worker_env *);
/* DELETE /api/notify/targets/:name: 204; its attempts go with it. */
void job_notify_target_delete(struct job *, const struct worker_env *);
/* GET /api/notify/targets/:name/attempts?limit=N (default 100). */
void job_notify_attempts(struct job *, const struct worker_env *);
/* POST /api/notify/targets/:name/test: runs on the delivery thread. */
void job_notify_test(struct job *, const struct worker_env *);

#endif
