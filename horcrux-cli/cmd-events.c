/*
 * cmd-events.c - `events [TOPIC...]`: the WebSocket stream on stdout,
 * like `virsh event --loop`, until Ctrl-C (or --count events).
 *
 * People get one line per event ("TIME Type key=value ..."); -o json
 * prints each frame as the daemon sent it, one object per line, for jq.
 * Pings and the Subscribed answer are not events and are not printed;
 * refused topics are warnings.
 *
 * VM metrics come as one VmMetricsBatch per tick ("batch": true) and are
 * printed as the per-VM VmMetrics lines they hold, so the output is what
 * it always was. The stream survives a dropped connection: it keeps the
 * daemon's boot_id and the newest seq it saw, reconnects with a growing
 * pause and resumes after that seq, so nothing is printed twice and
 * nothing is lost; when the daemon cannot give everything back (it
 * restarted, or the events left its replay ring) a warning says so once.
 * The server ending the stream on purpose (a revoked key: close 1008) is
 * an error: exit 1 with its reason, so a script watching events notices.
 * Ctrl-C is the normal end: exit 0.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hx-proto.h"

#define CONNECT_TIMEOUT_MS 5000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

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

/* One stream across its connections. */
struct stream {
	int	  requested; /* topics asked for */
	int	  granted; /* -1 until Subscribed */
	int	  refused; /* Error frames naming a topic */
	int	  connections; /* made so far */
	char	  boot_id[72]; /* the daemon's boot, "" until a welcome */
	int64_t	  last_seq; /* the newest seq seen (or resumed after) */
	char	  cur_boot[72]; /* the boot of this connection's welcome */
	int64_t	  cur_seq; /* its seq */
	int	  gap; /* RESUME_GAP said on this connection */
	long long left; /* events still to print; -1: no --count */
};

/* Print one event's data, as a line or as the frame {type, data}. */
static void
emit(struct cli *cli, const char *type, json_t *data, const char *raw)
{
	json_t *f;
	char   *s;

	if (cli->out != OUT_JSON)
		print_event(type, data);
	else if (raw != NULL)
		puts(raw); /* the frame exactly as the daemon sent it */
	else {
		/* Written as the daemon writes its frames (HX_JSON_FLAGS). */
		f = json_pack("{s:s,s:O}", "type", type, "data", data);
		s = json_dumps(f, JSON_COMPACT | JSON_REAL_PRECISION(10));
		if (s != NULL)
			puts(s);
		free(s);
		json_decref(f);
	}
}

/*
 * Handle one frame. Returns the number of events printed (a batch
 * prints one per VM), or an exit code + 1000 when the stream cannot go
 * on.
 */
static int
handle(struct cli *cli, const char *msg, struct stream *st)
{
	json_t		       *f = json_loads(msg, 0, NULL), *data, *v;
	const char	       *type, *code;
	struct hx_ev_subscribed sub;
	struct hx_ev_error	er;
	json_int_t		seq;
	size_t			i;
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
		code = jstr(data, "code");
		if (code != NULL && strcmp(code, "RESUME_GAP") == 0) {
			/* Go on from what this daemon has now. */
			if (!st->gap)
				cli_warning("events may have been missed "
					    "while reconnecting: %s",
				    er.message ? er.message : "RESUME_GAP");
			st->gap = 1;
			hx_strlcpy(st->boot_id, st->cur_boot,
			    sizeof st->boot_id);
			st->last_seq = st->cur_seq;
			goto out;
		}
		cli_warning("%s%s%s", er.topic ? er.topic : "",
		    er.topic ? ": " : "",
		    er.message ? er.message : "error from the daemon");
		if (er.topic != NULL)
			st->refused++;
		/* Every topic refused (the Errors follow Subscribed). */
		if (st->granted == 0 && st->refused >= st->requested) {
			cli_error("cannot stream events: no topic allowed");
			r = CLI_FORBIDDEN + 1000;
		}
		goto out;
	case HX_EV_VM_METRICS_BATCH:
		json_array_foreach(json_object_get(data, "vms"), i, v) {
			if (st->left == 0)
				break; /* --count: no line beyond it */
			emit(cli, "VmMetrics", v, NULL);
			if (st->left > 0)
				st->left--;
			r++;
		}
		fflush(stdout);
		goto out;
	default:
		break;
	}
	v = json_object_get(data, "seq");
	if (json_is_integer(v) &&
	    !(strcmp(type, "Notification") == 0 &&
		json_object_get(data, "boot_id") != NULL)) {
		/* Given already (a replay that overlaps): not twice. */
		if ((seq = json_integer_value(v)) <= st->last_seq)
			goto out;
		st->last_seq = seq;
	}
	emit(cli, type, data, msg);
	fflush(stdout);
	if (st->left > 0)
		st->left--;
	r = 1;
out:
	json_decref(f);
	return r;
}

/* Wait up to ms for the socket, or a signal. 1 readable, 0 not, -1 error. */
static int
wait_readable(struct hx_ws *ws, int ms)
{
	struct pollfd pfd = { .fd = hx_ws_fd(ws), .events = POLLIN };
	int	      n = poll(&pfd, 1, ms);

	if (n < 0 && errno == EINTR)
		return 0;
	return n < 0 ? -1 : n > 0;
}

