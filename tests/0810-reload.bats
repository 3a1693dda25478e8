#!/usr/bin/env bats
# SIGHUP (DESIGN §12): the daemon reads its configuration file again and
# applies what can change live - log level, allowed hosts and origins,
# the sampling intervals, the TLS certificate - while WebSocket sessions
# opened before the first reload (one on the Unix socket, one over wss)
# keep receiving on the same connection; a bad file changes nothing and
# says why; listen and data_dir are named as needing a restart; a
# command-line flag keeps winning over the file.
#
# One daemon for the file, TLS on its TCP listener with a certificate
# from a CA made here (curl trusts it through CURL_CA_BUNDLE), started
# with -c and every setting that a test changes in the file (a flag would
# win over it), plus one flag (--request-timeout) to show flags still win
# after a reload.

load helpers/common

# write_conf [LINE...]: the base settings, then LINEs (a later key wins).
write_conf() {
	{
		echo "listen = 127.0.0.1:$PORT"
		echo "socket = $SOCK"
		echo "data_dir = $DDIR/data"
		echo "web_root = $HX_REPO/share/web"
		echo "libvirt_uri = test:///default"
		echo "log_level = info"
		echo "node_interval = 2"
		echo "vm_interval = 2"
		echo "request_timeout = 10"
		echo "tls_cert = $PKI/server.pem"
		echo "tls_key = $PKI/server.key"
		printf '%s\n' "$@"
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
}

# reloads: how many reloads the log has finished (applied or refused).
reloads() {
	grep -Ec 'configuration (reloaded|not reloaded)' "$HXD_LOG" || true
}

# hup: SIGHUP, then wait until the log says the reload finished; the time
# it was sent (epoch ms) goes to $BATS_FILE_TMPDIR/hups.
hup() {
	local n
	n=$(reloads)
	date +%s%3N >>"$BATS_FILE_TMPDIR/hups"
	kill -HUP "$HXD_PID"
	wait_count "$HXD_LOG" 'configuration (reloaded|not reloaded)' $((n + 1))
}

# last_reload: the log lines of the newest reload (from its "SIGHUP" line).
last_reload() {
	awk '/SIGHUP: reading/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$HXD_LOG"
}

# host_status HOST: the status of GET /api/health sent with Host: HOST.
host_status() {
	curl -s -o /dev/null -w '%{http_code}' -H "Host: $1" "$URL/api/health"
}

# arrivals TYPE AFTER: arrival times (epoch ms) of the session's TYPE
# frames that came after AFTER, one per line; the session is the Unix
# socket's, or the one whose output ARR_FILE names.
arrivals() {
	jq -r --arg t "$1" --argjson a "$2" \
		'select(.frame.type? == $t and .t > $a) | .t | floor' \
		"${ARR_FILE:-$WS_OUT}"
}

# wait_frames FILE TYPE AFTER N: until N TYPE frames came after AFTER in
# the session writing FILE (10 s).
wait_frames() {
	local i
	for i in $(seq 1 200); do
		[ "$(ARR_FILE=$1 arrivals "$2" "$3" | wc -l)" -ge "$4" ] && return 0
		sleep 0.05
	done
	echo "fewer than $4 $2 frames after $3 in $1" >&2
	return 1
}

# max_gap: the largest difference between successive numbers on stdin.
max_gap() {
	awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1 } END { print m + 0 }'
}

# wait_cadence TYPE AFTER MAXGAP: until at least 4 TYPE frames came after
# AFTER, none more than MAXGAP ms after the one before (10 s).
wait_cadence() {
	local i
	for i in $(seq 1 200); do
		if [ "$(arrivals "$1" "$2" | wc -l)" -ge 4 ] &&
			[ "$(arrivals "$1" "$2" | max_gap)" -le "$3" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "$1 frames after $2: $(arrivals "$1" "$2" | tr '\n' ' ')" >&2
	return 1
}

# new_cert NAME SERIAL CN: an EC key NAME.key and a certificate NAME.pem
# for 127.0.0.1 and localhost from the test CA, in $PKI.
new_cert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$PKI/$1.key" -subj "/CN=$3" \
		-out "$PKI/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.pem" \
			-CAkey "$PKI/ca.key" -set_serial "$2" -days 30 \
			-extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n') \
			-out "$PKI/$1.pem" 2>/dev/null &&
		chmod 0600 "$PKI/$1.key"
}

