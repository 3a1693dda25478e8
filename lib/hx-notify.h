/*
 * hx-notify.h - the pure parts of notification delivery (DESIGN §9):
 * the webhook signature, the retry schedule, which HTTP answers are
 * worth a retry, a target's fields checked, and the e-mail message a
 * person reads. Nothing here talks to the network, a database or a
 * clock of its own (times come in as arguments), so tests/unit drives
 * all of it; the delivery itself is horcruxd/notify.c.
 */
#ifndef HX_NOTIFY_H
#define HX_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* "sha256=" and 64 hex digits. */
#define HX_NOTIFY_SIG_LEN (7 + 64)

/*
 * The X-Horcrux-Signature value of body: "sha256=" and the lowercase hex
 * HMAC-SHA256 keyed with secret, into out (HX_NOTIFY_SIG_LEN + 1 bytes).
 * Returns 0, or -1 if OpenSSL failed (out is then "").
 */
int hx_notify_sign(const char *secret, const void *body, size_t len, char *out);

/*
 * How long to wait before retry number n (1 is the first retry): base_ms
 * doubled each time (base, 2 base, 4 base ...), never more than cap_ms.
 */
int64_t hx_notify_backoff_ms(int n, int64_t base_ms, int64_t cap_ms);

/*
 * When (epoch ms) to make the next attempt of a delivery whose first
 * attempt started at first_ms, after `made` attempts, the last of which
 * ended at now_ms: now_ms + hx_notify_backoff_ms(made, ...). -1 when that
 * is past first_ms + window_ms: the delivery is given up.
 */
int64_t hx_notify_next_ms(int made, int64_t first_ms, int64_t now_ms,
    int64_t base_ms, int64_t cap_ms, int64_t window_ms);

/*
 * What one webhook answer means: HX_NOTIFY_OK for 2xx; HX_NOTIFY_FAILED
 * (permanent, no retry) for any other 4xx but 408 and 429, which say
 * "later"; everything else (no answer, 3xx, 5xx) HX_NOTIFY_RETRY.
 */
enum hx_notify_verdict {
	HX_NOTIFY_OK,
	HX_NOTIFY_RETRY,
	HX_NOTIFY_FAILED
};
enum hx_notify_verdict hx_notify_http_verdict(long status);

/*
 * Check a target as POST /api/notify/targets receives it: name, type
 * "webhook" (url http:// or https://, secret) or "email" (smtp_url
 * smtp:// or smtps://, from, to: a non-empty array of addresses,
 * username? password?), no other field. Returns 0, or -1 with *err (the
 * caller frees) naming the field, fit for a 422.
 */
int hx_notify_target_check(json_t *t, char **err);

/*
 * The whole message handed to the SMTP server, CRLF line ends: Date
 * (from now_ms, UTC), Message-ID (<msgid@host>), From, To, Subject (a
 * non-ASCII subject is RFC 2047 encoded; CR and LF never reach a
 * header), MIME headers for UTF-8 plain text, a blank line, and text.
 * Returns a string the caller frees.
 */
char *hx_notify_email(const char *from, const char *const *to, size_t nto,
    const char *subject, const char *text, int64_t now_ms, const char *msgid,
    const char *host);

/*
 * The e-mail a person reads for an AlertTriggered or AlertResolved event
 * (its JSON object; the fields may also sit in a "data" member, as in a
 * frame): alert_id, rule_name, severity, target, value, threshold,
 * started_at, resolved_at, as GET /api/alerts shows them; a missing one
 * is left out. *subject gets the subject line ("[Horcrux] CRITICAL
 * cpu-high on node:h1: 95.5 > 90"); the body says what fired, where, the
 * value against the threshold, since when, and how to acknowledge it.
 * host names this daemon. Both are the caller's to free.
 */
char *hx_notify_alert_text(json_t *event, int resolved, const char *host,
    char **subject);

#endif
