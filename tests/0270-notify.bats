#!/usr/bin/env bats
# Notification targets (DESIGN §9) against real receivers: a webhook
# receiver that checks the HMAC (tests/tools/webhook-receiver.py: /ok,
# /fail500, /gone, /hang) and a real SMTP server, aiosmtpd with STARTTLS
# on a certificate made here and AUTH (tests/tools/smtp-receiver.py),
# trusted through notify_ca_file. Signed deliveries; a receiver that is
# down, answers 500 (retried), 410 (not retried) or hangs (the 5 s
# timeout recorded, while WebSocket subscribers and other receivers go
# on); e-mail with STARTTLS and AUTH, a wrong password, a certificate
# that does not name the server, a server without STARTTLS; the REST checks; secrets never in a
# reply, the audit log or the daemon's log; horcrux-cli's commands.
#
# One daemon and one of each receiver for the file. notify_retry_base is
# 0.5 s so a retry comes within the test; the schedule itself (doubling,
# 5 min cap, 1 h) is tests/unit/test-notify.c's.

load helpers/common
load helpers/api
load helpers/authz

WH_SECRET=wh-s3cret-Zq81
MAIL_PASS=mail-p4ss-Vx27
WH=$HX_REPO/tests/tools/webhook-receiver.py
SMTPD=$HX_REPO/tests/tools/smtp-receiver.py

# wait_file FILE: until FILE exists (10 s).
wait_file() {
	local i
	for i in $(seq 1 200); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	echo "no $1" >&2
	return 1
}

setup_file() {
	local d=$BATS_FILE_TMPDIR
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" \
	    -out "$d/cert.pem" -days 1 -subj /CN=127.0.0.1 \
	    -addext subjectAltName=IP:127.0.0.1 2>/dev/null || return 1
	"$PY" "$WH" "$d/wh.port" "$d/wh.log" "$WH_SECRET" 2>"$d/wh.err" 3>&- &
	echo $! >"$d/wh.pid"
	SMTP_PORT=$(free_port)
	PLAIN_PORT=$(free_port)
	"$PY" "$SMTPD" "$SMTP_PORT" "$PLAIN_PORT" "$d/smtp.port" "$d/smtp.log" \
	    "$d/cert.pem" "$d/key.pem" mailer "$MAIL_PASS" 2>"$d/smtp.err" 3>&- &
	echo $! >"$d/smtp.pid"
	wait_file "$d/wh.port" && wait_file "$d/smtp.port" || return 1
	WH_PORT=$(cat "$d/wh.port")
	DOWN_PORT=$(free_port)
	export WH_PORT SMTP_PORT PLAIN_PORT DOWN_PORT
	authz_start_daemon --node-interval 0.5 --notify-retry-base 0.5 \
	    --notify-ca-file "$d/cert.pem" || return 1
	local t
	for t in ok fail500 gone hang; do
		must 201 POST /api/notify/targets "$(jq -cn --arg u \
		    "http://127.0.0.1:$WH_PORT/$t" --arg s "$WH_SECRET" \
		    --arg n "wh-$t" '{name:$n, type:"webhook", url:$u, secret:$s}')" \
		    >/dev/null || return 1
	done
	must 201 POST /api/notify/targets "$(jq -cn --arg u \
	    "http://127.0.0.1:$WH_PORT/fail500" --arg s "$WH_SECRET" \
	    '{name:"wh-fail500-b", type:"webhook", url:$u, secret:$s}')" \
	    >/dev/null || return 1
	must 201 POST /api/notify/targets "$(jq -cn --arg u \
	    "http://127.0.0.1:$DOWN_PORT/x" --arg s "$WH_SECRET" \
	    '{name:"wh-down", type:"webhook", url:$u, secret:$s}')" \
	    >/dev/null || return 1
	must 201 POST /api/notify/targets "$(jq -cn --arg u \
	    "smtp://127.0.0.1:$SMTP_PORT" --arg p "$MAIL_PASS" \
	    '{name:"mail", type:"email", smtp_url:$u, from:"horcrux@example.org",
	      to:["ops@example.org","oncall@example.org"], username:"mailer",
	      password:$p}')" >/dev/null || return 1
	must 201 POST /api/notify/targets "$(jq -cn --arg u \
	    "smtp://127.0.0.1:$SMTP_PORT" \
	    '{name:"mail-badpass", type:"email", smtp_url:$u,
	      from:"horcrux@example.org", to:["ops@example.org"],
	      username:"mailer", password:"not-the-password"}')" \
	    >/dev/null || return 1
}

