/*
 * collector.h - the collector thread: samples the host on its own timer
 * and posts finished NodeMetrics frames to the mailbox.
 *
 * Sampling (/proc, statvfs, libvirt), rate computation and JSON
 * serialization all happen here, off the service thread, once per tick
 * however many clients listen.
 */
#ifndef HORCRUXD_COLLECTOR_H
#define HORCRUXD_COLLECTOR_H

#include "mailbox.h"
#include "options.h"

struct collector;

struct virt;

/*
 * Make the collector and take the host's baseline reading (/proc), early
 * in start-up. Never returns NULL; collector_start or collector_stop
 * frees it.
 */
struct collector *collector_new(const struct options *opts);
/*
 * Post the first host sample to mb (at least a moment after the baseline,
 * waiting if start-up was quicker), then start the thread: host samples
 * every node_interval and, when virt is not NULL, VM samples and the VM
 * inventory every vm_interval. Returns 0, or -1 with *err (caller frees)
 * if the thread cannot be created; c is freed then.
 */
int collector_start(struct collector *c, struct mailbox *mb, struct virt *virt,
    char **err);
struct history;
/*
 * Also hand every host and VM sample to the history (before
 * collector_start; NULL: no history).
 */
void collector_set_history(struct collector *c, struct history *h);
struct alerts;
/*
 * Also hand every host and VM sample to the alert engine (before
 * collector_start; NULL: none).
 */
void collector_set_alerts(struct collector *c, struct alerts *a);
/*
 * New sampling periods (seconds) while the thread runs (a reload; any
 * thread): the thread wakes and moves its deadlines, a shorter period
 * counting at once from the last sample, a longer one from the last
 * sample too.
 */
void collector_set_intervals(struct collector *c, double node_s, double vm_s);
/* Stop and join the thread, then free it. NULL is a no-op. */
void collector_stop(struct collector *c);

#endif
