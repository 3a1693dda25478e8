/*
 * horcrux-cli.c - the administrator's tool: the connection settings, the
 * messages, and the one runner that serves one-shot arguments, scripts on
 * standard input and the interactive shell (the sqlite shell's shape).
 * The global options are options.c's table.
 *
 * A command never exits the process: it returns an exit code, so the same
 * code path runs `horcrux-cli user list`, a line of a piped script and a
 * line typed at the prompt. Only start-up failures (bad options, unusable
 * configuration) end the program here, and even those return from main so
 * LeakSanitizer sees everything freed.
 *
 * Exit codes: 0 ok, 1 daemon or network error, 2 usage, 3 authentication
 * required or refused, 4 forbidden. A script's status is that of its last
 * failing command (with -e, the first).
 */
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SCRIPT_LINE_MAX (64 * 1024)

/* "horcrux-cli: PREFIXmessage" on stderr, after whatever stdout holds. */
static void HX_PRINTF(2, 0)
    vmessage(const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "horcrux-cli: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

void
cli_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

int
cli_usage(const struct cmd_entry *e, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("horcrux-cli: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cmd_print_usage(e, stderr);
	return CLI_USAGE;
}

/* Resolve the server and credentials. Returns an exit code. */
static int
connect_conf(struct cli *cli, int quiet)
{
	char *err = NULL;

	if (hx_client_conf_load(&cli->conf, cli->server_flag,
		cli->key_file_flag, &err) < 0) {
		if (!quiet)
			cli_error("%s", err);
		free(err);
		return CLI_ERR;
	}
	if (hx_server_parse(cli->conf.server, &cli->srv, &err) < 0) {
		if (!quiet)
			cli_error("%s", err);
		free(err);
		return cli->server_flag != NULL ? CLI_USAGE : CLI_ERR;
	}
	cli->cred.api_key = cli->conf.api_key;
	cli->cred.token = cli->conf.token;
	return CLI_OK;
}

/* Commands from a non-terminal stdin, one per line, no prompt. */
static int
run_script(struct cli *cli)
{
	struct hx_buf b;
	const char   *err;
	char	      c, **words;
	ssize_t	      n;
	int	      last = CLI_OK, rc, argc, eof = 0, lineno = 0;

	/*
	 * Read byte by byte, not through stdio: --password-stdin reads the
	 * next line of the same stdin and must find it still there.
	 */
	while (!eof) {
		hx_buf_init(&b, SCRIPT_LINE_MAX);
		for (;;) {
			n = read(STDIN_FILENO, &c, 1);
			if (n <= 0) {
				eof = 1;
				break;
			}
			if (c == '\n')
				break;
			if (hx_buf_add(&b, &c, 1) < 0) {
				cli_error("line %d is longer than %d bytes",
				    lineno + 1, SCRIPT_LINE_MAX);
				hx_buf_release(&b);
				return CLI_USAGE;
			}
		}
		lineno++;
		words = shell_split(b.data != NULL ? b.data : "", &argc, &err);
		hx_buf_release(&b);
		if (words == NULL) {
			cli_error("line %d: %s", lineno, err);
			rc = CLI_USAGE;
		} else {
			rc = cmd_run(cli, argc, words);
			cmd_strv_free(words);
		}
		fflush(stdout);
		if (rc == CLI_QUIT)
			break;
		if (rc != CLI_OK) {
			last = rc;
			if (cli->bail)
				break;
		}
	}
	return last;
}

static void
cli_release(struct cli *cli)
{
	hx_server_release(&cli->srv);
	hx_client_conf_release(&cli->conf);
	free(cli->server_flag);
	free(cli->key_file_flag);
	free(cli->me);
}

/* `__complete WORDS...`: the candidates, one per line; always exit 0. */
static int
complete_main(struct cli *cli, int argc, char **argv)
{
	char **c;
	int    i, code = 0;

	if (argc == 0)
		return 0;
	/* -c and --api-key-file typed on the line choose the daemon. */
	cli_options_parse(cli, argc - 1, argv, 0, 1, &code);
	if (connect_conf(cli, 1) != CLI_OK)
		cli->offline = 1;
	c = cmd_complete(cli, argc, argv);
	for (i = 0; c[i] != NULL; i++)
		puts(c[i]);
	cmd_strv_free(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli  cli;
	const char *nc;
	int	    i, code = 0;

	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);
	memset(&cli, 0, sizeof cli);
	if (argc > 1 && strcmp(argv[1], "__complete") == 0) {
		code = complete_main(&cli, argc - 2, argv + 2);
		goto out;
	}
	if ((i = cli_options_parse(&cli, argc, argv, 1, 0, &code)) < 0)
		goto out;
	if ((code = connect_conf(&cli, 0)) != CLI_OK)
		goto out;
	nc = getenv("NO_COLOR");
	cli.color = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');
	if (i < argc)
		code = cmd_run(&cli, argc - i, argv + i);
	else if (isatty(STDIN_FILENO))
		code = shell_run(&cli);
	else
		code = run_script(&cli);
	if (code == CLI_QUIT)
		code = CLI_OK;
out:
	fflush(stdout);
	cli_release(&cli);
	return code;
}
