#!/usr/bin/env bats
# The oidc realm (DESIGN §11) against a real OpenID provider: npm's
# oidc-provider run by node from tests/tools/oidc-provider.mjs over HTTPS
# with a CA made here (oidc_ca_file), its client registered with this
# daemon's redirect URI. Its accounts: alice (groups hx-admins ->
# Administrator), bob (hx-viewers -> Auditor), carol (no mapped group).
#
# The start redirect carries PKCE S256, state and nonce; a sign-in driven
# without a browser (tests/tools/oidc-login.py follows the redirects and
# fills the provider's form) ends in the same session cookie and CSRF
# token as a password login, the user made in realm oidc with the roles
# the claim maps to, and the same audit lines. Then every refusal, each
# with its message and status: wrong, reused or expired state, a replayed
# code, the provider's error parameter, no mapped role, and ID tokens the
# provider's test hook breaks (wrong aud, expired, unknown kid (the key
# set fetched again once, then rate-limited), alg none, another key's
# signature, wrong nonce).
#
# In headless Chromium (DevTools protocol): the sign-in form lists the
# realms and a "Sign in with Corp" link; clicking it, signing in at the
# provider's form lands on the dashboard signed in as alice, whose page
# can then make a change (the CSRF token reached it).
#
# One provider, one daemon and one Chromium for the file.

load helpers/common
load helpers/api
load helpers/browser
load helpers/oidc

setup_file() {
	local spki
	oidc_provider_start --no-wait || return 1
	# Chromium trusts the provider's key alone, not the test CA at large.
	spki=$(openssl x509 -in "$BATS_FILE_TMPDIR/idp.pem" -pubkey -noout |
	    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
	    base64)
	export HX_CHROMIUM_FLAGS="--ignore-certificate-errors-spki-list=$spki"
	browser_start_file -c "$OIDC_CONF" && oidc_provider_wait
}

teardown_file() {
	browser_stop_file
	oidc_provider_stop
}

