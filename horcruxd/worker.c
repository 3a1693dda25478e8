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

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
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
