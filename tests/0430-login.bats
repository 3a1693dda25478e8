#!/usr/bin/env bats
# Logins under attack: the rate limit holds against a concurrent burst (per
# address and per user), the self password change shares it, the login
# pool is bounded and never stands between root and the identity worker,
# login takes JSON from our own origin only, and the audit log is capped
# and purged.

load helpers/common
load helpers/api

# A burst may stall the daemon: no request waits more than this.
HX_CURL_MAX_TIME=30

BURST="$PY $HX_REPO/tests/tools/login-burst.py"

teardown() {
	if [ -n "${GATE_DIR:-}" ]; then
		touch "$GATE_DIR/open"
	fi
	if [ -n "${BURST_PID:-}" ]; then
		wait "$BURST_PID" || true
	fi
	stop_daemon
	if [ -n "${PAM_SERVICE:-}" ]; then
		rm -f "/etc/pam.d/$PAM_SERVICE"
	fi
}

add_user() {
	out=$(sock POST /api/users "{\"username\":\"$1\",\"password\":\"$2\",\"roles\":${3:-[]}}")
	assert_equal "$(status_of "$out")" 201
}

# count FILE STATUS: how many replies in a burst's output had STATUS.
count() {
	jq -s --argjson s "$2" '[.[] | select(.status == $s)] | length' "$1"
}

# Every 429 carries a Retry-After of 1 to 60 seconds.
retry_after_ok() {
	jq -se '[.[] | select(.status == 429) | .retry_after | tonumber] |
		all(. >= 1 and . <= 60)' "$1"
}

@test "a burst of logins from one address: at most five password checks, the rest 429" {
	start_daemon
	add_user admin admin-pass-1 '["Administrator"]'
	spec=$BATS_TEST_TMPDIR/spec
	for i in $(seq 1 19); do
		echo "127.0.0.1 admin wrong-pass-$i"
	done >"$spec"
	echo "127.0.0.1 admin admin-pass-1" >>"$spec"
	$BURST "$PORT" <"$spec" >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/out")" 20
	ok=$(count "$BATS_TEST_TMPDIR/out" 200)
	bad=$(count "$BATS_TEST_TMPDIR/out" 401)
	limited=$(count "$BATS_TEST_TMPDIR/out" 429)
	# Nothing else: no reply lost, no other status.
	assert_equal "$((ok + bad + limited))" 20
	# Five slots for the address: a success gives its slot back, so the
	# right password may be a sixth check, never more. Old code: 19 x 401.
	[ "$bad" -ge 1 ] && [ "$bad" -le 5 ]
	[ "$ok" -le 1 ]
	[ "$limited" -ge 14 ]
	retry_after_ok "$BATS_TEST_TMPDIR/out"
	# The audit log saw exactly the checks that ran.
	out=$(sock GET '/api/audit?action=login.failed&limit=1000')
	assert_equal "$(body_of "$out" | jq length)" "$bad"
}

@test "a burst for one user from twenty addresses: five password checks, fifteen 429" {
	start_daemon
	add_user admin admin-pass-1 '["Administrator"]'
	for i in $(seq 2 21); do
		echo "127.0.0.$i admin wrong-pass-$i"
	done >"$BATS_TEST_TMPDIR/spec"
	$BURST "$PORT" <"$BATS_TEST_TMPDIR/spec" >"$BATS_TEST_TMPDIR/out"
	# No check succeeds, so no slot comes back: exactly five run.
	assert_equal "$(count "$BATS_TEST_TMPDIR/out" 401)" 5
	assert_equal "$(count "$BATS_TEST_TMPDIR/out" 429)" 15
	retry_after_ok "$BATS_TEST_TMPDIR/out"
	# The user stays locked from a fresh address, even with the right one.
	echo "127.0.0.99 admin admin-pass-1" | $BURST "$PORT" >"$BATS_TEST_TMPDIR/one"
	assert_equal "$(jq .status "$BATS_TEST_TMPDIR/one")" 429
	# Another user from those addresses is not locked by admin's count.
	add_user bob bob-pass-123
	echo "127.0.0.50 bob bob-pass-123" | $BURST "$PORT" >"$BATS_TEST_TMPDIR/bob"
	assert_equal "$(jq .status "$BATS_TEST_TMPDIR/bob")" 200
}

