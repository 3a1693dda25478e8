/*
 * access.c - authentication from the identity cache, and the privilege
 * question (see access.h).
 *
 * API keys and sessions, which can number thousands, are found by a
 * binary search of the snapshot's sorted arrays; users, roles and ACL
 * entries (tens on an install) by a scan, which costs less than the HMAC
 * that precedes it. API key "last used" times are written by the worker
 * at most once a minute per key (http-route.c), never per request.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/sha.h>

#include "access.h"
#include "hx-auth.h"
#include "hx-log.h"
#include "hx-util.h"

#define TOKEN_MEMO 64 /* verified tokens remembered */

/*
 * A token whose signature and claims were verified once: the same bytes
 * again need only their digest compared and exp re-checked. Whether its
 * session is still live is asked of the snapshot on every request, so
 * logout and revocation take effect at once.
 */
struct token_memo {
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char	      sub[ACCESS_USER_MAX];
	char	      jti[72];
	int64_t	      exp;
	int	      used;
};

struct access_cache {
	struct hx_store_snapshot *snap;
	unsigned char		  key[ACCESS_JWT_KEY_LEN];
	struct token_memo	  memo[TOKEN_MEMO];
	unsigned		  memo_next;
};

/* Local trust: every privilege on "/", propagated. */
static const struct hx_grant admin_grant = { "/", HX_PRIV_ALL, 1 };

struct access_cache *
access_cache_new(struct hx_store_snapshot *snap,
    const unsigned char			   key[ACCESS_JWT_KEY_LEN])
{
	struct access_cache *c = xcalloc(1, sizeof *c);

	c->snap = snap;
	memcpy(c->key, key, ACCESS_JWT_KEY_LEN);
	return c;
}

void
access_cache_free(struct access_cache *c)
{
	if (c == NULL)
		return;
	hx_store_snapshot_free(c->snap);
	explicit_bzero(c->key, sizeof c->key);
	free(c);
}

struct hx_store_snapshot *
access_cache_swap(struct access_cache *c, struct hx_store_snapshot *snap)
{
	struct hx_store_snapshot *old = c->snap;

	c->snap = snap;
	return old;
}

void
access_cache_retire(struct hx_store_snapshot *old)
{
	hx_store_snapshot_free(old);
}

const struct hx_store_snapshot *
access_cache_snapshot(const struct access_cache *c)
{
	return c->snap;
}

struct hx_store_snapshot *
access_cache_edit(struct access_cache *c)
{
	return c->snap;
}

const struct hx_store_user *
access_cache_user(const struct access_cache *c, const char *name)
{
	const struct hx_store_snapshot *s = c->snap;
	size_t				i;

	for (i = 0; i < s->users.n; i++) {
		if (strcmp(s->users.v[i].username, name) == 0)
			return &s->users.v[i];
	}
	return NULL;
}

static int
access_role_privs(const struct access_cache *c, const char *name,
    hx_privs *privs)
{
	const struct hx_role_def *def;
	size_t			  i;

	if ((def = hx_rbac_builtin(name)) != NULL) {
		*privs = def->privs;
		return 1;
	}
	for (i = 0; i < c->snap->roles.n; i++) {
		if (strcmp(c->snap->roles.v[i].name, name) == 0) {
			*privs = c->snap->roles.v[i].privs;
			return 1;
		}
	}
	return 0;
}

/* The grant a role gives at path (NULL: the role's own scope). */
static int
role_grant(const struct access_cache *c, const char *role, const char *path,
    int propagate, struct hx_grant *g)
{
	const struct hx_role_def *def = hx_rbac_builtin(role);
	hx_privs		  privs;

	if (def != NULL) {
		*g = path == NULL ? hx_rbac_role_grant(def) :
				    hx_rbac_acl_grant(def, path, propagate);
		return 1;
	}
	if (!access_role_privs(c, role, &privs))
		return 0;
	g->path = path != NULL ? path : "/";
	g->privs = privs;
	g->propagate = path != NULL ? propagate : 1;
	return 1;
}

static void
add_grant(struct hx_grant **v, size_t *n, const struct hx_grant *g)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = *g;
}

/*
 * The user's grants: roles at their scopes plus the user's ACL entries.
 * A disabled user has none, unless even_disabled (what they would have
 * once enabled again).
 */
