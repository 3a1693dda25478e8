/*
 * http-parse.h - the pure parts of reading an HTTP request: matching a
 * path against a route pattern, the name in a Host header, the JSON
 * body, whether Accept-Encoding allows gzip. Nothing here knows libwebsockets, the identity cache or the
 * route table, so tests/fuzz/fuzz-http.c drives exactly the code the
 * daemon runs on untrusted bytes.
 */
#ifndef HORCRUXD_HTTP_PARSE_H
#define HORCRUXD_HTTP_PARSE_H

#include <stddef.h>

#include <jansson.h>

/*
 * Match path against pattern ("/api/users/:username"): literal bytes must
 * be equal, a ":name" segment takes one non-empty segment of path. Each
 * taken segment is copied into buf (NUL-terminated, one after another)
 * and params[i] points at it; at most maxparams are taken. Returns 1 on
 * a match, 0 otherwise (params and buf then hold nothing useful).
 */
int http_route_match(const char *pattern, const char *path, char *buf,
    size_t buflen, const char **params, int maxparams);

/*
 * The host name of a Host header value into name: "[::1]:8006" gives
 * "::1", "example:8006" and "example" give "example". Returns 0, or -1
 * when a bracket does not close or the name does not fit namelen.
 */
int http_host_name(const char *host, char *name, size_t namelen);

/*
 * A request body as JSON (any value; the dispatcher checks for an
 * object where a route needs one), duplicate keys refused. Returns a
 * new reference the caller drops, or NULL when it is not valid JSON.
 */
json_t *http_body_parse(const char *data, size_t len);

/*
 * Does an Accept-Encoding value allow gzip (RFC 9110 12.5.3)? "gzip" or
 * "x-gzip" with a weight above zero, or "*" above zero when gzip is not
 * named; names are case-insensitive. A weight that is not a qvalue counts
 * as zero, so a malformed header never gets what it did not ask for.
 * Returns 1 or 0.
 */
int http_accepts_gzip(const char *value);

#endif
