/*
 * model.h - what horcrux-top knows about the host and its VMs: the newest
 * NodeMetrics, one row per VM or container, recent status events, the
 * newest alert or notification. Fed with raw WebSocket messages and the
 * REST VM list; read by the screen and the batch printers. No drawing and
 * no I/O here.
 */
#ifndef TOP_MODEL_H
#define TOP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hx-node.h"
#include "spark.h"

/* VM table columns, in screen order. */
enum top_col {
	COL_NAME,
	COL_STATE,
	COL_CPU,
	COL_MEMPCT,
	COL_MEM,
	COL_DISK_RD,
	COL_DISK_WR,
	COL_NET_RX,
	COL_NET_TX,
	COL_COUNT
};

struct top_col_info {
	const char *title;
	int	    width;
	int	    numeric; /* right-aligned, sorted descending first */
	int	    bytes; /* human units */
};
extern const struct top_col_info top_cols[COL_COUNT];

#define TOP_VM_EVENTS 8

struct top_vm {
	char   *id;
	char   *name;
	char   *uuid; /* vm_uuid or the VM list's uuid; NULL: unknown yet */
	int	host; /* index of its host (merged view), else 0 */
	int64_t seen_ms; /* monotonic ms of its newest event or figures */
	char	state[16];
	int	container;
	int	vcpus; /* 0: unknown */
	double	v[COL_COUNT]; /* numeric columns; NAN when unknown */
	int	has_metrics;
	int64_t flash_until; /* monotonic ms: highlight the row */
	struct {
		int64_t wall_ms;
		char	text[48]; /* "running → paused by alice" */
	} ev[TOP_VM_EVENTS];
	int	      nev; /* newest first */
	int	      listed; /* mark for the VM list refresh */
	struct spark *cpu_hist; /* CPU% by bucket, or NULL (none yet) */
};

/* The header's sparklines, by series. */
enum top_hist {
	TOP_HIST_CPU,
	TOP_HIST_MEM,
	TOP_HIST_RX,
	TOP_HIST_TX,
	TOP_HIST_COUNT
};

/* The NodeMetrics field and history series (node:FIELD) of each. */
extern const char *const top_hist_fields[TOP_HIST_COUNT];

/* A firing alert (AlertTriggered, or GET /api/alerts?state=firing). */
struct top_alert {
	char   *id;
	char   *rule;
	char   *severity; /* info, warning, critical */
	char   *target; /* node:HOST, vm:NAME */
	char   *acked_by; /* NULL: not acknowledged */
	double	value; /* NAN for a status rule */
	int64_t since_ms; /* wall clock, 0 unknown */
	int	host; /* index of its host (merged view), else 0 */
};

struct top_model {
	/* The newest NodeMetrics, decoded. */
	struct hx_node_metrics node;
	int		       has_node; /* node holds one */
	int	       hold_metrics; /* paused: metric events change nothing */
	int64_t	       node_mono_ms; /* when it arrived */
	int64_t	       data_mono_ms; /* newest data of any kind */
	struct top_vm *vms;
	size_t	       nvms, avms;
	char	       note[256]; /* newest alert or notification */
	int	       note_level; /* 0 info, 1 warning, 2 error */
	int64_t	       note_until; /* monotonic ms it goes (0: stays) */
	char	       hidden[256]; /* "not shown: ..." (forbidden topics) */
	char	       user[128]; /* from the Connected notification */
	int	       need_vm_list; /* a VM appeared or went: refetch */
	int	       no_node; /* node:metrics refused: updates are VM ones */
	/* Sparklines: buckets of spark_step_ms (spark.h), the newest bucket
	 * any series reached, and the end of the history answer's newest
	 * bucket (live samples at or before it may be counted there). */
	struct spark	  hist[TOP_HIST_COUNT];
	int64_t		  spark_step_ms;
	int64_t		  spark_end; /* bucket number; -1: none yet */
	int64_t		  hist_until_ms;
	struct top_alert *alerts; /* firing, oldest first */
	size_t		  nalerts;
	/* Resume (DESIGN §3): the welcome's boot_id ("" from a daemon that
	 * has none), the boot the seq below belongs to, and the highest seq
	 * of a discrete event seen. */
	char	  boot_id[64];
	char	  resume_boot[64];
	long long seq;
};

