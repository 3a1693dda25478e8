/*
 * test-client.c - the clients' wire helpers that need no server: server
 * strings, client.conf precedence and editing, WebSocket frame parsing.
 * Talking to a real horcruxd is covered by the horcrux-top and
 * horcrux-cli bats suites.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hx-client.h"
#include "hx-util.h"
#include "tap.h"

static void
test_servers(void)
{
	static const struct {
		const char *in;
		int	    unix_sock, tls, port;
		const char *host, *path;
	} good[] = {
		{ "unix:/run/h.sock", 1, 0, 0, "localhost", "/run/h.sock" },
		{ "http://127.0.0.1:8006", 0, 0, 8006, "127.0.0.1", NULL },
		{ "ws://example.org", 0, 0, 80, "example.org", NULL },
		{ "wss://example.org/api/ws", 0, 1, 443, "example.org", NULL },
		{ "HTTPS://h:9443/", 0, 1, 9443, "h", NULL },
		{ "http://[::1]:8006", 0, 0, 8006, "::1", NULL },
		{ "ws://[fe80::1]", 0, 0, 80, "fe80::1", NULL },
	};
	static const char *bad[] = {
		"",
		"unix:",
		"ftp://x",
		"http://",
		"http://:80",
		"http://h:0",
		"http://h:65536",
		"http://h:x",
		"ws://[::1",
		"ws://[::1]x",
		"localhost:8006",
	};
	struct hx_server s;
	char		*err = NULL;
	size_t		 i;

	for (i = 0; i < HX_ARRAY_SIZE(good); i++) {
		int rc = hx_server_parse(good[i].in, &s, &err);

		is_int(rc, 0, "server '%s' parses", good[i].in);
		if (rc != 0) {
			free(err);
			err = NULL;
			continue;
		}
		ok(s.unix_sock == good[i].unix_sock && s.tls == good[i].tls &&
			s.port == good[i].port,
		    "server '%s': kind, tls, port", good[i].in);
		is_str(s.host, good[i].host, "server '%s': host", good[i].in);
		is_str(s.path, good[i].path, "server '%s': path", good[i].in);
		hx_server_release(&s);
	}
	for (i = 0; i < HX_ARRAY_SIZE(bad); i++) {
		int rc = hx_server_parse(bad[i], &s, &err);

		ok(rc == -1 && err != NULL, "server '%s' is refused: %s",
		    bad[i], err ? err : "(no message)");
		free(err);
		err = NULL;
	}
}

static void
test_conf(void)
{
	char dir[] = "/tmp/hx-client-XXXXXX", *err = NULL, *path, *text;
	struct hx_client_conf c;
	struct stat	      st;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	setenv("XDG_CONFIG_HOME", dir, 1);
	unsetenv("HORCRUX_SERVER");
	unsetenv("HORCRUX_API_KEY");
	unsetenv("HORCRUX_TOKEN");
	is_int(hx_client_conf_load(&c, NULL, NULL, &err), 0, "no client.conf");
	is_str(c.server, "unix:" HX_CLIENT_DEFAULT_SOCKET, "default server");
	ok(c.api_key == NULL && c.token == NULL, "no credentials by default");
	path = xasprintf("%s/horcrux/client.conf", dir);
	is_str(c.conf_path, path, "client.conf under XDG_CONFIG_HOME");
	hx_client_conf_release(&c);

	is_int(hx_client_conf_set(path, "server", "ws://a:1", &err), 0,
	    "conf set server");
	is_int(hx_client_conf_set(path, "token", "tok1", &err), 0,
	    "conf set token");
	is_int(hx_client_conf_set(path, "token", "tok2", &err), 0,
	    "conf replace token");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "client.conf is 0600");
	text = hx_read_file(path, 4096, NULL);
	is_str(text, "server = ws://a:1\ntoken = tok2\n",
	    "set replaces a key, keeps the others");
	free(text);

	is_int(hx_client_conf_load(&c, NULL, NULL, &err), 0, "conf loads");
	is_str(c.server, "ws://a:1", "server from client.conf");
	is_str(c.token, "tok2", "token from client.conf");
	hx_client_conf_release(&c);

	setenv("HORCRUX_SERVER", "http://b:2", 1);
	setenv("HORCRUX_API_KEY", "hx_k_s", 1);
	is_int(hx_client_conf_load(&c, NULL, NULL, &err), 0, "env loads");
	is_str(c.server, "http://b:2", "HORCRUX_SERVER beats client.conf");
	ok(c.api_key != NULL && strcmp(c.api_key, "hx_k_s") == 0 &&
		c.token == NULL,
	    "HORCRUX_API_KEY beats the stored token");
	hx_client_conf_release(&c);
	is_int(hx_client_conf_load(&c, "unix:/x", NULL, &err), 0, "flag loads");
	is_str(c.server, "unix:/x", "the flag beats HORCRUX_SERVER");
	hx_client_conf_release(&c);
	unsetenv("HORCRUX_SERVER");
	unsetenv("HORCRUX_API_KEY");

	is_int(hx_client_conf_set(path, "token", NULL, &err), 0, "conf unset");
	text = hx_read_file(path, 4096, NULL);
	is_str(text, "server = ws://a:1\n", "unset removes the key");
	free(text);

	/* login's write: server and token together, a relative socket made
	 * absolute, other keys kept. */
	{
		char *cwd = getcwd(NULL, 0), *want, *got, *origin;

		is_int(hx_client_conf_set(path, "api_key", "hx_kept", &err), 0,
		    "conf set api_key");
		got = hx_client_conf_set_session(path, "unix:./run/s.sock",
		    "tok3", &err);
		want = xasprintf("unix:%s/run/s.sock", cwd);
		is_str(got, want, "session: a relative socket stored absolute");
		free(want);
		text = hx_read_file(path, 4096, NULL);
		want = xasprintf("api_key = hx_kept\nserver = unix:%s/run/"
				 "s.sock\ntoken = tok3\n",
		    cwd);
		is_str(text, want,
		    "session: server and token replaced, the "
		    "rest kept");
		free(want);
		free(text);
		free(got);
		got = hx_client_conf_set_session(path, "wss://h:8006", "tok4",
		    &err);
		is_str(got, "wss://h:8006", "session: a URL stored as given");
		free(got);

		is_int(hx_client_conf_load(&c, NULL, NULL, &err), 0,
		    "conf loads after a session");
		ok(c.server_from == HX_SERVER_FROM_CONF, "server from conf");
		origin = hx_client_server_origin(&c);
		want = xasprintf(" (server from %s)", path);
		is_str(origin, want, "origin names client.conf");
		free(want);
		free(origin);
		hx_client_conf_release(&c);
		setenv("HORCRUX_SERVER", "http://b:2", 1);
		is_int(hx_client_conf_load(&c, NULL, NULL, &err), 0, "env");
		origin = hx_client_server_origin(&c);
		is_str(origin, " (server from $HORCRUX_SERVER)",
		    "origin names the variable");
		free(origin);
		hx_client_conf_release(&c);
		is_int(hx_client_conf_load(&c, "unix:/y", NULL, &err), 0, "-c");
		origin = hx_client_server_origin(&c);
		is_str(origin, "", "no origin for -c: it was just typed");
		free(origin);
		hx_client_conf_release(&c);
		unsetenv("HORCRUX_SERVER");
		unlink(path);
		is_int(hx_client_conf_load(&c, NULL, NULL, &err), 0, "none");
		origin = hx_client_server_origin(&c);
		ok(c.server_from == HX_SERVER_FROM_DEFAULT &&
			strncmp(origin, " (the default server;", 21) == 0,
		    "origin says the default: %s", origin);
		free(origin);
		hx_client_conf_release(&c);
		free(cwd);
	}
	/* horcrux-top's servers list: blanks trimmed, the first is the
	 * server when there is no server line, an empty entry refused. */
	{
		FILE *f = fopen(path, "w");
		int   rc;

		fputs("servers = unix:/a ,  ws://b:1,http://c:2\n", f);
		fclose(f);
		is_int(hx_client_conf_load(&c, NULL, NULL, &err), 0,
		    "servers loads");
		ok(c.nservers == 3 && strcmp(c.servers[0], "unix:/a") == 0 &&
			strcmp(c.servers[1], "ws://b:1") == 0 &&
			strcmp(c.servers[2], "http://c:2") == 0,
		    "servers: three, trimmed");
		is_str(c.server, "unix:/a", "servers: the first is the server");
		ok(c.server_from == HX_SERVER_FROM_CONF, "servers: from conf");
		hx_client_conf_release(&c);
		f = fopen(path, "w");
		fputs("server = ws://s:1\nservers = unix:/a\n", f);
		fclose(f);
		is_int(hx_client_conf_load(&c, NULL, NULL, &err), 0,
		    "server and servers load");
		is_str(c.server, "ws://s:1", "a server line wins for server");
		ok(c.nservers == 1, "the list is kept beside it");
		hx_client_conf_release(&c);
		f = fopen(path, "w");
		fputs("servers = unix:/a, ,unix:/b\n", f);
		fclose(f);
		rc = hx_client_conf_load(&c, NULL, NULL, &err);
		ok(rc == -1 && err != NULL &&
			strstr(err, "empty entry") != NULL,
		    "servers: an empty entry refused: %s", err ? err : "");
		free(err);
		err = NULL;
		unlink(path);
	}
	ok(hx_client_conf_set(path, "token", "a\nserver = evil", &err) == -1,
	    "a value with a newline is refused: %s", err ? err : "");
	free(err);
	err = NULL;

	{
		FILE *f = fopen(path, "w");

		fputs("server = x\nbogus = 1\n", f);
		fclose(f);
	}
	ok(hx_client_conf_load(&c, NULL, NULL, &err) == -1 && err != NULL &&
		strstr(err, ":2:") != NULL,
	    "unknown key names file and line: %s", err ? err : "");
	free(err);
	err = NULL;

	{
		char *kf = xasprintf("%s/key", dir);
		FILE *f = fopen(kf, "w");

		fputs("hx_from_file\n", f);
		fclose(f);
		unlink(path);
		is_int(hx_client_conf_load(&c, NULL, kf, &err), 0,
		    "--api-key-file loads");
		is_str(c.api_key, "hx_from_file",
		    "key is the file's first line");
		hx_client_conf_release(&c);
		ok(hx_client_conf_load(&c, NULL, "/nonexistent/k", &err) == -1,
		    "a missing key file is an error: %s", err ? err : "");
		free(err);
		err = NULL;
		unlink(kf);
		free(kf);
	}
	{
		char *sub = xasprintf("%s/horcrux", dir);

		rmdir(sub);
		rmdir(dir);
		free(sub);
	}
	free(path);
	unsetenv("XDG_CONFIG_HOME");
}

