#!/usr/bin/env bats
# Native TLS on the TCP listener (DESIGN §12): tls_cert (the server
# certificate, then its intermediate) and tls_key. A root CA, an
# intermediate and the server certificate are made with the openssl CLI
# once for the file; clients trust the root only, so every verified
# connection below also proves the chain is served. One TLS daemon for the
# file, on the demo node; the start-up error tests run horcruxd to its exit.
#
# The daemon runs with an OpenSSL configuration that allows TLS 1.0 and
# security level 0 (tls/weak.cnf): Debian's own policy already refuses
# TLS 1.1, and the test must show that horcruxd's minimum holds on a
# system whose policy does not.

load helpers/common
load helpers/api

NODE="test://$HX_REPO/share/demo-node.xml"
TOP=$HX_BUILD/horcrux-top
CLI=$HX_BUILD/horcrux-cli

# pki_make DIR: root CA, intermediate, server certificate for localhost
# and 127.0.0.1, its chain file, and the bad material for the error tests.
pki_make() {
	local d=$1
	mkdir -p "$d" && cd "$d" || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem \
		-days 30 -subj "/CN=Horcrux Test Root" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || return 1
	openssl req -newkey rsa:2048 -nodes -keyout int.key -out int.csr \
		-subj "/CN=Horcrux Test Intermediate" 2>/dev/null || return 1
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
	openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial \
		-days 30 -extfile int.ext -out int.pem 2>/dev/null || return 1
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
		-subj /CN=localhost 2>/dev/null || return 1
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
	openssl x509 -req -in server.csr -CA int.pem -CAkey int.key -CAcreateserial \
		-days 30 -extfile server.ext -out server.pem 2>/dev/null || return 1
	cat server.pem int.pem >chain.pem
	# Another key (the mismatch), garbage, and dated certificates signed
	# by `openssl ca`, which takes explicit start and end dates.
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key 2>/dev/null || return 1
	printf 'this is not PEM\n' >garbage.pem
	mkdir -p ca.db && : >ca.db/index.txt && echo 1000 >ca.db/serial
	cat >ca.cnf <<-EOF
		[ca]
		default_ca = d
		[d]
		database = $d/ca.db/index.txt
		serial = $d/ca.db/serial
		new_certs_dir = $d/ca.db
		default_md = sha256
		policy = p
		unique_subject = no
		[p]
		commonName = supplied
	EOF
	openssl ca -batch -config ca.cnf -cert int.pem -keyfile int.key -in server.csr \
		-startdate 20200101000000Z -enddate 20200102000000Z -notext \
		-out expired.pem 2>/dev/null || return 1
	openssl ca -batch -config ca.cnf -cert int.pem -keyfile int.key -in server.csr \
		-startdate 20991231000000Z -enddate 21000101000000Z -notext \
		-out future.pem 2>/dev/null || return 1
	cat >weak.cnf <<-'EOF'
		openssl_conf = init
		[init]
		ssl_conf = ssl
		[ssl]
		system_default = sys
		[sys]
		MinProtocol = TLSv1
		CipherString = DEFAULT:@SECLEVEL=0
	EOF
}

setup_file() {
	PKI=$BATS_FILE_TMPDIR/pki
	pki_make "$PKI" || return 1
	cd "$BATS_FILE_TMPDIR" || return 1
	DDIR=$BATS_FILE_TMPDIR/hx
	mkdir -p "$DDIR"
	PORT=$(free_port)
	SOCK=$DDIR/s.sock
	HXD_LOG=$DDIR/horcruxd.log
	URL=https://localhost:$PORT
	OPENSSL_CONF=$PKI/weak.cnf "$HXD" -f --listen "127.0.0.1:$PORT" --socket "$SOCK" \
		--data-dir "$DDIR/data" --web-root "$HX_REPO/share/web" \
		--libvirt-uri "$NODE" --vm-interval 0.3 --node-interval 0.3 \
		--tls-cert "$PKI/chain.pem" --tls-key "$PKI/server.key" \
		--log-level info >"$HXD_LOG" 2>&1 3>&- &
	HXD_PID=$!
	export PKI DDIR PORT SOCK HXD_LOG URL HXD_PID
	local i
	for i in $(seq 1 200); do
		curl -sf -o /dev/null --cacert "$PKI/root.pem" "$URL/api/health" && break
		kill -0 "$HXD_PID" 2>/dev/null || { cat "$HXD_LOG" >&2; return 1; }
		sleep 0.05
	done
	curl -sf -o /dev/null --cacert "$PKI/root.pem" "$URL/api/health" || return 1
	out=$(sock POST /api/users '{"username":"admin","password":"admin-pass-1","roles":["Administrator"]}')
	[ "$(status_of "$out")" = 201 ] || { echo "$out" >&2; return 1; }
	out=$(sock POST /api/users/admin/api-keys '{"name":"tls"}')
	[ "$(status_of "$out")" = 201 ] || { echo "$out" >&2; return 1; }
	KEY=$(body_of "$out" | jq -er .token) || return 1
	export KEY
}

