#!/usr/bin/env bats
# Credential attacks: forged, altered, stale and malformed session tokens
# and API keys all get 401 on GET /api/auth/me (DESIGN §5: HS256 pinned,
# exp checked, the jti must be a live session of that very user; keys are
# looked up by id and their secret compared).
#
# Tokens are forged by tests/tools/forge-jwt.py, independent of the
# daemon's JWT code. Each forgery starts from the claims of a real, live
# session and changes one thing, and the control test shows the unchanged
# forgery is accepted: no attack can pass only because the forgery is
# broken in some other way.
#
# The other user is a directory user (the LDAP realm against a real
# slapd, helpers/slapd.bash): a session of realm ldap is attacked the same
# way and never stands in for the local one, nor the local one for it. An
# oidc realm user's session (bob@oidc, signed in at the test OpenID
# provider, helpers/oidc.bash; tests/0455 has the realm itself) is
# attacked the same way too.

load helpers/common
load helpers/authz
load helpers/slapd
load helpers/oidc

setup_file() {
	slapd_start "$BATS_FILE_TMPDIR/slapd" || return 1
	export SLAPD_PID
	oidc_provider_start --no-wait || return 1
	# shellcheck disable=SC2046
	authz_start_daemon --ldap-group-role-map "cn=ops,ou=groups,$LDAP_BASE=VmUser" \
		$(ldap_realm_args) -c "$OIDC_CONF" && oidc_provider_wait || return 1
	mkuser u-tok '["VmUser"]' || return 1
	# ben: a user of realm ldap, made by this first login.
	TOKEN=$(login u-tok) && OTHER_TOKEN=$(login ben ben-dir-pass) || return 1
	KEY=$(mkkey u-tok '{"name":"k"}') || return 1
	OIDC_TOKEN=$(oidc_session bob) || return 1
	export OIDC_TOKEN
	# The daemon's signing secret: 32 raw bytes, 0600, we run as root.
	JWT_KEY=$DDIR/data/jwt.key
	CLAIMS=$($FORGE claims "$TOKEN") || return 1
	export TOKEN OTHER_TOKEN KEY JWT_KEY CLAIMS
}

teardown_file() {
	stop_daemon
	slapd_stop
	oidc_provider_stop
}

# me [CURL ARGS...]: the status of GET /api/auth/me with those headers.
me() {
	code "$@" "$URL/api/auth/me"
}

# claims JQ: the live session's claims changed by the jq filter JQ.
claims() {
	jq -c "$1" <<<"$CLAIMS"
}

# refused TOKEN: assert that TOKEN, as a bearer token, gets 401.
refused() {
	run me -H "Authorization: Bearer $1"
	assert_output 401
}

@test "control: the real token, an honest forgery of it and the key all work" {
	local now
	now=$(date +%s)
	run me -H "Authorization: Bearer $TOKEN"
	assert_output 200
	# Same claims, signed by the test with the daemon's secret.
	run $FORGE sign --key-file "$JWT_KEY" "$CLAIMS"
	assert_success
	run me -H "Authorization: Bearer $output"
	assert_output 200
	# Fresh times, still accepted: the expired case below differs in exp.
	run $FORGE sign --key-file "$JWT_KEY" \
	    "$(claims ".iat = $now | .exp = $((now + 600))")"
	assert_success
	run me -H "Authorization: Bearer $output"
	assert_output 200
	run me -H "X-API-Key: $KEY"
	assert_output 200
	run me -H "Authorization: Bearer $KEY"
	assert_output 200
	run curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/auth/me"
	assert_equal "$(jq -r .username <<<"$output")" u-tok
}

@test "alg none without a signature is refused" {
	local t
	t=$($FORGE sign --alg none "$CLAIMS")
	[[ $t == *. ]]
	refused "$t"
	refused "${t%.}"
}

@test "alg none carrying a valid HS256 signature is refused" {
	# The signature checks out under our secret; only the header's alg
	# is wrong. A verifier that trusts the header, or checks the MAC and
	# then lets libjwt decode "none", would let it in.
	local t
	t=$($FORGE sign --alg HS256 --header-alg none --key-file "$JWT_KEY" \
	    "$CLAIMS")
	refused "$t"
	t=$($FORGE sign --alg HS256 --header-alg hs256 --key-file "$JWT_KEY" \
	    "$CLAIMS")
	refused "$t"
}

@test "HS512 signed with the daemon's own secret is refused" {
	refused "$($FORGE sign --alg HS512 --key-file "$JWT_KEY" "$CLAIMS")"
	# Header HS256, but the MAC is HS512's: the wrong length.
	refused "$($FORGE sign --alg HS512 --header-alg HS256 \
	    --key-file "$JWT_KEY" "$CLAIMS")"
}

