/*
 * cmd-notify.c - `notify target list|show|add|delete|test`: the
 * notification targets of horcruxd(8)'s NOTIFICATIONS section.
 *
 * A webhook's secret and an SMTP password never travel on the command
 * line, where ps(1) and shell history would keep them: they are read
 * from a file (--secret-file), as one line of standard input
 * (--secret-stdin) or from the terminal without echo. Nothing here prints
 * them; the daemon never returns them.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SECRET_FILE_MAX 4096

static char *
target_path(const char *name, const char *what)
{
	char *n = hx_url_escape(name), *p;

	p = xasprintf("/api/notify/targets/%s%s%s", n, what ? "/" : "",
	    what ? what : "");
	free(n);
	return p;
}

/* Where a target delivers: its URL, or its SMTP URL and recipients. */
static char *
target_where(const json_t *t)
{
	char *to, *s;

	if (jstr(t, "url") != NULL)
		return xstrdup(jstr(t, "url"));
	to = jjoin(t, "to", ",");
	s = xasprintf("%s -> %s",
	    jstr(t, "smtp_url") ? jstr(t, "smtp_url") : "-", to);
	free(to);
	return s;
}

int
cmd_notify_target_list(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	struct table *t;
	json_t	     *list, *o;
	size_t	      i;
	char	     *where;
	int	      rc;

	(void)e;
	(void)a;
	if ((rc = cli_api(cli, "GET", "/api/notify/targets", NULL, &list,
		 "list the notification targets")) != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(list);
	else {
		t = table_new((const char *const[]){ "NAME", "TYPE", "WHERE",
		    "CREATED", NULL });
		json_array_foreach(json_object_get(list, "targets"), i, o) {
			where = target_where(o);
			table_add(t, jstr(o, "name"), jstr(o, "type"), where,
			    jstr(o, "created"));
			free(where);
		}
		table_print_free(cli, t);
	}
	json_decref(list);
	return CLI_OK;
}

int
cmd_notify_target_show(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	struct table *t;
	struct kv    *kv;
	json_t	     *o, *at;
	size_t	      i;
	char *p = target_path(a->argv[0], NULL), *where, st[32], dur[32];
	int   rc;

	(void)e;
	rc = cli_api(cli, "GET", p, NULL, &o, "show notification target '%s'",
	    a->argv[0]);
	free(p);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON) {
		out_json(o);
		json_decref(o);
		return CLI_OK;
	}
	kv = kv_new();
	where = target_where(o);
	kv_add(kv, "Target", "%s", jstr(o, "name"));
	kv_add(kv, "Type", "%s", jstr(o, "type"));
	kv_add(kv, "Delivers to", "%s", where);
	if (jstr(o, "from") != NULL)
		kv_add(kv, "From", "%s", jstr(o, "from"));
	if (jstr(o, "username") != NULL)
		kv_add(kv, "Username", "%s", jstr(o, "username"));
	kv_add(kv, "Created", "%s", jstr(o, "created"));
	free(where);
	kv_print_free(cli, kv);
	t = table_new((const char *const[]){ "TIME", "EVENT", "ATTEMPT",
	    "OUTCOME", "STATUS", "MS", "ERROR", NULL });
	json_array_foreach(json_object_get(o, "attempts"), i, at) {
		char n[16];

		snprintf(n, sizeof n, "%lld",
		    (long long)json_integer_value(
			json_object_get(at, "attempt")));
		table_add(t, jstr(at, "ts"), jstr(at, "event"), n,
		    jstr(at, "outcome"), jnum(at, "status", st, sizeof st),
		    jnum(at, "duration_ms", dur, sizeof dur),
		    jstr(at, "error"));
	}
	printf("\nNewest attempts:\n");
	table_print_free(cli, t);
	json_decref(o);
	return CLI_OK;
}

/* The secret: from --secret-file, --secret-stdin or the terminal. */
static char *
read_secret(const struct cmd_entry *e, struct cmd_args *a, const char *what)
{
	const char *file = cmd_flag(e, a, "secret-file");
	char	   *s, *label;
	size_t	    len;

	if (file != NULL) {
		if ((s = hx_read_file(file, SECRET_FILE_MAX, &len)) == NULL) {
			cli_error("cannot read the %s from '%s'", what, file);
			return NULL;
		}
		/* One line: a trailing newline is not part of it. */
		while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
			s[--len] = '\0';
		if (len == 0 || strlen(s) != len) {
			cli_error("cannot use '%s': the %s must be one line of "
				  "text",
			    file, what);
			prompt_free(s);
			return NULL;
		}
		return s;
	}
	if (!cmd_flag_count(e, a, "secret-stdin")) {
		/* prompt_password would name its own flag: name ours. */
		int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);

		if (tty < 0 || !isatty(tty)) {
			if (tty >= 0)
				close(tty);
			cli_error("cannot ask for the %s: no terminal; use "
				  "--secret-file or --secret-stdin",
			    what);
			return NULL;
		}
		close(tty);
	}
	label = xasprintf("%c%s: ", what[0] - 'a' + 'A', what + 1);
	s = prompt_password(label, 1, cmd_flag_count(e, a, "secret-stdin"));
	free(label);
	return s;
}

