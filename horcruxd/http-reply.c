/*
 * http-reply.c - one HTTP connection's request and reply: reading the
 * method and the body (capped, refused before it is read where it cannot
 * be used), the reply's status, headers and body written now or when a
 * worker job comes back, and the lws HTTP callback that drives it all.
 *
 * It does not decide anything about a request: once it is read,
 * http_route_dispatch (http-route.c) does. Parsing the body is
 * http-parse.c's, which knows nothing of lws.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http-parse.h"
#include "http-reply.h"
#include "hx-event.h"
#include "server.h"

#define BODY_MAX (64 * 1024)
/* A reply written whole from the request's callback (write_whole). */
#define INLINE_HEADERS 2048
#define INLINE_BODY_MAX (16 * 1024)

/* --- writing replies ------------------------------------------------------ */

void
http_reply_clear(struct conn *c)
{
	int i;

	free(c->body);
	c->body = NULL;
	for (i = 0; i < c->nheaders; i++) {
		free(c->hname[i]);
		free(c->hvalue[i]);
	}
	c->nheaders = 0;
}

void
http_reply_add_header(struct conn *c, const char *name, const char *value)
{
	if (c->nheaders == CONN_MAX_HEADERS)
		return;
	c->hname[c->nheaders] = xstrdup(name);
	c->hvalue[c->nheaders] = xstrdup(value);
	c->nheaders++;
}

/*
 * One of the reply's own headers. A cookie sent over TLS is marked Secure
 * (DESIGN §12), whichever route set it: a browser then never sends it
 * back in the clear. HSTS is not here: the TLS vhost adds it to every
 * reply, lws's own too (server.c).
 */
static int
add_header(struct lws *wsi, const char *name, const char *value,
    unsigned char **p, unsigned char *end)
{
	char secure[4096]; /* a cookie is at most 4 KiB (RFC 6265) */
	int  n;

	if (strcmp(name, "set-cookie:") == 0 && lws_is_ssl(wsi)) {
		n = snprintf(secure, sizeof secure, "%s; Secure", value);
		if (n < 0 || (size_t)n >= sizeof secure)
			return -1;
		value = secure;
	}
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
	    (const unsigned char *)value, (int)strlen(value), p, end);
}

/* Add the reply's status line and headers between *p and end. */
static int
add_headers(struct lws *wsi, struct conn *c, unsigned char **p,
    unsigned char *end)
{
	static const unsigned char nostore[] = "no-store";
	int			   i, cached = 0;

	/* Replies hold live data: no-store, unless the route says otherwise. */
	for (i = 0; i < c->nheaders; i++)
		cached |= strcmp(c->hname[i], "cache-control:") == 0;
	if (lws_add_http_common_headers(wsi, (unsigned)c->status, c->ctype,
		c->body_len, p, end) ||
	    (!cached &&
		lws_add_http_header_by_name(wsi,
		    (const unsigned char *)"cache-control:", nostore,
		    sizeof nostore - 1, p, end)))
		return -1;
	for (i = 0; i < c->nheaders; i++) {
		if (add_header(wsi, c->hname[i], c->hvalue[i], p, end) != 0)
			return -1;
	}
	if (c->close_after &&
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"connection:",
		(const unsigned char *)"close", 5, p, end))
		return -1;
	return 0;
}

static int
write_headers(struct lws *wsi, struct conn *c)
{
	unsigned char  hdr[LWS_PRE + 2048];
	unsigned char *p = hdr + LWS_PRE, *end = hdr + sizeof hdr;

	if (add_headers(wsi, c, &p, end) != 0)
		return -1;
	return lws_finalize_write_http_header(wsi, hdr + LWS_PRE, &p, end);
}

/*
 * A reply that ends the connection (close_after) has gone out whole: close
 * now (-1), or, for a body refused for its announced length, linger.
 * Closing at once, while the client is still sending the body we did not
 * read, fails its next send or resets the connection before it read the
 * reply, so a client may never see why (RFC 7230 §6.6). Lingering, the
 * rest of the body is discarded (reading_body is off) until the client,
 * told "Connection: close", closes, or for LINGER_S at most. Where the
 * body's end is unknown (no length, or a smuggling attempt) the
 * connection ends at once.
 */
#define LINGER_S 3

static int
end_conn(struct lws *wsi, struct conn *c)
{
	if (!c->linger)
		return -1;
	c->reading_body = 0;
	hx_buf_release(&c->req);
	lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, LINGER_S);
	return 0;
}

/*
 * The whole reply of a bodiless request in one write, from the request's
 * own callback: status line, headers and body leave in one send, and the
 * connection is ready for its next request without a trip through
 * HTTP_WRITEABLE. Returns what the HTTP callback should return: 0, or -1
 * to close the connection (close_after, or a failed write; lws keeps and
 * sends later whatever the socket did not take at once).
 */
