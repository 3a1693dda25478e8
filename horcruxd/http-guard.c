/*
 * http-guard.c - the checks that stand in front of the routes: the Host
 * names that are ours (DNS rebinding), Origin and CORS, the CSRF token of
 * cookie sessions, the password-check rate limit, and the rule that
 * nobody hands out rights they lack (API key roles, ACL entries, another
 * user's password).
 *
 * It does not authenticate (access.c does) and does not decide which
 * check a route needs: the route table's flags do, in http-route.c.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http-guard.h"
#include "http-parse.h"
#include "http-reply.h"
#include "hx-auth.h"
#include "hx-rbac.h"
#include "job-identity.h"
#include "server.h"

#define LOGIN_FAILS 5 /* checks per user or address... */
#define LOGIN_WINDOW_MS 60000 /* ...in this long: 429 */
#define LOGIN_LIMITS 4096 /* remembered users and addresses */

/* --- login rate limiting ---------------------------------------------------- */

/*
 * Every password check (a login, or the old password of a self change)
 * takes a slot of its user and of its address when it is admitted, before
 * it runs; a success gives the slots back, a failure keeps them for
 * LOGIN_WINDOW_MS. So no more than LOGIN_FAILS checks per user or address
 * are ever running or failed within the window, however many arrive at
 * once.
 */

/* The newest slot of l, the one eviction compares. */
static int64_t
limit_newest(const struct login_limit *l)
{
	int64_t newest = 0;
	int	i;

	for (i = 0; i < LOGIN_FAILS; i++) {
		if (l->at[i] > newest)
			newest = l->at[i];
	}
	return newest;
}

static struct login_limit *
limit_find(struct server *srv, const char *key, int create)
{
	size_t i, oldest = 0;

	for (i = 0; i < srv->nlimits; i++) {
		if (strncmp(srv->limits[i].key, key,
			sizeof srv->limits[i].key - 1) == 0)
			return &srv->limits[i];
	}
	if (!create)
		return NULL;
	if (srv->nlimits < LOGIN_LIMITS) {
		srv->limits = xrealloc(srv->limits,
		    (srv->nlimits + 1) * sizeof *srv->limits);
		i = srv->nlimits++;
	} else {
		/* Full: forget the entry whose newest slot is oldest. */
		for (i = 1; i < srv->nlimits; i++) {
			if (limit_newest(&srv->limits[i]) <
			    limit_newest(&srv->limits[oldest]))
				oldest = i;
		}
		i = oldest;
	}
	memset(&srv->limits[i], 0, sizeof srv->limits[i]);
	hx_strlcpy(srv->limits[i].key, key, sizeof srv->limits[i].key);
	return &srv->limits[i];
}

/* Seconds until key may try again, or 0 when a slot is free now. */
static int64_t
limit_wait(struct server *srv, const char *key)
{
	struct login_limit *l = limit_find(srv, key, 0);
	int64_t		    oldest = INT64_MAX, now = hx_wall_ms();
	int		    i;

	if (l == NULL)
		return 0;
	for (i = 0; i < LOGIN_FAILS; i++) {
		if (l->at[i] == 0 || now - l->at[i] >= LOGIN_WINDOW_MS)
			return 0;
		if (l->at[i] < oldest)
			oldest = l->at[i];
	}
	return (LOGIN_WINDOW_MS - (now - oldest)) / 1000 + 1;
}

/* Take a free slot of key (limit_wait said there is one) at now. */
void
http_guard_limit_take(struct server *srv, const char *key, int64_t now)
{
	struct login_limit *l = limit_find(srv, key, 1);
	int		    i, pick = 0;

	for (i = 0; i < LOGIN_FAILS; i++) {
		if (l->at[i] < l->at[pick])
			pick = i;
	}
	l->at[pick] = now;
}

/* Give back the slot of key taken at ms (a success). */
void
http_guard_limit_give_back(struct server *srv, const char *key, int64_t ms)
{
	struct login_limit *l = limit_find(srv, key, 0);
	int		    i;

	for (i = 0; l != NULL && i < LOGIN_FAILS; i++) {
		if (l->at[i] == ms) {
			l->at[i] = 0;
			return;
		}
	}
}

/*
 * Is this request a password check, and may it run now? A login checks
 * the body's username; a password change checks the old password of
 * :username unless the caller may modify users (then none is asked for).
 * Fills user with the "u:NAME" slot to take ("" when no check), or
 * answers 429 and returns 1.
 */
