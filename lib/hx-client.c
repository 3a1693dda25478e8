/*
 * hx-client.c - the clients' side of the wire: server strings, client.conf,
 * one-shot HTTP requests and a small RFC 6455 WebSocket client.
 *
 * Written by hand rather than on libwebsockets because a terminal client
 * wants one poll() loop over its tty and one socket, and blocking,
 * one-request-per-connection HTTP is all horcrux-cli needs. It does not do
 * permessage-deflate, HTTP keep-alive or redirects: horcruxd never needs
 * them from a client.
 */
#include "hx-client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "hx-config.h"
#include "hx-util.h"

#define HTTP_MAX_RESPONSE	(16u << 20)
#define WS_MAX_MESSAGE		(4u << 20)
#define WS_GUID			"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* --- server strings ------------------------------------------------------ */

int
hx_server_parse(const char *s, struct hx_server *srv, char **err)
{
	static const struct {
		const char	*scheme;
		int		 tls, port;
	} schemes[] = {
		{ "http://", 0, 80 }, { "ws://", 0, 80 },
		{ "https://", 1, 443 }, { "wss://", 1, 443 },
	};
	const char *rest = NULL, *end, *colon;
	size_t i;

	memset(srv, 0, sizeof(*srv));
	if (s == NULL || *s == '\0') {
		*err = xstrdup("empty server address");
		return -1;
	}
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] == '\0') {
			*err = xasprintf("bad server '%s': unix: needs a socket path", s);
			return -1;
		}
		if (strlen(s + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			*err = xasprintf("bad server '%s': socket path too long", s);
			return -1;
		}
		srv->unix_sock = 1;
		srv->path = xstrdup(s + 5);
		srv->host = xstrdup("localhost");
		srv->display = xstrdup(s);
		return 0;
	}
	for (i = 0; i < HX_ARRAY_SIZE(schemes); i++) {
		if (strncasecmp(s, schemes[i].scheme,
		    strlen(schemes[i].scheme)) == 0) {
			rest = s + strlen(schemes[i].scheme);
			srv->tls = schemes[i].tls;
			srv->port = schemes[i].port;
			break;
		}
	}
	if (rest == NULL) {
		*err = xasprintf("unsupported server '%s': use unix:PATH, "
		    "http(s)://HOST:PORT or ws(s)://HOST:PORT", s);
		return -1;
	}
	end = rest + strcspn(rest, "/?#");
	if (*rest == '[') {		/* [v6]:port */
		const char *rb = memchr(rest, ']', (size_t)(end - rest));

		if (rb == NULL || rb == rest + 1) {
			*err = xasprintf("bad server '%s': unclosed '['", s);
			return -1;
		}
		srv->host = xstrndup(rest + 1, (size_t)(rb - rest - 1));
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 < end && colon == NULL) {
			*err = xasprintf("bad server '%s': junk after ']'", s);
			goto fail;
		}
	} else {
		colon = memchr(rest, ':', (size_t)(end - rest));
		srv->host = xstrndup(rest, (size_t)((colon ? colon : end) - rest));
	}
	if (srv->host[0] == '\0') {
		*err = xasprintf("bad server '%s': no host", s);
		goto fail;
	}
	if (colon != NULL) {
		char *p = xstrndup(colon + 1, (size_t)(end - colon - 1));
		long long port;
		int bad = hx_parse_ll(p, 1, 65535, &port);

		free(p);
		if (bad) {
			*err = xasprintf("bad server '%s': port must be 1 to 65535",
			    s);
			goto fail;
		}
		srv->port = (int)port;
	}
	srv->display = xstrdup(s);
	return 0;
fail:
	hx_server_release(srv);
	return -1;
}

void
hx_server_release(struct hx_server *srv)
{
	free(srv->host);
	free(srv->path);
	free(srv->display);
	memset(srv, 0, sizeof(*srv));
}

char *
hx_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct hx_buf b;
	const unsigned char *p;

	hx_buf_init(&b, 0);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			hx_buf_add(&b, p, 1);
		else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			hx_buf_add(&b, e, 3);
		}
	}
	return hx_buf_detach(&b, NULL);
}