@test "the old password of a self change counts like a login: the sixth wrong one gets 429" {
	start_daemon
	add_user bob bob-pass-123
	out=$(tcp POST /api/auth/login '{"username":"bob","password":"bob-pass-123"}')
	assert_equal "$(status_of "$out")" 200
	tok=$(body_of "$out" | jq -r .token)
	for i in 1 2 3 4 5; do
		out=$(tcp POST /api/users/bob/password "{\"password\":\"new-pass-123\",\"old_password\":\"wrong-$i-pass\"}" \
			-H "Authorization: Bearer $tok")
		assert_equal "$(status_of "$out")" 403
	done
	run curl -s -i --max-time 30 -X POST "$URL/api/users/bob/password" \
		-H 'Content-Type: application/json' -H "Authorization: Bearer $tok" \
		-d '{"password":"new-pass-123","old_password":"bob-pass-123"}'
	assert_line --regexp '^HTTP/1.1 429'
	assert_line --regexp '^retry-after: [0-9]+'
	assert_output --partial RATE_LIMITED
	# The password did not change, and bob's logins are limited too.
	assert_equal "$(status_of "$(tcp POST /api/auth/login '{"username":"bob","password":"new-pass-123"}')")" 429
	# An administrator (UserModify, no old password) is not limited.
	assert_equal "$(status_of "$(sock POST /api/users/bob/password '{"password":"new-pass-456"}')")" 204
}

@test "a concurrent burst of self password changes checks at most five old passwords" {
	start_daemon
	add_user bob bob-pass-123
	out=$(tcp POST /api/auth/login '{"username":"bob","password":"bob-pass-123"}')
	tok=$(body_of "$out" | jq -r .token)
	for i in $(seq 2 13); do
		echo "127.0.0.$i bob new-pass-123 /api/users/bob/password wrong-$i-pass $tok"
	done >"$BATS_TEST_TMPDIR/spec"
	$BURST "$PORT" <"$BATS_TEST_TMPDIR/spec" >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(count "$BATS_TEST_TMPDIR/out" 403)" 5
	assert_equal "$(count "$BATS_TEST_TMPDIR/out" 429)" 7
}

@test "login takes application/json only: 415 for forms, text/plain and no type" {
	start_daemon
	add_user admin admin-pass-1 '["Administrator"]'
	body='{"username":"admin","password":"admin-pass-1"}'
	for ct in 'text/plain' 'application/x-www-form-urlencoded' 'multipart/form-data; boundary=x' \
		'application/jsonx' 'text/json'; do
		run curl -s --max-time 30 -w '\n%{http_code}' -X POST "$URL/api/auth/login" \
			-H "Content-Type: $ct" --data-binary "$body"
		assert_equal "$(status_of "$output")" 415
		assert_equal "$(body_of "$output" | jq -r .error)" UNSUPPORTED_MEDIA_TYPE
	done
	# No Content-Type at all (curl's -d would say form-urlencoded).
	run curl -s --max-time 30 -w '\n%{http_code}' -X POST "$URL/api/auth/login" \
		-H 'Content-Type:' --data-binary "$body"
	assert_equal "$(status_of "$output")" 415
	# A form post is refused before anything is checked: no audit row.
	out=$(sock GET '/api/audit?action=login')
	assert_equal "$(body_of "$out" | jq length)" 0
	for ct in 'application/json' 'application/json; charset=utf-8' 'Application/JSON'; do
		run curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X POST "$URL/api/auth/login" \
			-H "Content-Type: $ct" --data-binary "$body"
		assert_output 200
	done
	# horcrux-cli says what it sends.
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/cfg
	run -0 "$HX_BUILD/horcrux-cli" --connect "$URL" login admin --password-stdin <<<"admin-pass-1"
	run -0 "$HX_BUILD/horcrux-cli" --connect "$URL" whoami
	assert_output --partial admin
}

