#!/usr/bin/env bats
# The metrics history (DESIGN §8) end to end: samples reach
# GET /api/metrics/history before any flush, survive a SIGTERM restart
# and a kill -9 (losing at most the last flush interval), come back as
# JSON (jq) and CSV (Python's csv module), by name and by glob, filtered
# per VM for a scoped user; the 400/404/422 answers; history = off; and
# a full disk (a small tmpfs as the data directory) stopping history
# with a log line and a Notification while live metrics go on.
#
# One daemon on the demo node serves the read-only tests; the tests of
# restarts, off and full disk start their own. Nothing sleeps blindly:
# every wait polls the API, the log or a client's output.

load helpers/common
load helpers/api

NODE="test://$HX_REPO/share/demo-node.xml"

setup_file() {
	DDIR=$BATS_FILE_TMPDIR/hx
	start_daemon --libvirt-uri "$NODE" --node-interval 0.2 \
		--vm-interval 0.3 --history-flush 1 || return 1
	export HXD_PID PORT SOCK DDIR HXD_LOG URL
	wait_vms
}

teardown_file() {
	stop_daemon
}

teardown() {
	if [ -n "${OWN_PID:-}" ]; then
		HXD_PID=$OWN_PID
		stop_daemon
	fi
	if [ -n "${OWN_MOUNT:-}" ]; then
		umount "$OWN_MOUNT" || :
	fi
}



# own_daemon ARGS...: a daemon of the test's own (stopped in teardown).
own_daemon() {
	DDIR=${OWN_DDIR:-$BATS_TEST_TMPDIR/own}
	start_daemon "$@" || return 1
	OWN_PID=$HXD_PID
}

# flushes: how many "history flushed" lines the log holds.
flushes() {
	grep -c 'history flushed' "$HXD_LOG" || :
}

@test "points are served before any flush and survive a SIGTERM restart" {
	own_daemon --node-interval 0.2 --history-flush 3600 --log-level debug
	body=$(wait_points "series=node:cpu_usage&from=-5m" 5)
	before=$(jq -c '.series[0].points' <<<"$body")
	# Served from memory: nothing was flushed yet.
	[ "$(flushes)" -eq 0 ]
	kill -TERM "$OWN_PID"
	wait "$OWN_PID"
	OWN_PID=
	grep -q 'history flushed' "$HXD_LOG"
	own_daemon --node-interval 0.2 --history-flush 3600 --log-level debug
	after=$(body_of "$(hist "series=node:cpu_usage&from=-5m")" |
		jq -c --argjson b "$before" \
		'[.series[0].points[] | select(.[0] <= ($b | last | .[0]))]')
	assert_equal "$after" "$before"
}

@test "kill -9 loses at most the last flush interval, never a flushed point" {
	own_daemon --node-interval 0.2 --history-flush 1 --log-level debug
	wait_points "series=node:cpu_usage&from=-5m" 5 >/dev/null
	# A flush that started after the points we keep: wait for a new one.
	n=$(flushes)
	body=$(hist "series=node:cpu_usage&from=-5m")
	for i in $(seq 1 200); do
		[ "$(flushes)" -gt "$((n + 1))" ] && break
		sleep 0.05
	done
	[ "$(flushes)" -gt "$((n + 1))" ]
	kill -KILL "$OWN_PID"
	wait "$OWN_PID" || :
	OWN_PID=
	before=$(body_of "$body" | jq -c '.series[0].points')
	own_daemon --node-interval 0.2 --history-flush 1 --log-level debug
	after=$(body_of "$(hist "series=node:cpu_usage&from=-5m")" |
		jq -c --argjson b "$before" \
		'[.series[0].points[] | select(.[0] <= ($b | last | .[0]))]')
	# Every point served before the last two flushes is there, as it was.
	assert_equal "$after" "$before"
}

