/*
 * http-route.c - the HTTP side: one route table, authentication and
 * authorization before any handler, request bodies, JSON replies (now or
 * when a worker job comes back), static files from web_root.
 *
 * Every /api route is a row of routes[]: method, pattern, flags (PUBLIC,
 * SELF: the caller may act on their own :username, BODY: a JSON body is
 * read first), the privilege and ACL path it needs, and either a handler
 * that answers at once from memory or a worker job. The dispatcher checks
 * the Host header, the credentials, CSRF for cookie sessions and the
 * privilege before anything else runs, so no handler can forget to.
 * Paths outside /api are the dashboard's static files, public because they
 * hold no data. Nothing here blocks: slow work goes to the worker.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http-parse.h"
#include "hx-auth.h"
#include "hx-event.h"
#include "hx-log.h"
#include "hx-rbac.h"
#include "job-identity.h"
#include "job-vm.h"
#include "server.h"

#define URI_MAX		2048
#define ROUTE_PARAMS	2
#define BODY_MAX	(64 * 1024)
#define LOGIN_FAILS	5		/* checks per user or address... */
#define LOGIN_WINDOW_MS	60000		/* ...in this long: 429 */
#define LOGIN_LIMITS	4096		/* remembered users and addresses */

#define R_PUBLIC	0x1	/* no authentication */
#define R_SELF		0x2	/* a session may act on its own :username */
#define R_BODY		0x4	/* expects a JSON object body */
#define R_ANYONE	0x8	/* any authenticated caller, no privilege */
#define R_VIRT		0x10	/* the job runs on the libvirt worker */
#define R_JSON		0x20	/* the body must be application/json: 415 */
#define R_ORIGIN	0x40	/* an Origin, if sent, must be ours: 403 */
#define R_LIMIT		0x80	/* a password check: the login rate limit */
#define R_POOL		0x100	/* the job starts on the login pool: 429 when
				   it is full */

struct request {
	struct server		*srv;
	struct lws		*wsi;
	struct conn		*c;
	struct identity		 id;
	const char		*method;
	const char		*path;
	const char		*params[ROUTE_PARAMS];
	char			 pbuf[URI_MAX];
	json_t			*body;
	char			 remote[128];
};

struct route {
	const char	*method;
	const char	*pattern;
	int		 flags;
	hx_privs	 priv;		/* needed unless PUBLIC or ANYONE */
	const char	*acl_path;
	int		(*handler)(struct request *);
	job_fn		 job;
};

static int route_health(struct request *);
static int route_me(struct request *);
static int route_node_local(struct request *);
static int route_ws_plain(struct request *);
static int route_users(struct request *);
static int route_user(struct request *);
static int route_keys(struct request *);
static int route_sessions(struct request *);
static int route_roles(struct request *);
static int route_acl(struct request *);
static int route_vms(struct request *);

#define UM	HX_PRIV_USER_MODIFY
#define PM	HX_PRIV_PERMISSIONS_MODIFY
#define SA	HX_PRIV_SYS_AUDIT

static const struct route routes[] = {
	{ "GET", "/api/health", R_PUBLIC, 0, NULL, route_health, NULL },
	{ "POST", "/api/auth/login", R_PUBLIC | R_BODY | R_JSON | R_ORIGIN |
	  R_LIMIT | R_POOL, 0, NULL, NULL, job_login },
	{ "POST", "/api/auth/renew", R_ANYONE, 0, NULL, NULL, job_renew },
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
	{ "GET", "/api/users/:username/api-keys", R_SELF, UM, "/access",
	  route_keys, NULL },
	{ "POST", "/api/users/:username/api-keys", R_SELF | R_BODY, UM,
	  "/access", NULL, job_key_create },
	{ "DELETE", "/api/users/:username/api-keys/:key_id", R_SELF, UM,
	  "/access", NULL, job_key_delete },
	{ "GET", "/api/roles", R_ANYONE, 0, NULL, route_roles, NULL },
	{ "POST", "/api/roles", R_BODY, PM, "/access", NULL, job_role_add },
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
};

static const struct {
	const char	*ext;
	const char	*mime;
} mime_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json" },
	{ ".txt", "text/plain; charset=utf-8" },
};

/* --- writing replies ------------------------------------------------------ */

static void
clear_reply(struct conn *c)
{
	int	i;

	free(c->body);
	c->body = NULL;
	for (i = 0; i < c->nheaders; i++) {
		free(c->hname[i]);
		free(c->hvalue[i]);
	}
	c->nheaders = 0;
}

static void
add_header(struct conn *c, const char *name, const char *value)
{
	if (c->nheaders == CONN_MAX_HEADERS)
		return;
	c->hname[c->nheaders] = xstrdup(name);
	c->hvalue[c->nheaders] = xstrdup(value);
	c->nheaders++;
}

static int
write_headers(struct lws *wsi, struct conn *c)
{
	static const unsigned char nostore[] = "no-store";
	unsigned char	 hdr[LWS_PRE + 2048];
	unsigned char	*p = hdr + LWS_PRE, *end = hdr + sizeof hdr;
	int		 i;

	if (lws_add_http_common_headers(wsi, (unsigned)c->status, c->ctype,
	    c->body_len, &p, end) || lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"cache-control:", nostore,
	    sizeof nostore - 1, &p, end))
		return -1;
	for (i = 0; i < c->nheaders; i++) {
		if (lws_add_http_header_by_name(wsi,
		    (const unsigned char *)c->hname[i],
		    (const unsigned char *)c->hvalue[i],
		    (int)strlen(c->hvalue[i]), &p, end))
			return -1;
	}
	if (c->close_after && lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"connection:",
	    (const unsigned char *)"close", 5, &p, end))
		return -1;
	return lws_finalize_write_http_header(wsi, hdr + LWS_PRE, &p, end);
}

/*
 * Set the reply (body ownership passes) and have it written. In the
 * request's own HTTP callback the status line goes out now; for a reply
 * that arrives later it is written on the next HTTP_WRITEABLE.
 */