/*
 * Connect, take the welcome (printed on the first connection only: it
 * is not an event that was missed) and subscribe, resuming after the
 * newest seq seen. Returns the connection, or NULL with *rc: an exit
 * code (the daemon refused: 401, 403...) or -1 when trying again may
 * help (it could not be reached, the connection dropped).
 */
static struct hx_ws *
stream_open(struct cli *cli, struct stream *st, json_t *topics, int *rc)
{
	struct hx_ws *ws;
	json_t	     *sub, *w, *wd;
	char	     *text, *err = NULL, *msg = NULL, *origin;
	size_t	      len;
	int	      status = 0, r = 0, waited = 0;

	*rc = -1;
	if ((ws = hx_ws_connect(&cli->srv, &cli->cred, CONNECT_TIMEOUT_MS,
		 &status, &err)) == NULL) {
		if (st->connections == 0 || status != 0) {
			/* Unreachable (no status): say where it came from. */
			origin = status ? xstrdup("") :
					  hx_client_server_origin(&cli->conf);
			cli_error("cannot stream events: %s%s", err, origin);
			free(origin);
			*rc = status ? cli_code_for_status(status) : CLI_ERR;
		}
		free(err);
		return NULL;
	}
	/* The welcome comes first: it names the boot and the newest seq. */
	while (!events_stop && waited < CONNECT_TIMEOUT_MS &&
	    (r = hx_ws_read(ws, &msg, &len, &err)) == 0) {
		if (wait_readable(ws, 100) < 0)
			break;
		waited += 100;
	}
	if (r != 1) {
		free(err);
		hx_ws_close(ws);
		return NULL;
	}
	w = json_loads(msg, 0, NULL);
	wd = json_object_get(w, "data");
	st->cur_boot[0] = '\0';
	st->cur_seq = 0;
	if (jstr(wd, "boot_id") != NULL) {
		hx_strlcpy(st->cur_boot, jstr(wd, "boot_id"),
		    sizeof st->cur_boot);
		st->cur_seq = json_integer_value(json_object_get(wd, "seq"));
	}
	if (st->connections++ == 0) {
		hx_strlcpy(st->boot_id, st->cur_boot, sizeof st->boot_id);
		st->last_seq = st->cur_seq;
		handle(cli, msg, st);
	}
	json_decref(w);
	free(msg);

	sub = json_pack("{s:O,s:b}", "topics", topics, "batch", 1);
	if (st->boot_id[0] != '\0')
		json_object_set_new(sub, "resume",
		    json_pack("{s:s,s:I}", "boot_id", st->boot_id, "after",
			(json_int_t)st->last_seq));
	text = json_dumps(sub, JSON_COMPACT);
	json_decref(sub);
	st->granted = -1;
	st->refused = 0;
	st->gap = 0;
	if (hx_ws_send(ws, text, strlen(text), &err) < 0) {
		free(err);
		free(text);
		hx_ws_close(ws);
		return NULL;
	}
	free(text);
	return ws;
}

int
cmd_events(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct sigaction sa, old_int, old_term;
	struct hx_ws	*ws = NULL;
	const char	*count = cmd_flag(e, a, "count");
	long long	 max = 0, seen = 0;
	json_t		*topics = json_array();
	char		*err = NULL, *msg;
	size_t		 len, i;
	struct stream	 st;
	int		 rc = CLI_OK, r, backoff = BACKOFF_MIN_MS;

	memset(&st, 0, sizeof st);
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
	st.left = max > 0 ? max : -1;

	events_stop = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() wakes up */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!events_stop) {
		if (ws == NULL) {
			if ((ws = stream_open(cli, &st, topics, &r)) == NULL) {
				if (r >= 0) {
					rc = r;
					break;
				}
				/* Try again after a pause that grows. */
				poll(NULL, 0, backoff);
				backoff = backoff * 2 > BACKOFF_MAX_MS ?
				    BACKOFF_MAX_MS :
				    backoff * 2;
				continue;
			}
		}
		if (wait_readable(ws, -1) < 0) {
			cli_error("cannot wait for events: %s",
			    strerror(errno));
			rc = CLI_ERR;
			break;
		}
		while ((r = hx_ws_read(ws, &msg, &len, &err)) == 1) {
			r = handle(cli, msg, &st);
			free(msg);
			if (r >= 1000) {
				rc = r - 1000;
				goto done;
			}
			backoff = BACKOFF_MIN_MS;
			if (r > 0 && max > 0 && (seen += r) >= max)
				goto done; /* st.left is 0 too */
		}
		if (r < 0) {
			/*
			 * Closed on purpose (1008: credentials revoked, a
			 * policy): the end. Anything else (a dropped
			 * connection, a daemon going away) is resumed.
			 */
			if (strstr(err, "(1008)") != NULL) {
				cli_error("the event stream ended: %s", err);
				free(err);
				rc = CLI_ERR;
				break;
			}
			cli_warning("the event stream ended: %s; reconnecting",
			    err);
			free(err);
			hx_ws_close(ws);
			ws = NULL;
		}
	}
done:
	/* The terminal echoed ^C: start the next prompt on a line of its own. */
	if (events_stop && cli->interactive)
		putchar('\n');
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	hx_ws_close(ws);
	json_decref(topics);
	return rc;
}
