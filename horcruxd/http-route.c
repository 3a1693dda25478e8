/*
 * http-route.c - the REST route table and the dispatcher: authentication
 * and authorization before any handler, then a JSON reply at once from
 * memory or a worker job whose reply comes back in http_job_done.
 *
 * Every /api route is a row of routes[]: method, pattern, flags (PUBLIC,
 * SELF: the caller may act on their own :username, BODY: a JSON body is
 * read first), the privilege and ACL path it needs, and either a handler
 * that answers at once from memory or a worker job. The dispatcher checks
 * the Host header, the credentials, CSRF for cookie sessions and the
 * privilege before anything else runs, so no handler can forget to.
 * Paths outside /api are the dashboard's static files (http-static.c),
 * public because they hold no data. Nothing here blocks: slow work goes
 * to the worker. Reading requests and writing replies is http-reply.c's;
 * the checks themselves are http-guard.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "history.h"
#include "http-guard.h"
#include "http-parse.h"
#include "http-reply.h"
#include "http-static.h"
#include "hx-proto.h"
#include "hx-rbac.h"
#include "notify.h"
#include "job-identity.h"
#include "job-notify.h"
#include "job-oidc.h"
#include "job-vm.h"
#include "prom.h"
#include "realm.h"
#include "server.h"

static int route_health(struct request *);
static int route_protocol(struct request *);
static int route_realms(struct request *);
static int route_me(struct request *);
static int route_node_local(struct request *);
static int route_ws_plain(struct request *);
static int route_users(struct request *);
static int route_user(struct request *);
static int route_keys(struct request *);
static int route_sessions(struct request *);
static int route_roles(struct request *);
static int route_acl(struct request *);
static int route_permissions(struct request *);
static int route_vms(struct request *);
static int route_metrics(struct request *);

#define UM HX_PRIV_USER_MODIFY
#define PM HX_PRIV_PERMISSIONS_MODIFY
#define SA HX_PRIV_SYS_AUDIT
#define SM HX_PRIV_SYS_MODIFY

static const struct route routes[] = {
	{ "GET", "/api/health", R_PUBLIC, 0, NULL, route_health, NULL },
	{ "GET", "/api/protocol", R_PUBLIC, 0, NULL, route_protocol, NULL },
	{ "POST", "/api/auth/login",
	    R_PUBLIC | R_BODY | R_JSON | R_ORIGIN | R_LIMIT | R_POOL, 0, NULL,
	    NULL, job_login },
	/* The oidc realm (DESIGN §11): on the login pool, like a login. */
	{ "GET", "/api/auth/oidc/start", R_PUBLIC | R_POOL, 0, NULL, NULL,
	    job_oidc_start },
	{ "GET", "/api/auth/oidc/callback", R_PUBLIC | R_POOL, 0, NULL, NULL,
	    job_oidc_callback },
	{ "POST", "/api/auth/renew", R_ANYONE, 0, NULL, NULL, job_renew },
	{ "GET", "/api/auth/realms", R_PUBLIC, 0, NULL, route_realms, NULL },
	{ "POST", "/api/auth/logout", R_ANYONE, 0, NULL, NULL, job_logout },
	{ "GET", "/api/auth/me", R_ANYONE, 0, NULL, route_me, NULL },
	{ "GET", "/api/audit", 0, SA, "/access", NULL, job_audit },
	{ "GET", "/api/users", 0, SA, "/access", route_users, NULL },
	{ "POST", "/api/users", R_BODY, UM, "/access", NULL, job_user_add },
	{ "GET", "/api/users/:username", R_SELF, SA, "/access", route_user,
	    NULL },
	{ "PATCH", "/api/users/:username", R_BODY, UM, "/access", NULL,
	    job_user_update },
	{ "DELETE", "/api/users/:username", 0, UM, "/access", NULL,
	    job_user_delete },
	{ "POST", "/api/users/:username/password", R_SELF | R_BODY | R_LIMIT,
	    UM, "/access", NULL, job_user_password },
	{ "GET", "/api/users/:username/sessions", R_SELF, UM, "/access",
	    route_sessions, NULL },
	{ "DELETE", "/api/users/:username/sessions", R_SELF, UM, "/access",
	    NULL, job_sessions_revoke },
	{ "DELETE", "/api/users/:username/sessions/:session_id", R_SELF, UM,
	    "/access", NULL, job_session_revoke },
	{ "GET", "/api/users/:username/permissions", R_SELF, SA, "/access",
	    route_permissions, NULL },
	{ "GET", "/api/users/:username/api-keys", R_SELF, UM, "/access",
	    route_keys, NULL },
	{ "POST", "/api/users/:username/api-keys", R_SELF | R_BODY, UM,
	    "/access", NULL, job_key_create },
	{ "DELETE", "/api/users/:username/api-keys/:key_id", R_SELF, UM,
	    "/access", NULL, job_key_delete },
	{ "GET", "/api/roles", R_ANYONE, 0, NULL, route_roles, NULL },
	{ "POST", "/api/roles", R_BODY, PM, "/access", NULL, job_role_add },
	{ "PUT", "/api/roles/:name", R_BODY, PM, "/access", NULL,
	    job_role_update },
	{ "DELETE", "/api/roles/:name", 0, PM, "/access", NULL,
	    job_role_delete },
	{ "GET", "/api/acl", 0, SA, "/access", route_acl, NULL },
	{ "PUT", "/api/acl", R_BODY, PM, "/access", NULL, job_acl_put },
	{ "DELETE", "/api/acl", R_BODY, PM, "/access", NULL, job_acl_delete },
	{ "GET", "/api/nodes/local", 0, SA, "/nodes", route_node_local, NULL },
	{ "GET", "/api/vms", R_ANYONE, 0, NULL, route_vms, NULL },
	{ "GET", "/api/vms/:id", R_VIRT, HX_PRIV_VM_AUDIT, "/vms/{id}", NULL,
	    job_vm_show },
	{ "POST", "/api/vms/:id/:action", R_VIRT, HX_PRIV_VM_POWER_MGMT,
	    "/vms/{id}", NULL, job_vm_action },
	{ "GET", "/api/ws", R_ANYONE, 0, NULL, route_ws_plain, NULL },
	/* Filtered per series: SysAudit on /nodes, VmAudit per VM. */
	{ "GET", "/api/metrics/history", R_ANYONE | R_HISTORY, 0, NULL, NULL,
	    job_history },
	{ "GET", "/api/metrics/series", R_ANYONE | R_HISTORY, 0, NULL, NULL,
	    job_history_series },
	{ "GET", "/metrics", R_ANYONE | R_OPT_PUBLIC, 0, NULL, route_metrics,
	    NULL },
	{ "GET", "/api/notify/targets", 0, SA, "/", NULL, job_notify_targets },
	{ "POST", "/api/notify/targets", R_BODY, HX_PRIV_SYS_MODIFY, "/", NULL,
	    job_notify_target_add },
	{ "GET", "/api/notify/targets/:name", 0, SA, "/", NULL,
	    job_notify_target_show },
	{ "DELETE", "/api/notify/targets/:name", 0, HX_PRIV_SYS_MODIFY, "/",
	    NULL, job_notify_target_delete },
	{ "GET", "/api/notify/targets/:name/attempts", 0, SA, "/", NULL,
	    job_notify_attempts },
	{ "POST", "/api/notify/targets/:name/test", R_NOTIFY,
	    HX_PRIV_SYS_MODIFY, "/", NULL, job_notify_test },
	/* Alerts (DESIGN §9): jobs on the alert thread. */
	{ "GET", "/api/alerts/rules", R_ALERT, SA, "/", NULL, job_alert_rules },
	{ "POST", "/api/alerts/rules", R_ALERT | R_BODY, SM, "/", NULL,
	    job_alert_rule_add },
	{ "GET", "/api/alerts/rules/:name", R_ALERT, SA, "/", NULL,
	    job_alert_rule_get },
	{ "PUT", "/api/alerts/rules/:name", R_ALERT | R_BODY, SM, "/", NULL,
	    job_alert_rule_put },
	{ "DELETE", "/api/alerts/rules/:name", R_ALERT, SM, "/", NULL,
	    job_alert_rule_delete },
	{ "POST", "/api/alerts/backtest", R_ALERT | R_HISTORY | R_BODY, SA, "/",
	    NULL, job_alert_backtest },
	{ "GET", "/api/alerts", R_ALERT | R_ANYONE, 0, NULL, NULL,
	    job_alert_list },
	{ "POST", "/api/alerts/:id/ack", R_ALERT | R_ANYONE | R_BODY, 0, NULL,
	    NULL, job_alert_ack },
};

