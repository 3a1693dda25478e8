#!/usr/bin/env bats
#
# The history charts (share/web/js/chart.js, js/charts.js) in headless
# Chromium, against one horcruxd on the demo node for the whole file:
# the page's points are the history API's for the same from, to and
# step; a mouse drag zooms (the range and the URL follow), Reset goes
# back, the arrows pan; Export CSV is the API's format=csv byte for byte;
# the live tail grows without a history request; ?range=6h survives a
# reload; mountCharts() draws one VM's charts; an account without
# SysAudit on /nodes reads a sentence, not an error.
#
# Every comparison asks the daemon over the Unix socket for what the
# chart says it shows (data-* attributes, the chart object on its
# element): no number is written here.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/api
load helpers/browser

setup_file() {
	browser_start_file --history-flush 1
	# The 1 h chart asks for 5 s buckets: wait for a few of them.
	wait_points "series=node:cpu_usage&from=-1h&step=5" 3 >/dev/null
	curl -fsS --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
		-d '{"username":"chartadm","password":"chart-pass-1","roles":["Administrator"]}' \
		http://localhost/api/users >/dev/null
	curl -fsS --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
		-d '{"username":"vmonly","password":"chart-pass-2","roles":["VmUser"]}' \
		http://localhost/api/users >/dev/null
}

teardown_file() { browser_stop_file; }

setup() { browser_fresh; }

# The chart of KIND (cpu, memory, disk, network) inside SCOPE (a CSS
# selector), as a JS expression.
chart_js() {
	echo "document.querySelector('$1 [data-kind=\"$2\"]').hxChart"
}

# ISO MS: the RFC 3339 time of MS milliseconds, as the page writes it.
iso() {
	date -u -d "@$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ
}

# wait_charts SCOPE: every chart of the set has its answer.
wait_charts() {
	js_wait "(function () {
	    var s = document.querySelector('$1 .chart-set');
	    var c = s ? s.querySelectorAll('.chart') : [];
	    return s !== null && s.dataset.state === 'ready' && c.length === 4 &&
	        Array.prototype.every.call(c, function (e) {
	            return e.dataset.loading === 'false'; });
	})()"
}

# chart_vs_api SCOPE KIND [empty-ok]: the chart's points up to its last request's
# end equal the API's answer for that request's from, to and step, min and
# max included. A bucket the answer did not have is the live tail's, even
# when it starts before that end (a sample just after the request falls in
# the request's last bucket), so the chart is read up to its answer's last
# bucket.
chart_vs_api() {
	local page api from to step names
	js "(function () {
	    var c = $(chart_js "$1" "$2"),
	        ft = Math.min(c.fetchTo, c.lastFetched);
	    return JSON.stringify({ from: c.fetchFrom, to: c.fetchTo, cut: ft,
	        step: c.step,
	        names: c.defs.map(function (d) { return d.name; }).join(','),
	        series: c.series.map(function (s) {
	            var o = { name: s.name, points: [], min: [], max: [] };
	            s.points.forEach(function (p, k) {
	                if (p[0] <= ft) {
	                    o.points.push(p);
	                    o.min.push(s.min[k]);
	                    o.max.push(s.max[k]);
	                }
	            });
	            return o;
	        }) });
	})()"
	page=$output
	from=$(jq -r .from <<<"$page")
	to=$(jq -r .to <<<"$page")
	step=$(jq -r .step <<<"$page")
	names=$(jq -r .names <<<"$page")
	run hist "series=$names&from=$(iso "$from")&to=$(iso "$to")&step=$step"
	assert_success
	assert_equal "$(status_of "$output")" 200
	# The same buckets of the answer: one the history took in after the
	# page's request is not the page's to have.
	api=$(body_of "$output" | jq -S -c --argjson cut "$(jq .cut <<<"$page")" '
	    {series: [.series[] | . as $s
	        | [range(0; $s.points | length) | select($s.points[.][0] <= $cut)] as $k
	        | {name: $s.name, points: [$k[] as $i | $s.points[$i]],
	           min: [$k[] as $i | $s.min[$i]], max: [$k[] as $i | $s.max[$i]]}]}')
	page=$(jq -S -c '{series}' <<<"$page")
	# Something to compare: the answer is not empty (unless allowed).
	[ -n "${3:-}" ] || [ "$(jq '[.series[].points | length] | add' <<<"$api")" -gt 0 ]
	assert_equal "$page" "$api"
}

