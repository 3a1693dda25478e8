/*
 * hx-client-http.c - one HTTP/1.1 request per connection
 * (hx_http_request), and the parts of an HTTP exchange the WebSocket
 * handshake shares with it: the request head with its Host and
 * credential, the end of the response head, its status and a header's
 * value.
 *
 * Blocking and Connection: close because that is all horcrux-cli and
 * horcrux-top's REST calls need. It reads a Content-Length or a chunked
 * body, or to EOF, within a 16 MiB cap; it does not do keep-alive,
 * redirects, compression or trailers: horcruxd sends none of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hx-client-int.h"

#define HTTP_MAX_RESPONSE (16u << 20)

void
client_http_head(struct hx_buf *req, const struct hx_server *srv,
    const struct hx_cred *cred, const char *method, const char *path)
{
	int v6 = strchr(srv->host, ':') != NULL;

	hx_buf_addf(req, "%s %s HTTP/1.1\r\n", method, path);
	hx_buf_addf(req, "Host: %s%s%s", v6 ? "[" : "", srv->host,
	    v6 ? "]" : "");
	if (!srv->unix_sock && srv->port != (srv->tls ? 443 : 80))
		hx_buf_addf(req, ":%d", srv->port);
	hx_buf_addf(req, "\r\nUser-Agent: horcrux/%s\r\n", HX_VERSION);
	if (cred == NULL)
		return;
	if (cred->api_key != NULL)
		hx_buf_addf(req, "X-API-Key: %s\r\n", cred->api_key);
	else if (cred->token != NULL)
		hx_buf_addf(req, "Authorization: Bearer %s\r\n", cred->token);
}

size_t
client_http_head_end(const char *buf, size_t n)
{
	const char *e = memmem(buf, n, "\r\n\r\n", 4);

	return e != NULL ? (size_t)(e - buf) + 4 : 0;
}

int
client_http_status(const char *buf, int *status)
{
	return sscanf(buf, "HTTP/1.%*1d %d", status) == 1 ? 0 : -1;
}

char *
client_http_header(const char *hdr, size_t hlen, const char *name)
{
	size_t	    nlen = strlen(name);
	const char *p = memchr(hdr, '\n', hlen), *end = hdr + hlen;

	while (p != NULL && p + 1 < end) {
		const char *line = p + 1,
			   *eol = memchr(line, '\n', (size_t)(end - line));

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
		const char	  *eol = memmem(in + pos, n - pos, "\r\n", 2);
		unsigned long long sz;
		char		  *endp;

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
    const char *method, const char *path, const char *json_body, int timeout_ms,
    struct hx_http_resp *resp, char **err)
{
	struct client_sock s;
	struct hx_buf	   req, in, body;
	size_t		   hlen = 0;
	long long	   clen = -1;
	int		   chunked = 0, done = 0, rc = -1;
	char		   tmp[16384];

	memset(resp, 0, sizeof(*resp));
	if (client_sock_open(&s, srv, timeout_ms, err) < 0)
		return -1;
	hx_buf_init(&req, 0);
	hx_buf_init(&in, HTTP_MAX_RESPONSE);
	hx_buf_init(&body, HTTP_MAX_RESPONSE);
	client_http_head(&req, srv, cred, method, path);
	hx_buf_addf(&req, "Accept: application/json\r\nConnection: close\r\n");
	if (json_body != NULL)
		hx_buf_addf(&req,
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n",
		    strlen(json_body));
	else if (strcmp(method, "GET") != 0)
		hx_buf_addf(&req, "Content-Length: 0\r\n");
	hx_buf_addf(&req, "\r\n%s", json_body != NULL ? json_body : "");
	if (client_sock_send(&s, srv, &req, err) < 0)
		goto out;

	while (!done) {
		ssize_t r = client_sock_read(&s, tmp, sizeof(tmp));

		if (r == -2)
			errno = ETIMEDOUT;
		if (r < 0) {
			*err = xasprintf("cannot read from '%s': %s",
			    srv->display, client_errstr(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (hx_buf_add(&in, tmp, (size_t)r) < 0) {
			*err = xasprintf("answer from '%s' is too large",
			    srv->display);
			goto out;
		}
		if (hlen == 0 &&
		    (hlen = client_http_head_end(in.data, in.len)) > 0) {
			char *v = client_http_header(in.data, hlen,
			    "Content-Length");

			if (v != NULL &&
			    hx_parse_ll(v, 0, HTTP_MAX_RESPONSE, &clen) < 0)
				clen = -2;
			free(v);
			v = client_http_header(in.data, hlen,
			    "Transfer-Encoding");
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
	if (hlen == 0 || client_http_status(in.data, &resp->status) < 0) {
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
	client_sock_close(&s);
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
