#!/usr/bin/env bats
#
# The dashboard's live stream in a real browser (one horcruxd on the
# demo node and one headless Chromium for the file), watched through a
# tap on the page's own WebSocket (tests/browser/ws-tap.js): the topics
# follow the page shown (the monitoring page asks for no vm: topic, the
# VM list adds them, leaving drops them again); with a daemon that has
# batches, a VM tick is one VmMetricsBatch and one change to the table
# in one frame; a page that loses its connection resumes from the last
# seq it saw, so an event sent while it was away arrives, once, and a
# replay of one it has seen changes nothing. An independent client
# (python3-websockets on the Unix socket) sees the event happen.

load helpers/common
load helpers/browser

setup_file() {
	browser_start_file --vm-interval 0.5
	web_user watcher watcher-pass-1 Auditor
}

teardown_file() { browser_stop_file; }

setup() { browser_fresh; }

# tap_sign_in FRAGMENT: sign in as watcher, then load FRAGMENT again with
# the tap injected (the session survives the reload) and wait for the
# live connection.
tap_sign_in() {
	web_sign_in watcher watcher-pass-1
	# Away first: the same URL again would not load the document anew.
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$URL/$1" --inject "$HX_REPO/tests/browser/ws-tap.js"
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'connected' &&
	    window.__tap.got.some(m => m.type === 'Subscribed')"
}

# The topics of the Nth message the page sent (from 1), space-separated.
sent_topics() {
	js_wait "window.__tap.sent.length >= $1 &&
	    JSON.parse(window.__tap.sent[$1 - 1]).topics.join(' ')"
}

# running_vms: how many VMs GET /api/vms shows running.
running_vms() {
	hx_root GET /api/vms
	assert_line --index 1 200
	jq '[.[] | select(.state == "running")] | length' <<<"${lines[0]}"
}

@test "stream: the monitoring page asks for no vm: topic, #/vms adds them, leaving drops them" {
	tap_sign_in '#/'
	sent_topics 1
	assert_output "node:metrics notifications alerts"
	js "window.__tap.got.filter(m => /^VmMetrics/.test(m.type)).length"
	assert_output 0

	# The VM list: its topics added; the daemon's snapshot of the new
	# metric topic draws the figures at once.
	web_go '#/vms' vms
	sent_topics 2
	assert_output "node:metrics notifications alerts vm:metrics vm:status vm:events"
	n=$(running_vms)
	[ "$n" -ge 2 ]
	js_wait "document.querySelectorAll('#vms-table tbody tr[data-sampled]').length >= $n"
	js "window.__tap.got.filter(m => m.type === 'Subscribed').length"
	assert_output 2

	# Back to the monitoring page: the vm: topics go. Once the daemon has
	# answered, no VM figure comes while three host samples do (one may
	# have been on its way already; the VM ticks are twice as often).
	web_go '#/' monitor
	sent_topics 3
	assert_output "node:metrics notifications alerts"
	js_wait "(() => {
	    const g = window.__tap.got;
	    const i = g.map(m => m.type).lastIndexOf('Subscribed');
	    if (g.filter(m => m.type === 'Subscribed').length < 3) return '';
	    const after = g.slice(i + 1);
	    const nodes = after.map((m, k) => m.type === 'NodeMetrics' ? k : -1)
	        .filter(k => k >= 0);
	    if (nodes.length < 3) return '';
	    return JSON.stringify(after.slice(nodes[1]).filter(m =>
	        /^Vm/.test(m.type)).map(m => m.type));
	})()"
	assert_output "[]"
	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}

@test "stream: with batches, a VM tick is one VmMetricsBatch and one change to the table, in one frame" {
	tap_sign_in '#/vms'
	n=$(running_vms)
	[ "$n" -ge 2 ]
	# The list read and drawn with figures: from the next batch on, the
	# ticks are all that changes the table.
	js_wait "document.getElementById('view-vms').dataset.loaded === 'true' &&
	    document.querySelectorAll('#vms-table tbody tr[data-sampled]').length >= $n &&
	    window.__tap.batches + 1"
	k=$output
	run cdp --timeout 30 wait "window.__tap.batches >= $k + 5"
	assert_success
	# Asked for batches (the welcome carried a boot_id), got no single
	# VmMetrics, and every batch holds every running VM.
	js "JSON.parse(window.__tap.sent[0]).batch"
	assert_output true
	js "window.__tap.got.filter(m => m.type === 'VmMetrics').length"
	assert_output 0
	js "JSON.stringify([...new Set(window.__tap.got.filter(m =>
	    m.type === 'VmMetricsBatch').map(m => m.n))])"
	echo "VMs per batch: $output, running: $n"
	run jq -e --argjson n "$n" 'length == 1 and .[0] >= $n' <<<"$output"
	assert_success
	# Each of the five batches changes the table in at most one observer
	# callback, that is one frame, touching every running VM's row; a
	# frame may also come after the next batch has arrived (a busy
	# machine), then that one carries both.
	js "JSON.stringify([0, 1, 2, 3, 4].map(i =>
	    window.__tap.muts.filter(x => x.batches === $k + i).length))"
	echo "table changes per batch: $output"
	run jq -e 'all(. <= 1) and add >= 3' <<<"$output"
	assert_success
	js "Math.min(...window.__tap.muts.filter(x => x.batches >= $k &&
	    x.batches < $k + 5).map(x => x.n)) >= $n"
	assert_output true
	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}