# drag SCOPE KIND FROM TO: a mouse drag across the plot from time FROM
# to time TO (JS expressions of ms, with the chart as c), at half its
# height, with the plot scrolled into view first.
drag() {
	local r x1 x2 y
	js "(function () { var c = $(chart_js "$1" "$2"), u = c.plot, b;
	    c.plotBox.scrollIntoView({ block: 'center' });
	    b = u.over.getBoundingClientRect();
	    return JSON.stringify({ x1: Math.round(b.left + u.valToPos(($3) / 1000, 'x')),
	        x2: Math.round(b.left + u.valToPos(($4) / 1000, 'x')),
	        y: Math.round(b.top + b.height / 2), from: ($3), to: ($4),
	        fetch: [c.fetchFrom, c.fetchTo, c.lastFetched],
	        points: c.series.map(function (s) { return s.points.length; }),
	        width: b.width }); })()"
	r=$output
	x1=$(jq -r .x1 <<<"$r")
	x2=$(jq -r .x2 <<<"$r")
	y=$(jq -r .y <<<"$r")
	[ $((x2 - x1)) -ge 10 ] || fail "a drag of $((x2 - x1)) px is too short to zoom: $r"
	run cdp call Input.dispatchMouseEvent "{\"type\":\"mouseMoved\",\"x\":$x1,\"y\":$y}"
	assert_success
	run cdp call Input.dispatchMouseEvent "{\"type\":\"mousePressed\",\"x\":$x1,\"y\":$y,\"button\":\"left\",\"buttons\":1,\"clickCount\":1}"
	assert_success
	run cdp call Input.dispatchMouseEvent "{\"type\":\"mouseMoved\",\"x\":$(((x1 + x2) / 2)),\"y\":$y,\"button\":\"left\",\"buttons\":1}"
	assert_success
	run cdp call Input.dispatchMouseEvent "{\"type\":\"mouseMoved\",\"x\":$x2,\"y\":$y,\"button\":\"left\",\"buttons\":1}"
	assert_success
	run cdp call Input.dispatchMouseEvent "{\"type\":\"mouseReleased\",\"x\":$x2,\"y\":$y,\"button\":\"left\",\"buttons\":0,\"clickCount\":1}"
	assert_success
}

# attr KIND NAME: data-NAME of the page's chart KIND.
attr() {
	js "document.querySelector('#view-charts [data-kind=\"$1\"]').dataset['$2']"
}

@test "the 1 h charts hold exactly the points the history API returns for their from, to and step" {
	web_sign_in chartadm chart-pass-1 '#/charts?range=1h'
	web_go '#/charts?range=1h' charts
	wait_charts '#view-charts'
	js "document.querySelector('#view-charts button[data-range=\"1h\"]').getAttribute('aria-pressed')"
	assert_output true
	# The span is the hour; the step what the API was asked for.
	js "(function () { var c = $(chart_js '#view-charts' cpu);
	    return c.fetchTo - c.fetchFrom; })()"
	assert_output 3600000
	chart_vs_api '#view-charts' cpu
	chart_vs_api '#view-charts' memory
	chart_vs_api '#view-charts' disk
	chart_vs_api '#view-charts' network
	# Each chart names its series in uPlot's legend.
	js "Array.prototype.map.call(document.querySelectorAll('#view-charts [data-kind=\"disk\"] .u-legend .u-label'), function (e) { return e.textContent; }).filter(function (t) { return t !== 'Time'; }).slice(0, 2).join('|')"
	assert_output 'Read|Write'
	# The table view: one row per point shown, with a caption.
	js "document.querySelector('#view-charts [data-kind=\"cpu\"] .chart-btn').click(); true"
	js_wait "document.querySelector('#view-charts [data-kind=\"cpu\"] table caption') !== null"
	js "(function () { var e = document.querySelector('#view-charts [data-kind=\"cpu\"]');
	    return e.querySelectorAll('.chart-table tbody tr').length === Number(e.dataset.points) &&
	        Number(e.dataset.points) > 0; })()"
	assert_output true
	web_shot charts-1h
}

