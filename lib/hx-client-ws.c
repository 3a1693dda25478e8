/*
 * hx-client-ws.c - a small RFC 6455 WebSocket client for /api/ws: the
 * upgrade handshake (with the Sec-WebSocket-Accept check), masked frames
 * out, server frames parsed and checked, fragments reassembled, pings
 * answered and the close handshake.
 *
 * After the handshake the socket is non-blocking so a terminal client can
 * poll() it beside its tty; hx_ws_read() never waits. It does not do
 * permessage-deflate (it never offers it) or reconnecting: reconnection
 * policy is the caller's.
 *
 * The wire: on a Unix socket it offers the horcrux.msgpack subprotocol
 * and turns each binary MessagePack message into the JSON text callers
 * read anyway (hx-msgpack.c); TCP keeps JSON text unless asked.
 * HORCRUX_WIRE=json or msgpack chooses for every transport. A server that
 * does not accept the subprotocol is spoken to in JSON. What we send is
 * JSON text either way: the server takes both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "hx-client-int.h"
#include "hx-msgpack.h"

#define WS_MAX_MESSAGE (4u << 20)
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_MSGPACK "horcrux.msgpack"

struct hx_ws {
	struct client_sock s;
	struct hx_buf	   in; /* raw bytes not yet parsed */
	struct hx_buf	   msg; /* the fragments of one message */
	int		   in_msg;
	int		   msg_binary; /* the message being read */
	int		   msgpack; /* the server accepted WS_MSGPACK */
	int		   closed;
};

/*
 * Should this connection offer MessagePack? 1 or 0, or -1 with *err for
 * a HORCRUX_WIRE that is neither json nor msgpack.
 */
static int
ws_want_msgpack(const struct hx_server *srv, char **err)
{
	const char *w = getenv("HORCRUX_WIRE");

	if (w == NULL || *w == '\0')
		return srv->unix_sock;
	if (strcmp(w, "msgpack") == 0)
		return 1;
	if (strcmp(w, "json") == 0)
		return 0;
	*err = xasprintf("invalid HORCRUX_WIRE '%s': use json or msgpack", w);
	return -1;
}

long long
hx_ws_parse_frame(const uint8_t *b, size_t n, size_t max_payload,
    struct hx_ws_frame *f)
{
	size_t	 hdr = 2;
	uint64_t len;

	if (n < 2)
		return 0;
	if ((b[0] & 0x70) != 0 || (b[1] & 0x80) != 0)
		return -1; /* reserved bits (no extension agreed) or masked */
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

/* Drop the first n bytes of the input: they have been handled. */
static void
ws_consume(struct hx_ws *ws, size_t n)
{
	memmove(ws->in.data, ws->in.data + n, ws->in.len - n);
	ws->in.len -= n;
	ws->in.data[ws->in.len] = '\0';
}

static int
ws_send_frame(struct hx_ws *ws, int opcode, const void *data, size_t len)
{
	struct hx_buf f;
	uint8_t	      mask[4];
	size_t	      i;
	int	      rc;

	if (RAND_bytes(mask, sizeof(mask)) != 1)
		memset(mask, 0x5a, sizeof(mask));
	hx_buf_init(&f, 0);
	{
		uint8_t h[14];
		size_t	hl = 2;

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
				h[2 + i] = (uint8_t)((uint64_t)len >>
				    (56 - 8 * i));
			hl = 10;
		}
		memcpy(h + hl, mask, 4);
		hx_buf_add(&f, h, hl + 4);
	}
	hx_buf_add(&f, data, len);
	for (i = 0; i < len; i++)
		f.data[f.len - len + i] ^= (char)mask[i % 4];
	rc = client_sock_write_all(&ws->s, f.data, f.len);
	hx_buf_release(&f);
	return rc;
}

