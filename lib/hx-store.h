/*
 * hx-store.h - the identity store: users, custom roles, ACL entries, API
 * keys, sessions and the audit log, in one SQLite database (DESIGN §2, §5).
 *
 * One struct hx_store is one SQLite connection, used by one thread at a
 * time: the daemon's writer worker owns one, and may open a second for
 * reads. Opening sets WAL, foreign_keys, a 5 s busy timeout and
 * synchronous=FULL, creates the file 0600 and brings the schema up to
 * date by PRAGMA user_version. Every statement is prepared once and cached
 * on the handle; every value is a bound parameter, so names may hold
 * quotes, SQL metacharacters, CR/LF or any UTF-8. Every write runs in a
 * transaction, including the checks that guard it (the last
 * Administrator, roles in use), so a check and its write cannot race.
 *
 * What it does not do: hash or verify passwords and keys (callers store
 * and compare the hashes), know what the privileges of the built-in roles
 * are (only their names, which are reserved and never stored), validate
 * the shape of usernames, e-mail addresses or ACL paths beyond what keeps
 * the data consistent, or print anything. The service thread never
 * touches the database: it authenticates from a snapshot
 * (hx_store_snapshot) loaded by a worker, and only looks things up in it
 * or applies a worker's one-key or one-session changes to it in memory
 * (hx_store_snapshot_key_put and friends, at the end).
 *
 * Conventions for every function below:
 * - The return value is one of enum hx_store_rc. On anything but
 *   HX_STORE_OK, *err (when err is not NULL) is set to a message the
 *   caller frees. NOT_FOUND, CONFLICT and INVALID messages are fit for a
 *   client ("user 'bob' not found"; names are quoted with control
 *   characters escaped). ERROR messages start "database error: " and carry
 *   SQLite's own text: log them, answer the client with a generic error.
 * - Output structs are filled in place and every string in them is owned
 *   by the struct: free it all with the matching _release function, which
 *   also leaves the struct empty and is safe on an empty struct. When a
 *   function fails its output is left empty, so releasing is always safe.
 * - Times are epoch seconds, except audit timestamps (epoch milliseconds).
 *   An expiry of 0 means "never".
 * - Role lists given as input are NULL-terminated arrays of names. Each
 *   name must be a built-in role or an existing custom role (INVALID
 *   otherwise); duplicates are ignored.
 */
#ifndef HX_STORE_H
#define HX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hx-priv.h"

struct sqlite3;
struct hx_store;

enum hx_store_rc {
	HX_STORE_OK = 0,
	HX_STORE_NOT_FOUND = 1, /* no such user, role, key... */
	HX_STORE_CONFLICT = 2, /* exists, in use, last Administrator */
	HX_STORE_INVALID = 3, /* an argument the store cannot accept */
	HX_STORE_ERROR = -1 /* SQLite or the file system failed */
};

/* The built-in role every check for "an administrator" looks for. */
#define HX_STORE_ADMIN_ROLE "Administrator"

/* A list of strings; v is NULL-terminated whenever it is not NULL. */
struct hx_store_strv {
	char **v;
	size_t n;
};

/* password_hash: a PHC string; NULL for pam, unset, and in snapshots. */
struct hx_store_user {
	int64_t		     id;
	char		    *username;
	char		    *realm; /* "local", "pam" or an external realm */
	char		    *email; /* NULL when unset */
	int		     enabled;
	char		    *password_hash;
	int64_t		     created;
	struct hx_store_strv roles; /* sorted by name */
};

struct hx_store_user_list {
	struct hx_store_user *v;
	size_t		      n;
};

/* A custom role. The five built-in roles are never stored. */
struct hx_store_role {
	char	*name;
	hx_privs privs;
};

struct hx_store_role_list {
	struct hx_store_role *v;
	size_t		      n;
};

struct hx_store_acl {
	char *path; /* "/vms/web-1" */
	char *role;
	char *username;
	int   propagate; /* 0 or 1: also applies below path */
};

struct hx_store_acl_list {
	struct hx_store_acl *v;
	size_t		     n;
};

