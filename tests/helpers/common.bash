# Shared setup for the end-to-end bats files.
#
# start_daemon [ARGS...] starts a real horcruxd on a free port, its own
# Unix socket and data directory under $BATS_TEST_TMPDIR, then polls
# /api/health until it answers (never a blind sleep). stop_daemon sends
# SIGTERM, waits, and fails the test if the daemon did not exit 0 or if a
# sanitizer reported anything in its log.

HX_BUILD=${HX_BUILD:-$PWD/build/release}
HX_REPO=${HX_REPO:-$PWD}
HXD=$HX_BUILD/horcruxd
WSC=$HX_BUILD/tests/tools/hx-wsclient
WSLOAD=$HX_BUILD/tests/tools/hx-wsload
PY=/usr/bin/python3
RAWWS="$PY $HX_REPO/tests/tools/rawws.py"

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

# free_port [N]: print N (default 1) ports nobody listens on and no test
# running beside this one was given (tests/tools/free-port.py says how).
free_port() {
	$PY "$HX_REPO/tests/tools/free-port.py" "$@"
}

# start_daemon [ARGS...]: sets HXD_PID, PORT (HX_PORT if set), SOCK, DDIR,
# HXD_LOG, URL.
start_daemon() {
	DDIR=${DDIR:-$BATS_TEST_TMPDIR/hx}
	mkdir -p "$DDIR"
	PORT=${HX_PORT:-$(free_port)}	# HX_PORT: chosen first (helpers/oidc)
	SOCK=$DDIR/s.sock
	HXD_LOG=$DDIR/horcruxd.log
	URL=http://127.0.0.1:$PORT
	"$HXD" -f --listen "127.0.0.1:$PORT" --socket "$SOCK" \
		--data-dir "$DDIR/data" --web-root "$HX_REPO/share/web" \
		--log-level info "$@" >"$HXD_LOG" 2>&1 3>&- &
	HXD_PID=$!
	wait_ready
}

wait_ready() {
	local i
	for i in $(seq 1 200); do
		if curl -sf -o /dev/null "$URL/api/health"; then
			return 0
		fi
		if ! kill -0 "$HXD_PID" 2>/dev/null; then
			echo "horcruxd died during start-up:" >&2
			cat "$HXD_LOG" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "horcruxd not ready after 10 s" >&2
	return 1
}

# Wait until the daemon has a first host sample (GET over the socket).
wait_sample() {
	local i
	for i in $(seq 1 100); do
		if curl -sf -o /dev/null --unix-socket "$SOCK" http://localhost/api/nodes/local; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

check_sanitizers() {
	if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$HXD_LOG" >&2; then
		echo "sanitizer report in $HXD_LOG" >&2
		return 1
	fi
}

stop_daemon() {
	[ -n "${HXD_PID:-}" ] || return 0
	local rc=0
	kill -TERM "$HXD_PID" 2>/dev/null || true
	wait "$HXD_PID" || rc=$?
	HXD_PID=
	check_sanitizers
	if [ "$rc" -ne 0 ]; then
		echo "horcruxd exited with status $rc" >&2
		tail -20 "$HXD_LOG" >&2
		return 1
	fi
}

# kill_clients [PID...]: end background clients and helpers a test started
# (a proxy, a load client) and reap them; pids already gone are fine.
kill_clients() {
	local p
	for p in "$@"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# frames FILE TYPE: the data objects of every frame of TYPE, one per line.
frames() {
	jq -c --arg t "$2" 'select(.frame.type == $t) | .frame.data' "$1"
}

# health_clients: the WebSocket client count of /api/health, which only
# an authenticated caller gets (here root@local on the Unix socket).
health_clients() {
	curl -s --unix-socket "$SOCK" http://localhost/api/health | jq .clients
}

# wait_clients N: until /api/health counts N WebSocket clients (10 s).
wait_clients() {
	local i
	for i in $(seq 1 200); do
		[ "$(health_clients)" = "$1" ] && return 0
		sleep 0.05
	done
	echo "health never counted $1 clients" >&2
	return 1
}

# wait_subscribed FILE: until the client writing FILE got Subscribed (5 s).
wait_subscribed() {
	local i
	for i in $(seq 1 100); do
		grep -q '"type":"Subscribed"' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no Subscribed in $1" >&2
	return 1
}

# wait_count FILE REGEX N: until N lines of FILE match (10 s).
wait_count() {
	local i
	for i in $(seq 1 200); do
		[ "$(grep -Ec "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.05
	done
	echo "fewer than $3 lines matching '$2' in $1" >&2
	return 1
}

# Several daemons in one file (tests/0780, 0255): each instance NAME lives
# in $BATS_FILE_TMPDIR/NAME with its own port (kept across restarts in
# NAME/port), Unix socket NAME/NAME.sock, data directory and log. An
# instance started by a test is no child of teardown_file's shell, so
# stop_instance polls for the end instead of wait(1) and judges the log.

# inst_dir NAME / inst_sock NAME / inst_port NAME / inst_url NAME
inst_dir() { echo "$BATS_FILE_TMPDIR/$1"; }
inst_sock() { echo "$BATS_FILE_TMPDIR/$1/$1.sock"; }
inst_port() { cat "$BATS_FILE_TMPDIR/$1/port"; }
inst_url() { echo "http://127.0.0.1:$(inst_port "$1")"; }

# start_instance NAME [ARGS...]: start (or start again, on the same port
# and socket, with the same ARGS when none are given) and wait for
# /api/health.
start_instance() {
	local name=$1 dir
	shift
	dir=$(inst_dir "$name")
	mkdir -p "$dir"
	[ -s "$dir/port" ] || free_port >"$dir/port"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" >"$dir/args"
	fi
	local args=()
	[ -s "$dir/args" ] && mapfile -t args <"$dir/args"
	local PORT URL HXD_LOG=$dir/horcruxd.log HXD_PID
	PORT=$(inst_port "$name")
	URL=$(inst_url "$name")
	"$HXD" -f --listen "127.0.0.1:$PORT" --socket "$dir/$name.sock" \
		--data-dir "$dir/data" --web-root "$HX_REPO/share/web" \
		--log-level info "${args[@]}" >>"$HXD_LOG" 2>&1 3>&- &
	HXD_PID=$!
	echo "$HXD_PID" >"$dir/pid"
	wait_ready
}

# stop_instance NAME: SIGTERM, wait until it is gone (10 s), no sanitizer
# report in its log.
stop_instance() {
	local dir pid i HXD_LOG
	dir=$(inst_dir "$1")
	HXD_LOG=$dir/horcruxd.log
	pid=$(cat "$dir/pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	: >"$dir/pid"
	if kill -0 "$pid" 2>/dev/null; then
		echo "horcruxd $1 did not stop" >&2
		kill -KILL "$pid" 2>/dev/null || true
		return 1
	fi
	# A child of this shell: reap it (and learn its status).
	wait "$pid" 2>/dev/null || true
	check_sanitizers
}
