/*
 * horcrux-top.c - the live console: options, the connection to horcruxd
 * and the one loop that polls the terminal and the WebSocket.
 *
 * Single-threaded on purpose: poll() over the tty and one socket per
 * host, redraw when data arrived (at most every -d seconds) or a key was
 * pressed, sleep otherwise. A daemon going away is a state, not an error:
 * its last data stays on screen, dimmed, while we reconnect with backoff.
 * Only the very first connections failing is fatal (every host of them),
 * because then there is nothing to show.
 *
 * Several hosts (-c A -c B, or `servers` in client.conf): each has its own
 * connection, backoff and model (lib-free horcrux-top/model.c); the screen
 * draws the merge of their models (model_merge: one row per VM by uuid)
 * with a header line per host. With one host the screen is the host's own
 * model, exactly as before.
 *
 * A daemon whose welcome carries boot_id (DESIGN §3) is asked for batched
 * VM figures and, on a reconnect, to resume after the last seq we saw;
 * an older daemon gets today's plain subscription.
 *
 * Each connection asks the history API for the sparklines' recent past
 * before the first frame (with a short timeout: without history the lines
 * start from live samples); the graph view's range is fetched when it
 * opens and again while it stays open.
 *
 * Exit codes: 0 normal, 1 cannot reach the daemon or a runtime error,
 * 2 usage, 3 authentication required or refused, 4 forbidden.
 */
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "batch.h"
#include "graph.h"
#include "hx-client.h"
#include "hx-config.h"
#include "hx-proto.h"
#include "hx-util.h"
#include "keys.h"
#include "model.h"
#include "screen.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 3000
#define REQUEST_TIMEOUT_MS 10000
/* The history on attach is part of the first frame: it may hold it back
 * this long at most, then the sparklines start from live samples. */
#define HISTORY_TIMEOUT_MS 1000

/* What the screen shows; names come from lib/hx-proto's topic table. */
static const enum hx_topic_id top_topics[] = {
	HX_TOPIC_NODE_METRICS,
	HX_TOPIC_VM_METRICS,
	HX_TOPIC_VM_STATUS,
	HX_TOPIC_VM_EVENTS,
	HX_TOPIC_ALERTS,
	HX_TOPIC_NOTIFICATIONS,
};

static const struct hx_opt options_table[] = {
	{ "connect", 'c', HX_OPT_LIST, NULL, 0, 0, NULL, "URL",
	    "server: unix:PATH, ws(s)://HOST:PORT or http(s)://HOST:PORT; "
	    "repeat it to watch several hosts (default: $HORCRUX_SERVER, "
	    "client.conf's servers or server, the local socket)",
	    HX_OPT_CLI_ONLY, NULL },
	{ "api_key_file", 0, HX_OPT_STRING, NULL, 0, 0, NULL, "FILE",
	    "read the API key from FILE (default: $HORCRUX_API_KEY, "
	    "$HORCRUX_TOKEN, client.conf)",
	    HX_OPT_CLI_ONLY, NULL },
	{ "delay", 'd', HX_OPT_SECONDS, "1", 0.1, 3600, NULL, "SECS",
	    "redraw at most every SECS seconds", HX_OPT_CLI_ONLY, NULL },
	{ "batch", 'b', HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "batch mode: plain text snapshots on stdout, no curses",
	    HX_OPT_CLI_ONLY, NULL },
	{ "iterations", 'n', HX_OPT_INT, "0", 0, 1000000000, NULL, "N",
	    "exit after N updates (0: never)", HX_OPT_CLI_ONLY, NULL },
	{ "json", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "batch mode with one JSON object per update", HX_OPT_CLI_ONLY,
	    NULL },
	{ "no_color", 'C', HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "no colours (also when NO_COLOR is set)", HX_OPT_CLI_ONLY, NULL },
	{ "ascii", 'U', HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "ASCII only (automatic when the locale is not UTF-8)",
	    HX_OPT_CLI_ONLY, NULL },
	{ "spark_step", 0, HX_OPT_INT, "10", 1, 3600, NULL, "SECS",
	    "one sparkline cell per SECS seconds (the history on attach is "
	    "asked for at this step)",
	    HX_OPT_CLI_ONLY, NULL },
	{ "help", 'h', HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "show this help and exit", HX_OPT_CLI_ONLY, NULL },
	{ "version", 'V', HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "show the version and exit", HX_OPT_CLI_ONLY, NULL },
	{ "dump_options", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "list the options for the docs test",
	    HX_OPT_CLI_ONLY | HX_OPT_HIDDEN, NULL },
	{ "dump_keys", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "list the key bindings for the docs test",
	    HX_OPT_CLI_ONLY | HX_OPT_HIDDEN, NULL },
};

/* One daemon: its connection, its backoff and its picture. */
struct host {
	struct hx_server srv;
	struct hx_ws	*ws;
	struct top_model m;
	int64_t		 backoff_ms;
	int		 subscribed; /* the snapshot is on its way */
	int		 refused; /* 401/403 (several hosts): not retried */
	int		 resumable; /* its welcome carried boot_id */
};

