#!/usr/bin/env bats
# The metrics history's tiers and limits through the daemon (DESIGN §8):
# 1-minute buckets whose min/avg/max are those of the raw points the API
# served for that minute, still answering once raw points older than
# history_raw_retention are gone; history_max_bytes dropping the oldest
# raw blocks first while live metrics go on; VM names holding ':'; a
# series list longer than one of lws's 512-byte argument fragments.
#
# Every test starts its own daemon. Nothing sleeps blindly: each wait
# polls the API, the database or the log.

load helpers/common
load helpers/api

teardown() {
	if [ -n "${OWN_PID:-}" ]; then
		HXD_PID=$OWN_PID
		stop_daemon
	fi
}

own_daemon() {
	DDIR=$BATS_TEST_TMPDIR/own
	start_daemon "$@" || return 1
	OWN_PID=$HXD_PID
}


now_ms() {
	date +%s%3N
}

# iso MS: the RFC 3339 time of MS milliseconds since the epoch.
iso() {
	date -u -d "@$(($1 / 1000)).$(printf %03d $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ
}

@test "1-minute buckets are the raw points' min/avg/max, and outlive expired raw points" {
	own_daemon --node-interval 0.2 --history-flush 0.5 \
		--history-raw-retention 75s --log-level debug
	# The minute the daemon started in (the next one if little of it is
	# left): its bucket holds the raw points from the first sample on.
	m=$(( $(now_ms) / 60000 * 60000 ))
	[ $(( $(now_ms) - m )) -le 30000 ] || m=$((m + 60000))
	from=$(iso "$m")
	to=$(iso $((m + 59999)))
	for i in $(seq 1 2000); do
		[ "$(now_ms)" -gt $((m + 60500)) ] && break
		sleep 0.05
	done
	# All of the minute's raw points, before any of them can expire (the
	# first goes 75 s after its block's newest point, past m + 75 s).
	raw=$(body_of "$(hist "series=node:cpu_usage&from=$from&to=$to")")
	jq -e '.series[0] | (has("min") | not) and (.points | length) >= 100' <<<"$raw"
	# The seconds of that minute holding raw points (step=1 reads the raw
	# tier however old the range), until the oldest are expired.
	n=$(body_of "$(hist "series=node:cpu_usage&from=$from&to=$to&step=1")" |
		jq '[.series[0].points[] | select(.[1] != null)] | length')
	for i in $(seq 1 1800); do
		got=$(body_of "$(hist "series=node:cpu_usage&from=$from&to=$to&step=1")" |
			jq '[.series[0].points[] | select(.[1] != null)] | length')
		[ "$got" -lt "$n" ] && break
		sleep 0.05
	done
	[ "$got" -lt "$n" ]
	# The bucket, now from the stored minute tier, against the raw points.
	agg=$(body_of "$(hist "series=node:cpu_usage&from=$from&to=$to&step=60")")
	$PY -c '
import json, sys
raw = json.loads(sys.argv[1])["series"][0]["points"]
agg = json.loads(sys.argv[2])["series"][0]
vals = [v for t, v in raw if v is not None]
assert agg["step"] == 60 and len(agg["points"]) == 1, agg
t, avg = agg["points"][0]
assert t == int(sys.argv[3]), (t, sys.argv[3])
assert agg["min"][0] == min(vals), (agg["min"][0], min(vals))
assert agg["max"][0] == max(vals), (agg["max"][0], max(vals))
want = sum(vals) / len(vals)
assert abs(avg - want) <= 1e-9 * max(1, abs(want)), (avg, want)
print("bucket of", len(vals), "points: ok")
' "$raw" "$agg" "$m"
	# The raw tier itself lost its oldest points: nothing older than the
	# retention, one raw block (at most 24 s at 0.2 s) and a flush.
	oldest=$(body_of "$(hist "series=node:cpu_usage&from=-3m&step=1")" |
		jq '[.series[0].points[] | select(.[1] != null) | .[0]] | min')
	[ "$oldest" -ge $(($(now_ms) - 75000 - 24000 - 5000)) ]
}

