#!/usr/bin/env bats
# The dashboard's alerts page (share/web/js/alerts.js) in a real browser,
# against a real daemon: an alert made to fire by a rule created over the
# socket appears live with its severity as a word, is acknowledged from
# the page with a comment (GET /api/alerts records it) and moves to the
# resolved list live when its rule goes; the state filter lives in the
# URL; a rule made in the editor is stored with the fields typed, a bad
# threshold shows the daemon's 422 message verbatim, enable/disable and a
# delete that asks first; an Auditor sees rules and targets read-only and
# the daemon refuses the same change from that very session; hostile
# names stay text; a webhook target added on the page is stored, and its
# "send a test" reaches tests/tools/webhook-receiver.py.
#
# One daemon, one Chromium and one webhook receiver serve the file. Every
# wait polls the page (js_wait) or the API; nothing sleeps blindly. The
# page is compared with the daemon's REST answers over the Unix socket.

load helpers/common
load helpers/browser

WH_SECRET=wh-page-s3cret
PW=alerts-pass-1

setup_file() {
	local i
	"$PY" "$HX_REPO/tests/tools/webhook-receiver.py" \
		"$BATS_FILE_TMPDIR/wh.port" "$BATS_FILE_TMPDIR/wh.log" \
		"$WH_SECRET" 2>"$BATS_FILE_TMPDIR/wh.err" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/wh.pid"
	for i in $(seq 1 200); do
		[ -s "$BATS_FILE_TMPDIR/wh.port" ] && break
		sleep 0.05
	done
	[ -s "$BATS_FILE_TMPDIR/wh.port" ] || {
		echo "the webhook receiver did not start" >&2
		return 1
	}
	export WH_PORT=$(cat "$BATS_FILE_TMPDIR/wh.port")
	browser_start_file --node-interval 0.3 || return 1
	# Accounts: an Administrator and an Auditor (SysAudit, no SysModify).
	local u r
	for u in ada:Administrator audrey:Auditor; do
		r=$(curl -sS --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' \
			-H 'Content-Type: application/json' -X POST \
			-d "{\"username\":\"${u%%:*}\",\"password\":\"$PW\",\"roles\":[\"${u#*:}\"]}" \
			http://localhost/api/users)
		[ "$r" = 201 ] || {
			echo "cannot make ${u%%:*}: HTTP $r" >&2
			return 1
		}
	done
}

teardown_file() {
	[ -f "$BATS_FILE_TMPDIR/wh.pid" ] &&
		kill "$(cat "$BATS_FILE_TMPDIR/wh.pid")" 2>/dev/null
	browser_stop_file
}

setup() {
	browser_fresh
}

# body: $output of hx_root without its status line.
body() {
	sed '$d' <<<"$output"
}

# click SELECTOR: click the element (fails when there is none).
click() {
	js "(function () { var e = document.querySelector('$1');
	    if (!e) return 'none: $1'; e.click(); return 'ok'; })()"
	assert_output ok
}

# fill ID TEXT: focus the field and type TEXT into it, as a person does.
fill() {
	js "(function () { var e = document.getElementById('$1');
	    e.value = ''; e.focus(); return document.activeElement.id; })()"
	assert_output "$1"
	run cdp type "$2"
	assert_success
}

# choose ID VALUE: pick VALUE in the select ID.
choose() {
	js "(function () { var e = document.getElementById('$1');
	    e.value = '$2'; e.dispatchEvent(new Event('change'));
	    return e.value; })()"
	assert_output "$2"
}

# rows_of PANE: the names in the rows of the pane's first table.
rule_names() {
	js "Array.from(document.querySelectorAll('#al-pane-rules tr[data-rule]'))
	    .map(function (r) { return r.dataset.rule; }).join(',')"
}

