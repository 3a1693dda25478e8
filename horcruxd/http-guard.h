/*
 * http-guard.h - the checks the dispatcher runs before a route's handler
 * or job: CORS and Origin, CSRF, the password-check rate limit, the
 * grants a caller may hand out. Host names and http_origin_ok are
 * server.h's (WebSocket upgrades use them too).
 */
#ifndef HORCRUXD_HTTP_GUARD_H
#define HORCRUXD_HTTP_GUARD_H

#include "http-int.h"

/*
 * Is r a password check, and may it run now? Fills user with the
 * "u:NAME" slot to take ("" when no check), or answers 429 and returns 1.
 */
int http_guard_limited(struct request *r, const struct route *rt, char *user,
    size_t len);
/* Take a free slot of key (http_guard_limited said there is one) at now. */
void http_guard_limit_take(struct server *srv, const char *key, int64_t now);
/* Give back the slot of key taken at ms (a success). */
void http_guard_limit_give_back(struct server *srv, const char *key,
    int64_t ms);
/* Note that API key keyid was used (a worker write at most once a minute). */
void http_guard_key_used(struct server *srv, const char *keyid);
/* Add CORS headers for an allowed Origin; returns 1 when it is one. */
int http_guard_cors(struct request *r);
/* No Origin (not a browser), or one allowed to use a cookie here. */
int http_guard_origin_allowed(struct request *r);
/* Does the X-CSRF-Token header carry r's session token? */
int http_guard_csrf_ok(struct request *r);
/*
 * The grant checks of four jobs (API key roles, ACL entries, another
 * user's password, a custom role's privileges): each answers 403 or 422
 * itself and returns 1, or returns 0 when the request may go on.
 */
int http_guard_key_roles_refused(struct request *r);
int http_guard_acl_role_refused(struct request *r);
int http_guard_password_reset_refused(struct request *r);
int http_guard_role_privs_refused(struct request *r);
/*
 * The roles id may give or take away in a user's roles, into out (its
 * strings and array are the caller's to free, as a job's grantable).
 */
void http_guard_grantable_roles(struct server *srv, const struct identity *id,
    struct hx_store_strv *out);

#endif
