#!/usr/bin/env bats
# horcrux-cli history against a real horcruxd on the demo node: sqlite's
# triple (no series, valid, flags), the table checked cell by cell
# against the API's JSON (times in a non-UTC local zone, values in their
# unit), -o json byte-equal to the API's answer for the same range
# (--since/--until as ages, RFC 3339, local times and epoch ms), -o csv
# equal to the API's CSV and read by Python's csv module, globs over the
# VMs, a VM-scoped key, the daemon's 400/404/422/503 as one line and
# status 1, --step 60 buckets, history --list, and the series offered by
# __complete, bash's completion function, fish and the readline shell.
#
# Nothing sleeps blindly: waits poll the API or the pane. Two answers
# compared are taken over a range that ended at a point already served,
# and retaken while the API's own answer still changes.

load helpers/common
load helpers/api
load helpers/cli
load helpers/tmux

setup_file() {
	cli_start_daemon --node-interval 0.2 --history-flush 1 || return 1
	cli_mkuser hilda || return 1
	"$CLI" acl grant /vms/web-1 VmUser hilda >/dev/null || return 1
	HILDA_KEY=$(cli_key hilda --name k) || return 1
	export HILDA_KEY
	wait_points "series=node:cpu_usage&from=-5m" 10 >/dev/null || return 1
	wait_points "series=vm:web-1:cpu_usage&from=-5m" 3 >/dev/null || return 1
	wait_points "series=vm:web-2:cpu_usage&from=-5m" 3 >/dev/null
}

teardown_file() {
	stop_daemon
}

teardown() {
	tmux -L "hxh-$$-$BATS_TEST_NUMBER" kill-server 2>/dev/null || true
}



# rfc MS: epoch milliseconds as RFC 3339 UTC with milliseconds.
rfc() {
	date -u -d "@$(($1 / 1000)).$(printf %03d $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ
}

# window SERIES: a finished range "FROM TO" (epoch ms) over the last
# two minutes, ending at the newest point the API already served.
window() {
	local last i
	for i in $(seq 1 100); do
		last=$(body_of "$(hist "series=$1&from=-2m")" |
			jq '[.series[].points[-1][0]] | min' 2>/dev/null)
		[[ $last =~ ^[0-9]+$ ]] && break
		sleep 0.05
	done
	[[ $last =~ ^[0-9]+$ ]] || { echo "no newest point for $1" >&2; return 1; }
	echo "$((last - 120000)) $last"
}

# same_as_api QUERY CLI-ARGS...: runs the CLI (into $output, $status)
# between two API answers for QUERY and asserts the CLI printed that
# answer (+ a newline), retrying while the API's answer still changed.
same_as_api() {
	local q=$1 a1 a2 i
	shift
	for i in 1 2 3 4 5; do
		a1=$(body_of "$(hist "$q")")
		run -0 "$CLI" "$@"
		a2=$(body_of "$(hist "$q")")
		[ "$a1" = "$a2" ] && break
	done
	assert_equal "$output" "$a1"
}

@test "history: no series is a usage error; valid; help names the flags" {
	run -2 --separate-stderr "$CLI" history
	assert_output ""
	assert_equal "$stderr" "horcrux-cli: 'history' needs SERIES... (or --list)
usage: horcrux-cli history SERIES... [--since TIME] [--until TIME] [--step SECONDS] [--list]"
	run -0 "$CLI" history node:cpu_usage
	assert_line --index 0 --regexp '^TIME +node:cpu_usage$'
	# The default hour is more than 2,000 raw points: 1-minute buckets.
	[ "${#lines[@]}" -ge 2 ]
	assert_line --index 1 --regexp '^[0-9-]{10} [0-9]{2}:[0-9]{2}:00  [0-9.]+%$'
	run -0 "$CLI" help history
	assert_line --regexp '^ +--since TIME +from TIME on'
	assert_line --regexp '^ +--step SECONDS +one point per SECONDS'
	assert_line --regexp '^ +--list +list the series'
	run -0 "$CLI" --help
	assert_line --regexp '^  history SERIES\.\.\. \[--since TIME\]'
}

