/*
 * screen.h - horcrux-top's curses side: the view state and drawing.
 * Drawing reads the model and never does I/O; keys (keys.c) return flags
 * to the one loop in horcrux-top.c (htop's HANDLED/REDRAW/QUIT), which
 * owns the connection and runs what a key asked for (power actions, the
 * detail fetch).
 */
#ifndef TOP_SCREEN_H
#define TOP_SCREEN_H

#include <stdint.h>

#include <jansson.h>

#include "hx-util.h"
#include "model.h"

#define TOP_MIN_COLS 40
#define TOP_MIN_ROWS 10

enum top_view {
	VIEW_TABLE,
	VIEW_HELP,
	VIEW_DETAIL,
	VIEW_GRAPH,
	VIEW_ALERTS /* the firing alerts (key a) */
};

/* The graph view's ranges (keys 1, 2, 3). */
enum top_range {
	RANGE_15M,
	RANGE_1H,
	RANGE_24H,
	RANGE_COUNT
};

struct top_range_info {
	const char *name; /* "15 min" */
	const char *key; /* "1" */
	int64_t	    ms;
	int64_t	    refresh_ms; /* how often the open graph is fetched again */
};
extern const struct top_range_info top_ranges[RANGE_COUNT];

/*
 * The graph view's data: one CPU% series (node:cpu_usage, or the VM's)
 * over [from_ms, to_ms] as the history API answered it with step=auto.
 * mins and maxs are NULL for raw samples. Filled by the loop in
 * horcrux-top.c, drawn by graph.c.
 */
struct top_graph {
	char	*vm_id; /* NULL: the host */
	int	 range; /* enum top_range */
	int	 from_view; /* the view Esc returns to */
	int64_t	 from_ms, to_ms; /* wall clock */
	double	 step_s; /* the answer's step */
	size_t	 n;
	int64_t *t;
	double	*v, *mins, *maxs;
	int	 loaded; /* an answer (or an error) is here */
	char	 error[160]; /* why there is no answer */
	int64_t	 fetched_mono_ms;
};

/* What a key asked the loop to do. */
#define KEY_R_REDRAW 0x1
#define KEY_R_QUIT 0x2
#define KEY_R_REPAINT 0x4 /* Ctrl-L: repaint every cell */
#define KEY_R_ACTION 0x8 /* run ui->action on ui->action_vm */
#define KEY_R_DETAIL 0x10 /* fetch the detail of ui->detail_id */
#define KEY_R_GRAPH 0x20 /* fetch ui->graph's range again */
#define KEY_R_ACK 0x40 /* acknowledge ui->ack_id with ui->comment */

/* One host of a multi-host view (horcrux-top -c A -c B): its header line. */
struct top_host_line {
	const char	 *server; /* as given, for when it has no name yet */
	struct top_model *m; /* its own picture (NodeMetrics, alerts) */
	int		  connected;
	int		  refused; /* 401/403: not retried */
	int64_t		  retry_at; /* monotonic ms of its next attempt */
};

struct top_ui {
	struct top_model *m; /* with 2+ hosts: the merged view */
	/* 2+ hosts: a header line each, a HOST column, a host's rows dim
	 * while it is away; NULL and 0 for one host (the meters). */
	const struct top_host_line *hosts;
	size_t			    nhosts;
	enum top_view		    view;
	enum top_col		    sort;
	int			    invert;
	char			    filter[64];
	int			    editing_filter;
	char		 search[64]; /* F3: jump to names holding this */
	int		 editing_search;
	int		 search_missed; /* no name holds it */
	int		 picking_sort; /* F6: choosing the sort column */
	char		*sel_id; /* selected VM, followed across re-sorts */
	size_t		 scroll;
	int		 hcol; /* columns after NAME scrolled off */
	char		*detail_id;
	json_t		*detail; /* GET /api/vms/:id, or NULL */
	int		 paused;
	int		 color, ascii;
	struct top_graph graph;
	/* power action being confirmed or requested */
	const char *confirm; /* an action being asked about, or NULL */
	char	    question[256]; /* the y/N question, VM named */
	const char *action; /* "start", "shutdown", ... to run */
	char	   *action_vm;
	/* connection, as the header shows it */
	int	connected;
	int64_t retry_at; /* monotonic ms of the next attempt */
	char	server[128];
	char	message[256]; /* the daemon's answer to an action */
	int64_t message_until;
	int	message_bad;
	/* the alert view: selection, and the comment of an ack typed */
	size_t alert_sel;
	int    editing_comment;
	char   comment[256];
	char  *ack_id;
};

/* Start curses; colour unless no_color, NO_COLOR or a monochrome tty. */
void screen_init(struct top_ui *ui, int no_color, int ascii);
void screen_end(void);

/* Draw the current view; now is the monotonic clock in ms. */
void screen_draw(struct top_ui *ui, int64_t now);

/*
 * The selected VM among the n rows of idx (a model_view), its row in *pos;
 * selects the first row when the selection is gone. NULL when n is 0.
 */
const struct top_vm *screen_selected_vm(struct top_ui *ui, const size_t *idx,
    size_t n, size_t *pos);

/* The earliest monotonic time something on screen changes by itself (a
 * flash ending), or 0. */
int64_t screen_next_change(const struct top_ui *ui, int64_t now);

void screen_ui_release(struct top_ui *ui);

/*
 * Drawing primitives for the meter classes (meter.c), in the screen's
 * current look (colour or not, dimmed while disconnected).
 */
/* An htop bar: LABEL[|||||   text] in width columns, filled to pct. */
void screen_bar(int y, int x, int width, const char *label, double pct,
    const char *text);
/* Text in exactly width columns, never a control character. */
void screen_text(int y, int x, int width, const char *s);
void screen_textf(int y, int x, int width, const char *fmt, ...)
    HX_PRINTF(4, 5);
/* The view's title bar across cols columns on row 0. */
void screen_title(int cols, const char *fmt, ...) HX_PRINTF(2, 3);
/* A label in the label colour. */
void screen_label(int y, int x, const char *s);
/* One cell of the CPU grid: the level glyph of pct ('.' below 5%). */
void screen_level_cell(int y, int x, double pct);
/* A sparkline of n cells (spark.h) on a scale 0..hi, blocks or ASCII. */
void screen_spark(int y, int x, const double *cells, size_t n, double hi);
/* Whether the screen draws ASCII only (-U or a locale that is not UTF-8). */
int screen_ascii(void);

/* Free the graph view's data (not its range or VM). */
void screen_graph_clear(struct top_graph *g);

#endif
