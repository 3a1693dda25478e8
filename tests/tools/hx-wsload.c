/*
 * hx-wsload.c - WebSocket fan-out load generator for horcruxd benchmarks.
 *
 * Opens --clients N connections to one URL (a few at a time, so a thousand
 * work without overflowing the server's accept queue), sends one message on
 * each (default: subscribe to node:metrics), waits until every connection has
 * been tried and each open one has had its first --type frame (at most
 * 10 s), then measures for --duration seconds. For every frame of
 * --type it computes latency = arrival wall time - data.timestamp, and at the
 * end prints one JSON line:
 *
 *	{"clients":N,"connected":C,"failed":F,"closed":X,"connect_ms":..,
 *	 "settle_ms":..,"seconds":..,"frames":..,"frames_per_s":..,
 *	 "min_frames_per_client":..,"latency_ms":{"samples":..,"p50":..,
 *	 "p99":..,"max":..,"min":..,"mean":..}}
 *
 * "frames" and the latencies count only the measurement window. The first
 * --type frame of each connection never counts as a latency sample (it
 * normally arrives while settling anyway): the daemon replays its last
 * snapshot right after Subscribed (DESIGN.md 3.4), and that frame's
 * timestamp is up to one interval old by design.
 *
 * Arrival times are taken when lws hands a complete message over; parsing
 * (jansson) waits until no frame has arrived for 20 ms, so a thousand
 * frames arriving together do not wait behind each other's parsing and
 * inflate the tail of the distribution. What remains of the tool's own cost
 * (lws 4.1's client copies payload byte by byte: about 10 us per 600-byte
 * frame here) is still inside the figures: they are an upper bound.
 *
 * Exit 0 when every client connected, none was closed by the server and each
 * received at least one --type frame; 1 otherwise; 2 on a usage error.
 * It does not reconnect, retry or authenticate beyond --header: it measures.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "hx-proto.h"
#include "hx-util.h"

#define WSL_RX_CAP (4 * 1024 * 1024)
#define WSL_KICK_US (5 * 1000) /* connect pacing tick */
#define WSL_HDR_BUF 16384
#define WSL_DRAIN_US (20 * 1000) /* quiet time before parsing */
#define WSL_SETTLE_NS (10ULL * 1000000000) /* longest settle phase */

enum wsl_state {
	WSL_IDLE,
	WSL_CONNECTING,
	WSL_OPEN,
	WSL_FAILED,
	WSL_CLOSED,
};

enum wsl_phase {
	WSL_PHASE_CONNECT,
	WSL_PHASE_SETTLE,
	WSL_PHASE_MEASURE,
	WSL_PHASE_DONE,
};

struct wsl_client {
	struct lws    *wsi;
	enum wsl_state state;
	int	       sent;
	struct hx_buf  rx; /* message being received */
	int	       rx_overflow;
	struct hx_buf  ready; /* complete, waiting to be parsed */
	double	       ready_t; /* its arrival, epoch ms */
	int	       ready_window; /* it arrived inside the window */
	int	       pending; /* on the pending list */
	unsigned long  typed; /* --type frames, whole run */
	unsigned long  window; /* --type frames, in the window */
};

struct wsl {
	/* Options. */
	const char  *address;
	int	     port;
	char	    *host;
	char	    *path;
	const char  *origin;
	const char  *send;
	const char  *type;
	const char **headers;
	size_t	     nheaders;
	int	     nclients;
	int	     batch;
	int	     duration;
	int	     connect_timeout;
	int	     deflate;
	int	     verbose;

	struct lws_context *ctx;
	struct wsl_client  *clients;
	int		    next; /* next client to connect */
	int		    inflight;
	int		    connected;
	int		    failed;
	int		    closed;
	int		    settled; /* clients with a --type frame */
	enum wsl_phase	    phase;
	uint64_t	    start_ns;
	uint64_t	    settle_ns; /* everyone connected (or gave up) */
	uint64_t	    window_ns; /* start of the measurement window */
	uint64_t	    end_ns;

	int *pending; /* clients with a ready frame */
	int  npending;

	double *lat; /* latencies in the window, ms */
	size_t	nlat;
	size_t	alloclat;

	lws_sorted_usec_list_t sul_kick;
	lws_sorted_usec_list_t sul_drain;
	lws_sorted_usec_list_t sul_end;
};

static struct wsl wsl;

static void wsl_usage(void) __attribute__((noreturn));

