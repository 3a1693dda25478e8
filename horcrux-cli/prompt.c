/*
 * prompt.c - asking a person for a password (or a name) on the terminal.
 *
 * Passwords are read from /dev/tty with echo off, so they work even while
 * stdin is a script, and the terminal is restored before returning, also
 * on Ctrl-C (SIGINT is held off while echo is off). Without a terminal
 * the only way in is --password-stdin: one line of standard input. A
 * password is never taken from the command line, where ps and shell
 * history would keep it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

#define LINE_MAX_BYTES 1100 /* the daemon takes up to 1024 */

/* Read one line from fd (without the newline). NULL at EOF or error. */
static char *
read_line_fd(int fd)
{
	struct hx_buf b;
	char	      c;
	ssize_t	      n;

	hx_buf_init(&b, LINE_MAX_BYTES);
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (b.len == 0) {
				hx_buf_release(&b);
				return NULL;
			}
			break;
		}
		if (c == '\n')
			break;
		if (hx_buf_add(&b, &c, 1) < 0) {
			explicit_bzero(b.data, b.len);
			hx_buf_release(&b);
			return NULL;
		}
	}
	if (b.len > 0 && b.data[b.len - 1] == '\r')
		b.data[--b.len] = '\0';
	if (b.data == NULL)
		return xstrdup("");
	return hx_buf_detach(&b, NULL);
}

/* Ask once on the terminal with echo off. NULL on EOF or no terminal. */
static char *
ask_noecho(int tty, const char *label)
{
	struct termios old, raw;
	sigset_t       block, saved;
	char	      *s;

	if (tcgetattr(tty, &old) != 0)
		return NULL;
	raw = old;
	raw.c_lflag &= ~(tcflag_t)ECHO;
	raw.c_lflag |= ECHONL;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTSTP);
	sigprocmask(SIG_BLOCK, &block, &saved);
	if (write(tty, label, strlen(label)) < 0 ||
	    tcsetattr(tty, TCSAFLUSH, &raw) != 0) {
		sigprocmask(SIG_SETMASK, &saved, NULL);
		return NULL;
	}
	s = read_line_fd(tty);
	tcsetattr(tty, TCSAFLUSH, &old);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return s;
}

char *
prompt_password(const char *label, int confirm, int from_stdin)
{
	char *pw, *again, *label2;
	int   tty;

	if (from_stdin) {
		if ((pw = read_line_fd(STDIN_FILENO)) == NULL)
			cli_error("cannot read the password: no line on "
				  "standard input");
		return pw;
	}
	if ((tty = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0 || !isatty(tty)) {
		if (tty >= 0)
			close(tty);
		cli_error("cannot ask for the password: no terminal; use "
			  "--password-stdin");
		return NULL;
	}
	pw = ask_noecho(tty, label);
	if (pw == NULL) {
		close(tty);
		cli_error("cannot read the password from the terminal");
		return NULL;
	}
	if (confirm) {
		label2 = xasprintf("Retype %c%s",
		    tolower((unsigned char)label[0]), label + 1);
		again = ask_noecho(tty, label2);
		free(label2);
		if (again == NULL || strcmp(again, pw) != 0) {
			cli_error("the passwords do not match");
			prompt_free(again);
			prompt_free(pw);
			close(tty);
			return NULL;
		}
		prompt_free(again);
	}
	close(tty);
	return pw;
}

char *
prompt_line(const char *label)
{
	char *s;
	int   tty;

	if ((tty = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return NULL;
	if (!isatty(tty) || write(tty, label, strlen(label)) < 0) {
		close(tty);
		return NULL;
	}
	s = read_line_fd(tty);
	close(tty);
	return s;
}

void
prompt_free(char *pw)
{
	if (pw == NULL)
		return;
	explicit_bzero(pw, strlen(pw));
	free(pw);
}
