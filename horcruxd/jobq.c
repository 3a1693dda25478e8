/*
 * jobq.c - the bounded FIFO of jobq.h: a singly linked list of small
 * nodes under one mutex, a condition variable for the consumer, and a
 * count of items pushed and not yet done (queued or running).
 */
#include <pthread.h>
#include <stdlib.h>

#include "hx-util.h"
#include "jobq.h"

struct jobq_node {
	void		 *item;
	struct jobq_node *next;
};

struct jobq {
	pthread_mutex_t	  mu;
	pthread_cond_t	  cv;
	struct jobq_node *head, *tail;
	int		  count; /* queued or running */
	int		  max;
	int		  stop;
};

struct jobq *
jobq_new(int max)
{
	struct jobq *q = xcalloc(1, sizeof *q);

	q->max = max < 1 ? 1 : max;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	return q;
}

int
jobq_push(struct jobq *q, void *item)
{
	struct jobq_node *n;

	pthread_mutex_lock(&q->mu);
	if (q->stop || q->count >= q->max) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	n = xmalloc(sizeof *n);
	n->item = item;
	n->next = NULL;
	if (q->tail != NULL)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	q->count++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

/* The oldest node's item, unlinked; NULL when empty. Lock held. */
static void *
take(struct jobq *q)
{
	struct jobq_node *n = q->head;
	void		 *item;

	if (n == NULL)
		return NULL;
	if ((q->head = n->next) == NULL)
		q->tail = NULL;
	item = n->item;
	free(n);
	return item;
}

void *
jobq_pop(struct jobq *q)
{
	void *item = NULL;

	pthread_mutex_lock(&q->mu);
	while (!q->stop && q->head == NULL)
		pthread_cond_wait(&q->cv, &q->mu);
	if (!q->stop)
		item = take(q);
	pthread_mutex_unlock(&q->mu);
	return item;
}

void
jobq_done(struct jobq *q)
{
	pthread_mutex_lock(&q->mu);
	if (q->count > 0)
		q->count--;
	pthread_mutex_unlock(&q->mu);
}

int
jobq_count(struct jobq *q)
{
	int n;

	pthread_mutex_lock(&q->mu);
	n = q->count;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void
jobq_stop(struct jobq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void *
jobq_drain(struct jobq *q)
{
	void *item;

	pthread_mutex_lock(&q->mu);
	item = q->stop ? take(q) : NULL;
	pthread_mutex_unlock(&q->mu);
	return item;
}

void
jobq_free(struct jobq *q)
{
	if (q == NULL)
		return;
	while (q->head != NULL)
		(void)take(q);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