static void
wsl_usage(void)
{
	fprintf(stderr,
	    "usage: hx-wsload --url URL [--clients N] "
	    "[--duration SECS] [--send JSON] [--type TYPE] [--batch N] "
	    "[--connect-timeout SECS] [--deflate] [--header 'Name: value']... "
	    "[--origin ORIGIN] [--verbose]\n"
	    "  URL: ws://HOST:PORT/PATH or unix:/path/to/sock (path /api/ws)\n");
	exit(2);
}

static void wsl_die(const char *fmt, ...) HX_PRINTF(1, 2)
    __attribute__((noreturn));

static void
wsl_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hx-wsload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
wsl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
wsl_add_latency(double ms)
{
	if (wsl.nlat == wsl.alloclat) {
		wsl.alloclat = wsl.alloclat == 0 ? 4096 : wsl.alloclat * 2;
		wsl.lat = xrealloc(wsl.lat, wsl.alloclat * sizeof *wsl.lat);
	}
	wsl.lat[wsl.nlat++] = ms;
}

/* Account for the ready frame of client c. */
static void
wsl_process(struct wsl_client *c)
{
	json_t *frame, *type, *data, *ts;
	double	sent;

	c->pending = 0;
	frame = json_loadb(c->ready.data, c->ready.len, 0, NULL);
	if (frame == NULL)
		return;
	type = json_object_get(frame, "type");
	if (!json_is_string(type) ||
	    strcmp(json_string_value(type), wsl.type) != 0) {
		json_decref(frame);
		return;
	}
	if (c->typed++ == 0)
		wsl.settled++;
	if (c->ready_window) {
		c->window++;
		data = json_object_get(frame, "data");
		ts = json_object_get(data, "timestamp");
		/* The first one may be the replayed snapshot: skip it. */
		if (c->typed > 1 && json_is_string(ts) &&
		    (sent = (double)hx_parse_rfc3339_ms(
			 json_string_value(ts))) >= 0)
			wsl_add_latency(c->ready_t - sent);
	}
	json_decref(frame);
}

static void
wsl_drain(lws_sorted_usec_list_t *sul)
{
	int i;

	for (i = 0; i < wsl.npending; i++) {
		if (wsl.clients[wsl.pending[i]].pending)
			wsl_process(&wsl.clients[wsl.pending[i]]);
	}
	wsl.npending = 0;
}

/* A whole message has arrived on client c. */
static void
wsl_complete(struct wsl_client *c, double t)
{
	struct hx_buf tmp;
	int	      listed = c->pending;

	/* A second frame before the drain: account the first now. */
	if (c->pending)
		wsl_process(c);
	tmp = c->ready;
	c->ready = c->rx;
	c->rx = tmp;
	hx_buf_reset(&c->rx);
	c->ready_t = t;
	c->ready_window = wsl.phase == WSL_PHASE_MEASURE;
	c->pending = 1;
	if (listed)
		return;
	wsl.pending[wsl.npending++] = (int)(c - wsl.clients);
	/* Parse once the burst is over: WSL_DRAIN_US after the last frame. */
	lws_sul_schedule(wsl.ctx, 0, &wsl.sul_drain, wsl_drain, WSL_DRAIN_US);
}

static void
wsl_end(lws_sorted_usec_list_t *sul)
{
	wsl.end_ns = hx_mono_ns();
	wsl.phase = WSL_PHASE_DONE;
	lws_cancel_service(wsl.ctx);
}

static void
wsl_start_window(void)
{
	wsl.phase = WSL_PHASE_MEASURE;
	wsl.window_ns = hx_mono_ns();
	if (wsl.verbose)
		fprintf(stderr,
		    "hx-wsload: %d connected, %d failed in %.0f ms,"
		    " %d with a %s after %.0f ms more; measuring for %d s\n",
		    wsl.connected, wsl.failed,
		    (double)(wsl.settle_ns - wsl.start_ns) / 1e6, wsl.settled,
		    wsl.type, (double)(wsl.window_ns - wsl.settle_ns) / 1e6,
		    wsl.duration);
	/* Nobody to measure: report at once. */
	lws_sul_schedule(wsl.ctx, 0, &wsl.sul_end, wsl_end,
	    wsl.connected == 0 ? 1 : (lws_usec_t)wsl.duration * LWS_US_PER_SEC);
}

/* Count client c as failed; why (len bytes, or a C string if 0) says why. */
static void
wsl_fail(struct wsl_client *c, const char *why, size_t len)
{
	if (c->state == WSL_CONNECTING)
		wsl.inflight--;
	c->state = WSL_FAILED;
	c->wsi = NULL;
	wsl.failed++;
	if (wsl.verbose)
		fprintf(stderr, "hx-wsload: client %d: %.*s\n",
		    (int)(c - wsl.clients), (int)(len != 0 ? len : strlen(why)),
		    why);
}

