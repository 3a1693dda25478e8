/*
 * meter.c - the meter classes (see meter.h). Each draws with screen.c's
 * primitives (bars, text, level cells) and writes plain text for batch
 * mode, from the same struct fields, so the screen and -b cannot disagree
 * on a figure. A figure the daemon did not send is '-' (NaN) or left out.
 * No curses and no I/O here.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "meter.h"
#include "screen.h"

static void
fmt_pct(double v, char *out, size_t n)
{
	if (isnan(v))
		hx_strlcpy(out, "-", n);
	else
		snprintf(out, n, "%.1f%%", v);
}

static void
fmt_uptime(double s, char *out, size_t n)
{
	long t = isnan(s) ? -1 : (long)s;

	if (t < 0)
		hx_strlcpy(out, "-", n);
	else if (t >= 86400)
		snprintf(out, n, "%ldd %02ld:%02ld:%02ld", t / 86400,
		    t % 86400 / 3600, t % 3600 / 60, t % 60);
	else
		snprintf(out, n, "%02ld:%02ld:%02ld", t / 3600, t % 3600 / 60,
		    t % 60);
}

/* "12.5% 1.0G/2.0G": a usage and its bytes, for bars and batch text. */
static void
fmt_usage(double pct, double used, double total, char *out, size_t n)
{
	char p[32], a[16], b[16];

	fmt_pct(pct, p, sizeof(p));
	snprintf(out, n, "%s %s/%s", p, hx_fmt_bytes(used, a, sizeof(a)),
	    hx_fmt_bytes(total, b, sizeof(b)));
}

static void
buf_pct(struct hx_buf *b, double v)
{
	if (isnan(v))
		hx_buf_addf(b, "-");
	else
		hx_buf_addf(b, "%.1f%%", v);
}

/* ---- CPUs: one bar per CPU, or a grid of one cell per CPU ---------------- */

static int
cpus_draw(const struct top_model *m, int y, int x, int w)
{
	const struct hx_node_metrics *nm = &m->node;
	size_t n = nm->cpu_per_core != NULL && nm->cpu_cores > 0 ?
	    (size_t)nm->cpu_cores :
	    0,
	       i;
	int ncol = w >= 160 ? 4 : w >= 50 ? 2 : 1;
	int rows = (int)((n + (size_t)ncol - 1) / (size_t)ncol);
	int cw = w / ncol;

	if (n == 0)
		return 0;
	if (rows > 4) {
		/* A grid: each CPU is its level glyph; a digit row would be
		 * unreadable on 100+ CPUs and the total bar carries the sum. */
		int per_line = w - 6, used = 0;

		for (i = 0; i < n; i++) {
			int cy = y + (int)i / per_line;

			if (i % (size_t)per_line == 0) {
				screen_label(cy, x, i == 0 ? "CPUs " : "     ");
				used++;
			}
			screen_level_cell(cy, x + 6 + (int)i % per_line,
			    nm->cpu_per_core[i]);
		}
		return used;
	}
	for (i = 0; i < n; i++) {
		char label[24], text[16];

		snprintf(label, sizeof(label), "%3zu", i);
		fmt_pct(nm->cpu_per_core[i], text, sizeof(text));
		screen_bar(y + (int)i / ncol, x + (int)(i % (size_t)ncol) * cw,
		    cw - 1, label, nm->cpu_per_core[i], text);
	}
	return rows;
}

static int
cpus_text(const struct top_model *m, struct hx_buf *b)
{
	const struct hx_node_metrics *nm = &m->node;
	int			      i;

	hx_buf_addf(b, "CPUs");
	for (i = 0; nm->cpu_per_core != NULL && i < nm->cpu_cores; i++) {
		hx_buf_addf(b, " ");
		buf_pct(b, nm->cpu_per_core[i]);
	}
	return 1;
}

/* ---- CPU, memory, swap: one bar each ------------------------------------- */

static int
cpu_draw(const struct top_model *m, int y, int x, int w)
{
	char text[32];

	fmt_pct(m->node.cpu_usage, text, sizeof(text));
	screen_bar(y, x, w, "CPU", m->node.cpu_usage, text);
	return 1;
}

static int
cpu_text(const struct top_model *m, struct hx_buf *b)
{
	hx_buf_addf(b, "CPU ");
	buf_pct(b, m->node.cpu_usage);
	return 1;
}

/* "usr 5.0%  sys 3.0%  wait 0.5%  steal 0.0%"; 0 when none is known. */
static int
cpu_split(const struct hx_node_metrics *nm, const char *sep, char *out,
    size_t n)
{
	char u[16], s[16], w[16], st[16];

	if (isnan(nm->cpu_user) && isnan(nm->cpu_system) &&
	    isnan(nm->cpu_iowait) && isnan(nm->cpu_steal))
		return 0;
	fmt_pct(nm->cpu_user, u, sizeof(u));
	fmt_pct(nm->cpu_system, s, sizeof(s));
	fmt_pct(nm->cpu_iowait, w, sizeof(w));
	fmt_pct(nm->cpu_steal, st, sizeof(st));
	snprintf(out, n, "usr %s%ssys %s%swait %s%ssteal %s", u, sep, s, sep, w,
	    sep, st);
	return 1;
}

