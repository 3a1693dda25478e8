/*
 * notify.c - the notification delivery thread (see notify.h): a queue
 * filled by notify_post, libcurl's multi interface driving every
 * transfer from one loop, retries on a schedule (lib/hx-notify.c), and
 * one attempt record per try in the identity database.
 *
 * The loop: take what was posted; start every delivery that is due
 * while fewer than NOTIFY_ACTIVE_MAX run; let curl move the transfers;
 * finish those that ended (record, then retry, give up or forget); wait
 * in curl_multi_poll until a socket is ready, the next retry is due, or
 * a poster wakes it (curl_multi_wakeup). It never blocks on one
 * receiver: a hanging one holds a transfer slot until its timeout, and
 * the others go on.
 *
 * What it does not do: decide what to send (the alert engine does) or
 * keep deliveries across a restart.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hx-event.h"
#include "hx-log.h"
#include "hx-notify.h"
#include "hx-store.h"
#include "hx-util.h"
#include "mailbox.h"
#include "notify.h"
#include "worker.h"

#define NOTIFY_QUEUE_MAX 1000 /* deliveries not yet finished */
#define NOTIFY_ACTIVE_MAX 16 /* transfers at once */
#define WEBHOOK_TIMEOUT_MS 5000
#define EMAIL_TIMEOUT_MS 30000
#define RETRY_CAP_MS (5 * 60 * 1000)
#define RETRY_WINDOW_MS (60 * 60 * 1000)
#define ATTEMPT_KEEP_MS (30LL * 24 * 3600 * 1000)
#define PURGE_EVERY_NS (3600ULL * 1000000000ULL)
#define REPLY_MAX (64 * 1024) /* what we keep of a receiver's answer */

struct delivery {
	uint64_t	 id;
	char		*target;
	enum notify_kind kind;
	char		*body; /* the webhook's JSON */
	size_t		 body_len;
	char		*subject, *text; /* the e-mail's */
	int		 made; /* attempts made */
	int64_t		 first_ms; /* wall: the first attempt's start */
	uint64_t	 due_ns; /* mono: the next attempt */
	struct job	*job; /* a test waiting for the first attempt */
	/* While a transfer runs. */
	CURL		  *easy;
	struct curl_slist *hdrs, *rcpt;
	char		  *payload; /* e-mail: the message sent */
	size_t		   off, len;
	int		   email;
	int64_t		   start_ms;
	uint64_t	   start_ns;
	size_t		   got; /* bytes of answer, discarded */
	char		   errbuf[CURL_ERROR_SIZE];
	TAILQ_ENTRY(delivery) entry;
};
TAILQ_HEAD(delivery_list, delivery);

struct notify {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	CURLM		*multi;
	struct hx_store *store;
	struct mailbox	*mb;
	char		*ca_file; /* NULL: the system's */
	int64_t		 base_ms;
	char		 host[256]; /* for Message-ID */
	/* Under mu. */
	struct delivery_list inbox;
	size_t		     queued; /* posted, not yet finished */
	uint64_t	     dropped;
	int		     stop;
	/* The thread's own. */
	struct delivery_list waiting, active;
	size_t		     nactive;
	uint64_t	     next_id;
	uint64_t	     purged_ns;
};

static const char *const kind_names[] = {
	[NOTIFY_TEST] = "Test",
	[NOTIFY_ALERT_TRIGGERED] = "AlertTriggered",
	[NOTIFY_ALERT_RESOLVED] = "AlertResolved",
};

static void
delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	free(d->target);
	free(d->body);
	free(d->subject);
	free(d->text);
	free(d->payload);
	curl_slist_free_all(d->hdrs);
	curl_slist_free_all(d->rcpt);
	if (d->job != NULL)
		job_free(d->job);
	free(d);
}

/* Take d into the queue unless it is full (then d is freed). */
static int
enqueue(struct notify *n, struct delivery *d)
{
	pthread_mutex_lock(&n->mu);
	if (n->queued >= NOTIFY_QUEUE_MAX || n->stop) {
		n->dropped++;
		pthread_mutex_unlock(&n->mu);
		return -1;
	}
	n->queued++;
	TAILQ_INSERT_TAIL(&n->inbox, d, entry);
	pthread_mutex_unlock(&n->mu);
	curl_multi_wakeup(n->multi);
	return 0;
}