@test "a firing alert shows live with its severity word; ack from the page is recorded; it resolves live" {
	web_sign_in ada "$PW" '#/alerts'
	web_go '#/alerts' alerts
	js_wait "document.getElementById('al-h-firing') &&
	    /^Firing: \\d+$/.test(document.getElementById('al-h-firing').textContent)"
	js "document.querySelectorAll('tr[data-state=\"firing\"]').length"
	assert_output 0
	# Certainly crossed: the host's memory_usage is >= 0 on every sample.
	hx_root POST /api/alerts/rules '{"name":"page-live","series":"node:memory_usage","op":">=","threshold":0,"for_seconds":0,"severity":"critical"}'
	assert_line --index 1 201
	js_wait "!!document.querySelector('#al-pane-list tr[data-state=\"firing\"]')"
	hx_root GET '/api/alerts?state=firing'
	id=$(body | jq -r '.alerts[] | select(.rule_name == "page-live") | .alert_id')
	thr=$(body | jq -r '.alerts[] | select(.rule_name == "page-live") | .threshold')
	target=$(body | jq -r '.alerts[] | select(.rule_name == "page-live") | .target')
	[ -n "$id" ]
	row="#al-pane-list tr[data-alert-id=\"$id\"]"
	js "(function () { var r = document.querySelector('$row');
	    return [r.dataset.state, r.querySelector('.al-sev').textContent,
	    r.cells[1].textContent, r.cells[2].textContent,
	    r.cells[4].textContent].join('|'); })()"
	assert_output "firing|▲ CRITICAL|page-live|$target|$thr"
	# The page did not fetch it: no reload, the event brought it.
	js "document.querySelector('$row .al-acked').textContent"
	assert_output 'not acknowledged'
	web_shot alerts-firing

	# Acknowledge with a comment, from the dialog.
	click "$row .al-ack"
	js_wait "document.getElementById('al-ack').open &&
	    document.activeElement.id === 'al-ack-comment'"
	# 600 two-byte characters: within the field's 1024 characters, over
	# the daemon's 1024 bytes. Its 422 shows in the dialog, verbatim.
	long=$(printf 'é%.0s' $(seq 600))
	run cdp type "$long"
	assert_success
	click '#al-ack-ok'
	hx_root POST "/api/alerts/$id/ack" "{\"comment\":\"$long\"}"
	assert_line --index 1 422
	msg=$(body | jq -r .message)
	js_wait "document.getElementById('al-ack-error').textContent !== ''"
	js "document.getElementById('al-ack-error').textContent + '|' +
	    document.getElementById('al-ack').open"
	assert_output "$msg|true"
	hx_root GET /api/alerts
	body | jq -e --arg id "$id" '.alerts[] | select(.alert_id == $id) | .acked_by == null'
	fill al-ack-comment 'seen from the page <b>x</b>'
	assert_success
	web_shot alerts-ack-dialog
	click '#al-ack-ok'
	js_wait "!document.getElementById('al-ack').open &&
	    document.querySelector('$row .al-acked').dataset.acked === 'true'"
	js "document.querySelector('$row .al-acked').textContent"
	assert_output --regexp '^by ada@local, .*: “seen from the page <b>x</b>”$'
	js "document.querySelectorAll('#view-alerts b').length"
	assert_output 0
	js "document.querySelector('$row .al-ack') === null"
	assert_output true
	hx_root GET /api/alerts
	body | jq -e --arg id "$id" '.alerts[] | select(.alert_id == $id) |
		.acked_by == "ada@local" and .comment == "seen from the page <b>x</b>" and
		(.acked_at | type) == "string"'

	web_shot alerts-acked

	# The rule goes: the alert resolves, live, into the resolved list.
	hx_root DELETE /api/alerts/rules/page-live
	assert_equal "$(tail -n1 <<<"$output")" 204
	js_wait "!!document.querySelector('#al-pane-list tr[data-alert-id=\"$id\"]') &&
	    document.querySelector('#al-pane-list tr[data-alert-id=\"$id\"]').dataset.state === 'resolved'"
	hx_root GET '/api/alerts?state=resolved'
	body | jq -e --arg id "$id" '[.alerts[] | select(.alert_id == $id)] | length == 1'

	# The filter is in the URL, and a reload keeps it.
	choose al-state resolved
	js "location.hash"
	assert_output '#/alerts?state=resolved'
	js "window.__before = 1; location.reload(); true"
	js_wait "!window.__before && !!document.getElementById('al-state') &&
	    document.getElementById('al-state').value === 'resolved' &&
	    !!document.querySelector('#al-pane-list tr[data-alert-id=\"$id\"]')"
	js "document.getElementById('al-h-firing').closest('section').hidden"
	assert_output true
	web_shot alerts-resolved
}

