#!/usr/bin/env bats
#
# The dashboard (share/web) in a real browser: Debian's headless Chromium,
# driven over the DevTools protocol by tests/browser/cdp.py.
#
# Each test starts its own horcruxd (own ports, socket and data directory)
# and its own Chromium; teardown stops both and checks horcruxd exited 0.
# Through a socat TCP->Unix relay the page is a trusted local peer and gets
# live data; straight over TCP the upgrade is refused (401) and the page
# must say that sign-in is required. A third test swaps WebSocket for a
# scripted one to pin down rendering rules the live host cannot produce
# (null fields, threshold bands, markup in strings).
#
# Needs: chromium, socat, python3-websockets (for /usr/bin/python3), curl.
# A missing one fails the test: it is never skipped.

bats_require_minimum_version 1.5.0

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
PY=/usr/bin/python3
CHROMIUM=/usr/bin/chromium
SIGNIN="Sign-in required: this server needs credentials; log-in arrives with user accounts"

cdp() {
	"$PY" "$ROOT/tests/browser/cdp.py" --port "$CDP_PORT" "$@"
}

# Evaluate a JS expression in the page; the value lands in $output.
js() {
	run cdp eval "$1"
	assert_success
}

# Poll until a process answers or dies: $1 pid, $2 what, then the probe.
await_ready() {
	local pid=$1 what=$2 i
	shift 2
	for i in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || fail "$what exited during start-up"
		sleep 0.1
	done
	fail "$what not ready after 10 s"
}

# Stop a child we started: SIGTERM, bounded wait; its status in STOP_RC.
# (Not in $(...): a subshell cannot wait for this shell's children.)
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	STOP_RC=0
	wait "$pid" 2>/dev/null || STOP_RC=$?
}

setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
	cd "$ROOT"

	HXD="${HX_BUILD:-build/release}/horcruxd"
	[ -x "$HXD" ] || fail "no horcruxd at '$HXD': build it first"
	[ -x "$CHROMIUM" ] || fail "chromium is missing: apt-get install chromium"
	command -v socat >/dev/null || fail "socat is missing: apt-get install socat"
	"$PY" -c 'import websockets' 2>/dev/null ||
	    fail "python3-websockets is missing for $PY"

	W="$BATS_TEST_TMPDIR"
	read -r HX_PORT RELAY_PORT CDP_PORT < <("$PY" -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))')
	SOCK="$W/s.sock"
	mkdir -p "$W/d" "$W/chrome"

	"$HXD" -f --listen "127.0.0.1:$HX_PORT" --socket "$SOCK" \
	    --data-dir "$W/d" --web-root "$ROOT/share/web" \
	    >"$W/horcruxd.log" 2>&1 3>&- &
	HXD_PID=$!
	await_ready "$HXD_PID" horcruxd \
	    curl -fsS "http://127.0.0.1:$HX_PORT/api/health"

	"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
	    --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --window-size=1280,800 --user-data-dir="$W/chrome" \
	    --remote-debugging-port="$CDP_PORT" about:blank \
	    >"$W/chromium.log" 2>&1 3>&- &
	CHROME_PID=$!
	await_ready "$CHROME_PID" chromium cdp --timeout 2 ready
}

teardown() {
	if [ -n "${RELAY_PID:-}" ]; then
		stop_pid "$RELAY_PID"
	fi
	if [ -n "${CHROME_PID:-}" ]; then
		stop_pid "$CHROME_PID"
	fi
	if [ -n "${HXD_PID:-}" ]; then
		stop_pid "$HXD_PID"
		if [ "$STOP_RC" != 0 ]; then
			cat "$W/horcruxd.log" >&2
			fail "horcruxd exited $STOP_RC after SIGTERM, not 0"
		fi
	fi
}

start_relay() {
	socat "TCP-LISTEN:$RELAY_PORT,bind=127.0.0.1,fork,reuseaddr" \
	    "UNIX-CONNECT:$SOCK" >"$W/socat.log" 2>&1 3>&- &
	RELAY_PID=$!
	await_ready "$RELAY_PID" socat \
	    curl -fsS "http://127.0.0.1:$RELAY_PORT/api/health"
}

