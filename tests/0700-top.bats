#!/usr/bin/env bats
# horcrux-top against a real horcruxd on the demo node: the screen as a
# person sees it in a 120x40 tmux (header bars against the NodeMetrics
# sent at the same time, VM rows, sorting, filter, help, detail, power
# actions, resize, NO_COLOR, the daemon restarting, quitting), batch and
# JSON output, and the command line.

load helpers/common
load helpers/authz
load helpers/top

NODE="test://$HX_REPO/share/demo-node.xml"

teardown() {
	top_stop
	# Helpers a test started, even when it failed half-way.
	[ -z "${EXTRA_PIDS:-}" ] || kill $EXTRA_PIDS 2>/dev/null || true
	stop_daemon
}

# The daemon on the demo node, with a first host sample, the VM inventory
# and VM figures with rates (a VM's CPU needs two VM samples; the host's
# first sample is there before the daemon is ready, so without this wait
# a first snapshot could show the VMs without their CPU).
demo_daemon() {
	start_daemon --libvirt-uri "$NODE" --vm-interval 0.5 "$@"
	wait_sample
	local i listed=
	for i in $(seq 1 100); do
		[ "$(curl -s --unix-socket "$SOCK" http://localhost/api/vms | jq length)" = 10 ] &&
			{ listed=1; break; }
		sleep 0.05
	done
	[ -n "$listed" ] || return 1
	for i in $(seq 1 100); do
		[ "$(curl -s --unix-socket "$SOCK" http://localhost/api/vms/web-1 |
			jq -r '.metrics.cpu_usage | type')" = number ] && return 0
		sleep 0.05
	done
	return 1
}

@test "horcrux-top: -h, -V, usage errors exit 2, an unreachable daemon exits 1" {
	run "$TOP" -h
	assert_success
	assert_output --partial "usage: horcrux-top"
	assert_output --partial "--batch"
	run "$TOP" -V
	assert_success
	assert_output --regexp '^horcrux-top [0-9]+\.[0-9]+\.[0-9]+$'
	run --separate-stderr "$TOP" --bogus
	assert_equal "$status" 2
	assert_equal "$stderr" "horcrux-top: unknown option '--bogus'
Try 'horcrux-top --help'."
	run --separate-stderr "$TOP" -d 0
	assert_equal "$status" 2
	run --separate-stderr "$TOP" -b -c "unix:$BATS_TEST_TMPDIR/nothing.sock"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcrux-top: cannot connect to 'unix:$BATS_TEST_TMPDIR/nothing.sock': No such file or directory"
	run --separate-stderr "$TOP" -b -c "ftp://example.org"
	assert_equal "$status" 2
	assert_equal "$stderr" "horcrux-top: unsupported server 'ftp://example.org': use unix:PATH, http(s)://HOST:PORT or ws(s)://HOST:PORT"
	HORCRUX_SERVER="unix:$BATS_TEST_TMPDIR/env.sock" run --separate-stderr "$TOP" -b
	assert_equal "$status" 1
	assert_output ""
	assert_equal "$stderr" "horcrux-top: cannot connect to 'unix:$BATS_TEST_TMPDIR/env.sock': No such file or directory"
}

@test "horcrux-top: without a terminal it asks for -b; a refused key exits 3" {
	demo_daemon
	run --separate-stderr "$TOP" -c "unix:$SOCK" </dev/null
	assert_equal "$status" 2
	assert_equal "$stderr" "horcrux-top: the screen needs a terminal; use -b for batch output"
	HORCRUX_API_KEY=hx_nokey_nosecret run --separate-stderr "$TOP" -b -n 1 -c "$URL"
	assert_equal "$status" 3
	assert_equal "${stderr%%: HTTP*}" "horcrux-top: '$URL' refused the WebSocket"
}

@test "credentials revoked while connected: not authorized, exit 3, no reconnect loop" {
	demo_daemon
	mkuser doomed '["Auditor"]'
	key=$(mkkey doomed '{"name":"top"}')
	TOP_ENV="HORCRUX_API_KEY=$key" top_start
	wait_pane 'win-test +stopped'
	# The user goes, and its key with it: the stream ends, the next
	# upgrade is a 401, and that is final.
	must 204 DELETE /api/users/doomed >/dev/null
	wait_pane TOP-EXITED
	assert_equal "$(cat "$TOP_EXIT")" 3
	run cat "$TOP_ERR"
	assert_output --regexp "^horcrux-top: 'unix:.*' refused the WebSocket: HTTP 401.*: not authorized: log in again \\(horcrux-cli login\\) or set HORCRUX_API_KEY\$"
	# At start too, in the same words.
	HORCRUX_API_KEY=$key run --separate-stderr "$TOP" -b -n 1 -c "unix:$SOCK"
	assert_equal "$status" 3
	[[ $stderr == "horcrux-top: 'unix:$SOCK' refused the WebSocket: HTTP 401"*": not authorized: log in again (horcrux-cli login) or set HORCRUX_API_KEY" ]]
}

