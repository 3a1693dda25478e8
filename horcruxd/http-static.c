/*
 * http-static.c - the dashboard's static files: any path outside /api,
 * read-only, from web_root and never from outside it, handed to lws to
 * send with our extra headers. Public, because the files hold no data;
 * the data comes from /api and the WebSocket.
 *
 * lws here has no stream compression, so the build leaves a gzip -9 copy
 * beside each text file (FILE.gz); a client whose Accept-Encoding allows
 * gzip gets that copy, with the type of FILE, when it is at least as new
 * as FILE (an edited FILE never gets a stale copy). Nothing is compressed
 * here, and a request for "x.gz" itself is answered as any other file.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "http-parse.h"
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

/* Is a newer than b, or as new? */
static int
mtime_not_older(const struct stat *a, const struct stat *b)
{
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
		return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
	return a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec;
}

/*
 * The precompressed copy of real (a regular file under root, stat st),
 * into gz: 1 when "real.gz" is a regular file under root at least as new
 * as real, else 0.
 */
static int
gzip_sibling(const char *root, const char *real, const struct stat *st,
    char *gz, size_t gzlen)
{
	char	    want[PATH_MAX];
	struct stat gst;
	size_t	    rl = strlen(root), l = strlen(real);
	int	    n;

	if (l >= 3 && strcmp(real + l - 3, ".gz") == 0)
		return 0;
	n = snprintf(want, sizeof want, "%s.gz", real);
	if (n < 0 || (size_t)n >= sizeof want || gzlen < PATH_MAX ||
	    realpath(want, gz) == NULL || stat(gz, &gst) != 0 ||
	    !S_ISREG(gst.st_mode) || !mtime_not_older(&gst, st))
		return 0;
	return strncmp(gz, root, rl) == 0 && gz[rl] == '/';
}

/* Does the request's Accept-Encoding allow gzip? No header: no. */
static int
request_accepts_gzip(struct request *r)
{
	char ae[512];

	if (lws_hdr_total_length(r->wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING) <= 0 ||
	    lws_hdr_copy(r->wsi, ae, sizeof ae,
		WSI_TOKEN_HTTP_ACCEPT_ENCODING) < 0)
		return 0;
	return http_accepts_gzip(ae);
}

static int
add_header(struct request *r, const char *name, const char *value,
    unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(r->wsi, (const unsigned char *)name,
	    (const unsigned char *)value, (int)strlen(value), p, end);
}

int
http_static_serve(struct request *r)
{
	char	      want[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
	char	      gz[PATH_MAX];
	unsigned char hdr[1024], *p;
	const char   *rel = r->path, *send;
	struct stat   st;
	size_t	      rl;
	int	      n, i, has_gz;

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
		if (add_header(r, r->c->hname[i], r->c->hvalue[i], &p,
			hdr + sizeof hdr)) {
			http_reply_clear(r->c);
			return -1;
		}
	}
	http_reply_clear(r->c);
	/*
	 * Where a copy exists the answer depends on Accept-Encoding, so
	 * both answers say so for caches.
	 */
	send = real;
	has_gz = gzip_sibling(root, real, &st, gz, sizeof gz);
	if (has_gz &&
	    add_header(r, "vary:", "Accept-Encoding", &p, hdr + sizeof hdr))
		return -1;
	if (has_gz && request_accepts_gzip(r)) {
		if (add_header(r, "content-encoding:", "gzip", &p,
			hdr + sizeof hdr))
			return -1;
		send = gz;
	}
	n = lws_serve_http_file(r->wsi, send, mime_for(real), (char *)hdr,
	    (int)(p - hdr));
	if (n < 0 || (n > 0 && lws_http_transaction_completed(r->wsi)))
		return -1;
	return 0;
}
