/*
 * keys.c - the key binding table and the handlers it names (htop's shape:
 * a handler changes the view state and returns flags; the loop in
 * horcrux-top.c redraws, quits or runs what was asked). Handlers never
 * draw and never do I/O. Two modes take keys before the table: the y/n
 * question of a power action and the filter being typed.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hx-util.h"
#include "keys.h"

/* The selected VM of the current view (following it across re-sorts). */
static const struct top_vm *
current_vm(struct top_ui *ui)
{
	size_t *idx = xcalloc(ui->m->nvms + 1, sizeof(*idx)), n, pos;
	const struct top_vm *vm;

	n = model_view(ui->m, ui->sort, ui->invert, ui->filter, idx);
	vm = screen_selected_vm(ui, idx, n, &pos);
	free(idx);
	return vm;
}

/* Move the selection by delta rows (clamped), or to an end (to_end). */
static void
move_selection(struct top_ui *ui, long delta, int to_end)
{
	size_t *idx = xcalloc(ui->m->nvms + 1, sizeof(*idx)), n, pos;
	long	p;

	n = model_view(ui->m, ui->sort, ui->invert, ui->filter, idx);
	if (n > 0) {
		screen_selected_vm(ui, idx, n, &pos);
		p = to_end < 0 ? 0 :
		    to_end > 0 ? (long)n - 1 :
				 (long)pos + delta;
		if (p < 0)
			p = 0;
		if (p >= (long)n)
			p = (long)n - 1;
		free(ui->sel_id);
		ui->sel_id = xstrdup(ui->m->vms[idx[p]].id);
	}
	free(idx);
}

static int
key_quit(struct top_ui *ui, int key)
{
	(void)ui;
	(void)key;
	return KEY_R_QUIT;
}

static int
key_repaint(struct top_ui *ui, int key)
{
	(void)ui;
	(void)key;
	return KEY_R_REPAINT;
}

static int
key_redraw(struct top_ui *ui, int key)
{
	(void)ui;
	(void)key;
	return KEY_R_REDRAW;
}

static int
key_pause(struct top_ui *ui, int key)
{
	(void)key;
	ui->paused = !ui->paused;
	return KEY_R_REDRAW;
}

static int
key_back(struct top_ui *ui, int key)
{
	(void)key;
	if (ui->view == VIEW_GRAPH) {
		ui->view = (enum top_view)ui->graph.from_view;
		return KEY_R_REDRAW;
	}
	ui->view = VIEW_TABLE;
	json_decref(ui->detail);
	ui->detail = NULL;
	return KEY_R_REDRAW;
}

static int
key_help(struct top_ui *ui, int key)
{
	(void)key;
	ui->view = VIEW_HELP;
	return KEY_R_REDRAW;
}

static int
key_move(struct top_ui *ui, int key)
{
	long page = LINES > 16 ? LINES - 14 : 1;

	switch (key) {
	case KEY_UP:
		move_selection(ui, -1, 0);
		break;
	case KEY_DOWN:
		move_selection(ui, 1, 0);
		break;
	case KEY_PPAGE:
		move_selection(ui, -page, 0);
		break;
	case KEY_NPAGE:
		move_selection(ui, page, 0);
		break;
	case KEY_HOME:
		move_selection(ui, 0, -1);
		break;
	default: /* KEY_END */
		move_selection(ui, 0, 1);
		break;
	}
	return KEY_R_REDRAW;
}

static int
key_detail(struct top_ui *ui, int key)
{
	const struct top_vm *vm = current_vm(ui);

	(void)key;
	if (vm == NULL)
		return KEY_R_REDRAW;
	free(ui->detail_id);
	ui->detail_id = xstrdup(vm->id);
	ui->view = VIEW_DETAIL;
	return KEY_R_DETAIL | KEY_R_REDRAW;
}

/*
 * g: the graph of the host (the table) or of the VM shown (the detail
 * view); G: of the selected VM. The loop fetches its range.
 */
static int
key_graph(struct top_ui *ui, int key)
{
	const struct top_vm *vm = NULL;

	if (ui->view == VIEW_DETAIL)
		vm = model_vm(ui->m, ui->detail_id);
	else if (key == 'G' && (vm = current_vm(ui)) == NULL)
		return KEY_R_REDRAW;
	free(ui->graph.vm_id);
	ui->graph.vm_id = vm != NULL ? xstrdup(vm->id) : NULL;
	ui->graph.from_view = ui->view;
	ui->view = VIEW_GRAPH;
	screen_graph_clear(&ui->graph);
	return KEY_R_GRAPH | KEY_R_REDRAW;
}

