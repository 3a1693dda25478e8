/*
 * test-rbac.c - access evaluation: the built-in roles as DESIGN §5 spells
 * them, inheritance, override and propagate, API key subsets, path and
 * name validation, and the /api/auth/me rendering.
 */
#include <stdlib.h>
#include <string.h>

#include "hx-rbac.h"
#include "hx-util.h"
#include "tap.h"

#define G(n) (sizeof(n) / sizeof((n)[0]))

/* Privileges written as DESIGN §5 lists them, space-separated. */
static hx_privs
design(const char *list)
{
	char	*copy = xstrdup(list), *word, *save = NULL;
	hx_privs p = 0, bit;

	for (word = strtok_r(copy, " ", &save); word != NULL;
	     word = strtok_r(NULL, " ", &save)) {
		bit = hx_priv_from_name(word);
		if (bit == 0)
			ok(0, "DESIGN name '%s' is a privilege", word);
		p |= bit;
	}
	free(copy);
	return p;
}

static const char *all_paths[] = {
	"/",
	"/vms",
	"/vms/x",
	"/nodes",
	"/nodes/n",
	"/storage",
	"/storage/local",
	"/access",
};

static void
builtin_roles(void)
{
	static const struct {
		const char *name;
		const char *scope;
		const char *privs;
	} want[] = {
		{ "Administrator", "/",
		    "VmAllocate VmConfig VmPowerMgmt "
		    "VmMigrate VmSnapshot VmBackup VmConsole VmAudit "
		    "DatastoreAllocate DatastoreAudit SysModify SysAudit "
		    "UserModify PermissionsModify PoolAllocate" },
		{ "VmAdmin", "/vms",
		    "VmAllocate VmConfig VmPowerMgmt "
		    "VmMigrate VmSnapshot VmBackup VmConsole VmAudit" },
		{ "VmUser", "/vms", "VmPowerMgmt VmConsole VmAudit" },
		{ "StorageAdmin", "/storage",
		    "DatastoreAllocate "
		    "DatastoreAudit PoolAllocate" },
		{ "Auditor", "/", "VmAudit DatastoreAudit SysAudit" },
	};
	const struct hx_role_def *r;
	size_t			  i;

	is_int(__builtin_popcount(design(want[0].privs)), 15,
	    "Administrator lists all 15 privileges");
	for (i = 0; i < G(want); i++) {
		r = hx_rbac_builtin(want[i].name);
		ok(r != NULL, "built-in %s exists", want[i].name);
		if (r == NULL)
			continue;
		is_str(r->name, want[i].name, "%s: name", want[i].name);
		is_int(r->privs, design(want[i].privs), "%s: exact privileges",
		    want[i].name);
		is_str(r->scope, want[i].scope, "%s: scope", want[i].name);
		ok(hx_rbac_builtin_at(i) == r, "%s: iteration order",
		    want[i].name);
	}
	ok(hx_rbac_builtin_at(G(want)) == NULL, "iteration ends after 5");
	ok(hx_rbac_builtin("administrator") == NULL,
	    "lookup is case-sensitive");
	ok(hx_rbac_builtin("NoSuchRole") == NULL, "unknown role");
	ok(hx_rbac_builtin(NULL) == NULL, "NULL name");
}

static void
role_grants(void)
{
	const struct hx_role_def ops = { "Ops", HX_PRIV_SYS_AUDIT, NULL };
	struct hx_grant		 g;

	g = hx_rbac_role_grant(hx_rbac_builtin("VmUser"));
	is_str(g.path, "/vms", "role grant: at the role's scope");
	ok(g.propagate == 1, "role grant: propagates");
	g = hx_rbac_role_grant(&ops);
	is_str(g.path, "/", "custom role without scope applies at /");
	g = hx_rbac_acl_grant(hx_rbac_builtin("Auditor"), "/vms/web-1", 7);
	is_str(g.path, "/vms/web-1", "ACL grant: at the entry's path");
	is_int(g.privs, design("VmAudit DatastoreAudit SysAudit"),
	    "ACL grant: the role's privileges");
	is_int(g.propagate, 1, "ACL grant: propagate flag normalised");
}