int
notify_post(struct notify *n, const char *target, const struct notify_msg *m)
{
	struct delivery *d = xcalloc(1, sizeof *d);

	d->target = xstrdup(target);
	d->kind = m->kind;
	d->body = m->event != NULL ? json_dumps(m->event, HX_JSON_FLAGS) : NULL;
	if (d->body == NULL)
		d->body = xstrdup("{}");
	d->body_len = strlen(d->body);
	if (m->subject != NULL && m->text != NULL) {
		d->subject = xstrdup(m->subject);
		d->text = xstrdup(m->text);
	} else {
		/* The alert engine may leave the e-mail's words to us. */
		d->text = hx_notify_alert_text(m->event,
		    m->kind == NOTIFY_ALERT_RESOLVED, n->host, &d->subject);
	}
	if (enqueue(n, d) != 0) {
		uint64_t k = notify_dropped(n);

		/* A flood is logged as it grows (1, 2, 4 ...), not per drop. */
		if ((k & (k - 1)) == 0)
			log_warn("notify: queue full: a %s message to '%s' "
				 "dropped (%llu so far)",
			    kind_names[m->kind], target, (unsigned long long)k);
		delivery_free(d);
		return -1;
	}
	return 0;
}

int
notify_submit_test(struct notify *n, struct job *j)
{
	struct delivery *d = xcalloc(1, sizeof *d);
	char		 ts[40];
	int64_t		 now = hx_wall_ms();
	json_t		*ev;

	hx_rfc3339_ms(now, ts, sizeof ts);
	ev = json_pack("{s:s,s:s,s:s,s:s}", "type", "NotifyTest", "ts", ts,
	    "target", j->param[0], "message",
	    "a test message from Horcrux: this target works");
	d->target = xstrdup(j->param[0]);
	d->kind = NOTIFY_TEST;
	d->body = json_dumps(ev, HX_JSON_FLAGS);
	d->body_len = strlen(d->body);
	json_decref(ev);
	d->subject = xasprintf("[Horcrux] test message for '%s'", j->param[0]);
	d->text = xasprintf(
	    "This is a test message from Horcrux, sent at %s by %s to the\n"
	    "notification target '%s'.\n\n"
	    "If you can read it, alerts sent to this target will reach you.\n"
	    "Nothing needs to be acknowledged.\n",
	    ts, j->actor_who, j->param[0]);
	d->job = j;
	if (enqueue(n, d) != 0) {
		d->job = NULL;
		delivery_free(d);
		return -1;
	}
	return 0;
}

uint64_t
notify_dropped(struct notify *n)
{
	uint64_t v;

	pthread_mutex_lock(&n->mu);
	v = n->dropped;
	pthread_mutex_unlock(&n->mu);
	return v;
}

/* --- one transfer -------------------------------------------------------- */

static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	struct delivery *d = arg;

	d->got += size * nmemb;
	return d->got > REPLY_MAX ? 0 : size * nmemb;
}

static size_t
feed(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct delivery *d = arg;
	size_t		 k = size * nmemb;

	if (k > d->len - d->off)
		k = d->len - d->off;
	memcpy(buf, d->payload + d->off, k);
	d->off += k;
	return k;
}

/* A string field of a target's settings, or NULL. */
static const char *
cfg_str(json_t *cfg, const char *name)
{
	return json_string_value(json_object_get(cfg, name));
}

/*
 * Set up d's transfer for target t. Returns 0, or -1 with the reason in
 * d->errbuf (the settings could not be read).
 */
