#!/usr/bin/env bats
#
# The monitoring page and the page frame in a real browser (one horcruxd
# on the demo node and one headless Chromium for the whole file): the
# live values against GET /api/nodes/local for the same sample, the
# connection badge offline and back, the server going away and coming
# back, the daemon's Content-Security-Policy (header present; an inline
# script and an inline style attribute refused), sign-out leaving
# nothing behind, the keyboard path through the frame with a visible
# focus ring, light and dark schemes at AA contrast, no motion when the
# system asks for less. Screenshots: build/artifacts/web/monitor-*.png.

load helpers/common
load helpers/browser

setup_file() {
	browser_start_file
	web_user watcher watcher-pass-1 Auditor
}

teardown_file() { browser_stop_file; }

setup() { browser_fresh; }

# What the page shows of the newest sample, as text, in one JSON object.
PAGE_NOW="(() => {
	const t = s => s.replace(/\u00a0/g, ' ').replace(/\u202f/g, '');
	const bar = b => ({ label: b.querySelector('.bar-label').textContent,
	    value: t(b.querySelector('.bar-value').textContent),
	    level: b.querySelector('.bar-level').textContent,
	    data: b.dataset.level,
	    detail: b.querySelector('.bar-detail') ?
	    t(b.querySelector('.bar-detail').textContent) : null });
	const bars = sel => Array.from(document.querySelectorAll(sel), bar);
	const txt = id => t(document.getElementById(id).textContent);
	return JSON.stringify({
	    ts: document.getElementById('sample-time').dateTime,
	    hostname: txt('hostname'), uptime: txt('uptime'),
	    cores: txt('cpu-cores'), cpu: bars('#cpu-total .bar')[0],
	    per_core: bars('#cpu-cores-list .bar'),
	    mem: bars('#mem-bar .bar')[0], swap: bars('#swap-bar .bar')[0],
	    mem_total: txt('mem-total'), mem_available: txt('mem-available'),
	    fullest: bars('#disk-fullest .bar')[0],
	    disks: bars('#disk-list .bar'),
	    load: ['load-1', 'load-5', 'load-15'].map(txt),
	    load_bars: bars('#load-bars .bar'), load_scale: txt('load-scale'),
	    rates: ['disk-read', 'disk-write', 'net-rx', 'net-tx'].map(txt) });
})()"

# The page's sample and the API's, for the same timestamp: read the page,
# ask the daemon; a newer sample may land in between, so ask again.
same_sample() {
	local i
	for i in $(seq 60); do
		js "$PAGE_NOW"
		PAGE=$output
		hx_root GET /api/nodes/local
		assert_line --index 1 200
		API=${lines[0]}
		[ "$(jq -r .ts <<<"$PAGE")" = "$(jq -r .timestamp <<<"$API")" ] &&
			return 0
	done
	fail "no sample on the page matched the API's in 60 tries"
}

@test "monitor: the live values are GET /api/nodes/local's for the same sample, within rounding" {
	web_sign_in watcher watcher-pass-1
	js_wait "document.getElementById('sample-time').dateTime"
	same_sample
	cat >"$BATS_TEST_TMPDIR/cmp.py" <<'EOF'
import json, math, sys

page, api = json.loads(sys.argv[1]), json.loads(sys.argv[2])
bad = []
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
         "TiB": 1 << 40}

def check(what, ok, shown, want):
    if not ok:
        bad.append("%s: the page shows %r, the API says %r" %
                   (what, shown, want))

def band(p):
    return ("critical" if p >= 90 else "warning" if p >= 75 else
            "moderate" if p >= 50 else "good")

def pct(what, shown, want):
    # "12.3 %" for want, to one decimal.
    try:
        v = float(shown.split()[0])
    except ValueError:
        v = None
    check(what, v is not None and abs(v - want) <= 0.05 + 1e-9, shown,
          want)

def bar(what, b, want):
    pct(what, b["value"], want)
    check(what + " level", b["level"] == b["data"] == band(want),
          b["level"] + "/" + b["data"], band(want))