static int
reply_raw(struct lws *wsi, struct conn *c, int status, const char *ctype,
    char *body, size_t len, int now)
{
	c->status = status;
	c->ctype = ctype;
	free(c->body);
	c->body = body;
	c->body_len = len;
	c->headers_due = 1;
	if (now) {
		if (write_headers(wsi, c) != 0)
			return -1;
		c->headers_due = 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

static int
reply_json_to(struct lws *wsi, struct conn *c, int status, json_t *obj,
    int now)
{
	char	*body;

	if (status == 204 || obj == NULL) {
		json_decref(obj);
		return reply_raw(wsi, c, status,
		    "application/json", NULL, 0, now);
	}
	body = json_dumps(obj, HX_JSON_FLAGS | JSON_ENCODE_ANY);
	json_decref(obj);
	if (body == NULL)
		return -1;
	return reply_raw(wsi, c, status, "application/json", body,
	    strlen(body), now);
}

static int
reply_json(struct request *r, int status, json_t *obj)
{
	return reply_json_to(r->wsi, r->c, status, obj, 1);
}

static json_t *
error_object(const char *code, const char *message)
{
	return json_pack("{s:s,s:s}", "error", code, "message", message);
}

static int
reply_error(struct request *r, int status, const char *code,
    const char *message)
{
	return reply_json(r, status, error_object(code, message));
}

/* An error reply with one extra header (Allow:, Upgrade:, Retry-After:). */
static int
reply_error_with(struct request *r, int status, const char *code,
    const char *message, const char *header, const char *value)
{
	add_header(r->c, header, value);
	return reply_error(r, status, code, message);
}

void
http_refuse(struct lws *wsi, int status, const char *code,
    const char *message)
{
	static const struct {
		int		 status;
		const char	*reason;
	} reasons[] = {
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 429, "Too Many Requests" }, { 503, "Service Unavailable" },
	};
	unsigned char	 buf[LWS_PRE + 2048];
	const char	*reason = "Error";
	json_t		*obj = error_object(code, message);
	char		*body = json_dumps(obj, HX_JSON_FLAGS);
	size_t		 i;
	int		 n;

	json_decref(obj);
	for (i = 0; i < HX_ARRAY_SIZE(reasons); i++) {
		if (reasons[i].status == status)
			reason = reasons[i].reason;
	}
	/*
	 * Written by hand: at upgrade time lws has not recorded the request's
	 * HTTP version and would answer "HTTP/1.0", which strict WebSocket
	 * clients reject. A refused upgrade never reaches HTTP_WRITEABLE, so
	 * it all goes out in one write and the caller closes.
	 */
	n = snprintf((char *)buf + LWS_PRE, sizeof buf - LWS_PRE,
	    "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
	    "content-length: %zu\r\ncache-control: no-store\r\n"
	    "connection: close\r\n\r\n%s", status, reason, strlen(body),
	    body);
	if (n > 0 && (size_t)n < sizeof buf - LWS_PRE)
		lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_HEADERS);
	free(body);
}

/* --- read routes, answered from memory ------------------------------------- */

/*
 * Public: whether the daemon is up. How many clients it has is load
 * information about other people: only an authenticated caller gets it.
 */
static int
route_health(struct request *r)
{
	struct server	*srv = r->srv;
	json_t		*h;

	h = json_pack("{s:s,s:s,s:f}", "status", "ok", "version", HX_VERSION,
	    "uptime_seconds", round((double)(hx_mono_ns() - srv->start_ns) /
	    1e6) / 1e3);
	if (r->id.authenticated)
		json_object_set_new(h, "clients",
		    json_integer((json_int_t)srv->nsessions));
	return reply_json(r, 200, h);
}

static int
route_me(struct request *r)
{
	static const char *kinds[] = { "anonymous", "local", "api_key",
	    "session", "session" };
	const struct hx_store_user	*u = access_cache_user(r->srv->cache,
					    r->id.name);
	json_t				*roles = json_array(), *me;
	size_t				 i;

	if (r->id.kind == ACCESS_LOCAL)
		json_array_append_new(roles, json_string("Administrator"));
	for (i = 0; u != NULL && i < u->roles.n; i++)
		json_array_append_new(roles, json_string(u->roles.v[i]));
	me = json_pack("{s:s,s:s,s:o,s:o}", "username", r->id.name, "auth",
	    kinds[r->id.kind], "roles", roles, "privileges",
	    access_privileges_json(&r->id));
	/*
	 * A page in a new tab has the cookie but not the CSRF token; only
	 * same-origin script can read this answer (no CORS for others).
	 */
	if (r->id.kind == ACCESS_COOKIE)
		json_object_set_new(me, "csrf_token", json_string(r->id.csrf));
	return reply_json(r, 200, me);
}

static int
route_users(struct request *r)
{
	const struct hx_store_snapshot	*s =
	    access_cache_snapshot(r->srv->cache);
	json_t				*a = json_array();
	size_t				 i;

	for (i = 0; i < s->users.n; i++)
		json_array_append_new(a, job_user_json(&s->users.v[i]));
	return reply_json(r, 200, a);
}

static int
route_user(struct request *r)
{
	const struct hx_store_user	*u = access_cache_user(r->srv->cache,
					    r->params[0]);

	if (u == NULL)
		return reply_error(r, 404, "NOT_FOUND", "no such user");
	return reply_json(r, 200, job_user_json(u));
}

static int
route_keys(struct request *r)
{
	const struct hx_store_snapshot	*s =
	    access_cache_snapshot(r->srv->cache);
	json_t				*a;
	size_t				 i;

	if (access_cache_user(r->srv->cache, r->params[0]) == NULL)
		return reply_error(r, 404, "NOT_FOUND", "no such user");
	a = json_array();
	for (i = 0; i < s->keys.n; i++) {
		if (strcmp(s->keys.v[i].username, r->params[0]) == 0)
			json_array_append_new(a, job_key_json(&s->keys.v[i]));
	}
	return reply_json(r, 200, a);
}

/* A user's live login sessions (ids, times, peers; never a token). */
static int
route_sessions(struct request *r)
{
	const struct hx_store_snapshot	*s =
	    access_cache_snapshot(r->srv->cache);
	const struct hx_store_session	*se;
	const char			*cur = NULL;
	time_t				 now = time(NULL);
	json_t				*a;
	size_t				 i;

	if (access_cache_user(r->srv->cache, r->params[0]) == NULL)
		return reply_error(r, 404, "NOT_FOUND", "no such user");
	if (r->id.kind == ACCESS_TOKEN || r->id.kind == ACCESS_COOKIE)
		cur = r->id.cred;
	a = json_array();
	for (i = 0; i < s->sessions.n; i++) {
		se = &s->sessions.v[i];
		if (strcmp(se->username, r->params[0]) == 0 &&
		    se->expires > now && se->absolute_expires > now)
			json_array_append_new(a, job_session_json(se, cur));
	}
	return reply_json(r, 200, a);
}

