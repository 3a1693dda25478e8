/*
 * screen.c - horcrux-top's drawing and keys (htop and virt-top are the
 * references). One draw pass erases the window and repaints it from the
 * model, then wnoutrefresh/doupdate let curses send only what changed, so
 * an idle host costs a few bytes per frame. Levels have a colour and a
 * glyph (| good, = moderate, # warning, ! critical) so monochrome terminals
 * and NO_COLOR lose nothing. Text from the daemon (VM names, messages) is
 * printed through put_text, which never lets a control character reach the
 * terminal.
 */
#include <curses.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "graph.h"
#include "hx-util.h"
#include "keys.h"
#include "meter.h"
#include "screen.h"
#include "spark.h"

enum {
	PAIR_GOOD = 1,
	PAIR_MODERATE,
	PAIR_WARNING,
	PAIR_CRITICAL,
	PAIR_LABEL,
	PAIR_TITLE,
	PAIR_DIM,
};

/* The narrowest CPU sparkline column worth showing in the VM table. */
#define SPARK_COL_MIN 8

static int use_color;
static int ascii_only;
static int stale; /* disconnected: everything dim */

static const char  level_glyph[4] = { '|', '=', '#', '!' };
static const char *level_name[4] = { "good", "moderate", "warning",
	"critical" };

static int
level_of(double pct)
{
	if (!(pct >= 50))
		return 0;
	if (pct < 75)
		return 1;
	return pct < 90 ? 2 : 3;
}

static attr_t
level_attr(int level)
{
	attr_t a = level == 3 ? A_BOLD : 0;

	if (use_color)
		a |= COLOR_PAIR(PAIR_GOOD + level);
	return a;
}

static attr_t
base_attr(void)
{
	return stale ? A_DIM : 0;
}

void
screen_init(struct top_ui *ui, int no_color, int ascii)
{
	const char *nc = getenv("NO_COLOR");

	initscr();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	use_color = !no_color && (nc == NULL || *nc == '\0') && has_colors();
	if (use_color) {
		start_color();
		use_default_colors();
		init_pair(PAIR_GOOD, COLOR_GREEN, -1);
		init_pair(PAIR_MODERATE, COLOR_YELLOW, -1);
		/* Orange where the terminal has it, else magenta. */
		init_pair(PAIR_WARNING, COLORS >= 256 ? 208 : COLOR_MAGENTA,
		    -1);
		init_pair(PAIR_CRITICAL, COLOR_RED, -1);
		init_pair(PAIR_LABEL, COLOR_CYAN, -1);
		init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_DIM, COLOR_BLUE, -1);
	}
	ascii_only = ascii;
	ui->color = use_color;
	ui->ascii = ascii;
}

void
screen_end(void)
{
	if (!isendwin()) {
		curs_set(1);
		endwin();
	}
}

/*
 * Print s at (y, x) in exactly width columns (padded; cut with '~' when
 * longer), right-aligned when right is set. Multibyte text is measured
 * by wcwidth; control and bidi characters (hx_cp_unsafe) and, in ASCII
 * mode, anything non-ASCII become '?'.
 */
static void
put_text(int y, int x, int width, const char *s, int right)
{
	wchar_t	    wbuf[256];
	int	    cols = 0, n = 0, i;
	mbstate_t   st;
	const char *p = s;

	if (width <= 0)
		return;
	memset(&st, 0, sizeof(st));
	while (*p != '\0' && n < (int)HX_ARRAY_SIZE(wbuf) - 1) {
		wchar_t wc;
		size_t	k = mbrtowc(&wc, p, strlen(p), &st);
		int	w;

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			wc = L'?';
			k = 1;
			memset(&st, 0, sizeof(st));
		}
		p += k;
		if ((ascii_only && wc > 0x7e) || hx_cp_unsafe((uint32_t)wc))
			wc = L'?';
		w = wcwidth(wc);
		if (w < 0) {
			wc = L'?';
			w = 1;
		}
		if (cols + w > width) {
			/* Cut: the last column shows the cut. */
			while (n > 0 && cols > width - 1)
				cols -= wcwidth(wbuf[--n]);
			wbuf[n++] = L'~';
			cols++;
			break;
		}
		wbuf[n++] = wc;
		cols += w;
	}
	wbuf[n] = L'\0';
	if (right) {
		for (i = 0; i < width - cols; i++)
			mvaddch(y, x + i, ' ');
		mvaddwstr(y, x + width - cols, wbuf);
	} else {
		mvaddwstr(y, x, wbuf);
		for (i = cols; i < width; i++)
			mvaddch(y, x + i, ' ');
	}
}

static void put_textf(int y, int x, int width, const char *fmt, ...)
    HX_PRINTF(4, 5);

static void
put_textf(int y, int x, int width, const char *fmt, ...)
{
	char	buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put_text(y, x, width, buf, 0);
}

/*
 * An htop meter: LABEL[|||||      text] in width columns, filled to pct
 * with the level's glyph and colour; text sits at the right inside it.
 */
static void
draw_bar(int y, int x, int width, const char *label, double pct,
    const char *text)
{
	int lw = (int)strlen(label), inner = width - lw - 2, fill, tl, i;
	int lvl = level_of(pct);

	if (inner < 4)
		return;
	attrset(base_attr() | (use_color ? COLOR_PAIR(PAIR_LABEL) : 0));
	mvaddstr(y, x, label);
	attrset(base_attr() | A_BOLD);
	mvaddch(y, x + lw, '[');
	mvaddch(y, x + width - 1, ']');
	fill = isnan(pct) ? 0 : (int)lround(fmin(pct, 100) / 100.0 * inner);
	tl = (int)strlen(text);
	if (tl > inner)
		tl = inner;
	for (i = 0; i < inner; i++) {
		int in_text = i >= inner - tl;

		if (in_text) {
			attrset(base_attr() | A_BOLD);
			mvaddch(y, x + lw + 1 + i,
			    (chtype)(unsigned char)text[i - (inner - tl)]);
		} else if (i < fill) {
			attrset(base_attr() | level_attr(lvl));
			mvaddch(y, x + lw + 1 + i, (chtype)level_glyph[lvl]);
		} else {
			attrset(base_attr());
			mvaddch(y, x + lw + 1 + i, ' ');
		}
	}
	attrset(A_NORMAL);
}

