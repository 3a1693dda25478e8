#!/usr/bin/env bats
# Who is shown, and to whom: identities written user@realm in the audit
# log, events and logs (local trust root@local never reads like a database
# user); the acting user's name in VM events only for that user and for
# those who may read identities; /api/health's client count only for an
# authenticated caller.

load helpers/common
load helpers/api

NODE="test://$HX_REPO/share/demo-node.xml"

teardown() {
	kill_clients ${WS_PIDS[@]+"${WS_PIDS[@]}"}
	stop_daemon
}

# new_user NAME ROLES_JSON: a user with an API key; sets KEY.
new_user() {
	assert_equal "$(status_of "$(sock POST /api/users "{\"username\":\"$1\",\"password\":\"$1-pass-123\",\"roles\":$2}")")" 201
	KEY=$(body_of "$(sock POST "/api/users/$1/api-keys" '{"name":"k"}')" | jq -r .token)
	[[ "$KEY" == hx_* ]]
}

# wait_statuses FILE N: until FILE holds N VmStatusChanged frames (10 s).
wait_statuses() {
	local i
	for i in $(seq 1 200); do
		[ "$(jq -s '[.[] | select(.frame.type == "VmStatusChanged")] | length' "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	echo "$1 never held $2 VmStatusChanged frames:" >&2
	cat "$1" >&2
	return 1
}

# statuses FILE: [new_status, user] of each VmStatusChanged, one per line.
statuses() {
	jq -c 'select(.frame.type == "VmStatusChanged") | .frame.data | [.new_status, .user]' "$1"
}

@test "GET /api/health counts clients for authenticated callers only" {
	start_daemon
	new_user vera '[]'
	run curl -s "$URL/api/health"
	jq -e '.status == "ok" and (has("clients") | not)' <<<"$output"
	run curl -s -H "X-API-Key: $KEY" "$URL/api/health"
	jq -e '.status == "ok" and .clients == 0' <<<"$output"
	run curl -s --unix-socket "$SOCK" http://localhost/api/health
	jq -e '.clients == 0' <<<"$output"
	# A wrong credential is still refused, not treated as anonymous.
	run curl -s -o /dev/null -w '%{http_code}' -H 'X-API-Key: hx_bad_key' "$URL/api/health"
	assert_output 401
}

@test "VmStatusChanged names the acting user only to that user and to identity readers" {
	start_daemon --libvirt-uri "$NODE" --vm-interval 5
	wait_vms
	new_user vera '[]'
	vera_key=$KEY
	assert_equal "$(status_of "$(sock PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"vera"}')")" 200
	new_user sam '["Auditor"]'
	sam_key=$KEY
	WS_PIDS=()
	for who in vera sam root; do
		out=$BATS_TEST_TMPDIR/$who
		case $who in
		vera) args=(--url "ws://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $vera_key") ;;
		sam) args=(--url "ws://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $sam_key") ;;
		root) args=(--url "unix:$SOCK") ;;
		esac
		"$WSC" "${args[@]}" --timeout 20 --send '{"topics":["vm:status"]}' >"$out" 3>&- &
		WS_PIDS+=($!)
		wait_subscribed "$out"
	done
	# root@local suspends web-1, then vera resumes it with her key.
	assert_equal "$(status_of "$(sock POST /api/vms/web-1/suspend)")" 200
	for who in vera sam root; do wait_statuses "$BATS_TEST_TMPDIR/$who" 1; done
	run curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-API-Key: $vera_key" "$URL/api/vms/web-1/resume"
	assert_output 200
	for who in vera sam root; do wait_statuses "$BATS_TEST_TMPDIR/$who" 2; done
	# vera may audit web-1 but not read users: root's name is hidden.
	assert_equal "$(statuses "$BATS_TEST_TMPDIR/vera")" '["paused",null]
["running","vera@local"]'
	# An Auditor (SysAudit on /access) and root see who acted.
	assert_equal "$(statuses "$BATS_TEST_TMPDIR/sam")" '["paused","root@local"]
["running","vera@local"]'
	assert_equal "$(statuses "$BATS_TEST_TMPDIR/root")" '["paused","root@local"]
["running","vera@local"]'
	grep -q "vera@local: resume 'web-1'" "$HXD_LOG"
}

@test "the audit log writes user@realm: root@local and a database user differ" {
	start_daemon
	new_user alice '[]'
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"pat","realm":"pam"}')")" 201
	out=$(curl -s -X POST "$URL/api/auth/login" -H 'Content-Type: application/json' \
		-d '{"username":"alice","password":"alice-pass-123"}' -w '\n%{http_code}')
	assert_equal "$(status_of "$out")" 200
	out=$(curl -s -X POST "$URL/api/auth/login" -H 'Content-Type: application/json' \
		-d '{"username":"alice","password":"wrong-pass-123"}' -w '\n%{http_code}')
	assert_equal "$(status_of "$out")" 401
	rows=$(body_of "$(sock GET '/api/audit?limit=20')" | jq -c 'reverse | .[] | [.actor, .action, .target]')
	assert_equal "$rows" '["root@local","user.add","alice@local"]
["root@local","apikey.create","alice@local"]
["root@local","user.add","pat@pam"]
["alice@local","login","alice@local"]
["alice@local","login.failed","alice@local"]'
	# Filters: a bare name finds its user@realm rows; root@local is exact.
	assert_equal "$(body_of "$(sock GET '/api/audit?user=alice')" | jq length)" 2
	assert_equal "$(body_of "$(sock GET '/api/audit?user=alice@local')" | jq length)" 2
	assert_equal "$(body_of "$(sock GET '/api/audit?user=root@local')" | jq length)" 3
}

@test "the WebSocket welcome names the user as user@realm" {
	start_daemon
	new_user vera '[]'
	run "$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $KEY" --count 1 --timeout 5
	assert_success
	assert_equal "$(jq -r .frame.data.message <<<"$output")" "WebSocket connection established for user vera@local"
}
