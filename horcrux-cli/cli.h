/*
 * cli.h - what the parts of horcrux-cli share: the session state, the
 * command table's types, the runner's error helpers, the REST helper and
 * the output helpers.
 *
 * One table (cmd-table.c) of struct cmd_entry drives parsing, --help,
 * `help`, the shell's tab completion and `__complete`, so none of them can
 * drift from the others. Commands return an exit code (CLI_OK ...) instead
 * of exiting, because the same command runs one-shot, in a script and in
 * the interactive shell, where an error must not end the session.
 */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "hx-client.h"
#include "hx-config.h"
#include "hx-util.h"

/* Exit codes: interface, documented in horcrux-cli(1). */
#define CLI_OK 0
#define CLI_ERR 1 /* the daemon or the network */
#define CLI_USAGE 2
#define CLI_AUTH 3 /* authentication required or refused (401) */
#define CLI_FORBIDDEN 4 /* 403 */
#define CLI_QUIT 100 /* quit/exit: leave the shell (never an exit code) */

#define CLI_TIMEOUT_MS 15000

/* In the order of options.c's output choices. */
enum cli_output {
	OUT_TABLE,
	OUT_JSON,
	OUT_CSV /* commands marked CMD_CSV only */
};

/* What a word may complete to: static words or names from the daemon. */
enum cmpl {
	C_NONE = 0,
	C_USER,
	C_ROLE,
	C_PRIV,
	C_VM,
	C_KEY, /* key ids of the previous positional user, or mine */
	C_USER_OR_KEY,
	C_PATH, /* ACL paths, with /vms/<vm> for every VM */
	C_TOPIC,
	C_REALM,
	C_OUTPUT,
	C_COMMAND, /* command names (help) */
	C_SERIES, /* history series names, and vm:*:FIELD globs */
	C_NOTIFY_TARGET, /* notification target names */
	C_RULE, /* alert rule names */
	C_ALERT /* alert ids (every state) */
};

struct cli {
	struct hx_client_conf conf;
	struct hx_server      srv;
	struct hx_cred	      cred;
	char		     *server_flag;
	char		     *key_file_flag;
	enum cli_output	      output; /* the session default (-o) */
	enum cli_output	      out; /* this command's */
	int		      bail; /* -e */
	int		      color;
	int		      interactive; /* in the readline shell */
	char		     *me; /* cached /api/auth/me username */
	int		      offline; /* no usable server (completion) */
};

struct cmd_entry;

/* A flag of one command: --name or --name ARG (or --name=ARG). */
struct cmd_flag {
	const char *name; /* without the dashes */
	const char *arg; /* metavar, or NULL for a switch */
	int	    fflags; /* F_REPEAT, F_REQUIRED */
	enum cmpl   cmpl; /* what its argument completes to */
	const char *help;
};

#define F_REPEAT 0x1 /* may be given more than once */
#define F_REQUIRED 0x2 /* must be given: no brackets in the usage */

/* One parsed command line. */
struct cmd_args {
	int    argc; /* positional arguments */
	char **argv;
	/* Per flag of the entry, in table order: how often, last value. */
	int    count[16];
	char **vals[16]; /* every value (repeatable flags) */
};

#define CMD_HIDDEN 0x1 /* not in help or completion */
#define CMD_SHELL 0x2 /* meaningful in the shell (quit, exit) */
#define CMD_CSV 0x4 /* has -o csv */

struct cmd_entry {
	const char	       *name;
	const char	       *args; /* positional synopsis */
	int			min, max; /* positional counts; max -1: any */
	enum cmpl		pos[3]; /* per position; the last repeats */
	const struct cmd_flag  *flags; /* NULL-name terminated, or NULL */
	const struct cmd_entry *sub; /* subcommands, or NULL */
	int (*exec)(struct cli *, const struct cmd_entry *, struct cmd_args *);
	const char *help;
	int	    opts;
};

/* --- cmd-table.c --------------------------------------------------------- */

/* The top-level command table, terminated by a NULL name. */
extern const struct cmd_entry cmd_table[];

/*
 * Run one command given as words (after the global flags). Prints its own
 * errors. Returns an exit code, or CLI_QUIT for quit/exit.
 */
int cmd_run(struct cli *cli, int argc, char **argv);

/*
 * Completion candidates for words[0..n-1], the last being the word being
 * completed (possibly ""): every match, one string per entry, in a NULL-
 * terminated array the caller frees with cmd_strv_free().
 */
char **cmd_complete(struct cli *cli, int n, char **words);
void   cmd_strv_free(char **v);

/* Print the whole help (--help, bare `help`) to f. */
void cmd_help_all(FILE *f);

