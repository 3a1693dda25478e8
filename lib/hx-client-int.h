/*
 * hx-client-int.h - what the files of the client's wire share, and nothing
 * outside them may use: the transport (a blocking socket, Unix or TCP,
 * with optional TLS) and the pieces of an HTTP/1.1 exchange that both the
 * one-shot request (hx-client-http.c) and the WebSocket handshake
 * (hx-client-ws.c) write and read.
 *
 * hx-client.h stays the one public interface; this header adds no
 * function a program could reach. Everything here carries the client_
 * prefix so it cannot meet another module's names at link time.
 *
 * What it does not hold: policy. Timeouts, size caps and messages are the
 * callers'; the transport only reports errno and the kinds of failure.
 */
#ifndef HX_CLIENT_INT_H
#define HX_CLIENT_INT_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "hx-client.h"
#include "hx-util.h"

/* A connected socket; ssl is NULL unless the server is https:// or wss://. */
struct client_sock {
	int	 fd;
	SSL_CTX *ctx;
	SSL	*ssl;
	int	 timeout_ms;
};

/* $name when set and not empty, else NULL (not a copy). */
const char *client_env(const char *name);

/* strerror(e), except "timed out" for the errnos a timeout leaves. */
const char *client_errstr(int e);

/*
 * Connect to srv (and do the TLS handshake for https/wss); timeout_ms
 * bounds each connect, read and write. Returns 0, or -1 with *err ("cannot
 * connect to 'unix:/run/...': No such file or directory") and s closed.
 */
int client_sock_open(struct client_sock *s, const struct hx_server *srv,
    int timeout_ms, char **err);

/* Shut TLS down and close; safe to call twice. */
void client_sock_close(struct client_sock *s);

/* Read up to n bytes: >0 bytes, 0 EOF, -1 error (errno), -2 would block. */
ssize_t client_sock_read(struct client_sock *s, void *buf, size_t n);

/*
 * Write everything, waiting for the socket when it is non-blocking.
 * Returns 0, or -1 with errno set.
 */
int client_sock_write_all(struct client_sock *s, const void *buf, size_t n);

/*
 * Send a request head or frame buffer; on failure -1 with *err "cannot
 * send to 'SERVER': REASON".
 */
int client_sock_send(struct client_sock *s, const struct hx_server *srv,
    const struct hx_buf *b, char **err);

/*
 * Start a request in req: the request line, Host (bracketed for IPv6,
 * with the port unless it is the scheme's), User-Agent and the one
 * credential cred carries (X-API-Key before a Bearer token; none when
 * cred is NULL). The caller adds its own headers and the blank line.
 */
void client_http_head(struct hx_buf *req, const struct hx_server *srv,
    const struct hx_cred *cred, const char *method, const char *path);

/* Length of the header block in buf (up to the blank line), or 0. */
size_t client_http_head_end(const char *buf, size_t n);

/*
 * The status of the response head in buf ("HTTP/1.x NNN ...") into
 * *status. Returns 0, or -1 when buf does not start like HTTP.
 */
int client_http_status(const char *buf, int *status);

/*
 * The value of header name (case-insensitive) in the header block hdr,
 * blanks trimmed, or NULL. The caller frees it.
 */
char *client_http_header(const char *hdr, size_t hlen, const char *name);

#endif
