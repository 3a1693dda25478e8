/*
 * history.c - the history thread and the query thread (see history.h).
 *
 * The history thread owns the writer handle of metrics.db. It wakes when
 * samples arrive and at each flush deadline (absolute, on the monotonic
 * clock, so the cadence does not drift); it adds every sample's points
 * as they come (memory only), and at the deadline downsamples, flushes
 * and expires, each one transaction. Downsampling stops a little behind
 * the newest sample (two VM intervals and a margin): a VM sample stamped
 * a moment before the host's may arrive after it, and a sample inside a
 * minute already built would be refused.
 *
 * The query thread owns a reader handle (opened here, used only there)
 * and runs the API's jobs one at a time, in order; replies go back
 * through the mailbox as every worker's do. This file does not parse
 * requests or write replies: history-query.c does.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "history.h"
#include "hx-event.h"
#include "hx-log.h"
#include "hx-proto.h"
#include "hx-tsdb.h"
#include "hx-util.h"
#include "hx-virt.h"
#include "jobq.h"
#include "mailbox.h"
#include "worker.h"

/* Samples waiting for the history thread at most: beyond, dropped. */
#define HISTORY_QUEUE_MAX 4096

struct hitem {
	struct hx_node_metrics *node;
	struct hx_vm_sample    *vm;
	struct hitem	       *next;
};

struct history {
	pthread_t	      thread;
	pthread_t	      qthread;
	int		      qstarted;
	pthread_mutex_t	      mu;
	pthread_cond_t	      cv; /* samples, stop */
	struct hitem	     *head, *tail;
	size_t		      n;
	uint64_t	      dropped; /* samples the full queue lost */
	int		      stop;
	struct jobq	     *queries; /* waiting or running */
	struct hx_tsdb	     *w; /* history thread only */
	struct hx_tsdb	     *r; /* query thread only */
	struct mailbox	     *mb;
	uint64_t	      flush_ns;
	int64_t		      lag_ms; /* downsample this far behind */
	int		      full; /* stopped by a full disk */
	struct history_limits lim;
	char		     *path;
};

/* --- samples to points ----------------------------------------------------- */

static const char *
series_kind(const struct hx_field *f)
{
	if (f->unit != NULL && strcmp(f->unit, "bytes/s") == 0)
		return "rate";
	if (f->flags & HX_F_COUNTER)
		return "counter";
	return "gauge";
}

static int history_add(struct history *, const char *, const char *,
    const char *, int64_t, double);

/* What add_point needs: where the points go, and their time. */
struct hadd {
	struct history *h;
	int64_t		t;
};

/* hx_proto_walk_series: one series of a sample into the history. */
static void
add_point(const char *name, const struct hx_field *f, double v, void *arg)
{
	struct hadd *a = arg;

	history_add(a->h, name, f->unit, series_kind(f), a->t, v);
}

static int
history_add(struct history *h, const char *name, const char *unit,
    const char *kind, int64_t t, double v)
{
	int64_t id;
	char   *err = NULL;
	int	rc;

	if ((rc = hx_tsdb_series(h->w, name, unit, kind, &id, &err)) ==
	    HX_TSDB_OK)
		rc = hx_tsdb_add(h->w, id, t, v, &err);
	/* A point out of order (the clock went back) is only skipped. */
	if (rc != HX_TSDB_OK && rc != HX_TSDB_INVALID)
		log_debug("history: '%s': %s", name, err);
	free(err);
	return rc;
}

static void
add_item(struct history *h, struct hitem *it)
{
	struct hadd a = { h, 0 };
	char	    prefix[128];

	if (it->node != NULL) {
		a.t = it->node->timestamp_ms;
		hx_proto_walk_series(1, "node", it->node, add_point, &a);
	}
	if (it->vm != NULL && it->vm->uuid != NULL) {
		snprintf(prefix, sizeof prefix, "vm:%s", it->vm->uuid);
		a.t = it->vm->timestamp_ms;
		hx_proto_walk_series(0, prefix, &it->vm->m, add_point, &a);
	}
}

static void
item_free(struct hitem *it)
{
	if (it->node != NULL) {
		hx_node_metrics_release(it->node);
		free(it->node);
	}
	hx_vm_samples_free(it->vm, 1);
	free(it);
}

/* --- the history thread -------------------------------------------------- */

