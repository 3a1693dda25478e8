/*
 * mailbox.c - mutex-guarded frame queue into the service thread.
 */
#include <pthread.h>
#include <stdlib.h>

#include <libwebsockets.h>

#include "hx-util.h"
#include "mailbox.h"

struct item {
	struct frame	*frame;
	struct item	*next;
};

struct mailbox {
	pthread_mutex_t		 mu;
	struct item		*head, *tail;
	struct lws_context	*ctx;
};

struct mailbox *
mailbox_new(void)
{
	struct mailbox	*mb = xcalloc(1, sizeof *mb);

	pthread_mutex_init(&mb->mu, NULL);
	return mb;
}

void
mailbox_free(struct mailbox *mb)
{
	struct item	*it, *next;

	if (mb == NULL)
		return;
	for (it = mb->head; it != NULL; it = next) {
		next = it->next;
		frame_unref(it->frame);
		free(it);
	}
	pthread_mutex_destroy(&mb->mu);
	free(mb);
}

void
mailbox_set_context(struct mailbox *mb, struct lws_context *ctx)
{
	pthread_mutex_lock(&mb->mu);
	mb->ctx = ctx;
	pthread_mutex_unlock(&mb->mu);
}

void
mailbox_post(struct mailbox *mb, struct frame *f)
{
	struct item	*it = xmalloc(sizeof *it);

	it->frame = f;
	it->next = NULL;
	pthread_mutex_lock(&mb->mu);
	if (mb->tail != NULL)
		mb->tail->next = it;
	else
		mb->head = it;
	mb->tail = it;
	if (mb->ctx != NULL)
		lws_cancel_service(mb->ctx);
	pthread_mutex_unlock(&mb->mu);
}

void
mailbox_drain(struct mailbox *mb, void (*fn)(struct frame *, void *),
    void *arg)
{
	struct item	*it, *next;

	/* Take the whole list at once so producers wait only for a swap. */
	pthread_mutex_lock(&mb->mu);
	it = mb->head;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->mu);
	for (; it != NULL; it = next) {
		next = it->next;
		fn(it->frame, arg);
		free(it);
	}
}