# start: GET /api/auth/oidc/start's headers in $start, its Location in $loc.
start() {
	start=$(curl -s -D - -o /dev/null "$URL/api/auth/oidc/start")
	loc=$(sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' <<<"$start")
}

# param URL NAME: NAME's value in URL's query (percent-decoded).
param() {
	"$PY" -c 'import sys, urllib.parse as u
print(u.parse_qs(u.urlsplit(sys.argv[1]).query).get(sys.argv[2], [""])[0])' "$1" "$2"
}

# sign_in USER: the whole flow; the callback's answer in $output (status,
# Set-Cookie lines, page), $status the driver's.
sign_in() {
	run $OIDC_LOGIN --ca "$CA" --user "$1" --callback "$URL/api/auth/oidc/start"
}

# get URL: GET URL; the status on the first line, then the body.
get() {
	local b
	b=$(curl -s -w '\n%{http_code}' "$1")
	tail -1 <<<"$b"
	sed '$d' <<<"$b"
}

# break_next MODE: the provider's next ID token is broken that way.
break_next() {
	run curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -d "$1" "$IDP/__test/next"
	assert_output 204
}

@test "start: 302 to the provider with PKCE S256, state, nonce; every start its own" {
	start
	assert_equal "$(head -1 <<<"$start" | cut -d' ' -f2)" 302
	[[ "$loc" == "$IDP/auth?"* ]]
	assert_equal "$(param "$loc" response_type)" code
	assert_equal "$(param "$loc" client_id)" horcrux
	assert_equal "$(param "$loc" redirect_uri)" "$URL/api/auth/oidc/callback"
	assert_equal "$(param "$loc" scope)" "openid profile email groups"
	assert_equal "$(param "$loc" code_challenge_method)" S256
	[[ "$(param "$loc" code_challenge)" =~ ^[A-Za-z0-9_-]{43}$ ]]
	[[ "$(param "$loc" state)" =~ ^[A-Za-z0-9_-]{43}$ ]]
	[[ "$(param "$loc" nonce)" =~ ^[A-Za-z0-9_-]{22}$ ]]
	first=$loc
	start
	[ "$(param "$loc" state)" != "$(param "$first" state)" ]
	[ "$(param "$loc" nonce)" != "$(param "$first" nonce)" ]
	[ "$(param "$loc" code_challenge)" != "$(param "$first" code_challenge)" ]
	grep -q "oidc realm 'oidc': provider $IDP discovered, 1 signing key" "$HXD_LOG"
}

@test "alice signs in: session cookie and CSRF token, user alice@oidc with Administrator, audited" {
	sign_in alice
	assert_success
	assert_line --index 1 200
	cookie=$(sed -n 's/^Set-Cookie: \(horcrux_session=[^;]*\);.*/\1/p' <<<"$output")
	[ -n "$cookie" ]
	assert_output --partial 'HttpOnly; SameSite=Strict'
	csrf=$(grep -o 'data-csrf-token="[0-9a-f]*"' <<<"$output" | cut -d'"' -f2)
	[[ "$csrf" =~ ^[0-9a-f]{64}$ ]]
	assert_output --partial 'Signed in as alice@oidc.'
	assert_output --partial '<script type="module" src="/js/oidc-done.js">'
	# The cookie is a session like a password login's: me, CSRF, roles.
	out=$(tcp GET /api/auth/me "" -H "Cookie: $cookie")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -r '.username + " " + .userid + " " + .auth')" \
	    "alice alice@oidc session"
	assert_equal "$(body_of "$out" | jq -r .csrf_token)" "$csrf"
	assert_equal "$(body_of "$out" | jq -c .roles)" '["Administrator"]'
	out=$(tcp POST /api/auth/renew "" -H "Cookie: $cookie")
	assert_equal "$(status_of "$out")" 403
	out=$(tcp POST /api/auth/renew "" -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf")
	assert_equal "$(status_of "$out")" 200
	user=$(must 200 GET /api/users/alice)
	assert_equal "$(jq -r '.realm + " " + .email' <<<"$user")" "oidc alice@corp.test"
	out=$(must 200 GET '/api/audit?user=alice&action=login')
	assert_equal "$(jq -r '.[0] | .actor + " " + .target + " " + .detail' <<<"$out")" \
	    "alice@oidc alice@oidc oidc"
}

@test "bob's hx-viewers maps to Auditor; carol, with no mapped group, is refused (403) and audited" {
	sign_in bob
	assert_line --index 1 200
	assert_equal "$(must 200 GET /api/users/bob | jq -c .roles)" '["Auditor"]'
	sign_in carol
	assert_line --index 1 403
	refute_output --partial Set-Cookie
	assert_output --partial "carol@oidc has no role here: no value of the &#39;groups&#39; claim is in oidc_role_map"
	run sock GET /api/users/carol
	assert_line --index 1 404
	out=$(must 200 GET '/api/audit?action=login.failed')
	assert_equal "$(jq -r '[.[] | select(.actor == "carol@oidc")] | length' <<<"$out")" 1
}

@test "wrong, reused state: 400; a replayed code under a fresh state: 400 from the provider" {
	run get "$URL/api/auth/oidc/callback?state=not-a-state&code=abc"
	assert_line --index 0 400
	assert_output --partial 'unknown, used or expired sign-in state: start again'
	run get "$URL/api/auth/oidc/callback?code=abc"
	assert_line --index 0 400
	run $OIDC_LOGIN --ca "$CA" --user alice "$URL/api/auth/oidc/start"
	assert_success
	cb=$output
	run get "$cb"
	assert_line --index 0 200
	# The same callback again: its state is spent.
	run get "$cb"
	assert_line --index 0 400
	assert_output --partial 'unknown, used or expired sign-in state'
	# The spent code under a state of a new start: the provider refuses.
	start
	run get \
	    "$URL/api/auth/oidc/callback?state=$(param "$loc" state)&code=$(param "$cb" code)"
	assert_line --index 0 400
	assert_output --partial 'the identity provider refused the sign-in code: invalid_grant'
}

@test "the provider's error parameter: 400 with what it said" {
	start
	run get \
	    "$URL/api/auth/oidc/callback?state=$(param "$loc" state)&error=access_denied&error_description=the%20user%20said%20no"
	assert_line --index 0 400
	assert_output --partial 'the identity provider did not sign you in: access_denied (the user said no)'
	# The state is spent by the error too.
	run get "$URL/api/auth/oidc/callback?state=$(param "$loc" state)&code=x"
	assert_output --partial 'unknown, used or expired sign-in state'
}

@test "broken ID tokens are refused with 502 and why: aud, exp, alg none, another key, nonce" {
	local mode msg before
	unknown_failures() {
		must 200 GET '/api/audit?action=login.failed&limit=1000' |
		    jq '[.[] | select(.actor == "(unknown)@oidc")] | length'
	}
	before=$(unknown_failures)
	while IFS='|' read -r mode msg; do
		break_next "$mode"
		sign_in alice
		assert_line --index 1 502
		assert_output --partial "$msg"
		refute_output --partial Set-Cookie
	done <<-EOF
		wrong-aud|ID token audience does not include &#39;horcrux&#39;
		expired|ID token has expired
		alg-none|ID token algorithm &#39;none&#39; is not accepted (RS256 or ES256 only)
		other-key|ID token signature does not verify
		wrong-nonce|ID token nonce does not match
	EOF
	# One audit line each, with why.
	assert_equal "$(unknown_failures)" "$((before + 5))"
}

@test "an unknown kid: the key set is fetched again once, then rate-limited; refused either way" {
	break_next unknown-kid
	sign_in alice
	assert_line --index 1 502
	assert_output --partial "ID token key &#39;rotated-away&#39; is not in the issuer&#39;s key set"
	assert_equal "$(grep -c 'unknown key: fetching the key set again' "$HXD_LOG")" 1
	break_next unknown-kid
	sign_in alice
	assert_line --index 1 502
	assert_equal "$(grep -c 'unknown key: fetching the key set again' "$HXD_LOG")" 1
}

@test "browser: Sign in with Corp, sign in at the provider, land signed in on the dashboard" {
	browser_fresh
	run cdp navigate "$URL/"
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'signin' &&
	    !document.getElementById('su-sso').hidden"
	js "document.querySelector('#su-sso a').textContent + '|' +
	    document.querySelector('#su-sso a').getAttribute('href')"
	assert_output "Sign in with Corp|/api/auth/oidc/start"
	js "Array.from(document.getElementById('su-realm').options).map(o => o.value).join(',')"
	refute_output --partial oidc
	js "document.querySelector('#su-sso a').click(); true"
	# The provider's own sign-in form, on its own origin.
	js_wait "location.origin === '$IDP' &&
	    document.querySelector('input[name=login]') !== null"
	js "document.querySelector('input[name=login]').focus(); true"
	run cdp type bob
	assert_success
	run cdp key Tab
	assert_success
	run cdp type any-password
	assert_success
	run cdp key Enter
	assert_success
	js_wait "location.origin === '$URL' && location.pathname === '/' &&
	    document.getElementById('conn') !== null &&
	    document.getElementById('conn').dataset.state === 'connected' &&
	    document.getElementById('account-name').textContent === 'bob'"
	# The page holds the session's CSRF token: a change goes through.
	js "fetch('/api/auth/renew', {method: 'POST', headers:
	    {'X-CSRF-Token': JSON.parse(sessionStorage.getItem('horcrux.session')).csrf_token}})
	    .then(r => r.status)"
	assert_output 200
}