int
http_guard_limited(struct request *r, const struct route *rt, char *user,
    size_t len)
{
	const char *name;
	char	    addr[192], ra[24];
	int64_t	    wait;

	user[0] = '\0';
	if (rt->flags & R_PUBLIC)
		name = json_string_value(json_object_get(r->body, "username"));
	else if (access_allowed(&r->id, HX_PRIV_USER_MODIFY, "/access"))
		return 0;
	else
		name = r->params[0];
	snprintf(user, len, "u:%s", name != NULL ? name : "");
	snprintf(addr, sizeof addr, "a:%s", r->remote);
	if ((wait = limit_wait(r->srv, addr)) == 0)
		wait = limit_wait(r->srv, user);
	if (wait == 0)
		return 0;
	user[0] = '\0';
	snprintf(ra, sizeof ra, "%lld", (long long)wait);
	http_reply_error_with(r, 429, "RATE_LIMITED",
	    "too many failed "
	    "password checks; try again later",
	    "retry-after:", ra);
	return 1;
}

/*
 * Note that an API key was used: written through the worker at most once
 * a minute per key, so a busy key costs no disk write per request.
 */
void
http_guard_key_used(struct server *srv, const char *keyid)
{
	struct job *j;
	int64_t	    now = hx_wall_ms();
	size_t	    i;

	for (i = 0; i < srv->nkeys_seen; i++) {
		if (strcmp(srv->keys_seen[i].keyid, keyid) == 0)
			break;
	}
	if (i == srv->nkeys_seen) {
		if (srv->nkeys_seen == LOGIN_LIMITS)
			i = 0; /* full: reuse a slot; the cost is a write */
		else {
			srv->keys_seen = xrealloc(srv->keys_seen,
			    (srv->nkeys_seen + 1) * sizeof *srv->keys_seen);
			srv->nkeys_seen++;
		}
		hx_strlcpy(srv->keys_seen[i].keyid, keyid,
		    sizeof srv->keys_seen[i].keyid);
		srv->keys_seen[i].written_ms = 0;
	}
	if (now - srv->keys_seen[i].written_ms < 60000)
		return;
	srv->keys_seen[i].written_ms = now;
	j = job_new(job_key_touch);
	hx_strlcpy(j->actor_cred, keyid, sizeof j->actor_cred);
	worker_submit(srv->worker, j);
}

/* --- Origin, CORS, CSRF --------------------------------------------------- */

/*
 * CORS: only for an Origin listed exactly in allowed_origins; everyone
 * else gets no CORS header at all, so browsers keep the same-origin rule.
 * Returns 1 when the request's origin is such an allowed one.
 */