/* --- read routes, answered from memory ------------------------------------- */

/*
 * Public: whether the daemon is up. How many clients it has is load
 * information about other people: only an authenticated caller gets it.
 */
static int
route_health(struct request *r)
{
	struct server *srv = r->srv;
	json_t	      *h;

	h = json_pack("{s:s,s:s,s:f}", "status", "ok", "version", HX_VERSION,
	    "uptime_seconds",
	    round((double)(hx_mono_ns() - srv->start_ns) / 1e6) / 1e3);
	if (r->id.authenticated)
		json_object_set_new(h, "clients",
		    json_integer((json_int_t)srv->nsessions));
	return http_reply_json(r, 200, h);
}

/* Public: the realms a sign-in form offers (DESIGN §11). */
static int
route_realms(struct request *r)
{
	return http_reply_json(r, 200, realms_json(r->srv->realms));
}

/*
 * Public: the WebSocket contract (hx_proto_describe), the same bytes as
 * `horcruxd --dump-protocol`. It holds no data, like the static page,
 * which reads its topics here. It changes only with the program, so a
 * browser may keep it: a strong ETag of the bytes, revalidated on every
 * use (no-cache), answers 304 while the daemon is the same build.
 */
static int
route_protocol(struct request *r)
{
	json_t	*d = hx_proto_describe();
	char	*body = json_dumps(d, HX_JSON_FLAGS), etag[24], inm[256];
	uint64_t h = 14695981039346656037ULL; /* FNV-1a, 64 bits */
	size_t	 i, len;

	json_decref(d);
	if (body == NULL)
		return http_reply_error(r, 500, "INTERNAL", "out of memory");
	len = strlen(body);
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)body[i]) * 1099511628211ULL;
	snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)h);
	http_reply_add_header(r->c, "etag:", etag);
	http_reply_add_header(r->c, "cache-control:", "no-cache");
	if (lws_hdr_copy(r->wsi, inm, sizeof inm,
		WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
	    (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0)) {
		free(body);
		return http_reply_raw(r->wsi, r->c, 304, "application/json",
		    NULL, 0, 1);
	}
	return http_reply_raw(r->wsi, r->c, 200, "application/json", body, len,
	    1);
}

