#!/usr/bin/env bats
#
# The dashboard (share/web) in a real browser: Debian's headless Chromium,
# driven over the DevTools protocol by tests/browser/cdp.py.
#
# Each test starts its own horcruxd (own ports, socket and data directory)
# and its own Chromium; teardown stops both and checks horcruxd exited 0.
# Through a socat TCP->Unix relay the page is a trusted local peer and gets
# live data at once. Straight over TCP the upgrade is refused (401) and the
# page shows a sign-in form; the tests sign in as people do (keyboard,
# Tab, Enter) as users made over the Unix socket, and follow the session
# cookie through renewal (also with the browser's clock 3 h fast) and
# sign-out. Injected scripts stand in for what a live server cannot be
# made to do on cue: fake-fetch.js scripts REST answers (429, errors, a
# slow login, a failed renewal) and fake-ws.js a WebSocket with null
# fields, threshold bands and markup in strings.
#
# Failed logins are limited to 5 per user or address per minute: no test
# here makes more than one real one.
#
# Needs: chromium, socat, python3-websockets (for /usr/bin/python3), curl,
# jq. A missing one fails the test: it is never skipped.

bats_require_minimum_version 1.5.0

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
HX_REPO=${HX_REPO:-$ROOT}
# cdp, js, browser_await and browser_stop_pid (STOP_RC) come from here;
# this file starts its own daemon and browser per test, not per file.
load helpers/common
load helpers/browser

# Poll until a process answers or dies: $1 pid, $2 what, then the probe.
await_ready() {
	browser_await "$@" || fail "$2 did not start"
}

setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
	cd "$ROOT"

	HXD="${HX_BUILD:-build/release}/horcruxd"
	[ -x "$HXD" ] || fail "no horcruxd at '$HXD': build it first"
	[ -x "$CHROMIUM" ] || fail "chromium is missing: apt-get install chromium"
	command -v socat >/dev/null || fail "socat is missing: apt-get install socat"
	command -v jq >/dev/null || fail "jq is missing: apt-get install jq"
	"$PY" -c 'import websockets' 2>/dev/null ||
	    fail "python3-websockets is missing for $PY"

	W="$BATS_TEST_TMPDIR"
	read -r HX_PORT RELAY_PORT CDP_PORT < <(free_port 3)
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
	# The one-shot cdp.py answered above; from here on, its driver.
	cdp_driver_start || fail "cdp.py serve did not start"
}

