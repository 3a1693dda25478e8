/*
 * mailbox.h - the one door from the collector and libvirt threads into the
 * service thread.
 *
 * Producers post finished frames under a mutex and wake the lws loop with
 * lws_cancel_service(); the service thread drains everything on
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED. The mailbox never blocks a producer
 * for longer than a list append and never drops a frame.
 */
#ifndef HORCRUXD_MAILBOX_H
#define HORCRUXD_MAILBOX_H

#include "frame.h"

struct lws_context;
struct mailbox;

struct mailbox *mailbox_new(void);
/* Free the mailbox and any frames still in it. */
void mailbox_free(struct mailbox *mb);
/* Set the lws context to wake on each post (NULL: wake nobody). */
void mailbox_set_context(struct mailbox *mb, struct lws_context *ctx);
/* Hand f (its reference) to the service thread. Any thread. */
void mailbox_post(struct mailbox *mb, struct frame *f);
/*
 * Service thread: call fn on every posted frame in posting order; fn
 * receives the reference.
 */
void mailbox_drain(struct mailbox *mb, void (*fn)(struct frame *, void *),
    void *arg);

#endif
