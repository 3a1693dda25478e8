#!/usr/bin/env bats
# Identity end to end: login sessions, cookies with CSRF and Origin, the
# login rate limit, users and keys with bad input, revocation closing live
# sessions, persistence across restarts and crashes, PAM, the audit log.

load helpers/common
load helpers/api

teardown() {
	stop_daemon
	if [ -n "${PAM_USER:-}" ]; then
		userdel -r "$PAM_USER" 2>/dev/null || true
	fi
}

add_admin() {
	out=$(sock POST /api/users '{"username":"admin","password":"admin-pass-1","roles":["Administrator"]}')
	assert_equal "$(status_of "$out")" 201
}

login() {
	out=$(tcp POST /api/auth/login "{\"username\":\"$1\",\"password\":\"$2\"}")
	assert_equal "$(status_of "$out")" 200
	TOKEN=$(body_of "$out" | jq -r .token)
	CSRF=$(body_of "$out" | jq -r .csrf_token)
}

@test "login, me, renew and logout with a bearer token" {
	start_daemon
	add_admin
	login admin admin-pass-1
	out=$(tcp GET /api/auth/me "" -H "Authorization: Bearer $TOKEN")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -r .username)" admin
	assert_equal "$(body_of "$out" | jq -r .auth)" session
	body_of "$out" | jq -e '.privileges["/"] | index("UserModify")'
	exp1=$(body_of "$(tcp POST /api/auth/login '{"username":"admin","password":"admin-pass-1"}')" | jq -r .expires_at)
	sleep 1.1
	out=$(tcp POST /api/auth/renew "" -H "Authorization: Bearer $TOKEN")
	assert_equal "$(status_of "$out")" 200
	new=$(body_of "$out" | jq -r .token)
	exp2=$(body_of "$out" | jq -r .expires_at)
	[[ "$exp2" > "$exp1" ]]
	out=$(tcp POST /api/auth/logout "" -H "Authorization: Bearer $new")
	assert_equal "$(status_of "$out")" 204
	# The session is gone: both tokens of it stop working at once.
	assert_equal "$(status_of "$(tcp GET /api/auth/me "" -H "Authorization: Bearer $new")")" 401
	assert_equal "$(status_of "$(tcp GET /api/auth/me "" -H "Authorization: Bearer $TOKEN")")" 401
}

@test "wrong passwords and unknown users fail alike, in the same time" {
	start_daemon
	add_admin
	# Two of each (four failures: under the limit of five per address).
	t() {
		curl -s -o "$BATS_TEST_TMPDIR/$2" -w '%{time_total}' -X POST \
			"$URL/api/auth/login" -H 'Content-Type: application/json' -d "$1"
	}
	k1=$(t '{"username":"admin","password":"nope-nope"}' k1)
	u1=$(t '{"username":"ghost","password":"nope-nope"}' u1)
	k2=$(t '{"username":"admin","password":"nope-nope"}' k2)
	u2=$(t '{"username":"ghost","password":"nope-nope"}' u2)
	assert_equal "$(jq -r .error "$BATS_TEST_TMPDIR/k1")" UNAUTHORIZED
	assert_equal "$(cat "$BATS_TEST_TMPDIR/u1")" "$(cat "$BATS_TEST_TMPDIR/k1")"
	# An unknown user costs a password check too.
	jq -en --argjson k "$k1" --argjson K "$k2" --argjson u "$u1" --argjson U "$u2" \
		'(($u + $U) / ($k + $K)) > 0.5 and (($u + $U) / ($k + $K)) < 2'
}

@test "five failed logins for a user in a minute: 429 with Retry-After" {
	start_daemon
	add_admin
	for _ in 1 2 3 4 5; do
		assert_equal "$(status_of "$(tcp POST /api/auth/login '{"username":"admin","password":"bad-bad-bad"}')")" 401
	done
	run curl -s -i -X POST "$URL/api/auth/login" -H 'Content-Type: application/json' -d '{"username":"admin","password":"admin-pass-1"}'
	assert_line --regexp '^HTTP/1.1 429'
	assert_line --regexp '^retry-after: [0-9]+'
	assert_output --partial RATE_LIMITED
	grep -q '"action":"login.failed"' <<<"$(sock GET '/api/audit?action=login.failed')"
}

