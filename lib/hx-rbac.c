/*
 * hx-rbac.c - role-based access evaluation (see hx-rbac.h).
 *
 * Grant lists are short (a handful of roles and ACL entries per user), so
 * every question is answered by scanning them: no index, no cache, nothing
 * to keep in step with the database.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hx-rbac.h"
#include "hx-util.h"

#define QUOTE_MAX 64 /* bytes of a subject echoed in a message */

/* DESIGN §5, in its order. */
static const struct hx_role_def builtin_roles[] = {
	{ "Administrator", HX_PRIV_ALL, "/" },
	{ "VmAdmin",
	    HX_PRIV_VM_ALLOCATE | HX_PRIV_VM_CONFIG | HX_PRIV_VM_POWER_MGMT |
		HX_PRIV_VM_MIGRATE | HX_PRIV_VM_SNAPSHOT | HX_PRIV_VM_BACKUP |
		HX_PRIV_VM_CONSOLE | HX_PRIV_VM_AUDIT,
	    "/vms" },
	{ "VmUser",
	    HX_PRIV_VM_POWER_MGMT | HX_PRIV_VM_CONSOLE | HX_PRIV_VM_AUDIT,
	    "/vms" },
	{ "StorageAdmin",
	    HX_PRIV_DATASTORE_ALLOCATE | HX_PRIV_DATASTORE_AUDIT |
		HX_PRIV_POOL_ALLOCATE,
	    "/storage" },
	{ "Auditor",
	    HX_PRIV_VM_AUDIT | HX_PRIV_DATASTORE_AUDIT | HX_PRIV_SYS_AUDIT,
	    "/" },
};

/* The first segment of an ACL path, and whether it may have a second. */
static const struct {
	const char *name;
	int	    children;
} path_roots[] = {
	{ "vms", 1 },
	{ "nodes", 1 },
	{ "storage", 1 },
	{ "access", 0 },
};

/*
 * Length of the printable UTF-8 character at p, or 0 for NUL, a C0 or C1
 * control character, DEL, or a malformed, overlong or surrogate sequence.
 */
