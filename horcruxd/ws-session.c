/*
 * ws-session.c - WebSocket sessions: subscriptions, fan-out, heartbeats
 * and the protocol rules of DESIGN §3.
 *
 * Each session's outgoing frames wait in an outq (outq.c): metric frames
 * (NodeMetrics, VmMetrics, Ping) in coalescing slots keyed by type and
 * id, so a slow reader always gets the newest value and never a backlog;
 * everything else in a bounded FIFO, and a session that overflows it is
 * closed with 1013. Frames are shared, never copied. One frame is written per
 * SERVER_WRITEABLE, the lws rule, and only when lws says the socket can
 * take it, so one stalled client never delays another.
 */
#include <stdlib.h>
#include <string.h>

#include "hx-event.h"
#include "hx-log.h"
#include "outq.h"
#include "server.h"
#include "ws-parse.h"

#define SESSION_QUEUE_MAX 1024 /* discrete frames per session */
#define SESSION_RX_MAX (64 * 1024) /* one client message */
#define CLOSE_GRACE_S 3 /* to flush a close, then kill */
#define CLOSE_TRY_AGAIN_LATER 1013
#define SESSION_WRITE_BURST 32 /* frames per WRITEABLE */

static uint64_t
secs_to_ns(double s)
{
	return (uint64_t)(s * 1e9);
}

static void
want_write(struct session *s)
{
	lws_callback_on_writable(s->wsi);
}

void
session_close(struct session *s, int code, const char *reason)
{
	if (s->close_code != 0)
		return;
	s->close_code = code;
	s->close_reason = reason;
	/*
	 * A peer that does not read never makes the socket writable again:
	 * give the close frame a few seconds, then drop the connection.
	 */
	lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_S);
	want_write(s);
}

void
session_send(struct session *s, struct frame *f)
{
	if (!s->live || s->close_code != 0)
		return;
	if (outq_push(&s->out, f) < 0) {
		log_warn("closing session of %s: %d events unsent, the client "
			 "is not reading",
		    s->id.who, SESSION_QUEUE_MAX);
		outq_clear(&s->out);
		s->closed_slow = 1;
		session_close(s, CLOSE_TRY_AGAIN_LATER, "too slow");
		return;
	}
	want_write(s);
}

/* Build, send and drop a frame meant for one session only. */
static void
send_one(struct session *s, const char *type, json_t *data)
{
	struct frame *f = frame_new(type, data, -1, NULL, NULL);

	session_send(s, f);
	frame_unref(f);
}

static void
send_error(struct session *s, const char *code, const char *message,
    const char *topic)
{
	send_one(s, "Error",
	    hx_event_error(code, message, topic, hx_wall_ms()));
}

static int
may_see_frame(struct session *s, struct frame *f)
{
	if (s->close_code != 0)
		return 0;
	if (f->topic < 0)
		return 1;
	if (!(s->topics & (1u << f->topic)))
		return 0;
	if (hx_topics[f->topic].per_vm && f->vm_id != NULL) {
		/*
		 * Escaped: every name has its path, "..", "a\tb" too. Made
		 * once per frame, not once per session it is offered to.
		 */
		if (f->acl_path == NULL)
			f->acl_path = hx_rbac_path_fill("/vms/{id}", f->vm_id);
		return access_allowed(&s->id, HX_PRIV_VM_AUDIT, f->acl_path);
	}
	if (hx_topics[f->topic].alt_priv != 0) {
		/*
		 * Alerts: one about a VM needs alt_priv (VmAudit) on that
		 * VM, one about the node priv (SysAudit) on path (/nodes).
		 */
		if (f->vm_id == NULL)
			return access_allowed(&s->id, hx_topics[f->topic].priv,
			    hx_topics[f->topic].path);
		if (f->acl_path == NULL)
			f->acl_path = hx_rbac_path_fill("/vms/{id}", f->vm_id);
		return access_allowed(&s->id, hx_topics[f->topic].alt_priv,
		    f->acl_path);
	}
	return 1;
}