@test "a password login in the oidc realm, by REST or horcrux-cli, is told to use the browser" {
	run -0 curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' \
		-d '{"username":"alice","password":"x","realm":"oidc"}' "$URL/api/auth/login"
	assert_line --index 1 422
	assert_equal "$(head -1 <<<"$output" | jq -r .message)" \
		"realm 'oidc' signs in through the browser: GET /api/auth/oidc/start"
	run -0 curl -s "$URL/api/auth/realms"
	assert_equal "$(jq -c '.realms[] | select(.type == "oidc")' <<<"$output")" \
		'{"name":"oidc","type":"oidc","display":"Sign in with Corp"}'
	export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config
	mkdir -p "$HOME"
	unset HORCRUX_API_KEY HORCRUX_TOKEN
	run -1 --separate-stderr env HORCRUX_SERVER="$URL" "$HX_BUILD/horcrux-cli" \
		login alice --realm oidc --password-stdin <<<"x"
	assert_equal "$stderr" "horcrux-cli: realm 'oidc' signs in through a web browser, not with a password: open the dashboard and choose it there (GET /api/auth/oidc/start)"
}

@test "configuration: a bad oidc key stops the start with one line naming it" {
	local d=$BATS_TEST_TMPDIR base
	base=(-f --listen "127.0.0.1:$(free_port)" --socket "$d/s.sock"
	    --data-dir "$d/data" --libvirt-uri test:///default)
	run --separate-stderr "$HXD" "${base[@]}" --oidc-issuer http://idp.example
	assert_equal "$status" 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --oidc-issuer: 'http://idp.example' is not an https:// URL"
	run --separate-stderr "$HXD" "${base[@]}" --oidc-issuer "$IDP"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: oidc_client_id is required when oidc_issuer is set"
	run --separate-stderr "$HXD" "${base[@]}" -c "$OIDC_CONF" \
	    --oidc-client-secret-file "$d/missing"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: oidc_client_secret_file: cannot read '$d/missing': No such file or directory"
	run --separate-stderr "$HXD" "${base[@]}" -c "$OIDC_CONF" \
	    --oidc-role-map "hx-admins=Administrator;nonsense"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: oidc_role_map: 'nonsense' is not VALUE=ROLE"
}

@test "a provider that cannot be reached: 503 with a log line, then at once for 10 s" {
	local d=$BATS_TEST_TMPDIR port dead out t0
	port=$(free_port)
	dead=$(free_port)
	sed "s|^oidc_issuer = .*|oidc_issuer = https://localhost:$dead|" "$OIDC_CONF" >"$d/dead.conf"
	"$HXD" -f --listen "127.0.0.1:$port" --socket "$d/s.sock" \
	    --data-dir "$d/data" --web-root "$HX_REPO/share/web" \
	    --libvirt-uri test:///default -c "$d/dead.conf" >"$d/log" 2>&1 3>&- &
	local pid=$!
	browser_await "$pid" horcruxd curl -fsS "http://127.0.0.1:$port/api/health"
	run get "http://127.0.0.1:$port/api/auth/oidc/start"
	assert_line --index 0 503
	assert_output --partial 'the identity provider cannot be reached; try again later'
	grep -q "oidc realm 'oidc': cannot discover the provider at https://localhost:$dead/.well-known/openid-configuration" "$d/log"
	run get "http://127.0.0.1:$port/api/auth/oidc/start"
	assert_line --index 0 503
	grep -q "oidc realm 'oidc': the provider failed [0-9]* s ago; not asked again before 10 s" "$d/log"
	browser_stop_pid "$pid"
	assert_equal "$STOP_RC" 0
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$d/log"
}