@test "HS256 signed with a different key is refused" {
	local other
	other=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	refused "$($FORGE sign --key-hex "$other" "$CLAIMS")"
	# Our secret with one bit flipped.
	other=$(od -An -tx1 -v "$JWT_KEY" | tr -d ' \n')
	other=$(printf '%02x' $((0x${other:0:2} ^ 1)))${other:2}
	refused "$($FORGE sign --key-hex "$other" "$CLAIMS")"
}

@test "HS256 signed with an empty key is refused" {
	refused "$($FORGE sign --key-hex '' "$CLAIMS")"
}

@test "a correctly signed token that has expired is refused" {
	local now
	now=$(date +%s)
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims ".iat = $((now - 7200)) | .exp = $((now - 60))")")"
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims ".iat = $((now - 10)) | .exp = $now")")"
}

@test "a correctly signed token without exp is refused" {
	refused "$($FORGE sign --key-file "$JWT_KEY" "$(claims 'del(.exp)')")"
}

@test "a correctly signed token whose exp is a string is refused" {
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims '.exp = (.exp | tostring)')")"
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims '.exp = "9999999999"')")"
}

@test "a correctly signed token whose jti is no session is refused" {
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims '.jti = "00112233445566778899aabbccddeeff"')")"
}

@test "a tampered payload under the original signature is refused" {
	local exp
	exp=$(jq .exp <<<"$CLAIMS")
	refused "$($FORGE tamper "$TOKEN" "{\"exp\":$((exp + 3600))}")"
	refused "$($FORGE tamper "$TOKEN" '{"sub":"ben"}')"
	# Changing nothing keeps it valid: the tamper tool is not the cause.
	run me -H "Authorization: Bearer $($FORGE tamper "$TOKEN" '{}')"
	assert_output 200
}

@test "a live session's jti under a different sub is refused" {
	local other_jti
	# ben (realm ldap) exists and has a live session of its own.
	run me -H "Authorization: Bearer $OTHER_TOKEN"
	assert_output 200
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims '.sub = "ben"')")"
	# And ben's jti under u-tok's name.
	other_jti=$($FORGE claims "$OTHER_TOKEN" | jq -r .jti)
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims ".jti = \"$other_jti\"")")"
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims '.sub = "root@local"')")"
	# A realm in the name makes no other user of it.
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims '.sub = "u-tok@ldap"')")"
}

@test "a session token after logout is refused" {
	local t
	t=$(login u-tok)
	run me -H "Authorization: Bearer $t"
	assert_output 200
	run code -X POST -H "Authorization: Bearer $t" "$URL/api/auth/logout"
	assert_output 204
	refused "$t"
	# As the cookie too.
	run me -b "horcrux_session=$t"
	assert_output 401
	# The other session of the same user lives on.
	run me -H "Authorization: Bearer $TOKEN"
	assert_output 200
}

@test "the API key of a deleted user is refused" {
	local k
	mkuser u-doomed '["VmUser"]'
	k=$(mkkey u-doomed '{"name":"doomed"}')
	run me -H "X-API-Key: $k"
	assert_output 200
	must 204 DELETE /api/users/u-doomed >/dev/null
	run me -H "X-API-Key: $k"
	assert_output 401
	refused "$k"
	# A new user of the same name does not inherit the key.
	mkuser u-doomed '["VmUser"]'
	run me -H "X-API-Key: $k"
	assert_output 401
}

# flip_char TEXT I: TEXT with its I-th character replaced by another
# base64url character.
flip_char() {
	local c=${1:$2:1} n=A
	[ "$c" != A ] || n=B
	printf '%s' "${1:0:$2}$n${1:$(($2 + 1))}"
}

@test "an API key with one secret character changed is refused" {
	local bad
	# hx_ + 16 hex of key id + _ + 43 of secret: change the 10th of it.
	bad=$(flip_char "$KEY" $((3 + 16 + 1 + 10)))
	[ "$bad" != "$KEY" ]
	[ "${#bad}" -eq "${#KEY}" ]
	run me -H "X-API-Key: $bad"
	assert_output 401
	refused "$bad"
	# The first secret character too (a prefix compare would miss it).
	bad=$(flip_char "$KEY" $((3 + 16 + 1)))
	refused "$bad"
}

@test "an API key with an unknown key id is refused" {
	local id=${KEY:3:16} other
	other=1${id:1}
	[ "${id:0:1}" != 1 ] || other=0${id:1}
	run me -H "X-API-Key: hx_${other}${KEY:19}"
	assert_output 401
	refused "hx_${other}${KEY:19}"
}

