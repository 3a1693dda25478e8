/*
 * mailbox.c - mutex-guarded frame queue into the service thread.
 */
#include <pthread.h>
#include <stdlib.h>

#include <libwebsockets.h>

#include "hx-node.h"
#include "hx-util.h"
#include "hx-virt.h"
#include "mailbox.h"

struct item {
	struct mail  mail;
	struct item *next;
};

struct mailbox {
	pthread_mutex_t	    mu;
	struct item	   *head, *tail;
	struct lws_context *ctx;
};

struct mailbox *
mailbox_new(void)
{
	struct mailbox *mb = xcalloc(1, sizeof *mb);

	pthread_mutex_init(&mb->mu, NULL);
	return mb;
}

void
mailbox_free(struct mailbox *mb, void (*free_job)(struct job *))
{
	struct item *it, *next;

	if (mb == NULL)
		return;
	for (it = mb->head; it != NULL; it = next) {
		next = it->next;
		frame_unref(it->mail.frame);
		hx_vm_samples_free(it->mail.vm, 1);
		if (it->mail.node != NULL) {
			hx_node_metrics_release(it->mail.node);
			free(it->mail.node);
		}
		json_decref(it->mail.inventory);
		inv_change_free(it->mail.change);
		if (it->mail.job != NULL)
			free_job(it->mail.job);
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

static void
append(struct mailbox *mb, struct item *it)
{
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
inv_change_free(struct inv_change *c)
{
	if (c == NULL)
		return;
	free(c->id);
	free(c->state);
	json_decref(c->entry);
	free(c);
}

/* Hand m (everything in it) to the service thread. */
static void
post(struct mailbox *mb, const struct mail *m)
{
	struct item *it = xmalloc(sizeof *it);

	it->mail = *m;
	append(mb, it);
}

void
mailbox_post(struct mailbox *mb, struct frame *f)
{
	post(mb, &(struct mail){ .frame = f });
}

void
mailbox_post_vm(struct mailbox *mb, struct frame *f, struct hx_vm_sample *vm)
{
	post(mb, &(struct mail){ .frame = f, .vm = vm });
}

void
mailbox_post_node(struct mailbox *mb, struct frame *f,
    struct hx_node_metrics *node)
{
	post(mb, &(struct mail){ .frame = f, .node = node });
}

void
mailbox_post_job(struct mailbox *mb, struct job *j)
{
	post(mb, &(struct mail){ .job = j });
}

void
mailbox_post_inventory(struct mailbox *mb, json_t *vms, uint64_t started_ns)
{
	post(mb,
	    &(struct mail){ .inventory = vms, .inventory_ns = started_ns });
}

void
mailbox_post_change(struct mailbox *mb, struct frame *f, struct inv_change *c)
{
	post(mb, &(struct mail){ .frame = f, .change = c });
}

void
mailbox_drain(struct mailbox *mb, void (*fn)(struct mail *, void *), void *arg)
{
	struct item *it, *next;

	/* Take the whole list at once so producers wait only for a swap. */
	pthread_mutex_lock(&mb->mu);
	it = mb->head;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->mu);
	for (; it != NULL; it = next) {
		next = it->next;
		fn(&it->mail, arg);
		free(it);
	}
}
