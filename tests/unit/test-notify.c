/*
 * test-notify.c - the pure parts of notification delivery and their
 * storage: the webhook signature against RFC 4231 and an independent
 * HMAC, the retry schedule (doubling, capped, given up after the
 * window), which HTTP answers are retried, target checks naming the
 * field, the e-mail text (headers, CRLF, no header injection), and the
 * store's targets and attempts (secret kept, never listed; a duplicate
 * refused; attempts go with their target; the migration from version 1).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include "hx-notify.h"
#include "hx-store.h"
#include "hx-util.h"
#include "tap.h"

static char tmpdir[] = "/tmp/hx-test-notify-XXXXXX";

static void
test_sign(void)
{
	char	      sig[HX_NOTIFY_SIG_LEN + 1], want[80];
	unsigned char mac[32];
	unsigned int  len = 0, i;
	const char   *body = "{\"type\":\"AlertTriggered\",\"value\":95.5}";

	/* RFC 4231, test case 2. */
	is_int(hx_notify_sign("Jefe", "what do ya want for nothing?", 28, sig),
	    0, "sign");
	is_str(sig,
	    "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b9"
	    "64ec3843",
	    "RFC 4231 case 2");
	is_int(strlen(sig), HX_NOTIFY_SIG_LEN, "length");
	HMAC(EVP_sha256(), "k", 1, (const unsigned char *)body, strlen(body),
	    mac, &len);
	memcpy(want, "sha256=", 8);
	for (i = 0; i < len; i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
	hx_notify_sign("k", body, strlen(body), sig);
	is_str(sig, want, "a JSON body, against OpenSSL's HMAC");
	hx_notify_sign("K", body, strlen(body), sig);
	ok(strcmp(sig, want) != 0, "another secret, another signature");
	hx_notify_sign("", "", 0, sig);
	is_str(sig,
	    "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c71214"
	    "4292c5ad",
	    "empty key and body");
}

static void
test_backoff(void)
{
	const int64_t base = 5000, cap = 300000, window = 3600000;
	int64_t want[] = { 5000, 10000, 20000, 40000, 80000, 160000, 300000,
		300000, 300000 };
	int64_t t = 0, next;
	int	i, made;

	for (i = 0; i < (int)HX_ARRAY_SIZE(want); i++)
		is_int(hx_notify_backoff_ms(i + 1, base, cap), want[i],
		    "retry %d waits %lld ms", i + 1, (long long)want[i]);
	is_int(hx_notify_backoff_ms(0, base, cap), base, "n < 1 is the first");
	is_int(hx_notify_backoff_ms(1000, base, cap), cap,
	    "no overflow, capped");
	is_int(hx_notify_backoff_ms(3, 200, cap), 800, "another base");

	/*
	 * Attempts that take no time, from t = 0: 0, 5, 15, 35, 75, 155,
	 * 315, 615 ... 3315 s; the next would be at 3615 s, past the hour.
	 */
	made = 1;
	while ((next = hx_notify_next_ms(made, 0, t, base, cap, window)) >= 0) {
		ok(next > t, "attempt %d after the one before", made + 1);
		t = next;
		made++;
		if (made > 100)
			break;
	}
	is_int(made, 17, "17 attempts in the hour");
	is_int(t, 3315000, "the last at 3315 s");
	is_int(hx_notify_next_ms(1, 0, 3599000, base, cap, window), -1,
	    "a retry past the hour is given up");
	is_int(hx_notify_next_ms(1, 0, 3595000, base, cap, window), 3600000,
	    "one that lands on the hour is made");
}

