#!/usr/bin/env bats
# horcrux-top over two hosts: two horcruxd on this machine (own ports,
# Unix sockets and data directories; libvirt's test driver with a node
# file each, tests/fixtures/multihost-*.xml), one horcrux-top -c A -c B in
# a 120x40 tmux. A header line per host, one VM table with a HOST column;
# a host that goes away dims only its rows and comes back on its own; a
# VM with one UUID on both hosts ("mover") keeps one row whose HOST
# follows where it runs; -b prints every host; no host at all is fatal
# and names each; client.conf's `servers` list.
#
# The daemons start once for the file; nothing sleeps blindly: waits poll
# the pane, the API or the processes.

load helpers/common
load helpers/top

setup_file() {
	export HOME=$BATS_FILE_TMPDIR/home XDG_CONFIG_HOME=$BATS_FILE_TMPDIR/config
	mkdir -p "$HOME" "$XDG_CONFIG_HOME/horcrux"
	unset HORCRUX_SERVER HORCRUX_API_KEY HORCRUX_TOKEN NO_COLOR
	local n
	for n in alpha beta; do
		start_instance "$n" --libvirt-uri \
			"test://$HX_REPO/tests/fixtures/multihost-$n.xml" \
			--vm-interval 0.3 || return 1
	done
	ASOCK=$(inst_sock alpha) BSOCK=$(inst_sock beta)
	export ASOCK BSOCK
}

teardown_file() {
	stop_instance alpha
	stop_instance beta
}

setup() {
	# top_start watches $SOCK first; the second host is -c "unix:$BSOCK".
	SOCK=$ASOCK
	# A test that failed with beta stopped leaves it so: start it again.
	local pid
	pid=$(cat "$(inst_dir beta)/pid" 2>/dev/null || true)
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
		start_instance beta
	fi
}

teardown() {
	top_stop
}

# Connected and away as the header lines draw them, UTF-8 or ASCII.
UP='(●|\*)'
AWAY='(○|o) away'

# row NAME: the VM table's line(s) for NAME.
row() {
	pane | grep -E "^[ *]$1 "
}

# row_sgr NAME: that line with its SGR attributes (pane -e).
row_sgr() {
	local sgr=$'\x1b''\[[0-9;]*m'
	pane -e | grep -E "^($sgr)*[ *]($sgr)*$1 "
}

# dim: whether stdin holds SGR 2 (dim) among its attributes.
dim() {
	grep -Eq $'\x1b\\[([0-9]+;)*2(;[0-9]+)*m'
}

@test "two hosts: a header line each, one table with a HOST column" {
	top_start -c "unix:$BSOCK"
	wait_pane "^[ *]b-db +beta\.sock +running"
	wait_pane "^[ *]a-web +alpha\.sock +running"
	wait_pane "^ alpha\.sock +$UP +CPU [0-9.]+%"
	wait_pane "^ beta\.sock +$UP +CPU [0-9.]+%"
	pane | grep -Eq '^ NAME +HOST +STATE' || { pane; return 1; }
	pane | head -1 | grep -q '2 hosts, 2 connected' || { pane; return 1; }
	# Both hosts know "mover" (one UUID): one row, where it runs.
	wait_pane "^[ *]mover +alpha\.sock +running"
	[ "$(table_names | grep -cx mover)" = 1 ] || { pane; return 1; }
}

@test "a host that goes away dims only its rows, the other goes on; it comes back alone" {
	top_start -c "unix:$BSOCK"
	wait_pane "^[ *]b-db +beta\.sock +running"
	wait_pane "^[ *]a-web +alpha\.sock +running"
	row_sgr b-db | dim && { pane -e; return 1; }
	stop_instance beta
	wait_pane "^ beta\.sock +$AWAY"
	pane | grep -Eq "^ alpha\.sock +$UP" || { pane; return 1; }
	row_sgr b-db | dim || { pane -e; return 1; }
	row_sgr a-web | dim && { pane -e; return 1; }
	pane | head -1 | grep -q '2 hosts, 1 connected' || { pane; return 1; }
	# alpha's events still arrive while beta is away: a-web suspended on
	# alpha shows paused, then running again. (Its figures need not move:
	# the test driver may report the same CPU tick after tick.)
	local i
	run curl -s -o /dev/null -w '%{http_code}' -X POST \
		--unix-socket "$ASOCK" http://localhost/api/vms/a-web/suspend
	assert_output 200
	wait_pane "^[ *]a-web +alpha\.sock +paused"
	run curl -s -o /dev/null -w '%{http_code}' -X POST \
		--unix-socket "$ASOCK" http://localhost/api/vms/a-web/resume
	assert_output 200
	wait_pane "^[ *]a-web +alpha\.sock +running"
	pane | grep -Eq "^ beta\.sock +$AWAY" || { pane; return 1; }
	# Same port and socket again: top reconnects by itself.
	start_instance beta
	wait_pane "^ beta\.sock +$UP +CPU" 20
	wait_pane "^[ *]b-db +beta\.sock +running"
	for ((i = 0; i < 200; i++)); do
		row_sgr b-db | dim || break
		sleep 0.05
	done
	row_sgr b-db | dim && { pane -e; return 1; }
	[ -z "$(pgrep -f "^$TOP -c unix:$ASOCK" | sed -n 2p)" ]
}