teardown_file() {
	local p
	stop_daemon
	for p in wh smtp; do
		[ -f "$BATS_FILE_TMPDIR/$p.pid" ] || continue
		kill "$(cat "$BATS_FILE_TMPDIR/$p.pid")" 2>/dev/null || true
	done
}

# attempts NAME: the target's attempts, newest first (JSON array).
attempts() {
	must 200 GET "/api/notify/targets/$1/attempts" | jq -c .attempts
}

# wait_attempts NAME N: until NAME has at least N attempts recorded (15 s).
wait_attempts() {
	local i
	for i in $(seq 1 300); do
		[ "$(attempts "$1" | jq length)" -ge "$2" ] && return 0
		sleep 0.05
	done
	echo "$1: fewer than $2 attempts: $(attempts "$1")" >&2
	return 1
}

# received PATH: the webhook receiver's records for PATH.
received() {
	jq -c --arg p "$1" 'select(.path == $p)' "$BATS_FILE_TMPDIR/wh.log" \
	    2>/dev/null || true
}

@test "webhook: a signed JSON POST, and the reply reports the attempt" {
	run sock_json POST /api/notify/targets/wh-ok/test
	assert_line --index 1 200
	jq -e '.ok == true and .outcome == "ok" and .status == 204 and
	    .error == null and (.duration_ms | type) == "number"' <<<"${lines[0]}"
	run received /ok
	assert_equal "${#lines[@]}" 1
	jq -e '.sig_ok == true and .event == "Test" and
	    .content_type == "application/json" and
	    .body.type == "NotifyTest" and .body.target == "wh-ok"' <<<"${lines[0]}"
	run attempts wh-ok
	jq -e 'length == 1 and .[0].outcome == "ok" and .[0].status == 204 and
	    .[0].attempt == 1 and .[0].event == "Test" and .[0].error == null' \
	    <<<"$output"
}