/* f itself, or its lesser variant when s may not see its private fields. */
static struct frame *
frame_for(const struct session *s, struct frame *f)
{
	int b;

	if (f->lesser == NULL)
		return f;
	if (f->owner != NULL && strcmp(f->owner, s->id.who) == 0)
		return f;
	for (b = 0; b < HX_PRIV_COUNT; b++) {
		if ((f->full_privs & (1u << b)) &&
		    access_allowed(&s->id, 1u << b, f->full_path))
			return f;
	}
	return f->lesser;
}

void
session_fanout(struct server *srv, struct frame *f)
{
	struct session *s;
	int		vm_metrics = f->topic == HX_TOPIC_VM_METRICS;

	TAILQ_FOREACH(s, &srv->sessions, entry) {
		if (vm_metrics && s->batch)
			continue; /* its batch comes at the tick's end */
		if (may_see_frame(s, f))
			session_send(s, frame_for(s, f));
	}
	frame_unref(f);
}

/* Sessions that saw the same VMs of a tick, and their one frame. */
struct batch_group {
	uint64_t      hash;
	uint64_t     *bits; /* the visible VMs' indexes */
	struct frame *f;
};

static uint64_t
bits_hash(const uint64_t *bits, size_t words)
{
	uint64_t h = 14695981039346656037ULL;
	size_t	 i;

	for (i = 0; i < words; i++)
		h = (h ^ bits[i]) * 1099511628211ULL;
	return h;
}

/* A new batch of the VMs among vms (n) that s may see (caller unrefs). */
static struct frame *
batch_for(struct session *s, struct frame *const *vms, size_t n, int64_t ts_ms)
{
	struct frame **pick = xcalloc(n > 0 ? n : 1, sizeof *pick);
	struct frame  *f;
	size_t	       i, k = 0;

	for (i = 0; i < n; i++) {
		if (may_see_frame(s, vms[i]))
			pick[k++] = vms[i];
	}
	f = frame_new_vm_batch(ts_ms, pick, k);
	free(pick);
	return f;
}

void
session_vm_tick_end(struct server *srv)
{
	struct batch_group *groups = NULL, *g;
	struct frame	  **pick = NULL;
	struct session	   *s;
	uint64_t	   *bits;
	size_t		    n = srv->ntick_vms, words = (n + 63) / 64;
	size_t		    ngroups = 0, nsessions = 0, i, k;
	int64_t ts = srv->tick_ts_ms > 0 ? srv->tick_ts_ms : hx_wall_ms();

	srv->vm_ticks++;
	bits = xcalloc(words > 0 ? words : 1, sizeof *bits);
	pick = xcalloc(n > 0 ? n : 1, sizeof *pick);
	/*
	 * Group the sessions by the set of VMs they may see (a bitmap of
	 * the tick's indexes) and build each distinct batch once. The
	 * groups are few (one per distinct set of rights), so a linear
	 * look-up by hash is enough.
	 */
	TAILQ_FOREACH(s, &srv->sessions, entry) {
		if (!s->batch || !(s->topics & (1u << HX_TOPIC_VM_METRICS)) ||
		    s->close_code != 0)
			continue;
		nsessions++;
		memset(bits, 0, (words > 0 ? words : 1) * sizeof *bits);
		for (i = 0; i < n; i++) {
			if (may_see_frame(s, srv->tick_vms[i]))
				bits[i / 64] |= 1ULL << (i % 64);
		}
		uint64_t h = bits_hash(bits, words);
		for (g = NULL, i = 0; i < ngroups; i++) {
			if (groups[i].hash == h &&
			    memcmp(groups[i].bits, bits,
				words * sizeof *bits) == 0) {
				g = &groups[i];
				break;
			}
		}
		if (g == NULL) {
			groups = xrealloc(groups,
			    (ngroups + 1) * sizeof *groups);
			g = &groups[ngroups++];
			g->hash = h;
			g->bits = xcalloc(words > 0 ? words : 1, sizeof *bits);
			memcpy(g->bits, bits, words * sizeof *bits);
			for (k = 0, i = 0; i < n; i++) {
				if (bits[i / 64] & (1ULL << (i % 64)))
					pick[k++] = srv->tick_vms[i];
			}
			g->f = frame_new_vm_batch(ts, pick, k);
		}
		session_send(s, g->f);
	}
	if (nsessions > 0)
		log_debug("VmMetricsBatch: %zu VMs to %zu sessions in %zu "
			  "distinct frames",
		    n, nsessions, ngroups);
	for (i = 0; i < ngroups; i++) {
		frame_unref(groups[i].f);
		free(groups[i].bits);
	}
	free(groups);
	free(pick);
	free(bits);
	while (srv->ntick_vms > 0)
		frame_unref(srv->tick_vms[--srv->ntick_vms]);
	srv->tick_ts_ms = 0;
}

