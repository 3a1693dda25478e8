/*
 * cmd-events.c - `events [TOPIC...]`: the WebSocket stream on stdout,
 * like `virsh event --loop`, until Ctrl-C (or --count events).
 *
 * People get one line per event ("TIME Type key=value ..."); -o json
 * prints each frame as the daemon sent it, one object per line, for jq.
 * Pings and the Subscribed answer are not events and are not printed;
 * refused topics are warnings. The server ending the stream (a revoked
 * key, a stopped daemon) is an error: exit 1 with its reason, so a script
 * watching events notices. Ctrl-C is the normal end: exit 0.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hx-proto.h"

#define CONNECT_TIMEOUT_MS 5000

static volatile sig_atomic_t events_stop;

/* A usage error naming the topics there are (hx_topics, in its order). */
static int
unknown_topic(const struct cmd_entry *e, const char *t)
{
	struct hx_buf b;
	int	      i, rc;

	hx_buf_init(&b, 0);
	for (i = 0; i < HX_TOPIC_COUNT; i++)
		hx_buf_addf(&b, "%s%s", i ? ", " : "", hx_topics[i].name);
	rc = cli_usage(e, "unknown topic '%s'; topics: %s", t, b.data);
	hx_buf_release(&b);
	return rc;
}

static void
on_signal(int sig)
{
	(void)sig;
	events_stop = 1;
}

/* "TIME Type k=v k=v" for people. */
static void
print_event(const char *type, json_t *data)
{
	const char *k, *ts = jstr(data, "timestamp");
	json_t	   *v;
	char	   *s;

	printf("%s %s", ts ? ts : "-", type);
	json_object_foreach(data, k, v) {
		if (strcmp(k, "timestamp") == 0)
			continue;
		if (json_is_string(v)) {
			s = out_printable(xstrdup(json_string_value(v)));
			printf(" %s=%s", k, s);
			free(s);
		} else {
			char *safe;

			s = json_dumps(v,
			    JSON_COMPACT | JSON_ENCODE_ANY |
				JSON_REAL_PRECISION(15));
			safe = s != NULL ? hx_json_term_safe(s) : NULL;
			printf(" %s=%s", k, safe ? safe : "?");
			free(safe);
			free(s);
		}
	}
	putchar('\n');
}

/*
 * Handle one frame. Returns 1 for an event that counts, 0 for none, or
 * an exit code + 10 when the stream cannot go on.
 */
struct stream {
	int requested; /* topics asked for */
	int granted; /* -1 until Subscribed */
	int refused; /* Error frames naming a topic */
};

static int
handle(struct cli *cli, const char *msg, struct stream *st)
{
	json_t		       *f = json_loads(msg, 0, NULL), *data;
	const char	       *type;
	struct hx_ev_subscribed sub;
	struct hx_ev_error	er;
	int			r = 0;

	type = jstr(f, "type");
	data = json_object_get(f, "data");
	if (type == NULL)
		goto out;
	/*
	 * The three control events are the stream's own business; every
	 * other type, known to hx_events or newer than this client, is an
	 * event and printed as it came.
	 */
	switch (hx_event_type_find(type)) {
	case HX_EV_PING:
		goto out;
	case HX_EV_SUBSCRIBED:
		hx_proto_decode(HX_EV_SUBSCRIBED, data, &sub, NULL);
		st->granted = (int)json_array_size(sub.topics);
		goto out;
	case HX_EV_ERROR:
		hx_proto_decode(HX_EV_ERROR, data, &er, NULL);
		cli_warning("%s%s%s", er.topic ? er.topic : "",
		    er.topic ? ": " : "",
		    er.message ? er.message : "error from the daemon");
		if (er.topic != NULL)
			st->refused++;
		/* Every topic refused (the Errors follow Subscribed). */
		if (st->granted == 0 && st->refused >= st->requested) {
			cli_error("cannot stream events: no topic allowed");
			r = CLI_FORBIDDEN + 10;
		}
		goto out;
	default:
		break;
	}
	if (cli->out == OUT_JSON)
		puts(msg); /* the frame exactly as the daemon sent it */
	else
		print_event(type, data);
	fflush(stdout);
	r = 1;
out:
	json_decref(f);
	return r;
}

int
cmd_events(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct sigaction sa, old_int, old_term;
	struct hx_ws	*ws;
	struct pollfd	 pfd;
	const char	*count = cmd_flag(e, a, "count");
	long long	 max = 0, seen = 0;
	json_t		*topics = json_array(), *sub;
	char		*text, *err = NULL, *msg;
	size_t		 len, i;
	struct stream	 st = { 0, -1, 0 };
	int		 status = 0, rc = CLI_OK, r;

	if (count != NULL && hx_parse_ll(count, 1, 1000000000, &max) != 0) {
		json_decref(topics);
		return cli_usage(e, "--count: '%s' is not a positive number",
		    count);
	}
	if (a->argc == 0) {
		/* Every topic but the metrics, which would drown the rest. */
		for (i = 0; i < (size_t)HX_TOPIC_COUNT; i++) {
			if (!hx_topics[i].metric)
				json_array_append_new(topics,
				    json_string(hx_topics[i].name));
		}
	} else {
		for (i = 0; i < (size_t)a->argc; i++) {
			if (hx_topic_find(a->argv[i]) < 0) {
				json_decref(topics);
				return unknown_topic(e, a->argv[i]);
			}
			json_array_append_new(topics, json_string(a->argv[i]));
		}
	}
	st.requested = (int)json_array_size(topics);
	sub = json_pack("{s:o}", "topics", topics);
	text = json_dumps(sub, JSON_COMPACT);
	json_decref(sub);

	if ((ws = hx_ws_connect(&cli->srv, &cli->cred, CONNECT_TIMEOUT_MS,
		 &status, &err)) == NULL) {
		/* Unreachable (no status): say where that server came from. */
		msg = status ? xstrdup("") :
			       hx_client_server_origin(&cli->conf);
		cli_error("cannot stream events: %s%s", err, msg);
		free(msg);
		free(err);
		free(text);
		return status ? cli_code_for_status(status) : CLI_ERR;
	}
	if (hx_ws_send(ws, text, strlen(text), &err) < 0) {
		cli_error("cannot subscribe: %s", err);
		free(err);
		free(text);
		hx_ws_close(ws);
		return CLI_ERR;
	}
	free(text);

	events_stop = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() wakes up */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!events_stop) {
		pfd.fd = hx_ws_fd(ws);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			cli_error("cannot wait for events: %s",
			    strerror(errno));
			rc = CLI_ERR;
			break;
		}
		while ((r = hx_ws_read(ws, &msg, &len, &err)) == 1) {
			r = handle(cli, msg, &st);
			free(msg);
			if (r >= 10) {
				rc = r - 10;
				goto done;
			}
			if (r == 1 && max > 0 && ++seen >= max)
				goto done;
		}
		if (r < 0) {
			cli_error("the event stream ended: %s", err);
			free(err);
			rc = CLI_ERR;
			break;
		}
	}
done:
	/* The terminal echoed ^C: start the next prompt on a line of its own. */
	if (events_stop && cli->interactive)
		putchar('\n');
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	hx_ws_close(ws);
	return rc;
}