def nbytes(what, shown, want):
    # "1.23 GiB": as many digits as fmtBytes keeps, so within half the
    # last one.
    num, unit = shown.replace("/s", "").split()
    dec = len(num.split(".")[1]) if "." in num else 0
    tol = 0.5 * 10 ** -dec * UNITS[unit] + 1e-6
    check(what, abs(float(num) * UNITS[unit] - want) <= tol, shown, want)

def used_of(what, shown, used, total):
    u, t = shown.split(" used of ")
    nbytes(what + " used", u, used)
    nbytes(what + " total", t, total)

def duration(s):
    s = math.floor(s)
    d, h, m, s = s // 86400, s % 86400 // 3600, s % 3600 // 60, s % 60
    if d:
        return "%d d %d h %d min" % (d, h, m)
    if h:
        return "%d h %d min" % (h, m)
    if m:
        return "%d min %d s" % (m, s)
    return "%d s" % s

check("hostname", page["hostname"] == api["hostname"], page["hostname"],
      api["hostname"])
check("uptime", page["uptime"] == duration(api["uptime_seconds"]),
      page["uptime"], api["uptime_seconds"])
check("cores", page["cores"] == str(api["cpu_cores"]), page["cores"],
      api["cpu_cores"])
bar("CPU", page["cpu"], api["cpu_usage"])
check("per-core bars", len(page["per_core"]) == len(api["cpu_per_core"]),
      len(page["per_core"]), len(api["cpu_per_core"]))
for i, (b, v) in enumerate(zip(page["per_core"], api["cpu_per_core"])):
    check("core label", b["label"] == "cpu%d" % i, b["label"], i)
    bar("cpu%d" % i, b, v)
bar("memory", page["mem"], api["memory_usage"])
used_of("memory", page["mem"]["detail"], api["memory_used_bytes"],
        api["memory_total_bytes"])
nbytes("memory total", page["mem_total"].split(" (")[0],
       api["memory_total_bytes"])
check("memory total exact", page["mem_total"].endswith(
      "(%d bytes)" % api["memory_total_bytes"]), page["mem_total"],
      api["memory_total_bytes"])
nbytes("memory available", page["mem_available"],
       api["memory_available_bytes"])
bar("swap", page["swap"], api["swap_usage"])
if api["swap_total_bytes"] == 0:
    check("swap detail", page["swap"]["detail"] == "no swap configured",
          page["swap"]["detail"], 0)
else:
    used_of("swap", page["swap"]["detail"], api["swap_used_bytes"],
            api["swap_total_bytes"])
check("mounts", [b["label"] for b in page["disks"]] ==
      [k["mount"] for k in api["disks"]],
      [b["label"] for b in page["disks"]], [k["mount"] for k in api["disks"]])
for b, k in zip(page["disks"], api["disks"]):
    bar("mount " + k["mount"], b, k["usage"])
    used_of("mount " + k["mount"], b["detail"], k["used_bytes"],
            k["total_bytes"])
full = max(api["disks"], key=lambda k: k["usage"])
check("fullest", page["fullest"]["label"] == "Fullest: " + full["mount"],
      page["fullest"]["label"], full["mount"])
bar("fullest", page["fullest"], full["usage"])
check("fullest is disk_usage", abs(full["usage"] - api["disk_usage"]) < 1e-9,
      full["usage"], api["disk_usage"])
for i, (shown, v) in enumerate(zip(page["load"], api["load_average"])):
    check("load %d" % i, abs(float(shown) - v) <= 0.005 + 1e-9, shown, v)
    b = page["load_bars"][i]
    check("load bar %d" % i, b["value"].startswith(shown + " ("),
          b["value"], shown)
    per_core = v / api["cpu_cores"] * 100
    pct("load bar %d" % i, b["value"].split("(")[1], per_core)
    check("load level %d" % i, b["level"] == band(per_core), b["level"],
          per_core)
check("load scale", page["load_scale"] == "%.2f on %d cores" % (
      api["cpu_cores"], api["cpu_cores"]) or api["cpu_cores"] == 1,
      page["load_scale"], api["cpu_cores"])