teardown() {
	cdp_driver_stop || fail "cdp.py serve did not stop cleanly"
	if [ -n "${RELAY_PID:-}" ]; then
		browser_stop_pid "$RELAY_PID"
	fi
	if [ -n "${CHROME_PID:-}" ]; then
		browser_stop_pid "$CHROME_PID"
	fi
	if [ -n "${HXD_PID:-}" ]; then
		browser_stop_pid "$HXD_PID"
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

# add_user NAME PASSWORD ROLE: an account, made as root@local.
add_user() {
	run curl -sS --unix-socket "$SOCK" -X POST http://localhost/api/users \
	    -H 'Content-Type: application/json' -w '\n%{http_code}' \
	    -d "{\"username\":\"$1\",\"password\":\"$2\",\"roles\":[\"$3\"]}"
	assert_success
	assert_line --index 1 201
}

# open_signin [--inject FILE]: load the page over plain TCP; the form.
open_signin() {
	run cdp navigate "http://127.0.0.1:$HX_PORT/" "$@"
	assert_success
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'signin' && !document.getElementById('signin').hidden"
	assert_success
}

# fill_in USER PASSWORD: type into the form as a person does, from the
# username field, Tab to the password; leaves the focus there.
fill_in() {
	js "document.getElementById('su-user').focus();
	    document.getElementById('su-user').select();
	    document.activeElement.id"
	assert_output "su-user"
	run cdp type "$1"
	assert_success
	run cdp key Tab
	assert_success
	assert_output "su-pass"
	run cdp type "$2"
	assert_success
}

# sign_in USER PASSWORD: fill in, Enter, and wait for live data.
sign_in() {
	fill_in "$1" "$2"
	run cdp key Enter
	assert_success
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'connected' && document.getElementById('account-name')
	    .textContent === '$1'"
	assert_success
}

# The session cookie as the browser holds it (JSON, or null).
session_cookie() {
	run cdp call Network.getCookies \
	    "{\"urls\":[\"http://127.0.0.1:$HX_PORT/\"]}"
	assert_success
	run jq -c '.cookies[] | select(.name == "horcrux_session")' \
	    <<<"$output"
	assert_success
}

# Pretend this tab's session ends in $1 seconds, and reload: the page
# takes its session from sessionStorage, as after any reload.
expire_in_and_reload() {
	js "const s = JSON.parse(sessionStorage.getItem('horcrux.session'));
	    s.expires_at = new Date(Date.now() + $1 * 1000).toISOString();
	    sessionStorage.setItem('horcrux.session', JSON.stringify(s));
	    s.expires_at"
	EXPIRES_FAKE=$output
	run cdp navigate "http://127.0.0.1:$HX_PORT/" "${@:2}"
	assert_success
}

@test "the welcome is on the status line for 5 s of the page's clock, then the line is free" {
	start_relay
	run cdp navigate "http://127.0.0.1:$RELAY_PORT/" \
	    --inject "$ROOT/tests/browser/frozen-clock.js"
	assert_success
	run cdp wait "document.getElementById('status').textContent
	    .startsWith('Connected: ') && document.getElementById('status')
	    .dataset.level"
	assert_success
	assert_output "info"
	# The page's clock stands still: only the test moves it on.
	js "window.__hxAdvanceClock(4900) > 0 &&
	    document.getElementById('status').textContent"
	assert_output --regexp "^Connected: WebSocket connection established for user root@local"
	js "window.__hxAdvanceClock(200) > 0"
	assert_output "true"
	run cdp wait "document.getElementById('status').textContent === '' &&
	    'cleared'"
	assert_success
	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
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

	# Local trust: who it is, and no way to sign out of it.
	run cdp wait "document.getElementById('account-name').textContent"
	assert_success
	assert_output "root@local"
	js "[document.getElementById('account').hidden,
	    document.getElementById('signout').hidden].join()"
	assert_output "false,true"

	# MemTotal in bytes must appear in what a person reads (innerText:
	# rendered, visible text), digit groups joined back up.
	memtotal=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
	js "document.body.innerText.replace(/\u202f/g, '')"
	assert_output --partial "($memtotal bytes)"
	assert_output --partial "$(hostname)"
	# The welcome was on the status line (for a while: see below).
	js "window.__hx.statuses.join('\\n')"
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

	# Narrow: nothing wider than the viewport.
	run cdp --viewport 390x844 eval "document.documentElement.scrollWidth
	    <= document.documentElement.clientWidth"
	assert_success
	assert_output "true"
	run cdp --viewport 390x844 screenshot "$BATS_TEST_TMPDIR/narrow.png"
	assert_success
}