teardown_file() {
	stop_daemon
}

teardown() {
	# shellcheck disable=SC2086
	kill_clients ${BG_PIDS:-}
	BG_PIDS=
}

# https ARGS...: curl against the TLS listener, trusting the test root.
https() {
	curl -s --cacert "$PKI/root.pem" "$@"
}

# start_fails ARGS...: run horcruxd to its exit with ARGS on a fresh data
# directory and a free loopback port; stderr in $stderr.
start_fails() {
	local d=$BATS_TEST_TMPDIR/x
	mkdir -p "$d"
	run --separate-stderr "$HXD" -f --listen "127.0.0.1:$(free_port)" \
		--socket "$d/s.sock" --data-dir "$d/data" \
		--web-root "$HX_REPO/share/web" --libvirt-uri "$NODE" "$@"
}

@test "https with the CA: the chain verifies, HSTS on every reply, HTTP/1.1, the log says TLS" {
	run https -D - -o /dev/null "$URL/api/health"
	assert_success
	assert_line --index 0 --regexp '^HTTP/1.1 200'
	assert_line --regexp '^[Ss]trict-[Tt]ransport-[Ss]ecurity: max-age=31536000'$'\r''$'
	# A 401 of a route, lws's own refusal of an upgrade, a static file.
	for path in /api/users /api/ws /; do
		run https -D - -o /dev/null "$URL$path"
		assert_success
		assert_line --regexp '^[Ss]trict-[Tt]ransport-[Ss]ecurity: max-age=31536000'
	done
	# Offered h2 by ALPN, the server keeps to HTTP/1.1.
	run https --http2 -o /dev/null -w '%{http_version}' "$URL/api/health"
	assert_output 1.1
	# The Unix socket stays plain: no HSTS there.
	run curl -s -D - -o /dev/null --unix-socket "$SOCK" http://localhost/api/health
	assert_line --index 0 --regexp '^HTTP/1.1 200'
	refute_output --partial -i strict-transport
	grep -F "listening on 127.0.0.1:$PORT (TLS) and $SOCK" "$HXD_LOG"
	grep -F "TLS: serving '$PKI/chain.pem' (/CN=localhost, 1 more in the chain, valid until" "$HXD_LOG"
}

@test "a login over TLS sets a Secure cookie that then authenticates; our Origin is https://; over the socket no Secure" {
	run https -D - -o "$BATS_TEST_TMPDIR/body" -c "$BATS_TEST_TMPDIR/jar" \
		-H 'Content-Type: application/json' -X POST "$URL/api/auth/login" \
		-d '{"username":"admin","password":"admin-pass-1"}'
	assert_success
	assert_line --index 0 --regexp '^HTTP/1.1 200'
	assert_line --regexp '^set-cookie: [^;]+=[^;]+; HttpOnly; SameSite=Strict; Path=/; .*; Secure'$'\r''$'
	run https -o /dev/null -w '%{http_code}' -b "$BATS_TEST_TMPDIR/jar" "$URL/api/auth/me"
	assert_output 200
	# The page's own origin is https:// now: its login is ours, http:// is not.
	run https -o /dev/null -w '%{http_code}' -H "Origin: https://localhost:$PORT" \
		-H 'Content-Type: application/json' -X POST "$URL/api/auth/login" \
		-d '{"username":"admin","password":"admin-pass-1"}'
	assert_output 200
	run https -o /dev/null -w '%{http_code}' -H "Origin: http://localhost:$PORT" \
		-H 'Content-Type: application/json' -X POST "$URL/api/auth/login" \
		-d '{"username":"admin","password":"admin-pass-1"}'
	assert_output 403
	# The same login over the Unix socket (plain): the cookie is not Secure.
	run curl -s -D - -o /dev/null --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-X POST http://localhost/api/auth/login -d '{"username":"admin","password":"admin-pass-1"}'
	assert_line --regexp '^set-cookie: '
	refute_output --partial Secure
}