static int
user_grants_of(const struct access_cache *c, const char *name,
    struct identity *id, int even_disabled)
{
	const struct hx_store_snapshot *s = c->snap;
	const struct hx_store_user     *u = access_cache_user(c, name);
	struct hx_grant			g;
	size_t				i;

	if (u == NULL || (!u->enabled && !even_disabled))
		return -1;
	for (i = 0; i < u->roles.n; i++) {
		if (role_grant(c, u->roles.v[i], NULL, 1, &g))
			add_grant(&id->grants, &id->ngrants, &g);
	}
	for (i = 0; i < s->acl.n; i++) {
		const struct hx_store_acl *a = &s->acl.v[i];

		if (strcmp(a->username, name) == 0 &&
		    role_grant(c, a->role, a->path, a->propagate, &g))
			add_grant(&id->grants, &id->ngrants, &g);
	}
	return 0;
}

static int
user_grants(const struct access_cache *c, const char *name, struct identity *id)
{
	return user_grants_of(c, name, id, 0);
}

static void
clear_grants(struct identity *id)
{
	free(id->grants);
	free(id->kgrants);
	id->grants = id->kgrants = NULL;
	id->ngrants = id->nkgrants = 0;
	id->key_subset = 0;
}

int
access_user_covers_role(struct access_cache *c, const char *user,
    const char *role)
{
	struct identity tmp;
	struct hx_grant g;
	int		yes;

	memset(&tmp, 0, sizeof tmp);
	if (!role_grant(c, role, NULL, 1, &g))
		return -1;
	if (user_grants(c, user, &tmp) != 0) {
		access_release(&tmp);
		return 0;
	}
	yes = (hx_rbac_effective(tmp.grants, tmp.ngrants, g.path) & g.privs) ==
	    g.privs;
	access_release(&tmp);
	return yes;
}

int
access_covers_role(const struct access_cache *c, const struct identity *id,
    const char *role, const char *path)
{
	struct hx_grant g;

	if (!role_grant(c, role, path, 1, &g))
		return -1;
	return access_allowed(id, g.privs, g.path);
}

int
access_covers_user(const struct access_cache *c, const struct identity *id,
    const char *user)
{
	struct identity tmp;
	size_t		i;
	int		yes = 1;

	memset(&tmp, 0, sizeof tmp);
	if (user_grants_of(c, user, &tmp, 1) == 0) {
		for (i = 0; yes && i < tmp.ngrants; i++)
			yes = access_allowed(id, tmp.grants[i].privs,
			    tmp.grants[i].path);
	}
	access_release(&tmp);
	return yes;
}

void
access_release(struct identity *id)
{
	clear_grants(id);
	memset(id, 0, sizeof *id);
}

/* id->who: user@realm; local trust is root@local. */
static void
set_who(const struct access_cache *c, struct identity *id)
{
	const struct hx_store_user *u;

	if (id->kind == ACCESS_LOCAL) {
		hx_strlcpy(id->who, id->name, sizeof id->who);
		return;
	}
	u = access_cache_user(c, id->name);
	snprintf(id->who, sizeof id->who, "%s@%s", id->name,
	    u != NULL && u->realm != NULL ? u->realm : "local");
}

/* Fill id for API key cred (a key id); -1 if it is not valid now. */
static int
key_identity(const struct access_cache *c, const char *keyid, const char *hash,
    struct identity *id)
{
	const struct hx_store_snapshot *s = c->snap;
	const struct hx_store_key      *k = hx_store_snapshot_key(s, keyid);
	struct hx_grant			g;
	size_t				i;

	if (k == NULL || !k->user_enabled ||
	    (k->expires != 0 && k->expires <= time(NULL)))
		return -1;
	if (hash != NULL && !hx_apikey_matches(hash, k->hash))
		return -1;
	if (user_grants(c, k->username, id) != 0)
		return -1;
	hx_strlcpy(id->name, k->username, sizeof id->name);
	hx_strlcpy(id->cred, keyid, sizeof id->cred);
	id->kind = ACCESS_KEY;
	if (k->restricted) {
		id->key_subset = 1;
		for (i = 0; i < k->roles.n; i++) {
			if (role_grant(c, k->roles.v[i], NULL, 1, &g))
				add_grant(&id->kgrants, &id->nkgrants, &g);
		}
	}
	return 0;
}

