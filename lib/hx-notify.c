/*
 * hx-notify.c - the pure parts of notification delivery: signature,
 * retry schedule, answer verdicts, target checks, e-mail text (see
 * hx-notify.h). No I/O and no clock: horcruxd/notify.c does both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hx-notify.h"
#include "hx-util.h"

#include "banned.h"

#define ADDR_MAX 254
#define URL_MAX 2048
#define SECRET_MAX 1024
#define TO_MAX 32

int
hx_notify_sign(const char *secret, const void *body, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	  mac[EVP_MAX_MD_SIZE];
	unsigned int	  maclen = 0, i;

	out[0] = '\0';
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, mac,
		&maclen) == NULL ||
	    maclen != 32)
		return -1;
	memcpy(out, "sha256=", 7);
	for (i = 0; i < maclen; i++) {
		out[7 + 2 * i] = hex[mac[i] >> 4];
		out[7 + 2 * i + 1] = hex[mac[i] & 15];
	}
	out[7 + 2 * maclen] = '\0';
	return 0;
}

int64_t
hx_notify_backoff_ms(int n, int64_t base_ms, int64_t cap_ms)
{
	int64_t d = base_ms;

	if (n < 1)
		n = 1;
	while (--n > 0 && d < cap_ms)
		d *= 2;
	return d < cap_ms ? d : cap_ms;
}

int64_t
hx_notify_next_ms(int made, int64_t first_ms, int64_t now_ms, int64_t base_ms,
    int64_t cap_ms, int64_t window_ms)
{
	int64_t next = now_ms + hx_notify_backoff_ms(made, base_ms, cap_ms);

	return next > first_ms + window_ms ? -1 : next;
}

enum hx_notify_verdict
hx_notify_http_verdict(long status)
{
	if (status >= 200 && status <= 299)
		return HX_NOTIFY_OK;
	if (status >= 400 && status <= 499 && status != 408 && status != 429)
		return HX_NOTIFY_FAILED;
	return HX_NOTIFY_RETRY;
}

/* --- target checks ------------------------------------------------------- */

/* No control character, space or DEL: it may end up in a header or URL. */
static int
plain_text(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	}
	return 1;
}

/* A string field: -1 with *err when absent (if required) or wrong. */
static int
get_str(json_t *t, const char *name, int required, size_t max, const char **out,
    char **err)
{
	json_t *v = json_object_get(t, name);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		return hx_fail(err, -1, "'%s' is required", name);
	}
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return hx_fail(err, -1,
		    "'%s' must be a non-empty string of at most %zu bytes",
		    name, max);
	*out = json_string_value(v);
	return 0;
}

/*
 * url starts with one of schemes and names a host, without user:password@
 * in it: the settings are shown to SysAudit, so a credential belongs in
 * the write-only secret or password, never in the URL.
 */
static int
url_ok(const char *url, const char *const *schemes)
{
	size_t n;

	if (!plain_text(url))
		return 0;
	for (; *schemes != NULL; schemes++) {
		n = strlen(*schemes);
		if (strncmp(url, *schemes, n) == 0 && url[n] != '\0' &&
		    url[n] != '/' && url[n] != ':')
			return memchr(url + n, '@', strcspn(url + n, "/?#")) ==
			    NULL;
	}
	return 0;
}

static int
addr_ok(const char *a)
{
	const char *at = strchr(a, '@');

	return plain_text(a) && at != NULL && at != a && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL && strpbrk(a, "<>,;\"") == NULL;
}

