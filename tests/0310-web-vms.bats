#!/usr/bin/env bats
#
# The VM pages of the dashboard (share/web/js/vms.js and vm.js) in a real
# browser, on the demo node: the table and the cards hold exactly the VMs
# GET /api/vms lists, in their states, and follow VmMetrics; sorting,
# filtering and the view survive a reload; a VmUser granted one VM sees
# that VM only; power actions are shown only with VmPowerMgmt, ask first
# when destructive (Escape cancels), change the VM in libvirt, and show
# the daemon's refusal word for word.
#
# One daemon and one Chromium for the file. Tests that change a VM's
# state put it back, so each test starts from the demo node's states.

load helpers/common
load helpers/browser

setup_file() {
	browser_start_file --vm-interval 0.3
	web_user ada ada-pass-1 Administrator
	web_user vera vera-pass-1 VmUser /vms/web-1
	hx_root POST /api/roles '{"name":"Watcher","privileges":["VmAudit"]}'
	assert_line --index 1 201
	web_user otto otto-pass-1 Watcher /vms/web-1
}

teardown_file() {
	browser_stop_file
}

setup() {
	browser_fresh
}

# The page's table as a sorted JSON list of [id, state].
ROWS_JS="JSON.stringify([...document.querySelectorAll('#vms-table tbody tr')]
    .map(r => [r.dataset.vm, r.dataset.state])
    .sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))"

# api_vms: GET /api/vms as root, as a sorted JSON list of [id, state].
api_vms() {
	hx_root GET /api/vms
	assert_line --index 1 200
	jq -c 'map([.id, .state]) | sort_by(.[0])' <<<"${lines[0]}"
}

# vm_state ID: the state GET /api/vms/ID reports.
vm_state() {
	hx_root GET "/api/vms/$1"
	assert_line --index 1 200
	jq -r .state <<<"${lines[0]}"
}

# table_ready N: the list page shows N rows.
table_ready() {
	js_wait "document.getElementById('view-vms').dataset.loaded === 'true' &&
	    document.querySelectorAll('#vms-table tbody tr').length === $1"
}

@test "the table lists exactly the VMs of GET /api/vms, in their states" {
	want=$(api_vms)
	n=$(jq length <<<"$want")
	[ "$n" -ge 8 ]
	web_sign_in ada ada-pass-1
	web_go '#/vms' vms
	table_ready "$n"
	js "$ROWS_JS"
	assert_output "$want"
	# Each state shows a word as well as a colour and a glyph.
	js "document.querySelector('#vms-table tr[data-vm=\"cache-1\"] .vm-state-word').textContent"
	assert_output paused
	js "document.querySelector('#vms-table tr[data-vm=\"backup-1\"] .vm-state-word').textContent"
	assert_output stopped
	# The name links to the VM's page.
	js "document.querySelector('#vms-table tr[data-vm=\"db-1\"] a').getAttribute('href')"
	assert_output '#/vms/db-1'
	js_wait "document.querySelector('#vms-table tr[data-vm=\"db-1\"] td[data-col=\"cpu\"]').dataset.value !== ''"
	web_shot vms-table
}

@test "the table follows VmStatusChanged: a state changed over the socket shows at once" {
	web_sign_in ada ada-pass-1
	web_go '#/vms' vms
	row="document.querySelector('#vms-table tr[data-vm=\"web-1\"]')"
	js_wait "$row?.dataset.state === 'running'"
	hx_root POST /api/vms/web-1/suspend
	assert_line --index 1 200
	[ "$(vm_state web-1)" = paused ]
	# Only the event moves a row's state: the list is not read again.
	js_wait "$row.dataset.state === 'paused' &&
	    $row.querySelector('.vm-state-word').textContent === 'paused'"
	hx_root POST /api/vms/web-1/resume
	assert_line --index 1 200
	js_wait "$row.dataset.state === 'running'"
	js "window.__hx.fetches.filter(f => f.url === '/api/vms').length"
	assert_output 1
}

