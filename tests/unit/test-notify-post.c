/*
 * test-notify-post.c - the delivery thread (horcruxd/notify.c) through
 * the alert engine's door, notify_post, against a small HTTP receiver in
 * this process: the event's JSON is the body, signed with the target's
 * secret, named in X-Horcrux-Event; the attempt is recorded; the bounded
 * queue refuses what is over it, counted, without waiting.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <jansson.h>

#include "hx-event.h"
#include "hx-notify.h"
#include "hx-store.h"
#include "hx-util.h"
#include "mailbox.h"
#include "notify.h"
#include "tap.h"

static char tmpdir[] = "/tmp/hx-test-notify-post-XXXXXX";

/* The receiver: one request at a time, each answered 204. */
static struct {
	int		lfd, port;
	pthread_mutex_t mu;
	pthread_cond_t	cv;
	int		nreq;
	char		head[4096], body[4096];
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *
receiver(void *arg)
{
	static const char reply[] =
	    "HTTP/1.1 204 No Content\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	char	buf[8192], *end, *cl;
	size_t	len, need;
	ssize_t n;
	int	fd;

	(void)arg;
	while ((fd = accept(rx.lfd, NULL, NULL)) >= 0) {
		len = 0;
		need = 0;
		end = NULL;
		while (len < sizeof buf - 1 &&
		    (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (end == NULL &&
			    (end = strstr(buf, "\r\n\r\n")) != NULL) {
				cl = strcasestr(buf, "content-length:");
				need = (size_t)(end + 4 - buf) +
				    (cl != NULL ? strtoul(cl + 15, NULL, 10) :
						  0);
			}
			if (end != NULL && len >= need)
				break;
		}
		if (write(fd, reply, sizeof reply - 1) < 0)
			perror("write");
		close(fd);
		pthread_mutex_lock(&rx.mu);
		if (end != NULL) {
			*end = '\0';
			hx_strlcpy(rx.head, buf, sizeof rx.head);
			hx_strlcpy(rx.body, end + 4, sizeof rx.body);
		}
		rx.nreq++;
		pthread_cond_broadcast(&rx.cv);
		pthread_mutex_unlock(&rx.mu);
	}
	return NULL;
}

/* Wait (10 s at most) until the receiver has n requests. */
static int
wait_requests(int n)
{
	struct timespec ts;
	int		rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&rx.mu);
	while (rx.nreq < n && rc == 0)
		rc = pthread_cond_timedwait(&rx.cv, &rx.mu, &ts);
	pthread_mutex_unlock(&rx.mu);
	return rx.nreq >= n;
}

static int
listen_local(void)
{
	struct sockaddr_in a;
	socklen_t	   alen = sizeof a;
	int		   fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	rx.port = ntohs(a.sin_port);
	return fd;
}

static void
add_target(struct hx_store *st, const char *name, const char *url)
{
	struct hx_store_notify_target t;
	char			     *cfg = xasprintf("{\"url\":\"%s\"}", url);
	char			     *err = NULL;

	memset(&t, 0, sizeof t);
	t.name = (char *)name;
	t.type = "webhook";
	t.config = cfg;
	t.secret = "post-secret";
	t.created = 1;
	is_int(hx_store_notify_target_add(st, &t, &err), HX_STORE_OK,
	    "target %s", name);
	free(err);
	free(cfg);
}

/* Poll the store (a separate connection) until target has n attempts. */
static int
wait_attempts(struct hx_store *st, const char *target, size_t n,
    struct hx_store_notify_attempt_list *out)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	int		i;

	for (i = 0; i < 500; i++) {
		if (hx_store_notify_attempt_list(st, target, 10, out, NULL) ==
			HX_STORE_OK &&
		    out->n >= n)
			return 1;
		hx_store_notify_attempt_list_release(out);
		nanosleep(&nap, NULL);
	}
	return 0;
}

static void
drop_job(struct mail *m, void *arg)
{
	(void)m;
	(void)arg;
}