/* Can this session subscribe to topic t at all? */
static int
may_subscribe(const struct session *s, int t)
{
	if (hx_topics[t].priv == 0)
		return s->id.authenticated;
	/* Per-VM topics are visible to whoever may audit some VM. */
	if (hx_topics[t].per_vm ?
		access_allowed_below(&s->id, hx_topics[t].priv,
		    hx_topics[t].path) :
		access_allowed(&s->id, hx_topics[t].priv, hx_topics[t].path))
		return 1;
	return hx_topics[t].alt_priv != 0 &&
	    access_allowed_below(&s->id, hx_topics[t].alt_priv,
		hx_topics[t].alt_path);
}

/*
 * Handle {"topics":[...]} (replace) or {"unsubscribe":[...]}. Answers
 * Subscribed with the resulting set, an Error per refused topic, then the
 * snapshot of every subscribed metric topic.
 */
/*
 * Replay, after Subscribed and its Errors, the retained discrete events
 * after opts->after that s may see on the topics it now holds, in seq
 * order; or say RESUME_GAP when they cannot all be given (another boot,
 * or some already left the ring). Events replayed are the ring's, all
 * older than anything the fan-out sends from now on, so nothing comes
 * twice and nothing is skipped.
 */
static void
resume(struct server *srv, struct session *s, const struct ws_sub_opts *opts)
{
	struct frame *f;
	size_t	      first, n, i;
	char	     *msg;

	replay_expire(&srv->replay, hx_mono_ns());
	if (strcmp(opts->boot_id, srv->boot_id) != 0) {
		send_error(s, "RESUME_GAP",
		    "cannot resume: the daemon restarted "
		    "(another boot_id); events may have been missed",
		    NULL);
		return;
	}
	if (!replay_covers(&srv->replay, opts->after)) {
		msg = xasprintf("cannot resume after seq %lld: the newest is "
				"%lld and the events after it are no longer "
				"all retained",
		    (long long)opts->after, (long long)srv->seq);
		send_error(s, "RESUME_GAP", msg, NULL);
		free(msg);
		return;
	}
	replay_range(&srv->replay, opts->after, &first, &n);
	/*
	 * The replay may be longer than the live queue's bound: let the
	 * queue hold it, plus the usual room for what comes live meanwhile
	 * (session_writeable restores the bound once the queue drains).
	 */
	s->out.max = s->out.qlen + n + SESSION_QUEUE_MAX;
	for (i = 0; i < n; i++) {
		f = replay_at(&srv->replay, first + i);
		if (may_see_frame(s, f))
			session_send(s, frame_for(s, f));
	}
}

