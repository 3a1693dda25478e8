#!/usr/bin/env bats
# What one peer may hold and send: request framing (RFC 7230 §3.3.3),
# WebSocket sessions per user and per address, TCP connections per
# address, slow requests, and the descriptors kept for the Unix socket
# and the sampler.

load helpers/common

# raw_http BODY: send BODY (printf escapes) to the TCP port, print what
# came back and "CLOSED" if the daemon closed within 5 s, "OPEN" if not.
raw_http() {
	$PY - "$PORT" "$1" <<'PYEOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
buf, end = b"", time.time() + 5
state = "OPEN"
while time.time() < end:
    s.settimeout(end - time.time())
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    except ConnectionResetError:
        state = "CLOSED"
        break
    if not chunk:
        state = "CLOSED"
        break
    buf += chunk
sys.stdout.write(buf.decode("latin-1"))
print("\n" + state)
PYEOF
}

@test "Content-Length with Transfer-Encoding, or a chunked GET, is 400 and closes; nothing pipelined behind it is served" {
	start_daemon
	run raw_http 'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
	assert_success
	assert_line --index 0 --partial 'HTTP/1.1 400'
	assert_output --partial '"error":"BAD_REQUEST"'
	assert_equal "$(grep -o "HTTP/1.1 " <<<"$output" | wc -l)" 1
	refute_output --partial '"status":"ok"'
	assert_line CLOSED
	# A chunked GET: the chunk would be read as the next request.
	run raw_http 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n1b\r\nGET /api/health HTTP/1.1\r\n\r\n0\r\n\r\n'
	assert_success
	assert_line --index 0 --partial 'HTTP/1.1 400'
	assert_equal "$(grep -o "HTTP/1.1 " <<<"$output" | wc -l)" 1
	refute_output --partial '"status":"ok"'
	assert_line CLOSED
	# The same on HEAD and DELETE.
	for m in HEAD DELETE; do
		run raw_http "$m /api/health HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n"
		assert_line --index 0 --partial 'HTTP/1.1 400'
		assert_line CLOSED
	done
	# A WebSocket upgrade carries no body either.
	run raw_http 'GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
	assert_line --index 0 --partial 'HTTP/1.1 400'
	assert_line CLOSED
	# A plain keep-alive GET still works twice on one connection.
	run raw_http 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
	assert_equal "$(grep -o "HTTP/1.1 200" <<<"$output" | wc -l)" 2
}

HOLD="$PY $HX_REPO/tests/tools/hold-conns.py"

teardown() {
	release_holds
	stop_daemon
}

# hold OUT ARGS...: hold-conns.py in the background writing OUT; waits
# (10 s at most) for its "holding" line. Sets HOLD_PIDS.
hold() {
	local out=$1 i
	shift
	$HOLD "$@" >"$out" 2>&1 3>&- &
	HOLD_PIDS+=" $!"
	for i in $(seq 1 200); do
		grep -q '^holding' "$out" && return 0
		sleep 0.05
	done
	echo "hold-conns never got to holding:" >&2
	cat "$out" >&2
	return 1
}

release_holds() {
	# shellcheck disable=SC2086
	kill_clients ${HOLD_PIDS:-}
	HOLD_PIDS=
}

# mkuser NAME: a local user with no roles and the password pw-NAME-123;
# token NAME prints a session token for NAME.
mkuser() {
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
		-H 'Content-Type: application/json' -X POST http://localhost/api/users \
		-d "{\"username\":\"$1\",\"password\":\"pw-$1-123\",\"roles\":[]}"
	assert_output 201
}

token() {
	curl -s -X POST "$URL/api/auth/login" -H 'Content-Type: application/json' \
		-d "{\"username\":\"$1\",\"password\":\"pw-$1-123\"}" | jq -er .token
}


@test "WebSocket sessions per user: over max_clients_per_user is 429; other users and root@local still connect" {
	start_daemon --max-clients-per-user 3 --max-clients-per-address 100
	mkuser alice
	mkuser bob
	ta=$(token alice)
	tb=$(token bob)
	hold "$BATS_TEST_TMPDIR/a" ws "127.0.0.1:$PORT" 4 --header "Authorization: Bearer $ta"
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf '101\n101\n101\n429 RATE_LIMITED\nholding')"
	# Another user is not affected, nor is root@local on the socket.
	hold "$BATS_TEST_TMPDIR/b" ws "127.0.0.1:$PORT" 1 --header "Authorization: Bearer $tb"
	assert_equal "$(head -1 "$BATS_TEST_TMPDIR/b")" 101
	hold "$BATS_TEST_TMPDIR/r" ws "unix:$SOCK" 5
	assert_equal "$(grep -c '^101$' "$BATS_TEST_TMPDIR/r")" 5
	wait_clients 9
	# The refusal is answered before the upgrade, as JSON with a reason.
	run curl -s -i --http1.1 -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
		-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
		-H "Authorization: Bearer $ta" "$URL/api/ws"
	assert_line --index 0 --partial 'HTTP/1.1 429'
	assert_output --partial 'max_clients_per_user is 3'
	# A slot freed is a slot again.
	release_holds
	wait_clients 0
	hold "$BATS_TEST_TMPDIR/a2" ws "127.0.0.1:$PORT" 3 --header "Authorization: Bearer $ta"
	assert_equal "$(grep -c '^101$' "$BATS_TEST_TMPDIR/a2")" 3
}