@test "the table follows VmMetrics: its figures are the daemon's, sample for sample" {
	web_sign_in ada ada-pass-1
	web_go '#/vms' vms
	row="document.querySelector('#vms-table tr[data-vm=\"db-1\"]')"
	js_wait "$row?.dataset.sampled"
	first=$output
	# A later sample replaces the first: the page follows the events.
	js_wait "$row.dataset.sampled > '$first'"
	# The figures shown and the time of their sample, read at once.
	keys='["cpu_usage","memory_usage","disk_read_bps","disk_write_bps","network_rx_bps","network_tx_bps","vcpus"]'
	js "JSON.stringify([Date.parse($row.dataset.sampled)].concat(['cpu', 'mem', 'dr', 'dw', 'rx', 'tx', 'vcpus'].map(k =>
	    Number($row.querySelector('[data-col=\"' + k + '\"]').dataset.value)),
	    [$row.querySelector('[data-col=\"cpu\"]').textContent, $row.querySelector('[data-col=\"vcpus\"]').textContent]))"
	page=$output
	t=$(jq '.[0]' <<<"$page")
	# The daemon's raw history holds that very sample (served before it
	# is flushed): the same figures, within the event's rounding.
	series=$(jq -r 'map("vm:db-1:" + .) | join(",")' <<<"$keys")
	for _ in $(seq 1 100); do
		hx_root GET "/api/metrics/history?series=$series&from=-2m"
		assert_line --index 1 200
		hist=$(jq -c --argjson k "$keys" --argjson t "$t" '
		    .series as $s | [$k[] as $n | $s[] | select(.name == "vm:db-1:" + $n) |
		    .points[] | select(.[0] == $t) | .[1]]' <<<"${lines[0]}")
		[ "$(jq length <<<"$hist")" = 7 ] && break
		sleep 0.05
	done
	echo "page [t, figures]: $page; history at t: $hist"
	run jq -n --argjson p "$page" --argjson h "$hist" '
	    ($p[1] - $h[0] | fabs) <= 0.005 and ($p[2] - $h[1] | fabs) <= 0.005 and
	    ([range(2; 6)] | all(($p[. + 1] - $h[.] | fabs) <= 0.5)) and $p[7] == $h[6]'
	assert_output true
	# The text shown is the figure, formatted.
	assert_equal "$(jq -r '.[8]' <<<"$page")" "$(printf '%.1f\u00a0%%' "$(jq '.[1]' <<<"$page")")"
	assert_equal "$(jq -r '.[9]' <<<"$page")" "$(jq -r '.[6]' <<<"$hist")"
}