/* Fill id for session jti of user sub; -1 if it is not live. */
static int
session_identity(const struct access_cache *c, const char *jti, const char *sub,
    enum access_kind kind, struct identity *id)
{
	const struct hx_store_snapshot *s = c->snap;
	const struct hx_store_session  *se = hx_store_snapshot_session(s, jti);
	time_t				now = time(NULL);

	if (se == NULL || !se->user_enabled || se->expires <= now ||
	    se->absolute_expires <= now ||
	    (sub != NULL && strcmp(se->username, sub) != 0))
		return -1;
	if (user_grants(c, se->username, id) != 0)
		return -1;
	hx_strlcpy(id->name, se->username, sizeof id->name);
	hx_strlcpy(id->cred, jti, sizeof id->cred);
	hx_strlcpy(id->csrf, se->csrf_token, sizeof id->csrf);
	id->kind = kind;
	return 0;
}

static int
token_identity(struct access_cache *c, const char *token, enum access_kind kind,
    struct identity *id)
{
	struct hx_jwt_claims cl;
	struct token_memo   *m;
	unsigned char	     d[SHA256_DIGEST_LENGTH];
	char		    *err = NULL;
	int64_t		     now = time(NULL);
	size_t		     i;
	int		     r;

	SHA256((const unsigned char *)token, strlen(token), d);
	for (i = 0; i < TOKEN_MEMO; i++) {
		m = &c->memo[i];
		if (m->used && memcmp(m->digest, d, sizeof d) == 0) {
			if (m->exp <= now)
				return -1;
			return session_identity(c, m->jti, m->sub, kind, id);
		}
	}
	if (hx_jwt_verify(c->key, sizeof c->key, token, now, &cl, &err) != 0) {
		log_debug("session token refused: %s", err);
		free(err);
		return -1;
	}
	if (strlen(cl.sub) < sizeof m->sub && strlen(cl.jti) < sizeof m->jti) {
		m = &c->memo[c->memo_next++ % TOKEN_MEMO];
		memcpy(m->digest, d, sizeof d);
		hx_strlcpy(m->sub, cl.sub, sizeof m->sub);
		hx_strlcpy(m->jti, cl.jti, sizeof m->jti);
		m->exp = cl.exp;
		m->used = 1;
	}
	r = session_identity(c, cl.jti, cl.sub, kind, id);
	hx_jwt_claims_release(&cl);
	return r;
}

/* Copy the value of cookie name from the Cookie header into out. */
static int
cookie_value(struct lws *wsi, const char *name, char *out, size_t outlen)
{
	char   hdr[HX_JWT_MAX_LEN + 512], *p, *end;
	size_t nl = strlen(name);
	int    len;

	if ((len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE)) <= 0 ||
	    (size_t)len >= sizeof hdr ||
	    lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_COOKIE) < 0)
		return -1;
	for (p = hdr; *p != '\0'; p = end) {
		while (*p == ' ' || *p == ';')
			p++;
		end = p + strcspn(p, ";");
		if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 &&
		    p[nl] == '=') {
			p += nl + 1;
			if ((size_t)(end - p) >= outlen)
				return -1;
			memcpy(out, p, (size_t)(end - p));
			out[end - p] = '\0';
			return 0;
		}
	}
	return -1;
}

static int
local_trust(struct lws *wsi)
{
	struct ucred cred;
	socklen_t    len = sizeof cred;
	int	     fd = lws_get_socket_fd(wsi);

	if (fd < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    len != sizeof cred)
		return 0;
	return cred.uid == 0 || cred.uid == getuid();
}

int
access_resolve(struct access_cache *c, struct lws *wsi, int on_unix_socket,
    struct identity *id, const char **why)
{
	char buf[HX_JWT_MAX_LEN + 1], keyid[HX_APIKEY_ID_LEN + 1];
	char hash[HX_APIKEY_HASH_LEN + 1];
	int  n;

	memset(id, 0, sizeof *id);
	*why = NULL;

