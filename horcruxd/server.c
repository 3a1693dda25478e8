/*
 * server.c - the lws context, the two listeners, the protocol callback
 * that routes every event to http-route.c or ws-session.c, the periodic
 * tick and an orderly shutdown.
 *
 * Listen problems are found before lws sees them (a probe bind, a check
 * of the socket directory), because lws only logs them and returns NULL,
 * and an operator deserves one clear line: "cannot bind '127.0.0.1:8006':
 * Address already in use".
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hx-auth.h"
#include "hx-event.h"
#include "hx-log.h"
#include "reload.h"
#include "server.h"

#define STOP_GRACE_NS (2ULL * 1000000000ULL)

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);

/*
 * One drained item: a job's reply goes to its request; the snapshot keeps
 * what it needs of everything else before the frame goes out to the
 * sessions, so a session that subscribes later gets the same newest.
 */
/*
 * A discrete event (a frame without a coalescing key) enters the
 * fan-out: it gets the next seq here, on the service thread, so seq
 * rises in delivery order whichever thread built it, and the replay ring
 * keeps it for clients that resume.
 */
static void
sequence(struct server *srv, struct frame *f)
{
	frame_set_seq(f, ++srv->seq);
	replay_push(&srv->replay, f, hx_mono_ns());
}

/* Keep a VmMetrics frame for the batch of the tick under way. */
static void
tick_add(struct server *srv, struct frame *f, int64_t ts_ms)
{
	if (srv->ntick_vms == srv->tick_vms_cap) {
		srv->tick_vms_cap = srv->tick_vms_cap ? 2 * srv->tick_vms_cap :
							64;
		srv->tick_vms = xrealloc(srv->tick_vms,
		    srv->tick_vms_cap * sizeof *srv->tick_vms);
	}
	srv->tick_vms[srv->ntick_vms++] = frame_ref(f);
	if (ts_ms > srv->tick_ts_ms)
		srv->tick_ts_ms = ts_ms;
}

static void
drain_one(struct mail *m, void *arg)
{
	struct server *srv = arg;
	int64_t	       vm_ts = m->vm != NULL ? m->vm->timestamp_ms : -1;
	int	       tick_end = m->inventory != NULL;

	if (m->job != NULL) {
		http_job_done(srv, m->job);
		return;
	}
	snapshot_update(srv->snap, m);
	/*
	 * The collector posts a tick's VmMetrics, then its inventory: the
	 * inventory is the mark that the tick is complete.
	 */
	if (tick_end)
		session_vm_tick_end(srv);
	if (m->frame == NULL)
		return;
	if (m->frame->key == NULL)
		sequence(srv, m->frame);
	else if (vm_ts >= 0)
		tick_add(srv, m->frame, vm_ts);
	session_fanout(srv, m->frame);
}

static void
addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	struct in_addr		   a4;

	buf[0] = '\0';
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(&a4, &s6->sin6_addr.s6_addr[12], sizeof a4);
		inet_ntop(AF_INET, &a4, buf, (socklen_t)len);
	} else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len);
}

void
server_peer_addr(struct server *srv, struct lws *wsi, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t		sl = sizeof ss;

	buf[0] = '\0';
	if (lws_get_vhost(wsi) == srv->vh_unix ||
	    getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &sl) !=
		0)
		return;
	addr_text((struct sockaddr *)&ss, buf, len);
}

/* fd_peer's mark for a Unix socket connection (no address to count). */
static struct admit_node unix_mark;

/* The connection on fd ended: its address (or the socket) holds one fewer. */
static void
conn_closed(struct server *srv, int fd)
{
	if (fd < 0 || (size_t)fd >= srv->nfd_peer || srv->fd_peer[fd] == NULL)
		return;
	if (srv->fd_peer[fd] == &unix_mark)
		srv->nunix--;
	else {
		admit_drop(&srv->peers, srv->fd_peer[fd]);
		srv->ntcp--;
	}
	srv->fd_peer[fd] = NULL;
}