static int
transfer_setup(struct notify *n, struct delivery *d,
    const struct hx_store_notify_target *t, json_t *cfg)
{
	CURL	   *e = curl_easy_init();
	char	    sig[HX_NOTIFY_SIG_LEN + 1], *h, id[40];
	const char *s;
	json_t	   *v;
	size_t	    i, nto = 0;
	const char *to[64];

	if (e == NULL) {
		hx_strlcpy(d->errbuf, "out of memory", sizeof d->errbuf);
		return -1;
	}
	d->easy = e;
	d->errbuf[0] = '\0';
	d->got = 0;
	curl_easy_setopt(e, CURLOPT_PRIVATE, d);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (n->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, n->ca_file);
	d->email = strcmp(t->type, "email") == 0;
	if (!d->email) {
		if ((s = cfg_str(cfg, "url")) == NULL)
			goto bad;
		curl_easy_setopt(e, CURLOPT_URL, s);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
		    (long)WEBHOOK_TIMEOUT_MS);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)d->body_len);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, d);
		d->hdrs = curl_slist_append(NULL,
		    "Content-Type: application/json");
		d->hdrs = curl_slist_append(d->hdrs,
		    "User-Agent: horcruxd/" HX_VERSION);
		h = xasprintf("X-Horcrux-Event: %s", kind_names[d->kind]);
		d->hdrs = curl_slist_append(d->hdrs, h);
		free(h);
		if (hx_notify_sign(t->secret != NULL ? t->secret : "", d->body,
			d->body_len, sig) != 0) {
			hx_strlcpy(d->errbuf, "cannot sign the body",
			    sizeof d->errbuf);
			return -1;
		}
		h = xasprintf("X-Horcrux-Signature: %s", sig);
		d->hdrs = curl_slist_append(d->hdrs, h);
		free(h);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->hdrs);
		return 0;
	}
	if ((s = cfg_str(cfg, "smtp_url")) == NULL ||
	    cfg_str(cfg, "from") == NULL ||
	    !json_is_array(json_object_get(cfg, "to")))
		goto bad;
	curl_easy_setopt(e, CURLOPT_URL, s);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* STARTTLS or nothing: a password never crosses in the clear. */
	curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)EMAIL_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, cfg_str(cfg, "from"));
	json_array_foreach(json_object_get(cfg, "to"), i, v) {
		if (json_is_string(v) && nto < HX_ARRAY_SIZE(to)) {
			to[nto++] = json_string_value(v);
			d->rcpt = curl_slist_append(d->rcpt,
			    json_string_value(v));
		}
	}
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, d->rcpt);
	if ((s = cfg_str(cfg, "username")) != NULL) {
		curl_easy_setopt(e, CURLOPT_USERNAME, s);
		curl_easy_setopt(e, CURLOPT_PASSWORD,
		    t->secret != NULL ? t->secret : "");
	}
	free(d->payload);
	snprintf(id, sizeof id, "%llu.%lld", (unsigned long long)d->id,
	    (long long)hx_wall_ms());
	d->payload = hx_notify_email(cfg_str(cfg, "from"), to, nto, d->subject,
	    d->text, hx_wall_ms(), id, n->host);
	d->len = strlen(d->payload);
	d->off = 0;
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, feed);
	curl_easy_setopt(e, CURLOPT_READDATA, d);
	curl_easy_setopt(e, CURLOPT_INFILESIZE, (long)d->len);
	return 0;
bad:
	hx_strlcpy(d->errbuf, "the target's settings are damaged",
	    sizeof d->errbuf);
	return -1;
}

static void
transfer_clear(struct notify *n, struct delivery *d)
{
	if (d->easy != NULL) {
		curl_multi_remove_handle(n->multi, d->easy);
		curl_easy_cleanup(d->easy);
		d->easy = NULL;
	}
	curl_slist_free_all(d->hdrs);
	curl_slist_free_all(d->rcpt);
	d->hdrs = d->rcpt = NULL;
}

/* --- outcomes ------------------------------------------------------------ */