@test "Authorization: Basic is refused, even with the right password" {
	run me -H "Authorization: Basic $(printf 'u-tok:pw-u-tok-123' | base64)"
	assert_output 401
	run me -u u-tok:pw-u-tok-123
	assert_output 401
}

@test "an empty Bearer is refused" {
	run me -H "Authorization: Bearer "
	assert_output 401
	run me -H "Authorization: Bearer"
	assert_output 401
	run me -H "X-API-Key;"
	assert_output 401
}

@test "a correctly signed token issued in the future is refused" {
	local now
	now=$(date +%s)
	refused "$($FORGE sign --key-file "$JWT_KEY" \
	    "$(claims ".iat = $((now + 3600)) | .exp = $((now + 7200))")")"
}

@test "a disabled user's session and key are refused" {
	local t k
	mkuser u-off '["VmUser"]'
	t=$(login u-off)
	k=$(mkkey u-off '{"name":"off"}')
	run me -H "Authorization: Bearer $t"
	assert_output 200
	must 200 PATCH /api/users/u-off '{"enabled":false}' >/dev/null
	refused "$t"
	run me -H "X-API-Key: $k"
	assert_output 401
}

@test "a wrong credential is never passed over for another one" {
	# DESIGN §5 order: key, bearer, cookie, local trust. A present but
	# wrong one is a 401 even when a later one would do.
	run me -H "X-API-Key: hx_0000000000000000_$(printf 'A%.0s' {1..43})" \
	    -H "Authorization: Bearer $TOKEN"
	assert_output 401
	run me -H "Authorization: Bearer $($FORGE sign --alg none "$CLAIMS")" \
	    -b "horcrux_session=$TOKEN"
	assert_output 401
	run me -b "horcrux_session=$($FORGE tamper "$TOKEN" '{"sub":"ben"}')"
	assert_output 401
	# Over the Unix socket as root, too: no fall-back to local trust.
	run code --unix-socket "$SOCK" \
	    -H "Authorization: Bearer $($FORGE sign --alg none "$CLAIMS")" \
	    http://localhost/api/auth/me
	assert_output 401
	run code --unix-socket "$SOCK" http://localhost/api/auth/me
	assert_output 200
}

@test "the WebSocket upgrade checks tokens and keys the same way" {
	local ws=(--url "ws://127.0.0.1:$PORT/api/ws" --timeout 5
	    --until Subscribed --send '{"topics":["notifications"]}')
	run "$WSC" "${ws[@]}" --header "Authorization: Bearer $TOKEN"
	assert_success
	run "$WSC" "${ws[@]}" --header \
	    "Authorization: Bearer $($FORGE sign --alg none "$CLAIMS")"
	assert_equal "$status" 5
	assert_equal "$(jq -r .status <<<"$output")" 401
	run "$WSC" "${ws[@]}" --header "Authorization: Bearer $($FORGE sign \
	    --key-file "$JWT_KEY" "$(claims '.sub = "ben"')")"
	assert_equal "$status" 5
	assert_equal "$(jq -r .status <<<"$output")" 401
	run "$WSC" "${ws[@]}" --header "X-API-Key: $(flip_char "$KEY" 25)"
	assert_equal "$status" 5
	assert_equal "$(jq -r .status <<<"$output")" 401
}

@test "an oidc realm session: works as cookie and bearer; forged, tampered, after logout refused" {
	local c
	run me -b "horcrux_session=$OIDC_TOKEN"
	assert_output 200
	run me -H "Authorization: Bearer $OIDC_TOKEN"
	assert_output 200
	c=$($FORGE claims "$OIDC_TOKEN")
	assert_equal "$(jq -r .sub <<<"$c")" bob
	# Control: the honest forgery of it is accepted.
	run me -H "Authorization: Bearer $($FORGE sign --key-file "$JWT_KEY" "$c")"
	assert_output 200
	# Its jti under another user, signed with the daemon's own secret.
	refused "$($FORGE sign --key-file "$JWT_KEY" "$(jq -c '.sub = "u-tok"' <<<"$c")")"
	refused "$($FORGE sign --alg none "$c")"
	refused "$($FORGE tamper "$OIDC_TOKEN" '{"sub":"u-tok"}')"
	run code -X POST -H "Authorization: Bearer $OIDC_TOKEN" "$URL/api/auth/logout"
	assert_output 204
	refused "$OIDC_TOKEN"
	run me -b "horcrux_session=$OIDC_TOKEN"
	assert_output 401
}

@test "the attacks did not disturb the live session" {
	run me -H "Authorization: Bearer $TOKEN"
	assert_output 200
}
