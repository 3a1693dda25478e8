#!/usr/bin/env bats
# `make run`'s script (scripts/run-demo --no-top, its daemon part, without
# a terminal): ready means the daemon it started; a taken port is said and
# another used; a start-up failure shows the daemon's reason and exits 1;
# and README's examples, typed as written into a shell, work against it.

load helpers/common
load helpers/tmux

DEMO=$HX_REPO/scripts/run-demo

teardown() {
	if [ -n "${TMUX_L:-}" ]; then
		tmux -L "$TMUX_L" kill-server 2>/dev/null || true
	fi
	if [ -n "${DEMO_PID:-}" ]; then
		kill -TERM "$DEMO_PID" 2>/dev/null || true
		wait "$DEMO_PID" || true
	fi
	stop_daemon
}

# demo_start DIR [ARGS...]: run-demo --no-top with its state in DIR, its
# output in $DEMO_OUT; waits until it says the daemon runs, or exits.
# Sets DEMO_PID (the script), DEMO_HXD (the daemon it started), DEMO_PORT.
demo_start() {
	local dir=$1 i
	shift
	DEMO_OUT=$BATS_TEST_TMPDIR/demo.out
	HORCRUX_DEMO_DIR=$dir "$@" "$DEMO" --no-top "$HX_BUILD" \
		>"$DEMO_OUT" 2>&1 3>&- &
	DEMO_PID=$!
	for i in $(seq 1 600); do
		if grep -q '^horcruxd is running (pid ' "$DEMO_OUT"; then
			DEMO_HXD=$(sed -n 's/^horcruxd is running (pid \([0-9]*\)).*/\1/p' "$DEMO_OUT")
			DEMO_PORT=$(sed -n 's|^  http://127\.0\.0\.1:\([0-9]*\)/ .*|\1|p' "$DEMO_OUT")
			return 0
		fi
		kill -0 "$DEMO_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	echo "run-demo never said it runs:" >&2
	cat "$DEMO_OUT" >&2
	return 1
}

# demo_stop: SIGTERM to the script; it stops its daemon and exits 0.
demo_stop() {
	local rc=0
	kill -TERM "$DEMO_PID"
	wait "$DEMO_PID" || rc=$?
	DEMO_PID=
	assert_equal "$rc" 0
	grep -q '^horcruxd stopped (log: ' "$DEMO_OUT"
	! kill -0 "$DEMO_HXD" 2>/dev/null
}

@test "run-demo --no-top: ready is its own daemon, with a first sample; SIGTERM stops it" {
	local demo=$BATS_TEST_TMPDIR/demo port
	port=$(free_port)
	demo_start "$demo" env HORCRUX_DEMO_LISTEN=127.0.0.1:$port
	assert_equal "$DEMO_PORT" "$port"
	# The pid it names is the daemon holding the socket and the port.
	grep -q " ready (pid $DEMO_HXD)" "$demo/horcruxd.log"
	run -0 curl -sf --unix-socket "$demo/horcruxd.sock" http://localhost/api/nodes/local
	run -0 curl -sf "http://127.0.0.1:$port/api/health"
	# It tells the client commands: with -c to the socket, or the variable.
	grep -qF -- "-c unix:$demo/horcruxd.sock login admin" "$DEMO_OUT"
	grep -qF "export HORCRUX_SERVER=unix:$demo/horcruxd.sock" "$DEMO_OUT"
	demo_stop
	run -7 curl -sf "http://127.0.0.1:$port/api/health"
}