static void
draw_title(struct top_ui *ui, int64_t now, int cols)
{
	const char *host = ui->m->has_node && ui->m->node.hostname[0] ?
	    ui->m->node.hostname :
	    NULL;
	char	    conn[64], age[32], clock[16], left[1024], filter[120];
	char	    alerts[80];
	int	    crit, warn, info;

	time_t	  t = time(NULL);
	struct tm tm;

	if (ui->nhosts >= 2) {
		size_t i, up = 0;

		for (i = 0; i < ui->nhosts; i++)
			up += ui->hosts[i].connected != 0;
		host = NULL;
		snprintf(conn, sizeof(conn), "%zu hosts, %zu connected",
		    ui->nhosts, up);
	} else if (ui->connected)
		snprintf(conn, sizeof(conn), "%s connected",
		    ascii_only ? "*" : "\u25cf");
	else if (ui->retry_at > now)
		snprintf(conn, sizeof(conn), "%s reconnecting in %.0fs",
		    ascii_only ? "o" : "\u25cb",
		    ceil((double)(ui->retry_at - now) / 1000.0));
	else
		snprintf(conn, sizeof(conn), "%s connecting",
		    ascii_only ? "o" : "\u25cb");
	if (ui->m->data_mono_ms == 0)
		hx_strlcpy(age, "no data yet", sizeof(age));
	else
		snprintf(age, sizeof(age), "data %.1fs ago",
		    (double)(now - ui->m->data_mono_ms) / 1000.0);
	localtime_r(&t, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	filter[0] = '\0';
	if (ui->filter[0] != '\0' && !ui->editing_filter) {
		size_t *idx = xcalloc(ui->m->nvms + 1, sizeof(*idx));
		size_t	n = model_view(ui->m, ui->sort, ui->invert, ui->filter,
		     idx);

		snprintf(filter, sizeof(filter), "  filter '%s': %zu of %zu",
		    ui->filter, n, ui->m->nvms);
		free(idx);
	}
	/* Words, not only colour: "ALERTS 1 CRIT 2 WARN". */
	alerts[0] = '\0';
	model_alert_counts(ui->m, &crit, &warn, &info);
	if (crit + warn + info > 0) {
		size_t len = (size_t)snprintf(alerts, sizeof(alerts),
		    "  ALERTS");

		if (crit > 0)
			len += (size_t)snprintf(alerts + len,
			    sizeof(alerts) - len, " %d CRIT", crit);
		if (warn > 0 && len < sizeof(alerts))
			len += (size_t)snprintf(alerts + len,
			    sizeof(alerts) - len, " %d WARN", warn);
		if (info > 0 && len < sizeof(alerts))
			snprintf(alerts + len, sizeof(alerts) - len, " %d INFO",
			    info);
	}
	snprintf(left, sizeof(left), " %s%s%s  %s%s%s%s%s%s",
	    ui->nhosts >= 2 ? "" :
		host	    ? host :
			      ui->server,
	    ui->nhosts >= 2 ? "" : "  ", conn, age, alerts,
	    ui->paused ? "  PAUSED" : "", filter,
	    model_demo(ui->m) ? "  DEMO: test-driver VMs, this "
				"host's meters" :
				"",
	    ui->m->user[0] ? "  " : "");
	attrset(use_color ? COLOR_PAIR(PAIR_TITLE) : A_REVERSE);
	put_text(0, 0, cols, left, 0);
	if (ui->m->user[0] && cols > (int)strlen(left) + 20)
		put_text(0, (int)strlen(left) - 1,
		    cols - (int)strlen(left) - 10, ui->m->user, 0);
	if (cols > 40)
		put_text(0, cols - 9, 9, clock, 1);
	attrset(A_NORMAL);
}

void
screen_bar(int y, int x, int width, const char *label, double pct,
    const char *text)
{
	draw_bar(y, x, width, label, pct, text);
}

void
screen_text(int y, int x, int width, const char *s)
{
	attrset(base_attr());
	put_text(y, x, width, s, 0);
	attrset(A_NORMAL);
}

void
screen_textf(int y, int x, int width, const char *fmt, ...)
{
	char	buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	screen_text(y, x, width, buf);
}

void
screen_title(int cols, const char *fmt, ...)
{
	char	buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	attrset(use_color ? COLOR_PAIR(PAIR_TITLE) : A_REVERSE);
	put_textf(0, 0, cols, " %s", buf);
	attrset(A_NORMAL);
}

void
screen_label(int y, int x, const char *s)
{
	attrset(base_attr() | (use_color ? COLOR_PAIR(PAIR_LABEL) : 0));
	mvaddstr(y, x, s);
	attrset(A_NORMAL);
}

void
screen_level_cell(int y, int x, double pct)
{
	int lvl = level_of(pct);

	attrset(base_attr() | level_attr(lvl));
	mvaddch(y, x, !(pct >= 5) ? '.' : (chtype)level_glyph[lvl]);
	attrset(A_NORMAL);
}

/* A sparkline in attribute a (the rows' look: reverse when selected). */
static void
draw_spark(int y, int x, const double *cells, size_t n, double hi, attr_t a)
{
	char buf[SPARK_RING * 3 + 1];

	spark_render(cells, n < SPARK_RING ? n : SPARK_RING, hi, ascii_only,
	    buf, sizeof(buf));
	attrset(a);
	mvaddstr(y, x, buf);
	attrset(A_NORMAL);
}

void
screen_spark(int y, int x, const double *cells, size_t n, double hi)
{
	draw_spark(y, x, cells, n, hi, base_attr());
}

int
screen_ascii(void)
{
	return ascii_only;
}

void
screen_graph_clear(struct top_graph *g)
{
	free(g->t);
	free(g->v);
	free(g->mins);
	free(g->maxs);
	g->t = NULL;
	g->v = g->mins = g->maxs = NULL;
	g->n = 0;
	g->loaded = 0;
	g->error[0] = '\0';
}

/*
 * The header's meters (meter.c): the CPUs across the whole width, then
 * the bars on the left and the figures on the right when the terminal is
 * wide, the figures under the bars otherwise.
 */
static const enum top_meter_id header_left[] = {
	METER_CPU,
	METER_MEM,
	METER_SWAP,
	METER_MOUNTS,
	METER_HIST,
};
static const enum top_meter_id header_right[] = {
	METER_CPU_SPLIT,
	METER_LOAD,
	METER_UPTIME,
	METER_VMS,
	METER_DISK,
	METER_NET,
};

/* Blank rows y .. y + n - 1. */
static void
clear_rows(int y, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		move(y + i, 0);
		clrtoeol();
	}
}