@test "without the CA the certificate does not verify; plain HTTP on the TLS port gets no answer; 140 such failures later it serves" {
	run curl -s -o /dev/null "$URL/api/health"
	assert_equal "$status" 60 # peer certificate cannot be authenticated
	run curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/api/health"
	assert_output 000
	[ "$status" -eq 52 ] || [ "$status" -eq 56 ] # empty reply / reset
	# More failed handshakes than max_connections_per_address (128) allows
	# at once from one address: the daemon still serves a good one.
	local i
	for i in $(seq 1 70); do
		curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/" || :
		curl -s -o /dev/null --max-time 5 "$URL/" || :
	done
	run https -o /dev/null -w '%{http_code}' "$URL/api/health"
	assert_output 200
}

@test "TLS 1.0 and 1.1 are refused even where OpenSSL's policy allows them; 1.2 and 1.3 work" {
	local v
	for v in tls1 tls1_1; do
		run env OPENSSL_CONF="$PKI/weak.cnf" openssl s_client -connect "127.0.0.1:$PORT" \
			-"$v" -CAfile "$PKI/root.pem" </dev/null
		assert_failure
		assert_output --partial 'alert protocol version'
	done
	for v in tls1_2 tls1_3; do
		run env OPENSSL_CONF="$PKI/weak.cnf" openssl s_client -connect "127.0.0.1:$PORT" \
			-"$v" -CAfile "$PKI/root.pem" -servername localhost -verify_return_error </dev/null
		assert_success
		assert_output --partial 'Verify return code: 0 (ok)'
	done
	run https --tls-max 1.1 -o /dev/null "$URL/api/health"
	assert_equal "$status" 35 # the handshake fails
	run https --tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' "$URL/api/health"
	assert_output 200
}

@test "horcrux-cli over https:// and horcrux-top over wss:// verify the CA" {
	HORCRUX_CA_FILE=$PKI/root.pem HORCRUX_API_KEY=$KEY \
		run --separate-stderr "$CLI" -c "$URL" -o json whoami
	assert_success
	assert_equal "$(jq -r .userid <<<"$output")" admin@local
	HORCRUX_CA_FILE=$PKI/root.pem HORCRUX_API_KEY=$KEY \
		run --separate-stderr "$TOP" -c "wss://localhost:$PORT" --json -n 1
	assert_success
	jq -e '(.vms | length) == 10 and (.node.cpu_usage | type) == "number"' <<<"$output"
	HORCRUX_CA_FILE=$PKI/root.pem HORCRUX_API_KEY=$KEY \
		run --separate-stderr "$TOP" -c "https://localhost:$PORT" -b -n 1
	assert_success
	assert_output --partial 'VMs 6 running / 10 total'
	# Without the CA (the system's store): refused, and why.
	HORCRUX_API_KEY=$KEY run --separate-stderr "$TOP" -c "wss://localhost:$PORT" -b -n 1
	assert_equal "$status" 1
	assert_equal "$stderr" "horcrux-top: TLS with 'wss://localhost:$PORT' failed: unable to get local issuer certificate"
}