/* --- client.conf ------------------------------------------------------------ */

static const struct hx_opt conf_table[] = {
	{ .name = "server", .type = HX_OPT_STRING,
	  .help = "server address (unix:PATH, http(s)://, ws(s)://)" },
	{ .name = "api_key", .type = HX_OPT_STRING, .help = "API key" },
	{ .name = "token", .type = HX_OPT_STRING,
	  .help = "session token stored by horcrux-cli login" },
};

static char *
conf_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (x != NULL && *x == '/')
		return xasprintf("%s/horcrux/client.conf", x);
	return xasprintf("%s/.config/horcrux/client.conf",
	    home != NULL && *home != '\0' ? home : "/");
}

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static char *
read_first_line(const char *path, char **err)
{
	size_t len;
	char *s = hx_read_file(path, 4096, &len);

	if (s == NULL) {
		*err = xasprintf("cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	s[strcspn(s, "\r\n")] = '\0';
	if (*s == '\0') {
		*err = xasprintf("'%s' is empty", path);
		free(s);
		return NULL;
	}
	return s;
}

int
hx_client_conf_load(struct hx_client_conf *c, const char *server_flag,
    const char *api_key_file, char **err)
{
	struct hx_config cfg;
	const char *v;
	int rc;

	memset(c, 0, sizeof(*c));
	c->conf_path = conf_default_path();
	hx_config_init(&cfg, conf_table, HX_ARRAY_SIZE(conf_table));
	rc = hx_config_load_file(&cfg, c->conf_path, 0, err);
	if (rc < 0)
		goto fail;

	if (server_flag != NULL)
		c->server = xstrdup(server_flag);
	else if ((v = env_nonempty("HORCRUX_SERVER")) != NULL)
		c->server = xstrdup(v);
	else if ((v = hx_config_str(&cfg, "server")) != NULL)
		c->server = xstrdup(v);
	else
		c->server = xstrdup("unix:" HX_CLIENT_DEFAULT_SOCKET);

	if (api_key_file != NULL) {
		if ((c->api_key = read_first_line(api_key_file, err)) == NULL)
			goto fail;
	} else if ((v = env_nonempty("HORCRUX_API_KEY")) != NULL)
		c->api_key = xstrdup(v);
	else if ((v = env_nonempty("HORCRUX_TOKEN")) != NULL)
		c->token = xstrdup(v);
	else if ((v = hx_config_str(&cfg, "api_key")) != NULL)
		c->api_key = xstrdup(v);
	else if ((v = hx_config_str(&cfg, "token")) != NULL)
		c->token = xstrdup(v);
	hx_config_release(&cfg);
	return 0;
fail:
	hx_config_release(&cfg);
	hx_client_conf_release(c);
	return -1;
}

void
hx_client_conf_release(struct hx_client_conf *c)
{
	free(c->server);
	free(c->api_key);
	free(c->token);
	free(c->conf_path);
	memset(c, 0, sizeof(*c));
}

/* mkdir -p for the directory part of path, mode 0700 for what it creates. */
static int
mkdir_parents(const char *path, char **err)
{
	char *dir = xstrdup(path), *p;

	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			*err = xasprintf("cannot create '%s': %s", dir,
			    strerror(errno));
			free(dir);
			return -1;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

int
hx_client_conf_set(const char *path, const char *key, const char *value,
    char **err)
{
	struct hx_buf out;
	char *old, *line, *next, *tmp;
	size_t klen = strlen(key), len;
	int fd, rc = -1;

	if (value != NULL && strpbrk(value, "\r\n") != NULL) {
		*err = xasprintf("cannot store %s: it contains a newline", key);
		return -1;
	}
	if (mkdir_parents(path, err) < 0)
		return -1;
	old = hx_read_file(path, 1 << 20, &len);
	if (old == NULL && errno != ENOENT) {
		*err = xasprintf("cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	hx_buf_init(&out, 0);
	for (line = old; line != NULL && *line != '\0'; line = next) {
		const char *k = line + strspn(line, " \t");

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(k, key, klen) == 0 &&
		    (k[klen] == '=' || k[klen] == ' ' || k[klen] == '\t'))
			continue;
		hx_buf_addf(&out, "%s\n", line);
	}
	if (value != NULL)
		hx_buf_addf(&out, "%s = %s\n", key, value);
	free(old);

	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err = xasprintf("cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (write(fd, out.data, out.len) != (ssize_t)out.len || fsync(fd) < 0) {
		*err = xasprintf("cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		*err = xasprintf("cannot replace '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	hx_buf_release(&out);
	return rc;
}

/* --- transport: a socket with optional TLS ------------------------------- */

struct hx_sock {
	int	 fd;
	SSL_CTX	*ctx;
	SSL	*ssl;
	int	 timeout_ms;
};

static void
sock_close(struct hx_sock *s)
{
	if (s->ssl != NULL) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->ctx != NULL)
		SSL_CTX_free(s->ctx);
	if (s->fd >= 0)
		close(s->fd);
	s->ssl = NULL;
	s->ctx = NULL;
	s->fd = -1;
}

static void
set_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static const char *
conn_errstr(int e)
{
	return e == EAGAIN || e == EINPROGRESS ? "timed out" : strerror(e);
}

static int
tls_start(struct hx_sock *s, const struct hx_server *srv, char **err)
{
	const char *ca = env_nonempty("HORCRUX_CA_FILE");
	unsigned long e;

	s->ctx = SSL_CTX_new(TLS_client_method());
	if (s->ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	if (ca != NULL ? SSL_CTX_load_verify_locations(s->ctx, ca, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(s->ctx) != 1)
		goto fail;
	if ((s->ssl = SSL_new(s->ctx)) == NULL ||
	    SSL_set_fd(s->ssl, s->fd) != 1 ||
	    SSL_set_tlsext_host_name(s->ssl, srv->host) != 1 ||
	    SSL_set1_host(s->ssl, srv->host) != 1)
		goto fail;
	if (SSL_connect(s->ssl) != 1)
		goto fail;
	return 0;
fail:
	e = ERR_get_error();
	if (s->ssl != NULL && SSL_get_verify_result(s->ssl) != X509_V_OK)
		*err = xasprintf("TLS with '%s' failed: %s", srv->display,
		    X509_verify_cert_error_string(
		    SSL_get_verify_result(s->ssl)));
	else
		*err = xasprintf("TLS with '%s' failed: %s", srv->display,
		    e != 0 ? ERR_reason_error_string(e) : "handshake refused");
	ERR_clear_error();
	return -1;
}

static int
sock_open(struct hx_sock *s, const struct hx_server *srv, int timeout_ms,
    char **err)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->timeout_ms = timeout_ms;
	if (srv->unix_sock) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		hx_strlcpy(sun.sun_path, srv->path, sizeof(sun.sun_path));
		s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s->fd < 0) {
			*err = xasprintf("cannot create a socket: %s",
			    strerror(errno));
			return -1;
		}
		set_timeouts(s->fd, timeout_ms);
		if (connect(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			*err = xasprintf("cannot connect to '%s': %s",
			    srv->display, conn_errstr(errno));
			sock_close(s);
			return -1;
		}
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
		char port[8];
		int gai, last = ECONNREFUSED;

		snprintf(port, sizeof(port), "%d", srv->port);
		gai = getaddrinfo(srv->host, port, &hints, &res);
		if (gai != 0) {
			*err = xasprintf("cannot resolve '%s': %s", srv->host,
			    gai_strerror(gai));
			return -1;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			s->fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (s->fd < 0) {
				last = errno;
				continue;
			}
			set_timeouts(s->fd, timeout_ms);
			if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			last = errno;
			close(s->fd);
			s->fd = -1;
		}
		freeaddrinfo(res);
		if (s->fd < 0) {
			*err = xasprintf("cannot connect to '%s': %s",
			    srv->display, conn_errstr(last));
			return -1;
		}
	}
	if (srv->tls && tls_start(s, srv, err) < 0) {
		sock_close(s);
		return -1;
	}
	return 0;
}

/* Wait until fd is ready for events; 0 ready, -1 timed out or failed. */
static int
sock_wait(struct hx_sock *s, short events)
{
	struct pollfd pfd = { .fd = s->fd, .events = events };
	int n;

	do
		n = poll(&pfd, 1, s->timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = ETIMEDOUT;
	return n > 0 ? 0 : -1;
}

/* Read up to n bytes: >0 bytes, 0 EOF, -1 error (errno), -2 would block. */
static ssize_t
sock_read(struct hx_sock *s, void *buf, size_t n)
{
	ssize_t r;

	if (s->ssl != NULL) {
		int k = SSL_read(s->ssl, buf, (int)(n > 65536 ? 65536 : n));

		if (k > 0)
			return k;
		switch (SSL_get_error(s->ssl, k)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return -2;
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		default:
			ERR_clear_error();
			if (errno == 0)
				errno = EPROTO;
			return -1;
		}
	}
	do
		r = read(s->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -2;
	return r;
}

/* Write everything, waiting for the socket when it is non-blocking. */
static int
sock_write_all(struct hx_sock *s, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w;

		if (s->ssl != NULL) {
			int k = SSL_write(s->ssl, p, (int)(n > 65536 ? 65536 : n));
			int e = k > 0 ? 0 : SSL_get_error(s->ssl, k);

			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				if (sock_wait(s, e == SSL_ERROR_WANT_WRITE ?
				    POLLOUT : POLLIN) < 0)
					return -1;
				continue;
			}
			if (k <= 0) {
				ERR_clear_error();
				errno = EPIPE;
				return -1;
			}
			w = k;
		} else {
			w = send(s->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				if (sock_wait(s, POLLOUT) < 0)
					return -1;
				continue;
			}
			if (w < 0)
				return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
add_auth_headers(struct hx_buf *req, const struct hx_cred *cred)
{
	if (cred == NULL)
		return;
	if (cred->api_key != NULL)
		hx_buf_addf(req, "X-API-Key: %s\r\n", cred->api_key);
	else if (cred->token != NULL)
		hx_buf_addf(req, "Authorization: Bearer %s\r\n", cred->token);
}

/* The Host header value: host, bracketed if IPv6, with a non-default port. */
static void
add_host_header(struct hx_buf *req, const struct hx_server *srv)
{
	int v6 = strchr(srv->host, ':') != NULL;

	hx_buf_addf(req, "Host: %s%s%s", v6 ? "[" : "", srv->host,
	    v6 ? "]" : "");
	if (!srv->unix_sock && srv->port != (srv->tls ? 443 : 80))
		hx_buf_addf(req, ":%d", srv->port);
	hx_buf_add(req, "\r\n", 2);
}

/* --- HTTP ------------------------------------------------------------------ */

/* Find the end of the header block; returns its length or 0. */
static size_t
header_end(const char *buf, size_t n)
{
	const char *e = memmem(buf, n, "\r\n\r\n", 4);

	return e != NULL ? (size_t)(e - buf) + 4 : 0;
}

/* Value of header name in the block hdr (case-insensitive), or NULL. */
static char *
header_value(const char *hdr, size_t hlen, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = memchr(hdr, '\n', hlen), *end = hdr + hlen;

	while (p != NULL && p + 1 < end) {
		const char *line = p + 1, *eol = memchr(line, '\n', (size_t)(end - line));

		if (eol == NULL)
			break;
		if ((size_t)(eol - line) > nlen && line[nlen] == ':' &&
		    strncasecmp(line, name, nlen) == 0) {
			const char *v = line + nlen + 1;
			const char *ve = eol;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
				ve--;
			return xstrndup(v, (size_t)(ve - v));
		}
		p = eol;
	}
	return NULL;
}

/*
 * Decode a chunked body in place. Returns the decoded length, 0 with
 * *complete unset when more bytes are needed, or -1 when malformed.
 */
static long long
dechunk(const char *in, size_t n, struct hx_buf *out, int *complete)
{
	size_t pos = 0;

	*complete = 0;
	hx_buf_reset(out);
	for (;;) {
		const char *eol = memmem(in + pos, n - pos, "\r\n", 2);
		unsigned long long sz;
		char *endp;

		if (eol == NULL)
			return 0;
		errno = 0;
		sz = strtoull(in + pos, &endp, 16);
		if (endp == in + pos || errno != 0 || sz > HTTP_MAX_RESPONSE)
			return -1;
		pos = (size_t)(eol - in) + 2;
		if (sz == 0) {
			*complete = 1;
			return (long long)out->len;
		}
		if (n - pos < sz + 2)
			return 0;
		if (hx_buf_add(out, in + pos, (size_t)sz) < 0)
			return -1;
		pos += (size_t)sz + 2;
	}
}

int
hx_http_request(const struct hx_server *srv, const struct hx_cred *cred,
    const char *method, const char *path, const char *json_body,
    int timeout_ms, struct hx_http_resp *resp, char **err)
{
	struct hx_sock s;
	struct hx_buf req, in, body;
	size_t hlen = 0;
	long long clen = -1;
	int chunked = 0, done = 0, rc = -1;
	char tmp[16384];

	memset(resp, 0, sizeof(*resp));
	if (sock_open(&s, srv, timeout_ms, err) < 0)
		return -1;
	hx_buf_init(&req, 0);
	hx_buf_init(&in, HTTP_MAX_RESPONSE);
	hx_buf_init(&body, HTTP_MAX_RESPONSE);
	hx_buf_addf(&req, "%s %s HTTP/1.1\r\n", method, path);
	add_host_header(&req, srv);
	hx_buf_addf(&req, "User-Agent: horcrux/%s\r\nAccept: application/json\r\n"
	    "Connection: close\r\n", HX_VERSION);
	add_auth_headers(&req, cred);
	if (json_body != NULL)
		hx_buf_addf(&req, "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n", strlen(json_body));
	else if (strcmp(method, "GET") != 0)
		hx_buf_addf(&req, "Content-Length: 0\r\n");
	hx_buf_addf(&req, "\r\n%s", json_body != NULL ? json_body : "");
	if (sock_write_all(&s, req.data, req.len) < 0) {
		*err = xasprintf("cannot send to '%s': %s", srv->display,
		    conn_errstr(errno));
		goto out;
	}

	while (!done) {
		ssize_t r = sock_read(&s, tmp, sizeof(tmp));

		if (r == -2)
			errno = ETIMEDOUT;
		if (r < 0) {
			*err = xasprintf("cannot read from '%s': %s",
			    srv->display, conn_errstr(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (hx_buf_add(&in, tmp, (size_t)r) < 0) {
			*err = xasprintf("answer from '%s' is too large",
			    srv->display);
			goto out;
		}
		if (hlen == 0 && (hlen = header_end(in.data, in.len)) > 0) {
			char *v = header_value(in.data, hlen, "Content-Length");

			if (v != NULL && hx_parse_ll(v, 0, HTTP_MAX_RESPONSE,
			    &clen) < 0)
				clen = -2;
			free(v);
			v = header_value(in.data, hlen, "Transfer-Encoding");
			chunked = v != NULL && strcasecmp(v, "chunked") == 0;
			free(v);
			if (clen == -2) {
				*err = xasprintf("bad Content-Length from '%s'",
				    srv->display);
				goto out;
			}
		}
		if (hlen > 0 && chunked) {
			long long d = dechunk(in.data + hlen, in.len - hlen,
			    &body, &done);

			if (d < 0) {
				*err = xasprintf("bad chunked answer from '%s'",
				    srv->display);
				goto out;
			}
		} else if (hlen > 0 && clen >= 0)
			done = in.len - hlen >= (size_t)clen;
	}
	if (hlen == 0 || sscanf(in.data, "HTTP/1.%*1d %d", &resp->status) != 1) {
		*err = xasprintf("'%s' did not answer HTTP", srv->display);
		goto out;
	}
	if (chunked) {
		if (!done) {
			*err = xasprintf("answer from '%s' was cut short",
			    srv->display);
			goto out;
		}
		resp->body = hx_buf_detach(&body, &resp->len);
	} else {
		size_t blen = in.len - hlen;

		if (clen >= 0 && blen < (size_t)clen) {
			*err = xasprintf("answer from '%s' was cut short",
			    srv->display);
			goto out;
		}
		if (clen >= 0)
			blen = (size_t)clen;
		resp->body = xstrndup(in.data + hlen, blen);
		resp->len = blen;
	}
	rc = 0;
out:
	sock_close(&s);
	hx_buf_release(&req);
	hx_buf_release(&in);
	hx_buf_release(&body);
	return rc;
}

void
hx_http_resp_release(struct hx_http_resp *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* --- WebSocket --------------------------------------------------------------- */

struct hx_ws {
	struct hx_sock	 s;
	struct hx_buf	 in;	/* raw bytes not yet parsed */
	struct hx_buf	 msg;	/* fragments of the message being assembled */
	int		 in_msg;
	int		 closed;
};

long long
hx_ws_parse_frame(const uint8_t *b, size_t n, size_t max_payload,
    struct hx_ws_frame *f)
{
	size_t hdr = 2;
	uint64_t len;

	if (n < 2)
		return 0;
	if ((b[0] & 0x70) != 0 || (b[1] & 0x80) != 0)
		return -1;	/* reserved bits (no extension agreed) or masked */
	f->fin = (b[0] & 0x80) != 0;
	f->opcode = b[0] & 0x0f;
	len = b[1] & 0x7f;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (uint64_t)b[2] << 8 | b[3];
		hdr = 4;
	} else if (len == 127) {
		int i;

		if (n < 10)
			return 0;
		for (len = 0, i = 2; i < 10; i++)
			len = len << 8 | b[i];
		hdr = 10;
	}
	if (f->opcode >= 8 && (len > 125 || !f->fin))
		return -1;
	if (len > max_payload)
		return -1;
	if (n - hdr < len)
		return 0;
	f->payload = b + hdr;
	f->len = (size_t)len;
	return (long long)(hdr + len);
}

static int
ws_send_frame(struct hx_ws *ws, int opcode, const void *data, size_t len)
{
	struct hx_buf f;
	uint8_t mask[4];
	size_t i;
	int rc;

	if (RAND_bytes(mask, sizeof(mask)) != 1)
		memset(mask, 0x5a, sizeof(mask));
	hx_buf_init(&f, 0);
	{
		uint8_t h[14];
		size_t hl = 2;

		h[0] = (uint8_t)(0x80 | opcode);
		if (len < 126)
			h[1] = (uint8_t)(0x80 | len);
		else if (len <= 0xffff) {
			h[1] = 0x80 | 126;
			h[2] = (uint8_t)(len >> 8);
			h[3] = (uint8_t)len;
			hl = 4;
		} else {
			h[1] = 0x80 | 127;
			for (i = 0; i < 8; i++)
				h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
			hl = 10;
		}
		memcpy(h + hl, mask, 4);
		hx_buf_add(&f, h, hl + 4);
	}
	hx_buf_add(&f, data, len);
	for (i = 0; i < len; i++)
		f.data[f.len - len + i] ^= (char)mask[i % 4];
	rc = sock_write_all(&ws->s, f.data, f.len);
	hx_buf_release(&f);
	return rc;
}

static int
ws_handshake(struct hx_ws *ws, const struct hx_server *srv,
    const struct hx_cred *cred, int *http_status, char **err)
{
	unsigned char nonce[16], sha[EVP_MAX_MD_SIZE];
	char key[32], want[64], tmp[4096];
	struct hx_buf req;
	size_t hlen = 0;
	unsigned int shalen;
	char *accept = NULL, *cat;
	int status = 0, rc = -1;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		*err = xstrdup("cannot get random bytes for the handshake");
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
	hx_buf_init(&req, 0);
	hx_buf_addf(&req, "GET /api/ws HTTP/1.1\r\n");
	add_host_header(&req, srv);
	hx_buf_addf(&req, "User-Agent: horcrux/%s\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n", HX_VERSION, key);
	add_auth_headers(&req, cred);
	hx_buf_add(&req, "\r\n", 2);
	if (sock_write_all(&ws->s, req.data, req.len) < 0) {
		*err = xasprintf("cannot send to '%s': %s", srv->display,
		    conn_errstr(errno));
		goto out;
	}
	while (hlen == 0) {
		ssize_t r = sock_read(&ws->s, tmp, sizeof(tmp));

		if (r == -2)
			errno = ETIMEDOUT;
		if (r <= 0) {
			*err = xasprintf("no WebSocket answer from '%s': %s",
			    srv->display, r == 0 ? "connection closed" :
			    conn_errstr(errno));
			goto out;
		}
		if (hx_buf_add(&ws->in, tmp, (size_t)r) < 0) {
			*err = xasprintf("oversized handshake from '%s'",
			    srv->display);
			goto out;
		}
		hlen = header_end(ws->in.data, ws->in.len);
	}
	if (sscanf(ws->in.data, "HTTP/1.%*1d %d", &status) != 1) {
		*err = xasprintf("'%s' did not answer HTTP", srv->display);
		goto out;
	}
	if (status != 101) {
		const char *body = ws->in.data + hlen;
		char *msg = NULL;

		/* The refusal's JSON message, if the body came with it. */
		if (ws->in.len > hlen) {
			const char *m = strstr(body, "\"message\":\"");

			if (m != NULL) {
				m += 11;
				msg = xstrndup(m, strcspn(m, "\""));
			}
		}
		*http_status = status;
		*err = xasprintf("'%s' refused the WebSocket: HTTP %d%s%s",
		    srv->display, status, msg ? ": " : "", msg ? msg : "");
		free(msg);
		goto out;
	}
	accept = header_value(ws->in.data, hlen, "Sec-WebSocket-Accept");
	cat = xasprintf("%s%s", key, WS_GUID);
	EVP_Digest(cat, strlen(cat), sha, &shalen, EVP_sha1(), NULL);
	free(cat);
	EVP_EncodeBlock((unsigned char *)want, sha, (int)shalen);
	if (accept == NULL || strcmp(accept, want) != 0) {
		*err = xasprintf("'%s' answered a bad Sec-WebSocket-Accept",
		    srv->display);
		goto out;
	}
	/* Keep only what follows the handshake: it is WebSocket data. */
	memmove(ws->in.data, ws->in.data + hlen, ws->in.len - hlen);
	ws->in.len -= hlen;
	ws->in.data[ws->in.len] = '\0';
	rc = 0;
out:
	free(accept);
	hx_buf_release(&req);
	return rc;
}

struct hx_ws *
hx_ws_connect(const struct hx_server *srv, const struct hx_cred *cred,
    int timeout_ms, int *http_status, char **err)
{
	struct hx_ws *ws = xcalloc(1, sizeof(*ws));

	*http_status = 0;
	hx_buf_init(&ws->in, 2 * WS_MAX_MESSAGE + 16);
	hx_buf_init(&ws->msg, WS_MAX_MESSAGE);
	if (sock_open(&ws->s, srv, timeout_ms, err) < 0) {
		hx_buf_release(&ws->in);
		hx_buf_release(&ws->msg);
		free(ws);
		return NULL;
	}
	if (ws_handshake(ws, srv, cred, http_status, err) < 0) {
		ws->closed = 1;
		hx_ws_close(ws);
		return NULL;
	}
	fcntl(ws->s.fd, F_SETFL, fcntl(ws->s.fd, F_GETFL) | O_NONBLOCK);
	return ws;
}

int
hx_ws_fd(const struct hx_ws *ws)
{
	return ws->s.fd;
}

/* Handle one parsed frame: 1 message ready, 0 keep going, -1 end. */
static int
ws_frame(struct hx_ws *ws, const struct hx_ws_frame *f, char **msg,
    size_t *len, char **err)
{
	switch (f->opcode) {
	case 0x9:	/* ping: answer with the same payload */
		if (ws_send_frame(ws, 0xA, f->payload, f->len) < 0) {
			*err = xasprintf("connection lost: %s", strerror(errno));
			return -1;
		}
		return 0;
	case 0xA:
		return 0;
	case 0x8: {
		int code = f->len >= 2 ? f->payload[0] << 8 | f->payload[1] : 0;
		size_t rl = f->len > 2 ? f->len - 2 : 0;

		ws_send_frame(ws, 0x8, f->payload, f->len >= 2 ? 2 : 0);
		ws->closed = 1;
		if (code != 0)
			*err = xasprintf("closed by the server (%d)%s%.*s", code,
			    rl ? ": " : "", (int)rl, (const char *)f->payload + 2);
		else
			*err = xstrdup("closed by the server");
		return -1;
	}
	case 0x1:
	case 0x2:
		if (ws->in_msg) {
			*err = xstrdup("protocol error: new message inside a "
			    "fragmented one");
			return -1;
		}
		hx_buf_reset(&ws->msg);
		ws->in_msg = 1;
		break;
	case 0x0:
		if (!ws->in_msg) {
			*err = xstrdup("protocol error: stray continuation");
			return -1;
		}
		break;
	default:
		*err = xasprintf("protocol error: opcode %d", f->opcode);
		return -1;
	}
	if (hx_buf_add(&ws->msg, f->payload, f->len) < 0) {
		*err = xstrdup("message from the server is too large");
		return -1;
	}
	if (!f->fin)
		return 0;
	ws->in_msg = 0;
	*msg = hx_buf_detach(&ws->msg, len);
	return 1;
}

int
hx_ws_read(struct hx_ws *ws, char **msg, size_t *len, char **err)
{
	char tmp[16384];
	int read_once = 0;

	*msg = NULL;
	*len = 0;
	if (ws->closed) {
		*err = xstrdup("connection closed");
		return -1;
	}
	for (;;) {
		struct hx_ws_frame f;
		long long used;
		ssize_t r;

		while ((used = hx_ws_parse_frame((const uint8_t *)ws->in.data,
		    ws->in.len, WS_MAX_MESSAGE, &f)) > 0) {
			int rc = ws_frame(ws, &f, msg, len, err);

			memmove(ws->in.data, ws->in.data + used,
			    ws->in.len - (size_t)used);
			ws->in.len -= (size_t)used;
			if (rc != 0) {
				if (rc < 0)
					ws->closed = 1;
				return rc;
			}
		}
		if (used < 0) {
			ws->closed = 1;
			*err = xstrdup("protocol error: bad frame from the server");
			return -1;
		}
		if (read_once && ws->s.ssl == NULL)
			return 0;
		r = sock_read(&ws->s, tmp, sizeof(tmp));
		read_once = 1;
		if (r == -2)
			return 0;
		if (r <= 0) {
			ws->closed = 1;
			*err = r == 0 ? xstrdup("connection closed by the server") :
			    xasprintf("connection lost: %s", strerror(errno));
			return -1;
		}
		if (hx_buf_add(&ws->in, tmp, (size_t)r) < 0) {
			ws->closed = 1;
			*err = xstrdup("message from the server is too large");
			return -1;
		}
	}
}

int
hx_ws_send(struct hx_ws *ws, const char *text, size_t len, char **err)
{
	if (ws->closed || ws_send_frame(ws, 0x1, text, len) < 0) {
		*err = xasprintf("cannot send: %s",
		    ws->closed ? "connection closed" : strerror(errno));
		return -1;
	}
	return 0;
}

void
hx_ws_close(struct hx_ws *ws)
{
	if (ws == NULL)
		return;
	if (!ws->closed && ws->s.fd >= 0) {
		static const uint8_t normal[2] = { 0x03, 0xe8 };	/* 1000 */

		ws_send_frame(ws, 0x8, normal, sizeof(normal));
	}
	sock_close(&ws->s);
	hx_buf_release(&ws->in);
	hx_buf_release(&ws->msg);
	free(ws);
}