static void
evaluation(void)
{
	const struct hx_role_def *admin = hx_rbac_builtin("Administrator");
	const struct hx_role_def *vmuser = hx_rbac_builtin("VmUser");
	const struct hx_role_def *vmadmin = hx_rbac_builtin("VmAdmin");
	const struct hx_role_def *auditor = hx_rbac_builtin("Auditor");
	hx_privs		  vu = design("VmPowerMgmt VmConsole "
							       "VmAudit");
	hx_privs		  au = design("VmAudit DatastoreAudit "
							       "SysAudit");
	hx_privs		  va = design("VmAllocate VmConfig "
							       "VmPowerMgmt VmMigrate VmSnapshot "
							       "VmBackup VmConsole VmAudit");
	struct hx_grant		  g[4];
	size_t			  i;

	/* Administrator: everything everywhere. */
	g[0] = hx_rbac_role_grant(admin);
	for (i = 0; i < G(all_paths); i++) {
		is_int(hx_rbac_effective(g, 1, all_paths[i]), HX_PRIV_ALL,
		    "Administrator: all on %s", all_paths[i]);
	}
	ok(hx_rbac_allowed(g, 1, "/access",
	       HX_PRIV_USER_MODIFY | HX_PRIV_PERMISSIONS_MODIFY),
	    "Administrator: may manage /access");

	/* VmUser at /vms. */
	g[0] = hx_rbac_role_grant(vmuser);
	ok(hx_rbac_allowed(g, 1, "/vms/x", HX_PRIV_VM_POWER_MGMT),
	    "VmUser: VmPowerMgmt on /vms/x");
	is_int(hx_rbac_effective(g, 1, "/vms/x"), vu,
	    "VmUser: exactly its privileges on /vms/x");
	is_int(hx_rbac_effective(g, 1, "/vms"), vu, "VmUser: same on /vms");
	is_int(hx_rbac_effective(g, 1, "/nodes"), 0,
	    "VmUser: nothing on /nodes");
	is_int(hx_rbac_effective(g, 1, "/nodes/n"), 0,
	    "VmUser: nothing on /nodes/n");
	is_int(hx_rbac_effective(g, 1, "/"), 0, "VmUser: nothing on /");
	ok(!hx_rbac_allowed(g, 1, "/vms/x", HX_PRIV_VM_CONFIG),
	    "VmUser: no VmConfig on /vms/x");
	ok(!hx_rbac_allowed(g, 1, "/vms/x",
	       HX_PRIV_VM_POWER_MGMT | HX_PRIV_VM_CONFIG),
	    "allowed needs every bit");
	ok(hx_rbac_allowed(g, 1, "/nodes", 0), "needing nothing is allowed");

	/* Auditor at /. */
	g[0] = hx_rbac_role_grant(auditor);
	ok(hx_rbac_allowed(g, 1, "/nodes/n", HX_PRIV_SYS_AUDIT),
	    "Auditor: SysAudit on /nodes/n");
	ok(hx_rbac_allowed(g, 1, "/vms/x", HX_PRIV_VM_AUDIT),
	    "Auditor: VmAudit on /vms/x");
	ok(!hx_rbac_allowed(g, 1, "/vms/x", HX_PRIV_VM_POWER_MGMT),
	    "Auditor: no VmPowerMgmt on /vms/x");
	is_int(hx_rbac_effective(g, 1, "/storage/local"), au,
	    "Auditor: exactly its privileges on /storage/local");

	/* No grants at all. */
	is_int(hx_rbac_effective(NULL, 0, "/"), 0, "no grants: nothing on /");
	is_int(hx_rbac_effective(NULL, 0, "/vms/x"), 0,
	    "no grants: nothing on /vms/x");

	/* VmUser through an ACL on one VM, no roles. */
	g[0] = hx_rbac_acl_grant(vmuser, "/vms/web-1", 1);
	ok(hx_rbac_allowed(g, 1, "/vms/web-1", HX_PRIV_VM_AUDIT),
	    "ACL user: VmAudit on /vms/web-1");
	is_int(hx_rbac_effective(g, 1, "/vms/web-2"), 0,
	    "ACL user: nothing on /vms/web-2");
	is_int(hx_rbac_effective(g, 1, "/vms"), 0, "ACL user: nothing on /vms");
	is_int(hx_rbac_effective(g, 1, "/"), 0, "ACL user: nothing on /");
	is_int(hx_rbac_effective(g, 1, "/vms/web-10"), 0,
	    "ACL user: /vms/web-1 is not a prefix of /vms/web-10");

	/* propagate=false stops at its own node. */
	g[0] = hx_rbac_acl_grant(vmadmin, "/vms", 0);
	is_int(hx_rbac_effective(g, 1, "/vms"), va,
	    "no propagate: applies on /vms");
	is_int(hx_rbac_effective(g, 1, "/vms/x"), 0,
	    "no propagate: not on /vms/x");
	/* ... and is skipped when looking through it from below. */
	g[0] = hx_rbac_role_grant(admin);
	g[1].path = "/vms";
	g[1].privs = 0;
	g[1].propagate = 0;
	is_int(hx_rbac_effective(g, 2, "/vms"), 0,
	    "empty non-propagating grant empties /vms");
	is_int(hx_rbac_effective(g, 2, "/vms/x"), HX_PRIV_ALL,
	    "below it, / is inherited again");
	g[1].propagate = 1;
	is_int(hx_rbac_effective(g, 2, "/vms/x"), 0,
	    "empty propagating grant takes /vms/x away from Administrator");
	is_int(hx_rbac_effective(g, 2, "/nodes/n"), HX_PRIV_ALL,
	    "... but not /nodes/n");

	/* Deeper entries override inherited ones. */
	g[0] = hx_rbac_role_grant(admin);
	g[1] = hx_rbac_acl_grant(auditor, "/vms/web-1", 1);
	is_int(hx_rbac_effective(g, 2, "/vms/web-1"), au,
	    "override: only Auditor's privileges on /vms/web-1");
	ok(!hx_rbac_allowed(g, 2, "/vms/web-1", HX_PRIV_VM_POWER_MGMT),
	    "override: no VmPowerMgmt on /vms/web-1");
	is_int(hx_rbac_effective(g, 2, "/vms/web-2"), HX_PRIV_ALL,
	    "override: all on /vms/web-2");
	is_int(hx_rbac_effective(g, 2, "/vms"), HX_PRIV_ALL,
	    "override: all on /vms");

	/* Union at one level. */
	g[0] = hx_rbac_acl_grant(vmuser, "/vms/web-1", 1);
	g[1] = hx_rbac_acl_grant(auditor, "/vms/web-1", 0);
	is_int(hx_rbac_effective(g, 2, "/vms/web-1"), vu | au,
	    "union of two ACL entries on /vms/web-1");
	g[0] = hx_rbac_role_grant(vmuser);
	g[1] = hx_rbac_acl_grant(vmadmin, "/vms", 0);
	g[2] = hx_rbac_acl_grant(auditor, "/vms", 1);
	is_int(hx_rbac_effective(g, 3, "/vms"), vu | va | au,
	    "union of a role and two ACL entries on /vms");
	is_int(hx_rbac_effective(g, 3, "/vms/x"), vu | au,
	    "below /vms: only the propagating ones");
	is_int(hx_rbac_effective(g, 3, "/nodes"), 0,
	    "nothing on /nodes from /vms grants");

	/* Invalid paths are denied, whatever the grants. */
	g[0] = hx_rbac_role_grant(admin);
	is_int(hx_rbac_effective(g, 1, "/vms/a/b"), 0, "deny /vms/a/b");
	is_int(hx_rbac_effective(g, 1, "/vms/.."), 0, "deny /vms/..");
	is_int(hx_rbac_effective(g, 1, "/vms/"), 0, "deny /vms/");
	is_int(hx_rbac_effective(g, 1, "vms"), 0, "deny relative path");
	is_int(hx_rbac_effective(g, 1, NULL), 0, "deny NULL path");
}

