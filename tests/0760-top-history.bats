#!/usr/bin/env bats
# horcrux-top's history (issue 12) in tmux against a real horcruxd on the
# demo node: the first frame already holds sparklines from the history
# API (header and VM table), the ASCII fallback under LANG=C, the graph
# view's min/avg/max against the API's answer for the same range (1 and
# 2), and a daemon with history = off (top works, lines from live
# samples, one status line).
#
# One daemon for the file, sampling every 0.5 s; setup_file waits until
# its history holds 20 seconds of points (waiting on state: the API).
# top runs with --spark-step 1 so one cell is one second and a first
# frame from live samples alone could hold one or two cells, never the
# fifteen the history gives.

load helpers/common
load helpers/api
load helpers/top

NODE="test://$HX_REPO/share/demo-node.xml"
BLOCKS='[▁▂▃▄▅▆▇█]'
RAMP='[_.:=+*#-]'

# hist QUERY: GET /api/metrics/history?QUERY over the socket (body only).
hist() {
	curl -s --unix-socket "$SOCK" "http://localhost/api/metrics/history?$1"
}

# points SERIES: the non-null points of SERIES over the last 20 s at 1 s.
points() {
	hist "series=$1&from=-20s&step=1" |
		jq '[.series[0].points[]? | select(.[1] != null)] | length'
}

setup_file() {
	DDIR=$BATS_FILE_TMPDIR/hx
	start_daemon --libvirt-uri "$NODE" --node-interval 0.5 \
		--vm-interval 0.5 || return 1
	export HXD_PID PORT SOCK DDIR HXD_LOG URL
	FILE_PID=$HXD_PID
	export FILE_PID
	local i
	for i in $(seq 1 600); do
		(($(points node:cpu_usage) >= 19)) &&
			(($(points vm:web-1:cpu_usage) >= 19)) && return 0
		sleep 0.1
	done
	echo "the history never held 20 s of points" >&2
	return 1
}

teardown_file() {
	HXD_PID=$FILE_PID
	stop_daemon
}

teardown() {
	top_stop
	# A daemon of the test's own, not the file's.
	if [ "${HXD_PID:-}" != "$FILE_PID" ]; then
		stop_daemon
	fi
}

# first_frame: the first frame with the host's meters (the pane is blank
# until top draws; its first frame is drawn once the NodeMetrics is in).
# Sets SCREEN.
first_frame() {
	local i
	for i in $(seq 1 400); do
		SCREEN=$(pane)
		grep -q '^CPU\[' <<<"$SCREEN" && return 0
		sleep 0.025
	done
	echo "no frame with the host's meters:" >&2
	pane >&2
	return 1
}

# count ERE TEXT: how many characters of TEXT match the bracket ERE.
count() {
	grep -o "$1" <<<"$2" | wc -l
}

# spark_of LABEL: the header's sparkline after LABEL (CPU, Mem, RX, TX)
# in $SCREEN, up to the next label.
spark_of() {
	local line
	case $1 in
	CPU | Mem) line=$(grep -E '^CPU( |$)' <<<"$SCREEN") ;;
	*) line=$(grep -E '^RX( |$)' <<<"$SCREEN") ;;
	esac
	case $1 in
	CPU | RX) line=${line#"$1"}; line=${line%%Mem*}; line=${line%%TX*} ;;
	*) line=${line#*"$1"}; line=${line%%Disk:*}; line=${line%%Net:*} ;;
	esac
	printf '%s' "$line"
}

# vm_spark NAME: the CPU HIST cell of VM NAME's row in $SCREEN.
vm_spark() {
	local head row pre
	head=$(grep -E '^ NAME ' <<<"$SCREEN")
	pre=${head%%CPU HIST*}
	[ "$pre" != "$head" ] || { echo "no CPU HIST column" >&2; return 1; }
	row=$(grep -E "^[ *]$1 " <<<"$SCREEN")
	printf '%s' "${row:${#pre}}"
}