static int
route_me(struct request *r)
{
	static const char	   *kinds[] = { "anonymous", "local", "api_key",
			 "session", "session" };
	const struct hx_store_user *u = access_cache_user(r->srv->cache,
	    r->id.name);
	json_t			   *roles = json_array(), *me;
	size_t			    i;

	if (r->id.kind == ACCESS_LOCAL)
		json_array_append_new(roles, json_string("Administrator"));
	for (i = 0; u != NULL && i < u->roles.n; i++)
		json_array_append_new(roles, json_string(u->roles.v[i]));
	me = json_pack("{s:s,s:s,s:s,s:o,s:o}", "username", r->id.name,
	    "userid", r->id.who, "auth", kinds[r->id.kind], "roles", roles,
	    "privileges", access_privileges_json(&r->id));
	/*
	 * A page in a new tab has the cookie but not the CSRF token; only
	 * same-origin script can read this answer (no CORS for others).
	 */
	if (r->id.kind == ACCESS_COOKIE)
		json_object_set_new(me, "csrf_token", json_string(r->id.csrf));
	return http_reply_json(r, 200, me);
}

static int
route_users(struct request *r)
{
	const struct hx_store_snapshot *s = access_cache_snapshot(
	    r->srv->cache);
	json_t *a = json_array();
	size_t	i;

	for (i = 0; i < s->users.n; i++)
		json_array_append_new(a, job_user_json(&s->users.v[i]));
	return http_reply_json(r, 200, a);
}

/* One ACL entry, its user written user@realm as everywhere it is shown. */
static json_t *
acl_json(const struct access_cache *c, const struct hx_store_acl *a)
{
	const struct hx_store_user *u = access_cache_user(c, a->username);
	char			   *who = xasprintf("%s@%s", a->username,
		  u != NULL ? u->realm : "local");
	json_t			   *o;

	o = json_pack("{s:s,s:s,s:s,s:s,s:b}", "path", a->path, "role", a->role,
	    "user", a->username, "userid", who, "propagate", a->propagate);
	free(who);
	return o;
}

/* One user, with the ACL entries that name them. */
static int
route_user(struct request *r)
{
	const struct hx_store_snapshot *s = access_cache_snapshot(
	    r->srv->cache);
	const struct hx_store_user *u = access_cache_user(r->srv->cache,
	    r->params[0]);
	json_t			   *o, *a;
	size_t			    i;

	if (u == NULL)
		return http_reply_error(r, 404, "NOT_FOUND", "no such user");
	o = job_user_json(u);
	a = json_array();
	for (i = 0; i < s->acl.n; i++) {
		if (strcmp(s->acl.v[i].username, u->username) == 0)
			json_array_append_new(a,
			    acl_json(r->srv->cache, &s->acl.v[i]));
	}
	json_object_set_new(o, "acl", a);
	return http_reply_json(r, 200, o);
}

/*
 * A user's effective privileges per path, as GET /api/auth/me gives the
 * caller's: {"/": [...], ...}; with ?path=P, for P alone (P need hold no
 * grant: "/vms/web-1" inherits from "/vms"). A disabled user holds none.
 */
static int
route_permissions(struct request *r)
{
	char	    buf[1024];
	const char *path;
	json_t	   *o;

	/* lws hands the argument over URL-decoded. */
	path = lws_get_urlarg_by_name(r->wsi, "path=", buf, sizeof buf);
	if (path != NULL && hx_rbac_path_ok(path, NULL) != 0)
		return http_reply_error(r, 422, "VALIDATION_ERROR",
		    "'path' "
		    "is not an ACL path");
	o = access_user_privileges_json(r->srv->cache, r->params[0], path);
	if (o == NULL)
		return http_reply_error(r, 404, "NOT_FOUND", "no such user");
	return http_reply_json(r, 200, o);
}

static int
route_keys(struct request *r)
{
	const struct hx_store_snapshot *s = access_cache_snapshot(
	    r->srv->cache);
	const struct hx_store_user *u = access_cache_user(r->srv->cache,
	    r->params[0]);
	json_t			   *a, *o;
	char			   *who;
	size_t			    i;

	if (u == NULL)
		return http_reply_error(r, 404, "NOT_FOUND", "no such user");
	who = xasprintf("%s@%s", u->username, u->realm);
	a = json_array();
	for (i = 0; i < s->keys.n; i++) {
		if (strcmp(s->keys.v[i].username, r->params[0]) == 0) {
			o = job_key_json(&s->keys.v[i]);
			json_object_set_new(o, "userid", json_string(who));
			json_array_append_new(a, o);
		}
	}
	free(who);
	return http_reply_json(r, 200, a);
}

