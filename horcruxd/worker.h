/*
 * worker.h - the worker thread: everything slow the service thread must
 * never do (Argon2, PAM, SQLite writes with synchronous=FULL).
 *
 * The service thread authenticates and authorizes a request, fills a job
 * (what to do, who asks, the parsed body) and submits it; the worker runs
 * it against its own store connection, fills the reply, loads a fresh
 * identity snapshot if anything changed, and posts the job back through
 * the mailbox. Jobs run one at a time, in order, so two changes can never
 * interleave.
 */
#ifndef HORCRUXD_WORKER_H
#define HORCRUXD_WORKER_H

#include <stdint.h>

#include <jansson.h>

#include "access.h"
#include "hx-store.h"
#include "mailbox.h"

struct worker;
struct job;
struct virt;

/* What a job may use while it runs on the worker thread. */
struct worker_env {
	struct hx_store		*store;		/* NULL on the libvirt worker */
	const unsigned char	*jwt_key;	/* ACCESS_JWT_KEY_LEN bytes */
	const char		*pam_service;
	struct virt		*virt;		/* NULL on the identity worker */
};

typedef void (*job_fn)(struct job *, const struct worker_env *);

struct job {
	/* Filled by the service thread. */
	job_fn			 run;
	uint64_t		 conn_id;	/* the HTTP request waiting */
	char			 actor[ACCESS_USER_MAX];
	char			 actor_who[ACCESS_WHO_MAX];	/* user@realm */
	enum access_kind	 actor_kind;
	char			 actor_cred[72];	/* key id or jti */
	int			 may_modify_users;	/* UserModify on /access */
	char			*remote;	/* peer address, or NULL */
	json_t			*body;		/* parsed request body, or NULL */
	char			*param[2];	/* route parameters */
	char			*query;		/* raw query string, or NULL */
	/* Filled by the worker. */
	int			 status;
	json_t			*reply;
	char			*set_cookie;	/* a Set-Cookie value, or NULL */
	int			 changed;	/* identity data changed */
	struct hx_store_snapshot *snap;		/* fresh snapshot when changed */
	int			 login_failed;	/* for the rate limiter */
	char			*login_user;
	struct job		*next_in_queue;	/* worker queue link */
};

/*
 * Start a worker: with db_path, its own connection to the identity
 * database (the identity worker); with virt instead, the libvirt worker.
 */
struct worker *worker_start(const char *db_path, const unsigned char *jwt_key,
    const char *pam_service, struct virt *virt, struct mailbox *mb,
    char **err);
/* Queue j (ownership passes; it comes back through the mailbox). */
void worker_submit(struct worker *w, struct job *j);
/* Finish the job under way, drop the queue, join the thread. */
void worker_stop(struct worker *w);

/* A new job that will call run. */
struct job *job_new(job_fn run);
void job_free(struct job *j);
/* Set the reply to {"error": code, "message": message} with status. */
void job_error(struct job *j, int status, const char *code,
    const char *message);
/* Map a store result to an HTTP error reply (logs database errors). */
void job_store_error(struct job *j, int rc, const char *err);

#endif
