#!/usr/bin/env bats
# Alerts (DESIGN §9) end to end: the shipped rules, rule CRUD and every
# 422 naming its field; a real stress-ng load driving node:cpu_usage over
# a rule's threshold, AlertTriggered and AlertResolved on a WebSocket
# subscriber, the alert in GET /api/alerts and acknowledged; a restart
# while an alert fires, with history off (restored with its alert_id, no
# second AlertTriggered); a VmUser scoped to one VM seeing only that VM's
# alerts on the WebSocket and REST; backtests over the stored history
# finding the episodes the subscribers saw.
#
# One daemon on the demo node serves the tests; the restart test starts
# its own. Nothing sleeps blindly: every wait polls a client's output or
# the API. Orders are proven with barriers: an event the daemon can only
# send after the one we check the absence of.

load helpers/common
load helpers/api

NODE="test://$HX_REPO/share/demo-node.xml"

setup_file() {
	DDIR=$BATS_FILE_TMPDIR/hx
	start_daemon --libvirt-uri "$NODE" --node-interval 0.2 \
		--vm-interval 0.3 || return 1
	export HXD_PID PORT SOCK DDIR HXD_LOG URL
	wait_vms
}

teardown_file() {
	stop_daemon
}

teardown() {
	[ -z "${STRESS_PID:-}" ] || kill "$STRESS_PID" 2>/dev/null || :
	[ -z "${WS_PIDS:-}" ] || kill_clients $WS_PIDS
	WS_PIDS=
	if [ -n "${OWN_PID:-}" ]; then
		HXD_PID=$OWN_PID
		stop_daemon
	fi
}

# subscribe FILE [WSCLIENT ARGS...]: a background alerts subscriber
# (root@local on the Unix socket unless ARGS name another) writing FILE.
subscribe() {
	local f=$1
	shift
	[ $# -gt 0 ] || set -- --url "unix:$SOCK"
	"$WSC" "$@" --timeout 120 --send '{"topics":["alerts"]}' >"$f" &
	WS_PIDS="${WS_PIDS:-} $!"
	wait_subscribed "$f"
}

# wait_event FILE TYPE JQ-FILTER [SECONDS]: until FILE holds a TYPE
# frame whose data passes the filter; prints the first such data.
wait_event() {
	local i n=$((${4:-20} * 20)) d
	for ((i = 0; i < n; i++)); do
		d=$(frames "$1" "$2" | jq -c "select($3)" | head -1)
		if [ -n "$d" ]; then
			printf '%s\n' "$d"
			return 0
		fi
		sleep 0.05
	done
	echo "no $2 with $3 in $1:" >&2
	cat "$1" >&2
	return 1
}

# rule_add JSON: POST it; fails unless 201.
rule_add() {
	local out
	out=$(sock POST /api/alerts/rules "$1")
	[ "$(status_of "$out")" = 201 ] || {
		echo "$out" >&2
		return 1
	}
}

@test "the shipped rules, rule CRUD, 409 and 404" {
	out=$(sock GET /api/alerts/rules)
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -c '[.rules[].name]')" \
		'["node-cpu","node-disk","node-memory","vm-crashed"]'
	body_of "$out" | jq -e '.rules[] | select(.name == "node-cpu") |
		.series == "node:cpu_usage" and .op == ">" and .threshold == 90
		and .clear_threshold == 85 and .for_seconds == 300'
	body_of "$out" | jq -e '.rules[] | select(.name == "vm-crashed") |
		.status_of == "vm:*" and .equals == "crashed"'

	r='{"name":"crud","series":"vm:web-*:cpu_usage","op":">=","threshold":80,"clear_threshold":70,"for_seconds":30,"severity":"critical","notify":["ops"]}'
	out=$(sock POST /api/alerts/rules "$r")
	assert_equal "$(status_of "$out")" 201
	out=$(sock GET /api/alerts/rules/crud)
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.threshold == 80 and .clear_threshold == 70 and
		.severity == "critical" and .notify == ["ops"] and .enabled and
		.silence_until == null'
	assert_equal "$(status_of "$(sock POST /api/alerts/rules "$r")")" 409
	out=$(sock PUT /api/alerts/rules/crud '{"series":"vm:web-*:cpu_usage","op":">","threshold":85,"silence_until":"2030-01-01T00:00:00Z"}')
	assert_equal "$(status_of "$out")" 200
	out=$(sock GET /api/alerts/rules/crud)
	body_of "$out" | jq -e '.op == ">" and .threshold == 85 and
		.clear_threshold == null and .severity == "warning" and
		.silence_until == "2030-01-01T00:00:00.000Z"'
	assert_equal "$(status_of "$(sock DELETE /api/alerts/rules/crud)")" 204
	assert_equal "$(status_of "$(sock GET /api/alerts/rules/crud)")" 404
	assert_equal "$(status_of "$(sock DELETE /api/alerts/rules/crud)")" 404
	assert_equal "$(status_of "$(sock PUT /api/alerts/rules/crud "$r")")" 404
	# The shipped rules are editable and deletable like any other.
	out=$(sock PUT /api/alerts/rules/node-disk '{"series":"node:disk_usage","op":">","threshold":95}')
	assert_equal "$(status_of "$out")" 200
	# Every change is in the audit log, by whom, newest first.
	out=$(sock GET '/api/audit?limit=1000')
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -r '[.[] |
		select(.action | startswith("alert.rule.")) |
		.action + " " + .target + " " + .actor] | join(",")')" \
		"alert.rule.modify node-disk root@local,alert.rule.delete crud root@local,alert.rule.modify crud root@local,alert.rule.add crud root@local"
}