/*
 * One layout of the header meters from row y: the CPUs (unless cpus is
 * 0), then the bars and the figures side by side (side) or the figures
 * under the bars. A meter that would start at or below row limit is left
 * out. Returns the rows used.
 */
static int
meters_layout(const struct top_model *m, int y, int cols, int side, int cpus,
    int limit)
{
	int    lw, ly, ry, rx, y0 = y;
	size_t i;

	if (cpus)
		y += top_meters[METER_CPUS].draw(m, y, 0, cols);
	lw = side ? cols / 2 : cols;
	ly = ry = y;
	for (i = 0; i < HX_ARRAY_SIZE(header_left) && ly < limit; i++)
		ly += top_meters[header_left[i]].draw(m, ly, 0, lw - 1);
	rx = side ? lw + 1 : 0;
	if (!side)
		ry = ly;
	for (i = 0; i < HX_ARRAY_SIZE(header_right) && ry < limit; i++)
		ry += top_meters[header_right[i]].draw(m, ry, rx, cols - rx);
	if (ly > limit)
		ly = limit;
	if (ry > limit)
		ry = limit;
	return (ry > ly ? ry : ly) - y0;
}

/*
 * Draw the header meters from row y in at most budget rows (so the VM
 * table keeps its rows); returns the rows used. The wide layout first;
 * when it is too tall, the figures beside the bars even on a narrow
 * terminal, then without the per-CPU bars, then cut at the budget.
 */
static int
draw_meters(struct top_ui *ui, int y, int cols, int budget)
{
	const struct top_model *m = ui->m;
	int			used, side = cols >= 70;

	used = meters_layout(m, y, cols, side, 1, INT_MAX);
	if (used <= budget)
		return used;
	clear_rows(y, used);
	if (!side && cols >= 50) {
		used = meters_layout(m, y, cols, 1, 1, INT_MAX);
		if (used <= budget)
			return used;
		clear_rows(y, used);
		side = 1;
	}
	used = meters_layout(m, y, cols, side, 0, y + budget);
	if (used > budget) {
		clear_rows(y + budget, used - budget);
		used = budget;
	}
	return used;
}

/* A host's NodeMetrics hostname, or NULL before its first one. */
static const char *
host_hostname(const struct top_host_line *h)
{
	return h->m->has_node && h->m->node.hostname[0] ? h->m->node.hostname :
							  NULL;
}

/*
 * The name host i goes by: its hostname when no other host has the same
 * (daemons on one machine do), else its server in short: HOST:PORT, or a
 * Unix socket's file name.
 */
static const char *
host_name(const struct top_ui *ui, size_t i)
{
	const struct top_host_line *h = &ui->hosts[i];
	const char		   *name = host_hostname(h), *p, *slash;
	size_t			    k;

	for (k = 0; name != NULL && k < ui->nhosts; k++) {
		const char *o = host_hostname(&ui->hosts[k]);

		if (k != i && o != NULL && strcmp(o, name) == 0)
			name = NULL;
	}
	if (name != NULL)
		return name;
	p = h->server;
	if (strncmp(p, "unix:", 5) == 0)
		return (slash = strrchr(p + 5, '/')) != NULL ? slash + 1 :
							       p + 5;
	return (p = strstr(p, "://")) != NULL ? p + 3 : h->server;
}

/* Width of the HOST column: the longest host name, 6 to 16 columns. */
static int
host_col_width(const struct top_ui *ui)
{
	size_t i;
	int    w = 6;

	for (i = 0; i < ui->nhosts; i++) {
		int l = (int)strlen(host_name(ui, i));

		if (l > w)
			w = l;
	}
	return w > 16 ? 16 : w;
}

/*
 * One line per host from row y, at most budget rows: its name, whether
 * it is connected, CPU, memory, load and its firing alerts in words;
 * dim while it is away. Returns the rows used.
 */