@test "the rules editor: a rule made on the page is stored; a bad threshold shows the daemon's 422; delete asks first" {
	web_sign_in ada "$PW" '#/alerts/rules'
	web_go '#/alerts/rules' alerts
	hx_root GET /api/alerts/rules
	want=$(body | jq -r '[.rules[].name] | join(",")')
	js_wait "document.querySelectorAll('#al-pane-rules tr[data-rule]').length > 0"
	rule_names
	assert_output "$want"
	click '#al-rule-add'
	js_wait "document.activeElement.id === 'al-rule-name'"
	run cdp type page-rule
	assert_success
	fill al-rule-series 'node:cpu_usage'
	choose al-rule-op '>='
	fill al-rule-threshold 'ninety'
	fill al-rule-clear '70'
	fill al-rule-for '45'
	choose al-rule-severity critical
	web_shot alerts-rule-form
	click '#al-rule-save'
	# What the daemon says of the same body, word for word.
	hx_root POST /api/alerts/rules '{"name":"page-rule","series":"node:cpu_usage","op":">=","threshold":"ninety","clear_threshold":70,"for_seconds":45,"severity":"critical","enabled":true,"notify":[]}'
	assert_line --index 1 422
	msg=$(body | jq -r .message)
	[ -n "$msg" ]
	js_wait "document.getElementById('al-rule-error').textContent !== ''"
	js "document.getElementById('al-rule-error').textContent"
	assert_output "$msg"
	js "document.getElementById('al-rule-threshold').getAttribute('aria-invalid')"
	assert_output true
	web_shot alerts-rule-422
	hx_root GET /api/alerts/rules/page-rule
	assert_line --index 1 404

	fill al-rule-threshold '80'
	click '#al-rule-save'
	js_wait "!!document.querySelector('#al-pane-rules tr[data-rule=\"page-rule\"]')"
	hx_root GET /api/alerts/rules/page-rule
	assert_line --index 1 200
	body | jq -e '.series == "node:cpu_usage" and .op == ">=" and
		.threshold == 80 and .clear_threshold == 70 and .for_seconds == 45 and
		.severity == "critical" and .enabled == true and .notify == []'
	web_shot alerts-rules

	# A status rule, from the same form.
	click '#al-rule-add'
	js_wait "document.activeElement.id === 'al-rule-name'"
	run cdp type page-status
	assert_success
	choose al-rule-kind status
	js "[document.getElementById('al-rule-series').closest('.al-field').hidden,
	    document.getElementById('al-rule-equals').closest('.al-field').hidden].join(' ')"
	assert_output 'true false'
	fill al-rule-status-of 'vm:web-*'
	fill al-rule-equals paused
	choose al-rule-severity info
	click '#al-rule-save'
	js_wait "!!document.querySelector('#al-pane-rules tr[data-rule=\"page-status\"]')"
	hx_root GET /api/alerts/rules/page-status
	assert_line --index 1 200
	body | jq -e '.status_of == "vm:web-*" and .equals == "paused" and
		.severity == "info" and .for_seconds == 0 and (has("series") | not)'
	js "document.querySelector('#al-pane-rules tr[data-rule=\"page-status\"]').cells[1].textContent"
	assert_output 'vm:web-* is paused'
	hx_root DELETE /api/alerts/rules/page-status
	assert_equal "$(tail -n1 <<<"$output")" 204

	# Disable: PUT keeps every other field.
	click '#al-pane-rules tr[data-rule="page-rule"] .al-toggle'
	js_wait "document.querySelector('#al-pane-rules tr[data-rule=\"page-rule\"] .al-enabled').dataset.enabled === 'false'"
	hx_root GET /api/alerts/rules/page-rule
	body | jq -e '.enabled == false and .threshold == 80 and
		.clear_threshold == 70 and .severity == "critical"'

	# Try on history: the count the backtest route gives.
	click '#al-pane-rules tr[data-rule="node-memory"] .al-try'
	js_wait "/would have fired/.test(document.querySelector('.al-backtest').textContent)"
	js "document.querySelector('.al-backtest-sum').textContent.match(/fired (\\d+) time/)[1]"
	shown=$output
	hx_root POST /api/alerts/backtest '{"rule":"node-memory","since":"24h"}'
	assert_line --index 1 200
	assert_equal "$shown" "$(body | jq '.episodes | length')"

	# Delete asks first; Cancel keeps the rule.
	click '#al-pane-rules tr[data-rule="page-rule"] .al-delete'
	js_wait "document.getElementById('al-confirm').open"
	js "document.querySelector('#al-confirm .al-what').textContent"
	assert_output --partial '“page-rule”'
	hx_root GET /api/alerts/rules/page-rule
	assert_line --index 1 200
	web_shot alerts-rule-delete
	click '#al-confirm-cancel'
	js_wait "!document.getElementById('al-confirm').open"
	hx_root GET /api/alerts/rules/page-rule
	assert_line --index 1 200
	click '#al-pane-rules tr[data-rule="page-rule"] .al-delete'
	js_wait "document.getElementById('al-confirm').open"
	click '#al-confirm-ok'
	js_wait "!document.querySelector('#al-pane-rules tr[data-rule=\"page-rule\"]')"
	hx_root GET /api/alerts/rules/page-rule
	assert_line --index 1 404
}