# sample_ms: the newest host sample's time (epoch ms).
sample_ms() {
	date -d "$(sock GET /api/nodes/local | sed '$d' | jq -r .timestamp)" +%s%3N
}

# ticks_of TID: utime + stime of the daemon's thread TID, in clock ticks.
ticks_of() {
	awk '{ print $14 + $15 }' "/proc/$HXD_PID/task/$1/stat"
}

@test "the alert thread sleeps while there is nothing to do (no busy wait)" {
	local f tid t0 t1 w0 w1 ts0 ts i hz
	for f in /proc/"$HXD_PID"/task/*/comm; do
		[ "$(cat "$f")" = hx-alert ] && tid=$(basename "$(dirname "$f")")
	done
	[ -n "${tid:-}" ] || { echo "no hx-alert thread"; false; }
	hz=$(getconf CLK_TCK)
	t0=$(ticks_of "$tid")
	w0=$(date +%s%N)
	# The window: ten host samples (0.2 s apart), waited for as state.
	ts0=$(sample_ms)
	for i in $(seq 1 200); do
		ts=$(sample_ms)
		((ts - ts0 >= 2000)) && break
		sleep 0.05
	done
	((ts - ts0 >= 2000))
	t1=$(ticks_of "$tid")
	w1=$(date +%s%N)
	# Evaluating ten samples takes a few ms; a thread that spins takes
	# all of a core. Under a quarter of the window holds either way.
	echo "hx-alert: $((t1 - t0)) ticks of $hz/s over $(((w1 - w0) / 1000000)) ms"
	(((t1 - t0) * 1000 * 4 < hz * (w1 - w0) / 1000000))
}

@test "a bad rule answers 422 naming the field" {
	while IFS='|' read -r field body; do
		[ -n "$field" ] || continue
		out=$(sock POST /api/alerts/rules "$body")
		assert_equal "$(status_of "$out")" 422
		body_of "$out" | jq -e --arg f "$field" \
			'.error == "VALIDATION_ERROR" and .field == $f'
	done <<'EOF'
series|{"name":"x","series":"node:no_such_field","op":">","threshold":1}
series|{"name":"x","series":"vm:*:no_such_field","op":">","threshold":1}
series|{"name":"x","series":"cpu_usage","op":">","threshold":1}
op|{"name":"x","series":"node:cpu_usage","op":"!=","threshold":1}
for_seconds|{"name":"x","series":"node:cpu_usage","op":">","threshold":1,"for_seconds":-5}
clear_threshold|{"name":"x","series":"node:cpu_usage","op":">","threshold":50,"clear_threshold":60}
clear_threshold|{"name":"x","series":"node:cpu_usage","op":"<=","threshold":50,"clear_threshold":40}
severity|{"name":"x","series":"node:cpu_usage","op":">","threshold":1,"severity":"dire"}
threshold|{"name":"x","series":"node:cpu_usage","op":">"}
name|{"name":"a b","series":"node:cpu_usage","op":">","threshold":1}
notify|{"name":"x","series":"node:cpu_usage","op":">","threshold":1,"notify":["no spaces"]}
equals|{"name":"x","status_of":"vm:*","equals":"on fire"}
EOF
	# Nothing was stored.
	assert_equal "$(status_of "$(sock GET /api/alerts/rules/x)")" 404
	# A series glob is checked against the fields, not the VMs there are.
	rule_add '{"name":"novm","series":"vm:no-such-vm:cpu_usage","op":">","threshold":1}'
	sock DELETE /api/alerts/rules/novm >/dev/null
}

@test "stress-ng drives node:cpu_usage over a rule: triggered, listed, acked, resolved" {
	local i v n=0 base=100 thr clr
	# The host's load without ours (the lowest of ten samples; other
	# work may come and go): the threshold sits halfway between it and
	# 100 %. Another load crossing it first is a legitimate trigger too.
	local ts last=
	for i in $(seq 1 400); do
		read -r ts v < <(body_of "$(sock GET /api/nodes/local)" |
			jq -r '"\(.timestamp) \(.cpu_usage | floor)"')
		if [ "$ts" != "$last" ]; then
			((v < base)) && base=$v
			last=$ts
			((++n >= 10)) && break
		fi
		sleep 0.05
	done
	((base < 80)) || skip "the host is too busy (cpu_usage $base %) to see our load"
	thr=$(((base + 100) / 2))
	clr=$(((base + thr) / 2))
	out=$BATS_TEST_TMPDIR/ws
	subscribe "$out"
	rule_add "{\"name\":\"load\",\"series\":\"node:cpu_usage\",\"op\":\">\",\"threshold\":$thr,\"clear_threshold\":$clr,\"severity\":\"critical\"}"
	stress-ng --cpu "$(nproc)" --timeout 120 >/dev/null 2>&1 &
	STRESS_PID=$!
	trig=$(wait_event "$out" AlertTriggered '.rule_name == "load"' 60)
	id=$(jq -r .alert_id <<<"$trig")
	jq -e --argjson t "$thr" --arg h "node:$(hostname)" '.value > $t and
		.threshold == $t and .severity == "critical" and .target == $h and
		(.seq | type) == "number" and (.message | test("node:cpu_usage"))' <<<"$trig"

	out2=$(sock GET /api/alerts)
	assert_equal "$(status_of "$out2")" 200
	body_of "$out2" | jq -e --arg id "$id" '[.alerts[] | select(.alert_id == $id)] |
		length == 1 and .[0].state == "firing" and .[0].rule_name == "load" and
		.[0].resolved_at == null and .[0].acked_by == null'
	out2=$(sock POST "/api/alerts/$id/ack" '{"comment":"stress test, expected"}')
	assert_equal "$(status_of "$out2")" 200
	body_of "$out2" | jq -e '.acked_by == "root@local" and
		.comment == "stress test, expected" and (.acked_at | type) == "string"'
	sock GET '/api/audit?action=alert.ack' | sed '$d' |
		jq -e --arg id "$id" '.[0].target == $id and .[0].actor == "root@local"'
	body_of "$(sock GET /api/alerts)" | jq -e --arg id "$id" '.alerts[] |
		select(.alert_id == $id) | .acked_by == "root@local" and
		.comment == "stress test, expected"'

	kill "$STRESS_PID"
	wait "$STRESS_PID" || :
	STRESS_PID=
	res=$(wait_event "$out" AlertResolved ".alert_id == \"$id\"" 60)
	jq -e --argjson s "$(jq .seq <<<"$trig")" '.rule_name == "load" and
		.seq > $s' <<<"$res"
	body_of "$(sock GET '/api/alerts?state=resolved')" | jq -e --arg id "$id" \
		'.alerts[] | select(.alert_id == $id) | .state == "resolved" and
		(.resolved_at | type) == "string" and .peak > .threshold'
	assert_equal "$(body_of "$(sock GET /api/alerts)" | jq --arg id "$id" \
		'[.alerts[] | select(.alert_id == $id)] | length')" 0
	assert_equal "$(status_of "$(sock GET '/api/alerts?state=bogus')")" 400
	# The backtest over the stored history, the same samples, sees the
	# episode the subscriber saw: firing at its trigger (or since before,
	# had other load crossed first) and ending at its resolution.
	out2=$(sock POST /api/alerts/backtest '{"rule":"load","since":"15m"}')
	assert_equal "$(status_of "$out2")" 200
	body_of "$out2" | jq -e --arg t "$(jq -r .timestamp <<<"$trig")" \
		--arg r "$(jq -r .timestamp <<<"$res")" --arg h "node:$(hostname)" \
		'.tier == "raw" and ([.episodes[] | select(.target == $h and
		.start <= $t and .end == $r)] | length == 1)'
	sock DELETE /api/alerts/rules/load >/dev/null
}

@test "a restart while firing: the same alert_id, firing, no second AlertTriggered" {
	# history = off: alerts do not depend on the metrics history.
	DDIR=$BATS_TEST_TMPDIR/own
	start_daemon --node-interval 0.2 --log-level debug --history off
	OWN_PID=$HXD_PID
	out=$BATS_TEST_TMPDIR/ws1
	subscribe "$out"
	rule_add '{"name":"always","series":"node:memory_usage","op":">=","threshold":0}'
	id=$(wait_event "$out" AlertTriggered '.rule_name == "always"' | jq -r .alert_id)
	kill_clients $WS_PIDS
	WS_PIDS=
	stop_daemon
	OWN_PID=

	start_daemon --node-interval 0.2 --log-level debug --history off
	OWN_PID=$HXD_PID
	grep -q "alert $id restored" "$HXD_LOG"
	out=$BATS_TEST_TMPDIR/ws2
	subscribe "$out"
	body_of "$(sock GET /api/alerts)" | jq -e --arg id "$id" \
		'[.alerts[] | select(.rule_name == "always")] | length == 1 and
		.[0].alert_id == $id and .[0].state == "firing"'
	# Barrier: a rule made now fires on a later sample than any the
	# restored one saw first; by its event, a second one would be here.
	rule_add '{"name":"barrier","series":"node:memory_usage","op":">=","threshold":0,"severity":"info"}'
	wait_event "$out" AlertTriggered '.rule_name == "barrier"' >/dev/null
	assert_equal "$(frames "$out" AlertTriggered | jq -c 'select(.rule_name == "always")')" ""
	assert_equal "$(body_of "$(sock GET /api/alerts)" | jq '[.alerts[] | select(.rule_name == "always")] | length')" 1
	# No history, no backtest: said as the history routes say it.
	assert_equal "$(status_of "$(sock POST /api/alerts/backtest '{"rule":"always","since":"1h"}')")" 503
	# Deleting the rule ends its episode, with the same id.
	assert_equal "$(status_of "$(sock DELETE /api/alerts/rules/always)")" 204
	wait_event "$out" AlertResolved ".alert_id == \"$id\"" >/dev/null
}

@test "a VmUser scoped to web-1 sees web-1's alerts only, on the WebSocket and REST" {
	sock POST /api/users '{"username":"vera","password":"vera-pass-1"}' >/dev/null
	assert_equal "$(status_of "$(sock PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"vera"}')")" 200
	key=$(body_of "$(sock POST /api/users/vera/api-keys '{"name":"k"}')" | jq -r .token)
	api() { curl -s "$URL$1" -H "X-API-Key: $key" -H 'Content-Type: application/json' \
		${3:+-d "$3"} -X "${2:-GET}" -w '\n%{http_code}'; }
	mine=$BATS_TEST_TMPDIR/vera
	all=$BATS_TEST_TMPDIR/root
	subscribe "$mine" --url "ws://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $key"
	subscribe "$all"
	# Certainly crossed: every running VM's memory_usage is >= 0.
	rule_add '{"name":"vmmem","series":"vm:*:memory_usage","op":">=","threshold":0}'
	rule_add '{"name":"nodemem","series":"node:memory_usage","op":">=","threshold":0}'
	w2=$(wait_event "$all" AlertTriggered '.rule_name == "vmmem" and .target == "vm:web-2"')
	wait_event "$all" AlertTriggered '.rule_name == "vmmem" and .target == "vm:web-1"' >/dev/null
	nid=$(wait_event "$all" AlertTriggered '.rule_name == "nodemem"' | jq -r .alert_id)
	# Barrier: an alert on web-1 made after all of those were sent.
	rule_add '{"name":"barrier1","series":"vm:web-1:memory_usage","op":">=","threshold":0,"severity":"info"}'
	wait_event "$mine" AlertTriggered '.rule_name == "barrier1"' >/dev/null
	assert_equal "$(frames "$mine" AlertTriggered | jq -r .target | sort -u)" "vm:web-1"
	wait_event "$mine" AlertTriggered '.rule_name == "vmmem"' >/dev/null

	out=$(api /api/alerts)
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -r '.alerts[].target' | sort -u)" "vm:web-1"
	# Root sees them all.
	body_of "$(sock GET /api/alerts)" | jq -e '[.alerts[].target] |
		index("vm:web-2") != null and (map(startswith("node:")) | any)'
	# No oracle: another VM's alert and a node alert read as unknown.
	out=$(api "/api/alerts/$(jq -r .alert_id <<<"$w2")/ack" POST '{}')
	assert_equal "$(status_of "$out")" 404
	assert_equal "$(status_of "$(api "/api/alerts/$nid/ack" POST '{}')")" 404
	assert_equal "$(status_of "$(api /api/alerts/no-such-alert/ack POST '{}')")" 404
	# Its own VM's alert: VmUser holds VmPowerMgmt there.
	id1=$(body_of "$(api /api/alerts)" | jq -r '.alerts[] | select(.rule_name == "vmmem") | .alert_id')
	out=$(api "/api/alerts/$id1/ack" POST '{"comment":"mine"}')
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.acked_by == "vera@local" and .comment == "mine"'
	# Reading rules needs SysAudit on /, and so does a backtest.
	assert_equal "$(status_of "$(api /api/alerts/rules)")" 403
	assert_equal "$(status_of "$(api /api/alerts/backtest POST '{"rule":"vmmem","since":"1h"}')")" 403
	# The backtest finds the episode the subscribers saw on web-1, firing
	# from the first stored sample (the condition always held), still open.
	t1=$(frames "$all" AlertTriggered | jq -r 'select(.rule_name == "vmmem" and .target == "vm:web-1") | .timestamp')
	out=$(sock POST /api/alerts/backtest '{"rule":"vmmem","since":"15m"}')
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e --arg t "$t1" '[.episodes[] |
		select(.target == "vm:web-1")] | length == 1 and .[0].start <= $t and
		.[0].end == null and .[0].series == "vm:web-1:memory_usage"'
	for q in '{"rule":"no-such-rule","since":"1h"}:404' \
		'{"rule":"vm-crashed","since":"1h"}:422' \
		'{"rule":"vmmem","since":"yesterday"}:422' \
		'{"rule":{"series":"node:nope","op":">","threshold":1},"since":"1h"}:422'; do
		assert_equal "$(status_of "$(sock POST /api/alerts/backtest "${q%:*}")")" "${q##*:}"
	done
	for r in vmmem nodemem barrier1; do
		sock DELETE "/api/alerts/rules/$r" >/dev/null
	done
}
