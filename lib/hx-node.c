/*
 * hx-node.c - the host sampler (see hx-node.h): reads /proc under a root,
 * runs statvfs on the configured mounts, and turns counters into
 * percentages and per-second rates against the previous sample.
 *
 * Parsing is hx-proc.c's; this file owns the files, the baselines and the
 * rules for when a value cannot be trusted (first sample, a counter that
 * went backwards, a CPU or device that came or went), which all give NaN
 * rather than a guess. It keeps no thread of its own and takes no lock:
 * one sampler belongs to one thread (the collector).
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hx-node.h"
#include "hx-proc.h"
#include "hx-util.h"

/*
 * Far above what these files reach even on big hosts (/proc/stat of 8192
 * CPUs, diskstats of thousands of multipath LVs), but a bound all the same.
 */
#define NODE_FILE_MAX (4 * 1024 * 1024)

/* A named pair of byte counters: a disk's read/written, a NIC's rx/tx. */
struct node_ctr {
	char	*name;
	uint64_t a;
	uint64_t b;
};

/* The baseline of one family of counters, sorted by name. */
struct node_ctrs {
	struct node_ctr *v;
	size_t		 n;
	uint64_t	 ns; /* when it was read */
	int		 valid;
};

struct hx_node_sampler {
	char  *root; /* "" or a path, no final '/' */
	char **mounts;
	size_t nmounts;

	struct hx_proc_stat stat; /* previous /proc/stat */
	int		    have_stat;
	struct node_ctrs    disks;
	struct node_ctrs    nets;
};

struct hx_node_sampler *
hx_node_sampler_new(const char *root, const char *const *mounts, size_t nmounts)
{
	struct hx_node_sampler *s;
	size_t			i, len;

	s = xcalloc(1, sizeof *s);
	len = strlen(root);
	while (len > 0 && root[len - 1] == '/')
		len--;
	s->root = xstrndup(root, len);
	s->mounts = xcalloc(nmounts, sizeof *s->mounts);
	for (i = 0; i < nmounts; i++)
		s->mounts[i] = xstrdup(mounts[i]);
	s->nmounts = nmounts;
	return s;
}

static void
node_ctrs_release(struct node_ctrs *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
	memset(c, 0, sizeof *c);
}

char **
hx_node_real_mounts(const char *root, size_t *n)
{
	char  *path = xasprintf("%s/proc/self/mounts", root), *text, **m;
	size_t all = 0, i, k = 0;

	text = hx_read_file(path, NODE_FILE_MAX, NULL);
	free(path);
	m = text != NULL ? hx_proc_real_mounts(text, &all) : NULL;
	free(text);
	for (i = 0; i < all; i++) {
		struct statvfs sv;

		if (statvfs(m[i], &sv) == 0 && sv.f_blocks == 0)
			free(m[i]);
		else
			m[k++] = m[i];
	}
	if (k == 0) {
		free(m);
		m = xcalloc(1, sizeof *m);
		m[k++] = xstrdup("/");
	}
	*n = k;
	return m;
}

void
hx_node_sampler_free(struct hx_node_sampler *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->root);
	for (i = 0; i < s->nmounts; i++)
		free(s->mounts[i]);
	free(s->mounts);
	hx_proc_stat_release(&s->stat);
	node_ctrs_release(&s->disks);
	node_ctrs_release(&s->nets);
	free(s);
}

void
hx_node_metrics_release(struct hx_node_metrics *m)
{
	size_t i;

	free(m->cpu_per_core);
	for (i = 0; i < m->ndisks; i++)
		free(m->disks[i].mount);
	free(m->disks);
	memset(m, 0, sizeof *m);
}

/*
 * Read ROOT/rel. Returns the text (caller frees) or NULL with *err set
 * (caller frees) when err is not NULL.
 */
static char *
node_read(struct hx_node_sampler *s, const char *rel, char **err)
{
	char *path, *text;

	path = xasprintf("%s/%s", s->root, rel);
	text = hx_read_file(path, NODE_FILE_MAX, NULL);
	if (text == NULL && err != NULL)
		*err = xasprintf("cannot read '%s': %s", path, strerror(errno));
	free(path);
	return text;
}

/*
 * A whole disk has a device link in /sys/block; partitions are not there
 * at all, and stacked or virtual devices (dm-*, md*, loop*, zram*) have no
 * device, so counting only these never counts the same I/O twice.
 */
