#!/usr/bin/env bats
# The LDAP realm (DESIGN §11) against a real slapd (helpers/slapd.bash):
# a directory user logs in with roles from their groups (by member and by
# memberUid), over StartTLS and over ldaps:// with a test CA; wrong
# password, unknown user, no mapped group and filter injection are 401;
# a local user's name is never taken over; a group change is seen at the
# next renewal and removal ends the session; a directory that is down, a
# wrong CA and a directory that accepts and never answers give 503
# REALM_UNAVAILABLE with a log line, and the hanging one holds no local
# login; audit lines name the realm; horcrux-cli login --realm.
#
# One slapd for the file. Daemons, each a configuration under test, all
# started in setup_file: main (StartTLS, realm "corp"), ldaps (ldaps://),
# badca (StartTLS, another CA) and broken (first a listener that never
# answers, then nothing listening).

load helpers/common
load helpers/api
load helpers/slapd

# login INSTANCE USER PASSWORD [REALM]: the body, then the status. From
# the address SRC (default 127.0.0.1): five failures a minute per address
# are allowed, so each test that fails logins on purpose has its own.
login() {
	curl -s --interface "${SRC:-127.0.0.1}" -X POST "$(inst_url "$1")/api/auth/login" -H 'Content-Type: application/json' \
		-d "$(jq -cn --arg u "$2" --arg p "$3" --arg r "${4:-}" \
			'{username:$u, password:$p} + (if $r == "" then {} else {realm:$r} end)')" \
		-w '\n%{http_code}'
}

# on INSTANCE: SOCK and URL of that daemon, for helpers/api.
on() {
	SOCK=$(inst_sock "$1")
	URL=$(inst_url "$1")
}

setup_file() {
	slapd_start "$BATS_FILE_TMPDIR/slapd" || return 1
	export SLAPD_PID LDAP_PORT LDAPS_PORT LDAP_CA LDAP_OTHER_CA LDAP_SVC_PWFILE
	# A listener that accepts and never answers; its accepts counted.
	HANG_PORT=$(free_port)
	/usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
    open(sys.argv[2], "a").write("accepted\n")
' "$HANG_PORT" "$BATS_FILE_TMPDIR/hang.log" 3>&- &
	HANG_PID=$!
	export HANG_PID HANG_PORT
	# The four daemons start at once (each polls its own readiness).
	# shellcheck disable=SC2046
	start_instance main --ldap-realm corp --ldap-group-role-map "$LDAP_MAP" \
		$(ldap_realm_args) &
	pids=$!
	# shellcheck disable=SC2046
	start_instance ldaps --ldap-group-role-map "$LDAP_MAP" \
		$(ldap_realm_args "ldaps://127.0.0.1:$LDAPS_PORT") &
	pids="$pids $!"
	# shellcheck disable=SC2046
	start_instance badca --ldap-group-role-map "$LDAP_MAP" \
		$(ldap_realm_args) --ldap-ca-file "$LDAP_OTHER_CA" &
	pids="$pids $!"
	start_instance broken --ldap-url "ldap://127.0.0.1:$HANG_PORT" \
		--ldap-user-base "ou=people,$LDAP_BASE" --ldap-group-role-map "$LDAP_MAP" \
		--ldap-timeout 1.5 --login-threads 2 &
	pids="$pids $!"
	for p in $pids; do
		wait "$p" || return 1
	done
	# A local user called alice, as the directory has one.
	SOCK=$(inst_sock main) must 201 POST /api/users \
		'{"username":"alice","password":"alice-local-1","roles":["VmUser"]}' >/dev/null || return 1
	SOCK=$(inst_sock broken) must 201 POST /api/users \
		'{"username":"lou","password":"lou-local-pass"}' >/dev/null
}

teardown_file() {
	local i rc=0
	local pids=""
	for i in main ldaps badca broken; do
		stop_instance "$i" &
		pids="$pids $!"
	done
	for i in $pids; do
		wait "$i" || rc=1
	done
	kill_clients "${HANG_PID:-}"
	slapd_stop
	return $rc
}

@test "GET /api/auth/realms lists local, pam and the LDAP realm, without credentials" {
	run -0 curl -sf "$(inst_url main)/api/auth/realms"
	assert_equal "$(jq -c . <<<"$output")" \
		'{"realms":[{"name":"local","type":"local"},{"name":"pam","type":"pam"},{"name":"corp","type":"ldap"}]}'
	run -0 curl -sf "$(inst_url ldaps)/api/auth/realms"
	jq -e '.realms[2] == {"name":"ldap","type":"ldap"}' <<<"$output"
}

