/*
 * hx-store-access.c - custom roles and ACL entries in the identity store:
 * add, update, get, list and delete roles (refused while a user, an ACL
 * entry or an API key still names one), put, delete and list ACL entries,
 * and the check that a role name is built in or stored
 * (store_roles_known), which users and keys use too.
 *
 * What it does not do: know what the built-in roles may do (hx-rbac
 * does; here they are reserved names only), or resolve who may do what
 * on a path: it stores the entries, hx-rbac evaluates them.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hx-store-int.h"

/* Names reserved for the built-in roles of DESIGN §5; never stored. */
static const char *const builtin_roles[] = { HX_STORE_ADMIN_ROLE, "VmAdmin",
	"VmUser", "StorageAdmin", "Auditor", NULL };

/*
 * Is name a built-in role? Exact match for references (user roles, ACL,
 * key subsets); ignoring case for new custom names, as hx-rbac does, so
 * "administrator" cannot sit next to "Administrator".
 */
static int
is_builtin_role(const char *name, int ignore_case)
{
	int i;

	for (i = 0; builtin_roles[i] != NULL; i++) {
		if ((ignore_case ? strcasecmp(name, builtin_roles[i]) :
				   strcmp(name, builtin_roles[i])) == 0)
			return 1;
	}
	return 0;
}

/* [A-Za-z0-9_.-]{1,64} but not "." or "..", the rule of hx-rbac. */
static int
is_role_name(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return i >= 1 && i <= 64 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* OK if role is built in or a stored custom role, else INVALID. */
static int
role_known(struct hx_store *st, const char *role, char **err)
{
	sqlite3_stmt *s = st->stmt[S_ROLE_GET];
	char	      q[QBUF];
	int64_t	      dummy;
	int	      rc;

	if (empty(role))
		return hx_fail(err, HX_STORE_INVALID, "empty role name");
	if (is_builtin_role(role, 0))
		return HX_STORE_OK;
	if (bt(s, 1, role) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	rc = store_query_int(st, s, &dummy, err);
	if (rc == HX_STORE_NOT_FOUND)
		return hx_fail(err, HX_STORE_INVALID, "unknown role '%s'",
		    store_quote(q, role));
	return rc;
}

int
store_roles_known(struct hx_store *st, const char *const *roles, char **err)
{
	int rc;

	for (; roles != NULL && *roles != NULL; roles++) {
		if ((rc = role_known(st, *roles, err)) != HX_STORE_OK)
			return rc;
	}
	return HX_STORE_OK;
}

/* --- custom roles -------------------------------------------------------- */

static int
role_exists(struct hx_store *st, const char *name, char **err)
{
	sqlite3_stmt *s = st->stmt[S_ROLE_GET];
	int64_t	      dummy;

	if (bt(s, 1, name) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	return store_query_int(st, s, &dummy, err);
}

static int
role_add_tx(struct hx_store *st, const char *name, hx_privs privs, char **err)
{
	sqlite3_stmt *s = st->stmt[S_ROLE_INSERT];
	char	      q[QBUF];
	int	      rc;

	rc = role_exists(st, name, err);
	if (rc == HX_STORE_OK)
		return hx_fail(err, HX_STORE_CONFLICT,
		    "role '%s' already exists", store_quote(q, name));
	if (rc != HX_STORE_NOT_FOUND)
		return rc;
	if ((bt(s, 1, name) | bi(s, 2, privs)) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	return store_run(st, s, err);
}

static int
privs_ok(hx_privs privs, char **err)
{
	if ((privs & ~(hx_privs)HX_PRIV_ALL) != 0)
		return hx_fail(err, HX_STORE_INVALID,
		    "unknown privileges in "
		    "0x%lx",
		    (unsigned long)privs);
	return HX_STORE_OK;
}

int
hx_store_role_add(struct hx_store *st, const char *name, hx_privs privs,
    char **err)
{
	char q[QBUF];
	int  rc;

	if (name == NULL || !is_role_name(name))
		return hx_fail(err, HX_STORE_INVALID, "invalid role name '%s'",
		    store_quote(q, name));
	if (is_builtin_role(name, 1))
		return hx_fail(err, HX_STORE_CONFLICT, "role '%s' is built in",
		    name);
	if ((rc = privs_ok(privs, err)) != HX_STORE_OK)
		return rc;
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = role_add_tx(st, name, privs, err);
	return store_tx_end(st, rc, err);
}

int
hx_store_role_update(struct hx_store *st, const char *name, hx_privs privs,
    char **err)
{
	sqlite3_stmt *s = st->stmt[S_ROLE_UPDATE];
	char	      q[QBUF];
	int	      rc;

	/* A name no role could have is simply not found. */
	if (name == NULL || !is_role_name(name))
		return hx_fail(err, HX_STORE_NOT_FOUND, "role '%s' not found",
		    store_quote(q, name));
	if (is_builtin_role(name, 0))
		return hx_fail(err, HX_STORE_CONFLICT, "role '%s' is built in",
		    name);
	if ((rc = privs_ok(privs, err)) != HX_STORE_OK)
		return rc;
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, name) | bi(s, 2, privs)) != SQLITE_OK)
		rc = store_bind_fail(st, s, err);
	else if ((rc = store_run(st, s, err)) == HX_STORE_OK &&
	    changes(st) == 0)
		rc = hx_fail(err, HX_STORE_NOT_FOUND, "role '%s' not found",
		    store_quote(q, name));
	return store_tx_end(st, rc, err);
}

int
hx_store_role_get(struct hx_store *st, const char *name,
    struct hx_store_role *out, char **err)
{
	sqlite3_stmt *s = st->stmt[S_ROLE_GET];
	char	      q[QBUF];
	int	      rc;

	memset(out, 0, sizeof *out);
	if (bt(s, 1, name) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->name = store_col_dup(s, 0);
		out->privs = (hx_privs)sqlite3_column_int64(s, 1);
		rc = HX_STORE_OK;
	} else if (rc == SQLITE_DONE)
		rc = hx_fail(err, HX_STORE_NOT_FOUND, "role '%s' not found",
		    store_quote(q, name));
	else
		rc = store_db_fail(st, err);
	done(s);
	return rc;
}

void
hx_store_role_release(struct hx_store_role *r)
{
	free(r->name);
	memset(r, 0, sizeof *r);
}

int
store_load_roles(struct hx_store *st, struct hx_store_role_list *l, char **err)
{
	sqlite3_stmt	     *s = st->stmt[S_ROLE_LIST];
	struct hx_store_role *r;
	int		      rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = store_grow(l->v, l->n, sizeof *l->v);
		r = &l->v[l->n++];
		r->name = store_col_dup(s, 0);
		r->privs = (hx_privs)sqlite3_column_int64(s, 1);
	}
	if ((rc = store_rows_done(st, s, rc, err)) != HX_STORE_OK)
		hx_store_role_list_release(l);
	return rc;
}