/*
 * A connection was accepted (fd, from sa): count it against its address
 * and against what the descriptors allow, or refuse it (lws then closes
 * it at once). TCP may not take what is kept for the Unix socket; the two
 * together may not take what is kept outside lws. The count ends when lws
 * takes the descriptor out of its poll set (conn_closed); a descriptor
 * lws closed without ever polling it (a failed adoption) is settled when
 * the kernel hands its number out again. One hash lookup: a burst of
 * thousands costs no more each.
 */
static int
conn_accepted(struct server *srv, int fd, const struct sockaddr *sa)
{
	char	 addr[64];
	unsigned n;

	if (fd < 0 || (size_t)fd >= srv->nfd_peer)
		return -1;
	conn_closed(srv, fd); /* a number lws reused without a close */
	if (srv->ntcp + srv->nunix >= srv->conns_max) {
		log_debug("refusing a connection: %u open, the most the "
			  "descriptors allow",
		    srv->ntcp + srv->nunix);
		return -1;
	}
	if (sa->sa_family == AF_UNIX) {
		srv->fd_peer[fd] = &unix_mark;
		srv->nunix++;
		return 0;
	}
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return 0;
	addr_text(sa, addr, sizeof addr);
	if ((n = admit_count(&srv->peers, addr)) >=
	    (unsigned)srv->opts->max_connections_per_address) {
		log_debug("refusing a TCP connection from %s: %u open "
			  "(max_connections_per_address)",
		    addr, n);
		return -1;
	}
	if (srv->ntcp >= srv->tcp_max) {
		log_debug("refusing a TCP connection from %s: %u open, the "
			  "most the descriptors allow",
		    addr, srv->ntcp);
		return -1;
	}
	srv->fd_peer[fd] = admit_hold(&srv->peers, addr);
	srv->ntcp++;
	return 0;
}

void
server_session_counted(struct server *srv, struct session *s)
{
	s->user_node = admit_hold(&srv->ws_users, s->id.name);
	if (!s->on_unix) {
		s->addr_node = admit_hold(&srv->ws_addrs, s->addr);
		srv->ntcp_sessions++;
	}
}

void
server_session_uncounted(struct server *srv, struct session *s)
{
	admit_drop(&srv->ws_users, s->user_node);
	s->user_node = NULL;
	if (!s->on_unix) {
		admit_drop(&srv->ws_addrs, s->addr_node);
		s->addr_node = NULL;
		srv->ntcp_sessions--;
	}
}

/* Log the 503s counted since the last line, if any are due (n > 0). */
static void
log_refusals(struct server *srv, unsigned n)
{
	if (n == 0)
		return;
	log_warn("refused %u WebSocket upgrade%s in the last second: "
		 "max_clients (%u) reached",
	    n, n == 1 ? "" : "s", srv->clients_max);
}

/*
 * May this authenticated upgrade have a session? 0, or -1 with the
 * refusal written: 503 when the daemon is full (TCP may not take the
 * slots kept for the Unix socket; counted into a log line once a second
 * at most), 429 when the user or the address already holds its share.
 * root@local on the Unix socket is held to max_clients only. The counts
 * are kept at open and close (server_session_counted), so this costs
 * the same with 10 or 10,000 sessions open.
 */