@test "python3-websockets over wss:// with the CA: an API key, a cookie from our https:// Origin; without the CA refused" {
	run "$PY" - "$PORT" "$PKI/root.pem" "$KEY" <<'PY'
import asyncio, http.client, json, ssl, sys
import websockets
import websockets.exceptions

port, ca, key = sys.argv[1], sys.argv[2], sys.argv[3]

async def main():
    ctx = ssl.create_default_context(cafile=ca)
    async with websockets.connect("wss://localhost:%s/api/ws" % port, ssl=ctx,
                                  extra_headers={"X-API-Key": key}) as ws:
        print("tls", ws.transport.get_extra_info("ssl_object").version())
        await ws.send(json.dumps({"topics": ["node:metrics"]}))
        seen = []
        while "NodeMetrics" not in seen:
            m = json.loads(await asyncio.wait_for(ws.recv(), 10))
            t = m.get("type") or m.get("frame", {}).get("type")
            if t not in seen:
                seen.append(t)
        print(" ".join(t for t in seen if t in ("Subscribed", "NodeMetrics")))
    # The page's way in: a login's cookie, our https:// Origin.
    conn = http.client.HTTPSConnection("localhost", int(port), context=ctx)
    conn.request("POST", "/api/auth/login",
                 json.dumps({"username": "admin", "password": "admin-pass-1"}),
                 {"Content-Type": "application/json",
                  "Origin": "https://localhost:%s" % port})
    r = conn.getresponse()
    r.read()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    async with websockets.connect("wss://localhost:%s/api/ws" % port, ssl=ctx,
                                  origin="https://localhost:%s" % port,
                                  extra_headers={"Cookie": cookie}) as ws:
        m = json.loads(await asyncio.wait_for(ws.recv(), 10))
        print("cookie session", m.get("type") or m.get("frame", {}).get("type"))
    try:
        async with websockets.connect("wss://localhost:%s/api/ws" % port, ssl=ctx,
                                      origin="http://localhost:%s" % port,
                                      extra_headers={"Cookie": cookie}):
            print("connected from http://")
    except websockets.exceptions.InvalidStatusCode as e:
        print("http:// origin:", e.status_code)
    try:
        async with websockets.connect("wss://localhost:%s/api/ws" % port,
                                      ssl=ssl.create_default_context(),
                                      extra_headers={"X-API-Key": key}):
            print("connected without the CA")
    except ssl.SSLCertVerificationError as e:
        print("refused:", e.verify_message)

asyncio.run(main())
PY
	assert_success
	assert_line --index 0 --regexp '^tls TLSv1\.[23]$'
	assert_line --index 1 'Subscribed NodeMetrics'
	assert_line --index 2 --regexp '^cookie session [A-Za-z]+$'
	assert_line --index 3 'http:// origin: 403'
	assert_line --index 4 'refused: unable to get local issuer certificate'
}

@test "start-up: a missing, unreadable or garbage file is one line naming it, exit 1" {
	start_fails --tls-cert "$PKI/nope.pem" --tls-key "$PKI/server.key"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: cannot read TLS certificate '$PKI/nope.pem': No such file or directory"
	start_fails --tls-cert "$PKI/chain.pem" --tls-key "$PKI/nope.key"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: cannot read TLS key '$PKI/nope.key': No such file or directory"
	# Root reads a mode-000 file: a directory is what it cannot read.
	start_fails --tls-cert "$PKI/ca.db" --tls-key "$PKI/server.key"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: cannot read TLS certificate '$PKI/ca.db': Is a directory"
	start_fails --tls-cert "$PKI/garbage.pem" --tls-key "$PKI/server.key"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: TLS certificate '$PKI/garbage.pem' holds no PEM certificate"
	# A certificate where the key should be is no private key.
	start_fails --tls-cert "$PKI/chain.pem" --tls-key "$PKI/server.pem"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: TLS key '$PKI/server.pem' holds no PEM private key (or one protected by a passphrase)"
}

@test "start-up: a key of another certificate, an expired or not yet valid certificate, exit 1" {
	start_fails --tls-cert "$PKI/chain.pem" --tls-key "$PKI/other.key"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: TLS key '$PKI/other.key' does not belong to the certificate in '$PKI/chain.pem'"
	start_fails --tls-cert "$PKI/expired.pem" --tls-key "$PKI/server.key"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: TLS certificate '$PKI/expired.pem' expired on Jan  2 00:00:00 2020 GMT"
	start_fails --tls-cert "$PKI/future.pem" --tls-key "$PKI/server.key"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: TLS certificate '$PKI/future.pem' is not valid before Dec 31 00:00:00 2099 GMT"
}

