/*
 * worker.c - the worker thread and the login pool: job queues served by
 * threads with their own store connections (see worker.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-log.h"
#include "hx-util.h"
#include "hx-virt.h"
#include "realm.h"
#include "worker.h"

#define WORKER_MAX_THREADS 64

struct worker {
	pthread_t	     thread[WORKER_MAX_THREADS];
	int		     nthreads;
	int		     started; /* threads that are joinable */
	pthread_mutex_t	     mu;
	pthread_cond_t	     cv; /* on CLOCK_MONOTONIC */
	struct job	    *head, *tail;
	int		     held; /* queued or running */
	int		     max_jobs; /* 0: no bound */
	int		     stop;
	char		    *db_path;
	unsigned char	     key[ACCESS_JWT_KEY_LEN];
	const struct realms *realms;
	struct mailbox	    *mb;
	struct virt	    *virt;
	struct worker	    *next; /* where `then` jobs go */
	int64_t		     every_ms; /* periodic call, 0: none */
	void (*every_fn)(const struct worker_env *, void *);
	void	       *every_arg;
	pthread_mutex_t ready_mu;
	pthread_cond_t	ready_cv;
	int		nready; /* threads that opened */
	int		nfailed; /* threads that could not */
	char	       *open_err;
};

struct job *
job_new(job_fn run)
{
	struct job *j = xcalloc(1, sizeof *j);

	j->run = run;
	return j;
}

static void
delta_free_all(struct job *j)
{
	struct job_delta *d, *next;

	for (d = j->deltas; d != NULL; d = next) {
		next = d->next;
		hx_store_key_release(&d->key);
		hx_store_session_release(&d->session);
		free(d->id);
		free(d);
	}
	j->deltas = NULL;
}