@test "login from a browser needs our Origin: a foreign one gets 403" {
	start_daemon
	add_user admin admin-pass-1 '["Administrator"]'
	body='{"username":"admin","password":"admin-pass-1"}'
	for origin in 'http://evil.example' 'null' "http://127.0.0.1:$((PORT + 1))" "https://127.0.0.1:$PORT"; do
		out=$(tcp POST /api/auth/login "$body" -H "Origin: $origin")
		assert_equal "$(status_of "$out")" 403
		assert_equal "$(body_of "$out" | jq -r .error)" FORBIDDEN
	done
	out=$(tcp POST /api/auth/login "$body" -H "Origin: http://127.0.0.1:$PORT")
	assert_equal "$(status_of "$out")" 200
	out=$(tcp POST /api/auth/login "$body" -H "Origin: http://localhost:$PORT")
	assert_equal "$(status_of "$out")" 200
	# No Origin: not a browser, nothing to check.
	assert_equal "$(status_of "$(tcp POST /api/auth/login "$body")")" 200
	stop_daemon
	# An origin listed in allowed_origins may sign in too.
	start_daemon --allowed-origins https://console.example
	out=$(tcp POST /api/auth/login "$body" -H "Origin: https://console.example")
	assert_equal "$(status_of "$out")" 200
}

@test "the login pool is bounded and root's writes never wait behind it" {
	# A PAM stack that holds every password check until a gate file
	# exists (a bounded poll in the script), so logins pile up for sure.
	PAM_SERVICE=hxgate$$
	GATE_DIR=$BATS_TEST_TMPDIR/gate
	mkdir -p "$GATE_DIR"
	cat >"$GATE_DIR/hold.sh" <<-EOF
	#!/bin/sh
	touch "$GATE_DIR/in.\$\$"
	i=0
	while [ ! -e "$GATE_DIR/open" ] && [ \$i -lt 1200 ]; do
		sleep 0.05
		i=\$((i + 1))
	done
	exit 1
	EOF
	chmod 755 "$GATE_DIR/hold.sh"
	printf 'auth required pam_exec.so quiet %s\naccount required pam_permit.so\n' \
		"$GATE_DIR/hold.sh" >"/etc/pam.d/$PAM_SERVICE"
	start_daemon --pam-service "$PAM_SERVICE" --login-threads 2 --login-queue 4
	for i in 1 2 3 4 5 6 7 8; do
		assert_equal "$(status_of "$(sock POST /api/users "{\"username\":\"p$i\",\"realm\":\"pam\"}")")" 201
		echo "127.0.0.$((i + 1)) p$i some-password-$i"
	done >"$BATS_TEST_TMPDIR/spec"
	out=$BATS_TEST_TMPDIR/out
	$BURST "$PORT" <"$BATS_TEST_TMPDIR/spec" >"$out" &
	BURST_PID=$!
	# Two checks enter PAM and hold; two wait behind them; the pool holds
	# four, so the other four are refused at once, whoever came first.
	for _ in $(seq 1 400); do
		[ "$(ls "$GATE_DIR" | grep -c '^in\.')" -ge 2 ] && [ "$(wc -l <"$out")" -ge 4 ] && break
		sleep 0.05
	done
	assert_equal "$(ls "$GATE_DIR" | grep -c '^in\.')" 2
	assert_equal "$(wc -l <"$out")" 4
	assert_equal "$(count "$out" 429)" 4
	jq -se 'all(.message == "too many logins in progress; try again later")' "$out"
	retry_after_ok "$out"
	# While four logins are held, root's write goes through at once.
	res=$(sock POST /api/users '{"username":"carol","password":"carol-pass-1"}')
	assert_equal "$(status_of "$res")" 201
	# ...and it finished before any held login did.
	assert_equal "$(wc -l <"$out")" 4
	assert_equal "$(ls "$GATE_DIR" | grep -c '^in\.')" 2
	touch "$GATE_DIR/open"
	wait "$BURST_PID"
	BURST_PID=
	assert_equal "$(count "$out" 401)" 4
	assert_equal "$(count "$out" 429)" 4
	# All four held checks did run, two at a time.
	assert_equal "$(ls "$GATE_DIR" | grep -c '^in\.')" 4
}