@test "a drag zooms every chart and the URL, Reset goes back, the arrows pan" {
	local f0 t0 f1 t1 step
	web_sign_in chartadm chart-pass-1 '#/charts?range=1h'
	web_go '#/charts?range=1h' charts
	wait_charts '#view-charts'
	attr cpu from
	f0=$output
	attr cpu to
	t0=$output
	drag '#view-charts' cpu 'c.to - 1200000' 'c.to - 2000'
	js_wait "document.querySelector('#view-charts .chart-set').dataset.range === 'custom'"
	wait_charts '#view-charts'
	attr memory from
	f1=$output
	attr memory to
	t1=$output
	# The 20 minutes dragged across, give or take a pixel (7 s).
	[ "$f1" -gt "$f0" ]
	[ $((t1 - f1)) -gt $((1198000 - 7000)) ]
	[ $((t1 - f1)) -lt $((1198000 + 7000)) ]
	# The URL holds the zoomed range; the chart is no longer live.
	js "location.hash"
	assert_output "#/charts?from=$(iso "$f1" | sed 's/:/%3A/g')&to=$(iso "$t1" | sed 's/:/%3A/g')"
	attr memory live
	assert_output false
	chart_vs_api '#view-charts' memory
	web_shot charts-zoomed
	# Reset: the hour again, live, and the URL says so.
	js "Array.prototype.find.call(document.querySelectorAll('#view-charts .range-nav button'), function (b) { return b.textContent === 'Reset'; }).click(); true"
	js_wait "document.querySelector('#view-charts .chart-set').dataset.range === '1h'"
	js "location.hash"
	assert_output '#/charts?range=1h'
	wait_charts '#view-charts'
	attr cpu live
	assert_output true
	# One read: the live tail moves both ends.
	js "(function () { var d = document.querySelector('#view-charts [data-kind=\"cpu\"]').dataset;
	    return d.from + ' ' + d.to; })()"
	read -r f0 t0 <<<"$output"
	[ $((t0 - f0)) = 3600000 ]
	# The left arrow key on a focused plot moves back half the span.
	js "document.querySelector('#view-charts [data-kind=\"cpu\"] .chart-plot').focus(); true"
	run cdp call Input.dispatchKeyEvent '{"type":"rawKeyDown","key":"ArrowLeft","code":"ArrowLeft","windowsVirtualKeyCode":37}'
	assert_success
	run cdp call Input.dispatchKeyEvent '{"type":"keyUp","key":"ArrowLeft","code":"ArrowLeft","windowsVirtualKeyCode":37}'
	assert_success
	js_wait "document.querySelector('#view-charts .chart-set').dataset.range === 'custom'"
	wait_charts '#view-charts'
	attr network to
	t1=$output
	attr network from
	f1=$output
	[ $((t1 - f1)) = 3600000 ]
	[ "$t1" -le $((t0 - 1800000 + 5000)) ]
	[ "$t1" -ge $((t0 - 1800000)) ]
	chart_vs_api '#view-charts' network empty-ok
}

