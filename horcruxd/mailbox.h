/*
 * mailbox.h - the one door from the collector and libvirt threads into the
 * service thread.
 *
 * Producers post finished frames (events), the collector's samples and
 * inventory, and finished jobs (worker results) under a mutex and wake
 * the lws loop with lws_cancel_service(); the service thread drains
 * everything on LWS_CALLBACK_EVENT_WAIT_CANCELLED.
 * The mailbox never blocks a producer for longer than a list append and
 * never drops an item.
 */
#ifndef HORCRUXD_MAILBOX_H
#define HORCRUXD_MAILBOX_H

#include <jansson.h>

#include "frame.h"

struct hx_node_metrics;
struct hx_vm_sample;
struct job;
struct lws_context;
struct mailbox;

/*
 * What a lifecycle event changed in the VM inventory. It travels with
 * the event's frame so that GET /api/vms agrees with the event from the
 * moment the event is sent: the collector's next inventory may be a tick
 * away, or may have been read before the event (see snapshot.h).
 */
struct inv_change {
	char	*id; /* the domain's name */
	int	 container;
	int	 gone; /* undefined, or a transient domain that stopped */
	char	*state; /* its state word now, or NULL */
	json_t	*entry; /* its whole inventory entry now, or NULL */
	uint64_t at_ns; /* hx_mono_ns() when libvirt told us */
};

/* Free c and what it holds; NULL is a no-op. */
void inv_change_free(struct inv_change *c);

/*
 * What mailbox_drain hands over: one of frame, job or inventory is set;
 * vm comes only with a VmMetrics frame, the sample it was made of, and
 * node only with a NodeMetrics frame: the figures its text decodes to;
 * change only with a lifecycle event's frame. inventory_ns is when the
 * collector began to read the inventory (hx_mono_ns()).
 */
struct mail {
	struct frame	       *frame;
	struct hx_vm_sample    *vm;
	struct hx_node_metrics *node; /* hx_node_metrics_release, free */
	struct job	       *job;
	json_t		       *inventory; /* the VM list (collector) */
	uint64_t		inventory_ns;
	struct inv_change      *change;
};

struct mailbox *mailbox_new(void);
/* Free the mailbox, its frames, and its jobs through free_job. */
void mailbox_free(struct mailbox *mb, void (*free_job)(struct job *));
/* Set the lws context to wake on each post (NULL: wake nobody). */
void mailbox_set_context(struct mailbox *mb, struct lws_context *ctx);
/* Hand f (its reference) to the service thread. Any thread. */
void mailbox_post(struct mailbox *mb, struct frame *f);
/*
 * Hand a VmMetrics frame (its reference) and the one sample it was made
 * of (ownership; freed with hx_vm_samples_free(vm, 1)) to the service
 * thread, which keeps both in its snapshot. Any thread.
 */
void mailbox_post_vm(struct mailbox *mb, struct frame *f,
    struct hx_vm_sample *vm);
/*
 * Hand a NodeMetrics frame (its reference) and the figures decoded from
 * its text (ownership; freed with hx_node_metrics_release and free) to
 * the service thread, which keeps both in its snapshot. Any thread.
 */
void mailbox_post_node(struct mailbox *mb, struct frame *f,
    struct hx_node_metrics *node);
/* Hand a finished job (ownership) to the service thread. Any thread. */
void mailbox_post_job(struct mailbox *mb, struct job *j);
/*
 * Hand the current VM inventory (a reference), read from started_ns
 * (hx_mono_ns()) on, to the service thread.
 */
void mailbox_post_inventory(struct mailbox *mb, json_t *vms,
    uint64_t started_ns);
/*
 * Hand a lifecycle event's frame (its reference) and what it changed in
 * the inventory (ownership; may be NULL) to the service thread.
 */
void mailbox_post_change(struct mailbox *mb, struct frame *f,
    struct inv_change *c);
/*
 * Service thread: call fn on every posted item in posting order; fn
 * receives ownership of everything in it. A job still in the mailbox at
 * mailbox_free is handed to free_job.
 */
void mailbox_drain(struct mailbox *mb, void (*fn)(struct mail *, void *),
    void			  *arg);

#endif