/* Print "usage: horcrux-cli CMD SUB ARGS [flags]" for e to f. */
void cmd_print_usage(const struct cmd_entry *e, FILE *f);

/* The flag's value (last given) or NULL; its count. */
const char *cmd_flag(const struct cmd_entry *e, const struct cmd_args *a,
    const char *name);
int	    cmd_flag_count(const struct cmd_entry *e, const struct cmd_args *a,
	    const char *name);
/* Every value of a repeatable flag, NULL-terminated (may be empty). */
char **cmd_flag_all(const struct cmd_entry *e, const struct cmd_args *a,
    const char *name);

/* The full name of e ("user add") for messages; a static string. */
const char *cmd_full_name(const struct cmd_entry *e);

/* --- options.c ----------------------------------------------------------- */

/* The global options (-c, --api-key-file, -o, -e, -h, -V), one table. */
extern const struct hx_opt cli_options_table[];
extern const size_t	   cli_options_count;

/*
 * Parse the global options at argv[start..] into cli. Returns the index of
 * the first word after them, or -1 with *code set: the usage error's exit
 * code having said why, or 0 after --help, --version or --dump-options.
 * With quiet set (completion) nothing is printed, a wrong option is
 * skipped and only a missing value stops, returning -1 with *code 0.
 */
int cli_options_parse(struct cli *cli, int argc, char **argv, int start,
    int quiet, int *code);

/* --- horcrux-cli.c: messages -------------------------------------------- */

/* "horcrux-cli: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) HX_PRINTF(1, 2);
/* "horcrux-cli: warning: MESSAGE" on stderr. */
void cli_warning(const char *fmt, ...) HX_PRINTF(1, 2);
/* A usage error for e: the reason, then its usage line. Returns CLI_USAGE. */
int cli_usage(const struct cmd_entry *e, const char *fmt, ...) HX_PRINTF(2, 3);

/* --- request.c ----------------------------------------------------------- */

/*
 * One REST call. On a 2xx answer returns CLI_OK with *out the decoded JSON
 * (NULL for an empty body; the caller json_decref()s it; out may be NULL).
 * Otherwise prints "horcrux-cli: cannot WHAT: <daemon message>" and returns
 * the exit code for the failure (1, 3 or 4). body may be NULL; it is not
 * consumed.
 */
int cli_api(struct cli *cli, const char *method, const char *path, json_t *body,
    json_t **out, const char *what, ...) HX_PRINTF(6, 7);

/*
 * A GET whose answer is kept as the daemon sent it (CSV, or JSON to pass
 * on byte for byte). On a 2xx answer returns CLI_OK with *text (NUL-
 * terminated, the caller frees) and *len; otherwise fails as cli_api.
 */
int cli_api_text(struct cli *cli, const char *path, char **text, size_t *len,
    const char *what, ...) HX_PRINTF(5, 6);

/* Like cli_api but silent on failure (for completion). */
json_t *cli_api_quiet(struct cli *cli, const char *path);

/* Exit code for an HTTP status (401 -> 3, 403 -> 4, else 1). */
int cli_code_for_status(int status);

/*
 * The caller's username from /api/auth/me, cached on the session. Returns
 * it (owned by cli), or NULL after printing why (*code set).
 */
const char *cli_whoami(struct cli *cli, int *code);

/*
 * The REST path /api/users/USER[/what[/ID]], USER and ID URL-escaped;
 * user NULL means the caller (cli_whoami; cli is used for nothing else).
 * Returns it (caller frees), or NULL after printing why (*code set);
 * *code is CLI_OK otherwise.
 */
char *cli_user_path(struct cli *cli, const char *user, const char *what,
    const char *id, int *code);

/* The identity of local trust on the Unix socket: no stored user. */
#define CLI_LOCAL_TRUST "root@local"

/*
 * When the caller (as cached by cli_whoami) is local trust, which owns no
 * keys or sessions: print "cannot WHAT: root@local, the Unix socket's
 * local trust, WHY", set *code and return 1. Otherwise return 0.
 */
int cli_local_trust_refused(struct cli *cli, const char *what, const char *why,
    int *code);

/* Forget the cached identity (after login or logout). */
void cli_forget_identity(struct cli *cli);

/* --- output.c ------------------------------------------------------------ */

struct table;

/* A table with ncols columns named by the NULL-terminated headers. */
struct table *table_new(const char *const *headers);
/* Add one row of ncols strings (copied; NULL prints "-"). */
void table_add(struct table *t, ...);
/* The same from an array of ncols strings (a row built in a loop). */
void table_add_row(struct table *t, const char *const *cells);
/* Print aligned (header in bold when colour is on) and free t. */
void table_print_free(struct cli *cli, struct table *t);