int
cmd_notify_target_add(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	const char *url = cmd_flag(e, a, "url");
	const char *smtp = cmd_flag(e, a, "smtp-url");
	const char *user = cmd_flag(e, a, "username");
	char	  **to = cmd_flag_all(e, a, "to"), *secret = NULL;
	json_t	   *body, *tos, *out;
	size_t	    i;
	int	    rc;

	if ((url == NULL) == (smtp == NULL)) {
		return cli_usage(e,
		    "give --url (a webhook) or --smtp-url (e-mail), "
		    "not both");
	}
	if (cmd_flag(e, a, "secret-file") != NULL &&
	    cmd_flag_count(e, a, "secret-stdin")) {
		return cli_usage(e,
		    "--secret-file and --secret-stdin are exclusive");
	}
	body = json_pack("{s:s}", "name", a->argv[0]);
	if (url != NULL) {
		if (to[0] != NULL || cmd_flag(e, a, "from") != NULL ||
		    user != NULL) {
			json_decref(body);
			return cli_usage(e,
			    "--from, --to and --username are for "
			    "e-mail targets");
		}
		json_object_set_new(body, "type", json_string("webhook"));
		json_object_set_new(body, "url", json_string(url));
		if ((secret = read_secret(e, a, "webhook secret")) == NULL) {
			json_decref(body);
			return CLI_ERR;
		}
		json_object_set_new(body, "secret", json_string(secret));
	} else {
		json_object_set_new(body, "type", json_string("email"));
		json_object_set_new(body, "smtp_url", json_string(smtp));
		if (cmd_flag(e, a, "from") != NULL)
			json_object_set_new(body, "from",
			    json_string(cmd_flag(e, a, "from")));
		tos = json_array();
		for (i = 0; to[i] != NULL; i++)
			json_array_append_new(tos, json_string(to[i]));
		json_object_set_new(body, "to", tos);
		if (user != NULL) {
			json_object_set_new(body, "username",
			    json_string(user));
			if ((secret = read_secret(e, a, "SMTP password")) ==
			    NULL) {
				json_decref(body);
				return CLI_ERR;
			}
			json_object_set_new(body, "password",
			    json_string(secret));
		}
	}
	rc = cli_api(cli, "POST", "/api/notify/targets", body, &out,
	    "add notification target '%s'", a->argv[0]);
	if (secret != NULL)
		prompt_free(secret);
	/* The body held the secret: wipe jansson's copy too. */
	if (json_object_get(body, "secret") != NULL ||
	    json_object_get(body, "password") != NULL) {
		json_t *v = json_object_get(body, "secret");

		if (v == NULL)
			v = json_object_get(body, "password");
		json_string_set(v, "");
	}
	json_decref(body);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(out);
	else
		printf("added %s target '%s'\n", jstr(out, "type"), a->argv[0]);
	json_decref(out);
	return CLI_OK;
}

int
cmd_notify_target_delete(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	char *p = target_path(a->argv[0], NULL);
	int   rc;

	(void)e;
	rc = cli_api(cli, "DELETE", p, NULL, NULL,
	    "delete notification target '%s'", a->argv[0]);
	free(p);
	if (rc == CLI_OK && cli->out == OUT_TABLE)
		printf("deleted notification target '%s'\n", a->argv[0]);
	return rc;
}

/* Exit 0 only when the test message was delivered at the first attempt. */
int
cmd_notify_target_test(struct cli *cli, const struct cmd_entry *e,
    struct cmd_args *a)
{
	char	   *p = target_path(a->argv[0], "test"), st[32], dur[32];
	json_t	   *o;
	const char *err;
	int	    rc, ok;

	(void)e;
	rc = cli_api(cli, "POST", p, NULL, &o, "send a test message to '%s'",
	    a->argv[0]);
	free(p);
	if (rc != CLI_OK)
		return rc;
	ok = json_is_true(json_object_get(o, "ok"));
	if (cli->out == OUT_JSON)
		out_json(o);
	else if (ok)
		printf("delivered to '%s' (status %s, %s ms)\n", a->argv[0],
		    jnum(o, "status", st, sizeof st),
		    jnum(o, "duration_ms", dur, sizeof dur));
	else {
		err = jstr(o, "error");
		cli_error("test message to '%s' not delivered: %s (status %s, "
			  "%s)",
		    a->argv[0], err != NULL ? err : "refused",
		    jnum(o, "status", st, sizeof st),
		    strcmp(jstr(o, "outcome") ? jstr(o, "outcome") : "",
			"retry") == 0 ?
			"it will be retried" :
			"it will not be retried");
	}
	json_decref(o);
	return ok ? CLI_OK : CLI_ERR;
}