int
hx_store_role_list(struct hx_store *st, struct hx_store_role_list *out,
    char **err)
{
	memset(out, 0, sizeof *out);
	return store_load_roles(st, out, err);
}

void
hx_store_role_list_release(struct hx_store_role_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
role_delete_tx(struct hx_store *st, const char *name, char **err)
{
	sqlite3_stmt *s;
	char	      q[QBUF];
	int64_t	      used;
	int	      rc;

	rc = role_exists(st, name, err);
	if (rc == HX_STORE_NOT_FOUND)
		return hx_fail(err, rc, "role '%s' not found",
		    store_quote(q, name));
	if (rc != HX_STORE_OK)
		return rc;
	s = st->stmt[S_ROLE_IN_USE];
	if (bt(s, 1, name) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	if ((rc = store_query_int(st, s, &used, err)) != HX_STORE_OK)
		return rc;
	if (used)
		return hx_fail(err, HX_STORE_CONFLICT, "role '%s' is in use",
		    store_quote(q, name));
	s = st->stmt[S_ROLE_DELETE];
	if (bt(s, 1, name) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	return store_run(st, s, err);
}

int
hx_store_role_delete(struct hx_store *st, const char *name, char **err)
{
	char q[QBUF];
	int  rc;

	if (empty(name))
		return hx_fail(err, HX_STORE_NOT_FOUND, "role '' not found");
	if (is_builtin_role(name, 0))
		return hx_fail(err, HX_STORE_CONFLICT, "role '%s' is built in",
		    store_quote(q, name));
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = role_delete_tx(st, name, err);
	return store_tx_end(st, rc, err);
}

/* --- ACL ----------------------------------------------------------------- */

static int
acl_put_tx(struct hx_store *st, const char *path, const char *role,
    const char *username, int propagate, char **err)
{
	sqlite3_stmt *s = st->stmt[S_ACL_PUT];
	int64_t	      uid;
	int	      rc;

	if ((rc = store_user_need(st, username, &uid, NULL, err)) !=
		HX_STORE_OK ||
	    (rc = role_known(st, role, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, path) | bt(s, 2, role) | bi(s, 3, uid) |
		bi(s, 4, propagate ? 1 : 0)) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	return store_run(st, s, err);
}

int
hx_store_acl_put(struct hx_store *st, const char *path, const char *role,
    const char *username, int propagate, char **err)
{
	char q[QBUF];
	int  rc;

	if (path == NULL || path[0] != '/')
		return hx_fail(err, HX_STORE_INVALID, "invalid ACL path '%s'",
		    store_quote(q, path));
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = acl_put_tx(st, path, role, username, propagate, err);
	return store_tx_end(st, rc, err);
}

static int
acl_delete_tx(struct hx_store *st, const char *path, const char *role,
    const char *username, char **err)
{
	sqlite3_stmt *s = st->stmt[S_ACL_DELETE];
	char	      q1[QBUF], q2[QBUF], q3[QBUF];
	int64_t	      uid;
	int	      rc;

	if ((rc = store_user_need(st, username, &uid, NULL, err)) !=
	    HX_STORE_OK)
		return rc;
	if ((bt(s, 1, path) | bt(s, 2, role) | bi(s, 3, uid)) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	if ((rc = store_run(st, s, err)) != HX_STORE_OK)
		return rc;
	if (changes(st) == 0)
		return hx_fail(err, HX_STORE_NOT_FOUND,
		    "no ACL entry grants '%s' "
		    "to '%s' on '%s'",
		    store_quote(q1, role), store_quote(q2, username),
		    store_quote(q3, path));
	return HX_STORE_OK;
}

int
hx_store_acl_delete(struct hx_store *st, const char *path, const char *role,
    const char *username, char **err)
{
	int rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = acl_delete_tx(st, path, role, username, err);
	return store_tx_end(st, rc, err);
}

int
store_load_acl(struct hx_store *st, sqlite3_stmt *s,
    struct hx_store_acl_list *l, char **err)
{
	struct hx_store_acl *a;
	int		     rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = store_grow(l->v, l->n, sizeof *l->v);
		a = &l->v[l->n++];
		a->path = store_col_dup(s, 0);
		a->role = store_col_dup(s, 1);
		a->username = store_col_dup(s, 2);
		a->propagate = sqlite3_column_int(s, 3) != 0;
	}
	if ((rc = store_rows_done(st, s, rc, err)) != HX_STORE_OK)
		hx_store_acl_list_release(l);
	return rc;
}

int
hx_store_acl_list(struct hx_store *st, const char *path,
    struct hx_store_acl_list *out, char **err)
{
	sqlite3_stmt *s = st->stmt[S_ACL_LIST];

	memset(out, 0, sizeof *out);
	if (bt(s, 1, path) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	return store_load_acl(st, s, out, err);
}

int
hx_store_acl_list_user(struct hx_store *st, const char *username,
    struct hx_store_acl_list *out, char **err)
{
	sqlite3_stmt *s = st->stmt[S_ACL_LIST_USER];
	int	      rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	if ((rc = store_bind_user(st, s, username, err)) == HX_STORE_OK)
		rc = store_load_acl(st, s, out, err);
	rc = store_tx_end(st, rc, err);
	if (rc != HX_STORE_OK)
		hx_store_acl_list_release(out);
	return rc;
}

void
hx_store_acl_list_release(struct hx_store_acl_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].role);
		free(l->v[i].username);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