@test "Export CSV of a zoomed range is the API's format=csv for it, byte for byte; JSON holds the same points" {
	local from to step names
	web_sign_in chartadm chart-pass-1 '#/charts?range=15m'
	web_go '#/charts?range=15m' charts
	wait_charts '#view-charts'
	# A drag needs some width: on a fast machine the file's daemon may hold
	# only seconds of history yet, so let the live tail grow it to 30 s.
	run cdp --timeout 60 wait "(function () { var c = $(chart_js '#view-charts' disk);
	    return c.series[0].points.length > 0 && c.to - c.series[0].points[0][0] >= 30000; })()"
	assert_success
	drag '#view-charts' disk 'c.series[0].points[0][0]' 'c.to - 2000'
	js_wait "document.querySelector('#view-charts .chart-set').dataset.range === 'custom'"
	wait_charts '#view-charts'
	# Catch the Blob the page offers for download.
	js "window.__blobs = []; var real = URL.createObjectURL;
	    URL.createObjectURL = function (b) { window.__blobs.push(b); return real.call(URL, b); }; true"
	js "Array.prototype.find.call(document.querySelectorAll('#view-charts [data-kind=\"disk\"] .chart-btn'), function (b) { return b.textContent === 'Export CSV'; }).click(); true"
	js_wait "window.__blobs.length === 1"
	js "window.__blobs[0].text().then(function (t) { return btoa(t); })"
	base64 -d <<<"$output" >"$BATS_TEST_TMPDIR/page.csv"
	attr disk from
	from=$output
	attr disk to
	to=$output
	attr disk step
	step=$output
	run curl -fsS --unix-socket "$SOCK" -o "$BATS_TEST_TMPDIR/api.csv" \
		"http://localhost/api/metrics/history?series=node:disk_read_bps,node:disk_write_bps&from=$(iso "$from")&to=$(iso "$to")&step=$step&format=csv"
	assert_success
	# Rows, not just a header.
	[ "$(wc -l <"$BATS_TEST_TMPDIR/api.csv")" -gt 2 ]
	run cmp "$BATS_TEST_TMPDIR/page.csv" "$BATS_TEST_TMPDIR/api.csv"
	assert_success
	# Values the demo node's rates never reach, written as C's %.10g
	# writes them (the daemon's CSV): exponents, and ties to even.
	local vals='0 0.5 12345678905 12345678915 1.0009765625 1234567.8125 0.000030517578125 10000000000 1099511627776 6442450944 -2.5'
	js "import('./js/chart.js').then(function (m) {
	    return '$vals'.split(' ').map(function (v) { return m.fmtG10(Number(v)); }).join(' '); })"
	# shellcheck disable=SC2086
	assert_output "$(printf '%.10g ' $vals | sed 's/ $//')"
	# JSON: the same points as the API's JSON answer.
	js "Array.prototype.find.call(document.querySelectorAll('#view-charts [data-kind=\"disk\"] .chart-btn'), function (b) { return b.textContent === 'Export JSON'; }).click(); true"
	js_wait "window.__blobs.length === 2"
	js "window.__blobs[1].text()"
	jq -S -c '[.series[] | {name, points, min, max}]' <<<"$output" >"$BATS_TEST_TMPDIR/page.json"
	run hist "series=node:disk_read_bps,node:disk_write_bps&from=$(iso "$from")&to=$(iso "$to")&step=$step"
	body_of "$output" | jq -S -c '[.series[] | {name, points, min, max}]' >"$BATS_TEST_TMPDIR/api.json"
	run cmp "$BATS_TEST_TMPDIR/page.json" "$BATS_TEST_TMPDIR/api.json"
	assert_success
}

@test "the live tail appends NodeMetrics samples without a new history request" {
	local n t
	web_sign_in chartadm chart-pass-1 '#/charts?range=15m'
	web_go '#/charts?range=15m' charts
	wait_charts '#view-charts'
	js "window.__hx.fetches.filter(function (f) { return f.url.indexOf('/api/metrics/history') >= 0; }).length"
	n=$output
	[ "$n" -ge 4 ]
	js "(function () { var c = $(chart_js '#view-charts' cpu), p = c.series[0].points;
	    return p.length ? p[p.length - 1][0] : 0; })()"
	t=$output
	run cdp --timeout 20 wait "(function () { var c = $(chart_js '#view-charts' cpu), p = c.series[0].points;
	    return p.length > 0 && p[p.length - 1][0] > $t && p[p.length - 1][0] > c.fetchTo &&
	        Number(c.root.dataset.to) > c.fetchTo; })()"
	assert_success
	js "window.__hx.fetches.filter(function (f) { return f.url.indexOf('/api/metrics/history') >= 0; }).length"
	assert_output "$n"
	# The appended bucket holds the sample the event carried.
	js "(function () { var c = $(chart_js '#view-charts' cpu), p = c.series[0].points;
	    return p[p.length - 1][1] !== null; })()"
	assert_output true
}