/* Start connections while the window allows; then open the measurement. */
static void
wsl_kick(lws_sorted_usec_list_t *sul)
{
	struct lws_client_connect_info ci;
	struct wsl_client	      *c;

	if (wsl.phase == WSL_PHASE_SETTLE) {
		/*
		 * Measure the steady state: wait until every open client has
		 * had its first --type frame, so the window does not start
		 * while the daemon still answers a thousand subscriptions.
		 */
		if (wsl.settled >= wsl.connected - wsl.closed ||
		    hx_mono_ns() - wsl.settle_ns > WSL_SETTLE_NS)
			wsl_start_window();
		else
			lws_sul_schedule(wsl.ctx, 0, &wsl.sul_kick, wsl_kick,
			    WSL_KICK_US);
		return;
	}
	if (wsl.phase != WSL_PHASE_CONNECT)
		return;
	while (wsl.inflight < wsl.batch && wsl.next < wsl.nclients) {
		c = &wsl.clients[wsl.next++];
		memset(&ci, 0, sizeof ci);
		ci.context = wsl.ctx;
		ci.address = wsl.address;
		ci.port = wsl.port;
		ci.path = wsl.path;
		ci.host = wsl.host;
		/* lws writes "Origin: http://" + this: hand it the host. */
		ci.origin = wsl.origin;
		if (ci.origin != NULL && strncmp(ci.origin, "http://", 7) == 0)
			ci.origin += 7;
		ci.local_protocol_name = "hx-wsload";
		ci.userdata = c;
		ci.pwsi = &c->wsi;
		c->state = WSL_CONNECTING;
		wsl.inflight++;
		if (lws_client_connect_via_info(&ci) == NULL &&
		    c->state == WSL_CONNECTING)
			wsl_fail(c, "cannot connect", 0);
	}
	if (wsl.next == wsl.nclients && wsl.inflight == 0) {
		wsl.settle_ns = hx_mono_ns();
		if (wsl.send == NULL) {
			wsl_start_window();
			return;
		}
		wsl.phase = WSL_PHASE_SETTLE;
		lws_sul_schedule(wsl.ctx, 0, &wsl.sul_kick, wsl_kick,
		    WSL_KICK_US);
		return;
	}
	if (hx_mono_ns() - wsl.start_ns >
	    (uint64_t)wsl.connect_timeout * 1000000000ULL) {
		/* Give up on the stragglers; they still count as failed. */
		wsl.settle_ns = hx_mono_ns();
		wsl_start_window();
		return;
	}
	lws_sul_schedule(wsl.ctx, 0, &wsl.sul_kick, wsl_kick, WSL_KICK_US);
}

static int
wsl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct wsl_client *c = user;
	unsigned char	  *buf;
	char		 **p, *end;
	size_t		   i, hl, n;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		p = in;
		end = *p + len;
		for (i = 0; i < wsl.nheaders; i++) {
			hl = strlen(wsl.headers[i]);
			if ((size_t)(end - *p) < hl + 3)
				return -1;
			memcpy(*p, wsl.headers[i], hl);
			*p += hl;
			*(*p)++ = '\r';
			*(*p)++ = '\n';
		}
		break;

	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c != NULL && c->state == WSL_CONNECTING)
			wsl_fail(c, in != NULL ? in : "connection error", len);
		break;

	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (c == NULL)
			break;
		if (c->state == WSL_CONNECTING)
			wsl.inflight--;
		c->state = WSL_OPEN;
		wsl.connected++;
		if (wsl.send != NULL)
			lws_callback_on_writable(wsi);
		break;

	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c == NULL || c->sent || wsl.send == NULL)
			break;
		n = strlen(wsl.send);
		buf = xmalloc(LWS_PRE + n);
		memcpy(buf + LWS_PRE, wsl.send, n);
		if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n) {
			free(buf);
			return -1;
		}
		free(buf);
		c->sent = 1;
		break;

	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c == NULL)
			break;
		if (lws_is_first_fragment(wsi)) {
			hx_buf_reset(&c->rx);
			c->rx_overflow = 0;
		}
		if (hx_buf_add(&c->rx, in, len) != 0)
			c->rx_overflow = 1;
		if (!lws_is_final_fragment(wsi) ||
		    lws_remaining_packet_payload(wsi) != 0)
			break;
		if (c->rx_overflow) {
			hx_buf_reset(&c->rx);
			break;
		}
		wsl_complete(c, wsl_now_ms());
		break;

	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c == NULL)
			break;
		c->wsi = NULL;
		if (c->state == WSL_OPEN && wsl.phase != WSL_PHASE_DONE) {
			c->state = WSL_CLOSED;
			wsl.closed++;
			if (wsl.verbose)
				fprintf(stderr,
				    "hx-wsload: client %d closed "
				    "by the server\n",
				    (int)(c - wsl.clients));
		}
		break;

	default:
		break;
	}
	return 0;
}

