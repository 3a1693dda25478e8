/*
 * rest-bare.c - the bench/rest yardstick: a bare libwebsockets HTTP server
 * that answers every GET with the same bytes from a static buffer.
 *
 *   rest-bare --port PORT --body FILE
 *
 * It is what the fastest possible horcruxd could do with the same library
 * on the same machine: the same lws build, one service thread, the same
 * vhost options (so the same security headers), the same Content-Type,
 * Content-Length and Cache-Control, the whole answer in one write and the
 * connection kept alive. It does no authentication, no routing, no
 * logging and no allocation per request; bench/rest reports horcruxd's
 * requests/s as a percentage of this. It serves until SIGINT or SIGTERM.
 * Not part of the product: nothing else links or starts it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "hx-util.h"

#define HEADERS_MAX 2048

static char		   *body;
static size_t		    body_len;
static volatile sig_atomic_t stop;

static int
answer(struct lws *wsi)
{
	static const unsigned char nostore[] = "no-store";
	unsigned char		  *buf, *start, *p, *end;
	size_t			   len;
	int			   n, rc = -1;

	buf = xmalloc(LWS_PRE + HEADERS_MAX + body_len);
	start = p = buf + LWS_PRE;
	end = start + HEADERS_MAX;
	if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK,
		"application/json", body_len, &p, end) ||
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"cache-control:", nostore,
		sizeof nostore - 1, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end))
		goto out;
	memcpy(p, body, body_len);
	len = (size_t)(p - start) + body_len;
	n = lws_write(wsi, start, len, LWS_WRITE_HTTP_HEADERS);
	if (n >= 0 && (size_t)n == len)
		rc = lws_http_transaction_completed(wsi) ? -1 : 0;
out:
	free(buf);
	return rc;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	if (reason == LWS_CALLBACK_HTTP)
		return answer(wsi);
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "http", callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: rest-bare --port PORT --body FILE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_context		*ctx;
	const char			*file = NULL;
	int				 i, port = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--body") == 0 && i + 1 < argc)
			file = argv[++i];
		else
			usage();
	}
	if (port <= 0 || file == NULL)
		usage();
	if ((body = hx_read_file(file, 1 << 20, &body_len)) == NULL) {
		fprintf(stderr, "rest-bare: cannot read '%s': %s\n", file,
		    strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = port;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
	    LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
	info.max_http_header_data = 8192;
	info.keepalive_timeout = 30;
	if ((ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr, "rest-bare: cannot listen on 127.0.0.1:%d\n",
		    port);
		return 1;
	}
	while (!stop && lws_service(ctx, 0) >= 0)
		;
	lws_context_destroy(ctx);
	free(body);
	return 0;
}
