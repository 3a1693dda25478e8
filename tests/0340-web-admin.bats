#!/usr/bin/env bats
#
# The administration pages (share/web/js/admin*.js) in headless Chromium,
# one daemon and one browser for the file (helpers/browser.bash). An
# Administrator signed in on the page adds, modifies, disables, deletes
# a user and resets its password; makes an API key whose secret is shown
# once and works with curl until it is revoked from the page; makes a
# custom role and an ACL entry; reads the audit log of its own actions
# with a filter kept in the URL. Each change is checked against the
# daemon's own answer over the Unix socket (hx_root), not against
# numbers written here. An account without rights ends another of its
# own sessions from its page. An Auditor sees no control that changes anything
# and the daemon refuses the same change from that session; an account
# with no rights is told so. Markup in an e-mail address, an ACL path and
# a refused name stays text. axe-core finds nothing serious or critical
# on any of the pages with their forms open, light and dark.
#
# Users are made as root@local over the socket. Failed logins are
# limited to 5 per minute: the file makes one.

load helpers/common
load helpers/browser

setup_file() {
	browser_start_file
	local u
	for u in 'boss:boss-pass-1:Administrator' 'eve:eve-pass-1:Auditor' \
	    'nobody1:nobody-pass-1:'; do
		IFS=: read -r name pass role <<<"$u"
		curl -fsS --unix-socket "$SOCK" -H 'Content-Type: application/json' \
			-d "{\"username\":\"$name\",\"password\":\"$pass\",\"roles\":[${role:+\"$role\"}]}" \
			http://localhost/api/users >/dev/null
	done
}

teardown_file() {
	browser_stop_file
}

setup() {
	browser_fresh
}

# q STRING: STRING as a JavaScript (JSON) string literal.
q() {
	jq -cn --arg v "$1" '$v'
}

# click SELECTOR: click the first element SELECTOR finds.
click() {
	js "(function () { var e = document.querySelector($(q "$1"));
	    if (!e) return 'missing'; e.click(); return 'ok'; })()"
	assert_output ok
}

# fill SELECTOR VALUE: set a text control's value.
fill() {
	js "(function () { var e = document.querySelector($(q "$1"));
	    if (!e) return 'missing'; e.value = $(q "$2"); return 'ok'; })()"
	assert_output ok
}

# check SELECTOR true|false: tick or untick a checkbox.
check() {
	js "(function () { var e = document.querySelector($(q "$1"));
	    if (!e) return 'missing'; e.checked = $2; return 'ok'; })()"
	assert_output ok
}

# open_add FORM: unfold the <details> that holds form FORM.
open_add() {
	js_wait "!!(document.querySelector('[data-form=\"$1\"]'))"
	js "document.querySelector('[data-form=\"$1\"]').closest('details').open = true"
}

# body: the JSON of the last hx_root (its last line is the status).
body() {
	printf '%s\n' "${lines[@]:0:${#lines[@]}-1}"
}

# cell SELECTOR N: the text of the Nth cell (0-based) of row SELECTOR.
cell() {
	js "document.querySelector($(q "$1")).cells[$2].textContent"
}