struct top {
	struct host	     *hosts;
	size_t		      nhosts;
	struct top_host_line *lines; /* the screen's view of each host */
	struct top_model      view; /* 2+ hosts: the merged picture */
	struct hx_client_conf conf;
	struct hx_cred	      cred;
	struct top_ui	      ui;
	int		      batch, json;
	long long	      iterations, updates;
	int64_t		      delay_ms;
	int64_t		      last_draw;
	int		      dirty;
	int64_t		      backoff_ms;
	int		      curses;
	int64_t		      detail_at; /* last detail fetch */
	int		      drew_node; /* a NodeMetrics is on screen */
	int64_t		      started;
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

static int64_t
now_ms(void)
{
	return (int64_t)(hx_mono_ns() / 1000000);
}

static void HX_PRINTF(2, 3) __attribute__((noreturn))
die(int code, const char *fmt, ...)
{
	va_list ap;

	screen_end();
	fputs("horcrux-top: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Exit code for a refused upgrade or request. */
static int
code_for_status(int status)
{
	return status == 401 ? 3 : status == 403 ? 4 : 1;
}

/*
 * A refused upgrade is final: the credentials will not get better by
 * retrying (a revoked or expired key, a token past its end). Say what to
 * do and exit as horcrux-cli does (3, or 4 when forbidden).
 */
static void __attribute__((noreturn)) die_refused(int status, const char *err)
{
	die(code_for_status(status),
	    "%s: not authorized: log in again "
	    "(horcrux-cli login) or set HORCRUX_API_KEY",
	    err);
}

/* The daemon's JSON error message, or the status line. Caller frees. */
static char *
error_message(const struct hx_http_resp *r)
{
	json_t	   *o = json_loads(r->body ? r->body : "", 0, NULL);
	const char *msg = json_string_value(json_object_get(o, "message"));
	char *s = msg != NULL ? xstrdup(msg) : xasprintf("HTTP %d", r->status);

	json_decref(o);
	return s;
}

/* GET the VM list into the model; quietly keeps the old one on failure. */
static void
fetch_vm_list(struct top *t, struct host *h)
{
	struct hx_http_resp r;
	char		   *err = NULL;

	if (hx_http_request(&h->srv, &t->cred, "GET", "/api/vms", NULL,
		REQUEST_TIMEOUT_MS, &r, &err) < 0) {
		free(err);
		return;
	}
	if (r.status == 200) {
		json_t *list = json_loads(r.body, 0, NULL);

		model_set_vm_list(&h->m, list);
		json_decref(list);
		t->dirty = 1;
	}
	h->m.need_vm_list = 0;
	hx_http_resp_release(&r);
}

/* A one-line note on the status line for a few seconds. */
static void HX_PRINTF(3, 4) say(struct top *t, int bad, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->ui.message, sizeof(t->ui.message), fmt, ap);
	va_end(ap);
	t->ui.message_bad = bad;
	t->ui.message_until = now_ms() + 6000;
	t->dirty = 1;
}

/*
 * GET /api/metrics/history?series=S&from=F&to=T[&step=N] into *r (from
 * and to as the API takes them: RFC 3339, now, -2m). Returns 0, or -1
 * with *err (the request could not be made).
 */
static int
history_request(struct top *t, struct host *h, const char *series,
    const char *from, const char *to, int64_t step_s, int timeout_ms,
    struct hx_http_resp *r, char **err)
{
	char st[32], *q, *path;
	int  rc;

	st[0] = '\0';
	if (step_s > 0)
		snprintf(st, sizeof(st), "&step=%lld", (long long)step_s);
	q = hx_url_escape(series);
	path = xasprintf("/api/metrics/history?series=%s&from=%s&to=%s%s", q,
	    from, to, st);
	rc = hx_http_request(&h->srv, &t->cred, "GET", path, NULL, timeout_ms,
	    r, err);
	free(q);
	free(path);
	return rc;
}

/*
 * History on attach: the last SPARK_RING buckets of the header's series
 * and every VM's CPU% at the sparklines' step, into the model before the
 * first frame. Without it (history off, no right to it, a slow or absent
 * daemon) one line says so and the sparklines start from live samples.
 * A fleet too big for one answer (422) gets the host's lines only.
 */
static void
fetch_history(struct top *t, struct host *h)
{
	struct hx_http_resp r;
	struct hx_buf	    names;
	int64_t		    step = h->m.spark_step_ms;
	char		   *err = NULL, *msg, from[32];
	int		    vms, i;

	hx_buf_init(&names, 0);
	for (i = 0; i < TOP_HIST_COUNT; i++)
		hx_buf_addf(&names, "%snode:%s", i ? "," : "",
		    top_hist_fields[i]);
	for (vms = 1; vms >= 0; vms--) {
		size_t len = names.len;

		if (vms)
			hx_buf_addf(&names, ",vm:*:cpu_usage");
		/* Relative to the daemon's clock, not ours. */
		snprintf(from, sizeof(from), "-%llds",
		    (long long)(step / 1000 * SPARK_RING));
		if (history_request(t, h, names.data, from, "now", step / 1000,
			HISTORY_TIMEOUT_MS, &r, &err) < 0) {
			say(t, 0, "no history: %s; sparklines start now", err);
			free(err);
			break;
		}
		names.len = len;
		names.data[len] = '\0';
		if (r.status == 422 && vms) {
			hx_http_resp_release(&r);
			continue;
		}
		if (r.status == 200) {
			json_t *root = json_loads(r.body, 0, NULL);

			model_apply_history(&h->m, root);
			json_decref(root);
		} else {
			msg = error_message(&r);
			say(t, 0, "no history: %s; sparklines start now", msg);
			free(msg);
		}
		hx_http_resp_release(&r);
		break;
	}
	hx_buf_release(&names);
}

/*
 * The host a VM of the screen's table lives on (its row's host in the
 * merged view), the first host when it is gone or for the host's own
 * figures (vm_id NULL).
 */
static struct host *
host_of_vm(struct top *t, const char *vm_id)
{
	const struct top_vm *vm = vm_id ? model_vm(t->ui.m, vm_id) : NULL;

	if (vm != NULL && vm->host >= 0 && (size_t)vm->host < t->nhosts)
		return &t->hosts[vm->host];
	return &t->hosts[0];
}

/*
 * The graph view's range, ending two seconds ago on a whole second (so
 * every sample in it has reached the history), at step=auto.
 */
static void
fetch_graph(struct top *t)
{
	struct top_graph    *g = &t->ui.graph;
	const struct top_vm *vm = g->vm_id ? model_vm(t->ui.m, g->vm_id) : NULL;
	struct host	    *h = host_of_vm(t, g->vm_id);
	struct hx_http_resp  r;
	json_t		    *root = NULL, *s, *pts, *mn, *mx, *p;
	char		    *series, *err = NULL, *msg, from[40], to[40];
	size_t		     i;

	screen_graph_clear(g);
	g->loaded = 1;
	g->fetched_mono_ms = now_ms();
	g->to_ms = (hx_wall_ms() / 1000 - 2) * 1000;
	g->from_ms = g->to_ms - top_ranges[g->range].ms;
	t->dirty = 1;
	if (g->vm_id != NULL && vm == NULL) {
		hx_strlcpy(g->error, "this VM is gone", sizeof(g->error));
		return;
	}
	series = vm != NULL ? xasprintf("vm:%s:cpu_usage", vm->name) :
			      xstrdup("node:cpu_usage");
	hx_rfc3339_ms(g->from_ms, from, sizeof(from));
	hx_rfc3339_ms(g->to_ms, to, sizeof(to));
	if (history_request(t, h, series, from, to, 0, REQUEST_TIMEOUT_MS, &r,
		&err) < 0) {
		snprintf(g->error, sizeof(g->error), "no history: %s", err);
		free(err);
		free(series);
		return;
	}
	free(series);
	if (r.status != 200) {
		msg = error_message(&r);
		snprintf(g->error, sizeof(g->error), "no history: %s", msg);
		free(msg);
		hx_http_resp_release(&r);
		return;
	}
	root = json_loads(r.body, 0, NULL);
	hx_http_resp_release(&r);
	s = json_array_get(json_object_get(root, "series"), 0);
	pts = json_object_get(s, "points");
	mn = json_object_get(s, "min");
	mx = json_object_get(s, "max");
	if (!json_is_array(pts)) {
		hx_strlcpy(g->error, "no history: a reply without points",
		    sizeof(g->error));
		json_decref(root);
		return;
	}
	g->step_s = json_number_value(json_object_get(s, "step"));
	g->n = json_array_size(pts);
	g->t = xcalloc(g->n + 1, sizeof(*g->t));
	g->v = xcalloc(g->n + 1, sizeof(*g->v));
	if (json_is_array(mn) && json_is_array(mx)) {
		g->mins = xcalloc(g->n + 1, sizeof(*g->mins));
		g->maxs = xcalloc(g->n + 1, sizeof(*g->maxs));
	}
	json_array_foreach(pts, i, p) {
		json_t *v = json_array_get(p, 1);

		g->t[i] = (int64_t)json_integer_value(json_array_get(p, 0));
		g->v[i] = json_is_number(v) ? json_number_value(v) : NAN;
		if (g->mins != NULL) {
			json_t *a = json_array_get(mn, i),
			       *b = json_array_get(mx, i);

			g->mins[i] = json_is_number(a) ? json_number_value(a) :
							 NAN;
			g->maxs[i] = json_is_number(b) ? json_number_value(b) :
							 NAN;
		}
	}
	json_decref(root);
}

/*
 * GET the firing alerts into the model, so the header's counts are right
 * from the first frame; AlertTriggered/AlertResolved keep them after.
 * Refused (no privilege) or failed: the list stays as it was.
 */
static void
fetch_alerts(struct top *t, struct host *h)
{
	struct hx_http_resp r;
	char		   *err = NULL;

	if (hx_http_request(&h->srv, &t->cred, "GET",
		"/api/alerts?state=firing", NULL, REQUEST_TIMEOUT_MS, &r,
		&err) < 0) {
		free(err);
		return;
	}
	if (r.status == 200) {
		json_t *o = json_loads(r.body, 0, NULL);

		model_set_alerts(&h->m, o);
		json_decref(o);
		t->dirty = 1;
	}
	hx_http_resp_release(&r);
}

/* POST /api/alerts/:id/ack {comment}; the daemon's answer on the note. */
static void
run_ack(struct top *t)
{
	struct hx_http_resp r;
	json_t		   *body = json_object();
	char *err = NULL, *id = hx_url_escape(t->ui.ack_id), *path, *text;
	struct host *h = &t->hosts[0];
	size_t	     i;

	/* The host that raised it (the merged view knows each alert's). */
	for (i = 0; i < t->ui.m->nalerts; i++)
		if (strcmp(t->ui.m->alerts[i].id, t->ui.ack_id) == 0 &&
		    (size_t)t->ui.m->alerts[i].host < t->nhosts)
			h = &t->hosts[t->ui.m->alerts[i].host];
	if (t->ui.comment[0] != '\0')
		json_object_set_new(body, "comment",
		    json_string(t->ui.comment));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	path = xasprintf("/api/alerts/%s/ack", id);
	free(id);
	if (hx_http_request(&h->srv, &t->cred, "POST", path, text,
		REQUEST_TIMEOUT_MS, &r, &err) < 0) {
		snprintf(t->ui.message, sizeof(t->ui.message),
		    "acknowledge %s failed: %s", t->ui.ack_id, err);
		t->ui.message_bad = 1;
		free(err);
	} else {
		int   good = r.status >= 200 && r.status < 300;
		char *msg = good ? NULL : error_message(&r);

		snprintf(t->ui.message, sizeof(t->ui.message),
		    "acknowledge %s: %s", t->ui.ack_id, good ? "done" : msg);
		t->ui.message_bad = !good;
		free(msg);
		hx_http_resp_release(&r);
		if (good)
			fetch_alerts(t, h);
	}
	t->ui.message_until = now_ms() + 6000;
	free(path);
	free(text);
}

static void
fetch_detail(struct top *t)
{
	struct hx_http_resp r;
	char		   *err = NULL, *id, *path;

	if (t->ui.detail_id == NULL)
		return;
	id = hx_url_escape(t->ui.detail_id);
	path = xasprintf("/api/vms/%s", id);
	free(id);
	t->detail_at = now_ms();
	if (hx_http_request(&host_of_vm(t, t->ui.detail_id)->srv, &t->cred,
		"GET", path, NULL, REQUEST_TIMEOUT_MS, &r, &err) == 0) {
		if (r.status == 200) {
			json_decref(t->ui.detail);
			t->ui.detail = json_loads(r.body, 0, NULL);
		}
		hx_http_resp_release(&r);
	}
	free(err);
	free(path);
	t->dirty = 1;
}

static void
run_action(struct top *t)
{
	struct hx_http_resp r;
	char *err = NULL, *id = hx_url_escape(t->ui.action_vm), *path;

	path = xasprintf("/api/vms/%s/%s", id, t->ui.action);
	free(id);
	if (hx_http_request(&host_of_vm(t, t->ui.action_vm)->srv, &t->cred,
		"POST", path, NULL, REQUEST_TIMEOUT_MS, &r, &err) < 0) {
		snprintf(t->ui.message, sizeof(t->ui.message),
		    "%s %s failed: %s", t->ui.action, t->ui.action_vm, err);
		t->ui.message_bad = 1;
		free(err);
	} else {
		int   good = r.status >= 200 && r.status < 300;
		char *msg = good ? NULL : error_message(&r);

		snprintf(t->ui.message, sizeof(t->ui.message), "%s %s: %s",
		    t->ui.action, t->ui.action_vm, good ? "done" : msg);
		t->ui.message_bad = !good;
		free(msg);
		hx_http_resp_release(&r);
	}
	t->ui.message_until = now_ms() + 6000;
	free(path);
	t->ui.action = NULL;
}

/*
 * {"topics":[...]}: subscribe to top_topics. A daemon that said boot_id
 * in its welcome is asked for batched VM figures and, when we saw events
 * of that boot before, to resume after the last one ({"resume":{boot_id,
 * after}}: what happened while we were away, then live). Returns 0, or -1
 * with *err.
 */
static int
send_subscribe(struct host *h, char **err)
{
	json_t *msg = json_object(), *names = json_array();
	char   *text;
	size_t	i;
	int	rc;

	for (i = 0; i < HX_ARRAY_SIZE(top_topics); i++)
		json_array_append_new(names,
		    json_string(hx_topics[top_topics[i]].name));
	json_object_set_new(msg, "topics", names);
	if (h->resumable) {
		json_object_set_new(msg, "batch", json_true());
		if (h->m.resume_boot[0] != '\0' && h->m.seq > 0) {
			json_t *r = json_object();

			json_object_set_new(r, "boot_id",
			    json_string(h->m.resume_boot));
			json_object_set_new(r, "after", json_integer(h->m.seq));
			json_object_set_new(msg, "resume", r);
		}
	}
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (text == NULL) {
		*err = xstrdup("cannot encode the subscription");
		return -1;
	}
	rc = hx_ws_send(h->ws, text, strlen(text), err);
	free(text);
	return rc;
}

/*
 * The welcome Notification comes first: read it (CONNECT_TIMEOUT_MS at
 * most) into the model, so the subscription knows whether the daemon
 * speaks batch and resume. Returns 0, or -1 with *err.
 */
static int
read_welcome(struct host *h, char **err)
{
	int64_t end = now_ms() + CONNECT_TIMEOUT_MS;
	char   *msg;
	size_t	len;
	int	r;

	h->m.boot_id[0] = '\0';
	for (;;) {
		struct pollfd pfd = { .fd = hx_ws_fd(h->ws), .events = POLLIN };
		int64_t	      left = end - now_ms();

		if ((r = hx_ws_read(h->ws, &msg, &len, err)) < 0)
			return -1;
		if (r == 1)
			break;
		if (left <= 0) {
			*err = xstrdup("no welcome from the server");
			return -1;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			*err = xasprintf("poll: %s", strerror(errno));
			return -1;
		}
	}
	model_apply(&h->m, msg, len, now_ms());
	free(msg);
	h->resumable = h->m.boot_id[0] != '\0';
	/* Events of another boot cannot be resumed: start afresh. */
	if (!h->resumable || strcmp(h->m.boot_id, h->m.resume_boot) != 0) {
		hx_strlcpy(h->m.resume_boot, h->m.boot_id,
		    sizeof(h->m.resume_boot));
		h->m.seq = 0;
	}
	return 0;
}

/* The screen's line for each host from its state. */
static void
sync_lines(struct top *t)
{
	size_t	i;
	int64_t retry = 0;
	int	up = 0;

	for (i = 0; i < t->nhosts; i++) {
		struct top_host_line *l = &t->lines[i];

		l->connected = t->hosts[i].ws != NULL;
		up |= l->connected;
		if (!l->connected && (retry == 0 || l->retry_at < retry))
			retry = l->retry_at;
	}
	if (t->nhosts >= 2) {
		t->ui.connected = up;
		t->ui.retry_at = retry;
	} else {
		t->ui.connected = t->lines[0].connected;
		t->ui.retry_at = t->lines[0].retry_at;
	}
}

/*
 * Try to connect h once. Returns 0, or -1 with *err and *status (HTTP
 * status of a refused upgrade, else 0).
 */
static int
connect_once(struct top *t, struct host *h, int *status, char **err)
{
	*status = 0;
	h->ws = hx_ws_connect(&h->srv, &t->cred, CONNECT_TIMEOUT_MS, status,
	    err);
	if (h->ws == NULL)
		return -1;
	h->subscribed = 0;
	if (read_welcome(h, err) < 0 || send_subscribe(h, err) < 0) {
		hx_ws_close(h->ws);
		h->ws = NULL;
		return -1;
	}
	h->backoff_ms = 0;
	fetch_vm_list(t, h);
	if (!t->batch)
		fetch_history(t, h);
	fetch_alerts(t, h);
	sync_lines(t);
	t->dirty = 1;
	return 0;
}

static void
schedule_retry(struct top *t, struct host *h, const char *why)
{
	struct top_host_line *l = &t->lines[h - t->hosts];
	int64_t		      jitter;

	h->backoff_ms = h->backoff_ms == 0     ? BACKOFF_FIRST_MS :
	    h->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
						 h->backoff_ms * 2;
	/* ±20 % so a fleet of consoles does not reconnect in step. */
	jitter = (int64_t)((double)h->backoff_ms * 0.4 *
	    ((double)random() / RAND_MAX - 0.5));
	l->retry_at = now_ms() + h->backoff_ms + jitter;
	sync_lines(t);
	if (t->nhosts >= 2)
		snprintf(t->ui.message, sizeof(t->ui.message),
		    "%s: connection lost: %s", h->srv.display, why);
	else
		snprintf(t->ui.message, sizeof(t->ui.message),
		    "connection lost: %s", why);
	t->ui.message_bad = 1;
	t->ui.message_until = l->retry_at + 1000;
	t->dirty = 1;
	if (t->batch && t->nhosts >= 2)
		fprintf(stderr, "horcrux-top: %s: %s; reconnecting\n",
		    h->srv.display, why);
	else if (t->batch)
		fprintf(stderr, "horcrux-top: %s; reconnecting\n", why);
}

/* A host's news on the merged view's note line, named by its host. */
static void
merge_note(struct top *t, struct host *h)
{
	struct top_host_line *l = &t->lines[h - t->hosts];
	struct hx_buf	      b;

	hx_buf_init(&b, 0);
	hx_buf_addf(&b, "%s: %s",
	    l->m->has_node && l->m->node.hostname[0] ? l->m->node.hostname :
						       l->server,
	    h->m.note);
	hx_strlcpy(t->view.note, b.data, sizeof(t->view.note));
	hx_buf_release(&b);
	t->view.note_level = h->m.note_level;
	t->view.note_until = h->m.note_until;
	if (h->m.user[0] != '\0')
		hx_strlcpy(t->view.user, h->m.user, sizeof(t->view.user));
}

/*
 * Read everything h's socket has. Returns 1 when an update arrived: a
 * NodeMetrics, or VM figures for an account that may not see the host.
 */
static int
read_ws(struct top *t, struct host *h)
{
	char  *msg, *err = NULL;
	size_t len;
	int    r, node = 0;

	while ((r = hx_ws_read(h->ws, &msg, &len, &err)) == 1) {
		int ch;

		/* Paused: metrics wait; status and notes still count. */
		h->m.hold_metrics = t->ui.paused && !t->batch;
		ch = model_apply(&h->m, msg, len, now_ms());
		free(msg);
		if (ch & TOP_CH_SUBSCRIBED)
			h->subscribed = 1;
		if ((ch & TOP_CH_NODE) || (h->m.no_node && (ch & TOP_CH_VMS)))
			node = 1;
		if ((ch & TOP_CH_NOTE) && t->nhosts >= 2)
			merge_note(t, h);
		if (ch != 0)
			t->dirty = 1;
	}
	if (r < 0) {
		hx_ws_close(h->ws);
		h->ws = NULL;
		schedule_retry(t, h, err);
		free(err);
	}
	return node;
}

/* With several hosts, the screen's picture is the merge of theirs. */
static void
merge_view(struct top *t)
{
	struct top_model *src[64];
	size_t		  i;
	int		  has_node = 0;

	for (i = 0; i < t->nhosts; i++)
		has_node |= t->hosts[i].m.has_node;
	if (t->nhosts < 2)
		return;
	for (i = 0; i < t->nhosts && i < HX_ARRAY_SIZE(src); i++)
		src[i] = &t->hosts[i].m;
	model_merge(&t->view, src, i);
	/* The first frame waits for host figures as with one host. */
	t->view.has_node = 0;
	t->view.no_node = !has_node;
}

static void
draw(struct top *t, int64_t now)
{
	size_t i;

	merge_view(t);
	sync_lines(t);
	t->drew_node = 0;
	for (i = 0; i < t->nhosts; i++)
		t->drew_node |= t->hosts[i].m.has_node;
	screen_draw(&t->ui, now);
	t->last_draw = now;
	t->dirty = 0;
}

/* Batch mode: print on each NodeMetrics, at most every delay. */
static int
batch_update(struct top *t, int64_t now)
{
	size_t i;

	/* 10 % slack: a 1 s sampler is not exactly 1000 ms apart. */
	if (t->last_draw != 0 && now - t->last_draw < t->delay_ms * 9 / 10)
		return 0;
	for (i = 0; i < t->nhosts; i++) {
		const struct host *h = &t->hosts[i];
		const char *server = t->nhosts >= 2 ? h->srv.display : NULL;

		if (t->json)
			batch_print_json(&h->m, server, h->ws != NULL, stdout);
		else
			batch_print_text(&h->m, server, h->ws != NULL, stdout);
	}
	t->last_draw = now;
	t->updates++;
	return t->iterations > 0 && t->updates >= t->iterations;
}

/* Whether any host has what the first frame waits for. */
static int
any_subscribed(const struct top *t)
{
	size_t i;

	for (i = 0; i < t->nhosts; i++)
		if (t->hosts[i].subscribed)
			return 1;
	return 0;
}

static int
any_node(const struct top *t)
{
	size_t i;

	for (i = 0; i < t->nhosts; i++)
		if (t->hosts[i].m.has_node)
			return 1;
	return 0;
}

/* Reconnect each host whose time came. Exits on a refused single host. */
static void
reconnect_due(struct top *t, int64_t now)
{
	size_t i;

	for (i = 0; i < t->nhosts; i++) {
		struct host *h = &t->hosts[i];
		int	     status;
		char	    *err = NULL;

		if (h->ws != NULL || h->refused || now < t->lines[i].retry_at)
			continue;
		if (connect_once(t, h, &status, &err) < 0) {
			if ((status == 401 || status == 403) && t->nhosts == 1)
				die_refused(status, err);
			if (status == 401 || status == 403) {
				h->refused = 1;
				t->lines[i].refused = 1;
				say(t, 1, "%s: not authorized: %s",
				    h->srv.display, err);
			} else
				schedule_retry(t, h, err);
			free(err);
		}
	}
}

static int
loop(struct top *t)
{
	struct pollfd *pfd = xcalloc(t->nhosts + 1, sizeof(*pfd));
	struct host  **who = xcalloc(t->nhosts + 1, sizeof(*who));
	int	       rc = 0;

	for (;;) {
		int64_t now = now_ms(), wake = now + 1000, next;
		int	nfd = 0, timeout, i, key, flags = 0;
		size_t	k;

		if (got_signal)
			goto out;
		reconnect_due(t, now);
		now = now_ms();
		for (k = 0; k < t->nhosts; k++)
			if (t->hosts[k].ws == NULL && !t->hosts[k].refused &&
			    t->lines[k].retry_at < wake)
				wake = t->lines[k].retry_at;
		/*
		 * Until the answer to our subscription (the snapshot follows it
		 * in the same burst) there is nothing worth drawing; give it
		 * 300 ms, then draw what there is.
		 */
		if (!t->batch && !t->drew_node && !any_subscribed(t) &&
		    now - t->started < 300) {
			if (t->started + 300 < wake)
				wake = t->started + 300;
		} else if (!t->batch && t->dirty) {
			/* The throttle never delays the first host figures. */
			if (now - t->last_draw >= t->delay_ms ||
			    (any_node(t) && !t->drew_node)) {
				draw(t, now);
				continue;
			}
			if (t->last_draw + t->delay_ms < wake)
				wake = t->last_draw + t->delay_ms;
		}
		if (!t->batch &&
		    (next = screen_next_change(&t->ui, now)) != 0 &&
		    next < wake)
			wake = next + 1;
		if (t->batch && wake < now + 60000) {
			int idle = 1;

			for (k = 0; k < t->nhosts; k++)
				idle &= t->hosts[k].ws != NULL ||
				    t->hosts[k].refused;
			if (idle)
				wake = now + 60000;
		}

		if (!t->batch) {
			pfd[nfd].fd = STDIN_FILENO;
			who[nfd] = NULL;
			pfd[nfd++].events = POLLIN;
		}
		for (k = 0; k < t->nhosts; k++) {
			if (t->hosts[k].ws == NULL)
				continue;
			pfd[nfd].fd = hx_ws_fd(t->hosts[k].ws);
			who[nfd] = &t->hosts[k];
			pfd[nfd++].events = POLLIN;
		}
		timeout = wake > now ? (int)(wake - now) : 0;
		if (poll(pfd, (nfds_t)nfd, timeout) < 0 && errno != EINTR)
			die(1, "poll: %s", strerror(errno));
		if (got_signal)
			goto out;
		now = now_ms();
		for (i = 0; i < nfd; i++) {
			if (who[i] == NULL) {
				/* A dead tty: leave now, never spin on it. */
				if (pfd[i].revents &
				    (POLLHUP | POLLERR | POLLNVAL))
					goto out;
			} else if (pfd[i].revents != 0 && who[i]->ws != NULL) {
				int node = read_ws(t, who[i]);

				if (t->batch && node && batch_update(t, now))
					goto out;
			}
		}
		for (k = 0; k < t->nhosts; k++)
			if (t->hosts[k].m.need_vm_list &&
			    t->hosts[k].ws != NULL)
				fetch_vm_list(t, &t->hosts[k]);
		if (t->batch)
			continue;
		if (t->ui.view == VIEW_DETAIL && t->ui.connected &&
		    now - t->detail_at >= 2000)
			fetch_detail(t);
		if (t->ui.view == VIEW_GRAPH && t->ui.connected &&
		    now - t->ui.graph.fetched_mono_ms >=
			top_ranges[t->ui.graph.range].refresh_ms)
			fetch_graph(t);
		while ((key = getch()) != ERR)
			flags |= keys_handle(&t->ui, key);
		if (flags & KEY_R_QUIT)
			goto out;
		if (flags & KEY_R_ACTION) {
			run_action(t);
			if (t->ui.view == VIEW_DETAIL)
				fetch_detail(t);
		}
		if (flags & KEY_R_GRAPH)
			fetch_graph(t);
		if (flags & KEY_R_ACK)
			run_ack(t);
		if (flags & KEY_R_DETAIL) {
			json_decref(t->ui.detail);
			t->ui.detail = NULL;
			fetch_detail(t);
		}
		if (flags & KEY_R_REPAINT)
			clearok(curscr, TRUE);
		if (flags != 0)
			draw(t, now_ms());
		else if (t->ui.retry_at > now ||
		    screen_next_change(&t->ui, now) ||
		    now - t->last_draw >= 1000)
			t->dirty = 1; /* countdowns, flashes, data age */
	}
out:
	free(pfd);
	free(who);
	return rc;
}

/*
 * The servers to watch: every -c, else $HORCRUX_SERVER, else
 * client.conf's `servers` (a comma-separated list), else the one server
 * hx_client_conf_load resolved. Fills t->hosts; exits 2 on a bad one.
 */
static void
setup_hosts(struct top *t, const struct hx_config *cfg)
{
	const struct hx_opt_value *c = hx_config_get(cfg, "connect");
	char			 **names = NULL, *err = NULL;
	size_t			   n = 0, i;

	if (c != NULL && c->nlist > 0) {
		names = xcalloc(c->nlist, sizeof(*names));
		for (i = 0; i < c->nlist; i++)
			names[n++] = xstrdup(c->list[i]);
	} else if (t->conf.servers != NULL && t->conf.nservers > 0 &&
	    t->conf.server_from == HX_SERVER_FROM_CONF) {
		names = xcalloc(t->conf.nservers, sizeof(*names));
		for (i = 0; i < t->conf.nservers; i++)
			names[n++] = xstrdup(t->conf.servers[i]);
	} else {
		names = xcalloc(1, sizeof(*names));
		names[n++] = xstrdup(t->conf.server);
	}
	if (n > 64)
		die(2, "too many servers (%zu): 64 at most", n);
	t->nhosts = n;
	t->hosts = xcalloc(n, sizeof(*t->hosts));
	t->lines = xcalloc(n, sizeof(*t->lines));
	for (i = 0; i < n; i++) {
		struct host *h = &t->hosts[i];

		if (hx_server_parse(names[i], &h->srv, &err) < 0)
			die(t->conf.server != NULL ? 2 : 1, "%s", err);
		model_init(&h->m);
		t->lines[i].server = h->srv.display;
		t->lines[i].m = &h->m;
		free(names[i]);
	}
	free(names);
}

/*
 * The first connection to every host. With one host a failure is fatal
 * as it always was; with several, only when none connects (each one's
 * reason said), and the others are retried from the loop.
 */
static void
first_connect(struct top *t)
{
	struct hx_buf why;
	size_t	      i, up = 0, refused = 0;
	int	      refused_status = 0;

	hx_buf_init(&why, 0);
	for (i = 0; i < t->nhosts; i++) {
		struct host *h = &t->hosts[i];
		int	     status;
		char	    *err = NULL;

		if (connect_once(t, h, &status, &err) == 0) {
			up++;
			continue;
		}
		if (t->nhosts == 1) {
			if (status == 401 || status == 403)
				die_refused(status, err);
			die(1, "%s", err);
		}
		hx_buf_addf(&why, "%s%s: %s", why.len ? "; " : "",
		    h->srv.display, err);
		if (status == 401 || status == 403) {
			h->refused = 1;
			t->lines[i].refused = 1;
			refused++;
			refused_status = status;
		} else
			schedule_retry(t, h, err);
		free(err);
	}
	/* Every host refused the credentials: exit as one host would. */
	if (up == 0 && refused == t->nhosts)
		die(code_for_status(refused_status),
		    "not authorized on any server: %s; log in again "
		    "(horcrux-cli login) or set HORCRUX_API_KEY",
		    why.data);
	if (up == 0)
		die(1, "cannot reach any server: %s", why.data);
	if (why.len > 0)
		say(t, 1, "%s", why.data);
	hx_buf_release(&why);
}

int
main(int argc, char **argv)
{
	struct hx_config cfg;
	struct top	 t;
	struct sigaction sa;
	char		*err = NULL;
	int		 ascii;
	size_t		 i;

	setlocale(LC_ALL, "");
	memset(&t, 0, sizeof(t));
	hx_config_init(&cfg, options_table, HX_ARRAY_SIZE(options_table));
	if (hx_config_parse_args(&cfg, argc, argv, &err) != 0) {
		fprintf(stderr, "horcrux-top: %s\nTry 'horcrux-top --help'.\n",
		    err);
		exit(2);
	}
	if (hx_config_int(&cfg, "help")) {
		hx_config_usage(options_table, HX_ARRAY_SIZE(options_table),
		    "horcrux-top", "[options]", stdout);
		printf(
		    "\nKeys: q quit, h help, g graph (inside). Credentials come "
		    "from "
		    "$HORCRUX_API_KEY,\n$HORCRUX_TOKEN or client.conf, never "
		    "from the command line.\n"
		    "Several hosts: -c A -c B, or `servers = A, B` in "
		    "client.conf.\n");
		exit(0);
	}
	if (hx_config_int(&cfg, "version")) {
		printf("horcrux-top %s\n", HX_VERSION);
		exit(0);
	}
	if (hx_config_int(&cfg, "dump_options")) {
		hx_config_dump(options_table, HX_ARRAY_SIZE(options_table),
		    stdout);
		exit(0);
	}
	if (hx_config_int(&cfg, "dump_keys")) {
		keys_dump(stdout);
		exit(0);
	}
	t.json = (int)hx_config_int(&cfg, "json");
	t.batch = (int)hx_config_int(&cfg, "batch") || t.json;
	t.iterations = hx_config_int(&cfg, "iterations");
	t.delay_ms = (int64_t)(hx_config_seconds(&cfg, "delay") * 1000);
	ascii = (int)hx_config_int(&cfg, "ascii") ||
	    strcmp(nl_langinfo(CODESET), "UTF-8") != 0;
	if (hx_client_conf_load(&t.conf, hx_config_str(&cfg, "connect"),
		hx_config_str(&cfg, "api_key_file"), &err) < 0)
		die(1, "%s", err);
	setup_hosts(&t, &cfg);
	model_init(&t.view);
	t.view.spark_step_ms = hx_config_int(&cfg, "spark_step") * 1000;
	for (i = 0; i < t.nhosts; i++)
		t.hosts[i].m.spark_step_ms = t.view.spark_step_ms;
	t.cred.api_key = t.conf.api_key;
	t.cred.token = t.conf.token;
	if (!t.batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
		die(2, "the screen needs a terminal; use -b for batch output");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	srandom((unsigned)(hx_mono_ns() ^ (uint64_t)getpid()));

	if (t.nhosts >= 2) {
		t.ui.m = &t.view;
		t.ui.hosts = t.lines;
		t.ui.nhosts = t.nhosts;
	} else
		t.ui.m = &t.hosts[0].m;
	t.ui.sort = COL_CPU;
	hx_strlcpy(t.ui.server, t.hosts[0].srv.display, sizeof(t.ui.server));

	/* Nothing to show without a first connection: say why and stop. */
	t.started = now_ms();
	first_connect(&t);
	if (!t.batch) {
		screen_init(&t.ui, (int)hx_config_int(&cfg, "no_color"), ascii);
		t.curses = 1;
	}
	loop(&t);
	if (t.curses)
		screen_end();
	if (got_signal && got_signal != SIGINT && !t.batch)
		fprintf(stderr, "horcrux-top: %s\n", strsignal(got_signal));
	for (i = 0; i < t.nhosts; i++) {
		hx_ws_close(t.hosts[i].ws);
		model_release(&t.hosts[i].m);
		hx_server_release(&t.hosts[i].srv);
	}
	free(t.hosts);
	free(t.lines);
	screen_ui_release(&t.ui);
	model_release(&t.view);
	hx_client_conf_release(&t.conf);
	hx_config_release(&cfg);
	return 0;
}