static int
key_range(struct top_ui *ui, int key)
{
	ui->graph.range = key - '1';
	screen_graph_clear(&ui->graph);
	return KEY_R_GRAPH | KEY_R_REDRAW;
}

static int
key_filter(struct top_ui *ui, int key)
{
	(void)key;
	ui->editing_filter = 1;
	return KEY_R_REDRAW;
}

/*
 * Select the next VM, in the table's order from the selected one (after
 * it when next is set), whose name holds ui->search (case-insensitive).
 * Leaves the selection where it was when none does.
 */
static void
search_select(struct top_ui *ui, int next)
{
	size_t *idx = xcalloc(ui->m->nvms + 1, sizeof(*idx)), n, pos, i;

	n = model_view(ui->m, ui->sort, ui->invert, ui->filter, idx);
	ui->search_missed = 1;
	if (n > 0 && ui->search[0] != '\0') {
		screen_selected_vm(ui, idx, n, &pos);
		for (i = next ? 1 : 0; i <= n; i++) {
			const struct top_vm *vm =
			    &ui->m->vms[idx[(pos + i) % n]];

			if (strcasestr(vm->name, ui->search) != NULL) {
				free(ui->sel_id);
				ui->sel_id = xstrdup(vm->id);
				ui->search_missed = 0;
				break;
			}
		}
	}
	free(idx);
}

/* F3 as in htop: type to jump to a name; F3 again for the next match. */
static int
key_search(struct top_ui *ui, int key)
{
	(void)key;
	if (ui->editing_search || ui->search[0] != '\0')
		search_select(ui, 1);
	ui->editing_search = 1;
	return KEY_R_REDRAW;
}

/* F6 as in htop: choose the sort column with Left/Right, Enter. */
static int
key_sort_pick(struct top_ui *ui, int key)
{
	(void)key;
	ui->picking_sort = 1;
	return KEY_R_REDRAW;
}

static int
key_clear_filter(struct top_ui *ui, int key)
{
	(void)key;
	ui->filter[0] = '\0';
	return KEY_R_REDRAW;
}

static int
key_sort(struct top_ui *ui, int key)
{
	switch (key) {
	case 'P':
	case 'p':
		ui->sort = COL_CPU;
		break;
	case 'M':
	case 'm':
		ui->sort = COL_MEMPCT;
		break;
	default: /* N n */
		ui->sort = COL_NAME;
		break;
	}
	return KEY_R_REDRAW;
}

static int
key_column(struct top_ui *ui, int key)
{
	if (key == '<' || key == ',')
		ui->sort = ui->sort == 0 ? COL_COUNT - 1 : ui->sort - 1;
	else
		ui->sort = (ui->sort + 1) % COL_COUNT;
	return KEY_R_REDRAW;
}

/* Left and Right: scroll the columns after NAME (the draw clamps). */
static int
key_hscroll(struct top_ui *ui, int key)
{
	ui->hcol += key == KEY_LEFT ? -1 : 1;
	if (ui->hcol < 0)
		ui->hcol = 0;
	if (ui->hcol > COL_COUNT - 2)
		ui->hcol = COL_COUNT - 2;
	return KEY_R_REDRAW;
}

static int
key_invert(struct top_ui *ui, int key)
{
	(void)key;
	ui->invert = !ui->invert;
	return KEY_R_REDRAW;
}

/*
 * The power actions the daemon accepts (horcruxd/job-vm.c), the states it
 * accepts them from, and how the question names them.
 */
static const struct top_power {
	int	    key;
	const char *action;
	const char *verb; /* "Force stop VM 'x'?" */
	const char *from; /* states, space-separated */
} top_power[] = {
	{ 'S', "start", "start", "stopped crashed" },
	{ 'T', "shutdown", "shut down", "running" },
	{ 'R', "reboot", "reboot", "running" },
	{ 'U', "suspend", "suspend", "running" },
	{ 'U', "resume", "resume", "paused" },
	{ 'K', "stop", "force stop", "running paused shutdown suspended" },
};