static void
handle_topics(struct server *srv, struct session *s, json_t *list, int replace,
    const struct ws_sub_opts *opts)
{
	const struct snapshot_vm *vm;
	struct frame		 *f;
	json_t			 *granted, *v;
	json_t			 *errors;
	const char		 *name;
	uint32_t		  set = replace ? 0 : s->topics, added;
	size_t			  i;
	int			  t;

	errors = json_array();
	json_array_foreach(list, i, v) {
		name = json_string_value(v);
		if ((t = hx_topic_find(name)) < 0) {
			json_array_append_new(errors,
			    json_pack("{s:s,s:s}", "code", "UNKNOWN_TOPIC",
				"topic", name));
		} else if (!replace) {
			set &= ~(1u << t);
		} else if (!may_subscribe(s, t)) {
			json_array_append_new(errors,
			    json_pack("{s:s,s:s}", "code", "FORBIDDEN_TOPIC",
				"topic", name));
		} else
			set |= 1u << t;
	}
	added = set & ~s->topics;
	/* The other shape of VM metrics: its snapshot too. */
	if (replace && opts->batch != s->batch)
		added |= set & (1u << HX_TOPIC_VM_METRICS);
	if (replace)
		s->batch = opts->batch;
	s->topics = set;
	/* Only a topics message that grants something is a subscription. */
	if (replace && set != 0)
		s->subscribed = 1;

	granted = json_array();
	for (t = 0; t < HX_TOPIC_COUNT; t++) {
		if (set & (1u << t))
			json_array_append_new(granted,
			    json_string(hx_topics[t].name));
	}
	send_one(s, "Subscribed", hx_event_subscribed(granted, hx_wall_ms()));
	json_decref(granted);

	json_array_foreach(errors, i, v) {
		const char *code = json_string_value(
		    json_object_get(v, "code"));
		char *msg;

		name = json_string_value(json_object_get(v, "topic"));
		if (strcmp(code, "UNKNOWN_TOPIC") == 0)
			msg = xasprintf("unknown topic '%s'", name);
		else
			msg = xasprintf("no privilege for topic '%s'", name);
		send_error(s, code, msg, name);
		free(msg);
	}
	json_decref(errors);
	if (replace && opts->resume)
		resume(srv, s, opts);

	/* A new client draws at once: the latest sample of each new metric. */
	for (t = 0; t < HX_TOPIC_COUNT; t++) {
		if ((added & (1u << t)) &&
		    (f = snapshot_latest(srv->snap, t)) != NULL)
			session_send(s, f);
	}
	/* ...and the latest VmMetrics of every VM it may see. */
	if ((added & (1u << HX_TOPIC_VM_METRICS)) && s->batch) {
		struct frame **vms;
		size_t	       n = snapshot_vm_count(srv->snap);

		/* One batch; none before the first tick says what runs. */
		if (n > 0 || srv->vm_ticks > 0) {
			vms = xcalloc(n > 0 ? n : 1, sizeof *vms);
			for (i = 0; i < n &&
			     (vm = snapshot_vm_at(srv->snap, i)) != NULL;
			     i++)
				vms[i] = vm->frame;
			f = batch_for(s, vms, i, hx_wall_ms());
			session_send(s, f);
			frame_unref(f);
			free(vms);
		}
	} else if (added & (1u << HX_TOPIC_VM_METRICS)) {
		for (i = 0; (vm = snapshot_vm_at(srv->snap, i)) != NULL; i++) {
			if (may_see_frame(s, vm->frame))
				session_send(s, vm->frame);
		}
	}
}

static void
handle_message(struct server *srv, struct session *s, const char *text,
    size_t len)
{
	struct ws_sub_opts opts;
	json_t		  *list;
	char		  *why;

	switch (ws_parse_message(text, len, &list, &opts, &why)) {
	case WS_MSG_TOPICS:
		handle_topics(srv, s, list, 1, &opts);
		break;
	case WS_MSG_UNSUBSCRIBE:
		handle_topics(srv, s, list, 0, &opts);
		break;
	case WS_MSG_BAD:
		send_error(s, "BAD_MESSAGE", why, NULL);
		break;
	}
	json_decref(list);
	free(why);
}

/*
 * Write what is queued: several frames per WRITEABLE while the socket
 * takes them whole (lws_send_pipe_choked), so a burst of metric frames
 * costs one poll round-trip per few dozen frames instead of one each;
 * once the kernel buffer is full, lws holds the rest and we wait.
 */
