/*
 * hx-wsclient.c - a scriptable WebSocket client for Horcrux tests.
 *
 * Opens one WebSocket connection to horcruxd (TCP or the Unix socket),
 * sends the messages it is given, and prints every frame it receives as one
 * JSON line on stdout, flushed at once so a test can read it live:
 *
 *	{"t":<arrival, epoch ms>,"frame":<the frame, re-emitted compactly>}
 *	{"t":...,"raw":"<text>"}		a frame that is not JSON
 *	{"t":...,"raw":"...","mangled":true}	not UTF-8: bytes >= 0x80 as '?'
 *	{"t":...,"paused":true,"frames":N}	--no-read-after reached
 *	{"t":...,"close":<code>,"reason":"..."}	the server closed (exit 4);
 *						1006: no Close frame came
 *	{"t":...,"error":"upgrade","status":N,"message":"..."}
 *						the upgrade failed (exit 5)
 *	{"t":...,"error":"connect","message":"..."}	no connection (exit 6)
 *
 * Sending: every --send goes right after the upgrade, in order, then the
 * --send-raw-size message: exactly N bytes of {"pad":"xxx..."} (valid JSON,
 * not a Horcrux message). --send-after N:JSON goes after the N-th frame
 * received. Messages over 4 KiB go out as continuation fragments.
 *
 * Exit codes: 0 the --count/--until condition was met (we then send Close
 * 1000 and wait up to a second for the server's), 1 internal error, 2 usage,
 * 3 --timeout reached first (always, also after --no-read-after), 4 closed
 * by the server, 5 upgrade refused, 6 connection failed.
 *
 * It deliberately does not reconnect, verify TLS certificates (wss:// is
 * accepted and any certificate is trusted: this is a test tool) or keep any
 * state about the protocol beyond counting frames: the tests decide what the
 * frames mean.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "hx-util.h"

/* Largest frame we accept from the server; anything bigger is a bug there. */
#define WSC_RX_CAP (16 * 1024 * 1024)
/* Outgoing messages longer than this go out as continuation fragments. */
#define WSC_TX_CHUNK 4096
/* Room for --header lines and the rest of the upgrade request. */
#define WSC_HDR_BUF 16384

enum {
	EXIT_DONE = 0,
	EXIT_INTERNAL = 1,
	EXIT_USAGE = 2,
	EXIT_TIMEOUT = 3,
	EXIT_CLOSED = 4,
	EXIT_UPGRADE = 5,
	EXIT_CONNECT = 6,
};

struct wsc_msg {
	char	       *data;
	size_t		len;
	unsigned long	after; /* queue it once this many frames came */
	struct wsc_msg *next;
};

struct wsc {
	/* Options. */
	const char   *address; /* host, or "+/path" for a Unix socket */
	int	      port;
	int	      tls;
	char	     *host; /* Host header */
	char	     *path;
	const char   *origin;
	const char  **headers;
	size_t	      nheaders;
	unsigned long count; /* 0: no count condition */
	const char   *until;
	unsigned long no_read_after; /* 0: keep reading */
	int	      timeout;
	int	      deflate;
	int	      verbose;

	/* Messages waiting for their turn (after), and ready to go (txq). */
	struct wsc_msg	*later;
	struct wsc_msg	*txq;
	struct wsc_msg **txq_tail;
	size_t		 tx_off; /* bytes of txq's head already sent */

	/* Connection state. */
	struct lws_context *ctx;
	struct lws	   *wsi;
	struct hx_buf	    rx;
	int		    rx_binary;
	int		    rx_overflow;
	unsigned long	    frames;
	int		    paused;
	int		    established;
	int   peer_closed; /* a Close frame came from the server */
	int   close_code;
	char *close_reason;
	char *conn_error;
	int   done; /* the loop must stop */
	int   closing; /* we sent (or queued) a Close */
	int   grace_over;
	int   exit_code;
	lws_sorted_usec_list_t sul_timeout;
};

static struct wsc wsc;

