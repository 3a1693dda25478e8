#!/usr/bin/env bats
# The HTTP side: health, the route table's answers, static files and
# their safety, and the security headers.

load helpers/common

setup() {
	start_daemon
}

teardown() {
	stop_daemon
}

@test "GET /api/health is public and reports status, version, uptime; clients only when authenticated" {
	run curl -s -w '\n%{http_code}' "$URL/api/health"
	assert_line --index 1 200
	body=${lines[0]}
	assert_equal "$(jq -r .status <<<"$body")" ok
	assert_equal "$(jq -r .version <<<"$body")" "$("$HXD" -V | cut -d' ' -f2)"
	jq -e '.uptime_seconds >= 0 and .uptime_seconds < 60' <<<"$body"
	assert_equal "$(jq -c 'keys' <<<"$body")" '["status","uptime_seconds","version"]'
	run curl -s --unix-socket "$SOCK" http://localhost/api/health
	jq -e '.status == "ok" and .clients == 0' <<<"$output"
}

@test "API errors are JSON with the right status; anonymous callers learn nothing" {
	run curl -s -w '\n%{http_code}' "$URL/api/nodes/local"
	assert_line --index 1 401
	assert_equal "$(jq -r .error <<<"${lines[0]}")" UNAUTHORIZED
	# An unknown API path is not revealed to anonymous callers...
	run curl -s -o /dev/null -w '%{http_code}' "$URL/api/no/such/route"
	assert_output 401
	# ...but a trusted caller gets 404, and 405 with Allow for a wrong method.
	run curl -s -w '\n%{http_code}' --unix-socket "$SOCK" http://localhost/api/no/such/route
	assert_line --index 1 404
	assert_equal "$(jq -r .error <<<"${lines[0]}")" NOT_FOUND
	run curl -s -i -X DELETE --unix-socket "$SOCK" http://localhost/api/health
	assert_line --partial "405"
	assert_line --regexp '^allow: GET'
	# A wrong method on a public route is 405 for anyone.
	run curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/health"
	assert_output 405
	# Plain GET on the WebSocket endpoint: 426 for a trusted caller.
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://localhost/api/ws
	assert_output 426
}

@test "GET /api/protocol is public: the --dump-protocol JSON, cacheable by ETag" {
	local dump etag
	run --separate-stderr "$HXD" --dump-protocol
	assert_success
	dump=$output
	# The table, not an empty shell: every topic and event is there.
	assert_equal "$(jq -c '[.topics[].name]' <<<"$dump")" \
	    '["node:metrics","vm:metrics","vm:status","vm:events","backups","migrations","alerts","notifications"]'
	jq -e '[.events[].type] | index("NodeMetrics") and index("Ping")' <<<"$dump"
	# Anonymous over TCP: 200, the same JSON, a strong ETag, revalidated.
	run curl -s -D "$BATS_TEST_TMPDIR/h" -w '\n%{http_code}' "$URL/api/protocol"
	assert_line --index 1 200
	assert_equal "$(jq -S . <<<"${lines[0]}")" "$(jq -S . <<<"$dump")"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/h"
	assert_line --regexp '^content-type: application/json'
	assert_line 'cache-control: no-cache'
	refute_line --partial 'no-store'
	assert_line --regexp '^etag: "[0-9a-f]{16}"$'
	etag=$(sed -n 's/^etag: //p' <<<"$output")
	# The same ETag on the Unix socket; a match answers 304, empty.
	run curl -s -D - -o /dev/null --unix-socket "$SOCK" http://localhost/api/protocol
	assert_line --partial "etag: $etag"
	run curl -s -w '%{http_code} %{size_download}' -H "If-None-Match: $etag" "$URL/api/protocol"
	assert_output "304 0"
	run curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "0000000000000000"' "$URL/api/protocol"
	assert_output 200
	# Other replies still say no-store.
	run curl -s -D - -o /dev/null "$URL/api/health"
	assert_line --partial 'cache-control: no-store'
	# A wrong method is 405 for anyone, with Allow; a foreign Host is 400.
	run curl -s -i -X POST "$URL/api/protocol"
	assert_line --partial "405"
	assert_line --regexp '^allow: GET'
	run curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$URL/api/protocol"
	assert_output 400
}

@test "the web root is served at / with security headers" {
	run curl -s -i "$URL/"
	assert_line --regexp '^HTTP/1.1 200'
	assert_line --regexp '^content-type: text/html'
	assert_line --regexp "^content-security-policy: default-src 'none'"
	assert_line --regexp '^x-frame-options: deny'
	assert_output --partial '<html'
}

@test "static files cannot escape the web root" {
	for p in /../../../../etc/passwd /%2e%2e/%2e%2e/etc/passwd /..%2f..%2fetc/passwd; do
		run curl -s --path-as-is -o /dev/null -w '%{http_code}' "$URL$p"
		refute_output 200
	done
	ln -s /etc/passwd "$BATS_TEST_TMPDIR/link"
	run curl -s --path-as-is "$URL/../../../../etc/passwd"
	refute_output --partial "root:x:0:0"
	run curl -s -o /dev/null -w '%{http_code}' "$URL/no-such-file.js"
	assert_output 404
}

@test "an oversized header is refused, not truncated" {
	big=$(head -c 12000 /dev/zero | tr '\0' a)
	run curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/api/health"
	refute_output 200
	# The daemon is still fine.
	run curl -sf "$URL/api/health"
	assert_success
}

@test "a peer that connects and closes without a request does not hurt the daemon" {
	for _ in 1 2 3; do
		$PY -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.close()' "$SOCK"
		$PY -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.close()' "$PORT"
	done
	run curl -sf --unix-socket "$SOCK" http://localhost/api/health
	assert_success
	kill -0 "$HXD_PID"
}