static const struct lws_protocols wsl_protocols[] = {
	{ "hx-wsload", wsl_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static const struct lws_extension wsl_deflate[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	    "permessage-deflate; client_max_window_bits" },
	{ NULL, NULL, NULL }
};

static void
wsl_parse_url(const char *url)
{
	const char *rest, *slash, *colon;
	char	   *hostport;
	long long   port;

	if (strncmp(url, "unix:", 5) == 0) {
		if (url[5] != '/')
			wsl_usage();
		/* lws 4.1 connects to a Unix socket when address is "+path". */
		wsl.address = xasprintf("+%s", url + 5);
		wsl.host = xstrdup("localhost");
		wsl.path = xstrdup("/api/ws");
		return;
	}
	if (strncmp(url, "ws://", 5) != 0)
		wsl_usage();
	rest = url + 5;
	slash = strchr(rest, '/');
	hostport = slash != NULL ? xstrndup(rest, slash - rest) : xstrdup(rest);
	wsl.path = xstrdup(slash != NULL ? slash : "/");
	if ((colon = strrchr(hostport, ':')) == NULL || colon == hostport ||
	    hx_parse_ll(colon + 1, 1, 65535, &port) != 0)
		wsl_usage();
	wsl.address = xstrndup(hostport, colon - hostport);
	wsl.port = (int)port;
	wsl.host = hostport;
}

static int
wsl_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted latencies. */
static double
wsl_percentile(double pct)
{
	size_t rank;

	rank = (size_t)ceil(pct / 100.0 * (double)wsl.nlat);
	if (rank < 1)
		rank = 1;
	return wsl.lat[rank - 1];
}

static json_t *
wsl_ms(double ms)
{
	/* Three decimals are all the timestamps can carry. */
	return json_real(round(ms * 1000.0) / 1000.0);
}

static int
wsl_report(void)
{
	json_t	     *out, *lat;
	double	      secs, sum = 0;
	unsigned long frames = 0, minf = 0;
	int	      i, starved = 0;
	size_t	      j;
	char	     *s;

	for (i = 0; i < wsl.nclients; i++) {
		frames += wsl.clients[i].window;
		if (i == 0 || wsl.clients[i].window < minf)
			minf = wsl.clients[i].window;
		if (wsl.clients[i].typed == 0)
			starved++;
	}
	secs = (double)(wsl.end_ns - wsl.window_ns) / 1e9;

	if (wsl.nlat == 0)
		lat = json_pack("{s:i,s:n,s:n,s:n,s:n,s:n}", "samples", 0,
		    "p50", "p99", "max", "min", "mean");
	else {
		qsort(wsl.lat, wsl.nlat, sizeof *wsl.lat, wsl_cmp_double);
		for (j = 0; j < wsl.nlat; j++)
			sum += wsl.lat[j];
		lat = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "samples",
		    (json_int_t)wsl.nlat, "p50", wsl_ms(wsl_percentile(50)),
		    "p99", wsl_ms(wsl_percentile(99)), "max",
		    wsl_ms(wsl.lat[wsl.nlat - 1]), "min", wsl_ms(wsl.lat[0]),
		    "mean", wsl_ms(sum / (double)wsl.nlat));
	}
	out = json_pack("{s:i,s:i,s:i,s:i,s:I,s:I,s:o,s:I,s:o,s:I,s:o}",
	    "clients", wsl.nclients, "connected", wsl.connected, "failed",
	    wsl.failed, "closed", wsl.closed, "connect_ms",
	    (json_int_t)((wsl.settle_ns - wsl.start_ns) / 1000000), "settle_ms",
	    (json_int_t)((wsl.window_ns - wsl.settle_ns) / 1000000), "seconds",
	    wsl_ms(secs), "frames", (json_int_t)frames, "frames_per_s",
	    wsl_ms(secs > 0 ? (double)frames / secs : 0),
	    "min_frames_per_client", (json_int_t)minf, "latency_ms", lat);
	if (out == NULL ||
	    (s = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(15))) ==
		NULL)
		wsl_die("cannot encode the summary");
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(out);

	if (wsl.verbose && starved != 0)
		fprintf(stderr, "hx-wsload: %d clients got no %s\n", starved,
		    wsl.type);
	return wsl.connected == wsl.nclients && wsl.closed == 0 &&
		starved == 0 ?
	    0 :
	    1;
}