@test "stream: a page that lost its connection resumes: an event sent while away comes once, a replay changes nothing" {
	local seen="$BATS_TEST_TMPDIR/seen" ready="$BATS_TEST_TMPDIR/ready"
	row="document.querySelector('#vms-table tr[data-vm=\"web-1\"]')"
	tap_sign_in '#/vms'
	js_wait "$row?.dataset.state === 'running'"
	# A discrete event before the fault, so the page holds a seq to
	# resume from: web-2 paused and back, seen on the page.
	hx_root POST /api/vms/web-2/suspend
	hx_root POST /api/vms/web-2/resume
	js_wait "window.__tap.got.filter(m => m.type === 'VmStatusChanged' &&
	    JSON.parse(m.raw).data.vm_id === 'web-2').length >= 2"
	js "JSON.parse(window.__tap.got.find(m => m.type === 'Notification').raw).data.boot_id"
	boot=$output
	[ -n "$boot" ]

	# An independent client sees the event the page will miss.
	"$PY" - "$SOCK" "$ready" "$seen" <<'PY' &
import asyncio, json, sys
from websockets.client import unix_connect

async def main():
    async with unix_connect(sys.argv[1], "ws://localhost/api/ws") as ws:
        await ws.recv()
        await ws.send(json.dumps({"topics": ["vm:status"]}))
        while json.loads(await ws.recv())["type"] != "Subscribed":
            pass
        open(sys.argv[2], "w").close()
        while True:
            m = json.loads(await ws.recv())
            d = m.get("data", {})
            if m["type"] == "VmStatusChanged" and d.get("vm_id") == "web-1":
                with open(sys.argv[3], "w") as f:
                    f.write("%s %s\n" % (d.get("seq"), d.get("new_status")))
                return

asyncio.run(asyncio.wait_for(main(), 60))
PY
	obs=$!
	browser_await "$obs" "the observer" test -e "$ready"

	# The connection drops and the page cannot get back (the tap holds
	# it away) while web-1 is suspended.
	js "window.__tap.hold = true;
	    window.__tap.socks[window.__tap.socks.length - 1].close(); true"
	js_wait "window.__tap.held >= 1"
	# The highest seq the page saw before: what it must resume after.
	js "Math.max(...window.__tap.got.filter(m => m.sock === 1 &&
	    m.seq !== null).map(m => m.seq))"
	after=$output
	hx_root POST /api/vms/web-1/suspend
	assert_line --index 1 --regexp '^20[04]$'
	wait "$obs"
	read -r seq state <"$seen"
	[ "$state" = paused ]
	[ "$seq" -gt "$after" ]

	# Let it back: it resumes where it was, and the event comes, once.
	js "window.__tap.hold = false; true"
	run cdp --timeout 30 wait "window.__tap.got.some(m => m.sock === 2 &&
	    m.type === 'Subscribed')"
	assert_success
	js "window.__tap.sent.filter(s => JSON.parse(s).resume).map(s =>
	    JSON.stringify(JSON.parse(s).resume)).join()"
	assert_output "{\"boot_id\":\"$boot\",\"after\":$after}"
	js_wait "window.__tap.got.filter(m => m.sock === 2 &&
	    m.type === 'VmStatusChanged' && m.seq === $seq).length"
	assert_output 1
	js "window.__tap.got.filter(m => m.code === 'RESUME_GAP').length"
	assert_output 0
	js_wait "$row.dataset.state === 'paused'"

	# The same event again (as a replay would bring it, here saying the
	# opposite): the page has seen that seq, so nothing changes.
	js "(() => {
	    const m = JSON.parse(window.__tap.got.find(m =>
	        m.type === 'VmStatusChanged' && m.seq === $seq).raw);
	    m.data.old_status = 'paused';
	    m.data.new_status = 'running';
	    window.__tap.socks[1].dispatchEvent(new MessageEvent('message',
	        { data: JSON.stringify(m) }));
	    return true;
	})()"
	js "new Promise(r => requestAnimationFrame(() =>
	    requestAnimationFrame(() => r($row.dataset.state))))"
	assert_output paused

	hx_root POST /api/vms/web-1/resume
	js_wait "$row.dataset.state === 'running'"
	js "JSON.stringify([window.__hx.csp, window.__hx.errors])"
	assert_output '[[],[]]'
}
