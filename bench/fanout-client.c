/*
 * fanout-client.c - bench/fanout's subscribers: N WebSocket connections
 * over loopback TCP, written on plain sockets and epoll (no lws), whose
 * latency figures measure the daemon, not this tool.
 *
 *   fanout-client --addr HOST:PORT --clients N [--duration S]
 *                 [--key hx_...] [--send JSON] [--type NodeMetrics[,...]]
 *
 * The connections are opened, upgraded (X-API-Key when --key is given)
 * and subscribed (--send, default node:metrics) 128 at a time; then
 * every frame of --type (one type or several, comma-separated) is read
 * for --duration seconds. A frame's latency
 * is its arrival minus its data.timestamp (the collector's sample time)
 * twice over:
 *
 *   kernel  the receive timestamp the kernel put on the segment
 *           (SO_TIMESTAMPING, software): on loopback, when the daemon's
 *           write reached the socket. However late this tool reads it, the
 *           figure is the daemon's: sampling to its write.
 *   user    when this tool read it: what a client on this machine saw,
 *           the tool's own reading included (an upper bound).
 *
 * "spread_ms" is, per NodeMetrics sample, the time from the first to the
 * last connection's kernel timestamp: how long one fan-out took.
 *
 * Server frames are unmasked; pings are answered with pongs (masked, as
 * a client must). permessage-deflate is not offered. It does not
 * reconnect or retry: a refused or closed connection is counted. Prints
 * one JSON line; exit 0 when every connection subscribed and got a frame
 * of --type in the window, 1 otherwise, 2 on bad usage.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h> /* the result line */

#include "hx-proto.h"
#include "hx-util.h"

#define FC_RX_CAP (1024 * 1024)
#define FC_SPREADS 256 /* samples whose fan-out is tracked */
#define FC_INFLIGHT 128 /* upgrades sent before their answers are read */

struct fc_conn {
	int	       fd;
	int	       open;
	unsigned char *buf;
	size_t	       len, cap;
	unsigned long  window; /* --type frames in the window */
	int	       first_seen; /* the replayed snapshot came */
};

struct fc_samples {
	double *v;
	size_t	n, cap;
};

struct fc_spread {
	double ts; /* the sample's data.timestamp, ms */
	double first, last; /* kernel arrival, ms */
};