static int
draw_hosts(struct top_ui *ui, int y, int cols, int budget, int64_t now)
{
	static const enum top_meter_id line[] = { METER_CPU, METER_MEM,
		METER_LOAD };
	struct hx_buf		       b;
	size_t			       i, k;
	int			       used = 0, w = host_col_width(ui);

	hx_buf_init(&b, 0);
	for (i = 0; i < ui->nhosts && used < budget; i++) {
		const struct top_host_line *h = &ui->hosts[i];
		int			    crit, warn, info;

		hx_buf_reset(&b);
		hx_buf_addf(&b, "%-*s ", w, host_name(ui, i));
		if (h->connected)
			hx_buf_addf(&b, "%s ", ascii_only ? "*" : "\u25cf");
		else if (h->refused)
			hx_buf_addf(&b, "%s not authorized  ",
			    ascii_only ? "o" : "\u25cb");
		else if (h->retry_at > now)
			hx_buf_addf(&b, "%s away, retry in %.0fs  ",
			    ascii_only ? "o" : "\u25cb",
			    ceil((double)(h->retry_at - now) / 1000.0));
		else
			hx_buf_addf(&b, "%s connecting  ",
			    ascii_only ? "o" : "\u25cb");
		for (k = 0; h->m->has_node && k < HX_ARRAY_SIZE(line); k++) {
			size_t mark = b.len;

			hx_buf_add(&b, " ", 1);
			if (!top_meters[line[k]].text(h->m, &b)) {
				b.len = mark;
				b.data[mark] = '\0';
			} else
				hx_buf_add(&b, " ", 1);
		}
		if (h->connected && !h->m->has_node)
			hx_buf_addf(&b, " waiting for NodeMetrics");
		model_alert_counts(h->m, &crit, &warn, &info);
		if (crit + warn + info > 0)
			hx_buf_addf(&b, " ALERTS%s%.0d%s%.0d%s%.0d",
			    crit ? " CRIT " : "", crit, warn ? " WARN " : "",
			    warn, info ? " INFO " : "", info);
		attrset(h->connected ? 0 : A_DIM);
		put_text(y + used, 1, cols - 1, b.data, 0);
		used++;
	}
	attrset(A_NORMAL);
	hx_buf_release(&b);
	return used;
}

/*
 * The table columns that fit cols when the first hcol columns after NAME
 * are scrolled off (NAME always stays): their ids into shown, the NAME
 * width into *name_w; returns how many. *hcol is clamped so that
 * scrolling right stops once the last column shows.
 */
static int
table_layout(int cols, int *hcol, int *name_w, enum top_col *shown)
{
	int used, n, c, need, left;

	/* The fewest scrolled columns that show the last one. */
	for (need = 0, used = 1 + top_cols[COL_NAME].width, c = COL_COUNT - 1;
	     c > COL_NAME && used + 1 + top_cols[c].width <= cols; c--)
		used += 1 + top_cols[c].width;
	need = c; /* columns 1..c do not fit beside the rest */
	if (*hcol > need)
		*hcol = need;
	if (*hcol < 0)
		*hcol = 0;
	shown[0] = COL_NAME;
	used = 1 + top_cols[COL_NAME].width;
	n = 1;
	for (c = 1 + *hcol;
	     c < COL_COUNT && used + 1 + top_cols[c].width <= cols; c++) {
		used += 1 + top_cols[c].width;
		shown[n++] = (enum top_col)c;
	}
	/* Give what is left to the name, up to 16 more columns, but for
	 * the column of the '>' when columns are cut on the right. */
	left = cols - used - (c < COL_COUNT ? 1 : 0);
	*name_w = top_cols[COL_NAME].width +
	    (left < 0	      ? 0 :
		    left < 16 ? left :
				16);
	return n;
}

/*
 * "hidden: NET RX/s, NET TX/s (Left/Right scroll)" for the columns of
 * shown's layout that are off the screen, or "" when none is.
 */
static void
hidden_columns(const enum top_col *shown, int n, char *out, size_t outlen)
{
	size_t len = 0;
	int    c, k, on;

	out[0] = '\0';
	for (c = 1; c < COL_COUNT; c++) {
		for (k = 0, on = 0; k < n; k++)
			on |= shown[k] == (enum top_col)c;
		if (!on && len < outlen)
			len += (size_t)snprintf(out + len, outlen - len, "%s%s",
			    len == 0 ? "columns off the screen: " : ", ",
			    top_cols[c].title);
	}
	if (len > 0 && len < outlen)
		snprintf(out + len, outlen - len, " (%s scroll)",
		    ascii_only ? "Left/Right" : "\u2190 \u2192");
}

const struct top_vm *
screen_selected_vm(struct top_ui *ui, const size_t *idx, size_t n, size_t *pos)
{
	size_t i;

	for (i = 0; i < n && ui->sel_id != NULL; i++)
		if (strcmp(ui->m->vms[idx[i]].id, ui->sel_id) == 0) {
			*pos = i;
			return &ui->m->vms[idx[i]];
		}
	*pos = 0;
	if (n == 0)
		return NULL;
	free(ui->sel_id);
	ui->sel_id = xstrdup(ui->m->vms[idx[0]].id);
	return &ui->m->vms[idx[0]];
}

static attr_t
state_attr(const char *state)
{
	if (!use_color)
		return strcmp(state, "crashed") == 0 ? A_BOLD : 0;
	if (strcmp(state, "running") == 0)
		return COLOR_PAIR(PAIR_GOOD);
	if (strcmp(state, "paused") == 0 || strcmp(state, "suspended") == 0)
		return COLOR_PAIR(PAIR_MODERATE);
	if (strcmp(state, "crashed") == 0)
		return COLOR_PAIR(PAIR_CRITICAL) | A_BOLD;
	return COLOR_PAIR(PAIR_DIM);
}

/*
 * The VM table from row y in rows rows: the ncols columns of shown
 * (table_layout), a '<' or '>' in the header where columns are scrolled
 * off to the left or cut on the right.
 */