/*
 * An API key and its owner. hash is the SHA-256 of the secret in hex.
 * When restricted is 1, roles is the subset to intersect with the owner's
 * roles; otherwise roles is empty and the key has the owner's rights.
 */
struct hx_store_key {
	char		    *keyid;
	char		    *username; /* the owner */
	int		     user_enabled; /* the owner's flag */
	char		    *name; /* label, maybe "" */
	char		    *hash;
	int		     restricted;
	struct hx_store_strv roles;
	int64_t		     expires; /* 0: never */
	int64_t		     created;
	int64_t		     last_used; /* 0: never used */
};

struct hx_store_key_list {
	struct hx_store_key *v;
	size_t		     n;
};

struct hx_store_session {
	char   *jti;
	char   *username;
	int	user_enabled;
	int64_t created;
	int64_t expires;
	int64_t absolute_expires; /* no extension beyond this */
	int64_t last_seen;
	char   *csrf_token;
	char   *remote; /* peer at login; may be NULL */
};

struct hx_store_session_list {
	struct hx_store_session *v;
	size_t			 n;
};

struct hx_store_audit {
	int64_t id;
	int64_t ts; /* epoch milliseconds */
	char   *actor; /* "alice@local", "root@local" (older: "alice") */
	char   *action; /* "user.add" */
	char   *target; /* may be NULL */
	char   *detail; /* may be NULL */
	char   *remote; /* may be NULL */
};

struct hx_store_audit_list {
	struct hx_store_audit *v;
	size_t		       n;
};

/* What hx_store_audit_query selects; zero it for "the newest 100". */
struct hx_store_audit_filter {
	const char *actor; /* NULL: any; "alice": any realm */
	const char *action; /* NULL: any */
	int64_t	    since; /* epoch ms, inclusive */
	int	    limit; /* <= 0: 100; max 1000 */
};

#define HX_STORE_AUDIT_LIMIT_DEFAULT 100
#define HX_STORE_AUDIT_LIMIT_MAX 1000

/*
 * Everything the service thread needs to authenticate and authorize a
 * request without touching the disk, read in one transaction so it is
 * consistent. Users carry no password_hash. Free with hx_store_snapshot_free.
 */
struct hx_store_snapshot {
	struct hx_store_user_list    users; /* by username */
	struct hx_store_role_list    roles; /* custom, by name */
	struct hx_store_acl_list     acl; /* by path, user, role */
	struct hx_store_key_list     keys; /* by keyid */
	struct hx_store_session_list sessions; /* by jti */
};

/* --- the handle ---------------------------------------------------------- */

/*
 * Open (creating it 0600 if absent) the database file at path, set the
 * connection up and migrate the schema in one transaction. A database
 * whose schema is newer than hx_store_schema_version() is refused with
 * HX_STORE_ERROR and "database schema version N is newer than this
 * horcruxd supports (M)". On success *out is a handle the caller closes
 * with hx_store_close(); on failure *out is NULL. Open after any fork.
 */
int hx_store_open(const char *path, struct hx_store **out, char **err);

/* Finalize every statement and close the connection. NULL is a no-op. */
void hx_store_close(struct hx_store *st);

/* The schema version this code writes and understands (user_version). */
int hx_store_schema_version(void);

/*
 * An online backup of data_dir (hx-store-backup.c): horcrux.db and, when
 * present, metrics.db, each copied in one read transaction (consistent
 * while the daemon writes) and checked, into one tar archive at path
 * with a horcrux-backup.json manifest first (the files, their schema
 * versions and sizes). path is created 0600 and appears only once
 * complete. Without force an existing path is CONFLICT and never
 * replaced. NOT_FOUND: no data directory or no horcrux.db in it; ERROR:
 * anything else (permissions, a full disk, SQLite), the message naming
 * the file. On success *manifest (when not NULL) is the manifest's JSON
 * text (caller frees). Nothing is left behind on failure.
 */
int hx_store_backup(const char *data_dir, const char *path, int force,
    char **manifest, char **err);