static int
wsl_parse_int(const char *s, long long min, long long max)
{
	long long n;

	if (hx_parse_ll(s, min, max, &n) != 0)
		wsl_usage();
	return (int)n;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { { "url", required_argument,
						      NULL, 'u' },
		{ "clients", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'D' },
		{ "send", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 'T' },
		{ "batch", required_argument, NULL, 'b' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "deflate", no_argument, NULL, 'd' },
		{ "header", required_argument, NULL, 'H' },
		{ "origin", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, '?' }, { NULL, 0, NULL, 0 } };
	struct lws_context_creation_info info;
	struct rlimit			 rl;
	const char			*url = NULL;
	int				 ch, i, rc;

	wsl.nclients = 1;
	wsl.duration = 10;
	wsl.batch = 32;
	wsl.connect_timeout = 60;
	wsl.send = "{\"topics\":[\"node:metrics\"]}";
	wsl.type = "NodeMetrics";

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 'c':
			wsl.nclients = wsl_parse_int(optarg, 1, 100000);
			break;
		case 'D':
			wsl.duration = wsl_parse_int(optarg, 1, 86400);
			break;
		case 's':
			wsl.send = *optarg != '\0' ? optarg : NULL;
			break;
		case 'T':
			wsl.type = optarg;
			break;
		case 'b':
			wsl.batch = wsl_parse_int(optarg, 1, 10000);
			break;
		case 'C':
			wsl.connect_timeout = wsl_parse_int(optarg, 1, 3600);
			break;
		case 'd':
			wsl.deflate = 1;
			break;
		case 'H':
			if (strchr(optarg, ':') == NULL ||
			    strpbrk(optarg, "\r\n") != NULL)
				wsl_usage();
			wsl.headers = xrealloc(wsl.headers,
			    (wsl.nheaders + 1) * sizeof *wsl.headers);
			wsl.headers[wsl.nheaders++] = optarg;
			break;
		case 'o':
			wsl.origin = optarg;
			break;
		case 'v':
			wsl.verbose = 1;
			break;
		default:
			wsl_usage();
		}
	}
	if (optind != argc || url == NULL)
		wsl_usage();
	wsl_parse_url(url);

	/* A thousand sockets need more than the usual soft limit of 1024. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			fprintf(stderr,
			    "hx-wsload: cannot raise the file "
			    "limit: %s\n",
			    strerror(errno));
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)wsl.nclients + 64)
		wsl_die("%d clients need %d descriptors, the limit is %llu",
		    wsl.nclients, wsl.nclients + 64,
		    (unsigned long long)rl.rlim_cur);

	wsl.clients = xcalloc((size_t)wsl.nclients, sizeof *wsl.clients);
	for (i = 0; i < wsl.nclients; i++) {
		hx_buf_init(&wsl.clients[i].rx, WSL_RX_CAP);
		hx_buf_init(&wsl.clients[i].ready, WSL_RX_CAP);
	}
	wsl.pending = xcalloc((size_t)wsl.nclients, sizeof *wsl.pending);

	lws_set_log_level(wsl.verbose ? LLL_ERR | LLL_WARN : LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = wsl_protocols;
	info.extensions = wsl.deflate ? wsl_deflate : NULL;
	info.pt_serv_buf_size = WSL_HDR_BUF;
	info.gid = -1;
	info.uid = -1;
	if ((wsl.ctx = lws_create_context(&info)) == NULL)
		wsl_die("cannot create the lws context");

	wsl.start_ns = hx_mono_ns();
	wsl.phase = WSL_PHASE_CONNECT;
	lws_sul_schedule(wsl.ctx, 0, &wsl.sul_kick, wsl_kick, 1);

	while (wsl.phase != WSL_PHASE_DONE) {
		if (lws_service(wsl.ctx, 0) < 0)
			wsl_die("the lws service loop failed");
	}
	/* Frames that arrived in the last batch still count. */
	wsl_drain(&wsl.sul_drain);
	rc = wsl_report();

	lws_sul_cancel(&wsl.sul_kick);
	lws_sul_cancel(&wsl.sul_drain);
	lws_sul_cancel(&wsl.sul_end);
	lws_context_destroy(wsl.ctx);
	for (i = 0; i < wsl.nclients; i++) {
		hx_buf_release(&wsl.clients[i].rx);
		hx_buf_release(&wsl.clients[i].ready);
	}
	free(wsl.clients);
	free(wsl.pending);
	free(wsl.lat);
	free(wsl.headers);
	free(wsl.host);
	free(wsl.path);
	free((char *)wsl.address);
	return rc;
}
