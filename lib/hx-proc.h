/*
 * hx-proc.h - parsers for the Linux /proc files the host sampler reads,
 * and the df arithmetic on a struct statvfs.
 *
 * Everything here is pure: text in, structs out. Nothing opens a file,
 * prints, exits or keeps state, so the parsers can be unit tested on
 * fixtures and fuzzed on arbitrary bytes. Reading the files and turning
 * counters into rates over time is hx-node.c's job.
 *
 * Every parser takes the whole file as one NUL-terminated string. The
 * kernel always ends these files with a newline, so text that does not is
 * treated as truncated rather than risk reading "1234" out of "12345".
 * The fields the parsers use are checked strictly (digits only, no
 * overflow, the expected count); lines they do not use are skipped without
 * judgement, so a newer kernel adding lines does not break them. On
 * failure a parser returns -1, leaves its output empty (safe to release)
 * and, if err is not NULL, sets *err to a message the caller frees.
 */
#ifndef HX_PROC_H
#define HX_PROC_H

#include <sys/statvfs.h>

#include <stddef.h>
#include <stdint.h>

/*
 * One "cpu" or "cpuN" line of /proc/stat, in USER_HZ ticks. guest and
 * guest_nice are not kept: the kernel already counts them inside user and
 * nice. Fields an old kernel does not print are 0.
 */
struct hx_proc_cpu {
	int	 id; /* N of "cpuN"; -1 for the total line */
	uint64_t user;
	uint64_t nice;
	uint64_t system;
	uint64_t idle;
	uint64_t iowait;
	uint64_t irq;
	uint64_t softirq;
	uint64_t steal;
};

struct hx_proc_stat {
	struct hx_proc_cpu  total; /* the "cpu" line */
	struct hx_proc_cpu *cpus; /* "cpuN" lines, ascending N */
	size_t		    ncpus; /* online CPUs; ids may skip */
};

/*
 * Parse /proc/stat: the "cpu" line and every "cpuN" line (at least 4
 * fields each; 8 used, more ignored). Other lines are skipped. Fails on
 * a missing total line, no cpuN line, a duplicate cpuN, a non-numeric or
 * overflowing field, or truncated text. Returns 0 or -1 with *err set
 * (caller frees). Release *out with hx_proc_stat_release either way.
 */
int hx_proc_stat_parse(const char *text, struct hx_proc_stat *out, char **err);
/* Free what hx_proc_stat_parse allocated and empty *st; a no-op twice. */
void hx_proc_stat_release(struct hx_proc_stat *st);

/*
 * CPU usage in percent between two readings of the same CPU: busy ticks
 * (everything but idle and iowait) over all ticks. Returns NaN when no
 * tick elapsed or a counter went backwards (a reset, or readings of two
 * different CPUs). idle and iowait are checked as one sum because the
 * kernel documents that iowait alone may decrease (proc(5)).
 */
double hx_proc_cpu_usage(const struct hx_proc_cpu *prev,
    const struct hx_proc_cpu			  *cur);

/*
 * Where the CPU time between two readings went, each in percent of all
 * ticks: user (user and nice; guest is inside them), system (system, irq
 * and softirq), iowait and steal. user + system + steal is
 * hx_proc_cpu_usage. Returns 0, or -1 with all four NaN on the same
 * conditions as hx_proc_cpu_usage; iowait alone going backwards (proc(5))
 * leaves only iowait NaN.
 */
struct hx_proc_cpu_split {
	double user;
	double system;
	double iowait;
	double steal;
};
int hx_proc_cpu_split(const struct hx_proc_cpu *prev,
    const struct hx_proc_cpu *cur, struct hx_proc_cpu_split *out);

/*
 * The mount points of the real file systems in a /proc/self/mounts text,
 * as df lists them with -x for every pseudo type: proc, sysfs, devtmpfs,
 * devpts, tmpfs, ramfs, cgroup and cgroup2, the kernel's other virtual
 * file systems, overlay and squashfs (a container's or a snap's image)
 * are left out, and so is a second mount of a source already listed (a
 * bind mount). Octal escapes (\040 for a space) are decoded; "/" comes
 * first. Malformed lines are skipped. Returns the array (NULL when
 * empty) and its length in *n; the caller frees each string and the array.
 */
char **hx_proc_real_mounts(const char *text, size_t *n);

