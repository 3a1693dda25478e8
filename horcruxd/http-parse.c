/*
 * http-parse.c - route matching, Host names, bodies and Accept-Encoding
 * (see http-parse.h).
 * Pure functions over bytes a client sent: no allocation beyond the JSON
 * parser's, no I/O, no libwebsockets.
 */
#include <string.h>
#include <strings.h>

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

/*
 * The weight of one Accept-Encoding element's parameters (what follows
 * its coding, n bytes at p): 1 when there is no q or q is above zero,
 * 0 when q is zero or not a qvalue ("0", "0.", "0.0"-"0.000", "1",
 * "1.000"). Other parameters are skipped.
 */
static int
accept_weight(const char *p, size_t n)
{
	const char *end = p + n, *v;
	size_t	    pl;
	int	    nonzero = 0, digits = 0;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		pl = 0;
		while (p + pl < end && p[pl] != ';')
			pl++;
		if (pl >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
			break;
		p += pl;
	}
	if (p >= end)
		return 1;
	v = p + 2;
	end = p + pl;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (v == end || (*v != '0' && *v != '1'))
		return 0;
	nonzero = *v++ == '1';
	if (v < end && *v++ != '.')
		return 0;
	for (; v < end; v++, digits++) {
		if (*v < '0' || *v > '9' || digits == 3)
			return 0;
		if (*v != '0') {
			if (nonzero) /* 1.001 is no qvalue */
				return 0;
			nonzero = 2;
		}
	}
	return nonzero != 0;
}

int
http_accepts_gzip(const char *value)
{
	const char *p = value;
	size_t	    n, tl;
	int	    gzip = -1, star = 0, w;

	while (*p != '\0') {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		n = strcspn(p, ",");
		tl = strcspn(p, " \t;,");
		w = accept_weight(p + tl, n - tl);
		if ((tl == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (tl == 6 && strncasecmp(p, "x-gzip", 6) == 0))
			gzip = gzip == 1 ? 1 : w;
		else if (tl == 1 && *p == '*')
			star = w;
		p += n;
	}
	return gzip >= 0 ? gzip : star;
}