@test "sorting by a header (click or Enter) sets aria-sort; filter and sort survive a reload" {
	web_sign_in ada ada-pass-1
	web_go '#/vms' vms
	table_ready "$(jq length <<<"$(api_vms)")"
	js "document.querySelector('#vms-table th[data-col=\"name\"]').getAttribute('aria-sort')"
	assert_output ascending
	# A click on CPU: busiest first, stopped VMs (no figure) last.
	js "document.querySelector('#vms-table th[data-col=\"cpu\"] button').click(); true"
	js_wait "document.querySelector('#vms-table th[data-col=\"cpu\"]').getAttribute('aria-sort') === 'descending'"
	js "document.querySelector('#vms-table th[data-col=\"name\"]').hasAttribute('aria-sort')"
	assert_output false
	js "(() => { const v = [...document.querySelectorAll('#vms-table tbody td[data-col=\"cpu\"]')]
	    .map(td => td.dataset.value === '' ? null : Number(td.dataset.value));
	    const nums = v.filter(x => x !== null);
	    return nums.length > 1 && nums.every((x, i) => i === 0 || nums[i - 1] >= x) &&
	        (v.indexOf(null) < 0 || v.slice(v.indexOf(null)).every(x => x === null)); })()"
	assert_output true
	js "location.hash"
	assert_output '#/vms?sort=cpu&dir=desc'
	# Enter on the State header, from the keyboard.
	js "document.querySelector('#vms-table th[data-col=\"state\"] button').focus(); true"
	run cdp key Enter
	assert_success
	js_wait "document.querySelector('#vms-table th[data-col=\"state\"]').getAttribute('aria-sort') === 'ascending'"
	js "JSON.stringify([...document.querySelectorAll('#vms-table tbody tr')].map(r => r.dataset.state))"
	assert_output "$(jq -c '[.[][1]] | sort' <<<"$(api_vms)")"
	# The filter: by name or by state, typed.
	js "document.getElementById('vms-filter').focus(); true"
	run cdp type web
	assert_success
	want=$(api_vms | jq -c 'map(select(.[0] | contains("web")))')
	table_ready "$(jq length <<<"$want")"
	js "$ROWS_JS"
	assert_output "$want"
	js "document.getElementById('vms-count').textContent"
	assert_output "$(jq length <<<"$want") of $(api_vms | jq length) VMs match the filter"
	js "location.hash"
	assert_output '#/vms?sort=state&q=web'
	# A reload keeps the sort and the filter.
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$URL/#/vms?sort=state&q=web"
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'connected'"
	table_ready "$(jq length <<<"$want")"
	js "$ROWS_JS"
	assert_output "$want"
	js "document.getElementById('vms-filter').value + ' ' +
	    document.querySelector('#vms-table th[data-col=\"state\"]').getAttribute('aria-sort')"
	assert_output 'web ascending'
	js "JSON.stringify(window.__hx.errors)"
	assert_output '[]'
}

@test "the card grid holds one card per VM with CPU and memory bars, and the view survives a reload" {
	want=$(api_vms)
	n=$(jq length <<<"$want")
	web_sign_in ada ada-pass-1
	web_go '#/vms' vms
	table_ready "$n"
	js "document.getElementById('vms-view-cards').click(); true"
	js_wait "document.querySelectorAll('#vms-cards .vm-card').length === $n &&
	    document.getElementById('vms-table').parentNode.hidden"
	js "JSON.stringify([...document.querySelectorAll('#vms-cards .vm-card')]
	    .map(c => [c.dataset.vm, c.dataset.state])
	    .sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))"
	assert_output "$want"
	js "document.getElementById('vms-view-cards').getAttribute('aria-pressed')"
	assert_output true
	# A running VM's bars carry a figure and a level word.
	js_wait "document.querySelector('#vms-cards .vm-card[data-vm=\"db-1\"] .bar .bar-value').textContent.endsWith('%')"
	js "document.querySelectorAll('#vms-cards .vm-card[data-vm=\"db-1\"] .bar').length"
	assert_output 2
	js "document.querySelectorAll('#vms-cards .vm-card[data-vm=\"db-1\"] .bar')[1].querySelector('.bar-level').textContent"
	assert_output moderate
	js "location.hash"
	assert_output '#/vms?view=cards'
	web_shot vms-cards
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$URL/#/vms?view=cards"
	assert_success
	js_wait "document.querySelectorAll('#vms-cards .vm-card').length === $n"
}

@test "the VM page shows its facts, disks and NICs as GET /api/vms/:id" {
	hx_root GET /api/vms/db-1
	doc=${lines[0]}
	web_sign_in ada ada-pass-1
	web_go '#/vms/db-1' vm
	js_wait "document.getElementById('view-vm').dataset.found === 'true'"
	js "document.querySelector('#view-vm h2').textContent"
	assert_output db-1
	js "document.querySelector('[data-fact=\"uuid\"]').textContent"
	assert_output "$(jq -r .uuid <<<"$doc")"
	js "JSON.stringify([...document.querySelectorAll('.vm-disks tbody th')].map(t => t.textContent))"
	assert_output "$(jq -c '[.disks[].target]' <<<"$doc")"
	js "JSON.stringify([...document.querySelectorAll('.vm-nics tbody tr')].map(r => r.children[1].textContent))"
	assert_output "$(jq -c '[.nics[].mac]' <<<"$doc")"
	js_wait "document.getElementById('vm-cpu').dataset.value !== ''"
	js "document.querySelector('#vm-state .vm-state-word').textContent"
	assert_output running
	# The charts have their section.
	js "document.querySelectorAll('#view-vm .vm-charts').length"
	assert_output 1
	web_shot vm-page
}