/* What model_apply changed. */
#define TOP_CH_NODE 0x1
#define TOP_CH_VMS 0x2
#define TOP_CH_NOTE 0x4
#define TOP_CH_SUBSCRIBED 0x8
#define TOP_CH_ALERTS 0x10

/* An empty model; sparkline buckets of TOP_SPARK_STEP_MS. */
#define TOP_SPARK_STEP_MS 10000
void model_init(struct top_model *m);
void model_release(struct top_model *m);

/*
 * Apply one WebSocket message (a JSON object {type, data}). now_ms is the
 * monotonic clock, for flashes. A VmMetricsBatch{vms:[...]} is each of its
 * VmMetrics; a data.seq above m->seq is remembered (resume). Returns
 * TOP_CH_* flags; an unparsable message changes nothing and returns 0.
 */
int model_apply(struct top_model *m, const char *msg, size_t len,
    int64_t now_ms);

/*
 * Replace the VM set with the REST list (GET /api/vms: [{id, name, state,
 * vcpus, memory_max_bytes, container}]); metrics already received are kept
 * for VMs still present. Returns 0, or -1 if list is not an array.
 */
int model_set_vm_list(struct top_model *m, json_t *list);

/*
 * Apply the history API's answer (GET /api/metrics/history at the step
 * spark_step_ms: {"series":[{"name","points":[[t_ms, v|null]...]}]}) to
 * the sparklines: node:cpu_usage, node:memory_usage, node:network_rx_bps,
 * node:network_tx_bps and vm:NAME:cpu_usage of the VMs the model holds;
 * other series are ignored. The lines then end at the answer's newest
 * bucket, and live samples count from the next one on: those in it may be
 * in the answer already (its time is the daemon's clock, so a client
 * whose clock is off neither drops nor counts twice). Returns the number
 * of series applied, or -1 when root is not such an answer.
 */
int model_apply_history(struct top_model *m, json_t *root);

/*
 * The ncells newest buckets of a sparkline, ending with the newest bucket
 * any series reached (so every line shows the same span of time), into
 * out; NaN for gaps. s may be NULL (all gaps).
 */
void model_spark_cells(const struct top_model *m, const struct spark *s,
    double *out, size_t ncells);

/*
 * Replace the firing alerts with GET /api/alerts?state=firing's answer
 * ({"alerts":[...]}). Returns 0, or -1 (nothing changed) when it is not
 * that shape.
 */
int model_set_alerts(struct top_model *m, json_t *answer);

/*
 * The merged view of several hosts' models (horcrux-top -c A -c B): dst's
 * VMs and firing alerts become copies of those of src[0..n-1], each with
 * its host index. A VM several hosts report (by uuid: one that migrated,
 * or is migrating) gets one row: the host where it runs, else the one
 * that reported it last. dst holds no NodeMetrics; its other fields are
 * left as they are. dst owns its copies (model_release frees them).
 */
void model_merge(struct top_model *dst, struct top_model *const *src, size_t n);

/* Firing alerts by severity: critical, warning, info (the rest). */
void model_alert_counts(const struct top_model *m, int *crit, int *warn,
    int *info);

/* The VM with this id, or NULL. */
struct top_vm *model_vm(struct top_model *m, const char *id);

/*
 * Whether the daemon's VMs come from libvirt's test driver (NodeMetrics
 * libvirt_driver "test"): the demo's VMs beside the real host's meters.
 */
int model_demo(const struct top_model *m);

/* Counts for the header: running VMs and containers, and all of them. */
void model_vm_counts(const struct top_model *m, int *running, int *total);

/*
 * Fill idx with the rows whose name contains filter (case-insensitive;
 * NULL or "" for all), ordered by column col (descending for numbers,
 * ascending for text, reversed by invert; ties by name). idx must hold
 * m->nvms entries. Returns the number of rows.
 */
size_t model_view(const struct top_model *m, enum top_col col, int invert,
    const char *filter, size_t *idx);

/* Text of one cell for column col into out ("-" when unknown). */
void model_cell(const struct top_vm *vm, enum top_col col, char *out,
    size_t outlen);

/*
 * A number field of the newest NodeMetrics by its protocol name (lib/
 * hx-proto's field table), or NAN when there is none, it is not a number
 * field, or it was null (byte counts decode a null as 0).
 */
double model_node_num(const struct top_model *m, const char *key);

#endif
