/*
 * test-jobq.c - the history's query queue (horcruxd/jobq.c) and its
 * bound: HISTORY_QUERIES_MAX (64) queries waiting or running are
 * admitted, the next is refused (the daemon answers it 429) until the
 * consumer finishes one; a running query still counts. A daemon test
 * cannot show this without racing its query thread; here the consumer
 * is the test itself, so every step is decided, not raced.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "history.h"
#include "hx-util.h"
#include "jobq.h"
#include "tap.h"

static int items[HISTORY_QUERIES_MAX + 2];

static void *
consumer(void *arg)
{
	struct jobq *q = arg;
	void	    *it;
	intptr_t     n = 0;

	while ((it = jobq_pop(q)) != NULL) {
		n += *(int *)it;
		jobq_done(q);
	}
	return (void *)n;
}

int
main(void)
{
	struct jobq *q = jobq_new(HISTORY_QUERIES_MAX);
	pthread_t    th;
	void	    *it, *ret;
	int	     i, order_ok = 1, refused = 0;

	is_int(HISTORY_QUERIES_MAX, 64,
	    "the bound DESIGN §8 and the man page name");
	for (i = 0; i < HISTORY_QUERIES_MAX + 2; i++)
		items[i] = i;
	for (i = 0; i < HISTORY_QUERIES_MAX; i++)
		if (jobq_push(q, &items[i]) != 0)
			refused++;
	is_int(refused, 0, "64 queries are admitted");
	is_int(jobq_count(q), 64, "64 waiting");
	is_int(jobq_push(q, &items[64]), -1, "the 65th is refused");
	is_int(jobq_count(q), 64, "a refused one is not counted");
	it = jobq_pop(q);
	ok(it == &items[0], "the oldest comes first");
	is_int(jobq_push(q, &items[64]), -1,
	    "a running query still counts: refused while it runs");
	jobq_done(q);
	is_int(jobq_count(q), 63, "done: 63 left");
	is_int(jobq_push(q, &items[64]), 0, "room for one more after it");
	is_int(jobq_push(q, &items[65]), -1, "and only one");
	for (i = 1; i <= 64; i++) {
		it = jobq_pop(q);
		if (it != &items[i])
			order_ok = 0;
		jobq_done(q);
	}
	ok(order_ok, "first in, first out");
	is_int(jobq_count(q), 0, "empty");
	is_str(jobq_push(q, &items[1]) == 0 ? "admitted" : "refused",
	    "admitted", "an empty queue admits again");
	jobq_free(q);

	/* A consumer thread waiting in pop: woken by pushes, then by stop. */
	q = jobq_new(2);
	pthread_create(&th, NULL, consumer, q);
	for (i = 1; i <= 10; i++) {
		while (jobq_push(q, &items[i]) != 0)
			; /* full: the consumer makes room */
	}
	while (jobq_count(q) > 0)
		;
	jobq_stop(q);
	pthread_join(th, &ret);
	is_int((intptr_t)ret, 55, "a waiting consumer got every item once");
	is_int(jobq_push(q, &items[1]), -1, "stopped: refused");
	ok(jobq_pop(q) == NULL, "stopped: pop gives NULL");
	jobq_free(q);

	/* Stopped with items queued: drain hands them back, in order. */
	q = jobq_new(4);
	jobq_push(q, &items[1]);
	jobq_push(q, &items[2]);
	ok(jobq_drain(q) == NULL, "no drain before stop");
	jobq_stop(q);
	ok(jobq_pop(q) == NULL, "stop wins over queued items");
	ok(jobq_drain(q) == &items[1] && jobq_drain(q) == &items[2] &&
		jobq_drain(q) == NULL,
	    "drain gives back what was never popped");
	jobq_free(q);
	jobq_free(NULL);
	return done_testing();
}
