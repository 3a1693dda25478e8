/*
 * hx-store-user.c - users in the identity store: add, get, list, update,
 * set a password, delete, and the last-Administrator rule that guards
 * every change to who is enabled with which roles. Also the lookups the
 * other families use to turn a username into an id (store_user_find,
 * store_user_need, store_bind_user) and the user loader the snapshot
 * shares (store_load_users).
 *
 * What it does not do: hash or check passwords (callers pass hashes),
 * decide which roles exist (hx-store-access.c), or remove a user's keys,
 * sessions and ACL entries itself: the schema's ON DELETE CASCADE does.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-store-int.h"

static int
user_not_found(char **err, const char *username)
{
	char q[QBUF];

	return hx_fail(err, HX_STORE_NOT_FOUND, "user '%s' not found",
	    store_quote(q, username));
}

/*
 * The user's id (and whether their realm is another than local: pam or a
 * directory's, with no password here); NOT_FOUND quiet.
 */
int
store_user_find(struct hx_store *st, const char *username, int64_t *id,
    int *is_pam, char **err)
{
	sqlite3_stmt *s = st->stmt[S_USER_FIND];
	int	      rc;

	if (bt(s, 1, username) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		if (is_pam != NULL)
			*is_pam = sqlite3_column_int(s, 1);
		rc = HX_STORE_OK;
	} else if (rc == SQLITE_DONE)
		rc = HX_STORE_NOT_FOUND;
	else
		rc = store_db_fail(st, err);
	done(s);
	return rc;
}

/* As user_find, with "user 'x' not found" when absent. */
int
store_user_need(struct hx_store *st, const char *username, int64_t *id,
    int *is_pam, char **err)
{
	int rc;

	rc = store_user_find(st, username, id, is_pam, err);
	if (rc == HX_STORE_NOT_FOUND)
		return user_not_found(err, username);
	return rc;
}