static struct {
	const char	 *type;
	int		  measuring;
	struct fc_samples kern, user;
	struct fc_spread  spreads[FC_SPREADS];
	size_t		  nspreads;
	unsigned long	  frames, closed;
} fc;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sample_add(struct fc_samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* {"samples":..,"p50":..,"p99":..,"max":..} of s (sorted here). */
static json_t *
summary(struct fc_samples *s)
{
	if (s->n == 0)
		return json_pack("{s:i}", "samples", 0);
	qsort(s->v, s->n, sizeof *s->v, cmp_double);
	return json_pack("{s:I,s:f,s:f,s:f,s:f}", "samples", (json_int_t)s->n,
	    "p50", s->v[s->n / 2], "p99", s->v[(s->n * 99) / 100], "max",
	    s->v[s->n - 1], "min", s->v[0]);
}

static void
spread_note(double ts, double kern)
{
	struct fc_spread *sp;
	size_t		  i;

	for (i = 0; i < fc.nspreads; i++) {
		sp = &fc.spreads[i];
		if (sp->ts == ts) {
			if (kern < sp->first)
				sp->first = kern;
			if (kern > sp->last)
				sp->last = kern;
			return;
		}
	}
	if (fc.nspreads == FC_SPREADS)
		return;
	sp = &fc.spreads[fc.nspreads++];
	sp->ts = ts;
	sp->first = sp->last = kern;
}

/* A client frame (masked with a zero key: the payload reads as sent). */
static int
send_frame(int fd, int opcode, const void *p, size_t len)
{
	unsigned char hdr[14];
	size_t	      h = 0;

	hdr[h++] = (unsigned char)(0x80 | opcode);
	if (len < 126)
		hdr[h++] = (unsigned char)(0x80 | len);
	else {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(len >> 8);
		hdr[h++] = (unsigned char)len;
	}
	memset(hdr + h, 0, 4);
	h += 4;
	if (send(fd, hdr, h, MSG_NOSIGNAL) != (ssize_t)h ||
	    (len > 0 && send(fd, p, len, MSG_NOSIGNAL) != (ssize_t)len))
		return -1;
	return 0;
}

/* Is type one of --type's comma-separated names? */
static int
type_wanted(const char *type)
{
	const char *p = fc.type, *e;
	size_t	    n = strlen(type);

	for (; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && strncmp(p, type, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * The frame's type and data.timestamp by a scan, not a JSON parse: the
 * daemon writes "type" first and "timestamp" as data's first key, and a
 * 40 kB VmMetricsBatch parsed a thousand times a tick would make this
 * tool, not the daemon, the bottleneck.
 */
static void
on_text(struct fc_conn *c, const unsigned char *p, size_t len, double kern,
    double user)
{
	const char *s = (const char *)p, *t, *q;
	char	    type[64], ts[40];
	size_t	    n;
	double	    sent;

	if (len < 10 || memcmp(s, "{\"type\":\"", 9) != 0)
		return;
	t = s + 9;
	if ((q = memchr(t, '"', len - 9)) == NULL ||
	    (n = (size_t)(q - t)) >= sizeof type)
		return;
	memcpy(type, t, n);
	type[n] = '\0';
	if (!type_wanted(type))
		return;
	if ((t = memmem(q, len - (size_t)(q - s), "\"timestamp\":\"", 13)) ==
	    NULL)
		return;
	t += 13;
	if ((q = memchr(t, '"', len - (size_t)(t - s))) == NULL ||
	    (n = (size_t)(q - t)) >= sizeof ts)
		return;
	memcpy(ts, t, n);
	ts[n] = '\0';
	if ((sent = (double)hx_parse_rfc3339_ms(ts)) < 0)
		return;
	/* The first is the snapshot replayed on subscribing. */
	if (c->first_seen && fc.measuring) {
		c->window++;
		fc.frames++;
		if (kern > 0) {
			sample_add(&fc.kern, kern - sent);
			spread_note(sent, kern);
		}
		sample_add(&fc.user, user - sent);
	}
	c->first_seen = 1;
}

/* Take the whole frames out of c's buffer. -1: the connection is over. */
static int
parse_frames(struct fc_conn *c, double kern, double user)
{
	size_t	 off = 0, h;
	uint64_t plen;
	int	 op, i;

	for (;;) {
		if (c->len - off < 2)
			break;
		op = c->buf[off] & 0x0f;
		plen = c->buf[off + 1] & 0x7f;
		h = 2;
		if (plen == 126) {
			if (c->len - off < 4)
				break;
			plen = (uint64_t)c->buf[off + 2] << 8 | c->buf[off + 3];
			h = 4;
		} else if (plen == 127) {
			if (c->len - off < 10)
				break;
			for (plen = 0, i = 0; i < 8; i++)
				plen = plen << 8 | c->buf[off + 2 + i];
			h = 10;
		}
		if (plen > FC_RX_CAP)
			return -1;
		if (c->len - off < h + plen)
			break;
		if (op == 1)
			on_text(c, c->buf + off + h, plen, kern, user);
		else if (op == 9 &&
		    send_frame(c->fd, 0xa, c->buf + off + h, plen) != 0)
			return -1;
		else if (op == 8)
			return -1;
		off += h + plen;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return 0;
}

/*
 * Read what is there (wait for it when block is set, up to SO_RCVTIMEO);
 * the kernel's receive time of it in *kern (0: none).
 */
static ssize_t
read_some(struct fc_conn *c, double *kern, int block)
{
	char		cbuf[CMSG_SPACE(sizeof(struct scm_timestamping))];
	struct msghdr	mh;
	struct iovec	iov;
	struct cmsghdr *cm;
	ssize_t		n;

	if (c->cap - c->len < 4096) {
		if (c->cap >= FC_RX_CAP)
			return -1;
		c->cap = c->cap ? c->cap * 2 : 8192;
		c->buf = xrealloc(c->buf, c->cap);
	}
	memset(&mh, 0, sizeof mh);
	iov.iov_base = c->buf + c->len;
	iov.iov_len = c->cap - c->len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof cbuf;
	*kern = 0;
	if ((n = recvmsg(c->fd, &mh, block ? 0 : MSG_DONTWAIT)) <= 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SO_TIMESTAMPING) {
			struct scm_timestamping st;

			memcpy(&st, CMSG_DATA(cm), sizeof st);
			*kern = (double)st.ts[0].tv_sec * 1e3 +
			    (double)st.ts[0].tv_nsec / 1e6;
		}
	}
	c->len += (size_t)n;
	return n;
}

/* Connect and send the upgrade; 0, or -1 with the connection closed. */
static int
open_start(struct fc_conn *c, const struct sockaddr_in *sa, const char *key)
{
	char	       req[1024];
	int	       one = 1, flags;
	struct timeval tv = { 10, 0 };

	flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof *sa) != 0)
		goto fail;
	snprintf(req, sizeof req,
	    "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
	    key ? "X-API-Key: " : "", key ? key : "", key ? "\r\n" : "");
	if (send(c->fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
		goto fail;
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return -1;
}

/* Read the 101 and subscribe; 0, or -1 with the connection closed. */
static int
open_finish(struct fc_conn *c, const char *send_msg)
{
	char   *end;
	double	kern;
	ssize_t n;

	for (;;) {
		if (read_some(c, &kern, 1) <= 0)
			goto fail;
		if (c->len >= 12 && memcmp(c->buf, "HTTP/1.1 101", 12) != 0)
			goto fail;
		if ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) != NULL)
			break;
	}
	n = end + 4 - (char *)c->buf;
	memmove(c->buf, c->buf + n, c->len - (size_t)n);
	c->len -= (size_t)n;
	if (send_frame(c->fd, 1, send_msg, strlen(send_msg)) != 0)
		goto fail;
	c->open = 1;
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return -1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fanout-client --addr HOST:PORT --clients N "
	    "[--duration S] [--key KEY] [--send JSON] [--type TYPE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "clients", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'D' },
		{ "key", required_argument, NULL, 'k' },
		{ "send", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char	  *addr = NULL, *key = NULL;
	const char	  *send_msg = "{\"topics\":[\"node:metrics\"]}";
	struct sockaddr_in sa;
	struct epoll_event ev, evs[256];
	struct rlimit	   rl;
	struct fc_conn	  *conns;
	struct fc_samples  spread = { NULL, 0, 0 };
	char		   host[64], *colon;
	double		   duration = 30, t0, t1, tend, kern, user;
	unsigned long	   minw = (unsigned long)-1;
	int		   n = 0, i, k, ep, ch, b, e, connected = 0, failed = 0;
	json_t		  *out;

	fc.type = "NodeMetrics";
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'c':
			n = atoi(optarg);
			break;
		case 'D':
			duration = atof(optarg);
			break;
		case 'k':
			key = optarg;
			break;
		case 's':
			send_msg = optarg;
			break;
		case 'T':
			fc.type = optarg;
			break;
		default:
			usage();
		}
	}
	if (addr == NULL || n <= 0 || duration <= 0 || optind != argc ||
	    strlen(send_msg) > 65535)
		usage();
	hx_strlcpy(host, addr, sizeof host);
	if ((colon = strrchr(host, ':')) == NULL)
		usage();
	*colon = '\0';
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		usage();
	/* One descriptor per client, and a few besides. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max :
							     (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	conns = xcalloc((size_t)n, sizeof *conns);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("epoll_create1");
		return 1;
	}
	t0 = now_ms();
	/*
	 * FC_INFLIGHT upgrades at a time: one round trip per connection
	 * would make the set-up of 10,000 wait on 10,000 wake-ups of a busy
	 * daemon; the listen backlog (SOMAXCONN) takes them.
	 */
	for (b = 0; b < n; b += FC_INFLIGHT) {
		e = b + FC_INFLIGHT < n ? b + FC_INFLIGHT : n;
		for (i = b; i < e; i++)
			if (open_start(&conns[i], &sa, key) != 0)
				failed++;
		for (i = b; i < e; i++) {
			if (conns[i].fd < 0)
				continue;
			if (open_finish(&conns[i], send_msg) != 0) {
				failed++;
				continue;
			}
			connected++;
			ev.events = EPOLLIN;
			ev.data.u32 = (uint32_t)i;
			epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
		}
		/* Keep up with what the first ones already receive. */
		if ((k = epoll_wait(ep, evs, 256, 0)) > 0)
			for (ch = 0; ch < k; ch++) {
				struct fc_conn *c = &conns[evs[ch].data.u32];

				if (read_some(c, &kern, 0) > 0)
					parse_frames(c, kern, now_ms());
			}
	}
	t1 = now_ms();
	/* Two seconds to settle, then the window. */
	for (k = 0; k < 2; k++) {
		tend = now_ms() + (k == 0 ? 2000 : duration * 1000);
		fc.measuring = k;
		if (k == 1) {
			/* bench/fanout reads the daemon's CPU on these. */
			fprintf(stderr, "measuring\n");
			fflush(stderr);
		}
		while (now_ms() < tend) {
			int m = epoll_wait(ep, evs, 256, 100);

			for (i = 0; i < m; i++) {
				struct fc_conn *c = &conns[evs[i].data.u32];
				ssize_t		r;

				while ((r = read_some(c, &kern, 0)) > 0) {
					user = now_ms();
					if (parse_frames(c, kern, user) != 0) {
						r = 0;
						break;
					}
				}
				if (r == 0 || (r < 0 && errno != EAGAIN)) {
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd,
					    NULL);
					close(c->fd);
					c->fd = -1;
					c->open = 0;
					fc.closed++;
				}
			}
		}
	}
	fprintf(stderr, "measured\n");
	fflush(stderr);
	for (i = 0; i < n; i++) {
		if (conns[i].fd >= 0 && conns[i].window < minw)
			minw = conns[i].window;
		if (conns[i].fd >= 0)
			close(conns[i].fd);
		free(conns[i].buf);
	}
	for (i = 0; i < (int)fc.nspreads; i++)
		if (fc.spreads[i].last > fc.spreads[i].first ||
		    fc.spreads[i].first > 0)
			sample_add(&spread,
			    fc.spreads[i].last - fc.spreads[i].first);
	out = json_pack("{s:i,s:i,s:i,s:I,s:f,s:f,s:I,s:f,s:I,s:o,s:o,s:o}",
	    "clients", n, "connected", connected, "failed", failed, "closed",
	    (json_int_t)fc.closed, "connect_s", (t1 - t0) / 1e3, "seconds",
	    duration, "frames", (json_int_t)fc.frames, "frames_per_s",
	    (double)fc.frames / duration, "min_frames_per_client",
	    (json_int_t)(minw == (unsigned long)-1 ? 0 : minw), "latency_ms",
	    summary(&fc.kern), "user_latency_ms", summary(&fc.user),
	    "spread_ms", summary(&spread));
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(out);
	free(conns);
	free(fc.kern.v);
	free(fc.user.v);
	free(spread.v);
	return connected == n && fc.closed == 0 && minw > 0 ? 0 : 1;
}
