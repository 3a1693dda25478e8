/*
 * notify.h - notification delivery (DESIGN §9): one thread that sends
 * webhooks and e-mail through libcurl's multi interface, retries them,
 * and records every attempt in the identity database.
 *
 * The interface for the alert engine is notify_post: it copies the
 * message into a bounded queue under a mutex, wakes the thread and
 * returns; it never waits for the network or the disk. A full queue
 * drops the message (logged, counted in notify_dropped). The thread
 * looks the target up by name when a delivery starts and again before
 * each retry (a target deleted meanwhile ends it; a new secret is used),
 * runs up to NOTIFY_ACTIVE_MAX transfers at once, so one slow receiver
 * never holds up another, and records each attempt: target, start time,
 * outcome, HTTP status or SMTP code, curl's error, duration.
 *
 * Webhook: POST of the event's JSON object, Content-Type
 * application/json, X-Horcrux-Signature: sha256=<hex HMAC-SHA256(secret,
 * body)>, 5 s for the whole attempt, no redirects. 2xx is delivered; a
 * 4xx other than 408 and 429 is a permanent failure (the receiver said
 * the request itself is wrong; sending it again cannot help); anything
 * else (no answer, timeout, 3xx, 5xx, 408, 429) is retried after
 * notify_retry_base, doubling each time, at most 5 minutes apart, for an
 * hour from the first attempt; then the delivery is given up (logged).
 *
 * E-mail: SMTP through libcurl, TLS required (smtp:// with STARTTLS, or
 * smtps://), certificates always verified (notify_ca_file, else the
 * system store), AUTH when the target has a username, 30 s per attempt.
 * An SMTP 5xx answer is permanent; anything else that fails is retried
 * as a webhook is.
 *
 * Queued deliveries live in memory only: a restart drops those not yet
 * delivered (each one's attempts so far stay recorded).
 */
#ifndef HORCRUXD_NOTIFY_H
#define HORCRUXD_NOTIFY_H

#include <stdint.h>

#include <jansson.h>

#include "options.h"

struct job;
struct mailbox;
struct notify;

enum notify_kind {
	NOTIFY_TEST,
	NOTIFY_ALERT_TRIGGERED,
	NOTIFY_ALERT_RESOLVED
};

/*
 * One message for one target. event is the webhook's body (the event's
 * JSON object as on the alerts topic; notify_post serializes it at
 * once and keeps no reference); subject and text are the e-mail's
 * subject line and plain-text body, which should say what fired, on
 * which target, the value against the threshold, when, and how to
 * acknowledge it. Leave either NULL and both are made from the event
 * (hx_notify_alert_text: alert_id, rule_name, severity, target, value,
 * threshold, started_at, resolved_at).
 */
struct notify_msg {
	enum notify_kind kind;
	json_t		*event;
	const char	*subject;
	const char	*text;
};

/*
 * Open a connection to the identity database db_path and start the
 * delivery thread; finished test jobs go back through mb. NULL with
 * *err (the caller frees) on failure.
 */
struct notify *notify_start(const char *db_path, const struct options *opts,
    struct mailbox *mb, char **err);
/*
 * Stop the thread: transfers under way are abandoned, queued deliveries
 * dropped (counted in the log line), waiting test jobs answered 503.
 * NULL is a no-op.
 */
void notify_stop(struct notify *n);

/*
 * Queue msg for the target called target (any thread; copies
 * everything). Returns 0, or -1 when the queue is full (the message is
 * dropped, logged and counted). An unknown target is found out on the
 * delivery thread, and logged there.
 */
int notify_post(struct notify *n, const char *target,
    const struct notify_msg *msg);

/*
 * POST /api/notify/targets/:name/test (j->param[0]): a test message to
 * the target now; j comes back through the mailbox once the first
 * attempt is over, its reply {"ok", "status", "error", "duration_ms",
 * "outcome"}. A test message is delivered like any other (it is
 * retried), so the attempts list shows what happened next. Returns -1
 * (j stays the caller's) when the queue is full.
 */
int notify_submit_test(struct notify *n, struct job *j);
/* How long the request waiting on a test may wait: the longest attempt. */
#define NOTIFY_REPLY_WAIT_S 40

/* Messages dropped because the queue was full, since start. */
uint64_t notify_dropped(struct notify *n);

#endif
