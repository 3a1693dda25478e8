#!/usr/bin/env bats
# Batching and resume (DESIGN §3): seq on every discrete event, boot_id
# in the welcome, the replay ring and RESUME_GAP, VmMetricsBatch shared
# per set of visible VMs, and horcrux-cli events resuming across
# connections a proxy drops. One daemon for the file on the demo node,
# with a small replay ring (the hidden --replay-events) so a too-old seq
# takes a few events, not 10,000; our client (hx-wsclient), an
# independent one (tools/wsjson.py, python3-websockets) and horcrux-cli.

load helpers/common
load helpers/api
load helpers/cli

WSJ="$PY $HX_REPO/tests/tools/wsjson.py"
RING=6

setup_file() {
	export DDIR=$BATS_FILE_TMPDIR/hx
	start_daemon --libvirt-uri "$NODE" --vm-interval 0.3 \
		--log-level debug --replay-events "$RING" || return 1
	export HXD_PID PORT SOCK URL HXD_LOG
	cli_env "$BATS_FILE_TMPDIR"
	cli_wait_vms || return 1
	# No alert rules: the only discrete events are the tests' own, so
	# seq numbers are known in advance. Deleting a firing rule's alert
	# resolves it: wait until none fires.
	local r i
	for r in $(body_of "$(sock GET /api/alerts/rules)" | jq -r '.rules[].name'); do
		sock DELETE "/api/alerts/rules/$r" >/dev/null
	done
	for i in $(seq 1 100); do
		[ "$(body_of "$(sock GET /api/alerts)" | jq '[.. | objects | select(.state? == "firing")] | length')" = 0 ] && break
		sleep 0.05
	done
	# vera and vince hold the same rights (VmUser on web-1 only).
	local u
	for u in vera vince; do
		sock POST /api/users "{\"username\":\"$u\",\"password\":\"$u-pass-1\"}" >/dev/null
		sock PUT /api/acl "{\"path\":\"/vms/web-1\",\"role\":\"VmUser\",\"user\":\"$u\"}" >/dev/null
		body_of "$(sock POST /api/users/$u/api-keys '{"name":"k"}')" |
			jq -r .token >"$BATS_FILE_TMPDIR/$u.key"
	done
}

teardown_file() {
	stop_daemon
}

teardown() {
	# shellcheck disable=SC2086
	kill_clients ${BG_PIDS:-}
	BG_PIDS=
}

# welcome: the welcome Notification's data (root@local on the socket).
welcome() {
	"$WSC" --url "unix:$SOCK" --count 1 --timeout 5 | jq -c .frame.data
}

# newest_seq: the newest seq the daemon gave, as its welcome says.
newest_seq() {
	welcome | jq .seq
}