static void
record(struct notify *n, struct delivery *d, const char *outcome, long status,
    const char *error, int64_t dur_ms)
{
	struct hx_store_notify_attempt a;
	char			      *err = NULL;

	memset(&a, 0, sizeof a);
	a.target = d->target;
	a.ts = d->start_ms;
	a.delivery = (int64_t)d->id;
	a.attempt = d->made;
	a.event = (char *)kind_names[d->kind];
	a.outcome = (char *)outcome;
	a.status = (int)status;
	a.error = (char *)error;
	a.duration_ms = dur_ms;
	if (hx_store_notify_attempt_add(n->store, &a, &err) != HX_STORE_OK)
		log_warn("notify: '%s': attempt not recorded: %s", d->target,
		    err);
	free(err);
}

/* A test job's reply: the first attempt's outcome. */
static void
answer_test(struct notify *n, struct delivery *d, const char *outcome,
    long status, const char *error, int64_t dur_ms)
{
	struct job *j = d->job;

	if (j == NULL)
		return;
	d->job = NULL;
	j->status = 200;
	j->reply = json_pack("{s:b,s:s,s:I,s:s?,s:I,s:I}", "ok",
	    strcmp(outcome, "ok") == 0, "outcome", outcome, "status",
	    (json_int_t)status, "error", error, "duration_ms",
	    (json_int_t)dur_ms, "delivery", (json_int_t)d->id);
	mailbox_post_job(n->mb, j);
}

/* d is over: forget it. */
static void
finish(struct notify *n, struct delivery *d)
{
	if (d->job != NULL) {
		job_error(d->job, 503, "UNAVAILABLE",
		    "the delivery was dropped");
		mailbox_post_job(n->mb, d->job);
		d->job = NULL;
	}
	delivery_free(d);
	pthread_mutex_lock(&n->mu);
	n->queued--;
	pthread_mutex_unlock(&n->mu);
}

/*
 * An attempt ended (or could not start): record it, answer a waiting
 * test, then schedule a retry or finish d.
 */
static void
attempt_over(struct notify *n, struct delivery *d, enum hx_notify_verdict v,
    long status, const char *error)
{
	const char *outcome = v == HX_NOTIFY_OK ? "ok" :
	    v == HX_NOTIFY_FAILED		? "failed" :
						  "retry";
	int64_t	    now = hx_wall_ms(), next = -1;
	int64_t	    dur = (int64_t)((hx_mono_ns() - d->start_ns) / 1000000);

	if (v == HX_NOTIFY_RETRY) {
		next = hx_notify_next_ms(d->made, d->first_ms, now, n->base_ms,
		    RETRY_CAP_MS, RETRY_WINDOW_MS);
		if (next < 0)
			outcome = "gave_up";
	}
	record(n, d, outcome, status, error, dur);
	answer_test(n, d, outcome, status, error, dur);
	if (v == HX_NOTIFY_OK) {
		log_debug("notify: '%s': %s delivered (attempt %d)", d->target,
		    kind_names[d->kind], d->made);
		finish(n, d);
	} else if (next < 0) {
		log_warn("notify: '%s': %s %s after %d attempt%s: %s",
		    d->target, kind_names[d->kind],
		    v == HX_NOTIFY_FAILED ? "refused" : "given up", d->made,
		    d->made == 1 ? "" : "s",
		    error != NULL ? error : "receiver refused it");
		finish(n, d);
	} else {
		log_info("notify: '%s': attempt %d failed (%s), retry in %lld "
			 "ms",
		    d->target, d->made,
		    error != NULL ? error : "receiver error",
		    (long long)(next - now));
		d->due_ns = hx_mono_ns() + (uint64_t)(next - now) * 1000000;
		TAILQ_INSERT_TAIL(&n->waiting, d, entry);
	}
}

