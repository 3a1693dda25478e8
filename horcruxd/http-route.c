/*
 * http-route.c - the HTTP side: one route table, JSON replies, static
 * files from web_root.
 *
 * Every /api route is a row of routes[]: method, pattern, the privilege
 * and ACL path it needs (or PUBLIC), and a handler. The dispatcher checks
 * authentication and privilege before any handler runs, so a handler
 * cannot forget to. Paths outside /api are the dashboard's static files,
 * public because they hold no data: the page itself must authenticate to
 * get any. Handlers run on the service thread and must not block; they
 * read the snapshots the collector already made.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hx-event.h"
#include "hx-log.h"
#include "server.h"

#define URI_MAX		2048
#define ROUTE_PARAMS	4

struct request {
	struct server		*srv;
	struct lws		*wsi;
	struct conn		*c;
	struct identity		 id;
	const char		*method;
	const char		*path;
	const char		*params[ROUTE_PARAMS];
	char			 pbuf[URI_MAX];
};

struct route {
	const char	*method;
	const char	*pattern;	/* "/api/users/:username" */
	int		 public;
	hx_privs	 priv;		/* 0 with !public: authenticated only */
	const char	*acl_path;	/* "/vms/{id}" templates come later */
	int		(*handler)(struct request *);
};

#define PUBLIC	1, 0, NULL

static int route_health(struct request *);
static int route_node_local(struct request *);
static int route_ws_plain(struct request *);