@test "cookie sessions: HttpOnly SameSite cookie, CSRF on changes, Origin on WebSockets" {
	start_daemon
	add_admin
	jar=$BATS_TEST_TMPDIR/jar
	run curl -s -i -c "$jar" -X POST "$URL/api/auth/login" -H 'Content-Type: application/json' -d '{"username":"admin","password":"admin-pass-1"}'
	assert_line --regexp '^set-cookie: horcrux_session=[^;]+; HttpOnly; SameSite=Strict; Path=/'
	csrf=$(sed -n '/^{/p' <<<"$output" | jq -r .csrf_token)
	cookie=$(awk '$6 == "horcrux_session" {print $7}' "$jar")
	# Reads need no CSRF token.
	assert_equal "$(status_of "$(tcp GET /api/auth/me "" -b "$jar")")" 200
	# Changes without it, or with a wrong one, are refused.
	assert_equal "$(status_of "$(tcp POST /api/roles '{"name":"R1","privileges":["SysAudit"]}' -b "$jar")")" 403
	assert_equal "$(status_of "$(tcp POST /api/roles '{"name":"R1","privileges":["SysAudit"]}' -b "$jar" -H 'X-CSRF-Token: wrong')")" 403
	assert_equal "$(status_of "$(tcp POST /api/roles '{"name":"R1","privileges":["SysAudit"]}' -b "$jar" -H "X-CSRF-Token: $csrf")")" 201
	# WebSocket with the cookie: our own origin only.
	run "$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "Cookie: horcrux_session=$cookie" \
		--origin "http://evil.example" --count 1 --timeout 5
	assert_failure 5
	assert_equal "$(jq -r .status <<<"$output")" 403
	run "$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "Cookie: horcrux_session=$cookie" \
		--origin "http://127.0.0.1:$PORT" --count 1 --timeout 5
	assert_success
	assert_output --partial "established for user admin"
}

@test "a Host header that is not ours gets 400 before anything else" {
	start_daemon
	run curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$URL/api/health"
	assert_output 400
	run curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:$PORT" "$URL/api/health"
	assert_output 200
	run "$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --host evil.example --count 1 --timeout 5
	assert_failure 5
	assert_equal "$(jq -r .status <<<"$output")" 400
}

@test "users: bad input is refused with the right status, odd names are safe" {
	start_daemon
	add_admin
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"admin","password":"another-1"}')")" 409
	assert_equal "$(status_of "$(sock POST /api/users '{"username":')")" 400
	assert_equal "$(status_of "$(sock POST /api/users '[1,2]')")" 400
	assert_equal "$(status_of "$(sock POST /api/users '{"username":5,"password":"password-1"}')")" 422
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"x","password":"short"}')")" 422
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"x","password":"password-1","bogus":1}')")" 422
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"a\r\nb","password":"password-1"}')")" 422
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"x","password":"password-1","roles":["Nope"]}')")" 422
	# E-mail addresses: an '@', no spaces or control characters (shown on terminals).
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"x","password":"password-1","email":"nobody"}')")" 422
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"x","password":"password-1","email":"e\u001b]0;t\u0007@x.org"}')")" 422
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"x","password":"password-1","email":"a b@x.org"}')")" 422
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"mailok","password":"password-1","email":"ops+hx@example.org"}')")" 201
	assert_equal "$(status_of "$(sock PATCH /api/users/mailok '{"email":"x\ty@z"}')")" 422
	long=$($PY -c 'print("é" * 300)')
	assert_equal "$(status_of "$(sock POST /api/users "{\"username\":\"$long\",\"password\":\"password-1\"}")")" 422
	# Quotes and SQL metacharacters are outside the naming rule, and
	# harmless: the table is still there.
	weird="o'brien\"; DROP TABLE users; --"
	body=$(jq -cn --arg u "$weird" '{username:$u,password:"password-1"}')
	assert_equal "$(status_of "$(sock POST /api/users "$body")")" 422
	assert_equal "$(status_of "$(sock GET /api/users/mailok)")" 200
	# Listings never carry a hash.
	run sock GET /api/users
	refute_output --partial argon2
	refute_output --partial password
	# The last Administrator cannot go.
	out=$(sock DELETE /api/users/admin)
	assert_equal "$(status_of "$out")" 409
	assert_equal "$(body_of "$out" | jq -r .message)" "cannot remove the last Administrator"
}