static void
any_at_or_below(void)
{
	const struct hx_role_def audit_only = { "A", HX_PRIV_VM_AUDIT, NULL };
	const struct hx_role_def console_only = { "C", HX_PRIV_VM_CONSOLE,
		NULL };
	struct hx_grant		 g[2];

	g[0] = hx_rbac_acl_grant(&audit_only, "/vms/web-1", 1);
	ok(hx_rbac_any_at_or_below(g, 1, "/vms", HX_PRIV_VM_AUDIT),
	    "VmAudit on /vms/web-1 only: visible under /vms");
	ok(hx_rbac_any_at_or_below(g, 1, "/", HX_PRIV_VM_AUDIT),
	    "... and under /");
	ok(hx_rbac_any_at_or_below(g, 1, "/vms/web-1", HX_PRIV_VM_AUDIT),
	    "... and on /vms/web-1 itself");
	ok(!hx_rbac_any_at_or_below(g, 1, "/vms/web-2", HX_PRIV_VM_AUDIT),
	    "... not on /vms/web-2");
	ok(!hx_rbac_any_at_or_below(g, 1, "/nodes", HX_PRIV_VM_AUDIT),
	    "... not under /nodes");
	ok(!hx_rbac_any_at_or_below(g, 1, "/vms", HX_PRIV_SYS_AUDIT),
	    "... other privileges are not");
	ok(!hx_rbac_any_at_or_below(g, 1, "/vms/a/b", HX_PRIV_VM_AUDIT),
	    "... invalid path: false");

	g[1] = hx_rbac_acl_grant(&console_only, "/vms/web-2", 1);
	ok(hx_rbac_any_at_or_below(g, 2, "/vms", HX_PRIV_VM_CONSOLE),
	    "VmConsole on /vms/web-2: visible under /vms");
	ok(!hx_rbac_any_at_or_below(g, 2, "/vms",
	       HX_PRIV_VM_AUDIT | HX_PRIV_VM_CONSOLE),
	    "bits held on different paths are not pooled");

	/* An empty /vms that does not propagate hides nothing below it. */
	g[0] = hx_rbac_role_grant(hx_rbac_builtin("Administrator"));
	g[1].path = "/vms";
	g[1].privs = 0;
	g[1].propagate = 0;
	ok(hx_rbac_any_at_or_below(g, 2, "/vms", HX_PRIV_VM_AUDIT),
	    "Administrator with an empty /vms: VMs below are still visible");
	g[1].propagate = 1;
	ok(!hx_rbac_any_at_or_below(g, 2, "/vms", HX_PRIV_VM_AUDIT),
	    "with an empty propagating /vms: nothing visible under /vms");
	ok(hx_rbac_any_at_or_below(g, 2, "/", HX_PRIV_VM_AUDIT),
	    "... though / itself still has VmAudit");
}