@test "JSON: names, units, steps and points, raw and bucketed (jq)" {
	body=$(wait_points "series=node:cpu_usage,node:memory_usage&from=-5m" 10)
	jq -e '.series | length == 2' <<<"$body"
	jq -e '.series[0] | .name == "node:cpu_usage" and .unit == "percent" and
		.step == 0.2 and (has("min") | not)' <<<"$body"
	jq -e '[.series[].points[] | (.[0] | type == "number") and
		(.[1] == null or (.[1] >= 0 and .[1] <= 100))] | all' <<<"$body"
	jq -e '.series[0].points | map(.[0]) | . == sort and (unique | length) == length' <<<"$body"
	# step=60: 1-minute buckets with min <= avg <= max.
	agg=$(body_of "$(hist "series=node:memory_usage&from=-10m&step=60")")
	jq -e '.series[0] | .step == 60 and (.min | length) == (.points | length) and
		(.points | length) > 0 and
		([range(0; .points | length) as $i | .min[$i] <= .points[$i][1] and
		  .points[$i][1] <= .max[$i]] | all)' <<<"$agg"
	# step=2 over a finished window: each bucket's avg, min and max are
	# those of the raw points in it.
	now=$(date +%s%3N)
	to=$(( (now - 1000) / 2000 * 2000 - 1 ))
	from=$(( to + 1 - 20000 ))
	rfc() { date -u -d "@$(($1 / 1000)).$(printf %03d $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ; }
	range="from=$(rfc $from)&to=$(rfc $to)"
	raw=$(body_of "$(hist "series=node:cpu_usage&$range")")
	agg=$(body_of "$(hist "series=node:cpu_usage&$range&step=2")")
	jq -e -n --argjson r "$raw" --argjson a "$agg" '
		($r.series[0].points | map(select(.[1] != null)) |
		 group_by(.[0] / 2000 | floor)) as $g |
		$a.series[0] as $s |
		($s.points | length) == ($g | length) and
		([range(0; $s.points | length) as $i |
		  ($g[] | select(.[0][0] / 2000 | floor == $s.points[$i][0] / 2000)) as $b |
		  ((($b | map(.[1]) | add / length) - $s.points[$i][1]) | fabs) < 1e-6 and
		  ($b | map(.[1]) | min) == $s.min[$i] and
		  ($b | map(.[1]) | max) == $s.max[$i]] | all)'
}

@test "CSV: a header and one row per time, read by Python's csv module" {
	wait_points "series=node:cpu_usage&from=-5m" 5 >/dev/null
	# One finished window for both answers, so they hold the same points.
	to=$(date -u -d @$(($(date +%s) - 1)) +%Y-%m-%dT%H:%M:%SZ)
	range="from=-5m&to=$to"
	out=$(hist "series=node:cpu_usage,node:load_average:*&$range&format=csv")
	assert_equal "$(status_of "$out")" 200
	body_of "$out" >"$BATS_TEST_TMPDIR/h.csv"
	json=$(body_of "$(hist "series=node:cpu_usage,node:load_average:*&$range")")
	run $PY -c '
import csv, json, sys, datetime
rows = [r for r in csv.reader(open(sys.argv[1], newline="")) if r]
want = json.loads(sys.argv[2])["series"]
assert rows[0] == ["timestamp"] + [s["name"] for s in want], rows[0]
ts = [datetime.datetime.fromisoformat(r[0].replace("Z", "+00:00")) for r in rows[1:]]
assert ts == sorted(ts) and len(set(ts)) == len(ts)
cpu = {int(t.timestamp() * 1000): r[1] for t, r in zip(ts, rows[1:])}
assert len(cpu) == len(want[0]["points"]), (len(cpu), len(want[0]["points"]))
for t, v in want[0]["points"]:
    assert cpu[t] == ("" if v is None else cpu[t]), t
    if v is not None:
        assert float(cpu[t]) == v, (t, cpu[t], v)
print(len(rows) - 1)
' "$BATS_TEST_TMPDIR/h.csv" "$json"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$output" -ge 5 ]
	assert_equal "$(head -1 "$BATS_TEST_TMPDIR/h.csv" | tr -d '\r')" \
		"timestamp,node:cpu_usage,node:load_average:1,node:load_average:15,node:load_average:5"
}