static void wsc_usage(void) __attribute__((noreturn));

static void
wsc_usage(void)
{
	fprintf(stderr,
	    "usage: hx-wsclient --url URL [--send JSON]... "
	    "[--send-after N:JSON]... [--send-raw-size N] [--count N] "
	    "[--until TYPE] [--timeout SECS] [--no-read-after N] [--deflate] "
	    "[--header 'Name: value']... [--origin ORIGIN] [--host HOST] "
	    "[--verbose]\n"
	    "  URL: ws://HOST:PORT/PATH, wss://HOST:PORT/PATH or "
	    "unix:/path/to/sock (path /api/ws)\n");
	exit(EXIT_USAGE);
}

static void wsc_die(const char *fmt, ...) HX_PRINTF(1, 2)
    __attribute__((noreturn));

static void
wsc_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hx-wsclient: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_INTERNAL);
}

static double
wsc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/*
 * Print one output line: "t" first, then every member of obj in order.
 * Takes the reference to obj. Reals are printed with 15 significant digits,
 * which gives back exactly what the server wrote for any value it printed
 * with 15 or fewer (17 would turn 0.1 into 0.10000000000000001).
 */
static void
wsc_emit(double t, json_t *obj)
{
	const char *key;
	json_t	   *value;
	char	   *s;

	printf("{\"t\":%.3f", t);
	json_object_foreach(obj, key, value) {
		s = json_dumps(value,
		    JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		if (s == NULL)
			wsc_die("cannot encode output");
		printf(",\"%s\":%s", key, s);
		free(s);
	}
	printf("}\n");
	fflush(stdout);
	json_decref(obj);
}

static void
wsc_finish(int code)
{
	if (!wsc.done) {
		wsc.done = 1;
		wsc.exit_code = code;
	}
	if (wsc.ctx != NULL)
		lws_cancel_service(wsc.ctx);
}

/* Append a message to the transmit queue; takes ownership of m. */
static void
wsc_queue(struct wsc_msg *m)
{
	m->next = NULL;
	*wsc.txq_tail = m;
	wsc.txq_tail = &m->next;
	if (wsc.wsi != NULL && wsc.established)
		lws_callback_on_writable(wsc.wsi);
}

/* Move every message whose turn has come from later to the queue. */
static void
wsc_release_later(void)
{
	struct wsc_msg **pp, *m;

	pp = &wsc.later;
	while ((m = *pp) != NULL) {
		if (m->after <= wsc.frames) {
			*pp = m->next;
			wsc_queue(m);
		} else
			pp = &m->next;
	}
}

static struct wsc_msg *
wsc_msg_new(const char *data, size_t len, unsigned long after)
{
	struct wsc_msg *m;

	m = xcalloc(1, sizeof *m);
	m->data = xmalloc(len + 1);
	memcpy(m->data, data, len);
	m->data[len] = '\0';
	m->len = len;
	m->after = after;
	return m;
}

/* Later messages are kept in option order among equal N. */
static void
wsc_add_later(struct wsc_msg *m)
{
	struct wsc_msg **pp;

	for (pp = &wsc.later; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = m;
}

/*
 * A message of exactly n bytes that is valid JSON but not a Horcrux
 * message: {"pad":"xxx..."}. Below 10 bytes it is just spaces.
 */
static struct wsc_msg *
wsc_msg_padding(size_t n)
{
	struct wsc_msg	 *m;
	static const char head[] = "{\"pad\":\"", tail[] = "\"}";

	m = xcalloc(1, sizeof *m);
	m->data = xmalloc(n + 1);
	m->len = n;
	if (n < sizeof head - 1 + sizeof tail - 1)
		memset(m->data, ' ', n);
	else {
		memcpy(m->data, head, sizeof head - 1);
		memset(m->data + sizeof head - 1, 'x',
		    n - (sizeof head - 1) - (sizeof tail - 1));
		memcpy(m->data + n - (sizeof tail - 1), tail, sizeof tail - 1);
	}
	m->data[n] = '\0';
	return m;
}

static void
wsc_msg_free(struct wsc_msg *m)
{
	if (m == NULL)
		return;
	free(m->data);
	free(m);
}

/*
 * Send the next fragment of the head of the queue. Returns -1 if the
 * connection must be dropped.
 */
static int
wsc_write(struct lws *wsi)
{
	struct wsc_msg *m = wsc.txq;
	unsigned char  *buf;
	size_t		n, left;
	int		flags;

	if (m == NULL)
		return 0;
	left = m->len - wsc.tx_off;
	n = left > WSC_TX_CHUNK ? WSC_TX_CHUNK : left;

	flags = wsc.tx_off == 0 ? LWS_WRITE_TEXT : LWS_WRITE_CONTINUATION;
	if (n < left)
		flags |= LWS_WRITE_NO_FIN;

	buf = xmalloc(LWS_PRE + n + 1);
	memcpy(buf + LWS_PRE, m->data + wsc.tx_off, n);
	if (lws_write(wsi, buf + LWS_PRE, n, flags) < (int)n) {
		free(buf);
		return -1;
	}
	free(buf);

	wsc.tx_off += n;
	if (wsc.tx_off == m->len) {
		wsc.txq = m->next;
		if (wsc.txq == NULL)
			wsc.txq_tail = &wsc.txq;
		wsc.tx_off = 0;
		wsc_msg_free(m);
	}
	if (wsc.txq != NULL)
		lws_callback_on_writable(wsi);
	return 0;
}

/* One whole message has arrived in wsc.rx. Returns -1 to hang up. */
static int
wsc_frame(struct lws *wsi, double t)
{
	json_t	    *frame, *type, *out;
	json_error_t jerr;
	const char  *ftype = NULL;
	size_t	     i;

	if (wsc.paused || wsc.done)
		return 0;
	wsc.frames++;

	frame = NULL;
	if (!wsc.rx_binary)
		frame = json_loadb(wsc.rx.data, wsc.rx.len, JSON_DECODE_ANY,
		    &jerr);
	if (frame != NULL) {
		if (json_is_object(frame) &&
		    json_is_string(type = json_object_get(frame, "type")))
			ftype = json_string_value(type);
		out = json_pack("{s:O}", "frame", frame);
	} else if ((out = json_pack("{s:s%}", "raw", wsc.rx.data,
			wsc.rx.len)) == NULL) {
		/* Not UTF-8 (or binary): show the bytes, mangled but visible. */
		for (i = 0; i < wsc.rx.len; i++) {
			if ((unsigned char)wsc.rx.data[i] >= 0x80 ||
			    wsc.rx.data[i] == '\0')
				wsc.rx.data[i] = '?';
		}
		out = json_pack("{s:s%,s:b}", "raw", wsc.rx.data, wsc.rx.len,
		    "mangled", 1);
	}
	if (out == NULL)
		wsc_die("cannot encode a frame");

	if (wsc.until != NULL && ftype != NULL && strcmp(ftype, wsc.until) == 0)
		wsc_finish(EXIT_DONE);
	json_decref(frame);
	wsc_emit(t, out);

	if (wsc.count != 0 && wsc.frames >= wsc.count)
		wsc_finish(EXIT_DONE);
	if (wsc.done) {
		wsc.closing = 1;
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}

	if (wsc.no_read_after != 0 && wsc.frames >= wsc.no_read_after) {
		wsc.paused = 1;
		lws_rx_flow_control(wsi, 0);
		wsc_emit(t,
		    json_pack("{s:b,s:I}", "paused", 1, "frames",
			(json_int_t)wsc.frames));
	}
	wsc_release_later();
	return 0;
}

static int
wsc_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	char	     **p, *end;
	size_t	       i, hl;
	unsigned int   status;
	const char    *msg;
	unsigned char *c;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		p = in;
		end = *p + len;
		for (i = 0; i < wsc.nheaders; i++) {
			hl = strlen(wsc.headers[i]);
			if ((size_t)(end - *p) < hl + 3)
				wsc_die("--header lines do not fit in %d "
					"bytes",
				    WSC_HDR_BUF);
			memcpy(*p, wsc.headers[i], hl);
			*p += hl;
			*(*p)++ = '\r';
			*(*p)++ = '\n';
		}
		break;

	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		/*
		 * lws reports both "could not connect" and "the server
		 * answered but not with 101" here. The HTTP status is known
		 * only in the second case; lws 4.1 prefixes the message of
		 * every handshake failure with "HS:".
		 */
		msg = wsc.conn_error = in != NULL && len != 0 ?
		    xstrndup(in, len) :
		    xstrdup("unknown error");
		status = lws_http_client_http_response(wsi);
		if (status != 0)
			wsc_emit(wsc_now_ms(),
			    json_pack("{s:s,s:i,s:s}", "error", "upgrade",
				"status", (int)status, "message", msg));
		else if (strncmp(msg, "HS:", 3) == 0)
			wsc_emit(wsc_now_ms(),
			    json_pack("{s:s,s:n,s:s}", "error", "upgrade",
				"status", "message", msg));
		else {
			wsc_emit(wsc_now_ms(),
			    json_pack("{s:s,s:s}", "error", "connect",
				"message", msg));
			wsc.wsi = NULL;
			wsc_finish(EXIT_CONNECT);
			break;
		}
		wsc.wsi = NULL;
		wsc_finish(EXIT_UPGRADE);
		break;

	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		wsc.established = 1;
		if (wsc.verbose)
			fprintf(stderr, "hx-wsclient: established\n");
		wsc_release_later();
		if (wsc.txq != NULL)
			lws_callback_on_writable(wsi);
		break;

	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (wsc.done)
			return -1;
		return wsc_write(wsi);

	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (lws_is_first_fragment(wsi)) {
			hx_buf_reset(&wsc.rx);
			wsc.rx_binary = lws_frame_is_binary(wsi);
			wsc.rx_overflow = 0;
		}
		if (hx_buf_add(&wsc.rx, in, len) != 0)
			wsc.rx_overflow = 1;
		if (!lws_is_final_fragment(wsi) ||
		    lws_remaining_packet_payload(wsi) != 0)
			break;
		if (wsc.rx_overflow)
			wsc_die("a frame from the server is over %d bytes",
			    WSC_RX_CAP);
		return wsc_frame(wsi, wsc_now_ms());

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		wsc.peer_closed = 1;
		c = in;
		wsc.close_code = len >= 2 ? (c[0] << 8) | c[1] : 1005;
		free(wsc.close_reason);
		wsc.close_reason = xstrndup(len > 2 ? (char *)in + 2 : "",
		    len > 2 ? len - 2 : 0);
		break;

	case LWS_CALLBACK_CLIENT_CLOSED:
		wsc.wsi = NULL;
		if (wsc.done)
			break;
		/* No Close frame: the connection just went away (1006). */
		wsc_emit(wsc_now_ms(),
		    json_pack("{s:i,s:s}", "close",
			wsc.peer_closed ? wsc.close_code : 1006, "reason",
			wsc.close_reason != NULL ? wsc.close_reason : ""));
		wsc_finish(EXIT_CLOSED);
		break;

	default:
		break;
	}
	return 0;
}

