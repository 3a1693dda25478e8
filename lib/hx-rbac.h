/*
 * hx-rbac.h - role-based access evaluation of DESIGN §5: the built-in
 * roles, ACL paths, and what a set of grants allows on a path.
 *
 * The caller turns an identity's role assignments and ACL entries into an
 * array of grants (hx_rbac_role_grant, hx_rbac_acl_grant) and asks what
 * they allow on a path. The rule is Proxmox's: walk from the path up to
 * "/"; the deepest level holding an applicable grant decides alone, so a
 * narrower entry replaces inherited rights instead of adding to them, and
 * an entry without propagate stops at its own node. No grant, no rights.
 * Paths that fail hx_rbac_path_ok are denied, never guessed at.
 *
 * Everything here is pure and in memory: no I/O, no state, no printing.
 * It knows nothing of users, sessions, the database or HTTP; privilege
 * names and bits live in hx-priv.h.
 */
#ifndef HX_RBAC_H
#define HX_RBAC_H

#include <stddef.h>

#include <jansson.h>

#include "hx-priv.h"

#define HX_RBAC_NAME_MAX 64 /* bytes (ASCII only) */
#define HX_RBAC_ROLE_NAME_MAX HX_RBAC_NAME_MAX
#define HX_RBAC_SEGMENT_MAX 16384 /* bytes in one path segment */

/*
 * A role: a name, its privileges, and the path where it applies when
 * given to a user directly. Custom roles apply at "/" (scope "/" or NULL).
 */
struct hx_role_def {
	const char *name;
	hx_privs    privs;
	const char *scope;
};

/*
 * Privileges held at one path. propagate: whether they also apply below
 * it. The strings are borrowed: they must outlive every call given them.
 */
struct hx_grant {
	const char *path;
	hx_privs    privs;
	int	    propagate;
};

/*
 * An API key's role subset, as grants (hx_rbac_role_grant of each role).
 * subset == 0: the key has its user's full rights and g, n are ignored.
 * subset != 0: the key's rights are the user's intersected with what g
 * grants; an empty subset (n == 0) grants nothing.
 */
struct hx_rbac_key {
	const struct hx_grant *g;
	size_t		       n;
	int		       subset;
};

/* The built-in role called name (case-sensitive), or NULL. Static data. */
const struct hx_role_def *hx_rbac_builtin(const char *name);
/*
 * The i-th built-in role in DESIGN order, or NULL once i is past the
 * last: for (i = 0; (r = hx_rbac_builtin_at(i)) != NULL; i++).
 */
const struct hx_role_def *hx_rbac_builtin_at(size_t i);

/*
 * The one rule for names (usernames, role names, API key names; DESIGN
 * §5): 1 to 64 of [A-Za-z0-9_.-], not starting with '.' or '-' (so never
 * "." or "..", which cannot be addressed in a URL), and not "root" in any
 * case (reserved for local trust). what names the field in the message
 * ("username"). Returns 0, or -1 with *err set to a message the caller
 * frees (err may be NULL; on success *err is left alone).
 */
int hx_rbac_name_ok(const char *what, const char *name, char **err);
/* hx_rbac_name_ok for a role name. */
int hx_rbac_role_name_ok(const char *name, char **err);
/*
 * As hx_rbac_role_name_ok, and also refuse a name equal to a built-in
 * role's ignoring case: for creating or renaming a custom role.
 */
int hx_rbac_role_name_new_ok(const char *name, char **err);

/*
 * OR together the privileges named by names[0..n) into *out (n == 0 gives
 * 0). Returns 0, or -1 with *err naming the first unknown name (the
 * caller frees it; err may be NULL) and *out untouched.
 */
int hx_rbac_privs_parse(const char *const *names, size_t n, hx_privs *out,
    char **err);

/*
 * Check an ACL path: "/", "/access", or "/vms", "/nodes", "/storage" with
 * at most one more segment. No trailing '/', no empty, "." or ".."
 * segment; a segment is up to HX_RBAC_SEGMENT_MAX bytes of printable
 * UTF-8 (spaces and non-ASCII allowed, control characters not). Returns 0, or -1 with *err
 * set to a message the caller frees (err may be NULL).
 */
int hx_rbac_path_ok(const char *path, char **err);

/*
 * Replace the first "{...}" in tmpl with param, escaped into one valid
 * segment: "/vms/{id}" and "web 1" give "/vms/web 1". Every byte that is
 * not printable UTF-8 (control and C1 characters, bidi controls, invalid
 * UTF-8), and '%' and '/', is written %XX (uppercase hex); a param of
 * "." or ".." has its dots written %2E. So any VM name libvirt lists has
 * exactly one ACL path, and no two names share one. A template without a
 * placeholder is copied; a NULL param counts as "". Returns a new string
 * the caller frees; never NULL.
 */
char *hx_rbac_path_fill(const char *tmpl, const char *param);

/* The grant for a role given to a user directly: its scope, propagating. */
struct hx_grant hx_rbac_role_grant(const struct hx_role_def *role);
/* The grant for an ACL entry giving role on path. path is borrowed. */
struct hx_grant hx_rbac_acl_grant(const struct hx_role_def *role,
    const char *path, int propagate);

/*
 * The privileges grants g[0..n) give on path (see the rule at the top).
 * A grant with no privileges still decides its level, which is how a
 * narrower entry takes rights away. Returns 0 for an invalid path.
 */
hx_privs hx_rbac_effective(const struct hx_grant *g, size_t n,
    const char *path);
/* Whether every bit of need is held on path. need == 0 is always true. */
int hx_rbac_allowed(const struct hx_grant *g, size_t n, const char *path,
    hx_privs need);
/*
 * Whether all of need is held on path itself or on some one path below
 * it (one that has a grant, or any child of a level whose propagating
 * grants reach below it): "VmAudit on /vms/web-1 only" is true for "/vms"
 * and for "/". Used to decide whether something is visible anywhere.
 * Bits of need are not pooled across different paths.
 */
int hx_rbac_any_at_or_below(const struct hx_grant *g, size_t n,
    const char *path, hx_privs need);

/*
 * As above for a request made with an API key: the user's grants ug[0..n)
 * narrowed by the key's subset (key NULL: no key, the user's rights).
 */
hx_privs hx_rbac_effective_key(const struct hx_grant *ug, size_t n,
    const struct hx_rbac_key *key, const char *path);
int	 hx_rbac_any_at_or_below_key(const struct hx_grant *ug, size_t n,
	 const struct hx_rbac_key *key, const char *path, hx_privs need);

/*
 * The privileges held per path, for GET /api/auth/me:
 * {"/": ["SysAudit"], "/vms": ["VmPowerMgmt", ...], ...}, names in
 * hx-priv.h bit order, for "/", every grant's path, then paths[0..npaths),
 * each once; paths that fail hx_rbac_path_ok are left out. Returns a new
 * object the caller json_decref()s, NULL only if jansson runs out of
 * memory.
 */
json_t *hx_rbac_privileges_json(const struct hx_grant *g, size_t n,
    const char *const *paths, size_t npaths);
/* The same for an API key; the key's grant paths are listed too. */
json_t *hx_rbac_privileges_json_key(const struct hx_grant *ug, size_t n,
    const struct hx_rbac_key *key, const char *const *paths, size_t npaths);

#endif
