/*
 * server.h - the service thread's state and the lws glue.
 *
 * One struct server owns the lws context, both listeners (TCP and the Unix
 * socket), the list of WebSocket sessions, the latest snapshot per metric
 * topic and the shutdown state. Only the service thread touches it, except
 * stop_requested (a signal handler) and the mailbox (its own lock).
 */
#ifndef HORCRUXD_SERVER_H
#define HORCRUXD_SERVER_H

#include <signal.h>
#include <stdint.h>
#include <sys/queue.h>

#include <libwebsockets.h>

#include "access.h"
#include "frame.h"
#include "hx-util.h"
#include "mailbox.h"
#include "options.h"
#include "topic.h"

/* A WebSocket session (DESIGN §3), embedded in struct conn. */
struct session {
	TAILQ_ENTRY(session)	 entry;
	struct lws		*wsi;
	struct identity		 id;
	uint32_t		 topics;	/* bit per topic_id */
	int			 subscribed;	/* a valid topics message came */
	int			 live;		/* ESTABLISHED and not CLOSED */
	uint64_t		 opened_ns;
	uint64_t		 last_rx_ns;
	uint64_t		 next_ping_ns;
	struct hx_buf		 rx;		/* fragments of one message */
	struct frame		**q;		/* discrete frames, a ring */
	size_t			 qhead, qlen, qcap;
	struct frame		**slots;	/* coalesced metric frames */
	size_t			 nslots, slotcap;
	int			 send_ping;	/* a WebSocket ping frame is due */
	int			 close_code;	/* close after the queue drains */
	const char		*close_reason;
	uint64_t		 frames_sent;
};

/* Per-connection user data (lws allocates and zeroes it). */
struct conn {
	/* HTTP: a response body waiting for HTTP_WRITEABLE. */
	char		*body;
	size_t		 body_len;
	int		 is_ws;
	struct session	 s;
};

TAILQ_HEAD(session_list, session);

struct server {
	const struct options	*opts;
	struct lws_context	*ctx;
	struct lws_vhost	*vh_tcp;
	struct lws_vhost	*vh_unix;
	struct mailbox		*mb;
	struct session_list	 sessions;
	unsigned		 nsessions;
	struct frame		*latest[TOPIC_COUNT];	/* snapshots */
	uint64_t		 start_ns;
	lws_sorted_usec_list_t	 tick;
	uint64_t		 tick_us;
	volatile sig_atomic_t	 stop_requested;
	int			 stopping;
	uint64_t		 stop_deadline_ns;
	int			 done;
};

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

/* ws-session.c */
int session_callback(struct server *srv, struct lws *wsi,
    enum lws_callback_reasons reason, struct conn *c, void *in, size_t len);
/* Deliver a drained frame to every session that may see it. */
void session_fanout(struct server *srv, struct frame *f);
/* Periodic checks: heartbeats, subscription and silence timeouts. */
void session_tick(struct server *srv, uint64_t now_ns);
/* Queue f (a new reference is taken) to one session. */
void session_send(struct session *s, struct frame *f);
/* Close s with code after what is queued has been sent. */
void session_close(struct session *s, int code, const char *reason);

/* http-route.c */
int http_callback(struct server *srv, struct lws *wsi,
    enum lws_callback_reasons reason, struct conn *c, void *in, size_t len);
/* Answer a refused WebSocket upgrade with a JSON error and status. */
void http_refuse(struct lws *wsi, int status, const char *code,
    const char *message);

#endif
