/*
 * worker.c - the worker thread and its job queue (see worker.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hx-log.h"
#include "hx-util.h"
#include "worker.h"

struct worker {
	pthread_t		 thread;
	int			 started;	/* thread is joinable */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct job		*head, *tail;
	int			 stop;
	char			*db_path;
	unsigned char		 key[ACCESS_JWT_KEY_LEN];
	char			*pam_service;
	struct mailbox		*mb;
	struct virt		*virt;
	struct hx_store		*store;
	pthread_mutex_t		 ready_mu;
	pthread_cond_t		 ready_cv;
	int			 ready;		/* 1 ok, -1 failed */
	char			*open_err;
};

struct job *
job_new(job_fn run)
{
	struct job	*j = xcalloc(1, sizeof *j);

	j->run = run;
	return j;
}

static void
delta_free_all(struct job *j)
{
	struct job_delta	*d, *next;

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
	struct job_delta	*d = xcalloc(1, sizeof *d), **tail;

	d->op = op;
	for (tail = &j->deltas; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = d;
	return d;
}

void
job_delta_key_put(struct job *j, struct hx_store_key *k)
{
	struct job_delta	*d = delta_add(j, JOB_DELTA_KEY_PUT);

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
	struct job_delta	*d = delta_add(j, JOB_DELTA_SESSION_PUT);

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
	struct job_delta	*d;
	int			 removed = 0;

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
	json_decref(j->reply);
	free(j->set_cookie);
	hx_store_snapshot_free(j->snap);
	free(j->login_user);
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

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct worker_env	 env;
	struct job		*j;
	char			*err = NULL;
	int			 r;

	/* The connection is opened on the thread that uses it. */
	r = w->db_path == NULL ? HX_STORE_OK : hx_store_open(w->db_path,
	    &w->store, &err);
	pthread_mutex_lock(&w->ready_mu);
	w->ready = r == HX_STORE_OK ? 1 : -1;
	w->open_err = err;
	pthread_cond_signal(&w->ready_cv);
	pthread_mutex_unlock(&w->ready_mu);
	if (r != HX_STORE_OK)
		return NULL;

	env.store = w->store;
	env.jwt_key = w->key;
	env.pam_service = w->pam_service;
	env.virt = w->virt;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
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
		if (j->changed && w->store != NULL) {
			/* The new snapshot holds every change: no deltas. */
			delta_free_all(j);
			if (hx_store_snapshot(w->store, &j->snap, &err) !=
			    HX_STORE_OK) {
				log_error("cannot reload identities: %s", err);
				free(err);
				err = NULL;
			}
		}
		mailbox_post_job(w->mb, j);
	}
	hx_store_close(w->store);
	w->store = NULL;
	return NULL;
}

struct worker *
worker_start(const char *db_path, const unsigned char *jwt_key,
    const char *pam_service, struct virt *virt, struct mailbox *mb,
    char **err)
{
	struct worker	*w = xcalloc(1, sizeof *w);
	int		 r;

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_mutex_init(&w->ready_mu, NULL);
	pthread_cond_init(&w->ready_cv, NULL);
	w->db_path = db_path != NULL ? xstrdup(db_path) : NULL;
	if (jwt_key != NULL)
		memcpy(w->key, jwt_key, sizeof w->key);
	w->pam_service = xstrdup(pam_service != NULL ? pam_service : "");
	w->virt = virt;
	w->mb = mb;
	if ((r = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		*err = xasprintf("cannot start the worker thread: %s",
		    strerror(r));
		w->ready = -1;
	} else {
		w->started = 1;
		pthread_mutex_lock(&w->ready_mu);
		while (w->ready == 0)
			pthread_cond_wait(&w->ready_cv, &w->ready_mu);
		pthread_mutex_unlock(&w->ready_mu);
		if (w->ready < 0) {
			*err = w->open_err;
			w->open_err = NULL;
			pthread_join(w->thread, NULL);
			w->started = 0;
		}
	}
	if (w->ready < 0) {
		worker_stop(w);
		return NULL;
	}
	return w;
}

void
worker_submit(struct worker *w, struct job *j)
{
	j->next_in_queue = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->tail != NULL)
		w->tail->next_in_queue = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
worker_stop(struct worker *w)
{
	struct job	*j, *next;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->thread, NULL);
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
	free(w->pam_service);
	free(w->open_err);
	free(w);
}