@test "webhook: a receiver answering 500 is retried, every attempt recorded" {
	run sock_json POST /api/notify/targets/wh-fail500/test
	assert_line --index 1 200
	jq -e '.ok == false and .outcome == "retry" and .status == 500 and
	    .error == "HTTP status 500"' <<<"${lines[0]}"
	wait_attempts wh-fail500 2
	run attempts wh-fail500
	jq -e '.[-1].attempt == 1 and .[-2].attempt == 2 and
	    .[-1].delivery == .[-2].delivery and
	    ([.[] | .status] | unique) == [500] and
	    ([.[] | .outcome] | unique) == ["retry"]' <<<"$output"
	# Each retry is signed again, the same body.
	[ "$(received /fail500 | jq -s 'length >= 2 and all(.sig_ok) and
	    ([.[].body] | unique | length) == 1')" = true ]
}

@test "webhook: 410 is a permanent failure, never retried" {
	run sock_json POST /api/notify/targets/wh-gone/test
	assert_line --index 1 200
	jq -e '.ok == false and .outcome == "failed" and .status == 410' \
	    <<<"${lines[0]}"
	# A retry would come after notify_retry_base: let another target's
	# first retry (same base, started later) happen, then look.
	sock_json POST /api/notify/targets/wh-fail500-b/test >/dev/null
	wait_attempts wh-fail500-b 2
	run attempts wh-gone
	jq -e 'length == 1 and .[0].outcome == "failed"' <<<"$output"
	[ "$(received /gone | jq -s length)" = 1 ]
}

@test "webhook: a receiver that is down: the refusal recorded, then retried" {
	run sock_json POST /api/notify/targets/wh-down/test
	assert_line --index 1 200
	jq -e '.ok == false and .outcome == "retry" and .status == 0 and
	    (.error | test("connect|refused"; "i"))' <<<"${lines[0]}"
	wait_attempts wh-down 2
	run attempts wh-down
	jq -e '.[0].attempt == 2 and .[0].status == 0 and
	    (.[0].error | test("connect|refused"; "i"))' <<<"$output"
}

@test "webhook: a hanging receiver times out at 5 s; WebSocket and other receivers go on" {
	local ws=$BATS_TEST_TMPDIR/ws.out hang=$BATS_TEST_TMPDIR/hang.out
	local wsc tpid n0 n1
	"$WSC" --url "unix:$SOCK" --timeout 60 \
	    --send '{"topics":["node:metrics"]}' >"$ws" 2>/dev/null 3>&- &
	wsc=$!
	wait_subscribed "$ws"
	sock_json POST /api/notify/targets/wh-hang/test >"$hang" 3>&- &
	tpid=$!
	# The receiver holds the request now.
	for _ in $(seq 1 200); do
		[ -n "$(received /hang)" ] && break
		sleep 0.05
	done
	[ -n "$(received /hang)" ]
	n0=$(frames "$ws" NodeMetrics | wc -l)
	# Three more NodeMetrics while the hanging delivery is under way...
	for _ in $(seq 1 200); do
		n1=$(frames "$ws" NodeMetrics | wc -l)
		[ "$n1" -ge $((n0 + 3)) ] && break
		sleep 0.05
	done
	[ "$n1" -ge $((n0 + 3)) ]
	# ... and another receiver served, all before the hang was given up.
	run sock_json POST /api/notify/targets/wh-ok/test
	assert_line --index 1 200
	jq -e '.ok == true' <<<"${lines[0]}"
	kill -0 "$tpid"
	[ ! -s "$hang" ]
	wait "$tpid"
	kill_clients "$wsc"
	jq -e '.ok == false and .outcome == "retry" and .status == 0 and
	    (.error | test("timed out|timeout"; "i")) and
	    .duration_ms >= 4900 and .duration_ms < 10000' < <(head -1 "$hang")
	run attempts wh-hang
	jq -e '.[-1].attempt == 1 and (.[-1].error | test("timed out"; "i"))' \
	    <<<"$output"
}

@test "email: STARTTLS, AUTH, and a plain-text message a person can read" {
	run sock_json POST /api/notify/targets/mail/test
	assert_line --index 1 200
	jq -e '.ok == true and .outcome == "ok" and .status == 250' <<<"${lines[0]}"
	run jq -c 'select(.rcpt_tos == ["ops@example.org","oncall@example.org"])' \
	    "$BATS_FILE_TMPDIR/smtp.log"
	assert_equal "${#lines[@]}" 1
	# Headers on lines of their own: after the start or a CRLF, to a CRLF.
	jq -e '.tls == true and .login == "mailer" and
	    .mail_from == "horcrux@example.org" and
	    (.data | test("(^|\r\n)Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \\+0000\r\n")) and
	    (.data | test("\r\nMessage-ID: <[^@>\r\n]+@[^>\r\n]+>\r\n")) and
	    (.data | test("\r\nSubject: \\[Horcrux\\] test message for .mail.\r\n")) and
	    (.data | test("\r\nFrom: horcrux@example.org\r\n")) and
	    (.data | test("\r\nTo: ops@example.org, oncall@example.org\r\n")) and
	    (.data | test("\r\nContent-Type: text/plain; charset=utf-8\r\n")) and
	    (.data | test("\r\n\r\nThis is a test message from Horcrux")) and
	    (.data | test("notification target .mail."))' <<<"${lines[0]}"
	run attempts mail
	jq -e '.[0].outcome == "ok" and .[0].status == 250' <<<"$output"
}

@test "email: a wrong password is a permanent failure" {
	run sock_json POST /api/notify/targets/mail-badpass/test
	assert_line --index 1 200
	jq -e '.ok == false and .outcome == "failed" and .status == 535' \
	    <<<"${lines[0]}"
	run jq -c 'select(.rcpt_tos == ["ops@example.org"])' \
	    "$BATS_FILE_TMPDIR/smtp.log"
	assert_equal "${#lines[@]}" 0
}

@test "email: the server's certificate is verified (its name must match)" {
	# The test certificate names 127.0.0.1 only: as 'localhost' the same
	# server is refused, and nothing is sent.
	must 201 POST /api/notify/targets "$(jq -cn --arg u \
	    "smtp://localhost:$SMTP_PORT" --arg p "$MAIL_PASS" \
	    '{name:"mail-wrongname", type:"email", smtp_url:$u,
	      from:"horcrux@example.org", to:["tls@example.org"],
	      username:"mailer", password:$p}')"
	run sock_json POST /api/notify/targets/mail-wrongname/test
	assert_line --index 1 200
	jq -e '.ok == false and (.error | test("SSL|certificate|subject"; "i"))' \
	    <<<"${lines[0]}"
	run jq -c 'select(.rcpt_tos == ["tls@example.org"])' \
	    "$BATS_FILE_TMPDIR/smtp.log"
	assert_equal "${#lines[@]}" 0
	must 204 DELETE /api/notify/targets/mail-wrongname
}