static int
session_writeable(struct session *s)
{
	unsigned char ping[LWS_PRE + 2];
	struct frame *f;
	int	      n, burst;

	for (burst = 0; burst < SESSION_WRITE_BURST; burst++) {
		if (burst > 0 && lws_send_pipe_choked(s->wsi))
			break;
		if (s->send_ping) {
			/*
			 * Not an empty payload: lws 4.1 does not report a
			 * pong that echoes an empty ping, and the pong is how
			 * we know the peer is alive.
			 */
			s->send_ping = 0;
			memcpy(ping + LWS_PRE, "hx", 2);
			if (lws_write(s->wsi, ping + LWS_PRE, 2,
				LWS_WRITE_PING) < 0)
				return -1;
			continue;
		}
		if ((f = outq_pop(&s->out)) != NULL) {
			n = lws_write(s->wsi, f->buf + LWS_PRE, f->len,
			    LWS_WRITE_TEXT);
			frame_unref(f);
			if (n < 0)
				return -1;
			s->frames_sent++;
			continue;
		}
		if (s->close_code != 0) {
			lws_close_reason(s->wsi,
			    (enum lws_close_status)s->close_code,
			    (unsigned char *)(uintptr_t)s->close_reason,
			    strlen(s->close_reason));
			return -1;
		}
		break;
	}
	if (s->out.qlen == 0)
		s->out.max = SESSION_QUEUE_MAX; /* a replay is written */
	if (s->send_ping || !outq_empty(&s->out) || s->close_code)
		want_write(s);
	return 0;
}

static void
session_open(struct server *srv, struct session *s, struct lws *wsi)
{
	json_t *data;
	char   *msg;

	const char *why;

	s->wsi = wsi;
	/* Checked at the upgrade already; this keeps the grants. */
	if (access_resolve(srv->cache, wsi, lws_get_vhost(wsi) == srv->vh_unix,
		&s->id, &why) != 0)
		memset(&s->id, 0, sizeof s->id);
	s->opened_ns = s->last_rx_ns = hx_mono_ns();
	s->next_ping_ns = s->opened_ns +
	    secs_to_ns(srv->opts->heartbeat_interval);
	hx_buf_init(&s->rx, SESSION_RX_MAX);
	outq_init(&s->out, SESSION_QUEUE_MAX);
	s->on_unix = lws_get_vhost(wsi) == srv->vh_unix;
	server_peer_addr(srv, wsi, s->addr, sizeof s->addr);
	s->live = 1;
	TAILQ_INSERT_TAIL(&srv->sessions, s, entry);
	srv->nsessions++;
	log_debug("websocket session opened for %s (%u open)", s->id.who,
	    srv->nsessions);

	/*
	 * The welcome names this boot and the newest seq so far: a client
	 * that resumes after it later misses nothing from this moment on.
	 */
	msg = xasprintf("WebSocket connection established for user %s",
	    s->id.who);
	data = hx_event_notification("info", "Connected", msg, hx_wall_ms());
	json_object_set_new(data, "boot_id", json_string(srv->boot_id));
	json_object_set_new(data, "seq", json_integer(srv->seq));
	send_one(s, "Notification", data);
	free(msg);
	if (srv->stopping)
		session_close(s, LWS_CLOSE_STATUS_GOINGAWAY, "shutting down");
}

static void
session_closed(struct server *srv, struct session *s)
{
	if (!s->live)
		return;
	s->live = 0;
	TAILQ_REMOVE(&srv->sessions, s, entry);
	srv->nsessions--;
	srv->ws_frames_sent += s->frames_sent;
	srv->ws_frames_coalesced += s->out.coalesced;
	srv->ws_closed_slow += (uint64_t)s->closed_slow;
	outq_release(&s->out);
	hx_buf_release(&s->rx);
	access_release(&s->id);
	log_debug("websocket session closed for %s (%u open)", s->id.name,
	    srv->nsessions);
}

