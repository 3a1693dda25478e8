/*
 * hx-node.h - the host sampler: turns /proc and statvfs readings into one
 * NodeMetrics sample with rates.
 *
 * A sampler keeps the previous counters so each call yields percentages and
 * per-second rates over the interval since the last call, measured on the
 * monotonic clock the caller passes in. It does no I/O beyond reading files
 * under its root and statvfs on the configured mounts, never sleeps and
 * never prints. Values that cannot be read or computed (the first sample's
 * rates, a counter that went backwards, a mount that vanished) are NaN, and
 * the encoder writes them as null: nothing is ever invented.
 */
#ifndef HX_NODE_H
#define HX_NODE_H

#include <stddef.h>
#include <stdint.h>

struct hx_node_disk {
	char	*mount;
	double	 usage; /* percent, as df: used/(used+avail) */
	uint64_t total_bytes;
	uint64_t used_bytes;
	uint64_t avail_bytes;
	int	 ok; /* 0: statvfs failed, the rest is 0/NaN */
};

struct hx_node_metrics {
	int64_t timestamp_ms; /* wall clock when sampled */
	char	hostname[256];
	double	cpu_usage; /* percent of all CPUs */
	/* cpu_usage split (hx_proc_cpu_split): user + system + steal is it,
	 * iowait is idle time waiting for I/O */
	double		     cpu_user;
	double		     cpu_system;
	double		     cpu_iowait;
	double		     cpu_steal;
	int		     cpu_cores; /* CPUs listed in /proc/stat */
	double		    *cpu_per_core; /* cpu_cores entries */
	double		     memory_usage; /* (total - available) / total */
	uint64_t	     memory_total_bytes;
	uint64_t	     memory_used_bytes;
	uint64_t	     memory_available_bytes;
	double		     swap_usage; /* 0 when there is no swap */
	uint64_t	     swap_total_bytes;
	uint64_t	     swap_used_bytes;
	double		     load_average[3];
	double		     uptime_seconds;
	struct hx_node_disk *disks; /* one per configured mount */
	size_t		     ndisks;
	double		     disk_usage; /* the fullest readable mount */
	double		     disk_read_bps; /* whole disks, not partitions */
	double		     disk_write_bps;
	double		     network_rx_bps; /* every interface but lo */
	double		     network_tx_bps;
	/* The libvirt driver of the daemon's first connection ("qemu",
	 * "test", ...; "" without one): the sampler leaves it empty, the
	 * daemon fills it. "test" says the VMs are the demo's, not this
	 * host's. */
	char libvirt_driver[16];
};

struct hx_node_sampler;

/*
 * Create a sampler. root is "" for the live system, or a directory holding
 * proc/ and sys/ trees (tests). mounts are the mount points to report with
 * statvfs (copied). Never returns NULL; free with hx_node_sampler_free.
 */
struct hx_node_sampler *hx_node_sampler_new(const char *root,
    const char *const *mounts, size_t nmounts);
void			hx_node_sampler_free(struct hx_node_sampler *s);

/*
 * Every real file system mounted now under root ("" for the live
 * system), for a sampler's mounts: those of ROOT/proc/self/mounts that
 * hx_proc_real_mounts keeps, less the ones statvfs says have no blocks
 * (df's "dummy" rule); "/" alone when the list cannot be read or is
 * empty. Returns the array, its length in *n; the caller frees each
 * string and the array.
 */
char **hx_node_real_mounts(const char *root, size_t *n);

/*
 * Take one sample at monotonic time now_ns (hx_mono_ns()). Fills *out,
 * which the caller releases with hx_node_metrics_release. Returns 0, or -1
 * with *err (caller frees) when a file every sample needs (/proc/stat,
 * /proc/meminfo) cannot be read or parsed; optional sources (diskstats,
 * net/dev, a mount) only turn their fields into NaN.
 */
int  hx_node_sample(struct hx_node_sampler *s, uint64_t now_ns,
     struct hx_node_metrics *out, char **err);
void hx_node_metrics_release(struct hx_node_metrics *m);

#endif