@test "an administrator adds a user, changes its roles, resets its password, disables and deletes it" {
	web_sign_in boss boss-pass-1 '#/admin/users'
	js_wait "!!(document.querySelector('#view-admin tr[data-user=\"boss\"]'))"
	open_add user-add
	fill '[data-form="user-add"] input[name="username"]' carol
	fill '[data-form="user-add"] input[name="password"]' carol-pass-1
	fill '[data-form="user-add"] input[name="email"]' carol@example.org
	check '[data-form="user-add"] input[name="roles"][value="VmUser"]' true
	click '[data-form="user-add"] button[type="submit"]'
	js_wait "!!(document.querySelector('tr[data-user=\"carol\"]'))"
	hx_root GET /api/users/carol
	assert_line --index 1 200
	run jq -c '[.roles, .email, .enabled]' <<<"${lines[0]}"
	assert_output '[["VmUser"],"carol@example.org",true]'
	cell 'tr[data-user="carol"]' 3
	assert_output VmUser
	web_shot admin-users

	# Roles: Auditor instead of VmUser.
	click 'tr[data-user="carol"] [data-act="modify"]'
	js_wait "!!(document.querySelector('[data-form=\"user-modify\"]'))"
	check '[data-form="user-modify"] input[name="roles"][value="VmUser"]' false
	check '[data-form="user-modify"] input[name="roles"][value="Auditor"]' true
	web_shot admin-user-modify
	click '[data-form="user-modify"] button[type="submit"]'
	js_wait "!!(document.querySelector('tr[data-user=\"carol\"]').cells[3].textContent === 'Auditor')"
	hx_root GET /api/users/carol
	run jq -c .roles <<<"${lines[0]}"
	assert_output '["Auditor"]'

	# A new password: the old one stops working, the new one signs in.
	click 'tr[data-user="carol"] [data-act="password"]'
	js_wait "!!(document.querySelector('[data-form=\"user-password\"]'))"
	fill '[data-form="user-password"] input[name="password"]' carol-new-pass-2
	click '[data-form="user-password"] button[type="submit"]'
	js_wait "!!(/new password for carol/.test(document.querySelector('#view-admin .adm-error[data-level=ok]').textContent))"
	run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		-d '{"username":"carol","password":"carol-new-pass-2"}' "$URL/api/auth/login"
	assert_output 200

	# Disable: nothing happens before the confirmation.
	click 'tr[data-user="carol"] [data-act="disable"]'
	hx_root GET /api/users/carol
	run jq .enabled <<<"${lines[0]}"
	assert_output true
	click 'tr[data-user="carol"] [data-act="confirm"]'
	js_wait "!!(document.querySelector('tr[data-user=\"carol\"] .adm-state').dataset.state === 'disabled')"
	cell 'tr[data-user="carol"]' 4
	assert_output '✖ disabled'
	hx_root GET /api/users/carol
	run jq .enabled <<<"${lines[0]}"
	assert_output false
	run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		-d '{"username":"carol","password":"carol-new-pass-2"}' "$URL/api/auth/login"
	refute_output 200

	# Delete: Cancel keeps the user, Confirm deletes it.
	click 'tr[data-user="carol"] [data-act="delete"]'
	js_wait "!!(!document.querySelector('tr[data-user=\"carol\"] .adm-confirm:has([data-act=delete]) .adm-ask').hidden)"
	web_shot admin-user-delete-confirm
	click 'tr[data-user="carol"] .adm-confirm:has([data-act=delete]) [data-act="cancel"]'
	hx_root GET /api/users/carol
	assert_line --index 1 200
	click 'tr[data-user="carol"] [data-act="delete"]'
	click 'tr[data-user="carol"] .adm-confirm:has([data-act=delete]) [data-act="confirm"]'
	js_wait "!!(document.querySelector('tr[data-user=\"carol\"]') === null)"
	hx_root GET /api/users/carol
	assert_line --index 1 404
	# The page lists exactly the users the daemon has.
	hx_root GET /api/users
	want=$(jq -c '[.[].username] | sort' <<<"${lines[0]}")
	js "JSON.stringify(Array.from(document.querySelectorAll('#view-admin tr[data-user]'), function (r) { return r.dataset.user; }).sort())"
	assert_output "$want"
}