void
session_refresh_all(struct server *srv)
{
	struct session *s;
	int		t;

	TAILQ_FOREACH(s, &srv->sessions, entry) {
		if (s->close_code != 0)
			continue;
		if (access_refresh(srv->cache, &s->id) != 0) {
			char name[ACCESS_USER_MAX], who[ACCESS_WHO_MAX];

			log_info("closing session of %s: its credentials were "
				 "revoked",
			    s->id.who);
			/* Its grants point into the snapshot being retired. */
			hx_strlcpy(name, s->id.name, sizeof name);
			hx_strlcpy(who, s->id.who, sizeof who);
			access_release(&s->id);
			hx_strlcpy(s->id.name, name, sizeof s->id.name);
			hx_strlcpy(s->id.who, who, sizeof s->id.who);
			outq_clear(&s->out);
			session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			    "credentials revoked");
			continue;
		}
		/* Rights may have shrunk: drop topics no longer allowed. */
		for (t = 0; t < HX_TOPIC_COUNT; t++) {
			if ((s->topics & (1u << t)) && !may_subscribe(s, t)) {
				s->topics &= ~(1u << t);
				send_error(s, "FORBIDDEN_TOPIC",
				    "no privilege "
				    "for this topic any more",
				    hx_topics[t].name);
			}
		}
	}
}

void
session_tick(struct server *srv, uint64_t now_ns)
{
	const struct options *o = srv->opts;
	struct session	     *s;
	struct frame	     *ping = NULL;

	TAILQ_FOREACH(s, &srv->sessions, entry) {
		if (s->close_code != 0)
			continue;
		if (!s->subscribed &&
		    now_ns - s->opened_ns >=
			secs_to_ns(o->subscription_timeout)) {
			send_error(s, "SUBSCRIPTION_TIMEOUT",
			    "no subscription "
			    "received in time",
			    NULL);
			session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			    "subscription timeout");
			continue;
		}
		if (now_ns - s->last_rx_ns >= secs_to_ns(o->peer_timeout)) {
			log_info("dropping silent websocket peer %s",
			    s->id.who);
			outq_clear(&s->out);
			session_close(s, LWS_CLOSE_STATUS_GOINGAWAY,
			    "peer silent");
			continue;
		}
		if (now_ns >= s->next_ping_ns) {
			/* One shared Ping frame per tick, coalesced per peer. */
			if (ping == NULL)
				ping = frame_new("Ping",
				    hx_event_ping(hx_wall_ms()), -1, "Ping",
				    NULL);
			session_send(s, ping);
			s->send_ping = 1;
			want_write(s);
			s->next_ping_ns = now_ns +
			    secs_to_ns(o->heartbeat_interval);
		}
	}
	frame_unref(ping);
}

int
session_callback(struct server *srv, struct lws *wsi,
    enum lws_callback_reasons reason, struct conn *c, void *in, size_t len)
{
	struct session *s = &c->s;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		c->is_ws = 1;
		session_open(srv, s, wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		s->last_rx_ns = hx_mono_ns();
		if (s->close_code != 0)
			return 0; /* closing: what comes now is moot */
		if (hx_buf_add(&s->rx, in, len) != 0) {
			/*
			 * Not a -1 here: with permessage-deflate lws calls
			 * us again and again from its inflate loop and drops
			 * that return, so the peer would get neither a close
			 * nor a reply. The close goes out as our own write,
			 * which does not depend on how the message arrived.
			 */
			hx_buf_release(&s->rx);
			hx_buf_init(&s->rx, SESSION_RX_MAX);
			session_close(s, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
			    "message over 64 KiB");
			return 0;
		}
		if (!lws_is_final_fragment(wsi) ||
		    lws_remaining_packet_payload(wsi) > 0)
			return 0;
		if (lws_frame_is_binary(wsi))
			send_error(s, "BAD_MESSAGE",
			    "binary frames are not "
			    "accepted",
			    NULL);
		else if (s->close_code == 0)
			handle_message(srv, s, s->rx.data, s->rx.len);
		hx_buf_reset(&s->rx);
		return 0;
	case LWS_CALLBACK_RECEIVE_PONG:
		s->last_rx_ns = hx_mono_ns();
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return session_writeable(s);
	case LWS_CALLBACK_CLOSED:
		session_closed(srv, s);
		return 0;
	default:
		return 0;
	}
}