@test "batch: -b -n 3 prints three snapshots of the host and every VM, then exits 0" {
	demo_daemon
	run --separate-stderr "$TOP" -c "unix:$SOCK" -b -n 3 -d 0.1
	assert_success
	assert_equal "$(grep -c '^horcrux-top - ' <<<"$output")" 3
	assert_equal "$(grep -c '^NAME  *STATE  *CPU%  *MEM%  *MEM  *DISK R/s  *DISK W/s  *NET RX/s  *NET TX/s$' <<<"$output")" 3
	assert_equal "$(grep -c 'VMs 6 running / 10 total' <<<"$output")" 3
	# Every domain once per snapshot, with its state.
	assert_equal "$(grep -cE '^(backup-1|build-1|cache-1|ci-runner|db-1|dns-1|metrics-1|web-1|web-2|win-test) ' <<<"$output")" 30
	assert_equal "$(grep -cE '^win-test +stopped +- +- +-' <<<"$output")" 3
	assert_equal "$(grep -cE '^web-1 +running +[0-9]+\.[0-9] +[0-9]+\.[0-9] +[0-9.]+[KMG]' <<<"$output")" 3
	# The host line carries the daemon's figures.
	node=$(curl -s --unix-socket "$SOCK" http://localhost/api/nodes/local)
	assert_equal "$(grep -c "^horcrux-top - $(jq -r .hostname <<<"$node") .*  DEMO: test-driver VMs, this host's meters\$" <<<"$output")" 3
	assert_equal "$(jq -r .libvirt_driver <<<"$node")" test
	assert_equal "$(grep -cE "^CPUs( [0-9]+\.[0-9]%){$(jq .cpu_cores <<<"$node")}\$" <<<"$output")" 3
}

@test "batch: --json lines parse and carry the node and VM fields" {
	demo_daemon
	run --separate-stderr "$TOP" -c "unix:$SOCK" --json -n 2 -d 0.1
	assert_success
	assert_equal "$(wc -l <<<"$output")" 2
	while IFS= read -r line; do
		jq -e '(.node.cpu_usage | type) == "number" and (.node.cpu_per_core | length) == .node.cpu_cores
			and (.node.hostname | type) == "string" and .timestamp == .node.timestamp
			and (.vms | length) == 10 and (.vms | map(.id) == ["backup-1","build-1","cache-1","ci-runner","db-1","dns-1","metrics-1","web-1","web-2","win-test"])' <<<"$line"
		jq -e '.vms[] | select(.id == "web-1") | .state == "running" and .vcpus == 2 and .cpu_usage >= 0 and .cpu_usage <= 100 and .memory_bytes > 0 and (.disk_read_bps|type) == "number"' <<<"$line"
		jq -e '.vms[] | select(.id == "win-test") | .state == "stopped" and .cpu_usage == null and .memory_bytes == null' <<<"$line"
		jq -e '.vms[] | select(.id == "dns-1") | .container == true' <<<"$line"
		jq -e '.vms[] | select(.id == "cache-1") | .state == "paused" and .cpu_usage == null and .memory_bytes > 0' <<<"$line"
	done <<<"$output"
}

@test "screen: header bars show the NodeMetrics the daemon sent at that moment" {
	demo_daemon
	"$WSC" --url "unix:$SOCK" --timeout 30 --send '{"topics":["node:metrics"]}' \
		>"$BATS_TEST_TMPDIR/ws.out" 2>/dev/null &
	wsc=$!
	wait_subscribed "$BATS_TEST_TMPDIR/ws.out"
	top_start -d 0.2
	wait_pane 'Load average: [0-9]'
	# Freeze the screen so what we read is one frame.
	keys Z
	wait_pane PAUSED
	sleep 0.3
	screen=$(pane)
	kill "$wsc" 2>/dev/null || true
	cpu=$(grep -oE '^CPU\[[^]]*\]' <<<"$screen" | grep -oE '[0-9]+\.[0-9]%' | tr -d %)
	mem=$(grep -oE '^Mem\[[^]]*\]' <<<"$screen" | grep -oE '[0-9]+\.[0-9]%' | tr -d %)
	load=$(grep -oE 'Load average: [0-9. ]+' <<<"$screen" | sed 's/Load average: //; s/ *$//')
	core0=$(grep -oE '^ +0\[[^]]*\]' <<<"$screen" | grep -oE '[0-9]+\.[0-9]%' | tr -d %)
	[ -n "$cpu" ] && [ -n "$mem" ] && [ -n "$load" ] && [ -n "$core0" ]
	# One NodeMetrics frame must have all four figures as shown.
	# (printf rounding of binary fractions: within half the last digit)
	run jq -c --arg cpu "$cpu" --arg mem "$mem" --arg load "$load" --arg c0 "$core0" '
		def near($shown; $digits): (($shown | tonumber) - .) | fabs <= 0.5 / $digits + 1e-9;
		select(.frame.type == "NodeMetrics") | .frame.data |
		select((.cpu_usage | near($cpu; 10)) and (.memory_usage | near($mem; 10))
		    and (.cpu_per_core[0] | near($c0; 10))
		    and ([.load_average, ($load | split(" "))] | transpose | all(.[1] as $s | .[0] | near($s; 100)))) | .timestamp' "$BATS_TEST_TMPDIR/ws.out"
	assert_success
	[ -n "$output" ] || { echo "no frame with CPU $cpu Mem $mem core0 $core0 load '$load'"; cat "$BATS_TEST_TMPDIR/ws.out" >&2; false; }
	# The rest of the header: host, connection, counts, a bar per mount.
	host=$(curl -s --unix-socket "$SOCK" http://localhost/api/nodes/local | jq -r .hostname)
	grep -qE "^ $host  ● connected  data [0-9.]*s ago  PAUSED" <<<"$screen"
	grep -qE 'VMs: 6 running / 10 total' <<<"$screen"
	# The demo's VMs are the test driver's: the header says so.
	grep -qE "^ $host  ● connected .*  DEMO: test-driver VMs, this host's meters" <<<"$screen"
	grep -qE '^/ +\[[|=#! ]*[0-9]+\.[0-9]% [0-9.]+[KMGT]/[0-9.]+[KMGT]\]' <<<"$screen"
	grep -qE '^Swp\[' <<<"$screen"
}

@test "screen: VM rows, sorting by CPU, name, inverted, memory, and the column keys" {
	demo_daemon
	top_start
	wait_pane 'win-test +stopped'
	wait_pane 'dns-1 +running +[0-9]+\.[0-9]'
	# Default: CPU% descending, the arrow on CPU%; the container dns-1
	# (busiest in the demo) first, VMs not running (no CPU figure: the
	# three stopped ones and the paused cache-1) last.
	pane | grep -qE '^ NAME +STATE +CPU%▼ +MEM%'
	assert_equal "$(table_names | head -1)" dns-1
	assert_equal "$(table_names | tail -4 | sort | tr '\n' ' ')" "backup-1 cache-1 metrics-1 win-test "
	keys N
	wait_pane '^ NAME▼'
	assert_equal "$(table_names | tr '\n' ' ')" "backup-1 build-1 cache-1 ci-runner db-1 dns-1 metrics-1 web-1 web-2 win-test "
	keys I
	wait_pane '^ NAME▲'
	assert_equal "$(table_names | tr '\n' ' ')" "win-test web-2 web-1 metrics-1 dns-1 db-1 ci-runner cache-1 build-1 backup-1 "
	keys I M
	wait_pane 'MEM%▼'
	keys '>'
	wait_pane ' MEM▼'
	# db-1 and build-1 use 8 GiB each, the most.
	assert_equal "$(table_names | head -2 | sort | tr '\n' ' ')" "build-1 db-1 "
	keys '<' '<'
	wait_pane 'CPU%▼'
	keys P
	wait_pane 'CPU%▼'
	# A row carries the VM's figures: web-1 with 2.0G used.
	pane | grep -qE '^ web-1 +running +[0-9]+\.[0-9][|=#!]? +50\.0= +2\.0G '
	# A paused VM runs no CPU: no figure, whatever the counters said.
	pane | grep -qE '^ cache-1 +paused +- +50\.0= +4\.0G '
}

@test "screen: / filters by name, Esc clears; arrows and Enter open the detail view" {
	demo_daemon
	top_start
	wait_pane 'win-test +stopped'
	keys / w e b
	wait_pane '^Filter: web_'
	keys Enter
	wait_pane_gone '^Filter:'
	assert_equal "$(table_names | sort | tr '\n' ' ')" "web-1 web-2 "
	# The filter kept is in the header, with its match count.
	pane | grep -qE "^ .* connected .*  filter 'web': 2 of 10  "
	keys N Home Down Enter
	wait_pane '^ VM web-2'
	wait_pane '^ DISK +BUS +READ +WRITTEN'
	# Per-disk and per-NIC figures and the VM's facts.
	pane | grep -qE '^ State: running +vCPUs: 2'
	pane | grep -qE '^ vda +virtio +[0-9.]+[KMGTP] +[0-9.]+[KMGTP] +[0-9.]+[BKMG] +[0-9.]+[BKMG] +/var/lib/libvirt/images/web-2.qcow2'
	pane | grep -qE '^ testnet0 +52:54:00:[0-9a-f:]+ +[0-9.]+[KMGTP] +[0-9.]+[KMGTP]'
	keys Escape
	wait_pane '^ NAME'
	keys / Escape
	wait_pane 'win-test +stopped'
	assert_equal "$(table_names | wc -l)" 10
	# End and PgUp/PgDn move the selection; Ctrl-L and Space redraw.
	keys N End Enter
	wait_pane '^ VM win-test'
	pane | grep -qE '^ State: stopped'
	wait_pane '^ CPU, memory, disk and network: none, the VM is stopped'
	! pane | grep -qE 'CPU: -|read -/s'
	keys Escape PPage Enter
	wait_pane '^ VM backup-1'
	keys Escape NPage Enter
	wait_pane '^ VM win-test'
	keys Escape C-l
	wait_pane '^ NAME'
	keys Space
	wait_pane 'win-test +stopped'
	keys / z z z Enter
	wait_pane 'no VM matches the filter'
	pane | grep -qF "filter 'zzz': 0 of 10"
	keys Escape
	wait_pane_gone "filter '"

}

@test "screen: htop's F keys: F3 searches, F4 filters, F6 picks the sort column, F10 quits" {
	demo_daemon
	top_start
	wait_pane 'win-test +stopped'
	keys N
	wait_pane '^ NAME▼'
	# F3: typing jumps to the first name holding the text; F3 again to
	# the next; the table stays whole.
	keys F3 w e b
	wait_pane '^Search: web_ +\(F3 next'
	assert_equal "$(table_names | grep -vc '^Search:')" 10
	keys Enter
	wait_pane_gone '^Search:'
	keys Enter
	wait_pane '^ VM web-1'
	keys Escape
	wait_pane '^ NAME'
	keys F3 Enter Enter
	wait_pane '^ VM web-2'
	keys Escape F3 BSpace BSpace BSpace x y z
	wait_pane '^Search: xyz_ +not found'
	keys Escape
	# F4: the filter, as /.
	keys F4 d b
	wait_pane '^Filter: db_'
	keys Enter
	wait_pane "filter 'db': 1 of 10"
	assert_equal "$(table_names | tr '\n' ' ')" "db-1 "
	keys Escape
	# F6: the sort column from a list.
	keys F6
	wait_pane '^Sort by: \[NAME\] STATE CPU%'
	keys Right Right
	wait_pane '^Sort by: NAME STATE \[CPU%\]'
	keys Enter
	wait_pane_gone '^Sort by'
	pane | grep -qE '^ NAME +STATE +CPU%▼'
	keys F10
	wait_pane TOP-EXITED
	assert_equal "$(cat "$TOP_EXIT")" 0
}

@test "screen: the help screen lists the keys and the level legend" {
	demo_daemon
	top_start
	wait_pane 'win-test'
	keys h
	wait_pane 'Levels of bars'
	pane | grep -qE '^ +\|\|\| good +below 50%'
	pane | grep -qE '^ +=== moderate +50 to 75%'
	pane | grep -qE '^ +### warning +75 to 90%'
	pane | grep -qE '^ +!!! critical +90% and above'
	pane | grep -qE 'q F10      quit'
	# The help is drawn from the key table: every binding with its text.
	while IFS=$'\t' read -r name views help; do
		pane | grep -F -- "$help" | grep -qF -- "  $name  " ||
			{ echo "help screen lacks '$name' ($help)"; pane; false; }
	done < <("$TOP" --dump-keys)
	keys Escape
	wait_pane '^ NAME'
	keys F1
	wait_pane 'Levels of bars'
	keys q
	wait_pane TOP-EXITED
}

@test "screen: power actions ask y/n naming the VM, show the daemon's answer, flash the row" {
	demo_daemon
	top_start
	wait_pane 'win-test +stopped'
	keys / w e b - 2 Enter
	wait_pane_gone '^Filter'
	keys K
	wait_pane "Force stop VM 'web-2'\\? \\[y/N\\]"
	keys n
	wait_pane_gone 'Force stop'
	assert_equal "$(curl -s --unix-socket "$SOCK" http://localhost/api/vms/web-2 | jq -r .state)" running
	keys K
	wait_pane "Force stop VM 'web-2'"
	keys y
	wait_pane '^stop web-2: done'
	wait_pane '^ ?\*web-2 +stopped'
	assert_equal "$(curl -s --unix-socket "$SOCK" http://localhost/api/vms/web-2 | jq -r .state)" stopped
	# Starting it again, and an action that cannot be done now.
	keys S
	wait_pane "Start VM 'web-2'"
	keys y
	wait_pane 'web-2 +running'
	keys S y
	wait_pane '^start web-2: .*(already|running)'
}

@test "screen: U suspends and resumes, R reboots, K on a stopped VM says so first; power keys work in the detail view" {
	demo_daemon
	top_start
	wait_pane 'win-test +stopped'
	# The key bar: view keys, then the VM actions as a group, then quit.
	wait_pane '^h Help  Z Freeze  / Filter  P M N Sort  \| VM: S Start  T Shutdown  R Reboot  U Suspend/Resume  K Stop  \| q Quit'
	keys / w e b - 2 Enter
	wait_pane_gone '^Filter'
	keys U
	wait_pane "^Suspend VM 'web-2'\\? \\[y/N\\]"
	keys y
	wait_pane '^suspend web-2: done'
	wait_pane 'web-2 +paused'
	assert_equal "$(curl -s --unix-socket "$SOCK" http://localhost/api/vms/web-2 | jq -r .state)" paused
	keys U
	wait_pane "^Resume VM 'web-2'\\? \\[y/N\\]"
	keys y
	wait_pane 'web-2 +running'
	assert_equal "$(curl -s --unix-socket "$SOCK" http://localhost/api/vms/web-2 | jq -r .state)" running
	# In the detail view the same keys act on the VM shown.
	keys Enter
	wait_pane '^ VM web-2'
	wait_pane '^Esc Back  Z Freeze  \| VM: S Start  T Shutdown  R Reboot  U Suspend/Resume  K Stop  \| q Quit'
	keys R
	wait_pane "^Reboot VM 'web-2'\\? \\[y/N\\]"
	keys y
	wait_pane '^reboot web-2: done'
	keys K
	wait_pane "^Force stop VM 'web-2'\\? \\[y/N\\]"
	keys y
	wait_pane '^stop web-2: done'
	wait_pane '^ State: stopped'
	assert_equal "$(curl -s --unix-socket "$SOCK" http://localhost/api/vms/web-2 | jq -r .state)" stopped
	# K again: the question says the VM is stopped before asking.
	keys K
	wait_pane "^VM 'web-2' is stopped: force stop it anyway\\? \\[y/N\\]"
	keys n
	wait_pane_gone 'anyway'
	keys S y
	wait_pane '^ State: running'
}

@test "screen: at 80x24 the key bar fits and keeps K and q" {
	demo_daemon
	W=80 H=24 top_start
	wait_pane 'win-test +stopped'
	bar=$(pane | tail -1)
	[[ $bar == "h Help"* ]] || { echo "bar: $bar"; false; }
	[[ $bar == *"| VM: S Start  T Shutdown  "*"K Stop  | q Quit"* ]] || { echo "bar: $bar"; false; }
	[ "$(pane | wc -L)" -le 80 ]
	# NET TX/s does not fit: the header says so, Right scrolls to it.
	pane | grep -qE '^ NAME +STATE +CPU%▼ +MEM% +MEM +DISK R/s +DISK W/s +NET RX/s ?›$'
	! pane | grep -q 'NET TX/s'
	# The status line names them once the greeting has gone.
	wait_pane '^columns off the screen: NET TX/s \(← → scroll\)'
	keys Right
	wait_pane '^ NAME +‹ ?CPU%▼ +MEM% +MEM +DISK R/s +DISK W/s +NET RX/s +NET TX/s$'
	pane | grep -qE '^ web-1 +[0-9]+\.[0-9]'
	# Further right stops at the last column; Left comes back.
	keys Right Right
	wait_pane 'NET TX/s$'
	keys Left Left Left
	wait_pane '^ NAME +STATE +CPU%▼'
}

@test "screen: at 60x16 the meters shrink so that at least five VM rows show" {
	demo_daemon
	W=60 H=16 top_start
	wait_pane 'dns-1 +running +[0-9]'
	wait_pane '^CPU\['
	(($(table_names | wc -l) >= 5)) || { pane; false; }
	pane | grep -qE 'Load average: [0-9]'
	[ "$(pane | wc -L)" -le 60 ]
	# Taller, the full layout comes back.
	tmux -L "$TMUX_L" resize-window -t top -x 60 -y 30
	wait_pane '^Net: '
	(($(table_names | wc -l) >= 5))
}

@test "screen: a user without VmPowerMgmt sees the daemon's refusal; forbidden topics are noted" {
	demo_daemon
	mkuser watcher '["Auditor"]'
	key=$(mkkey watcher '{"name":"top"}')
	mkuser vmonly '[]'
	must 200 PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"vmonly"}' >/dev/null ||
		must 201 PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"vmonly"}' >/dev/null
	vkey=$(mkkey vmonly '{"name":"top"}')
	TOP_ENV="HORCRUX_API_KEY=$key" top_start
	wait_pane 'win-test +stopped'
	keys / w e b - 1 Enter K y
	wait_pane '^stop web-1: .*(forbidden|privilege|VmPowerMgmt)'
	assert_equal "$(curl -s --unix-socket "$SOCK" http://localhost/api/vms/web-1 | jq -r .state)" running
	top_stop
	# VmUser on web-1 only: one VM row, and no host figures.
	TOP_ENV="HORCRUX_API_KEY=$vkey" top_start
	wait_pane 'web-1 +running'
	wait_pane 'not shown \(no privilege\): .*node:metrics'
	assert_equal "$(table_names | tr '\n' ' ')" "web-1 "
	# One clear line, not a wait that never ends beside it.
	! pane | grep -q 'waiting for the first NodeMetrics'
}

