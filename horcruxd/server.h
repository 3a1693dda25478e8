/*
 * server.h - the service thread's state and the lws glue.
 *
 * One struct server owns the lws context, both listeners (TCP and the Unix
 * socket), the list of WebSocket sessions and the shutdown state; the
 * latest metrics and inventory are its snapshot's (snapshot.h). Only the
 * service thread touches it, except stop_requested and reload_requested
 * (signal handlers) and the mailbox (its own lock).
 */
#ifndef HORCRUXD_SERVER_H
#define HORCRUXD_SERVER_H

#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/queue.h>

#include <libwebsockets.h>

#include "access.h"
#include "admit.h"
#include "frame.h"
#include "worker.h"
#include "hx-util.h"
#include "mailbox.h"
#include "options.h"
#include "outq.h"
#include "replay.h"
#include "snapshot.h"
#include "hx-proto.h"

/* A WebSocket session (DESIGN §3), embedded in struct conn. */
struct session {
	TAILQ_ENTRY(session) entry;
	struct lws     *wsi;
	struct identity id;
	uint32_t	topics; /* bit per topic_id */
	int		batch; /* VmMetricsBatch instead of VmMetrics */
	int		subscribed; /* a valid topics message came */
	int		live; /* ESTABLISHED and not CLOSED */
	uint64_t	opened_ns;
	uint64_t	last_rx_ns;
	uint64_t	next_ping_ns;
	struct hx_buf	rx; /* fragments of one message */
	struct outq	out; /* frames waiting to be written */
	int		send_ping; /* a WebSocket ping frame is due */
	int		close_code; /* close after the queue drains */
	const char     *close_reason;
	uint64_t	frames_sent;
	int		closed_slow; /* closed as "too slow" */
	int		on_unix;
	int		msgpack; /* on WS_PROTOCOL_MSGPACK: binary frames */
	char		addr[64]; /* TCP peer; "" on Unix */
	/* Its place in the admission counts (server_session_counted). */
	struct admit_node *user_node, *addr_node;
};

/*
 * The WebSocket subprotocols (Sec-WebSocket-Protocol): JSON text is the
 * default, also for a client that names none; MessagePack on request.
 */
#define WS_PROTOCOL_JSON "horcrux"
#define WS_PROTOCOL_MSGPACK "horcrux.msgpack"

#define CONN_MAX_HEADERS 6

/* Per-connection user data (lws allocates and zeroes it). */
struct conn {
	uint64_t id; /* for replies that come later */
	TAILQ_ENTRY(conn) pending_entry; /* waiting for a worker job */
	int	    pending;
	struct lws *wsi;
	/* The request body, read to the end before dispatch (capped). */
	struct hx_buf req;
	int	      reading_body;
	/* The response, written on HTTP_WRITEABLE. */
	int	       status;
	const char    *ctype;
	char	      *body;
	size_t	       body_len;
	char	      *hname[CONN_MAX_HEADERS];
	char	      *hvalue[CONN_MAX_HEADERS];
	int	       nheaders;
	int	       headers_due; /* status line not yet written */
	int	       close_after;
	int	       linger; /* close_after, once the client has closed */
	int	       bodiless; /* dispatched without a body: reply inline */
	char	       remote[128]; /* TCP peer, read once per connection */
	int	       is_ws;
	struct session s;
};

TAILQ_HEAD(conn_list, conn);

/* When an API key's use was last written to the store. */
struct key_seen {
	char	keyid[72];
	int64_t written_ms;
};

/*
 * Password checks per user or address, for the 429 rule: a check holds a
 * slot from its admission; a success gives it back, a failure keeps it
 * for the window.
 */
struct login_limit {
	char	key[160]; /* "u:alice" or "a:10.0.0.1" */
	int64_t at[5]; /* epoch ms held; 0: free */
};

TAILQ_HEAD(session_list, session);

/* One address the TCP listener binds: listen's host resolved. */
struct listen_addr {
	char host[64]; /* numeric, no brackets */
	int  family; /* AF_INET or AF_INET6 */
};

struct realms;