@test "email: a server without STARTTLS is refused before AUTH or mail" {
	must 201 POST /api/notify/targets "$(jq -cn --arg u \
	    "smtp://127.0.0.1:$PLAIN_PORT" --arg p "$MAIL_PASS" \
	    '{name:"mail-plain", type:"email", smtp_url:$u,
	      from:"horcrux@example.org", to:["plain@example.org"],
	      username:"mailer", password:$p}')"
	run sock_json POST /api/notify/targets/mail-plain/test
	assert_line --index 1 200
	jq -e '.ok == false and (.error | test("STARTTLS|SSL"; "i"))' \
	    <<<"${lines[0]}"
	run jq -c 'select(.rcpt_tos == ["plain@example.org"])' \
	    "$BATS_FILE_TMPDIR/smtp.log"
	assert_equal "${#lines[@]}" 0
	must 204 DELETE /api/notify/targets/mail-plain
}

@test "targets: 422 names the field, 409 for a duplicate, 404 for none, delete" {
	run sock_json POST /api/notify/targets \
	    '{"name":"x","type":"webhook","url":"ftp://h/","secret":"s"}'
	assert_line --index 1 422
	jq -e '.error == "VALIDATION_ERROR" and (.message | test("^.url."))' \
	    <<<"${lines[0]}"
	run sock_json POST /api/notify/targets '{"name":"x","type":"pager"}'
	assert_line --index 1 422
	jq -e '.message | test("^.type.")' <<<"${lines[0]}"
	run sock_json POST /api/notify/targets \
	    '{"name":"x","type":"email","smtp_url":"smtp://h","from":"a@b.c"}'
	assert_line --index 1 422
	jq -e '.message | test("^.to.")' <<<"${lines[0]}"
	run sock_json POST /api/notify/targets \
	    '{"name":"wh-ok","type":"webhook","url":"http://h/","secret":"s"}'
	assert_line --index 1 409
	run sock_json POST /api/notify/targets/no-such/test
	assert_line --index 1 404
	run sock_json DELETE /api/notify/targets/no-such
	assert_line --index 1 404
	must 201 POST /api/notify/targets \
	    '{"name":"short-lived","type":"webhook","url":"http://h/","secret":"s"}'
	run sock_json DELETE /api/notify/targets/short-lived
	assert_equal "$(status_of "$output")" 204
	run sock_json GET /api/notify/targets/short-lived
	assert_line --index 1 404
	run must 200 GET /api/notify/targets
	jq -e '[.targets[].name] | index("short-lived") == null and
	    index("wh-ok") != null' <<<"$output"
}