/*
 * The underlying connection, for tests and diagnostics only (reading a
 * PRAGMA). Owned by st; never close it or change its settings.
 */
struct sqlite3 *hx_store_handle(struct hx_store *st);

/* --- users --------------------------------------------------------------- */

/* The longest realm name, and whether realm is one: [a-z][a-z0-9_-]{0,31}. */
#define HX_STORE_REALM_MAX 32
int hx_store_realm_valid(const char *realm);

/*
 * Add a user. realm is a realm name (hx_store_realm_valid: "local",
 * "pam", a directory's or a provider's); only a local user may have a
 * password_hash (INVALID otherwise), and may have none yet (NULL).
 * email NULL or "" is unset. roles may be NULL (none). CONFLICT if the username is
 * taken (names compare byte for byte); INVALID for an empty username, a
 * bad realm or an unknown role.
 */
int hx_store_user_add(struct hx_store *st, const char *username,
    const char *realm, const char *email, int enabled,
    const char *password_hash, const char *const *roles, char **err);

/*
 * Create or update the user of an external realm (ldap, oidc) as a login
 * or renewal found them: absent, the user is created in realm (enabled,
 * no password, email if not NULL or "") with roles; present in the same
 * realm and enabled, its roles become roles (and its email email, when
 * given); a disabled one is left alone (the caller refuses the login).
 * roles may repeat or name roles that no longer exist: those are left
 * out. The last-Administrator rule does not apply: the directory decides
 * (root@local on the socket always remains). *changed is 1 when anything
 * was written (the caller reloads the access snapshot), and *out is the
 * user as it is now (caller releases; no hash). CONFLICT when username
 * is taken in another realm (a local "alice" is never taken over by a
 * directory's "alice"); INVALID for an empty name or a realm that is
 * local or no realm name.
 */
int hx_store_user_external(struct hx_store *st, const char *username,
    const char *realm, const char *email, const char *const *roles,
    int *changed, struct hx_store_user *out, char **err);

/* Fill *out with the user and its roles (and hash). NOT_FOUND if absent. */
int  hx_store_user_get(struct hx_store *st, const char *username,
     struct hx_store_user *out, char **err);
void hx_store_user_release(struct hx_store_user *u);

/* Fill *out with every user and its roles, by username. */
int  hx_store_user_list(struct hx_store *st, struct hx_store_user_list *out,
     char **err);
void hx_store_user_list_release(struct hx_store_user_list *l);

/*
 * Changes for hx_store_user_update; each field may be left unchanged.
 * email: NULL keeps it, "" unsets it. enabled: -1 keeps it. roles: NULL
 * keeps them, otherwise the new set ({ NULL } for none).
 */
struct hx_store_user_change {
	const char	  *email;
	int		   enabled;
	const char *const *roles;
};

/*
 * Apply ch to the user. NOT_FOUND if absent, INVALID for an unknown role,
 * CONFLICT "cannot remove the last Administrator" if the change would
 * leave no enabled user holding the Administrator role where there was
 * one (nothing is changed then).
 */
int hx_store_user_update(struct hx_store *st, const char *username,
    const struct hx_store_user_change *ch, char **err);

/*
 * Set (or with NULL, clear) a local user's password hash. NOT_FOUND if
 * absent; INVALID for a pam user or an empty hash.
 */
int hx_store_user_set_password(struct hx_store *st, const char *username,
    const char *password_hash, char **err);

/*
 * Delete the user; their ACL entries, API keys and sessions go with them.
 * NOT_FOUND if absent; CONFLICT "cannot remove the last Administrator" if
 * they are the only enabled Administrator.
 */
int hx_store_user_delete(struct hx_store *st, const char *username, char **err);

/*
 * *count = the number of enabled users holding the Administrator role
 * directly (an ACL grant of it does not count).
 */
int hx_store_count_admins(struct hx_store *st, int64_t *count, char **err);

/*
 * *yes = 1 if anyone could authenticate other than by local trust: an
 * enabled user with a password (a local user with a hash, or any pam user)
 * or any API key; else 0.
 */
