/*
 * graph.c - the graph view (see graph.h). The plot is CPU% on a fixed
 * 0-100 scale, one column per slice of the range, each a bar of eighths
 * (block characters, or '#' and '.' in ASCII); a slice without a point
 * is blank, never zero. The figures line is the whole range's: min and
 * max from the API's min/max arrays when the tier is aggregated (else
 * from the points), avg the mean of the points. It does not fetch.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "graph.h"
#include "spark.h"

const struct top_range_info top_ranges[RANGE_COUNT] = {
	[RANGE_15M] = { "15 min", "1", 15 * 60000LL, 5000 },
	[RANGE_1H] = { "1 h", "2", 3600000LL, 30000 },
	[RANGE_24H] = { "24 h", "3", 86400000LL, 300000 },
};

#define AXIS_W 6 /* "100% |" */

/* A wall time as local "YYYY-MM-DD HH:MM:SS" (date) or "HH:MM:SS". */
static void
fmt_time(int64_t ms, int date, char *out, size_t n)
{
	time_t	  t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	if (date)
		strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
	else
		strftime(out, n, "%H:%M:%S", &tm);
}

static void
fmt_pct(double v, char *out, size_t n)
{
	if (isnan(v))
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%.1f%%", v);
}

static void
plot(const struct top_graph *g, int y, int h, int x, int w)
{
	int	c, r, ascii = screen_ascii();
	int64_t step = (int64_t)(g->step_s * 1000);
	char	blk[8];

	for (c = 0; c < w; c++) {
		double v = spark_column(g->t, g->v, g->n, step, g->from_ms,
		    g->to_ms, c, w);
		long   e8;

		if (isnan(v))
			continue;
		e8 = lround(fmin(fmax(v, 0), 100) / 100.0 * h * 8);
		/* A value above zero shows at least its first eighth. */
		if (e8 == 0 && v > 0)
			e8 = 1;
		for (r = 0; r < h; r++) {
			long e = e8 - (long)(h - 1 - r) * 8;

			if (e <= 0)
				continue;
			spark_block(e > 8 ? 8 : (int)e, ascii, blk);
			mvaddstr(y + r, x + c, blk);
		}
	}
}

void
graph_draw(struct top_ui *ui, int rows, int cols)
{
	struct top_graph    *g = &ui->graph;
	const struct top_vm *vm = g->vm_id ? model_vm(ui->m, g->vm_id) : NULL;
	char		     a[32], b[32], mn[16], av[16], mx[16];
	double		     lo, avg, hi;
	int		     h, r;

	erase();
	if (g->vm_id != NULL)
		screen_title(cols, "CPU%% of VM %s over the last %s",
		    vm ? vm->name : g->vm_id, top_ranges[g->range].name);
	else
		screen_title(cols, "CPU%% of the host %s over the last %s",
		    ui->m->has_node && ui->m->node.hostname[0] ?
			ui->m->node.hostname :
			ui->server,
		    top_ranges[g->range].name);
	if (!g->loaded) {
		screen_text(2, 1, cols - 1, "fetching the history...");
		return;
	}
	if (g->error[0] != '\0') {
		screen_text(2, 1, cols - 1, g->error);
		return;
	}
	fmt_time(g->from_ms, 1, a, sizeof(a));
	fmt_time(g->to_ms, 1, b, sizeof(b));
	screen_textf(1, 1, cols - 1, "From %s to %s, step %gs%s, %zu points", a,
	    b, g->step_s,
	    g->mins != NULL ? " (min/avg/max buckets)" : " (samples)", g->n);
	spark_stats(g->v, g->mins, g->maxs, g->n, &lo, &avg, &hi);
	fmt_pct(lo, mn, sizeof(mn));
	fmt_pct(avg, av, sizeof(av));
	fmt_pct(hi, mx, sizeof(mx));
	screen_textf(2, 1, cols - 1, "min %s  avg %s  max %s", mn, av, mx);
	h = rows - 5; /* title, range, figures, blank, time axis */
	if (h < 2 || cols < AXIS_W + 10)
		return;
	for (r = 0; r < h; r++) {
		const char *label = r == 0 ? "100%" :
		    r == h / 2		   ? " 50%" :
		    r == h - 1		   ? "  0%" :
					     "";

		screen_textf(4 + r, 0, AXIS_W, "%4s |", label);
	}
	plot(g, 4, h, AXIS_W, cols - AXIS_W - 1);
	fmt_time(g->from_ms, 0, a, sizeof(a));
	fmt_time(g->to_ms, 0, b, sizeof(b));
	screen_text(4 + h, AXIS_W, (int)strlen(a), a);
	if (cols - AXIS_W > (int)(strlen(a) + strlen(b) + 4))
		screen_text(4 + h, cols - 1 - (int)strlen(b), (int)strlen(b),
		    b);
	if (g->n == 0)
		screen_text(4 + h / 2, AXIS_W + 2, cols - AXIS_W - 3,
		    "no points in this range");
}