static void
draw_table(struct top_ui *ui, int y, int rows, int cols, int64_t now,
    const enum top_col *shown, int ncols, int name_w)
{
	size_t *idx = xcalloc(ui->m->nvms + 1, sizeof(*idx)), n, pos, i;
	int	k, c, x, spark_w, hw = ui->nhosts >= 2 ? host_col_width(ui) : 0;
	double	cells[SPARK_RING];

	n = model_view(ui->m, ui->sort, ui->invert, ui->filter, idx);
	screen_selected_vm(ui, idx, n, &pos);

	/* Header, the sort column marked by an arrow (and colour). */
	attrset(A_REVERSE | A_BOLD);
	mvhline(y, 0, ' ', cols);
	for (k = 0, x = 1; k < ncols; k++) {
		int  w = k == 0 ? name_w : top_cols[shown[k]].width;
		char title[32];

		c = (int)shown[k];
		snprintf(title, sizeof(title), "%s%s", top_cols[c].title,
		    (int)ui->sort == c ?
			(ui->invert ? (ascii_only ? "^" : "\u25b2") :
				      (ascii_only ? "v" : "\u25bc")) :
			"");
		if ((int)ui->sort == c && use_color)
			attrset(COLOR_PAIR(PAIR_TITLE) | A_BOLD);
		put_text(y, x, w, title, top_cols[c].numeric);
		attrset(A_REVERSE | A_BOLD);
		x += w + 1;
		if (k == 0 && hw > 0) {
			put_text(y, x, hw, "HOST", 0);
			x += hw + 1;
		}
	}
	/* With every column shown, what is left of the width holds each
	 * VM's CPU sparkline (the newest on the right). */
	spark_w = shown[ncols - 1] == COL_COUNT - 1 ? cols - x - 1 : 0;
	if (spark_w > SPARK_RING)
		spark_w = SPARK_RING;
	if (spark_w >= SPARK_COL_MIN)
		put_text(y, x, spark_w, "CPU HIST", 0);
	else
		spark_w = 0;
	/* Where columns are off the screen. */
	if (ncols > 1 && shown[1] != COL_NAME + 1)
		mvaddstr(y, 1 + name_w, ascii_only ? "<" : "\u2039");
	if (shown[ncols - 1] != COL_COUNT - 1)
		mvaddstr(y, x - 1 < cols - 1 ? x - 1 : cols - 1,
		    ascii_only ? ">" : "\u203a");
	attrset(A_NORMAL);
	y++;
	rows--;

	if (rows <= 0)
		goto out;
	if (pos < ui->scroll)
		ui->scroll = pos;
	if (pos >= ui->scroll + (size_t)rows)
		ui->scroll = pos - (size_t)rows + 1;
	if (ui->scroll > 0 && ui->scroll + (size_t)rows > n)
		ui->scroll = n > (size_t)rows ? n - (size_t)rows : 0;
	if (n == 0) {
		attrset(base_attr());
		put_text(y, 1, cols - 1,
		    ui->filter[0]	 ? "no VM matches the filter" :
			ui->m->nvms == 0 ? "no VMs (or none you may see)" :
					   "",
		    0);
	}
	for (i = ui->scroll; i < n && (int)(i - ui->scroll) < rows; i++) {
		const struct top_vm *vm = &ui->m->vms[idx[i]];
		int		     row = y + (int)(i - ui->scroll),
		    flash = vm->flash_until > now;
		/* A host that is away: only its rows go dim. */
		int away = hw > 0 && (size_t)vm->host < ui->nhosts &&
		    !ui->hosts[vm->host].connected;
		attr_t ra = base_attr() | (i == pos ? A_REVERSE : 0) |
		    (flash ? A_BOLD : 0) | (away ? A_DIM : 0);

		attrset(ra);
		mvaddch(row, 0, flash ? '*' : ' ');
		for (k = 0, x = 1; k < ncols; k++) {
			int    w = k == 0 ? name_w : top_cols[shown[k]].width;
			char   cell[64];
			attr_t ca = 0;

			c = (int)shown[k];
			model_cell(vm, (enum top_col)c, cell, sizeof(cell));
			if (c == COL_STATE)
				ca = state_attr(vm->state);
			else if ((c == COL_CPU || c == COL_MEMPCT) &&
			    !isnan(vm->v[c])) {
				int lvl = level_of(vm->v[c]);

				ca = level_attr(lvl);
				/* The glyph too, as on the bars: colour alone
				 * is lost on some terminals and eyes. */
				if (lvl > 0) {
					size_t len = strlen(cell);

					cell[len] = level_glyph[lvl];
					cell[len + 1] = '\0';
				}
			}
			attrset(ra | (i == pos ? 0 : ca));
			put_text(row, x, w, cell, top_cols[c].numeric);
			attrset(ra);
			if (x + w < cols)
				mvaddch(row, x + w, ' ');
			x += w + 1;
			if (k == 0 && hw > 0) {
				put_text(row, x, hw,
				    (size_t)vm->host < ui->nhosts ?
					host_name(ui, (size_t)vm->host) :
					"?",
				    0);
				x += hw + 1;
			}
		}
		if (x < cols)
			mvhline(row, x, ' ', cols - x);
		if (spark_w > 0) {
			model_spark_cells(ui->m, vm->cpu_hist, cells,
			    (size_t)spark_w);
			draw_spark(row, x, cells, (size_t)spark_w, 100, ra);
		}
	}
out:
	attrset(A_NORMAL);
	free(idx);
}