@test "the first frame holds the history: header lines and each running VM's CPU line" {
	top_start --spark-step 1
	first_frame
	local c
	for label in CPU Mem RX TX; do
		c=$(count "$BLOCKS" "$(spark_of $label)")
		((c >= 15)) || { echo "$label: $c cells in the first frame"; echo "$SCREEN"; false; }
	done
	for vm in web-1 db-1 build-1; do
		c=$(count "$BLOCKS" "$(vm_spark $vm)")
		((c >= 10)) || { echo "$vm: $c cells in the first frame"; echo "$SCREEN"; false; }
	done
	# A stopped VM has no CPU: its line is blank, not a row of zeros.
	assert_equal "$(count "$BLOCKS" "$(vm_spark win-test)")" 0
	# web-1 runs at about 50% of its vCPUs: the middle blocks, not the top.
	[[ $(vm_spark web-1) =~ [▄▅] ]]
	# Live samples extend the lines: a VM started now, with no history,
	# gains CPU cells from live samples alone. (web-1's line may look the
	# same after a shift: its test-driver CPU is steady.)
	assert_equal "$(count "$BLOCKS" "$(vm_spark backup-1)")" 0
	assert_equal "$(status_of "$(sock POST /api/vms/backup-1/start)")" 200
	for i in $(seq 1 200); do
		first_frame
		(($(count "$BLOCKS" "$(vm_spark backup-1)") >= 1)) && break
		sleep 0.05
	done
	(($(count "$BLOCKS" "$(vm_spark backup-1)") >= 1)) ||
		{ echo "backup-1 never gained a cell"; echo "$SCREEN"; false; }
	assert_equal "$(status_of "$(sock POST /api/vms/backup-1/stop)")" 200
	# No status line about the history when it answered.
	! grep -q 'no history' <<<"$SCREEN"
}

@test "LANG=C: the sparklines in the ASCII ramp, no block character" {
	TOP_ENV="LANG=C LC_ALL=C" top_start --spark-step 1
	first_frame
	((($(count "$RAMP" "$(spark_of CPU)")) >= 15)) || { echo "$SCREEN"; false; }
	((($(count "$RAMP" "$(vm_spark web-1)")) >= 10)) || { echo "$SCREEN"; false; }
	# web-1 at about 50%: the middle of the ramp.
	[[ $(vm_spark web-1) =~ [-=] ]]
	! grep -q "$BLOCKS" <<<"$SCREEN"
}