static void
test_verdict(void)
{
	is_int(hx_notify_http_verdict(200), HX_NOTIFY_OK, "200");
	is_int(hx_notify_http_verdict(204), HX_NOTIFY_OK, "204");
	is_int(hx_notify_http_verdict(299), HX_NOTIFY_OK, "299");
	is_int(hx_notify_http_verdict(400), HX_NOTIFY_FAILED, "400");
	is_int(hx_notify_http_verdict(401), HX_NOTIFY_FAILED, "401");
	is_int(hx_notify_http_verdict(410), HX_NOTIFY_FAILED, "410");
	is_int(hx_notify_http_verdict(408), HX_NOTIFY_RETRY, "408 is later");
	is_int(hx_notify_http_verdict(429), HX_NOTIFY_RETRY, "429 is later");
	is_int(hx_notify_http_verdict(500), HX_NOTIFY_RETRY, "500");
	is_int(hx_notify_http_verdict(503), HX_NOTIFY_RETRY, "503");
	is_int(hx_notify_http_verdict(301), HX_NOTIFY_RETRY, "301");
	is_int(hx_notify_http_verdict(0), HX_NOTIFY_RETRY, "no answer");
}

/* Check the target text; "" when accepted, else the message. */
static const char *
check(const char *text)
{
	static char buf[256];
	json_t	   *t = json_loads(text, 0, NULL);
	char	   *err = NULL;

	if (t == NULL)
		return "(bad JSON in the test)";
	buf[0] = '\0';
	if (hx_notify_target_check(t, &err) != 0)
		hx_strlcpy(buf, err != NULL ? err : "(no message)", sizeof buf);
	free(err);
	json_decref(t);
	return buf;
}

static void
test_check(void)
{
	is_str(check("{\"name\":\"ops\",\"type\":\"webhook\","
		     "\"url\":\"https://h.example/x\",\"secret\":\"s\"}"),
	    "", "a webhook");
	is_str(check(
		   "{\"name\":\"ops\",\"type\":\"email\","
		   "\"smtp_url\":\"smtp://mx.example:587\",\"from\":\"a@b.c\","
		   "\"to\":[\"x@y.z\",\"u@v.w\"],\"username\":\"u\","
		   "\"password\":\"p\"}"),
	    "", "an e-mail target");
	is_str(check("{\"name\":\"ops\",\"type\":\"email\","
		     "\"smtp_url\":\"smtps://mx.example\",\"from\":\"a@b.c\","
		     "\"to\":[\"x@y.z\"]}"),
	    "", "smtps, no AUTH");
	is_str(check("{\"type\":\"webhook\",\"url\":\"http://h\","
		     "\"secret\":\"s\"}"),
	    "'name' is required", "no name");
	is_str(check("{\"name\":\"-x\",\"type\":\"webhook\"}"),
	    "'name' must be 1 to 64 of A-Z a-z 0-9 . _ - and not start "
	    "with '.' or '-'",
	    "a bad name");
	is_str(check("{\"name\":\"a\",\"type\":\"sms\"}"),
	    "'type' must be webhook or email", "a bad type");
	is_str(check("{\"name\":\"a\",\"type\":\"webhook\","
		     "\"url\":\"ftp://h/x\",\"secret\":\"s\"}"),
	    "'url' must be an http:// or https:// URL without user:password@",
	    "ftp url");
	is_str(check("{\"name\":\"a\",\"type\":\"webhook\","
		     "\"url\":\"http://h/x\\r\\nX-Evil: 1\",\"secret\":\"s\"}"),
	    "'url' must be an http:// or https:// URL without user:password@",
	    "CRLF in the url");
	is_str(check("{\"name\":\"a\",\"type\":\"webhook\","
		     "\"url\":\"http:///x\",\"secret\":\"s\"}"),
	    "'url' must be an http:// or https:// URL without user:password@",
	    "no host");
	is_str(check("{\"name\":\"a\",\"type\":\"webhook\","
		     "\"url\":\"https://u:p@h/x\",\"secret\":\"s\"}"),
	    "'url' must be an http:// or https:// URL without user:password@",
	    "no credentials in the url");
	is_str(check("{\"name\":\"a\",\"type\":\"webhook\","
		     "\"url\":\"https://h/x?to=a@b.c\",\"secret\":\"s\"}"),
	    "", "an @ after the host is fine");
	is_str(check("{\"name\":\"a\",\"type\":\"email\","
		     "\"smtp_url\":\"smtps://me:pw@mx\",\"from\":\"a@b.c\","
		     "\"to\":[\"x@y.z\"]}"),
	    "'smtp_url' must be an smtp:// or smtps:// URL without "
	    "user:password@",
	    "nor in the smtp_url");
	is_str(check("{\"name\":\"a\",\"type\":\"webhook\","
		     "\"url\":\"http://h/x\"}"),
	    "'secret' is required", "a webhook needs a secret");
	is_str(check("{\"name\":\"a\",\"type\":\"webhook\","
		     "\"url\":\"http://h/x\",\"secret\":\"s\",\"to\":[]}"),
	    "unknown field 'to' for a webhook target", "a stray field");
	is_str(check("{\"name\":\"a\",\"type\":\"email\","
		     "\"smtp_url\":\"http://mx\",\"from\":\"a@b.c\","
		     "\"to\":[\"x@y.z\"]}"),
	    "'smtp_url' must be an smtp:// or smtps:// URL without user:password@",
	    "http smtp_url");
	is_str(check("{\"name\":\"a\",\"type\":\"email\","
		     "\"smtp_url\":\"smtp://mx\",\"from\":\"a@b.c\"}"),
	    "'to' must be an array of 1 to 32 e-mail addresses", "no to");
	is_str(check("{\"name\":\"a\",\"type\":\"email\","
		     "\"smtp_url\":\"smtp://mx\",\"from\":\"a@b.c\","
		     "\"to\":[]}"),
	    "'to' must be an array of 1 to 32 e-mail addresses", "empty to");
	is_str(check("{\"name\":\"a\",\"type\":\"email\","
		     "\"smtp_url\":\"smtp://mx\",\"from\":\"a@b.c\","
		     "\"to\":[\"x@y.z\\r\\nRCPT TO:<e@v.il>\"]}"),
	    "'to' must be an array of 1 to 32 e-mail addresses",
	    "CRLF in a recipient");
	is_str(check("{\"name\":\"a\",\"type\":\"email\","
		     "\"smtp_url\":\"smtp://mx\",\"from\":\"nobody\","
		     "\"to\":[\"x@y.z\"]}"),
	    "'from' must be an e-mail address", "a bad from");
}