/* A user's live login sessions (ids, times, peers; never a token). */
static int
route_sessions(struct request *r)
{
	const struct hx_store_snapshot *s = access_cache_snapshot(
	    r->srv->cache);
	const struct hx_store_session *se;
	const struct hx_store_user    *u = access_cache_user(r->srv->cache,
	       r->params[0]);
	const char		      *cur = NULL;
	time_t			       now = time(NULL);
	json_t			      *a, *o;
	char			      *who;
	size_t			       i;

	if (u == NULL)
		return http_reply_error(r, 404, "NOT_FOUND", "no such user");
	who = xasprintf("%s@%s", u->username, u->realm);
	if (r->id.kind == ACCESS_TOKEN || r->id.kind == ACCESS_COOKIE)
		cur = r->id.cred;
	a = json_array();
	for (i = 0; i < s->sessions.n; i++) {
		se = &s->sessions.v[i];
		if (strcmp(se->username, r->params[0]) == 0 &&
		    se->expires > now && se->absolute_expires > now) {
			o = job_session_json(se, cur);
			json_object_set_new(o, "userid", json_string(who));
			json_array_append_new(a, o);
		}
	}
	free(who);
	return http_reply_json(r, 200, a);
}

static int
route_roles(struct request *r)
{
	const struct hx_store_snapshot *s = access_cache_snapshot(
	    r->srv->cache);
	const struct hx_role_def *def;
	json_t			 *a = json_array();
	size_t			  i;

	for (i = 0; (def = hx_rbac_builtin_at(i)) != NULL; i++)
		json_array_append_new(a,
		    job_role_json(def->name, def->privs, 1, def->scope));
	for (i = 0; i < s->roles.n; i++)
		json_array_append_new(a,
		    job_role_json(s->roles.v[i].name, s->roles.v[i].privs, 0,
			"/"));
	return http_reply_json(r, 200, a);
}

static int
route_acl(struct request *r)
{
	const struct hx_store_snapshot *s = access_cache_snapshot(
	    r->srv->cache);
	json_t *a = json_array();
	size_t	i;

	for (i = 0; i < s->acl.n; i++)
		json_array_append_new(a, acl_json(r->srv->cache, &s->acl.v[i]));
	return http_reply_json(r, 200, a);
}

/*
 * The inventory, only the VMs the caller may audit. A caller who may see
 * every VM gets the inventory's text as serialized once per inventory
 * (the same bytes a filtered dump of all of it would give); the others
 * get their own array.
 */
static int
route_vms(struct request *r)
{
	json_t	   *a, *inv, *e;
	const char *id, *text;
	char	   *path;
	size_t	    i, len;
	int	    all = 1;

	if ((inv = snapshot_inventory(r->srv->snap)) == NULL)
		return http_reply_json(r, 200, json_array());
	a = json_array();
	json_array_foreach(inv, i, e) {
		if ((id = json_string_value(json_object_get(e, "id"))) ==
		    NULL) {
			all = 0;
			continue;
		}
		path = hx_rbac_path_fill("/vms/{id}", id);
		if (access_allowed(&r->id, HX_PRIV_VM_AUDIT, path))
			json_array_append(a, e);
		else
			all = 0;
		free(path);
	}
	if (all &&
	    (text = snapshot_inventory_text(r->srv->snap,
		 HX_JSON_FLAGS | JSON_ENCODE_ANY, &len)) != NULL) {
		json_decref(a);
		return http_reply_bytes(r->wsi, r->c, 200, "application/json",
		    text, len);
	}
	return http_reply_json(r, 200, a);
}

/*
 * The newest NodeMetrics event's own data object: bytes serialized once
 * per sample by the collector, shared with the frame, written as they
 * are.
 */
static int
route_node_local(struct request *r)
{
	struct frame *f = snapshot_latest(r->srv->snap, HX_TOPIC_NODE_METRICS);

	if (f == NULL)
		return http_reply_error(r, 503, "UNAVAILABLE",
		    "no host sample has been taken yet");
	return http_reply_bytes(r->wsi, r->c, 200, "application/json",
	    frame_text(f) + f->data_off, f->data_len);
}

static int
metrics_vm_visible(const char *vm_id, void *arg)
{
	struct request *r = arg;
	char	       *path = hx_rbac_path_fill("/vms/{id}", vm_id);
	int		ok = access_allowed(&r->id, HX_PRIV_VM_AUDIT, path);

	free(path);
	return ok;
}

/*
 * The Prometheus exposition (prom.c) of the snapshot: no sampling on a
 * scrape. A caller sees the node and the daemon's own series with
 * SysAudit on /nodes and a VM's with VmAudit on it; with metrics_public
 * everyone sees everything. The node's figures are the snapshot's
 * typed copy of the newest NodeMetrics frame (decoded from its text by
 * the collector): no JSON is parsed here.
 */