# graph_check RANGE_S: the graph on the screen against the history API's
# answer for the range it shows (From ... to ..., RANGE_S seconds long).
graph_check() {
	local shown from to f t body
	SCREEN=$(pane)
	shown=$(grep -oE 'From [0-9-]+ [0-9:]+ to [0-9-]+ [0-9:]+' <<<"$SCREEN")
	[ -n "$shown" ] || { echo "no range on the screen:"; echo "$SCREEN"; return 1; }
	from=$(date -d "$(sed -E 's/From (.*) to .*/\1/' <<<"$shown")" +%s)
	to=$(date -d "$(sed -E 's/.* to (.*)/\1/' <<<"$shown")" +%s)
	assert_equal $((to - from)) "$1"
	f=$(date -u -d "@$from" +%Y-%m-%dT%H:%M:%SZ)
	t=$(date -u -d "@$to" +%Y-%m-%dT%H:%M:%SZ)
	body=$(hist "series=node:cpu_usage&from=$f&to=$t")
	read -r mn av mx < <(grep -oE 'min [0-9.]+% +avg [0-9.]+% +max [0-9.]+%' <<<"$SCREEN" |
		tr -d '%' | awk '{print $2, $4, $6}')
	[ -n "$mx" ] || { echo "no figures on the screen:"; echo "$SCREEN"; return 1; }
	jq -e --arg mn "$mn" --arg av "$av" --arg mx "$mx" '
		def near($shown): (($shown | tonumber) - .) | fabs <= 0.05 + 1e-9;
		.series[0] as $s
		| [$s.points[] | .[1] | select(. != null)] as $v
		| ($s.min // $s.points | map(if type == "array" then .[1] else . end) | map(select(. != null)) | min) as $lo
		| ($s.max // $s.points | map(if type == "array" then .[1] else . end) | map(select(. != null)) | max) as $hi
		| ($v | add / length) as $avg
		| ($lo | near($mn)) and ($avg | near($av)) and ($hi | near($mx))' <<<"$body" ||
		{ echo "screen: min $mn avg $av max $mx"; jq -c '.series[0] | {step, n: (.points | length), min: (.min // null | if . then min else null end), max: (.max // null | if . then max else null end)}' <<<"$body"; return 1; }
	AGG=$(jq -r '.series[0] | has("min")' <<<"$body")
}

# still_daemon: a daemon of the test's own with a history of at least 10
# host samples that grows no more for 40 s: it sampled every 0.5 s, then
# starts again on the same data directory sampling every 40 s (so 24 h
# at step=auto is the 1-minute tier: more than 2,000 samples' worth).
# Until its next sample a range asked for twice (by top, then by the
# test) has the same points and buckets; STILL_N is the count to check
# that against.
still_daemon() {
	DDIR=$BATS_TEST_TMPDIR/still
	start_daemon --libvirt-uri "$NODE" --node-interval 0.5 \
		--vm-interval 0.5
	local i
	for i in $(seq 1 300); do
		(($(points node:cpu_usage) >= 10)) && break
		sleep 0.1
	done
	stop_daemon
	start_daemon --libvirt-uri "$NODE" --node-interval 40 \
		--vm-interval 40
	wait_sample
	STILL_N=$(hist "series=node:cpu_usage&from=-1h" | jq '.series[0].points | length')
	((STILL_N >= 10))
}

@test "g: the host's graph with the min/avg/max of the API's answer over 15 min (samples) and 24 h (min/max arrays)" {
	still_daemon
	top_start
	first_frame
	keys g
	wait_pane 'CPU% of the host .* over the last 15 min'
	wait_pane 'min [0-9.]+% +avg [0-9.]+% +max [0-9.]+%'
	pane | grep -qE '^100% \|'
	pane | grep -qE "$BLOCKS"
	pane | grep -qE '1 15m  2 1h  3 24h'
	graph_check 900
	assert_equal "$AGG" false
	keys 3
	wait_pane 'over the last 24 h'
	wait_pane 'step 60s \(min/avg/max buckets\)'
	graph_check 86400
	assert_equal "$AGG" true
	# Both answers were given before the daemon's next sample.
	assert_equal "$(hist "series=node:cpu_usage&from=-1h" | jq '.series[0].points | length')" "$STILL_N"
	keys 2
	wait_pane 'over the last 1 h'
	# Back to the table with g (q and Esc go back too).
	keys g
	wait_pane '^ NAME +STATE'
	keys G
	wait_pane 'CPU% of VM [a-z0-9-]+ over the last 1 h'
	keys Escape
	wait_pane '^ NAME +STATE'
	keys g
	wait_pane 'over the last'
	keys q
	wait_pane '^ NAME +STATE'
	[ ! -e "$TOP_EXIT" ]
}

@test "history = off: top starts, one status line says so, the lines fill from live samples" {
	DDIR=$BATS_TEST_TMPDIR/off
	start_daemon --libvirt-uri "$NODE" --node-interval 0.5 \
		--vm-interval 0.5 --history off
	wait_sample
	top_start --spark-step 1
	first_frame
	grep -q 'no history: .*history is off' <<<"$SCREEN" || { echo "$SCREEN"; false; }
	# The lines grow from the live samples, one cell per second.
	for i in $(seq 1 200); do
		first_frame
		(($(count "$BLOCKS" "$(spark_of CPU)") >= 3)) &&
			(($(count "$BLOCKS" "$(vm_spark web-1)") >= 3)) && break
		sleep 0.05
	done
	(($(count "$BLOCKS" "$(spark_of CPU)") >= 3)) || { echo "$SCREEN"; false; }
	(($(count "$BLOCKS" "$(vm_spark web-1)") >= 3)) || { echo "$SCREEN"; false; }
	# The graph says why it has nothing, on one line.
	keys g
	wait_pane '^ no history: .*history is off'
}