static int
session_admit(struct server *srv, struct lws *wsi, const struct identity *id,
    int on_unix)
{
	const struct options *o = srv->opts;
	char		      addr[64], msg[160];

	if (srv->stopping) {
		http_refuse(wsi, 503, "UNAVAILABLE", "shutting down");
		return -1;
	}
	if (srv->nsessions >= srv->clients_max ||
	    (!on_unix &&
		srv->ntcp_sessions >= srv->clients_max - srv->unix_reserved)) {
		http_refuse(wsi, 503, "UNAVAILABLE", "too many clients");
		log_refusals(srv, admit_refused(&srv->refusals, hx_mono_ns()));
		return -1;
	}
	if (id->kind != ACCESS_LOCAL &&
	    admit_count(&srv->ws_users, id->name) >=
		(unsigned)o->max_clients_per_user) {
		snprintf(msg, sizeof msg,
		    "too many WebSocket sessions for "
		    "this user (max_clients_per_user is %d)",
		    o->max_clients_per_user);
		http_refuse(wsi, 429, "RATE_LIMITED", msg);
		return -1;
	}
	if (!on_unix) {
		server_peer_addr(srv, wsi, addr, sizeof addr);
		if (admit_count(&srv->ws_addrs, addr) >=
		    (unsigned)o->max_clients_per_address) {
			snprintf(msg, sizeof msg,
			    "too many WebSocket sessions from "
			    "this address (max_clients_per_address is %d)",
			    o->max_clients_per_address);
			http_refuse(wsi, 429, "RATE_LIMITED", msg);
			return -1;
		}
	}
	return 0;
}

/*
 * The first entry also serves HTTP and every upgrade that names no
 * subprotocol; the second differs only in the frames its sessions get
 * (ws-session.c reads the name).
 */
static const struct lws_protocols protocols[] = {
	{ WS_PROTOCOL_JSON, callback, sizeof(struct conn), 4096, 0, NULL, 0 },
	{ WS_PROTOCOL_MSGPACK, callback, sizeof(struct conn), 4096, 0, NULL,
	    0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static const struct lws_extension extensions[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	    "permessage-deflate; client_no_context_takeover; "
	    "client_max_window_bits" },
	{ NULL, NULL, NULL }
};

static void
lws_log_bridge(int level, const char *line)
{
	char   copy[1024];
	size_t n;

	hx_strlcpy(copy, line, sizeof copy);
	n = strlen(copy);
	while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
		copy[--n] = '\0';
	hx_log(level == LLL_ERR ? HX_LOG_WARNING : HX_LOG_DEBUG, "lws: %s",
	    copy);
}

static void
begin_stop(struct server *srv)
{
	struct session *s;
	struct frame   *f;

	if (srv->stopping)
		return;
	srv->stopping = 1;
	srv->stop_deadline_ns = hx_mono_ns() + STOP_GRACE_NS;
	log_info("shutting down: telling %u client(s)", srv->nsessions);
	f = frame_new("Notification",
	    hx_event_notification("warning", "Server Shutdown",
		"horcruxd is shutting down", hx_wall_ms()),
	    HX_TOPIC_NOTIFICATIONS, NULL, NULL);
	sequence(srv, f);
	TAILQ_FOREACH(s, &srv->sessions, entry) {
		session_send(s, f);
		session_close(s, LWS_CLOSE_STATUS_GOINGAWAY, "server shutdown");
	}
	frame_unref(f);
}

static void
tick(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, tick);
	uint64_t       now = hx_mono_ns();

	session_tick(srv, now);
	log_refusals(srv, admit_refusals_due(&srv->refusals, now));
	if (srv->stopping &&
	    (srv->nsessions == 0 || now >= srv->stop_deadline_ns))
		srv->done = 1;
	lws_sul_schedule(srv->ctx, 0, &srv->tick, tick,
	    srv->stopping ? 50000 : (lws_usec_t)srv->tick_us);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct server  *srv = lws_context_user(lws_get_context(wsi));
	struct conn    *c = user;
	struct identity id;
	const char     *why = NULL;
	char		uri[256];
	int		on_unix, r;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (srv->stop_requested)
			begin_stop(srv);
		mailbox_drain(srv->mb, drain_one, srv);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* The WebSocket upgrade: authenticate before it happens. */
		if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 ||
		    strcmp(uri, "/api/ws") != 0) {
			http_refuse(wsi, 404, "NOT_FOUND",
			    "WebSocket is "
			    "served at /api/ws only");
			return -1;
		}
		if (lws_hdr_total_length(wsi,
			WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
			http_refuse(wsi, 400, "BAD_REQUEST",
			    "an upgrade "
			    "carries no body: no Transfer-Encoding");
			return -1;
		}
		on_unix = lws_get_vhost(wsi) == srv->vh_unix;
		if (!on_unix &&
		    (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_HOST) <= 0 ||
			!http_host_ok(srv, uri))) {
			http_refuse(wsi, 400, "BAD_REQUEST",
			    "the Host header "
			    "does not name this server");
			return -1;
		}
		if (access_resolve(srv->cache, wsi, on_unix, &id, &why) != 0 ||
		    !id.authenticated) {
			access_release(&id);
			http_refuse(wsi, 401, "UNAUTHORIZED",
			    why ? why : "authentication required");
			return -1;
		}
		if (id.kind == ACCESS_COOKIE && !http_origin_ok(srv, wsi)) {
			access_release(&id);
			http_refuse(wsi, 403, "FORBIDDEN",
			    "this Origin may "
			    "not open a session with a cookie");
			return -1;
		}
		r = session_admit(srv, wsi, &id, on_unix);
		access_release(&id);
		return r;
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		/* A TLS vhost's SSL_CTX (user) is made: ours to fill. */
		return server_tls_ctx_ready(srv, user);
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		if (user == NULL)
			return 0;
		return conn_accepted(srv, (int)(intptr_t)in,
		    (struct sockaddr *)&(
			(struct lws_filter_network_conn_args *)user)
			->cli_addr);
	case LWS_CALLBACK_DEL_POLL_FD:
		conn_closed(srv, ((struct lws_pollargs *)in)->fd);
		return 0;
	default:
		break;
	}
	/*
	 * A peer that connects and closes without a request (a liveness
	 * probe, a port scan) gets CLOSED_HTTP before lws allocated its
	 * per-connection data: nothing of ours to act on or free.
	 */
	if (c == NULL)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_RECEIVE_PONG:
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLOSED:
		return session_callback(srv, wsi, reason, c, in, len);
	case LWS_CALLBACK_HTTP:
	case LWS_CALLBACK_HTTP_BODY:
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
	case LWS_CALLBACK_HTTP_WRITEABLE:
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
	case LWS_CALLBACK_CLOSED_HTTP:
		return http_callback(srv, wsi, reason, c, in, len);
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* Bind host:port once ourselves; 0, or an errno. */
static int
probe_bind(const struct sockaddr *sa, socklen_t salen)
{
	int fd, r = 0, one = 1;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, sa, salen) != 0)
		r = errno;
	close(fd);
	return r;
}

