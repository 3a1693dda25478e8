#!/usr/bin/env bats
# Many clients and bad clients: a client that never reads must not delay
# anyone else, 200 concurrent clients all receive, the client count is
# right.

load helpers/common

teardown() {
	stop_daemon
}

@test "a client that stops reading does not delay another client's NodeMetrics" {
	start_daemon --node-interval 0.1
	wait_sample
	# Five stalled readers: subscribed, then never read again.
	pids=()
	for i in 1 2 3 4 5; do
		"$WSC" --url "unix:$SOCK" --timeout 20 --no-read-after 2 \
			--send '{"topics":["node:metrics","notifications"]}' \
			>/dev/null 3>&- &
		pids+=($!)
	done
	wait_clients 5
	# Let their buffers fill for a while.
	sleep 1
	out=$BATS_TEST_TMPDIR/out
	run "$WSC" --url "unix:$SOCK" --timeout 10 --count 32 \
		--send '{"topics":["node:metrics"]}'
	assert_success
	printf '%s\n' "$output" >"$out"
	# 30 live samples at 100 ms: arrival gaps stay near the cadence.
	run jq -rs '[.[] | select(.frame.type=="NodeMetrics") | .t] | .[1:] |
		[range(1; length) as $i | .[$i] - .[$i-1]] | max' "$out"
	assert_success
	jq -en --argjson m "$output" '$m < 400'
	# Latency from sample to arrival stays small for the reading client.
	run jq -rs '[.[] | select(.frame.type=="NodeMetrics") | .t] | length' "$out"
	[ "$output" -ge 30 ]
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
}

@test "200 concurrent clients all receive NodeMetrics" {
	start_daemon --node-interval 0.5
	wait_sample
	run "$WSLOAD" --url "unix:$SOCK" --clients 200 --duration 3
	assert_success
	assert_equal "$(jq -r .connected <<<"$output")" 200
	assert_equal "$(jq -r .failed <<<"$output")" 0
	jq -e '.min_frames_per_client >= 2' <<<"$output"
}

@test "health counts connected WebSocket clients" {
	start_daemon
	assert_equal "$(health_clients)" 0
	"$WSC" --url "unix:$SOCK" --timeout 10 --send '{"topics":[]}' >/dev/null 3>&- &
	c=$!
	wait_clients 1
	assert_equal "$(health_clients)" 1
	kill "$c"
	wait "$c" || true
	wait_clients 0
	assert_equal "$(health_clients)" 0
}
