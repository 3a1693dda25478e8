# Shared setup for the authorization suites (0400, 0410): one daemon per
# file, started in setup_file, and small helpers to make users, sessions
# and API keys. Load after helpers/common.
#
# Everything a test needs later is exported (bats runs each test in its
# own process; only the environment crosses over).

FORGE="$PY $HX_REPO/tests/tools/forge-jwt.py"

# authz_start_daemon: start_daemon for a whole file, its variables exported.
authz_start_daemon() {
	DDIR=$BATS_FILE_TMPDIR/hx
	start_daemon "$@" || return 1
	export HXD_PID PORT SOCK DDIR HXD_LOG URL
}

# sock_json METHOD PATH [BODY]: a request as root@local over the Unix
# socket; prints the body, then the status on a line of its own.
sock_json() {
	local args=(-s -w '\n%{http_code}' --unix-socket "$SOCK" -X "$1")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' \
	    --data-binary "$3")
	curl "${args[@]}" "http://localhost$2"
}

# must STATUS METHOD PATH [BODY]: sock_json that fails loudly unless the
# answer has STATUS; prints the body.
must() {
	local want=$1 out status
	shift
	out=$(sock_json "$@") || { echo "curl failed: $*" >&2; return 1; }
	status=${out##*$'\n'}
	if [ "$status" != "$want" ]; then
		printf 'setup: %s -> %s, wanted %s: %s\n' "$*" "$status" \
		    "$want" "${out%$'\n'*}" >&2
		return 1
	fi
	printf '%s\n' "${out%$'\n'*}"
}

# mkuser NAME ROLES_JSON: a local user with password "pw-NAME-123".
mkuser() {
	must 201 POST /api/users "$(jq -cn --arg u "$1" --argjson r "$2" \
	    '{username:$u, password:("pw-" + $u + "-123"), roles:$r}')" \
	    >/dev/null
}

# login NAME [PASSWORD]: prints a fresh session token of NAME (over TCP);
# the password is mkuser's unless given (a directory user's).
login() {
	local out status
	out=$(curl -s -w '\n%{http_code}' -X POST "$URL/api/auth/login" \
	    -H 'Content-Type: application/json' --data-binary \
	    "$(jq -cn --arg u "$1" --arg p "${2:-pw-$1-123}" '{username:$u, password:$p}')")
	status=${out##*$'\n'}
	if [ "$status" != 200 ]; then
		echo "setup: login $1 -> $status: ${out%$'\n'*}" >&2
		return 1
	fi
	jq -er .token <<<"${out%$'\n'*}"
}

# mkkey USER BODY: prints the token of a new API key of USER.
mkkey() {
	must 201 POST "/api/users/$1/api-keys" "$2" | jq -er .token
}

# code [CURL ARGS...] URL: the HTTP status of one request, nothing else.
code() {
	curl -s -o /dev/null -w '%{http_code}' "$@"
}