static void
wsc_timeout(lws_sorted_usec_list_t *sul)
{
	wsc_finish(EXIT_TIMEOUT);
}

static void
wsc_grace_over(lws_sorted_usec_list_t *sul)
{
	wsc.grace_over = 1;
	lws_cancel_service(wsc.ctx);
}

static const struct lws_protocols wsc_protocols[] = {
	{ "hx-wsclient", wsc_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static const struct lws_extension wsc_deflate[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	    "permessage-deflate; client_max_window_bits" },
	{ NULL, NULL, NULL }
};

/*
 * Split URL into the connection fields of wsc. Exits with a usage error on
 * anything it does not understand.
 */
static void
wsc_parse_url(const char *url)
{
	const char *rest, *slash, *colon, *hostend;
	char	   *hostport;
	long long   port;

	if (strncmp(url, "unix:", 5) == 0) {
		if (url[5] != '/')
			wsc_usage();
		/* lws 4.1 connects to a Unix socket when address is "+path". */
		wsc.address = xasprintf("+%s", url + 5);
		wsc.port = 0;
		wsc.host = xstrdup("localhost");
		wsc.path = xstrdup("/api/ws");
		return;
	}
	if (strncmp(url, "ws://", 5) == 0)
		rest = url + 5;
	else if (strncmp(url, "wss://", 6) == 0) {
		rest = url + 6;
		wsc.tls = 1;
	} else
		wsc_usage();

	slash = strchr(rest, '/');
	hostport = slash != NULL ? xstrndup(rest, slash - rest) : xstrdup(rest);
	wsc.path = xstrdup(slash != NULL ? slash : "/");
	if (*hostport == '\0')
		wsc_usage();

	/* [v6addr]:port or host:port; the port defaults to 80/443. */
	if (hostport[0] == '[') {
		if ((hostend = strchr(hostport, ']')) == NULL)
			wsc_usage();
		wsc.address = xstrndup(hostport + 1, hostend - hostport - 1);
		colon = hostend[1] == ':' ? hostend + 1 : NULL;
		if (hostend[1] != '\0' && colon == NULL)
			wsc_usage();
	} else {
		colon = strrchr(hostport, ':');
		wsc.address = colon != NULL ?
		    xstrndup(hostport, colon - hostport) :
		    xstrdup(hostport);
	}
	if (colon != NULL) {
		if (hx_parse_ll(colon + 1, 1, 65535, &port) != 0)
			wsc_usage();
		wsc.port = (int)port;
	} else
		wsc.port = wsc.tls ? 443 : 80;
	wsc.host = hostport;
}

static unsigned long
wsc_parse_count(const char *s, long long min)
{
	long long n;

	if (hx_parse_ll(s, min, 1000000000LL, &n) != 0)
		wsc_usage();
	return (unsigned long)n;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { { "url", required_argument,
						      NULL, 'u' },
		{ "send", required_argument, NULL, 's' },
		{ "send-after", required_argument, NULL, 'a' },
		{ "send-raw-size", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "until", required_argument, NULL, 'U' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-read-after", required_argument, NULL, 'n' },
		{ "deflate", no_argument, NULL, 'd' },
		{ "header", required_argument, NULL, 'H' },
		{ "origin", required_argument, NULL, 'o' },
		{ "host", required_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, '?' }, { NULL, 0, NULL, 0 } };
	struct lws_context_creation_info info;
	struct lws_client_connect_info	 ci;
	struct wsc_msg			*m, *raw = NULL;
	const char			*url = NULL, *host = NULL;
	char				*colon;
	unsigned long			 after;
	int				 ch;

	wsc.timeout = 10;
	wsc.txq_tail = &wsc.txq;
	hx_buf_init(&wsc.rx, WSC_RX_CAP);

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 's':
			wsc_add_later(wsc_msg_new(optarg, strlen(optarg), 0));
			break;
		case 'a':
			if ((colon = strchr(optarg, ':')) == NULL)
				wsc_usage();
			*colon = '\0';
			after = wsc_parse_count(optarg, 0);
			wsc_add_later(
			    wsc_msg_new(colon + 1, strlen(colon + 1), after));
			break;
		case 'r':
			wsc_msg_free(raw);
			raw = wsc_msg_padding(wsc_parse_count(optarg, 1));
			break;
		case 'c':
			wsc.count = wsc_parse_count(optarg, 1);
			break;
		case 'U':
			wsc.until = optarg;
			break;
		case 't':
			wsc.timeout = (int)wsc_parse_count(optarg, 1);
			break;
		case 'n':
			wsc.no_read_after = wsc_parse_count(optarg, 1);
			break;
		case 'd':
			wsc.deflate = 1;
			break;
		case 'H':
			if (strchr(optarg, ':') == NULL ||
			    strpbrk(optarg, "\r\n") != NULL)
				wsc_usage();
			wsc.headers = xrealloc(wsc.headers,
			    (wsc.nheaders + 1) * sizeof *wsc.headers);
			wsc.headers[wsc.nheaders++] = optarg;
			break;
		case 'o':
			wsc.origin = optarg;
			break;
		case 'h':
			host = optarg;
			break;
		case 'v':
			wsc.verbose = 1;
			break;
		default:
			wsc_usage();
		}
	}
	if (optind != argc || url == NULL)
		wsc_usage();
	wsc_parse_url(url);
	if (host != NULL) {
		free(wsc.host);
		wsc.host = xstrdup(host);
	}
	/* The padding message goes after every plain --send. */
	if (raw != NULL)
		wsc_add_later(raw);

	lws_set_log_level(wsc.verbose ?
		LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO :
		LLL_ERR,
	    NULL);

	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = wsc_protocols;
	info.extensions = wsc.deflate ? wsc_deflate : NULL;
	info.pt_serv_buf_size = WSC_HDR_BUF;
	info.gid = -1;
	info.uid = -1;
	if (wsc.tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if ((wsc.ctx = lws_create_context(&info)) == NULL)
		wsc_die("cannot create the lws context");

	memset(&ci, 0, sizeof ci);
	ci.context = wsc.ctx;
	ci.address = wsc.address;
	ci.port = wsc.port;
	ci.path = wsc.path;
	ci.host = wsc.host;
	/* lws writes "Origin: http://" + this: hand it the host part. */
	ci.origin = wsc.origin;
	if (ci.origin != NULL && strncmp(ci.origin, "http://", 7) == 0)
		ci.origin += 7;
	ci.local_protocol_name = wsc_protocols[0].name;
	ci.pwsi = &wsc.wsi;
	if (wsc.tls)
		ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
		    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
		    LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;

	lws_sul_schedule(wsc.ctx, 0, &wsc.sul_timeout, wsc_timeout,
	    (lws_usec_t)wsc.timeout * LWS_US_PER_SEC);

	/*
	 * An immediate failure has already gone through the callback
	 * (CONNECTION_ERROR) and set wsc.done; a NULL return without it
	 * means lws refused the arguments.
	 */
	if (lws_client_connect_via_info(&ci) == NULL && !wsc.done) {
		wsc_emit(wsc_now_ms(),
		    json_pack("{s:s,s:s+}", "error", "connect", "message",
			"cannot connect to ", url));
		wsc_finish(EXIT_CONNECT);
	}

	while (!wsc.done) {
		if (lws_service(wsc.ctx, 0) < 0)
			break;
	}
	/*
	 * Done by --count or --until: lws sends our Close (1000) and waits
	 * for the server's; give that a second rather than just dropping
	 * the connection, so the server sees a clean close.
	 */
	if (wsc.closing) {
		lws_sul_schedule(wsc.ctx, 0, &wsc.sul_timeout, wsc_grace_over,
		    LWS_US_PER_SEC);
		while (wsc.wsi != NULL && !wsc.grace_over) {
			if (lws_service(wsc.ctx, 0) < 0)
				break;
		}
	}

	lws_sul_cancel(&wsc.sul_timeout);
	lws_context_destroy(wsc.ctx);

	while ((m = wsc.later) != NULL) {
		wsc.later = m->next;
		wsc_msg_free(m);
	}
	while ((m = wsc.txq) != NULL) {
		wsc.txq = m->next;
		wsc_msg_free(m);
	}
	hx_buf_release(&wsc.rx);
	free(wsc.close_reason);
	free(wsc.conn_error);
	free(wsc.headers);
	free(wsc.host);
	free(wsc.path);
	free((char *)wsc.address);
	return wsc.done ? wsc.exit_code : EXIT_INTERNAL;
}