int
hx_notify_target_check(json_t *t, char **err)
{
	static const char *const web[] = { "http://", "https://", NULL };
	static const char *const mail[] = { "smtp://", "smtps://", NULL };
	static const char *const web_fields[] = { "name", "type", "url",
		"secret", NULL };
	static const char *const mail_fields[] = { "name", "type", "smtp_url",
		"from", "to", "username", "password", NULL };
	const char *const	*fields;
	const char		*name, *type, *s, *key;
	json_t			*v, *to;
	size_t			 i;

	if (!json_is_object(t))
		return hx_fail(err, -1, "the body must be a JSON object");
	if (get_str(t, "name", 1, 64, &name, err) != 0 ||
	    get_str(t, "type", 1, 16, &type, err) != 0)
		return -1;
	for (s = name; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
			*s == '-'))
			break;
	}
	if (*s != '\0' || name[0] == '.' || name[0] == '-')
		return hx_fail(err, -1,
		    "'name' must be 1 to 64 of A-Z a-z 0-9 . _ - and not "
		    "start with '.' or '-'");
	if (strcmp(type, "webhook") == 0)
		fields = web_fields;
	else if (strcmp(type, "email") == 0)
		fields = mail_fields;
	else
		return hx_fail(err, -1, "'type' must be webhook or email");
	json_object_foreach(t, key, v) {
		for (i = 0; fields[i] != NULL; i++) {
			if (strcmp(key, fields[i]) == 0)
				break;
		}
		if (fields[i] == NULL)
			return hx_fail(err, -1,
			    "unknown field '%.64s' for a %s target", key, type);
	}
	if (fields == web_fields) {
		if (get_str(t, "url", 1, URL_MAX, &s, err) != 0)
			return -1;
		if (!url_ok(s, web))
			return hx_fail(err, -1,
			    "'url' must be an http:// or https:// URL "
			    "without user:password@");
		return get_str(t, "secret", 1, SECRET_MAX, &s, err);
	}
	if (get_str(t, "smtp_url", 1, URL_MAX, &s, err) != 0)
		return -1;
	if (!url_ok(s, mail))
		return hx_fail(err, -1,
		    "'smtp_url' must be an smtp:// or smtps:// URL "
		    "without user:password@");
	if (get_str(t, "from", 1, ADDR_MAX, &s, err) != 0)
		return -1;
	if (!addr_ok(s))
		return hx_fail(err, -1, "'from' must be an e-mail address");
	to = json_object_get(t, "to");
	if (!json_is_array(to) || json_array_size(to) == 0 ||
	    json_array_size(to) > TO_MAX)
		return hx_fail(err, -1,
		    "'to' must be an array of 1 to %d e-mail addresses",
		    TO_MAX);
	json_array_foreach(to, i, v) {
		if (!json_is_string(v) || json_string_length(v) > ADDR_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v) ||
		    !addr_ok(json_string_value(v)))
			return hx_fail(err, -1,
			    "'to' must be an array of 1 to %d e-mail "
			    "addresses",
			    TO_MAX);
	}
	if (get_str(t, "username", 0, ADDR_MAX, &s, err) != 0 ||
	    get_str(t, "password", 0, SECRET_MAX, &s, err) != 0)
		return -1;
	return 0;
}

/* --- e-mail -------------------------------------------------------------- */

/* A header value on one line: CR, LF and other controls become spaces. */
static void
add_header(struct hx_buf *b, const char *name, const char *value)
{
	const unsigned char *p;
	int		     ascii = 1;

	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p >= 0x80)
			ascii = 0;
	}
	hx_buf_addf(b, "%s: ", name);
	if (!ascii) {
		/* RFC 2047: one encoded word per line is enough for us. */
		size_t	       n = strlen(value);
		unsigned char *enc = xmalloc(4 * ((n + 2) / 3) + 1);

		EVP_EncodeBlock(enc, (const unsigned char *)value, (int)n);
		hx_buf_addf(b, "=?UTF-8?B?%s?=\r\n", enc);
		free(enc);
		return;
	}
	for (p = (const unsigned char *)value; *p != '\0'; p++)
		hx_buf_add(b, *p < 0x20 || *p == 0x7f ? " " : (const char *)p,
		    1);
	hx_buf_add(b, "\r\n", 2);
}