static struct job_delta *
delta_add(struct job *j, enum job_delta_op op)
{
	struct job_delta *d = xcalloc(1, sizeof *d), **tail;

	d->op = op;
	for (tail = &j->deltas; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = d;
	return d;
}

void
job_delta_key_put(struct job *j, struct hx_store_key *k)
{
	struct job_delta *d = delta_add(j, JOB_DELTA_KEY_PUT);

	d->key = *k;
	memset(k, 0, sizeof *k);
}

void
job_delta_key_drop(struct job *j, const char *keyid)
{
	delta_add(j, JOB_DELTA_KEY_DROP)->id = xstrdup(keyid);
}

void
job_delta_session_put(struct job *j, struct hx_store_session *se)
{
	struct job_delta *d = delta_add(j, JOB_DELTA_SESSION_PUT);

	d->session = *se;
	memset(se, 0, sizeof *se);
}

void
job_delta_session_drop(struct job *j, const char *jti)
{
	delta_add(j, JOB_DELTA_SESSION_DROP)->id = xstrdup(jti);
}

void
job_delta_session_purge(struct job *j, int64_t now)
{
	delta_add(j, JOB_DELTA_SESSION_PURGE)->now = now;
}

int
job_delta_apply(struct job *j, struct hx_store_snapshot *snap)
{
	struct job_delta *d;
	int		  removed = 0;

	for (d = j->deltas; d != NULL; d = d->next) {
		switch (d->op) {
		case JOB_DELTA_KEY_PUT:
			hx_store_snapshot_key_put(snap, &d->key);
			break;
		case JOB_DELTA_KEY_DROP:
			removed |= hx_store_snapshot_key_drop(snap, d->id) == 0;
			break;
		case JOB_DELTA_SESSION_PUT:
			hx_store_snapshot_session_put(snap, &d->session);
			break;
		case JOB_DELTA_SESSION_DROP:
			removed |= hx_store_snapshot_session_drop(snap,
				       d->id) == 0;
			break;
		case JOB_DELTA_SESSION_PURGE:
			removed |= hx_store_snapshot_session_purge(snap,
				       d->now) > 0;
			break;
		}
	}
	delta_free_all(j);
	return removed;
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	delta_free_all(j);
	free(j->remote);
	json_decref(j->body);
	free(j->param[0]);
	free(j->param[1]);
	free(j->query);
	hx_vm_samples_free(j->vm_sample, 1);
	if (j->ctx_free != NULL)
		j->ctx_free(j->ctx);
	free(j->raw);
	json_decref(j->reply);
	free(j->set_cookie);
	free(j->location);
	hx_store_snapshot_free(j->snap);
	free(j->limit_user);
	if (j->login_hash != NULL)
		explicit_bzero(j->login_hash, strlen(j->login_hash));
	free(j->login_hash);
	free(j->login_realm);
	free(j->login_why);
	free(j->login_email);
	hx_store_strv_release(&j->login_roles);
	hx_store_strv_release(&j->grantable);
	free(j);
}

void
job_error(struct job *j, int status, const char *code, const char *message)
{
	json_decref(j->reply);
	j->status = status;
	j->reply = json_pack("{s:s,s:s}", "error", code, "message", message);
}

void
job_store_error(struct job *j, int rc, const char *err)
{
	switch (rc) {
	case HX_STORE_NOT_FOUND:
		job_error(j, 404, "NOT_FOUND", err);
		break;
	case HX_STORE_CONFLICT:
		job_error(j, 409, "CONFLICT", err);
		break;
	case HX_STORE_INVALID:
		job_error(j, 422, "VALIDATION_ERROR", err);
		break;
	default:
		/* Never leak SQLite's words to a client. */
		log_error("%s", err ? err : "database error");
		job_error(j, 500, "INTERNAL", "internal error");
		break;
	}
}

void
job_audit_write(const struct worker_env *env, struct job *j, const char *action,
    const char *target, const char *detail)
{
	char *err = NULL;

	if (hx_store_audit_add(env->store, 0,
		j->actor_who[0] != '\0' ? j->actor_who : j->actor, action,
		target, detail, j->remote, &err) != HX_STORE_OK) {
		log_error("cannot write the audit log: %s", err);
		free(err);
	}
}

static void
deadline_after(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static int
is_due(const struct timespec *due)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > due->tv_sec ||
	    (now.tv_sec == due->tv_sec && now.tv_nsec >= due->tv_nsec);
}

/* The periodic call, outside the lock (w->mu held on entry and exit). */
static void
run_every(struct worker *w, const struct worker_env *env, struct timespec *due)
{
	void (*fn)(const struct worker_env *, void *) = w->every_fn;
	void   *arg = w->every_arg;
	int64_t period = w->every_ms;

	pthread_mutex_unlock(&w->mu);
	fn(env, arg);
	deadline_after(due, period);
	pthread_mutex_lock(&w->mu);
}

struct worker_thread {
	struct worker *w;
	int	       first; /* runs the periodic call */
};

static void *
worker_main(void *arg)
{
	struct worker_thread *t = arg;
	struct worker	     *w = t->w;
	struct worker_env     env;
	struct hx_store	     *store = NULL;
	struct timespec	      due;
	struct job	     *j;
	char		     *err = NULL;
	int		      r, first = t->first, due_set = 0;

	free(t);
	/* The connection is opened on the thread that uses it. */
	r = w->db_path == NULL ? HX_STORE_OK :
				 hx_store_open(w->db_path, &store, &err);
	pthread_mutex_lock(&w->ready_mu);
	if (r == HX_STORE_OK)
		w->nready++;
	else if (w->nfailed++ == 0)
		w->open_err = err;
	else
		free(err);
	pthread_cond_signal(&w->ready_cv);
	pthread_mutex_unlock(&w->ready_mu);
	if (r != HX_STORE_OK)
		return NULL;

	env.store = store;
	env.jwt_key = w->key;
	env.realms = w->realms;
	env.pam_service = w->realms != NULL ? w->realms->pam_service : "";
	env.virt = w->virt;
	env.tsdb = NULL;
	err = NULL;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		for (;;) {
			if (w->stop)
				break;
			if (first && w->every_fn != NULL) {
				if (!due_set) {
					/* The first call is at start-up. */
					clock_gettime(CLOCK_MONOTONIC, &due);
					due_set = 1;
				}
				if (is_due(&due)) {
					run_every(w, &env, &due);
					continue;
				}
			}
			if (w->head != NULL)
				break;
			if (first && w->every_fn != NULL)
				pthread_cond_timedwait(&w->cv, &w->mu, &due);
			else
				pthread_cond_wait(&w->cv, &w->mu);
		}
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		j = w->head;
		w->head = j->next_in_queue;
		if (w->head == NULL)
			w->tail = NULL;
		pthread_mutex_unlock(&w->mu);

		j->status = 200;
		j->run(j, &env);
		/* No worker to hand the rest to: it runs here. */
		while (j->then != NULL && w->next == NULL) {
			j->run = j->then;
			j->then = NULL;
			j->status = 200;
			j->run(j, &env);
		}
		if (j->changed && store != NULL && j->then == NULL) {
			/* The new snapshot holds every change: no deltas. */
			delta_free_all(j);
			if (hx_store_snapshot(store, &j->snap, &err) !=
			    HX_STORE_OK) {
				log_error("cannot reload identities: %s", err);
				free(err);
				err = NULL;
			}
		}
		pthread_mutex_lock(&w->mu);
		w->held--;
		pthread_mutex_unlock(&w->mu);
		if (j->then != NULL) {
			j->run = j->then;
			j->then = NULL;
			worker_submit(w->next, j);
		} else
			mailbox_post_job(w->mb, j);
	}
	hx_store_close(store);
	return NULL;
}