@test "globs and the series list: VMs by name, node series by field" {
	wait_points "series=vm:web-1:cpu_usage&from=-5m" 2 >/dev/null
	wait_points "series=vm:web-2:cpu_usage&from=-5m" 2 >/dev/null
	out=$(hist "series=vm:web-*:cpu_usage&from=-5m")
	assert_equal "$(body_of "$out" | jq -c '[.series[].name]')" \
		'["vm:web-1:cpu_usage","vm:web-2:cpu_usage"]'
	body_of "$out" | jq -e '.series[0].step == 0.3'
	# A series named twice (by name and by a glob) comes once.
	out=$(hist "series=node:cpu_usage,node:*,vm:web-1:cpu_usage,vm:*:cpu_usage&from=-5m")
	body_of "$out" | jq -e '[.series[].name] | (unique | length) == length and
		(map(select(. == "node:cpu_usage" or . == "vm:web-1:cpu_usage")) | length) == 2'
	# Every VM that is sampled, and no other.
	active=$(body_of "$(sock GET /api/vms)" | jq -c '[.[] | select(.state == "running" or .state == "paused" or .state == "blocked") | .id] | sort')
	got=$(body_of "$(hist "series=vm:*:memory_max_bytes&from=-5m")" |
		jq -c '[.series[].name | split(":")[1]] | sort')
	assert_equal "$got" "$active"
	out=$(sock GET /api/metrics/series)
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.series as $s |
		($s | map(.name) | . == sort) and
		($s[] | select(.name == "node:cpu_usage") | .unit == "percent" and .kind == "gauge") and
		($s[] | select(.name == "node:network_rx_bps") | .kind == "rate") and
		($s[] | select(.name == "vm:web-1:disk_read") | .kind == "counter") and
		($s[] | select(.name == "node:disk:/:usage") | .unit == "percent") and
		($s | map(select(.name | test("^vm:[0-9a-f]{8}-"))) | length == 0)'
}

@test "a VM-scoped user reads web-1's series only; the rest is unknown" {
	sock POST /api/users '{"username":"hilda","password":"hilda-pass-1"}' >/dev/null
	assert_equal "$(status_of "$(sock PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"hilda"}')")" 200
	key=$(body_of "$(sock POST /api/users/hilda/api-keys '{"name":"k"}')" | jq -r .token)
	api() { curl -s "$URL$1" -H "X-API-Key: $key" -w '\n%{http_code}'; }
	wait_points "series=vm:web-2:cpu_usage&from=-5m" 2 >/dev/null
	out=$(api "/api/metrics/series")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -c '[.series[].name | split(":")[0:2] | join(":")] | unique')" '["vm:web-1"]'
	out=$(api "/api/metrics/history?series=vm:*:cpu_usage,node:*&from=-5m")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -c '[.series[].name]')" '["vm:web-1:cpu_usage"]'
	out=$(api "/api/metrics/history?series=vm:web-1:cpu_usage,vm:web-2:cpu_usage&from=-5m")
	assert_equal "$(body_of "$out" | jq -c '[.series[].name]')" '["vm:web-1:cpu_usage"]'
	# Named but not readable: as unknown as a series that does not exist.
	for s in vm:web-2:cpu_usage node:cpu_usage vm:no-such-vm:cpu_usage; do
		out=$(api "/api/metrics/history?series=$s&from=-5m")
		assert_equal "$(status_of "$out")" 404
		body_of "$out" | jq -e '.error == "NOT_FOUND"'
	done
	# Root reads web-2 and the node, so they exist.
	assert_equal "$(status_of "$(hist "series=vm:web-2:cpu_usage&from=-5m")")" 200
	assert_equal "$(status_of "$(hist "series=node:cpu_usage&from=-5m")")" 200
}