static const struct route routes[] = {
	{ "GET", "/api/health",		PUBLIC,			route_health },
	{ "GET", "/api/nodes/local",	0, HX_PRIV_SYS_AUDIT, "/nodes",
					route_node_local },
	{ "GET", "/api/ws",		0, 0, NULL,		route_ws_plain },
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

/*
 * Write status and headers now, keep the body for HTTP_WRITEABLE. Takes
 * ownership of body. Returns what the lws callback should return.
 */
static int
reply(struct lws *wsi, struct conn *c, int status, const char *type,
    char *body, size_t len, const char *extra_name, const char *extra_value)
{
	unsigned char	 hdr[LWS_PRE + 1024];
	unsigned char	*p = hdr + LWS_PRE, *end = hdr + sizeof hdr;

	static const unsigned char nostore[] = "no-store";

	free(c->body);
	c->body = body;
	c->body_len = len;
	if (lws_add_http_common_headers(wsi, (unsigned)status, type, len,
	    &p, end) ||
	    lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"cache-control:", nostore,
	    sizeof nostore - 1, &p, end))
		return -1;
	if (extra_name != NULL && lws_add_http_header_by_name(wsi,
	    (const unsigned char *)extra_name,
	    (const unsigned char *)extra_value, (int)strlen(extra_value),
	    &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, hdr + LWS_PRE, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
reply_json(struct request *r, int status, json_t *obj)
{
	size_t	 len;
	char	*body = json_dumps(obj, HX_JSON_FLAGS);

	json_decref(obj);
	if (body == NULL)
		return -1;
	len = strlen(body);
	return reply(r->wsi, r->c, status, "application/json", body, len,
	    NULL, NULL);
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

/* An error reply with one extra header (Allow:, Upgrade:). */
static int
reply_error_with(struct request *r, int status, const char *code,
    const char *message, const char *header, const char *value)
{
	json_t	*e = error_object(code, message);
	char	*body = json_dumps(e, HX_JSON_FLAGS);

	json_decref(e);
	return reply(r->wsi, r->c, status, "application/json", body,
	    strlen(body), header, value);
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
		{ 503, "Service Unavailable" },
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

static int
route_health(struct request *r)
{
	struct server	*srv = r->srv;

	return reply_json(r, 200, json_pack("{s:s,s:s,s:f,s:i}",
	    "status", "ok", "version", HX_VERSION,
	    "uptime_seconds", round((double)(hx_mono_ns() - srv->start_ns) /
	    1e6) / 1e3,
	    "clients", (json_int_t)srv->nsessions));
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
	return reply(r->wsi, r->c, 200, "application/json", body,
	    f->data_len, NULL, NULL);
}

static int
route_ws_plain(struct request *r)
{
	return reply_error_with(r, 426, "UPGRADE_REQUIRED",
	    "this endpoint speaks WebSocket only", "upgrade:", "websocket");
}

/* Match path against pattern, filling params for ":name" segments. */
static int
route_match(const char *pattern, const char *path, struct request *r)
{
	const char	*pp = pattern, *sp = path;
	char		*out = r->pbuf;
	size_t		 room = sizeof r->pbuf, n;
	int		 np = 0;

	while (*pp != '\0' && *sp != '\0') {
		if (*pp == ':') {
			n = strcspn(sp, "/");
			if (n == 0 || n + 1 > room || np == ROUTE_PARAMS)
				return 0;
			memcpy(out, sp, n);
			out[n] = '\0';
			r->params[np++] = out;
			out += n + 1;
			room -= n + 1;
			sp += n;
			pp += strcspn(pp, "/");
			continue;
		}
		if (*pp != *sp)
			return 0;
		pp++;
		sp++;
	}
	return *pp == '\0' && *sp == '\0';
}

static const char *
request_method(struct lws *wsi)
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
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0)
			return methods[i].name;
	}
	return NULL;
}

static int
request_uri(struct lws *wsi, const char *method, char *buf, size_t len)
{
	static const enum lws_token_indexes toks[] = {
		WSI_TOKEN_GET_URI, WSI_TOKEN_POST_URI, WSI_TOKEN_PUT_URI,
		WSI_TOKEN_PATCH_URI, WSI_TOKEN_DELETE_URI,
		WSI_TOKEN_OPTIONS_URI, WSI_TOKEN_HEAD_URI,
	};
	size_t	i;

	for (i = 0; i < HX_ARRAY_SIZE(toks); i++) {
		if (lws_hdr_total_length(wsi, toks[i]) > 0)
			return lws_hdr_copy(wsi, buf, (int)len, toks[i]);
	}
	return -1;
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
	const char	*rel = r->path;
	struct stat	 st;
	size_t		 rl;
	int		 n;

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
	/* lws adds the security headers (CSP, nosniff, frame denial). */
	n = lws_serve_http_file(r->wsi, real, mime_for(real), NULL, 0);
	if (n < 0 || (n > 0 && lws_http_transaction_completed(r->wsi)))
		return -1;
	return 0;
}

static int
dispatch(struct server *srv, struct lws *wsi, struct conn *c)
{
	struct request		 r;
	const struct route	*rt;
	const char		*allow = NULL;
	int			 allow_public = 0;
	char			 uri[URI_MAX];
	size_t			 i;

	memset(&r, 0, sizeof r);
	r.srv = srv;
	r.wsi = wsi;
	r.c = c;
	if ((r.method = request_method(wsi)) == NULL)
		return reply_error(&r, 405, "METHOD_NOT_ALLOWED",
		    "unsupported method");
	if (request_uri(wsi, r.method, uri, sizeof uri) < 0)
		return reply_error(&r, 414, "URI_TOO_LONG", "request URI "
		    "too long");
	r.path = uri;
	access_identify(wsi, lws_get_vhost(wsi) == srv->vh_unix, &r.id);

	if (strncmp(uri, "/api/", 5) != 0 && strcmp(uri, "/api") != 0)
		return serve_static(&r);

	for (i = 0; i < HX_ARRAY_SIZE(routes); i++) {
		rt = &routes[i];
		if (!route_match(rt->pattern, uri, &r))
			continue;
		if (strcmp(rt->method, r.method) != 0) {
			allow = rt->method;
			allow_public |= rt->public;
			continue;
		}
		if (!rt->public && !r.id.authenticated)
			return reply_error(&r, 401, "UNAUTHORIZED",
			    "authentication required");
		if (rt->priv != 0 && !access_allowed(&r.id, rt->priv,
		    rt->acl_path))
			return reply_error(&r, 403, "FORBIDDEN",
			    "insufficient privileges");
		return rt->handler(&r);
	}
	/* Unknown /api paths are not revealed to anonymous callers. */
	if (!r.id.authenticated && !allow_public)
		return reply_error(&r, 401, "UNAUTHORIZED",
		    "authentication required");
	if (allow != NULL)
		return reply_error_with(&r, 405, "METHOD_NOT_ALLOWED",
		    "method not allowed on this path", "allow:", allow);
	return reply_error(&r, 404, "NOT_FOUND", "no such API route");
}

int
http_callback(struct server *srv, struct lws *wsi,
    enum lws_callback_reasons reason, struct conn *c, void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return dispatch(srv, wsi, c);
	case LWS_CALLBACK_HTTP_BODY:
		/* No route takes a body yet; refuse rather than buffer. */
		return -1;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (c->body == NULL)
			return 0;
		{
			unsigned char	*buf = xmalloc(LWS_PRE + c->body_len + 1);
			int		 n;

			memcpy(buf + LWS_PRE, c->body, c->body_len);
			n = lws_write(wsi, buf + LWS_PRE, c->body_len,
			    LWS_WRITE_HTTP_FINAL);
			free(buf);
			free(c->body);
			c->body = NULL;
			if (n < 0 || (size_t)n < c->body_len)
				return -1;
		}
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		free(c->body);
		c->body = NULL;
		return 0;
	default:
		return 0;
	}
}