# wait_seq N: until the daemon has given seq N (10 s).
wait_seq() {
	local i
	for i in $(seq 1 200); do
		[ "$(newest_seq)" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "seq $1 never given (newest $(newest_seq))" >&2
	return 1
}

# flip N S: N power actions on web-2 (N even: suspend, resume, ...),
# one VmStatusChanged each, after seq S; returns when the daemon has
# given them all (seq S + N).
flip() {
	local i st=(suspend resume)
	for i in $(seq 0 $(($1 - 1))); do
		[ "$(status_of "$(sock POST /api/vms/web-2/${st[$((i % 2))]})")" = 200 ] || return 1
	done
	wait_seq $(($2 + $1))
}

key() { cat "$BATS_FILE_TMPDIR/$1.key"; }

@test "the welcome names the boot (32 hex) and the newest seq; an admin sees seq rise by exactly one" {
	w=$(welcome)
	[[ $(jq -r .boot_id <<<"$w") =~ ^[0-9a-f]{32}$ ]]
	[[ $(jq -r .seq <<<"$w") =~ ^[0-9]+$ ]]
	out=$BATS_TEST_TMPDIR/admin
	# The independent client, subscribed from its welcome on: 6 events.
	$WSJ "unix:$SOCK" --resume-welcome --count 8 --timeout 20 \
		--send '{"topics":["vm:status","vm:events"]}' >"$out" 3>&- &
	BG_PIDS=$!
	wait_subscribed "$out"
	s0=$(head -1 "$out" | jq .data.seq)
	flip 6 "$s0"
	wait "$BG_PIDS"
	BG_PIDS=
	run jq -r 'select(.type=="VmStatusChanged") | .data.seq' "$out"
	assert_output "$(seq $((s0 + 1)) $((s0 + 6)))"
	# The same boot for everyone.
	assert_equal "$(head -1 "$out" | jq -r .data.boot_id)" "$(welcome | jq -r .boot_id)"
}

@test "resume: Subscribed, the missed events in seq order, then the snapshot; nothing twice" {
	w=$(welcome)
	boot=$(jq -r .boot_id <<<"$w")
	s0=$(jq .seq <<<"$w")
	flip 4 "$s0"
	out=$BATS_TEST_TMPDIR/r
	run "$WSC" --url "unix:$SOCK" --timeout 10 --until VmMetricsBatch \
		--send "{\"topics\":[\"vm:status\",\"vm:metrics\"],\"batch\":true,\"resume\":{\"boot_id\":\"$boot\",\"after\":$s0}}"
	assert_success
	printf '%s\n' "$output" >"$out"
	run jq -r '.frame.type' "$out"
	assert_output "Notification
Subscribed
VmStatusChanged
VmStatusChanged
VmStatusChanged
VmStatusChanged
VmMetricsBatch"
	run jq -r 'select(.frame.type=="VmStatusChanged") | .frame.data.seq' "$out"
	assert_output "$(seq $((s0 + 1)) $((s0 + 4)))"
	# From the middle: only what came after it; from the newest: nothing.
	# An unsubscribe of an unknown topic after the resume marks the end
	# of any replay (its Error comes after everything queued before it).
	run $WSJ "unix:$SOCK" --timeout 10 --until Error \
		--send "{\"topics\":[\"vm:status\"],\"resume\":{\"boot_id\":\"$boot\",\"after\":$((s0 + 2))}}" \
		--send '{"unsubscribe":["end"]}'
	assert_success
	assert_equal "$(jq -r 'select(.type=="VmStatusChanged") | .data.seq' <<<"$output" | tr '\n' ' ')" "$((s0 + 3)) $((s0 + 4)) "
	run "$WSC" --url "unix:$SOCK" --timeout 10 --until Error \
		--send "{\"topics\":[\"vm:status\"],\"resume\":{\"boot_id\":\"$boot\",\"after\":$((s0 + 4))}}" \
		--send '{"unsubscribe":["end"]}'
	assert_success
	refute_output --partial VmStatusChanged
	assert_equal "$(jq -r 'select(.frame.type=="Error") | .frame.data.code' <<<"$output")" UNKNOWN_TOPIC
}

@test "RESUME_GAP for another boot, a seq the ring no longer holds, or one not yet given; then snapshot and live" {
	w=$(welcome)
	boot=$(jq -r .boot_id <<<"$w")
	s0=$(jq .seq <<<"$w")
	flip $((RING + 2)) "$s0"
	for resume in "{\"boot_id\":\"0123456789abcdef0123456789abcdef\",\"after\":$s0}" \
		"{\"boot_id\":\"$boot\",\"after\":$s0}" \
		"{\"boot_id\":\"$boot\",\"after\":$((s0 + 1000))}"; do
		run "$WSC" --url "unix:$SOCK" --timeout 10 --until VmMetricsBatch \
			--send "{\"topics\":[\"vm:status\",\"vm:metrics\"],\"batch\":true,\"resume\":$resume}"
		assert_success
		assert_equal "$(jq -r '.frame.type' <<<"$output" | tr '\n' ' ')" \
			"Notification Subscribed Error VmMetricsBatch "
		assert_equal "$(jq -r 'select(.frame.type=="Error") | .frame.data.code' <<<"$output")" RESUME_GAP
	done
	# Within the ring: no gap, the RING newest events.
	run "$WSC" --url "unix:$SOCK" --timeout 10 --until Error \
		--send "{\"topics\":[\"vm:status\"],\"resume\":{\"boot_id\":\"$boot\",\"after\":$((s0 + 2))}}" \
		--send '{"unsubscribe":["end"]}'
	assert_success
	refute_output --partial RESUME_GAP
	assert_equal "$(grep -c '"VmStatusChanged"' <<<"$output")" "$RING"
}

@test "a malformed batch or resume is BAD_MESSAGE with a reason, and the connection stays" {
	run "$WSC" --url "unix:$SOCK" --timeout 5 --count 6 \
		--send '{"topics":["vm:status"],"batch":1}' \
		--send '{"topics":["vm:status"],"resume":{"boot_id":"x"}}' \
		--send '{"topics":["vm:status"],"resume":{"boot_id":"x","after":-1}}' \
		--send '{"topics":["vm:status"],"resume":{"boot_id":"x","after":1},"more":1}' \
		--send '{"topics":["vm:status"]}'
	assert_success
	run jq -r 'select(.frame.type=="Error") | .frame.data.code + ": " + .frame.data.message' <<<"$output"
	assert_output 'BAD_MESSAGE: "batch" must be true or false
BAD_MESSAGE: "resume" takes exactly "boot_id" and "after"
BAD_MESSAGE: "resume": "after" must be an integer seq, 0 or more
BAD_MESSAGE: a topics message takes only "topics", "batch" and "resume"'
}

@test "batch: one VmMetricsBatch per tick of only the visible VMs; the same rights share one frame" {
	d=$BATS_TEST_TMPDIR
	sub='{"topics":["vm:metrics"],"batch":true}'
	for u in vera vince; do
		$WSJ "ws://127.0.0.1:$PORT" --header "X-API-Key: $(key $u)" \
			--timeout 30 --send "$sub" >"$d/$u" 3>&- &
		BG_PIDS="$BG_PIDS $!"
	done
	"$WSC" --url "unix:$SOCK" --timeout 30 --send "$sub" >"$d/admin" 3>&- &
	BG_PIDS="$BG_PIDS $!"
	for f in vera vince admin; do wait_subscribed "$d/$f"; done
	# Once all three are in, a tick builds two frames for them: one the
	# two users share, one for the administrator.
	mark=$(wc -l <"$HXD_LOG")
	wait_count "$d/admin" '"type":"VmMetricsBatch"' 3
	for f in vera vince admin; do
		n=$(grep -c '"type":"VmMetricsBatch"' "$d/$f")
		wait_count "$d/$f" '"type":"VmMetricsBatch"' $((n + 2))
	done
	run bash -c "tail -n +$mark '$HXD_LOG' | grep -c 'VmMetricsBatch: [0-9]* VMs to 3 sessions in 2 distinct frames'"
	[ "$output" -ge 1 ]
	run bash -c "tail -n +$mark '$HXD_LOG' | grep 'VmMetricsBatch: [0-9]* VMs to 3 sessions in 3 distinct frames'"
	assert_failure
	# Batches only, and only web-1 for the two users.
	for u in vera vince; do
		refute grep -q '"type":"VmMetrics"' "$d/$u"
		assert_equal "$(jq -c 'select(.type=="VmMetricsBatch") | [.data.vms[].vm_id]' "$d/$u" | sort -u)" '["web-1"]'
	done
	refute grep -q '"type":"VmMetrics"' "$d/admin"
	run jq -c 'select(.frame.type=="VmMetricsBatch") | [.frame.data.vms[].vm_id] | sort' "$d/admin"
	assert_line --index 2 "$(body_of "$(sock GET /api/vms)" | jq -c '[.[] | select(.state == "running" or .state == "paused") | .id] | sort')"
}

@test "replay honours the ACL: vera gets web-1's missed events only, without who acted" {
	w=$(welcome)
	boot=$(jq -r .boot_id <<<"$w")
	s0=$(jq .seq <<<"$w")
	run -0 curl -s --unix-socket "$SOCK" -X POST http://localhost/api/vms/web-1/suspend
	flip 2 $((s0 + 1))
	run -0 curl -s --unix-socket "$SOCK" -X POST http://localhost/api/vms/web-1/resume
	wait_seq $((s0 + 4))
	run $WSJ "ws://127.0.0.1:$PORT" --header "X-API-Key: $(key vera)" --timeout 10 --until Error \
		--send "{\"topics\":[\"vm:status\"],\"resume\":{\"boot_id\":\"$boot\",\"after\":$s0}}" \
		--send '{"unsubscribe":["end"]}'
	assert_success
	run jq -c 'select(.type=="VmStatusChanged") | .data | [.seq, .vm_id, .new_status, .user]' <<<"$output"
	assert_output "[$((s0 + 1)),\"web-1\",\"paused\",null]
[$((s0 + 4)),\"web-1\",\"running\",null]"
}

@test "horcrux-cli events across dropped connections: every seq printed exactly once" {
	d=$BATS_TEST_TMPDIR
	$PY "$HX_REPO/tests/tools/dropproxy.py" "$d/proxy.sock" "$SOCK" >"$d/proxy.out" 3>&- &
	PROXY=$!
	BG_PIDS=$PROXY
	wait_file_match "$d/proxy.out" '^ready$'
	# The reference: the administrator's own stream, straight to the daemon.
	"$WSC" --url "unix:$SOCK" --timeout 60 \
		--send '{"topics":["vm:status"]}' >"$d/ref" 3>&- &
	BG_PIDS="$BG_PIDS $!"
	wait_subscribed "$d/ref"
	HORCRUX_SERVER="unix:$d/proxy.sock" "$CLI" -o json events vm:status >"$d/ev" 2>"$d/ev.err" 3>&- &
	CLI_PID=$!
	BG_PIDS="$BG_PIDS $CLI_PID"
	wait_file_match "$d/ev" '"boot_id"'
	s=$(newest_seq)
	# The proxy drops the stream and keeps the client out while events
	# happen, three times: what it missed comes back on resuming.
	for round in 1 2 3; do
		wait_count "$d/proxy.out" '^open$' "$round"
		flip 2 "$s"
		s=$((s + 2))
		kill -USR1 "$PROXY"
		wait_count "$d/proxy.out" '^dropped' "$round"
		flip 2 "$s"
		s=$((s + 2))
		kill -USR2 "$PROXY"
		wait_count "$d/proxy.out" '^accepting' "$round"
	done
	flip 2 "$s"
	last=$((s + 2))
	wait_file_match "$d/ev" "\"seq\":$last[,}]" 200
	wait_file_match "$d/ref" "\"seq\":$last[,}]" 200
	want=$(jq -r 'select(.frame.type=="VmStatusChanged") | .frame.data.seq' "$d/ref")
	got=$(jq -r 'select(.type=="VmStatusChanged") | .data.seq' "$d/ev")
	assert_equal "$(wc -l <<<"$want")" 14
	assert_equal "$got" "$want"
	# It did reconnect, and never had to say it lost something.
	[ "$(grep -c 'reconnecting' "$d/ev.err")" -ge 3 ]
	refute grep -q 'missed' "$d/ev.err"
}