static int
addr_is_loopback(const struct listen_addr *la)
{
	struct in_addr	a4;
	struct in6_addr a6;

	if (la->family == AF_INET && inet_pton(AF_INET, la->host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (la->family == AF_INET6 && inet_pton(AF_INET6, la->host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

int
server_listens_beyond_loopback(const struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nladdrs; i++) {
		if (!addr_is_loopback(&srv->laddrs[i]))
			return 1;
	}
	return 0;
}

/*
 * The TCP listener binds exactly what listen names: a numeric address
 * is one socket on that address (never the wildcard: lws, given an IPv4
 * address on an IPv6-capable context, binds [::]), a host name is one
 * socket per address it resolves to. An address of a name that this
 * host cannot bind (no IPv6 here, say) is skipped with a warning if
 * another one binds; every other failure is fatal, with its reason.
 */
int
server_resolve_listen(struct server *srv, const struct options *o, char **err)
{
	struct addrinfo	   hints, *res, *ai;
	struct listen_addr la;
	struct in6_addr	   a6;
	char		   port[16];
	size_t		   i;
	int		   r, numeric, saved = 0;

	numeric = inet_pton(AF_INET6, o->listen_host, &a6) == 1 ||
	    inet_pton(AF_INET, o->listen_host, &a6) == 1;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
	snprintf(port, sizeof port, "%d", o->listen_port);
	if ((r = getaddrinfo(o->listen_host, port, &hints, &res)) != 0) {
		*err = xasprintf("cannot resolve listen address '%s': %s",
		    o->listen_host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		memset(&la, 0, sizeof la);
		la.family = ai->ai_family;
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, la.host,
			sizeof la.host, NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		for (i = 0; i < srv->nladdrs; i++) {
			if (strcmp(srv->laddrs[i].host, la.host) == 0)
				break;
		}
		if (i < srv->nladdrs)
			continue;
		if ((r = probe_bind(ai->ai_addr, ai->ai_addrlen)) != 0) {
			if (!numeric &&
			    (r == EADDRNOTAVAIL || r == EAFNOSUPPORT)) {
				log_warn("not listening on %s (from '%s'): "
					 "%s",
				    la.host, o->listen_host, strerror(r));
				saved = r;
				continue;
			}
			freeaddrinfo(res);
			*err = numeric ?
			    xasprintf("cannot bind '%s:%d': %s", o->listen_host,
				o->listen_port, strerror(r)) :
			    xasprintf("cannot bind '%s:%d' (%s): %s",
				o->listen_host, o->listen_port, la.host,
				strerror(r));
			return -1;
		}
		srv->laddrs = xrealloc(srv->laddrs,
		    (srv->nladdrs + 1) * sizeof *srv->laddrs);
		srv->laddrs[srv->nladdrs++] = la;
	}
	freeaddrinfo(res);
	if (srv->nladdrs == 0) {
		*err = xasprintf("cannot bind '%s:%d': %s", o->listen_host,
		    o->listen_port,
		    saved ? strerror(saved) : "no IPv4 or IPv6 address");
		return -1;
	}
	if (server_tls_load(srv, o, err) != 0)
		return -1;
	/*
	 * Passwords and cookies must not cross a network in the clear: a
	 * listener others can reach is TLS unless the operator says
	 * otherwise (a TLS proxy in front, say).
	 */
	if (srv->tls == NULL && !o->allow_plain_http &&
	    server_listens_beyond_loopback(srv)) {
		*err = xasprintf("refusing to listen on '%s%s%s:%d' without "
				 "TLS: set tls_cert and tls_key, or "
				 "allow_plain_http = true",
		    strchr(o->listen_host, ':') ? "[" : "", o->listen_host,
		    strchr(o->listen_host, ':') ? "]" : "", o->listen_port);
		return -1;
	}
	return 0;
}

/*
 * Bind the path once ourselves: lws creates a vhost even when binding its
 * Unix socket fails (it only logs), so this is where a path we cannot use
 * becomes an error with its reason.
 */
static int
probe_unix(const char *path, char **err)
{
	struct sockaddr_un sun;
	int		   fd, r, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	hx_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		*err = xasprintf("cannot create socket '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	saved = errno;
	close(fd);
	if (r != 0) {
		*err = xasprintf("cannot create socket '%s': %s", path,
		    strerror(saved));
		return -1;
	}
	unlink(path);
	return 0;
}

/*
 * Make sure the socket path can be created: the directory exists (we
 * create one level, as /run/horcrux needs after boot), a stale socket is
 * removed, a live one means another daemon is running.
 */
static int
prepare_socket(const char *path, char **err)
{
	struct sockaddr_un sun;
	struct stat	   st;
	char		  *dir, *slash;
	int		   fd, r;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) != 0 && errno == ENOENT)
		(void)mkdir(dir, 0755);
	r = 0;
	if (stat(dir, &st) != 0)
		r = errno;
	else if (!S_ISDIR(st.st_mode))
		r = ENOTDIR;
	else if (access(dir, W_OK | X_OK) != 0)
		r = errno;
	free(dir);
	if (r != 0) {
		*err = xasprintf("cannot create socket '%s': %s", path,
		    strerror(r));
		return -1;
	}
	if (lstat(path, &st) != 0)
		return probe_unix(path, err);
	if (!S_ISSOCK(st.st_mode)) {
		*err = xasprintf("cannot create socket '%s': a file that is "
				 "not a socket is in the way",
		    path);
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	hx_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	close(fd);
	if (r == 0) {
		*err = xasprintf("cannot create socket '%s': another "
				 "horcruxd is listening on it",
		    path);
		return -1;
	}
	if (unlink(path) != 0) {
		*err = xasprintf("cannot remove stale socket '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	return probe_unix(path, err);
}

/*
 * Share out the descriptors (RLIMIT_NOFILE, raised at start to what
 * max_clients needs: admit_fd_need): some stay outside lws for the
 * sampler's /proc and statvfs reads, libvirt, SQLite and the log; of
 * what lws may poll, some are kept from TCP peers, so a flood of idle TCP
 * connections can neither starve the sampler ("Too many open files") nor
 * lock root@local out of the Unix socket (admit_fd_share). A limit too
 * low for max_clients admits fewer, said once here.
 */
static void
fd_budget(struct server *srv, struct lws_context_creation_info *info)
{
	const struct options *o = srv->opts;
	struct admit_fds      fds;
	struct rlimit	      rl;
	uint64_t	      lim = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		memset(&rl, 0, sizeof rl);
	else
		lim = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
	admit_fd_share(lim, (unsigned)o->max_clients,
	    (unsigned)o->reserved_unix_clients, (unsigned)srv->nladdrs + 1,
	    &fds);
	srv->tcp_max = fds.tcp_max;
	srv->conns_max = fds.lws_fds - ((unsigned)srv->nladdrs + 1 + 2);
	srv->clients_max = fds.clients_max;
	srv->unix_reserved = fds.unix_reserved;
	/*
	 * Not info->fd_limit_per_thread: below the soft limit, lws 4.1 finds
	 * a descriptor's connection by a linear search of its table, once
	 * per event, which with 10,000 connections was a fifth of the
	 * daemon's time. lws gets the whole limit and direct look-ups; the
	 * accept filter (conn_accepted) keeps the budget instead.
	 */
	srv->nfd_peer = (size_t)fds.lim;
	srv->fd_peer = xcalloc(srv->nfd_peer, sizeof *srv->fd_peer);
	if (fds.clients_max < (unsigned)o->max_clients)
		log_warn("descriptors: max_clients (%d) needs %llu, the limit "
			 "is %llu (RLIMIT_NOFILE, hard limit %llu): admitting "
			 "at most %u WebSocket clients",
		    o->max_clients,
		    (unsigned long long)admit_fd_need((unsigned)o->max_clients),
		    (unsigned long long)fds.lim,
		    (unsigned long long)(rl.rlim_max == RLIM_INFINITY ?
			    fds.lim :
			    rl.rlim_max),
		    fds.clients_max);
	log_debug("descriptors: %llu, lws may poll %u, TCP peers %u, "
		  "WebSocket clients %u (%u for the Unix socket)",
	    (unsigned long long)fds.lim, fds.lws_fds, fds.tcp_max,
	    fds.clients_max, fds.unix_reserved);
}

/*
 * No lws validity pings: the sessions have their own heartbeat (DESIGN
 * §3). lws's default re-inserts a timer into a sorted list on every
 * write, a walk of every connection's timer, so 10,000 subscribers made
 * each fan-out quadratic.
 */
static const lws_retry_bo_t no_validity = { NULL, 0, 0, 0, 0, 0 };

/*
 * HSTS on every reply of a TLS listener, lws's own (a 404, a refused
 * upgrade) included: lws adds a vhost's canned headers to each status
 * line it writes. A year; no includeSubDomains: the host's other names
 * are not ours to speak for.
 */
static const struct lws_protocol_vhost_options hsts = { NULL, NULL,
	"Strict-Transport-Security:", "max-age=31536000" };

static struct lws_vhost *
make_vhost(struct server *srv, const char *name, const char *iface, int port,
    int flags)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof info);
	/*
	 * The TCP listener is TLS-only when tls_cert is set: lws makes the
	 * SSL_CTX, server-tls.c fills it (LOAD_EXTRA_SERVER_VERIFY_CERTS).
	 * HTTP/1.1 only: lws would offer h2 by ALPN, and the reply and
	 * WebSocket code here is written for HTTP/1.1.
	 */
	if (srv->tls != NULL && !(flags & LWS_SERVER_OPTION_UNIX_SOCK)) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		    LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX;
		info.alpn = "http/1.1";
		info.headers = &hsts;
	}
	info.vhost_name = name;
	info.port = port;
	info.iface = iface;
	info.protocols = protocols;
	info.extensions = extensions;
	info.retry_and_idle_policy = &no_validity;
	info.options |= LWS_SERVER_OPTION_VALIDATE_UTF8 |
	    LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
	info.options |= (uint64_t)flags;
	/*
	 * A connection must bring a complete request within request_timeout
	 * (lws's idle-header timer, which runs from the first byte to the
	 * last header and so also ends a request trickled in slowly), and
	 * may sit idle between requests as long.
	 */
	info.timeout_secs_ah_idle = (unsigned)srv->opts->request_timeout;
	info.keepalive_timeout = srv->opts->request_timeout;
	info.timeout_secs = 30;
	return lws_create_vhost(srv->ctx, &info);
}

int
server_init(struct server *srv, const struct options *o, struct mailbox *mb,
    char **err)
{
	struct lws_context_creation_info info;
	struct listen_addr		*la;
	struct lws_vhost		*vh;
	struct hx_buf			 where;
	char				 name[32];
	unsigned char			 rnd[16];
	double				 tick_s;
	size_t				 i;
	int				 v6;

	srv->opts = o;
	srv->mb = mb;
	srv->start_ns = hx_mono_ns();
	srv->snap = snapshot_new();
	replay_init(&srv->replay,
	    o->replay_events > 0 ? (size_t)o->replay_events : REPLAY_EVENTS,
	    REPLAY_AGE_NS, REPLAY_BYTES);
	if (hx_random_bytes(rnd, sizeof rnd) != 0) {
		*err = xstrdup("cannot read random bytes for the boot_id");
		return -1;
	}
	for (i = 0; i < sizeof rnd; i++)
		snprintf(srv->boot_id + 2 * i, 3, "%02x", rnd[i]);
	TAILQ_INIT(&srv->sessions);
	admit_table_init(&srv->peers);
	admit_table_init(&srv->ws_users);
	admit_table_init(&srv->ws_addrs);
	TAILQ_INIT(&srv->pending);
	http_hosts_init(srv);

	if ((srv->nladdrs == 0 && server_resolve_listen(srv, o, err) != 0) ||
	    prepare_socket(o->socket_path, err) != 0)
		return -1;

	server_sync_lws_log();
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (srv->tls != NULL)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.user = srv;
	info.max_http_header_data = 8192;
	fd_budget(srv, &info);
	if ((srv->ctx = lws_create_context(&info)) == NULL) {
		*err = xstrdup("cannot create the libwebsockets context");
		return -1;
	}
	hx_buf_init(&where, 4096);
	/*
	 * One vhost per address, its iface the numeric address. An IPv4
	 * vhost must have IPv6 off: lws would otherwise parse the address
	 * into the wrong half of a sockaddr_in6 and bind [::].
	 */
	for (i = 0; i < srv->nladdrs; i++) {
		la = &srv->laddrs[i];
		snprintf(name, sizeof name, "tcp%zu", i);
		if ((vh = make_vhost(srv, name, la->host, o->listen_port,
			 la->family == AF_INET ?
			     LWS_SERVER_OPTION_DISABLE_IPV6 :
			     0)) == NULL) {
			*err = srv->tls != NULL ?
			    xasprintf("cannot set up TLS on '%s:%d' (the log "
				      "says why)",
				la->host, o->listen_port) :
			    xasprintf("cannot bind '%s:%d'", la->host,
				o->listen_port);
			hx_buf_release(&where);
			return -1;
		}
		if (srv->vh_tcp == NULL)
			srv->vh_tcp = vh;
		hx_buf_addf(&where, "%s%s", i > 0 ? ", " : "", la->host);
	}
	if ((srv->vh_unix = make_vhost(srv, "unix", o->socket_path, 0,
		 LWS_SERVER_OPTION_UNIX_SOCK)) == NULL) {
		*err = xasprintf("cannot create socket '%s'", o->socket_path);
		hx_buf_release(&where);
		return -1;
	}
	mailbox_set_context(mb, srv->ctx);

	/* Check timers often enough for the shortest configured period. */
	tick_s = o->heartbeat_interval;
	if (o->subscription_timeout < tick_s)
		tick_s = o->subscription_timeout;
	if (o->peer_timeout < tick_s)
		tick_s = o->peer_timeout;
	tick_s /= 4;
	if (tick_s > 1)
		tick_s = 1;
	if (tick_s < 0.05)
		tick_s = 0.05;
	srv->tick_us = (uint64_t)(tick_s * 1e6);
	lws_sul_schedule(srv->ctx, 0, &srv->tick, tick,
	    (lws_usec_t)srv->tick_us);
	v6 = strchr(o->listen_host, ':') != NULL;
	if (strcmp(where.data, o->listen_host) == 0)
		log_info("listening on %s%s%s:%d%s and %s", v6 ? "[" : "",
		    o->listen_host, v6 ? "]" : "", o->listen_port,
		    srv->tls ? " (TLS)" : "", o->socket_path);
	else
		log_info("listening on %s:%d (%s%s) and %s", o->listen_host,
		    o->listen_port, where.data, srv->tls ? "; TLS" : "",
		    o->socket_path);
	hx_buf_release(&where);
	return 0;
}

void
server_set_identity(struct server *srv, struct access_cache *cache,
    struct worker *worker)
{
	srv->cache = cache;
	srv->worker = worker;
}

void
server_set_virt(struct server *srv, struct virt *virt, struct worker *vworker)
{
	srv->virt = virt;
	srv->vworker = vworker;
}

void
server_request_stop(struct server *srv)
{
	srv->stop_requested = 1;
	if (srv->ctx != NULL)
		lws_cancel_service(srv->ctx);
}

void
server_sync_lws_log(void)
{
	lws_set_log_level(hx_log_enabled(HX_LOG_DEBUG) ? LLL_ERR | LLL_WARN :
							 LLL_ERR,
	    lws_log_bridge);
}

void
server_request_reload(struct server *srv)
{
	srv->reload_requested = 1;
	if (srv->ctx != NULL)
		lws_cancel_service(srv->ctx);
}

void
server_run(struct server *srv)
{
	/*
	 * What start-up posted (the first host sample) reaches the snapshot
	 * before the first request is read: ready means it can be served.
	 */
	mailbox_drain(srv->mb, drain_one, srv);
	while (!srv->done) {
		if (lws_service(srv->ctx, 0) < 0)
			break;
		if (srv->stop_requested && !srv->stopping)
			begin_stop(srv);
		if (srv->reload_requested && !srv->stopping) {
			srv->reload_requested = 0;
			if (srv->reload != NULL)
				reload_run(srv->reload);
		}
	}
}

void
server_release(struct server *srv)
{
	if (srv->ctx != NULL) {
		mailbox_set_context(srv->mb, NULL);
		lws_context_destroy(srv->ctx);
		srv->ctx = NULL;
	}
	snapshot_free(srv->snap);
	srv->snap = NULL;
	replay_release(&srv->replay);
	while (srv->ntick_vms > 0)
		frame_unref(srv->tick_vms[--srv->ntick_vms]);
	free(srv->tick_vms);
	srv->tick_vms = NULL;
	free(srv->laddrs);
	srv->laddrs = NULL;
	srv->nladdrs = 0;
	admit_table_release(&srv->peers);
	admit_table_release(&srv->ws_users);
	admit_table_release(&srv->ws_addrs);
	free(srv->fd_peer);
	srv->fd_peer = NULL;
	srv->nfd_peer = 0;
	if (srv->opts != NULL)
		unlink(srv->opts->socket_path);
	http_release(srv);
	server_tls_free(srv);
}