@test "WebSocket sessions per address: over max_clients_per_address is 429; another address still connects" {
	start_daemon --max-clients-per-user 100 --max-clients-per-address 2
	mkuser alice
	ta=$(token alice)
	hold "$BATS_TEST_TMPDIR/a" ws "127.0.0.1:$PORT" 3 --source 127.0.0.2 --header "Authorization: Bearer $ta"
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf '101\n101\n429 RATE_LIMITED\nholding')"
	hold "$BATS_TEST_TMPDIR/b" ws "127.0.0.1:$PORT" 2 --source 127.0.0.3 --header "Authorization: Bearer $ta"
	assert_equal "$(grep -c '^101$' "$BATS_TEST_TMPDIR/b")" 2
}

# refused_sum: the refusals the log's "refused N WebSocket upgrade(s)"
# lines count, in total; refused_lines: how many such lines.
refused_sum() {
	grep -oE 'refused [0-9]+ WebSocket upgrades? in the last second: max_clients \(4\) reached' "$HXD_LOG" |
		awk '{ n += $2 } END { print n + 0 }'
}
refused_lines() {
	grep -cE 'refused [0-9]+ WebSocket upgrades? in the last second' "$HXD_LOG" || true
}

# wait_refused N: until the log's refusal lines count N in total (10 s).
wait_refused() {
	local i
	for i in $(seq 1 200); do
		[ "$(refused_sum)" -ge "$1" ] && break
		sleep 0.05
	done
	assert_equal "$(refused_sum)" "$1"
}