@test "a VmUser granted /vms/web-1 sees exactly that VM, and 'no such VM' for db-1" {
	hx_root GET /api/roles
	run jq -r '.[] | select(.name == "VmUser") | .privileges | index("VmPowerMgmt") != null' <<<"${lines[0]}"
	assert_output true
	web_sign_in vera vera-pass-1
	web_go '#/vms' vms
	table_ready 1
	js "$ROWS_JS"
	assert_output '[["web-1","running"]]'
	js "document.getElementById('vms-view-cards').click(); true"
	js_wait "document.querySelectorAll('#vms-cards .vm-card').length === 1"
	js "document.querySelector('#vms-cards .vm-card').dataset.vm"
	assert_output web-1
	web_go '#/vms/db-1' vm
	js_wait "document.getElementById('view-vm').dataset.found === 'false'"
	js "document.querySelector('.vm-missing').hidden + ' ' +
	    document.querySelector('.vm-missing-text').textContent"
	assert_output 'false No such VM: “db-1”'
	js "document.querySelectorAll('#view-vm .vm-action:not([hidden])').length"
	assert_output 0
	# Their own VM: found, with the power actions of a running VM.
	web_go '#/vms/web-1' vm
	js_wait "document.getElementById('view-vm').dataset.found === 'true'"
	js "JSON.stringify([...document.querySelectorAll('#view-vm .vm-action:not([hidden])')].map(b => b.dataset.action))"
	assert_output '["shutdown","reboot","suspend","stop"]'
	web_shot vm-page-vmuser
}

@test "without VmPowerMgmt no power action shows, and the daemon refuses one anyway" {
	hx_root GET /api/roles
	run jq -r '.[] | select(.name == "Watcher") | .privileges | index("VmPowerMgmt") == null' <<<"${lines[0]}"
	assert_output true
	web_sign_in otto otto-pass-1
	web_go '#/vms/web-1' vm
	js_wait "document.getElementById('view-vm').dataset.found === 'true'"
	js "document.querySelectorAll('#view-vm .vm-action:not([hidden])').length + ' ' +
	    document.querySelector('#view-vm .vm-actions').hidden"
	assert_output '0 true'
	js "fetch('/api/vms/web-1/suspend', { method: 'POST', headers: { 'X-CSRF-Token':
	    JSON.parse(sessionStorage.getItem('horcrux.session')).csrf_token } }).then(r => r.status)"
	assert_output 403
	[ "$(vm_state web-1)" = running ]
}

@test "suspend (confirmed) and resume from the page change the VM in libvirt" {
	[ "$(vm_state web-2)" = running ]
	web_sign_in ada ada-pass-1
	web_go '#/vms/web-2' vm
	js_wait "document.getElementById('view-vm').dataset.found === 'true' &&
	    !document.querySelector('[data-action=\"suspend\"]').hidden"
	js "document.querySelector('[data-action=\"suspend\"]').click(); true"
	js_wait "document.getElementById('vm-dialog').open"
	# The safe choice has the focus; the question names the VM.
	js "document.activeElement.textContent + ' | ' + document.getElementById('vm-dialog-title').textContent"
	assert_output 'Cancel | Suspend “web-2”?'
	web_shot vm-confirm
	js "document.querySelector('#vm-dialog .vm-dialog-ok').click(); true"
	# The page follows the VmStatusChanged event...
	js_wait "document.querySelector('#vm-state .vm-state-word').textContent === 'paused' &&
	    !document.querySelector('[data-action=\"resume\"]').hidden &&
	    document.querySelector('[data-action=\"suspend\"]').hidden"
	# ...and libvirt has it paused.
	[ "$(vm_state web-2)" = paused ]
	# Resume does not ask.
	js "document.querySelector('[data-action=\"resume\"]').click(); true"
	js_wait "document.querySelector('#vm-state .vm-state-word').textContent === 'running'"
	[ "$(vm_state web-2)" = running ]
	# The list followed too.
	web_go '#/vms' vms
	js_wait "document.querySelector('#vms-table tr[data-vm=\"web-2\"]')?.dataset.state === 'running'"
	# No script error (the charts resize in the next frame, so not even
	# Chromium's "ResizeObserver loop completed").
	js "JSON.stringify(window.__hx.errors)"
	assert_output '[]'
}

