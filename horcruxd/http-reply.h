/*
 * http-reply.h - a connection's reply: status, headers and body, written
 * now or when a worker job comes back; and the method of a request.
 */
#ifndef HORCRUXD_HTTP_REPLY_H
#define HORCRUXD_HTTP_REPLY_H

#include "http-int.h"

/* Drop c's reply body and extra headers. */
void http_reply_clear(struct conn *c);
/* Add a header (name with its colon) to c's next reply; both are copied. */
void http_reply_add_header(struct conn *c, const char *name, const char *value);
/*
 * Set the reply (body ownership passes) and have it written: the status
 * line now when now is set (in the request's own HTTP callback), else on
 * the next HTTP_WRITEABLE. A request without a body answered now with a
 * body of at most 16 KiB is written whole at once (one send) and its
 * transaction completed. Returns -1 when the connection is to close
 * (the headers cannot be written, or the reply said so).
 */
int http_reply_raw(struct lws *wsi, struct conn *c, int status,
    const char *ctype, char *body, size_t len, int now);
/*
 * As http_reply_raw with borrowed bytes (body stays the caller's): they
 * are written at once when the reply can go out whole from the request's
 * callback, else copied first. For answers kept pre-serialized.
 */
int http_reply_bytes(struct lws *wsi, struct conn *c, int status,
    const char *ctype, const char *body, size_t len);
/* As http_reply_raw with obj (reference taken; NULL or 204: no body). */
int http_reply_json_to(struct lws *wsi, struct conn *c, int status, json_t *obj,
    int now);
/* Answer r now with obj (reference taken). */
int http_reply_json(struct request *r, int status, json_t *obj);
/* Answer r now with {"error": code, "message": message}. */
int http_reply_error(struct request *r, int status, const char *code,
    const char *message);
/* An error reply with one extra header (Allow:, Upgrade:, Retry-After:). */
int http_reply_error_with(struct request *r, int status, const char *code,
    const char *message, const char *header, const char *value);
/* The request's method ("GET"...) and its URI token in tok, or NULL. */
const char *http_reply_method(struct lws *wsi, enum lws_token_indexes *tok);

#endif