# served_serial: the serial of the certificate the TCP listener presents.
served_serial() {
	openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$PKI/ca.pem" \
		-verify_return_error </dev/null 2>/dev/null |
		openssl x509 -noout -serial
}

setup_file() {
	export DDIR=$BATS_FILE_TMPDIR/hx CONF=$BATS_FILE_TMPDIR/horcrux.conf
	export PKI=$BATS_FILE_TMPDIR/pki
	mkdir -p "$DDIR" "$PKI"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$PKI/ca.key" -subj "/CN=Horcrux reload test CA" \
		-days 30 -out "$PKI/ca.pem" 2>/dev/null || return 1
	new_cert server 0x1001 horcrux-first || return 1
	export CURL_CA_BUNDLE=$PKI/ca.pem
	PORT=$(free_port)
	SOCK=$DDIR/s.sock
	HXD_LOG=$DDIR/horcruxd.log
	URL=https://127.0.0.1:$PORT
	export PORT SOCK HXD_LOG URL
	write_conf
	"$HXD" -f -c "$CONF" --request-timeout 5 >"$HXD_LOG" 2>&1 3>&- &
	HXD_PID=$!
	export HXD_PID
	wait_ready || return 1
	wait_sample || return 1
	# The session every test's reload must leave alone.
	export WS_OUT=$BATS_FILE_TMPDIR/ws.out
	"$WSC" --url "unix:$SOCK" --timeout 600 \
		--send '{"topics":["node:metrics","vm:metrics"]}' \
		>"$WS_OUT" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/ws.pid"
	wait_subscribed "$WS_OUT" || return 1
	# And one over wss, as a user with an API key (Auditor: SysAudit).
	curl -sf --unix-socket "$SOCK" -X POST http://localhost/api/users \
		-d '{"username":"watcher","password":"watcher-pass-1","roles":["Auditor"]}' \
		>/dev/null || return 1
	KEY=$(curl -sf --unix-socket "$SOCK" -X POST \
		http://localhost/api/users/watcher/api-keys -d '{"name":"w"}' |
		jq -r .token) || return 1
	export WSS_OUT=$BATS_FILE_TMPDIR/wss.out
	"$WSC" --url "wss://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $KEY" \
		--timeout 600 --send '{"topics":["node:metrics"]}' \
		>"$WSS_OUT" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/wss.pid"
	wait_subscribed "$WSS_OUT"
}

teardown_file() {
	kill_clients "$(cat "$BATS_FILE_TMPDIR/ws.pid")" \
		"$(cat "$BATS_FILE_TMPDIR/wss.pid")"
	stop_daemon
}

@test "the same file again: 'configuration reloaded: no change'" {
	hup
	run last_reload
	assert_output --partial "configuration reloaded: no change"
	refute_output --partial "needs a restart"
}

@test "log_level = debug: debug lines appear only after the SIGHUP" {
	# A WebSocket session opening is a debug line.
	run "$WSC" --url "unix:$SOCK" --count 1 --timeout 5
	assert_success
	run grep -c 'debug: ' "$HXD_LOG"
	assert_output 0
	write_conf "log_level = debug"
	hup
	run last_reload
	assert_output --partial "configuration reloaded: changed log_level"
	run "$WSC" --url "unix:$SOCK" --count 1 --timeout 5
	assert_success
	wait_count "$HXD_LOG" 'debug: websocket session opened for root@local' 1
	# Back to info: no more of them.
	write_conf
	hup
	n=$(grep -c 'debug: websocket session opened' "$HXD_LOG" || true)
	run "$WSC" --url "unix:$SOCK" --count 1 --timeout 5
	assert_success
	run grep -c 'debug: websocket session opened' "$HXD_LOG"
	assert_output "$n"
}