static void
api_keys(void)
{
	struct hx_grant	   user, keyg;
	struct hx_rbac_key key = { &keyg, 1, 1 };
	struct hx_rbac_key full = { NULL, 0, 0 };
	struct hx_rbac_key empty = { NULL, 0, 1 };
	hx_privs	   vu = design("VmPowerMgmt VmConsole VmAudit");

	/* An Administrator's key limited to VmUser. */
	user = hx_rbac_role_grant(hx_rbac_builtin("Administrator"));
	keyg = hx_rbac_role_grant(hx_rbac_builtin("VmUser"));
	ok(hx_rbac_effective_key(&user, 1, &key, "/vms/x") &
		HX_PRIV_VM_POWER_MGMT,
	    "admin's VmUser key: VmPowerMgmt on /vms/x");
	is_int(hx_rbac_effective_key(&user, 1, &key, "/vms/x"), vu,
	    "admin's VmUser key: exactly VmUser on /vms/x");
	is_int(hx_rbac_effective_key(&user, 1, &key, "/nodes") &
		HX_PRIV_SYS_AUDIT,
	    0, "admin's VmUser key: no SysAudit on /nodes");
	is_int(hx_rbac_effective_key(&user, 1, &key, "/"), 0,
	    "admin's VmUser key: nothing on /");
	ok(!hx_rbac_any_at_or_below_key(&user, 1, &key, "/", HX_PRIV_SYS_AUDIT),
	    "admin's VmUser key: SysAudit nowhere");
	ok(hx_rbac_any_at_or_below_key(&user, 1, &key, "/", HX_PRIV_VM_AUDIT),
	    "admin's VmUser key: VmAudit somewhere");
	is_int(hx_rbac_effective_key(&user, 1, &full, "/nodes"), HX_PRIV_ALL,
	    "key without subset: the user's full rights");
	is_int(hx_rbac_effective_key(&user, 1, NULL, "/nodes"), HX_PRIV_ALL,
	    "no key: the user's full rights");
	is_int(hx_rbac_effective_key(&user, 1, &empty, "/vms/x"), 0,
	    "key with an empty subset: nothing");

	/* A VmUser's key claiming Administrator. */
	user = hx_rbac_role_grant(hx_rbac_builtin("VmUser"));
	keyg = hx_rbac_role_grant(hx_rbac_builtin("Administrator"));
	is_int(hx_rbac_effective_key(&user, 1, &key, "/vms/x"), vu,
	    "VmUser's Administrator key: still only VmUser on /vms/x");
	is_int(hx_rbac_effective_key(&user, 1, &key, "/nodes"), 0,
	    "VmUser's Administrator key: nothing on /nodes");
	is_int(hx_rbac_effective_key(&user, 1, &key, "/access"), 0,
	    "VmUser's Administrator key: nothing on /access");
}