int
http_guard_cors(struct request *r)
{
	const struct options *o = r->srv->opts;
	char		      origin[256];
	size_t		      i;

	if (lws_hdr_copy(r->wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
		return 0;
	for (i = 0; i < o->nallowed_origins; i++) {
		if (strcmp(origin, o->allowed_origins[i]) == 0) {
			http_reply_add_header(r->c,
			    "access-control-allow-origin:", origin);
			http_reply_add_header(r->c,
			    "access-control-allow-credentials:", "true");
			http_reply_add_header(r->c, "vary:", "Origin");
			return 1;
		}
	}
	return 0;
}

/* No Origin (not a browser), or one allowed to use a cookie here. */
int
http_guard_origin_allowed(struct request *r)
{
	if (lws_hdr_total_length(r->wsi, WSI_TOKEN_ORIGIN) <= 0)
		return 1;
	return http_origin_ok(r->srv, r->wsi);
}

int
http_guard_csrf_ok(struct request *r)
{
	char tok[128];
	int  n;

	n = lws_hdr_custom_copy(r->wsi, tok, sizeof tok, "x-csrf-token:", 13);
	return n > 0 && strlen(r->id.csrf) == (size_t)n &&
	    hx_ct_equal(tok, r->id.csrf, (size_t)n);
}

/* --- what a caller may grant ---------------------------------------------- */

/* Is the caller a login session of user (whose rights are user's own)? */
static int
is_self_session(const struct request *r, const char *user)
{
	return (r->id.kind == ACCESS_TOKEN || r->id.kind == ACCESS_COOKIE) &&
	    user != NULL && strcmp(r->id.name, user) == 0;
}

/* Answer 403 with msg (freed here); returns 1, "answered". */
static int
refuse_grant(struct request *r, char *msg)
{
	http_reply_error(r, 403, "FORBIDDEN", msg);
	free(msg);
	return 1;
}

/*
 * A key narrows its owner's rights: refuse roles whose privileges the
 * owner does not hold at the role's scope (they would do nothing today
 * and would widen the key silently if the owner were promoted). And
 * nobody hands out rights they lack: unless the caller is the owner's own
 * login session, the caller (with a key: what that key may do) must hold
 * every privilege the new key would carry, each role of its subset at the
 * role's scope, or without a subset everything the owner holds. Returns
 * 1 when it has answered the request.
 */
int
http_guard_key_roles_refused(struct request *r)
{
	json_t	   *roles = json_object_get(r->body, "roles"), *e;
	const char *name, *owner = r->params[0];
	char	   *msg;
	size_t	    i;
	int	    self = is_self_session(r, owner);

	if (roles == NULL || json_is_null(roles)) {
		if (!self && !access_covers_user(r->srv->cache, &r->id, owner))
			return refuse_grant(r,
			    xasprintf("a key of '%.64s' "
				      "would carry rights you do not hold",
				owner));
		return 0;
	}
	if (!json_is_array(roles))
		return 0; /* the job's validation says why */
	json_array_foreach(roles, i, e) {
		/* Unknown names are the job's to refuse ("unknown role"). */
		if ((name = json_string_value(e)) == NULL)
			continue;
		if (access_user_covers_role(r->srv->cache, owner, name) == 0) {
			msg = xasprintf(
			    "'%.64s' gives rights '%.64s' does "
			    "not hold: a key can only narrow its owner's "
			    "rights",
			    name, owner);
			http_reply_error(r, 422, "VALIDATION_ERROR", msg);
			free(msg);
			return 1;
		}
		if (!self &&
		    access_covers_role(r->srv->cache, &r->id, name, NULL) == 0)
			return refuse_grant(r,
			    xasprintf("role '%.64s' gives "
				      "rights you do not hold",
				name));
	}
	return 0;
}

/*
 * An ACL entry hands out its role at its path: the caller must hold every
 * privilege of the role there (Proxmox's rule), to grant it or to take it
 * away. Unknown roles and bad paths are the job's to refuse. Returns 1
 * when it has answered the request.
 */
int
http_guard_acl_role_refused(struct request *r)
{
	const char *path = json_string_value(json_object_get(r->body, "path"));
	const char *role = json_string_value(json_object_get(r->body, "role"));

	if (path == NULL || role == NULL || hx_rbac_path_ok(path, NULL) != 0)
		return 0;
	if (access_covers_role(r->srv->cache, &r->id, role, path) == 0)
		return refuse_grant(r,
		    xasprintf("role '%.64s' gives rights "
			      "you do not hold on '%.255s'",
			role, path));
	return 0;
}

/*
 * A custom role's new privileges reach everyone who holds it, at "/" when
 * given directly: changing them needs every privilege of the role, before
 * and after, at "/" (nobody hands out, or takes away, rights they lack).
 * Unknown names and bad bodies are the job's to refuse. Returns 1 when
 * it has answered the request.
 */
int
http_guard_role_privs_refused(struct request *r)
{
	json_t	*privs = json_object_get(r->body, "privileges"), *e;
	hx_privs bits = 0;
	size_t	 i;

	json_array_foreach(privs, i, e) {
		if (json_is_string(e))
			bits |= hx_priv_from_name(json_string_value(e));
	}
	if (!access_allowed(&r->id, bits, "/") ||
	    access_covers_role(r->srv->cache, &r->id, r->params[0], "/") == 0)
		return refuse_grant(r,
		    xasprintf("role '%.64s' would give or "
			      "take rights you do not hold",
			r->params[0]));
	return 0;
}

/*
 * Setting another user's password makes the caller able to become that
 * user: it needs every right that user holds. Returns 1 when answered.
 */
int
http_guard_password_reset_refused(struct request *r)
{
	if (is_self_session(r, r->params[0]) ||
	    access_covers_user(r->srv->cache, &r->id, r->params[0]))
		return 0;
	return refuse_grant(r,
	    xasprintf("'%.64s' holds rights you do not "
		      "hold",
		r->params[0]));
}

/*
 * The roles (built-in and custom) whose privileges id holds at each
 * role's scope: the ones it may give or take away in a user's roles. The
 * job checks the change against this list on the worker, where the
 * user's current roles are read.
 */
void
http_guard_grantable_roles(struct server *srv, const struct identity *id,
    struct hx_store_strv *out)
{
	const struct hx_store_snapshot *s = access_cache_snapshot(srv->cache);
	const struct hx_role_def       *def;
	const char		       *name;
	size_t				i, n;

	n = s->roles.n;
	for (i = 0; hx_rbac_builtin_at(i) != NULL; i++)
		n++;
	out->v = xcalloc(n + 1, sizeof *out->v);
	out->n = 0;
	for (i = 0; i < n; i++) {
		def = hx_rbac_builtin_at(i);
		name = def != NULL ? def->name :
				     s->roles.v[i - (n - s->roles.n)].name;
		if (access_covers_role(srv->cache, id, name, NULL) == 1)
			out->v[out->n++] = xstrdup(name);
	}
}

/* --- Host names and Origin ------------------------------------------------ */

static void
add_host(struct server *srv, const char *name)
{
	size_t i;

	for (i = 0; i < srv->nhosts; i++) {
		if (strcasecmp(srv->hosts[i], name) == 0)
			return;
	}
	srv->hosts = xrealloc(srv->hosts,
	    (srv->nhosts + 1) * sizeof *srv->hosts);
	srv->hosts[srv->nhosts++] = xstrdup(name);
}

void
http_hosts_init(struct server *srv)
{
	const struct options *o = srv->opts;
	struct ifaddrs	     *ifa, *i;
	char		      name[256];
	size_t		      k;

	add_host(srv, "localhost");
	add_host(srv, "127.0.0.1");
	add_host(srv, "::1");
	add_host(srv, o->listen_host);
	if (gethostname(name, sizeof name) == 0) {
		name[sizeof name - 1] = '\0';
		add_host(srv, name);
	}
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i != NULL; i = i->ifa_next) {
			if (i->ifa_addr == NULL ||
			    (i->ifa_addr->sa_family != AF_INET &&
				i->ifa_addr->sa_family != AF_INET6))
				continue;
			if (getnameinfo(i->ifa_addr,
				i->ifa_addr->sa_family == AF_INET ?
				    sizeof(struct sockaddr_in) :
				    sizeof(struct sockaddr_in6),
				name, sizeof name, NULL, 0,
				NI_NUMERICHOST) == 0) {
				name[strcspn(name, "%")] = '\0';
				add_host(srv, name);
			}
		}
		freeifaddrs(ifa);
	}
	for (k = 0; k < o->nallowed_hosts; k++)
		add_host(srv, o->allowed_hosts[k]);
}