@test "table: local times and values in their unit, cell by cell against the API's JSON" {
	read -r from to < <(window node:cpu_usage)
	q="series=node:cpu_usage,node:memory_used_bytes,node:network_rx_bps,node:uptime_seconds,node:load_average:1&from=$(rfc $from)&to=$(rfc $to)"
	json=$(body_of "$(hist "$q")")
	# A zone that is not UTC and not a whole hour from it.
	TZ=Asia/Kolkata run -0 "$CLI" history node:cpu_usage node:memory_used_bytes \
		node:network_rx_bps node:uptime_seconds node:load_average:1 \
		--since "$(rfc $from)" --until "$(rfc $to)"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/table"
	TZ=Asia/Kolkata run $PY -c '
import datetime, json, math, re, sys
want = json.loads(sys.argv[2])["series"]
rows = [re.split(r"  +", l.rstrip()) for l in open(sys.argv[1]) if l.strip()]
assert rows[0] == ["TIME"] + [s["name"] for s in want], rows[0]
def human(v, suffix=""):
    u = 0
    while v >= 1000 and u < 6:
        v /= 1024
        u += 1
    if u == 0:
        return "%.0fB%s" % (v, suffix)
    return ("%.1f%s%s" if v < 9.95 else "%.0f%s%s") % (v, "BKMGTPE"[u], suffix)
def cell(unit, v):
    if v is None:
        return "-"
    if unit == "percent":
        return "%.1f%%" % v
    if unit == "bytes":
        return human(v)
    if unit == "bytes/s":
        return human(v, "/s")
    if unit == "seconds":
        s = math.floor(v + 0.5)  # halves up, as C does; round() goes to even
        if v < 60:
            return "%.1fs" % v
        if s < 86400:
            return "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)
        return "%dd %02d:%02d" % (s // 86400, s // 3600 % 24, s // 60 % 60)
    return "%.0f" % v if v == int(v) else "%.2f" % v
times = sorted({p[0] for s in want for p in s["points"]})
assert len(times) >= 5, len(times)
assert len(rows) - 1 == len(times), (len(rows) - 1, len(times))
ms = any(t % 1000 for t in times)
for t, r in zip(times, rows[1:]):
    d = datetime.datetime.fromtimestamp(t // 1000)
    when = d.strftime("%Y-%m-%d %H:%M:%S") + (".%03d" % (t % 1000) if ms else "")
    exp = [when]
    for s in want:
        v = dict((p[0], p[1]) for p in s["points"]).get(t, "absent")
        exp.append("-" if v == "absent" else cell(s["unit"], v))
    assert r == exp, (r, exp)
print(len(times))
' "$BATS_TEST_TMPDIR/table" "$json"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" -ge 5 ]
}

@test "-o json is the API's answer for the same range; --since/--until in every form" {
	read -r from to < <(window node:cpu_usage)
	q="series=node:cpu_usage,node:memory_usage&from=$(rfc $from)&to=$(rfc $to)"
	same_as_api "$q" history node:cpu_usage node:memory_usage -o json \
		--since "$(rfc $from)" --until "$(rfc $to)"
	jq -e '.series | length == 2 and (.[0].points | length) >= 5' <<<"$output"
	# Epoch milliseconds.
	same_as_api "$q" -o json history node:cpu_usage node:memory_usage \
		--since "$from" --until "$to"
	# A local time as the table prints it (whole seconds; ms cut off).
	f=$((from / 1000 * 1000)) t=$((to / 1000 * 1000))
	q2="series=node:cpu_usage&from=$(rfc $f)&to=$(rfc $t)"
	TZ=America/St_Johns same_as_api "$q2" history node:cpu_usage -o json \
		--since "$(TZ=America/St_Johns date -d @$((f / 1000)) '+%Y-%m-%d %H:%M:%S')" \
		--until "$(TZ=America/St_Johns date -d @$((t / 1000)) '+%Y-%m-%dT%H:%M:%S')"
	[ "$(jq '.series[0].points | length' <<<"$output")" -ge 5 ]
	# An age is the API's relative time: 2m, -2m and the API's -2m
	# cover the same span (the daemon's clock), so their first points
	# lie within one sampling interval of each other.
	run -0 "$CLI" history node:cpu_usage --since 2m -o json
	a=$(jq '.series[0].points[0][0]' <<<"$output")
	run -0 "$CLI" history node:cpu_usage --since -2m --until now -o json
	b=$(jq '.series[0].points[0][0]' <<<"$output")
	c=$(body_of "$(hist "series=node:cpu_usage&from=-2m")" | jq '.series[0].points[0][0]')
	[ $((c - a)) -ge 0 ] && [ $((c - a)) -le 10000 ]
	[ $((c - b)) -ge 0 ] && [ $((c - b)) -le 10000 ]
	# Not a time: a usage error naming the flag.
	run -2 --separate-stderr "$CLI" history node:cpu_usage --until yesterday
	[[ $stderr == "horcrux-cli: --until: 'yesterday' is no time: "* ]] || fail "$stderr"
	run -2 --separate-stderr "$CLI" history node:cpu_usage --since 1y
	[[ $stderr == "horcrux-cli: --since: '1y' is no time: "* ]] || fail "$stderr"
}

@test "-o csv is the API's CSV, read by Python's csv module" {
	read -r from to < <(window node:cpu_usage)
	range="from=$(rfc $from)&to=$(rfc $to)"
	for i in 1 2 3 4 5; do
		a1=$(sock GET "/api/metrics/history?series=node:cpu_usage,node:load_average:*&$range&format=csv" | sed '$d')
		"$CLI" -o csv history node:cpu_usage 'node:load_average:*' \
			--since "$(rfc $from)" --until "$(rfc $to)" >"$BATS_TEST_TMPDIR/h.csv"
		a2=$(sock GET "/api/metrics/history?series=node:cpu_usage,node:load_average:*&$range&format=csv" | sed '$d')
		[ "$a1" = "$a2" ] && break
	done
	assert_equal "$(cat "$BATS_TEST_TMPDIR/h.csv")" "$a1"
	json=$(body_of "$(hist "series=node:cpu_usage,node:load_average:*&$range")")
	run -0 $PY -c '
import csv, datetime, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
want = json.loads(sys.argv[2])["series"]
assert rows[0] == ["timestamp", "node:cpu_usage", "node:load_average:1",
    "node:load_average:15", "node:load_average:5"], rows[0]
assert rows[0][1:] == [s["name"] for s in want]
ts = [int(datetime.datetime.fromisoformat(r[0].replace("Z", "+00:00")).timestamp() * 1000) for r in rows[1:]]
assert ts == [p[0] for p in want[0]["points"]], (ts, want[0]["points"])
for r, p in zip(rows[1:], want[0]["points"]):
    assert (r[1] == "") if p[1] is None else float(r[1]) == p[1], (r, p)
print(len(rows) - 1)
' "$BATS_TEST_TMPDIR/h.csv" "$json"
	[ "$output" -ge 5 ]
	# Lines end in CR LF as the API's do.
	[ "$(head -1 "$BATS_TEST_TMPDIR/h.csv" | od -An -c | tr -d ' \n' | tail -c 4)" = '\r\n' ]
	# csv is history's alone.
	run -2 --separate-stderr "$CLI" vm list -o csv
	assert_equal "$stderr" "horcrux-cli: 'vm list' has no csv output: use table or json
usage: horcrux-cli vm list"
	run -2 --separate-stderr "$CLI" -o csv user list
	[[ $stderr == "horcrux-cli: 'user list' has no csv output: use table or json"* ]] || fail "$stderr"
	run -2 --separate-stderr "$CLI" history node:cpu_usage -o xml
	[[ $stderr == "horcrux-cli: unknown output format 'xml': use table, json or csv"* ]] || fail "$stderr"
}

@test "globs expand to every sampled VM, in the table and the JSON" {
	active=$(body_of "$(sock GET /api/vms)" | jq -c '[.[] | select(.state == "running" or .state == "paused" or .state == "blocked") | .id] | sort')
	[ "$(jq length <<<"$active")" -ge 3 ]
	want=$(jq -c 'map("vm:" + . + ":memory_max_bytes")' <<<"$active")
	run -0 "$CLI" -o json history 'vm:*:memory_max_bytes' --since 2m
	assert_equal "$(jq -c '[.series[].name] | sort' <<<"$output")" "$want"
	run -0 "$CLI" history 'vm:*:memory_max_bytes' --since 2m
	assert_equal "$(head -1 <<<"$output" | tr -s ' ' '\n' | tail -n +2 | sort | jq -Rsc 'split("\n") | map(select(. != ""))')" "$want"
	# Bytes in the table: every cell of a row is a size or '-'.
	run -0 $PY -c '
import re, sys
rows = [re.split(r"  +", l) for l in sys.argv[1].splitlines()[1:]]
assert rows and all(re.fullmatch(r"[0-9.]+[BKMGTPE]|-", c) for r in rows for c in r[1:]), rows[:3]
assert any(c != "-" for r in rows for c in r[1:])
' "$output"
}

@test "a VM-scoped key reads web-1's series only; the rest is unknown" {
	export HORCRUX_API_KEY=$HILDA_KEY
	run -0 "$CLI" -o json history 'vm:*:cpu_usage' 'node:*' --since 2m
	assert_equal "$(jq -c '[.series[].name]' <<<"$output")" '["vm:web-1:cpu_usage"]'
	run -0 "$CLI" -o json history --list
	assert_equal "$(jq -c '[.series[].name | split(":")[0:2] | join(":")] | unique' <<<"$output")" '["vm:web-1"]'
	run -1 --separate-stderr "$CLI" history vm:web-2:cpu_usage
	assert_equal "$stderr" "horcrux-cli: cannot read the history of 'vm:web-2:cpu_usage': no such series"
	run -0 --separate-stderr "$CLI" history vm:web-1:cpu_usage node:cpu_usage --since 2m
	assert_equal "$stderr" "horcrux-cli: warning: no series 'node:cpu_usage'"
	assert_line --index 0 --regexp '^TIME +vm:web-1:cpu_usage$'
	run -0 "$CLI" __complete history ''
	refute_line --partial node:
	refute_line --partial vm:web-2
	assert_line vm:web-1:cpu_usage
	unset HORCRUX_API_KEY
}

@test "the daemon's 400, 404 and 422 are one line and status 1; 503 when history is off" {
	run -1 --separate-stderr "$CLI" history cpu_usage
	assert_output ""
	assert_equal "$stderr" "horcrux-cli: cannot read the history of 'cpu_usage': a series is a name or a glob starting node: or vm:NAME:"
	run -1 --separate-stderr "$CLI" history node:cpu_usage vm:web-1
	[[ $stderr == "horcrux-cli: cannot read the history of 'node:cpu_usage,vm:web-1': a series is"* ]] || fail "$stderr"
	run -1 --separate-stderr "$CLI" history node:no_such_field 'vm:*:no_such_field'
	assert_equal "$stderr" "horcrux-cli: cannot read the history of 'node:no_such_field,vm:*:no_such_field': no such series"
	run -1 --separate-stderr "$CLI" history node:cpu_usage --since 1h --until 2h
	assert_equal "$stderr" "horcrux-cli: cannot read the history of 'node:cpu_usage': from must be before to"
	run -1 --separate-stderr "$CLI" history 'node:*' --since 1h --step 1
	[[ $stderr == "horcrux-cli: cannot read the history of 'node:*': too many points: "* ]] || fail "$stderr"
	run -2 --separate-stderr "$CLI" history node:cpu_usage --step 1.5
	[[ $stderr == "horcrux-cli: --step: '1.5' is not a whole number of seconds or auto"* ]] || fail "$stderr"
	run -2 --separate-stderr "$CLI" history --list --since 1h
	[[ $stderr == "horcrux-cli: --list lists names: --since does not apply"* ]] || fail "$stderr"
	# A daemon with history off: 503 becomes the daemon's reason.
	local keep_sock=$SOCK keep_pid=$HXD_PID keep_ddir=$DDIR keep_log=$HXD_LOG keep_url=$URL
	DDIR=$BATS_TEST_TMPDIR/off
	start_daemon --history off
	HORCRUX_SERVER=unix:$SOCK run -1 --separate-stderr "$CLI" history node:cpu_usage
	HORCRUX_SERVER=unix:$SOCK run -1 --separate-stderr "$CLI" history --list
	l=$stderr
	stop_daemon
	SOCK=$keep_sock HXD_PID=$keep_pid DDIR=$keep_ddir HXD_LOG=$keep_log URL=$keep_url
	assert_equal "$l" "horcrux-cli: cannot list the history's series: the metrics history is off (history = off)"
}

@test "--step: 60 gives one row a minute with min and max; 2 the API's buckets exactly" {
	read -r from to < <(window node:memory_usage)
	[[ $to =~ ^[0-9]+$ ]] || fail "no window: $from $to"
	run -0 "$CLI" history node:memory_usage --step 60 -o json --since 10m
	jq -e '.series[0] | .step == 60 and (.points | length) >= 1 and
		(.min | length) == (.points | length) and (.max | length) == (.points | length) and
		([.points[][0] % 60000 == 0] | all)' <<<"$output"
	run -0 "$CLI" history node:memory_usage --step 60 --since 10m
	json=$(body_of "$(hist "series=node:memory_usage&from=-10m&step=60")")
	# The open minute's average moves; its start does not.
	assert_equal "$((${#lines[@]} - 1))" "$(jq '.series[0].points | length' <<<"$json")"
	for l in "${lines[@]:1}"; do
		[[ $l =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:00\ +([0-9.]+%|-)$ ]] || fail "$l"
	done
	# Closed 2-second buckets do not move: the API's answer exactly.
	to=$((to / 2000 * 2000 - 1))
	from=$((to + 1 - 20000))
	q="series=node:memory_usage&from=$(rfc $from)&to=$(rfc $to)&step=2"
	same_as_api "$q" history node:memory_usage --step 2 -o json \
		--since "$(rfc $from)" --until "$(rfc $to)"
	# Not an empty answer on both sides: buckets, each with its min.
	jq -e '.series[0] | .step == 2 and (.points | length) >= 1 and
		(.min | length) == (.points | length)' <<<"$output" ||
		{ echo "$q: $output"; false; }
}

@test "history --list: the API's series with unit and kind, narrowed by globs" {
	run -0 "$CLI" history --list
	assert_line --index 0 --regexp '^SERIES +UNIT +KIND$'
	assert_line --regexp '^node:cpu_usage +percent +gauge$'
	assert_line --regexp '^vm:web-1:network_rx_bps +bytes/s +rate$'
	assert_equal "$((${#lines[@]} - 1))" "$(body_of "$(sock GET /api/metrics/series)" | jq '.series | length')"
	run -0 "$CLI" history --list 'vm:web-1:*' -o csv
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/l.csv"
	want=$(body_of "$(sock GET /api/metrics/series)" |
		jq -c '[.series[] | select(.name | startswith("vm:web-1:")) | [.name, .unit, .kind]]')
	run -0 $PY -c '
import csv, json, sys
rows = [[c.strip() for c in r] for r in csv.reader(open(sys.argv[1], newline="")) if r]
assert rows[0] == ["name", "unit", "kind"], rows[0]
assert rows[1:] == json.loads(sys.argv[2]), (rows[1:], sys.argv[2])
' "$BATS_TEST_TMPDIR/l.csv" "$want"
	# '*' stays within a part: node:* is not node:disk:/:usage.
	run -0 "$CLI" -o json history --list 'node:*'
	jq -e '[.series[].name] | index("node:cpu_usage") != null and
		index("node:disk:/:usage") == null and index("node:load_average:1") == null' <<<"$output"
}

@test "completion: series names and VM globs from __complete, bash, fish and the readline shell" {
	run -0 "$CLI" __complete history node:cpu_us
	assert_output "node:cpu_usage
node:cpu_user"
	run -0 "$CLI" __complete history node:cpu_usage vm:web-1:cpu
	assert_output vm:web-1:cpu_usage
	run -0 "$CLI" __complete history 'vm:*:network_r'
	assert_output 'vm:*:network_rx
vm:*:network_rx_bps'
	run -0 "$CLI" __complete history -o ''
	assert_output "table
json
csv"
	run -0 "$CLI" __complete history --
	assert_output "--since
--until
--step
--list
--output"
	run -0 env PATH="$HX_BUILD:$PATH" bash -c '
		source "$1"
		c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _horcrux_cli; echo "${COMPREPLY[*]}"; }
		c horcrux-cli hist
		COMP_LINE="horcrux-cli history node:memory_usa" COMP_POINT=36 c horcrux-cli history node : memory_usa
	' _ "$HX_REPO/completions/horcrux-cli.bash"
	assert_line --index 0 history
	# "node:memory_usa" is three words to bash; it replaces only "memory_usa".
	assert_line --index 1 memory_usage
	run -0 env PATH="$HX_BUILD:$PATH" fish -c "source $HX_REPO/completions/horcrux-cli.fish; complete -C'horcrux-cli history node:cpu_us'"
	assert_output "node:cpu_usage
node:cpu_user"
	TMUX_L=hxh-$$-$BATS_TEST_NUMBER TMUX_S=cli
	tmux -L "$TMUX_L" new-session -d -s cli -x 150 -y 40 "$CLI; sleep 60"
	wait_pane '^root@local@.+>$'
	keys 'hist' Tab
	wait_pane '> history$'
	keys 'vm:web-2:cpu_u' Tab
	wait_pane '> history vm:web-2:cpu_usage$'
}