@test "an API key made on the page is shown once, works with curl, and is revoked from the page" {
	hx_root POST /api/users '{"username":"dave","password":"dave-pass-1","roles":["Auditor"]}'
	assert_line --index 1 201
	web_sign_in boss boss-pass-1 '#/admin/users/dave'
	open_add key-create
	fill '[data-form="key-create"] input[name="name"]' page-key
	fill '[data-form="key-create"] input[name="expires_in_days"]' 7
	check '[data-form="key-create"] input[name="roles"][value="Auditor"]' true
	click '[data-form="key-create"] button[type="submit"]'
	js_wait "!!(/^hx_/.test((document.querySelector('#view-admin input.adm-secret') || {}).value || ''))"
	js "document.querySelector('#view-admin input.adm-secret').value"
	key=$output
	js "document.querySelector('#view-admin input.adm-secret').readOnly"
	assert_output true
	web_shot admin-key-created

	# Copy: copied, or at least all of it selected for Ctrl+C.
	click '#view-admin .adm-secret-box [data-act="copy"]'
	js_wait "!!(document.querySelector('#view-admin .adm-copied').textContent !== '')"
	js "(function () { var i = document.querySelector('#view-admin input.adm-secret');
	    return document.activeElement === i && i.selectionStart === 0 &&
	    i.selectionEnd === i.value.length; })()"
	assert_output true

	# The key is dave's, as the page lists it, and it works.
	hx_root GET /api/users/dave/api-keys
	id=$(jq -r '.[] | select(.name == "page-key") | .key_id' <<<"${lines[0]}")
	run jq -c '.[] | select(.name == "page-key") | .roles' <<<"${lines[0]}"
	assert_output '["Auditor"]'
	[[ $key == hx_${id}_* ]]
	js_wait "!!(document.querySelector('tr[data-key=\"$id\"]'))"
	run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$URL/api/nodes/local"
	assert_output 200
	# Never in storage.
	js "JSON.stringify(Object.assign({}, sessionStorage)) + JSON.stringify(Object.assign({}, localStorage))"
	refute_output --partial "${key#hx_${id}_}"

	# Away and back: listed, but the secret is nowhere.
	web_go '#/' monitor
	web_go '#/admin/users/dave' admin
	js_wait "!!(document.querySelector('tr[data-key=\"$id\"]'))"
	js "(function (s) { var inputs = Array.from(document.querySelectorAll('input, textarea'));
	    return document.documentElement.outerHTML.indexOf(s) >= 0 ||
	    inputs.some(function (i) { return i.value.indexOf(s) >= 0; }) ||
	    JSON.stringify(Object.assign({}, sessionStorage, localStorage)).indexOf(s) >= 0 ||
	    document.querySelector('input.adm-secret') !== null; })($(q "${key#hx_${id}_}"))"
	assert_output false

	# Revoke, confirmed: curl is refused from then on.
	click "tr[data-key=\"$id\"] [data-act=\"revoke\"]"
	click "tr[data-key=\"$id\"] [data-act=\"confirm\"]"
	js_wait "!!(document.querySelector('tr[data-key=\"$id\"]') === null &&
	    document.querySelector('[data-part=keys] table'))"
	hx_root GET /api/users/dave/api-keys
	run jq length <<<"${lines[0]}"
	assert_output 0
	run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$URL/api/nodes/local"
	assert_output 401
	web_shot admin-user
}