@test "allowed_hosts and allowed_origins change live, both ways" {
	assert_equal "$(host_status mon.example.test)" 400
	run curl -s -D - -o /dev/null -X OPTIONS \
		-H "Origin: https://dash.example.test" "$URL/api/health"
	refute_output --partial "access-control-allow-origin"

	write_conf "allowed_hosts = mon.example.test" \
		"allowed_origins = https://dash.example.test"
	hup
	run last_reload
	assert_output --partial "configuration reloaded: changed allowed_hosts, allowed_origins"
	assert_equal "$(host_status mon.example.test)" 200
	assert_equal "$(host_status "mon.example.test:$PORT")" 200
	run curl -s -D - -o /dev/null -X OPTIONS \
		-H "Origin: https://dash.example.test" "$URL/api/health"
	assert_line --partial "access-control-allow-origin: https://dash.example.test"

	# Removed again: refused again (the list is rebuilt, not added to).
	write_conf
	hup
	assert_equal "$(host_status mon.example.test)" 400
	assert_equal "$(host_status 127.0.0.1)" 200
	run curl -s -D - -o /dev/null -X OPTIONS \
		-H "Origin: https://dash.example.test" "$URL/api/health"
	refute_output --partial "access-control-allow-origin"
}

# raw_step SERIES: the step of the last minute of SERIES' history, in
# seconds (the raw tier's: the sampling interval), once SERIES is stored
# (10 s).
raw_step() {
	local i out
	for i in $(seq 1 200); do
		out=$(curl -s --unix-socket "$SOCK" \
			"http://localhost/api/metrics/history?series=$1&from=-1m" |
			jq -r '.series[0].step // empty' 2>/dev/null)
		[ -n "$out" ] && break
		sleep 0.05
	done
	echo "$out"
}

@test "node_interval and vm_interval change live: samples come faster" {
	# Before: 2 s apart (the session has been receiving since setup).
	wait_cadence NodeMetrics 0 2500
	wait_cadence VmMetrics 0 2500
	[ "$(arrivals NodeMetrics 0 | tail -3 | max_gap)" -ge 1500 ]
	[ "$(arrivals VmMetrics 0 | tail -3 | max_gap)" -ge 1500 ]
	# The history's raw step is the sampling interval too.
	assert_equal "$(raw_step node:cpu_usage)" 2
	write_conf "node_interval = 0.25" "vm_interval = 0.3"
	hup
	run last_reload
	assert_output --partial "configuration reloaded: changed node_interval, vm_interval"
	t=$(tail -1 "$BATS_FILE_TMPDIR/hups")
	wait_cadence NodeMetrics "$t" 700
	wait_cadence VmMetrics "$t" 800
	assert_equal "$(raw_step node:cpu_usage)" 0.25
	assert_equal "$(raw_step vm:test:cpu_usage)" 0.3
	# And slower again.
	write_conf
	hup
	t=$(tail -1 "$BATS_FILE_TMPDIR/hups")
	# The first sample after the HUP may still be a fast one.
	for i in $(seq 1 200); do
		[ "$(arrivals NodeMetrics "$t" | wc -l)" -ge 3 ] && break
		sleep 0.05
	done
	[ "$(arrivals NodeMetrics "$t" | tail -2 | max_gap)" -ge 1500 ]
}

@test "a bad file keeps every old setting, says why, and the daemon serves on" {
	write_conf "allowed_hosts = bad.example.test" "log_level = debug" \
		"node_interval = 0"
	hup
	run last_reload
	assert_output --partial "error: configuration not reloaded, the running settings stay: $CONF:14: node_interval: '0' is out of range (0.1 to 3600)"
	refute_output --partial "configuration reloaded"
	# Not even the valid lines before the bad one were applied.
	assert_equal "$(host_status bad.example.test)" 400
	n=$(grep -c 'debug: ' "$HXD_LOG" || true)
	run "$WSC" --url "unix:$SOCK" --count 1 --timeout 5
	assert_success
	assert_equal "$(host_status 127.0.0.1)" 200
	run grep -c 'debug: ' "$HXD_LOG"
	assert_output "$n"

	# An unknown key and a line without '=' are refused the same way.
	write_conf "no_such_key = 1"
	hup
	run last_reload
	assert_output --partial "configuration not reloaded, the running settings stay: $CONF:12: unknown key 'no_such_key'"
	write_conf "just words"
	hup
	run last_reload
	assert_output --partial "configuration not reloaded, the running settings stay: $CONF:12:"
	# A good file applies again.
	write_conf "allowed_hosts = bad.example.test"
	hup
	assert_equal "$(host_status bad.example.test)" 200
	write_conf
	hup
}