@test "max_clients: TCP gets 503 first (reserved_unix_clients kept), refusals logged once a second with a count, root@local still gets in; RLIMIT_NOFILE raised to fit" {
	# A soft descriptor limit below what max_clients needs (4 + 360):
	# raised to fit at start, not to the hard limit.
	DDIR=$BATS_TEST_TMPDIR/hx
	mkdir -p "$DDIR"
	PORT=$(free_port)
	SOCK=$DDIR/s.sock
	HXD_LOG=$DDIR/horcruxd.log
	URL=http://127.0.0.1:$PORT
	prlimit --nofile=128:4096 "$HXD" -f --listen "127.0.0.1:$PORT" --socket "$SOCK" \
		--data-dir "$DDIR/data" --max-clients 4 --reserved-unix-clients 2 \
		>"$HXD_LOG" 2>&1 3>&- &
	HXD_PID=$!
	wait_ready
	run grep -E '^Max open files +364 +4096 ' /proc/$HXD_PID/limits
	assert_success
	mkuser alice
	ta=$(token alice)
	hold "$BATS_TEST_TMPDIR/a" ws "127.0.0.1:$PORT" 3 --header "Authorization: Bearer $ta"
	run cat "$BATS_TEST_TMPDIR/a"
	assert_output "$(printf '101\n101\n503 UNAVAILABLE\nholding')"
	# The refusal is answered before the upgrade, as JSON with a reason.
	run curl -s -i --http1.1 -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
		-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
		-H "Authorization: Bearer $ta" "$URL/api/ws"
	assert_line --index 0 --partial 'HTTP/1.1 503'
	assert_output --partial '"error":"UNAVAILABLE"'
	assert_output --partial 'too many clients'
	# The first refusal after a quiet second is logged at once.
	wait_refused 2
	# A burst of refusals: every one counted, in one line a second at
	# most (the lines before and after the burst are allowed for).
	before=$(refused_lines)
	t0=$(date +%s)
	hold "$BATS_TEST_TMPDIR/burst" ws "127.0.0.1:$PORT" 40 --header "Authorization: Bearer $ta"
	t1=$(date +%s)
	assert_equal "$(grep -c '^503 UNAVAILABLE$' "$BATS_TEST_TMPDIR/burst")" 40
	wait_refused 42
	lines=$(($(refused_lines) - before))
	[ "$lines" -ge 1 ]
	[ "$lines" -le $((t1 - t0 + 2)) ] || { echo "$lines lines in $((t1 - t0)) s" >&2; false; }
	[ "$lines" -lt 40 ]
	# TCP is full; root@local still gets the two kept slots, then 503.
	hold "$BATS_TEST_TMPDIR/r" ws "unix:$SOCK" 3
	run cat "$BATS_TEST_TMPDIR/r"
	assert_output "$(printf '101\n101\n503 UNAVAILABLE\nholding')"
	wait_refused 43
	# And horcrux-top's way in, hx-wsclient on the socket, once one frees.
	kill ${HOLD_PIDS##* }
	wait_clients 2
	run "$WSC" --url "unix:$SOCK" --count 1 --timeout 5
	assert_success
}

@test "bad limits are refused at start with a reason" {
	run "$HXD" -f --max-clients 4 --reserved-unix-clients 4 --socket "$BATS_TEST_TMPDIR/s" --data-dir "$BATS_TEST_TMPDIR/d"
	assert_failure 1
	assert_output --partial "reserved_unix_clients (4) must be below max_clients (4)"
	for o in --max-clients-per-user --max-clients-per-address --max-connections-per-address --request-timeout; do
		run "$HXD" -f "$o" 0 --socket "$BATS_TEST_TMPDIR/s" --data-dir "$BATS_TEST_TMPDIR/d"
		assert_failure 2
		assert_output --partial "${o#--}"
	done
}

@test "TCP connections per address: over max_connections_per_address are closed; another address is served" {
	start_daemon --max-connections-per-address 10 --request-timeout 60
	hold "$BATS_TEST_TMPDIR/a" tcp "127.0.0.1:$PORT" 15 --source 127.0.0.2 --expect-open 10
	assert_equal "$(head -1 "$BATS_TEST_TMPDIR/a")" "open 10 closed 5"
	run curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$URL/api/health"
	assert_output 000
	run curl -s --interface 127.0.0.3 -o /dev/null -w '%{http_code}' "$URL/api/health"
	assert_output 200
	run curl -s --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' http://localhost/api/health
	assert_output 200
	# Closed connections give their place back.
	release_holds
	for i in $(seq 1 100); do
		[ "$(curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$URL/api/health")" = 200 ] && break
		sleep 0.05
	done
	run curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$URL/api/health"
	assert_output 200
}

@test "a connection that sends no complete request is closed after request_timeout" {
	start_daemon --request-timeout 1
	run $PY - "$PORT" <<'PYEOF'
import socket, sys, time
out = []
for first in (b"", b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    t0 = time.time()
    s.sendall(first)
    s.settimeout(8)
    try:
        d = s.recv(100)
    except socket.timeout:
        d = None
    out.append("closed %.1f" % (time.time() - t0) if d == b"" else "open")
print(" ".join(out))
PYEOF
	assert_success
	[[ "$output" =~ ^closed\ ([0-9.]+)\ closed\ ([0-9.]+)$ ]]
	for t in "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"; do
		jq -en --argjson t "$t" '$t >= 0.8 and $t < 4'
	done
}

@test "idle TCP connections cannot starve the Unix socket or the sampler of descriptors" {
	# A low descriptor limit (soft and hard) stands for a real one.
	DDIR=$BATS_TEST_TMPDIR/hx
	mkdir -p "$DDIR"
	PORT=$(free_port)
	SOCK=$DDIR/s.sock
	HXD_LOG=$DDIR/horcruxd.log
	URL=http://127.0.0.1:$PORT
	prlimit --nofile=256:256 "$HXD" -f --listen "127.0.0.1:$PORT" --socket "$SOCK" \
		--data-dir "$DDIR/data" --node-interval 0.2 --request-timeout 60 \
		--max-connections-per-address 1000 >"$HXD_LOG" 2>&1 3>&- &
	HXD_PID=$!
	wait_ready
	hold "$BATS_TEST_TMPDIR/a" tcp "127.0.0.1:$PORT" 300 --wait 5
	read -r _ open _ closed < "$BATS_TEST_TMPDIR/a"
	# Some were turned away, and most were kept.
	[ "$closed" -ge 50 ]
	[ "$open" -ge 100 ]
	run curl -s --max-time 5 --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' http://localhost/api/health
	assert_output 200
	# The sampler keeps sampling, and a fresh NodeMetrics reaches root@local.
	run "$WSC" --url "unix:$SOCK" --send '{"topics":["node:metrics"]}' --count 4 --timeout 5
	assert_success
	[ "$(grep -c '"type":"NodeMetrics"' <<<"$output")" -ge 2 ]
	run grep -i 'too many open files' "$HXD_LOG"
	assert_failure
	# The hard limit cannot hold max_clients (10,000): said once.
	run grep -c 'descriptors: max_clients (10000) needs 10360, the limit is 256 (RLIMIT_NOFILE, hard limit 256): admitting at most [0-9]* WebSocket clients' "$HXD_LOG"
	assert_output 1
}