@test "run-demo: a port held by another daemon is said, and a free one used" {
	local demo=$BATS_TEST_TMPDIR/demo
	# Another horcruxd on the port: its /api/health answers 200, so only a
	# check on the daemon the script started tells the two apart.
	start_daemon
	demo_start "$demo" env HORCRUX_DEMO_LISTEN=127.0.0.1:$PORT
	grep -qE "^Port $PORT is taken \(another daemon\?\): trying [0-9]+\.$" "$DEMO_OUT"
	[ -n "$DEMO_PORT" ] && [ "$DEMO_PORT" != "$PORT" ]
	grep -qF "this demo is on 127.0.0.1:$DEMO_PORT" "$DEMO_OUT"
	grep -q "cannot bind '127.0.0.1:$PORT': Address already in use" "$demo/horcruxd.log" ||
		grep -q " ready (pid $DEMO_HXD)" "$demo/horcruxd.log"
	# The demo's daemon is on the new port; the other one is untouched.
	[ "$(curl -s "http://127.0.0.1:$DEMO_PORT/api/health" | jq -r .status)" = ok ]
	kill -0 "$HXD_PID"
	demo_stop
	kill -0 "$HXD_PID"
}

@test "run-demo: a start-up failure shows the daemon's reason and exits 1" {
	local demo=$BATS_TEST_TMPDIR/demo
	mkdir -p "$demo"
	# The data directory is a file: horcruxd refuses to start.
	: >"$demo/data"
	HORCRUX_DEMO_DIR=$demo HORCRUX_DEMO_LISTEN=127.0.0.1:$(free_port) \
		run -1 --separate-stderr "$DEMO" --no-top "$HX_BUILD"
	[[ $stderr == *"make run: horcruxd did not start:"* ]] || fail "$stderr"
	[[ $stderr == *"horcruxd: data directory '$demo/data' is not a directory"* ]] || fail "$stderr"
	[[ $output != *"is running"* ]] || fail "$output"
}

# readme_commands: README's shell examples, one command a line (backslash
# continuations joined), from every bare ``` block but the ones that are
# make targets. A block fenced with a language (```python, ```yaml, or
# ```text for commands that need machines the demo does not have) is not
# run.
readme_commands() {
	awk '
	/^```/ {
		if (!inb) { inb = 1; skip = ($0 ~ /^```[a-z]/); first = 1; next }
		inb = 0; next
	}
	!inb || skip { next }
	first && /^make / { skip = 1; next }
	/^[[:space:]]*(#|$)/ { next }
	{ first = 0 }
	/\\$/ { sub(/\\$/, ""); acc = acc $0; next }
	{ print acc $0; acc = "" }
	' "$HX_REPO/README.md"
}

@test "README's examples run as written against run-demo's daemon" {
	local t=$BATS_TEST_TMPDIR/top port n=0 cmd log key rc
	# A checkout-shaped directory: build/release and run/ where README
	# expects them; the demo on a free port, which replaces 8006.
	mkdir -p "$t/build" "$t/home"
	ln -s "$HX_BUILD" "$t/build/release"
	port=$(free_port)
	demo_start "$t/run" env HORCRUX_DEMO_LISTEN=127.0.0.1:$port
	run readme_commands
	((${#lines[@]} >= 15)) || fail "only ${#lines[@]} README commands: $output"
	# A shell as a newcomer has one, its output logged.
	TMUX_L=hx-readme-$$
	TMUX_S=readme
	log=$BATS_TEST_TMPDIR/shell.log
	tmux -L "$TMUX_L" -f /dev/null new-session -d -s "$TMUX_S" -x 200 -y 50 -c "$t" \
		"env -i PATH=$PATH HOME=$t/home TERM=xterm LANG=C.UTF-8 PS1='$ ' bash --norc --noprofile"
	tmux -L "$TMUX_L" pipe-pane -t "$TMUX_S" "cat >>$log"
	wait_pane '^\$ ?$'
	for cmd in "${lines[@]}"; do
		cmd=${cmd//127.0.0.1:8006/127.0.0.1:$port}
		case $cmd in
		*" events "*)
			# Streams until Ctrl-C: nothing to wait for.
			continue ;;
		*hx_...*)
			key=$(grep -ao '"token": *"hx_[^"]*"' "$log" | tail -1 | sed 's/.*"\(hx_[^"]*\)"/\1/')
			[ -n "$key" ] || fail "no API key in the output before: $cmd"
			cmd=${cmd//hx_.../$key} ;;
		esac
		n=$((n + 1))
		# A clear screen, so a prompt waited for is this command's.
		keys C-l
		wait_pane '^\$ ?$'
		keys -l "$cmd"
		keys Enter
		case $cmd in
		*--password-stdin*) ;;
		*"user add "* | *" login "*)
			wait_pane 'Password( for [a-z]+)?: *$'
			keys -l choose-one
			keys Enter
			if [[ $cmd == *"user add "* ]]; then
				wait_pane 'Retype password( for [a-z]+)?: *$'
				keys -l choose-one
				keys Enter
			fi ;;
		*horcrux-top*)
			if [[ $cmd != *--json* && $cmd != *" -b"* ]]; then
				wait_pane '● connected' 20
				keys q
			fi ;;
		esac
		keys -l "echo README-RC-$n=\$?"
		keys Enter
		for _ in $(seq 1 400); do
			grep -aqE "README-RC-$n=[0-9]+" "$log" && break
			sleep 0.05
		done
		rc=$(grep -aoE "README-RC-$n=[0-9]+" "$log" | cut -d= -f2)
		[ "$rc" = 0 ] || fail "README command $n exited ${rc:-never}: $cmd
$(tail -20 "$log")"
	done
	((n >= 15)) || fail "ran only $n README commands"
	# No daemon error reply in anything they printed (curl exits 0 on 4xx).
	! grep -a '"error" *:' "$log" || fail "an error reply: $(grep -a '"error" *:' "$log")"
	demo_stop
}