static void
paths(void)
{
	static const char *good[] = {
		"/",
		"/vms",
		"/vms/web-1",
		"/vms/web 1",
		"/vms/caf\xc3\xa9",
		"/vms/\xe6\x97\xa5\xe6\x9c\xac",
		"/vms/...",
		"/vms/.x",
		"/nodes",
		"/nodes/n1",
		"/storage",
		"/storage/local",
		"/access",
		"/vms/a{b}",
	};
	static const struct {
		const char *path;
		const char *why;
	} bad[] = {
		{ "", "empty" },
		{ "vms", "relative" },
		{ "vms/x", "relative with segment" },
		{ "/vms/", "trailing slash" },
		{ "/vms//x", "empty segment" },
		{ "//", "empty root segment" },
		{ "/vms/..", "dot-dot segment" },
		{ "/vms/.", "dot segment" },
		{ "/./vms", "dot root segment" },
		{ "/bogus", "unknown top level" },
		{ "/VMS", "top level is case-sensitive" },
		{ "/vms/a/b", "three segments" },
		{ "/access/x", "nothing below /access" },
		{ "/vms/a\tb", "control character" },
		{ "/vms/a\x7f", "DEL" },
		{ "/vms/\xc2\x85", "C1 control" },
		{ "/vms/\xff", "invalid UTF-8" },
		{ "/vms/\xc0\xaf", "overlong UTF-8" },
		{ "/vms/\xed\xa0\x80", "UTF-16 surrogate" },
		{ "/vms/\xe6\x97", "truncated UTF-8" },
	};
	char   seg[301], *p, *err;
	size_t i;

	for (i = 0; i < G(good); i++) {
		err = NULL;
		is_int(hx_rbac_path_ok(good[i], &err), 0, "path ok: %s",
		    good[i]);
		ok(err == NULL, "no error for a good path");
		free(err);
	}
	for (i = 0; i < G(bad); i++) {
		err = NULL;
		is_int(hx_rbac_path_ok(bad[i].path, &err), -1, "path bad: %s",
		    bad[i].why);
		ok(err != NULL && strncmp(err, "invalid ACL path", 16) == 0,
		    "error message: %s", err ? err : "(none)");
		free(err);
	}
	is_int(hx_rbac_path_ok(NULL, NULL), -1, "NULL path, NULL err");
	is_int(hx_rbac_path_ok("/bogus", NULL), -1, "err may be NULL");

	err = NULL;
	hx_rbac_path_ok("/bogus", &err);
	is_str(err, "invalid ACL path '/bogus': unknown top level 'bogus'",
	    "message names the path and the reason");
	free(err);
	err = NULL;
	hx_rbac_path_ok("/vms/a\nb", &err);
	is_str(err,
	    "invalid ACL path '/vms/a\\x0ab': control character or "
	    "invalid UTF-8",
	    "control characters are escaped in messages");
	free(err);

	{
		char *huge = xmalloc(HX_RBAC_SEGMENT_MAX + 2);

		memset(huge, 'a', HX_RBAC_SEGMENT_MAX + 1);
		huge[HX_RBAC_SEGMENT_MAX + 1] = '\0';
		p = xasprintf("/vms/%s", huge);
		err = NULL;
		is_int(hx_rbac_path_ok(p, &err), -1,
		    "over-long segment "
		    "refused");
		ok(err != NULL && strlen(err) < 200 &&
			strstr(err, "...") != NULL,
		    "long path is cut in the message");
		free(err);
		free(p);
		huge[HX_RBAC_SEGMENT_MAX] = '\0';
		p = xasprintf("/vms/%s", huge);
		is_int(hx_rbac_path_ok(p, NULL), 0, "longest segment accepted");
		free(p);
		free(huge);
	}
	memset(seg, 'a', 300);
	seg[300] = '\0';
	p = xasprintf("/vms/%s", seg);
	is_int(hx_rbac_path_ok(p, NULL), 0,
	    "300-byte segment (a long VM "
	    "name) accepted");
	free(p);
}

