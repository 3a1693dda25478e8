/*
 * http-parse.c - route matching, Host names and bodies (see http-parse.h).
 * Pure functions over bytes a client sent: no allocation beyond the JSON
 * parser's, no I/O, no libwebsockets.
 */
#include <string.h>

#include "http-parse.h"
#include "hx-util.h"

int
http_route_match(const char *pattern, const char *path, char *buf,
    size_t buflen, const char **params, int maxparams)
{
	const char *pp = pattern, *sp = path;
	char	   *out = buf;
	size_t	    room = buflen, n;
	int	    np = 0;

	while (*pp != '\0' && *sp != '\0') {
		if (*pp == ':') {
			n = strcspn(sp, "/");
			if (n == 0 || n + 1 > room || np == maxparams)
				return 0;
			memcpy(out, sp, n);
			out[n] = '\0';
			params[np++] = out;
			out += n + 1;
			room -= n + 1;
			sp += n;
			pp += strcspn(pp, "/");
			continue;
		}
		if (*pp != *sp)
			return 0;
		pp++;
		sp++;
	}
	return *pp == '\0' && *sp == '\0';
}

int
http_host_name(const char *host, char *name, size_t namelen)
{
	const char *end;
	char	   *colon;

	if (namelen == 0)
		return -1;
	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL ||
		    (size_t)(end - host) >= namelen)
			return -1;
		memcpy(name, host + 1, (size_t)(end - host - 1));
		name[end - host - 1] = '\0';
		return 0;
	}
	if (hx_strlcpy(name, host, namelen) >= namelen)
		return -1;
	if ((colon = strrchr(name, ':')) != NULL)
		*colon = '\0';
	return 0;
}

json_t *
http_body_parse(const char *data, size_t len)
{
	json_error_t e;

	return json_loadb(data != NULL ? data : "", len, JSON_REJECT_DUPLICATES,
	    &e);
}