@test "an account with no rights lists its own sessions and ends another one on its page" {
	hx_root POST /api/users '{"username":"hank","password":"hank-pass-1","roles":[]}'
	assert_line --index 1 201
	run curl -sS -H 'Content-Type: application/json' \
		-d '{"username":"hank","password":"hank-pass-1"}' "$URL/api/auth/login"
	assert_success
	token=$(jq -r .token <<<"$output")
	web_sign_in hank hank-pass-1 '#/admin/users/hank'
	hx_root GET /api/users/hank/sessions
	n=$(jq length <<<"${lines[0]}")
	[ "$n" = 2 ]
	js_wait "document.querySelectorAll('[data-part=sessions] tr[data-session]').length === $n"
	# The page's own session is marked; end the other one (curl's).
	js "Array.from(document.querySelectorAll('[data-part=sessions] tr[data-session]')).filter(function (r) {
	    return /this one/.test(r.cells[0].textContent); }).length"
	assert_output 1
	run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$URL/api/auth/me"
	assert_output 200
	js "(function () { var r = Array.from(document.querySelectorAll('[data-part=sessions] tr[data-session]')).filter(function (r) {
	    return !/this one/.test(r.cells[0].textContent); });
	    return r.length ? r[0].dataset.session : ''; })()"
	id=$output
	hx_root GET /api/users/hank/sessions
	run jq -r --arg id "$id" '[.[] | select(.id == $id)] | length' <<<"${lines[0]}"
	assert_output 1
	click "tr[data-session=\"$id\"] [data-act=\"end\"]"
	click "tr[data-session=\"$id\"] [data-act=\"confirm\"]"
	js_wait "!document.querySelector('tr[data-session=\"$id\"]') &&
	    !!document.querySelector('[data-part=sessions] table')"
	hx_root GET /api/users/hank/sessions
	run jq -r --arg id "$id" '[.[] | select(.id == $id)] | length' <<<"${lines[0]}"
	assert_output 0
	run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$URL/api/auth/me"
	assert_output 401
	web_shot admin-sessions
}

@test "a custom role and an ACL entry made on the page are the daemon's" {
	hx_root POST /api/users '{"username":"frank","password":"frank-pass-1","roles":[]}'
	assert_line --index 1 201
	web_sign_in boss boss-pass-1 '#/admin/roles'
	open_add role-add
	# The privileges offered are those the daemon's roles name.
	hx_root GET /api/roles
	want=$(jq -c '[.[].privileges[]] | unique' <<<"${lines[0]}")
	js "JSON.stringify(Array.from(document.querySelectorAll('[data-form=\"role-add\"] input[name=privileges]'), function (c) { return c.value; }).sort())"
	assert_output "$want"
	fill '[data-form="role-add"] input[name="name"]' Watcher
	check '[data-form="role-add"] input[value="VmAudit"]' true
	check '[data-form="role-add"] input[value="SysAudit"]' true
	click '[data-form="role-add"] button[type="submit"]'
	js_wait "!!(document.querySelector('tr[data-role=\"Watcher\"]'))"
	hx_root GET /api/roles
	roles=${lines[0]}
	run jq -c '.[] | select(.name == "Watcher") | [.builtin, (.privileges | sort)]' <<<"$roles"
	assert_output '[false,["SysAudit","VmAudit"]]'
	want=$(jq -r '.[] | select(.name == "Watcher") | .privileges | join(", ")' <<<"$roles")
	cell 'tr[data-role="Watcher"]' 3
	assert_output "$want"
	# Built-in roles have no controls; custom ones do.
	js "document.querySelector('tr[data-role=\"Administrator\"] [data-act]') === null &&
	    document.querySelector('tr[data-role=\"Watcher\"] [data-act=edit]') !== null"
	assert_output true

	# Edit: one privilege more.
	click 'tr[data-role="Watcher"] [data-act="edit"]'
	js_wait "!!(document.querySelector('[data-form=\"role-edit\"]'))"
	check '[data-form="role-edit"] input[value="DatastoreAudit"]' true
	click '[data-form="role-edit"] button[type="submit"]'
	js_wait "!!(/DatastoreAudit/.test(document.querySelector('tr[data-role=\"Watcher\"]').cells[3].textContent))"
	hx_root GET /api/roles
	run jq -c '.[] | select(.name == "Watcher") | .privileges | sort' <<<"${lines[0]}"
	assert_output '["DatastoreAudit","SysAudit","VmAudit"]'
	web_shot admin-roles

	# An ACL entry granting it to frank on one VM, not propagated.
	web_go '#/admin/acl' admin
	open_add acl-add
	fill '[data-form="acl-add"] input[name="path"]' /vms/web-1
	js "(function () { var f = document.querySelector('[data-form=\"acl-add\"]');
	    f.querySelector('select[name=user]').value = 'frank';
	    f.querySelector('select[name=role]').value = 'Watcher';
	    return f.querySelector('select[name=user]').value + ' ' + f.querySelector('select[name=role]').value; })()"
	assert_output 'frank Watcher'
	check '[data-form="acl-add"] input[name="propagate"]' false
	click '[data-form="acl-add"] button[type="submit"]'
	js_wait "!!(document.querySelector('tr[data-user=\"frank\"][data-path=\"/vms/web-1\"]'))"
	hx_root GET /api/acl
	run jq -c '[.[] | select(.user == "frank")]' <<<"${lines[0]}"
	assert_output '[{"path":"/vms/web-1","role":"Watcher","user":"frank","userid":"frank@local","propagate":false}]'
	cell 'tr[data-user="frank"][data-path="/vms/web-1"]' 3
	assert_output no
	web_shot admin-acl

	# Delete the entry, then the role, each confirmed.
	click 'tr[data-user="frank"][data-path="/vms/web-1"] [data-act="delete"]'
	click 'tr[data-user="frank"][data-path="/vms/web-1"] [data-act="confirm"]'
	js_wait "!!(document.querySelector('tr[data-user=\"frank\"]') === null &&
	    document.querySelector('#view-admin table'))"
	hx_root GET /api/acl
	run jq '[.[] | select(.user == "frank")] | length' <<<"${lines[0]}"
	assert_output 0
	web_go '#/admin/roles' admin
	js_wait "!!(document.querySelector('tr[data-role=\"Watcher\"]'))"
	click 'tr[data-role="Watcher"] [data-act="delete"]'
	click 'tr[data-role="Watcher"] [data-act="confirm"]'
	js_wait "!!(document.querySelector('tr[data-role=\"Watcher\"]') === null &&
	    document.querySelector('tr[data-role=\"Administrator\"]'))"
	hx_root GET /api/roles
	run jq '[.[] | select(.name == "Watcher")] | length' <<<"${lines[0]}"
	assert_output 0
}