static void
names(void)
{
	const char *good[] = { "VmAudit", "SysAudit", "VmAudit" };
	const char *badl[] = { "VmAudit", "VmFly", "SysAudit" };
	const char *lower[] = { "vmaudit" };
	char	    long_name[66], *err;
	hx_privs    p;

	p = 12345;
	is_int(hx_rbac_privs_parse(good, 3, &p, NULL), 0, "privs parse");
	is_int(p, HX_PRIV_VM_AUDIT | HX_PRIV_SYS_AUDIT,
	    "... bits, duplicates ok");
	is_int(hx_rbac_privs_parse(NULL, 0, &p, NULL), 0, "empty list");
	is_int(p, 0, "... gives no privileges");
	p = 777;
	err = NULL;
	is_int(hx_rbac_privs_parse(badl, 3, &p, &err), -1, "unknown name");
	is_str(err, "unknown privilege 'VmFly'", "error names it");
	is_int(p, 777, "output untouched on error");
	free(err);
	err = NULL;
	is_int(hx_rbac_privs_parse(lower, 1, &p, &err), -1,
	    "names are case-sensitive");
	is_str(err, "unknown privilege 'vmaudit'", "... and named");
	free(err);

	memset(long_name, 'r', 65);
	long_name[65] = '\0';
	is_int(hx_rbac_role_name_ok(long_name, NULL), -1, "65-byte role name");
	long_name[64] = '\0';
	is_int(hx_rbac_role_name_ok(long_name, NULL), 0, "64-byte role name");
	is_int(hx_rbac_role_name_ok("a", NULL), 0, "1-byte role name");
	is_int(hx_rbac_role_name_ok("Ops_team-2.x", NULL), 0,
	    "letters, digits, _ . -");
	err = NULL;
	is_int(hx_rbac_role_name_ok("", &err), -1, "empty role name");
	is_str(err, "invalid role name: empty", "... message");
	free(err);
	is_int(hx_rbac_role_name_ok(NULL, NULL), -1, "NULL role name");
	err = NULL;
	is_int(hx_rbac_role_name_ok("a b", &err), -1, "space in role name");
	is_str(err,
	    "invalid role name 'a b': only letters, digits, '_', "
	    "'.' and '-' are allowed",
	    "... message");
	free(err);
	is_int(hx_rbac_role_name_ok("a/b", NULL), -1, "slash in role name");
	is_int(hx_rbac_role_name_ok("caf\xc3\xa9", NULL), -1,
	    "non-ASCII role name");
	is_int(hx_rbac_role_name_ok("..", NULL), -1, "'..' role name");
	is_int(hx_rbac_role_name_ok("Administrator", NULL), 0,
	    "built-in name is syntactically fine");
	err = NULL;
	is_int(hx_rbac_role_name_new_ok("Administrator", &err), -1,
	    "new role may not be called Administrator");
	is_str(err,
	    "role name 'Administrator' is taken by built-in role "
	    "'Administrator'",
	    "... message");
	free(err);
	is_int(hx_rbac_role_name_new_ok("vmuser", NULL), -1,
	    "... nor vmuser (case-insensitive clash)");
	is_int(hx_rbac_role_name_new_ok("Admin", NULL), 0,
	    "Admin is a fine new name");
	is_int(hx_rbac_role_name_new_ok("a b", NULL), -1,
	    "new name syntax checked too");

	/* DESIGN §5's one rule, for users, roles and keys alike. */
	is_int(hx_rbac_name_ok("username", "x..", NULL), 0,
	    "dots after the first character");
	is_int(hx_rbac_name_ok("username", "a.b-c_9", NULL), 0,
	    "every allowed character");
	is_int(hx_rbac_name_ok("username", ".", NULL), -1, "'.'");
	is_int(hx_rbac_name_ok("username", ".x", NULL), -1, "leading '.'");
	err = NULL;
	is_int(hx_rbac_name_ok("username", "-x", &err), -1, "leading '-'");
	is_str(err, "invalid username '-x': must not start with '.' or '-'",
	    "... message names the field");
	free(err);
	err = NULL;
	is_int(hx_rbac_name_ok("key name", "Root", &err), -1,
	    "'root' in any case is reserved");
	is_str(err,
	    "invalid key name 'Root': 'root' is reserved for local "
	    "trust",
	    "... message");
	free(err);
	is_int(hx_rbac_name_ok("username", "rooter", NULL), 0,
	    "only 'root' itself is reserved");
	is_int(hx_rbac_name_ok("username", "a@b", NULL), -1, "'@'");
	is_int(hx_rbac_name_ok("username", "a\x01", NULL), -1,
	    "control character");
	err = NULL;
	is_int(hx_rbac_name_ok("username", "a\x1b[31m", &err), -1,
	    "escape sequence");
	is_str(err,
	    "invalid username 'a\\x1b[31m': only letters, digits, "
	    "'_', '.' and '-' are allowed",
	    "... quoted in the message");
	free(err);
}