static void
test_frames(void)
{
	struct hx_ws_frame f;
	uint8_t		   b[16 + 70000];

	/* "Hi" as one unmasked text frame. */
	memcpy(b, "\x81\x02Hi", 4);
	is_int(hx_ws_parse_frame(b, 4, 1024, &f), 4, "small text frame");
	ok(f.fin && f.opcode == 1 && f.len == 2 &&
		memcmp(f.payload, "Hi", 2) == 0,
	    "fields of the small frame");
	is_int(hx_ws_parse_frame(b, 3, 1024, &f), 0, "partial frame waits");
	is_int(hx_ws_parse_frame(b, 1, 1024, &f), 0, "one byte waits");

	/* 16-bit length. */
	b[0] = 0x81;
	b[1] = 126;
	b[2] = 0x01;
	b[3] = 0x00;
	memset(b + 4, 'x', 256);
	is_int(hx_ws_parse_frame(b, 260, 1024, &f), 260, "16-bit length frame");
	is_int(f.len, 256, "16-bit payload length");
	is_int(hx_ws_parse_frame(b, 259, 1024, &f), 0,
	    "16-bit frame incomplete");
	is_int(hx_ws_parse_frame(b, 260, 255, &f), -1,
	    "over the cap is refused");

	/* 64-bit length. */
	memset(b, 0, 10);
	b[0] = 0x82;
	b[1] = 127;
	b[7] = 0x01;
	b[8] = 0x11;
	b[9] = 0x70; /* 0x011170 = 70000 */
	is_int(hx_ws_parse_frame(b, 10 + 70000, 100000, &f), 10 + 70000,
	    "64-bit length frame");
	is_int(f.len, 70000, "64-bit payload length");

	memcpy(b, "\x81\x82\x00\x00\x00\x00Hi", 8);
	is_int(hx_ws_parse_frame(b, 8, 1024, &f), -1,
	    "masked server frame refused");
	memcpy(b, "\xc1\x02Hi", 4);
	is_int(hx_ws_parse_frame(b, 4, 1024, &f), -1,
	    "RSV1 without deflate refused");
	memcpy(b, "\x09\x02hx", 4);
	is_int(hx_ws_parse_frame(b, 4, 1024, &f), -1,
	    "fragmented ping refused");
	b[0] = 0x89;
	b[1] = 126;
	b[2] = 0;
	b[3] = 126;
	is_int(hx_ws_parse_frame(b, 4 + 126, 1024, &f), -1,
	    "control frame over 125 bytes refused");
	memcpy(b,
	    "\x01\x01"
	    "a"
	    "\x80\x01"
	    "b",
	    6);
	is_int(hx_ws_parse_frame(b, 6, 1024, &f), 3, "first fragment");
	ok(!f.fin && f.opcode == 1, "first fragment has no FIN");
	is_int(hx_ws_parse_frame(b + 3, 3, 1024, &f), 3, "continuation");
	ok(f.fin && f.opcode == 0, "continuation ends the message");
}

