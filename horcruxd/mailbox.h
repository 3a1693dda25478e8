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
 * What mailbox_drain hands over: one of frame, job or inventory is set;
 * vm comes only with a VmMetrics frame, the sample it was made of, and
 * node only with a NodeMetrics frame: the figures its text decodes to.
 */
struct mail {
	struct frame	       *frame;
	struct hx_vm_sample    *vm;
	struct hx_node_metrics *node; /* hx_node_metrics_release, free */
	struct job	       *job;
	json_t		       *inventory; /* the VM list (collector) */
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
/* Hand the current VM inventory (a reference) to the service thread. */
void mailbox_post_inventory(struct mailbox *mb, json_t *vms);
/*
 * Service thread: call fn on every posted item in posting order; fn
 * receives ownership of everything in it. A job still in the mailbox at
 * mailbox_free is handed to free_job.
 */
void mailbox_drain(struct mailbox *mb, void (*fn)(struct mail *, void *),
    void			  *arg);

#endif