struct server {
	const struct options *opts;
	struct lws_context   *ctx;
	struct lws_vhost     *vh_tcp; /* the first TCP listener */
	struct listen_addr   *laddrs; /* every address bound */
	size_t		      nladdrs;
	struct admit_table    peers; /* TCP connections by address */
	struct admit_node   **fd_peer; /* fd -> its address's count */
	size_t		      nfd_peer;
	unsigned	      ntcp; /* open TCP connections */
	unsigned	      tcp_max; /* what the descriptors allow */
	unsigned	      nunix; /* open Unix socket connections */
	unsigned	      conns_max; /* TCP and Unix together */
	/* WebSocket sessions by user and (TCP) by address; TCP ones. */
	struct admit_table    ws_users;
	struct admit_table    ws_addrs;
	unsigned	      ntcp_sessions;
	unsigned	      clients_max; /* max_clients, or what fits */
	unsigned	      unix_reserved; /* of them, for the socket */
	struct admit_refusals refusals; /* 503s, logged once a second */
	struct lws_vhost     *vh_unix;
	struct mailbox	     *mb;
	struct session_list   sessions;
	unsigned	      nsessions;
	struct snapshot	     *snap; /* the latest state */
	char		      boot_id[33]; /* random per start, hex */
	int64_t		      seq; /* the newest discrete event's seq */
	struct replay	      replay; /* the newest discrete events */
	struct frame	    **tick_vms; /* VmMetrics of the VM tick under
					   way (references), for batches */
	size_t		      ntick_vms, tick_vms_cap;
	int64_t		      tick_ts_ms; /* the newest sample's time */
	uint64_t	      vm_ticks; /* VM ticks ended */
	/* What closed sessions counted (GET /metrics adds the open ones'). */
	uint64_t	       ws_frames_sent;
	uint64_t	       ws_frames_coalesced;
	uint64_t	       ws_closed_slow;
	uint64_t	       start_ns;
	lws_sorted_usec_list_t tick;
	uint64_t	       tick_us;
	volatile sig_atomic_t  stop_requested;
	volatile sig_atomic_t  reload_requested; /* SIGHUP */
	int		       stopping;
	uint64_t	       stop_deadline_ns;
	int		       done;
	struct access_cache   *cache; /* identities, from the store */
	struct worker	      *worker;
	struct worker	      *login_pool; /* password checks, bounded */
	const struct realms   *realms; /* sign-in realms (realm.h) */
	struct oidc	      *oidc; /* the oidc realm, or NULL */
	struct conn_list       pending; /* HTTP requests awaiting jobs */
	uint64_t	       next_conn_id;
	char		     **hosts; /* names a Host header may use */
	size_t		       nhosts;
	struct login_limit    *limits;
	size_t		       nlimits;
	struct key_seen	      *keys_seen; /* API key last_used, batched */
	size_t		       nkeys_seen;
	struct virt	      *virt; /* libvirt, or NULL */
	struct worker	      *vworker; /* runs libvirt calls */
	struct history	      *history; /* metrics history, or NULL */
	struct notify	      *notify; /* notification delivery */
	struct alerts	      *alerts; /* the alert engine, or NULL */
	struct reload	      *reload; /* SIGHUP's work (reload.h), or NULL */
	struct server_tls     *tls; /* TLS material; NULL: plain TCP */
};

/* Give the server its identity cache and worker (both owned by the caller). */
void server_set_identity(struct server *srv, struct access_cache *cache,
    struct worker *worker);
/* Give the server libvirt and the worker for its calls (caller owns). */
void server_set_virt(struct server *srv, struct virt *virt,
    struct worker *vworker);
/*
 * Resolve the listen host to the addresses to bind (a numeric address is
 * itself; a name is every address it resolves to) and try each bind;
 * load and check the TLS certificate and key (server_tls_load); refuse a
 * plain listener beyond loopback unless allow_plain_http (DESIGN §12).
 * Call before server_init. Returns 0, or -1 with *err (caller frees).
 */
int server_resolve_listen(struct server *srv, const struct options *opts,
    char **err);
/* Does any bound TCP address reach beyond loopback? */
int server_listens_beyond_loopback(const struct server *srv);
/*
 * Create the lws context and both listeners. Returns 0, or -1 with *err
 * (caller frees) such as "cannot bind '127.0.0.1:8006': Address already
 * in use".
 */
int server_init(struct server *srv, const struct options *opts,
    struct mailbox *mb, char **err);
/* Run the loop until a requested stop has finished. */
void server_run(struct server *srv);
void server_release(struct server *srv);
/* Async-signal-safe: ask the loop to shut down. */
void server_request_stop(struct server *srv);
/*
 * Async-signal-safe: ask the loop to run srv->reload (a SIGHUP's reload)
 * on the service thread, between two turns, never during a stop.
 */
void server_request_reload(struct server *srv);
/* Set libwebsockets' own logging to follow hx-log's level (debug or not). */
void server_sync_lws_log(void);