/* What the clients print of the daemon's text (lib/hx-util). */
static void
test_term_safe(void)
{
	static const struct {
		const char *in, *text, *json;
	} cases[] = {
		{ "plain caf\xc3\xa9", "plain caf\xc3\xa9",
		    "plain caf\xc3\xa9" },
		{ "a\x1b[2Jb\x7f", "a?[2Jb?", "a\x1b[2Jb\\u007f" },
		{ "csi\xc2\x9b"
		  "31m nel\xc2\x85",
		    "csi?31m nel?",
		    "csi\\u009b"
		    "31m nel\\u0085" },
		{ "rlo\xe2\x80\xaetxt.exe", "rlo?txt.exe",
		    "rlo\\u202etxt.exe" },
		{ "\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c\xe2\x81\xa6\xe2\x81\xa9",
		    "?????", "\\u200e\\u200f\\u061c\\u2066\\u2069" },
		{ "\xe2\x80\xaa\xe2\x80\xad", "??", "\\u202a\\u202d" },
		/* Not controls: U+2067's neighbours, U+00A0. */
		{ "\xe2\x81\xa5\xe2\x81\xaa\xc2\xa0",
		    "\xe2\x81\xa5\xe2\x81\xaa\xc2\xa0",
		    "\xe2\x81\xa5\xe2\x81\xaa\xc2\xa0" },
		/*
		 * Bytes that are not UTF-8 (a lone 0x9b is CSI to an 8-bit
		 * terminal): '?' on a terminal; JSON text never holds them
		 * (jansson refuses them), so they pass there as they are.
		 */
		{ "x\x9b"
		  "31m\xff\xc2",
		    "x?31m??",
		    "x\x9b"
		    "31m\xff\xc2" },
	};
	size_t i;
	char  *s;

	for (i = 0; i < HX_ARRAY_SIZE(cases); i++) {
		s = xstrdup(cases[i].in);
		is_str(hx_term_safe(s), cases[i].text, "terminal text");
		free(s);
		s = hx_json_term_safe(cases[i].in);
		is_str(s, cases[i].json, "JSON escapes");
		free(s);
	}
	ok(hx_cp_unsafe(0x202e) && hx_cp_unsafe(0x9b) && hx_cp_unsafe(0) &&
		!hx_cp_unsafe(0xa0) && !hx_cp_unsafe(0x2065) &&
		!hx_cp_unsafe(0x202f),
	    "hx_cp_unsafe's edges");
}

int
main(void)
{
	test_servers();
	test_conf();
	test_frames();
	test_term_safe();
	return done_testing();
}