@test "secrets are never in a reply, the audit log or the daemon's log" {
	local all=$BATS_TEST_TMPDIR/all
	{
		must 200 GET /api/notify/targets
		for t in wh-ok mail mail-badpass; do
			must 200 GET "/api/notify/targets/$t"
			must 200 GET "/api/notify/targets/$t/attempts"
		done
		must 200 GET '/api/audit?limit=1000'
	} >"$all"
	# What we grep is there: the targets and their audit records.
	jq -se '[.[] | objects | select(has("targets"))][0] |
	    [.targets[] | select(.name == "wh-ok" and .secret_set == true and
	    (has("secret") | not))] | length == 1' "$all"
	jq -se '[.[] | objects | select(.name == "mail")][0] |
	    .password_set == true and (has("password") | not) and
	    .username == "mailer"' "$all"
	grep -q '"notify.target.add"' "$all"
	grep -q '"wh-hang"' "$all"
	run grep -c -e "$WH_SECRET" -e "$MAIL_PASS" -e not-the-password "$all"
	assert_output 0
	run grep -c -e "$WH_SECRET" -e "$MAIL_PASS" -e not-the-password "$HXD_LOG"
	assert_output 0
	# The log does name what failed.
	grep -q "notify: 'wh-fail500'" "$HXD_LOG"
}

# --- horcrux-cli notify target ----------------------------------------------

# cli ARGS...: horcrux-cli as root@local on the daemon's socket, no terminal.
cli() {
	HOME=$BATS_TEST_TMPDIR XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/c \
	    XDG_STATE_HOME=$BATS_TEST_TMPDIR/s HORCRUX_SERVER="unix:$SOCK" \
	    setsid -w "$HX_BUILD/horcrux-cli" "$@" </dev/null
}

@test "cli: notify target add, list, show, test, delete; usage errors" {
	local sec=$BATS_TEST_TMPDIR/secret
	run cli notify target add
	assert_failure 2
	run cli notify target add a b --url http://h/ --secret-file /dev/null
	assert_failure 2
	# A secret is never an argument.
	run cli notify target add c1 --url http://h/ --secret s
	assert_failure 2
	run cli notify target add c1 --url http://h/ --smtp-url smtp://h
	assert_failure 2
	# No terminal to ask on, and no file or stdin: said, nothing made.
	run --separate-stderr cli notify target add c1 --url "http://127.0.0.1:$WH_PORT/ok"
	assert_failure 1
	[[ $stderr == *"--secret-file or --secret-stdin"* ]]
	run sock_json GET /api/notify/targets/c1
	assert_line --index 1 404

	printf '%s\n' "$WH_SECRET" >"$sec"
	run cli notify target add c1 --url "http://127.0.0.1:$WH_PORT/ok" \
	    --secret-file "$sec"
	assert_success
	assert_output "added webhook target 'c1'"
	run --separate-stderr bash -c 'printf "%s\n" "$1" | HOME=$2 XDG_CONFIG_HOME=$2/c XDG_STATE_HOME=$2/s HORCRUX_SERVER=unix:$3 setsid -w "$4" notify target add c2 --smtp-url "smtp://127.0.0.1:$5" --from a@example.org --to b@example.org --username mailer --secret-stdin' \
	    _ "$MAIL_PASS" "$BATS_TEST_TMPDIR" "$SOCK" "$HX_BUILD/horcrux-cli" "$SMTP_PORT"
	assert_success
	run cli notify target list
	assert_success
	assert_line --regexp "^c1 +webhook +http://127.0.0.1:$WH_PORT/ok "
	assert_line --regexp "^c2 +email +smtp://127.0.0.1:$SMTP_PORT -> b@example.org "
	refute_output --partial "$WH_SECRET"
	refute_output --partial "$MAIL_PASS"

	# Delivered: exit 0; refused: exit 1 with the reason.
	run cli notify target test c1
	assert_success
	assert_output --regexp "^delivered to 'c1' \(status 204, [0-9]+ ms\)$"
	[ "$(received /ok | jq -s 'map(select(.body.target == "c1")) | length')" = 1 ]
	run cli notify target test c2
	assert_success
	run --separate-stderr cli notify target test wh-gone
	assert_failure 1
	[[ $stderr == *"not delivered: HTTP status 410"*"will not be retried"* ]]
	run cli notify target show c1
	assert_success
	assert_line --regexp '^Target: +c1$'
	assert_line --regexp '^[0-9T:.-]+Z +Test +1 +ok +204 +[0-9]+ +-$'
	run cli -o json notify target show c2
	assert_success
	jq -e '.password_set == true and (has("password") | not) and
	    .attempts[0].outcome == "ok"' <<<"$output"

	# Completion offers the targets' names.
	run cli __complete notify target test c
	assert_success
	assert_output $'c1\nc2'
	run cli __complete notify target ''
	assert_output $'list\nshow\nadd\ndelete\ntest'

	run cli notify target delete c1
	assert_success
	assert_output "deleted notification target 'c1'"
	run cli notify target delete c1
	assert_failure 1
	run cli notify target delete c2 extra
	assert_failure 2
	run cli notify target delete c2
	assert_success
}