@test "the audit log shows the page's own actions and its user filter, kept in the URL, narrows it" {
	web_sign_in boss boss-pass-1 '#/admin/roles'
	open_add role-add
	fill '[data-form="role-add"] input[name="name"]' Audited
	check '[data-form="role-add"] input[value="VmAudit"]' true
	click '[data-form="role-add"] button[type="submit"]'
	js_wait "!!(document.querySelector('tr[data-role=\"Audited\"]'))"

	web_go '#/admin/audit' admin
	js_wait "!!(document.querySelector('tr[data-action=\"role.add\"][data-actor=\"boss@local\"]'))"
	hx_root GET /api/audit
	all=$(jq length <<<"${lines[0]}")
	js "document.querySelectorAll('#view-admin tr[data-action]').length"
	assert_output "$all"
	# Unfiltered, root@local's records are there too.
	js "document.querySelector('#view-admin tr[data-actor=\"root@local\"]') !== null"
	assert_output true

	# Filter by user with the form: the URL keeps it.
	fill '[data-form="audit-filter"] input[name="user"]' boss
	click '[data-form="audit-filter"] button[type="submit"]'
	js_wait "!!(document.querySelector('#view-admin tr[data-actor=\"root@local\"]') === null &&
	    document.querySelector('#view-admin tr[data-actor=\"boss@local\"]'))"
	js "location.hash"
	assert_output '#/admin/audit?user=boss'
	hx_root GET '/api/audit?user=boss'
	mine=$(jq length <<<"${lines[0]}")
	want=$(jq -c '[.[] | [.actor, .action, .target]]' <<<"${lines[0]}")
	[ "$mine" -lt "$all" ]
	js "JSON.stringify(Array.from(document.querySelectorAll('#view-admin tr[data-action]'), function (r) {
	    return [r.cells[1].textContent, r.cells[2].textContent, r.cells[3].textContent]; }))"
	assert_output "$want"
	# The page's own login and role are among them.
	hx_root GET '/api/audit?user=boss&action=role.add'
	run jq -r '.[0].target' <<<"${lines[0]}"
	assert_output Audited
	web_shot admin-audit

	# Loaded again from its link, the page keeps the filter.
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$URL/#/admin/audit?user=boss"
	assert_success
	js_wait "!!(document.querySelector('#view-admin tr[data-actor=\"boss@local\"]'))"
	js "document.querySelector('[data-form=\"audit-filter\"] input[name=user]').value + ' ' +
	    document.querySelectorAll('#view-admin tr[data-action]').length + ' ' +
	    (document.querySelector('#view-admin tr[data-actor=\"root@local\"]') === null)"
	assert_output "boss $mine true"
}

