/*
 * hx-store-key.c - API keys in the identity store: add (with an optional
 * subset of the owner's roles, stored as a JSON array), get, list, count,
 * delete, and touch (last used), plus the key loader the snapshot shares
 * (store_load_keys).
 *
 * What it does not do: make or check secrets. A key arrives as an id and
 * the SHA-256 of its secret; comparing a presented secret is the
 * caller's work (hx-auth), done against the snapshot.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "hx-store-int.h"

static int
strv_has(const struct hx_store_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++) {
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	}
	return 0;
}

/* [A-Za-z0-9-]{1,64}: no '_', which separates the parts of a key. */
static int
is_keyid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	}
	return i >= 1 && i <= 64;
}

static int
is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return i == 64;
}

/* roles as a JSON array, duplicates dropped; the caller frees. */
static char *
roles_json(const char *const *roles)
{
	json_t		    *a;
	struct hx_store_strv seen = { NULL, 0 };
	char		    *s;

	if ((a = json_array()) == NULL)
		abort();
	for (; *roles != NULL; roles++) {
		if (strv_has(&seen, *roles))
			continue;
		store_strv_push(&seen, *roles);
		if (json_array_append_new(a, json_string(*roles)) != 0)
			abort();
	}
	hx_store_strv_release(&seen);
	if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
		abort();
	json_decref(a);
	return s;
}

/* Parse api_keys.roles into sv; -1 if it is not an array of strings. */
static int
roles_parse(const char *text, struct hx_store_strv *sv)
{
	json_t *a, *e;
	size_t	i;

	if ((a = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if (!json_is_array(a)) {
		json_decref(a);
		return -1;
	}
	json_array_foreach(a, i, e) {
		if (!json_is_string(e)) {
			json_decref(a);
			hx_store_strv_release(sv);
			return -1;
		}
		store_strv_push(sv, json_string_value(e));
	}
	json_decref(a);
	return 0;
}

static int
read_key(struct hx_store *st, sqlite3_stmt *s, struct hx_store_key *k,
    char **err)
{
	const unsigned char *t;
	char		     q[QBUF];

	k->keyid = store_col_dup(s, 0);
	k->username = store_col_dup(s, 1);
	k->user_enabled = sqlite3_column_int(s, 2) != 0;
	k->name = store_col_dup(s, 3);
	k->hash = store_col_dup(s, 4);
	k->expires = sqlite3_column_int64(s, 6);
	k->created = sqlite3_column_int64(s, 7);
	k->last_used = sqlite3_column_int64(s, 8);
	if (k->name == NULL)
		k->name = xstrdup("");
	if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
		k->restricted = 1;
		if ((t = sqlite3_column_text(s, 5)) == NULL ||
		    roles_parse((const char *)t, &k->roles) != 0)
			return hx_fail(err, HX_STORE_ERROR,
			    "database error: API "
			    "key '%s' has malformed roles",
			    store_quote(q, k->keyid));
	}
	return HX_STORE_OK;
}

int
store_load_keys(struct hx_store *st, sqlite3_stmt *s,
    struct hx_store_key_list *l, char **err)
{
	struct hx_store_key *k;
	int		     rc, r = HX_STORE_OK;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->v = store_grow(l->v, l->n, sizeof *l->v);
		k = &l->v[l->n++];
		memset(k, 0, sizeof *k);
		if ((r = read_key(st, s, k, err)) != HX_STORE_OK)
			break;
	}
	if (r == HX_STORE_OK)
		r = store_rows_done(st, s, rc, err);
	else
		done(s);
	if (r != HX_STORE_OK)
		hx_store_key_list_release(l);
	return r;
}