/* Start d's next attempt (d is on no list). */
static void
start(struct notify *n, struct delivery *d)
{
	struct hx_store_notify_target t;
	json_t			     *cfg;
	char			     *err = NULL;
	int			      rc;

	rc = hx_store_notify_target_get(n->store, d->target, &t, &err);
	if (rc != HX_STORE_OK) {
		/* Gone (deleted meanwhile) or unreadable: nothing to record. */
		log_warn("notify: %s message to '%s' dropped: %s",
		    kind_names[d->kind], d->target, err);
		if (d->job != NULL) {
			if (rc == HX_STORE_NOT_FOUND)
				job_error(d->job, 404, "NOT_FOUND", err);
			else
				job_error(d->job, 500, "INTERNAL",
				    "internal error");
			mailbox_post_job(n->mb, d->job);
			d->job = NULL;
		}
		free(err);
		finish(n, d);
		return;
	}
	d->made++;
	d->start_ms = hx_wall_ms();
	d->start_ns = hx_mono_ns();
	if (d->made == 1)
		d->first_ms = d->start_ms;
	cfg = json_loads(t.config, 0, NULL);
	if (transfer_setup(n, d, &t, cfg) != 0 ||
	    curl_multi_add_handle(n->multi, d->easy) != CURLM_OK) {
		char why[CURL_ERROR_SIZE];

		hx_strlcpy(why, d->errbuf[0] ? d->errbuf : "cannot start",
		    sizeof why);
		transfer_clear(n, d);
		json_decref(cfg);
		hx_store_notify_target_release(&t);
		attempt_over(n, d, HX_NOTIFY_FAILED, 0, why);
		return;
	}
	json_decref(cfg);
	hx_store_notify_target_release(&t);
	TAILQ_INSERT_TAIL(&n->active, d, entry);
	n->nactive++;
}

/* A transfer ended with result rc. */
static void
ended(struct notify *n, struct delivery *d, CURLcode rc)
{
	enum hx_notify_verdict v;
	long		       status = 0;
	char		       why[CURL_ERROR_SIZE];

	curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
	TAILQ_REMOVE(&n->active, d, entry);
	n->nactive--;
	why[0] = '\0';
	if (rc != CURLE_OK)
		hx_strlcpy(why,
		    d->errbuf[0] ? d->errbuf : curl_easy_strerror(rc),
		    sizeof why);
	if (d->email)
		v = rc == CURLE_OK ? HX_NOTIFY_OK :
		    status >= 500  ? HX_NOTIFY_FAILED :
				     HX_NOTIFY_RETRY;
	else if (rc != CURLE_OK)
		v = HX_NOTIFY_RETRY;
	else {
		v = hx_notify_http_verdict(status);
		if (v != HX_NOTIFY_OK)
			snprintf(why, sizeof why, "HTTP status %ld", status);
	}
	transfer_clear(n, d);
	attempt_over(n, d, v, status, why[0] ? why : NULL);
}

/* --- the thread ---------------------------------------------------------- */