int hx_store_has_credentials(struct hx_store *st, int *yes, char **err);

/* --- custom roles -------------------------------------------------------- */

/*
 * Add a custom role. name is 1 to 64 of [A-Za-z0-9_.-], not "." or ".."
 * (hx-rbac's rule), and privs within HX_PRIV_ALL (INVALID otherwise).
 * CONFLICT if it exists or is a built-in role's name in any case.
 */
int hx_store_role_add(struct hx_store *st, const char *name, hx_privs privs,
    char **err);

/*
 * Replace a custom role's privileges. NOT_FOUND if absent, CONFLICT for a
 * built-in role, INVALID for privs outside HX_PRIV_ALL.
 */
int hx_store_role_update(struct hx_store *st, const char *name, hx_privs privs,
    char **err);

/* Fill *out with the custom role. NOT_FOUND if absent or built in. */
int  hx_store_role_get(struct hx_store *st, const char *name,
     struct hx_store_role *out, char **err);
void hx_store_role_release(struct hx_store_role *r);

/* Fill *out with every custom role, by name. */
int  hx_store_role_list(struct hx_store *st, struct hx_store_role_list *out,
     char **err);
void hx_store_role_list_release(struct hx_store_role_list *l);

/*
 * Delete a custom role. NOT_FOUND if absent; CONFLICT if it is built in,
 * a user holds it, an ACL entry grants it or an API key's role subset
 * names it.
 */
int hx_store_role_delete(struct hx_store *st, const char *name, char **err);

/* --- ACL ----------------------------------------------------------------- */

/*
 * Grant role to username on path (which starts with '/'), or update the
 * propagate flag of that existing grant. NOT_FOUND if the user is absent;
 * INVALID for a bad path or an unknown role.
 */
int hx_store_acl_put(struct hx_store *st, const char *path, const char *role,
    const char *username, int propagate, char **err);

/* Remove one grant. NOT_FOUND if the user or the grant is absent. */
int hx_store_acl_delete(struct hx_store *st, const char *path, const char *role,
    const char *username, char **err);

/*
 * Fill *out with the entries on path exactly, or all when path is NULL,
 * by path, username, role.
 */
int hx_store_acl_list(struct hx_store *st, const char *path,
    struct hx_store_acl_list *out, char **err);

/* Fill *out with username's entries, by path. NOT_FOUND if absent. */
int  hx_store_acl_list_user(struct hx_store *st, const char *username,
     struct hx_store_acl_list *out, char **err);
void hx_store_acl_list_release(struct hx_store_acl_list *l);

/* --- API keys ------------------------------------------------------------ */

/*
 * Add a key for username. keyid is 1 to 64 of [A-Za-z0-9-] (it sits
 * between underscores in "hx_<keyid>_<secret>"); hash is 64 lowercase hex
 * digits; name is a label (NULL: ""); roles NULL means no subset (the key
 * has the user's rights), otherwise the subset to intersect with them.
 * expires 0 = never. NOT_FOUND if the user is absent, CONFLICT if keyid
 * exists, INVALID for a bad keyid, hash or role.
 */
int hx_store_key_add(struct hx_store *st, const char *keyid,
    const char *username, const char *name, const char *hash,
    const char *const *roles, int64_t expires, char **err);

/* Fill *out with the key, its owner and the owner's enabled flag. */
int  hx_store_key_get(struct hx_store *st, const char *keyid,
     struct hx_store_key *out, char **err);
void hx_store_key_release(struct hx_store_key *k);

/* Fill *out with username's keys, by keyid. NOT_FOUND if the user is absent. */
int  hx_store_key_list(struct hx_store *st, const char *username,
     struct hx_store_key_list *out, char **err);
void hx_store_key_list_release(struct hx_store_key_list *l);

/* *n = how many keys username holds. NOT_FOUND if the user is absent. */
int hx_store_key_count(struct hx_store *st, const char *username, int64_t *n,
    char **err);

/*
 * Delete the key keyid of username (of any owner when username is NULL,
 * for administrators). NOT_FOUND if absent or owned by someone else.
 */