static int
key_add_tx(struct hx_store *st, const char *keyid, const char *username,
    const char *name, const char *hash, const char *const *roles,
    int64_t expires, char **err)
{
	sqlite3_stmt *s;
	char	      q[QBUF], *json = NULL;
	int64_t	      uid, dummy;
	int	      rc;

	if ((rc = store_user_need(st, username, &uid, NULL, err)) !=
	    HX_STORE_OK)
		return rc;
	s = st->stmt[S_KEY_EXISTS];
	if (bt(s, 1, keyid) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	rc = store_query_int(st, s, &dummy, err);
	if (rc == HX_STORE_OK)
		return hx_fail(err, HX_STORE_CONFLICT,
		    "API key '%s' already "
		    "exists",
		    store_quote(q, keyid));
	if (rc != HX_STORE_NOT_FOUND)
		return rc;
	if (roles != NULL) {
		if ((rc = store_roles_known(st, roles, err)) != HX_STORE_OK)
			return rc;
		json = roles_json(roles);
	}
	s = st->stmt[S_KEY_INSERT];
	if ((bt(s, 1, keyid) | bi(s, 2, uid) | bt(s, 3, name ? name : "") |
		bt(s, 4, hash) | bt(s, 5, json) |
		(expires > 0 ? bi(s, 6, expires) : sqlite3_bind_null(s, 6)) |
		bi(s, 7, (int64_t)time(NULL))) != SQLITE_OK)
		rc = store_bind_fail(st, s, err);
	else
		rc = store_run(st, s, err);
	free(json);
	return rc;
}

int
hx_store_key_add(struct hx_store *st, const char *keyid, const char *username,
    const char *name, const char *hash, const char *const *roles,
    int64_t expires, char **err)
{
	char q[QBUF];
	int  rc;

	if (keyid == NULL || !is_keyid(keyid))
		return hx_fail(err, HX_STORE_INVALID, "invalid API key id '%s'",
		    store_quote(q, keyid));
	if (hash == NULL || !is_sha256_hex(hash))
		return hx_fail(err, HX_STORE_INVALID,
		    "an API key hash is 64 "
		    "lowercase hex digits");
	if (expires < 0)
		return hx_fail(err, HX_STORE_INVALID, "invalid expiry");
	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = key_add_tx(st, keyid, username, name, hash, roles, expires, err);
	return store_tx_end(st, rc, err);
}

int
hx_store_key_get(struct hx_store *st, const char *keyid,
    struct hx_store_key *out, char **err)
{
	struct hx_store_key_list l = { NULL, 0 };
	sqlite3_stmt		*s = st->stmt[S_KEY_GET];
	char			 q[QBUF];
	int			 rc;

	memset(out, 0, sizeof *out);
	if (bt(s, 1, keyid) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	if ((rc = store_load_keys(st, s, &l, err)) != HX_STORE_OK)
		return rc;
	if (l.n == 0)
		return hx_fail(err, HX_STORE_NOT_FOUND,
		    "API key '%s' not found", store_quote(q, keyid));
	*out = l.v[0];
	free(l.v);
	return HX_STORE_OK;
}

void
hx_store_key_release(struct hx_store_key *k)
{
	free(k->keyid);
	free(k->username);
	free(k->name);
	free(k->hash);
	hx_store_strv_release(&k->roles);
	memset(k, 0, sizeof *k);
}

int
hx_store_key_list(struct hx_store *st, const char *username,
    struct hx_store_key_list *out, char **err)
{
	sqlite3_stmt *s = st->stmt[S_KEY_LIST_USER];
	int	      rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	if ((rc = store_bind_user(st, s, username, err)) == HX_STORE_OK)
		rc = store_load_keys(st, s, out, err);
	rc = store_tx_end(st, rc, err);
	if (rc != HX_STORE_OK)
		hx_store_key_list_release(out);
	return rc;
}

int
hx_store_key_count(struct hx_store *st, const char *username, int64_t *n,
    char **err)
{
	sqlite3_stmt *s = st->stmt[S_KEY_COUNT_USER];
	int	      rc;

	*n = 0;
	if ((rc = store_bind_user(st, s, username, err)) != HX_STORE_OK)
		return rc;
	return store_query_int(st, s, n, err);
}

void
hx_store_key_list_release(struct hx_store_key_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		hx_store_key_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
key_delete_tx(struct hx_store *st, const char *username, const char *keyid,
    char **err)
{
	sqlite3_stmt *s = st->stmt[S_KEY_DELETE];
	char	      q[QBUF];
	int64_t	      uid = 0;
	int	      rc;

	if (username != NULL) {
		rc = store_user_find(st, username, &uid, NULL, err);
		if (rc == HX_STORE_NOT_FOUND)
			goto not_found;
		if (rc != HX_STORE_OK)
			return rc;
	}
	if ((bt(s, 1, keyid) |
		(username != NULL ? bi(s, 2, uid) : sqlite3_bind_null(s, 2))) !=
	    SQLITE_OK)
		return store_bind_fail(st, s, err);
	if ((rc = store_run(st, s, err)) != HX_STORE_OK)
		return rc;
	if (changes(st) != 0)
		return HX_STORE_OK;
not_found:
	return hx_fail(err, HX_STORE_NOT_FOUND, "API key '%s' not found",
	    store_quote(q, keyid));
}

int
hx_store_key_delete(struct hx_store *st, const char *username,
    const char *keyid, char **err)
{
	int rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	rc = key_delete_tx(st, username, keyid, err);
	return store_tx_end(st, rc, err);
}

int
hx_store_key_touch(struct hx_store *st, const char *keyid, int64_t now,
    char **err)
{
	sqlite3_stmt *s = st->stmt[S_KEY_TOUCH];
	char	      q[QBUF];
	int	      rc;

	if ((rc = store_tx_begin(st, 1, err)) != HX_STORE_OK)
		return rc;
	if ((bt(s, 1, keyid) | bi(s, 2, now)) != SQLITE_OK)
		rc = store_bind_fail(st, s, err);
	else if ((rc = store_run(st, s, err)) == HX_STORE_OK &&
	    changes(st) == 0)
		rc = hx_fail(err, HX_STORE_NOT_FOUND, "API key '%s' not found",
		    store_quote(q, keyid));
	return store_tx_end(st, rc, err);
}