@test "sign-in over plain TCP: the form, a wrong then the right password, an HttpOnly cookie" {
	local memtotal cookie
	add_user viewer viewer-pass-1 Auditor
	open_signin

	# The form instead of data, focus in its first field, no retries.
	js "document.getElementById('conn-dot').textContent + ' ' +
	    document.getElementById('conn-state').textContent"
	assert_output "○ sign-in required"
	js "document.getElementById('hostname').textContent"
	assert_output "—"
	js "[document.getElementById('panels').hidden,
	    document.activeElement.id].join()"
	assert_output "true,su-user"
	js "document.getElementById('status').textContent"
	assert_output --partial "HTTP 401"

	# Every control has a label; the browser's password manager can tell
	# the fields apart; Enter in any field submits.
	js "Array.from(document.querySelectorAll(
	    '#signin-form input, #signin-form select'), e => e.id + ':' +
	    e.labels[0].textContent + ':' + e.autocomplete).join('|')"
	assert_output "su-user:Username:username|su-pass:Password:current-password|su-realm:Realm:"
	js "Array.from(document.getElementById('su-realm').options,
	    o => o.value).join() + ' ' +
	    document.getElementById('su-realm').value + ' ' +
	    document.getElementById('su-pass').type"
	assert_output "local,pam local password"
	run cdp --viewport 1280x800 screenshot "$BATS_TEST_TMPDIR/signin.png"
	assert_success
	run head -c 8 "$BATS_TEST_TMPDIR/signin.png"
	assert_output $'\x89PNG\r\n\x1a'
	cp "$BATS_TEST_TMPDIR/signin.png" /tmp/horcrux-signin.png

	# A wrong password: the error, the form still there, focus back on
	# the password, the button usable again.
	fill_in viewer not-the-password
	run cdp key Enter
	assert_success
	run cdp wait "document.getElementById('signin-error').textContent"
	assert_success
	assert_output "Invalid username or password"
	js "[document.getElementById('conn').dataset.state,
	    document.activeElement.id,
	    document.getElementById('su-submit').disabled,
	    document.getElementById('su-user').value,
	    document.getElementById('su-pass').getAttribute('aria-invalid'),
	    document.getElementById('signin-live').textContent].join()"
	assert_output "signin,su-pass,false,viewer,true,Invalid username or password"
	js "JSON.stringify(window.__hx.fetches.map(f => [f.method, f.url,
	    f.status]))"
	assert_output '[["GET","/api/protocol",200],["GET","/api/auth/realms",200],["GET","/api/nodes/local",401],["POST","/api/auth/login",401]]'
	# Nothing retried behind the form: one upgrade attempt in all.
	js "window.__hx.ws.length"
	assert_output "1"

	# The right one (typed over the selected wrong one), Enter.
	run cdp type viewer-pass-1
	assert_success
	run cdp key Enter
	assert_success
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'connected' && document.getElementById('sample-time').dateTime"
	assert_success
	js "document.getElementById('conn-dot').textContent"
	assert_output "●"
	js "document.getElementById('hostname').textContent"
	assert_output "$(hostname)"
	memtotal=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
	js "document.body.innerText.replace(/\u202f/g, '')"
	assert_output --partial "($memtotal bytes)"
	refute_output --partial "Sign in"
	js "window.__hx.statuses.join('\\n')"
	assert_output --partial "Connected: WebSocket connection established for user viewer"
	run cdp wait "document.getElementById('account-name').textContent"
	assert_success
	assert_output "viewer"
	js "[document.getElementById('signout').hidden,
	    document.getElementById('signin').hidden,
	    document.getElementById('su-pass').value === ''].join()"
	assert_output "false,true,true"

	# The session is a cookie script cannot read; the page keeps only the
	# CSRF token, per tab, and never the session token.
	session_cookie
	cookie=$output
	run jq -r '[.httpOnly, .sameSite, .path] | join(",")' <<<"$cookie"
	assert_output "true,Strict,/"
	js "document.cookie.includes('horcrux_session')"
	assert_output "false"
	js "JSON.parse(sessionStorage.getItem('horcrux.session')).csrf_token"
	assert_output --regexp '^[0-9a-f]{64}$'
	js "JSON.stringify(sessionStorage) + JSON.stringify(localStorage)"
	refute_output --partial "$(jq -r .value <<<"$cookie")"
	refute_output --partial "eyJ"
	js "localStorage.length"
	assert_output "0"

	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
	run cdp --viewport 1280x800 screenshot "$BATS_TEST_TMPDIR/page.png"
	assert_success
	run head -c 8 "$BATS_TEST_TMPDIR/page.png"
	assert_output $'\x89PNG\r\n\x1a'
	cp "$BATS_TEST_TMPDIR/page.png" /tmp/horcrux-page.png
	run cdp --viewport 390x844 eval "document.documentElement.scrollWidth
	    <= document.documentElement.clientWidth"
	assert_success
	assert_output "true"
}