int hx_store_key_delete(struct hx_store *st, const char *username,
    const char *keyid, char **err);

/* Record that the key was used at now. NOT_FOUND if absent. */
int hx_store_key_touch(struct hx_store *st, const char *keyid, int64_t now,
    char **err);

/* --- sessions ------------------------------------------------------------ */

/*
 * Record a login session: jti (the JWT id), its CSRF token, the peer
 * address (may be NULL), expires <= absolute_expires. created and
 * last_seen are now. NOT_FOUND if the user is absent, CONFLICT if jti
 * exists, INVALID for an empty jti or token or expires past
 * absolute_expires.
 */
int hx_store_session_add(struct hx_store *st, const char *jti,
    const char *username, int64_t expires, int64_t absolute_expires,
    const char *csrf_token, const char *remote, char **err);

/* Fill *out with the session, its user and their enabled flag. */
int  hx_store_session_get(struct hx_store *st, const char *jti,
     struct hx_store_session *out, char **err);
void hx_store_session_release(struct hx_store_session *s);
void hx_store_session_list_release(struct hx_store_session_list *l);

/*
 * Fill *out with username's sessions (live or expired but not yet
 * purged), by jti. NOT_FOUND if the user is absent.
 */
int hx_store_session_list(struct hx_store *st, const char *username,
    struct hx_store_session_list *out, char **err);

/*
 * Move the session's expiry to expires and last_seen to now. NOT_FOUND if
 * absent; INVALID if expires is past its absolute_expires (unchanged).
 */
int hx_store_session_extend(struct hx_store *st, const char *jti,
    int64_t expires, char **err);

/* Delete one session (logout). NOT_FOUND if absent. */
int hx_store_session_delete(struct hx_store *st, const char *jti, char **err);

/*
 * Delete every session of username and fill *jtis with their ids (in no
 * particular order) so the caller can close their WebSockets; jtis may be
 * NULL. NOT_FOUND if the user is absent (no sessions is OK, n = 0).
 */
int hx_store_session_delete_user(struct hx_store *st, const char *username,
    struct hx_store_strv *jtis, char **err);

/*
 * Delete every session whose expires or absolute_expires is at or before
 * now; *purged (may be NULL) is how many.
 */
int hx_store_session_purge(struct hx_store *st, int64_t now, int64_t *purged,
    char **err);

/* --- audit --------------------------------------------------------------- */

/*
 * Append an audit record. ts is epoch ms (0: now); actor and action are
 * required (INVALID if empty); target, detail and remote may be NULL. A
 * field over HX_STORE_AUDIT_FIELD_MAX bytes is stored cut to that many,
 * on a character boundary, ending in HX_STORE_AUDIT_CUT.
 */
#define HX_STORE_AUDIT_FIELD_MAX 256
#define HX_STORE_AUDIT_CUT "\xe2\x80\xa6" /* U+2026 ... */
int hx_store_audit_add(struct hx_store *st, int64_t ts, const char *actor,
    const char *action, const char *target, const char *detail,
    const char *remote, char **err);

/* Fill *out with the records f selects (NULL: defaults), newest first. */
int  hx_store_audit_query(struct hx_store *st,
     const struct hx_store_audit_filter *f, struct hx_store_audit_list *out,
     char **err);
void hx_store_audit_list_release(struct hx_store_audit_list *l);

/* Delete records older than before (epoch ms); *purged may be NULL. */
int hx_store_audit_purge(struct hx_store *st, int64_t before, int64_t *purged,
    char **err);

/* --- snapshot ------------------------------------------------------------ */

/*
 * Load every user (without password hashes), custom role, ACL entry, API
 * key and session in one read transaction. On success *out is the caller's
 * to free with hx_store_snapshot_free(); on failure it is NULL.
 */
int hx_store_snapshot(struct hx_store *st, struct hx_store_snapshot **out,
    char **err);
/* Free a snapshot; NULL is a no-op. */
void hx_store_snapshot_free(struct hx_store_snapshot *snap);

