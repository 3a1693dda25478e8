/*
 * fuzz-client.c - libFuzzer target for what the clients parse from the
 * outside: arbitrary bytes as a stream of server WebSocket frames (parsed
 * one after another, as hx_ws_read does), as a server string, and through
 * the URL escaper.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-client.h"
#include "hx-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hx_ws_frame	 f;
	struct hx_server	 srv;
	size_t			 off = 0;
	long long		 used;
	char			*s, *err = NULL, *esc;

	while (off < size &&
	    (used = hx_ws_parse_frame(data + off, size - off, 1 << 20, &f)) > 0) {
		/* The payload must lie inside what was given. */
		if (f.payload < data + off || f.payload + f.len > data + size)
			abort();
		off += (size_t)used;
	}

	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (hx_server_parse(s, &srv, &err) == 0) {
		if (srv.host == NULL || srv.display == NULL ||
		    (srv.unix_sock && srv.path == NULL) ||
		    (!srv.unix_sock && (srv.port < 1 || srv.port > 65535)))
			abort();
		hx_server_release(&srv);
	} else if (err == NULL)
		abort();
	free(err);
	esc = hx_url_escape(s);
	if (strlen(esc) < strlen(s) || strspn(esc,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%")
	    != strlen(esc))
		abort();
	free(esc);
	free(s);
	return 0;
}