@test "screen: resize to 60x15 fits, below the minimum says so, and back to 120x40" {
	demo_daemon
	top_start
	wait_pane 'win-test +stopped'
	tmux -L "$TMUX_L" resize-window -t top -x 60 -y 15
	wait_pane '^ NAME +STATE +CPU%▼ +MEM% +MEM +DISK R/s ?›$'
	pane | grep -qE '^CPU\['
	[ "$(pane | wc -L)" -le 60 ]
	tmux -L "$TMUX_L" resize-window -t top -x 30 -y 8
	wait_pane 'terminal too small \(30x8\)'
	pane | grep -qx 'need 40x10 *'
	tmux -L "$TMUX_L" resize-window -t top -x 120 -y 40
	wait_pane 'NET TX/s'
	wait_pane 'win-test +stopped'
	pane | grep -qE 'Load average:'
}

@test "screen: NO_COLOR has no colour attributes but keeps the level glyphs; colour otherwise" {
	demo_daemon
	top_start
	wait_pane 'win-test +stopped'
	# Positive control: with colour the pane has colour SGR codes.
	pane -e | grep -qE $'\e\\[[0-9;]*(3[0-7]|38;5;[0-9]+)m'
	# The cells carry the level's glyph in colour mode too.
	wait_pane '^ dns-1 +running +(9[0-9]|100)\.[0-9]!'
	pane | grep -qE '^ web-1 +running +[0-9.]+[|=#!]? +50\.0= '
	top_stop
	TOP_ENV="NO_COLOR=1" top_start
	wait_pane 'win-test +stopped'
	wait_pane 'dns-1 +running +[0-9]+\.[0-9]'
	! pane -e | grep -E $'\e\\[[0-9;]*(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+)m'
	# The busiest VM (dns-1 at ~100% of its vCPU) is marked critical.
	pane | grep -qE '^ dns-1 +running +(9[0-9]|100)\.[0-9]!'
	# Bars are drawn with level glyphs only.
	pane | grep -qE '^CPU\[[|=#! ]+[0-9]+\.[0-9]%\]'
	# MEM% 50.0 is moderate: '=' after it.
	pane | grep -qE '^ web-1 +running +[0-9.]+[|=#!]? +50\.0= '
	top_stop
	top_start --no-color
	wait_pane 'win-test +stopped'
	! pane -e | grep -E $'\e\\[[0-9;]*(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+)m'
}