/* A full disk: say so once, in the log and to every client. */
static void
history_full(struct history *h, const char *what, const char *err)
{
	int64_t ts = hx_wall_ms();
	char   *msg;

	h->full = 1;
	log_error("history stopped: cannot %s '%s': %s", what, h->path, err);
	msg = xasprintf(
	    "The metrics history stopped: its disk is full "
	    "(%s). Live metrics go on; what was recorded stays readable.",
	    err);
	mailbox_post(h->mb,
	    frame_new("Notification",
		hx_event_notification("error", "History stopped", msg, ts),
		HX_TOPIC_NOTIFICATIONS, NULL, NULL));
	free(msg);
}

/* Downsample, flush and expire; a full disk stops history. */
static void
history_flush(struct history *h, int final)
{
	char *err = NULL;
	int   rc;

	if (h->full)
		return;
	if (!final &&
	    (rc = hx_tsdb_downsample(h->w,
		 hx_wall_ms() - __atomic_load_n(&h->lag_ms, __ATOMIC_RELAXED),
		 &err)) != HX_TSDB_OK) {
		if (rc == HX_TSDB_FULL) {
			history_full(h, "downsample", err);
			free(err);
			return;
		}
		log_error("history: cannot downsample: %s", err);
		free(err);
		err = NULL;
	}
	if ((rc = hx_tsdb_flush(h->w, &err)) != HX_TSDB_OK) {
		if (rc == HX_TSDB_FULL)
			history_full(h, "write", err);
		else
			log_error("history: cannot write '%s': %s", h->path,
			    err);
		free(err);
		return;
	}
	log_debug("history flushed");
	if (final)
		return;
	if ((rc = hx_tsdb_expire(h->w, hx_wall_ms(), NULL, &err)) !=
	    HX_TSDB_OK) {
		if (rc == HX_TSDB_FULL)
			history_full(h, "expire in", err);
		else
			log_error("history: cannot expire: %s", err);
		free(err);
	}
}

static void *
history_main(void *arg)
{
	struct history *h = arg;
	struct hitem   *list, *it, *next;
	struct timespec ts;
	uint64_t	due = hx_mono_ns() + h->flush_ns, now;
	int		stop, logged_drop = 0;

	/* Named for top -H and the benchmarks (bench/history). */
	pthread_setname_np(pthread_self(), "hx-history");
	for (;;) {
		ts.tv_sec = (time_t)(due / 1000000000ULL);
		ts.tv_nsec = (long)(due % 1000000000ULL);
		pthread_mutex_lock(&h->mu);
		while (!h->stop && h->head == NULL &&
		    pthread_cond_timedwait(&h->cv, &h->mu, &ts) != ETIMEDOUT)
			;
		list = h->head;
		h->head = h->tail = NULL;
		h->n = 0;
		stop = h->stop;
		if (h->dropped > 0 && !logged_drop) {
			log_warn("history: %llu sample(s) dropped: the "
				 "history thread is behind",
			    (unsigned long long)h->dropped);
			logged_drop = 1;
		}
		pthread_mutex_unlock(&h->mu);
		for (it = list; it != NULL; it = next) {
			next = it->next;
			if (!h->full)
				add_item(h, it);
			item_free(it);
		}
		if (stop)
			break;
		if ((now = hx_mono_ns()) >= due) {
			history_flush(h, 0);
			due += h->flush_ns;
			if (due <= now)
				due = now + h->flush_ns;
		}
	}
	history_flush(h, 1);
	return NULL;
}