static size_t
utf8_printable(const char *p)
{
	const unsigned char *s = (const unsigned char *)p;
	uint32_t	     cp;
	size_t		     len, i;

	if (s[0] < 0x20 || s[0] == 0x7f)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

/*
 * A copy of s fit for a message (caller frees): printable UTF-8 is kept,
 * other bytes become \xNN and long input is cut with "...", so an error
 * never carries control characters into a log line or invalid UTF-8 into
 * a JSON reply.
 */
static char *
quote(const char *s)
{
	struct hx_buf b;
	size_t	      i = 0, k;

	hx_buf_init(&b, 0);
	while (s[i] != '\0') {
		if (b.len >= QUOTE_MAX) {
			hx_buf_add(&b, "...", 3);
			break;
		}
		if ((k = utf8_printable(s + i)) != 0) {
			hx_buf_add(&b, s + i, k);
			i += k;
		} else {
			hx_buf_addf(&b, "\\x%02x", (unsigned char)s[i]);
			i++;
		}
	}
	return hx_buf_detach(&b, NULL);
}

static int HX_PRINTF(2, 3) fail(char **err, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		*err = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* "invalid <what> '<subject>': <why>"; returns -1. */
static int
fail_subject(char **err, const char *what, const char *subject, const char *why)
{
	char *q;

	if (err == NULL)
		return -1;
	q = quote(subject);
	fail(err, "invalid %s '%s': %s", what, q, why);
	free(q);
	return -1;
}

const struct hx_role_def *
hx_rbac_builtin(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < HX_ARRAY_SIZE(builtin_roles); i++) {
		if (strcmp(builtin_roles[i].name, name) == 0)
			return &builtin_roles[i];
	}
	return NULL;
}

const struct hx_role_def *
hx_rbac_builtin_at(size_t i)
{
	if (i >= HX_ARRAY_SIZE(builtin_roles))
		return NULL;
	return &builtin_roles[i];
}

int
hx_rbac_name_ok(const char *what, const char *name, char **err)
{
	size_t i, len;
	char   c;

	if (name == NULL || *name == '\0')
		return fail(err, "invalid %s: empty", what);
	len = strlen(name);
	if (len > HX_RBAC_NAME_MAX)
		return fail_subject(err, what, name,
		    "longer than 64 characters");
	for (i = 0; i < len; i++) {
		c = name[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
			continue;
		return fail_subject(err, what, name,
		    "only letters, digits, "
		    "'_', '.' and '-' are allowed");
	}
	/*
	 * "." and ".." are folded away by lws before routing, so such a name
	 * could never be addressed in a URL; a leading '-' reads as an
	 * option on a command line.
	 */
	if (name[0] == '.' || name[0] == '-')
		return fail_subject(err, what, name,
		    "must not start with "
		    "'.' or '-'");
	/* root@local is local trust; nothing else may look like it. */
	if (strcasecmp(name, "root") == 0)
		return fail_subject(err, what, name,
		    "'root' is reserved for "
		    "local trust");
	return 0;
}

int
hx_rbac_role_name_ok(const char *name, char **err)
{
	return hx_rbac_name_ok("role name", name, err);
}

int
hx_rbac_role_name_new_ok(const char *name, char **err)
{
	size_t i;

	if (hx_rbac_role_name_ok(name, err) != 0)
		return -1;
	/* "administrator" next to "Administrator" invites mistakes. */
	for (i = 0; i < HX_ARRAY_SIZE(builtin_roles); i++) {
		if (strcasecmp(builtin_roles[i].name, name) == 0) {
			return fail(err,
			    "role name '%s' is taken by built-in "
			    "role '%s'",
			    name, builtin_roles[i].name);
		}
	}
	return 0;
}

int
hx_rbac_privs_parse(const char *const *names, size_t n, hx_privs *out,
    char **err)
{
	hx_privs acc = 0, bit;
	size_t	 i;
	char	*q;

	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			return fail(err, "missing privilege name");
		if ((bit = hx_priv_from_name(names[i])) == 0) {
			if (err != NULL) {
				q = quote(names[i]);
				fail(err, "unknown privilege '%s'", q);
				free(q);
			}
			return -1;
		}
		acc |= bit;
	}
	*out = acc;
	return 0;
}

/* The path_roots entry for the len bytes at s, or -1. */
static int
path_root(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < HX_ARRAY_SIZE(path_roots); i++) {
		if (strlen(path_roots[i].name) == len &&
		    memcmp(path_roots[i].name, s, len) == 0)
			return (int)i;
	}
	return -1;
}