@test "sign-in: a session renews before it expires; a failed renewal goes back to the form" {
	local csrf
	add_user viewer viewer-pass-1 Auditor
	open_signin --inject "$ROOT/tests/browser/fake-fetch.js"
	sign_in viewer viewer-pass-1
	js "JSON.parse(sessionStorage.getItem('horcrux.session')).csrf_token"
	csrf=$output

	# Due in 5 minutes (renewal is 10 minutes ahead): after a reload the
	# page resumes the session from sessionStorage and renews at once.
	expire_in_and_reload 300 --inject "$ROOT/tests/browser/fake-fetch.js"
	run cdp wait "window.__hx.fetches.some(f =>
	    f.url === '/api/auth/renew' && f.status !== null) &&
	    JSON.stringify(window.__hx.fetches.filter(f =>
	    f.url === '/api/auth/renew'))"
	assert_success
	assert_output "[{\"method\":\"POST\",\"url\":\"/api/auth/renew\",\"csrf\":\"$csrf\",\"status\":200}]"
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'connected' && document.getElementById('account-name')
	    .textContent === 'viewer' && document.getElementById('account')
	    .dataset.expires"
	assert_success
	# The server's new expiry: about 2 h from now, not the 5 min faked.
	js "const e = Date.parse(JSON.parse(sessionStorage.getItem(
	    'horcrux.session')).expires_at) - Date.now();
	    e > 115 * 60000 && e <= 120 * 60000 &&
	    document.getElementById('account').dataset.expires !==
	    '$EXPIRES_FAKE'"
	assert_output "true"
	js "document.getElementById('account').title"
	assert_output --partial "renews itself"
	# Once: the next renewal is 1 h 50 min away.
	run cdp --timeout 3 wait "new Promise(r => setTimeout(() =>
	    r(String(window.__hx.fetches.filter(f =>
	    f.url === '/api/auth/renew').length)), 1000))"
	assert_success
	assert_output "1"

	# The server refuses the next renewal: the page says so, revokes what
	# is left (logout with the CSRF token) and shows the form. The refusal
	# is queued before the page's script runs, which renews at once.
	cat >"$BATS_TEST_TMPDIR/refuse-renew.js" <<-'EOF'
		window.__hxStub('/api/auth/renew', { status: 401,
		    body: { error: 'UNAUTHORIZED',
		    message: 'the session has ended' } });
	EOF
	expire_in_and_reload 300 --inject "$ROOT/tests/browser/fake-fetch.js" \
	    --inject "$BATS_TEST_TMPDIR/refuse-renew.js"
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'signin' && document.getElementById('status').textContent"
	assert_success
	assert_output "Your session could not be renewed (the session has ended); sign in again."
	run cdp wait "window.__hx.fetches.some(f =>
	    f.url === '/api/auth/logout' && f.status !== null) &&
	    JSON.stringify(window.__hx.fetches.filter(f =>
	    f.url === '/api/auth/logout'))"
	assert_success
	assert_output "[{\"method\":\"POST\",\"url\":\"/api/auth/logout\",\"csrf\":\"$csrf\",\"status\":204}]"
	js "[window.__hxStubbed, sessionStorage.getItem('horcrux.session'),
	    document.getElementById('account').hidden,
	    document.getElementById('hostname').textContent].join()"
	assert_output "1,,true,—"
	session_cookie
	assert_output ""

	# And one can sign in again.
	sign_in viewer viewer-pass-1
	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}

@test "sign-in: a browser clock 3 h fast neither ends nor forgets to renew the session" {
	local ahead="$BATS_TEST_TMPDIR/clock-ahead.js"
	add_user viewer viewer-pass-1 Auditor
	# The browser's wall clock runs 3 h ahead of the server's.
	cat >"$ahead" <<-'EOF'
		(function () {
			var real = Date.now;
			Date.now = function () {
				return real.call(Date) + 3 * 3600 * 1000;
			};
		})();
	EOF
	open_signin --inject "$ahead"
	sign_in viewer viewer-pass-1

	# Taken at face value, the server's expires_at (2 h ahead of it) is an
	# hour gone here: the page must keep the session and leave it alone.
	run cdp --timeout 4 wait "new Promise(r => setTimeout(() => r(
	    document.getElementById('conn').dataset.state + ' ' +
	    window.__hx.fetches.filter(f => f.method === 'POST').map(f =>
	    f.url).join()), 1500))"
	assert_success
	assert_output "connected /api/auth/login"

	# Due in 5 minutes of the server's time: renewed, on the server's time.
	expire_in_and_reload $((300 - 3 * 3600)) --inject "$ahead"
	run cdp wait "window.__hx.fetches.some(f =>
	    f.url === '/api/auth/renew' && f.status !== null) &&
	    window.__hx.fetches.filter(f => f.method === 'POST').map(f =>
	    f.url + ' ' + f.status).join()"
	assert_success
	assert_output "/api/auth/renew 200"
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'connected' && document.getElementById('account-name')
	    .textContent"
	assert_success
	assert_output "viewer"
	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}