@test "an Auditor sees rules and targets read-only, and the daemon refuses the change from that session" {
	hx_root POST /api/notify/targets '{"name":"ro-hook","type":"webhook","url":"http://127.0.0.1:9/x","secret":"s"}'
	assert_line --index 1 201
	web_sign_in audrey "$PW" '#/alerts/rules'
	web_go '#/alerts/rules' alerts
	hx_root GET /api/alerts/rules
	want=$(body | jq -r '[.rules[].name] | join(",")')
	js_wait "document.querySelectorAll('#al-pane-rules tr[data-rule]').length > 0"
	rule_names
	assert_output "$want"
	js "[document.getElementById('al-rule-add'),
	    document.querySelector('#al-pane-rules .al-edit, #al-pane-rules .al-toggle, #al-pane-rules .al-delete, #al-pane-rules form')]
	    .filter(Boolean).length"
	assert_output 0
	js "document.querySelector('#al-pane-rules').textContent"
	assert_output --partial 'Read only'
	web_shot alerts-rules-readonly
	# The same change from this session: refused by the daemon.
	js "import('/js/shell.js').then(function (m) {
	    return m.api('DELETE', '/api/alerts/rules/node-cpu'); })
	    .then(function (r) { return r.status + ' ' + r.data.error; })"
	assert_output '403 FORBIDDEN'
	js "import('/js/shell.js').then(function (m) {
	    return m.api('POST', '/api/alerts/rules', {name: 'sneaky',
	    series: 'node:cpu_usage', op: '>', threshold: 1}); })
	    .then(function (r) { return r.status; })"
	assert_output 403
	hx_root GET /api/alerts/rules/node-cpu
	assert_line --index 1 200
	hx_root GET /api/alerts/rules/sneaky
	assert_line --index 1 404

	# A firing alert: listed, with no Acknowledge; the daemon refuses it.
	hx_root POST /api/alerts/rules '{"name":"ro-fire","series":"node:memory_usage","op":">=","threshold":0,"severity":"info"}'
	assert_line --index 1 201
	web_go '#/alerts' alerts
	js_wait "Array.from(document.querySelectorAll('#al-pane-list tr[data-state=\"firing\"] .al-name'))
	    .some(function (c) { return c.textContent === 'ro-fire'; })"
	js "document.querySelectorAll('#al-pane-list .al-ack').length"
	assert_output 0
	hx_root GET /api/alerts
	id=$(body | jq -r '.alerts[] | select(.rule_name == "ro-fire") | .alert_id')
	js "import('/js/shell.js').then(function (m) {
	    return m.api('POST', '/api/alerts/$id/ack', {comment: 'no'}); })
	    .then(function (r) { return r.status + ' ' + r.data.message; })"
	assert_output --regexp '^403 .*SysModify'
	hx_root DELETE /api/alerts/rules/ro-fire
	assert_equal "$(tail -n1 <<<"$output")" 204

	# Targets: listed, no add form, no test or delete.
	web_go '#/alerts/targets' alerts
	js_wait "!!document.querySelector('#al-pane-targets tr[data-target=\"ro-hook\"]')"
	js "document.querySelectorAll('#al-pane-targets form, #al-pane-targets .al-test, #al-pane-targets .al-delete').length"
	assert_output 0
	js "import('/js/shell.js').then(function (m) {
	    return m.api('POST', '/api/notify/targets/ro-hook/test'); })
	    .then(function (r) { return r.status; })"
	assert_output 403
	web_shot alerts-targets-readonly
	# Signing out forgets what this account saw.
	click '#signout'
	js_wait "document.getElementById('conn').dataset.state === 'signin'"
	js "document.querySelectorAll('#view-alerts tr[data-rule], #view-alerts tr[data-target], #view-alerts tr[data-alert-id]').length"
	assert_output 0
	hx_root DELETE /api/notify/targets/ro-hook
	assert_equal "$(tail -n1 <<<"$output")" 204
}