@test "screen: ASCII mode (-U, or a non-UTF-8 locale) draws no UTF-8" {
	demo_daemon
	top_start -U
	wait_pane 'win-test +stopped'
	pane | grep -qE '^ .*  \* connected'
	pane | grep -qE 'CPU%v'
	! pane | grep -P '[^\x00-\x7f]'
	top_stop
	TOP_ENV="LC_ALL=C LANG=C" top_start
	wait_pane 'win-test +stopped'
	! pane | grep -P '[^\x00-\x7f]'
}

@test "screen: the daemon killed and restarted: reconnecting, dimmed data, then live again" {
	demo_daemon
	top_start
	wait_pane '● connected'
	wait_pane 'win-test +stopped'
	kill -KILL "$HXD_PID"
	wait "$HXD_PID" || true
	HXD_PID=
	wait_pane '○ reconnecting in [0-9]+s'
	# The last data stays on screen.
	pane | grep -qE 'win-test +stopped'
	pane | grep -qE '^CPU\['
	# The same socket comes back: picked up within seconds, no restart.
	rm -f "$SOCK"
	start_daemon --libvirt-uri "$NODE" --vm-interval 0.5
	wait_pane '● connected  data [0-9.]+s ago' 12
	wait_pane 'Connected: WebSocket connection established'
	wait_pane 'data 0\.[0-9]s ago'
	# The greeting is shown for a moment, not for good.
	wait_pane_gone 'Connected: WebSocket' 8
	[ ! -e "$TOP_EXIT" ]
}