@test "sign-out revokes the session: the form again, and the old cookie answers 401" {
	local cookie csrf
	add_user viewer viewer-pass-1 Auditor
	open_signin
	sign_in viewer viewer-pass-1
	run cdp wait "document.getElementById('sample-time').dateTime"
	assert_success
	session_cookie
	cookie=$output
	refute_output ""
	js "JSON.parse(sessionStorage.getItem('horcrux.session')).csrf_token"
	csrf=$output

	# By keyboard: focus the button, Enter.
	js "document.getElementById('signout').focus();
	    document.activeElement.id"
	assert_output "signout"
	run cdp key Enter
	assert_success
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'signin' && !document.getElementById('signin').hidden"
	assert_success
	js "document.getElementById('status').textContent"
	assert_output "Signed out."
	js "JSON.stringify(window.__hx.fetches.filter(f =>
	    f.url === '/api/auth/logout'))"
	assert_output "[{\"method\":\"POST\",\"url\":\"/api/auth/logout\",\"csrf\":\"$csrf\",\"status\":204}]"

	# Nothing of the session stays on the page.
	js "[document.getElementById('account').hidden,
	    document.getElementById('panels').hidden,
	    document.getElementById('hostname').textContent,
	    document.getElementById('mem-total').textContent,
	    document.querySelectorAll('#cpu-cores-list .bar').length,
	    sessionStorage.getItem('horcrux.session'),
	    document.activeElement.id].join()"
	assert_output "true,true,—,—,0,,su-pass"
	# The live socket is closed and no new one is tried: two in all, the
	# refused one before signing in and the signed-in one.
	run cdp --timeout 4 wait "new Promise(r => setTimeout(() =>
	    r(String(window.__hx.ws.length)), 1500))"
	assert_success
	assert_output "2"

	# The browser dropped the cookie; the page is anonymous now.
	session_cookie
	assert_output ""
	js "fetch('/api/auth/me').then(r => r.json().then(j =>
	    r.status + ' ' + j.message))"
	assert_output "401 authentication required"

	# The old cookie put back: the server revoked it, so it counts as no
	# credential (a dead cookie must not lock the page out) and the
	# answer tells the browser to drop it.
	run cdp call Network.setCookie "$(jq -c '{name, value, domain, path,
	    httpOnly, sameSite}' <<<"$cookie")"
	assert_success
	assert_output '{"success":true}'
	js "fetch('/api/auth/me').then(r => r.json().then(j =>
	    r.status + ' ' + j.message))"
	assert_output "401 authentication required"
	session_cookie
	assert_output ""
	run cdp call Network.deleteCookies "{\"name\":\"horcrux_session\",
	    \"url\":\"http://127.0.0.1:$HX_PORT/\"}"
	assert_success

	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}

@test "sign-in: an account without SysAudit is told it may not see host metrics" {
	add_user vmonly vmonly-pass-1 VmUser
	open_signin
	sign_in vmonly vmonly-pass-1

	run cdp wait "!document.getElementById('noaccess').hidden &&
	    document.getElementById('noaccess').innerText"
	assert_success
	assert_output --partial "Your account may not see host metrics"
	# Connected, told why, no numbers, nothing waiting to arrive.
	js "[document.getElementById('conn-state').textContent,
	    document.getElementById('conn-dot').textContent,
	    document.getElementById('panels').hidden,
	    document.getElementById('hostname').textContent,
	    document.getElementById('sample-time').textContent].join()"
	assert_output "connected,●,true,—,—"
	js "document.getElementById('status').textContent"
	assert_output --partial "FORBIDDEN_TOPIC"
	assert_output --partial "node:metrics"
	js "document.body.innerText"
	assert_output --partial "vmonly"
	refute_output --partial "Sign in"

	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
	run cdp --viewport 1280x800 screenshot "$BATS_TEST_TMPDIR/noaccess.png"
	assert_success
}

