/*
 * history.h - the daemon's metrics history (DESIGN §8): a thread that
 * writes every NodeMetrics and VmMetrics sample into DATA_DIR/metrics.db
 * (lib/hx-tsdb), and a query thread that answers GET /api/metrics/history
 * and /api/metrics/series from a reader connection.
 *
 * The collector hands each sample over with history_post_node and
 * history_post_vm: a list append under a mutex into a bounded queue; a
 * full queue drops the sample (counted, logged once), so the collector
 * never waits for the disk. The history thread turns samples into points
 * (series names from lib/hx-proto's field tables), flushes them every
 * history_flush in one transaction, then downsamples and expires; on
 * history_stop it flushes what is left. HX_TSDB_FULL stops history for
 * the daemon's life with a log line and a Notification; live metrics and
 * the API go on, and what was flushed stays readable.
 *
 * Series names. Node series are node:FIELD, node:cpu_per_core:N,
 * node:load_average:1|5|15 and node:disk:MOUNT:FIELD. VM series are
 * stored as vm:UUID:FIELD, so a renamed VM keeps its history; the API
 * presents them as vm:NAME:FIELD with the VM's current name from the
 * snapshot's inventory (history_req_new, on the service thread), and a
 * VM that is no longer in the inventory is not served.
 *
 * Nothing here runs on the service thread but history_req_new and the
 * posting calls.
 */
#ifndef HORCRUXD_HISTORY_H
#define HORCRUXD_HISTORY_H

#include <stdint.h>

#include "options.h"

/* Queries waiting or running at most: beyond, the caller gets 429. */
#define HISTORY_QUERIES_MAX 64

struct history;
struct hx_node_metrics;
struct hx_vm_sample;
struct identity;
struct job;
struct mailbox;
struct snapshot;
struct worker_env;

/*
 * Open DATA_DIR/metrics.db (0600) and start the history and query
 * threads. Returns NULL with *err (caller frees) on failure.
 */
struct history *history_start(const struct options *opts, struct mailbox *mb,
    char **err);
/*
 * Stop both threads (pending queries are dropped: the server is gone),
 * flush what was added, close the database, free h. NULL is a no-op.
 */
void history_stop(struct history *h);
/*
 * The sampling intervals changed (SIGHUP): how far behind the raw tier
 * is downsampled, and the step a query expects. Service thread; NULL is
 * a no-op.
 */
void history_set_intervals(struct history *h, double node_s, double vm_s);

/*
 * Collector: hand over a host sample. Takes over what m holds (m is
 * zeroed, so releasing it afterwards is harmless). Never blocks.
 */
void history_post_node(struct history *h, struct hx_node_metrics *m);
/* Collector: hand over a VM sample (ownership). Never blocks. */
void history_post_vm(struct history *h, struct hx_vm_sample *v);

/*
 * Service thread: fill j's request context for a history or series query
 * by id (what it may read: SysAudit on /nodes, VmAudit per VM of the
 * inventory in snap, the VMs' current names) and queue j on the query
 * thread; the reply comes back through the mailbox. Returns 0, or -1
 * when 64 queries are already waiting or running: j stays the caller's.
 */
int history_submit(struct history *h, struct job *j, const struct identity *id,
    const struct snapshot *snap);

/* What a query needs to know of the configuration. */
struct history_limits {
	int64_t node_ms; /* node_interval */
	int64_t vm_ms; /* vm_interval */
	int64_t keep_ms[3]; /* retention by tier */
};

/* A VM whose history a caller may read: its UUID and current name. */
struct history_vm {
	char *uuid;
	char *name;
};

/*
 * history-query.c, service thread: the VMs of snap's inventory on which
 * id holds VmAudit, *n of them (NULL when there is no inventory). Free
 * with history_vms_free.
 */
struct history_vm *history_readable_vms(const struct identity *id,
    const struct snapshot *snap, size_t *n);
void		   history_vms_free(struct history_vm *v, size_t n);

/*
 * history-query.c, service thread: attach to j what the caller id may
 * read (SysAudit on /nodes; the inventory's VMs in snap with VmAudit,
 * UUID and current name) and lim.
 */
void history_req_attach(struct job *j, const struct identity *id,
    const struct snapshot *snap, const struct history_limits *lim);

/* Queue j on the query thread; -1 when it holds its most (see above). */
int history_queue_job(struct history *h, struct job *j);

/* The query jobs (route table markers; they run on the query thread). */
void job_history(struct job *j, const struct worker_env *env);
void job_history_series(struct job *j, const struct worker_env *env);

#endif