@test "history_max_bytes drops the oldest raw blocks first; live metrics go on" {
	own_daemon --node-interval 0.1 --history-flush 0.5 \
		--history-max-bytes 32K --log-level debug
	db=$DDIR/data/metrics.db
	first=
	for i in $(seq 1 200); do
		first=$(body_of "$(hist "series=node:cpu_usage&from=-3m")" |
			jq '.series[0].points[0][0] // empty')
		[ -n "$first" ] && break
		sleep 0.05
	done
	[ -n "$first" ]
	# Until the cap deleted closed blocks: the oldest raw point served
	# moves on while the default ages (48 h) delete nothing.
	for i in $(seq 1 1200); do
		now=$(body_of "$(hist "series=node:cpu_usage&from=-3m")" |
			jq '.series[0].points[0][0]')
		[ "$now" -gt "$first" ] && break
		sleep 0.05
	done
	[ "$now" -gt "$first" ]
	# Closed blocks are what the cap may delete: what remains of them is
	# within the cap, up to what one flush (0.5 s, at most two per read
	# here) closed since the last expiry; blocks still open are the
	# documented slack.
	for i in 1 2 3; do
		closed=$(sqlite3 -readonly "$db" \
			'SELECT coalesce(sum(nbytes), 0) FROM blocks WHERE open = 0')
		[ "$closed" -le $((32 * 1024 + 16 * 1024)) ]
	done
	# The finest tier goes first: no 1-minute or 1-hour block was deleted
	# (none closed yet in a few minutes) while raw ones were.
	run sqlite3 -readonly "$db" 'SELECT count(*) FROM blocks WHERE tier > 0 AND open = 0'
	assert_output 0
	# Live metrics and the history go on.
	t1=$(body_of "$(sock GET /api/nodes/local)" | jq -r .timestamp)
	for i in $(seq 1 100); do
		t2=$(body_of "$(sock GET /api/nodes/local)" | jq -r .timestamp)
		[ "$t2" != "$t1" ] && break
		sleep 0.05
	done
	[ "$t2" != "$t1" ]
	last=$(body_of "$(hist "series=node:cpu_usage&from=-1m")" | jq '.series[0].points[-1][0]')
	[ "$last" -gt $(($(now_ms) - 5000)) ]
}

@test "VM names holding ':' resolve: the field is the last part" {
	cat >"$BATS_TEST_TMPDIR/node.xml" <<'XML'
<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
  <cpu><mode>fixed</mode><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active><mhz>2000</mhz><model>x86_64</model></cpu>
  <memory>8388608</memory>
  <domain type='test'>
    <name>db:1</name>
    <memory unit='MiB'>256</memory>
    <vcpu>1</vcpu>
    <os><type>hvm</type></os>
    <test:runstate>1</test:runstate>
  </domain>
  <domain type='test'>
    <name>db</name>
    <memory unit='MiB'>256</memory>
    <vcpu>1</vcpu>
    <os><type>hvm</type></os>
    <test:runstate>1</test:runstate>
  </domain>
  <domain type='test'>
    <name>a:b:c</name>
    <memory unit='MiB'>256</memory>
    <vcpu>2</vcpu>
    <os><type>hvm</type></os>
    <test:runstate>1</test:runstate>
  </domain>
</node>
XML
	own_daemon --libvirt-uri "test://$BATS_TEST_TMPDIR/node.xml" \
		--vm-interval 0.2 --history-flush 1
	wait_vms
	for i in $(seq 1 200); do
		out=$(hist "series=vm:db:1:cpu_usage&from=-5m")
		[ "$(status_of "$out")" = 200 ] &&
			[ "$(body_of "$out" | jq '.series[0].points | length')" -ge 2 ] && break
		sleep 0.05
	done
	assert_equal "$(body_of "$out" | jq -c '[.series[].name]')" '["vm:db:1:cpu_usage"]'
	out=$(hist "series=vm:a:b:c:vcpus&from=-5m")
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.series[0].name == "vm:a:b:c:vcpus" and
		([.series[0].points[][1] | select(. != null)] | length > 0 and all(. == 2))'
	# A glob's '*' in the name part runs over ':'.
	out=$(hist "series=vm:*:cpu_usage&from=-5m")
	assert_equal "$(body_of "$out" | jq -c '[.series[].name]')" \
		'["vm:a:b:c:cpu_usage","vm:db:1:cpu_usage","vm:db:cpu_usage"]'
	out=$(hist "series=vm:db*:cpu_usage&from=-5m")
	assert_equal "$(body_of "$out" | jq -c '[.series[].name]')" \
		'["vm:db:1:cpu_usage","vm:db:cpu_usage"]'
	out=$(hist "series=vm:*:1:cpu_usage&from=-5m")
	assert_equal "$(body_of "$out" | jq -c '[.series[].name]')" '["vm:db:1:cpu_usage"]'
	# "db" is its own VM, not a prefix of "db:1".
	out=$(hist "series=vm:db:cpu_usage&from=-5m")
	assert_equal "$(body_of "$out" | jq -c '[.series[].name]')" '["vm:db:cpu_usage"]'
	out=$(hist "series=vm:db:1:no_such_field&from=-5m")
	assert_equal "$(status_of "$out")" 404
	# The series list names them the same way.
	body_of "$(sock GET /api/metrics/series)" | jq -e '[.series[].name] |
		index("vm:db:1:cpu_usage") != null and index("vm:a:b:c:vcpus") != null'
}

@test "a long series list (about 1,000 bytes) is read whole" {
	own_daemon --node-interval 0.2
	list=node:cpu_usage
	for i in $(seq 1 40); do
		list="$list,node:no_such_series_$i"
	done
	[ "${#list}" -gt 900 ]
	for i in $(seq 1 200); do
		out=$(hist "series=$list&from=-5m")
		[ "$(status_of "$out")" = 200 ] && break
		sleep 0.05
	done
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -c '[.series[].name]')" '["node:cpu_usage"]'
}
