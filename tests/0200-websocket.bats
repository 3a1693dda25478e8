#!/usr/bin/env bats
# The WebSocket protocol of DESIGN §3, rule by rule, with our own test
# client (hx-wsclient) and a rude raw client (rawws.py) over the Unix
# socket, where local trust makes the peer root@local.

load helpers/common

teardown() {
	stop_daemon
}

@test "TCP without credentials: the upgrade is refused with 401" {
	start_daemon
	run "$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --count 1 --timeout 5
	assert_failure 5
	assert_equal "$(jq -r .status <<<"$output")" "401"
	# The raw client sees the status line itself.
	run $RAWWS "127.0.0.1:$PORT" silent --timeout 3
	assert_failure 5
	assert_output --partial "401 Unauthorized"
}

@test "the welcome Notification comes first and names the user" {
	start_daemon
	run "$WSC" --url "unix:$SOCK" --count 1 --timeout 5
	assert_success
	assert_equal "$(jq -r .frame.type <<<"$output")" "Notification"
	assert_equal "$(jq -r .frame.data.level <<<"$output")" "info"
	assert_equal "$(jq -r .frame.data.title <<<"$output")" "Connected"
	assert_equal "$(jq -r .frame.data.message <<<"$output")" \
		"WebSocket connection established for user root@local"
	assert_output --regexp '"timestamp":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"'
}

@test "subscribe: Subscribed, then UNKNOWN_TOPIC per bad topic, then the snapshot" {
	start_daemon --node-interval 2
	wait_sample
	out=$BATS_TEST_TMPDIR/out
	run "$WSC" --url "unix:$SOCK" --timeout 5 --until NodeMetrics \
		--send '{"topics":["node:metrics","nope","vm:status"]}'
	assert_success
	printf '%s\n' "$output" >"$out"
	run jq -r .frame.type "$out"
	assert_output "$(printf 'Notification\nSubscribed\nError\nNodeMetrics')"
	assert_equal "$(frames "$out" Subscribed | jq -c .topics)" '["node:metrics","vm:status"]'
	assert_equal "$(frames "$out" Error | jq -r .code)" "UNKNOWN_TOPIC"
	assert_equal "$(frames "$out" Error | jq -r .topic)" "nope"
	# The NodeMetrics is the cached snapshot, sampled before we subscribed
	# (the next sample is up to 2 s away).
	sub_ts=$(frames "$out" Subscribed | jq -r .timestamp)
	snap_ts=$(frames "$out" NodeMetrics | jq -r .timestamp)
	[[ "$snap_ts" < "$sub_ts" ]]
}

@test "a later topics message replaces the set; unsubscribe removes" {
	start_daemon --node-interval 0.2
	wait_sample
	out=$BATS_TEST_TMPDIR/out
	run "$WSC" --url "unix:$SOCK" --timeout 6 --count 8 \
		--send '{"topics":["node:metrics","notifications"]}' \
		--send-after '3:{"topics":["notifications","alerts"]}' \
		--send-after '4:{"unsubscribe":["alerts","bogus"]}'
	printf '%s\n' "$output" >"$out"
	run jq -c 'select(.frame.type=="Subscribed") | .frame.data.topics' "$out"
	assert_line --index 0 '["node:metrics","notifications"]'
	assert_line --index 1 '["alerts","notifications"]'
	assert_line --index 2 '["notifications"]'
	run jq -r 'select(.frame.type=="Error") | .frame.data.code + " " + .frame.data.topic' "$out"
	assert_output "UNKNOWN_TOPIC bogus"
	# After the replacement no NodeMetrics may arrive: only the one
	# snapshot (frame 3) came before it.
	run jq -r '.frame.type' "$out"
	last_sub=$(grep -n Subscribed <<<"$output" | sed -n 2p | cut -d: -f1)
	run sed -n "$last_sub,\$p" <<<"$output"
	refute_output --partial NodeMetrics
}

@test "only a topics message that grants something counts as a subscription" {
	start_daemon --subscription-timeout 1
	# An unsubscribe, an empty list and a list of unknown topics are all
	# answered, but none of them is a subscription: the timeout still fires.
	run "$WSC" --url "unix:$SOCK" --timeout 8 \
		--send '{"unsubscribe":["node:metrics"]}' --send '{"topics":[]}' \
		--send '{"topics":["nope"]}'
	assert_failure 4
	assert_equal "$(grep -c '"type":"Subscribed"' <<<"$output")" 3
	assert_equal "$(jq -r 'select(.frame.data.code=="SUBSCRIPTION_TIMEOUT") | .frame.type' <<<"$output")" Error
	assert_equal "$(jq -r 'select(.close) | .close' <<<"$output")" 1008
}