@test "listen, socket and data_dir changes need a restart and are named; flags keep winning" {
	other=$(free_port)
	write_conf "listen = 127.0.0.1:$other" "socket = $DDIR/other.sock" \
		"data_dir = $DDIR/other-data" "request_timeout = 30" \
		"max_clients = 500"
	hup
	run last_reload
	assert_line --partial "warning: configuration reload: listen changed but needs a restart; the running value stays"
	assert_line --partial "warning: configuration reload: socket changed but needs a restart; the running value stays"
	assert_line --partial "warning: configuration reload: data_dir changed but needs a restart; the running value stays"
	assert_line --partial "warning: configuration reload: max_clients changed but needs a restart; the running value stays"
	# --request-timeout 5 on the command line wins over the file's 30.
	refute_output --partial "request_timeout"
	assert_output --partial "configuration reloaded: no change"
	# Still where it was, and nowhere new.
	assert_equal "$(host_status 127.0.0.1)" 200
	run curl -s -o /dev/null "http://127.0.0.1:$other/api/health"
	assert_failure
	[ -S "$SOCK" ]
	[ ! -e "$DDIR/other.sock" ]
	[ ! -e "$DDIR/other-data" ]
	write_conf
	hup
	run last_reload
	refute_output --partial "needs a restart"
}

@test "SIGHUP rotates the TLS certificate; the wss session opened with the old one keeps receiving" {
	run served_serial
	assert_output "serial=1001"
	new_cert next 0x2002 horcrux-rotated
	mv "$PKI/next.key" "$PKI/server.key"
	mv "$PKI/next.pem" "$PKI/server.pem"
	hup
	run served_serial
	assert_output "serial=2002"
	run last_reload
	assert_output --partial "TLS: now serving '$PKI/server.pem' (/CN=horcrux-rotated"
	assert_output --partial "configuration reloaded: no change"
	# curl checks the new one against the CA too.
	assert_equal "$(host_status 127.0.0.1)" 200
	t=$(tail -1 "$BATS_FILE_TMPDIR/hups")
	wait_frames "$WSS_OUT" NodeMetrics "$t" 2
	run grep -Ec '"close"|"error"' "$WSS_OUT"
	assert_output 0

	# New paths work as well; a key of another certificate refuses the
	# whole reload (the debug level beside it too) and keeps 2002.
	new_cert third 0x3003 horcrux-third
	write_conf "tls_cert = $PKI/third.pem" "tls_key = $PKI/server.key" \
		"log_level = debug"
	hup
	run last_reload
	assert_output --partial "error: configuration not reloaded, the running settings stay:"
	assert_output --partial "third.pem"
	refute_output --partial "configuration reloaded"
	run served_serial
	assert_output "serial=2002"
	write_conf "tls_cert = $PKI/third.pem" "tls_key = $PKI/third.key"
	hup
	run last_reload
	assert_output --partial "configuration reloaded: changed tls_cert, tls_key"
	run served_serial
	assert_output "serial=3003"
	write_conf
	hup
	run served_serial
	assert_output "serial=2002"
}

@test "the sessions opened before the first SIGHUP are the same ones and still receiving" {
	kill -0 "$(cat "$BATS_FILE_TMPDIR/ws.pid")"
	kill -0 "$(cat "$BATS_FILE_TMPDIR/wss.pid")"
	# One connection each: one welcome, one Subscribed, never closed.
	for f in "$WS_OUT" "$WSS_OUT"; do
		run jq -r 'select(.frame.type? == "Notification") | .frame.data.title' "$f"
		assert_output "Connected"
		run grep -c '"type":"Subscribed"' "$f"
		assert_output 1
		run grep -Ec '"close"|"error"' "$f"
		assert_output 0
	done
	# Frames after every SIGHUP, the last one included.
	[ "$(wc -l <"$BATS_FILE_TMPDIR/hups")" -ge 10 ]
	last=$(tail -1 "$BATS_FILE_TMPDIR/hups")
	wait_cadence NodeMetrics "$last" 2500
	wait_frames "$WSS_OUT" NodeMetrics "$last" 1
	while read -r t; do
		[ "$(arrivals NodeMetrics "$t" | wc -l)" -ge 1 ] ||
			fail "no NodeMetrics after the SIGHUP at $t"
		[ "$(ARR_FILE=$WSS_OUT arrivals NodeMetrics "$t" | wc -l)" -ge 1 ] ||
			fail "no NodeMetrics over wss after the SIGHUP at $t"
	done <"$BATS_FILE_TMPDIR/hups"
}
