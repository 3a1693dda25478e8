/*
 * worker.h - the worker thread: everything slow the service thread must
 * never do (Argon2, PAM, SQLite writes with synchronous=FULL).
 *
 * The service thread authenticates and authorizes a request, fills a job
 * (what to do, who asks, the parsed body) and submits it; the worker runs
 * it against its own store connection, fills the reply, loads a fresh
 * identity snapshot if users, roles or ACL changed (a change to one key
 * or session travels as a delta instead), and posts the job back through
 * the mailbox. Jobs run one at a time, in order, and come back in that
 * order, so two changes can never interleave and deltas always apply to
 * the snapshot they follow.
 *
 * A pool is the same queue served by several threads, each with its own
 * read connection to the store, and a bound on the jobs it holds: the
 * login pool runs the password checks (Argon2, PAM) so that a flood of
 * logins never stands between an administrator and the identity worker.
 * A pool job that sets `then` is handed on to the pool's next worker
 * (the identity worker, for the short write) instead of the mailbox; a
 * pool thread itself never writes, so it never makes a delta or a
 * snapshot, and the identity worker's order is the only one that counts.
 */
#ifndef HORCRUXD_WORKER_H
#define HORCRUXD_WORKER_H

#include <stdint.h>

#include <jansson.h>

#include "access.h"
#include "hx-store.h"
#include "mailbox.h"

struct hx_tsdb;
struct hx_vm_sample;
struct worker;
struct job;
struct virt;
struct realms;

/* What a job may use while it runs on the worker thread. */
struct worker_env {
	struct hx_store	    *store; /* NULL on the libvirt worker */
	const unsigned char *jwt_key; /* ACCESS_JWT_KEY_LEN bytes */
	const char	    *pam_service;
	const struct realms *realms; /* sign-in realms; NULL on others */
	struct virt	    *virt; /* NULL on the identity worker */
	struct hx_tsdb	    *tsdb; /* the history's query thread:
						   its reader; else NULL */
};

typedef void (*job_fn)(struct job *, const struct worker_env *);

/*
 * One change to apply to the service thread's snapshot in place (see
 * hx_store_snapshot_key_put and friends), for jobs that change one key or
 * session: cheaper than a whole new snapshot, whose load grows with every
 * key and session there is.
 */
enum job_delta_op {
	JOB_DELTA_KEY_PUT,
	JOB_DELTA_KEY_DROP,
	JOB_DELTA_SESSION_PUT,
	JOB_DELTA_SESSION_DROP,
	JOB_DELTA_SESSION_PURGE
};

struct job_delta {
	enum job_delta_op	op;
	struct hx_store_key	key; /* KEY_PUT */
	struct hx_store_session session; /* SESSION_PUT */
	char		       *id; /* keyid or jti for _DROP */
	int64_t			now; /* SESSION_PURGE */
	struct job_delta       *next;
};