# wait_received PATH EVENT: the webhook receiver's first EVENT record on
# PATH, once it has come (15 s).
wait_received() {
	local i r
	for i in $(seq 1 300); do
		r=$(received "$1" | jq -c --arg e "$2" 'select(.event == $e)' |
		    head -1)
		[ -n "$r" ] && { echo "$r"; return 0; }
		sleep 0.05
	done
	echo "no $2 on $1: $(received "$1")" >&2
	return 1
}

@test "an alert rule's targets hear its start and its end: a signed webhook and an e-mail" {
	local hook trig res id
	must 201 POST /api/notify/targets "$(jq -cn --arg u \
	    "http://127.0.0.1:$WH_PORT/alert" --arg s "$WH_SECRET" \
	    '{name:"wh-alert", type:"webhook", url:$u, secret:$s}')" >/dev/null
	# node:cpu_usage >= 0 holds on the first sample: it fires at once.
	must 201 POST /api/alerts/rules '{"name":"nt-cpu",
	    "series":"node:cpu_usage","op":">=","threshold":0,"for_seconds":0,
	    "severity":"info","notify":["wh-alert","mail"]}' >/dev/null
	trig=$(wait_received /alert AlertTriggered)
	id=$(jq -r .body.alert_id <<<"$trig")
	jq -e --arg id "$id" '.sig_ok and .content_type == "application/json"
	    and .body.rule_name == "nt-cpu" and .body.severity == "info"
	    and (.body.target | startswith("node:"))
	    and (.body.value | type) == "number" and .body.threshold == 0' \
	    <<<"$trig"
	# The one the daemon lists as firing.
	must 200 GET "/api/alerts?state=firing" |
	    jq -e --arg id "$id" 'any(.alerts[]; .alert_id == $id and
	        .rule_name == "nt-cpu")'
	# A threshold no CPU reaches: the episode ends on the next sample.
	must 200 PUT /api/alerts/rules/nt-cpu '{"name":"nt-cpu",
	    "series":"node:cpu_usage","op":">","threshold":1000,"for_seconds":0,
	    "severity":"info","notify":["wh-alert","mail"]}' >/dev/null
	res=$(wait_received /alert AlertResolved)
	jq -e --arg id "$id" '.sig_ok and .body.alert_id == $id and
	    .body.rule_name == "nt-cpu"' <<<"$res"
	# One of each: nothing told twice.
	run received /alert
	assert_equal "${#lines[@]}" 2
	# The e-mail: both messages, a person can read what fired.
	local i
	for i in $(seq 1 300); do
		[ "$(jq -c 'select(.data | test("nt-cpu"))' \
		    "$BATS_FILE_TMPDIR/smtp.log" | wc -l)" -ge 2 ] && break
		sleep 0.05
	done
	run jq -r 'select(.data | test("nt-cpu")) | .data' \
	    "$BATS_FILE_TMPDIR/smtp.log"
	[[ $output == *"Subject: [Horcrux] INFO nt-cpu on node:"* ]]
	[[ $output == *"is FIRING"*"Alert id:   $id"*"horcrux-cli alert ack $id"* ]]
	[[ $output == *"Subject: [Horcrux] RESOLVED "*"nt-cpu on node:"* ]]
	[[ $output == *"has RESOLVED"* ]]
	must 204 DELETE /api/alerts/rules/nt-cpu >/dev/null
}