@test "an Auditor sees no control that changes anything, and the daemon refuses the change from that session" {
	web_sign_in eve eve-pass-1 '#/admin/users'
	js_wait "!!(document.querySelector('#view-admin tr[data-user=\"eve\"]'))"
	js "document.querySelectorAll('#view-admin [data-act], #view-admin form, #view-admin details').length"
	assert_output 0
	web_shot admin-auditor-users
	web_go '#/admin/roles' admin
	js_wait "!!(document.querySelector('#view-admin tr[data-role=\"Administrator\"]'))"
	js "document.querySelectorAll('#view-admin [data-act], #view-admin form, #view-admin details').length"
	assert_output 0
	web_go '#/admin/acl' admin
	js_wait "!!(document.querySelector('#view-admin table'))"
	js "document.querySelectorAll('#view-admin [data-act], #view-admin form, #view-admin details').length"
	assert_output 0

	# The same changes through the page's own api(): 403 each time.
	js "import('/js/shell.js').then(function (m) { return Promise.all([
	    m.api('POST', '/api/users', { username: 'mallory', password: 'mallory-pass-1', roles: ['Administrator'] }),
	    m.api('PATCH', '/api/users/boss', { enabled: false }),
	    m.api('DELETE', '/api/users/boss'),
	    m.api('POST', '/api/roles', { name: 'Sneaky', privileges: ['UserModify'] }),
	    m.api('PUT', '/api/acl', { path: '/', user: 'eve', role: 'Administrator', propagate: true })
	]); }).then(function (a) { return a.map(function (r) { return r.status; }).join(' '); })"
	assert_output '403 403 403 403 403'
	hx_root GET /api/users
	run jq -c '[.[] | select(.username == "mallory" or (.username == "boss" and .enabled == false))]' <<<"${lines[0]}"
	assert_output '[]'
	hx_root GET /api/acl
	run jq '[.[] | select(.user == "eve")] | length' <<<"${lines[0]}"
	assert_output 0
}

@test "an account with no rights here is told so" {
	web_sign_in nobody1 nobody-pass-1 '#/admin'
	js_wait "!!(document.querySelector('#view-admin .adm-denied'))"
	js "document.querySelector('#view-admin .adm-denied').textContent"
	assert_output --partial 'Your account may not see'
	assert_output --partial 'SysAudit'
	# Its own account is still there; the users, ACL and audit are not.
	js "Array.from(document.querySelectorAll('#view-admin .adm-sections a'), function (a) { return a.getAttribute('href'); }).join(' ')"
	assert_output '#/admin/roles #/admin/users/nobody1'
	web_shot admin-denied
	web_go '#/admin/users' admin
	js_wait "!!(document.querySelector('#view-admin .adm-denied'))"
	js "document.querySelector('#view-admin table') === null"
	assert_output true
}