static struct worker *
worker_new(const char *db_path, int nthreads, int max_jobs,
    const unsigned char *jwt_key, const struct realms *realms,
    struct virt *virt, struct worker *next, struct mailbox *mb, char **err)
{
	struct worker	     *w = xcalloc(1, sizeof *w);
	struct worker_thread *t;
	pthread_condattr_t    ca;
	int		      i, r;

	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > WORKER_MAX_THREADS)
		nthreads = WORKER_MAX_THREADS;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->ready_mu, NULL);
	pthread_cond_init(&w->ready_cv, NULL);
	w->db_path = db_path != NULL ? xstrdup(db_path) : NULL;
	if (jwt_key != NULL)
		memcpy(w->key, jwt_key, sizeof w->key);
	w->realms = realms;
	w->virt = virt;
	w->max_jobs = max_jobs;
	w->next = next;
	w->mb = mb;
	w->nthreads = nthreads;
	for (i = 0; i < nthreads; i++) {
		t = xcalloc(1, sizeof *t);
		t->w = w;
		t->first = i == 0;
		if ((r = pthread_create(&w->thread[i], NULL, worker_main, t)) !=
		    0) {
			free(t);
			*err = xasprintf("cannot start a worker thread: %s",
			    strerror(r));
			break;
		}
		w->started++;
	}
	/* Every thread says whether it could open its store connection. */
	pthread_mutex_lock(&w->ready_mu);
	while (w->nready + w->nfailed < w->started)
		pthread_cond_wait(&w->ready_cv, &w->ready_mu);
	pthread_mutex_unlock(&w->ready_mu);
	if (w->nfailed > 0 || w->started < nthreads) {
		if (w->nfailed > 0 && w->started == nthreads) {
			*err = w->open_err;
			w->open_err = NULL;
		}
		worker_stop(w);
		return NULL;
	}
	return w;
}

struct worker *
worker_start_pool(const char *db_path, int nthreads, int max_jobs,
    const struct realms *realms, struct worker *next, struct mailbox *mb,
    char **err)
{
	return worker_new(db_path, nthreads, max_jobs, NULL, realms, NULL, next,
	    mb, err);
}

struct worker *
worker_start(const char *db_path, const unsigned char *jwt_key,
    const struct realms *realms, struct virt *virt, struct mailbox *mb,
    char **err)
{
	return worker_new(db_path, 1, 0, jwt_key, realms, virt, NULL, mb, err);
}

static void
enqueue(struct worker *w, struct job *j)
{
	j->next_in_queue = NULL;
	if (w->tail != NULL)
		w->tail->next_in_queue = j;
	else
		w->head = j;
	w->tail = j;
	w->held++;
	pthread_cond_signal(&w->cv);
}

void
worker_submit(struct worker *w, struct job *j)
{
	pthread_mutex_lock(&w->mu);
	enqueue(w, j);
	pthread_mutex_unlock(&w->mu);
}

int
worker_try_submit(struct worker *w, struct job *j)
{
	int r = 0;

	pthread_mutex_lock(&w->mu);
	if (w->max_jobs > 0 && w->held >= w->max_jobs)
		r = -1;
	else
		enqueue(w, j);
	pthread_mutex_unlock(&w->mu);
	return r;
}

void
worker_every(struct worker *w, int64_t			 period_ms,
    void (*fn)(const struct worker_env *, void *), void *arg)
{
	pthread_mutex_lock(&w->mu);
	w->every_ms = period_ms;
	w->every_fn = fn;
	w->every_arg = arg;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
worker_stop(struct worker *w)
{
	struct job *j, *next;
	int	    i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->started; i++)
		pthread_join(w->thread[i], NULL);
	for (j = w->head; j != NULL; j = next) {
		next = j->next_in_queue;
		job_free(j);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->ready_mu);
	pthread_cond_destroy(&w->ready_cv);
	explicit_bzero(w->key, sizeof w->key);
	free(w->db_path);
	free(w->open_err);
	free(w);
}
