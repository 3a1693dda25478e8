/*
 * http-int.h - what the files of the HTTP side share among themselves and
 * nothing else sees: the request being answered, the route row and its
 * flags, and the two entry points of http-route.c that http-reply.c calls
 * once a request (and its body) has been read. The daemon's interface to
 * all of it stays in server.h.
 */
#ifndef HORCRUXD_HTTP_INT_H
#define HORCRUXD_HTTP_INT_H

#include <jansson.h>

#include "server.h"

#define URI_MAX 2048
#define ROUTE_PARAMS 2

#define R_PUBLIC 0x1 /* no authentication */
#define R_SELF 0x2 /* a session may act on its own :username */
#define R_BODY 0x4 /* expects a JSON object body */
#define R_ANYONE 0x8 /* any authenticated caller, no privilege */
#define R_VIRT 0x10 /* the job runs on the libvirt worker */
#define R_JSON 0x20 /* the body must be application/json: 415 */
#define R_ORIGIN 0x40 /* an Origin, if sent, must be ours: 403 */
#define R_LIMIT 0x80 /* a password check: the login rate limit */
#define R_POOL \
	0x100 /* the job starts on the login pool: 429 when
				   it is full */
#define R_OPT_PUBLIC 0x200 /* public when metrics_public is set */
#define R_HISTORY \
	0x400 /* the job runs on the history's query
				   thread: 503 when history is off */
#define R_NOTIFY \
	0x800 /* the job goes to the notification thread
				   (notify_submit_test): 429 when full */
#define R_ALERT \
	0x1000 /* the job runs on the alert thread (0x800 is
				  R_NOTIFY on main) */

struct request {
	struct server  *srv;
	struct lws     *wsi;
	struct conn    *c;
	struct identity id;
	const char     *method;
	const char     *path;
	const char     *params[ROUTE_PARAMS];
	char		pbuf[URI_MAX];
	json_t	       *body;
	char		remote[128];
};

struct route {
	const char *method;
	const char *pattern;
	int	    flags;
	hx_privs    priv; /* needed unless PUBLIC or ANYONE */
	const char *acl_path;
	int (*handler)(struct request *);
	job_fn job;
};

/* http-route.c */

/*
 * Answer the request on wsi: Host check, CORS, credentials, then the
 * route row's checks and its handler or job, or a static file. body (a
 * JSON value, or NULL) stays the caller's. Returns what an lws HTTP
 * callback returns: -1 ends the connection.
 */
int http_route_dispatch(struct server *srv, struct lws *wsi, struct conn *c,
    json_t *body);
/* The flags of the body-reading route method + uri names, or 0. */
int http_route_body_flags(const char *method, const char *uri);

#endif