static int
route_metrics(struct request *r)
{
	struct server		   *srv = r->srv;
	struct prom_input	    in;
	struct prom_self	    self;
	const struct snapshot_vm   *v;
	const struct hx_vm_sample **vms;
	struct session		   *s;
	struct hx_buf		    b;
	char			   *body;
	size_t			    i, len;
	int			    all = srv->opts->metrics_public, node;

	memset(&in, 0, sizeof in);
	node = all || access_allowed(&r->id, SA, "/nodes");
	if (node)
		in.node = snapshot_node(srv->snap);
	vms = xcalloc(snapshot_vm_count(srv->snap) + 1, sizeof *vms);
	for (i = 0; (v = snapshot_vm_at(srv->snap, i)) != NULL; i++)
		vms[in.nvms++] = v->sample;
	in.vms = vms;
	in.inventory = snapshot_inventory(srv->snap);
	if (!all) {
		in.vm_visible = metrics_vm_visible;
		in.arg = r;
	}
	if (node) {
		self.sessions = srv->nsessions;
		self.frames_sent = srv->ws_frames_sent;
		self.frames_coalesced = srv->ws_frames_coalesced;
		self.sessions_closed_slow = srv->ws_closed_slow;
		self.sessions_msgpack = 0;
		TAILQ_FOREACH(s, &srv->sessions, entry) {
			self.frames_sent += s->frames_sent;
			self.frames_coalesced += s->out.coalesced;
			self.sessions_msgpack += (uint64_t)s->msgpack;
		}
		in.self = &self;
	}
	hx_buf_init(&b, 0);
	prom_render(&b, &in);
	free(vms);
	body = hx_buf_detach(&b, &len);
	return http_reply_raw(r->wsi, r->c, 200,
	    "text/plain; version=0.0.4; charset=utf-8", body, len, 1);
}

static int
route_ws_plain(struct request *r)
{
	return http_reply_error_with(r, 426, "UPGRADE_REQUIRED",
	    "this endpoint speaks WebSocket only", "upgrade:", "websocket");
}

/* --- dispatch ---------------------------------------------------------------- */

/* Match path against pattern, filling params for ":name" segments. */
static int
route_match(const char *pattern, const char *path, struct request *r)
{
	return http_route_match(pattern, path, r->pbuf, sizeof r->pbuf,
	    r->params, ROUTE_PARAMS);
}

/*
 * The query string as one string: lws splits the arguments into
 * fragments, which we join with '&' again for the job's parser.
 */
static void
join_query(struct lws *wsi, char *out, size_t outlen)
{
	char   frag[URI_MAX]; /* one argument may be long: a series list */
	size_t o = 0;
	int    i, n;

	out[0] = '\0';
	for (i = 0; (n = lws_hdr_copy_fragment(wsi, frag, sizeof frag,
			 WSI_TOKEN_HTTP_URI_ARGS, i)) > 0;
	     i++) {
		if (o + (size_t)n + 2 >= outlen)
			break;
		if (o > 0)
			out[o++] = '&';
		memcpy(out + o, frag, (size_t)n);
		o += (size_t)n;
		out[o] = '\0';
	}
}

/*
 * The oidc callback's query parameters lws decoded, as a new JSON object
 * (the caller owns the reference) of the strings present: state, code,
 * iss, error, error_description.
 */
static json_t *
oidc_query(struct lws *wsi)
{
	static const char *const names[] = { "state", "code", "iss", "error",
		"error_description", NULL };
	json_t			*o = json_object();
	char			 buf[URI_MAX], key[32];
	const char		*v;
	size_t			 i;

	for (i = 0; names[i] != NULL; i++) {
		snprintf(key, sizeof key, "%s=", names[i]);
		/* The value, after the name, in buf. */
		if ((v = lws_get_urlarg_by_name(wsi, key, buf, sizeof buf)) !=
		    NULL)
			json_object_set_new(o, names[i], json_string(v));
	}
	return o;
}

/*
 * Hand the request to the worker (or the login pool); the reply comes in
 * http_job_done. limit_user is the "u:NAME" slot a password check takes
 * with its address's, or "" when the request is no such check.
 */
