/*
 * fuzz-http.c - libFuzzer target for the HTTP request path's pure parts
 * (horcruxd/http-parse.c): arbitrary bytes as a request path against
 * every route pattern, as a Host header, as a JSON body, and as a VM name
 * escaped into an ACL path (hx_rbac_path_fill). Each is checked for its
 * contract, not only for crashes: a matched path is rebuilt from its
 * parameters, a body survives a dump and reparse, an escaped VM name is a
 * valid ACL path that decodes back to the name. The same bytes as an
 * Accept-Encoding value answer 0 or 1, and never 1 without "gzip" or
 * "*" in them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http-parse.h"
#include "hx-rbac.h"
#include "hx-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The patterns of horcruxd/http-route.c's table, and a few odd ones. */
static const char *const patterns[] = {
	"/api/health", "/api/auth/login", "/api/users",
	"/api/users/:username", "/api/users/:username/password",
	"/api/users/:username/api-keys",
	"/api/users/:username/api-keys/:key_id", "/api/roles/:name",
	"/api/vms/:id", "/api/vms/:id/:action", "/api/ws", "/:a/:b/:c", ":x",
};

static void
check_route(const char *path)
{
	const char	*params[2];
	char		 buf[2048], rebuilt[4096];
	size_t		 i, o;
	int		 np, k;
	const char	*p;

	for (i = 0; i < HX_ARRAY_SIZE(patterns); i++) {
		memset(params, 0, sizeof params);
		if (!http_route_match(patterns[i], path, buf, sizeof buf,
		    params, 2))
			continue;
		/* The pattern with its parameters put back is the path. */
		o = 0;
		np = 0;
		for (p = patterns[i]; *p != '\0';) {
			if (*p == ':') {
				if (np == 2 || params[np] == NULL ||
				    params[np][0] == '\0' ||
				    strchr(params[np], '/') != NULL)
					abort();
				k = snprintf(rebuilt + o, sizeof rebuilt - o,
				    "%s", params[np++]);
				o += (size_t)k;
				p += strcspn(p, "/");
				continue;
			}
			rebuilt[o++] = *p++;
		}
		rebuilt[o] = '\0';
		if (strcmp(rebuilt, path) != 0)
			abort();
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
check_vm_path(const char *name)
{
	char	*path = hx_rbac_path_fill("/vms/{id}", name), *dec, *err = NULL;
	size_t	 i, o = 0;
	int	 hi, lo;

	if (strlen(path) - 5 <= HX_RBAC_SEGMENT_MAX && name[0] != '\0' &&
	    hx_rbac_path_ok(path, &err) != 0)
		abort();	/* a VM name must always give a valid path */
	free(err);
	/* Percent-decoding the segment gives the name back. */
	dec = xmalloc(strlen(path) + 1);
	for (i = 5; path[i] != '\0'; i++) {
		if (path[i] == '%') {
			if ((hi = hexval(path[i + 1])) < 0 ||
			    (lo = hexval(path[i + 2])) < 0)
				abort();
			dec[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else
			dec[o++] = path[i];
	}
	dec[o] = '\0';
	if (strcmp(dec, name) != 0)
		abort();
	free(dec);
	free(path);
}

/* An Accept-Encoding value: 0 or 1, and 1 only if gzip or * is named. */
static void
check_gzip(const char *s)
{
	int	r = http_accepts_gzip(s), named = strchr(s, '*') != NULL;
	size_t	i;

	if (r != 0 && r != 1)
		abort();
	for (i = 0; !named && strlen(s + i) >= 4; i++)
		named = strncasecmp(s + i, "gzip", 4) == 0;
	if (r == 1 && !named)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, name[256];
	json_t	*body, *again;
	char	*text;

	body = http_body_parse((const char *)data, size);
	if (body != NULL) {
		text = json_dumps(body, JSON_ENCODE_ANY | JSON_COMPACT);
		if (text == NULL)
			abort();
		again = json_loads(text, JSON_DECODE_ANY |
		    JSON_REJECT_DUPLICATES, NULL);
		if (again == NULL || !json_equal(body, again))
			abort();
		json_decref(again);
		free(text);
		json_decref(body);
	}

	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	check_route(s);
	if (http_host_name(s, name, sizeof name) == 0 &&
	    (strlen(name) >= sizeof name || strlen(name) > strlen(s)))
		abort();
	check_vm_path(s);
	check_gzip(s);
	free(s);
	return 0;
}