static int
route_roles(struct request *r)
{
	const struct hx_store_snapshot	*s =
	    access_cache_snapshot(r->srv->cache);
	const struct hx_role_def	*def;
	json_t				*a = json_array();
	size_t				 i;

	for (i = 0; (def = hx_rbac_builtin_at(i)) != NULL; i++)
		json_array_append_new(a, job_role_json(def->name, def->privs,
		    1, def->scope));
	for (i = 0; i < s->roles.n; i++)
		json_array_append_new(a, job_role_json(s->roles.v[i].name,
		    s->roles.v[i].privs, 0, "/"));
	return reply_json(r, 200, a);
}

static int
route_acl(struct request *r)
{
	const struct hx_store_snapshot	*s =
	    access_cache_snapshot(r->srv->cache);
	json_t				*a = json_array();
	size_t				 i;

	for (i = 0; i < s->acl.n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:b}", "path",
		    s->acl.v[i].path, "role", s->acl.v[i].role, "user",
		    s->acl.v[i].username, "propagate",
		    s->acl.v[i].propagate));
	return reply_json(r, 200, a);
}

/* The inventory, only the VMs the caller may audit. */
static int
route_vms(struct request *r)
{
	json_t		*a = json_array(), *e;
	const char	*id;
	char		*path;
	size_t		 i;

	if (r->srv->vms != NULL) {
		json_array_foreach(r->srv->vms, i, e) {
			if ((id = json_string_value(json_object_get(e,
			    "id"))) == NULL)
				continue;
			path = hx_rbac_path_fill("/vms/{id}", id);
			if (access_allowed(&r->id, HX_PRIV_VM_AUDIT, path))
				json_array_append(a, e);
			free(path);
		}
	}
	return reply_json(r, 200, a);
}

static int
route_node_local(struct request *r)
{
	struct frame	*f = r->srv->latest[TOPIC_NODE_METRICS];
	char		*body;

	if (f == NULL)
		return reply_error(r, 503, "UNAVAILABLE",
		    "no host sample has been taken yet");
	/* The event's own data object, bytes shared with the frame. */
	body = xstrndup(frame_text(f) + f->data_off, f->data_len);
	return reply_raw(r->wsi, r->c, 200, "application/json", body,
	    f->data_len, 1);
}

static int
route_ws_plain(struct request *r)
{
	return reply_error_with(r, 426, "UPGRADE_REQUIRED",
	    "this endpoint speaks WebSocket only", "upgrade:", "websocket");
}

/*
 * The VM a route's :id names: a VM name, or else a VM's UUID, so that a
 * VM whose name cannot travel in a URL (lws folds "." and ".." segments)
 * is still addressable. Returns the VM's name (borrowed from the
 * inventory, valid for this request) or id itself when nothing matches.
 */
static const char *
vm_resolve(struct server *srv, const char *id)
{
	json_t		*e;
	const char	*name, *uuid, *found = NULL;
	size_t		 i;

	if (srv->vms == NULL)
		return id;
	json_array_foreach(srv->vms, i, e) {
		name = json_string_value(json_object_get(e, "id"));
		uuid = json_string_value(json_object_get(e, "uuid"));
		if (name != NULL && strcmp(name, id) == 0)
			return id;
		if (found == NULL && uuid != NULL && name != NULL &&
		    strcasecmp(uuid, id) == 0)
			found = name;
	}
	return found != NULL ? found : id;
}

/* --- login rate limiting ---------------------------------------------------- */

/*
 * Every password check (a login, or the old password of a self change)
 * takes a slot of its user and of its address when it is admitted, before
 * it runs; a success gives the slots back, a failure keeps them for
 * LOGIN_WINDOW_MS. So no more than LOGIN_FAILS checks per user or address
 * are ever running or failed within the window, however many arrive at
 * once.
 */

/* The newest slot of l, the one eviction compares. */
static int64_t
limit_newest(const struct login_limit *l)
{
	int64_t	newest = 0;
	int	i;

	for (i = 0; i < LOGIN_FAILS; i++) {
		if (l->at[i] > newest)
			newest = l->at[i];
	}
	return newest;
}

static struct login_limit *
limit_find(struct server *srv, const char *key, int create)
{
	size_t	i, oldest = 0;

	for (i = 0; i < srv->nlimits; i++) {
		if (strncmp(srv->limits[i].key, key,
		    sizeof srv->limits[i].key - 1) == 0)
			return &srv->limits[i];
	}
	if (!create)
		return NULL;
	if (srv->nlimits < LOGIN_LIMITS) {
		srv->limits = xrealloc(srv->limits,
		    (srv->nlimits + 1) * sizeof *srv->limits);
		i = srv->nlimits++;
	} else {
		/* Full: forget the entry whose newest slot is oldest. */
		for (i = 1; i < srv->nlimits; i++) {
			if (limit_newest(&srv->limits[i]) <
			    limit_newest(&srv->limits[oldest]))
				oldest = i;
		}
		i = oldest;
	}
	memset(&srv->limits[i], 0, sizeof srv->limits[i]);
	hx_strlcpy(srv->limits[i].key, key, sizeof srv->limits[i].key);
	return &srv->limits[i];
}

/* Seconds until key may try again, or 0 when a slot is free now. */
static int64_t
limit_wait(struct server *srv, const char *key)
{
	struct login_limit	*l = limit_find(srv, key, 0);
	int64_t			 oldest = INT64_MAX, now = hx_wall_ms();
	int			 i;

	if (l == NULL)
		return 0;
	for (i = 0; i < LOGIN_FAILS; i++) {
		if (l->at[i] == 0 || now - l->at[i] >= LOGIN_WINDOW_MS)
			return 0;
		if (l->at[i] < oldest)
			oldest = l->at[i];
	}
	return (LOGIN_WINDOW_MS - (now - oldest)) / 1000 + 1;
}

/* Take a free slot of key (limit_wait said there is one) at now. */
static void
limit_take(struct server *srv, const char *key, int64_t now)
{
	struct login_limit	*l = limit_find(srv, key, 1);
	int			 i, pick = 0;

	for (i = 0; i < LOGIN_FAILS; i++) {
		if (l->at[i] < l->at[pick])
			pick = i;
	}
	l->at[pick] = now;
}