static int
cpu_split_draw(const struct top_model *m, int y, int x, int w)
{
	char text[96];

	if (!cpu_split(&m->node, "  ", text, sizeof(text)))
		hx_strlcpy(text, "-", sizeof(text));
	screen_textf(y, x, w, "CPU: %s", text);
	return 1;
}

static int
cpu_split_text(const struct top_model *m, struct hx_buf *b)
{
	char text[96];

	if (!cpu_split(&m->node, " ", text, sizeof(text)))
		return 0;
	hx_buf_addf(b, "CPU %s", text);
	return 1;
}

static int
mem_draw(const struct top_model *m, int y, int x, int w)
{
	const struct hx_node_metrics *nm = &m->node;
	char			      text[96];

	fmt_usage(nm->memory_usage, (double)nm->memory_used_bytes,
	    (double)nm->memory_total_bytes, text, sizeof(text));
	screen_bar(y, x, w, "Mem", nm->memory_usage, text);
	return 1;
}

static int
mem_text(const struct top_model *m, struct hx_buf *b)
{
	const struct hx_node_metrics *nm = &m->node;
	char			      text[96];

	fmt_usage(nm->memory_usage, (double)nm->memory_used_bytes,
	    (double)nm->memory_total_bytes, text, sizeof(text));
	hx_buf_addf(b, "Mem %s", text);
	return 1;
}

static int
swap_draw(const struct top_model *m, int y, int x, int w)
{
	const struct hx_node_metrics *nm = &m->node;
	char			      text[96];

	fmt_usage(nm->swap_usage, (double)nm->swap_used_bytes,
	    (double)nm->swap_total_bytes, text, sizeof(text));
	screen_bar(y, x, w, "Swp", nm->swap_usage, text);
	return 1;
}

static int
swap_text(const struct top_model *m, struct hx_buf *b)
{
	hx_buf_addf(b, "Swap ");
	buf_pct(b, m->node.swap_usage);
	return 1;
}

/* ---- mounts: a bar per mount (the first four on the screen) -------------- */

#define MOUNTS_SHOWN 4

static void
mount_usage(const struct hx_node_disk *d, char *out, size_t n)
{
	fmt_usage(d->ok ? d->usage : NAN, (double)d->used_bytes,
	    (double)d->total_bytes, out, n);
}

static int
mounts_draw(const struct top_model *m, int y, int x, int w)
{
	const struct hx_node_metrics *nm = &m->node;
	size_t			      i;

	for (i = 0; i < nm->ndisks && i < MOUNTS_SHOWN; i++) {
		const struct hx_node_disk *d = &nm->disks[i];
		char			   label[24], text[96];

		if (d->mount == NULL)
			break;
		snprintf(label, sizeof(label), "%-3.12s", d->mount);
		mount_usage(d, text, sizeof(text));
		screen_bar(y + (int)i, x, w, label, d->ok ? d->usage : NAN,
		    text);
	}
	return (int)i;
}

static int
mounts_text(const struct top_model *m, struct hx_buf *b)
{
	const struct hx_node_metrics *nm = &m->node;
	size_t			      i;

	for (i = 0; i < nm->ndisks; i++) {
		char text[96];

		mount_usage(&nm->disks[i], text, sizeof(text));
		hx_buf_addf(b, "%sMount %s %s", i > 0 ? "\n" : "",
		    nm->disks[i].mount ? nm->disks[i].mount : "-", text);
	}
	return nm->ndisks > 0;
}

/* ---- the figures beside the bars ----------------------------------------- */

static int
load_known(const struct hx_node_metrics *nm)
{
	return !isnan(nm->load_average[0]) && !isnan(nm->load_average[1]) &&
	    !isnan(nm->load_average[2]);
}

static int
load_draw(const struct top_model *m, int y, int x, int w)
{
	const double *la = m->node.load_average;

	if (load_known(&m->node))
		screen_textf(y, x, w, "Load average: %.2f %.2f %.2f", la[0],
		    la[1], la[2]);
	else
		screen_text(y, x, w, "Load average: -");
	return 1;
}

static int
load_text(const struct top_model *m, struct hx_buf *b)
{
	const double *la = m->node.load_average;

	if (!load_known(&m->node))
		return 0;
	hx_buf_addf(b, "Load %.2f %.2f %.2f", la[0], la[1], la[2]);
	return 1;
}

static int
uptime_draw(const struct top_model *m, int y, int x, int w)
{
	char up[32];

	fmt_uptime(m->node.uptime_seconds, up, sizeof(up));
	screen_textf(y, x, w, "Uptime: %s   CPUs: %d", up, m->node.cpu_cores);
	return 1;
}

static int
uptime_text(const struct top_model *m, struct hx_buf *b)
{
	char up[32];

	if (isnan(m->node.uptime_seconds))
		return 0;
	/* As the screen writes it. */
	fmt_uptime(m->node.uptime_seconds, up, sizeof(up));
	hx_buf_addf(b, "Uptime %s", up);
	return 1;
}

