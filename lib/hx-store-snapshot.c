/*
 * hx-store-snapshot.c - the in-memory copy of the identity store that the
 * service thread authenticates from: loaded in one read transaction by a
 * worker (users without password hashes, roles, ACL, keys, sessions),
 * looked up by key id and session id (binary search; keys and sessions
 * are kept sorted by those ids), and changed in place one key or one
 * session at a time after a worker's write.
 *
 * What it does not do: touch the database after the load. The in-place
 * changes only mirror a write a worker has already committed.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hx-store-int.h"

static int
snapshot_load(struct hx_store *st, struct hx_store_snapshot *snap, char **err)
{
	sqlite3_stmt *s;
	int	      rc;

	if ((rc = store_load_users(st, st->stmt[S_USER_LIST], &snap->users, 0,
		 err)) != HX_STORE_OK ||
	    (rc = store_load_roles(st, &snap->roles, err)) != HX_STORE_OK)
		return rc;
	s = st->stmt[S_ACL_LIST];
	if (sqlite3_bind_null(s, 1) != SQLITE_OK)
		return store_bind_fail(st, s, err);
	if ((rc = store_load_acl(st, s, &snap->acl, err)) != HX_STORE_OK ||
	    (rc = store_load_keys(st, st->stmt[S_KEY_LIST_ALL], &snap->keys,
		 err)) != HX_STORE_OK)
		return rc;
	return store_load_sessions(st, st->stmt[S_SESSION_LIST_ALL],
	    &snap->sessions, err);
}

int
hx_store_snapshot(struct hx_store *st, struct hx_store_snapshot **out,
    char **err)
{
	struct hx_store_snapshot *snap;
	int			  rc;

	*out = NULL;
	if ((rc = store_tx_begin(st, 0, err)) != HX_STORE_OK)
		return rc;
	snap = xcalloc(1, sizeof *snap);
	rc = snapshot_load(st, snap, err);
	if ((rc = store_tx_end(st, rc, err)) != HX_STORE_OK) {
		hx_store_snapshot_free(snap);
		return rc;
	}
	*out = snap;
	return HX_STORE_OK;
}

/*
 * Where key belongs in v[0..n), elements of size bytes sorted by the
 * string at offset off (strcmp, as SQLite's BINARY collation orders
 * them): the first index whose string is not below key. *found says
 * whether that element's string is key itself.
 */
static size_t
snapshot_find(const void *v, size_t n, size_t size, size_t off, const char *key,
    int *found)
{
	const char *base = v;
	size_t	    lo = 0, hi = n, mid;
	int	    c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(*(char *const *)(const void *)(base + mid * size +
			       off),
		    key);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct hx_store_key *
hx_store_snapshot_key(const struct hx_store_snapshot *snap, const char *keyid)
{
	size_t i;
	int    found;

	i = snapshot_find(snap->keys.v, snap->keys.n, sizeof *snap->keys.v,
	    offsetof(struct hx_store_key, keyid), keyid, &found);
	return found ? &snap->keys.v[i] : NULL;
}

const struct hx_store_session *
hx_store_snapshot_session(const struct hx_store_snapshot *snap, const char *jti)
{
	size_t i;
	int    found;

	i = snapshot_find(snap->sessions.v, snap->sessions.n,
	    sizeof *snap->sessions.v, offsetof(struct hx_store_session, jti),
	    jti, &found);
	return found ? &snap->sessions.v[i] : NULL;
}

/*
 * One of the snapshot's sorted arrays seen without its element type:
 * the size of an element, the offset of its key string, and how to
 * release an element's strings. Keys and sessions share the code below.
 */
struct sorted_kind {
	size_t size;
	size_t off;
	void (*release)(void *);
};

static void
key_release_any(void *p)
{
	hx_store_key_release(p);
}

static void
session_release_any(void *p)
{
	hx_store_session_release(p);
}

static const struct sorted_kind key_kind = { sizeof(struct hx_store_key),
	offsetof(struct hx_store_key, keyid), key_release_any };
static const struct sorted_kind session_kind = { sizeof(
						     struct hx_store_session),
	offsetof(struct hx_store_session, jti), session_release_any };

/*
 * Move *elem into the sorted array v of *n elements, replacing (and
 * releasing) the one with the same key or inserting it in order; *elem
 * is zeroed. Returns the array, which may have moved.
 */
static void *
sorted_put(void *v, size_t *n, const struct sorted_kind *kind, void *elem)
{
	const char *key;
	char	   *base;
	size_t	    i;
	int	    found;

	key = *(char *const *)(const void *)((const char *)elem + kind->off);
	i = snapshot_find(v, *n, kind->size, kind->off, key, &found);
	if (found)
		kind->release((char *)v + i * kind->size);
	else {
		v = store_grow(v, *n, kind->size);
		base = v;
		memmove(base + (i + 1) * kind->size, base + i * kind->size,
		    (*n - i) * kind->size);
		(*n)++;
	}
	memcpy((char *)v + i * kind->size, elem, kind->size);
	memset(elem, 0, kind->size);
	return v;
}

/*
 * Release and remove the element whose key is key from the sorted
 * array v of *n elements. Returns 0, or -1 when there is none.
 */
static int
sorted_drop(void *v, size_t *n, const struct sorted_kind *kind, const char *key)
{
	char  *base = v;
	size_t i;
	int    found;

	i = snapshot_find(v, *n, kind->size, kind->off, key, &found);
	if (!found)
		return -1;
	kind->release(base + i * kind->size);
	memmove(base + i * kind->size, base + (i + 1) * kind->size,
	    (*n - i - 1) * kind->size);
	(*n)--;
	return 0;
}

void
hx_store_snapshot_key_put(struct hx_store_snapshot *snap,
    struct hx_store_key				   *k)
{
	snap->keys.v = sorted_put(snap->keys.v, &snap->keys.n, &key_kind, k);
}

int
hx_store_snapshot_key_drop(struct hx_store_snapshot *snap, const char *keyid)
{
	return sorted_drop(snap->keys.v, &snap->keys.n, &key_kind, keyid);
}

void
hx_store_snapshot_session_put(struct hx_store_snapshot *snap,
    struct hx_store_session			       *se)
{
	snap->sessions.v = sorted_put(snap->sessions.v, &snap->sessions.n,
	    &session_kind, se);
}

int
hx_store_snapshot_session_drop(struct hx_store_snapshot *snap, const char *jti)
{
	return sorted_drop(snap->sessions.v, &snap->sessions.n, &session_kind,
	    jti);
}

size_t
hx_store_snapshot_session_purge(struct hx_store_snapshot *snap, int64_t now)
{
	struct hx_store_session_list *l = &snap->sessions;
	size_t			      i, o = 0, gone;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].expires <= now || l->v[i].absolute_expires <= now)
			hx_store_session_release(&l->v[i]);
		else
			l->v[o++] = l->v[i];
	}
	gone = l->n - o;
	l->n = o;
	return gone;
}

void
hx_store_snapshot_free(struct hx_store_snapshot *snap)
{
	if (snap == NULL)
		return;
	hx_store_user_list_release(&snap->users);
	hx_store_role_list_release(&snap->roles);
	hx_store_acl_list_release(&snap->acl);
	hx_store_key_list_release(&snap->keys);
	hx_store_session_list_release(&snap->sessions);
	free(snap);
}