static void
history_post(struct history *h, struct hitem *it)
{
	pthread_mutex_lock(&h->mu);
	if (h->n >= HISTORY_QUEUE_MAX || h->stop) {
		h->dropped++;
		pthread_mutex_unlock(&h->mu);
		item_free(it);
		return;
	}
	if (h->tail != NULL)
		h->tail->next = it;
	else
		h->head = it;
	h->tail = it;
	h->n++;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void
history_post_node(struct history *h, struct hx_node_metrics *m)
{
	struct hitem *it;

	if (h == NULL)
		return;
	it = xcalloc(1, sizeof *it);
	it->node = xmalloc(sizeof *it->node);
	*it->node = *m;
	memset(m, 0, sizeof *m);
	history_post(h, it);
}

void
history_post_vm(struct history *h, struct hx_vm_sample *v)
{
	struct hitem *it;

	if (h == NULL) {
		hx_vm_samples_free(v, 1);
		return;
	}
	it = xcalloc(1, sizeof *it);
	it->vm = v;
	history_post(h, it);
}

/* --- the query thread ---------------------------------------------------- */

static void *
history_qmain(void *arg)
{
	struct history	 *h = arg;
	struct worker_env env;
	struct job	 *j;

	memset(&env, 0, sizeof env);
	pthread_setname_np(pthread_self(), "hx-hist-query");
	env.tsdb = h->r;
	while ((j = jobq_pop(h->queries)) != NULL) {
		j->run(j, &env);
		jobq_done(h->queries);
		mailbox_post_job(h->mb, j);
	}
	return NULL;
}

int
history_queue_job(struct history *h, struct job *j)
{
	return jobq_push(h->queries, j);
}

int
history_submit(struct history *h, struct job *j, const struct identity *id,
    const struct snapshot *snap)
{
	history_req_attach(j, id, snap, &h->lim);
	return history_queue_job(h, j);
}

/* --- start and stop ------------------------------------------------------ */

void
history_set_intervals(struct history *h, double node_s, double vm_s)
{
	double iv = vm_s > node_s ? vm_s : node_s;

	if (h == NULL)
		return;
	__atomic_store_n(&h->lag_ms, (int64_t)(iv * 2e3) + 5000,
	    __ATOMIC_RELAXED);
	h->lim.node_ms = (int64_t)(node_s * 1e3);
	h->lim.vm_ms = (int64_t)(vm_s * 1e3);
	if (h->lim.node_ms < 1)
		h->lim.node_ms = 1;
	if (h->lim.vm_ms < 1)
		h->lim.vm_ms = 1;
}

struct history *
history_start(const struct options *o, struct mailbox *mb, char **err)
{
	struct history	     *h = xcalloc(1, sizeof *h);
	struct hx_tsdb_config cfg;
	pthread_condattr_t    ca;
	int		      r;

	memset(&cfg, 0, sizeof cfg);
	cfg.retention_ms[HX_TSDB_RAW] = o->history_raw_retention_ms;
	cfg.retention_ms[HX_TSDB_MINUTE] = o->history_minute_retention_ms;
	cfg.retention_ms[HX_TSDB_HOUR] = o->history_hour_retention_ms;
	cfg.max_bytes = o->history_max_bytes;
	h->path = xasprintf("%s/metrics.db", o->data_dir);
	h->mb = mb;
	h->flush_ns = (uint64_t)(o->history_flush * 1e9);
	history_set_intervals(h, o->node_interval, o->vm_interval);
	memcpy(h->lim.keep_ms, cfg.retention_ms, sizeof h->lim.keep_ms);
	if (hx_tsdb_open(h->path, &cfg, &h->w, err) != HX_TSDB_OK ||
	    hx_tsdb_open_reader(h->w, &h->r, err) != HX_TSDB_OK) {
		char *e = *err;

		*err = xasprintf("cannot open '%s': %s", h->path, e);
		free(e);
		hx_tsdb_close(h->r);
		hx_tsdb_close(h->w);
		free(h->path);
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cv, &ca);
	pthread_condattr_destroy(&ca);
	h->queries = jobq_new(HISTORY_QUERIES_MAX);
	if ((r = pthread_create(&h->qthread, NULL, history_qmain, h)) != 0 ||
	    (h->qstarted = 1,
		r = pthread_create(&h->thread, NULL, history_main, h)) != 0) {
		*err = xasprintf("cannot start the history thread: %s",
		    strerror(r));
		if (h->qstarted) {
			jobq_stop(h->queries);
			pthread_join(h->qthread, NULL);
		}
		jobq_free(h->queries);
		hx_tsdb_close(h->r);
		hx_tsdb_close(h->w);
		free(h->path);
		free(h);
		return NULL;
	}
	return h;
}

void
history_stop(struct history *h)
{
	struct job *j;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	jobq_stop(h->queries);
	pthread_join(h->qthread, NULL);
	pthread_join(h->thread, NULL);
	while ((j = jobq_drain(h->queries)) != NULL)
		job_free(j);
	jobq_free(h->queries);
	hx_tsdb_close(h->r);
	hx_tsdb_close(h->w);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h->path);
	free(h);
}