static int
vms_draw(const struct top_model *m, int y, int x, int w)
{
	int running, total;

	model_vm_counts(m, &running, &total);
	screen_textf(y, x, w, "VMs: %d running / %d total", running, total);
	return 1;
}

static int
vms_text(const struct top_model *m, struct hx_buf *b)
{
	int running, total;

	model_vm_counts(m, &running, &total);
	hx_buf_addf(b, "VMs %d running / %d total", running, total);
	return 1;
}

static int
disk_draw(const struct top_model *m, int y, int x, int w)
{
	char r[16], wr[16];

	screen_textf(y, x, w, "Disk: R %s/s  W %s/s",
	    hx_fmt_bytes(m->node.disk_read_bps, r, sizeof(r)),
	    hx_fmt_bytes(m->node.disk_write_bps, wr, sizeof(wr)));
	return 1;
}

static int
disk_text(const struct top_model *m, struct hx_buf *b)
{
	char r[16], wr[16];

	hx_buf_addf(b, "Disk R %s/s W %s/s",
	    hx_fmt_bytes(m->node.disk_read_bps, r, sizeof(r)),
	    hx_fmt_bytes(m->node.disk_write_bps, wr, sizeof(wr)));
	return 1;
}

static int
net_draw(const struct top_model *m, int y, int x, int w)
{
	char rx[16], tx[16];

	screen_textf(y, x, w, "Net:  RX %s/s  TX %s/s",
	    hx_fmt_bytes(m->node.network_rx_bps, rx, sizeof(rx)),
	    hx_fmt_bytes(m->node.network_tx_bps, tx, sizeof(tx)));
	return 1;
}

static int
net_text(const struct top_model *m, struct hx_buf *b)
{
	char rx[16], tx[16];

	hx_buf_addf(b, "Net RX %s/s TX %s/s",
	    hx_fmt_bytes(m->node.network_rx_bps, rx, sizeof(rx)),
	    hx_fmt_bytes(m->node.network_tx_bps, tx, sizeof(tx)));
	return 1;
}

/* ---- sparklines: the recent past of CPU, memory and network ------------- */

/*
 * Two rows, two lines each: "CPU <line>  Mem <line>" and "RX  <line>  TX
 * <line>". Percentages on a fixed 0-100 scale; rates on a scale up to
 * the largest value shown, so a quiet link still shows its shape.
 */
static void
hist_pair(const struct top_model *m, int y, int x, int w, int a, int b)
{
	static const char *label[TOP_HIST_COUNT] = { "CPU", "Mem", "RX", "TX" };
	double		   cells[SPARK_RING];
	int		   half = w / 2, k, id, n;

	n = half - 6;
	if (n > SPARK_RING)
		n = SPARK_RING;
	for (k = 0; k < 2; k++) {
		double hi;

		id = k == 0 ? a : b;
		model_spark_cells(m, &m->hist[id], cells, (size_t)n);
		hi = id == TOP_HIST_CPU || id == TOP_HIST_MEM ?
		    100 :
		    spark_max(cells, (size_t)n);
		screen_label(y, x + k * half, label[id]);
		screen_spark(y, x + k * half + 4, cells, (size_t)n, hi);
	}
}

static int
hist_draw(const struct top_model *m, int y, int x, int w)
{
	if (w < 24)
		return 0;
	hist_pair(m, y, x, w, TOP_HIST_CPU, TOP_HIST_MEM);
	hist_pair(m, y + 1, x, w, TOP_HIST_RX, TOP_HIST_TX);
	return 2;
}

/* Batch output has no sparklines: each line is one moment. */
static int
hist_text(const struct top_model *m, struct hx_buf *b)
{
	(void)m;
	(void)b;
	return 0;
}

const struct top_meter_class top_meters[METER_COUNT] = {
	[METER_CPUS] = { .name = "CPUs", .draw = cpus_draw, .text = cpus_text },
	[METER_CPU] = { .name = "CPU", .draw = cpu_draw, .text = cpu_text },
	[METER_CPU_SPLIT] = { .name = "CPU split",
	    .draw = cpu_split_draw,
	    .text = cpu_split_text },
	[METER_MEM] = { .name = "Mem", .draw = mem_draw, .text = mem_text },
	[METER_SWAP] = { .name = "Swap", .draw = swap_draw, .text = swap_text },
	[METER_MOUNTS] = { .name = "Mounts",
	    .draw = mounts_draw,
	    .text = mounts_text },
	[METER_LOAD] = { .name = "Load", .draw = load_draw, .text = load_text },
	[METER_UPTIME] = { .name = "Uptime",
	    .draw = uptime_draw,
	    .text = uptime_text },
	[METER_VMS] = { .name = "VMs", .draw = vms_draw, .text = vms_text },
	[METER_DISK] = { .name = "Disk", .draw = disk_draw, .text = disk_text },
	[METER_NET] = { .name = "Net", .draw = net_draw, .text = net_text },
	[METER_HIST] = { .name = "History",
	    .draw = hist_draw,
	    .text = hist_text },
};
