/*
 * hx-client.c - where a client finds its server and its credentials:
 * server strings (unix:PATH, http(s)://, ws(s)://), client.conf with the
 * flags and environment that override it, editing client.conf, and the
 * URL escaping of a path segment. The public interface of all the
 * client's wire is hx-client.h; its other files are hx-client-sock.c (the
 * transport, TLS included), hx-client-http.c (one-shot requests) and
 * hx-client-ws.c (the WebSocket client), which share hx-client-int.h.
 *
 * What it does not do: open a connection or read anything but
 * client.conf and an API key file, and it never asks for a password:
 * that is horcrux-cli's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hx-client-int.h"
#include "hx-config.h"

/* --- server strings ------------------------------------------------------ */

int
hx_server_parse(const char *s, struct hx_server *srv, char **err)
{
	static const struct {
		const char *scheme;
		int	    tls, port;
	} schemes[] = {
		{ "http://", 0, 80 },
		{ "ws://", 0, 80 },
		{ "https://", 1, 443 },
		{ "wss://", 1, 443 },
	};
	const char *rest = NULL, *end, *colon;
	size_t	    i;

	memset(srv, 0, sizeof(*srv));
	if (s == NULL || *s == '\0') {
		*err = xstrdup("empty server address");
		return -1;
	}
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] == '\0') {
			*err = xasprintf(
			    "bad server '%s': unix: needs a socket path", s);
			return -1;
		}
		if (strlen(s + 5) >=
		    sizeof(((struct sockaddr_un *)0)->sun_path)) {
			*err =
			    xasprintf("bad server '%s': socket path too long",
				s);
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
				 "http(s)://HOST:PORT or ws(s)://HOST:PORT",
		    s);
		return -1;
	}
	end = rest + strcspn(rest, "/?#");
	if (*rest == '[') { /* [v6]:port */
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
		srv->host = xstrndup(rest,
		    (size_t)((colon ? colon : end) - rest));
	}
	if (srv->host[0] == '\0') {
		*err = xasprintf("bad server '%s': no host", s);
		goto fail;
	}
	if (colon != NULL) {
		char	 *p = xstrndup(colon + 1, (size_t)(end - colon - 1));
		long long port;
		int	  bad = hx_parse_ll(p, 1, 65535, &port);

		free(p);
		if (bad) {
			*err = xasprintf(
			    "bad server '%s': port must be 1 to 65535", s);
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
	static const char    hex[] = "0123456789ABCDEF";
	struct hx_buf	     b;
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
	{ .name = "server",
	    .type = HX_OPT_STRING,
	    .help = "server address (unix:PATH, http(s)://, ws(s)://)" },
	{ .name = "servers",
	    .type = HX_OPT_STRING,
	    .help = "servers horcrux-top watches together, comma-separated" },
	{ .name = "api_key", .type = HX_OPT_STRING, .help = "API key" },
	{ .name = "token",
	    .type = HX_OPT_STRING,
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

const char *
client_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* "a, b ,c" into c->servers. Returns 0, or -1 with *err. */
static int
split_servers(struct hx_client_conf *c, const char *list, char **err)
{
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");
		size_t lead = strspn(p, " \t");
		size_t end = len;

		while (end > lead && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		if (end <= lead) {
			*err = xasprintf("%s: servers: an empty entry in '%s'",
			    c->conf_path, list);
			return -1;
		}
		c->servers = xrealloc(c->servers,
		    (c->nservers + 1) * sizeof(*c->servers));
		c->servers[c->nservers++] = xstrndup(p + lead, end - lead);
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

int
hx_client_conf_load(struct hx_client_conf *c, const char *server_flag,
    const char *api_key_file, char **err)
{
	struct hx_config cfg;
	const char	*v;
	int		 rc;

	memset(c, 0, sizeof(*c));
	c->conf_path = conf_default_path();
	hx_config_init(&cfg, conf_table, HX_ARRAY_SIZE(conf_table));
	rc = hx_config_load_file(&cfg, c->conf_path, 0, err);
	if (rc < 0)
		goto fail;
	if ((v = hx_config_str(&cfg, "servers")) != NULL &&
	    split_servers(c, v, err) < 0)
		goto fail;

	if (server_flag != NULL) {
		c->server = xstrdup(server_flag);
		c->server_from = HX_SERVER_FROM_FLAG;
	} else if ((v = client_env("HORCRUX_SERVER")) != NULL) {
		c->server = xstrdup(v);
		c->server_from = HX_SERVER_FROM_ENV;
	} else if ((v = hx_config_str(&cfg, "server")) != NULL) {
		c->server = xstrdup(v);
		c->server_from = HX_SERVER_FROM_CONF;
	} else if (c->nservers > 0) {
		c->server = xstrdup(c->servers[0]);
		c->server_from = HX_SERVER_FROM_CONF;
	} else {
		c->server = xstrdup("unix:" HX_CLIENT_DEFAULT_SOCKET);
		c->server_from = HX_SERVER_FROM_DEFAULT;
	}

	if (api_key_file != NULL) {
		if ((c->api_key = hx_read_secret(api_key_file, err)) == NULL)
			goto fail;
	} else if ((v = client_env("HORCRUX_API_KEY")) != NULL)
		c->api_key = xstrdup(v);
	else if ((v = client_env("HORCRUX_TOKEN")) != NULL)
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
	size_t i;

	for (i = 0; i < c->nservers; i++)
		free(c->servers[i]);
	free(c->servers);
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

/*
 * Set each keys[i] to values[i] (NULL: remove it) in client.conf, keeping
 * every other line, in one atomic write.
 */
static int
conf_edit(const char *path, const char *const *keys, const char *const *values,
    size_t n, char **err)
{
	struct hx_buf out;
	char	     *old, *line, *next, *tmp;
	size_t	      i, klen, len;
	int	      fd, rc = -1, drop;

	for (i = 0; i < n; i++) {
		if (values[i] != NULL && strpbrk(values[i], "\r\n") != NULL) {
			*err = xasprintf("cannot store %s: it contains a "
					 "newline",
			    keys[i]);
			return -1;
		}
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
		for (i = 0, drop = 0; i < n && !drop; i++) {
			klen = strlen(keys[i]);
			drop = strncmp(k, keys[i], klen) == 0 &&
			    (k[klen] == '=' || k[klen] == ' ' ||
				k[klen] == '\t');
		}
		if (!drop)
			hx_buf_addf(&out, "%s\n", line);
	}
	for (i = 0; i < n; i++) {
		if (values[i] != NULL)
			hx_buf_addf(&out, "%s = %s\n", keys[i], values[i]);
	}
	free(old);

	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err = xasprintf("cannot create '%s': %s", tmp,
		    strerror(errno));
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
		*err = xasprintf("cannot replace '%s': %s", path,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	hx_buf_release(&out);
	return rc;
}

int
hx_client_conf_set(const char *path, const char *key, const char *value,
    char **err)
{
	return conf_edit(path, &key, &value, 1, err);
}

char *
hx_client_conf_set_session(const char *path, const char *server,
    const char *token, char **err)
{
	static const char *const keys[] = { "server", "token" };
	const char		*values[2], *rel;
	char			*abs, *cwd;

	if (strncmp(server, "unix:", 5) == 0 && server[5] != '/') {
		for (rel = server + 5; strncmp(rel, "./", 2) == 0; rel += 2)
			;
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			*err = xasprintf("cannot store the server '%s': the "
					 "working directory: %s",
			    server, strerror(errno));
			return NULL;
		}
		abs = xasprintf("unix:%s/%s", cwd, rel);
		free(cwd);
	} else
		abs = xstrdup(server);
	values[0] = abs;
	values[1] = token;
	if (conf_edit(path, keys, values, 2, err) != 0) {
		free(abs);
		return NULL;
	}
	return abs;
}

char *
hx_client_server_origin(const struct hx_client_conf *c)
{
	switch (c->server_from) {
	case HX_SERVER_FROM_FLAG:
		break;
	case HX_SERVER_FROM_ENV:
		return xstrdup(" (server from $HORCRUX_SERVER)");
	case HX_SERVER_FROM_CONF:
		return xasprintf(" (server from %s)", c->conf_path);
	case HX_SERVER_FROM_DEFAULT:
		return xasprintf(" (the default server; choose one with -c, "
				 "$HORCRUX_SERVER or `server` in %s)",
		    c->conf_path);
	}
	return xstrdup("");
}