/* Give back the slot of key taken at ms (a success). */
static void
limit_give_back(struct server *srv, const char *key, int64_t ms)
{
	struct login_limit	*l = limit_find(srv, key, 0);
	int			 i;

	for (i = 0; l != NULL && i < LOGIN_FAILS; i++) {
		if (l->at[i] == ms) {
			l->at[i] = 0;
			return;
		}
	}
}

/*
 * Is this request a password check, and may it run now? A login checks
 * the body's username; a password change checks the old password of
 * :username unless the caller may modify users (then none is asked for).
 * Fills user with the "u:NAME" slot to take ("" when no check), or
 * answers 429 and returns 1.
 */
static int
limited(struct request *r, const struct route *rt, char *user, size_t len)
{
	const char	*name;
	char		 addr[192], ra[24];
	int64_t		 wait;

	user[0] = '\0';
	if (rt->flags & R_PUBLIC)
		name = json_string_value(json_object_get(r->body, "username"));
	else if (access_allowed(&r->id, HX_PRIV_USER_MODIFY, "/access"))
		return 0;
	else
		name = r->params[0];
	snprintf(user, len, "u:%s", name != NULL ? name : "");
	snprintf(addr, sizeof addr, "a:%s", r->remote);
	if ((wait = limit_wait(r->srv, addr)) == 0)
		wait = limit_wait(r->srv, user);
	if (wait == 0)
		return 0;
	user[0] = '\0';
	snprintf(ra, sizeof ra, "%lld", (long long)wait);
	reply_error_with(r, 429, "RATE_LIMITED", "too many failed password "
	    "checks; try again later", "retry-after:", ra);
	return 1;
}

/*
 * Note that an API key was used: written through the worker at most once
 * a minute per key, so a busy key costs no disk write per request.
 */
static void
key_used(struct server *srv, const char *keyid)
{
	struct job	*j;
	int64_t		 now = hx_wall_ms();
	size_t		 i;

	for (i = 0; i < srv->nkeys_seen; i++) {
		if (strcmp(srv->keys_seen[i].keyid, keyid) == 0)
			break;
	}
	if (i == srv->nkeys_seen) {
		if (srv->nkeys_seen == LOGIN_LIMITS)
			i = 0;	/* full: reuse a slot; the cost is a write */
		else {
			srv->keys_seen = xrealloc(srv->keys_seen,
			    (srv->nkeys_seen + 1) * sizeof *srv->keys_seen);
			srv->nkeys_seen++;
		}
		hx_strlcpy(srv->keys_seen[i].keyid, keyid,
		    sizeof srv->keys_seen[i].keyid);
		srv->keys_seen[i].written_ms = 0;
	}
	if (now - srv->keys_seen[i].written_ms < 60000)
		return;
	srv->keys_seen[i].written_ms = now;
	j = job_new(job_key_touch);
	hx_strlcpy(j->actor_cred, keyid, sizeof j->actor_cred);
	worker_submit(srv->worker, j);
}

/*
 * CORS: only for an Origin listed exactly in allowed_origins; everyone
 * else gets no CORS header at all, so browsers keep the same-origin rule.
 * Returns 1 when the request's origin is such an allowed one.
 */