@test "sign-in form: busy while signing in, the server's message, a 429 countdown" {
	open_signin --inject "$ROOT/tests/browser/fake-fetch.js"

	# Held in flight: the button is disabled and says so.
	js "window.__hxStub('/api/auth/login', { status: 422, hold: true,
	    body: { error: 'VALIDATION_ERROR',
	    message: 'realm must be <b>local</b> or pam' } });
	    document.getElementById('su-realm').value = 'pam'; 'armed'"
	fill_in alice some-password
	run cdp key Enter
	assert_success
	js "[document.getElementById('su-submit').disabled,
	    document.getElementById('su-submit').textContent,
	    document.getElementById('signin-form').getAttribute('aria-busy')
	    ].join()"
	assert_output "true,Signing in…,true"
	# Enter again while busy sends nothing more.
	run cdp key Enter
	assert_success
	js "String(window.__hxRelease())"
	assert_output "1"
	run cdp wait "document.getElementById('signin-error').textContent"
	assert_success
	assert_output "realm must be <b>local</b> or pam"
	js "[document.querySelectorAll('#signin-error b').length,
	    document.getElementById('su-submit').disabled,
	    window.__hxStubbed,
	    JSON.stringify(window.__hxBodies[0])].join()"
	assert_output '0,false,1,{"username":"alice","password":"some-password","realm":"pam"}'
	js "JSON.stringify(window.__hxHeaders[0])"
	assert_output '{"Content-Type":"application/json"}'

	# 429: the wait from Retry-After, counted down; no submitting till then.
	# The page's clock stands still until the test moves it, so every
	# figure below is exact however long each step takes.
	js "window.__hxFreezeClock() > 0"
	assert_output "true"
	js "window.__hxStub('/api/auth/login', { status: 429,
	    headers: { 'Retry-After': '3' }, body: { error: 'RATE_LIMITED',
	    message: 'too many failed logins; try again later' } }); 'armed'"
	run cdp key Enter
	assert_success
	run cdp wait "document.getElementById('signin-error').textContent"
	assert_success
	assert_output "Too many failed sign-ins, try again in 3 s"
	js "document.getElementById('su-submit').disabled"
	assert_output "true"
	run cdp key Enter
	assert_success
	js "window.__hxAdvanceClock(1000) > 0"
	assert_output "true"
	run cdp wait "document.getElementById('signin-error').textContent
	    === 'Too many failed sign-ins, try again in 2 s'"
	assert_success
	js "document.getElementById('su-submit').disabled"
	assert_output "true"
	# Screen readers heard it once; the ticking is for the eyes.
	js "document.getElementById('signin-live').textContent"
	assert_output "Too many failed sign-ins, try again in 3 s"
	js "window.__hxAdvanceClock(2000) > 0"
	assert_output "true"
	run cdp wait "!document.getElementById('su-submit')
	    .disabled && document.getElementById('signin-error')
	    .textContent === '' && 'cleared'"
	assert_success
	js "window.__hxStubbed"
	assert_output "2"

	# The server away.
	js "window.__hxStub('/api/auth/login', { reject: true }); 'armed'"
	run cdp key Enter
	assert_success
	run cdp wait "document.getElementById('signin-error').textContent"
	assert_success
	assert_output "Cannot reach the server"

	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}

@test "dashboard renders nulls as a dash, bands as words, markup as text" {
	run cdp navigate "http://127.0.0.1:$HX_PORT/" \
	    --inject "$ROOT/tests/browser/fake-ws.js"
	assert_success
	run cdp wait "document.getElementById('sample-time').dateTime"
	assert_success

	# The subscription the page sends after the welcome: the topics of
	# what the monitoring page and the frame render, as the daemon's
	# protocol (read once) names them; the vm: topics only come with the
	# VM pages (tests/0355-web-stream.bats). This daemon's welcome has
	# no boot_id: no batch, no resume.
	js "JSON.stringify(window.__hxSent)"
	assert_output '["{\"topics\":[\"node:metrics\",\"notifications\",\"alerts\"]}"]'
	js "JSON.stringify(window.__hx.fetches.filter(f =>
	    f.url === '/api/protocol').map(f => f.status))"
	assert_output '[200]'

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