@test "bad patterns answer 400, nothing found 404, bad ranges and too many points 422" {
	for q in "" "series=" "series=cpu_usage" "series=vm:web-1" \
		"series=node:cpu_usage,,node:memory_usage" "series=node:cpu_usage," \
		"series=node:" "series=disk:*" "series=node:cpu%01usage"; do
		out=$(hist "$q")
		assert_equal "$q: $(status_of "$out")" "$q: 400"
		body_of "$out" | jq -e '.error == "BAD_REQUEST"'
	done
	for q in "series=node:no_such_field" "series=vm:*:no_such_field" \
		"series=node:cpu_usage&from=1990-01-01T00:00:00Z&to=1990-01-02T00:00:00Z"; do
		out=$(hist "$q")
		if [[ $q == *1990* ]]; then
			# A range with no points is not unknown: the series exists.
			assert_equal "$(status_of "$out")" 200
			body_of "$out" | jq -e '.series[0].points == []'
			continue
		fi
		assert_equal "$q: $(status_of "$out")" "$q: 404"
	done
	for q in "from=yesterday" "from=now&to=-1h" "from=-1h&to=-1h" \
		"step=0" "step=-5" "step=1.5" "format=xml" "to=2026-13-01T00:00:00Z" \
		"from=-2d&step=1" "from=-100w&step=60"; do
		out=$(hist "series=node:cpu_usage&$q")
		assert_equal "$q: $(status_of "$out")" "$q: 422"
		body_of "$out" | jq -e '.error == "VALIDATION_ERROR"'
	done
	# The cap counts the grid over every series: node:* is 14 or more
	# series, × 3,601 points > 50,000; one series alone is well below.
	[ "$(body_of "$(hist "series=node:*&from=-5m")" | jq ".series | length")" -ge 14 ]
	out=$(hist "series=node:*&from=-1h&step=1")
	assert_equal "$(status_of "$out")" 422
	out=$(hist "series=node:cpu_usage&from=-1h&step=1")
	assert_equal "$(status_of "$out")" 200
}

@test "history = off: no metrics.db, and the API says history is off (503)" {
	own_daemon --history off
	wait_sample
	out=$(hist "series=node:cpu_usage")
	assert_equal "$(status_of "$out")" 503
	body_of "$out" | jq -e '.error == "UNAVAILABLE" and (.message | test("history"))'
	assert_equal "$(status_of "$(sock GET /api/metrics/series)")" 503
	[ ! -e "$DDIR/data/metrics.db" ]
	# Live metrics are unaffected.
	assert_equal "$(status_of "$(sock GET /api/nodes/local)")" 200
}

@test "metrics.db is 0600 in the data directory" {
	run stat -c %a "$DDIR/data/metrics.db"
	assert_output 600
}

@test "a full disk stops history with a log line and a Notification; live metrics go on" {
	OWN_MOUNT=$BATS_TEST_TMPDIR/small
	mkdir -p "$OWN_MOUNT"
	if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$OWN_MOUNT" 2>/dev/null; then
		OWN_MOUNT=
		skip "cannot mount a tmpfs here (not root?)"
	fi
	OWN_DDIR=$OWN_MOUNT own_daemon --node-interval 0.1 --history-flush 0.2
	wait_points "series=node:cpu_usage&from=-1m" 3 >/dev/null
	ws=$BATS_TEST_TMPDIR/ws
	"$WSC" --url "unix:$SOCK" --timeout 60 \
		--send '{"topics":["notifications"]}' >"$ws" 3>&- &
	c=$!
	wait_subscribed "$ws"
	# Fill the file system: what metrics.db needs next is not there.
	dd if=/dev/zero of="$OWN_MOUNT/filler" bs=64k 2>/dev/null || :
	for i in $(seq 1 600); do
		grep -q 'history stopped' "$HXD_LOG" && break
		sleep 0.05
	done
	grep 'history stopped' "$HXD_LOG"
	for i in $(seq 1 100); do
		grep -q 'History stopped' "$ws" && break
		sleep 0.05
	done
	kill_clients "$c"
	jq -e 'select(.frame.type == "Notification" and .frame.data.title == "History stopped") |
		.frame.data.level == "error"' "$ws"
	# Live metrics go on: a newer host sample than before.
	t1=$(body_of "$(sock GET /api/nodes/local)" | jq -r .timestamp)
	for i in $(seq 1 100); do
		t2=$(body_of "$(sock GET /api/nodes/local)" | jq -r .timestamp)
		[ "$t2" != "$t1" ] && break
		sleep 0.05
	done
	[ "$t2" != "$t1" ]
	# The API still answers from what is there.
	assert_equal "$(status_of "$(hist "series=node:cpu_usage&from=-1m")")" 200
	rm -f "$OWN_MOUNT/filler"
}