/* Bind username's id as ?1 of s: user_need's codes, or a bind failure. */
int
store_bind_user(struct hx_store *st, sqlite3_stmt *s, const char *username,
    char **err)
{
	int64_t uid;
	int	rc;

	if ((rc = store_user_need(st, username, &uid, NULL, err)) !=
	    HX_STORE_OK)
		return rc;
	if (bi(s, 1, uid) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	return HX_STORE_OK;
}

static int
roles_add(struct hx_store *st, int64_t uid, const char *const *roles,
    char **err)
{
	sqlite3_stmt *s = st->stmt[S_USER_ROLE_ADD];
	int	      rc;

	for (; roles != NULL && *roles != NULL; roles++) {
		if ((bi(s, 1, uid) | bt(s, 2, *roles)) != SQLITE_OK)
			return store_bind_fail(st, s, err);
		if ((rc = store_run(st, s, err)) != HX_STORE_OK)
			return rc;
	}
	return HX_STORE_OK;
}

static int
count_admins(struct hx_store *st, int64_t *n, char **err)
{
	sqlite3_stmt *s = st->stmt[S_ADMIN_COUNT];

	if (bt(s, 1, HX_STORE_ADMIN_ROLE) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	/* count(*) always has a row */
	return store_query_int(st, s, n, err);
}

/*
 * The last-Administrator rule, checked after a change inside its
 * transaction: refuse when there was an enabled Administrator before and
 * none after.
 */
static int
admins_kept(struct hx_store *st, int64_t before, char **err)
{
	int64_t after;
	int	rc;

	if (before == 0)
		return HX_STORE_OK;
	if ((rc = count_admins(st, &after, err)) != HX_STORE_OK)
		return rc;
	if (after == 0)
		return hx_fail(err, HX_STORE_CONFLICT,
		    "cannot remove the last Administrator");
	return HX_STORE_OK;
}

static int
user_add_tx(struct hx_store *st, const char *username, const char *realm,
    const char *email, int enabled, const char *password_hash,
    const char *const *roles, char **err)
{
	sqlite3_stmt *s = st->stmt[S_USER_INSERT];
	char	      q[QBUF];
	int64_t	      uid;
	int	      rc;

	rc = store_user_find(st, username, &uid, NULL, err);
	if (rc == HX_STORE_OK)
		return hx_fail(err, HX_STORE_CONFLICT,
		    "user '%s' already exists", store_quote(q, username));
	if (rc != HX_STORE_NOT_FOUND)
		return rc;
	if ((rc = store_roles_known(st, roles, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, username) | bt(s, 2, realm) |
		bt(s, 3, empty(email) ? NULL : email) |
		bi(s, 4, enabled ? 1 : 0) | bt(s, 5, password_hash) |
		bi(s, 6, (int64_t)time(NULL))) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	if ((rc = store_run(st, s, err)) != HX_STORE_OK)
		return rc;
	return roles_add(st, sqlite3_last_insert_rowid(st->db), roles, err);
}

int
hx_store_user_add(struct hx_store *st, const char *username, const char *realm,
    const char *email, int enabled, const char *password_hash,
    const char *const *roles, char **err)
{
	char q[QBUF];
	int  rc;

	if (empty(username))
		return hx_fail(err, HX_STORE_INVALID, "empty username");
	if (!hx_store_realm_valid(realm))
		return hx_fail(err, HX_STORE_INVALID, "unknown realm '%s'",
		    store_quote(q, realm));
	if (password_hash != NULL && strcmp(realm, "local") != 0)
		return hx_fail(err, HX_STORE_INVALID,
		    "a %s user has no password hash", realm);
	if (password_hash != NULL && *password_hash == '\0')
		return hx_fail(err, HX_STORE_INVALID, "empty password hash");

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = user_add_tx(st, username, realm, email, enabled, password_hash,
	    roles, err);
	return store_tx_end(st, rc, err);
}

int
hx_store_realm_valid(const char *realm)
{
	size_t i;

	if (realm == NULL || realm[0] < 'a' || realm[0] > 'z')
		return 0;
	for (i = 1; realm[i] != '\0'; i++) {
		if (i >= HX_STORE_REALM_MAX ||
		    !((realm[i] >= 'a' && realm[i] <= 'z') ||
			(realm[i] >= '0' && realm[i] <= '9') ||
			realm[i] == '_' || realm[i] == '-'))
			return 0;
	}
	return 1;
}

static void
read_user(sqlite3_stmt *s, struct hx_store_user *u, int with_hash)
{
	u->id = sqlite3_column_int64(s, 0);
	u->username = store_col_dup(s, 1);
	u->realm = store_col_dup(s, 2);
	u->email = store_col_dup(s, 3);
	u->enabled = sqlite3_column_int(s, 4) != 0;
	u->password_hash = with_hash ? store_col_dup(s, 5) : NULL;
	u->created = sqlite3_column_int64(s, 6);
}

static int
read_user_roles(struct hx_store *st, struct hx_store_user *u, char **err)
{
	sqlite3_stmt	    *s = st->stmt[S_USER_ROLES];
	const unsigned char *t;
	int		     rc;

	if (bi(s, 1, u->id) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((t = sqlite3_column_text(s, 0)) != NULL)
			store_strv_push(&u->roles, (const char *)t);
	}
	return store_rows_done(st, s, rc, err);
}

/* Read every row of s (bound already) as a user, then each one's roles. */
int
store_load_users(struct hx_store *st, sqlite3_stmt *s,
    struct hx_store_user_list *l, int with_hash, char **err)
{
	struct hx_store_user *u;
	size_t		      i;
	int		      rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = store_grow(l->v, l->n, sizeof *l->v);
		u = &l->v[l->n++];
		memset(u, 0, sizeof *u);
		read_user(s, u, with_hash);
	}
	rc = store_rows_done(st, s, rc, err);
	for (i = 0; rc == HX_STORE_OK && i < l->n; i++)
		rc = read_user_roles(st, &l->v[i], err);
	if (rc != HX_STORE_OK)
		hx_store_user_list_release(l);
	return rc;
}

int
hx_store_user_get(struct hx_store *st, const char *username,
    struct hx_store_user *out, char **err)
{
	struct hx_store_user_list l = { NULL, 0 };
	sqlite3_stmt		 *s = st->stmt[S_USER_GET];
	int			  rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	if (bt(s, 1, username) != SQLITE_OK)
		rc = store_bind_fail(st, s, err);
	else
		rc = store_load_users(st, s, &l, 1, err);
	if (rc == HX_STORE_OK && l.n == 0)
		rc = user_not_found(err, username);
	rc = store_tx_end(st, rc, err);
	if (rc == HX_STORE_OK) {
		*out = l.v[0];
		free(l.v);
	} else
		hx_store_user_list_release(&l);
	return rc;
}

void
hx_store_user_release(struct hx_store_user *u)
{
	free(u->username);
	free(u->realm);
	free(u->email);
	free(u->password_hash);
	hx_store_strv_release(&u->roles);
	memset(u, 0, sizeof *u);
}

int
hx_store_user_list(struct hx_store *st, struct hx_store_user_list *out,
    char **err)
{
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	rc = store_load_users(st, st->stmt[S_USER_LIST], out, 1, err);
	rc = store_tx_end(st, rc, err);
	if (rc != HX_STORE_OK)
		hx_store_user_list_release(out);
	return rc;
}

void
hx_store_user_list_release(struct hx_store_user_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		hx_store_user_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
user_update_tx(struct hx_store *st, const char *username,
    const struct hx_store_user_change *ch, char **err)
{
	sqlite3_stmt *s;
	int64_t	      uid, before;
	int	      rc;

	if ((rc = store_user_need(st, username, &uid, NULL, err)) !=
	    HX_STORE_OK)
		return rc;
	if (ch->roles != NULL &&
	    (rc = store_roles_known(st, ch->roles, err)) != HX_STORE_OK)
		return rc;
	if ((rc = count_admins(st, &before, err)) != HX_STORE_OK)
		return rc;

	if (ch->email != NULL) {
		s = st->stmt[S_USER_SET_EMAIL];
		if ((bi(s, 1, uid) |
			bt(s, 2, *ch->email == '\0' ? NULL : ch->email)) !=
		    SQLITE_OK)
			return store_bind_fail(st, s, err);
		if ((rc = store_run(st, s, err)) != HX_STORE_OK)
			return rc;
	}
	if (ch->enabled >= 0) {
		s = st->stmt[S_USER_SET_ENABLED];
		if ((bi(s, 1, uid) | bi(s, 2, ch->enabled ? 1 : 0)) !=
		    SQLITE_OK)
			return store_bind_fail(st, s, err);
		if ((rc = store_run(st, s, err)) != HX_STORE_OK)
			return rc;
	}
	if (ch->roles != NULL) {
		s = st->stmt[S_USER_ROLE_CLEAR];
		if (bi(s, 1, uid) != SQLITE_OK)
			return store_bind_fail(st, s, err);
		if ((rc = store_run(st, s, err)) != HX_STORE_OK ||
		    (rc = roles_add(st, uid, ch->roles, err)) != HX_STORE_OK)
			return rc;
	}
	return admins_kept(st, before, err);
}

int
hx_store_user_update(struct hx_store *st, const char *username,
    const struct hx_store_user_change *ch, char **err)
{
	static const struct hx_store_user_change keep = { NULL, -1, NULL };
	int					 rc;

	if (ch == NULL)
		ch = &keep;
	if (ch->enabled < -1)
		return hx_fail(err, HX_STORE_INVALID, "enabled must be 0 or 1");
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = user_update_tx(st, username, ch, err);
	return store_tx_end(st, rc, err);
}

static int
user_set_password_tx(struct hx_store *st, const char *username,
    const char *password_hash, char **err)
{
	sqlite3_stmt *s = st->stmt[S_USER_SET_HASH];
	char	      q[QBUF];
	int64_t	      uid;
	int	      rc, is_pam;

	if ((rc = store_user_need(st, username, &uid, &is_pam, err)) !=
	    HX_STORE_OK)
		return rc;
	if (is_pam)
		return hx_fail(err, HX_STORE_INVALID,
		    "user '%s' is not in the local realm",
		    store_quote(q, username));
	if ((bi(s, 1, uid) | bt(s, 2, password_hash)) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	return store_run(st, s, err);
}

int
hx_store_user_set_password(struct hx_store *st, const char *username,
    const char *password_hash, char **err)
{
	int rc;

	if (password_hash != NULL && *password_hash == '\0')
		return hx_fail(err, HX_STORE_INVALID, "empty password hash");
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = user_set_password_tx(st, username, password_hash, err);
	return store_tx_end(st, rc, err);
}

static int
user_delete_tx(struct hx_store *st, const char *username, char **err)
{
	sqlite3_stmt *s = st->stmt[S_USER_DELETE];
	int64_t	      uid, before;
	int	      rc;

	if ((rc = store_user_need(st, username, &uid, NULL, err)) !=
		HX_STORE_OK ||
	    (rc = count_admins(st, &before, err)) != HX_STORE_OK)
		return rc;
	if (bi(s, 1, uid) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	if ((rc = store_run(st, s, err)) != HX_STORE_OK)
		return rc;
	return admins_kept(st, before, err);
}

int
hx_store_user_delete(struct hx_store *st, const char *username, char **err)
{
	int rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = user_delete_tx(st, username, err);
	return store_tx_end(st, rc, err);
}

int
hx_store_count_admins(struct hx_store *st, int64_t *count, char **err)
{
	*count = 0;
	return count_admins(st, count, err);
}

int
hx_store_has_credentials(struct hx_store *st, int *yes, char **err)
{
	int64_t v = 0;
	int	rc;

	rc = store_query_int(st, st->stmt[S_HAS_CREDENTIALS], &v, err);
	*yes = rc == HX_STORE_OK && v != 0;
	return rc;
}

/* Is v (sorted, as read) the same set as roles (any order, may repeat)? */
static int
roles_same(const struct hx_store_strv *v, const char *const *roles)
{
	size_t i, n = 0;
	int    found;

	for (; roles != NULL && *roles != NULL; roles++) {
		found = 0;
		for (i = 0; i < v->n; i++)
			found |= strcmp(v->v[i], *roles) == 0;
		if (!found)
			return 0;
		n++;
	}
	/* every wanted role is held; held ones all wanted? */
	return n >= v->n;
}

/* The roles of want the store knows (built in or custom), into *keep. */
static int
roles_filter(struct hx_store *st, const char *const *want,
    struct hx_store_strv *keep, char **err)
{
	const char *one[2] = { NULL, NULL };
	char	   *e = NULL;
	size_t	    i;
	int	    rc, dup;

	for (; want != NULL && *want != NULL; want++) {
		one[0] = *want;
		rc = store_roles_known(st, one, &e);
		free(e);
		e = NULL;
		if (rc == HX_STORE_INVALID)
			continue;
		if (rc != HX_STORE_OK)
			return store_db_fail(st, err);
		for (i = 0, dup = 0; i < keep->n; i++)
			dup |= strcmp(keep->v[i], *want) == 0;
		if (!dup)
			store_strv_push(keep, *want);
	}
	return HX_STORE_OK;
}

static int
user_external_tx(struct hx_store *st, const char *username, const char *realm,
    const char *email, const char *const *roles, int *changed,
    struct hx_store_user *out, char **err)
{
	struct hx_store_user_list l = { NULL, 0 };
	struct hx_store_strv	  keep = { NULL, 0 };
	sqlite3_stmt		 *s;
	char			  q[QBUF];
	int			  rc;

	if ((rc = roles_filter(st, roles, &keep, err)) != HX_STORE_OK)
		goto out;
	s = st->stmt[S_USER_GET];
	if (bt(s, 1, username) != SQLITE_OK) {
		rc = store_bind_fail(st, s, err);
		goto out;
	}
	if ((rc = store_load_users(st, s, &l, 0, err)) != HX_STORE_OK)
		goto out;
	if (l.n == 0) {
		/* New: enabled, no password, the mapped roles. */
		s = st->stmt[S_USER_INSERT];
		if ((bt(s, 1, username) | bt(s, 2, realm) |
			bt(s, 3, empty(email) ? NULL : email) | bi(s, 4, 1) |
			bt(s, 5, NULL) | bi(s, 6, (int64_t)time(NULL))) !=
		    SQLITE_OK) {
			rc = store_bind_fail(st, s, err);
			goto out;
		}
		if ((rc = store_run(st, s, err)) != HX_STORE_OK ||
		    (rc = roles_add(st, sqlite3_last_insert_rowid(st->db),
			 (const char *const *)keep.v, err)) != HX_STORE_OK)
			goto out;
		*changed = 1;
	} else if (strcmp(l.v[0].realm, realm) != 0) {
		/* A local "alice" is never taken over by a directory's. */
		rc = hx_fail(err, HX_STORE_CONFLICT,
		    "user '%s' exists in realm %s, not %s",
		    store_quote(q, username), l.v[0].realm, realm);
		goto out;
	} else if (l.v[0].enabled) {
		if (!empty(email) &&
		    (l.v[0].email == NULL ||
			strcmp(l.v[0].email, email) != 0)) {
			s = st->stmt[S_USER_SET_EMAIL];
			if ((bi(s, 1, l.v[0].id) | bt(s, 2, email)) !=
			    SQLITE_OK) {
				rc = store_bind_fail(st, s, err);
				goto out;
			}
			if ((rc = store_run(st, s, err)) != HX_STORE_OK)
				goto out;
			*changed = 1;
		}
		if (!roles_same(&l.v[0].roles, (const char *const *)keep.v)) {
			s = st->stmt[S_USER_ROLE_CLEAR];
			if (bi(s, 1, l.v[0].id) != SQLITE_OK) {
				rc = store_bind_fail(st, s, err);
				goto out;
			}
			if ((rc = store_run(st, s, err)) != HX_STORE_OK ||
			    (rc = roles_add(st, l.v[0].id,
				 (const char *const *)keep.v, err)) !=
				HX_STORE_OK)
				goto out;
			*changed = 1;
		}
	}
	/* A disabled user is left as it is: the caller refuses the login. */
	hx_store_user_list_release(&l);
	s = st->stmt[S_USER_GET];
	if (bt(s, 1, username) != SQLITE_OK) {
		rc = store_bind_fail(st, s, err);
		goto out;
	}
	if ((rc = store_load_users(st, s, &l, 0, err)) == HX_STORE_OK &&
	    l.n == 1) {
		*out = l.v[0];
		free(l.v);
		l.v = NULL;
		l.n = 0;
	} else if (rc == HX_STORE_OK)
		rc = user_not_found(err, username);
out:
	hx_store_user_list_release(&l);
	hx_store_strv_release(&keep);
	return rc;
}

int
hx_store_user_external(struct hx_store *st, const char *username,
    const char *realm, const char *email, const char *const *roles,
    int *changed, struct hx_store_user *out, char **err)
{
	char q[QBUF];
	int  rc;

	*changed = 0;
	memset(out, 0, sizeof *out);
	if (empty(username))
		return hx_fail(err, HX_STORE_INVALID, "empty username");
	if (!hx_store_realm_valid(realm) || strcmp(realm, "local") == 0)
		return hx_fail(err, HX_STORE_INVALID,
		    "'%s' is not an external realm", store_quote(q, realm));
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = user_external_tx(st, username, realm, email, roles, changed, out,
	    err);
	rc = store_tx_end(st, rc, err);
	if (rc != HX_STORE_OK) {
		hx_store_user_release(out);
		*changed = 0;
	}
	return rc;
}
