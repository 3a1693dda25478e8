#!/usr/bin/env bats
#
# A VM named <img src=x onerror=alert(1)> on the VM pages (js/vms.js,
# js/vm.js): in the table, in its card and on its own page it is text,
# exactly the name GET /api/vms gives; no img element is made, no alert
# opens, no script error happens. A test-driver node of its own (one
# running domain), so this file has its own daemon and Chromium.

load helpers/common
load helpers/api
load helpers/browser

HOSTILE='<img src=x onerror=alert(1)>'

setup_file() {
	one_vm_node "$BATS_FILE_TMPDIR/hostile.xml" '&lt;img src=x onerror=alert(1)&gt;'
	browser_start_file --libvirt-uri "test://$BATS_FILE_TMPDIR/hostile.xml" \
		--vm-interval 0.3
	web_user ada ada-pass-1 Administrator
	# alert() would block the page: record calls instead, from the start.
	echo 'window.__hxAlerts = []; window.alert = function (m) { window.__hxAlerts.push(String(m)); };' \
		>"$BATS_FILE_TMPDIR/no-alert.js"
}

teardown_file() {
	browser_stop_file
}

setup() {
	browser_fresh
}

# No img anywhere, no alert, no error, no request for "x".
assert_inert() {
	js "JSON.stringify([document.querySelectorAll('img').length,
	    window.__hxAlerts,
	    window.__hx.errors,
	    performance.getEntriesByType('resource').filter(e => /\/x$/.test(e.name)).length])"
	assert_output '[0,[],[],0]'
}

@test "the hostile name is text in the table, the card and its page" {
	hx_root GET /api/vms
	assert_line --index 1 200
	assert_equal "$(jq -r '.[0].name' <<<"${lines[0]}")" "$HOSTILE"
	web_sign_in ada ada-pass-1
	# Signed in on the monitor page; no VM name shown yet.
	js "$(cat "$BATS_FILE_TMPDIR/no-alert.js") true"
	web_go '#/vms' vms
	js_wait "document.querySelectorAll('#vms-table tbody tr').length === 1 &&
	    document.querySelector('#vms-table tbody tr').dataset.state === 'running'"
	js "document.querySelector('#vms-table tbody tr a').textContent"
	assert_output "$HOSTILE"
	js "document.querySelector('#vms-table tbody tr a').children.length"
	assert_output 0
	assert_inert
	web_shot vms-hostile-table

	js "document.getElementById('vms-view-cards').click(); true"
	js_wait "document.querySelectorAll('#vms-cards .vm-card').length === 1"
	js "document.querySelector('#vms-cards .vm-card h3').textContent"
	assert_output "$HOSTILE"
	assert_inert
	web_shot vms-hostile-cards

	# Its page, through the card's link (the name travels encoded).
	js "document.querySelector('#vms-cards .vm-card a').click(); true"
	js_wait "!document.getElementById('view-vm').hidden &&
	    document.getElementById('view-vm').dataset.found === 'true'"
	js "document.querySelector('#view-vm h2').textContent"
	assert_output "$HOSTILE"
	js "document.getElementById('view-vm').dataset.vm"
	assert_output "$HOSTILE"
	# The confirmation names it as text too.
	js "document.querySelector('[data-action=\"suspend\"]').click(); true"
	js_wait "document.getElementById('vm-dialog').open"
	js "document.getElementById('vm-dialog-title').textContent"
	assert_output "Suspend “$HOSTILE”?"
	run cdp key Escape
	assert_success
	js_wait "!document.getElementById('vm-dialog').open"
	assert_inert
	web_shot vm-hostile-page
	# A reload of that deep link finds it again.
	js "location.hash"
	url="$URL/$output"
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$url" --inject "$BATS_FILE_TMPDIR/no-alert.js"
	assert_success
	js_wait "document.getElementById('view-vm').dataset.found === 'true'"
	js "document.querySelector('#view-vm h2').textContent"
	assert_output "$HOSTILE"
	assert_inert
}