for shown, key in zip(page["rates"], ["disk_read_bps", "disk_write_bps",
                                      "network_rx_bps", "network_tx_bps"]):
    check(key + " unit", shown.endswith("/s"), shown, api[key])
    nbytes(key, shown, api[key])
print("\n".join(bad) or "same")
EOF
	run "$PY" "$BATS_TEST_TMPDIR/cmp.py" "$PAGE" "$API"
	assert_success
	assert_output same
	web_shot monitor
}

@test "monitor: the badge says offline with the browser, and live again after" {
	web_sign_in watcher watcher-pass-1
	js_wait "document.getElementById('sample-time').dateTime"
	js "window.__offline = 0; window.__online = 0;
	    addEventListener('offline', () => window.__offline++);
	    addEventListener('online', () => window.__online++);
	    [document.getElementById('conn-dot').textContent,
	    document.getElementById('conn-state').textContent,
	    document.getElementById('conn-detail').textContent].join()"
	assert_output "●,connected,live"
	local sockets
	js "window.__hx.ws.length"
	sockets=$output

	# Offline for as long as this one command runs: the event, the
	# word, the glyph, and no retry behind it.
	run cdp --offline wait "window.__offline === 1 &&
	    document.getElementById('conn').dataset.state === 'offline' &&
	    [navigator.onLine, document.getElementById('conn-dot').textContent,
	    document.getElementById('conn-state').textContent,
	    document.getElementById('conn-detail').textContent,
	    document.getElementById('status').textContent].join()"
	assert_success
	assert_output "false,✕,offline,no network,This browser is offline; the page reconnects when the network is back."

	# Online again: at once, on a new socket, live data again.
	js_wait "window.__online === 1 && navigator.onLine &&
	    document.getElementById('conn').dataset.state === 'connected' &&
	    window.__hx.ws.length"
	assert_output "$((sockets + 1))"
	js "document.getElementById('sample-time').dateTime"
	local before=$output
	js_wait "document.getElementById('sample-time').dateTime !== '$before'"
	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}