@test "a directory user logs in over StartTLS; roles come from groups (member and memberUid)" {
	on main
	# ada: in cn=admins by member; no realm given: a name the store does
	# not know goes to the LDAP realm.
	out=$(login main ada ada-dir-pass)
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.roles == ["Administrator"] and .username == "ada"'
	tok=$(body_of "$out" | jq -r .token)
	run -0 curl -sf "$URL/api/auth/me" -H "Authorization: Bearer $tok"
	jq -e '.userid == "ada@corp" and .roles == ["Administrator"]' <<<"$output"
	# ben: in cn=ops by memberUid, which maps to two roles.
	out=$(login main ben ben-dir-pass corp)
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.roles == ["Auditor","VmUser"]'
	# Both are users of realm corp now, with the directory's mail.
	out=$(must 200 GET /api/users)
	jq -e '.. | objects | select(.username? == "ada") | .realm == "corp" and .email == "ada@example.org" and .roles == ["Administrator"]' <<<"$out"
	jq -e '.. | objects | select(.username? == "ben") | .realm == "corp"' <<<"$out"
	# The audit names the realm: user@corp, detail corp.
	out=$(must 200 GET '/api/audit?action=login&user=ada')
	jq -e '[.. | objects | select(.action? == "login")][0] | .actor == "ada@corp" and .target == "ada@corp" and .detail == "corp"' <<<"$out"
}

@test "wrong password, unknown user, no mapped group, empty password: 401 with the realm audited" {
	SRC=127.0.0.3
	on main
	assert_equal "$(status_of "$(login main ada wrong-pass-1 corp)")" 401
	assert_equal "$(status_of "$(login main nobody some-pass-1 corp)")" 401
	out=$(login main cyd cyd-dir-pass corp)
	assert_equal "$(status_of "$out")" 401
	body_of "$out" | jq -e '.error == "UNAUTHORIZED"'
	# An empty password would be an unauthenticated bind: never a login.
	assert_equal "$(status_of "$(login main ben '' corp)")" 401
	out=$(must 200 GET '/api/audit?action=login.failed&limit=100')
	jq -e '[.. | objects | select(.actor? == "cyd@corp")][0].detail | startswith("corp: in no group")' <<<"$out"
	jq -e '[.. | objects | select(.actor? == "ada@corp")][0].detail == "corp: wrong password"' <<<"$out"
	jq -e '[.. | objects | select(.actor? == "nobody@corp")][0].detail == "corp: no such user in the directory"' <<<"$out"
	# cyd was never made a user.
	must 404 GET /api/users/cyd >/dev/null
	grep -q "realm corp: 'cyd' refused: in no group" "$(inst_dir main)/horcruxd.log"
}

@test "filter injection in the username is refused, never a wildcard match" {
	SRC=127.0.0.4
	on main
	for u in '*' ')(uid=*' 'ada)(|(uid=*' 'ada*'; do
		out=$(login main "$u" ada-dir-pass corp)
		assert_equal "$(status_of "$out")" 401
	done
	out=$(must 200 GET /api/users)
	[ "$(jq '[.. | objects | select(.username? != null and (.username | test("[*()]")))] | length' <<<"$out")" = 0 ]
	# Behind the name check, every value put in a filter is escaped
	# (RFC 4515): the daemon's own code, through hx-test-tool.
	run -0 "$HX_BUILD/tests/tools/hx-test-tool" ldap-filter '(&(uid=%s)(member=%D)(x=%%))' \
		')(uid=*\' 'cn=a(b),dc=é'
	assert_output '(&(uid=\29\28uid=\2a\5c)(member=cn=a\28b\29,dc=\c3\a9)(x=%))'
}

@test "a local user's name is never taken over by the directory's" {
	SRC=127.0.0.5
	on main
	# The directory's alice (right password there): 409, local alice kept.
	out=$(login main alice alice-dir-pass corp)
	assert_equal "$(status_of "$out")" 409
	body_of "$out" | jq -e '.error == "CONFLICT" and (.message | contains("exists in realm local"))'
	# Without a realm, a stored name is checked by its own realm.
	assert_equal "$(status_of "$(login main alice alice-dir-pass)")" 401
	out=$(login main alice alice-local-1)
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.roles == ["VmUser"]'
	must 200 GET /api/users/alice | jq -e '.realm == "local" and .roles == ["VmUser"]'
}

