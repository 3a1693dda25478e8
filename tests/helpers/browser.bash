# The dashboard in a real browser, one daemon and one Chromium per file.
#
# Load it after common (and api, if the file needs it):
#
#   setup_file()    { browser_start_file [HORCRUXD ARGS...]; }
#   teardown_file() { browser_stop_file; }
#   setup()         { browser_fresh; }
#
# browser_start_file starts horcruxd (on the demo node unless the
# arguments name another --libvirt-uri; its own port, socket and data
# directory under $BATS_FILE_TMPDIR) and headless Chromium with the
# DevTools port, and waits for both. browser_fresh, before each test,
# drops the browser's cookies and storage and loads about:blank, so no
# test inherits another's session. Everything is exported, so the tests
# (run in subshells) see it.
#
# Accounts are made over the Unix socket as root@local (hx_root).
# web_sign_in signs in on the page as a person does and waits for the
# live connection; web_go shows a page by its #fragment and waits until
# its element is visible. web_shot keeps a screenshot as a test artifact
# under $HX_ARTIFACTS (build/artifacts/web by default) at 1400x900 and
# 390x844 (a phone).
#
# HX_PORT, if set, is the daemon's port; HX_CHROMIUM_FLAGS, extra Chromium
# flags (split on spaces).
#
# Needs: chromium, curl, jq, python3-websockets. A missing one fails the
# file: it is never skipped.

CHROMIUM=/usr/bin/chromium
HX_ARTIFACTS=${HX_ARTIFACTS:-$HX_REPO/build/artifacts/web}

# cdp ARGS...: cdp.py's command line. Through the file's driver (cdp.py
# serve, started by cdp_driver_start) when one runs: a message over
# /dev/tcp instead of a Python start; else a one-shot cdp.py. Same
# output and exit status either way.
cdp() {
	if [ -z "${CDP_DRV:-}" ]; then
		"$PY" "$HX_REPO/tests/browser/cdp.py" --port "$CDP_PORT" "$@"
		return
	fi
	local fd rc out err port=${CDP_DRV% *}
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || {
		echo "cdp: the driver on port $port does not answer" >&2
		return 1
	}
	printf '%s\0' "${CDP_DRV#* }" "$PWD" "${HX_COLOR_SCHEME:-}" \
		$(($# + 2)) --port "$CDP_PORT" "$@" >&"$fd"
	# Bounded: the driver times each command out itself (60 s at most).
	if ! { IFS= read -r -d '' -t 180 rc && IFS= read -r -d '' out &&
		IFS= read -r -d '' err; } <&"$fd"; then
		exec {fd}<&-
		echo "cdp: no answer from the driver on port $port" >&2
		return 1
	fi
	exec {fd}<&-
	printf '%s' "$err" >&2
	printf '%s' "$out"
	return "$rc"
}

# cdp_driver_start / cdp_driver_stop: one long-lived cdp.py per file
# (or test), so each cdp call is a message, not a Python start. Exports
# CDP_DRV ("PORT TOKEN"); cdp falls back to one-shot runs without it.
cdp_driver_start() {
	local pf=$W/cdp-driver
	rm -f "$pf"
	"$PY" "$HX_REPO/tests/browser/cdp.py" serve "$pf" \
		>"$W/cdp-driver.log" 2>&1 3>&- &
	export CDP_DRV_PID=$!
	browser_await "$CDP_DRV_PID" "cdp.py serve" test -s "$pf" || {
		cat "$W/cdp-driver.log" >&2
		return 1
	}
	CDP_DRV=$(cat "$pf")
	export CDP_DRV
}

cdp_driver_stop() {
	[ -n "${CDP_DRV_PID:-}" ] || return 0
	browser_stop_pid "$CDP_DRV_PID"
	CDP_DRV='' CDP_DRV_PID=''
	if [ "$STOP_RC" != 0 ]; then
		echo "cdp.py serve exited $STOP_RC after SIGTERM, not 0" >&2
		cat "$W/cdp-driver.log" >&2
		return 1
	fi
}

# js EXPR: evaluate EXPR in the page; its value lands in $output.
js() {
	run cdp eval "$1"
	assert_success
}

# js_wait EXPR: poll EXPR until truthy (cdp.py's timeout); in $output.
js_wait() {
	run cdp wait "$1"
	assert_success
}

# Poll until a probe succeeds or the process dies: $1 pid, $2 what, probe.
browser_await() {
	local pid=$1 what=$2 i
	shift 2
	for i in $(seq 200); do
		"$@" >/dev/null 2>&1 && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$what exited during start-up" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "$what not ready after 10 s" >&2
	return 1
}

browser_start_file() {
	local have_uri=0 a
	[ -x "$CHROMIUM" ] || { echo "chromium is missing: scripts/install-deps" >&2; return 1; }
	command -v jq >/dev/null || { echo "jq is missing" >&2; return 1; }
	"$PY" -c 'import websockets' 2>/dev/null ||
		{ echo "python3-websockets is missing for $PY" >&2; return 1; }
	for a in "$@"; do
		case "$a" in --libvirt-uri*) have_uri=1 ;; esac
	done
	export W=$BATS_FILE_TMPDIR
	export DDIR=$W/hx SOCK=$W/hx/s.sock HXD_LOG=$W/hx/horcruxd.log
	mkdir -p "$DDIR" "$W/chrome" "$HX_ARTIFACTS"
	read -r PORT CDP_PORT < <(free_port 2)
	# A file that must know the daemon's port first (tests/0455: the
	# OpenID provider's redirect URI) chooses it in HX_PORT.
	PORT=${HX_PORT:-$PORT}
	export PORT CDP_PORT URL=http://127.0.0.1:$PORT HX_ARTIFACTS
	if [ "$have_uri" = 0 ]; then
		set -- --libvirt-uri "test://$HX_REPO/share/demo-node.xml" "$@"
	fi
	"$HXD" -f --listen "127.0.0.1:$PORT" --socket "$SOCK" \
		--data-dir "$DDIR/data" --web-root "$HX_REPO/share/web" \
		--log-level info "$@" >"$HXD_LOG" 2>&1 3>&- &
	export HXD_PID=$!
	browser_await "$HXD_PID" horcruxd curl -fsS "$URL/api/health" || {
		cat "$HXD_LOG" >&2
		return 1
	}
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--window-size=1400,900 --user-data-dir="$W/chrome" \
		${HX_CHROMIUM_FLAGS:-} \
		--remote-debugging-port="$CDP_PORT" about:blank \
		>"$W/chromium.log" 2>&1 3>&- &
	export CHROME_PID=$!
	cdp_driver_start || return 1
	browser_await "$CHROME_PID" chromium cdp --timeout 2 ready
}

# Stop a child: SIGTERM, a bounded wait, then SIGKILL; status in STOP_RC.
browser_stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	STOP_RC=0
	wait "$pid" 2>/dev/null || STOP_RC=$?
}