@test "hostile names stay text: a rule named <b>x</b> (refused by the daemon, so scripted) and a target URL" {
	# The daemon refuses such a rule name...
	hx_root POST /api/alerts/rules '{"name":"<b>x</b>","series":"node:cpu_usage","op":">","threshold":1}'
	assert_line --index 1 422
	# ...so the page is handed one by a scripted answer (fake-fetch.js),
	# as a daemon that allowed it would send it.
	stub=$BATS_TEST_TMPDIR/stub.js
	rule='{"name":"<b>x</b>","series":"node:cpu_usage","op":">","threshold":1,"for_seconds":0,"severity":"critical","enabled":true,"notify":["<img src=x onerror=window.__pwned=1>"],"silence_until":null}'
	{
		for i in 1 2 3; do
			echo "window.__hxStub('/api/alerts/rules', {status: 200, body: {rules: [$rule]}});"
		done
	} >"$stub"
	# A target URL with markup the daemon does accept, for real.
	hx_root POST /api/notify/targets '{"name":"marked","type":"webhook","url":"http://127.0.0.1:9/<b>x</b>","secret":"s"}'
	assert_line --index 1 201
	web_sign_in ada "$PW"
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$URL/#/alerts/rules" --inject "$HX_REPO/tests/browser/fake-fetch.js" --inject "$stub"
	assert_success
	js_wait "!!document.querySelector('#al-pane-rules tr[data-rule]')"
	js "document.querySelector('#al-pane-rules tr[data-rule]').dataset.rule + '|' +
	    document.querySelector('#al-pane-rules tr[data-rule] .al-name').textContent"
	assert_output '<b>x</b>|<b>x</b>'
	js "document.querySelectorAll('#view-alerts b, #view-alerts img').length + ' ' + (window.__pwned || 0)"
	assert_output '0 0'
	web_shot alerts-hostile-rule
	web_go '#/alerts/targets' alerts
	js_wait "!!document.querySelector('#al-pane-targets tr[data-target=\"marked\"]')"
	js "document.querySelector('#al-pane-targets tr[data-target=\"marked\"] .al-dest').textContent"
	assert_output 'http://127.0.0.1:9/<b>x</b>'
	js "document.querySelectorAll('#view-alerts b').length"
	assert_output 0
	hx_root DELETE /api/notify/targets/marked
	assert_equal "$(tail -n1 <<<"$output")" 204
}