int
main(void)
{
	struct options			    opts;
	struct hx_store			   *st = NULL;
	struct hx_store_notify_attempt_list al;
	struct notify			   *n;
	struct mailbox			   *mb;
	struct notify_msg		    msg;
	pthread_t			    th;
	char *db, *url, *err = NULL, *body, sig[HX_NOTIFY_SIG_LEN + 1], *h;
	int   i, refused = 0, down;

	/* A port nobody listens on: deliveries there are retried. */
	if (mkdtemp(tmpdir) == NULL || (down = listen_local()) < 0) {
		ok(0, "set-up");
		return done_testing();
	}
	close(down);
	url = xasprintf("http://127.0.0.1:%d/down", rx.port);
	db = xasprintf("%s/horcrux.db", tmpdir);
	is_int(hx_store_open(db, &st, &err), HX_STORE_OK, "open the store");
	add_target(st, "down", url);
	free(url);
	if ((rx.lfd = listen_local()) < 0)
		return done_testing();
	url = xasprintf("http://127.0.0.1:%d/hook", rx.port);
	add_target(st, "hook", url);
	free(url);
	pthread_create(&th, NULL, receiver, NULL);

	memset(&opts, 0, sizeof opts);
	opts.notify_ca_file = "";
	opts.notify_retry_base = 60; /* no retry within this test */
	mb = mailbox_new();
	n = notify_start(db, &opts, mb, &err);
	ok(n != NULL, "notify_start");
	if (n == NULL)
		return done_testing();

	memset(&msg, 0, sizeof msg);
	msg.kind = NOTIFY_ALERT_TRIGGERED;
	msg.event = json_pack("{s:s,s:s,s:f,s:f}", "type", "AlertTriggered",
	    "alert_id", "a-1", "value", 95.5, "threshold", 90.0);
	msg.subject = "[Horcrux] CRITICAL";
	msg.text = "cpu_usage 95.5 > 90";
	is_int(notify_post(n, "hook", &msg), 0, "posted");
	body = json_dumps(msg.event, HX_JSON_FLAGS);
	/* The caller's event is copied at once: it may go now. */
	json_decref(msg.event);
	ok(wait_requests(1), "the receiver got it");
	pthread_mutex_lock(&rx.mu);
	is_str(rx.body, body, "the body is the event's JSON");
	ok(strncmp(rx.head, "POST /hook HTTP/1.1\r\n", 21) == 0, "a POST");
	ok(strcasestr(rx.head, "\r\nContent-Type: application/json\r\n") !=
		NULL,
	    "JSON");
	ok(strcasestr(rx.head, "\r\nX-Horcrux-Event: AlertTriggered\r\n") !=
		NULL,
	    "X-Horcrux-Event");
	hx_notify_sign("post-secret", body, strlen(body), sig);
	h = xasprintf("\r\nX-Horcrux-Signature: %s\r\n", sig);
	ok(strcasestr(rx.head, h) != NULL, "signed with the target's secret");
	free(h);
	ok(strstr(rx.head, "post-secret") == NULL, "the secret is not sent");
	pthread_mutex_unlock(&rx.mu);
	free(body);
	ok(wait_attempts(st, "hook", 1, &al), "the attempt is recorded");
	if (al.n >= 1) {
		is_str(al.v[0].outcome, "ok", "ok");
		is_int(al.v[0].status, 204, "204");
		is_str(al.v[0].event, "AlertTriggered", "its event");
		is_int(al.v[0].attempt, 1, "the first");
	}
	hx_store_notify_attempt_list_release(&al);

	/*
	 * The queue holds 1000 undelivered messages: to a dead receiver
	 * they all wait for their retry, so the ones after are refused at
	 * once, and counted.
	 */
	msg.kind = NOTIFY_ALERT_RESOLVED;
	msg.event = NULL;
	for (i = 0; i < 1010; i++)
		refused += notify_post(n, "down", &msg) != 0;
	ok(refused >= 10, "over the bound, refused (%d)", refused);
	is_int(notify_dropped(n), refused, "and counted");

	notify_stop(n);
	mailbox_drain(mb, drop_job, NULL);
	mailbox_free(mb, NULL);
	shutdown(rx.lfd, SHUT_RDWR);
	close(rx.lfd);
	pthread_join(th, NULL);
	hx_store_close(st);
	{
		DIR	      *d = opendir(tmpdir);
		struct dirent *e;

		while (d != NULL && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			h = xasprintf("%s/%s", tmpdir, e->d_name);
			unlink(h);
			free(h);
		}
		if (d != NULL)
			closedir(d);
		rmdir(tmpdir);
	}
	free(db);
	free(err);
	return done_testing();
}
