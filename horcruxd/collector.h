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
 * Start the thread: host samples every node_interval and, when virt is
 * not NULL, VM samples and the VM inventory every vm_interval. Returns
 * NULL with *err if it cannot be created.
 */
struct collector *collector_start(const struct options *opts,
    struct mailbox *mb, struct virt *virt, char **err);
/* Stop and join the thread, then free it. NULL is a no-op. */
void collector_stop(struct collector *c);

#endif
