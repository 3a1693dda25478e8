/*
 * hx-client.h - what horcrux-top and horcrux-cli share to reach horcruxd:
 * the server address and credentials (flags, environment, client.conf),
 * one HTTP request at a time, and a WebSocket client.
 *
 * A server is written unix:PATH, http://HOST:PORT, https://..., ws://... or
 * wss://... (DESIGN §6); every form serves both HTTP and WebSocket. The
 * transport is a plain blocking socket (Unix or TCP) with OpenSSL on top for
 * https/wss; a WebSocket switches to non-blocking reads after the handshake
 * so a client can poll() it beside its terminal. Nothing here prints or
 * exits, and nothing here retries: reconnection policy is the caller's.
 *
 * Implemented by concern: hx-client.c (server strings, client.conf and
 * credentials), hx-client-sock.c (the transport, TLS included),
 * hx-client-http.c (one-shot requests) and hx-client-ws.c (the WebSocket
 * client); what they share is in hx-client-int.h.
 */
#ifndef HX_CLIENT_H
#define HX_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define HX_CLIENT_DEFAULT_SOCKET "/run/horcrux/horcruxd.sock"

struct hx_server {
	int   unix_sock; /* 1: path is a Unix socket */
	int   tls; /* https:// or wss:// */
	char *host; /* TCP host (brackets stripped); "localhost" for unix */
	int   port;
	char *path; /* Unix socket path, or NULL */
	char *display; /* the server as given, for messages */
};

/*
 * Parse a server string. Returns 0, or -1 with *err (caller frees):
 * "unsupported server 'ftp://x': use unix:PATH, http(s)://HOST:PORT or
 * ws(s)://HOST:PORT". A URL path, if any, is ignored.
 */
int  hx_server_parse(const char *s, struct hx_server *srv, char **err);
void hx_server_release(struct hx_server *srv);

/* Where the server string came from, for messages. */
enum hx_server_from {
	HX_SERVER_FROM_DEFAULT, /* unix:HX_CLIENT_DEFAULT_SOCKET */
	HX_SERVER_FROM_FLAG, /* -c */
	HX_SERVER_FROM_ENV, /* $HORCRUX_SERVER */
	HX_SERVER_FROM_CONF, /* client.conf `server` */
};

/* Where the client's settings came from; the caller owns every string. */
struct hx_client_conf {
	char *server; /* resolved server string, never NULL after load */
	enum hx_server_from server_from;
	char		   *api_key; /* or NULL */
	char *token; /* session token (horcrux-cli login), or NULL */
	char *conf_path; /* client.conf that was (or would be) read */
	/* client.conf `servers = A, B, C` (horcrux-top's hosts), or NULL */
	char **servers;
	size_t nservers;
};

/*
 * Resolve settings the way DESIGN §6 says, first found wins:
 *   server:      server_flag, $HORCRUX_SERVER, client.conf `server`,
 *                the first of client.conf `servers`,
 *                unix:HX_CLIENT_DEFAULT_SOCKET
 *   servers:     client.conf `servers` split at commas (blanks around
 *                each trimmed, empty entries an error), whatever won
 *                for server; the caller decides when the list applies
 *   credentials: api_key_file (the whole first line), $HORCRUX_API_KEY,
 *                $HORCRUX_TOKEN, client.conf `api_key`, then `token`
 * client.conf is $XDG_CONFIG_HOME/horcrux/client.conf (~/.config/...).
 * A missing client.conf is fine; an unreadable or malformed one is an
 * error. Returns 0, or -1 with *err (caller frees).
 */
int  hx_client_conf_load(struct hx_client_conf *c, const char *server_flag,
     const char *api_key_file, char **err);
void hx_client_conf_release(struct hx_client_conf *c);

/*
 * Set key (server, api_key or token) to value in client.conf, or remove it
 * when value is NULL, keeping every other line. The file and its directory
 * are created 0600 / 0700; the write is atomic (temp file + rename).
 * Returns 0, or -1 with *err.
 */
int hx_client_conf_set(const char *path, const char *key, const char *value,
    char **err);