/*
 * The key with keyid, or the session with jti, in snap (a binary search:
 * the lists are sorted), or NULL. Borrowed from snap.
 */
const struct hx_store_key *
hx_store_snapshot_key(const struct hx_store_snapshot *snap, const char *keyid);
const struct hx_store_session *
hx_store_snapshot_session(const struct hx_store_snapshot *snap,
    const char						 *jti);

/*
 * Incremental updates of a snapshot, for the frequent changes that touch
 * one row: an API key or a login session made, used, renewed or ended.
 * Each keeps its list's order (by keyid, by jti) with a binary search and
 * one move of the tail, where reloading every table (hx_store_snapshot)
 * costs time in proportion to all the keys and sessions there are. A
 * change to users, roles or ACL entries still needs a fresh snapshot:
 * keys and sessions carry their owner's enabled flag.
 *
 * _put inserts the record, or replaces the one with the same keyid or
 * jti; its strings pass to snap and *k / *se is left empty. _drop removes
 * one: 0, or -1 if it was not there. _session_purge removes the sessions
 * hx_store_session_purge(now) deletes and returns how many.
 */
void   hx_store_snapshot_key_put(struct hx_store_snapshot *snap,
      struct hx_store_key				  *k);
int    hx_store_snapshot_key_drop(struct hx_store_snapshot *snap,
       const char					   *keyid);
void   hx_store_snapshot_session_put(struct hx_store_snapshot *snap,
      struct hx_store_session				      *se);
int    hx_store_snapshot_session_drop(struct hx_store_snapshot *snap,
       const char					       *jti);
size_t hx_store_snapshot_session_purge(struct hx_store_snapshot *snap,
    int64_t							 now);

/* Free every string of sv and empty it; safe on an empty list. */
void hx_store_strv_release(struct hx_store_strv *sv);

/* --- notification targets and delivery attempts (hx-store-notify.c) ------ */

/*
 * A notification target (DESIGN §9). config is the JSON object text of
 * its non-secret fields (url; or smtp_url, from, to, username); secret
 * is the webhook secret or the SMTP password, NULL when none: only the
 * delivery thread reads it, and nothing shows it.
 */
struct hx_store_notify_target {
	char   *name;
	char   *type; /* "webhook" or "email" */
	char   *config;
	char   *secret;
	int64_t created;
};

struct hx_store_notify_target_list {
	struct hx_store_notify_target *v;
	size_t			       n;
};

/* One delivery attempt: when, what came of it, how long it took. */
struct hx_store_notify_attempt {
	int64_t id;
	char   *target;
	int64_t ts; /* epoch ms, when it started */
	int64_t delivery; /* the delivery it belongs to */
	int	attempt; /* 1 for the first */
	char   *event; /* "AlertTriggered", "AlertResolved", "Test" */
	char   *outcome; /* "ok", "retry", "failed", "gave_up", "dropped" */
	int	status; /* HTTP status or SMTP code; 0: no answer */
	char   *error; /* curl's reason, or NULL */
	int64_t duration_ms;
};

struct hx_store_notify_attempt_list {
	struct hx_store_notify_attempt *v;
	size_t				n;
};

/* Add a target; CONFLICT if the name is taken, INVALID if a field is empty. */
int hx_store_notify_target_add(struct hx_store *st,
    const struct hx_store_notify_target *t, char **err);
/* The target called name (secret included); NOT_FOUND if none. */
int hx_store_notify_target_get(struct hx_store *st, const char *name,
    struct hx_store_notify_target *out, char **err);
/* Every target by name, secrets left out (NULL). */
int hx_store_notify_target_list(struct hx_store *st,
    struct hx_store_notify_target_list *out, char **err);
/* Delete a target and its attempts; NOT_FOUND if none. */
int  hx_store_notify_target_delete(struct hx_store *st, const char *name,
     char **err);
void hx_store_notify_target_release(struct hx_store_notify_target *t);
void hx_store_notify_target_list_release(struct hx_store_notify_target_list *l);