@test "a webhook target added on the page is stored, its test reaches the receiver, delete asks first" {
	web_sign_in ada "$PW" '#/alerts/targets'
	web_go '#/alerts/targets' alerts
	js_wait "!!document.querySelector('#al-pane-targets details.al-add')"
	click '#al-pane-targets details.al-add summary'
	js_wait "!!document.querySelector('#al-pane-targets details.al-add').open"
	choose al-target-type webhook
	fill al-target-name page-hook
	fill al-target-url 'ftp://127.0.0.1/nope'
	fill al-target-secret "$WH_SECRET"
	click '#al-target-save'
	hx_root POST /api/notify/targets "{\"name\":\"page-hook\",\"type\":\"webhook\",\"url\":\"ftp://127.0.0.1/nope\",\"secret\":\"$WH_SECRET\"}"
	assert_line --index 1 422
	msg=$(body | jq -r .message)
	js_wait "document.getElementById('al-target-error').textContent !== ''"
	js "document.getElementById('al-target-error').textContent"
	assert_output "$msg"
	fill al-target-url "http://127.0.0.1:$WH_PORT/ok"
	web_shot alerts-target-form
	click '#al-target-save'
	js_wait "!!document.querySelector('#al-pane-targets tr[data-target=\"page-hook\"]')"
	hx_root GET /api/notify/targets
	body | jq -e --arg u "http://127.0.0.1:$WH_PORT/ok" '.targets[] |
		select(.name == "page-hook") | .type == "webhook" and .url == $u and
		.secret_set == true and (has("secret") | not)'
	# The secret typed is never shown back.
	js "document.getElementById('view-alerts').textContent.indexOf('$WH_SECRET')"
	assert_output -- -1

	# Send a test: the page says delivered once the receiver has it.
	click '#al-pane-targets tr[data-target="page-hook"] .al-test'
	js_wait "/Test delivered \\(HTTP 204\\)/.test(document.querySelector('#al-pane-targets tr[data-target=\"page-hook\"]').textContent)"
	run jq -c 'select(.path == "/ok" and .body.target == "page-hook")' "$BATS_FILE_TMPDIR/wh.log"
	assert_success
	assert_equal "${#lines[@]}" 1
	jq -e '.sig_ok == true and .event == "Test"' <<<"${lines[0]}"

	# The recent attempts, as the daemon lists them.
	click '#al-pane-targets tr[data-target="page-hook"] .al-attempts'
	js_wait "document.querySelectorAll('#al-pane-targets tr.al-attempt').length > 0"
	hx_root GET /api/notify/targets/page-hook/attempts
	n=$(body | jq '.attempts | length')
	js "document.querySelectorAll('#al-pane-targets tr.al-attempt').length + ' ' +
	    document.querySelector('#al-pane-targets tr.al-attempt td:nth-child(4)').textContent"
	assert_output "$n ✓ ok"
	web_shot alerts-targets

	# An e-mail target: its own fields; the password is never shown.
	click '#al-pane-targets details.al-add summary'
	js_wait "document.querySelector('#al-pane-targets details.al-add').open"
	choose al-target-type email
	js "document.getElementById('al-target-url').closest('.al-field').hidden"
	assert_output true
	fill al-target-name page-mail
	fill al-target-smtp 'smtp://127.0.0.1:9'
	fill al-target-from 'horcrux@example.org'
	fill al-target-to 'ops@example.org, oncall@example.org'
	fill al-target-user mailer
	fill al-target-password 'mail-Pw-77'
	click '#al-target-save'
	js_wait "!!document.querySelector('#al-pane-targets tr[data-target=\"page-mail\"]')"
	hx_root GET /api/notify/targets/page-mail
	assert_line --index 1 200
	body | jq -e '.type == "email" and .smtp_url == "smtp://127.0.0.1:9" and
		.from == "horcrux@example.org" and
		.to == ["ops@example.org", "oncall@example.org"] and
		.username == "mailer" and .password_set == true and (has("password") | not)'
	js "document.getElementById('view-alerts').textContent.indexOf('mail-Pw-77')"
	assert_output -- -1
	hx_root DELETE /api/notify/targets/page-mail
	assert_equal "$(tail -n1 <<<"$output")" 204

	# Delete asks first.
	click '#al-pane-targets tr[data-target="page-hook"] .al-delete'
	js_wait "document.getElementById('al-confirm').open"
	hx_root GET /api/notify/targets/page-hook
	assert_line --index 1 200
	click '#al-confirm-ok'
	js_wait "!document.querySelector('#al-pane-targets tr[data-target=\"page-hook\"]')"
	hx_root GET /api/notify/targets/page-hook
	assert_line --index 1 404
}