@test "an unsubscribe does not resend the snapshots of the topics that remain" {
	start_daemon --node-interval 5
	wait_sample
	run "$WSC" --url "unix:$SOCK" --timeout 2 \
		--send '{"topics":["node:metrics","notifications"]}' \
		--send-after '3:{"unsubscribe":["notifications"]}'
	assert_failure 3
	# One snapshot only: the next live sample is 5 s away.
	assert_equal "$(grep -c '"type":"NodeMetrics"' <<<"$output")" 1
	assert_equal "$(grep -c '"type":"Subscribed"' <<<"$output")" 2
}

@test "malformed or unknown messages get BAD_MESSAGE and the connection stays" {
	start_daemon --node-interval 0.5
	out=$BATS_TEST_TMPDIR/out
	run "$WSC" --url "unix:$SOCK" --timeout 6 --until Subscribed \
		--send 'not json' --send '[1,2]' --send '{"foo":1}' \
		--send '{"topics":"node:metrics"}' --send '{"topics":[1]}' \
		--send '{"topics":[],"unsubscribe":[]}' \
		--send '{"topics":["node:metrics"]}'
	assert_success
	printf '%s\n' "$output" >"$out"
	run jq -r 'select(.frame.type=="Error") | .frame.data.code' "$out"
	assert_output "$(printf 'BAD_MESSAGE\n%.0s' 1 2 3 4 5 6 | sed '$d')
BAD_MESSAGE"
	assert_equal "$(grep -c BAD_MESSAGE <<<"$output")" 6
	assert_equal "$(frames "$out" Subscribed | jq -c .topics)" '["node:metrics"]'
	run jq -r 'select(.frame.type=="Error") | .frame.data.message' "$out"
	assert_line --index 0 --partial "malformed JSON"
}

@test "no subscription in time: SUBSCRIPTION_TIMEOUT, then close 1008" {
	start_daemon --subscription-timeout 1
	out=$BATS_TEST_TMPDIR/out
	run "$WSC" --url "unix:$SOCK" --timeout 8
	assert_failure 4
	printf '%s\n' "$output" >"$out"
	assert_equal "$(frames "$out" Error | jq -r .code)" "SUBSCRIPTION_TIMEOUT"
	assert_equal "$(jq -r 'select(.close) | .close' "$out")" "1008"
	# About a second after the welcome, not before.
	t0=$(jq -r 'select(.frame.type=="Notification") | .t' "$out")
	t1=$(jq -r 'select(.close) | .t' "$out")
	jq -en --argjson a "$t0" --argjson b "$t1" '($b - $a) >= 900 and ($b - $a) < 4000'
}

@test "a message over 64 KiB closes with 1009; one just under is answered" {
	start_daemon
	run $RAWWS "unix:$SOCK" big 70000 --timeout 5
	assert_success
	assert_equal "$(jq -r 'select(.op=="close") | .code' <<<"$output")" "1009"
	# 60 KiB of JSON with a long unknown topic: a normal reply, no close.
	run $RAWWS "unix:$SOCK" big 61440 --timeout 2
	assert_equal "$(jq -r 'select(.data.type=="Error") | .data.data.code' <<<"$output")" "UNKNOWN_TOPIC"
	refute_output --partial '"op": "close"'
}

@test "with permessage-deflate the 64 KiB limit holds on the inflated size: 1009" {
	start_daemon
	# 70,000 bytes that compress to a few hundred: closed with 1009 all
	# the same, and promptly.
	run $RAWWS "unix:$SOCK" big 70000 --deflate --timeout 5
	assert_success
	assert_equal "$(jq -r 'select(.op=="close") | .code' <<<"$output")" "1009"
	assert_equal "$(jq -r 'select(.op=="close") | .reason' <<<"$output")" "message over 64 KiB"
	# Just over the limit inflated, still 1009.
	run $RAWWS "unix:$SOCK" big 65537 --deflate --timeout 5
	assert_equal "$(jq -r 'select(.op=="close") | .code' <<<"$output")" "1009"
	# Just under it: answered, compressed, and the connection stays.
	run $RAWWS "unix:$SOCK" big 61440 --deflate --timeout 2
	assert_equal "$(jq -r 'select(.data.type=="Error") | .data.data.code' <<<"$output")" "UNKNOWN_TOPIC"
	refute_output --partial '"op": "close"'
	# The daemon carries on.
	run "$WSC" --url "unix:$SOCK" --deflate --count 1 --timeout 5
	assert_success
}