/* /proc/meminfo, converted from kB (KiB) to bytes. */
struct hx_proc_meminfo {
	uint64_t total;
	uint64_t free;
	uint64_t available; /* MemAvailable, or the estimate */
	int	 available_estimated; /* 1: no MemAvailable (< 3.14) */
	uint64_t buffers;
	uint64_t cached;
	uint64_t swap_total;
	uint64_t swap_free;
};

/*
 * Parse /proc/meminfo. MemTotal, MemFree, Buffers, Cached, SwapTotal and
 * SwapFree are required, each "NNN kB" and given once; when MemAvailable
 * is absent (kernels before 3.14) it is estimated as MemFree + Buffers +
 * Cached, capped at MemTotal. Returns 0 or -1 with *err set (caller frees)
 * and *out zeroed. Nothing to release.
 */
int hx_proc_meminfo_parse(const char *text, struct hx_proc_meminfo *out,
    char **err);

/*
 * Parse /proc/loadavg: the 1, 5 and 15 minute load averages into out[0..2]
 * (the rest of the line is ignored). Returns 0 or -1 with *err set
 * (caller frees) and out untouched.
 */
int hx_proc_loadavg_parse(const char *text, double out[3], char **err);

/*
 * Parse /proc/uptime: seconds since boot (the first number). Returns 0 or
 * -1 with *err set (caller frees) and *out untouched.
 */
int hx_proc_uptime_parse(const char *text, double *out, char **err);

/* One block device of /proc/diskstats. */
struct hx_proc_disk {
	char	*name;
	uint64_t read_bytes; /* sectors read * 512 */
	uint64_t write_bytes; /* sectors written * 512 */
};

struct hx_proc_diskstats {
	struct hx_proc_disk *disks; /* in file order */
	size_t		     ndisks;
};

/*
 * Decides whether a /proc/diskstats name is to be kept (for the sampler: a
 * whole disk, not a partition or a stacked device that would count the
 * same bytes twice). Returns non-zero to keep it.
 */
typedef int (*hx_proc_disk_filter)(const char *name, void *arg);

/*
 * Parse /proc/diskstats, keeping the devices for which keep(name, arg)
 * returns non-zero (every device when keep is NULL). keep is only called
 * on well-formed lines. Accepts the 14-or-more-column format and the
 * 7-column partition lines of 2.6.0-2.6.24; empty text is a host with no
 * block device, not an error. The kernel counts sectors of 512 bytes here
 * whatever the device's sector size. Returns 0 or -1 with
 * *err set (caller frees). Release *out with hx_proc_diskstats_release
 * either way.
 */
int hx_proc_diskstats_parse(const char *text, hx_proc_disk_filter keep,
    void *arg, struct hx_proc_diskstats *out, char **err);
/* Free what hx_proc_diskstats_parse allocated and empty *ds. */
void hx_proc_diskstats_release(struct hx_proc_diskstats *ds);

/* One network interface of /proc/net/dev. */
struct hx_proc_netif {
	char	*name;
	uint64_t rx_bytes;
	uint64_t tx_bytes;
};

struct hx_proc_netdev {
	struct hx_proc_netif *ifs; /* in file order, "lo" left out */
	size_t		      nifs;
};

/*
 * Parse /proc/net/dev: after the two header lines, one "name: 16 numbers"
 * line per interface (the name may be glued to the first number, as old
 * kernels print wide counters). The loopback "lo" is left out: its
 * traffic never leaves the host. Returns 0 or -1 with *err set (caller
 * frees). Release *out with hx_proc_netdev_release either way.
 */
int hx_proc_netdev_parse(const char *text, struct hx_proc_netdev *out,
    char **err);
/* Free what hx_proc_netdev_parse allocated and empty *nd. */
void hx_proc_netdev_release(struct hx_proc_netdev *nd);

/* A filesystem's size and use, as df prints it. */
struct hx_fs_usage {
	uint64_t total_bytes; /* f_blocks * f_frsize */
	uint64_t used_bytes; /* (f_blocks - f_bfree) * f_frsize */
	uint64_t avail_bytes; /* f_bavail * f_frsize: for non-root */
	double	 usage; /* used / (used + avail) * 100 */
};

/*
 * Compute df's figures from a statvfs result. usage leaves out the blocks
 * reserved for root, as df's Use% does, without df's rounding up; it is 0
 * for a filesystem with no blocks. Products that would overflow saturate
 * at UINT64_MAX. Cannot fail.
 */
void hx_fs_usage_from_statvfs(const struct statvfs *sv,
    struct hx_fs_usage				   *out);

#endif