@test "Escape cancels the confirmation: no request, the VM keeps running" {
	web_sign_in ada ada-pass-1
	web_go '#/vms/web-2' vm
	js_wait "document.getElementById('view-vm').dataset.found === 'true' &&
	    !document.querySelector('[data-action=\"stop\"]').hidden"
	js "document.querySelector('[data-action=\"stop\"]').focus(); document.activeElement.click(); true"
	js_wait "document.getElementById('vm-dialog').open"
	run cdp key Escape
	assert_success
	js_wait "!document.getElementById('vm-dialog').open"
	# The focus is back on the button that asked.
	js "document.activeElement.dataset.action"
	assert_output stop
	js "window.__hx.fetches.filter(f => f.method === 'POST' && /\\/api\\/vms\\//.test(f.url)).length"
	assert_output 0
	[ "$(vm_state web-2)" = running ]
}

@test "a VM changed behind the page's back: the daemon's 409 is shown word for word" {
	web_sign_in ada ada-pass-1
	web_go '#/vms/web-1' vm
	js_wait "document.getElementById('view-vm').dataset.found === 'true' &&
	    !document.querySelector('[data-action=\"suspend\"]').hidden"
	js "document.querySelector('[data-action=\"suspend\"]').click(); true"
	js_wait "document.getElementById('vm-dialog').open"
	# Suspended over the socket while the question is open.
	hx_root POST /api/vms/web-1/suspend
	assert_line --index 1 200
	js_wait "document.querySelector('#vm-state .vm-state-word').textContent === 'paused'"
	js "document.getElementById('vm-dialog').open"
	assert_output true
	js "document.querySelector('#vm-dialog .vm-dialog-ok').click(); true"
	js_wait "!document.getElementById('vm-answer').hidden && document.getElementById('vm-answer').textContent"
	shown=$output
	hx_root POST /api/vms/web-1/suspend
	assert_line --index 1 409
	assert_equal "$shown" "$(jq -r .message <<<"${lines[0]}")"
	web_shot vm-409
	hx_root POST /api/vms/web-1/resume
	assert_line --index 1 200
	js_wait "document.querySelector('#vm-state .vm-state-word').textContent === 'running'"
}

@test "signing out forgets the VMs shown; the next account sees only its own" {
	web_sign_in ada ada-pass-1
	web_go '#/vms' vms
	table_ready "$(jq length <<<"$(api_vms)")"
	js "document.getElementById('signout').click(); true"
	js_wait "document.getElementById('conn').dataset.state === 'signin'"
	js_wait "document.querySelectorAll('#vms-table tbody tr').length === 0"
	js "document.querySelector('#view-vms').textContent.includes('db-1')"
	assert_output false
	# vera signs in on the same page: one VM, not ada's ten.
	js "document.getElementById('su-user').focus(); document.getElementById('su-user').select(); document.activeElement.id"
	assert_output su-user
	run cdp type vera
	assert_success
	run cdp key Tab
	assert_success
	run cdp type vera-pass-1
	assert_success
	run cdp key Enter
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'connected' &&
	    document.getElementById('account-name').textContent === 'vera'"
	table_ready 1
	js "$ROWS_JS"
	assert_output '[["web-1","running"]]'
}
