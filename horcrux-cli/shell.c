/*
 * shell.c - the interactive shell: readline behind one small wrapper,
 * with history, tab completion and a user@host prompt.
 *
 * Lines go to the same runner (cmd_run) as one-shot arguments, so the
 * shell adds only what a person at a terminal needs: the prompt, history
 * in $XDG_STATE_HOME/horcrux/history (written after every line, so a
 * killed shell loses nothing), completion from the command table and the
 * daemon's live names, and Ctrl-C that clears the line instead of killing
 * the shell. It does not parse commands itself beyond splitting words.
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"

#define HISTORY_MAX 1000

/* readline's callbacks take no context: the shell's session lives here. */
static struct cli	    *shell_cli;
static char		   **shell_cands;
static volatile sig_atomic_t shell_sigint;

char **
shell_split(const char *line, int *argc, const char **err)
{
	char	    **v = xcalloc(1, sizeof *v);
	struct hx_buf w;
	const char   *p = line;
	int	      n = 0, inword;
	char	      q;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			break;
		hx_buf_init(&w, 0);
		inword = 1;
		while (inword && *p != '\0') {
			switch (*p) {
			case ' ':
			case '\t':
			case '\r':
			case '\n':
				inword = 0;
				break;
			case '\'':
			case '"':
				q = *p++;
				while (*p != '\0' && *p != q) {
					if (q == '"' && *p == '\\' &&
					    (p[1] == '"' || p[1] == '\\'))
						p++;
					hx_buf_add(&w, p++, 1);
				}
				if (*p == '\0') {
					hx_buf_release(&w);
					cmd_strv_free(v);
					*err = "unterminated quote";
					return NULL;
				}
				p++;
				break;
			case '\\':
				if (p[1] != '\0')
					p++;
				hx_buf_add(&w, p++, 1);
				break;
			default:
				hx_buf_add(&w, p++, 1);
			}
		}
		v = xrealloc(v, ((size_t)n + 2) * sizeof *v);
		v[n++] = w.data != NULL ? hx_buf_detach(&w, NULL) : xstrdup("");
		v[n] = NULL;
	}
	*argc = n;
	return v;
}

/* $XDG_STATE_HOME/horcrux/history, its directory created. Caller frees. */
static char *
history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home;
	char	   *dir, *path;

	if (state != NULL && *state == '/')
		dir = xasprintf("%s/horcrux", state);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		dir = xasprintf("%s/.local/state/horcrux", home);
	else
		return NULL;
	/* mkdir -p, 0700: history may name users and keys. */
	for (char *s = dir + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
				free(dir);
				return NULL;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	path = xasprintf("%s/history", dir);
	free(dir);
	return path;
}

static char *
generator(const char *text, int state)
{
	static size_t i;

	(void)text;
	if (state == 0)
		i = 0;
	if (shell_cands == NULL || shell_cands[i] == NULL)
		return NULL;
	return strdup(shell_cands[i++]);
}

/* Words before the cursor's word, plus the word, through cmd_complete. */
static char **
complete_hook(const char *text, int start, int end)
{
	char	   *before, **words, **all;
	const char *err;
	int	    n = 0, i;

	(void)end;
	rl_attempted_completion_over = 1;
	before = xstrndup(rl_line_buffer, (size_t)start);
	if ((words = shell_split(before, &n, &err)) == NULL) {
		free(before);
		return NULL;
	}
	free(before);
	all = xcalloc((size_t)n + 2, sizeof *all);
	for (i = 0; i < n; i++)
		all[i] = words[i];
	all[n] = (char *)text;
	cmd_strv_free(shell_cands);
	shell_cands = cmd_complete(shell_cli, n + 1, all);
	free(all);
	cmd_strv_free(words);
	return rl_completion_matches(text, generator);
}

static void
on_sigint(int sig)
{
	(void)sig;
	shell_sigint = 1;
}

/* Ctrl-C at the prompt: abandon the line, draw a fresh prompt. */
static int
signal_hook(void)
{
	if (shell_sigint) {
		shell_sigint = 0;
		rl_replace_line("", 0);
		rl_crlf();
		rl_on_new_line();
		rl_redisplay();
	}
	return 0;
}

/* "alice@host> " for the prompt. Caller frees. */
static char *
make_prompt(struct cli *cli)
{
	char	host[256];
	json_t *me;

	if (cli->me == NULL &&
	    (me = cli_api_quiet(cli, "/api/auth/me")) != NULL) {
		if (jstr(me, "username") != NULL)
			cli->me = xstrdup(jstr(me, "username"));
		json_decref(me);
	}
	if (cli->srv.unix_sock) {
		if (gethostname(host, sizeof host) != 0)
			hx_strlcpy(host, "localhost", sizeof host);
		host[sizeof host - 1] = '\0';
	} else
		hx_strlcpy(host, cli->srv.host, sizeof host);
	return xasprintf("%s@%s> ", cli->me != NULL ? cli->me : "(nobody)",
	    host);
}

int
shell_run(struct cli *cli)
{
	struct sigaction sa, old;
	const char	*err;
	char		*hist, *line, *prompt, **words;
	int		 argc, rc;

	shell_cli = cli;
	cli->interactive = 1;
	rl_readline_name = "horcrux-cli";
	rl_attempted_completion_function = complete_hook;
	/* Topics (vm:status) and paths (/vms/web-1) are single words. */
	rl_completer_word_break_characters = " \t\n";
	rl_completer_quote_characters = "\"'";
	rl_signal_event_hook = signal_hook;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &old);

	using_history();
	stifle_history(HISTORY_MAX);
	if ((hist = history_path()) != NULL)
		read_history(hist);

	prompt = make_prompt(cli);
	printf("horcrux-cli %s on %s as %s. 'help' lists the commands, "
	       "Ctrl-D leaves.\n",
	    HX_VERSION, cli->srv.display,
	    cli->me != NULL ? cli->me : "nobody (try 'login')");
	while ((line = readline(prompt)) != NULL) {
		if ((words = shell_split(line, &argc, &err)) == NULL)
			cli_error("%s", err);
		else if (argc > 0) {
			add_history(line);
			if (hist != NULL && append_history(1, hist) != 0)
				write_history(hist);
			rc = cmd_run(cli, argc, words);
			if (rc == CLI_QUIT) {
				cmd_strv_free(words);
				free(line);
				line = NULL;
				break;
			}
			free(prompt);
			prompt = make_prompt(cli);
		}
		cmd_strv_free(words);
		free(line);
		fflush(stdout);
	}
	if (line == NULL && isatty(STDOUT_FILENO))
		putchar('\n');
	if (hist != NULL)
		history_truncate_file(hist, HISTORY_MAX);
	clear_history();
	cmd_strv_free(shell_cands);
	shell_cands = NULL;
	free(hist);
	free(prompt);
	sigaction(SIGINT, &old, NULL);
	return CLI_OK;
}
