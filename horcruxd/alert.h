/*
 * alert.h - the alert engine of DESIGN §9: a thread that evaluates the
 * rules (lib/hx-alert) on every host and VM sample and every VM status
 * change, keeps one state per rule and target, emits AlertTriggered and
 * AlertResolved on the `alerts` topic, and records episodes in the
 * identity database (tables of lib/hx-store-alert.c).
 *
 * Feeding. The collector hands each sample over with alerts_post_node
 * and alerts_post_vm, the libvirt event thread each status change with
 * alerts_post_status: a list append under a mutex into a bounded queue
 * (full: the sample is dropped and counted, never waited for), exactly as
 * the history is fed, and independent of it: `history = off` leaves
 * alerts on.
 *
 * The REST routes of alerts and rules run as jobs on the same thread
 * (alerts_submit), which owns the only connection that touches the alert
 * tables, so a rule written is a rule evaluated from the next sample on.
 * What the caller may see is decided on the service thread when the job
 * is submitted (SysAudit on /nodes for node targets, VmAudit on the VM for
 * VM targets; SysModify on /nodes or VmPowerMgmt on the VM to
 * acknowledge), never on the alert thread.
 *
 * Targets are written node:HOSTNAME and vm:NAME. A VM's state is keyed by
 * its UUID, so a renamed VM keeps its episode. Firing episodes are
 * restored at start with their alert_id and not announced again. Resolved
 * episodes are deleted 90 days after they ended, hourly, on this thread.
 *
 * Status rules see the state libvirt reports in a lifecycle event; a VM
 * whose qemu died (libvirt: shut off, reason "crashed") counts as
 * `crashed`, like libvirt's own crashed state (see alerts_post_status).
 *
 * Notification delivery is not here: alert_notify() in alert.c is the one
 * place an episode's start, end or acknowledgement is handed on.
 */
#ifndef HORCRUXD_ALERT_H
#define HORCRUXD_ALERT_H

#include <stdint.h>

#include "options.h"

#include <jansson.h>

struct alerts;
struct history;
struct hx_node_metrics;
struct hx_vm_sample;
struct identity;
struct job;
struct mailbox;
struct snapshot;
struct worker_env;

/*
 * Open db_path (the identity database) and start the alert thread,
 * restoring the firing episodes. Returns NULL with *err (caller frees).
 */
struct alerts *alerts_start(const struct options *opts, const char *db_path,
    struct mailbox *mb, char **err);
/* Stop the thread (queued jobs are dropped), free a. NULL is a no-op. */
void alerts_stop(struct alerts *a);

/* Collector: the series of a host sample (copied). Never blocks. */
void alerts_post_node(struct alerts *a, const struct hx_node_metrics *m);
/* Collector: a VM sample (ownership). Never blocks. */
void alerts_post_vm(struct alerts *a, struct hx_vm_sample *v);
/*
 * libvirt event thread: VM name is now in state (a DESIGN §3 status
 * word; "crashed" for a VM whose process died). Never blocks.
 */
void alerts_post_status(struct alerts *a, const char *name, const char *state);

/*
 * Service thread: attach what id may see and do (from snap's inventory)
 * and queue j on the alert thread; the reply comes back through the
 * mailbox. Returns 0, or -1 when 64 jobs are waiting: j stays the
 * caller's.
 */
int alerts_submit(struct alerts *a, struct job *j, const struct identity *id,
    const struct snapshot *snap);

/*
 * Any thread: a copy of the rule called name as the API writes it
 * (caller owns), or NULL when there is none.
 */
json_t *alerts_rule_json(struct alerts *a, const char *name);

/*
 * alert-backtest.c, service thread: resolve j's rule (a name, through
 * alerts_rule_json) and attach what id may read (as the history routes
 * decide it), then queue j on the history's query thread (h). Returns 0,
 * or -1 when that queue is full: j stays the caller's.
 */
int alerts_backtest_submit(struct alerts *a, struct history *h, struct job *j,
    const struct identity *id, const struct snapshot *snap,
    const struct options *opts);
/* POST /api/alerts/backtest; runs on the history's query thread. */
void job_alert_backtest(struct job *j, const struct worker_env *env);

/* The jobs (route table markers; they run on the alert thread). */
void job_alert_rules(struct job *j, const struct worker_env *env);
void job_alert_rule_get(struct job *j, const struct worker_env *env);
void job_alert_rule_add(struct job *j, const struct worker_env *env);
void job_alert_rule_put(struct job *j, const struct worker_env *env);
void job_alert_rule_delete(struct job *j, const struct worker_env *env);
void job_alert_list(struct job *j, const struct worker_env *env);
void job_alert_ack(struct job *j, const struct worker_env *env);

#endif
