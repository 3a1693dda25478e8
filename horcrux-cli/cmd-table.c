/*
 * cmd-table.c - the command table and everything generated from it:
 * name lookup with unique prefixes, flag and argument parsing, usage
 * lines, help, and completion candidates (for the shell and __complete).
 *
 * tmux's cmd_entry is the model: each command is a row saying its name,
 * positional synopsis and counts, what each position completes to, its
 * flags and its exec function. Nothing outside this file spells a command
 * name, so help, completion, the man page test and parsing cannot drift.
 * This file does not talk to the daemon except through cli_api_quiet()
 * for the live names of completion.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hx-priv.h"
#include "hx-proto.h"

#define CMD_FLAGS_MAX 16

static const struct cmd_flag login_flags[] = { { "realm", "REALM", 0, C_REALM,
						   "local, pam or the server's "
						   "LDAP realm" },
	{ "password-stdin", NULL, 0, C_NONE,
	    "read the password as one line of standard input" },
	{ NULL, NULL, 0, C_NONE, NULL } };

static const struct cmd_flag user_add_flags[] = {
	{ "email", "EMAIL", 0, C_NONE, "the user's e-mail address" },
	{ "realm", "REALM", 0, C_REALM,
	    "local (default), pam, or the server's LDAP or OIDC realm" },
	{ "role", "ROLE", 1, C_ROLE, "a role, granted at its own scope" },
	{ "disabled", NULL, 0, C_NONE, "create the account disabled" },
	{ "password-stdin", NULL, 0, C_NONE,
	    "read the password as one line of standard input" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag user_modify_flags[] = {
	{ "email", "EMAIL", 0, C_NONE, "set the e-mail address ('' clears)" },
	{ "role", "ROLE", 1, C_ROLE, "replace the roles with these" },
	{ "no-roles", NULL, 0, C_NONE, "remove every role" },
	{ "enable", NULL, 0, C_NONE, "enable the account" },
	{ "disable", NULL, 0, C_NONE, "disable the account" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag passwd_flags[] = {
	{ "password-stdin", NULL, 0, C_NONE,
	    "read the password as one line "
	    "of standard input (the current one first, on a line of its own, "
	    "when changing your own without UserModify)" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag acl_grant_flags[] = {
	{ "no-propagate", NULL, 0, C_NONE,
	    "the grant applies to PATH only, not below it" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag apikey_create_flags[] = {
	{ "name", "NAME", F_REQUIRED, C_NONE, "what the key is for" },
	{ "expires", "DAYS", 0, C_NONE, "expire after DAYS days (1 to 3650)" },
	{ "role", "ROLE", 1, C_ROLE,
	    "restrict the key to these of the user's roles" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag role_modify_flags[] = {
	{ "append", NULL, 0, C_NONE,
	    "add the privileges to the role's instead of replacing them" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag session_list_flags[] = {
	{ "all", NULL, 0, C_NONE,
	    "every user's sessions (SysAudit, UserModify)" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag audit_flags[] = {
	{ "user", "USER", 0, C_USER, "by this actor (a bare name: any realm)" },
	{ "action", "ACTION", 0, C_NONE,
	    "this action only (login, user.add, "
	    "...)" },
	{ "since", "TIME", 0, C_NONE,
	    "from TIME on: RFC 3339, epoch "
	    "milliseconds, or an age such as 30m, 12h, 7d" },
	{ "limit", "N", 0, C_NONE,
	    "at most N records, newest first (1 to "
	    "1000; default 100)" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag notify_add_flags[] = {
	{ "url", "URL", 0, C_NONE, "a webhook: POST to this http(s) URL" },
	{ "smtp-url", "URL", 0, C_NONE,
	    "e-mail through this smtp:// (STARTTLS) or smtps:// server" },
	{ "from", "ADDRESS", 0, C_NONE, "e-mail: the sender" },
	{ "to", "ADDRESS", F_REPEAT, C_NONE, "e-mail: a recipient" },
	{ "username", "USER", 0, C_NONE,
	    "e-mail: log in to the server as USER (the password is asked)" },
	{ "secret-file", "FILE", 0, C_NONE,
	    "read the webhook secret or SMTP password from FILE (one line)" },
	{ "secret-stdin", NULL, 0, C_NONE,
	    "read it as one line of standard input" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag events_flags[] = { { "count", "N", 0, C_NONE,
						    "exit after N events" },
	{ NULL, NULL, 0, C_NONE, NULL } };

static const struct cmd_flag history_flags[] = {
	{ "since", "TIME", 0, C_NONE,
	    "from TIME on (default 1h): an age such as 90s, 30m, 1h, 7d, 2w, "
	    "now, RFC 3339, a local time such as '2026-12-05 14:00', or epoch "
	    "milliseconds" },
	{ "until", "TIME", 0, C_NONE, "up to TIME (default now); as --since" },
	{ "step", "SECONDS", 0, C_NONE,
	    "one point per SECONDS (a whole number: min, avg and max of each "
	    "bucket), or auto (default): the finest tier giving at most "
	    "2000 points" },
	{ "list", NULL, 0, C_NONE,
	    "list the series you may read (those matching SERIES), with unit "
	    "and kind" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag alert_list_flags[] = {
	{ "state", "STATE", 0, C_NONE,
	    "firing (default), resolved or all (kept 90 days)" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag alert_ack_flags[] = {
	{ "comment", "TEXT", 0, C_NONE, "why, recorded with who and when" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

/* A rule's fields (DESIGN §9), for add and modify. */
static const struct cmd_flag alert_rule_flags[] = {
	{ "series", "GLOB", 0, C_SERIES,
	    "the series, a name or glob (node:cpu_usage, vm:*:cpu_usage)" },
	{ "op", "OP", 0, C_NONE, "the comparison: > >= < <=" },
	{ "threshold", "N", 0, C_NONE, "the value compared with" },
	{ "for", "DURATION", 0, C_NONE,
	    "how long the condition holds before firing: 300, 90s, 5m, 1h "
	    "(default 0)" },
	{ "clear", "N", 0, C_NONE,
	    "resolve only past this value (default: the threshold; none "
	    "clears it)" },
	{ "severity", "SEVERITY", 0, C_NONE,
	    "info, warning (default) or critical" },
	{ "notify", "TARGET", F_REPEAT, C_NOTIFY_TARGET,
	    "a notification target; the list replaces the rule's (none: "
	    "empty)" },
	{ "status-of", "GLOB", 0, C_NONE,
	    "a status rule on these VMs (vm:*, vm:web-1) instead of a series" },
	{ "equals", "STATUS", 0, C_NONE,
	    "the status that fires it (crashed, stopped, ...)" },
	{ "silence-until", "TIME", 0, C_NONE,
	    "silence the rule until TIME: RFC 3339, a duration from now (2h), "
	    "or none" },
	{ "enabled", "yes|no", 0, C_NONE, "whether the rule is evaluated" },
	{ "file", "FILE", 0, C_NONE,
	    "the rule as a JSON object from FILE ('-': standard input); the "
	    "flags override its fields" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag alert_test_flags[] = {
	{ "since", "TIME", 0, C_NONE,
	    "from TIME on (default 24h): an age such as 90m, 24h, 7d, or RFC "
	    "3339" },
	{ "until", "TIME", 0, C_NONE, "up to TIME (default now); as --since" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

static const struct cmd_flag admin_backup_flags[] = {
	{ "data-dir", "DIR", 0, C_NONE,
	    "the daemon's data directory (default: data_dir of "
	    "/etc/horcrux/horcrux.conf, else /var/lib/horcrux)" },
	{ "config", "FILE", 0, C_NONE,
	    "read data_dir from this horcruxd configuration file" },
	{ "force", NULL, 0, C_NONE, "replace FILE if it exists" },
	{ NULL, NULL, 0, C_NONE, NULL }
};

/* The flag every command takes. */
static const struct cmd_flag output_flag = { "output", "FORMAT", 0, C_OUTPUT,
	"table or json (csv too for history and the alert lists)" };

#define LEAF(n, a, mi, ma, p0, p1, fl, fn, h) \
	{ \
		n, a, mi, ma, { p0, p1, C_NONE }, fl, NULL, fn, h, 0 \
	}
#define GROUP(n, s, h) \
	{ \
		n, NULL, 0, 0, { C_NONE, C_NONE, C_NONE }, NULL, s, NULL, h, 0 \
	}
#define END \
	{ \
		NULL, NULL, 0, 0, { C_NONE, C_NONE, C_NONE }, NULL, NULL, \
		    NULL, NULL, 0 \
	}

static const struct cmd_entry user_cmds[] = { LEAF("list", "", 0, 0, C_NONE,
						  C_NONE, NULL, cmd_user_list,
						  "list the users"),
	LEAF("show", "NAME", 1, 1, C_USER, C_NONE, NULL, cmd_user_show,
	    "show one user"),
	LEAF("add", "NAME", 1, 1, C_NONE, C_NONE, user_add_flags, cmd_user_add,
	    "create a user (the password is prompted for)"),
	LEAF("modify", "NAME", 1, 1, C_USER, C_NONE, user_modify_flags,
	    cmd_user_modify, "change a user's e-mail, roles or state"),
	LEAF("delete", "NAME", 1, 1, C_USER, C_NONE, NULL, cmd_user_delete,
	    "delete a user, their keys, sessions and ACL entries"),
	LEAF("passwd", "[NAME]", 0, 1, C_USER, C_NONE, passwd_flags,
	    cmd_user_passwd, "set a user's password (default: your own)"),
	LEAF("sessions", "[NAME]", 0, 1, C_USER, C_NONE, NULL,
	    cmd_user_sessions,
	    "list a user's login sessions (default: "
	    "yours)"),
	LEAF("logout", "NAME [ID]", 1, 2, C_USER, C_NONE, NULL, cmd_user_logout,
	    "end a user's login sessions, or the one ID"),
	LEAF("permissions", "NAME [PATH]", 1, 2, C_USER, C_PATH, NULL,
	    cmd_user_permissions,
	    "a user's effective privileges per path, "
	    "or on PATH"),
	END };

static const struct cmd_entry role_cmds[] = {
	LEAF("list", "", 0, 0, C_NONE, C_NONE, NULL, cmd_role_list,
	    "list the built-in and custom roles"),
	LEAF("show", "NAME", 1, 1, C_ROLE, C_NONE, NULL, cmd_role_show,
	    "show one role's scope and privileges"),
	LEAF("add", "NAME PRIV...", 2, -1, C_NONE, C_PRIV, NULL, cmd_role_add,
	    "create a custom role with these privileges"),
	LEAF("modify", "NAME PRIV...", 2, -1, C_ROLE, C_PRIV, role_modify_flags,
	    cmd_role_modify,
	    "set a custom role's "
	    "privileges; whoever holds it has them at once"),
	LEAF("delete", "NAME", 1, 1, C_ROLE, C_NONE, NULL, cmd_role_delete,
	    "delete a custom role"),
	END
};

static const struct cmd_entry privilege_cmds[] = {
	LEAF("list", "", 0, 0, C_NONE, C_NONE, NULL, cmd_privilege_list,
	    "list the privileges and the roles that hold each"),
	END
};

static const struct cmd_entry acl_cmds[] = {
	LEAF("list", "[PATH]", 0, 1, C_PATH, C_NONE, NULL, cmd_acl_list,
	    "list the ACL entries (at PATH and below)"),
	{ "grant", "PATH ROLE USER", 3, 3, { C_PATH, C_ROLE, C_USER },
	    acl_grant_flags, NULL, cmd_acl_grant,
	    "grant USER the ROLE on PATH (and below it)", 0 },
	{ "revoke", "PATH ROLE USER", 3, 3, { C_PATH, C_ROLE, C_USER }, NULL,
	    NULL, cmd_acl_revoke, "remove that ACL entry", 0 },
	END
};

static const struct cmd_entry apikey_cmds[] = {
	LEAF("list", "[USER]", 0, 1, C_USER, C_NONE, NULL, cmd_apikey_list,
	    "list a user's API keys (default: yours)"),
	LEAF("create", "[USER]", 0, 1, C_USER, C_NONE, apikey_create_flags,
	    cmd_apikey_create, "create an API key; it is printed once"),
	LEAF("revoke", "[USER] KEYID", 1, 2, C_USER_OR_KEY, C_KEY, NULL,
	    cmd_apikey_revoke, "revoke an API key (live streams using it end)"),
	END
};

static const struct cmd_entry session_cmds[] = {
	LEAF("list", "[USER]", 0, 1, C_USER, C_NONE, session_list_flags,
	    cmd_session_list, "list login sessions: yours, USER's or --all"),
	LEAF("revoke", "[USER] ID", 1, 2, C_USER, C_NONE, NULL,
	    cmd_session_revoke, "end one login session (default: yours)"),
	END
};

static const struct cmd_entry vm_cmds[] = { LEAF("list", "", 0, 0, C_NONE,
						C_NONE, NULL, cmd_vm_list,
						"list the VMs you may see"),
	LEAF("show", "VM", 1, 1, C_VM, C_NONE, NULL, cmd_vm_show,
	    "show one VM: devices and latest metrics"),
	LEAF("start", "VM", 1, 1, C_VM, C_NONE, NULL, cmd_vm_action,
	    "start a stopped VM"),
	LEAF("shutdown", "VM", 1, 1, C_VM, C_NONE, NULL, cmd_vm_action,
	    "ask the guest to shut down"),
	LEAF("stop", "VM", 1, 1, C_VM, C_NONE, NULL, cmd_vm_action,
	    "power the VM off at once"),
	LEAF("reboot", "VM", 1, 1, C_VM, C_NONE, NULL, cmd_vm_action,
	    "ask the guest to reboot"),
	LEAF("suspend", "VM", 1, 1, C_VM, C_NONE, NULL, cmd_vm_action,
	    "pause a running VM"),
	LEAF("resume", "VM", 1, 1, C_VM, C_NONE, NULL, cmd_vm_action,
	    "resume a paused VM"),
	END };

static const struct cmd_entry node_cmds[] = { LEAF("status", "", 0, 0, C_NONE,
						  C_NONE, NULL, cmd_node_status,
						  "the host's latest metrics"),
	END };

static const struct cmd_entry notify_target_cmds[] = {
	LEAF("list", "", 0, 0, C_NONE, C_NONE, NULL, cmd_notify_target_list,
	    "list the notification targets (never their secrets)"),
	LEAF("show", "NAME", 1, 1, C_NOTIFY_TARGET, C_NONE, NULL,
	    cmd_notify_target_show,
	    "show a target and its newest delivery attempts"),
	LEAF("add", "NAME", 1, 1, C_NONE, C_NONE, notify_add_flags,
	    cmd_notify_target_add,
	    "add a webhook or e-mail target (the secret is asked for)"),
	LEAF("delete", "NAME", 1, 1, C_NOTIFY_TARGET, C_NONE, NULL,
	    cmd_notify_target_delete, "delete a target and its attempts"),
	LEAF("test", "NAME", 1, 1, C_NOTIFY_TARGET, C_NONE, NULL,
	    cmd_notify_target_test,
	    "send a test message now; exit 0 if it was delivered"),
	END
};

static const struct cmd_entry notify_cmds[] = {
	GROUP("target", notify_target_cmds,
	    "where alerts are sent: webhooks, e-mail"),
	END
};

static const struct cmd_entry alert_rule_cmds[] = {
	{ "list", "", 0, 0, { C_NONE, C_NONE, C_NONE }, NULL, NULL,
	    cmd_alert_rule_list, "list the alert rules", CMD_CSV },
	LEAF("add", "NAME", 1, 1, C_NONE, C_NONE, alert_rule_flags,
	    cmd_alert_rule_add,
	    "create a rule from flags or --file (SysModify on /)"),
	LEAF("modify", "NAME", 1, 1, C_RULE, C_NONE, alert_rule_flags,
	    cmd_alert_rule_modify,
	    "change the fields given of a rule; the others stay"),
	LEAF("delete", "NAME", 1, 1, C_RULE, C_NONE, NULL,
	    cmd_alert_rule_delete, "delete a rule"),
	END
};

static const struct cmd_entry alert_cmds[] = {
	{ "list", "", 0, 0, { C_NONE, C_NONE, C_NONE }, alert_list_flags, NULL,
	    cmd_alert_list, "list the alerts you may see (default: firing)",
	    CMD_CSV },
	LEAF("show", "ID", 1, 1, C_ALERT, C_NONE, NULL, cmd_alert_show,
	    "show one alert"),
	LEAF("ack", "ID", 1, 1, C_ALERT, C_NONE, alert_ack_flags, cmd_alert_ack,
	    "acknowledge an alert: who, when and why are recorded"),
	GROUP("rule", alert_rule_cmds, "alert rules"),
	{ "test", "RULE-OR-JSON", 1, 1, { C_RULE, C_NONE, C_NONE },
	    alert_test_flags, NULL, cmd_alert_test,
	    "backtest a rule (a name, a JSON object or - for standard input) "
	    "over the stored history: the episodes it would have fired",
	    CMD_CSV },
	END
};

static const struct cmd_entry admin_cmds[] = {
	LEAF("backup", "FILE", 1, 1, C_NONE, C_NONE, admin_backup_flags,
	    cmd_admin_backup,
	    "back up the identity and metrics databases into the tar archive "
	    "FILE, while the daemon runs (reads the data directory: run as "
	    "root or the daemon's user)"),
	END
};

const struct cmd_entry cmd_table[] = {
	LEAF("login", "[USER]", 0, 1, C_USER, C_NONE, login_flags, cmd_login,
	    "log in; keep the token and server in client.conf"),
	LEAF("logout", "", 0, 0, C_NONE, C_NONE, NULL, cmd_logout,
	    "end the session and forget its token"),
	LEAF("whoami", "", 0, 0, C_NONE, C_NONE, NULL, cmd_whoami,
	    "your identity, roles and effective privileges"),
	GROUP("user", user_cmds, "users"), GROUP("role", role_cmds, "roles"),
	GROUP("privilege", privilege_cmds, "privileges"),
	GROUP("acl", acl_cmds, "access control list entries"),
	GROUP("apikey", apikey_cmds, "API keys"),
	GROUP("session", session_cmds, "login sessions"),
	LEAF("audit", "", 0, 0, C_NONE, C_NONE, audit_flags, cmd_audit,
	    "the audit log of logins and identity changes, newest first"),
	GROUP("vm", vm_cmds, "virtual machines and containers"),
	GROUP("node", node_cmds, "the host"),
	GROUP("notify", notify_cmds, "notifications"),
	{ "events", "[TOPIC...]", 0, -1, { C_TOPIC, C_NONE, C_NONE },
	    events_flags, NULL, cmd_events,
	    "stream events until interrupted, resuming across reconnections "
	    "(default: every topic but the metrics)",
	    0 },
	{ "history", "SERIES...", 0, -1, { C_SERIES, C_NONE, C_NONE },
	    history_flags, NULL, cmd_history,
	    "metrics history as a table, json or csv: SERIES are names or "
	    "globs (vm:*:cpu_usage)",
	    CMD_CSV },
	GROUP("alert", alert_cmds, "alerts and alert rules"),
	GROUP("admin", admin_cmds, "administration of this host's daemon"),
	{ "help", "[COMMAND [SUBCOMMAND...]]", 0, 3,
	    { C_COMMAND, C_COMMAND, C_COMMAND }, NULL, NULL, cmd_help,
	    "show help for every command or one", 0 },
	LEAF("version", "", 0, 0, C_NONE, C_NONE, NULL, cmd_version,
	    "show the client's and the daemon's versions"),
	{ "quit", "", 0, 0, { C_NONE, C_NONE, C_NONE }, NULL, NULL, cmd_quit,
	    "leave the shell", CMD_SHELL },
	{ "exit", "", 0, 0, { C_NONE, C_NONE, C_NONE }, NULL, NULL, cmd_quit,
	    "leave the shell", CMD_SHELL },
	END
};

/*
 * The group whose table holds e, searched from table down (a group may
 * hold groups: "notify target list"), or NULL at the top.
 */
static const struct cmd_entry *
parent_in(const struct cmd_entry *table, const struct cmd_entry *e)
{
	const struct cmd_entry *g, *s, *p;

	for (g = table; g != NULL && g->name != NULL; g++) {
		for (s = g->sub; s != NULL && s->name != NULL; s++) {
			if (s == e)
				return g;
		}
		if (g->sub != NULL && (p = parent_in(g->sub, e)) != NULL)
			return p;
	}
	return NULL;
}

/* Parents of the subcommand tables, for full names in messages. */
static const struct cmd_entry *
parent_of(const struct cmd_entry *e)
{
	return parent_in(cmd_table, e);
}

const char *
cmd_full_name(const struct cmd_entry *e)
{
	static char		buf[64];
	const struct cmd_entry *chain[4];
	size_t			n = 0, len = 0;

	for (; e != NULL && n < HX_ARRAY_SIZE(chain); e = parent_of(e))
		chain[n++] = e;
	buf[0] = '\0';
	while (n-- > 0)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s",
		    len > 0 ? " " : "", chain[n]->name);
	return buf;
}

void
cmd_strv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* --- lookup ----------------------------------------------------------------*/

/*
 * Find word in table: an exact name, else the one entry it is a prefix
 * of. Returns the entry, or NULL with *nmatch (0: unknown, >1: ambiguous).
 */
static const struct cmd_entry *
lookup(const struct cmd_entry *table, const char *word, int *nmatch)
{
	const struct cmd_entry *e, *found = NULL;
	size_t			len = strlen(word);

	*nmatch = 0;
	for (e = table; e->name != NULL; e++) {
		if (strcmp(e->name, word) == 0) {
			*nmatch = 1;
			return e;
		}
	}
	if (len == 0)
		return NULL;
	for (e = table; e->name != NULL; e++) {
		if ((e->opts & CMD_HIDDEN) == 0 &&
		    strncmp(e->name, word, len) == 0) {
			found = e;
			(*nmatch)++;
		}
	}
	return *nmatch == 1 ? found : NULL;
}

/* "login, logout": the names word is a prefix of. Caller frees. */
static char *
candidates(const struct cmd_entry *table, const char *word)
{
	struct hx_buf		b;
	const struct cmd_entry *e;

	hx_buf_init(&b, 0);
	for (e = table; e->name != NULL; e++) {
		if ((e->opts & CMD_HIDDEN) == 0 &&
		    strncmp(e->name, word, strlen(word)) == 0)
			hx_buf_addf(&b, "%s%s", b.len ? ", " : "", e->name);
	}
	return hx_buf_detach(&b, NULL);
}

/*
 * Resolve words[0] (and words[1] for a group) to a leaf. Returns it and
 * sets *used, or NULL after printing a usage error.
 */
static const struct cmd_entry *
resolve(int argc, char **argv, int *used)
{
	const struct cmd_entry *e, *s;
	char		       *c;
	int			n;

	if ((e = lookup(cmd_table, argv[0], &n)) == NULL) {
		c = candidates(cmd_table, argv[0]);
		if (n > 1)
			cli_error("ambiguous command '%s': could be %s",
			    argv[0], c);
		else
			cli_error("unknown command '%s'; try 'help'", argv[0]);
		free(c);
		return NULL;
	}
	*used = 1;
	/* A group's word picks from its table, down to a leaf. */
	while (e->sub != NULL) {
		char *full = xstrdup(cmd_full_name(e));

		if (argc <= *used) {
			c = candidates(e->sub, "");
			cli_error("'%s' needs a subcommand: %s", full, c);
			free(c);
			free(full);
			return NULL;
		}
		if ((s = lookup(e->sub, argv[*used], &n)) == NULL) {
			c = candidates(e->sub, n > 1 ? argv[*used] : "");
			if (n > 1)
				cli_error("ambiguous command '%s %s': could be "
					  "%s",
				    full, argv[*used], c);
			else
				cli_error(
				    "unknown command '%s %s'; '%s' has %s",
				    full, argv[*used], full, c);
			free(c);
			free(full);
			return NULL;
		}
		free(full);
		(*used)++;
		e = s;
	}
	return e;
}

/* --- flags and arguments ---------------------------------------------------*/

static int
nflags(const struct cmd_entry *e)
{
	int n = 0;

	while (e->flags != NULL && e->flags[n].name != NULL)
		n++;
	return n;
}

static int
flag_index(const struct cmd_entry *e, const char *name)
{
	int i, n = nflags(e);

	for (i = 0; i < n; i++) {
		if (strcmp(e->flags[i].name, name) == 0)
			return i;
	}
	return -1;
}

const char *
cmd_flag(const struct cmd_entry *e, const struct cmd_args *a, const char *name)
{
	int i = flag_index(e, name);

	if (i < 0 || a->count[i] == 0)
		return NULL;
	return a->vals[i] != NULL ? a->vals[i][a->count[i] - 1] : "";
}

int
cmd_flag_count(const struct cmd_entry *e, const struct cmd_args *a,
    const char *name)
{
	int i = flag_index(e, name);

	return i < 0 ? 0 : a->count[i];
}

char **
cmd_flag_all(const struct cmd_entry *e, const struct cmd_args *a,
    const char *name)
{
	static char *none[] = { NULL };
	int	     i = flag_index(e, name);

	return i < 0 || a->vals[i] == NULL ? none : a->vals[i];
}

static void
args_release(struct cmd_args *a)
{
	int i;

	free(a->argv);
	for (i = 0; i < CMD_FLAGS_MAX; i++)
		free(a->vals[i]);
}

/* The output formats: the global -o's choices, in enum cli_output order. */
static const char *const *
output_choices(void)
{
	return hx_config_lookup(cli_options_table, cli_options_count,
	    "--output")
	    ->choices;
}

/* Whether e prints format i (csv: only the commands marked CMD_CSV). */
static int
has_output(const struct cmd_entry *e, int i)
{
	return i != OUT_CSV || e == NULL || (e->opts & CMD_CSV);
}

static int
set_output(struct cli *cli, const struct cmd_entry *e, const char *v)
{
	const char *const *f = output_choices();
	int		   i;

	for (i = 0; f[i] != NULL; i++) {
		if (strcmp(v, f[i]) == 0 && !has_output(e, i))
			return cli_usage(e,
			    "'%s' has no %s output: use table "
			    "or json",
			    cmd_full_name(e), v);
		if (strcmp(v, f[i]) == 0) {
			cli->out = (enum cli_output)i;
			return CLI_OK;
		}
	}
	if (e->opts & CMD_CSV)
		return cli_usage(e,
		    "unknown output format '%s': use table, json or csv", v);
	return cli_usage(e, "unknown output format '%s': use table or json", v);
}

/* Split argv into positionals and e's flags. Returns an exit code. */
static int
parse_args(struct cli *cli, const struct cmd_entry *e, int argc, char **argv,
    struct cmd_args *a)
{
	int   i, fi, nopts = 1;
	char *name, *val;

	memset(a, 0, sizeof *a);
	a->argv = xcalloc((size_t)argc + 1, sizeof *a->argv);
	for (i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (!nopts || w[0] != '-' || w[1] == '\0') {
			a->argv[a->argc++] = argv[i];
			continue;
		}
		if (strcmp(w, "--") == 0) {
			nopts = 0;
			continue;
		}
		if (strcmp(w, "-o") == 0) {
			if (i + 1 >= argc)
				return cli_usage(e, "-o needs FORMAT");
			if (set_output(cli, e, argv[++i]) != CLI_OK)
				return CLI_USAGE;
			continue;
		}
		if (w[1] != '-')
			return cli_usage(e, "unknown option '%s'", w);
		name = xstrdup(w + 2);
		val = strchr(name, '=');
		if (val != NULL)
			*val++ = '\0';
		if (strcmp(name, output_flag.name) == 0) {
			if (val == NULL && i + 1 >= argc) {
				free(name);
				return cli_usage(e, "--output needs FORMAT");
			}
			fi = set_output(cli, e, val != NULL ? val : argv[++i]);
			free(name);
			if (fi != CLI_OK)
				return fi;
			continue;
		}
		if ((fi = flag_index(e, name)) < 0) {
			free(name);
			return cli_usage(e, "unknown option '%s'", w);
		}
		free(name);
		if (a->count[fi] > 0 && !(e->flags[fi].fflags & F_REPEAT))
			return cli_usage(e, "--%s given twice",
			    e->flags[fi].name);
		if (e->flags[fi].arg == NULL) {
			if (val != NULL)
				return cli_usage(e, "--%s takes no value",
				    e->flags[fi].name);
			a->count[fi]++;
			continue;
		}
		if (val != NULL)
			val = (char *)strchr(w, '=') + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return cli_usage(e, "--%s needs %s", e->flags[fi].name,
			    e->flags[fi].arg);
		a->vals[fi] = xrealloc(a->vals[fi],
		    ((size_t)a->count[fi] + 2) * sizeof(char *));
		a->vals[fi][a->count[fi]++] = val;
		a->vals[fi][a->count[fi]] = NULL;
	}
	if (a->argc < e->min)
		return cli_usage(e, "'%s' needs %s", cmd_full_name(e), e->args);
	for (fi = 0; fi < nflags(e); fi++) {
		if ((e->flags[fi].fflags & F_REQUIRED) && a->count[fi] == 0)
			return cli_usage(e, "'%s' needs --%s %s",
			    cmd_full_name(e), e->flags[fi].name,
			    e->flags[fi].arg);
	}
	if (e->max >= 0 && a->argc > e->max)
		return cli_usage(e, "'%s': too many arguments",
		    cmd_full_name(e));
	return CLI_OK;
}

int
cmd_run(struct cli *cli, int argc, char **argv)
{
	const struct cmd_entry *e;
	struct cmd_args		a;
	int			used, rc;

	if (argc == 0)
		return CLI_OK;
	if ((e = resolve(argc, argv, &used)) == NULL)
		return CLI_USAGE;
	cli->out = cli->output;
	rc = parse_args(cli, e, argc - used, argv + used, &a);
	/* -o csv before the command: refused where it means nothing. */
	if (rc == CLI_OK && !has_output(e, cli->out) &&
	    !(e->opts & CMD_SHELL) && e->exec != cmd_help)
		rc = cli_usage(e, "'%s' has no csv output: use table or json",
		    cmd_full_name(e));
	if (rc == CLI_OK)
		rc = e->exec(cli, e, &a);
	args_release(&a);
	return rc;
}

/* --- usage and help ------------------------------------------------------- */

static void
print_synopsis(const struct cmd_entry *e, FILE *f)
{
	int i, n = nflags(e);

	fprintf(f, "%s", cmd_full_name(e));
	if (e->args != NULL && *e->args != '\0')
		fprintf(f, " %s", e->args);
	for (i = 0; i < n; i++) {
		if (e->flags[i].fflags & F_REQUIRED)
			fprintf(f, " --%s %s", e->flags[i].name,
			    e->flags[i].arg);
		else if (e->flags[i].arg != NULL)
			fprintf(f, " [--%s %s]%s", e->flags[i].name,
			    e->flags[i].arg,
			    (e->flags[i].fflags & F_REPEAT) ? "..." : "");
		else
			fprintf(f, " [--%s]", e->flags[i].name);
	}
}

void
cmd_print_usage(const struct cmd_entry *e, FILE *f)
{
	fputs("usage: horcrux-cli ", f);
	print_synopsis(e, f);
	fputc('\n', f);
}

static void
help_entry(const struct cmd_entry *e, int verbose, FILE *f)
{
	const struct cmd_entry *s;
	int			i, n = nflags(e);

	/* A group within a group (alert rule): its leaves. */
	if (e->sub != NULL) {
		for (s = e->sub; s->name != NULL; s++)
			help_entry(s, verbose, f);
		return;
	}

	fputs("  ", f);
	print_synopsis(e, f);
	fprintf(f, "\n      %s\n", e->help);
	for (i = 0; verbose && i < n; i++) {
		char spec[64];

		snprintf(spec, sizeof spec, "--%s%s%s", e->flags[i].name,
		    e->flags[i].arg ? " " : "",
		    e->flags[i].arg ? e->flags[i].arg : "");
		fprintf(f, "        %-20s %s\n", spec, e->flags[i].help);
	}
}

/* help_entry for every visible leaf of table, groups walked in order. */
static void
help_leaves(const struct cmd_entry *table, int verbose, FILE *f)
{
	const struct cmd_entry *e;

	for (e = table; e->name != NULL; e++) {
		if (e->opts & CMD_HIDDEN)
			continue;
		if (e->sub == NULL)
			help_entry(e, verbose, f);
		else
			help_leaves(e->sub, verbose, f);
	}
}

void
cmd_help_all(FILE *f)
{
	fputs("usage: horcrux-cli [options] [COMMAND [ARGS...]]\n\n"
	      "Administer horcruxd: users, roles, ACL, API keys, VMs, events.\n"
	      "With no command it reads commands from standard input (an\n"
	      "interactive shell on a terminal).\n\nOptions:\n",
	    f);
	/* The global options: options.c's table. */
	hx_config_help(cli_options_table, cli_options_count, 22, f);
	fputs("\nCommands (unique prefixes work: 'us li'):\n", f);
	help_leaves(cmd_table, 0, f);
	fputs("\nExit status: 0 ok, 1 daemon or network error, 2 usage, "
	      "3 authentication\nrequired or refused, 4 forbidden. See "
	      "horcrux-cli(1).\n",
	    f);
}

int
cmd_help(struct cli *cli, const struct cmd_entry *self, struct cmd_args *a)
{
	const struct cmd_entry *e, *s;
	int			n, i;

	if (a->argc == 0) {
		cmd_help_all(stdout);
		return CLI_OK;
	}
	if ((e = lookup(cmd_table, a->argv[0], &n)) == NULL)
		return cli_usage(self, "%s command '%s'",
		    n > 1 ? "ambiguous" : "no", a->argv[0]);
	for (i = 1; i < a->argc; i++) {
		if (e->sub == NULL)
			return cli_usage(self,
			    "too many arguments: '%s' has no subcommands",
			    cmd_full_name(e));
		if ((s = lookup(e->sub, a->argv[i], &n)) == NULL) {
			char *full = xstrdup(cmd_full_name(e));

			n = cli_usage(self, "%s command '%s %s'",
			    n > 1 ? "ambiguous" : "no", full, a->argv[i]);
			free(full);
			return n;
		}
		e = s;
	}
	if (e->sub == NULL) {
		fputs("usage:\n", stdout);
		help_entry(e, 1, stdout);
		return CLI_OK;
	}
	printf("%s: %s\n", cmd_full_name(e), e->help);
	help_leaves(e->sub, 1, stdout);
	return CLI_OK;
}

/* --- completion ------------------------------------------------------------*/

struct cands {
	char	  **v;
	size_t	    n;
	const char *prefix;
};

static void
cand_add(struct cands *c, const char *word)
{
	size_t i;

	if (word == NULL || strncmp(word, c->prefix, strlen(c->prefix)) != 0)
		return;
	for (i = 0; i < c->n; i++) {
		if (strcmp(c->v[i], word) == 0)
			return;
	}
	c->v = xrealloc(c->v, (c->n + 2) * sizeof *c->v);
	c->v[c->n++] = xstrdup(word);
	c->v[c->n] = NULL;
}

/* Add field key of every object of the array at path. */
static void
cand_live(struct cli *cli, struct cands *c, const char *path, const char *key)
{
	json_t *a = cli_api_quiet(cli, path), *o;
	size_t	i;

	json_array_foreach(a, i, o)
		cand_add(c, jstr(o, key));
	json_decref(a);
}

/* Add field key of every object of the array member arr of path's object. */
static void
cand_inner(struct cli *cli, struct cands *c, const char *path, const char *arr,
    const char *key)
{
	json_t *r = cli_api_quiet(cli, path), *o;
	size_t	i;

	json_array_foreach(json_object_get(r, arr), i, o)
		cand_add(c, jstr(o, key));
	json_decref(r);
}

static void
cand_keys(struct cli *cli, struct cands *c, const char *user)
{
	char *path;
	int   code;

	if ((path = cli_user_path(cli, user, "api-keys", NULL, &code)) == NULL)
		return;
	cand_live(cli, c, path, "key_id");
	free(path);
}

/*
 * The history's series the caller may read, and for each VM field the
 * glob over every VM (vm:*:cpu_usage), which is what one usually wants.
 */
static void
cand_series(struct cli *cli, struct cands *c)
{
	json_t	   *r = cli_api_quiet(cli, "/api/metrics/series"), *o;
	const char *name, *field;
	size_t	    i;
	char	   *g;

	json_array_foreach(json_object_get(r, "series"), i, o) {
		if ((name = jstr(o, "name")) == NULL)
			continue;
		cand_add(c, name);
		if (strncmp(name, "vm:", 3) == 0 &&
		    (field = strrchr(name + 3, ':')) != NULL) {
			g = xasprintf("vm:*%s", field);
			cand_add(c, g);
			free(g);
		}
	}
	json_decref(r);
}

/* The output formats e prints (every one before the command: e NULL). */
static void
cand_outputs(struct cands *c, const struct cmd_entry *e)
{
	const char *const *f = output_choices();
	int		   i;

	for (i = 0; f[i] != NULL; i++) {
		if (has_output(e, i))
			cand_add(c, f[i]);
	}
}

static void
cand_table(struct cands *c, const struct cmd_entry *table)
{
	const struct cmd_entry *e;

	for (e = table; e != NULL && e->name != NULL; e++) {
		if ((e->opts & CMD_HIDDEN) == 0)
			cand_add(c, e->name);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void cand_kind_unsorted(struct cli *, struct cands *, enum cmpl, char **,
    int);

/* Live names come in the daemon's order; people want them sorted. */
static void
cand_kind(struct cli *cli, struct cands *c, enum cmpl kind, char **pos,
    int npos)
{
	size_t first = c->n;

	cand_kind_unsorted(cli, c, kind, pos, npos);
	if (c->n - first > 1 &&
	    (kind == C_USER || kind == C_ROLE || kind == C_VM ||
		kind == C_KEY || kind == C_USER_OR_KEY || kind == C_PATH ||
		kind == C_SERIES || kind == C_NOTIFY_TARGET || kind == C_RULE ||
		kind == C_ALERT))
		qsort(c->v + first, c->n - first, sizeof *c->v, cmp_str);
}

static void
cand_kind_unsorted(struct cli *cli, struct cands *c, enum cmpl kind, char **pos,
    int npos)
{
	static const char *const paths[] = { "/", "/access", "/nodes",
		"/storage", "/vms", NULL };
	const char *const	*f;
	json_t			*a, *o;
	size_t			 i;
	int			 n;
	char			*p;

	switch (kind) {
	case C_NONE:
		break;
	case C_USER:
		cand_live(cli, c, "/api/users", "username");
		break;
	case C_ROLE:
		cand_live(cli, c, "/api/roles", "name");
		break;
	case C_PRIV:
		for (n = 0; n < HX_PRIV_COUNT; n++)
			cand_add(c, hx_priv_name(1u << n));
		break;
	case C_VM:
		cand_live(cli, c, "/api/vms", "id");
		break;
	case C_KEY:
		cand_keys(cli, c, npos > 0 ? pos[npos - 1] : NULL);
		break;
	case C_USER_OR_KEY:
		cand_live(cli, c, "/api/users", "username");
		cand_keys(cli, c, NULL);
		break;
	case C_PATH:
		for (i = 0; paths[i] != NULL; i++)
			cand_add(c, paths[i]);
		a = cli_api_quiet(cli, "/api/vms");
		json_array_foreach(a, i, o) {
			if (jstr(o, "id") == NULL)
				continue;
			p = xasprintf("/vms/%s", jstr(o, "id"));
			cand_add(c, p);
			free(p);
		}
		json_decref(a);
		break;
	case C_TOPIC:
		for (i = 0; i < (size_t)HX_TOPIC_COUNT; i++)
			cand_add(c, hx_topics[i].name);
		break;
	case C_REALM:
		cand_add(c, "local");
		cand_add(c, "pam");
		/* The server's own (GET /api/auth/realms is public). */
		cand_inner(cli, c, "/api/auth/realms", "realms", "name");
		break;
	case C_OUTPUT:
		for (f = output_choices(); *f != NULL; f++)
			cand_add(c, *f);
		break;
	case C_SERIES:
		cand_series(cli, c);
		break;
	case C_NOTIFY_TARGET:
		a = cli_api_quiet(cli, "/api/notify/targets");
		json_array_foreach(json_object_get(a, "targets"), i, o)
			cand_add(c, jstr(o, "name"));
		json_decref(a);
		break;
	case C_RULE:
		cand_inner(cli, c, "/api/alerts/rules", "rules", "name");
		break;
	case C_ALERT:
		cand_inner(cli, c, "/api/alerts?state=all", "alerts",
		    "alert_id");
		break;
	case C_COMMAND: {
		const struct cmd_entry *t = cmd_table, *e;

		for (i = 0; t != NULL && i < (size_t)npos; i++)
			t = (e = lookup(t, pos[i], &n)) != NULL ? e->sub : NULL;
		cand_table(c, t);
		break;
	}
	}
}

/* The global option w names if it takes a value (-c, --output), or NULL. */
static const struct hx_opt *
global_takes_arg(const char *w)
{
	const struct hx_opt *o = hx_config_lookup(cli_options_table,
	    cli_options_count, w);

	return o != NULL && o->type != HX_OPT_BOOL ? o : NULL;
}

/* Every visible global option's spellings: the long ones, then -x. */
static void
cand_globals(struct cands *c)
{
	const struct hx_opt *o;
	char		     w[128];
	size_t		     i;

	for (i = 0; i < cli_options_count; i++) {
		o = &cli_options_table[i];
		if ((o->flags & (HX_OPT_HIDDEN | HX_OPT_SHORT_ONLY)) == 0) {
			w[0] = w[1] = '-';
			hx_config_flag_name(o->name, w + 2, sizeof w - 2);
			cand_add(c, w);
		}
	}
	for (i = 0; i < cli_options_count; i++) {
		o = &cli_options_table[i];
		if ((o->flags & HX_OPT_HIDDEN) == 0 && o->short_flag != 0) {
			snprintf(w, sizeof w, "-%c", o->short_flag);
			cand_add(c, w);
		}
	}
}

char **
cmd_complete(struct cli *cli, int n, char **words)
{
	struct cands		c = { NULL, 0, "" };
	const struct cmd_entry *e;
	const struct hx_opt    *o;
	const char	       *cur, *prev;
	char		      **pos;
	int			i = 0, npos = 0, m, fi, nopts = 1;

	if (n < 1)
		return xcalloc(1, sizeof(char *));
	cur = words[n - 1];
	c.prefix = cur;
	/* Global flags before the command. */
	while (i < n - 1 && words[i][0] == '-') {
		if (global_takes_arg(words[i]) && i + 1 < n - 1)
			i += 2;
		else if ((o = global_takes_arg(words[i])) != NULL) {
			if (o->type == HX_OPT_CHOICE)
				cand_kind(cli, &c, C_OUTPUT, NULL, 0);
			goto out;
		} else
			i++;
	}
	if (i == n - 1) {
		if (cur[0] == '-')
			cand_globals(&c);
		else
			cand_table(&c, cmd_table);
		goto out;
	}
	if ((e = lookup(cmd_table, words[i++], &m)) == NULL)
		goto out;
	while (e->sub != NULL) {
		if (i == n - 1) {
			cand_table(&c, e->sub);
			goto out;
		}
		if ((e = lookup(e->sub, words[i++], &m)) == NULL)
			goto out;
	}
	/* A leaf: find the positionals typed so far and a pending flag. */
	pos = xcalloc((size_t)n + 1, sizeof *pos);
	prev = NULL;
	for (; i < n - 1; i++) {
		const char *w = words[i];

		prev = NULL;
		if (nopts && strcmp(w, "--") == 0)
			nopts = 0;
		else if (nopts && w[0] == '-' && w[1] != '\0') {
			if (strchr(w, '=') == NULL && i == n - 2)
				prev = w;
			else if (strchr(w, '=') == NULL &&
			    (strcmp(w, "-o") == 0 ||
				strcmp(w, "--output") == 0 ||
				((fi = flag_index(e, w + 2)) >= 0 &&
				    e->flags[fi].arg != NULL)))
				i++;
		} else
			pos[npos++] = words[i];
	}
	if (prev != NULL &&
	    (strcmp(prev, "-o") == 0 || strcmp(prev, "--output") == 0))
		cand_outputs(&c, e);
	else if (prev != NULL && prev[1] == '-' &&
	    (fi = flag_index(e, prev + 2)) >= 0 && e->flags[fi].arg != NULL)
		cand_kind(cli, &c, e->flags[fi].cmpl, pos, npos);
	else if (nopts && cur[0] == '-') {
		for (fi = 0; fi < nflags(e); fi++) {
			char *f = xasprintf("--%s", e->flags[fi].name);

			cand_add(&c, f);
			free(f);
		}
		cand_add(&c, "--output");
	} else if (e->max < 0 || npos < e->max) {
		enum cmpl kind = C_NONE;

		if (npos < 3)
			kind = e->pos[npos];
		if (kind == C_NONE && e->max < 0) {
			for (m = 2; m >= 0 && e->pos[m] == C_NONE; m--)
				;
			if (m >= 0)
				kind = e->pos[m];
		}
		cand_kind(cli, &c, kind, pos, npos);
	}
	free(pos);
out:
	if (c.v == NULL)
		c.v = xcalloc(1, sizeof(char *));
	return c.v;
}