@test "dashboard: the topics it asks for are the daemon's, from GET /api/protocol" {
	local stub="$BATS_TEST_TMPDIR/protocol-stub.js" proto
	local injects=(--inject "$ROOT/tests/browser/fake-fetch.js" --inject
	    "$stub" --inject "$ROOT/tests/browser/fake-ws.js")
	# The page names the events it renders; the daemon names their
	# topics. One whose NodeMetrics came on "host:metrics", with a topic
	# the page renders nothing of, is asked for exactly what it names.
	proto=$("$HXD" --dump-protocol | jq -c '
	    (.topics[] | select(.name == "node:metrics") | .name) |= "host:metrics" |
	    (.events[] | select(.topic == "node:metrics") | .topic) |= "host:metrics" |
	    .topics += [{name: "extra:topic", privilege: null, path: "/"}]')
	printf 'window.__hxStub("/api/protocol", { status: 200, body: %s });\n' \
	    "$proto" >"$stub"
	run cdp navigate "http://127.0.0.1:$HX_PORT/" "${injects[@]}"
	assert_success
	run cdp wait "document.getElementById('sample-time').dateTime"
	assert_success
	js "JSON.stringify(window.__hxSent)"
	assert_output '["{\"topics\":[\"host:metrics\",\"notifications\",\"alerts\"]}"]'
	# Its NodeMetrics topic granted: the sample is drawn.
	js "[window.__hxStubbed, document.getElementById('noaccess').hidden,
	    document.getElementById('hostname').textContent].join()"
	assert_output "1,true,<img src=x id=pwned>"

	# A protocol that cannot be read is not kept: a 500 at start, then
	# no answer at the welcome (the page gives that connection up), then
	# the daemon's own on the next connection.
	cat >"$stub" <<-'EOF'
		window.__hxStub('/api/protocol', { status: 500,
		    body: { error: 'INTERNAL', message: 'try later' } });
		window.__hxStub('/api/protocol', { reject: true });
	EOF
	run cdp navigate "http://127.0.0.1:$HX_PORT/" "${injects[@]}"
	assert_success
	run cdp wait "window.__hxSent.length > 0 && window.__hxSent.join()"
	assert_success
	assert_output '{"topics":["node:metrics","notifications","alerts"]}'
	js "[window.__hxStubbed, window.__hxSent.length,
	    window.__hx.fetches.filter(f => f.url === '/api/protocol')
	    .map(f => f.status).join()].join(' ')"
	assert_output "2 1 200"
	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}

@test "dashboard: a firing alert appears live with its severity in words, and goes when resolved" {
	local rule='{"name":"web-always","series":"node:cpu_usage","op":">=","threshold":0,"for_seconds":0,"severity":"critical"}'
	start_relay
	run cdp navigate "http://127.0.0.1:$RELAY_PORT/"
	assert_success
	run cdp wait "document.getElementById('conn').dataset.state ===
	    'connected' && document.getElementById('sample-time').dateTime"
	assert_success
	# Nothing fires yet: no alert section.
	js "[document.getElementById('alerts').hidden,
	    document.querySelectorAll('#alert-list li').length].join()"
	assert_output "true,0"
	run curl -sS --unix-socket "$SOCK" -X POST \
	    http://localhost/api/alerts/rules -H 'Content-Type: application/json' \
	    -w '\n%{http_code}' -d "$rule"
	assert_success
	assert_line --index 1 201
	# Live, from AlertTriggered: a word and a glyph, not colour alone.
	run cdp wait "!document.getElementById('alerts').hidden &&
	    document.querySelector('#alert-list li[data-severity=critical]') &&
	    document.querySelector('#alert-list li').innerText"
	assert_success
	assert_output --partial "CRITICAL"
	assert_output --partial "web-always"
	assert_output --partial "node:$(hostname)"
	js "document.querySelector('#alert-list .alert-sev').textContent"
	assert_output "▲ CRITICAL"
	js "document.getElementById('alert-count').textContent"
	assert_output "1"
	# A new page: the WebSocket replays no alerts, GET /api/alerts does.
	run cdp navigate "http://127.0.0.1:$RELAY_PORT/"
	assert_success
	run cdp wait "document.querySelector('#alert-list li') &&
	    document.querySelector('#alert-list li').innerText"
	assert_success
	assert_output --partial "web-always"
	js "window.__hx.fetches.filter(f => f.url ===
	    '/api/alerts?state=firing').map(f => f.status).join()"
	assert_output "200"
	# Resolved (its rule deleted): it leaves the page, live.
	run curl -sS --unix-socket "$SOCK" -X DELETE \
	    http://localhost/api/alerts/rules/web-always -w '%{http_code}'
	assert_success
	run cdp wait "document.getElementById('alerts').hidden &&
	    document.querySelectorAll('#alert-list li').length === 0"
	assert_success
	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}