static void *
notify_main(void *arg)
{
	struct notify	    *n = arg;
	struct delivery	    *d, *tmp;
	struct delivery_list due;
	struct CURLMsg	    *msg;
	uint64_t	     now, wait_ns;
	size_t		     ndue = 0;
	int		     running, left, stop;
	char		    *err = NULL;

	for (;;) {
		pthread_mutex_lock(&n->mu);
		stop = n->stop;
		while ((d = TAILQ_FIRST(&n->inbox)) != NULL) {
			TAILQ_REMOVE(&n->inbox, d, entry);
			d->id = ++n->next_id;
			d->due_ns = 0;
			TAILQ_INSERT_TAIL(&n->waiting, d, entry);
		}
		pthread_mutex_unlock(&n->mu);
		if (stop)
			break;
		/*
		 * The due ones first onto a list of their own: starting one
		 * may put it straight back on waiting (an attempt that could
		 * not start is a failed attempt).
		 */
		now = hx_mono_ns();
		TAILQ_INIT(&due);
		for (d = TAILQ_FIRST(&n->waiting); d != NULL; d = tmp) {
			tmp = TAILQ_NEXT(d, entry);
			if (n->nactive + ndue >= NOTIFY_ACTIVE_MAX)
				break;
			if (d->due_ns <= now) {
				TAILQ_REMOVE(&n->waiting, d, entry);
				TAILQ_INSERT_TAIL(&due, d, entry);
				ndue++;
			}
		}
		while ((d = TAILQ_FIRST(&due)) != NULL) {
			TAILQ_REMOVE(&due, d, entry);
			start(n, d);
		}
		ndue = 0;
		curl_multi_perform(n->multi, &running);
		while ((msg = curl_multi_info_read(n->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&d);
			ended(n, d, msg->data.result);
		}
		now = hx_mono_ns();
		if (now - n->purged_ns >= PURGE_EVERY_NS) {
			n->purged_ns = now;
			if (hx_store_notify_attempt_purge(n->store,
				hx_wall_ms() - ATTEMPT_KEEP_MS, NULL,
				&err) != HX_STORE_OK) {
				log_warn("notify: cannot purge attempts: %s",
				    err);
				free(err);
				err = NULL;
			}
		}
		/* Until the next retry is due, a second at most. */
		wait_ns = 1000000000ULL;
		if (n->nactive < NOTIFY_ACTIVE_MAX) {
			TAILQ_FOREACH(d, &n->waiting, entry) {
				if (d->due_ns <= now)
					wait_ns = 0;
				else if (d->due_ns - now < wait_ns)
					wait_ns = d->due_ns - now;
			}
		}
		if (wait_ns > 0 || running > 0)
			curl_multi_poll(n->multi, NULL, 0,
			    (int)((wait_ns + 999999) / 1000000), NULL);
	}
	return NULL;
}

struct notify *
notify_start(const char *db_path, const struct options *opts,
    struct mailbox *mb, char **err)
{
	struct notify *n;
	int	       rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*err = xstrdup("cannot initialise libcurl");
		return NULL;
	}
	n = xcalloc(1, sizeof *n);
	if (hx_store_open(db_path, &n->store, err) != HX_STORE_OK) {
		free(n);
		curl_global_cleanup();
		return NULL;
	}
	pthread_mutex_init(&n->mu, NULL);
	TAILQ_INIT(&n->inbox);
	TAILQ_INIT(&n->waiting);
	TAILQ_INIT(&n->active);
	n->mb = mb;
	n->multi = curl_multi_init();
	if (opts->notify_ca_file != NULL && opts->notify_ca_file[0] != '\0')
		n->ca_file = xstrdup(opts->notify_ca_file);
	n->base_ms = (int64_t)(opts->notify_retry_base * 1000);
	if (n->base_ms < 1)
		n->base_ms = 1;
	if (gethostname(n->host, sizeof n->host - 1) != 0 || n->host[0] == 0)
		hx_strlcpy(n->host, "horcrux", sizeof n->host);
	n->next_id = (uint64_t)hx_wall_ms();
	n->purged_ns = hx_mono_ns();
	if ((rc = pthread_create(&n->thread, NULL, notify_main, n)) != 0) {
		*err = xasprintf("cannot start the notification thread: %s",
		    strerror(rc));
		curl_multi_cleanup(n->multi);
		hx_store_close(n->store);
		free(n->ca_file);
		free(n);
		curl_global_cleanup();
		return NULL;
	}
	return n;
}

void
notify_stop(struct notify *n)
{
	struct delivery *d;
	size_t		 left = 0;

	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	n->stop = 1;
	pthread_mutex_unlock(&n->mu);
	curl_multi_wakeup(n->multi);
	pthread_join(n->thread, NULL);
	while ((d = TAILQ_FIRST(&n->active)) != NULL) {
		TAILQ_REMOVE(&n->active, d, entry);
		transfer_clear(n, d);
		finish(n, d);
		left++;
	}
	while ((d = TAILQ_FIRST(&n->waiting)) != NULL) {
		TAILQ_REMOVE(&n->waiting, d, entry);
		finish(n, d);
		left++;
	}
	while ((d = TAILQ_FIRST(&n->inbox)) != NULL) {
		TAILQ_REMOVE(&n->inbox, d, entry);
		finish(n, d);
		left++;
	}
	if (left > 0)
		log_info("notify: %zu undelivered message%s dropped at exit",
		    left, left == 1 ? "" : "s");
	curl_multi_cleanup(n->multi);
	hx_store_close(n->store);
	pthread_mutex_destroy(&n->mu);
	free(n->ca_file);
	free(n);
	curl_global_cleanup();
}
