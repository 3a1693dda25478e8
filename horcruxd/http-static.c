/*
 * http-static.c - the dashboard's static files: any path outside /api,
 * read-only, from web_root and never from outside it, handed to lws to
 * send with our extra headers. Public, because the files hold no data;
 * the data comes from /api and the WebSocket.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "http-reply.h"
#include "http-static.h"
#include "server.h"

static const struct {
	const char *ext;
	const char *mime;
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

static const char *
mime_for(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t	    i;

	for (i = 0; dot != NULL && i < HX_ARRAY_SIZE(mime_types); i++) {
		if (strcmp(dot, mime_types[i].ext) == 0)
			return mime_types[i].mime;
	}
	return "application/octet-stream";
}

int
http_static_serve(struct request *r)
{
	char	      want[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
	unsigned char hdr[1024], *p;
	const char   *rel = r->path;
	struct stat   st;
	size_t	      rl;
	int	      n, i;

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return http_reply_error(r, 405, "METHOD_NOT_ALLOWED",
		    "static files are read-only");
	if (strcmp(rel, "/") == 0)
		rel = "/index.html";
	/* Refuse anything that could climb out before touching the disk. */
	if (strstr(rel, "/..") != NULL || strchr(rel, '\\') != NULL)
		return http_reply_error(r, 404, "NOT_FOUND", "no such file");
	if (realpath(r->srv->opts->web_root, root) == NULL)
		return http_reply_error(r, 404, "NOT_FOUND", "no web root");
	n = snprintf(want, sizeof want, "%s%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof want || realpath(want, real) == NULL ||
	    stat(real, &st) != 0 || !S_ISREG(st.st_mode))
		return http_reply_error(r, 404, "NOT_FOUND", "no such file");
	rl = strlen(root);
	if (strncmp(real, root, rl) != 0 || real[rl] != '/')
		return http_reply_error(r, 404, "NOT_FOUND", "no such file");
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
			http_reply_clear(r->c);
			return -1;
		}
	}
	http_reply_clear(r->c);
	n = lws_serve_http_file(r->wsi, real, mime_for(real), (char *)hdr,
	    (int)(p - hdr));
	if (n < 0 || (n > 0 && lws_http_transaction_completed(r->wsi)))
		return -1;
	return 0;
}