/* "Key:   value" lines, aligned on the longest key. */
struct kv;
struct kv *kv_new(void);
void	   kv_add(struct kv *kv, const char *key, const char *fmt, ...)
    HX_PRINTF(3, 4);
void kv_print_free(struct cli *cli, struct kv *kv);

/* Print v as the API gave it, indented JSON, then a newline. */
void out_json(const json_t *v);

/*
 * Replace terminal control and bidi characters in s with '?', in place
 * (hx_term_safe); returns s.
 */
char *out_printable(char *s);

/* A string field or NULL. */
const char *jstr(const json_t *o, const char *key);
/* The strings of an array field joined by sep; a new string, or "-". */
char *jjoin(const json_t *o, const char *key, const char *sep);
/* A number field as text ("-" for null/absent); into buf. */
const char *jnum(const json_t *o, const char *key, char *buf, size_t len);

/* --- prompt.c ------------------------------------------------------------ */

/*
 * Read a password: from the terminal without echo (asked twice when
 * confirm is set), or one line of stdin when from_stdin is set. Returns
 * a new string (the caller wipes and frees it with prompt_free), or NULL
 * after printing why.
 */
char *prompt_password(const char *label, int confirm, int from_stdin);
/* A line typed with echo on the terminal; NULL when there is none. */
char *prompt_line(const char *label);
void  prompt_free(char *pw);

/* --- shell.c ------------------------------------------------------------- */

/*
 * The interactive shell: readline with history and completion until quit,
 * exit or end of input. Returns the exit code for the process (0).
 */
int shell_run(struct cli *cli);

/*
 * Split a command line into words, shell-style ('...', "...", \x, # to
 * the end as a comment). Returns a NULL-terminated array (cmd_strv_free),
 * or NULL with *err for an unterminated quote.
 */
char **shell_split(const char *line, int *argc, const char **err);

/* --- cmd-*.c: the command implementations -------------------------------- */

#define CMD_EXEC(name) \
	int name(struct cli *, const struct cmd_entry *, struct cmd_args *)

CMD_EXEC(cmd_login);
CMD_EXEC(cmd_logout);
CMD_EXEC(cmd_whoami);
CMD_EXEC(cmd_version);
CMD_EXEC(cmd_help);
CMD_EXEC(cmd_quit);
CMD_EXEC(cmd_user_list);
CMD_EXEC(cmd_user_show);
CMD_EXEC(cmd_user_add);
CMD_EXEC(cmd_user_modify);
CMD_EXEC(cmd_user_delete);
CMD_EXEC(cmd_user_passwd);
CMD_EXEC(cmd_user_sessions);
CMD_EXEC(cmd_user_logout);
CMD_EXEC(cmd_user_permissions);
CMD_EXEC(cmd_session_list);
CMD_EXEC(cmd_session_revoke);
CMD_EXEC(cmd_role_list);
CMD_EXEC(cmd_role_show);
CMD_EXEC(cmd_role_add);
CMD_EXEC(cmd_role_modify);
CMD_EXEC(cmd_role_delete);
CMD_EXEC(cmd_privilege_list);
CMD_EXEC(cmd_acl_list);
CMD_EXEC(cmd_acl_grant);
CMD_EXEC(cmd_acl_revoke);
CMD_EXEC(cmd_apikey_list);
CMD_EXEC(cmd_apikey_create);
CMD_EXEC(cmd_apikey_revoke);
CMD_EXEC(cmd_audit);
CMD_EXEC(cmd_admin_backup);
CMD_EXEC(cmd_vm_list);
CMD_EXEC(cmd_vm_show);
CMD_EXEC(cmd_vm_action);
CMD_EXEC(cmd_node_status);
CMD_EXEC(cmd_events);
CMD_EXEC(cmd_history);
CMD_EXEC(cmd_notify_target_list);
CMD_EXEC(cmd_notify_target_show);
CMD_EXEC(cmd_notify_target_add);
CMD_EXEC(cmd_notify_target_delete);
CMD_EXEC(cmd_notify_target_test);
CMD_EXEC(cmd_alert_list);
CMD_EXEC(cmd_alert_show);
CMD_EXEC(cmd_alert_ack);
CMD_EXEC(cmd_alert_rule_list);
CMD_EXEC(cmd_alert_rule_add);
CMD_EXEC(cmd_alert_rule_modify);
CMD_EXEC(cmd_alert_rule_delete);
CMD_EXEC(cmd_alert_test);

#endif