static int
submit_job(struct request *r, const struct route *rt, const char *limit_user)
{
	struct server *srv = r->srv;
	struct job    *j = job_new(rt->job);
	char	       q[URI_MAX], addr[192];
	int64_t	       now = hx_wall_ms();
	int	       i;

	hx_strlcpy(j->actor, r->id.name, sizeof j->actor);
	hx_strlcpy(j->actor_who, r->id.who, sizeof j->actor_who);
	j->actor_kind = r->id.kind;
	hx_strlcpy(j->actor_cred, r->id.cred, sizeof j->actor_cred);
	j->may_modify_users = access_allowed(&r->id, HX_PRIV_USER_MODIFY,
	    "/access");
	j->may_modify_perms = access_allowed(&r->id, HX_PRIV_PERMISSIONS_MODIFY,
	    "/access");
	if (rt->job == job_user_add || rt->job == job_user_update)
		http_guard_grantable_roles(srv, &r->id, &j->grantable);
	j->max_keys = srv->opts->max_api_keys_per_user;
	j->remote = xstrdup(r->remote);
	j->body = json_incref(r->body);
	for (i = 0; i < ROUTE_PARAMS; i++)
		j->param[i] = r->params[i] ? xstrdup(r->params[i]) : NULL;
	join_query(r->wsi, q, sizeof q);
	if (q[0] != '\0')
		j->query = xstrdup(q);
	if ((rt->flags & R_VIRT) && srv->vworker == NULL) {
		job_free(j);
		return http_reply_error(r, 503, "UNAVAILABLE",
		    "no libvirt "
		    "connection is configured");
	}
	if ((rt->flags & R_HISTORY) && srv->history == NULL) {
		job_free(j);
		return http_reply_error(r, 503, "UNAVAILABLE",
		    "the metrics "
		    "history is off (history = off)");
	}
	if (rt->job == job_vm_show) {
		/* The worker may not read the snapshot: it gets a copy. */
		const struct snapshot_vm *vm = snapshot_vm_find(srv->snap,
		    r->params[0]);

		if (vm != NULL)
			j->vm_sample = hx_vm_sample_dup(vm->sample);
	}
	if (rt->job == job_oidc_start || rt->job == job_oidc_callback) {
		if (srv->oidc == NULL) {
			job_free(j);
			return http_reply_error(r, 404, "NOT_FOUND",
			    "no oidc realm is configured (oidc_issuer)");
		}
		job_oidc_attach(j, srv->oidc,
		    rt->job == job_oidc_callback ? oidc_query(r->wsi) : NULL);
	}
	if (limit_user[0] != '\0') {
		j->limit_ms = now;
		j->limit_user = xstrdup(limit_user);
	}
	r->c->id = ++srv->next_conn_id;
	j->conn_id = r->c->id;
	if ((rt->flags & R_NOTIFY) && srv->notify == NULL) {
		job_free(j);
		return http_reply_error(r, 503, "UNAVAILABLE",
		    "notifications are not running");
	}
	if (rt->flags & R_NOTIFY) {
		/* A bounded queue: beyond it, come back. */
		if (notify_submit_test(srv->notify, j) != 0) {
			job_free(j);
			return http_reply_error_with(r, 429, "RATE_LIMITED",
			    "too many notifications queued; try again later",
			    "retry-after:", "5");
		}
		/*
		 * The reply waits for a receiver (up to 30 s for SMTP): lws's
		 * timer for a bodiless POST is shorter. One timer per
		 * connection, so this one replaces it.
		 */
		lws_set_timeout(r->wsi, PENDING_TIMEOUT_HTTP_CONTENT,
		    NOTIFY_REPLY_WAIT_S);
	} else if (rt->flags & R_ALERT) {
		if (srv->alerts == NULL ||
		    (rt->job == job_alert_backtest ?
			    alerts_backtest_submit(srv->alerts, srv->history, j,
				&r->id, srv->snap, srv->opts) :
			    alerts_submit(srv->alerts, j, &r->id, srv->snap)) !=
			0) {
			job_free(j);
			return http_reply_error_with(r, 429, "RATE_LIMITED",
			    "too many alert requests in progress; try again "
			    "later",
			    "retry-after:", "1");
		}
	} else if (rt->flags & R_HISTORY) {
		/* A bounded queue: beyond it, come back. */
		if (history_submit(srv->history, j, &r->id, srv->snap) != 0) {
			job_free(j);
			return http_reply_error_with(r, 429, "RATE_LIMITED",
			    "too many history queries in progress; try again "
			    "later",
			    "retry-after:", "1");
		}
	} else if (rt->job == job_renew && srv->realms->ldap_name != NULL &&
	    (r->id.kind == ACCESS_TOKEN || r->id.kind == ACCESS_COOKIE) &&
	    strcmp(realm_of_who(r->id.who), srv->realms->ldap_name) == 0) {
		/*
		 * A directory user's renewal asks the directory first, on
		 * the login pool: the identity worker never waits for it.
		 */
		j->run = job_renew_directory;
		if (worker_try_submit(srv->login_pool, j) != 0) {
			job_free(j);
			return http_reply_error_with(r, 429, "RATE_LIMITED",
			    "too many logins in progress; try again later",
			    "retry-after:", "1");
		}
	} else if ((rt->flags & R_POOL) && srv->login_pool != NULL) {
		/* The pool holds a bounded number: beyond it, come back. */
		if (worker_try_submit(srv->login_pool, j) != 0) {
			job_free(j);
			return http_reply_error_with(r, 429, "RATE_LIMITED",
			    "too many logins in progress; try again later",
			    "retry-after:", "1");
		}
	} else
		worker_submit((rt->flags & R_VIRT) ? srv->vworker : srv->worker,
		    j);
	/*
	 * The job may already have run, but its reply is drained on this
	 * thread, after this: the slots are taken before they are given back.
	 */
	if (limit_user[0] != '\0') {
		http_guard_limit_take(srv, limit_user, now);
		snprintf(addr, sizeof addr, "a:%s", r->remote);
		http_guard_limit_take(srv, addr, now);
	}
	TAILQ_INSERT_TAIL(&srv->pending, r->c, pending_entry);
	r->c->pending = 1;
	return 0;
}

