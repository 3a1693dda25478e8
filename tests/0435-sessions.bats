#!/usr/bin/env bats
# Login sessions end when the credential behind them changes: a password
# change (self or an administrator's reset), disabling a user (so enabling
# again revives none), and on request through GET/DELETE
# /api/users/:username/sessions[/:id]. Every ending closes the user's live
# WebSockets (1008) and is written to the audit log.

load helpers/common
load helpers/api

setup() {
	start_daemon
	out=$(sock POST /api/users '{"username":"carol","password":"carol-pass-1","roles":["Auditor"]}')
	assert_equal "$(status_of "$out")" 201
	out=$(sock POST /api/users '{"username":"dave","password":"dave-pass-1"}')
	assert_equal "$(status_of "$out")" 201
}

teardown() {
	kill_clients ${WS_PIDS:-}
	stop_daemon
}

# as TOKEN METHOD PATH [JSON]: a request with a session token over TCP.
as() {
	curl -s -X "$2" "$URL$3" -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' ${4:+-d "$4"} \
		-w '\n%{http_code}'
}


# login NAME PASSWORD: prints a new session token.
login() {
	local out
	out=$(curl -s -X POST "$URL/api/auth/login" -H 'Content-Type: application/json' \
		-d "{\"username\":\"$1\",\"password\":\"$2\"}" -w '\n%{http_code}')
	[ "$(status_of "$out")" = 200 ] || { echo "login $1: $out" >&2; return 1; }
	body_of "$out" | jq -er .token
}

me() { status_of "$(as "$1" GET /api/auth/me)"; }

# ws TOKEN FILE: a live WebSocket of TOKEN in the background, frames to FILE.
ws() {
	"$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "Authorization: Bearer $1" \
		--timeout 30 --send '{"topics":["notifications"]}' >"$2" 3>&- &
	WS_PIDS+=" $!"
	LAST_WS=$!
	wait_subscribed "$2"
}

# closed PID FILE: the client PID ended within 5 s with close code 1008.
closed() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	! kill -0 "$1" 2>/dev/null || { echo "WebSocket $1 still open" >&2; return 1; }
	assert_equal "$(jq -r 'select(.close) | .close' "$2")" 1008
}

@test "an administrator's password reset ends every session of the user and closes their WebSockets" {
	t1=$(login carol carol-pass-1)
	t2=$(login carol carol-pass-1)
	td=$(login dave dave-pass-1)
	ws "$t1" "$BATS_TEST_TMPDIR/ws1"
	w1=$LAST_WS
	out=$(sock POST /api/users/carol/password '{"password":"carol-pass-2"}')
	assert_equal "$(status_of "$out")" 204
	closed "$w1" "$BATS_TEST_TMPDIR/ws1"
	assert_equal "$(me "$t1")" 401
	assert_equal "$(me "$t2")" 401
	# Nobody else's session is touched.
	assert_equal "$(me "$td")" 200
	out=$(sock GET '/api/audit?action=session.revoke')
	assert_equal "$(body_of "$out" | jq -r '.[0] | [.actor, .target, .detail] | join("|")')" \
		"root@local|carol@local|password changed: 2 sessions"
	# The new password works; the old one does not.
	login carol carol-pass-2 >/dev/null
	run login carol carol-pass-1
	assert_failure
}

@test "a self password change ends the other sessions and renews the caller's" {
	t1=$(login carol carol-pass-1)
	t2=$(login carol carol-pass-1)
	ws "$t2" "$BATS_TEST_TMPDIR/ws2"
	w2=$LAST_WS
	out=$(curl -s -D "$BATS_TEST_TMPDIR/hdr" -X POST "$URL/api/users/carol/password" \
		-H "Authorization: Bearer $t1" -H 'Content-Type: application/json' \
		-d '{"old_password":"carol-pass-1","password":"carol-pass-3"}' -w '\n%{http_code}')
	assert_equal "$(status_of "$out")" 200
	t3=$(body_of "$out" | jq -er .token)
	assert_equal "$(body_of "$out" | jq -r .username)" carol
	[ "$t3" != "$t1" ]
	grep -qi '^set-cookie: horcrux_session=' "$BATS_TEST_TMPDIR/hdr"
	closed "$w2" "$BATS_TEST_TMPDIR/ws2"
	assert_equal "$(me "$t1")" 401
	assert_equal "$(me "$t2")" 401
	assert_equal "$(me "$t3")" 200
	# One live session is left: the renewed one, marked current.
	out=$(as "$t3" GET /api/users/carol/sessions)
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -c '[.[].current]')" '[true]'
	# A wrong old password changes nothing and ends nothing.
	out=$(as "$t3" POST /api/users/carol/password '{"old_password":"nope-nope-1","password":"carol-pass-4"}')
	assert_equal "$(status_of "$out")" 403
	assert_equal "$(me "$t3")" 200
}

