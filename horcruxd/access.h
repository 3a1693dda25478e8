/*
 * access.h - who a connection is, and what it may do where.
 *
 * The service thread authenticates every request and WebSocket upgrade
 * from memory: an identity cache built from a store snapshot (users,
 * roles, ACL, API keys, sessions) that the worker thread replaces after
 * every change. Nothing here touches the disk or hashes a password; API
 * key secrets are one SHA-256 and session tokens one HMAC.
 *
 * Credentials, in order: local trust on the Unix socket (uid 0 or the
 * daemon's uid is the Administrator root@local), an API key (X-API-Key or
 * "Authorization: Bearer hx_..."), a session token (Authorization:
 * Bearer), the session cookie. A key or token that is present but wrong
 * is a 401, never a silent fall-through to anonymous. A dead cookie is
 * the exception: the browser sends it unasked on every request, so it
 * counts as no credential (and the caller clears it), or a revoked
 * session would lock the browser out of the sign-in page itself.
 */
#ifndef HORCRUXD_ACCESS_H
#define HORCRUXD_ACCESS_H

#include <stdint.h>

#include "hx-priv.h"
#include "hx-rbac.h"
#include "hx-store.h"

struct lws;

#define ACCESS_COOKIE_NAME "horcrux_session"
#define ACCESS_JWT_KEY_LEN 32
#define ACCESS_USER_MAX 128
#define ACCESS_WHO_MAX (ACCESS_USER_MAX + 16)

enum access_kind {
	ACCESS_ANONYMOUS,
	ACCESS_LOCAL, /* local trust on the Unix socket */
	ACCESS_KEY, /* an API key */
	ACCESS_TOKEN, /* a session token in Authorization */
	ACCESS_COOKIE /* a session token in the cookie */
};

struct identity {
	char name[ACCESS_USER_MAX]; /* "" when anonymous */
	/*
	 * How the identity is shown (audit, events, logs): user@realm, so
	 * local trust (root@local) never reads like a database user.
	 */
	char		 who[ACCESS_WHO_MAX];
	int		 authenticated;
	enum access_kind kind;
	char		 cred[72]; /* key id or session jti */
	char		 csrf[72]; /* cookie sessions: expected token */
	struct hx_grant *grants; /* the user's; strings borrowed */
	size_t		 ngrants; /* from the cache's snapshot */
	struct hx_grant *kgrants; /* an API key's role subset */
	size_t		 nkgrants;
	int		 key_subset;
	int		 stale_cookie; /* a dead session cookie came */
};

struct access_cache;

/*
 * Create the cache from a first snapshot (ownership taken) and the token
 * signing key (copied). Never returns NULL.
 */
struct access_cache *access_cache_new(struct hx_store_snapshot *snap,
    const unsigned char key[ACCESS_JWT_KEY_LEN]);
void		     access_cache_free(struct access_cache *c);
/*
 * Replace the snapshot (ownership taken). Identities resolved earlier
 * borrow strings from the old one: the caller re-resolves live ones with
 * access_refresh() before calling access_cache_retire().
 */
struct hx_store_snapshot *access_cache_swap(struct access_cache *c,
    struct hx_store_snapshot					*snap);
void			  access_cache_retire(struct hx_store_snapshot *old);
const struct hx_store_snapshot *access_cache_snapshot(
    const struct access_cache *c);
/*
 * The snapshot, to change in place (service thread only): keys and
 * sessions, never users, roles or ACL entries, whose strings live
 * identities borrow. Re-check live identities after a removal.
 */
struct hx_store_snapshot *access_cache_edit(struct access_cache *c);
/* The user called name in the current snapshot, or NULL. */
const struct hx_store_user *access_cache_user(const struct access_cache *c,
    const char								*name);

/*
 * Authenticate the peer of wsi from its headers (and the Unix socket's
 * peer credentials). Returns 0 with *id filled (anonymous when nothing
 * was presented), or -1 when a credential was presented and is not valid,
 * with *why a static reason for the 401 body. Release id afterwards.
 */
int access_resolve(struct access_cache *c, struct lws *wsi, int on_unix_socket,
    struct identity *id, const char **why);
/*
 * Re-check a live identity against the current snapshot (after a swap):
 * 0 with its grants rebuilt, or -1 if the credential is gone (key
 * revoked, session logged out, user disabled or deleted).
 */
int  access_refresh(struct access_cache *c, struct identity *id);
void access_release(struct identity *id);

/* May id use all of priv on ACL path (e.g. "/nodes", "/vms/web-1")? */
int access_allowed(const struct identity *id, hx_privs priv, const char *path);
/* Does id hold priv on path or anywhere below it (topic visibility)? */
int access_allowed_below(const struct identity *id, hx_privs priv,
    const char *path);
/* {"/": [...], ...}: id's privileges per path, for GET /api/auth/me. */
json_t *access_privileges_json(const struct identity *id);
/*
 * user's effective privileges per path, in the shape of
 * access_privileges_json, or for path alone when path is not NULL (a
 * valid ACL path). A disabled user holds none. Returns a new object the
 * caller json_decref()s, or NULL when there is no such user.
 */
json_t *access_user_privileges_json(const struct access_cache *c,
    const char *user, const char *path);
/*
 * Does user (enabled, in the cache) hold every privilege role gives, at
 * the role's scope? 1 yes, 0 no (or no such user), -1 no such role. An
 * API key may only
 * carry such roles, so it never names rights its owner lacks.
 */
int access_user_covers_role(struct access_cache *c, const char *user,
    const char *role);
/*
 * Proxmox's rule for granting: does id hold every privilege role gives,
 * at path (NULL: the role's own scope)? With an API key these are the
 * key's effective rights (key and user), so a narrowed key cannot hand
 * out more than it may use. 1 yes, 0 no, -1 no such role.
 */
int access_covers_role(const struct access_cache *c, const struct identity *id,
    const char *role, const char *path);
/*
 * Does id hold every privilege user holds (each of their roles at its
 * scope, each ACL entry at its path), even while user is disabled? For
 * acting on another account's credentials (a password reset, a key for
 * them): who may become a user must already have the user's rights.
 * 1 yes (also when there is no such user: nothing to hold), 0 no.
 */
int access_covers_user(const struct access_cache *c, const struct identity *id,
    const char *user);

#endif