/*
 * Store a session in client.conf in one atomic write: `token` and the
 * `server` it belongs to, so later commands reach the same daemon without
 * -c. A relative unix:PATH is stored absolute (against the working
 * directory), so it holds from anywhere. Returns the stored server string
 * (caller frees), or NULL with *err.
 */
char *hx_client_conf_set_session(const char *path, const char *server,
    const char *token, char **err);

/*
 * Where c's server came from, as a message's tail: "" for -c (the user
 * just typed it), else " (server from $HORCRUX_SERVER)", " (server from
 * PATH)" or " (the default server; choose one with -c, $HORCRUX_SERVER or
 * `server` in PATH)". Caller frees.
 */
char *hx_client_server_origin(const struct hx_client_conf *c);

/* Credentials for one request: at most one of them is sent. */
struct hx_cred {
	const char *api_key;
	const char *token;
};

struct hx_http_resp {
	int    status; /* HTTP status, e.g. 200 */
	char  *body; /* NUL-terminated; caller frees with _release */
	size_t len;
};

/*
 * One HTTP/1.1 request (Connection: close) with an optional JSON body.
 * Any HTTP status is a success here (see resp->status); -1 with *err only
 * when the server cannot be reached or answers something that is not HTTP
 * ("cannot connect to 'unix:/run/...': No such file or directory").
 * timeout_ms bounds each connect/read/write wait.
 */
int  hx_http_request(const struct hx_server *srv, const struct hx_cred *cred,
     const char *method, const char *path, const char *json_body, int timeout_ms,
     struct hx_http_resp *resp, char **err);
void hx_http_resp_release(struct hx_http_resp *resp);

struct hx_ws;

/*
 * Open a WebSocket to /api/ws. On failure returns NULL with *err and, when
 * the server answered HTTP instead of upgrading, *http_status set (401,
 * 403, ...; 0 when it never answered). The wire is MessagePack on a Unix
 * socket and JSON text on TCP, or as $HORCRUX_WIRE (json, msgpack) says;
 * an invalid $HORCRUX_WIRE is a failure. Either way hx_ws_read hands out
 * JSON text.
 */
struct hx_ws *hx_ws_connect(const struct hx_server *srv,
    const struct hx_cred *cred, int timeout_ms, int *http_status, char **err);

/* The socket to poll() for reading. */
int hx_ws_fd(const struct hx_ws *ws);
/* 1 when the server accepted horcrux.msgpack (binary frames), else 0. */
int hx_ws_is_msgpack(const struct hx_ws *ws);

/*
 * Take the next complete message (a MessagePack one as JSON text), reading from the socket only when
 * nothing complete is buffered. Returns 1 with *msg (caller frees, NUL-
 * terminated) and *len; 0 when more bytes are needed (poll the fd); -1 when
 * the connection ended, with *err ("closed by the server (1008): ...").
 * Pings are answered here. Call until it returns 0 after each poll wake-up:
 * TLS may hold decrypted bytes the fd does not show.
 */
int hx_ws_read(struct hx_ws *ws, char **msg, size_t *len, char **err);

/* Send one text message. Returns 0, or -1 with *err. */
int hx_ws_send(struct hx_ws *ws, const char *text, size_t len, char **err);

/* Send a Close frame (best effort) and free everything; NULL is a no-op. */
void hx_ws_close(struct hx_ws *ws);

/*
 * Percent-encode s for one URL path segment (RFC 3986 unreserved kept).
 * Returns a new string; the caller frees it.
 */
char *hx_url_escape(const char *s);

/* Parse the payload length etc. of one server frame; exposed for tests.
 * Returns the frame's total size when buf holds a whole frame, 0 when more
 * bytes are needed, -1 for a frame no server may send (masked, reserved
 * bits, control frame over 125 bytes, over max_payload). */
struct hx_ws_frame {
	int	       fin;
	int	       opcode;
	const uint8_t *payload;
	size_t	       len;
};
long long hx_ws_parse_frame(const uint8_t *buf, size_t n, size_t max_payload,
    struct hx_ws_frame *f);

#endif