struct job {
	/* Filled by the service thread. */
	job_fn		     run;
	uint64_t	     conn_id; /* the HTTP request waiting */
	char		     actor[ACCESS_USER_MAX];
	char		     actor_who[ACCESS_WHO_MAX]; /* user@realm */
	enum access_kind     actor_kind;
	char		     actor_cred[72]; /* key id or jti */
	int		     may_modify_users; /* UserModify on /access */
	int		     may_modify_perms; /* PermissionsModify there */
	struct hx_store_strv grantable; /* roles the actor may grant */
	int		     max_keys; /* max_api_keys_per_user */
	char		    *remote; /* peer address, or NULL */
	json_t		    *body; /* parsed request body, or NULL */
	char		    *param[2]; /* route parameters */
	char		    *query; /* raw query string, or NULL */
	struct hx_vm_sample *vm_sample; /* the snapshot's newest sample
						   of the VM named, or NULL */
	void		    *ctx; /* the job's own request data */
	void (*ctx_free)(void *); /* frees ctx */
	/* Filled by the worker. */
	int		  status;
	json_t		 *reply;
	char		 *raw; /* a non-JSON reply body, or
						   NULL (then reply is used) */
	size_t		  raw_len;
	const char	 *raw_type; /* its content type (static) */
	char		 *set_cookie; /* a Set-Cookie value, or NULL */
	char		 *location; /* a Location value (302), or NULL */
	int		  changed; /* users, roles or ACL changed */
	struct job_delta *deltas; /* else: keys and sessions, in order */
	struct hx_store_snapshot *snap; /* fresh snapshot when changed */
	job_fn			  then; /* pool: run this next on the
						   next worker, if set */
	/* Login rate limit (http-route.c): the reservation this job holds. */
	int64_t limit_ms; /* 0: none */
	char   *limit_user; /* "u:NAME" */
	int	login_failed; /* a password check failed:
						   the reservation stays */
	/* Login pool to identity worker: what the check found. */
	int   login_ok;
	char *login_hash; /* the hash checked, or NULL */
	char *login_realm; /* the realm that checked, or NULL */
	int   login_ext; /* an external realm checked: the user
						   is made or updated from what
						   it said (login_roles, _email) */
	int   login_unavailable; /* the realm could not be asked */
	char *login_why; /* what the realm said, for the audit */
	char *login_email;
	struct hx_store_strv login_roles;
	struct job	    *next_in_queue; /* worker queue link */
};

/*
 * Start a worker: with db_path, its own connection to the identity
 * database (the identity worker); with virt instead, the libvirt worker.
 */
struct worker *worker_start(const char *db_path, const unsigned char *jwt_key,
    const struct realms *realms, struct virt *virt, struct mailbox *mb,
    char **err);
/*
 * Start a pool of nthreads threads, each with its own connection to
 * db_path, holding at most max_jobs jobs (queued or running). A job that
 * sets `then` goes on to next (not owned) when it has run.
 */
struct worker *worker_start_pool(const char *db_path, int nthreads,
    int max_jobs, const struct realms *realms, struct worker *next,
    struct mailbox *mb, char **err);
/* Queue j (ownership passes; it comes back through the mailbox). */
void worker_submit(struct worker *w, struct job *j);
/*
 * Queue j unless w already holds its max_jobs: then -1, and j stays the
 * caller's.
 */
int worker_try_submit(struct worker *w, struct job *j);
/*
 * Call fn(env, arg) on w's thread when it is next idle and then every
 * period_ms (the first thread of a pool). Set it once, before jobs flow.
 */
void worker_every(struct worker *w, int64_t		 period_ms,
    void (*fn)(const struct worker_env *, void *), void *arg);
/* Finish the job under way, drop the queue, join the thread. */
void worker_stop(struct worker *w);

/* A new job that will call run. */
struct job *job_new(job_fn run);
void	    job_free(struct job *j);
/*
 * Record one key or session change for the service thread's snapshot, in
 * the order made (a _put takes over the record's strings and empties it).
 * A job that also sets changed gets a whole new snapshot instead.
 */
void job_delta_key_put(struct job *j, struct hx_store_key *k);
void job_delta_key_drop(struct job *j, const char *keyid);
void job_delta_session_put(struct job *j, struct hx_store_session *se);
void job_delta_session_drop(struct job *j, const char *jti);
void job_delta_session_purge(struct job *j, int64_t now);
/*
 * Apply j's deltas to snap (the service thread's, on that thread).
 * Returns 1 if something was removed (live sessions must be re-checked),
 * else 0.
 */
int job_delta_apply(struct job *j, struct hx_store_snapshot *snap);

/* Set the reply to {"error": code, "message": message} with status. */
void job_error(struct job *j, int status, const char *code,
    const char *message);
/* Map a store result to an HTTP error reply (logs database errors). */
void job_store_error(struct job *j, int rc, const char *err);
/*
 * An audit record of action on target (detail may be NULL) by j's caller
 * (user@realm) from j's remote address, through env's store; a failure
 * is logged. For jobs off the identity worker's user paths (notification
 * targets, alert rules, acknowledgements).
 */
void job_audit_write(const struct worker_env *env, struct job *j,
    const char *action, const char *target, const char *detail);

#endif
