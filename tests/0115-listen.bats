#!/usr/bin/env bats
# The TCP listener binds exactly the address given. Each test runs the
# daemon in a network namespace of its own (lo with 127.0.0.1, ::1,
# 198.51.100.1 and fd00:beef::1; a private /etc/hosts naming the first
# two localhost and the last two hx-test.example), so no traffic ever
# leaves it.

load helpers/common

setup() {
	[ "$(id -u)" = 0 ] || skip "a network namespace of our own needs root"
	DDIR=$BATS_TEST_TMPDIR/hx
	SOCK=$DDIR/s.sock
	HXD_LOG=$DDIR/horcruxd.log
	mkdir -p "$DDIR"
	printf '127.0.0.1 localhost\n::1 localhost\n198.51.100.1 hx-test.example\nfd00:beef::1 hx-test.example\n' \
		>"$BATS_TEST_TMPDIR/hosts"
	unshare -n -m --propagation private sleep 600 3>&- &
	NS_PID=$!
	local i self
	self=$(readlink /proc/self/ns/net)
	for i in $(seq 1 100); do
		[ "$(readlink "/proc/$NS_PID/ns/net" 2>/dev/null)" != "$self" ] && break
		sleep 0.05
	done
	ns ip link set lo up
	ns ip addr add 198.51.100.1/32 dev lo
	ns ip addr add fd00:beef::1/128 dev lo nodad
	ns mount --bind "$BATS_TEST_TMPDIR/hosts" /etc/hosts
	PORT=18006
}

teardown() {
	stop_daemon
	if [ -n "${NS_PID:-}" ]; then
		kill "$NS_PID" 2>/dev/null || true
		wait "$NS_PID" 2>/dev/null || true
	fi
}

ns() {
	nsenter -t "$NS_PID" -n -m "$@"
}

# ns_daemon LISTEN [ARGS...]: horcruxd inside the namespace; waits for
# the Unix socket to answer.
ns_daemon() {
	local listen=$1 i
	shift
	nsenter -t "$NS_PID" -n -m "$HXD" -f --listen "$listen" \
		--socket "$SOCK" --data-dir "$DDIR/data"\
		--log-level info "$@" >"$HXD_LOG" 2>&1 3>&- &
	HXD_PID=$!
	for i in $(seq 1 200); do
		curl -sf -o /dev/null --unix-socket "$SOCK" http://localhost/api/health && return 0
		if ! kill -0 "$HXD_PID" 2>/dev/null; then
			cat "$HXD_LOG" >&2
			return 1
		fi
		sleep 0.05
	done
	return 1
}

# answers URL: print the HTTP status, or "refused" (curl exit 7).
answers() {
	local rc=0 out
	out=$(ns curl -s -g -o /dev/null -w '%{http_code}' --max-time 5 "$1/api/health") || rc=$?
	if [ "$rc" -eq 7 ]; then
		echo refused
	else
		echo "$out"
	fi
}

# listeners: the local addresses listening on PORT, sorted, one a line.
listeners() {
	ns ss -Hltn "sport = :$PORT" | awk '{print $4}' | sort
}

@test "--listen 127.0.0.1:PORT binds 127.0.0.1 only: other addresses of the host are refused" {
	ns_daemon "127.0.0.1:$PORT"
	assert_equal "$(listeners)" "127.0.0.1:$PORT"
	assert_equal "$(answers "http://127.0.0.1:$PORT")" 200
	assert_equal "$(answers "http://198.51.100.1:$PORT")" refused
	assert_equal "$(answers "http://[fd00:beef::1]:$PORT")" refused
	assert_equal "$(answers "http://[::1]:$PORT")" refused
}

@test "--listen [::1]:PORT binds ::1 only" {
	ns_daemon "[::1]:$PORT"
	assert_equal "$(listeners)" "[::1]:$PORT"
	assert_equal "$(answers "http://[::1]:$PORT")" 200
	assert_equal "$(answers "http://127.0.0.1:$PORT")" refused
	assert_equal "$(answers "http://198.51.100.1:$PORT")" refused
	assert_equal "$(answers "http://[fd00:beef::1]:$PORT")" refused
	grep -F "listening on [::1]:$PORT and" "$HXD_LOG"
}

@test "a host name binds every address it resolves to, and nothing else" {
	# No credentials yet: a name beyond loopback is refused at start.
	# (Plain HTTP allowed: TLS is tests/0800's.)
	run nsenter -t "$NS_PID" -n -m "$HXD" -f --listen "hx-test.example:$PORT" \
		--socket "$SOCK" --data-dir "$DDIR/data" --allow-plain-http
	assert_failure 1
	assert_output --partial "refusing to listen on 'hx-test.example:$PORT': no user"
	# Create a user over the Unix socket of a loopback daemon.
	ns_daemon "127.0.0.1:$PORT"
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
		-H 'Content-Type: application/json' -X POST http://localhost/api/users \
		-d '{"username":"admin","password":"correct horse battery","roles":["Administrator"]}'
	assert_output 201
	stop_daemon
	ns_daemon "hx-test.example:$PORT" --allow-plain-http
	assert_equal "$(listeners)" "$(printf '198.51.100.1:%s\n[fd00:beef::1]:%s' "$PORT" "$PORT" | sort)"
	assert_equal "$(answers "http://198.51.100.1:$PORT")" 200
	assert_equal "$(answers "http://[fd00:beef::1]:$PORT")" 200
	assert_equal "$(answers "http://127.0.0.1:$PORT")" refused
	assert_equal "$(answers "http://[::1]:$PORT")" refused
	grep -F "listening on hx-test.example:$PORT (" "$HXD_LOG"
}

@test "no credentials: a loopback name or address starts, a wide address refuses" {
	ns_daemon "localhost:$PORT"
	assert_equal "$(listeners)" "$(printf '127.0.0.1:%s\n[::1]:%s' "$PORT" "$PORT" | sort)"
	assert_equal "$(answers "http://127.0.0.1:$PORT")" 200
	assert_equal "$(answers "http://[::1]:$PORT")" 200
	assert_equal "$(answers "http://198.51.100.1:$PORT")" refused
	stop_daemon
	for l in "198.51.100.1:$PORT" "[fd00:beef::1]:$PORT" "0.0.0.0:$PORT" "[::]:$PORT"; do
		run nsenter -t "$NS_PID" -n -m "$HXD" -f --listen "$l" \
			--socket "$SOCK" --data-dir "$DDIR/data" --allow-plain-http
		assert_failure 1
		assert_output --partial "': no user has a password or API key yet"
	done
}