@test "a deep link to #/charts?range=6h, and a custom range from the form, survive a reload" {
	web_sign_in chartadm chart-pass-1 '#/charts?range=6h'
	web_go '#/charts?range=6h' charts
	wait_charts '#view-charts'
	js "window.__before_reload = true"
	run cdp call Page.reload
	assert_success
	js_wait "window.__before_reload === undefined &&
	    !!document.getElementById('conn') &&
	    document.getElementById('conn').dataset.state === 'connected'"
	wait_charts '#view-charts'
	js "location.hash"
	assert_output '#/charts?range=6h'
	js "document.querySelector('#view-charts button[data-range=\"6h\"]').getAttribute('aria-pressed')"
	assert_output true
	js "(function () { var c = $(chart_js '#view-charts' memory);
	    return c.fetchTo - c.fetchFrom; })()"
	assert_output 21600000
	chart_vs_api '#view-charts' memory
	web_shot charts-6h
	# A custom range from the form: its times, in the URL, after a
	# reload too.
	js "(function () { var f = document.querySelector('#view-charts .range-custom');
	    var i = f.querySelectorAll('input'), n = Date.now();
	    function local(ms) { var d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
	        return d.toISOString().slice(0, 16); }
	    i[0].value = local(n - 40 * 60000);
	    i[1].value = local(n - 10 * 60000);
	    f.querySelector('button[type=submit]').click();
	    return new Date(i[0].value).getTime() + ' ' + new Date(i[1].value).getTime(); })()"
	local want=$output
	js_wait "document.querySelector('#view-charts .chart-set').dataset.range === 'custom'"
	wait_charts '#view-charts'
	js "(function () { var d = document.querySelector('#view-charts [data-kind=\"cpu\"]').dataset;
	    return d.from + ' ' + d.to; })()"
	assert_output "$want"
	js "decodeURIComponent(location.hash)"
	assert_output "#/charts?from=$(iso "${want% *}")&to=$(iso "${want#* }")"
	js "window.__before_reload = true"
	run cdp call Page.reload
	assert_success
	js_wait "window.__before_reload === undefined &&
	    !!document.getElementById('conn') &&
	    document.getElementById('conn').dataset.state === 'connected'"
	wait_charts '#view-charts'
	js "(function () { var d = document.querySelector('#view-charts [data-kind=\"disk\"]').dataset;
	    return d.from + ' ' + d.to + ' ' + d.live; })()"
	assert_output "$want false"
}

@test "mountCharts draws one VM's charts from its own series, live from VmMetrics" {
	local vm t
	run hist 'series=vm:*:cpu_usage&from=-1h&step=5'
	vm=$(body_of "$output" | jq -r '[.series[] | select(.points | length > 0)][0].name | sub("^vm:"; "") | sub(":cpu_usage$"; "")')
	[ -n "$vm" ] && [ "$vm" != null ]
	web_sign_in chartadm chart-pass-1 '#/charts?range=1h'
	web_go '#/charts?range=1h' charts
	wait_charts '#view-charts'
	js "import('./js/charts.js').then(function (m) {
	    var d = document.createElement('div');
	    d.id = 'scratch';
	    document.getElementById('view-charts').appendChild(d);
	    window.__vmc = m.mountCharts(d, { scope: 'vm', vm: '$vm' });
	    return true; })"
	wait_charts '#scratch'
	js "$(chart_js '#scratch' disk).defs.map(function (d) { return d.name; }).join(',')"
	assert_output "vm:$vm:disk_read_bps,vm:$vm:disk_write_bps"
	chart_vs_api '#scratch' cpu
	chart_vs_api '#scratch' network
	web_shot charts-vm
	# VmMetrics of this VM extend its charts.
	run cdp --timeout 25 wait "(function () { var c = $(chart_js '#scratch' cpu);
	    return Number(c.root.dataset.to) > c.fetchTo; })()"
	assert_success
	js "window.__vmc.destroy(); document.getElementById('scratch').childElementCount"
	assert_output 0
}

@test "an account that may not read the host's history is told so" {
	web_sign_in vmonly chart-pass-2 '#/charts'
	web_go '#/charts' charts
	js_wait "(function () { var s = document.querySelector('#view-charts .chart-set');
	    return s !== null && s.dataset.state === 'refused'; })()"
	js "document.querySelector('#view-charts .chart-msg').textContent"
	assert_output --partial 'may not read the host'
	assert_output --partial 'SysAudit'
	js "document.querySelectorAll('#view-charts .chart').length"
	assert_output 0
	js "window.__hx.errors.length"
	assert_output 0
	web_shot charts-no-right
}
