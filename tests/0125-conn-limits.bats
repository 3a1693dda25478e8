#!/usr/bin/env bats
# What one peer may hold and send: request framing (RFC 7230 §3.3.3),
# WebSocket sessions per user and per address, TCP connections per
# address, slow requests, and the descriptors kept for the Unix socket
# and the sampler.

load helpers/common

teardown() {
	stop_daemon
}

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