@test "heartbeat: JSON Ping events and WebSocket ping frames; a silent peer is dropped" {
	start_daemon --heartbeat-interval 0.5 --peer-timeout 2
	out=$BATS_TEST_TMPDIR/out
	# rawws never answers pings: it must be dropped after ~2 s.
	run $RAWWS "unix:$SOCK" silent --timeout 8
	assert_success
	printf '%s\n' "$output" >"$out"
	run jq -r 'select(.op=="ping") | .op' "$out"
	[ "${#lines[@]}" -ge 2 ]
	run jq -r 'select(.data.type=="Ping") | .data.data.timestamp' "$out"
	[ "${#lines[@]}" -ge 2 ]
	assert_equal "$(jq -r 'select(.op=="close") | .code' "$out")" "1001"
	t0=$(jq -r 'select(.data.type=="Notification") | .t' "$out")
	t1=$(jq -r 'select(.op=="close") | .t' "$out")
	jq -en --argjson a "$t0" --argjson b "$t1" '($b - $a) >= 1.9 and ($b - $a) < 4'
	grep -q "dropping silent websocket peer root@local" "$HXD_LOG"
}

@test "a peer that answers pings is kept past the silence limit" {
	start_daemon --heartbeat-interval 0.5 --peer-timeout 2
	# hx-wsclient answers pings (libwebsockets does) and subscribes once.
	run "$WSC" --url "unix:$SOCK" --timeout 5 --send '{"topics":["notifications"]}'
	# It is still open when its own 5 s timeout ends (exit 3), never closed.
	assert_failure 3
	refute_output --partial '"close"'
	[ "$(grep -c '"type":"Ping"' <<<"$output")" -ge 6 ]
}

@test "a client that stops reading is closed with 1013 once its queue overflows" {
	start_daemon
	run $RAWWS "unix:$SOCK" flood 6000 --timeout 20
	assert_success
	assert_equal "$(jq -r 'select(.op=="close") | .code' <<<"$output")" "1013"
	grep -q "closing session of root@local: 1024 events unsent" "$HXD_LOG"
	# The daemon carries on for everyone else.
	run "$WSC" --url "unix:$SOCK" --count 1 --timeout 5
	assert_success
}

@test "permessage-deflate is negotiated when offered and frames arrive intact" {
	start_daemon --node-interval 0.3
	run "$WSC" --url "unix:$SOCK" --deflate --timeout 6 --count 4 \
		--send '{"topics":["node:metrics"]}'
	assert_success
	[ "$(grep -c '"type":"NodeMetrics"' <<<"$output")" -ge 2 ]
	assert_equal "$(grep '"type":"NodeMetrics"' <<<"$output" | head -1 | jq -r .frame.data.hostname)" "$(hostname)"
}

@test "SIGTERM: every client gets a Server Shutdown notice and a clean close" {
	start_daemon
	out1=$BATS_TEST_TMPDIR/c1 out2=$BATS_TEST_TMPDIR/c2
	"$WSC" --url "unix:$SOCK" --timeout 10 --send '{"topics":["notifications"]}' >"$out1" 3>&- &
	c1=$!
	"$WSC" --url "unix:$SOCK" --timeout 10 --send '{"topics":["node:metrics"]}' >"$out2" 3>&- &
	c2=$!
	wait_clients 2
	assert_equal "$(health_clients)" 2
	kill -TERM "$HXD_PID"
	rc=0; wait "$HXD_PID" || rc=$?
	HXD_PID=
	assert_equal "$rc" 0
	wait "$c1" || true
	wait "$c2" || true
	for f in "$out1" "$out2"; do
		assert_equal "$(frames "$f" Notification | jq -r .title | tail -1)" "Server Shutdown"
		assert_equal "$(jq -r 'select(.close) | .close' "$f")" "1001"
	done
	check_sanitizers
	[ ! -e "$SOCK" ]
}