char *
hx_notify_email(const char *from, const char *const *to, size_t nto,
    const char *subject, const char *text, int64_t now_ms, const char *msgid,
    const char *host)
{
	struct hx_buf b;
	struct tm     tm;
	time_t	      t = (time_t)(now_ms / 1000);
	char	      date[64];
	const char   *p;
	size_t	      i;

	gmtime_r(&t, &tm);
	/* RFC 5322 wants English names, whatever the locale. */
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	hx_buf_init(&b, 0);
	add_header(&b, "Date", date);
	hx_buf_addf(&b, "Message-ID: <%s@%s>\r\n", msgid, host);
	add_header(&b, "From", from);
	hx_buf_add(&b, "To: ", 4);
	for (i = 0; i < nto; i++)
		hx_buf_addf(&b, "%s%s", i > 0 ? ", " : "", to[i]);
	hx_buf_add(&b, "\r\n", 2);
	add_header(&b, "Subject", subject);
	hx_buf_addf(&b,
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n");
	/* Bare LF to CRLF, as SMTP wants every line. */
	for (p = text; *p != '\0'; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			hx_buf_add(&b, "\r", 1);
		hx_buf_add(&b, p, 1);
	}
	if (p == text || p[-1] != '\n')
		hx_buf_add(&b, "\r\n", 2);
	return hx_buf_detach(&b, NULL);
}

/* --- the text of an alert ------------------------------------------------ */

/* Field name of ev or of its "data" member, as text: NULL when absent. */
static char *
alert_field(json_t *ev, const char *name)
{
	json_t *v = json_object_get(ev, name);

	if (v == NULL && json_is_object(json_object_get(ev, "data")))
		v = json_object_get(json_object_get(ev, "data"), name);
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%.10g", json_real_value(v));
	return NULL;
}

/* s with control characters made spaces (it goes into a mail). */
static char *
flat(char *s)
{
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return s;
}

char *
hx_notify_alert_text(json_t *event, int resolved, const char *host,
    char **subject)
{
	char	     *rule = flat(alert_field(event, "rule_name"));
	char	     *sev = flat(alert_field(event, "severity"));
	char	     *target = flat(alert_field(event, "target"));
	char	     *value = flat(alert_field(event, "value"));
	char	     *thr = flat(alert_field(event, "threshold"));
	char	     *since = flat(alert_field(event, "started_at"));
	char	     *until = flat(alert_field(event, "resolved_at"));
	char	     *id = flat(alert_field(event, "alert_id"));
	char	      up[16];
	struct hx_buf b;
	size_t	      i;

	if (sev == NULL)
		sev = xstrdup("alert");
	for (i = 0; i + 1 < sizeof up && sev[i] != '\0'; i++)
		up[i] = (char)(sev[i] >= 'a' && sev[i] <= 'z' ? sev[i] - 32 :
								sev[i]);
	up[i] = '\0';
	hx_buf_init(&b, 0);
	hx_buf_addf(&b, "[Horcrux] %s%s %s on %s", resolved ? "RESOLVED " : "",
	    up, rule != NULL ? rule : "(rule)",
	    target != NULL ? target : "(target)");
	if (value != NULL && thr != NULL)
		hx_buf_addf(&b, ": %s %s %s", value,
		    resolved ? "back past" : "against", thr);
	*subject = hx_buf_detach(&b, NULL);

	hx_buf_addf(&b, "The %s alert %s on %s %s.\n\n", sev,
	    rule != NULL ? rule : "(rule)",
	    target != NULL ? target : "(target)",
	    resolved ? "has RESOLVED" : "is FIRING");
	if (value != NULL)
		hx_buf_addf(&b, "  Value:      %s%s%s%s\n", value,
		    thr != NULL ? " (threshold " : "", thr != NULL ? thr : "",
		    thr != NULL ? ")" : "");
	if (since != NULL)
		hx_buf_addf(&b, "  Since:      %s\n", since);
	if (resolved && until != NULL)
		hx_buf_addf(&b, "  Resolved:   %s\n", until);
	if (id != NULL)
		hx_buf_addf(&b, "  Alert id:   %s\n", id);
	hx_buf_addf(&b, "  Reported by horcruxd on %s\n", host);
	if (!resolved && id != NULL)
		hx_buf_addf(&b,
		    "\nTo acknowledge it (who and when is recorded and shown):\n"
		    "  horcrux-cli alert ack %s\n"
		    "(or POST /api/alerts/%s/ack; it needs SysModify on /nodes "
		    "for a\nnode, VmPowerMgmt on the VM for a VM).\n",
		    id, id);
	else if (!resolved)
		hx_buf_addf(&b, "\nSee it with: horcrux-cli alert list\n");
	free(rule);
	free(sev);
	free(target);
	free(value);
	free(thr);
	free(since);
	free(until);
	free(id);
	return hx_buf_detach(&b, NULL);
}