@test "names: one rule for users, roles and keys; bad names get 422 naming the field" {
	local n out long64 long65
	start_daemon
	add_admin
	long64=$(printf 'a%.0s' $(seq 1 64))
	long65=${long64}b
	for n in . .. .x -x root ROOT "$long65" "a b" "é" "a@b" "a/b" ""; do
		out=$(sock POST /api/users "$(jq -cn --arg u "$n" '{username:$u,password:"password-1"}')")
		assert_equal "$(status_of "$out")" 422
		assert_equal "$(body_of "$out" | jq -r .error)" VALIDATION_ERROR
		[[ $(body_of "$out" | jq -r .message) == *username* ]]
		out=$(sock POST /api/roles "$(jq -cn --arg u "$n" '{name:$u,privileges:["VmAudit"]}')")
		assert_equal "$(status_of "$out")" 422
		[[ $(body_of "$out" | jq -r .message) == *"role name"* ]]
		out=$(sock POST /api/users/admin/api-keys "$(jq -cn --arg u "$n" '{name:$u}')")
		assert_equal "$(status_of "$out")" 422
		[[ $(body_of "$out" | jq -r .message) == *"key name"* ]]
	done
	run sock GET /api/users
	assert_equal "$(body_of "$output" | jq -c '[.[].username]')" '["admin"]'
	for n in a Z9 "A.b_c-1" "x.." "$long64"; do
		out=$(sock POST /api/users "$(jq -cn --arg u "$n" '{username:$u,password:"password-1"}')")
		assert_equal "$(status_of "$out")" 201
		out=$(sock POST /api/roles "$(jq -cn --arg u "$n" '{name:$u,privileges:["VmAudit"]}')")
		assert_equal "$(status_of "$out")" 201
		out=$(sock POST /api/users/admin/api-keys "$(jq -cn --arg u "$n" '{name:$u}')")
		assert_equal "$(status_of "$out")" 201
	done
	# Each valid name can be addressed, as the dot names could not.
	assert_equal "$(status_of "$(sock DELETE /api/users/x..)")" 204
}

@test "names: rows made before the rule keep working and are reported at start-up" {
	local hash
	start_daemon
	add_admin
	stop_daemon
	# An older horcruxd let these in; write them as it would have.
	hash=$(sqlite3 "$DDIR/data/horcrux.db" "SELECT password_hash FROM users WHERE username = 'admin'")
	sqlite3 "$DDIR/data/horcrux.db" "
	    INSERT INTO users (username, realm, enabled, password_hash, created)
	        VALUES ('-old', 'local', 1, '$hash', 0), ('..', 'local', 1, NULL, 0);
	    INSERT INTO roles (name, privs, builtin) VALUES ('.hidden', 128, 0);
	    INSERT INTO user_roles (user_id, role)
	        SELECT id, '.hidden' FROM users WHERE username = '-old';"
	start_daemon
	run grep -c 'breaks the naming rule' "$HXD_LOG"
	assert_output 3
	grep -q "existing user breaks the naming rule (invalid username '-old'" "$HXD_LOG"
	grep -q "existing user breaks the naming rule (invalid username '..'" "$HXD_LOG"
	grep -q "existing role breaks the naming rule (invalid role name '.hidden'" "$HXD_LOG"
	# Still working: '-old' logs in and holds its role's privilege.
	login -old admin-pass-1
	out=$(tcp GET /api/auth/me "" -H "Authorization: Bearer $TOKEN")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -c '.privileges["/vms"]')" '["VmAudit"]'
	assert_equal "$(status_of "$(sock PATCH /api/users/-old '{"enabled":false}')")" 200
	# Listed, their permissions read, and deleted: only new names obey the rule.
	assert_equal "$(body_of "$(sock GET /api/users)" | jq -c '[.[].username] | sort')" '["-old","..","admin"]'
	assert_equal "$(status_of "$(sock GET /api/users/-old/permissions)")" 200
	assert_equal "$(status_of "$(sock DELETE /api/users/-old)")" 204
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"-old","password":"password-1"}')")" 422
}