int
hx_rbac_path_ok(const char *path, char **err)
{
	const char *seg, *end;
	size_t	    len, i, k, depth = 0;
	int	    root = -1;
	char	   *top, *q, *why;

	if (path == NULL || *path == '\0')
		return fail(err, "invalid ACL path: empty");
	if (path[0] != '/')
		return fail_subject(err, "ACL path", path, "not absolute");
	if (path[1] == '\0')
		return 0;
	for (seg = path + 1;; seg = end + 1) {
		end = strchr(seg, '/');
		len = end != NULL ? (size_t)(end - seg) : strlen(seg);
		if (len == 0) {
			return fail_subject(err, "ACL path", path,
			    end != NULL ? "empty segment" : "trailing '/'");
		}
		if (++depth > 2) {
			return fail_subject(err, "ACL path", path,
			    "more than 2 segments");
		}
		if ((len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.')) {
			return fail_subject(err, "ACL path", path,
			    "'.' and '..' segments are not allowed");
		}
		if (len > HX_RBAC_SEGMENT_MAX) {
			return fail_subject(err, "ACL path", path,
			    "segment too long");
		}
		/* A multi-byte character never holds '/', so k stays in. */
		for (i = 0; i < len; i += k) {
			if ((k = utf8_printable(seg + i)) == 0) {
				return fail_subject(err, "ACL path", path,
				    "control character or invalid UTF-8");
			}
		}
		if (depth == 1 && (root = path_root(seg, len)) == -1) {
			if (err != NULL) {
				top = xstrndup(seg, len);
				q = quote(top);
				why = xasprintf("unknown top level '%s'", q);
				fail_subject(err, "ACL path", path, why);
				free(why);
				free(q);
				free(top);
			}
			return -1;
		}
		if (depth == 2 && !path_roots[root].children) {
			return fail_subject(err, "ACL path", path,
			    "nothing lies below it");
		}
		if (end == NULL)
			return 0;
	}
}

char *
hx_rbac_path_fill(const char *tmpl, const char *param)
{
	const char   *open, *close;
	struct hx_buf b;
	uint32_t      cp;
	size_t	      i, k, j;

	if ((open = strchr(tmpl, '{')) == NULL ||
	    (close = strchr(open, '}')) == NULL)
		return xstrdup(tmpl);
	if (param == NULL)
		param = "";
	hx_buf_init(&b, 0);
	hx_buf_add(&b, tmpl, (size_t)(open - tmpl));
	if (strcmp(param, ".") == 0 || strcmp(param, "..") == 0) {
		for (i = 0; param[i] != '\0'; i++)
			hx_buf_add(&b, "%2E", 3);
		param = "";
	}
	for (i = 0; param[i] != '\0'; i += k) {
		k = utf8_printable(param + i);
		cp = 0;
		for (j = 0; j < k; j++)
			cp = j == 0 ?
			    (uint32_t)(unsigned char)param[i] &
				(k == 1	       ? 0x7f :
					k == 2 ? 0x1f :
					k == 3 ? 0x0f :
						 0x07) :
			    (cp << 6) | ((unsigned char)param[i + j] & 0x3f);
		if (k != 0 && param[i] != '%' && param[i] != '/' &&
		    !hx_cp_unsafe(cp)) {
			hx_buf_add(&b, param + i, k);
			continue;
		}
		/* Every byte of an unsafe character, or the one bad byte. */
		for (j = 0; j < (k != 0 ? k : 1); j++)
			hx_buf_addf(&b, "%%%02X", (unsigned char)param[i + j]);
		if (k == 0)
			k = 1;
	}
	hx_buf_add(&b, close + 1, strlen(close + 1));
	return hx_buf_detach(&b, NULL);
}

struct hx_grant
hx_rbac_role_grant(const struct hx_role_def *role)
{
	struct hx_grant g;

	g.path = role->scope != NULL ? role->scope : "/";
	g.privs = role->privs;
	g.propagate = 1;
	return g;
}

struct hx_grant
hx_rbac_acl_grant(const struct hx_role_def *role, const char *path,
    int propagate)
{
	struct hx_grant g;

	g.path = path;
	g.privs = role->privs;
	g.propagate = propagate != 0;
	return g;
}

/*
 * Rights on path[0..len), a valid path. exact == 0 asks instead for a
 * child of it that has no grant of its own, so even the first level
 * counts only propagating grants.
 */
static hx_privs
walk(const struct hx_grant *g, size_t n, const char *path, size_t len,
    int exact)
{
	hx_privs acc;
	size_t	 i;
	int	 hit;

	for (;;) {
		acc = 0;
		hit = 0;
		for (i = 0; i < n; i++) {
			if (g[i].path == NULL || (!exact && !g[i].propagate))
				continue;
			/* strncmp stops at g's NUL: g[i].path[len] is safe. */
			if (strncmp(g[i].path, path, len) != 0 ||
			    g[i].path[len] != '\0')
				continue;
			acc |= g[i].privs;
			hit = 1;
		}
		if (hit || len == 1)
			return acc;
		/* Up one level: cut at the last '/', "/x" becomes "/". */
		for (len--; len > 0 && path[len] != '/'; len--)
			;
		if (len == 0)
			len = 1;
		exact = 0;
	}
}

static hx_privs
walk_key(const struct hx_grant *ug, size_t n, const struct hx_rbac_key *key,
    const char *path, size_t len, int exact)
{
	hx_privs p;

	p = walk(ug, n, path, len, exact);
	if (key != NULL && key->subset)
		p &= walk(key->g, key->n, path, len, exact);
	return p;
}

hx_privs
hx_rbac_effective_key(const struct hx_grant *ug, size_t n,
    const struct hx_rbac_key *key, const char *path)
{
	if (hx_rbac_path_ok(path, NULL) != 0)
		return 0;
	return walk_key(ug, n, key, path, strlen(path), 1);
}

hx_privs
hx_rbac_effective(const struct hx_grant *g, size_t n, const char *path)
{
	return hx_rbac_effective_key(g, n, NULL, path);
}

int
hx_rbac_allowed(const struct hx_grant *g, size_t n, const char *path,
    hx_privs need)
{
	return (hx_rbac_effective(g, n, path) & need) == need;
}

/* Whether a valid path can have a child path. */
static int
has_children(const char *path)
{
	int root;

	if (path[1] == '\0')
		return 1;
	if (strchr(path + 1, '/') != NULL)
		return 0;
	root = path_root(path + 1, strlen(path + 1));
	return root != -1 && path_roots[root].children;
}

/*
 * Whether need is held on p (valid) or on a grantless child of it. Below
 * a path, rights change only at paths that have a grant, so checking
 * these two for the path and every grant path below it covers every path.
 */
static int
held_at_or_just_below(const struct hx_grant *ug, size_t n,
    const struct hx_rbac_key *key, const char *p, hx_privs need)
{
	size_t len = strlen(p);

	if ((walk_key(ug, n, key, p, len, 1) & need) == need)
		return 1;
	return has_children(p) &&
	    (walk_key(ug, n, key, p, len, 0) & need) == need;
}

/* Whether gp is a valid path strictly below path (valid, len bytes). */
static int
is_below(const char *gp, const char *path, size_t len)
{
	if (gp == NULL)
		return 0;
	if (len == 1) {
		if (gp[0] != '/' || gp[1] == '\0')
			return 0;
	} else if (strncmp(gp, path, len) != 0 || gp[len] != '/')
		return 0;
	return hx_rbac_path_ok(gp, NULL) == 0;
}

int
hx_rbac_any_at_or_below_key(const struct hx_grant *ug, size_t n,
    const struct hx_rbac_key *key, const char *path, hx_privs need)
{
	size_t i, len;

	if (hx_rbac_path_ok(path, NULL) != 0)
		return 0;
	if (held_at_or_just_below(ug, n, key, path, need))
		return 1;
	len = strlen(path);
	for (i = 0; i < n; i++) {
		if (is_below(ug[i].path, path, len) &&
		    held_at_or_just_below(ug, n, key, ug[i].path, need))
			return 1;
	}
	if (key == NULL || !key->subset)
		return 0;
	for (i = 0; i < key->n; i++) {
		if (is_below(key->g[i].path, path, len) &&
		    held_at_or_just_below(ug, n, key, key->g[i].path, need))
			return 1;
	}
	return 0;
}

int
hx_rbac_any_at_or_below(const struct hx_grant *g, size_t n, const char *path,
    hx_privs need)
{
	return hx_rbac_any_at_or_below_key(g, n, NULL, path, need);
}

/* Add path's privileges to o unless it is invalid or already there. */
static void
add_path(json_t *o, const struct hx_grant *ug, size_t n,
    const struct hx_rbac_key *key, const char *path)
{
	json_t	*a;
	hx_privs p;
	int	 i;

	if (path == NULL || hx_rbac_path_ok(path, NULL) != 0 ||
	    json_object_get(o, path) != NULL)
		return;
	p = walk_key(ug, n, key, path, strlen(path), 1);
	a = json_array();
	for (i = 0; i < HX_PRIV_COUNT; i++) {
		if (p & (1u << i)) {
			json_array_append_new(a,
			    json_string(hx_priv_name(1u << i)));
		}
	}
	json_object_set_new(o, path, a);
}

json_t *
hx_rbac_privileges_json_key(const struct hx_grant *ug, size_t n,
    const struct hx_rbac_key *key, const char *const *paths, size_t npaths)
{
	json_t *o;
	size_t	i;

	if ((o = json_object()) == NULL)
		return NULL;
	add_path(o, ug, n, key, "/");
	for (i = 0; i < n; i++)
		add_path(o, ug, n, key, ug[i].path);
	if (key != NULL && key->subset) {
		for (i = 0; i < key->n; i++)
			add_path(o, ug, n, key, key->g[i].path);
	}
	for (i = 0; i < npaths; i++)
		add_path(o, ug, n, key, paths[i]);
	return o;
}

json_t *
hx_rbac_privileges_json(const struct hx_grant *g, size_t n,
    const char *const *paths, size_t npaths)
{
	return hx_rbac_privileges_json_key(g, n, NULL, paths, npaths);
}