static void
draw_footer(struct top_ui *ui, int y, int cols)
{
	char buf[256];

	if (ui->confirm != NULL) {
		attrset(A_BOLD | (use_color ? COLOR_PAIR(PAIR_WARNING) : 0));
		put_text(y, 0, cols, ui->question, 0);
	} else if (ui->editing_search) {
		snprintf(buf, sizeof(buf),
		    "Search: %s_   %s(F3 next, Enter "
		    "done)",
		    ui->search,
		    ui->search_missed && ui->search[0] ? "not found  " : "");
		attrset(A_BOLD);
		put_text(y, 0, cols, buf, 0);
	} else if (ui->picking_sort) {
		size_t len = 0;
		int    c;

		len = (size_t)snprintf(buf, sizeof(buf), "Sort by:");
		for (c = 0; c < COL_COUNT && len < sizeof(buf); c++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    (int)ui->sort == c ? " [%s]" : " %s",
			    top_cols[c].title);
		if (len < sizeof(buf))
			snprintf(buf + len, sizeof(buf) - len,
			    "   (Left Right, I invert, Enter done)");
		attrset(A_BOLD);
		put_text(y, 0, cols, buf, 0);
	} else if (ui->editing_comment) {
		snprintf(buf, sizeof(buf),
		    "Acknowledge, comment: %.180s_   (Enter send, Esc cancel)",
		    ui->comment);
		attrset(A_BOLD);
		put_text(y, 0, cols, buf, 0);
	} else if (ui->editing_filter) {
		snprintf(buf, sizeof(buf),
		    "Filter: %s_   (Enter keep, Esc clear)", ui->filter);
		attrset(A_BOLD);
		put_text(y, 0, cols, buf, 0);
	} else {
		keys_bar(ui, cols, buf, sizeof(buf));
		attrset(A_REVERSE);
		put_text(y, 0, cols, buf, 0);
	}
	attrset(A_NORMAL);
}

/*
 * The status line: the answer to an action while it is fresh, else the
 * newest alert or notification, else fallback (the columns off the
 * screen).
 */
static void
draw_note(struct top_ui *ui, int y, int cols, int64_t now, const char *fallback)
{
	struct top_model *m = ui->m;
	attr_t		  a = 0;
	const char	 *text = m->note[0] != '\0' &&
		      (m->note_until == 0 || m->note_until > now) ?
		  m->note :
		  fallback;

	if (ui->message_until > now) {
		text = ui->message;
		a = ui->message_bad ?
		    A_BOLD | (use_color ? COLOR_PAIR(PAIR_CRITICAL) : 0) :
		    A_BOLD;
	} else if (text == m->note && m->note_level > 0)
		a = level_attr(m->note_level == 2 ? 3 : 2) | A_BOLD;
	attrset(base_attr() | a);
	put_text(y, 0, cols, text, 0);
	attrset(A_NORMAL);
}

/* "CRIT", "WARN", "INFO": the severity in a word, colour only beside it. */
static const char *
severity_word(const char *s, attr_t *a)
{
	if (s != NULL && strcmp(s, "critical") == 0) {
		*a = level_attr(3);
		return "CRIT";
	}
	if (s != NULL && strcmp(s, "warning") == 0) {
		*a = level_attr(2);
		return "WARN";
	}
	*a = 0;
	return "INFO";
}

/* The alert view: the firing alerts, oldest first, the selection reversed. */
static void
draw_alerts(struct top_ui *ui, int y, int rows, int cols)
{
	const struct top_model *m = ui->m;
	char			since[32], value[32];
	size_t			i, first = 0;
	attr_t			a;
	time_t			t;
	struct tm		tm;

	attrset(A_BOLD);
	put_textf(y++, 0, cols, " %-4s  %-16s %-22s %10s  %-19s  %s", "SEV",
	    "RULE", "TARGET", "VALUE", "SINCE", "ACKED BY");
	attrset(A_NORMAL);
	rows--;
	if (m->nalerts == 0) {
		put_text(y, 1, cols - 1, "no firing alerts", 0);
		return;
	}
	if (ui->alert_sel >= m->nalerts)
		ui->alert_sel = m->nalerts - 1;
	if (rows > 0 && ui->alert_sel >= (size_t)rows)
		first = ui->alert_sel - (size_t)rows + 1;
	for (i = first; i < m->nalerts && (int)(i - first) < rows; i++) {
		const struct top_alert *al = &m->alerts[i];
		const char	       *w = severity_word(al->severity, &a);

		since[0] = '\0';
		t = (time_t)(al->since_ms / 1000);
		if (al->since_ms > 0 && localtime_r(&t, &tm) != NULL)
			strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S",
			    &tm);
		if (isnan(al->value))
			hx_strlcpy(value, "-", sizeof(value));
		else
			snprintf(value, sizeof(value), "%.2f", al->value);
		attrset(
		    base_attr() | (i == ui->alert_sel ? A_REVERSE : (attr_t)0));
		put_textf(y, 0, cols,
		    " %-4s  %-16.16s %-22.22s %10s  %-19s  %s", "",
		    al->rule ? al->rule : "?", al->target ? al->target : "?",
		    value, since[0] ? since : "-",
		    al->acked_by ? al->acked_by : "-");
		/* The word, coloured too when there is colour. */
		attrset(base_attr() | a |
		    (i == ui->alert_sel ? A_REVERSE : (attr_t)0));
		put_text(y, 1, 4, w, 0);
		attrset(A_NORMAL);
		y++;
	}
}

