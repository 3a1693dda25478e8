/*
 * hx-client-sock.c - the client's transport: a blocking socket to a Unix
 * path or a TCP host (every address getaddrinfo gives, in turn), with
 * OpenSSL on top for https:// and wss://, and reads and writes that
 * keep working once the WebSocket has made the socket non-blocking.
 *
 * TLS lives here rather than in a file of its own: it is the handshake
 * after connect() and the SSL_read/SSL_write branch of the two I/O calls,
 * and splitting those would leave each half unreadable. Verification is
 * always on (the system's CAs, or $HORCRUX_CA_FILE) and checks the host
 * name; there is no switch to turn it off.
 *
 * What it does not do: speak HTTP, retry, or choose timeouts.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "hx-client-int.h"

void
client_sock_close(struct client_sock *s)
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

const char *
client_errstr(int e)
{
	return e == EAGAIN || e == EINPROGRESS ? "timed out" : strerror(e);
}

static int
tls_start(struct client_sock *s, const struct hx_server *srv, char **err)
{
	const char   *ca = client_env("HORCRUX_CA_FILE");
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

int
client_sock_open(struct client_sock *s, const struct hx_server *srv,
    int timeout_ms, char **err)
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
			    srv->display, client_errstr(errno));
			client_sock_close(s);
			return -1;
		}
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res,
				*ai;
		char port[8];
		int  gai, last = ECONNREFUSED;

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
			    srv->display, client_errstr(last));
			return -1;
		}
	}
	if (srv->tls && tls_start(s, srv, err) < 0) {
		client_sock_close(s);
		return -1;
	}
	return 0;
}

/* Wait until fd is ready for events; 0 ready, -1 timed out or failed. */
static int
sock_wait(struct client_sock *s, short events)
{
	struct pollfd pfd = { .fd = s->fd, .events = events };
	int	      n;

	do
		n = poll(&pfd, 1, s->timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = ETIMEDOUT;
	return n > 0 ? 0 : -1;
}

ssize_t
client_sock_read(struct client_sock *s, void *buf, size_t n)
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

int
client_sock_write_all(struct client_sock *s, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w;

		if (s->ssl != NULL) {
			int k = SSL_write(s->ssl, p,
			    (int)(n > 65536 ? 65536 : n));
			int e = k > 0 ? 0 : SSL_get_error(s->ssl, k);

			if (e == SSL_ERROR_WANT_WRITE ||
			    e == SSL_ERROR_WANT_READ) {
				if (sock_wait(s,
					e == SSL_ERROR_WANT_WRITE ? POLLOUT :
								    POLLIN) < 0)
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
			if (w < 0 &&
			    (errno == EAGAIN || errno == EWOULDBLOCK)) {
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

int
client_sock_send(struct client_sock *s, const struct hx_server *srv,
    const struct hx_buf *b, char **err)
{
	if (client_sock_write_all(s, b->data, b->len) < 0) {
		*err = xasprintf("cannot send to '%s': %s", srv->display,
		    client_errstr(errno));
		return -1;
	}
	return 0;
}