static int
ws_handshake(struct hx_ws *ws, const struct hx_server *srv,
    const struct hx_cred *cred, int offer_msgpack, int *http_status, char **err)
{
	unsigned char nonce[16], sha[EVP_MAX_MD_SIZE];
	char	      key[32], want[64], tmp[4096];
	struct hx_buf req;
	size_t	      hlen = 0;
	unsigned int  shalen;
	char	     *accept = NULL, *cat, *proto = NULL;
	int	      status = 0, rc = -1;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		*err = xstrdup("cannot get random bytes for the handshake");
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
	hx_buf_init(&req, 0);
	client_http_head(&req, srv, cred, "GET", "/api/ws");
	hx_buf_addf(&req,
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
	    key,
	    offer_msgpack ? "Sec-WebSocket-Protocol: " WS_MSGPACK "\r\n" : "");
	if (client_sock_send(&ws->s, srv, &req, err) < 0)
		goto out;
	while (hlen == 0) {
		ssize_t r = client_sock_read(&ws->s, tmp, sizeof(tmp));

		if (r == -2)
			errno = ETIMEDOUT;
		if (r <= 0) {
			*err = xasprintf("no WebSocket answer from '%s': %s",
			    srv->display,
			    r == 0 ? "connection closed" :
				     client_errstr(errno));
			goto out;
		}
		if (hx_buf_add(&ws->in, tmp, (size_t)r) < 0) {
			*err = xasprintf("oversized handshake from '%s'",
			    srv->display);
			goto out;
		}
		hlen = client_http_head_end(ws->in.data, ws->in.len);
	}
	if (client_http_status(ws->in.data, &status) < 0) {
		*err = xasprintf("'%s' did not answer HTTP", srv->display);
		goto out;
	}
	if (status != 101) {
		const char *body = ws->in.data + hlen;
		char	   *msg = NULL;

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
	accept = client_http_header(ws->in.data, hlen, "Sec-WebSocket-Accept");
	cat = xasprintf("%s%s", key, WS_GUID);
	EVP_Digest(cat, strlen(cat), sha, &shalen, EVP_sha1(), NULL);
	free(cat);
	EVP_EncodeBlock((unsigned char *)want, sha, (int)shalen);
	if (accept == NULL || strcmp(accept, want) != 0) {
		*err = xasprintf("'%s' answered a bad Sec-WebSocket-Accept",
		    srv->display);
		goto out;
	}
	/* No subprotocol named back: the server speaks JSON text. */
	proto = client_http_header(ws->in.data, hlen, "Sec-WebSocket-Protocol");
	if (proto != NULL &&
	    (!offer_msgpack || strcmp(proto, WS_MSGPACK) != 0)) {
		*err = xasprintf("'%s' chose a subprotocol not offered: '%s'",
		    srv->display, proto);
		goto out;
	}
	ws->msgpack = proto != NULL;
	/* Keep only what follows the handshake: it is WebSocket data. */
	ws_consume(ws, hlen);
	rc = 0;
out:
	free(proto);
	free(accept);
	hx_buf_release(&req);
	return rc;
}

struct hx_ws *
hx_ws_connect(const struct hx_server *srv, const struct hx_cred *cred,
    int timeout_ms, int *http_status, char **err)
{
	struct hx_ws *ws;
	int	      offer;

	*http_status = 0;
	if ((offer = ws_want_msgpack(srv, err)) < 0)
		return NULL;
	ws = xcalloc(1, sizeof(*ws));
	hx_buf_init(&ws->in, 2 * WS_MAX_MESSAGE + 16);
	hx_buf_init(&ws->msg, WS_MAX_MESSAGE);
	if (client_sock_open(&ws->s, srv, timeout_ms, err) < 0) {
		hx_buf_release(&ws->in);
		hx_buf_release(&ws->msg);
		free(ws);
		return NULL;
	}
	if (ws_handshake(ws, srv, cred, offer, http_status, err) < 0) {
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
ws_frame(struct hx_ws *ws, const struct hx_ws_frame *f, char **msg, size_t *len,
    char **err)
{
	switch (f->opcode) {
	case 0x9: /* ping: answer with the same payload */
		if (ws_send_frame(ws, 0xA, f->payload, f->len) < 0) {
			*err = xasprintf("connection lost: %s",
			    strerror(errno));
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
			*err = xasprintf("closed by the server (%d)%s%.*s",
			    code, rl ? ": " : "", (int)rl,
			    (const char *)f->payload + 2);
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
		ws->msg_binary = f->opcode == 0x2;
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
	if (ws->msgpack && ws->msg_binary) {
		char *why = NULL;

		*msg = hx_msgpack_to_text(ws->msg.data, ws->msg.len, len, &why);
		hx_buf_reset(&ws->msg);
		if (*msg == NULL) {
			*err = xasprintf("bad message from the server: %s",
			    why);
			free(why);
			return -1;
		}
		return 1;
	}
	*msg = hx_buf_detach(&ws->msg, len);
	return 1;
}

int
hx_ws_is_msgpack(const struct hx_ws *ws)
{
	return ws->msgpack;
}

int
hx_ws_read(struct hx_ws *ws, char **msg, size_t *len, char **err)
{
	char tmp[16384];
	int  read_once = 0;

	*msg = NULL;
	*len = 0;
	if (ws->closed) {
		*err = xstrdup("connection closed");
		return -1;
	}
	for (;;) {
		struct hx_ws_frame f;
		long long	   used;
		ssize_t		   r;

		while ((used = hx_ws_parse_frame((const uint8_t *)ws->in.data,
			    ws->in.len, WS_MAX_MESSAGE, &f)) > 0) {
			int rc = ws_frame(ws, &f, msg, len, err);

			ws_consume(ws, (size_t)used);
			if (rc != 0) {
				if (rc < 0)
					ws->closed = 1;
				return rc;
			}
		}
		if (used < 0) {
			ws->closed = 1;
			*err = xstrdup(
			    "protocol error: bad frame from the server");
			return -1;
		}
		if (read_once && ws->s.ssl == NULL)
			return 0;
		r = client_sock_read(&ws->s, tmp, sizeof(tmp));
		read_once = 1;
		if (r == -2)
			return 0;
		if (r <= 0) {
			ws->closed = 1;
			*err = r == 0 ?
			    xstrdup("connection closed by the server") :
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
		static const uint8_t normal[2] = { 0x03, 0xe8 }; /* 1000 */

		ws_send_frame(ws, 0x8, normal, sizeof(normal));
	}
	client_sock_close(&ws->s);
	hx_buf_release(&ws->in);
	hx_buf_release(&ws->msg);
	free(ws);
}