int
http_route_dispatch(struct server *srv, struct lws *wsi, struct conn *c,
    json_t *body)
{
	struct request	       r;
	const struct route    *rt;
	const char	      *allow = NULL, *why;
	enum lws_token_indexes tok;
	char		       uri[URI_MAX], host[256];
	char		       limit_user[192];
	size_t		       i;
	int		       allow_public = 0, on_unix, ret;

	memset(&r, 0, sizeof r);
	r.srv = srv;
	r.wsi = wsi;
	r.c = c;
	r.body = body;
	on_unix = lws_get_vhost(wsi) == srv->vh_unix;
	if ((r.method = http_reply_method(wsi, &tok)) == NULL)
		return http_reply_error(&r, 405, "METHOD_NOT_ALLOWED",
		    "unsupported method");
	if (lws_hdr_copy(wsi, uri, sizeof uri, tok) < 0)
		return http_reply_error(&r, 414, "URI_TOO_LONG",
		    "request URI "
		    "too long");
	r.path = uri;
	if (on_unix)
		hx_strlcpy(r.remote, "unix", sizeof r.remote);
	else {
		/* A keep-alive connection's peer does not change. */
		if (c->remote[0] == '\0')
			lws_get_peer_simple(wsi, c->remote, sizeof c->remote);
		hx_strlcpy(r.remote, c->remote, sizeof r.remote);
	}

	/* DNS rebinding: a browser sent here under a foreign name. */
	if (!on_unix &&
	    (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0 ||
		!http_host_ok(srv, host)))
		return http_reply_error(&r, 400, "BAD_REQUEST",
		    "the Host "
		    "header does not name this server");

	if (http_guard_cors(&r) && strcmp(r.method, "OPTIONS") == 0) {
		/* A preflight carries no credentials: answer it as such. */
		http_reply_add_header(c, "access-control-allow-methods:",
		    "GET, POST, PUT, PATCH, DELETE");
		http_reply_add_header(c, "access-control-allow-headers:",
		    "content-type, authorization, x-api-key, x-csrf-token");
		return http_reply_json(&r, 204, NULL);
	}
	if (access_resolve(srv->cache, wsi, on_unix, &r.id, &why) != 0)
		return http_reply_error_with(&r, 401, "UNAUTHORIZED", why,
		    "www-authenticate:", "Bearer");
	if (r.id.kind == ACCESS_KEY)
		http_guard_key_used(srv, r.id.cred);
	if (r.id.stale_cookie)
		http_reply_add_header(c, "set-cookie:",
		    ACCESS_COOKIE_NAME
		    "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");

	if (strncmp(uri, "/api/", 5) != 0 && strcmp(uri, "/api") != 0 &&
	    strcmp(uri, "/metrics") != 0) {
		ret = http_static_serve(&r);
		goto out;
	}

	for (i = 0; i < HX_ARRAY_SIZE(routes); i++) {
		rt = &routes[i];
		memset(r.params, 0, sizeof r.params);
		if (!route_match(rt->pattern, uri, &r))
			continue;
		if (strcmp(rt->method, r.method) != 0) {
			allow = rt->method;
			allow_public |= rt->flags & R_PUBLIC;
			continue;
		}
		if ((rt->flags & R_VIRT) && r.params[0] != NULL)
			r.params[0] = snapshot_vm_resolve(srv->snap,
			    r.params[0]);
		if (!(rt->flags & R_PUBLIC) &&
		    !((rt->flags & R_OPT_PUBLIC) &&
			srv->opts->metrics_public) &&
		    !r.id.authenticated) {
			ret = http_reply_error_with(&r, 401, "UNAUTHORIZED",
			    "authentication required",
			    "www-authenticate:", "Bearer");
			goto out;
		}
		/*
		 * A cookie rides along on every request: demand the token for
		 * changes. Public routes change nothing of the session's (a
		 * login replaces it), so they do not need it.
		 */
		if (r.id.kind == ACCESS_COOKIE &&
		    strcmp(r.method, "GET") != 0 && !(rt->flags & R_PUBLIC) &&
		    !http_guard_csrf_ok(&r)) {
			ret = http_reply_error(&r, 403, "FORBIDDEN",
			    "missing or wrong X-CSRF-Token");
			goto out;
		}
		/*
		 * One's own account: a login session may act on it; an API
		 * key may not, or a narrowed key could mint a wider one.
		 */
		if (rt->priv != 0 &&
		    !((rt->flags & R_SELF) &&
			(r.id.kind == ACCESS_TOKEN ||
			    r.id.kind == ACCESS_COOKIE) &&
			strcmp(r.params[0], r.id.name) == 0)) {
			/* "/vms/{id}" names the object the route acts on. */
			char *acl = hx_rbac_path_fill(rt->acl_path,
				 r.params[0]),
			     *msg;
			int ok = access_allowed(&r.id, rt->priv, acl);

			if (!ok) {
				/* Which privilege, and where. */
				msg = xasprintf("insufficient privileges: %s "
						"on %.255s needed",
				    hx_priv_name(rt->priv), acl);
				ret = http_reply_error(&r, 403, "FORBIDDEN",
				    msg);
				free(msg);
				free(acl);
				goto out;
			}
			free(acl);
		}
		if ((rt->flags & R_BODY) && !json_is_object(body)) {
			ret = http_reply_error(&r, 400, "BAD_REQUEST",
			    "this route needs a JSON object body");
			goto out;
		}
		if ((rt->flags & R_ORIGIN) && !http_guard_origin_allowed(&r)) {
			ret = http_reply_error(&r, 403, "FORBIDDEN",
			    "this Origin may not sign in here");
			goto out;
		}
		if ((rt->flags & R_LIMIT) &&
		    http_guard_limited(&r, rt, limit_user, sizeof limit_user)) {
			ret = 0;
			goto out;
		}
		if ((rt->job == job_key_create &&
			http_guard_key_roles_refused(&r)) ||
		    ((rt->job == job_acl_put || rt->job == job_acl_delete) &&
			http_guard_acl_role_refused(&r)) ||
		    (rt->job == job_user_password &&
			http_guard_password_reset_refused(&r)) ||
		    (rt->job == job_role_update &&
			http_guard_role_privs_refused(&r))) {
			ret = 0;
			goto out;
		}
		ret = rt->job != NULL ? submit_job(&r, rt, limit_user) :
					rt->handler(&r);
		goto out;
	}
	if (!r.id.authenticated && !allow_public) {
		/* Unknown /api paths are not revealed to anonymous callers. */
		ret = http_reply_error_with(&r, 401, "UNAUTHORIZED",
		    "authentication required", "www-authenticate:", "Bearer");
	} else if (allow != NULL)
		ret = http_reply_error_with(&r, 405, "METHOD_NOT_ALLOWED",
		    "method not allowed on this path", "allow:", allow);
	else
		ret = http_reply_error(&r, 404, "NOT_FOUND",
		    "no such API route");
out:
	access_release(&r.id);
	return ret;
}