static int
has(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

static void
test_email(void)
{
	const char *to[] = { "ops@example.org", "oncall@example.org" };
	char	   *m;
	const char *p;
	int	    bare = 0;

	/* 2026-12-05T00:00:00Z */
	m = hx_notify_email("hx@example.org", to, 2,
	    "[Horcrux] CRITICAL node:h cpu_usage 95.5 > 90",
	    "Line one\nLine two\n", 1796428800000LL, "42.1", "h");
	ok(has(m, "Date: Sat, 05 Dec 2026 00:00:00 +0000\r\n"), "Date");
	ok(has(m, "Message-ID: <42.1@h>\r\n"), "Message-ID");
	ok(has(m, "From: hx@example.org\r\n"), "From");
	ok(has(m, "To: ops@example.org, oncall@example.org\r\n"), "To");
	ok(has(m, "Subject: [Horcrux] CRITICAL node:h cpu_usage 95.5 > 90\r\n"),
	    "Subject");
	ok(has(m, "Content-Type: text/plain; charset=utf-8\r\n"), "plain text");
	ok(has(m, "\r\n\r\nLine one\r\nLine two\r\n"), "the body, CRLF");
	for (p = m; *p != '\0'; p++) {
		if (*p == '\n' && (p == m || p[-1] != '\r'))
			bare++;
	}
	is_int(bare, 0, "no bare LF anywhere");
	free(m);

	m = hx_notify_email("hx@example.org", to, 1,
	    "evil\r\nBcc: victim@example.org", "x", 0, "1", "h");
	ok(!has(m, "\r\nBcc:"), "CR/LF in a subject cannot add a header");
	ok(has(m, "Subject: evil  Bcc: victim@example.org\r\n"),
	    "they become spaces");
	ok(has(m, "\r\n\r\nx\r\n"), "a body without a final newline gets one");
	free(m);

	m = hx_notify_email("hx@example.org", to, 1, "caf\xc3\xa9", "", 0, "1",
	    "h");
	ok(has(m, "Subject: =?UTF-8?B?Y2Fmw6k=?=\r\n"),
	    "a UTF-8 subject is RFC 2047 encoded");
	free(m);
}

static void
test_alert_text(void)
{
	json_t *ev;
	char   *subject = NULL, *text;

	ev = json_pack("{s:s,s:s,s:s,s:s,s:f,s:i,s:s}", "type",
	    "AlertTriggered", "alert_id", "a-17", "rule_name", "cpu-high",
	    "severity", "critical", "value", 95.5, "threshold", 90, "target",
	    "node:h1");
	json_object_set_new(ev, "started_at",
	    json_string("2026-12-05T00:00:00Z"));
	text = hx_notify_alert_text(ev, 0, "h1", &subject);
	is_str(subject,
	    "[Horcrux] CRITICAL cpu-high on node:h1: 95.5 "
	    "against 90",
	    "the subject says what, where, how much");
	ok(has(text, "The critical alert cpu-high on node:h1 is FIRING.\n"),
	    "what fired, where");
	ok(has(text, "  Value:      95.5 (threshold 90)\n"),
	    "value, threshold");
	ok(has(text, "  Since:      2026-12-05T00:00:00Z\n"), "since when");
	ok(has(text, "horcrux-cli alert ack a-17\n"), "how to acknowledge");
	ok(has(text, "horcruxd on h1"), "which daemon");
	free(text);
	free(subject);

	/* Resolved, fields inside "data" as in a frame, a name with CR/LF. */
	json_decref(ev);
	ev = json_pack("{s:s,s:{s:s,s:s,s:s,s:s}}", "type", "AlertResolved",
	    "data", "alert_id", "a-18", "rule_name", "vm-crashed\r\nBcc: x",
	    "target", "vm:web-1", "resolved_at", "2026-12-05T01:00:00Z");
	text = hx_notify_alert_text(ev, 1, "h1", &subject);
	is_str(subject,
	    "[Horcrux] RESOLVED ALERT vm-crashed  Bcc: x on vm:web-1",
	    "resolved; no severity: 'alert'; controls flattened");
	ok(has(text, "has RESOLVED.\n") && has(text, "Resolved:   2026"),
	    "resolved, and when");
	ok(!has(text, "alert ack"), "nothing to acknowledge");
	free(text);
	free(subject);
	json_decref(ev);
}

static char *
path_of(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static long long
sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long     v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void
test_store(void)
{
	struct hx_store			   *st = NULL;
	struct hx_store_notify_target	    t, got;
	struct hx_store_notify_target_list  l;
	struct hx_store_notify_attempt	    a;
	struct hx_store_notify_attempt_list al;
	char				   *p = path_of("id.db"), *err = NULL;
	int64_t				    n = -1;
	int				    i;

	is_int(hx_store_open(p, &st, &err), HX_STORE_OK, "open");
	if (st == NULL)
		return;
	memset(&t, 0, sizeof t);
	t.name = "ops";
	t.type = "webhook";
	t.config = "{\"url\":\"http://h/x\"}";
	t.secret = "hush-123";
	t.created = 1000;
	is_int(hx_store_notify_target_add(st, &t, &err), HX_STORE_OK, "add");
	is_int(hx_store_notify_target_add(st, &t, &err), HX_STORE_CONFLICT,
	    "a second 'ops' is a conflict");
	is_str(err, "notification target 'ops' already exists", "message");
	free(err);
	err = NULL;
	t.name = "mail";
	t.type = "email";
	t.secret = NULL;
	is_int(hx_store_notify_target_add(st, &t, &err), HX_STORE_OK,
	    "one without a secret");
	t.type = "sms";
	t.name = "x";
	is_int(hx_store_notify_target_add(st, &t, &err), HX_STORE_ERROR,
	    "the schema refuses another type");
	free(err);
	err = NULL;

	is_int(hx_store_notify_target_get(st, "ops", &got, &err), HX_STORE_OK,
	    "get");
	is_str(got.secret, "hush-123", "get has the secret");
	is_str(got.config, "{\"url\":\"http://h/x\"}", "and the settings");
	hx_store_notify_target_release(&got);
	is_int(hx_store_notify_target_get(st, "nope", &got, &err),
	    HX_STORE_NOT_FOUND, "get an unknown one");
	free(err);
	err = NULL;
	is_int(hx_store_notify_target_list(st, &l, &err), HX_STORE_OK, "list");
	is_int(l.n, 2, "two targets");
	if (l.n == 2) {
		is_str(l.v[0].name, "mail", "by name");
		ok(l.v[0].secret == NULL && l.v[1].secret == NULL,
		    "the list leaves secrets out");
	}
	hx_store_notify_target_list_release(&l);

	memset(&a, 0, sizeof a);
	a.target = "ops";
	a.event = "Test";
	a.outcome = "retry";
	a.status = 500;
	a.error = "HTTP status 500";
	for (i = 1; i <= 3; i++) {
		a.ts = 1000 * i;
		a.attempt = i;
		a.delivery = 7;
		is_int(hx_store_notify_attempt_add(st, &a, &err), HX_STORE_OK,
		    "attempt %d recorded", i);
	}
	a.target = "mail";
	is_int(hx_store_notify_attempt_add(st, &a, &err), HX_STORE_OK,
	    "one for mail");
	a.target = "gone";
	is_int(hx_store_notify_attempt_add(st, &a, &err), HX_STORE_NOT_FOUND,
	    "none for a target that is not there");
	free(err);
	err = NULL;
	is_int(hx_store_notify_attempt_list(st, "ops", 2, &al, &err),
	    HX_STORE_OK, "attempts");
	is_int(al.n, 2, "limited to 2");
	if (al.n == 2) {
		is_int(al.v[0].attempt, 3, "newest first");
		is_int(al.v[0].status, 500, "status");
		is_str(al.v[0].error, "HTTP status 500", "error");
	}
	hx_store_notify_attempt_list_release(&al);
	is_int(hx_store_notify_target_delete(st, "ops", &err), HX_STORE_OK,
	    "delete");
	is_int(hx_store_notify_target_delete(st, "ops", &err),
	    HX_STORE_NOT_FOUND, "delete again");
	free(err);
	err = NULL;
	is_int(sql_int(hx_store_handle(st),
		   "SELECT count(*) FROM notify_attempts WHERE target = 'ops'"),
	    0, "its attempts went with it");
	is_int(sql_int(hx_store_handle(st),
		   "SELECT count(*) FROM notify_attempts"),
	    1, "not mail's");
	is_int(hx_store_notify_attempt_purge(st, 5000, &n, &err), HX_STORE_OK,
	    "purge");
	is_int(n, 1, "the old one purged");

	/* A version 1 database (no notification or alert tables) is migrated. */
	sqlite3_exec(hx_store_handle(st),
	    "DROP TABLE notify_targets; DROP TABLE notify_attempts; "
	    "DROP TABLE alert_rules; DROP TABLE alert_episodes; "
	    "PRAGMA user_version = 1",
	    NULL, NULL, NULL);
	hx_store_audit_add(st, 1, "t", "kept", NULL, NULL, NULL, NULL);
	hx_store_close(st);
	is_int(hx_store_open(p, &st, &err), HX_STORE_OK, "reopen version 1");
	if (st != NULL) {
		is_int(sql_int(hx_store_handle(st), "PRAGMA user_version"),
		    hx_store_schema_version(), "now the newest version");
		is_int(sql_int(hx_store_handle(st),
			   "SELECT count(*) FROM audit WHERE action = 'kept'"),
		    1, "its data kept");
		is_int(hx_store_notify_target_list(st, &l, &err), HX_STORE_OK,
		    "targets usable");
		is_int(l.n, 0, "none yet");
		hx_store_notify_target_list_release(&l);
		hx_store_close(st);
	}
	free(err);
	free(p);
}

static void
rm_tmpdir(void)
{
	DIR	      *d;
	struct dirent *e;
	char	      *p;

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		p = path_of(e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

int
main(void)
{
	test_sign();
	test_backoff();
	test_verdict();
	test_check();
	test_email();
	test_alert_text();
	if (mkdtemp(tmpdir) == NULL) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	test_store();
	rm_tmpdir();
	return done_testing();
}