/* The help screen: the key table, then the level legend. */
static void
draw_help(int rows, int cols)
{
	int    y = 0, i;
	size_t k;

	erase();
	attrset(A_BOLD);
	put_text(y++, 1, cols - 1,
	    "horcrux-top " HX_VERSION " - live view of a host and its VMs", 0);
	attrset(A_NORMAL);
	y++;
	for (k = 0; k < top_nkeys && y < rows - 1; k++) {
		const struct top_key *b = &top_keys[k];

		/* A long name pushes its text right rather than under it. */
		if (strlen(b->name) < 10)
			put_textf(y++, 1, cols - 1, "  %-10s %s", b->name,
			    b->help);
		else
			put_textf(y++, 1, cols - 1, "  %s      %s", b->name,
			    b->help);
	}
	if (y < rows - 1)
		y++;
	if (y < rows - 1)
		put_text(y++, 1, cols - 1,
		    "Levels of bars and CPU%/MEM% cells (colour and glyph):",
		    0);
	for (i = 0; i < 4 && y < rows - 1; i++) {
		static const char *range[4] = { "below 50%", "50 to 75%",
			"75 to 90%", "90% and above" };
		char		   buf[64];

		attrset(level_attr(i));
		mvaddch(y, 3, (chtype)level_glyph[i]);
		mvaddch(y, 4, (chtype)level_glyph[i]);
		mvaddch(y, 5, (chtype)level_glyph[i]);
		attrset(A_NORMAL);
		snprintf(buf, sizeof(buf), "%-9s %s%s", level_name[i], range[i],
		    use_color ? "" : " (no colour: the glyph tells)");
		put_text(y++, 7, cols - 8, buf, 0);
	}
	if (y < rows - 1)
		put_text(y++, 1, cols - 1,
		    "A '*' before a row: its status just "
		    "changed.",
		    0);
}

/* A number of o in human units, "-" when absent or null. */
static const char *
json_bytes(json_t *o, const char *key, char *out, size_t n)
{
	json_t *v = json_object_get(o, key);

	return hx_fmt_bytes(json_is_number(v) ? json_number_value(v) : NAN, out,
	    n);
}

/*
 * The disks (disk set) or NICs of a VM document, a header and one row
 * each with counters and rates; returns the next free row.
 */
static int
draw_devices(int y, int rows, int cols, json_t *arr, int disk)
{
	static const char *keys[2][4] = {
		{ "rx_bytes", "tx_bytes", "rx_bps", "tx_bps" },
		{ "read_bytes", "write_bytes", "read_bps", "write_bps" },
	};
	char	c[4][16];
	json_t *o;
	size_t	k;
	int	i;

	if (y >= rows - 1)
		return y;
	attrset(A_BOLD);
	if (disk)
		put_textf(y++, 1, cols - 1, "%-8s %-6s %10s %10s %10s %10s  %s",
		    "DISK", "BUS", "READ", "WRITTEN", "READ/s", "WRITE/s",
		    "SOURCE");
	else
		put_textf(y++, 1, cols - 1, "%-8s %-17s %10s %10s %10s %10s",
		    "NIC", "MAC", "RECEIVED", "SENT", "RX/s", "TX/s");
	attrset(A_NORMAL);
	json_array_foreach(arr, k, o) {
		const char *target = json_string_value(
		    json_object_get(o, "target"));

		if (y >= rows - 1)
			break;
		for (i = 0; i < 4; i++)
			json_bytes(o, keys[disk][i], c[i], sizeof(c[i]));
		if (disk)
			put_textf(y++, 1, cols - 1,
			    "%-8s %-6s %10s %10s %10s %10s  %s", target ?: "-",
			    json_string_value(json_object_get(o, "bus")) ?: "-",
			    c[0], c[1], c[2], c[3],
			    json_string_value(json_object_get(o, "source")) ?:
				"-");
		else
			put_textf(y++, 1, cols - 1,
			    "%-8s %-17s %10s %10s %10s %10s", target ?: "-",
			    json_string_value(json_object_get(o, "mac")) ?: "-",
			    c[0], c[1], c[2], c[3]);
	}
	return y;
}

static void
draw_detail(struct top_ui *ui, int rows, int cols, int64_t now)
{
	struct top_vm *vm = model_vm(ui->m, ui->detail_id);
	json_t	      *d = ui->detail;
	char	       a[16], b[16];
	int	       y = 1, i;

	erase();
	attrset(use_color ? COLOR_PAIR(PAIR_TITLE) : A_REVERSE);
	put_textf(0, 0, cols, " VM %s", vm ? vm->name : ui->detail_id);
	attrset(A_NORMAL);
	if (vm == NULL) {
		put_text(y, 1, cols - 1, "this VM is gone", 0);
		return;
	}
	put_textf(y++, 1, cols - 1, "State: %s%s   vCPUs: %s", vm->state,
	    vm->container ? " (container)" : "",
	    vm->vcpus ? (snprintf(a, sizeof(a), "%d", vm->vcpus), a) : "-");
	if (d != NULL) {
		put_textf(y++, 1, cols - 1,
		    "Memory: %s of %s max   Autostart: %s"
		    "   Persistent: %s",
		    json_bytes(d, "memory_bytes", a, sizeof(a)),
		    json_bytes(d, "memory_max_bytes", b, sizeof(b)),
		    json_is_true(json_object_get(d, "autostart")) ? "yes" :
								    "no",
		    json_is_true(json_object_get(d, "persistent")) ? "yes" :
								     "no");
		put_textf(y++, 1, cols - 1, "UUID: %s",
		    json_string_value(json_object_get(d, "uuid")) ?
			json_string_value(json_object_get(d, "uuid")) :
			"-");
	}
	if (strcmp(vm->state, "running") != 0 &&
	    strcmp(vm->state, "paused") != 0) {
		/* No figures to show: say why rather than a row of '-'. */
		put_textf(y++, 1, cols - 1,
		    "CPU, memory, disk and network: "
		    "none, the VM is %s",
		    vm->state);
	} else {
		char cpu[16], memp[16], r[16], w[16], rx[16], tx[16];

		model_cell(vm, COL_CPU, cpu, sizeof(cpu));
		model_cell(vm, COL_MEMPCT, memp, sizeof(memp));
		/* A paused VM has memory but runs no CPU. */
		if (isnan(vm->v[COL_CPU]) && strcmp(vm->state, "running") != 0)
			hx_strlcpy(cpu, vm->state, sizeof(cpu));
		else if (strlen(cpu) + 1 < sizeof(cpu))
			memcpy(cpu + strlen(cpu), "%", 2);
		put_textf(y++, 1, cols - 1, "CPU: %s   Memory used: %s%% (%s)",
		    cpu, memp, hx_fmt_bytes(vm->v[COL_MEM], a, sizeof(a)));
		put_textf(y++, 1, cols - 1,
		    "Disk: read %s/s  write %s/s   "
		    "Network: rx %s/s  tx %s/s",
		    hx_fmt_bytes(vm->v[COL_DISK_RD], r, sizeof(r)),
		    hx_fmt_bytes(vm->v[COL_DISK_WR], w, sizeof(w)),
		    hx_fmt_bytes(vm->v[COL_NET_RX], rx, sizeof(rx)),
		    hx_fmt_bytes(vm->v[COL_NET_TX], tx, sizeof(tx)));
	}
	y++;
	y = draw_devices(y, rows, cols, json_object_get(d, "disks"), 1);
	y = draw_devices(y, rows, cols, json_object_get(d, "nics"), 0);
	if (y < rows - 2) {
		y++;
		attrset(A_BOLD);
		put_text(y++, 1, cols - 1, "Recent status events", 0);
		attrset(A_NORMAL);
	}
	for (i = 0; i < vm->nev && y < rows - 1; i++) {
		time_t	  t = (time_t)(vm->ev[i].wall_ms / 1000);
		struct tm tm;
		char	  when[16];

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		put_textf(y++, 1, cols - 1, "%s  %s", when, vm->ev[i].text);
	}
	if (vm->nev == 0 && y < rows - 1)
		put_text(y, 1, cols - 1, "none since horcrux-top started", 0);
	(void)now;
}