/* Record an attempt (a->id is ignored); NOT_FOUND if its target is gone. */
int hx_store_notify_attempt_add(struct hx_store *st,
    const struct hx_store_notify_attempt *a, char **err);
/* The newest limit attempts of target, newest first. */
int  hx_store_notify_attempt_list(struct hx_store *st, const char *target,
     int limit, struct hx_store_notify_attempt_list *out, char **err);
void hx_store_notify_attempt_list_release(
    struct hx_store_notify_attempt_list *l);
/* Delete attempts older than before (epoch ms); *purged may be NULL. */
int hx_store_notify_attempt_purge(struct hx_store *st, int64_t before,
    int64_t *purged, char **err);
/*
 * --- alerts (hx-store-alert.c) ---------------------------------------------
 *
 * Rules are kept by name as the JSON text the API accepted (lib/hx-alert
 * parses them); the store does not look inside. Episodes are one row per
 * firing alert; times in epoch milliseconds, 0 for "not yet" (resolved_at,
 * acked_at). The daemon's alert thread is the only writer of both tables.
 */
struct hx_store_alert {
	char   *alert_id;
	char   *rule_name;
	char   *severity;
	char   *target; /* node:HOST or vm:NAME */
	char   *vm; /* the VM's name, or NULL */
	char   *track; /* the engine's key for the target */
	char   *series; /* the series, or NULL for a status */
	char   *message;
	double	value; /* NaN: none */
	double	threshold; /* NaN: none */
	double	peak; /* NaN: none */
	int64_t started_at;
	int64_t resolved_at; /* 0: firing */
	char   *acked_by; /* user@realm, or NULL */
	int64_t acked_at; /* 0: not acknowledged */
	char   *comment;
};

struct hx_store_alert_list {
	struct hx_store_alert *v;
	size_t		       n;
};

enum hx_store_alert_state {
	HX_STORE_ALERT_ALL,
	HX_STORE_ALERT_FIRING,
	HX_STORE_ALERT_RESOLVED
};

/* Every rule: names[i] and docs[i] (JSON text), by name. */
int hx_store_alert_rules(struct hx_store *st, struct hx_store_strv *names,
    struct hx_store_strv *docs, char **err);
/* One rule's JSON text (caller frees); NOT_FOUND when there is none. */
int hx_store_alert_rule_get(struct hx_store *st, const char *name, char **doc,
    char **err);
/*
 * Store a rule: create (CONFLICT when the name exists) or replace
 * (NOT_FOUND when it does not).
 */
int hx_store_alert_rule_put(struct hx_store *st, const char *name,
    const char *doc, int create, char **err);
/* Delete a rule; NOT_FOUND when there is none. */
int hx_store_alert_rule_delete(struct hx_store *st, const char *name,
    char **err);

/* Record a new episode (a.resolved_at and the ack fields are ignored). */
int hx_store_alert_insert(struct hx_store *st, const struct hx_store_alert *a,
    char **err);
/* Mark an episode resolved at t with its peak and last value. */
int hx_store_alert_resolve(struct hx_store *st, const char *alert_id, int64_t t,
    double peak, double value, char **err);
/* Record an acknowledgement (a later one replaces it); NOT_FOUND. */
int hx_store_alert_ack(struct hx_store *st, const char *alert_id,
    const char *who, int64_t t, const char *comment, char **err);
/* One episode; NOT_FOUND when there is none. Release with _release. */
int hx_store_alert_get(struct hx_store *st, const char *alert_id,
    struct hx_store_alert *out, char **err);
/* Episodes in state, newest first, at most limit (0: no limit). */
int hx_store_alert_list(struct hx_store *st, enum hx_store_alert_state state,
    int limit, struct hx_store_alert_list *out, char **err);
/* Delete episodes resolved before t; how many into *purged (may be NULL). */
int  hx_store_alert_purge(struct hx_store *st, int64_t t, int64_t *purged,
     char **err);
void hx_store_alert_release(struct hx_store_alert *a);
void hx_store_alert_list_release(struct hx_store_alert_list *l);

#endif
