/*
 * jobq.h - a bounded FIFO of work items for one consumer thread, lws-free:
 * the history's query queue. An item counts against the bound from its
 * push until the consumer says it is done, so "waiting or running" is
 * what the bound caps; a push beyond it is refused at once (the caller
 * answers 429), never waited for.
 *
 * It does not own the items: what is still queued at stop is handed
 * back by jobq_drain for the caller to free.
 */
#ifndef JOBQ_H
#define JOBQ_H

struct jobq;

/* A queue of at most max (>= 1) items waiting or running. Never NULL. */
struct jobq *jobq_new(int max);
/* Queue item (not NULL). Returns 0, or -1 when full or stopped. */
int jobq_push(struct jobq *q, void *item);
/*
 * The oldest item, waiting for one; NULL once the queue is stopped
 * (queued items then stay for jobq_drain).
 */
void *jobq_pop(struct jobq *q);
/* The consumer finished an item jobq_pop gave: room for one more. */
void jobq_done(struct jobq *q);
/* Items waiting or running. */
int jobq_count(struct jobq *q);
/* Wake the consumer with NULL and refuse pushes from now on. */
void jobq_stop(struct jobq *q);
/* After stop: the items never popped, oldest first; NULL when none. */
void *jobq_drain(struct jobq *q);
/* Free the queue (its items are the caller's). NULL is a no-op. */
void jobq_free(struct jobq *q);

#endif