void
http_dump_routes(FILE *f, const struct options *o)
{
	const struct route *rt;
	size_t		    i;
	int		    b;

	for (i = 0; i < HX_ARRAY_SIZE(routes); i++) {
		rt = &routes[i];
		fprintf(f, "%s\t%s\t", rt->method, rt->pattern);
		if ((rt->flags & R_PUBLIC) ||
		    ((rt->flags & R_OPT_PUBLIC) && o->metrics_public))
			fprintf(f, "public");
		else if (rt->flags & R_ANYONE)
			fprintf(f, "anyone");
		else {
			for (b = 0; b < HX_PRIV_COUNT; b++) {
				if (rt->priv & (1u << b))
					fprintf(f, "%s", hx_priv_name(1u << b));
			}
			fprintf(f, "@%s", rt->acl_path ? rt->acl_path : "?");
		}
		fprintf(f, "%s\n", (rt->flags & R_SELF) ? "\tself" : "");
	}
}

void
http_job_done(struct server *srv, struct job *j)
{
	struct hx_store_snapshot *old;
	struct conn		 *c;
	char			  key[192];

	if (j->snap != NULL) {
		old = access_cache_swap(srv->cache, j->snap);
		j->snap = NULL;
		session_refresh_all(srv);
		access_cache_retire(old);
	} else if (j->deltas != NULL) {
		/* One key or session: changed in place, no reload. */
		if (job_delta_apply(j, access_cache_edit(srv->cache)))
			session_refresh_all(srv);
	}
	/* A failed check keeps its slots; anything else gives them back. */
	if (j->limit_ms != 0 && !j->login_failed) {
		http_guard_limit_give_back(srv, j->limit_user, j->limit_ms);
		snprintf(key, sizeof key, "a:%s", j->remote ? j->remote : "");
		http_guard_limit_give_back(srv, key, j->limit_ms);
	}
	TAILQ_FOREACH(c, &srv->pending, pending_entry) {
		if (c->id == j->conn_id)
			break;
	}
	if (c != NULL) {
		TAILQ_REMOVE(&srv->pending, c, pending_entry);
		c->pending = 0;
		if (j->set_cookie != NULL)
			http_reply_add_header(c, "set-cookie:", j->set_cookie);
		if (j->status == 429)
			http_reply_add_header(c, "retry-after:", "60");
		if (j->location != NULL)
			http_reply_add_header(c, "location:", j->location);
		if (j->raw_type != NULL &&
		    strncmp(j->raw_type, "text/html", 9) == 0) {
			/*
			 * The oidc realm's pages (job-oidc.c): our style
			 * sheet and scripts only, never framed, and the
			 * callback's code never sent on as a Referer.
			 */
			http_reply_add_header(c, "content-security-policy:",
			    "default-src 'none'; script-src 'self'; "
			    "style-src 'self'; img-src 'self'; "
			    "base-uri 'none'; form-action 'none'; "
			    "frame-ancestors 'none'");
			http_reply_add_header(c,
			    "referrer-policy:", "no-referrer");
			http_reply_add_header(c, "cache-control:", "no-store");
		}
		if (j->raw != NULL) {
			http_reply_raw(c->wsi, c, j->status, j->raw_type,
			    j->raw, j->raw_len, 0);
			j->raw = NULL;
		} else
			http_reply_json_to(c->wsi, c, j->status, j->reply, 0);
		j->reply = NULL;
	}
	job_free(j);
}

/* The flags of the body-reading route method + uri names, or 0. */
int
http_route_body_flags(const char *method, const char *uri)
{
	struct request r;
	size_t	       i;

	for (i = 0; i < HX_ARRAY_SIZE(routes); i++) {
		if ((routes[i].flags & R_BODY) &&
		    strcmp(routes[i].method, method) == 0 &&
		    route_match(routes[i].pattern, uri, &r))
			return routes[i].flags;
	}
	return 0;
}