@test "bodies: 1 MiB and missing lengths get 413 without a hang, empty PATCH is answered" {
	start_daemon
	add_admin
	head -c 1048576 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
	# Refused before the body is read, while curl is still sending it:
	# the daemon lingers until curl has read the 413 and closed, so
	# every try sees it (closing at once lost about one reply in ten).
	local i codes=
	for i in $(seq 20); do
		codes+=$(curl -s -m 10 -o /dev/null -w '%{http_code} ' \
			--unix-socket "$SOCK" -X POST http://localhost/api/users \
			--data-binary @"$BATS_TEST_TMPDIR/big" || true)
		codes+=$(curl -s -m 10 -o /dev/null -w '%{http_code} ' \
			-X POST "$URL/api/users" -H 'Content-Type: application/json' \
			--data-binary @"$BATS_TEST_TMPDIR/big" || true)
	done
	assert_equal "$codes" "$(printf '413 %.0s' $(seq 40))"
	# No Content-Length: refused at once, and the connection ends.
	run timeout 10 $PY - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"POST /api/users HTTP/1.1\r\nHost: localhost\r\n\r\n{\"username\":\"x\"}")
print(s.recv(4096).split(b"\r\n")[0].decode())
PY
	assert_success
	assert_output "HTTP/1.1 413 Request Entity Too Large"
	run curl -s -m 10 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
		-X PATCH -H 'Content-Length: 0' http://localhost/api/users/admin
	assert_output 400
	run curl -s -m 10 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
		-X PUT -H 'Content-Length: 0' http://localhost/api/acl
	assert_output 400
}

@test "revoking a key or disabling a user closes their live WebSockets and refuses them" {
	start_daemon
	add_admin
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"carol","password":"carol-pass-1","roles":["Auditor"]}')")" 201
	out=$(sock POST /api/users/carol/api-keys '{"name":"probe"}')
	assert_equal "$(status_of "$out")" 201
	key=$(body_of "$out" | jq -r .token)
	kid=$(body_of "$out" | jq -r .key_id)
	"$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $key" --timeout 20 \
		--send '{"topics":["node:metrics"]}' >"$BATS_TEST_TMPDIR/ws1" 3>&- &
	c1=$!
	login carol carol-pass-1
	"$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "Authorization: Bearer $TOKEN" --timeout 20 \
		--send '{"topics":["node:metrics"]}' >"$BATS_TEST_TMPDIR/ws2" 3>&- &
	c2=$!
	wait_clients 2
	assert_equal "$(sock DELETE "/api/users/carol/api-keys/$kid" | tail -1)" 204
	t0=$(date +%s.%N)
	wait "$c1" || true
	t1=$(date +%s.%N)
	jq -en --argjson a "$t0" --argjson b "$t1" '($b - $a) < 1.5'
	assert_equal "$(jq -r 'select(.close) | .close' "$BATS_TEST_TMPDIR/ws1")" 1008
	assert_equal "$(status_of "$(tcp GET /api/auth/me "" -H "X-API-Key: $key")")" 401
	# The user's login session is still fine until the user is disabled.
	kill -0 "$c2"
	assert_equal "$(status_of "$(sock PATCH /api/users/carol '{"enabled":false}')")" 200
	wait "$c2" || true
	assert_equal "$(jq -r 'select(.close) | .close' "$BATS_TEST_TMPDIR/ws2")" 1008
	assert_equal "$(status_of "$(tcp GET /api/auth/me "" -H "Authorization: Bearer $TOKEN")")" 401
}

@test "users, keys and ACL entries survive a restart; the secret is 0600" {
	start_daemon
	add_admin
	sock POST /api/users '{"username":"dave","password":"dave-pass-1"}' >/dev/null
	sock PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"dave"}' >/dev/null
	key=$(body_of "$(sock POST /api/users/dave/api-keys '{"name":"k"}')" | jq -r .token)
	assert_equal "$(stat -c %a "$DDIR/data/jwt.key")" 600
	assert_equal "$(stat -c %a "$DDIR/data/horcrux.db")" 600
	stop_daemon
	start_daemon
	out=$(tcp GET /api/auth/me "" -H "X-API-Key: $key")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -r .username)" dave
	body_of "$out" | jq -e '.privileges["/vms/web-1"] | index("VmAudit")'
	run sock GET /api/acl
	assert_output --partial '"path":"/vms/web-1","role":"VmUser","user":"dave"'
	login dave dave-pass-1
	# The key's use above is recorded (by the worker, shortly after).
	for _ in $(seq 1 40); do
		used=$(body_of "$(sock GET /api/users/dave/api-keys)" | jq -r '.[0].last_used_at')
		[ "$used" != null ] && break
		sleep 0.05
	done
	[[ "$used" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]]
	refute_output --partial '"hash"'
}