@test "screen: q restores the terminal and exits 0; SIGHUP ends it promptly" {
	demo_daemon
	top_start
	wait_pane 'win-test'
	[ "$(tmux -L "$TMUX_L" display -p -t top '#{alternate_on}')" = 1 ]
	keys q
	wait_pane TOP-EXITED
	assert_equal "$(cat "$TOP_EXIT")" 0
	[ "$(tmux -L "$TMUX_L" display -p -t top '#{alternate_on}')" = 0 ]
	[ "$(tmux -L "$TMUX_L" display -p -t top '#{cursor_flag}')" = 1 ]
	top_stop
	top_start
	wait_pane 'win-test'
	pid=$(tmux -L "$TMUX_L" list-panes -t top -F '#{pane_pid}')
	toppid=$(pgrep -P "$pid" -f horcrux-top || pgrep -f "horcrux-top -c unix:$SOCK" | head -1)
	[ -n "$toppid" ]
	kill -HUP "$toppid"
	for _ in $(seq 1 40); do kill -0 "$toppid" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$toppid" 2>/dev/null
	wait_pane TOP-EXITED
}

@test "make run's script opens horcrux-top on the demo node; q stops the daemon too" {
	TMUX_L=hx-top-$$-run
	TOP_ERR=$BATS_TEST_TMPDIR/top.err
	: >"$TOP_ERR"
	TOP_EXIT=$BATS_TEST_TMPDIR/top.exit
	port=$(free_port)
	demo=$BATS_TEST_TMPDIR/demo
	tmux -L "$TMUX_L" -f /dev/null new-session -d -s top -x 120 -y 40 \
		"HORCRUX_DEMO_DIR=$demo HORCRUX_DEMO_LISTEN=127.0.0.1:$port $HX_REPO/scripts/run-demo $HX_BUILD; echo \$? >$BATS_TEST_TMPDIR/top.exit; echo TOP-EXITED; exec sleep 600"
	wait_pane '● connected' 20
	wait_pane 'win-test +stopped'
	wait_pane 'dns-1 +running'
	curl -sf "http://127.0.0.1:$port/api/health" >/dev/null
	keys q
	wait_pane TOP-EXITED
	pane | grep -qE "^horcruxd stopped \(log: $demo/horcruxd.log\)"
	! curl -sf "http://127.0.0.1:$port/api/health" >/dev/null
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$demo/horcruxd.log"
}