@test "csp: the daemon's policy is on the page and on every script, without 'unsafe-inline'" {
	local f
	for f in / /style.css $(cd "$HX_REPO/share/web" && printf '/%s\n' js/*.js); do
		run curl -sS -D- -o /dev/null "$URL$f"
		assert_success
		assert_line --index 0 --regexp '^HTTP/1\.1 200'
		assert_line --regexp "^content-security-policy: .*default-src 'none';"
		assert_line --regexp "^content-security-policy: .*script-src 'self';"
		assert_line --regexp "^content-security-policy: .*style-src 'self';"
		refute_output --partial "unsafe-inline"
		refute_output --partial "unsafe-eval"
	done
}

@test "csp: an injected inline script does not run; an inline style attribute is not applied" {
	run cdp navigate "$URL/"
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'signin'"
	# A script element with text, as an injection would add it.
	js "new Promise(r => {
	    window.__ran = false;
	    document.addEventListener('securitypolicyviolation', e =>
	        r([e.violatedDirective, e.disposition, window.__ran].join()),
	        { once: true });
	    const s = document.createElement('script');
	    s.textContent = 'window.__ran = true;';
	    document.body.appendChild(s);
	}).then(v => v + ',' + window.__ran)"
	assert_output "script-src-elem,enforce,false,false"
	# Markup with a style attribute: parsed, inserted, not applied.
	js "new Promise(r => {
	    document.addEventListener('securitypolicyviolation', e =>
	        r([e.violatedDirective, e.disposition].join()), { once: true });
	    document.body.appendChild(document.createRange()
	        .createContextualFragment('<p id=\"styled\" ' +
	        'style=\"color: rgb(1, 2, 3); width: 7px\">x</p>'));
	}).then(v => v + ',' + (getComputedStyle(document.getElementById(
	    'styled')).color !== 'rgb(1, 2, 3)'))"
	assert_output "style-src-attr,enforce,true"
	js "window.__hx.csp.join('|')"
	assert_output "script-src-elem inline|style-src-attr inline"
	# What the page itself draws breaks no rule: a bar's width is set
	# through the CSSOM, which the policy allows.
	js "window.__hx.errors.length"
	assert_output 0
}

@test "sign-out clears the session: no storage, no cookie, nothing shown" {
	web_sign_in watcher watcher-pass-1
	js_wait "document.getElementById('sample-time').dateTime"
	js "sessionStorage.length + ',' + localStorage.length"
	assert_output "1,0"
	run cdp call Network.getCookies "{\"urls\":[\"$URL/\"]}"
	assert_success
	run jq -r '[.cookies[].name] | join(",")' <<<"$output"
	assert_output horcrux_session

	js "document.getElementById('signout').focus(); document.activeElement.id"
	assert_output signout
	run cdp key Enter
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'signin'"
	js "[sessionStorage.length, localStorage.length,
	    document.cookie === '',
	    document.getElementById('account').hidden,
	    document.getElementById('views').hidden,
	    document.getElementById('hostname').textContent,
	    document.getElementById('load-1').textContent,
	    document.querySelector('#disk-fullest .bar-value').textContent,
	    document.querySelectorAll('#disk-list .bar').length].join()"
	assert_output "0,0,true,true,true,—,—,—,0"
	run cdp call Network.getCookies "{\"urls\":[\"$URL/\"]}"
	assert_success
	run jq -r '.cookies | length' <<<"$output"
	assert_output 0
}

@test "keyboard: Tab from the top reaches the skip link, the sign-out and the page links in order, each with a focus ring" {
	local want got="" i n
	web_sign_in watcher watcher-pass-1
	# A fresh load with the session: focus starts at the top.
	run cdp navigate "$URL/"
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'connected'"
	js "['#skip', '#signout'].concat(Array.from(
	    document.querySelectorAll('#nav a'), a => a.getAttribute('href')))
	    .join(' ')"
	want=$output
	n=$(wc -w <<<"$want")
	[ "$n" -ge 3 ]
	for i in $(seq "$n"); do
		run cdp key Tab
		assert_success
		# Which element, shown, with a ring of at least 2 px that the
		# keyboard put there.
		js "(() => { const e = document.activeElement,
		    s = getComputedStyle(e), r = e.getBoundingClientRect();
		    return (e.id ? '#' + e.id : e.getAttribute('href')) +
		    (e.matches(':focus-visible') && s.outlineStyle !== 'none' &&
		    parseFloat(s.outlineWidth) >= 2 && r.top >= 0 &&
		    r.width > 0 && r.height > 0 ? '' : '(no visible focus)');
		    })()"
		got="$got${got:+ }$output"
	done
	[ "$got" = "$want" ] || fail "Tab order: '$got', wanted '$want'"

	# The skip link, by keyboard, lands in the main content and keeps the
	# page's route. (about:blank first: a new fragment alone loads
	# nothing.)
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$URL/#/"
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'connected'"
	run cdp key Tab
	assert_output skip
	run cdp key Enter
	assert_output main
	js "location.hash"
	assert_output "#/"
}

@test "schemes: light and dark both render, every text colour at AA contrast; no motion on request" {
	web_sign_in watcher watcher-pass-1
	js_wait "document.getElementById('sample-time').dateTime &&
	    document.querySelector('#cpu-total .bar').dataset.level !== 'unknown'"
	# Contrast of each pair the style sheet uses for text, from the
	# variables as the browser resolved them.
	local pairs="(() => {
	    const v = n => getComputedStyle(document.documentElement)
	        .getPropertyValue('--' + n).trim();
	    const lum = h => { const c = [1, 3, 5].map(i =>
	        parseInt(h.slice(i, i + 2), 16) / 255).map(x => x <= 0.03928 ?
	        x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4));
	        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
	    const cr = (a, b) => { const x = lum(v(a)), y = lum(v(b));
	        return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
	    const low = [];
	    ['fg', 'muted', 'accent', 'good', 'moderate', 'warning',
	     'critical', 'unknown'].forEach(f => ['bg', 'card'].forEach(b => {
	        if (cr(f, b) < 4.5) low.push(f + '/' + b + ' ' +
	            cr(f, b).toFixed(2)); }));
	    ['good', 'moderate', 'warning', 'critical', 'unknown'].forEach(b => {
	        if (cr('on-level', b) < 4.5) low.push('on-level/' + b + ' ' +
	            cr('on-level', b).toFixed(2)); });
	    return v('bg') + ' ' + getComputedStyle(document.body)
	        .backgroundColor + ' ' + (low.join(', ') || 'AA');
	})()"
	run cdp --color-scheme light eval "$pairs"
	assert_success
	assert_output --regexp ' AA$'
	local light=$output
	run cdp --color-scheme dark eval "$pairs"
	assert_success
	assert_output --regexp ' AA$'
	[ "${output%% *}" != "${light%% *}" ] ||
		fail "dark and light have the same background: $output"
	HX_COLOR_SCHEME=light web_shot monitor-light
	HX_COLOR_SCHEME=dark web_shot monitor-dark

	# A bar's fill slides, unless the system asks for less motion.
	js "getComputedStyle(document.querySelector('.bar-fill'))
	    .transitionDuration"
	assert_output "0.4s"
	run cdp --reduced-motion eval "getComputedStyle(
	    document.querySelector('.bar-fill')).transitionDuration"
	assert_success
	assert_output "0s"

	# A phone: nothing wider than the screen, every page link whole and
	# at least 44 px tall.
	run cdp --viewport 390x844 eval "document.documentElement.scrollWidth <=
	    document.documentElement.clientWidth &&
	    Array.from(document.querySelectorAll('#nav a')).every(a => {
	    const r = a.getBoundingClientRect();
	    return r.left >= 0 && r.right <= 390 && r.height >= 44; })"
	assert_success
	assert_output true
}

# Last in the file: it stops the file's daemon (teardown_file collects
# its exit status, which only its parent can) and ends with none.
@test "monitor: the server away is offline with a countdown, and the page comes back with it" {
	local pid
	web_sign_in watcher watcher-pass-1
	js_wait "document.getElementById('sample-time').dateTime"
	# Every state the badge passes through, with its glyph.
	js "window.__states = []; new MutationObserver(() => {
	    const c = document.getElementById('conn'), s = c.dataset.state +
	    ' ' + document.getElementById('conn-dot').textContent;
	    if (window.__states[window.__states.length - 1] !== s)
	        window.__states.push(s); }).observe(document.getElementById(
	    'conn'), { attributes: true, subtree: true, childList: true,
	    characterData: true }); true"
	kill -TERM "$HXD_PID"
	js_wait "document.getElementById('conn').dataset.state === 'offline' &&
	    /^retry in [0-9.]+ s$/.test(document.getElementById('conn-detail')
	    .textContent) && [document.getElementById('conn-dot').textContent,
	    document.getElementById('conn-state').textContent,
	    document.getElementById('status').textContent].join()"
	assert_output "✕,offline,The server cannot be reached."

	# The same daemon again: same port, data directory and sessions.
	"$HXD" -f --listen "127.0.0.1:$PORT" --socket "$SOCK" \
		--data-dir "$DDIR/data" --web-root "$HX_REPO/share/web" \
		--libvirt-uri "test://$HX_REPO/share/demo-node.xml" \
		--log-level info >>"$HXD_LOG" 2>&1 3>&- &
	pid=$!
	browser_await "$pid" horcruxd curl -fsS "$URL/api/health"
	run cdp --timeout 20 wait "document.getElementById('conn').dataset.state
	    === 'connected' && document.getElementById('account-name')
	    .textContent"
	assert_success
	assert_output watcher
	js_wait "document.getElementById('conn-detail').textContent === 'live'"
	# Closed, retried, unreachable, ..., back: reconnecting first (the
	# socket closed), then offline (the probe reached nothing), and
	# connected at the end.
	js "window.__states.filter((s, i, a) => a.indexOf(s) === i).join(',')"
	assert_output --regexp '^reconnecting ↻,(connecting ◌,)?offline ✕,.*connected ●$'

	browser_stop_pid "$pid"
	[ "$STOP_RC" = 0 ] || fail "the second horcruxd exited $STOP_RC after SIGTERM"
}