@test "start-up: tls_cert without tls_key (and the reverse) is refused, also from the file" {
	start_fails --tls-cert "$PKI/chain.pem"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: tls_cert is set but tls_key is not: TLS needs both (or neither)"
	printf 'tls_key = %s\n' "$PKI/server.key" >"$BATS_TEST_TMPDIR/only-key.conf"
	start_fails -c "$BATS_TEST_TMPDIR/only-key.conf"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: tls_key is set but tls_cert is not: TLS needs both (or neither)"
	start_fails --tls-cert relative.pem --tls-key "$PKI/server.key"
	assert_equal "$status" 2
	assert_equal "${stderr%%$'\n'*}" "horcruxd: --tls-cert: 'relative.pem' is not an absolute path"
}

@test "a plain listener beyond loopback is refused; --allow-plain-http allows it; --no- form wins over the file" {
	local d=$BATS_TEST_TMPDIR/wide port
	port=$(free_port)
	mkdir -p "$d"
	run --separate-stderr "$HXD" -f --listen "0.0.0.0:$port" --socket "$d/s.sock" \
		--data-dir "$d/data" --web-root "$HX_REPO/share/web"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: refusing to listen on '0.0.0.0:$port' without TLS: set tls_cert and tls_key, or allow_plain_http = true"
	# The file allows it; the flag's --no- form takes it back.
	printf 'allow_plain_http = true\n' >"$d/h.conf"
	run --separate-stderr "$HXD" -f -c "$d/h.conf" --no-allow-plain-http \
		--listen "0.0.0.0:$port" --socket "$d/s.sock" --data-dir "$d/data" \
		--web-root "$HX_REPO/share/web"
	assert_equal "$status" 1
	assert_equal "$stderr" "horcruxd: refusing to listen on '0.0.0.0:$port' without TLS: set tls_cert and tls_key, or allow_plain_http = true"
	# Allowed, it meets the next rule: nobody can log in yet.
	run --separate-stderr "$HXD" -f -c "$d/h.conf" --listen "0.0.0.0:$port" \
		--socket "$d/s.sock" --data-dir "$d/data" --web-root "$HX_REPO/share/web"
	assert_equal "$status" 1
	[[ $stderr == "horcruxd: refusing to listen on '0.0.0.0:$port': no user has a password or API key yet"* ]]
	# With TLS on the wide address only the account rule is left: an
	# admin made over the socket of a loopback start lets it start.
	"$HXD" -f --listen "127.0.0.1:$port" --socket "$d/s.sock" --data-dir "$d/data" \
		--web-root "$HX_REPO/share/web" >"$d/local.log" 2>&1 3>&- &
	local pid=$! i
	BG_PIDS=$pid
	for i in $(seq 1 200); do
		curl -sf -o /dev/null --unix-socket "$d/s.sock" http://localhost/api/health && break
		sleep 0.05
	done
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$d/s.sock" \
		-H 'Content-Type: application/json' -X POST http://localhost/api/users \
		-d '{"username":"admin","password":"admin-pass-1","roles":["Administrator"]}'
	assert_output 201
	kill -TERM "$pid"
	wait "$pid"
	"$HXD" -f --listen "0.0.0.0:$port" --socket "$d/s.sock" --data-dir "$d/data" \
		--web-root "$HX_REPO/share/web" --libvirt-uri "$NODE" \
		--tls-cert "$PKI/chain.pem" --tls-key "$PKI/server.key" \
		>"$d/wide.log" 2>&1 3>&- &
	pid=$!
	BG_PIDS=$pid
	for i in $(seq 1 200); do
		https -sf -o /dev/null "https://localhost:$port/api/health" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	run https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/api/health"
	assert_output 200
	grep -F "listening on 0.0.0.0:$port (TLS)" "$d/wide.log"
	kill -TERM "$pid"
	wait "$pid"
	BG_PIDS=
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$d/wide.log"
}