@test "screen: a 64-CPU host gets a compact grid; bar levels, glyphs and units follow the figures" {
	# A stand-in daemon (tests/tools/fake-node.py): this machine has few
	# CPUs, and the levels need chosen figures.
	SOCK=$BATS_TEST_TMPDIR/fake.sock
	"$PY" "$HX_REPO/tests/tools/fake-node.py" "$SOCK" 64 3>&- &
	fake=$!
	EXTRA_PIDS=$fake
	for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
	top_start
	wait_pane '^CPUs '
	want=$(awk 'BEGIN { for (i = 0; i < 64; i++) { v = (i * 7) % 101;
		printf "%s", v < 5 ? "." : v < 50 ? "|" : v < 75 ? "=" : v < 90 ? "#" : "!" } }')
	assert_equal "$(pane | grep '^CPUs ' | cut -c7- | sed 's/ *$//')" "$want"
	# The value is printed over the right end of the bar, as htop does.
	pane | grep -qE '^CPU\[!{40,} *92\.5%\]'
	pane | grep -qE '^Mem\[#{30,} *80\.0% 880G/1\.0T\]'
	pane | grep -qE '^Swp\[={20,} *55\.0% 4\.4G/8\.0G\]'
	pane | grep -qE '^/ +\[={20,} *60\.0% 600G/1\.0T\]'
	pane | grep -qF 'Load average: 64.00 32.50 16.25'
	pane | grep -qF 'CPU: usr 60.0%  sys 27.5%  wait 5.0%  steal 5.0%'
	pane | grep -qF 'Uptime: 1d 01:01:01   CPUs: 64'
	pane | grep -qF 'Disk: R 1.0M/s  W 2.0M/s'
	pane | grep -qF 'Net:  RX 119M/s  TX 60M/s'
	pane | grep -qF 'no VMs (or none you may see)'
	# Batch text: the same meter classes on their lines, exactly.
	run --separate-stderr "$TOP" -c "unix:$SOCK" -b -n 1
	assert_success
	assert_line --index 0 --regexp '^horcrux-top - bighost  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$'
	assert_line --index 1 'CPU 92.5%  Mem 80.0% 880G/1.0T  Swap 55.0%  Load 64.00 32.50 16.25  Uptime 1d 01:01:01'
	assert_line --index 2 "CPUs$(awk 'BEGIN { for (i = 0; i < 64; i++) printf " %.1f%%", (i * 7) % 101 }')"
	assert_line --index 3 'Mount / 60.0% 600G/1.0T'
	assert_line --index 4 'Disk R 1.0M/s W 2.0M/s  Net RX 119M/s TX 60M/s  VMs 0 running / 0 total'
	assert_line --index 5 'CPU usr 60.0% sys 27.5% wait 5.0% steal 5.0%'
	kill "$fake"
}