static void
path_fill(void)
{
	struct hx_grant g = hx_rbac_role_grant(
	    hx_rbac_builtin("Administrator"));
	char *p;

	p = hx_rbac_path_fill("/vms/{id}", "web 1");
	is_str(p, "/vms/web 1", "fill /vms/{id}");
	free(p);
	p = hx_rbac_path_fill("/storage/{pool}", "local");
	is_str(p, "/storage/local", "fill /storage/{pool}");
	free(p);
	p = hx_rbac_path_fill("/nodes", "ignored");
	is_str(p, "/nodes", "template without placeholder is copied");
	free(p);
	p = hx_rbac_path_fill("/vms/{id", "x");
	is_str(p, "/vms/{id", "unclosed brace is not a placeholder");
	free(p);
	p = hx_rbac_path_fill("/vms/{id}", NULL);
	is_str(p, "/vms/", "NULL param counts as empty");
	is_int(hx_rbac_effective(&g, 1, p), 0, "... and that path is denied");
	free(p);
	p = hx_rbac_path_fill("/vms/{id}", "a/b");
	is_str(p, "/vms/a%2Fb", "a '/' is escaped into one segment");
	ok(hx_rbac_effective(&g, 1, p) != 0, "... and that path is allowed");
	free(p);
	{
		/* Every name libvirt lists gets one valid path of its own. */
		static const struct {
			const char *name, *path;
		} names[] = {
			{ "..", "/vms/%2E%2E" },
			{ ".", "/vms/%2E" },
			{ "...", "/vms/..." },
			{ "%2E%2E", "/vms/%252E%252E" },
			{ "a\tb\nc", "/vms/a%09b%0Ac" },
			{ "x\x7f", "/vms/x%7F" },
			{ "c1\xc2\x9b", "/vms/c1%C2%9B" },
			{ "rlo\xe2\x80\xaetxt", "/vms/rlo%E2%80%AEtxt" },
			{ "bad\xff", "/vms/bad%FF" },
			{ "caf\xc3\xa9 1", "/vms/caf\xc3\xa9 1" },
		};
		char   big[1001];
		size_t i;

		for (i = 0; i < HX_ARRAY_SIZE(names); i++) {
			p = hx_rbac_path_fill("/vms/{id}", names[i].name);
			is_str(p, names[i].path, "escaped VM name");
			is_int(hx_rbac_path_ok(p, NULL), 0,
			    "... is a valid path");
			free(p);
		}
		memset(big, 'L', 1000);
		big[1000] = '\0';
		p = hx_rbac_path_fill("/vms/{id}", big);
		is_int(hx_rbac_path_ok(p, NULL), 0,
		    "a 1000-byte name is a "
		    "valid path");
		free(p);
	}
}