@test "dashboard through the trusted relay shows live host metrics" {
	local memtotal cores first
	start_relay

	run cdp navigate "http://127.0.0.1:$RELAY_PORT/"
	assert_success
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'connected' && document.getElementById('sample-time').dateTime"
	assert_success

	js "document.getElementById('conn-state').textContent"
	assert_output "connected"
	js "document.getElementById('conn-dot').textContent"
	assert_output "●"
	js "document.getElementById('hostname').textContent"
	assert_output "$(hostname)"
	js "document.getElementById('signin').hidden"
	assert_output "true"

	# MemTotal in bytes must appear in what a person reads (innerText:
	# rendered, visible text), digit groups joined back up.
	memtotal=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
	js "document.body.innerText.replace(/\u202f/g, '')"
	assert_output --partial "($memtotal bytes)"
	assert_output --partial "$(hostname)"
	assert_output --partial "Connected: WebSocket connection established for user"

	# One bar per core of /proc/stat, one per mount the daemon reports.
	cores=$(grep -c '^cpu[0-9]' /proc/stat)
	js "document.querySelectorAll('#cpu-cores-list .bar').length"
	assert_output "$cores"
	run curl -fsS --unix-socket "$SOCK" http://localhost/api/nodes/local
	assert_success
	run jq -r '[.disks[].mount] | join(",")' <<<"$output"
	assert_success
	refute_output ""
	local mounts=$output
	js "Array.from(document.querySelectorAll('#disk-list .bar-label'),
	    e => e.textContent).join(',')"
	assert_output "$mounts"

	# Every bar carries its band as text as well as colour.
	js "Array.from(document.querySelectorAll('.bar'), b =>
	    b.dataset.level === b.querySelector('.bar-level').textContent
	    ).every(Boolean)"
	assert_output "true"

	# Live: the newest sample's time moves on within a few seconds.
	js "document.getElementById('sample-time').textContent"
	first=$output
	run cdp --timeout 5 wait "document.getElementById('sample-time')
	    .textContent !== '$first' &&
	    document.getElementById('sample-time').textContent"
	assert_success
	refute_output "$first"
	js "document.getElementById('sample-age').dataset.stale"
	assert_output "false"

	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'

	run cdp --viewport 1280x800 screenshot "$BATS_TEST_TMPDIR/page.png"
	assert_success
	run head -c 8 "$BATS_TEST_TMPDIR/page.png"
	assert_output $'\x89PNG\r\n\x1a'
	cp "$BATS_TEST_TMPDIR/page.png" /tmp/horcrux-page.png

	# Narrow: nothing wider than the viewport.
	run cdp --viewport 390x844 eval "document.documentElement.scrollWidth
	    <= document.documentElement.clientWidth"
	assert_success
	assert_output "true"
	run cdp --viewport 390x844 screenshot "$BATS_TEST_TMPDIR/narrow.png"
	assert_success
}

@test "dashboard over plain TCP says sign-in is required and keeps retrying" {
	run cdp navigate "http://127.0.0.1:$HX_PORT/"
	assert_success
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'signin'"
	assert_success

	js "document.getElementById('signin').hidden"
	assert_output "false"
	js "document.body.innerText"
	assert_output --partial "$SIGNIN"
	assert_output --partial "HTTP 401"
	js "document.getElementById('conn-dot').textContent"
	assert_output "○"
	js "document.getElementById('hostname').textContent"
	assert_output "—"

	# Retries go on, backing off: 0.5 s, 1 s, 2 s, each jittered down by
	# at most a quarter; the upper bound allows for a loaded machine.
	run cdp --timeout 8 wait "window.__hx.ws.length >= 4 &&
	    JSON.stringify(window.__hx.ws.map(w => w.url))"
	assert_success
	assert_output "$(printf '["%s","%s","%s","%s"]' \
	    "ws://127.0.0.1:$HX_PORT/api/ws" "ws://127.0.0.1:$HX_PORT/api/ws" \
	    "ws://127.0.0.1:$HX_PORT/api/ws" "ws://127.0.0.1:$HX_PORT/api/ws")"
	js "[0, 1, 2].map(i => {
		const gap = window.__hx.ws[i + 1].t - window.__hx.ws[i].t;
		const base = Math.min(5000, 500 * 2 ** i);
		return gap >= 0.75 * base && gap <= base + 1000;
	    }).join(',')"
	assert_output "true,true,true"
	js "document.getElementById('signin').hidden"
	assert_output "false"

	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
	run cdp --viewport 1280x800 screenshot "$BATS_TEST_TMPDIR/signin.png"
	assert_success
}

@test "dashboard renders nulls as a dash, bands as words, markup as text" {
	run cdp navigate "http://127.0.0.1:$HX_PORT/" \
	    --inject "$ROOT/tests/browser/fake-ws.js"
	assert_success
	run cdp wait "document.getElementById('sample-time').dateTime"
	assert_success

	# The subscription the page sends after the welcome.
	js "JSON.stringify(window.__hxSent)"
	assert_output '["{\"topics\":[\"node:metrics\",\"notifications\"]}"]'

	# Strings from the server are text, never markup.
	js "document.getElementById('hostname').textContent"
	assert_output "<img src=x id=pwned>"
	js "document.querySelectorAll('#pwned, #panels b, #status i').length"
	assert_output "0"
	js "document.getElementById('status').textContent"
	assert_output "Connected: welcome <i>user</i> & co"

	# null is "—", never 0; a real 0 stays 0.
	js "['uptime', 'load-1', 'load-5', 'load-15', 'mem-total',
	    'mem-available', 'disk-read', 'disk-write', 'net-rx', 'net-tx']
	    .map(id => document.getElementById(id).textContent).join('|')
	    .replace(/\u00a0/g, ' ')"
	assert_output "—|—|0.00|1.50|—|0 B|—|1.50 KiB/s|0 B/s|—"
	js "Array.from(document.querySelectorAll(
	    '#cpu-total .bar, #mem-bar .bar, #swap-bar .bar, #disk-list .bar'),
	    b =>
	    b.querySelector('.bar-label').textContent + '=' +
	    b.querySelector('.bar-value').textContent + '/' +
	    b.querySelector('.bar-level').textContent).join('|')
	    .replace(/\u00a0/g, ' ')"
	assert_output "Total=—/no data|RAM=95.0 %/critical|Swap=—/no data|/<b>data</b>=—/no data|/var=75.0 %/warning"

	# Bands: <50 good, 50-75 moderate, 75-90 warning, >=90 critical.
	js "Array.from(document.querySelectorAll('#cpu-cores-list .bar'),
	    b => b.dataset.level + ':' +
	    b.querySelector('.bar-level').textContent).join(',')"
	assert_output "good:good,unknown:no data,warning:warning,moderate:moderate"

	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}