@test "-b prints every host; no host at all is fatal and names each" {
	run --separate-stderr "$TOP" -b -n 1 -c "unix:$ASOCK" -c "unix:$BSOCK"
	assert_success
	assert_line "== unix:$ASOCK: connected =="
	assert_line "== unix:$BSOCK: connected =="
	assert_line --regexp '^a-web +running'
	assert_line --regexp '^b-db +running'
	# One host missing: the other is shown, the missing one is said.
	run --separate-stderr "$TOP" -b -n 1 -c "unix:$ASOCK" \
		-c "unix:$BATS_TEST_TMPDIR/none.sock"
	assert_success
	assert_line --regexp '^a-web +running'
	[[ $stderr == *none.sock* ]] || { echo "$stderr"; return 1; }
	# None at all: exit 1, each named.
	run --separate-stderr "$TOP" -b -n 1 -c "unix:$BATS_TEST_TMPDIR/n1.sock" \
		-c "unix:$BATS_TEST_TMPDIR/n2.sock"
	assert_failure 1
	[[ $stderr == *"cannot reach any server"*n1.sock*n2.sock* ]] ||
		{ echo "$stderr"; return 1; }
	# Every host refusing the credentials: exit 3, as with one host.
	HORCRUX_API_KEY=hx_not_a_key run --separate-stderr "$TOP" -b -n 1 \
		-c "unix:$ASOCK" -c "unix:$BSOCK"
	assert_failure 3
	[[ $stderr == *"not authorized on any server"*alpha.sock*beta.sock* ]] ||
		{ echo "$stderr"; return 1; }
	# One -c is today's horcrux-top: no host banner.
	run --separate-stderr "$TOP" -b -n 1 -c "unix:$BSOCK"
	assert_success
	refute_line --partial '== unix:'
	assert_line --regexp '^b-db +running'
	refute_line --regexp '^a-web '
}

@test "client.conf's servers list; -c wins over it" {
	printf 'servers = unix:%s , unix:%s\n' "$ASOCK" "$BSOCK" \
		>"$XDG_CONFIG_HOME/horcrux/client.conf"
	run --separate-stderr "$TOP" -b -n 1
	assert_success
	assert_line "== unix:$ASOCK: connected =="
	assert_line "== unix:$BSOCK: connected =="
	run --separate-stderr "$TOP" -b -n 1 -c "unix:$ASOCK"
	assert_success
	refute_line --partial '== unix:'
	refute_line --regexp '^b-db '
	printf 'servers = unix:%s,,x\n' "$ASOCK" \
		>"$XDG_CONFIG_HOME/horcrux/client.conf"
	run --separate-stderr "$TOP" -b -n 1
	assert_failure 1
	[[ $stderr == *"servers: an empty entry"* ]] || { echo "$stderr"; return 1; }
	rm "$XDG_CONFIG_HOME/horcrux/client.conf"
}

@test "a VM that moves between the hosts keeps its one row; HOST follows it" {
	top_start -c "unix:$BSOCK"
	wait_pane "^[ *]mover +alpha\.sock +running"
	SOCK=$ASOCK run curl -s -o /dev/null -w '%{http_code}' -X POST \
		--unix-socket "$ASOCK" http://localhost/api/vms/mover/stop
	assert_output 200
	# Off on alpha, off on beta: still one row.
	wait_pane "^[ *]mover +alpha\.sock +(stopped|shutdown|shut)"
	[ "$(table_names | grep -cx mover)" = 1 ] || { pane; return 1; }
	run curl -s -o /dev/null -w '%{http_code}' -X POST \
		--unix-socket "$BSOCK" http://localhost/api/vms/mover/start
	assert_output 200
	wait_pane "^[ *]mover +beta\.sock +running"
	[ "$(table_names | grep -cx mover)" = 1 ] || { pane; return 1; }
}

# fake_session MODE: horcrux-top -b against tests/tools/fake-resume-daemon.py
# (welcome with boot_id for "new", without for "old") until it has sent
# two subscriptions (the server closes the first session); they are in
# $BATS_TEST_TMPDIR/subs, top's output in top.out.
fake_session() {
	local d=$BATS_TEST_TMPDIR fpid tpid i sock=$BATS_TEST_TMPDIR/f-$1.sock
	rm -f "$d/subs"
	$PY "$HX_REPO/tests/tools/fake-resume-daemon.py" "$sock" "$d/subs" "$1" \
		>"$d/fake.log" 2>&1 3>&- &
	fpid=$!
	for ((i = 0; i < 200; i++)); do
		[ -S "$sock" ] && break
		sleep 0.05
	done
	"$TOP" -b -c "unix:$sock" >"$d/top.out" 2>"$d/top.err" 3>&- &
	tpid=$!
	for ((i = 0; i < 400; i++)); do
		[ "$(wc -l 2>/dev/null <"$d/subs")" = 2 ] && break
		sleep 0.05
	done
	kill "$tpid" "$fpid" 2>/dev/null || true
	wait "$tpid" "$fpid" 2>/dev/null || true
	[ "$(wc -l <"$d/subs")" = 2 ] || { cat "$d/fake.log" "$d/top.err"; return 1; }
}

@test "batch and resume: asked for when the welcome has boot_id, not otherwise" {
	fake_session new
	# The first session: batch; the second: resume after seq 7.
	run jq -c '[.batch, .resume]' "$BATS_TEST_TMPDIR/subs"
	assert_output '[true,null]
[true,{"boot_id":"b1","after":7}]'
	# The VmMetricsBatch's VMs made the table.
	grep -Eq '^fake-1 +running +42\.5 ' "$BATS_TEST_TMPDIR/top.out"
	grep -Eq '^fake-2 +running +7\.[23] ' "$BATS_TEST_TMPDIR/top.out"
	# A daemon without boot_id gets today's plain subscription.
	fake_session old
	run jq -c 'keys' "$BATS_TEST_TMPDIR/subs"
	assert_output '["topics"]
["topics"]'
}