static void
rendering(void)
{
	const char *extra[] = { "/nodes", "/vms/web 2", "/bogus", "/vms/web-1",
		NULL };
	struct hx_grant	   g[2], keyg;
	struct hx_rbac_key key = { &keyg, 1, 1 };
	json_t		  *j;
	char		  *s;

	g[0] = hx_rbac_role_grant(hx_rbac_builtin("VmUser"));
	g[1] = hx_rbac_acl_grant(hx_rbac_builtin("Auditor"), "/vms/web-1", 1);
	j = hx_rbac_privileges_json(g, 2, extra, 5);
	ok(j != NULL && json_is_object(j), "privileges JSON is an object");
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	is_str(s,
	    "{\"/\":[],"
	    "\"/vms\":[\"VmPowerMgmt\",\"VmConsole\",\"VmAudit\"],"
	    "\"/vms/web-1\":[\"VmAudit\",\"DatastoreAudit\",\"SysAudit\"],"
	    "\"/nodes\":[],"
	    "\"/vms/web 2\":[\"VmPowerMgmt\",\"VmConsole\",\"VmAudit\"]}",
	    "/ first, grant paths, extra paths once, invalid ones left out");
	free(s);
	json_decref(j);

	j = hx_rbac_privileges_json(NULL, 0, NULL, 0);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "{\"/\":[]}", "no grants: just / with nothing");
	free(s);
	json_decref(j);

	g[0] = hx_rbac_role_grant(hx_rbac_builtin("Auditor"));
	j = hx_rbac_privileges_json(g, 1, NULL, 0);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "{\"/\":[\"VmAudit\",\"DatastoreAudit\",\"SysAudit\"]}",
	    "Auditor at /");
	free(s);
	json_decref(j);

	g[0] = hx_rbac_role_grant(hx_rbac_builtin("Administrator"));
	keyg = hx_rbac_role_grant(hx_rbac_builtin("VmUser"));
	j = hx_rbac_privileges_json_key(g, 1, &key, NULL, 0);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	is_str(s,
	    "{\"/\":[],"
	    "\"/vms\":[\"VmPowerMgmt\",\"VmConsole\",\"VmAudit\"]}",
	    "an admin's VmUser key renders as VmUser");
	free(s);
	json_decref(j);
}

int
main(void)
{
	builtin_roles();
	role_grants();
	evaluation();
	any_at_or_below();
	api_keys();
	paths();
	names();
	path_fill();
	rendering();
	return done_testing();
}