@test "disabling a user ends their sessions: enabling again revives none" {
	t1=$(login carol carol-pass-1)
	ws "$t1" "$BATS_TEST_TMPDIR/ws1"
	w1=$LAST_WS
	assert_equal "$(status_of "$(sock PATCH /api/users/carol '{"enabled":false}')")" 200
	closed "$w1" "$BATS_TEST_TMPDIR/ws1"
	assert_equal "$(me "$t1")" 401
	assert_equal "$(status_of "$(sock PATCH /api/users/carol '{"enabled":true}')")" 200
	assert_equal "$(me "$t1")" 401
	out=$(sock GET /api/users/carol/sessions)
	assert_equal "$(body_of "$out")" '[]'
	out=$(sock GET '/api/audit?action=session.revoke')
	assert_equal "$(body_of "$out" | jq -r '.[0] | [.target, .detail] | join("|")')" \
		"carol@local|disabled: 1 session"
	login carol carol-pass-1 >/dev/null
}

@test "GET and DELETE /api/users/:username/sessions: self or UserModify, never a token" {
	t1=$(login carol carol-pass-1)
	t2=$(login carol carol-pass-1)
	td=$(login dave dave-pass-1)
	out=$(as "$t1" GET /api/users/carol/sessions)
	assert_equal "$(status_of "$out")" 200
	list=$(body_of "$out")
	assert_equal "$(jq length <<<"$list")" 2
	assert_equal "$(jq -c '[.[].current] | sort' <<<"$list")" '[false,true]'
	jq -e 'all(.[]; (.id | test("^[0-9a-f]{16}$")) and .user == "carol" and
	    (.remote | test("^(::ffff:)?127[.]0[.]0[.]1$")) and (.created_at | test("Z$")) and
	    (.expires_at | test("Z$")) and (.absolute_expires_at | test("Z$")))' <<<"$list"
	# Neither token nor jti is in the listing.
	for t in "$t1" "$t2"; do
		jti=$(cut -d. -f2 <<<"$t" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .jti || true)
		[ -z "$jti" ] || [[ $list != *"$jti"* ]]
		[[ $list != *"$t"* ]]
	done
	# Another user without UserModify may not look or touch.
	assert_equal "$(status_of "$(as "$td" GET /api/users/carol/sessions)")" 403
	assert_equal "$(status_of "$(as "$td" DELETE /api/users/carol/sessions)")" 403
	# One session ends by its id: the other one, not the caller's.
	other=$(jq -r '.[] | select(.current | not) | .id' <<<"$list")
	assert_equal "$(status_of "$(as "$t1" DELETE "/api/users/carol/sessions/$other")")" 204
	assert_equal "$(me "$t2")" 401
	assert_equal "$(me "$t1")" 200
	assert_equal "$(status_of "$(as "$t1" DELETE "/api/users/carol/sessions/$other")")" 404
	assert_equal "$(status_of "$(sock DELETE /api/users/carol/sessions/0123456789abcdef)")" 404
	assert_equal "$(status_of "$(sock GET /api/users/nobody-here/sessions)")" 404
	# An administrator ends them all; the user's WebSocket closes.
	ws "$t1" "$BATS_TEST_TMPDIR/ws1"
	w1=$LAST_WS
	assert_equal "$(status_of "$(sock DELETE /api/users/carol/sessions)")" 204
	closed "$w1" "$BATS_TEST_TMPDIR/ws1"
	assert_equal "$(me "$t1")" 401
	assert_equal "$(me "$td")" 200
	out=$(sock GET '/api/audit?action=session.revoke')
	assert_equal "$(body_of "$out" | jq -r '[.[] | .actor + "|" + .detail] | join(",")')" \
		"root@local|signed out everywhere: 1 session,carol@local|session $other"
}