# axe_clean: axe-core finds no serious or critical violation (WCAG 2.1
# A and AA) in the alerts page's element, in light and in dark; prints
# them when it does.
axe_clean() {
	local scheme
	for scheme in light dark; do
		run cdp --timeout 60 --color-scheme "$scheme" eval "$(axe_expr)"
		assert_success
		assert_output ''
	done
}

axe_expr() {
	echo "axe.run({include: [['#view-alerts']]}, {runOnly: {type: 'tag',
	    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
	    .then(function (r) { return r.violations.filter(function (v) {
		return v.impact === 'serious' || v.impact === 'critical'; })
	    .map(function (v) { return v.id + ': ' + v.nodes.map(
		function (n) { return n.target.join(' '); }).join(', '); })
	    .join('\n'); })"
}

@test "axe-core: no serious or critical violation on the alerts, rules and targets pages, dialogs and forms open" {
	local axe=$HX_REPO/node_modules/axe-core/axe.min.js
	[ -f "$axe" ] || fail "axe-core is missing: scripts/install-deps"
	hx_root POST /api/alerts/rules '{"name":"axe-fire","series":"node:memory_usage","op":">=","threshold":0,"severity":"warning"}'
	assert_line --index 1 201
	web_sign_in ada "$PW"
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$URL/#/alerts" --inject "$axe"
	assert_success
	js_wait "!!document.querySelector('#al-pane-list tr[data-state=\"firing\"] .al-ack')"
	axe_clean
	HX_COLOR_SCHEME=dark web_shot alerts-firing-dark
	click '#al-pane-list tr[data-state="firing"] .al-ack'
	js_wait "document.getElementById('al-ack').open"
	axe_clean
	js "document.getElementById('al-ack').close(); true"
	web_go '#/alerts/rules' alerts
	js_wait "!!document.querySelector('#al-pane-rules tr[data-rule=\"axe-fire\"]')"
	click '#al-pane-rules tr[data-rule="axe-fire"] .al-edit'
	js_wait "!!document.getElementById('al-rule-save')"
	axe_clean
	click '#al-pane-rules tr[data-rule="axe-fire"] .al-delete'
	js_wait "document.getElementById('al-confirm').open"
	axe_clean
	click '#al-confirm-ok'
	js_wait "!document.querySelector('#al-pane-rules tr[data-rule=\"axe-fire\"]')"
	web_go '#/alerts/targets' alerts
	js_wait "!!document.querySelector('#al-pane-targets details.al-add')"
	click '#al-pane-targets details.al-add summary'
	choose al-target-type email
	axe_clean
	HX_COLOR_SCHEME=dark web_shot alerts-target-form-dark
}