static int
write_whole(struct lws *wsi, struct conn *c, const char *body)
{
	unsigned char  stack[LWS_PRE + INLINE_HEADERS + INLINE_BODY_MAX];
	unsigned char *start = stack + LWS_PRE, *p = start;
	unsigned char *end = stack + sizeof stack - c->body_len;
	int	       n, close_after = c->close_after;
	size_t	       len;

	if (add_headers(wsi, c, &p, end) != 0 ||
	    lws_finalize_http_header(wsi, &p, end) != 0)
		return -1;
	if (c->body_len > 0)
		memcpy(p, body, c->body_len);
	len = (size_t)(p - start) + c->body_len;
	n = lws_write(wsi, start, len, LWS_WRITE_HTTP_HEADERS);
	c->status = 0;
	c->headers_due = 0;
	http_reply_clear(c);
	if (n < 0 || (size_t)n < len)
		return -1;
	if (close_after)
		return end_conn(wsi, c);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/*
 * Set the reply (body ownership passes) and have it written. In the
 * request's own HTTP callback the status line goes out now (with the
 * body too when the request had none and the body is small); for a
 * reply that arrives later it is written on the next HTTP_WRITEABLE.
 */
int
http_reply_raw(struct lws *wsi, struct conn *c, int status, const char *ctype,
    char *body, size_t len, int now)
{
	c->status = status;
	c->ctype = ctype;
	free(c->body);
	c->body = body;
	c->body_len = len;
	c->headers_due = 1;
	if (now && c->bodiless && len <= INLINE_BODY_MAX) {
		c->bodiless = 0;
		return write_whole(wsi, c, body);
	}
	if (now) {
		if (write_headers(wsi, c) != 0)
			return -1;
		c->headers_due = 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

int
http_reply_bytes(struct lws *wsi, struct conn *c, int status, const char *ctype,
    const char *body, size_t len)
{
	if (c->bodiless && len <= INLINE_BODY_MAX) {
		c->bodiless = 0;
		c->status = status;
		c->ctype = ctype;
		free(c->body);
		c->body = NULL;
		c->body_len = len;
		return write_whole(wsi, c, body);
	}
	return http_reply_raw(wsi, c, status, ctype, xstrndup(body, len), len,
	    1);
}

int
http_reply_json_to(struct lws *wsi, struct conn *c, int status, json_t *obj,
    int now)
{
	char *body;

	if (status == 204 || obj == NULL) {
		json_decref(obj);
		return http_reply_raw(wsi, c, status, "application/json", NULL,
		    0, now);
	}
	body = json_dumps(obj, HX_JSON_FLAGS | JSON_ENCODE_ANY);
	json_decref(obj);
	if (body == NULL)
		return -1;
	return http_reply_raw(wsi, c, status, "application/json", body,
	    strlen(body), now);
}

int
http_reply_json(struct request *r, int status, json_t *obj)
{
	return http_reply_json_to(r->wsi, r->c, status, obj, 1);
}

static json_t *
error_object(const char *code, const char *message)
{
	return json_pack("{s:s,s:s}", "error", code, "message", message);
}

int
http_reply_error(struct request *r, int status, const char *code,
    const char *message)
{
	return http_reply_json(r, status, error_object(code, message));
}

/* An error reply with one extra header (Allow:, Upgrade:, Retry-After:). */
int
http_reply_error_with(struct request *r, int status, const char *code,
    const char *message, const char *header, const char *value)
{
	http_reply_add_header(r->c, header, value);
	return http_reply_error(r, status, code, message);
}

void
http_refuse(struct lws *wsi, int status, const char *code, const char *message)
{
	static const struct {
		int	    status;
		const char *reason;
	} reasons[] = {
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 429, "Too Many Requests" },
		{ 503, "Service Unavailable" },
	};
	unsigned char buf[LWS_PRE + 2048];
	const char   *reason = "Error";
	json_t	     *obj = error_object(code, message);
	char	     *body = json_dumps(obj, HX_JSON_FLAGS);
	size_t	      i;
	int	      n;

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
	    "connection: close\r\n\r\n%s",
	    status, reason, strlen(body), body);
	if (n > 0 && (size_t)n < sizeof buf - LWS_PRE)
		lws_write(wsi, buf + LWS_PRE, (size_t)n,
		    LWS_WRITE_HTTP_HEADERS);
	free(body);
}

/* --- reading a request ---------------------------------------------------- */

const char *
http_reply_method(struct lws *wsi, enum lws_token_indexes *tok)
{
	static const struct {
		enum lws_token_indexes tok;
		const char	      *name;
	} methods[] = {
		{ WSI_TOKEN_GET_URI, "GET" },
		{ WSI_TOKEN_POST_URI, "POST" },
		{ WSI_TOKEN_PUT_URI, "PUT" },
		{ WSI_TOKEN_PATCH_URI, "PATCH" },
		{ WSI_TOKEN_DELETE_URI, "DELETE" },
		{ WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
		{ WSI_TOKEN_HEAD_URI, "HEAD" },
	};
	size_t i;

	for (i = 0; i < HX_ARRAY_SIZE(methods); i++) {
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
			*tok = methods[i].tok;
			return methods[i].name;
		}
	}
	return NULL;
}

/*
 * Is the body declared JSON: "application/json", any case, parameters
 * such as "; charset=utf-8" allowed? A form or text/plain body is what a
 * cross-site page can send without asking (no CORS preflight).
 */
static int
json_content_type(struct lws *wsi)
{
	static const char want[] = "application/json";
	char		  ct[256];
	size_t		  n = sizeof want - 1;

	if (lws_hdr_copy(wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0)
		return 0;
	return strncasecmp(ct, want, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/*
 * Answer an error before any route runs: the request was refused on its
 * headers or its body could not be used. end (not 0) ends the connection
 * after the reply, where unread body bytes would otherwise be taken for
 * the next request: at once (1), or once the client has closed
 * (END_LINGER, for a body of known length: see end_conn).
 */
#define END_LINGER 2

static int
reply_early(struct lws *wsi, struct conn *c, int end, int status,
    const char *code, const char *message)
{
	struct request r;

	memset(&r, 0, sizeof r);
	r.wsi = wsi;
	r.c = c;
	if (end != 0)
		c->close_after = 1;
	c->linger = end == END_LINGER;
	return http_reply_error(&r, status, code, message);
}

/* Where the request has a body, read it (capped) before dispatching. */
static int
start_request(struct server *srv, struct lws *wsi, struct conn *c)
{
	enum lws_token_indexes tok;
	const char	      *m = http_reply_method(wsi, &tok);
	char		       cl[32], uri[URI_MAX];
	long long	       len;
	int		       flags;

	c->wsi = wsi;
	http_reply_clear(c);
	c->close_after = 0;
	c->linger = 0;
	c->bodiless = 0;
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
	if (m == NULL ||
	    (strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0 &&
		strcmp(m, "PATCH") != 0 && strcmp(m, "DELETE") != 0)) {
		c->bodiless = 1;
		return http_route_dispatch(srv, wsi, c, NULL);
	}
	flags = lws_hdr_copy(wsi, uri, sizeof uri, tok) < 0 ?
	    0 :
	    http_route_body_flags(m, uri);
	if ((flags & R_JSON) && !json_content_type(wsi)) {
		/* Refused before its body is read: the connection ends. */
		return reply_early(wsi, c, 1, 415, "UNSUPPORTED_MEDIA_TYPE",
		    "this route takes a body of Content-Type "
		    "application/json");
	}
	if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <=
	    0) {
		/*
		 * No length: lws would wait for 100 MB. Where the route wants
		 * no body, answer it as bodiless and end the connection, so
		 * stray bytes are never read as the next request.
		 */
		if (flags == 0) {
			c->close_after = 1;
			return http_route_dispatch(srv, wsi, c, NULL);
		}
		len = -1;
	} else if (hx_parse_ll(cl, 0, LLONG_MAX, &len) != 0)
		len = -1;
	if (len < 0 || len > BODY_MAX) {
		/* Nothing of the body is read: the connection must end. */
		return reply_early(wsi, c, len < 0 ? 1 : END_LINGER, 413,
		    "TOO_LARGE",
		    "a request "
		    "body needs a Content-Length of at most 65536 bytes");
	}
	if (len == 0)
		return http_route_dispatch(srv, wsi, c, NULL);
	hx_buf_init(&c->req, BODY_MAX);
	c->reading_body = 1;
	return 0;
}

static int
finish_body(struct server *srv, struct lws *wsi, struct conn *c)
{
	json_t *body;
	int	ret;

	c->reading_body = 0;
	body = http_body_parse(c->req.data, c->req.len);
	hx_buf_release(&c->req);
	if (body == NULL) {
		return reply_early(wsi, c, 0, 400, "BAD_REQUEST",
		    "the body "
		    "is not valid JSON");
	}
	ret = http_route_dispatch(srv, wsi, c, body);
	json_decref(body);
	return ret;
}

int
http_callback(struct server *srv, struct lws *wsi,
    enum lws_callback_reasons reason, struct conn *c, void *in, size_t len)
{
	unsigned char *buf;
	int	       n;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return start_request(srv, wsi, c);
	case LWS_CALLBACK_HTTP_BODY:
		if (!c->reading_body)
			return 0;
		if (hx_buf_add(&c->req, in, len) != 0) {
			c->reading_body = 0;
			hx_buf_release(&c->req);
			return reply_early(wsi, c, END_LINGER, 413, "TOO_LARGE",
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
		http_reply_clear(c);
		if (n < 0 || (size_t)n < c->body_len)
			return -1;
		if (c->close_after)
			return end_conn(wsi, c);
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
		http_reply_clear(c);
		hx_buf_release(&c->req);
		return 0;
	default:
		return 0;
	}
}
