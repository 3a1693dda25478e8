# The test OpenID provider (tests/tools/oidc-provider.mjs: npm's
# oidc-provider under node, over HTTPS) for the files that need an oidc
# realm user. Load it after helpers/common.
#
#   oidc_provider_start [--no-wait]   before the daemon: chooses the daemon's port
#       (HX_PORT, which start_daemon and browser_start_file then use),
#       makes a CA and a localhost certificate in $BATS_FILE_TMPDIR and the
#       client secret file, starts the provider on a free port with
#       redirect URI http://127.0.0.1:HX_PORT/api/auth/oidc/callback and
#       waits until it listens. Exports IDP, IDP_PORT, CA (the root to
#       trust), HX_PORT and OIDC_CONF, a horcrux.conf with the daemon's
#       oidc keys for it (-c "$OIDC_CONF"; groups hx-admins ->
#       Administrator, hx-viewers -> Auditor, button "Sign in with Corp").
#       With --no-wait it returns at once: oidc_provider_wait later (node
#       starts while the caller starts other things).
#   oidc_provider_stop                stop it (by its pid)
#   oidc_session USER                 sign USER in without a browser
#       (tests/tools/oidc-login.py) and print the session cookie's value.

OIDC_LOGIN="$PY $HX_REPO/tests/tools/oidc-login.py"

oidc_provider_start() {
	local d=$BATS_FILE_TMPDIR
	# P-256 keys: made in milliseconds, where RSA takes half a second.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/idp-root.key" \
	    -out "$d/idp-root.pem" -days 2 -subj "/CN=Horcrux OIDC Test Root" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/idp.key" \
	    -out "$d/idp.csr" -subj /CN=localhost 2>/dev/null || return 1
	printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/idp.ext"
	openssl x509 -req -in "$d/idp.csr" -CA "$d/idp-root.pem" \
	    -CAkey "$d/idp-root.key" -CAcreateserial -days 2 \
	    -extfile "$d/idp.ext" -out "$d/idp.pem" 2>/dev/null || return 1
	echo "idp-client-s3cret-Qe5" >"$d/idp-client-secret"
	IDP_PORT=$(free_port)
	HX_PORT=${HX_PORT:-$(free_port)}
	IDP=https://localhost:$IDP_PORT
	CA=$d/idp-root.pem
	OIDC_CONF=$d/oidc.conf
	cat >"$OIDC_CONF" <<-CONF
		oidc_issuer = $IDP
		oidc_client_id = horcrux
		oidc_client_secret_file = $d/idp-client-secret
		oidc_ca_file = $CA
		oidc_redirect_uri = http://127.0.0.1:$HX_PORT/api/auth/oidc/callback
		oidc_scopes = openid profile email groups
		oidc_role_map = hx-admins=Administrator;hx-viewers=Auditor
		oidc_display = Sign in with Corp
	CONF
	export IDP IDP_PORT CA HX_PORT OIDC_CONF
	node "$HX_REPO/tests/tools/oidc-provider.mjs" --port "$IDP_PORT" \
	    --cert "$d/idp.pem" --key "$d/idp.key" \
	    --redirect-uri "http://127.0.0.1:$HX_PORT/api/auth/oidc/callback" \
	    --client-secret-file "$d/idp-client-secret" >"$d/idp.log" 2>&1 3>&- &
	echo $! >"$d/idp.pid"
	[ "${1:-}" = --no-wait ] || oidc_provider_wait
}

oidc_provider_wait() {
	local d=$BATS_FILE_TMPDIR i
	for i in $(seq 1 200); do
		grep -q '^listening' "$d/idp.log" && return 0
		kill -0 "$(cat "$d/idp.pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "the OpenID provider did not start:" >&2
	cat "$d/idp.log" >&2
	return 1
}

oidc_provider_stop() {
	[ -f "$BATS_FILE_TMPDIR/idp.pid" ] || return 0
	kill_clients "$(cat "$BATS_FILE_TMPDIR/idp.pid")"
	rm -f "$BATS_FILE_TMPDIR/idp.pid"
}

oidc_session() {
	local out
	out=$($OIDC_LOGIN --ca "$CA" --user "$1" --callback \
	    "$URL/api/auth/oidc/start") || return 1
	sed -n 's/^Set-Cookie: horcrux_session=\([^;]*\);.*/\1/p' <<<"$out" | grep .
}
