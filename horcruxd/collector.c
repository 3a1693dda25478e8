/*
 * collector.c - the host sampling thread (see collector.h).
 *
 * Ticks are scheduled on absolute monotonic deadlines, so the cadence does
 * not drift by the time a sample takes; a tick that is late (the machine
 * was suspended, the thread starved) is skipped rather than bunched up.
 * A failing sample is logged once per distinct message, not every second.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"
#include "hx-event.h"
#include "hx-log.h"
#include "hx-node.h"
#include "hx-util.h"
#include "topic.h"

struct collector {
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 stop;
	uint64_t		 interval_ns;
	struct hx_node_sampler	*ns;
	struct mailbox		*mb;
	char			*last_error;
};

static void
sample_and_post(struct collector *c)
{
	struct hx_node_metrics	 m;
	char			*err = NULL;

	if (hx_node_sample(c->ns, hx_mono_ns(), &m, &err) != 0) {
		if (c->last_error == NULL || strcmp(c->last_error, err) != 0)
			log_error("host sample failed: %s", err);
		free(c->last_error);
		c->last_error = err;
		return;
	}
	if (c->last_error != NULL) {
		log_info("host sampling works again");
		free(c->last_error);
		c->last_error = NULL;
	}
	mailbox_post(c->mb, frame_new("NodeMetrics", hx_event_node_metrics(&m),
	    TOPIC_NODE_METRICS, "NodeMetrics", NULL));
	hx_node_metrics_release(&m);
}

/* Wait until the monotonic deadline; returns non-zero when asked to stop. */
static int
wait_until(struct collector *c, uint64_t deadline_ns)
{
	struct timespec	ts;
	int		stop;

	ts.tv_sec = (time_t)(deadline_ns / 1000000000ULL);
	ts.tv_nsec = (long)(deadline_ns % 1000000000ULL);
	pthread_mutex_lock(&c->mu);
	while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &ts) !=
	    ETIMEDOUT)
		;
	stop = c->stop;
	pthread_mutex_unlock(&c->mu);
	return stop;
}

static void *
collector_main(void *arg)
{
	struct collector	*c = arg;
	struct hx_node_metrics	 m;
	char			*err = NULL;
	uint64_t		 next, now;

	/* A baseline, so the first published sample already has rates. */
	if (hx_node_sample(c->ns, hx_mono_ns(), &m, &err) == 0)
		hx_node_metrics_release(&m);
	else
		free(err);
	next = hx_mono_ns() + c->interval_ns;
	while (!wait_until(c, next)) {
		sample_and_post(c);
		now = hx_mono_ns();
		next += c->interval_ns;
		if (next <= now)
			next = now + c->interval_ns;
	}
	return NULL;
}

struct collector *
collector_start(const struct options *o, struct mailbox *mb, char **err)
{
	struct collector	*c = xcalloc(1, sizeof *c);
	pthread_condattr_t	 ca;
	int			 r;

	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->interval_ns = (uint64_t)(o->node_interval * 1e9);
	c->mb = mb;
	c->ns = hx_node_sampler_new("", o->disks, o->ndisks);
	if ((r = pthread_create(&c->thread, NULL, collector_main, c)) != 0) {
		*err = xasprintf("cannot start the collector thread: %s",
		    strerror(r));
		hx_node_sampler_free(c->ns);
		free(c);
		return NULL;
	}
	return c;
}

void
collector_stop(struct collector *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	hx_node_sampler_free(c->ns);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->last_error);
	free(c);
}