@test "connection: wss:// and https:// through a TLS proxy, verified against HORCRUX_CA_FILE" {
	demo_daemon
	cd "$BATS_TEST_TMPDIR"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
	p=$(free_port)
	socat "OPENSSL-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork,cert=cert.pem,key=key.pem,verify=0" \
		"UNIX-CONNECT:$SOCK" 2>/dev/null 3>&- &
	proxy=$!
	EXTRA_PIDS=$proxy
	for _ in $(seq 1 100); do ss -Hltn "sport = :$p" | grep -q . && break; sleep 0.05; done
	HORCRUX_CA_FILE=cert.pem run --separate-stderr "$TOP" -c "wss://localhost:$p" --json -n 1
	assert_success
	jq -e '(.vms | length) == 10 and (.node.cpu_usage | type) == "number"' <<<"$output"
	HORCRUX_CA_FILE=cert.pem run --separate-stderr "$TOP" -c "https://localhost:$p/" -b -n 1
	assert_success
	assert_output --partial 'VMs 6 running / 10 total'
	# The same server without its CA is refused, and says why.
	run --separate-stderr "$TOP" -c "wss://localhost:$p" -b -n 1
	assert_equal "$status" 1
	assert_equal "$stderr" "horcrux-top: TLS with 'wss://localhost:$p' failed: self-signed certificate"
	# A certificate for another name is refused too.
	HORCRUX_CA_FILE=cert.pem run --separate-stderr "$TOP" -c "wss://127.0.0.1:$p" -b -n 1
	assert_equal "$status" 1
	assert_equal "$stderr" "horcrux-top: TLS with 'wss://127.0.0.1:$p' failed: IP address mismatch"
	kill "$proxy"
}

