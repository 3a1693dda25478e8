/*
 * virt.h - libvirt for horcruxd: one connection per libvirt_uri, shared
 * by the collector, the event thread and VM actions (libvirt connections
 * are thread-safe, and the test driver keeps state per connection, so a
 * second connection would not even see the first one's changes).
 *
 * The event thread runs libvirt's default event loop: domain lifecycle
 * events become VmStatusChanged / ContainerStatusChanged / VmCreated /
 * VmDeleted frames in the mailbox, whoever caused them (virsh included);
 * finished backup jobs become BackupCompleted, and outgoing migrations
 * MigrationStarted, MigrationProgress (their job statistics, read every
 * vm_interval while they run) and MigrationCompleted, or MigrationFailed
 * when the job is gone and the VM still runs here. Each lifecycle frame
 * carries the domain's inventory entry as read then (mailbox.h).
 * A connection that drops is reopened with backoff, with a Notification
 * on loss and on recovery; everything else keeps working meanwhile.
 */
#ifndef HORCRUXD_VIRT_H
#define HORCRUXD_VIRT_H

#include <stddef.h>

#include <libvirt/libvirt.h>

#include "mailbox.h"
#include "options.h"

struct virt;

/*
 * Register libvirt's event loop, open every URI (one that fails now is
 * retried in the background) and start the event thread. Returns NULL
 * with *err only if the thread cannot start.
 */
struct virt *virt_start(const struct options *o, struct mailbox *mb,
    char **err);
void	     virt_stop(struct virt *v);

size_t	    virt_count(const struct virt *v);
const char *virt_uri(const struct virt *v, size_t i);
/* Connection i with a reference (virConnectClose it), or NULL if down. */
virConnectPtr virt_conn(struct virt *v, size_t i);
/*
 * Find the domain called name on any connection: a reference the caller
 * virDomainFree()s, or NULL. *conn_index (may be NULL) says where.
 */
virDomainPtr virt_domain(struct virt *v, const char *name, size_t *conn_index);
/*
 * Whether domain name on connection i is a container (an lxc:// URI, or
 * a domain of type lxc), from what the event thread learnt of it.
 */
int virt_is_container(struct virt *v, size_t i, const char *name);
/*
 * Remember that user is about to act on domain name, so the lifecycle
 * event it causes (within a few seconds) names them.
 */
void virt_note_action(struct virt *v, const char *name, const char *user);
struct alerts;
/*
 * Hand every VM status change to the alert engine too (before events
 * flow; v NULL: no-op). Set once, at start-up.
 */
void virt_set_alerts(struct virt *v, struct alerts *a);
/*
 * vm_interval changed (SIGHUP): migrations that start from now on are
 * followed at the new period. Any thread; NULL is a no-op.
 */
void virt_set_interval(struct virt *v, double vm_s);

#endif