@test "an unknown realm is 422 naming the valid ones" {
	SRC=127.0.0.6
	out=$(login main ada ada-dir-pass nope)
	assert_equal "$(status_of "$out")" 422
	body_of "$out" | jq -e ".message == \"unknown realm 'nope': use 'local', 'pam' or 'corp'\""
}

@test "a group change is seen at the next renewal; removal from every mapped group ends the session" {
	SRC=127.0.0.7
	on main
	out=$(login main dora dora-dir-pass corp)
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.roles == ["Administrator","Auditor","VmUser"]'
	tok=$(body_of "$out" | jq -r .token)
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/users" -H "Authorization: Bearer $tok")" 200
	ldap_admin_modify "dn: cn=admins,ou=groups,$LDAP_BASE
changetype: modify
delete: member
member: uid=dora,ou=people,$LDAP_BASE"
	run -0 curl -sf -X POST "$URL/api/auth/renew" -H "Authorization: Bearer $tok"
	tok=$(jq -r .token <<<"$output")
	run -0 curl -sf "$URL/api/auth/me" -H "Authorization: Bearer $tok"
	jq -e '.roles == ["Auditor","VmUser"]' <<<"$output"
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/users" -H "Authorization: Bearer $tok")" 200
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/users" -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' -d '{"username":"zed","password":"zed-pass-123"}')" 403
	# Out of ops too: no mapped group left, the renewal ends the session.
	ldap_admin_modify "dn: cn=ops,ou=groups,$LDAP_BASE
changetype: modify
delete: memberUid
memberUid: dora"
	run -0 curl -s -X POST "$URL/api/auth/renew" -H "Authorization: Bearer $tok" -w '\n%{http_code}'
	assert_equal "$(status_of "$output")" 401
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/auth/me" -H "Authorization: Bearer $tok")" 401
	must 200 GET '/api/audit?action=renew.failed' | jq -e '[.. | objects | select(.action? == "renew.failed")][0].detail | startswith("corp: in no group")'
	must 200 GET /api/users/dora | jq -e '.roles == ["Auditor","VmUser"]'
}

@test "a disabled directory user stays disabled" {
	SRC=127.0.0.8
	on main
	assert_equal "$(status_of "$(login main eve eve-dir-pass corp)")" 200
	must 200 PATCH /api/users/eve '{"enabled":false}' >/dev/null
	assert_equal "$(status_of "$(login main eve eve-dir-pass corp)")" 401
	must 200 GET /api/users/eve | jq -e '.enabled == false'
}

@test "an administrator may make a directory user before their first login, never with a password" {
	on main
	must 201 POST /api/users '{"username":"fay","realm":"corp","roles":["Auditor"]}' |
		jq -e '.realm == "corp"'
	must 422 POST /api/users '{"username":"gus","realm":"corp","password":"gus-pass-123"}' |
		jq -e '.message | contains("belongs to it")'
	must 422 POST /api/users '{"username":"gus","realm":"oidc"}' |
		jq -e ".message == \"realm must be 'local', 'pam' or 'corp'\""
	# Not a local account: no password login, no password change.
	assert_equal "$(status_of "$(login main fay anything-1 local)")" 401
	must 422 POST /api/users/fay/password '{"password":"new-pass-123"}' >/dev/null
}

@test "ldaps:// with the test CA" {
	out=$(login ldaps ben ben-dir-pass ldap)
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.roles == ["Auditor","VmUser"]'
}

@test "StartTLS with a CA that did not sign the directory's certificate: 503, said in the log" {
	out=$(login badca ben ben-dir-pass)
	assert_equal "$(status_of "$out")" 503
	body_of "$out" | jq -e '.error == "REALM_UNAVAILABLE" and (.message | contains("ldap"))'
	grep -E "error: realm ldap: cannot start TLS with 'ldap://127.0.0.1:$LDAP_PORT'" "$(inst_dir badca)/horcruxd.log"
	SOCK=$(inst_sock badca) must 404 GET /api/users/ben >/dev/null
}

@test "a directory that never answers holds no local login, then is 503 after ldap_timeout" {
	: >"$BATS_FILE_TMPDIR/hang.log"
	login broken ben ben-dir-pass >"$BATS_TEST_TMPDIR/slow" &
	slow=$!
	wait_count "$BATS_FILE_TMPDIR/hang.log" accepted 1
	# The directory login now waits on one pool thread: a local one runs.
	start=$(date +%s%N)
	out=$(login broken lou lou-local-pass local)
	took=$((($(date +%s%N) - start) / 1000000))
	assert_equal "$(status_of "$out")" 200
	((took < 1000)) || fail "a local login took ${took} ms beside a hanging directory"
	kill -0 "$slow" # still waiting for the directory
	wait "$slow"
	assert_equal "$(status_of "$(cat "$BATS_TEST_TMPDIR/slow")")" 503
	grep -q "error: realm ldap: .*ldap://127.0.0.1:$HANG_PORT" "$(inst_dir broken)/horcruxd.log"
}