static int
cors_headers(struct request *r)
{
	const struct options	*o = r->srv->opts;
	char			 origin[256];
	size_t			 i;

	if (lws_hdr_copy(r->wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
		return 0;
	for (i = 0; i < o->nallowed_origins; i++) {
		if (strcmp(origin, o->allowed_origins[i]) == 0) {
			add_header(r->c, "access-control-allow-origin:",
			    origin);
			add_header(r->c, "access-control-allow-credentials:",
			    "true");
			add_header(r->c, "vary:", "Origin");
			return 1;
		}
	}
	return 0;
}

/* No Origin (not a browser), or one allowed to use a cookie here. */
static int
origin_allowed(struct request *r)
{
	if (lws_hdr_total_length(r->wsi, WSI_TOKEN_ORIGIN) <= 0)
		return 1;
	return http_origin_ok(r->srv, r->wsi);
}

/* Is the caller a login session of user (whose rights are user's own)? */
static int
is_self_session(const struct request *r, const char *user)
{
	return (r->id.kind == ACCESS_TOKEN || r->id.kind == ACCESS_COOKIE) &&
	    user != NULL && strcmp(r->id.name, user) == 0;
}

/* Answer 403 with msg (freed here); returns 1, "answered". */
static int
refuse_grant(struct request *r, char *msg)
{
	reply_error(r, 403, "FORBIDDEN", msg);
	free(msg);
	return 1;
}

/*
 * A key narrows its owner's rights: refuse roles whose privileges the
 * owner does not hold at the role's scope (they would do nothing today
 * and would widen the key silently if the owner were promoted). And
 * nobody hands out rights they lack: unless the caller is the owner's own
 * login session, the caller (with a key: what that key may do) must hold
 * every privilege the new key would carry, each role of its subset at the
 * role's scope, or without a subset everything the owner holds. Returns
 * 1 when it has answered the request.
 */
static int
key_roles_refused(struct request *r)
{
	json_t		*roles = json_object_get(r->body, "roles"), *e;
	const char	*name, *owner = r->params[0];
	char		*msg;
	size_t		 i;
	int		 self = is_self_session(r, owner);

	if (roles == NULL || json_is_null(roles)) {
		if (!self && !access_covers_user(r->srv->cache, &r->id, owner))
			return refuse_grant(r, xasprintf("a key of '%.64s' "
			    "would carry rights you do not hold", owner));
		return 0;
	}
	if (!json_is_array(roles))
		return 0;	/* the job's validation says why */
	json_array_foreach(roles, i, e) {
		/* Unknown names are the job's to refuse ("unknown role"). */
		if ((name = json_string_value(e)) == NULL)
			continue;
		if (access_user_covers_role(r->srv->cache, owner, name) == 0) {
			msg = xasprintf("'%.64s' gives rights '%.64s' does "
			    "not hold: a key can only narrow its owner's "
			    "rights", name, owner);
			reply_error(r, 422, "VALIDATION_ERROR", msg);
			free(msg);
			return 1;
		}
		if (!self && access_covers_role(r->srv->cache, &r->id, name,
		    NULL) == 0)
			return refuse_grant(r, xasprintf("role '%.64s' gives "
			    "rights you do not hold", name));
	}
	return 0;
}

/*
 * An ACL entry hands out its role at its path: the caller must hold every
 * privilege of the role there (Proxmox's rule), to grant it or to take it
 * away. Unknown roles and bad paths are the job's to refuse. Returns 1
 * when it has answered the request.
 */
static int
acl_role_refused(struct request *r)
{
	const char	*path = json_string_value(json_object_get(r->body,
			    "path"));
	const char	*role = json_string_value(json_object_get(r->body,
			    "role"));

	if (path == NULL || role == NULL || hx_rbac_path_ok(path, NULL) != 0)
		return 0;
	if (access_covers_role(r->srv->cache, &r->id, role, path) == 0)
		return refuse_grant(r, xasprintf("role '%.64s' gives rights "
		    "you do not hold on '%.255s'", role, path));
	return 0;
}

/*
 * Setting another user's password makes the caller able to become that
 * user: it needs every right that user holds. Returns 1 when answered.
 */
static int
password_reset_refused(struct request *r)
{
	if (is_self_session(r, r->params[0]) ||
	    access_covers_user(r->srv->cache, &r->id, r->params[0]))
		return 0;
	return refuse_grant(r, xasprintf("'%.64s' holds rights you do not "
	    "hold", r->params[0]));
}

/*
 * The roles (built-in and custom) whose privileges id holds at each
 * role's scope: the ones it may give or take away in a user's roles. The
 * job checks the change against this list on the worker, where the
 * user's current roles are read.
 */
static void
grantable_roles(struct server *srv, const struct identity *id,
    struct hx_store_strv *out)
{
	const struct hx_store_snapshot	*s = access_cache_snapshot(srv->cache);
	const struct hx_role_def	*def;
	const char			*name;
	size_t				 i, n;

	n = s->roles.n;
	for (i = 0; hx_rbac_builtin_at(i) != NULL; i++)
		n++;
	out->v = xcalloc(n + 1, sizeof *out->v);
	out->n = 0;
	for (i = 0; i < n; i++) {
		def = hx_rbac_builtin_at(i);
		name = def != NULL ? def->name : s->roles.v[i -
		    (n - s->roles.n)].name;
		if (access_covers_role(srv->cache, id, name, NULL) == 1)
			out->v[out->n++] = xstrdup(name);
	}
}

/* --- dispatch ---------------------------------------------------------------- */

/* Match path against pattern, filling params for ":name" segments. */
static int
route_match(const char *pattern, const char *path, struct request *r)
{
	return http_route_match(pattern, path, r->pbuf, sizeof r->pbuf,
	    r->params, ROUTE_PARAMS);
}

static const char *
request_method(struct lws *wsi, enum lws_token_indexes *tok)
{
	static const struct {
		enum lws_token_indexes	 tok;
		const char		*name;
	} methods[] = {
		{ WSI_TOKEN_GET_URI, "GET" },
		{ WSI_TOKEN_POST_URI, "POST" },
		{ WSI_TOKEN_PUT_URI, "PUT" },
		{ WSI_TOKEN_PATCH_URI, "PATCH" },
		{ WSI_TOKEN_DELETE_URI, "DELETE" },
		{ WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
		{ WSI_TOKEN_HEAD_URI, "HEAD" },
	};
	size_t	i;

	for (i = 0; i < HX_ARRAY_SIZE(methods); i++) {
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
			*tok = methods[i].tok;
			return methods[i].name;
		}
	}
	return NULL;
}

static const char *
mime_for(const char *path)
{
	const char	*dot = strrchr(path, '.');
	size_t		 i;

	for (i = 0; dot != NULL && i < HX_ARRAY_SIZE(mime_types); i++) {
		if (strcmp(dot, mime_types[i].ext) == 0)
			return mime_types[i].mime;
	}
	return "application/octet-stream";
}

static int
serve_static(struct request *r)
{
	char		 want[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
	unsigned char	 hdr[1024], *p;
	const char	*rel = r->path;
	struct stat	 st;
	size_t		 rl;
	int		 n, i;

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return reply_error(r, 405, "METHOD_NOT_ALLOWED",
		    "static files are read-only");
	if (strcmp(rel, "/") == 0)
		rel = "/index.html";
	/* Refuse anything that could climb out before touching the disk. */
	if (strstr(rel, "/..") != NULL || strchr(rel, '\\') != NULL)
		return reply_error(r, 404, "NOT_FOUND", "no such file");
	if (realpath(r->srv->opts->web_root, root) == NULL)
		return reply_error(r, 404, "NOT_FOUND", "no web root");
	n = snprintf(want, sizeof want, "%s%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof want || realpath(want, real) ==
	    NULL || stat(real, &st) != 0 || !S_ISREG(st.st_mode))
		return reply_error(r, 404, "NOT_FOUND", "no such file");
	rl = strlen(root);
	if (strncmp(real, root, rl) != 0 || real[rl] != '/')
		return reply_error(r, 404, "NOT_FOUND", "no such file");
	/*
	 * lws adds the security headers (CSP, nosniff, frame denial); ours
	 * (clearing a dead cookie, CORS) go along as its "other headers".
	 */
	p = hdr;
	for (i = 0; i < r->c->nheaders; i++) {
		if (lws_add_http_header_by_name(r->wsi,
		    (const unsigned char *)r->c->hname[i],
		    (const unsigned char *)r->c->hvalue[i],
		    (int)strlen(r->c->hvalue[i]), &p, hdr + sizeof hdr)) {
			clear_reply(r->c);
			return -1;
		}
	}
	clear_reply(r->c);
	n = lws_serve_http_file(r->wsi, real, mime_for(real), (char *)hdr,
	    (int)(p - hdr));
	if (n < 0 || (n > 0 && lws_http_transaction_completed(r->wsi)))
		return -1;
	return 0;
}

/*
 * The query string as one string: lws splits the arguments into
 * fragments, which we join with '&' again for the job's parser.
 */
static void
join_query(struct lws *wsi, char *out, size_t outlen)
{
	char	frag[512];
	size_t	o = 0;
	int	i, n;

	out[0] = '\0';
	for (i = 0; (n = lws_hdr_copy_fragment(wsi, frag, sizeof frag,
	    WSI_TOKEN_HTTP_URI_ARGS, i)) > 0; i++) {
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
 * Hand the request to the worker (or the login pool); the reply comes in
 * http_job_done. limit_user is the "u:NAME" slot a password check takes
 * with its address's, or "" when the request is no such check.
 */
static int
submit_job(struct request *r, const struct route *rt, const char *limit_user)
{
	struct server	*srv = r->srv;
	struct job	*j = job_new(rt->job);
	char		 q[URI_MAX], addr[192];
	int64_t		 now = hx_wall_ms();
	int		 i;

	hx_strlcpy(j->actor, r->id.name, sizeof j->actor);
	hx_strlcpy(j->actor_who, r->id.who, sizeof j->actor_who);
	j->actor_kind = r->id.kind;
	hx_strlcpy(j->actor_cred, r->id.cred, sizeof j->actor_cred);
	j->may_modify_users = access_allowed(&r->id, HX_PRIV_USER_MODIFY,
	    "/access");
	j->may_modify_perms = access_allowed(&r->id,
	    HX_PRIV_PERMISSIONS_MODIFY, "/access");
	if (rt->job == job_user_add || rt->job == job_user_update)
		grantable_roles(srv, &r->id, &j->grantable);
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
		return reply_error(r, 503, "UNAVAILABLE", "no libvirt "
		    "connection is configured");
	}
	if (rt->job == job_vm_show) {
		struct frame *f = server_vm_latest(srv, r->params[0]);

		if (f != NULL)
			j->body = json_loadb(frame_text(f) + f->data_off,
			    f->data_len, 0, NULL);
	}
	if (limit_user[0] != '\0') {
		j->limit_ms = now;
		j->limit_user = xstrdup(limit_user);
	}
	r->c->id = ++srv->next_conn_id;
	j->conn_id = r->c->id;
	if ((rt->flags & R_POOL) && srv->login_pool != NULL) {
		/* The pool holds a bounded number: beyond it, come back. */
		if (worker_try_submit(srv->login_pool, j) != 0) {
			job_free(j);
			return reply_error_with(r, 429, "RATE_LIMITED",
			    "too many logins in progress; try again later",
			    "retry-after:", "1");
		}
	} else
		worker_submit((rt->flags & R_VIRT) ? srv->vworker :
		    srv->worker, j);
	/*
	 * The job may already have run, but its reply is drained on this
	 * thread, after this: the slots are taken before they are given back.
	 */
	if (limit_user[0] != '\0') {
		limit_take(srv, limit_user, now);
		snprintf(addr, sizeof addr, "a:%s", r->remote);
		limit_take(srv, addr, now);
	}
	TAILQ_INSERT_TAIL(&srv->pending, r->c, pending_entry);
	r->c->pending = 1;
	return 0;
}

static int
csrf_ok(struct request *r)
{
	char	tok[128];
	int	n;

	n = lws_hdr_custom_copy(r->wsi, tok, sizeof tok, "x-csrf-token:", 13);
	return n > 0 && strlen(r->id.csrf) == (size_t)n &&
	    hx_ct_equal(tok, r->id.csrf, (size_t)n);
}

static int
dispatch(struct server *srv, struct lws *wsi, struct conn *c, json_t *body)
{
	struct request		 r;
	const struct route	*rt;
	const char		*allow = NULL, *why;
	enum lws_token_indexes	 tok;
	char			 uri[URI_MAX], host[256];
	char			 limit_user[192];
	size_t			 i;
	int			 allow_public = 0, on_unix, ret;

	memset(&r, 0, sizeof r);
	r.srv = srv;
	r.wsi = wsi;
	r.c = c;
	r.body = body;
	on_unix = lws_get_vhost(wsi) == srv->vh_unix;
	if ((r.method = request_method(wsi, &tok)) == NULL)
		return reply_error(&r, 405, "METHOD_NOT_ALLOWED",
		    "unsupported method");
	if (lws_hdr_copy(wsi, uri, sizeof uri, tok) < 0)
		return reply_error(&r, 414, "URI_TOO_LONG", "request URI "
		    "too long");
	r.path = uri;
	if (on_unix)
		hx_strlcpy(r.remote, "unix", sizeof r.remote);
	else
		lws_get_peer_simple(wsi, r.remote, sizeof r.remote);

	/* DNS rebinding: a browser sent here under a foreign name. */
	if (!on_unix && (lws_hdr_copy(wsi, host, sizeof host,
	    WSI_TOKEN_HOST) <= 0 || !http_host_ok(srv, host)))
		return reply_error(&r, 400, "BAD_REQUEST", "the Host header "
		    "does not name this server");

	if (cors_headers(&r) && strcmp(r.method, "OPTIONS") == 0) {
		/* A preflight carries no credentials: answer it as such. */
		add_header(c, "access-control-allow-methods:",
		    "GET, POST, PUT, PATCH, DELETE");
		add_header(c, "access-control-allow-headers:", "content-type, "
		    "authorization, x-api-key, x-csrf-token");
		return reply_json(&r, 204, NULL);
	}
	if (access_resolve(srv->cache, wsi, on_unix, &r.id, &why) != 0)
		return reply_error_with(&r, 401, "UNAUTHORIZED", why,
		    "www-authenticate:", "Bearer");
	if (r.id.kind == ACCESS_KEY)
		key_used(srv, r.id.cred);
	if (r.id.stale_cookie)
		add_header(c, "set-cookie:", ACCESS_COOKIE_NAME "=; HttpOnly; "
		    "SameSite=Strict; Path=/; Max-Age=0");

	if (strncmp(uri, "/api/", 5) != 0 && strcmp(uri, "/api") != 0) {
		ret = serve_static(&r);
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
			r.params[0] = vm_resolve(srv, r.params[0]);
		if (!(rt->flags & R_PUBLIC) && !r.id.authenticated) {
			ret = reply_error_with(&r, 401, "UNAUTHORIZED",
			    "authentication required", "www-authenticate:",
			    "Bearer");
			goto out;
		}
		/*
		 * A cookie rides along on every request: demand the token for
		 * changes. Public routes change nothing of the session's (a
		 * login replaces it), so they do not need it.
		 */
		if (r.id.kind == ACCESS_COOKIE && strcmp(r.method, "GET") != 0 &&
		    !(rt->flags & R_PUBLIC) && !csrf_ok(&r)) {
			ret = reply_error(&r, 403, "FORBIDDEN", "missing or "
			    "wrong X-CSRF-Token");
			goto out;
		}
		/*
		 * One's own account: a login session may act on it; an API
		 * key may not, or a narrowed key could mint a wider one.
		 */
		if (rt->priv != 0 && !((rt->flags & R_SELF) &&
		    (r.id.kind == ACCESS_TOKEN || r.id.kind == ACCESS_COOKIE) &&
		    strcmp(r.params[0], r.id.name) == 0)) {
			/* "/vms/{id}" names the object the route acts on. */
			char	*acl = hx_rbac_path_fill(rt->acl_path,
				    r.params[0]);
			int	 ok = access_allowed(&r.id, rt->priv, acl);

			free(acl);
			if (!ok) {
				ret = reply_error(&r, 403, "FORBIDDEN",
				    "insufficient privileges");
				goto out;
			}
		}
		if ((rt->flags & R_BODY) && !json_is_object(body)) {
			ret = reply_error(&r, 400, "BAD_REQUEST", "this route "
			    "needs a JSON object body");
			goto out;
		}
		if ((rt->flags & R_ORIGIN) && !origin_allowed(&r)) {
			ret = reply_error(&r, 403, "FORBIDDEN", "this Origin "
			    "may not sign in here");
			goto out;
		}
		if ((rt->flags & R_LIMIT) && limited(&r, rt, limit_user,
		    sizeof limit_user)) {
			ret = 0;
			goto out;
		}
		if ((rt->job == job_key_create && key_roles_refused(&r)) ||
		    ((rt->job == job_acl_put || rt->job == job_acl_delete) &&
		    acl_role_refused(&r)) || (rt->job == job_user_password &&
		    password_reset_refused(&r))) {
			ret = 0;
			goto out;
		}
		ret = rt->job != NULL ? submit_job(&r, rt, limit_user) :
		    rt->handler(&r);
		goto out;
	}
	if (!r.id.authenticated && !allow_public) {
		/* Unknown /api paths are not revealed to anonymous callers. */
		ret = reply_error_with(&r, 401, "UNAUTHORIZED",
		    "authentication required", "www-authenticate:", "Bearer");
	} else if (allow != NULL)
		ret = reply_error_with(&r, 405, "METHOD_NOT_ALLOWED",
		    "method not allowed on this path", "allow:", allow);
	else
		ret = reply_error(&r, 404, "NOT_FOUND", "no such API route");
out:
	access_release(&r.id);
	return ret;
}

void
http_dump_routes(FILE *f)
{
	const struct route	*rt;
	size_t			 i;
	int			 b;

	for (i = 0; i < HX_ARRAY_SIZE(routes); i++) {
		rt = &routes[i];
		fprintf(f, "%s\t%s\t", rt->method, rt->pattern);
		if (rt->flags & R_PUBLIC)
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
	struct hx_store_snapshot	*old;
	struct conn			*c;
	char				 key[192];

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
		limit_give_back(srv, j->limit_user, j->limit_ms);
		snprintf(key, sizeof key, "a:%s", j->remote ? j->remote : "");
		limit_give_back(srv, key, j->limit_ms);
	}
	TAILQ_FOREACH(c, &srv->pending, pending_entry) {
		if (c->id == j->conn_id)
			break;
	}
	if (c != NULL) {
		TAILQ_REMOVE(&srv->pending, c, pending_entry);
		c->pending = 0;
		if (j->set_cookie != NULL)
			add_header(c, "set-cookie:", j->set_cookie);
		if (j->status == 429)
			add_header(c, "retry-after:", "60");
		reply_json_to(c->wsi, c, j->status, j->reply, 0);
		j->reply = NULL;
	}
	job_free(j);
}

/* The flags of the body-reading route method + uri names, or 0. */
static int
body_route(const char *method, const char *uri)
{
	struct request	r;
	size_t		i;

	for (i = 0; i < HX_ARRAY_SIZE(routes); i++) {
		if ((routes[i].flags & R_BODY) &&
		    strcmp(routes[i].method, method) == 0 &&
		    route_match(routes[i].pattern, uri, &r))
			return routes[i].flags;
	}
	return 0;
}

/*
 * Is the body declared JSON: "application/json", any case, parameters
 * such as "; charset=utf-8" allowed? A form or text/plain body is what a
 * cross-site page can send without asking (no CORS preflight).
 */
static int
json_content_type(struct lws *wsi)
{
	static const char	 want[] = "application/json";
	char			 ct[256];
	size_t			 n = sizeof want - 1;

	if (lws_hdr_copy(wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0)
		return 0;
	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' ||
	    ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/*
 * Answer an error before any route runs: the request was refused on its
 * headers or its body could not be used. end_conn ends the connection after
 * the reply, where unread body bytes would otherwise be taken for the
 * next request.
 */
static int
reply_early(struct lws *wsi, struct conn *c, int end_conn, int status,
    const char *code, const char *message)
{
	struct request	r;

	memset(&r, 0, sizeof r);
	r.wsi = wsi;
	r.c = c;
	if (end_conn)
		c->close_after = 1;
	return reply_error(&r, status, code, message);
}

/* Where the request has a body, read it (capped) before dispatching. */
static int
start_request(struct server *srv, struct lws *wsi, struct conn *c)
{
	enum lws_token_indexes	 tok;
	const char		*m = request_method(wsi, &tok);
	char			 cl[32], uri[URI_MAX];
	long long		 len;
	int			 flags;

	c->wsi = wsi;
	clear_reply(c);
	c->close_after = 0;
	/*
	 * lws reads a body by Content-Length only and never decodes
	 * chunked. A Transfer-Encoding beside a Content-Length, or on a
	 * method that carries no body, leaves the two ends disagreeing on
	 * where this request stops (request smuggling): RFC 7230 §3.3.3
	 * says answer 400 and close.
	 */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0 &&
	    (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 ||
	    m == NULL || strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
	    strcmp(m, "DELETE") == 0 || strcmp(m, "OPTIONS") == 0)) {
		return reply_early(wsi, c, 1, 400, "BAD_REQUEST",
		    "Transfer-Encoding is not accepted with a Content-Length "
		    "or on this method");
	}
	if (m == NULL || (strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0 &&
	    strcmp(m, "PATCH") != 0 && strcmp(m, "DELETE") != 0))
		return dispatch(srv, wsi, c, NULL);
	flags = lws_hdr_copy(wsi, uri, sizeof uri, tok) < 0 ? 0 :
	    body_route(m, uri);
	if ((flags & R_JSON) && !json_content_type(wsi)) {
		/* Refused before its body is read: the connection ends. */
		return reply_early(wsi, c, 1, 415, "UNSUPPORTED_MEDIA_TYPE",
		    "this route takes a body of Content-Type "
		    "application/json");
	}
	if (lws_hdr_copy(wsi, cl, sizeof cl,
	    WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
		/*
		 * No length: lws would wait for 100 MB. Where the route wants
		 * no body, answer it as bodiless and end the connection, so
		 * stray bytes are never read as the next request.
		 */
		if (flags == 0) {
			c->close_after = 1;
			return dispatch(srv, wsi, c, NULL);
		}
		len = -1;
	} else if (hx_parse_ll(cl, 0, LLONG_MAX, &len) != 0)
		len = -1;
	if (len < 0 || len > BODY_MAX) {
		/* Nothing of the body is read: the connection must end. */
		return reply_early(wsi, c, 1, 413, "TOO_LARGE", "a request "
		    "body needs a Content-Length of at most 65536 bytes");
	}
	if (len == 0)
		return dispatch(srv, wsi, c, NULL);
	hx_buf_init(&c->req, BODY_MAX);
	c->reading_body = 1;
	return 0;
}

static int
finish_body(struct server *srv, struct lws *wsi, struct conn *c)
{
	json_t	*body;
	int	 ret;

	c->reading_body = 0;
	body = http_body_parse(c->req.data, c->req.len);
	hx_buf_release(&c->req);
	if (body == NULL) {
		return reply_early(wsi, c, 0, 400, "BAD_REQUEST", "the body "
		    "is not valid JSON");
	}
	ret = dispatch(srv, wsi, c, body);
	json_decref(body);
	return ret;
}

int
http_callback(struct server *srv, struct lws *wsi,
    enum lws_callback_reasons reason, struct conn *c, void *in, size_t len)
{
	unsigned char	*buf;
	int		 n;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return start_request(srv, wsi, c);
	case LWS_CALLBACK_HTTP_BODY:
		if (!c->reading_body)
			return 0;
		if (hx_buf_add(&c->req, in, len) != 0) {
			c->reading_body = 0;
			hx_buf_release(&c->req);
			return reply_early(wsi, c, 1, 413, "TOO_LARGE",
			    "the request body is over 65536 bytes");
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!c->reading_body)
			return 0;
		return finish_body(srv, wsi, c);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (c->pending)
			return 0;
		if (c->headers_due) {
			c->headers_due = 0;
			if (write_headers(wsi, c) != 0)
				return -1;
			lws_callback_on_writable(wsi);
			return 0;
		}
		if (c->status == 0)
			return 0;
		c->status = 0;
		buf = xmalloc(LWS_PRE + c->body_len + 1);
		if (c->body_len > 0)
			memcpy(buf + LWS_PRE, c->body, c->body_len);
		n = lws_write(wsi, buf + LWS_PRE, c->body_len,
		    LWS_WRITE_HTTP_FINAL);
		free(buf);
		clear_reply(c);
		if (n < 0 || (size_t)n < c->body_len || c->close_after)
			return -1;
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c->pending) {
			TAILQ_REMOVE(&srv->pending, c, pending_entry);
			c->pending = 0;
		}
		clear_reply(c);
		hx_buf_release(&c->req);
		return 0;
	default:
		return 0;
	}
}

/* --- Host names ---------------------------------------------------------------- */

static void
add_host(struct server *srv, const char *name)
{
	size_t	i;

	for (i = 0; i < srv->nhosts; i++) {
		if (strcasecmp(srv->hosts[i], name) == 0)
			return;
	}
	srv->hosts = xrealloc(srv->hosts, (srv->nhosts + 1) *
	    sizeof *srv->hosts);
	srv->hosts[srv->nhosts++] = xstrdup(name);
}

void
http_hosts_init(struct server *srv)
{
	const struct options	*o = srv->opts;
	struct ifaddrs		*ifa, *i;
	char			 name[256];
	size_t			 k;

	add_host(srv, "localhost");
	add_host(srv, "127.0.0.1");
	add_host(srv, "::1");
	add_host(srv, o->listen_host);
	if (gethostname(name, sizeof name) == 0) {
		name[sizeof name - 1] = '\0';
		add_host(srv, name);
	}
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i != NULL; i = i->ifa_next) {
			if (i->ifa_addr == NULL ||
			    (i->ifa_addr->sa_family != AF_INET &&
			    i->ifa_addr->sa_family != AF_INET6))
				continue;
			if (getnameinfo(i->ifa_addr,
			    i->ifa_addr->sa_family == AF_INET ?
			    sizeof(struct sockaddr_in) :
			    sizeof(struct sockaddr_in6), name, sizeof name,
			    NULL, 0, NI_NUMERICHOST) == 0) {
				name[strcspn(name, "%")] = '\0';
				add_host(srv, name);
			}
		}
		freeifaddrs(ifa);
	}
	for (k = 0; k < o->nallowed_hosts; k++)
		add_host(srv, o->allowed_hosts[k]);
}

int
http_host_ok(const struct server *srv, const char *host)
{
	char	 name[256];
	size_t	 i;

	/* "[::1]:8006", "example:8006", "example" */
	if (http_host_name(host, name, sizeof name) != 0)
		return 0;
	for (i = 0; i < srv->nhosts; i++) {
		if (strcasecmp(srv->hosts[i], name) == 0)
			return 1;
	}
	return 0;
}

int
http_origin_ok(const struct server *srv, struct lws *wsi)
{
	char		 origin[256], *hp, *colon;
	long long	 port;
	size_t		 i;

	if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
		return 0;
	for (i = 0; i < srv->opts->nallowed_origins; i++) {
		if (strcmp(origin, srv->opts->allowed_origins[i]) == 0)
			return 1;
	}
	if (strncmp(origin, "http://", 7) != 0)
		return 0;
	hp = origin + 7;
	port = 80;
	colon = strrchr(hp, ':');
	if (colon != NULL && strchr(colon, ']') == NULL) {
		if (hx_parse_ll(colon + 1, 1, 65535, &port) != 0)
			return 0;
	}
	return port == srv->opts->listen_port && http_host_ok(srv, hp);
}

void
http_release(struct server *srv)
{
	size_t	i;

	for (i = 0; i < srv->nhosts; i++)
		free(srv->hosts[i]);
	free(srv->hosts);
	srv->hosts = NULL;
	srv->nhosts = 0;
	free(srv->limits);
	srv->limits = NULL;
	srv->nlimits = 0;
	free(srv->keys_seen);
	srv->keys_seen = NULL;
	srv->nkeys_seen = 0;
}