static int
node_is_disk(const char *name, void *arg)
{
	struct hx_node_sampler *s = arg;
	struct stat		sb;
	char		       *path;
	int			r;

	/* The name goes into a path: refuse anything that could escape. */
	if (*name == '\0' || *name == '.' || strchr(name, '/') != NULL)
		return 0;
	path = xasprintf("%s/sys/block/%s/device", s->root, name);
	r = stat(path, &sb) == 0;
	free(path);
	return r;
}

static int
node_ctr_cmp(const void *a, const void *b)
{
	const struct node_ctr *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/*
 * Rates of a family of counters against its baseline, matched by name:
 * a device that appeared has no baseline yet and one that went away has
 * no reading, so both are left out rather than counted as a jump. Takes
 * ownership of cur (n entries, or NULL when the source could not be read,
 * which keeps the old baseline and its time for the next sample).
 */
static void
node_ctrs_rate(struct node_ctrs *base, struct node_ctr *cur, size_t n,
    uint64_t now_ns, double *a_bps, double *b_bps)
{
	struct node_ctrs next;
	double		 da = 0, db = 0, dt;
	size_t		 i = 0, j = 0;
	int		 a_back = 0, b_back = 0, c;

	*a_bps = *b_bps = NAN;
	if (cur == NULL)
		return;
	qsort(cur, n, sizeof *cur, node_ctr_cmp);
	if (base->valid && now_ns > base->ns) {
		while (i < base->n && j < n) {
			c = strcmp(base->v[i].name, cur[j].name);
			if (c < 0) {
				i++;
				continue;
			}
			if (c > 0) {
				j++;
				continue;
			}
			if (cur[j].a < base->v[i].a)
				a_back = 1;
			else
				da += (double)(cur[j].a - base->v[i].a);
			if (cur[j].b < base->v[i].b)
				b_back = 1;
			else
				db += (double)(cur[j].b - base->v[i].b);
			i++;
			j++;
		}
		dt = (double)(now_ns - base->ns) / 1e9;
		if (!a_back)
			*a_bps = da / dt;
		if (!b_back)
			*b_bps = db / dt;
	}
	next.v = cur;
	next.n = n;
	next.ns = now_ns;
	next.valid = 1;
	node_ctrs_release(base);
	*base = next;
}

static void
node_sample_cpu(struct hx_node_sampler *s, struct hx_proc_stat *st,
    struct hx_node_metrics *out)
{
	const struct hx_proc_stat *prev = &s->stat;
	size_t			   i, j = 0;

	out->cpu_cores = (int)st->ncpus;
	out->cpu_per_core = xcalloc(st->ncpus, sizeof *out->cpu_per_core);
	out->cpu_usage = NAN;
	out->cpu_user = out->cpu_system = out->cpu_iowait = out->cpu_steal =
	    NAN;
	for (i = 0; i < st->ncpus; i++)
		out->cpu_per_core[i] = NAN;
	if (s->have_stat) {
		struct hx_proc_cpu_split sp;

		out->cpu_usage = hx_proc_cpu_usage(&prev->total, &st->total);
		hx_proc_cpu_split(&prev->total, &st->total, &sp);
		out->cpu_user = sp.user;
		out->cpu_system = sp.system;
		out->cpu_iowait = sp.iowait;
		out->cpu_steal = sp.steal;
		/* Both lists are sorted by id: walk them together. */
		for (i = 0; i < st->ncpus; i++) {
			while (j < prev->ncpus &&
			    prev->cpus[j].id < st->cpus[i].id)
				j++;
			if (j < prev->ncpus &&
			    prev->cpus[j].id == st->cpus[i].id)
				out->cpu_per_core[i] =
				    hx_proc_cpu_usage(&prev->cpus[j],
					&st->cpus[i]);
		}
	}
	hx_proc_stat_release(&s->stat);
	s->stat = *st;
	s->have_stat = 1;
	memset(st, 0, sizeof *st);
}

static void
node_sample_memory(const struct hx_proc_meminfo *mi,
    struct hx_node_metrics			*out)
{
	uint64_t used;

	used = mi->total > mi->available ? mi->total - mi->available : 0;
	out->memory_total_bytes = mi->total;
	out->memory_available_bytes = mi->available;
	out->memory_used_bytes = used;
	out->memory_usage = mi->total != 0 ?
	    (double)used / (double)mi->total * 100.0 :
	    NAN;

	used = mi->swap_total > mi->swap_free ? mi->swap_total - mi->swap_free :
						0;
	out->swap_total_bytes = mi->swap_total;
	out->swap_used_bytes = used;
	out->swap_usage = mi->swap_total != 0 ?
	    (double)used / (double)mi->swap_total * 100.0 :
	    0;
}

static void
node_sample_mounts(struct hx_node_sampler *s, struct hx_node_metrics *out)
{
	struct hx_node_disk *d;
	struct hx_fs_usage   fu;
	struct statvfs	     sv;
	size_t		     i;

	out->disk_usage = NAN;
	out->disks = xcalloc(s->nmounts, sizeof *out->disks);
	out->ndisks = s->nmounts;
	for (i = 0; i < s->nmounts; i++) {
		d = &out->disks[i];
		d->mount = xstrdup(s->mounts[i]);
		if (statvfs(s->mounts[i], &sv) == -1) {
			d->usage = NAN;
			continue;
		}
		hx_fs_usage_from_statvfs(&sv, &fu);
		d->ok = 1;
		d->usage = fu.usage;
		d->total_bytes = fu.total_bytes;
		d->used_bytes = fu.used_bytes;
		d->avail_bytes = fu.avail_bytes;
		if (isnan(out->disk_usage) || d->usage > out->disk_usage)
			out->disk_usage = d->usage;
	}
}

static void
node_sample_io(struct hx_node_sampler *s, uint64_t now_ns,
    struct hx_node_metrics *out)
{
	struct hx_proc_diskstats ds;
	struct hx_proc_netdev	 nd;
	struct node_ctr		*cur;
	char			*text;
	size_t			 i, n = 0;

	cur = NULL;
	text = node_read(s, "proc/diskstats", NULL);
	if (text != NULL &&
	    hx_proc_diskstats_parse(text, node_is_disk, s, &ds, NULL) == 0) {
		cur = xcalloc(ds.ndisks, sizeof *cur);
		for (i = 0; i < ds.ndisks; i++) {
			cur[i].name = ds.disks[i].name;
			cur[i].a = ds.disks[i].read_bytes;
			cur[i].b = ds.disks[i].write_bytes;
		}
		/* The names now belong to cur. */
		n = ds.ndisks;
		free(ds.disks);
	}
	free(text);
	node_ctrs_rate(&s->disks, cur, n, now_ns, &out->disk_read_bps,
	    &out->disk_write_bps);

	cur = NULL;
	n = 0;
	text = node_read(s, "proc/net/dev", NULL);
	if (text != NULL && hx_proc_netdev_parse(text, &nd, NULL) == 0) {
		cur = xcalloc(nd.nifs, sizeof *cur);
		for (i = 0; i < nd.nifs; i++) {
			cur[i].name = nd.ifs[i].name;
			cur[i].a = nd.ifs[i].rx_bytes;
			cur[i].b = nd.ifs[i].tx_bytes;
		}
		n = nd.nifs;
		free(nd.ifs);
	}
	free(text);
	node_ctrs_rate(&s->nets, cur, n, now_ns, &out->network_rx_bps,
	    &out->network_tx_bps);
}

int
hx_node_sample(struct hx_node_sampler *s, uint64_t now_ns,
    struct hx_node_metrics *out, char **err)
{
	struct hx_proc_stat    st;
	struct hx_proc_meminfo mi;
	char		      *text;
	int		       r;

	memset(out, 0, sizeof *out);

	/* Both required files first, so a failure changes no baseline. */
	if ((text = node_read(s, "proc/stat", err)) == NULL)
		return -1;
	r = hx_proc_stat_parse(text, &st, err);
	free(text);
	if (r == -1)
		return -1;
	if ((text = node_read(s, "proc/meminfo", err)) == NULL) {
		hx_proc_stat_release(&st);
		return -1;
	}
	r = hx_proc_meminfo_parse(text, &mi, err);
	free(text);
	if (r == -1) {
		hx_proc_stat_release(&st);
		return -1;
	}

	out->timestamp_ms = hx_wall_ms();
	if (gethostname(out->hostname, sizeof out->hostname - 1) == -1)
		out->hostname[0] = '\0';
	out->hostname[sizeof out->hostname - 1] = '\0';

	node_sample_cpu(s, &st, out);
	node_sample_memory(&mi, out);

	out->load_average[0] = out->load_average[1] = out->load_average[2] =
	    NAN;
	if ((text = node_read(s, "proc/loadavg", NULL)) != NULL)
		hx_proc_loadavg_parse(text, out->load_average, NULL);
	free(text);
	out->uptime_seconds = NAN;
	if ((text = node_read(s, "proc/uptime", NULL)) != NULL)
		hx_proc_uptime_parse(text, &out->uptime_seconds, NULL);
	free(text);

	node_sample_mounts(s, out);
	node_sample_io(s, now_ns, out);
	return 0;
}