@test "markup in an e-mail address, an ACL path and a refused name renders as text" {
	local mail='<svg/onload=window.__pwned=1>@x' path='/vms/<img src=x onerror=window.__pwned=2>'
	hx_root POST /api/users "$(jq -cn --arg m "$mail" '{username:"gina",password:"gina-pass-1",roles:[],email:$m}')"
	assert_line --index 1 201
	hx_root PUT /api/acl "$(jq -cn --arg p "$path" '{path:$p,user:"gina",role:"VmUser",propagate:false}')"
	assert_line --index 1 --regexp '^20[01]$'
	web_sign_in boss boss-pass-1 '#/admin/users'
	js_wait "!!(document.querySelector('tr[data-user=\"gina\"]'))"
	cell 'tr[data-user="gina"]' 2
	assert_output "$mail"

	web_go '#/admin/users/gina' admin
	js_wait "!!(document.querySelector('[data-part=acl] tr[data-path]') &&
	    document.querySelector('[data-part=permissions] tr[data-path]'))"
	hx_root GET /api/users/gina
	run jq -r '.acl[0].path' <<<"${lines[0]}"
	assert_output "$path"
	cell '[data-part=acl] tr[data-path]' 0
	assert_output "$path"
	js "Array.from(document.querySelectorAll('[data-part=permissions] tr[data-path]'), function (r) { return r.dataset.path; }).indexOf($(q "$path")) >= 0"
	assert_output true
	web_go '#/admin/acl' admin
	js_wait "!!(document.querySelector('tr[data-user=\"gina\"]'))"
	cell 'tr[data-user="gina"]' 0
	assert_output "$path"

	# A name the daemon refuses: its message, markup and all, as text.
	web_go '#/admin/users' admin
	open_add user-add
	fill '[data-form="user-add"] input[name="username"]' '<b id=pwn>x</b>'
	fill '[data-form="user-add"] input[name="password"]' pass-word-1
	click '[data-form="user-add"] button[type="submit"]'
	js_wait "!!(document.querySelector('[data-form=\"user-add\"] .adm-error').textContent !== '')"
	js "document.querySelector('[data-form=\"user-add\"] .adm-error').textContent"
	assert_output --partial "'<b id=pwn>x</b>'"
	web_shot admin-hostile
	web_go '#/admin/roles' admin
	open_add role-add
	fill '[data-form="role-add"] input[name="name"]' '<i id=pwn2>r</i>'
	click '[data-form="role-add"] button[type="submit"]'
	js_wait "!!(document.querySelector('[data-form=\"role-add\"] .adm-error').textContent !== '')"
	js "document.querySelector('[data-form=\"role-add\"] .adm-error').textContent"
	assert_output --partial "'<i id=pwn2>r</i>'"
	js "String(window.__pwned) + ' ' + document.querySelectorAll('#pwn, #pwn2, #view-admin img, #view-admin svg, #view-admin b, #view-admin i').length"
	assert_output 'undefined 0'
}

@test "axe-core finds no serious or critical violation on the administration pages, forms open, light and dark" {
	web_sign_in boss boss-pass-1 '#/admin'
	# Loaded again with axe-core injected; the session carries over.
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$URL/#/admin" --inject "$HX_REPO/node_modules/axe-core/axe.min.js"
	assert_success
	js_wait "!!document.querySelector('#view-admin .adm-sections')"
	local p scheme
	for p in '' users users/boss roles acl audit; do
		web_go "#/admin${p:+/$p}" admin
		js_wait "!!document.querySelector('#view-admin ' + ($(q "$p") ? 'table' : '.adm-sections'))"
		js "document.querySelectorAll('#view-admin details').forEach(function (d) { d.open = true; });
		    document.querySelectorAll('#view-admin [data-act=modify], #view-admin [data-act=edit]').forEach(function (b) { b.click(); });
		    true"
		for scheme in light dark; do
			run cdp --timeout 60 --color-scheme "$scheme" eval "axe.run(document.getElementById('view-admin'), { resultTypes: ['violations'] }).then(function (r) {
			    return JSON.stringify(r.violations.filter(function (v) {
				return v.impact === 'serious' || v.impact === 'critical';
			    }).map(function (v) { return [v.id, v.nodes[0].html]; })); })"
			assert_success
			[ "$output" = "[]" ] || fail "#/admin${p:+/$p} ($scheme): $output"
		done
	done
}