@test "a directory that is down: 503 REALM_UNAVAILABLE and a log line" {
	kill_clients "$HANG_PID"
	out=$(login broken ben ben-dir-pass ldap)
	assert_equal "$(status_of "$out")" 503
	body_of "$out" | jq -e '.error == "REALM_UNAVAILABLE" and .message == "realm '"'ldap'"' cannot be reached; try again later"'
	grep -q "error: realm ldap: .*'ldap://127.0.0.1:$HANG_PORT': Can't contact LDAP server" "$(inst_dir broken)/horcruxd.log"
	SOCK=$(inst_sock broken) must 200 GET '/api/audit?action=login.failed' |
		jq -e '[.. | objects | select(.actor? == "ben@ldap")][0].detail == "ldap: unavailable"'
}

@test "horcrux-cli login --realm: the LDAP realm with a password, an unknown realm named" {
	CLI=$HX_BUILD/horcrux-cli
	export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config
	mkdir -p "$HOME"
	unset HORCRUX_API_KEY HORCRUX_TOKEN
	export HORCRUX_SERVER=$(inst_url main)
	run -0 --separate-stderr "$CLI" login ben --realm corp --password-stdin <<<"ben-dir-pass"
	[[ $output == "logged in as ben (roles: Auditor, VmUser)"* ]] || fail "$output"
	run -0 "$CLI" whoami
	[[ $output == *ben@corp* ]] || fail "$output"
	run -1 --separate-stderr "$CLI" login ben --realm nope --password-stdin <<<"ben-dir-pass"
	assert_equal "$stderr" "horcrux-cli: unknown realm 'nope': this server signs in with local, pam, corp"
}

@test "bad LDAP settings stop the start with one clear line" {
	local d=$BATS_TEST_TMPDIR base=(-f --listen 127.0.0.1:1 --socket "$BATS_TEST_TMPDIR/s.sock"
		--data-dir "$BATS_TEST_TMPDIR/data" --history off)
	run -1 --separate-stderr "$HXD" "${base[@]}" --ldap-url ldap://127.0.0.1:9 \
		--ldap-group-role-map "cn=a,dc=x=VmUser"
	assert_equal "$stderr" "horcruxd: ldap_url is set but ldap_user_base is not"
	# A bad flag value is a usage error (exit 2), as for every option.
	run -2 --separate-stderr "$HXD" "${base[@]}" --ldap-url http://x
	[[ $stderr == "horcruxd: --ldap-url: 'http://x' is not ldap://HOST[:PORT] or ldaps://HOST[:PORT]"* ]] || fail "$stderr"
	run -2 --separate-stderr "$HXD" "${base[@]}" --ldap-realm Corp
	[[ $stderr == "horcruxd: --ldap-realm: 'Corp' is not a realm name"* ]] || fail "$stderr"
	run -1 --separate-stderr "$HXD" "${base[@]}" --ldap-realm pam
	[[ $stderr == *"must differ from each other and from local and pam"* ]] || fail "$stderr"
	run -1 --separate-stderr "$HXD" "${base[@]}" --ldap-url ldap://127.0.0.1:9 \
		--ldap-user-base dc=x --ldap-group-role-map "cn=a,dc=x=No Such"
	[[ $stderr == "horcruxd: ldap_group_role_map: "* ]] || fail "$stderr"
	run -1 --separate-stderr "$HXD" "${base[@]}" --ldap-url ldap://127.0.0.1:9 \
		--ldap-user-base dc=x --ldap-group-role-map "cn=a,dc=x=VmUser" \
		--ldap-bind-dn cn=svc,dc=x --ldap-bind-password-file "$d/missing.pw"
	assert_equal "$stderr" "horcruxd: ldap_bind_password_file: cannot read '$d/missing.pw': No such file or directory"
	run -1 --separate-stderr "$HXD" "${base[@]}" --ldap-url ldaps://127.0.0.1:9 --ldap-starttls \
		--ldap-user-base dc=x --ldap-group-role-map "cn=a,dc=x=VmUser"
	assert_equal "$stderr" "horcruxd: ldap_starttls is for an ldap:// URL; ldaps:// is TLS already"
	[ "$(wc -l <<<"$stderr")" = 1 ]
}