static int
state_in(const char *state, const char *list)
{
	size_t	    n = strlen(state);
	const char *p = list;

	if (n == 0)
		return 0;
	while ((p = strstr(p, state)) != NULL) {
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/*
 * Ask first: the loop runs the action only after a 'y'. The VM is the
 * selected row, or the one the detail view shows. U suspends a running
 * VM and resumes a paused one. When the VM's state is not one the daemon
 * accepts the action from, the question says so first.
 */
static int
key_power(struct top_ui *ui, int key)
{
	const struct top_vm    *vm = ui->view == VIEW_DETAIL ?
	       model_vm(ui->m, ui->detail_id) :
	       current_vm(ui);
	const struct top_power *p = NULL;
	size_t			i;

	if (vm == NULL)
		return KEY_R_REDRAW;
	for (i = 0; i < HX_ARRAY_SIZE(top_power); i++)
		if (top_power[i].key == key &&
		    (p == NULL || state_in(vm->state, top_power[i].from)))
			p = &top_power[i];
	if (state_in(vm->state, p->from))
		snprintf(ui->question, sizeof(ui->question),
		    "%c%s VM '%s'? [y/N] ", p->verb[0] - 'a' + 'A', p->verb + 1,
		    vm->name);
	else
		snprintf(ui->question, sizeof(ui->question),
		    "VM '%s' is %s: %s it anyway? [y/N] ", vm->name, vm->state,
		    p->verb);
	ui->confirm = p->action;
	free(ui->action_vm);
	ui->action_vm = xstrdup(vm->id);
	return KEY_R_REDRAW;
}

static int
key_alerts(struct top_ui *ui, int key)
{
	(void)key;
	ui->view = VIEW_ALERTS;
	return KEY_R_REDRAW;
}

static int
key_alert_move(struct top_ui *ui, int key)
{
	size_t n = ui->m->nalerts;

	if (key == KEY_UP && ui->alert_sel > 0)
		ui->alert_sel--;
	else if (key == KEY_DOWN && ui->alert_sel + 1 < n)
		ui->alert_sel++;
	return KEY_R_REDRAW;
}

/* Start typing the comment of an acknowledgement of the selected alert. */
static int
key_ack(struct top_ui *ui, int key)
{
	const struct top_alert *a;

	(void)key;
	if (ui->m->nalerts == 0)
		return KEY_R_REDRAW;
	if (ui->alert_sel >= ui->m->nalerts)
		ui->alert_sel = ui->m->nalerts - 1;
	a = &ui->m->alerts[ui->alert_sel];
	free(ui->ack_id);
	ui->ack_id = xstrdup(a->id);
	ui->comment[0] = '\0';
	ui->editing_comment = 1;
	return KEY_R_REDRAW;
}

/*
 * First match wins. The bindings of every view come first; a view's own
 * bindings may reuse a key another view binds (h, Enter, Esc).
 */
const struct top_key top_keys[] = {
	{ .name = "q g",
	    .help = "graph: back to the view it was opened from",
	    .views = KV_GRAPH,
	    .codes = { 'q', 'g' },
	    .fn = key_back,
	    .bar = "q Back",
	    .group = KG_QUIT,
	    .rank = 0 },
	{ .name = "F10",
	    .help = "quit (also from the graph)",
	    .views = KV_GRAPH,
	    .codes = { KEY_F(10) },
	    .fn = key_quit },
	{ .name = "q F10",
	    .help = "quit",
	    .views = KV_ALL & ~KV_GRAPH,
	    .codes = { 'q', KEY_F(10) },
	    .fn = key_quit,
	    .bar = "q Quit",
	    .group = KG_QUIT,
	    .rank = 0 },
	{ .name = "h ? F1",
	    .help = "this help",
	    .views = KV_TABLE,
	    .codes = { 'h', '?', KEY_F(1) },
	    .fn = key_help,
	    .bar = "h Help",
	    .group = KG_VIEW,
	    .rank = 0 },
	{ .name = "Esc",
	    .help = "back (also h, Enter, Left, Backspace)",
	    .views = KV_OTHER,
	    .codes = { 27, KEY_BACKSPACE, 'h', '?', KEY_F(1), '\n', '\r',
		KEY_ENTER, KEY_LEFT },
	    .fn = key_back,
	    .bar = "Esc Back",
	    .group = KG_VIEW,
	    .rank = 0 },
	{ .name = "Space",
	    .help = "redraw now",
	    .views = KV_ALL,
	    .codes = { ' ' },
	    .fn = key_redraw },
	{ .name = "Ctrl-L",
	    .help = "repaint the screen",
	    .views = KV_ALL,
	    .codes = { 12 },
	    .fn = key_repaint },
	{ .name = "Z",
	    .help = "pause / resume the display (not the VM)",
	    .views = KV_ALL,
	    .codes = { 'Z', 'z' },
	    .fn = key_pause,
	    .bar = "Z Freeze",
	    .group = KG_VIEW,
	    .rank = 3 },
	/* Rank 6: on the bar when it is wide; 120 columns keep theirs. */
	{ .name = "a",
	    .help = "the firing alerts (target, rule, value, since, acked by)",
	    .views = KV_TABLE,
	    .codes = { 'a' },
	    .fn = key_alerts,
	    .bar = "a Alerts",
	    .group = KG_VIEW,
	    .rank = 6 },
	{ .name = "Up Down",
	    .help = "select an alert",
	    .views = KV_ALERTS,
	    .codes = { KEY_UP, KEY_DOWN },
	    .fn = key_alert_move },
	{ .name = "A",
	    .help = "acknowledge the selected alert, with a comment (needs "
		    "SysModify on /nodes, or VmPowerMgmt on the VM)",
	    .views = KV_ALERTS,
	    .codes = { 'A' },
	    .fn = key_ack,
	    .bar = "A Acknowledge",
	    .group = KG_VIEW,
	    .rank = 1 },
	{ .name = "Up Down PgUp PgDn Home End",
	    .help = "move the selection",
	    .views = KV_TABLE,
	    .codes = { KEY_UP, KEY_DOWN, KEY_PPAGE, KEY_NPAGE, KEY_HOME,
		KEY_END },
	    .fn = key_move },
	{ .name = "Enter",
	    .help = "VM detail view",
	    .views = KV_TABLE,
	    .codes = { '\n', '\r', KEY_ENTER },
	    .fn = key_detail,
	    .bar = "Enter Detail",
	    .group = KG_VIEW,
	    .rank = 4 },
	{ .name = "g",
	    .help = "graph of the host's CPU% over 15 min, 1 h or 24 h",
	    .views = KV_TABLE,
	    .codes = { 'g' },
	    .fn = key_graph,
	    .bar = "g Graph",
	    .group = KG_VIEW,
	    .rank = 4 },
	{ .name = "g",
	    .help = "graph of this VM's CPU%",
	    .views = KV_DETAIL,
	    .codes = { 'g' },
	    .fn = key_graph },
	{ .name = "G",
	    .help = "graph of the selected VM's CPU%",
	    .views = KV_TABLE,
	    .codes = { 'G' },
	    .fn = key_graph },
	{ .name = "1 2 3",
	    .help = "graph: the last 15 min, 1 h, 24 h",
	    .views = KV_GRAPH,
	    .codes = { '1', '2', '3' },
	    .fn = key_range,
	    .bar = "1 15m  2 1h  3 24h",
	    .group = KG_VIEW,
	    .rank = 0 },
	{ .name = "/ F4",
	    .help = "filter by name",
	    .views = KV_TABLE,
	    .codes = { '/', KEY_F(4) },
	    .fn = key_filter,
	    .bar = "/ Filter",
	    .group = KG_VIEW,
	    .rank = 2 },
	{ .name = "F3",
	    .help = "search: jump to the next name holding "
		    "the text (F3 again: the next one)",
	    .views = KV_TABLE,
	    .codes = { KEY_F(3) },
	    .fn = key_search },
	{ .name = "F6",
	    .help = "choose the sort column (Left Right, Enter)",
	    .views = KV_TABLE,
	    .codes = { KEY_F(6) },
	    .fn = key_sort_pick },
	{ .name = "Esc",
	    .help = "clear the filter",
	    .views = KV_TABLE,
	    .codes = { 27 },
	    .fn = key_clear_filter },
	{ .name = "P M N",
	    .help = "sort by CPU%, MEM%, name",
	    .views = KV_TABLE,
	    .codes = { 'P', 'p', 'M', 'm', 'N', 'n' },
	    .fn = key_sort,
	    .bar = "P M N Sort",
	    .group = KG_VIEW,
	    .rank = 3 },
	{ .name = "< >",
	    .help = "sort by the previous / next column",
	    .views = KV_TABLE,
	    .codes = { '<', ',', '>', '.' },
	    .fn = key_column,
	    .bar = "< > Column",
	    .group = KG_VIEW,
	    .rank = 5 },
	{ .name = "Left Right",
	    .help = "scroll the columns after NAME "
		    "(the header shows < > where columns are off the screen)",
	    .views = KV_TABLE,
	    .codes = { KEY_LEFT, KEY_RIGHT },
	    .fn = key_hscroll },
	{ .name = "I",
	    .help = "invert the sort order",
	    .views = KV_TABLE,
	    .codes = { 'I', 'i' },
	    .fn = key_invert,
	    .bar = "I Invert",
	    .group = KG_VIEW,
	    .rank = 5 },
	{ .name = "S",
	    .help = "start the VM (asks y/n first; the power "
		    "keys need VmPowerMgmt)",
	    .views = KV_TABLE | KV_DETAIL,
	    .codes = { 'S' },
	    .fn = key_power,
	    .bar = "S Start",
	    .group = KG_VM,
	    .rank = 1 },
	{ .name = "T",
	    .help = "shut the VM down (ACPI)",
	    .views = KV_TABLE | KV_DETAIL,
	    .codes = { 'T' },
	    .fn = key_power,
	    .bar = "T Shutdown",
	    .group = KG_VM,
	    .rank = 1 },
	{ .name = "R",
	    .help = "reboot the VM",
	    .views = KV_TABLE | KV_DETAIL,
	    .codes = { 'R' },
	    .fn = key_power,
	    .bar = "R Reboot",
	    .group = KG_VM,
	    .rank = 3 },
	{ .name = "U",
	    .help = "suspend the VM, or resume it when paused",
	    .views = KV_TABLE | KV_DETAIL,
	    .codes = { 'U' },
	    .fn = key_power,
	    .bar = "U Suspend/Resume",
	    .group = KG_VM,
	    .rank = 2 },
	{ .name = "K",
	    .help = "force stop the VM (power off)",
	    .views = KV_TABLE | KV_DETAIL,
	    .codes = { 'K' },
	    .fn = key_power,
	    .bar = "K Stop",
	    .group = KG_VM,
	    .rank = 1 },
};
const size_t top_nkeys = HX_ARRAY_SIZE(top_keys);

static int
filter_key(struct top_ui *ui, int key)
{
	size_t n = strlen(ui->filter);

	switch (key) {
	case 27: /* Esc: clear and leave */
		ui->filter[0] = '\0';
		/* FALLTHROUGH */
	case '\n':
	case '\r':
	case KEY_ENTER:
		ui->editing_filter = 0;
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		while (n > 0 && (ui->filter[n - 1] & 0xc0) == 0x80)
			n--; /* drop a whole UTF-8 character */
		if (n > 0)
			ui->filter[n - 1] = '\0';
		break;
	default:
		if (key >= 0x20 && key < 0x100 && key != 0x7f &&
		    n + 1 < sizeof(ui->filter)) {
			ui->filter[n] = (char)key;
			ui->filter[n + 1] = '\0';
		}
		break;
	}
	ui->scroll = 0;
	return KEY_R_REDRAW;
}

/* The comment of an acknowledgement: Enter sends, Esc cancels. */
static int
comment_key(struct top_ui *ui, int key)
{
	size_t n = strlen(ui->comment);

	switch (key) {
	case 27:
		ui->editing_comment = 0;
		return KEY_R_REDRAW;
	case '\n':
	case '\r':
	case KEY_ENTER:
		ui->editing_comment = 0;
		return KEY_R_ACK | KEY_R_REDRAW;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		while (n > 0 && (ui->comment[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0)
			ui->comment[n - 1] = '\0';
		break;
	default:
		if (key >= 0x20 && key < 0x100 && key != 0x7f &&
		    n + 1 < sizeof(ui->comment)) {
			ui->comment[n] = (char)key;
			ui->comment[n + 1] = '\0';
		}
		break;
	}
	return KEY_R_REDRAW;
}

static int
search_key(struct top_ui *ui, int key)
{
	size_t n = strlen(ui->search);

	switch (key) {
	case 27:
	case '\n':
	case '\r':
	case KEY_ENTER:
		ui->editing_search = 0;
		return KEY_R_REDRAW;
	case KEY_F(3):
		search_select(ui, 1);
		return KEY_R_REDRAW;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		while (n > 0 && (ui->search[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0)
			ui->search[n - 1] = '\0';
		break;
	default:
		if (key >= 0x20 && key < 0x100 && key != 0x7f &&
		    n + 1 < sizeof(ui->search)) {
			ui->search[n] = (char)key;
			ui->search[n + 1] = '\0';
		}
		break;
	}
	search_select(ui, 0);
	return KEY_R_REDRAW;
}

static int
sort_pick_key(struct top_ui *ui, int key)
{
	switch (key) {
	case KEY_LEFT:
		ui->sort = ui->sort == 0 ? COL_COUNT - 1 : ui->sort - 1;
		break;
	case KEY_RIGHT:
		ui->sort = (ui->sort + 1) % COL_COUNT;
		break;
	case 'I':
	case 'i':
		ui->invert = !ui->invert;
		break;
	case 'q':
		return KEY_R_QUIT;
	default: /* Enter, Esc, F6: done */
		ui->picking_sort = 0;
		break;
	}
	return KEY_R_REDRAW;
}

static int
confirm_key(struct top_ui *ui, int key)
{
	if (key == 'y' || key == 'Y') {
		ui->action = ui->confirm;
		ui->confirm = NULL;
		return KEY_R_ACTION | KEY_R_REDRAW;
	}
	ui->confirm = NULL;
	snprintf(ui->message, sizeof(ui->message), "cancelled");
	ui->message_bad = 0;
	ui->message_until = 0;
	return KEY_R_REDRAW;
}

static int
binds(const struct top_key *k, int key)
{
	int i;

	for (i = 0; i < TOP_KEY_CODES && k->codes[i] != 0; i++)
		if (k->codes[i] == key)
			return 1;
	return 0;
}

int
keys_handle(struct top_ui *ui, int key)
{
	size_t i;

	if (key == KEY_RESIZE) /* not a key a person presses */
		return KEY_R_REDRAW;
	if (ui->confirm != NULL)
		return confirm_key(ui, key);
	if (ui->editing_comment)
		return comment_key(ui, key);
	if (ui->editing_filter)
		return filter_key(ui, key);
	if (ui->editing_search)
		return search_key(ui, key);
	if (ui->picking_sort)
		return sort_pick_key(ui, key);
	for (i = 0; i < top_nkeys; i++)
		if ((top_keys[i].views & (1 << ui->view)) &&
		    binds(&top_keys[i], key))
			return top_keys[i].fn(ui, key);
	/* Outside the table any key redraws; the table ignores it. */
	return ui->view != VIEW_TABLE ? KEY_R_REDRAW : 0;
}

/* The bar with every label of rank <= cut; returns its length. */
static size_t
bar_text(const struct top_ui *ui, int cut, char *out, size_t outlen)
{
	size_t len = 0, i;
	int    g, first, in_group;

	out[0] = '\0';
	for (g = KG_VIEW, first = 1; g <= KG_QUIT; g++) {
		for (i = 0, in_group = 0; i < top_nkeys; i++) {
			const struct top_key *k = &top_keys[i];

			if (k->bar == NULL || k->group != g || k->rank > cut ||
			    !(k->views & (1 << ui->view)))
				continue;
			len += (size_t)snprintf(out + len, outlen - len,
			    "%s%s%s",
			    first	 ? "" :
				in_group ? "  " :
					   "  | ",
			    !in_group && g == KG_VM ? "VM: " : "", k->bar);
			if (len >= outlen)
				return len;
			first = 0;
			in_group = 1;
		}
	}
	return len;
}

void
keys_bar(const struct top_ui *ui, int cols, char *out, size_t outlen)
{
	int cut;

	for (cut = 9; cut > 0; cut--)
		if (bar_text(ui, cut, out, outlen) <= (size_t)cols)
			return;
	bar_text(ui, 0, out, outlen);
}

void
keys_dump(FILE *f)
{
	static const char *view_names[] = {
		[VIEW_TABLE] = "table",
		[VIEW_HELP] = "help",
		[VIEW_DETAIL] = "detail",
		[VIEW_GRAPH] = "graph",
		[VIEW_ALERTS] = "alerts",
	};
	size_t i, v;

	for (i = 0; i < top_nkeys; i++) {
		const char *sep = "";

		fprintf(f, "%s\t", top_keys[i].name);
		for (v = 0; v < HX_ARRAY_SIZE(view_names); v++)
			if (top_keys[i].views & (1 << v)) {
				fprintf(f, "%s%s", sep, view_names[v]);
				sep = ",";
			}
		fprintf(f, "\t%s\n", top_keys[i].help);
	}
}