int
http_host_ok(const struct server *srv, const char *host)
{
	char   name[256];
	size_t i;

	/* "[::1]:8006", "example:8006", "example" */
	if (http_host_name(host, name, sizeof name) != 0)
		return 0;
	for (i = 0; i < srv->nhosts; i++) {
		if (strcasecmp(srv->hosts[i], name) == 0)
			return 1;
	}
	return 0;
}

int
http_origin_ok(const struct server *srv, struct lws *wsi)
{
	char	    origin[256], *hp, *colon;
	const char *scheme;
	long long   port;
	size_t	    i;

	if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
		return 0;
	for (i = 0; i < srv->opts->nallowed_origins; i++) {
		if (strcmp(origin, srv->opts->allowed_origins[i]) == 0)
			return 1;
	}
	/* Our own page's origin: https when the listener is TLS (DESIGN §12). */
	scheme = server_tls_on(srv) ? "https://" : "http://";
	if (strncmp(origin, scheme, strlen(scheme)) != 0)
		return 0;
	hp = origin + strlen(scheme);
	port = server_tls_on(srv) ? 443 : 80;
	colon = strrchr(hp, ':');
	if (colon != NULL && strchr(colon, ']') == NULL) {
		if (hx_parse_ll(colon + 1, 1, 65535, &port) != 0)
			return 0;
	}
	return port == srv->opts->listen_port && http_host_ok(srv, hp);
}

void
http_hosts_release(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nhosts; i++)
		free(srv->hosts[i]);
	free(srv->hosts);
	srv->hosts = NULL;
	srv->nhosts = 0;
}

void
http_release(struct server *srv)
{
	http_hosts_release(srv);
	free(srv->limits);
	srv->limits = NULL;
	srv->nlimits = 0;
	free(srv->keys_seen);
	srv->keys_seen = NULL;
	srv->nkeys_seen = 0;
}