void
screen_draw(struct top_ui *ui, int64_t now)
{
	int rows = LINES, cols = COLS, y;

	stale = !ui->connected;
	erase();
	if (rows < TOP_MIN_ROWS || cols < TOP_MIN_COLS) {
		char buf[96];

		snprintf(buf, sizeof(buf), "terminal too small (%dx%d)", cols,
		    rows);
		put_text(rows / 2 - 1, 0, cols, buf, 0);
		snprintf(buf, sizeof(buf), "need %dx%d", TOP_MIN_COLS,
		    TOP_MIN_ROWS);
		put_text(rows / 2, 0, cols, buf, 0);
		goto out;
	}
	if (ui->view == VIEW_HELP) {
		draw_help(rows - 1, cols);
	} else if (ui->view == VIEW_GRAPH) {
		graph_draw(ui, rows - 1, cols);
	} else if (ui->view == VIEW_ALERTS) {
		draw_title(ui, now, cols);
		draw_alerts(ui, 1, rows - 3, cols);
		draw_note(ui, rows - 2, cols, now, "");
	} else if (ui->view == VIEW_DETAIL) {
		draw_detail(ui, rows - 2, cols, now);
		/* The answer to a power key pressed here. */
		if (ui->message_until > now)
			draw_note(ui, rows - 2, cols, now, "");
	} else {
		enum top_col shown[COL_COUNT];
		int	     ncols, name_w;
		char	     off[160];

		ncols = table_layout(cols -
			(ui->nhosts >= 2 ? host_col_width(ui) + 1 : 0),
		    &ui->hcol, &name_w, shown);
		hidden_columns(shown, ncols, off, sizeof(off));
		draw_title(ui, now, cols);
		y = 1;
		if (ui->nhosts >= 2) {
			/* One line per host; keep five VM rows. */
			int budget = rows - y - 8;

			y += draw_hosts(ui, y, cols, budget > 1 ? budget : 1,
			    now);
		} else if (ui->m->has_node) {
			/* Keep five VM rows: below the meters come the note,
			 * the table's header, five rows and the key bar. */
			int budget = rows - y - (ui->m->hidden[0] ? 1 : 0) - 8;

			y += draw_meters(ui, y, cols, budget > 1 ? budget : 1);
		} else if (!ui->m->no_node) {
			/* (without node:metrics the line below says why) */
			attrset(A_DIM);
			put_text(y++, 1, cols - 1,
			    ui->connected ?
				"waiting for the first NodeMetrics (node:metrics)" :
				"not connected",
			    0);
			attrset(A_NORMAL);
		}
		if (ui->m->hidden[0] != '\0') {
			attrset(A_DIM);
			put_text(y++, 0, cols, ui->m->hidden, 0);
			attrset(A_NORMAL);
		}
		draw_note(ui, y++, cols, now, off);
		if (rows - 1 - y >= 2)
			draw_table(ui, y, rows - 1 - y, cols, now, shown, ncols,
			    name_w);
	}
	draw_footer(ui, rows - 1, cols);
out:
	wnoutrefresh(stdscr);
	doupdate();
}

int64_t
screen_next_change(const struct top_ui *ui, int64_t now)
{
	int64_t next = 0;
	size_t	i;

	for (i = 0; i < ui->m->nvms; i++) {
		int64_t f = ui->m->vms[i].flash_until;

		if (f > now && (next == 0 || f < next))
			next = f;
	}
	if (ui->message_until > now && (next == 0 || ui->message_until < next))
		next = ui->message_until;
	if (ui->m->note_until > now && (next == 0 || ui->m->note_until < next))
		next = ui->m->note_until;
	return next;
}

void
screen_ui_release(struct top_ui *ui)
{
	free(ui->ack_id);
	free(ui->sel_id);
	free(ui->detail_id);
	free(ui->action_vm);
	json_decref(ui->detail);
	screen_graph_clear(&ui->graph);
	free(ui->graph.vm_id);
}
