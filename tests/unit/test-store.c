/*
 * test-store.c - the identity store: open, settings and migrations, every
 * CRUD call with its NOT_FOUND and CONFLICT answers, hostile usernames,
 * cascades, the last-Administrator rule, roles in use, the snapshot and
 * the audit log. Each database lives in a fresh temporary directory.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hx-priv.h"
#include "hx-store.h"
#include "hx-util.h"
#include "tap.h"

#define HASH_A \
	"0123456789abcdef0123456789abcdef" \
	"0123456789abcdef0123456789abcdef"
#define HASH_B \
	"fedcba9876543210fedcba9876543210" \
	"fedcba9876543210fedcba9876543210"
#define PHC "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"

static char  tmpdir[] = "/tmp/hx-test-store-XXXXXX";
static char *err;

static const char *const admin[] = { HX_STORE_ADMIN_ROLE, NULL };
static const char *const none[] = { NULL };

/* Forget the last error message. */
static void
clr(void)
{
	free(err);
	err = NULL;
}

static char *
path_of(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* First column of the first row of sql on db as text, into a static buffer. */
static const char *
sql_str(sqlite3 *db, const char *sql)
{
	static char   buf[256];
	sqlite3_stmt *s;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return "(prepare failed)";
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		hx_strlcpy(buf, (const char *)sqlite3_column_text(s, 0),
		    sizeof buf);
	sqlite3_finalize(s);
	return buf;
}

static long long
sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long     v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int
has_prefix(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
rm_tmpdir(void)
{
	DIR	      *d;
	struct dirent *e;
	char	      *p;

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = path_of(e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

static void
test_open(const char *path)
{
	struct hx_store *st = NULL;
	struct stat	 sb;
	sqlite3		*db;
	char		*wal;

	is_int(hx_store_schema_version(), 4, "schema version is 4");
	is_int(hx_store_open(path, &st, &err), HX_STORE_OK, "open creates");
	clr();
	ok(st != NULL, "open returns a handle");
	if (st == NULL)
		return;
	db = hx_store_handle(st);
	is_int(sql_int(db, "PRAGMA user_version"), 4, "user_version is 4");
	is_int(sql_int(db, "PRAGMA foreign_keys"), 1, "foreign_keys on");
	is_str(sql_str(db, "PRAGMA journal_mode"), "wal", "journal_mode wal");
	is_int(sql_int(db, "PRAGMA synchronous"), 2, "synchronous FULL (2)");
	is_int(sql_int(db, "PRAGMA busy_timeout"), 5000, "busy_timeout 5 s");
	is_int(
	    sql_int(db,
		"SELECT count(*) FROM sqlite_schema WHERE type = "
		"'table' AND name IN ('users', 'roles', 'user_roles', 'acl', "
		"'api_keys', 'sessions', 'audit')"),
	    7, "seven tables");
	is_int(sql_int(db,
		   "SELECT count(*) FROM sqlite_schema WHERE type = "
		   "'index' AND name = 'audit_ts'"),
	    1, "audit has a ts index");
	is_int(sql_int(db,
		   "SELECT count(*) FROM sqlite_schema WHERE type = "
		   "'table' AND name IN ('alert_rules', 'alert_episodes')"),
	    2, "migration 2: the alert tables");
	is_int(sql_int(db, "SELECT count(*) FROM alert_rules"), 4,
	    "migration 2: four shipped rules");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "database file is 0600 (%o)", (unsigned)(sb.st_mode & 0777));
	is_int(hx_store_audit_add(st, 1, "t", "open", NULL, NULL, NULL, &err),
	    HX_STORE_OK, "a first write");
	clr();
	wal = xasprintf("%s-wal", path);
	ok(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "WAL file is 0600 too");
	free(wal);
	hx_store_close(st);
	hx_store_close(NULL);

	/* Reopen: no migration, data still there. */
	is_int(hx_store_open(path, &st, &err), HX_STORE_OK, "reopen");
	clr();
	if (st == NULL)
		return;
	db = hx_store_handle(st);
	is_int(sql_int(db, "PRAGMA user_version"), 4, "still version 4");
	is_int(sql_int(db, "SELECT count(*) FROM audit"), 1,
	    "data survives a reopen");
	is_int(sql_int(db, "PRAGMA foreign_keys"), 1, "foreign_keys on again");
	hx_store_close(st);
}

static void
test_versions(void)
{
	struct hx_store *st = (struct hx_store *)1;
	sqlite3		*db;
	char		*p, *q, *want;
	FILE		*f;

	/* A newer schema is refused, untouched. */
	p = path_of("newer.db");
	sqlite3_open(p, &db);
	sqlite3_exec(db, "CREATE TABLE future (x); PRAGMA user_version = 99;",
	    NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(hx_store_open(p, &st, &err), HX_STORE_ERROR,
	    "user_version 99 is refused");
	want = xasprintf("database schema version 99 is newer than this "
			 "horcruxd supports (%d)",
	    hx_store_schema_version());
	is_str(err, want, "with the message");
	free(want);
	clr();
	ok(st == NULL, "no handle on failure");
	sqlite3_open(p, &db);
	is_int(sql_int(db, "PRAGMA user_version"), 99, "still version 99");
	is_int(sql_int(db,
		   "SELECT count(*) FROM sqlite_schema WHERE name = "
		   "'users'"),
	    0, "no tables added to it");
	sqlite3_close(db);
	free(p);

	/* Version 0 with no tables: migrated in place. */
	p = path_of("old.db");
	sqlite3_open(p, &db);
	sqlite3_exec(db, "PRAGMA user_version = 0; VACUUM;", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(hx_store_open(p, &st, &err), HX_STORE_OK,
	    "user_version 0 is migrated");
	clr();
	if (st != NULL) {
		db = hx_store_handle(st);
		is_int(sql_int(db, "PRAGMA user_version"),
		    hx_store_schema_version(), "now the newest version");
		is_int(hx_store_user_add(st, "zed", "local", NULL, 1, NULL,
			   admin, &err),
		    HX_STORE_OK, "usable after migration");
		clr();
		hx_store_close(st);
	}
	free(p);

	/* Not a database. */
	p = path_of("junk.db");
	f = fopen(p, "w");
	fputs("this is not an SQLite database, not even close.............."
	      "............................................................",
	    f);
	fclose(f);
	is_int(hx_store_open(p, &st, &err), HX_STORE_ERROR, "junk is refused");
	ok(has_prefix(err, "database error: "), "as a database error (%s)",
	    err);
	clr();
	free(p);

	/* A directory that does not exist. */
	q = xasprintf("%s/missing/x.db", tmpdir);
	is_int(hx_store_open(q, &st, &err), HX_STORE_ERROR,
	    "missing directory is an error");
	ok(has_prefix(err, "cannot create '"), "cannot create (%s)", err);
	clr();
	free(q);
	is_int(hx_store_open("", &st, &err), HX_STORE_INVALID, "empty path");
	clr();
}

static void
test_users(struct hx_store *st)
{
	struct hx_store_user	    u;
	struct hx_store_user_list   l;
	struct hx_store_user_change ch = { NULL, -1, NULL };
	const char *const two[] = { "VmUser", "Auditor", "VmUser", NULL };
	const char *const bad[] = { "VmUser", "Nope", NULL };

	is_int(hx_store_user_add(st, "alice", "local", "a@example.org", 1, PHC,
		   admin, &err),
	    HX_STORE_OK, "add alice");
	clr();
	is_int(hx_store_user_add(st, "alice", "pam", NULL, 1, NULL, NULL, &err),
	    HX_STORE_CONFLICT, "duplicate username");
	is_str(err, "user 'alice' already exists", "conflict message");
	clr();
	is_int(hx_store_user_add(st, "Alice", "pam", NULL, 0, NULL, two, &err),
	    HX_STORE_OK, "names compare byte for byte (Alice)");
	clr();
	is_int(hx_store_user_add(st, "bob", "pam", NULL, 1, PHC, NULL, &err),
	    HX_STORE_INVALID, "pam user with a hash");
	clr();
	is_int(hx_store_user_add(st, "bob", "Corp", NULL, 1, NULL, NULL, &err),
	    HX_STORE_INVALID, "not a realm name (upper case)");
	is_str(err, "unknown realm 'Corp'", "realm message");
	clr();
	is_int(hx_store_user_add(st, "bob", "1dap", NULL, 1, NULL, NULL, &err),
	    HX_STORE_INVALID, "not a realm name (digit first)");
	clr();
	is_int(hx_store_user_add(st, "bob", "a23456789012345678901234567890123",
		   NULL, 1, NULL, NULL, &err),
	    HX_STORE_INVALID, "not a realm name (33 bytes)");
	clr();
	is_int(hx_store_user_add(st, "bob", "corp-ldap", NULL, 1, PHC, NULL,
		   &err),
	    HX_STORE_INVALID, "a directory user with a hash");
	is_str(err, "a corp-ldap user has no password hash", "hash message");
	clr();
	is_int(hx_store_user_add(st, "bob", "local", NULL, 1, NULL, bad, &err),
	    HX_STORE_INVALID, "unknown role");
	is_str(err, "unknown role 'Nope'", "role message");
	clr();
	is_int(hx_store_user_get(st, "bob", &u, &err), HX_STORE_NOT_FOUND,
	    "a refused add leaves nothing behind");
	clr();
	is_int(hx_store_user_add(st, "", "local", NULL, 1, NULL, NULL, &err),
	    HX_STORE_INVALID, "empty username");
	clr();
	is_int(hx_store_user_add(st, "bob", "local", "", 1, NULL, NULL, &err),
	    HX_STORE_OK, "add bob (no password, no roles)");
	clr();

	is_int(hx_store_user_get(st, "alice", &u, &err), HX_STORE_OK,
	    "get alice");
	is_str(u.username, "alice", "username");
	is_str(u.realm, "local", "realm");
	is_str(u.email, "a@example.org", "email");
	is_int(u.enabled, 1, "enabled");
	is_str(u.password_hash, PHC, "password hash");
	ok(u.created > 1700000000 && u.created <= (int64_t)time(NULL) + 1,
	    "created is now");
	is_int(u.roles.n, 1, "one role");
	is_str(u.roles.v[0], "Administrator", "Administrator");
	ok(u.roles.v[1] == NULL, "role list is NULL-terminated");
	hx_store_user_release(&u);
	ok(u.username == NULL && u.roles.n == 0, "release empties");
	hx_store_user_release(&u);

	is_int(hx_store_user_get(st, "Alice", &u, &err), HX_STORE_OK,
	    "get Alice");
	is_int(u.roles.n, 2, "duplicate roles collapse");
	is_str(u.roles.v[0], "Auditor", "roles sorted (Auditor)");
	is_str(u.roles.v[1], "VmUser", "roles sorted (VmUser)");
	ok(u.password_hash == NULL, "pam user has no hash");
	is_int(u.enabled, 0, "added disabled");
	hx_store_user_release(&u);

	is_int(hx_store_user_get(st, "bob", &u, &err), HX_STORE_OK, "get bob");
	ok(u.email == NULL, "empty email is unset");
	is_int(u.roles.n, 0, "no roles");
	hx_store_user_release(&u);

	is_int(hx_store_user_get(st, "carol", &u, &err), HX_STORE_NOT_FOUND,
	    "get unknown");
	is_str(err, "user 'carol' not found", "not-found message");
	clr();
	ok(u.username == NULL, "output empty on failure");

	is_int(hx_store_user_list(st, &l, &err), HX_STORE_OK, "list");
	is_int(l.n, 3, "three users");
	if (l.n == 3) {
		is_str(l.v[0].username, "Alice", "sorted by name (Alice)");
		is_str(l.v[1].username, "alice", "sorted by name (alice)");
		is_str(l.v[2].username, "bob", "sorted by name (bob)");
		is_int(l.v[0].roles.n, 2, "list carries roles");
	}
	hx_store_user_list_release(&l);

	/* update: each field optional */
	ch.email = "b@example.org";
	is_int(hx_store_user_update(st, "bob", &ch, &err), HX_STORE_OK,
	    "update email only");
	ch.email = NULL;
	ch.enabled = 0;
	is_int(hx_store_user_update(st, "bob", &ch, &err), HX_STORE_OK,
	    "update enabled only");
	ch.enabled = -1;
	ch.roles = two;
	is_int(hx_store_user_update(st, "bob", &ch, &err), HX_STORE_OK,
	    "update roles only");
	hx_store_user_get(st, "bob", &u, &err);
	is_str(u.email, "b@example.org", "email updated");
	is_int(u.enabled, 0, "disabled");
	is_int(u.roles.n, 2, "roles replaced");
	hx_store_user_release(&u);
	ch.roles = none;
	ch.email = "";
	is_int(hx_store_user_update(st, "bob", &ch, &err), HX_STORE_OK,
	    "clear roles and email");
	hx_store_user_get(st, "bob", &u, &err);
	ok(u.email == NULL && u.roles.n == 0 && u.enabled == 0,
	    "cleared, enabled kept");
	hx_store_user_release(&u);
	ch.roles = bad;
	ch.email = "x@example.org";
	is_int(hx_store_user_update(st, "bob", &ch, &err), HX_STORE_INVALID,
	    "update with an unknown role");
	clr();
	hx_store_user_get(st, "bob", &u, &err);
	ok(u.email == NULL, "a refused update changes nothing");
	hx_store_user_release(&u);
	ch.roles = NULL;
	is_int(hx_store_user_update(st, "nobody", &ch, &err),
	    HX_STORE_NOT_FOUND, "update unknown user");
	clr();
	is_int(hx_store_user_update(st, "bob", NULL, &err), HX_STORE_OK,
	    "NULL change is a no-op");

	/* passwords */
	is_int(hx_store_user_set_password(st, "bob", PHC, &err), HX_STORE_OK,
	    "set password");
	hx_store_user_get(st, "bob", &u, &err);
	is_str(u.password_hash, PHC, "password stored");
	hx_store_user_release(&u);
	is_int(hx_store_user_set_password(st, "bob", NULL, &err), HX_STORE_OK,
	    "clear password");
	hx_store_user_get(st, "bob", &u, &err);
	ok(u.password_hash == NULL, "password cleared");
	hx_store_user_release(&u);
	is_int(hx_store_user_set_password(st, "Alice", PHC, &err),
	    HX_STORE_INVALID, "pam users have no password here");
	is_str(err, "user 'Alice' is not in the local realm", "pam message");
	clr();
	is_int(hx_store_user_set_password(st, "nobody", PHC, &err),
	    HX_STORE_NOT_FOUND, "password of unknown user");
	clr();
	is_int(hx_store_user_set_password(st, "bob", "", &err),
	    HX_STORE_INVALID, "empty hash");
	clr();

	is_int(hx_store_user_delete(st, "nobody", &err), HX_STORE_NOT_FOUND,
	    "delete unknown user");
	clr();
	is_int(hx_store_user_delete(st, "bob", &err), HX_STORE_OK,
	    "delete bob");
	is_int(hx_store_user_get(st, "bob", &u, &err), HX_STORE_NOT_FOUND,
	    "bob is gone");
	clr();
}

/* hx_store_user_external: a directory's user at login and renewal. */
static void
test_external(struct hx_store *st)
{
	const char *const boss[] = { "Administrator", "VmUser", "Gone", NULL };
	const char *const user[] = { "VmUser", NULL };
	struct hx_store_user u;
	int		     changed = -1;

	is_int(hx_store_user_external(st, "erin", "corp", "erin@example.org",
		   boss, &changed, &u, &err),
	    HX_STORE_OK, "external: first login creates");
	ok(changed == 1, "external: created is a change");
	is_str(u.realm, "corp", "external: in its realm");
	ok(u.enabled && u.password_hash == NULL, "external: enabled, no hash");
	is_int(u.roles.n, 2, "external: unknown role left out");
	is_str(u.roles.v[0], "Administrator", "external: mapped roles");
	hx_store_user_release(&u);
	is_int(hx_store_user_external(st, "erin", "corp", "erin@example.org",
		   boss, &changed, &u, &err),
	    HX_STORE_OK, "external: same again");
	ok(changed == 0, "external: nothing changed, nothing written");
	hx_store_user_release(&u);
	is_int(hx_store_user_external(st, "erin", "corp", NULL, user, &changed,
		   &u, &err),
	    HX_STORE_OK, "external: roles replaced");
	ok(changed == 1 && u.roles.n == 1 &&
		strcmp(u.roles.v[0], "VmUser") == 0,
	    "external: now VmUser only");
	is_str(u.email, "erin@example.org",
	    "external: email kept when not given");
	hx_store_user_release(&u);
	is_int(hx_store_user_external(st, "alice", "corp", NULL, user, &changed,
		   &u, &err),
	    HX_STORE_CONFLICT, "external: a local name is never taken over");
	is_str(err, "user 'alice' exists in realm local, not corp",
	    "external: conflict message");
	clr();
	is_int(hx_store_user_external(st, "erin", "other", NULL, user, &changed,
		   &u, &err),
	    HX_STORE_CONFLICT, "external: nor one of another realm");
	clr();
	is_int(hx_store_user_external(st, "erin", "local", NULL, user, &changed,
		   &u, &err),
	    HX_STORE_INVALID, "external: local is not external");
	clr();
	is_int(hx_store_user_update(st, "erin",
		   &(struct hx_store_user_change){ NULL, 0, NULL }, &err),
	    HX_STORE_OK, "external: disable erin");
	is_int(hx_store_user_external(st, "erin", "corp", NULL, boss, &changed,
		   &u, &err),
	    HX_STORE_OK, "external: disabled user read");
	ok(!u.enabled && changed == 0 && u.roles.n == 1,
	    "external: a disabled user stays disabled and unchanged");
	hx_store_user_release(&u);
	is_int(hx_store_user_delete(st, "erin", &err), HX_STORE_OK,
	    "external: delete erin");
	clr();
}

static void
test_hostile_names(struct hx_store *st)
{
	const char *const	 names[] = { "o'brien \"the\" `quoted`",
		       "'; DROP TABLE users; --", "robert\"); DELETE FROM acl; --",
		       "line1\r\nline2", "%s%n%x\\0", NULL };
	static const char *const glyphs[] = { "é", "€", "😀", "ж" };
	struct hx_store_user	 u;
	struct hx_store_strv	 jtis;
	struct hx_buf		 b;
	char			*longname;
	int			 i, n;

	for (i = 0; names[i] != NULL; i++) {
		is_int(hx_store_user_add(st, names[i], "local", names[i], 1,
			   PHC, NULL, &err),
		    HX_STORE_OK, "add hostile name %d", i);
		clr();
		is_int(hx_store_user_get(st, names[i], &u, &err), HX_STORE_OK,
		    "get hostile name %d", i);
		is_str(u.username, names[i], "name %d round-trips", i);
		is_str(u.email, names[i], "email %d round-trips", i);
		hx_store_user_release(&u);
		is_int(hx_store_acl_put(st, "/vms/web-1", "VmUser", names[i], 1,
			   &err),
		    HX_STORE_OK, "ACL for hostile name %d", i);
		clr();
	}
	is_int(sql_int(hx_store_handle(st),
		   "SELECT count(*) FROM users "
		   "WHERE username LIKE 'o''brien%'"),
	    1, "users table intact");

	is_int(hx_store_user_add(st, "line1\r\nline2", "local", NULL, 1, NULL,
		   NULL, &err),
	    HX_STORE_CONFLICT, "CR/LF duplicate");
	is_str(err, "user 'line1\\r\\nline2' already exists",
	    "CR/LF escaped in the message");
	clr();
	is_int(hx_store_user_get(st, "line1\nline2", &u, &err),
	    HX_STORE_NOT_FOUND, "LF alone is another name");
	clr();
	is_int(hx_store_user_get(st, "o'brien", &u, &err), HX_STORE_NOT_FOUND,
	    "a prefix does not match");
	is_str(err, "user 'o\\'brien' not found", "quote escaped in message");
	clr();

	/* 300 characters of multi-byte UTF-8. */
	hx_buf_init(&b, 0);
	for (n = 0; n < 300; n++)
		hx_buf_addf(&b, "%s", glyphs[n % 4]);
	longname = hx_buf_detach(&b, NULL);
	is_int(hx_store_user_add(st, longname, "pam", NULL, 1, NULL, NULL,
		   &err),
	    HX_STORE_OK, "add 300-character unicode name");
	clr();
	is_int(hx_store_user_get(st, longname, &u, &err), HX_STORE_OK,
	    "get it");
	is_str(u.username, longname, "300 characters round-trip");
	hx_store_user_release(&u);
	is_int(hx_store_user_add(st, longname, "pam", NULL, 1, NULL, NULL,
		   &err),
	    HX_STORE_CONFLICT, "duplicate long name");
	ok(err != NULL && strlen(err) < 140 && strstr(err, "...") != NULL,
	    "long name cut short in the message");
	clr();
	is_int(sql_int(hx_store_handle(st),
		   "SELECT length(username) FROM "
		   "users WHERE length(username) = 300"),
	    300, "stored as 300 chars");
	is_int(hx_store_session_add(st, "j-long", longname, 10, 20, "c", NULL,
		   &err),
	    HX_STORE_OK, "session for the long name");
	is_int(hx_store_session_delete_user(st, longname, &jtis, &err),
	    HX_STORE_OK, "delete its sessions");
	ok(jtis.n == 1 && strcmp(jtis.v[0], "j-long") == 0, "by name");
	hx_store_strv_release(&jtis);
	is_int(hx_store_user_delete(st, longname, &err), HX_STORE_OK,
	    "delete it");
	free(longname);

	for (i = 0; names[i] != NULL; i++) {
		is_int(hx_store_user_delete(st, names[i], &err), HX_STORE_OK,
		    "delete hostile name %d", i);
		clr();
	}
	is_int(sql_int(hx_store_handle(st), "SELECT count(*) FROM acl"), 0,
	    "their ACL entries went with them");
}

static void
test_roles(struct hx_store *st)
{
	struct hx_store_role	    r;
	struct hx_store_role_list   l;
	struct hx_store_user_change ch = { NULL, -1, NULL };
	const char *const	    op[] = { "Operator", NULL };
	hx_privs		    p;

	p = HX_PRIV_VM_POWER_MGMT | HX_PRIV_VM_CONSOLE;
	is_int(hx_store_role_add(st, "Operator", p, &err), HX_STORE_OK,
	    "add custom role");
	is_int(hx_store_role_add(st, "Operator", p, &err), HX_STORE_CONFLICT,
	    "duplicate role");
	is_str(err, "role 'Operator' already exists", "message");
	clr();
	is_int(hx_store_role_add(st, "Administrator", p, &err),
	    HX_STORE_CONFLICT, "a built-in name");
	is_str(err, "role 'Administrator' is built in", "built-in message");
	clr();
	is_int(hx_store_role_add(st, "bad name", p, &err), HX_STORE_INVALID,
	    "bad role name");
	clr();
	is_int(hx_store_role_add(st, "..", p, &err), HX_STORE_INVALID,
	    "role name '..'");
	clr();
	is_int(hx_store_role_add(st, "administrator", p, &err),
	    HX_STORE_CONFLICT, "a built-in name in another case");
	clr();
	is_int(hx_store_role_add(st, "_x.y-z", p, &err), HX_STORE_OK,
	    "every allowed character");
	hx_store_role_delete(st, "_x.y-z", &err);
	is_int(hx_store_role_add(st, "Wide", HX_PRIV_ALL + 1, &err),
	    HX_STORE_INVALID, "unknown privilege bits");
	clr();
	is_int(hx_store_role_add(st, "Auditor2", HX_PRIV_SYS_AUDIT, &err),
	    HX_STORE_OK, "add a second role");
	is_int(hx_store_role_add(st, "NoAccess", 0, &err), HX_STORE_OK,
	    "a role with no privileges");

	is_int(hx_store_role_get(st, "Operator", &r, &err), HX_STORE_OK, "get");
	is_str(r.name, "Operator", "name");
	is_int(r.privs, p, "privileges");
	hx_store_role_release(&r);
	is_int(hx_store_role_get(st, "VmAdmin", &r, &err), HX_STORE_NOT_FOUND,
	    "built-in roles are not stored");
	clr();
	is_int(hx_store_role_update(st, "Operator", p | HX_PRIV_VM_AUDIT, &err),
	    HX_STORE_OK, "update privileges");
	hx_store_role_get(st, "Operator", &r, &err);
	is_int(r.privs, p | HX_PRIV_VM_AUDIT, "updated");
	hx_store_role_release(&r);
	is_int(hx_store_role_update(st, "Ghost", p, &err), HX_STORE_NOT_FOUND,
	    "update unknown role");
	clr();
	is_int(hx_store_role_update(st, "VmUser", p, &err), HX_STORE_CONFLICT,
	    "update built-in role");
	clr();
	is_int(hx_store_role_update(st, "Operator", HX_PRIV_ALL + 1, &err),
	    HX_STORE_INVALID, "update with unknown privilege bits");
	clr();

	is_int(hx_store_role_list(st, &l, &err), HX_STORE_OK, "list");
	is_int(l.n, 3, "three custom roles");
	if (l.n == 3) {
		is_str(l.v[0].name, "Auditor2", "sorted (Auditor2)");
		is_str(l.v[2].name, "Operator", "sorted (Operator)");
	}
	hx_store_role_list_release(&l);

	/* A role in use cannot go: held by a user, in the ACL, in a key. */
	hx_store_user_add(st, "dave", "local", NULL, 1, NULL, op, &err);
	is_int(hx_store_role_delete(st, "Operator", &err), HX_STORE_CONFLICT,
	    "role held by a user");
	is_str(err, "role 'Operator' is in use", "in-use message");
	clr();
	ch.roles = none;
	hx_store_user_update(st, "dave", &ch, &err);
	is_int(hx_store_acl_put(st, "/vms/db-1", "Operator", "dave", 0, &err),
	    HX_STORE_OK, "grant custom role in the ACL");
	is_int(hx_store_role_delete(st, "Operator", &err), HX_STORE_CONFLICT,
	    "role used in the ACL");
	clr();
	hx_store_acl_delete(st, "/vms/db-1", "Operator", "dave", &err);
	is_int(hx_store_key_add(st, "k-op", "dave", "ops", HASH_A, op, 0, &err),
	    HX_STORE_OK, "custom role in a key's subset");
	is_int(hx_store_role_delete(st, "Operator", &err), HX_STORE_CONFLICT,
	    "role used by a key");
	clr();
	hx_store_key_delete(st, "dave", "k-op", &err);
	is_int(hx_store_role_delete(st, "Operator", &err), HX_STORE_OK,
	    "unused role deleted");
	is_int(hx_store_role_delete(st, "Operator", &err), HX_STORE_NOT_FOUND,
	    "delete again");
	is_str(err, "role 'Operator' not found", "not-found message");
	clr();
	is_int(hx_store_role_delete(st, "Administrator", &err),
	    HX_STORE_CONFLICT, "built-in role cannot be deleted");
	clr();
	is_int(hx_store_user_add(st, "erin", "local", NULL, 1, NULL, op, &err),
	    HX_STORE_INVALID, "a deleted role is unknown");
	clr();
	hx_store_user_delete(st, "dave", &err);
	hx_store_role_delete(st, "NoAccess", &err);
}

static void
test_acl(struct hx_store *st)
{
	struct hx_store_acl_list l;

	hx_store_user_add(st, "frank", "local", NULL, 1, NULL, NULL, &err);
	is_int(hx_store_acl_put(st, "/vms/web-1", "VmUser", "frank", 1, &err),
	    HX_STORE_OK, "put");
	is_int(hx_store_acl_put(st, "/vms/web-1", "VmUser", "frank", 0, &err),
	    HX_STORE_OK, "put again updates");
	is_int(hx_store_acl_put(st, "/storage/pool", "StorageAdmin", "frank", 1,
		   &err),
	    HX_STORE_OK, "second entry");
	is_int(hx_store_acl_put(st, "/vms/web-1", "VmAdmin", "alice", 1, &err),
	    HX_STORE_OK, "entry for another user");
	is_int(hx_store_acl_put(st, "/vms/web-1", "VmUser", "ghost", 1, &err),
	    HX_STORE_NOT_FOUND, "unknown user");
	clr();
	is_int(hx_store_acl_put(st, "vms", "VmUser", "frank", 1, &err),
	    HX_STORE_INVALID, "relative path");
	clr();
	is_int(hx_store_acl_put(st, "/vms", "Ghost", "frank", 1, &err),
	    HX_STORE_INVALID, "unknown role");
	clr();

	is_int(hx_store_acl_list(st, NULL, &l, &err), HX_STORE_OK, "list all");
	is_int(l.n, 3, "three entries (upsert did not duplicate)");
	if (l.n == 3) {
		is_str(l.v[0].path, "/storage/pool", "by path");
		is_str(l.v[1].username, "alice", "then user (alice)");
		is_str(l.v[2].username, "frank", "then user (frank)");
		is_int(l.v[2].propagate, 0, "propagate updated");
		is_str(l.v[2].role, "VmUser", "role");
	}
	hx_store_acl_list_release(&l);
	is_int(hx_store_acl_list(st, "/vms/web-1", &l, &err), HX_STORE_OK,
	    "list by path");
	is_int(l.n, 2, "two on /vms/web-1");
	hx_store_acl_list_release(&l);
	is_int(hx_store_acl_list(st, "/nowhere", &l, &err), HX_STORE_OK,
	    "list an empty path");
	ok(l.n == 0 && l.v == NULL, "empty");
	hx_store_acl_list_release(&l);
	is_int(hx_store_acl_list_user(st, "frank", &l, &err), HX_STORE_OK,
	    "list for a user");
	ok(l.n == 2 && strcmp(l.v[0].path, "/storage/pool") == 0,
	    "frank's two entries");
	hx_store_acl_list_release(&l);
	is_int(hx_store_acl_list_user(st, "ghost", &l, &err),
	    HX_STORE_NOT_FOUND, "list for unknown user");
	clr();

	is_int(hx_store_acl_delete(st, "/storage/pool", "StorageAdmin", "frank",
		   &err),
	    HX_STORE_OK, "delete");
	is_int(hx_store_acl_delete(st, "/storage/pool", "StorageAdmin", "frank",
		   &err),
	    HX_STORE_NOT_FOUND, "delete again");
	is_str(err,
	    "no ACL entry grants 'StorageAdmin' to 'frank' on "
	    "'/storage/pool'",
	    "message");
	clr();
	is_int(hx_store_acl_delete(st, "/x", "VmUser", "ghost", &err),
	    HX_STORE_NOT_FOUND, "delete for unknown user");
	clr();
	hx_store_acl_delete(st, "/vms/web-1", "VmAdmin", "alice", &err);
}

static void
test_keys(struct hx_store *st)
{
	struct hx_store_key	 k;
	struct hx_store_key_list l;
	const char *const sub[] = { "VmUser", "Auditor", "VmUser", NULL };
	const char *const bad[] = { "Ghost", NULL };

	is_int(hx_store_key_add(st, "k1", "frank", "laptop", HASH_A, NULL, 0,
		   &err),
	    HX_STORE_OK, "add key");
	is_int(hx_store_key_add(st, "k1", "frank", "again", HASH_B, NULL, 0,
		   &err),
	    HX_STORE_CONFLICT, "duplicate keyid");
	is_str(err, "API key 'k1' already exists", "message");
	clr();
	is_int(hx_store_key_add(st, "k2", "frank", "ci", HASH_B, sub,
		   2000000000, &err),
	    HX_STORE_OK, "add key with subset and expiry");
	is_int(hx_store_key_add(st, "k3", "ghost", "x", HASH_A, NULL, 0, &err),
	    HX_STORE_NOT_FOUND, "unknown owner");
	clr();
	is_int(hx_store_key_add(st, "k_3", "frank", "x", HASH_A, NULL, 0, &err),
	    HX_STORE_INVALID, "keyid with '_'");
	clr();
	is_int(hx_store_key_add(st, "k3", "frank", "x", "abc", NULL, 0, &err),
	    HX_STORE_INVALID, "short hash");
	clr();
	is_int(
	    hx_store_key_add(st, "k3", "frank", "x",
		"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		NULL, 0, &err),
	    HX_STORE_INVALID, "uppercase hash");
	clr();
	is_int(hx_store_key_add(st, "k3", "frank", "x", HASH_A, bad, 0, &err),
	    HX_STORE_INVALID, "unknown role in subset");
	clr();

	is_int(hx_store_key_get(st, "k1", &k, &err), HX_STORE_OK, "get k1");
	is_str(k.username, "frank", "owner");
	is_int(k.user_enabled, 1, "owner enabled");
	is_str(k.name, "laptop", "name");
	is_str(k.hash, HASH_A, "hash");
	is_int(k.restricted, 0, "no subset");
	is_int(k.expires, 0, "never expires");
	is_int(k.last_used, 0, "never used");
	hx_store_key_release(&k);
	is_int(hx_store_key_get(st, "k2", &k, &err), HX_STORE_OK, "get k2");
	is_int(k.restricted, 1, "restricted");
	ok(k.roles.n == 2 && strcmp(k.roles.v[0], "VmUser") == 0 &&
		strcmp(k.roles.v[1], "Auditor") == 0 && k.roles.v[2] == NULL,
	    "subset round-trips, duplicates dropped");
	is_int(k.expires, 2000000000, "expiry");
	hx_store_key_release(&k);
	is_int(hx_store_key_get(st, "nope", &k, &err), HX_STORE_NOT_FOUND,
	    "get unknown key");
	is_str(err, "API key 'nope' not found", "message");
	clr();

	{
		int64_t n = -1;

		is_int(hx_store_key_count(st, "frank", &n, &err), HX_STORE_OK,
		    "count keys");
		is_int((int)n, 2, "frank holds two keys");
		is_int(hx_store_key_count(st, "ghost", &n, &err),
		    HX_STORE_NOT_FOUND, "count for an unknown user");
		clr();
	}

	is_int(hx_store_key_touch(st, "k1", 1234567, &err), HX_STORE_OK,
	    "touch");
	hx_store_key_get(st, "k1", &k, &err);
	is_int(k.last_used, 1234567, "last_used set");
	hx_store_key_release(&k);
	is_int(hx_store_key_touch(st, "nope", 1, &err), HX_STORE_NOT_FOUND,
	    "touch unknown");
	clr();

	is_int(hx_store_key_list(st, "frank", &l, &err), HX_STORE_OK, "list");
	ok(l.n == 2 && strcmp(l.v[0].keyid, "k1") == 0 &&
		strcmp(l.v[1].keyid, "k2") == 0,
	    "frank's two keys");
	hx_store_key_list_release(&l);
	is_int(hx_store_key_list(st, "alice", &l, &err), HX_STORE_OK,
	    "list for a user with none");
	is_int(l.n, 0, "none");
	hx_store_key_list_release(&l);
	is_int(hx_store_key_list(st, "ghost", &l, &err), HX_STORE_NOT_FOUND,
	    "list for unknown user");
	clr();

	is_int(hx_store_key_delete(st, "alice", "k1", &err), HX_STORE_NOT_FOUND,
	    "another user's key");
	clr();
	is_int(hx_store_key_get(st, "k1", &k, &err), HX_STORE_OK,
	    "still there");
	hx_store_key_release(&k);
	is_int(hx_store_key_delete(st, "ghost", "k1", &err), HX_STORE_NOT_FOUND,
	    "unknown user's key");
	clr();
	is_int(hx_store_key_delete(st, "frank", "k1", &err), HX_STORE_OK,
	    "delete own key");
	is_int(hx_store_key_delete(st, "frank", "k1", &err), HX_STORE_NOT_FOUND,
	    "delete again");
	clr();
	is_int(hx_store_key_delete(st, NULL, "k2", &err), HX_STORE_OK,
	    "delete any owner's key");

	/* The owner's enabled flag travels with the key. */
	hx_store_key_add(st, "k4", "frank", NULL, HASH_A, NULL, 0, &err);
	hx_store_user_update(st, "frank",
	    &(struct hx_store_user_change){ NULL, 0, NULL }, &err);
	hx_store_key_get(st, "k4", &k, &err);
	is_int(k.user_enabled, 0, "owner disabled shows on the key");
	is_str(k.name, "", "NULL name is empty");
	hx_store_key_release(&k);
	hx_store_user_update(st, "frank",
	    &(struct hx_store_user_change){ NULL, 1, NULL }, &err);
}

static void
test_sessions(struct hx_store *st)
{
	struct hx_store_session s;
	struct hx_store_strv	jtis;
	int64_t			n, now;

	now = time(NULL);
	is_int(hx_store_session_add(st, "j1", "frank", now + 7200, now + 43200,
		   "csrf-1", "192.0.2.1", &err),
	    HX_STORE_OK, "add");
	is_int(hx_store_session_add(st, "j1", "frank", now + 7200, now + 43200,
		   "csrf-x", NULL, &err),
	    HX_STORE_CONFLICT, "duplicate jti");
	clr();
	is_int(hx_store_session_add(st, "j2", "ghost", now, now, "c", NULL,
		   &err),
	    HX_STORE_NOT_FOUND, "unknown user");
	clr();
	is_int(hx_store_session_add(st, "j2", "frank", now + 10, now + 5, "c",
		   NULL, &err),
	    HX_STORE_INVALID, "expires after absolute expiry");
	clr();
	is_int(hx_store_session_add(st, "j2", "frank", now, now, "", NULL,
		   &err),
	    HX_STORE_INVALID, "no CSRF token");
	clr();

	is_int(hx_store_session_get(st, "j1", &s, &err), HX_STORE_OK, "get");
	is_str(s.username, "frank", "user");
	is_int(s.user_enabled, 1, "user enabled");
	is_int(s.expires, now + 7200, "expires");
	is_int(s.absolute_expires, now + 43200, "absolute expiry");
	is_str(s.csrf_token, "csrf-1", "csrf token");
	is_str(s.remote, "192.0.2.1", "remote");
	ok(s.created >= now && s.last_seen == s.created, "created, last seen");
	hx_store_session_release(&s);
	is_int(hx_store_session_get(st, "nope", &s, &err), HX_STORE_NOT_FOUND,
	    "get unknown");
	clr();

	is_int(hx_store_session_extend(st, "j1", now + 9000, &err), HX_STORE_OK,
	    "extend");
	hx_store_session_get(st, "j1", &s, &err);
	is_int(s.expires, now + 9000, "extended");
	hx_store_session_release(&s);
	is_int(hx_store_session_extend(st, "j1", now + 50000, &err),
	    HX_STORE_INVALID, "extend past absolute expiry");
	clr();
	is_int(hx_store_session_extend(st, "nope", now, &err),
	    HX_STORE_NOT_FOUND, "extend unknown");
	clr();

	hx_store_session_add(st, "j2", "frank", now + 60, now + 60, "c2", NULL,
	    &err);
	hx_store_session_add(st, "j3", "alice", now + 60, now + 60, "c3", NULL,
	    &err);
	is_int(hx_store_session_delete(st, "j3", &err), HX_STORE_OK, "logout");
	is_int(hx_store_session_delete(st, "j3", &err), HX_STORE_NOT_FOUND,
	    "logout twice");
	clr();
	is_int(hx_store_session_delete_user(st, "frank", &jtis, &err),
	    HX_STORE_OK, "delete all of frank's sessions");
	ok(jtis.n == 2 && jtis.v[2] == NULL &&
		((strcmp(jtis.v[0], "j1") == 0 &&
		     strcmp(jtis.v[1], "j2") == 0) ||
		    (strcmp(jtis.v[0], "j2") == 0 &&
			strcmp(jtis.v[1], "j1") == 0)),
	    "returns their jtis");
	hx_store_strv_release(&jtis);
	is_int(hx_store_session_delete_user(st, "frank", &jtis, &err),
	    HX_STORE_OK, "again: nothing left");
	is_int(jtis.n, 0, "no jtis");
	hx_store_strv_release(&jtis);
	is_int(hx_store_session_delete_user(st, "ghost", NULL, &err),
	    HX_STORE_NOT_FOUND, "unknown user");
	clr();

	hx_store_session_add(st, "old", "frank", 100, 200, "c", NULL, &err);
	hx_store_session_add(st, "capped", "frank", 1000, 1000, "c", NULL,
	    &err);
	hx_store_session_add(st, "live", "frank", now + 60, now + 600, "c",
	    NULL, &err);
	is_int(hx_store_session_purge(st, 1000, &n, &err), HX_STORE_OK,
	    "purge");
	is_int(n, 2, "two expired sessions purged");
	is_int(hx_store_session_get(st, "live", &s, &err), HX_STORE_OK,
	    "the live one stays");
	hx_store_session_release(&s);
	hx_store_session_delete(st, "live", &err);
}

static void
test_cascade(struct hx_store *st)
{
	struct hx_store_key	k;
	struct hx_store_session s;
	sqlite3		       *db = hx_store_handle(st);

	hx_store_user_add(st, "gina", "local", NULL, 1, PHC, admin, &err);
	hx_store_key_add(st, "kg", "gina", "k", HASH_A, NULL, 0, &err);
	hx_store_session_add(st, "jg", "gina", 10, 20, "c", NULL, &err);
	hx_store_acl_put(st, "/vms/g", "VmUser", "gina", 1, &err);
	is_int(
	    sql_int(db,
		"WITH g AS (SELECT id FROM users WHERE username = "
		"'gina') SELECT (SELECT count(*) FROM api_keys, g WHERE user_id = "
		"g.id) + (SELECT count(*) FROM sessions, g WHERE user_id = g.id) + "
		"(SELECT count(*) FROM acl, g WHERE user_id = g.id) + "
		"(SELECT count(*) FROM user_roles, g WHERE user_id = g.id)"),
	    4, "gina has a key, a session, an ACL entry, a role");
	is_int(hx_store_user_delete(st, "gina", &err), HX_STORE_OK,
	    "delete gina (not the last Administrator)");
	is_int(hx_store_key_get(st, "kg", &k, &err), HX_STORE_NOT_FOUND,
	    "her key is gone");
	clr();
	is_int(hx_store_session_get(st, "jg", &s, &err), HX_STORE_NOT_FOUND,
	    "her session is gone");
	clr();
	is_int(sql_int(db, "SELECT count(*) FROM acl WHERE path = '/vms/g'"), 0,
	    "her ACL entry is gone");
	is_int(
	    sql_int(db,
		"SELECT (SELECT count(*) FROM user_roles WHERE "
		"user_id NOT IN (SELECT id FROM users)) + (SELECT count(*) FROM "
		"api_keys WHERE user_id NOT IN (SELECT id FROM users)) + "
		"(SELECT count(*) FROM sessions WHERE user_id NOT IN "
		"(SELECT id FROM users))"),
	    0, "no orphan rows");
}

static void
test_last_admin(struct hx_store *st)
{
	struct hx_store_user_change ch = { NULL, -1, NULL };
	struct hx_store_user	    u;
	int64_t			    n;
	const char *const	    aud[] = { "Auditor", NULL };

	is_int(hx_store_count_admins(st, &n, &err), HX_STORE_OK, "count");
	is_int(n, 1, "alice is the only Administrator");
	is_int(hx_store_user_delete(st, "alice", &err), HX_STORE_CONFLICT,
	    "cannot delete the last Administrator");
	is_str(err, "cannot remove the last Administrator", "message");
	clr();
	ch.enabled = 0;
	is_int(hx_store_user_update(st, "alice", &ch, &err), HX_STORE_CONFLICT,
	    "cannot disable the last Administrator");
	clr();
	ch.enabled = -1;
	ch.roles = aud;
	is_int(hx_store_user_update(st, "alice", &ch, &err), HX_STORE_CONFLICT,
	    "cannot demote the last Administrator");
	clr();
	ch.enabled = 0;
	ch.roles = NULL;
	ch.email = "changed@example.org";
	is_int(hx_store_user_update(st, "alice", &ch, &err), HX_STORE_CONFLICT,
	    "a refused update with other fields");
	clr();
	hx_store_user_get(st, "alice", &u, &err);
	ok(u.enabled == 1 && u.roles.n == 1 &&
		strcmp(u.email, "a@example.org") == 0,
	    "alice unchanged (enabled, Administrator, email)");
	hx_store_user_release(&u);

	/* A disabled Administrator does not count. */
	hx_store_user_add(st, "hank", "local", NULL, 0, NULL, admin, &err);
	hx_store_count_admins(st, &n, &err);
	is_int(n, 1, "disabled Administrator not counted");
	is_int(hx_store_user_delete(st, "alice", &err), HX_STORE_CONFLICT,
	    "still the last enabled one");
	clr();
	ch.enabled = 1;
	ch.email = NULL;
	hx_store_user_update(st, "hank", &ch, &err);
	hx_store_count_admins(st, &n, &err);
	is_int(n, 2, "two Administrators");
	ch.enabled = -1;
	ch.roles = aud;
	is_int(hx_store_user_update(st, "alice", &ch, &err), HX_STORE_OK,
	    "demote one of two");
	ch.roles = NULL;
	ch.enabled = 0;
	is_int(hx_store_user_update(st, "hank", &ch, &err), HX_STORE_CONFLICT,
	    "now hank is the last");
	clr();
	ch.roles = admin;
	ch.enabled = -1;
	hx_store_user_update(st, "alice", &ch, &err);
	is_int(hx_store_user_delete(st, "hank", &err), HX_STORE_OK,
	    "delete one of two");
	is_int(hx_store_user_update(st, "frank", &ch, &err), HX_STORE_OK,
	    "promote frank");
	hx_store_count_admins(st, &n, &err);
	is_int(n, 2, "alice and frank");
	ch.roles = none;
	hx_store_user_update(st, "frank", &ch, &err);
}

static void
test_credentials(void)
{
	struct hx_store *st = NULL;
	char		*p;
	int		 yes = -1;
	int64_t		 n = -1;

	p = path_of("creds.db");
	hx_store_open(p, &st, &err);
	clr();
	free(p);
	if (st == NULL) {
		ok(0, "open creds.db");
		return;
	}
	is_int(hx_store_has_credentials(st, &yes, &err), HX_STORE_OK,
	    "has_credentials on an empty store");
	is_int(yes, 0, "empty: none");
	hx_store_count_admins(st, &n, &err);
	is_int(n, 0, "no Administrator yet");
	hx_store_user_add(st, "ivan", "local", NULL, 1, NULL, NULL, &err);
	hx_store_has_credentials(st, &yes, &err);
	is_int(yes, 0, "a user without password: none");
	hx_store_user_add(st, "jill", "local", NULL, 0, PHC, NULL, &err);
	hx_store_has_credentials(st, &yes, &err);
	is_int(yes, 0, "a disabled user with password: none");
	hx_store_key_add(st, "ki", "ivan", NULL, HASH_A, NULL, 0, &err);
	hx_store_has_credentials(st, &yes, &err);
	is_int(yes, 1, "an API key: yes");
	hx_store_key_delete(st, "ivan", "ki", &err);
	hx_store_user_set_password(st, "ivan", PHC, &err);
	hx_store_has_credentials(st, &yes, &err);
	is_int(yes, 1, "an enabled user with a password: yes");
	/* With no Administrator at all, deleting users is not blocked. */
	is_int(hx_store_user_delete(st, "ivan", &err), HX_STORE_OK,
	    "delete with no Administrator around");
	hx_store_user_add(st, "kim", "pam", NULL, 1, NULL, NULL, &err);
	hx_store_has_credentials(st, &yes, &err);
	is_int(yes, 1, "an enabled pam user: yes");
	hx_store_close(st);
}

/* Fields chosen by the network are stored cut, on a character boundary. */
static void
test_audit_cap(struct hx_store *st)
{
	struct hx_store_audit_filter f;
	struct hx_store_audit_list   l;
	char			     big[70000], exact[257], *want;

	memset(big, 'u', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	/* "\xc3\xa9" (e acute) straddles byte 253: cut before it. */
	memcpy(big + 252, "\xc3\xa9", 2);
	memset(exact, 'x', 256);
	exact[256] = '\0';
	is_int(hx_store_audit_add(st, 50000, big, "cap.test", big, big, exact,
		   &err),
	    HX_STORE_OK, "a 70 KB audit field is accepted");
	memset(&f, 0, sizeof f);
	f.action = "cap.test";
	hx_store_audit_query(st, &f, &l, &err);
	is_int(l.n, 1, "one capped record");
	if (l.n == 1) {
		want = xmalloc(253 + sizeof HX_STORE_AUDIT_CUT);
		memset(want, 'u', 252);
		memcpy(want + 252, HX_STORE_AUDIT_CUT,
		    sizeof HX_STORE_AUDIT_CUT);
		is_str(l.v[0].actor, want,
		    "actor cut before a split character, "
		    "marked");
		is_str(l.v[0].target, want, "target cut");
		is_str(l.v[0].detail, want, "detail cut");
		is_str(l.v[0].remote, exact, "256 bytes are kept whole");
		ok(strlen(l.v[0].actor) <= HX_STORE_AUDIT_FIELD_MAX,
		    "at most 256 bytes");
		free(want);
	}
	hx_store_audit_list_release(&l);
}

/* The audit filter: a bare name finds its user@realm rows, only them. */
static void
test_audit_realms(void)
{
	struct hx_store_audit_filter f;
	struct hx_store_audit_list   l;
	struct hx_store		    *st = NULL;
	char			    *p;

	p = path_of("audit-realms.db");
	hx_store_open(p, &st, &err);
	clr();
	free(p);
	if (st == NULL) {
		ok(0, "open audit-realms.db");
		return;
	}
	hx_store_audit_add(st, 500, "carol@pam", "login", NULL, NULL, NULL,
	    &err);
	hx_store_audit_add(st, 500, "carolx@local", "login", NULL, NULL, NULL,
	    &err);
	hx_store_audit_add(st, 500, "carol_y@local", "login", NULL, NULL, NULL,
	    &err);
	memset(&f, 0, sizeof f);
	f.actor = "carol";
	hx_store_audit_query(st, &f, &l, &err);
	ok(l.n == 1 && strcmp(l.v[0].actor, "carol@pam") == 0,
	    "a bare name matches user@realm of any realm");
	hx_store_audit_list_release(&l);
	f.actor = "carol@local";
	hx_store_audit_query(st, &f, &l, &err);
	is_int(l.n, 0, "user@realm matches that realm only");
	hx_store_audit_list_release(&l);
	f.actor = "carol_";
	hx_store_audit_query(st, &f, &l, &err);
	is_int(l.n, 0, "'_' is no wildcard");
	hx_store_audit_list_release(&l);
	hx_store_close(st);
}

static void
test_audit(struct hx_store *st)
{
	struct hx_store_audit_filter f;
	struct hx_store_audit_list   l;
	int64_t			     n, before, after;
	int			     i, ordered;

	hx_store_audit_add(st, 1000, "alice", "user.add", "bob", "{}",
	    "192.0.2.1", &err);
	hx_store_audit_add(st, 3000, "alice", "user.delete", "bob", NULL, NULL,
	    &err);
	hx_store_audit_add(st, 2000, "root@local", "user.add", "carol", NULL,
	    NULL, &err);
	hx_store_audit_add(st, 3000, "bob", "login", NULL, NULL, "192.0.2.9",
	    &err);
	is_int(hx_store_audit_add(st, 0, "", "x", NULL, NULL, NULL, &err),
	    HX_STORE_INVALID, "audit needs an actor");
	clr();

	memset(&f, 0, sizeof f);
	f.since = 1000;
	is_int(hx_store_audit_query(st, &f, &l, &err), HX_STORE_OK, "query");
	is_int(l.n, 4, "four records since 1000");
	if (l.n == 4) {
		is_str(l.v[0].action, "login", "newest first, ties by id");
		is_str(l.v[1].action, "user.delete", "then the older tie");
		is_int(l.v[2].ts, 2000, "then 2000");
		is_int(l.v[3].ts, 1000, "then 1000");
		is_str(l.v[3].detail, "{}", "detail");
		is_str(l.v[3].remote, "192.0.2.1", "remote");
		ok(l.v[1].detail == NULL, "NULL detail stays NULL");
	}
	hx_store_audit_list_release(&l);

	f.actor = "alice";
	hx_store_audit_query(st, &f, &l, &err);
	is_int(l.n, 2, "by actor");
	hx_store_audit_list_release(&l);
	f.action = "user.add";
	hx_store_audit_query(st, &f, &l, &err);
	ok(l.n == 1 && strcmp(l.v[0].target, "bob") == 0,
	    "by actor and action");
	hx_store_audit_list_release(&l);
	f.actor = NULL;
	hx_store_audit_query(st, &f, &l, &err);
	is_int(l.n, 2, "by action");
	hx_store_audit_list_release(&l);
	f.action = NULL;
	f.since = 2000;
	hx_store_audit_query(st, &f, &l, &err);
	is_int(l.n, 3, "since 2000 (inclusive)");
	hx_store_audit_list_release(&l);
	f.since = 1000;
	f.limit = 1;
	hx_store_audit_query(st, &f, &l, &err);
	ok(l.n == 1 && strcmp(l.v[0].action, "login") == 0, "limit 1");
	hx_store_audit_list_release(&l);
	f.actor = "nobody";
	f.limit = 0;
	hx_store_audit_query(st, &f, &l, &err);
	ok(l.n == 0 && l.v == NULL, "no match");
	hx_store_audit_list_release(&l);

	/* Default limit 100, newest first across many records. */
	before = hx_wall_ms();
	for (i = 0; i < 110; i++)
		hx_store_audit_add(st, 10000 + i, "bulk", "tick", NULL, NULL,
		    NULL, &err);
	hx_store_audit_add(st, 0, "now", "stamp", NULL, NULL, NULL, &err);
	after = hx_wall_ms();
	is_int(hx_store_audit_query(st, NULL, &l, &err), HX_STORE_OK,
	    "query with defaults");
	is_int(l.n, 100, "default limit 100");
	ok(l.n > 0 && strcmp(l.v[0].actor, "now") == 0 && l.v[0].ts >= before &&
		l.v[0].ts <= after,
	    "ts 0 means now");
	for (ordered = 1, i = 1; i < (int)l.n; i++)
		ordered &= l.v[i - 1].ts >= l.v[i].ts;
	ok(ordered, "in descending ts order");
	hx_store_audit_list_release(&l);
	memset(&f, 0, sizeof f);
	f.limit = 5000;
	hx_store_audit_query(st, &f, &l, &err);
	is_int(l.n, 116, "a huge limit is capped, not refused");
	hx_store_audit_list_release(&l);

	is_int(hx_store_audit_purge(st, 10000, &n, &err), HX_STORE_OK, "purge");
	is_int(n, 5, "old records purged (the open test's one too)");
	hx_store_audit_query(st,
	    &(struct hx_store_audit_filter){ NULL, NULL, 0, 1000 }, &l, &err);
	is_int(l.n, 111, "the rest stay");
	hx_store_audit_list_release(&l);
	test_audit_cap(st);
}

static void
test_snapshot(struct hx_store *st)
{
	struct hx_store_snapshot *snap = NULL;
	const char *const	  sub[] = { "Auditor", NULL };
	size_t			  i;
	int			  hashes;

	hx_store_role_add(st, "Viewer", HX_PRIV_VM_AUDIT, &err);
	hx_store_acl_put(st, "/vms/web-1", "Viewer", "frank", 1, &err);
	hx_store_key_add(st, "ks", "alice", "snap", HASH_B, sub, 123, &err);
	hx_store_session_add(st, "js", "alice", 500, 900, "tok", NULL, &err);

	is_int(hx_store_snapshot(st, &snap, &err), HX_STORE_OK, "snapshot");
	if (snap == NULL)
		return;
	is_int(snap->users.n, 3, "users (Alice, alice, frank)");
	if (snap->users.n == 3) {
		is_str(snap->users.v[1].username, "alice", "alice");
		is_str(snap->users.v[1].realm, "local", "realm");
		is_int(snap->users.v[1].enabled, 1, "enabled");
		ok(snap->users.v[1].roles.n == 1 &&
			strcmp(snap->users.v[1].roles.v[0], "Administrator") ==
			    0,
		    "roles");
		is_str(snap->users.v[0].realm, "pam", "Alice is pam");
	}
	for (hashes = 0, i = 0; i < snap->users.n; i++)
		hashes += snap->users.v[i].password_hash != NULL;
	is_int(hashes, 0, "no password hashes in a snapshot");
	ok(snap->roles.n == 2 && strcmp(snap->roles.v[1].name, "Viewer") == 0 &&
		snap->roles.v[1].privs == HX_PRIV_VM_AUDIT,
	    "custom roles");
	is_int(snap->acl.n, 2, "ACL entries (frank's two)");
	for (i = 0; i < snap->acl.n; i++) {
		if (strcmp(snap->acl.v[i].role, "Viewer") == 0)
			break;
	}
	ok(i < snap->acl.n && strcmp(snap->acl.v[i].username, "frank") == 0 &&
		strcmp(snap->acl.v[i].path, "/vms/web-1") == 0 &&
		snap->acl.v[i].propagate == 1,
	    "the Viewer entry");
	is_int(snap->keys.n, 2, "keys (k4, ks)");
	if (snap->keys.n == 2) {
		is_str(snap->keys.v[1].keyid, "ks", "keyid");
		is_str(snap->keys.v[1].username, "alice", "key owner");
		is_str(snap->keys.v[1].hash, HASH_B, "key hash");
		ok(snap->keys.v[1].restricted && snap->keys.v[1].roles.n == 1 &&
			strcmp(snap->keys.v[1].roles.v[0], "Auditor") == 0,
		    "key subset");
		is_int(snap->keys.v[1].expires, 123, "key expiry");
		is_int(snap->keys.v[0].restricted, 0, "k4 unrestricted");
	}
	is_int(snap->sessions.n, 1, "sessions");
	if (snap->sessions.n == 1) {
		is_str(snap->sessions.v[0].jti, "js", "jti");
		is_str(snap->sessions.v[0].username, "alice", "session user");
		is_int(snap->sessions.v[0].expires, 500, "expires");
		is_int(snap->sessions.v[0].absolute_expires, 900, "absolute");
		is_str(snap->sessions.v[0].csrf_token, "tok", "csrf");
	}
	hx_store_snapshot_free(snap);
	hx_store_snapshot_free(NULL);
}

/* Do two snapshots hold the same keys and sessions, field by field? */
static int
same_keys_sessions(const struct hx_store_snapshot *a,
    const struct hx_store_snapshot		  *b)
{
	size_t i;

	if (a->keys.n != b->keys.n || a->sessions.n != b->sessions.n)
		return 0;
	for (i = 0; i < a->keys.n; i++) {
		if (strcmp(a->keys.v[i].keyid, b->keys.v[i].keyid) != 0 ||
		    strcmp(a->keys.v[i].username, b->keys.v[i].username) != 0 ||
		    strcmp(a->keys.v[i].hash, b->keys.v[i].hash) != 0 ||
		    a->keys.v[i].last_used != b->keys.v[i].last_used ||
		    a->keys.v[i].restricted != b->keys.v[i].restricted)
			return 0;
	}
	for (i = 0; i < a->sessions.n; i++) {
		if (strcmp(a->sessions.v[i].jti, b->sessions.v[i].jti) != 0 ||
		    a->sessions.v[i].expires != b->sessions.v[i].expires ||
		    a->sessions.v[i].last_seen != b->sessions.v[i].last_seen)
			return 0;
	}
	return 1;
}

/*
 * The daemon changes its snapshot in place for one key or session; the
 * result must be what a reload from the database gives.
 */
static void
test_snapshot_deltas(struct hx_store *st)
{
	struct hx_store_snapshot *snap = NULL, *fresh = NULL;
	struct hx_store_key	  k;
	struct hx_store_session	  se;
	const char *const	  add[] = { "kzz", "k0a", "km", NULL };
	const char *const	  jtis[] = { "jz", "ja", "jm", NULL };
	size_t			  i, before;

	if (hx_store_snapshot(st, &snap, &err) != HX_STORE_OK) {
		ok(0, "snapshot for deltas: %s", err);
		clr();
		return;
	}
	before = snap->keys.n;
	for (i = 0; add[i] != NULL; i++) {
		hx_store_key_add(st, add[i], "alice", add[i], HASH_A, NULL, 0,
		    &err);
		memset(&k, 0, sizeof k);
		is_int(hx_store_key_get(st, add[i], &k, &err), HX_STORE_OK,
		    "get the new key");
		hx_store_snapshot_key_put(snap, &k);
		ok(k.keyid == NULL, "put takes the record over");
		hx_store_key_release(&k);
	}
	is_int((int)snap->keys.n, (int)before + 3, "three keys put");
	for (i = 1; i < snap->keys.n; i++) {
		if (strcmp(snap->keys.v[i - 1].keyid, snap->keys.v[i].keyid) >=
		    0)
			break;
	}
	is_int((int)i, (int)snap->keys.n, "keys stay sorted by keyid");
	/* A used key: the same keyid put again replaces it. */
	hx_store_key_touch(st, "km", 4242, &err);
	hx_store_key_get(st, "km", &k, &err);
	hx_store_snapshot_key_put(snap, &k);
	is_int((int)snap->keys.n, (int)before + 3,
	    "a put of a known key "
	    "replaces it");
	hx_store_key_delete(st, NULL, "kzz", &err);
	is_int(hx_store_snapshot_key_drop(snap, "kzz"), 0, "drop a key");
	is_int(hx_store_snapshot_key_drop(snap, "kzz"), -1,
	    "drop an absent key");
	for (i = 0; jtis[i] != NULL; i++) {
		hx_store_session_add(st, jtis[i], "alice", 100 + (int64_t)i,
		    900, "tok", "::1", &err);
		memset(&se, 0, sizeof se);
		hx_store_session_get(st, jtis[i], &se, &err);
		hx_store_snapshot_session_put(snap, &se);
	}
	hx_store_session_delete(st, "jm", &err);
	is_int(hx_store_snapshot_session_drop(snap, "jm"), 0, "drop a session");
	is_int(hx_store_snapshot_session_drop(snap, "nope"), -1,
	    "drop an absent session");
	/* "jz" ends at 100: purged at 100, with nothing else. */
	hx_store_session_purge(st, 100, NULL, &err);
	is_int((int)hx_store_snapshot_session_purge(snap, 100), 1,
	    "purge removes the expired session");
	clr();
	if (hx_store_snapshot(st, &fresh, &err) != HX_STORE_OK) {
		ok(0, "fresh snapshot: %s", err);
		clr();
	} else
		ok(same_keys_sessions(snap, fresh),
		    "the changed snapshot is "
		    "what a reload gives");
	hx_store_snapshot_free(fresh);
	hx_store_snapshot_free(snap);
}

/* A second connection on the same file, as the daemon's reader. */
static void
test_two_connections(const char *path, struct hx_store *st)
{
	struct hx_store	    *rd = NULL;
	struct hx_store_user u;

	is_int(hx_store_open(path, &rd, &err), HX_STORE_OK,
	    "second connection");
	clr();
	if (rd == NULL)
		return;
	hx_store_user_add(st, "lena", "local", NULL, 1, NULL, NULL, &err);
	is_int(hx_store_user_get(rd, "lena", &u, &err), HX_STORE_OK,
	    "reader sees the writer's commit");
	hx_store_user_release(&u);
	hx_store_user_delete(rd, "lena", &err);
	is_int(hx_store_user_get(st, "lena", &u, &err), HX_STORE_NOT_FOUND,
	    "and the other way round");
	clr();
	hx_store_close(rd);
}

/* Each writer thread: its own connection, WRITES transactions. */
#define WRITES 40

static void *
writer(void *arg)
{
	struct hx_store *w = NULL;
	char		*e = NULL;
	intptr_t	 good = 0;
	int		 i;

	if (hx_store_open(arg, &w, &e) != HX_STORE_OK) {
		free(e);
		return (void *)good;
	}
	for (i = 0; i < WRITES; i++) {
		if (hx_store_audit_add(w, 0, "thread", "race", NULL, NULL, NULL,
			&e) == HX_STORE_OK)
			good++;
		free(e);
		e = NULL;
	}
	hx_store_close(w);
	return (void *)good;
}

static void
test_concurrent_writers(const char *path, struct hx_store *st)
{
	struct hx_store_audit_filter f = { "thread", "race", 0, 1000 };
	struct hx_store_audit_list   l;
	pthread_t		     t1, t2;
	void			    *r1 = NULL, *r2 = NULL;

	pthread_create(&t1, NULL, writer, (void *)path);
	pthread_create(&t2, NULL, writer, (void *)path);
	pthread_join(t1, &r1);
	pthread_join(t2, &r2);
	is_int((intptr_t)r1 + (intptr_t)r2, 2 * WRITES,
	    "two connections writing at once: no SQLITE_BUSY");
	hx_store_audit_query(st, &f, &l, &err);
	is_int(l.n, 2 * WRITES, "every record is there");
	hx_store_audit_list_release(&l);
}

/* Alert rules by name and alert episodes (hx-store-alert.c). */
static void
test_alerts(struct hx_store *st)
{
	struct hx_store_strv	   names, docs;
	struct hx_store_alert	   a, got;
	struct hx_store_alert_list l;
	int64_t			   n = -1;
	char			  *doc = NULL;

	is_int(hx_store_alert_rules(st, &names, &docs, &err), HX_STORE_OK,
	    "rules listed");
	ok(names.n == 4 && strcmp(names.v[0], "node-cpu") == 0 &&
		strcmp(names.v[3], "vm-crashed") == 0 &&
		strstr(docs.v[0], "\"threshold\":90") != NULL,
	    "the four shipped rules, by name, with their JSON");
	hx_store_strv_release(&names);
	hx_store_strv_release(&docs);
	is_int(hx_store_alert_rule_put(st, "r'1", "{\"a\":1}", 1, &err),
	    HX_STORE_OK, "a rule added");
	is_int(hx_store_alert_rule_put(st, "r'1", "{}", 1, &err),
	    HX_STORE_CONFLICT, "the same name again: conflict");
	is_str(err, "rule 'r\\'1' already exists", "with the message");
	clr();
	is_int(hx_store_alert_rule_put(st, "r'1", "{\"a\":2}", 0, &err),
	    HX_STORE_OK, "replaced");
	is_int(hx_store_alert_rule_get(st, "r'1", &doc, &err), HX_STORE_OK,
	    "read back");
	is_str(doc, "{\"a\":2}", "the new text");
	free(doc);
	is_int(hx_store_alert_rule_put(st, "nope", "{}", 0, &err),
	    HX_STORE_NOT_FOUND, "replacing an unknown rule: not found");
	clr();
	is_int(hx_store_alert_rule_delete(st, "r'1", &err), HX_STORE_OK,
	    "deleted");
	is_int(hx_store_alert_rule_delete(st, "r'1", &err), HX_STORE_NOT_FOUND,
	    "deleted twice: not found");
	clr();
	is_int(hx_store_alert_rule_get(st, "r'1", &doc, &err),
	    HX_STORE_NOT_FOUND, "gone");
	clr();

	memset(&a, 0, sizeof a);
	a.alert_id = "a1";
	a.rule_name = "node-cpu";
	a.severity = "warning";
	a.target = "node:h";
	a.track = "node-cpu\x1fnode:cpu_usage";
	a.series = "node:cpu_usage";
	a.value = 95;
	a.threshold = 90;
	a.peak = 95;
	a.started_at = 1000;
	is_int(hx_store_alert_insert(st, &a, &err), HX_STORE_OK, "episode a1");
	a.alert_id = "a2";
	a.vm = "web-1";
	a.target = "vm:web-1";
	a.threshold = NAN;
	a.value = NAN;
	a.peak = NAN;
	a.started_at = 2000;
	is_int(hx_store_alert_insert(st, &a, &err), HX_STORE_OK, "episode a2");
	is_int(hx_store_alert_list(st, HX_STORE_ALERT_FIRING, 0, &l, &err),
	    HX_STORE_OK, "firing listed");
	ok(l.n == 2 && strcmp(l.v[0].alert_id, "a2") == 0 &&
		isnan(l.v[0].value) && strcmp(l.v[0].vm, "web-1") == 0 &&
		l.v[1].vm == NULL && l.v[1].value == 95 &&
		l.v[1].resolved_at == 0,
	    "newest first; NaN is null; the node has no vm");
	hx_store_alert_list_release(&l);
	is_int(hx_store_alert_resolve(st, "a1", 5000, 99, 80, &err),
	    HX_STORE_OK, "a1 resolved");
	is_int(hx_store_alert_ack(st, "a2", "bob@local", 3000, "on it", &err),
	    HX_STORE_OK, "a2 acknowledged");
	is_int(hx_store_alert_ack(st, "a9", "bob@local", 3000, NULL, &err),
	    HX_STORE_NOT_FOUND, "an unknown alert: not found");
	clr();
	is_int(hx_store_alert_get(st, "a2", &got, &err), HX_STORE_OK, "a2");
	ok(strcmp(got.acked_by, "bob@local") == 0 && got.acked_at == 3000 &&
		strcmp(got.comment, "on it") == 0,
	    "who, when and the comment");
	hx_store_alert_release(&got);
	is_int(hx_store_alert_list(st, HX_STORE_ALERT_RESOLVED, 0, &l, &err),
	    HX_STORE_OK, "resolved listed");
	ok(l.n == 1 && l.v[0].resolved_at == 5000 && l.v[0].peak == 99 &&
		l.v[0].value == 80,
	    "a1: resolved at, peak and last value");
	hx_store_alert_list_release(&l);
	is_int(hx_store_alert_list(st, HX_STORE_ALERT_ALL, 1, &l, &err),
	    HX_STORE_OK, "all, limited");
	ok(l.n == 1, "the limit holds");
	hx_store_alert_list_release(&l);
	/* Expiry: only resolved episodes, only before the time. */
	is_int(hx_store_alert_purge(st, 5000, &n, &err), HX_STORE_OK,
	    "purge before the end");
	is_int((int)n, 0, "nothing ended before 5000");
	is_int(hx_store_alert_purge(st, 5001, &n, &err), HX_STORE_OK,
	    "purge after it");
	is_int((int)n, 1, "a1 expired, a2 (firing) kept");
	is_int(hx_store_alert_get(st, "a1", &got, &err), HX_STORE_NOT_FOUND,
	    "a1 is gone");
	clr();
	is_int(hx_store_alert_get(st, "a2", &got, &err), HX_STORE_OK,
	    "a2 stays");
	hx_store_alert_release(&got);
}

int
main(void)
{
	struct hx_store *st = NULL;
	char		*path;
	sqlite3		*db;

	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: cannot create %s\n", tmpdir);
		return 1;
	}
	path = path_of("horcrux.db");
	test_open(path);
	test_versions();

	if (hx_store_open(path, &st, &err) != HX_STORE_OK) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	test_users(st);
	test_external(st);
	test_hostile_names(st);
	test_roles(st);
	test_acl(st);
	test_keys(st);
	test_sessions(st);
	test_cascade(st);
	test_last_admin(st);
	test_audit(st);
	test_alerts(st);
	test_snapshot(st);
	test_snapshot_deltas(st);
	test_two_connections(path, st);
	test_concurrent_writers(path, st);
	test_credentials();
	test_audit_realms();

	db = hx_store_handle(st);
	is_str(sql_str(db, "PRAGMA integrity_check"), "ok", "integrity_check");
	is_int(sql_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0,
	    "foreign_key_check finds nothing");
	hx_store_close(st);
	clr();
	free(path);
	rm_tmpdir();
	return done_testing();
}