@test "credentials: a session token, client.conf server and key, --api-key-file; the scope holds" {
	demo_daemon
	mkuser boss '["Administrator"]'
	mkuser vmonly '[]'
	must 200 PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"vmonly"}' >/dev/null ||
		must 201 PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"vmonly"}' >/dev/null
	token=$(login boss)
	HORCRUX_TOKEN=$token run --separate-stderr "$TOP" -c "$URL" --json -n 1
	assert_success
	assert_equal "$(jq '.vms | length' <<<"$output")" 10
	# client.conf names the server and a key of the VM-only user.
	key=$(mkkey vmonly '{"name":"conf"}')
	mkdir -p "$BATS_TEST_TMPDIR/xdg/horcrux"
	printf 'server = %s\napi_key = %s\n' "ws://127.0.0.1:$PORT" "$key" >"$BATS_TEST_TMPDIR/xdg/horcrux/client.conf"
	XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg run --separate-stderr "$TOP" --json -n 1
	assert_success
	# Without node:metrics an update is a VM update; only web-1 is there.
	jq -e '.node == null and (.vms | map(.id)) == ["web-1"] and .vms[0].state == "running"' <<<"$output"
	XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg run --separate-stderr "$TOP" -b -n 1
	assert_success
	assert_line 'not shown (no privilege): node:metrics'
	assert_line --regexp '^web-1 +running '
	refute_line --partial 'CPU -'
	key2=$(mkkey boss '{"name":"file"}')
	printf '%s\n' "$key2" >"$BATS_TEST_TMPDIR/key"
	XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg run --separate-stderr "$TOP" --api-key-file "$BATS_TEST_TMPDIR/key" --json -n 1
	assert_success
	assert_equal "$(jq '.vms | length' <<<"$output")" 10
	# A bad client.conf is a clear error.
	printf 'sever = x\n' >"$BATS_TEST_TMPDIR/xdg/horcrux/client.conf"
	XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg run --separate-stderr "$TOP" -b -n 1
	assert_equal "$status" 1
	assert_output ""
	[[ $stderr == "horcrux-top: $BATS_TEST_TMPDIR/xdg/horcrux/client.conf:1: "*sever* ]]
}