@test "kill -9 during a burst of user creations leaves an intact database with every acknowledged write" {
	start_daemon
	acked=$BATS_TEST_TMPDIR/acked
	$PY - "$SOCK" "$acked" <<'PY' &
import http.client, json, socket, sys
class U(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sys.argv[1])
out = open(sys.argv[2], "w")
for i in range(400):
    try:
        c = U("localhost"); c.request("POST", "/api/users", json.dumps(
            {"username": "u%d" % i, "password": "password-%d" % i}),
            {"Content-Type": "application/json"})
        if c.getresponse().status == 201:
            out.write("u%d\n" % i); out.flush()
    except OSError:
        break
PY
	burst=$!
	for _ in $(seq 1 200); do
		[ "$(wc -l <"$acked" 2>/dev/null || echo 0)" -ge 15 ] && break
		sleep 0.05
	done
	kill -9 "$HXD_PID"
	wait "$HXD_PID" || true
	HXD_PID=
	wait "$burst" || true
	n=$(wc -l <"$acked")
	[ "$n" -ge 15 ]
	run $PY -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("pragma integrity_check").fetchone()[0])' "$DDIR/data/horcrux.db"
	assert_output ok
	start_daemon
	have=$(body_of "$(sock GET /api/users)" | jq -r '.[].username')
	while read -r u; do
		grep -qx "$u" <<<"$have" || fail "acknowledged user $u is missing"
	done <"$acked"
}

@test "the pam realm checks a real system account" {
	PAM_USER=hxpam$$
	useradd -M -s /usr/sbin/nologin "$PAM_USER"
	echo "$PAM_USER:Pam-pass-123" | chpasswd
	start_daemon
	add_admin
	assert_equal "$(status_of "$(sock POST /api/users "{\"username\":\"$PAM_USER\",\"realm\":\"pam\",\"roles\":[\"Auditor\"]}")")" 201
	assert_equal "$(status_of "$(sock POST /api/users "{\"username\":\"p2\",\"realm\":\"pam\",\"password\":\"x-x-x-x-x\"}")")" 422
	out=$(tcp POST /api/auth/login "{\"username\":\"$PAM_USER\",\"password\":\"Pam-pass-123\",\"realm\":\"pam\"}")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -c .roles)" '["Auditor"]'
	assert_equal "$(status_of "$(tcp POST /api/auth/login "{\"username\":\"$PAM_USER\",\"password\":\"wrong-pass-1\"}")")" 401
	# Known to PAM but not to horcrux: refused.
	assert_equal "$(status_of "$(tcp POST /api/auth/login '{"username":"root","password":"whatever-1","realm":"pam"}')")" 401
}

@test "a non-loopback listener is refused until someone can log in" {
	DDIR=$BATS_TEST_TMPDIR/nl
	mkdir -p "$DDIR"
	port=$(free_port)
	run --separate-stderr "$HXD" -f --listen "0.0.0.0:$port" --socket "$DDIR/s.sock" \
		--data-dir "$DDIR/data" --web-root "$HX_REPO/share/web" --allow-plain-http
	assert_failure 1
	[[ "$stderr" == "horcruxd: refusing to listen on '0.0.0.0:$port': no user has a password or API key yet"* ]]
	start_daemon
	add_admin
	stop_daemon
	"$HXD" -f --listen "0.0.0.0:$port" --socket "$DDIR/s.sock" --data-dir "$DDIR/data" \
		--web-root "$HX_REPO/share/web" --allow-plain-http >"$DDIR/nl.log" 2>&1 3>&- &
	HXD_PID=$! URL=http://127.0.0.1:$port HXD_LOG=$DDIR/nl.log
	wait_ready
}