/* server-tls.c */
/*
 * Load tls_cert (a PEM certificate, then its chain) and tls_key (its PEM
 * private key) of o into srv, checking that both are readable PEM, that
 * the key belongs to the certificate and that the certificate is valid
 * now. Nothing to do (0) when o sets no TLS. Returns 0, or -1 with *err
 * (caller frees), one line naming the file: "TLS certificate
 * '/etc/horcrux/cert.pem' expired on Jan  2 00:00:00 2020 GMT".
 */
int server_tls_load(struct server *srv, const struct options *o, char **err);
/*
 * lws made a TLS vhost's SSL_CTX (LOAD_EXTRA_SERVER_VERIFY_CERTS): require
 * TLS 1.2 or later, install the loaded material, keep ctx for reloads.
 * 0, or -1 (logged) to fail the vhost.
 */
int server_tls_ctx_ready(struct server *srv, void *ssl_ctx);
/*
 * Re-read tls_cert and tls_key as o names them (the reloaded options; the
 * paths may have changed), check them as server_tls_load does, and install
 * them into every TLS listener: each connection accepted afterwards gets
 * the new certificate, each open one (a live WebSocket session) keeps its
 * own and stays up. Service thread only (SIGHUP's handler must only ask
 * for it). Returns 0 (also when neither the old nor o set TLS), or -1
 * with *err (caller frees) leaving the old certificate in service: bad
 * files, TLS turned on or off (the listener would change: a restart), or
 * a key of another type (RSA to EC: a restart).
 */
int server_tls_reload(struct server *srv, const struct options *o, char **err);
/* Is the TCP listener TLS? */
int server_tls_on(const struct server *srv);
/* Let the TLS material go (server_release calls it; NULL-safe). */
void server_tls_free(struct server *srv);

/* ws-session.c */
int session_callback(struct server *srv, struct lws *wsi,
    enum lws_callback_reasons reason, struct conn *c, void *in, size_t len);
/*
 * Deliver a drained frame (its reference) to every session allowed it;
 * a batch session gets no single VmMetrics (session_vm_tick_end sends
 * it the tick's batch).
 */
void session_fanout(struct server *srv, struct frame *f);
/*
 * A VM tick ended (the collector's inventory came): send each batch
 * session one VmMetricsBatch of the tick's VMs it may see, one frame
 * built per distinct set of VMs, then let the tick's frames go.
 */
void session_vm_tick_end(struct server *srv);
/* Periodic checks: heartbeats, subscription and silence timeouts. */
void session_tick(struct server *srv, uint64_t now_ns);
/* Queue f (a new reference is taken) to one session. */
void session_send(struct session *s, struct frame *f);
/* Close s with code after what is queued has been sent. */
void session_close(struct session *s, int code, const char *reason);

/* server.c: count s (opened) in, or out (closed), of the admission. */
void server_session_counted(struct server *srv, struct session *s);
void server_session_uncounted(struct server *srv, struct session *s);

/* Re-check every live session after the identity cache changed. */
void session_refresh_all(struct server *srv);

/* http-reply.c */
int http_callback(struct server *srv, struct lws *wsi,
    enum lws_callback_reasons reason, struct conn *c, void *in, size_t len);
/* http-route.c */
/* A worker job came back: answer its request, apply its snapshot. */
void http_job_done(struct server *srv, struct job *j);
/*
 * Print the route table: method, pattern, access, [self]; for tests. A
 * route o makes public (metrics_public) is printed public.
 */
void http_dump_routes(FILE *f, const struct options *o);
/* http-guard.c */
/* Work out which Host header values are ours (DNS rebinding defence). */
void http_hosts_init(struct server *srv);
/* Forget them (http_hosts_init finds them again). */
void http_hosts_release(struct server *srv);
void http_release(struct server *srv);
/* Is host (a Host header value, port allowed) one of ours? */
int http_host_ok(const struct server *srv, const char *host);
/*
 * Is the request's Origin one that may use a cookie here: listed in
 * allowed_origins, or this server itself (one of our names, our port)?
 * No Origin: 0.
 */
int http_origin_ok(const struct server *srv, struct lws *wsi);
/* server.c */
/*
 * The peer's address of wsi as text ("10.0.0.1", "2001:db8::1"; an
 * IPv4-mapped IPv6 address as IPv4), or "" on the Unix socket.
 */
void server_peer_addr(struct server *srv, struct lws *wsi, char *buf,
    size_t len);
/* http-reply.c: answer a refused WebSocket upgrade with a JSON error. */
void http_refuse(struct lws *wsi, int status, const char *code,
    const char *message);

#endif