	/* An API key, in its own header or as a bearer token. */
	n = lws_hdr_custom_length(wsi, "x-api-key:", 10);
	if (n > 0) {
		if ((size_t)n >= sizeof buf ||
		    lws_hdr_custom_copy(wsi, buf, sizeof buf,
			"x-api-key:", 10) < 0)
			goto bad_key;
		goto key;
	}
	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 0) {
		if ((size_t)n >= sizeof buf ||
		    lws_hdr_copy(wsi, buf, sizeof buf,
			WSI_TOKEN_HTTP_AUTHORIZATION) < 0 ||
		    strncasecmp(buf, "Bearer ", 7) != 0) {
			*why = "unsupported Authorization header (use Bearer)";
			return -1;
		}
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
		if (strncmp(buf, "hx_", 3) == 0)
			goto key;
		if (token_identity(c, buf, ACCESS_TOKEN, id) != 0)
			goto bad_token;
		goto ok;
	}
	if (cookie_value(wsi, ACCESS_COOKIE_NAME, buf, sizeof buf) == 0) {
		if (token_identity(c, buf, ACCESS_COOKIE, id) == 0)
			goto ok;
		access_release(id);
		id->stale_cookie = 1;
	}
	if (on_unix_socket && local_trust(wsi)) {
		hx_strlcpy(id->name, "root@local", sizeof id->name);
		id->kind = ACCESS_LOCAL;
		add_grant(&id->grants, &id->ngrants, &admin_grant);
		goto ok;
	}
	return 0; /* anonymous */

key:
	if (hx_apikey_parse(buf, keyid, hash) != 0 ||
	    key_identity(c, keyid, hash, id) != 0)
		goto bad_key;
	goto ok;
bad_key:
	access_release(id);
	*why = "invalid, expired or revoked API key";
	return -1;
bad_token:
	access_release(id);
	*why = "invalid or expired session";
	return -1;
ok:
	id->authenticated = 1;
	set_who(c, id);
	explicit_bzero(buf, sizeof buf);
	return 0;
}

int
access_refresh(struct access_cache *c, struct identity *id)
{
	struct identity fresh;

	if (id->kind == ACCESS_LOCAL || !id->authenticated)
		return 0;
	memset(&fresh, 0, sizeof fresh);
	if ((id->kind == ACCESS_KEY ? key_identity(c, id->cred, NULL, &fresh) :
				      session_identity(c, id->cred, id->name,
					  id->kind, &fresh)) != 0) {
		access_release(&fresh);
		return -1;
	}
	fresh.authenticated = 1;
	set_who(c, &fresh);
	access_release(id);
	*id = fresh;
	return 0;
}

static struct hx_rbac_key *
key_of(const struct identity *id, struct hx_rbac_key *k)
{
	if (!id->key_subset)
		return NULL;
	k->g = id->kgrants;
	k->n = id->nkgrants;
	k->subset = 1;
	return k;
}

int
access_allowed(const struct identity *id, hx_privs priv, const char *path)
{
	struct hx_rbac_key k;

	if (!id->authenticated)
		return 0;
	return (hx_rbac_effective_key(id->grants, id->ngrants, key_of(id, &k),
		    path) &
		   priv) == priv;
}

int
access_allowed_below(const struct identity *id, hx_privs priv, const char *path)
{
	struct hx_rbac_key k;

	if (!id->authenticated)
		return 0;
	return hx_rbac_any_at_or_below_key(id->grants, id->ngrants,
	    key_of(id, &k), path, priv);
}

static const char *const top_paths[] = { "/access", "/nodes", "/vms",
	"/storage" };

json_t *
access_privileges_json(const struct identity *id)
{
	struct hx_rbac_key k;

	return hx_rbac_privileges_json_key(id->grants, id->ngrants,
	    key_of(id, &k), top_paths, HX_ARRAY_SIZE(top_paths));
}

json_t *
access_user_privileges_json(const struct access_cache *c, const char *user,
    const char *path)
{
	struct identity tmp;
	json_t	       *o, *names;
	hx_privs	p;
	int		b;

	if (access_cache_user(c, user) == NULL)
		return NULL;
	memset(&tmp, 0, sizeof tmp);
	(void)user_grants(c, user, &tmp); /* disabled: none */
	if (path == NULL)
		o = hx_rbac_privileges_json(tmp.grants, tmp.ngrants, top_paths,
		    HX_ARRAY_SIZE(top_paths));
	else {
		p = hx_rbac_effective(tmp.grants, tmp.ngrants, path);
		names = json_array();
		for (b = 0; b < HX_PRIV_COUNT; b++) {
			if (p & (1u << b))
				json_array_append_new(names,
				    json_string(hx_priv_name(1u << b)));
		}
		o = json_object();
		json_object_set_new(o, path, names);
	}
	access_release(&tmp);
	return o;
}