@test "the audit log records logins and changes, filtered by user and action" {
	start_daemon
	add_admin
	login admin admin-pass-1
	tcp POST /api/users '{"username":"erin","password":"erin-pass-1"}' -H "Authorization: Bearer $TOKEN" >/dev/null
	out=$(tcp GET '/api/audit?user=admin' "" -H "Authorization: Bearer $TOKEN")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -r '[.[].action] | join(",")')" "user.add,login"
	assert_equal "$(body_of "$out" | jq -r '.[0].target')" erin@local
	out=$(sock GET '/api/audit?action=user.add&limit=1')
	assert_equal "$(body_of "$out" | jq 'length')" 1
	assert_equal "$(body_of "$out" | jq -r '.[0] | .actor + " " + .target')" "admin@local erin@local"
	assert_equal "$(status_of "$(sock GET '/api/audit?limit=0')")" 400
}

@test "CORS headers only for an origin listed in allowed_origins" {
	start_daemon --allowed-origins https://dash.example:8443
	run curl -s -i -H 'Origin: https://dash.example:8443' "$URL/api/health"
	assert_line --partial 'access-control-allow-origin: https://dash.example:8443'
	assert_line --partial 'access-control-allow-credentials: true'
	run curl -s -i -H 'Origin: https://evil.example' "$URL/api/health"
	refute_output --partial access-control
	run curl -s -i -X OPTIONS -H 'Origin: https://dash.example:8443' \
		-H 'Access-Control-Request-Method: POST' "$URL/api/users"
	assert_line --regexp '^HTTP/1.1 204'
	assert_line --partial 'access-control-allow-headers: content-type, authorization, x-api-key, x-csrf-token'
	run curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Origin: https://evil.example' "$URL/api/users"
	assert_output 401
}

@test "an API key may only narrow its owner's rights" {
	start_daemon
	add_admin
	sock POST /api/users '{"username":"vic","password":"vic-pass-1","roles":["VmUser"]}' >/dev/null
	# Within the owner's rights: fine, also for an administrator's key.
	assert_equal "$(status_of "$(sock POST /api/users/admin/api-keys '{"name":"ro","roles":["Auditor"]}')")" 201
	assert_equal "$(status_of "$(sock POST /api/users/vic/api-keys '{"name":"own","roles":["VmUser"]}')")" 201
	# Beyond them: refused, even by an administrator acting for the user.
	out=$(sock POST /api/users/vic/api-keys '{"name":"wide","roles":["Administrator"]}')
	assert_equal "$(status_of "$out")" 422
	[[ "$(body_of "$out" | jq -r .message)" == *"a key can only narrow its owner's rights" ]]
	out=$(sock POST /api/users/vic/api-keys '{"name":"x","roles":["NoSuchRole"]}')
	assert_equal "$(status_of "$out")" 422
	[[ "$(body_of "$out" | jq -r .message)" == *NoSuchRole* ]]
}

@test "a dead session cookie counts as none and is cleared; /me gives a cookie session its CSRF token" {
	start_daemon
	add_admin
	jar=$BATS_TEST_TMPDIR/jar
	curl -s -c "$jar" -o /dev/null -X POST "$URL/api/auth/login" -H 'Content-Type: application/json' -d '{"username":"admin","password":"admin-pass-1"}'
	cookie=$(awk '$6 == "horcrux_session" {print $7}' "$jar")
	out=$(tcp GET /api/auth/me "" -b "$jar")
	assert_equal "$(status_of "$out")" 200
	csrf=$(body_of "$out" | jq -r .csrf_token)
	[ ${#csrf} -eq 64 ]
	# A bearer session is not told the token: it needs none.
	login admin admin-pass-1
	assert_equal "$(body_of "$(tcp GET /api/auth/me "" -H "Authorization: Bearer $TOKEN")" | jq -r .csrf_token)" null
	assert_equal "$(status_of "$(tcp POST /api/auth/logout "" -b "$jar" -H "X-CSRF-Token: $csrf")")" 204
	# The dead cookie neither locks the page out nor the next login.
	run curl -s -i -H "Cookie: horcrux_session=$cookie" "$URL/"
	assert_line --regexp '^HTTP/1.1 200'
	assert_line --regexp '^set-cookie: horcrux_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0'
	out=$(tcp POST /api/auth/login '{"username":"admin","password":"admin-pass-1"}' -H "Cookie: horcrux_session=$cookie")
	assert_equal "$(status_of "$out")" 200
}
