/*
 * options.c - horcrux-cli's global options as one hx-config table, and
 * their parser: the options before the command (and those typed before
 * the word being completed), read by hx_config_parse_argv so --help,
 * completion and the docs test (`horcrux-cli --dump-options`) all read
 * the same rows.
 *
 * The messages are horcrux-cli's own, older than the table ("option '-c'
 * needs a value", "unknown output format 'x': use table, json or csv"), so a
 * failure is worded here from what hx-config reports. What it does not
 * do: a command's flags (cmd-table.c), or resolve the server and
 * credentials the options name (horcrux-cli.c, through hx-client).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const output_choices[] = { "table", "json", "csv", NULL };

/* Order matters to help and completion; output_choices to enum cli_output. */
const struct hx_opt cli_options_table[] = {
	{ .name = "connect",
	    .short_flag = 'c',
	    .type = HX_OPT_STRING,
	    .arg = "URL",
	    .help = "server: unix:PATH, http(s)://HOST:PORT or "
		    "ws(s)://HOST:PORT",
	    .flags = HX_OPT_CLI_ONLY | HX_OPT_EMPTY_OK },
	{ .name = "api_key_file",
	    .type = HX_OPT_STRING,
	    .arg = "FILE",
	    .help = "read the API key from FILE",
	    .flags = HX_OPT_CLI_ONLY | HX_OPT_EMPTY_OK },
	{ .name = "output",
	    .short_flag = 'o',
	    .type = HX_OPT_CHOICE,
	    .choices = output_choices,
	    .arg = "FORMAT",
	    .help = "table (default), json or csv (history); also after "
		    "any command",
	    .flags = HX_OPT_CLI_ONLY },
	{ .name = "bail",
	    .short_flag = 'e',
	    .type = HX_OPT_BOOL,
	    .help = "stop at the first failing command of a script",
	    .flags = HX_OPT_CLI_ONLY | HX_OPT_SHORT_ONLY },
	{ .name = "help",
	    .short_flag = 'h',
	    .type = HX_OPT_BOOL,
	    .help = "show this help and exit",
	    .flags = HX_OPT_CLI_ONLY | HX_OPT_STOP },
	{ .name = "version",
	    .short_flag = 'V',
	    .type = HX_OPT_BOOL,
	    .help = "show the version and exit",
	    .flags = HX_OPT_CLI_ONLY | HX_OPT_STOP },
	{ .name = "dump_options",
	    .type = HX_OPT_BOOL,
	    .help = "list the options for the docs test",
	    .flags = HX_OPT_CLI_ONLY | HX_OPT_HIDDEN | HX_OPT_STOP },
};
const size_t cli_options_count = HX_ARRAY_SIZE(cli_options_table);

/* "horcrux-cli: MESSAGE" and the --help hint on stderr; CLI_USAGE. */
static int HX_PRINTF(1, 2) main_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("horcrux-cli: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'horcrux-cli --help'.\n", stderr);
	return CLI_USAGE;
}

/* Word a failure the way horcrux-cli always has. Returns CLI_USAGE. */
static int
options_fail(const struct hx_args_result *r)
{
	switch (r->stop) {
	case HX_ARGS_NEEDS_VALUE:
		return main_usage("option '%s' needs a value", r->word);
	case HX_ARGS_BAD_VALUE:
		return main_usage("unknown output format '%s': use table, json "
				  "or csv",
		    r->value);
	default:
		return main_usage("unknown option '%s'", r->word);
	}
}

/* Copy what the options set into the session. */
static void
options_apply(struct cli *cli, const struct hx_config *cfg)
{
	const struct hx_opt_value *v;

	if ((v = hx_config_get(cfg, "connect"))->source == HX_SRC_FLAG) {
		free(cli->server_flag);
		cli->server_flag = xstrdup(v->str);
	}
	if ((v = hx_config_get(cfg, "api_key_file"))->source == HX_SRC_FLAG) {
		free(cli->key_file_flag);
		cli->key_file_flag = xstrdup(v->str);
	}
	if ((v = hx_config_get(cfg, "output"))->source == HX_SRC_FLAG)
		cli->output = (enum cli_output)v->i;
	if (hx_config_int(cfg, "bail"))
		cli->bail = 1;
}

int
cli_options_parse(struct cli *cli, int argc, char **argv, int start, int quiet,
    int *code)
{
	struct hx_config      cfg;
	struct hx_args_result r;
	char		     *err = NULL;
	int		      rc, i = start;

	hx_config_init(&cfg, cli_options_table, cli_options_count);
	for (;;) {
		rc = hx_config_parse_argv(&cfg, argc, argv, i,
		    HX_ARGS_WORDS | HX_ARGS_SPLIT, &r, &err);
		free(err);
		err = NULL;
		i = r.next;
		/* Completing: skip what is wrong, stop only without a value. */
		if (!quiet || rc == 0 || r.stop == HX_ARGS_NEEDS_VALUE)
			break;
	}
	if (quiet) {
		options_apply(cli, &cfg);
		*code = 0;
		if (rc < 0 || r.stop != HX_ARGS_END)
			i = -1;
	} else if (rc < 0) {
		*code = options_fail(&r);
		i = -1;
	} else if (rc > 0) {
		if (strcmp(r.opt->name, "help") == 0)
			cmd_help_all(stdout);
		else if (strcmp(r.opt->name, "version") == 0)
			printf("horcrux-cli %s\n", HX_VERSION);
		else
			hx_config_dump(cli_options_table, cli_options_count,
			    stdout);
		*code = 0;
		i = -1;
	} else
		options_apply(cli, &cfg);
	hx_config_release(&cfg);
	return i;
}
