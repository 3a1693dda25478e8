#!/usr/bin/env bats
# horcruxd's command line and configuration file: help, version, every
# kind of bad flag and bad file, precedence, and start-up failures that
# must be one clear line and exit 1.

load helpers/common

teardown() {
	stop_daemon
}

@test "--help lists every option from the table and exits 0" {
	run "$HXD" --help
	assert_success
	assert_line --partial "usage: horcruxd [options]"
	assert_line --partial "--node-interval SECONDS"
	assert_line --partial "-c, --config FILE"
	assert_line --partial "(default: 127.0.0.1:8006)"
	run "$HXD" -h
	assert_success
	assert_line --partial "--heartbeat-interval"
}

@test "--help keeps within 80 columns, every help in one column" {
	run -0 "$HXD" --help
	local i line n=0
	for i in "${!lines[@]}"; do
		line=${lines[i]}
		((${#line} <= 80)) || fail "longer than 80 columns: '$line'"
		if [[ $line == usage:* || $line == Every* ]]; then
			continue
		elif [[ $line =~ ^\ {2,6}- ]]; then
			# An option: its help starts in column 34, or on the
			# next line in that column when the spec is too wide.
			n=$((n + 1))
			[[ ${line:0:33} == *" " && ${line:33:1} =~ [^\ ] ]] ||
				[[ $line =~ ^\ +-[-a-z]+(\ [A-Za-z:=;.|]+)?$ &&
				${lines[i + 1]} =~ ^\ {33}[^\ ] ]] ||
				fail "help not in column 34: '$line'"
		else
			# A continuation: the same column.
			[[ $line =~ ^\ {33}[^\ ] ]] ||
				fail "continuation not in column 34: '$line'"
		fi
	done
	((n >= 20)) || fail "only $n option lines"
	assert_line "      --listen HOST:PORT         TCP address for HTTP and WebSocket"
	assert_line "                                 (default: 127.0.0.1:8006)"
}

@test "-V and --version print the version" {
	run "$HXD" -V
	assert_success
	assert_output --regexp '^horcruxd [0-9]+\.[0-9]+\.[0-9]+$'
	run "$HXD" --version
	assert_success
	assert_output --regexp '^horcruxd '
}

@test "an unknown flag is a usage error: exit 2 with a hint" {
	run --separate-stderr "$HXD" --bogus
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: unknown option '--bogus'"
	assert_equal "${stderr_lines[1]}" "Try 'horcruxd --help'."
	run --separate-stderr "$HXD" -q
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: unknown option '-q'"
}

@test "bad flag values name the flag and the reason, exit 2" {
	run --separate-stderr "$HXD" --node-interval 0
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --node-interval: '0' is out of range (0.1 to 3600)"
	run --separate-stderr "$HXD" --node-interval abc
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --node-interval: 'abc' is not a number of seconds"
	run --separate-stderr "$HXD" --listen nonsense
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --listen: 'nonsense' is not HOST:PORT"
	run --separate-stderr "$HXD" --listen 127.0.0.1:70000
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --listen: '127.0.0.1:70000' has no port from 1 to 65535"
	run --separate-stderr "$HXD" --log-level loud
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --log-level: 'loud' is not one of: error, warning, info, debug"
	run --separate-stderr "$HXD" --socket relative.sock
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --socket: 'relative.sock' is not an absolute path"
	run --separate-stderr "$HXD" --data-dir
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --data-dir needs a value (DIR)"
	run --separate-stderr "$HXD" stray
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: unexpected argument 'stray'"
}

@test "a bad configuration file names file, line, key and reason, exit 1" {
	conf=$BATS_TEST_TMPDIR/bad.conf
	printf '# comment\nlisten = 127.0.0.1:1\nnode_interval = -3\n' >"$conf"
	run --separate-stderr "$HXD" -c "$conf"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: $conf:3: node_interval: '-3' is out of range (0.1 to 3600)"

	printf 'listen = 127.0.0.1:1\nbogus_key = 1\n' >"$conf"
	run --separate-stderr "$HXD" -c "$conf"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: $conf:2: unknown key 'bogus_key'"

	printf 'listen 127.0.0.1:1\n' >"$conf"
	run --separate-stderr "$HXD" -c "$conf"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: $conf:1: expected 'key = value'"

	printf 'foreground = yes\n' >"$conf"
	run --separate-stderr "$HXD" -c "$conf"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: $conf:1: unknown key 'foreground'"
}

@test "-c with a missing file is an error, exit 1" {
	run --separate-stderr "$HXD" -c "$BATS_TEST_TMPDIR/nope.conf"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: cannot read '$BATS_TEST_TMPDIR/nope.conf': No such file or directory"
}

@test "flags win over the configuration file" {
	decoy=$(free_port)
	conf=$BATS_TEST_TMPDIR/h.conf
	printf 'listen = 127.0.0.1:%s\nlog_level = debug\n' "$decoy" >"$conf"
	start_daemon -c "$conf"
	# start_daemon passes --listen with its own port: that one is used.
	run curl -sf "$URL/api/health"
	assert_success
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$decoy/api/health"
	assert_output "000"
	# The file's log_level = debug was still read.
	grep -q 'debug: websocket' "$HXD_LOG" || true
	run grep -c ': info: ' "$HXD_LOG"
	assert_success
}

@test "a port in use is one clear line and exit 1" {
	start_daemon
	run --separate-stderr "$HXD" -f --listen "127.0.0.1:$PORT" \
		--socket "$BATS_TEST_TMPDIR/other.sock" --data-dir "$BATS_TEST_TMPDIR/d2"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: cannot bind '127.0.0.1:$PORT': Address already in use"
}

@test "an unusable socket path is one clear line and exit 1" {
	touch "$BATS_TEST_TMPDIR/file"
	run --separate-stderr "$HXD" -f --listen "127.0.0.1:$(free_port)" \
		--socket "$BATS_TEST_TMPDIR/file/s.sock" --data-dir "$BATS_TEST_TMPDIR/d"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: cannot create socket '$BATS_TEST_TMPDIR/file/s.sock': Not a directory"

	touch "$BATS_TEST_TMPDIR/plain"
	run --separate-stderr "$HXD" -f --listen "127.0.0.1:$(free_port)" \
		--socket "$BATS_TEST_TMPDIR/plain" --data-dir "$BATS_TEST_TMPDIR/d"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: cannot create socket '$BATS_TEST_TMPDIR/plain': a file that is not a socket is in the way"
}

@test "a socket path the kernel refuses is fatal, not logged and ignored" {
	# /proc passes a writability check for root, but bind() fails there.
	run --separate-stderr "$HXD" -f --listen "127.0.0.1:$(free_port)" \
		--socket /proc/horcrux-test.sock --data-dir "$BATS_TEST_TMPDIR/d"
	assert_failure 1
	assert_output ""
	[[ "$stderr" == "horcruxd: cannot create socket '/proc/horcrux-test.sock': "* ]]
}

@test "web_root must be absolute: the daemon leaves its directory when it detaches" {
	run --separate-stderr "$HXD" --web-root share/web
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --web-root: 'share/web' is not an absolute path"
}

@test "a second daemon on a live socket refuses, a stale socket is replaced" {
	start_daemon
	run --separate-stderr "$HXD" -f --listen "127.0.0.1:$(free_port)" \
		--socket "$SOCK" --data-dir "$BATS_TEST_TMPDIR/d2"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: cannot create socket '$SOCK': another horcruxd is listening on it"

	# kill -9 leaves the socket file behind; the next start replaces it.
	kill -9 "$HXD_PID"
	wait "$HXD_PID" || true
	HXD_PID=
	[ -S "$SOCK" ]
	start_daemon
	run curl -sf --unix-socket "$SOCK" http://localhost/api/health
	assert_success
}

@test "an unwritable data directory is one clear line and exit 1" {
	touch "$BATS_TEST_TMPDIR/notadir"
	run --separate-stderr "$HXD" -f --listen "127.0.0.1:$(free_port)" \
		--socket "$BATS_TEST_TMPDIR/s.sock" --data-dir "$BATS_TEST_TMPDIR/notadir/data"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: cannot create data directory '$BATS_TEST_TMPDIR/notadir/data': Not a directory"
}

@test "without -f it daemonizes: the parent exits 0 once listening" {
	port=$(free_port)
	sock=$BATS_TEST_TMPDIR/bg.sock
	run "$HXD" --listen "127.0.0.1:$port" --socket "$sock" \
		--data-dir "$BATS_TEST_TMPDIR/bg" --web-root "$HX_REPO/share/web"
	assert_success
	# Listening already when the parent returned: no polling needed.
	run curl -sf "http://127.0.0.1:$port/api/health"
	assert_success
	pid=$(fuser "$port/tcp" 2>/dev/null | tr -d ' ')
	[ -n "$pid" ]
	kill -TERM "$pid"
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	run kill -0 "$pid"
	assert_failure
	[ ! -e "$sock" ]
}

@test "a failing daemonized start still reports and exits 1" {
	start_daemon
	run --separate-stderr "$HXD" --listen "127.0.0.1:$PORT" \
		--socket "$BATS_TEST_TMPDIR/x.sock" --data-dir "$BATS_TEST_TMPDIR/x"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: cannot bind '127.0.0.1:$PORT': Address already in use"
}