@test "a 64 KiB username in a failed login is stored cut to 256 bytes" {
	start_daemon
	long=$(head -c 65000 /dev/zero | tr '\0' 'a')
	out=$(tcp POST /api/auth/login "{\"username\":\"$long\",\"password\":\"nope-nope-1\"}")
	assert_equal "$(status_of "$out")" 401
	out=$(sock GET '/api/audit?action=login.failed')
	assert_equal "$(status_of "$out")" 200
	body_of "$out" >"$BATS_TEST_TMPDIR/audit"
	assert_equal "$(jq length "$BATS_TEST_TMPDIR/audit")" 1
	actor=$(jq -r '.[0].actor' "$BATS_TEST_TMPDIR/audit")
	target=$(jq -r '.[0].target' "$BATS_TEST_TMPDIR/audit")
	assert_equal "$(printf %s "$actor" | wc -c)" 256
	assert_equal "$actor" "$(head -c 253 /dev/zero | tr '\0' 'a')…"
	assert_equal "$target" "$actor"
	# In the database too, not only in the reply.
	run $PY -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("select max(length(cast(actor as blob))), max(length(cast(target as blob))) from audit").fetchone())' "$DDIR/data/horcrux.db"
	assert_output '(256, 256)'
}

@test "audit records older than audit_retention_days (90 by default) are purged at start" {
	start_daemon
	add_user admin admin-pass-1 '["Administrator"]'
	stop_daemon
	$PY - "$DDIR/data/horcrux.db" <<-'EOF'
	import sqlite3, sys, time
	now = int(time.time() * 1000)
	day = 86400 * 1000
	c = sqlite3.connect(sys.argv[1])
	for age, action in ((100, "aged.100"), (60, "aged.60"), (10, "aged.10")):
	    c.execute("insert into audit (ts, actor, action) values (?, 'x', ?)",
	              (now - age * day, action))
	c.commit()
	EOF
	# left ACTION: how many records of ACTION are left.
	left() { body_of "$(sock GET "/api/audit?action=$1")" | jq length; }
	# purged N DAYS: wait (5 s at most) for the daemon to say so.
	purged() {
		for _ in $(seq 1 100); do
			grep -q "purged $1 audit record(s) older than $2 days" "$HXD_LOG" && return 0
			sleep 0.05
		done
		fail "no purge of $1 record(s) older than $2 days in the log"
	}
	start_daemon
	purged 1 90
	assert_equal "$(left aged.100)" 0
	assert_equal "$(left aged.60)" 1
	assert_equal "$(left aged.10)" 1
	stop_daemon
	start_daemon --audit-retention-days 30
	purged 1 30
	assert_equal "$(left aged.60)" 0
	assert_equal "$(left aged.10)" 1
	# user.add from the first run is recent: kept.
	assert_equal "$(left user.add)" 1
}

@test "the new keys refuse bad values with a clear message" {
	for bad in 'login-queue 0' 'login-queue 4097' 'login-threads 0' 'login-threads x' \
		'audit-retention-days 0' 'audit-retention-days -1' 'audit-retention-days 99999'; do
		set -- $bad
		run --separate-stderr "$HXD" -f "--$1" "$2" --data-dir "$BATS_TEST_TMPDIR/d" \
			--socket "$BATS_TEST_TMPDIR/s.sock"
		assert_failure 2
		[[ "$stderr" == "horcruxd: "*"$2"* ]] || fail "unclear message for --$1 $2: $stderr"
	done
	run -0 "$HXD" --dump-options
	assert_line --regexp '^login_queue	.*	64$'
	assert_line --regexp '^login_threads	.*	2$'
	assert_line --regexp '^audit_retention_days	.*	90$'
}