browser_stop_file() {
	local bad=0
	cdp_driver_stop || bad=1
	[ -n "${CHROME_PID:-}" ] && browser_stop_pid "$CHROME_PID"
	if [ -n "${HXD_PID:-}" ]; then
		browser_stop_pid "$HXD_PID"
		if [ "$STOP_RC" != 0 ]; then
			echo "horcruxd exited $STOP_RC after SIGTERM, not 0" >&2
			bad=1
		fi
		if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$HXD_LOG" >&2; then
			bad=1
		fi
		[ "$bad" = 0 ] || cat "$HXD_LOG" >&2
	fi
	return "$bad"
}

# Before each test: no cookies, no storage, a blank page.
browser_fresh() {
	run cdp navigate about:blank
	assert_success
	run cdp call Network.clearBrowserCookies
	assert_success
	run cdp call Storage.clearDataForOrigin \
		"{\"origin\":\"$URL\",\"storageTypes\":\"all\"}"
	assert_success
}

# hx_root METHOD PATH [JSON]: a request as root@local over the socket;
# $output is the body, then a line with the HTTP status.
hx_root() {
	local args=(-sS --unix-socket "$SOCK" -X "$1" -w '\n%{http_code}')
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
	run curl "${args[@]}" "http://localhost$2"
	assert_success
}

# web_user NAME PASSWORD ROLE [PATH]: an account holding ROLE on PATH
# ("/" unless given; the role is granted through the ACL when PATH is).
web_user() {
	if [ $# -ge 4 ]; then
		hx_root POST /api/users "{\"username\":\"$1\",\"password\":\"$2\",\"roles\":[]}"
		assert_line --index 1 201
		hx_root PUT /api/acl "{\"path\":\"$4\",\"user\":\"$1\",\"role\":\"$3\",\"propagate\":true}"
		assert_line --index 1 --regexp '^20[01]$'
	else
		hx_root POST /api/users "{\"username\":\"$1\",\"password\":\"$2\",\"roles\":[\"$3\"]}"
		assert_line --index 1 201
	fi
}

# web_sign_in USER PASSWORD [FRAGMENT]: load the page over TCP, sign in
# with the keyboard, and wait for the live connection as USER.
web_sign_in() {
	run cdp navigate "$URL/${3:-}"
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'signin' &&
	    !document.getElementById('signin').hidden"
	js "document.getElementById('su-user').focus(); document.activeElement.id"
	assert_output su-user
	run cdp type "$1"
	assert_success
	run cdp key Tab
	assert_success
	run cdp type "$2"
	assert_success
	run cdp key Enter
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'connected' &&
	    document.getElementById('account-name').textContent === '$1'"
}

# web_go FRAGMENT VIEW: show a page and wait until its element is shown.
web_go() {
	js "location.hash = '$1'; true"
	js_wait "!document.querySelector('[data-view=\"$2\"]').hidden"
}

# web_shot NAME: screenshots of the page as it is, at 1400x900 and
# 390x844, kept as $HX_ARTIFACTS/NAME-wide.png and NAME-phone.png.
web_shot() {
	run cdp --viewport 1400x900 screenshot "$HX_ARTIFACTS/$1-wide.png"
	assert_success
	run cdp --viewport 390x844 screenshot "$HX_ARTIFACTS/$1-phone.png"
	assert_success
}
