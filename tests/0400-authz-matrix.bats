#!/usr/bin/env bats
# Authorization, as a table: every route in the daemon's table is guarded;
# the routes are exactly those this file has an expectation for; and every
# route x identity answers what DESIGN §4-§5 says (allowed, 401 or 403).
# Last, the WebSocket topics each identity may subscribe to.
#
# The expectation is written here, from the design, not read from the
# daemon: privileges per role and scope, the access rule of every route,
# the self rule (a login session, never an API key, may act on its own
# :username), and Proxmox's "the deepest path with a grant decides". The
# route dump only enumerates routes. "Allowed" means the handler ran: any
# status but 401 and 403 (the requests are harmless: empty or invalid
# bodies, throwaway targets), so the matrix tests authorization, not the
# handlers.

load helpers/common
load helpers/authz
load helpers/slapd
load helpers/oidc

# --- the expectation --------------------------------------------------------

# DESIGN §5, in its order.
PRIVILEGES="VmAllocate VmConfig VmPowerMgmt VmMigrate VmSnapshot VmBackup
VmConsole VmAudit DatastoreAllocate DatastoreAudit SysModify SysAudit
UserModify PermissionsModify PoolAllocate"

# Built-in roles and their scopes (DESIGN §5); Watcher is this file's
# custom role, which applies at "/" when given to a user directly.
declare -gA ROLE_PRIVS=(
	[Administrator]="$PRIVILEGES"
	[VmAdmin]="VmAllocate VmConfig VmPowerMgmt VmMigrate VmSnapshot VmBackup VmConsole VmAudit"
	[VmUser]="VmPowerMgmt VmConsole VmAudit"
	[StorageAdmin]="DatastoreAllocate DatastoreAudit PoolAllocate"
	[Auditor]="VmAudit DatastoreAudit SysAudit"
	[Watcher]="SysAudit"
)

# The identities. Grants are ROLE@PATH:PROPAGATE; a user's roles sit at
# their scopes (Administrator and Auditor at /, VmAdmin and VmUser at
# /vms, StorageAdmin at /storage); KEYGRANTS are a restricted API key's
# roles, and such a key may do what both the user and the key may.
# dirvmuser is a directory user (realm ldap, a real slapd) and oidcauditor
# an OpenID Connect user (realm oidc, a real provider): their roles come
# from the directory's groups and the ID token's claim.
IDENTS="anon root admin vmadmin vmuser storadmin auditor watcher scoped admkey vmukey dirvmuser oidcauditor"
# One custom role per privilege, "Only-PRIV", each held by a session
# "p_PRIV" (user u-p-PRIV) at "/": the matrix row of each shows that a
# privilege opens exactly its own routes and nothing else.
SINGLE_IDENTS=""
for _p in $PRIVILEGES; do
	SINGLE_IDENTS+="p_$_p "
done
IDENTS+=" $SINGLE_IDENTS"
declare -gA ID_KIND=(
	[anon]=anon [root]=local [admin]=session [vmadmin]=session
	[vmuser]=session [storadmin]=session [auditor]=session
	[watcher]=session [scoped]=session [admkey]=key [vmukey]=key
	[dirvmuser]=session [oidcauditor]=session
)
declare -gA ID_USER=(
	[anon]="" [root]=root@local [admin]=u-admin [vmadmin]=u-vmadmin
	[vmuser]=u-vmuser [storadmin]=u-storadmin [auditor]=u-auditor
	[watcher]=u-watcher [scoped]=u-scoped [admkey]=u-admin
	[vmukey]=u-vmuser [dirvmuser]=ben [oidcauditor]=bob
)
# Directory users (realm ldap, helpers/slapd.bash) log in with the
# directory's password; their roles come from their groups.
declare -gA ID_PASSWORD=([dirvmuser]=ben-dir-pass)
# OpenID Connect users (realm oidc, helpers/oidc.bash) sign in at the test
# provider; their roles come from its groups claim (hx-viewers: Auditor).
declare -gA ID_OIDC=([oidcauditor]=1)
declare -gA ID_GRANTS=(
	[anon]=""
	[root]="Administrator@/:1"
	[admin]="Administrator@/:1"
	[vmadmin]="VmAdmin@/vms:1"
	[vmuser]="VmUser@/vms:1"
	[storadmin]="StorageAdmin@/storage:1"
	[auditor]="Auditor@/:1"
	[watcher]="Watcher@/:1"
	[scoped]="VmUser@/vms/web-1:1"
	[admkey]="Administrator@/:1"
	[vmukey]="VmUser@/vms:1"
	[dirvmuser]="VmUser@/vms:1"
	[oidcauditor]="Auditor@/:1"
)
declare -gA ID_KEYGRANTS=(
	[admkey]="Auditor@/:1"
)
for _p in $PRIVILEGES; do
	ROLE_PRIVS[Only-$_p]=$_p
	ID_KIND[p_$_p]=session
	ID_USER[p_$_p]=u-p-$_p
	ID_GRANTS[p_$_p]="Only-$_p@/:1"
done
# What each user a route acts on holds: the users behind the identities,
# and u-victim, the "other" of the :username routes.
declare -gA USER_GRANTS=([u-victim]="VmUser@/vms:1")
for _p in $IDENTS; do
	[ -z "${ID_USER[$_p]}" ] || [ -n "${USER_GRANTS[${ID_USER[$_p]}]:-}" ] ||
	    USER_GRANTS[${ID_USER[$_p]}]=${ID_GRANTS[$_p]}
done
unset _p

# Every route: METHOD PATTERN ACCESS SELF TARGETS BODY. ACCESS is public,
# anyone, or PRIV@PATH (DESIGN §4: audit needs SysAudit on /access; users,
# roles and ACL need UserModify / PermissionsModify on /access, reading
# them SysAudit there; node metrics SysAudit on /nodes; a VM VmAudit on
# /vms/{vm}, its power actions VmPowerMgmt there; the VM list is filtered
# per VM and the topic subscription decides what a WebSocket sees; so is
# GET /metrics, series by series, and metrics_public makes it public:
# the test after the matrix; notification targets SysAudit on / to read,
# SysModify on / to change or send a test). SELF
# marks the routes a session may call on its own name. TARGETS are the
# cases: for :username own (the caller's name), other (another live user)
# or nobody (no such user); for :id the VM itself (web-1 and web-2 run on
# the demo node, web-10 does not exist; only web-1 is in the ACL-scoped
# user's reach, and web-10 must not count as below it). :key_id, :name and
# :action and :session_id are never existing ones, so an allowed request
# changes nothing (ending all sessions is asked of nobody, for that reason).
# BODY "-" is none. ACCESS+cover: acting on another user's credentials (a
# password, a key that carries their rights) also needs every privilege
# that user holds, where they hold it (Proxmox's rule: nobody hands out
# rights they lack); a session acting on itself is exempt.
ROUTE_TABLE='
GET    /api/health                           public                     -    -          -
GET    /api/protocol                         public                     -    -          -
POST   /api/auth/login                       public                     -    -          {}
POST   /api/auth/renew                       anyone                     -    -          -
GET    /api/auth/realms                      public                     -    -          -
GET    /api/auth/oidc/start                  public                     -    -          -
GET    /api/auth/oidc/callback               public                     -    -          -
POST   /api/auth/logout                      anyone                     -    -          -
GET    /api/auth/me                          anyone                     -    -          -
GET    /api/audit                            SysAudit@/access           -    -          -
GET    /api/users                            SysAudit@/access           -    -          -
POST   /api/users                            UserModify@/access         -    -          {}
GET    /api/users/:username                  SysAudit@/access           self own,other  -
PATCH  /api/users/:username                  UserModify@/access         -    own,other  {}
DELETE /api/users/:username                  UserModify@/access         -    nobody     -
POST   /api/users/:username/password         UserModify@/access+cover   self own,other  {}
GET    /api/users/:username/sessions         UserModify@/access         self own,other  -
DELETE /api/users/:username/sessions         UserModify@/access         self nobody     -
DELETE /api/users/:username/sessions/:session_id UserModify@/access     self own,other  -
GET    /api/users/:username/permissions      SysAudit@/access           self own,other  -
GET    /api/users/:username/api-keys         UserModify@/access         self own,other  -
POST   /api/users/:username/api-keys         UserModify@/access+cover   self own,other  {"name":""}
DELETE /api/users/:username/api-keys/:key_id UserModify@/access         self own,other  -
GET    /api/roles                            anyone                     -    -          -
POST   /api/roles                            PermissionsModify@/access  -    -          {}
PUT    /api/roles/:name                      PermissionsModify@/access  -    -          {}
DELETE /api/roles/:name                      PermissionsModify@/access  -    -          -
GET    /api/acl                              SysAudit@/access           -    -          -
PUT    /api/acl                              PermissionsModify@/access  -    -          {}
DELETE /api/acl                              PermissionsModify@/access  -    -          {}
GET    /api/nodes/local                      SysAudit@/nodes            -    -          -
GET    /api/vms                              anyone                     -    -          -
GET    /api/vms/:id                          VmAudit@/vms/:id           -    web-1,web-2,web-10  -
POST   /api/vms/:id/:action                  VmPowerMgmt@/vms/:id       -    web-1,web-2,web-10  -
GET    /api/ws                               anyone                     -    -          -
GET    /api/metrics/history                  anyone                     -    -          -
GET    /api/metrics/series                   anyone                     -    -          -
GET    /metrics                              anyone                     -    -          -
GET    /api/notify/targets                   SysAudit@/                 -    -          -
POST   /api/notify/targets                   SysModify@/                -    -          {}
GET    /api/notify/targets/:name             SysAudit@/                 -    -          -
DELETE /api/notify/targets/:name             SysModify@/                -    -          -
GET    /api/notify/targets/:name/attempts    SysAudit@/                 -    -          -
POST   /api/notify/targets/:name/test        SysModify@/                -    -          -
GET    /api/alerts/rules                     SysAudit@/                 -    -          -
POST   /api/alerts/rules                     SysModify@/                -    -          {}
GET    /api/alerts/rules/:name               SysAudit@/                 -    -          -
PUT    /api/alerts/rules/:name               SysModify@/                -    -          {}
DELETE /api/alerts/rules/:name               SysModify@/                -    -          -
POST   /api/alerts/backtest                  SysAudit@/                 -    -          {}
GET    /api/alerts                           anyone                     -    -          -
POST   /api/alerts/:id/ack                   anyone                     -    no-such-alert {}
'

# WebSocket topics: who may subscribe, one "TOPIC SPEC" line each. The
# topics and their privilege and path come from the daemon's own table
# (`horcruxd --dump-protocol`, lib/hx-proto.c); what a SPEC means for an
# identity (the rule below, topic_allowed) is DESIGN §5's, written here.
# PRIV@PATH+ means on PATH or anywhere below it (per-VM topics, and a
# topic's alternative, such as alerts about VMs); alternatives are split
# by |; a topic without a privilege is open to anyone authenticated.
TOPIC_TABLE=$("$HXD" --dump-protocol | jq -r '.topics[] |
    [.name, ([if .privilege == null then "anyone"
    else .privilege + "@" + .path + (if .per_vm then "+" else "" end) end,
    if .alt_privilege == null then empty
    else .alt_privilege + "@" + .alt_path + "+" end] | join("|"))] |
    join(" ")')

# --- evaluating it ----------------------------------------------------------

# is_below P G: is path P strictly below path G?
is_below() {
	if [ "$2" = / ]; then
		[ "$1" != / ]
	else
		[[ $1 == "$2"/* ]]
	fi
}

# privs_at GRANTS PATH: sets PRIVS to the privileges GRANTS give on PATH.
# The deepest path holding an applicable grant decides; grants there add
# up. (Results go through globals: the matrix evaluates hundreds of cases
# and a subshell each would cost more than the requests.)
privs_at() {
	local g role gpath prop depth best=-1 slashes words
	PRIVS=""
	for g in $1; do
		role=${g%%@*}
		gpath=${g#*@}
		prop=${gpath##*:}
		gpath=${gpath%:*}
		if [ "$2" = "$gpath" ] || { [ "$prop" = 1 ] &&
		    is_below "$2" "$gpath"; }; then
			slashes=${gpath//[!\/]/}
			depth=${#slashes}
			[ "$gpath" = / ] && depth=0
			if ((depth > best)); then
				best=$depth
				PRIVS=${ROLE_PRIVS[$role]}
			elif ((depth == best)); then
				PRIVS+=" ${ROLE_PRIVS[$role]}"
			fi
		fi
	done
	read -r -a words <<<"${PRIVS//$'\n'/ }"
	PRIVS="${words[*]}"
}

# has_priv ID PRIV PATH
has_priv() {
	[ "${ID_KIND[$1]}" != anon ] || return 1
	privs_at "${ID_GRANTS[$1]}" "$3"
	[[ " $PRIVS " == *" $2 "* ]] || return 1
	if [ -n "${ID_KEYGRANTS[$1]:-}" ]; then
		privs_at "${ID_KEYGRANTS[$1]}" "$3"
		[[ " $PRIVS " == *" $2 "* ]] || return 1
	fi
}

# has_priv_below ID PRIV PATH: PRIV on PATH or on some path below it.
has_priv_below() {
	local g gpath
	has_priv "$@" && return 0
	for g in ${ID_GRANTS[$1]} ${ID_KEYGRANTS[$1]:-}; do
		gpath=${g#*@}
		gpath=${gpath%:*}
		if is_below "$gpath" "$3" && has_priv "$1" "$2" "$gpath"; then
			return 0
		fi
	done
	return 1
}

# covers ID USER: does ID hold every privilege USER holds, where USER
# holds it? (A user with no grants, or none known, is covered.)
covers() {
	local g role gpath p
	for g in ${USER_GRANTS[$2]:-}; do
		role=${g%%@*}
		gpath=${g#*@}
		gpath=${gpath%:*}
		for p in ${ROLE_PRIVS[$role]}; do
			has_priv "$1" "$p" "$gpath" || return 1
		done
	done
}

# expect ID ACCESS SELF TARGET: sets WANT to allowed, 401 or 403.
expect() {
	local access=${2%+cover}
	if [ "$access" = public ]; then
		WANT=allowed
	elif [ "${ID_KIND[$1]}" = anon ]; then
		WANT=401
	elif [ "$3" = self ] && [ "${ID_KIND[$1]}" = session ] &&
	    [ "$4" = "${ID_USER[$1]}" ]; then
		WANT=allowed
	elif [ "$access" = anyone ] ||
	    has_priv "$1" "${access%@*}" "${access#*@}"; then
		WANT=allowed
		if [ "$access" != "$2" ] && ! covers "$1" "$4"; then
			WANT=403
		fi
	else
		WANT=403
	fi
}

# auth_args ID ROUTE: sets BASE (where to send) and AUTH (curl's credential
# arguments) for ID. A session logs out with its spare token, so the main
# one stays live. The two keys use the two key headers.
auth_args() {
	local v
	BASE=$URL
	AUTH=()
	case ${ID_KIND[$1]} in
	local)
		BASE=http://localhost
		AUTH=(--unix-socket "$SOCK") ;;
	session)
		v=TOK_$1
		[ "$2" = "POST /api/auth/logout" ] && v=SPARE_$1
		AUTH=(-H "Authorization: Bearer ${!v}") ;;
	key)
		v=KEY_$1
		if [ "$1" = admkey ]; then
			AUTH=(-H "X-API-Key: ${!v}")
		else
			AUTH=(-H "Authorization: Bearer ${!v}")
		fi ;;
	esac
}

# check_row ID: every route for ID, in table order, as one curl run (one
# transfer per case, --next between them); prints the whole row and fails
# when a case differs from the expectation.
check_row() {
	local id=$1 method pattern access self targets body t target path
	local got mark i bad=0 label cargs=() wants=() labels=() statuses=()
	local rows=()
	while read -r method pattern access self targets body; do
		[ -n "$method" ] || continue
		for t in ${targets//,/ }; do
			case $t in
			own)	target=${ID_USER[$id]:-anonymous} ;;
			other)	target=u-victim ;;
			nobody)	target=nobody-here ;;
			-)	target= ;;
			*)	target=$t ;;
			esac
			path=${pattern/:username/$target}
			path=${path/:id/$target}
			path=${path/:key_id/0000000000000000}
			path=${path/:session_id/0000000000000000}
			path=${path/:name/no-such-role}
			path=${path/:action/no-such-action}
			expect "$id" "${access/:id/$target}" "$self" "$target"
			auth_args "$id" "$method $pattern"
			[ "${#cargs[@]}" -eq 0 ] || cargs+=(--next)
			cargs+=(-s -o /dev/null -w '%{http_code}\n' -X "$method"
			    "${AUTH[@]}")
			[ "$body" = - ] || cargs+=(-H 'Content-Type: application/json'
			    --data-binary "$body")
			cargs+=("$BASE$path")
			wants+=("$WANT")
			printf -v label '%-6s %-46s' "$method" "$path"
			labels+=("$label")
		done
	done <<<"$ROUTE_TABLE"
	mapfile -t statuses < <(curl "${cargs[@]}")
	for i in "${!wants[@]}"; do
		case ${statuses[i]:-} in
		401 | 403) got=${statuses[i]} ;;
		[1-5][0-9][0-9]) got=allowed ;;
		*) got=no-answer ;;
		esac
		mark="  "
		if [ "$got" != "${wants[i]}" ]; then
			mark="!!"
			bad=$((bad + 1))
		fi
		printf -v label '%s %-9s %s want %-7s got %s' "$mark" "$id" \
		    "${labels[i]}" "${wants[i]}" "${statuses[i]:-none}"
		rows+=("$label")
	done
	if [ "$bad" -ne 0 ] || [ "${#wants[@]}" -lt 30 ] ||
	    [ "${#statuses[@]}" -ne "${#wants[@]}" ]; then
		echo "$bad of ${#wants[@]} cases differ from DESIGN §5" \
		    "(${#statuses[@]} answers; !! marks the differences):"
		printf '%s\n' "${rows[@]}"
		return 1
	fi
}

# --- the daemon -------------------------------------------------------------

# id_login ID: a new session token of identity ID's user, by password or,
# for an OpenID Connect user, signed in at the provider.
id_login() {
	if [ -n "${ID_OIDC[$1]:-}" ]; then
		oidc_session "${ID_USER[$1]}"
	else
		login "${ID_USER[$1]}" ${ID_PASSWORD[$1]:-}
	fi
}

setup_file() {
	local id t
	slapd_start "$BATS_FILE_TMPDIR/slapd" || return 1
	export SLAPD_PID
	oidc_provider_start --no-wait || return 1
	# shellcheck disable=SC2046
	authz_start_daemon --libvirt-uri "test://$HX_REPO/share/demo-node.xml" \
	    --ldap-group-role-map "cn=ops,ou=groups,$LDAP_BASE=VmUser" \
	    $(ldap_realm_args) -c "$OIDC_CONF" && oidc_provider_wait || return 1
	must 201 POST /api/roles '{"name":"Watcher","privileges":["SysAudit"]}' \
	    >/dev/null || return 1
	for t in $PRIVILEGES; do
		must 201 POST /api/roles "{\"name\":\"Only-$t\",\"privileges\":[\"$t\"]}" \
		    >/dev/null && mkuser "u-p-$t" "[\"Only-$t\"]" || return 1
	done
	mkuser u-admin '["Administrator"]' &&
	    mkuser u-vmadmin '["VmAdmin"]' &&
	    mkuser u-vmuser '["VmUser"]' &&
	    mkuser u-storadmin '["StorageAdmin"]' &&
	    mkuser u-auditor '["Auditor"]' &&
	    mkuser u-watcher '["Watcher"]' &&
	    mkuser u-scoped '[]' &&
	    mkuser u-victim '["VmUser"]' || return 1
	must 200 PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"u-scoped","propagate":true}' \
	    >/dev/null || return 1
	for id in $IDENTS; do
		[ "${ID_KIND[$id]}" = session ] || continue
		# One token for the matrix, a spare one for its logout.
		t=$(id_login "$id") || return 1
		printf -v "TOK_$id" '%s' "$t"
		t=$(id_login "$id") || return 1
		printf -v "SPARE_$id" '%s' "$t"
		export "TOK_$id" "SPARE_$id"
	done
	KEY_admkey=$(mkkey u-admin '{"name":"audit-only","roles":["Auditor"]}') &&
	    KEY_vmukey=$(mkkey u-vmuser '{"name":"everything"}') || return 1
	export KEY_admkey KEY_vmukey
	# The collector's first inventory (web-1 and web-2 among it).
	for t in $(seq 1 100); do
		[ "$(sock_json GET /api/vms | head -n -1 | jq '[.[].id] |
		    index("web-1") != null and index("web-2") != null')" = true ] &&
		    return 0
		sleep 0.05
	done
	echo "setup: no VM inventory from the demo node" >&2
	return 1
}

teardown_file() {
	stop_daemon
	slapd_stop
	oidc_provider_stop
}

# --- the route table --------------------------------------------------------

@test "every route is public, anyone or PRIV@PATH, and each has an expectation here" {
	local privs_re method pattern access flag rest
	local bad=() dumped=() missing extra dup
	run --separate-stderr "$HXD" --dump-routes
	assert_success
	privs_re=$(tr -s ' \n' '||' <<<"$PRIVILEGES")
	privs_re=${privs_re%|}
	while IFS=$'\t' read -r method pattern access flag rest; do
		if ! [[ $access == public || $access == anyone ||
		    $access =~ ^($privs_re)+@/[A-Za-z0-9/:_{}-]*$ ]]; then
			bad+=("unguarded: $method $pattern '$access'")
		fi
		if [ -n "$flag" ] && [ "$flag" != self ] || [ -n "$rest" ]; then
			bad+=("unknown flags: $method $pattern '$flag $rest'")
		fi
		dumped+=("$method $pattern")
	done <<<"$output"
	[ "${#dumped[@]}" -ge 20 ] || bad+=("only ${#dumped[@]} routes dumped")
	dup=$(printf '%s\n' "${dumped[@]}" | sort | uniq -d)
	[ -z "$dup" ] || bad+=("routes listed twice: $dup")
	missing=$(comm -23 <(printf '%s\n' "${dumped[@]}" | sort) \
	    <(awk 'NF { print $1, $2 }' <<<"$ROUTE_TABLE" | sort))
	extra=$(comm -13 <(printf '%s\n' "${dumped[@]}" | sort) \
	    <(awk 'NF { print $1, $2 }' <<<"$ROUTE_TABLE" | sort))
	[ -z "$missing" ] || bad+=("routes without an expectation in this file:" "$missing")
	[ -z "$extra" ] || bad+=("expectations for routes the daemon lacks:" "$extra")
	if [ "${#bad[@]}" -ne 0 ]; then
		printf '%s\n' "${bad[@]}"
		return 1
	fi
}

@test "metrics_public makes GET /metrics public, and no other route" {
	local plain public
	run --separate-stderr "$HXD" --dump-routes
	assert_success
	plain=$output
	run --separate-stderr "$HXD" --metrics-public --dump-routes
	assert_success
	public=$output
	assert_equal "$(grep -P '^GET\t/metrics\t' <<<"$plain")" $'GET\t/metrics\tanyone'
	assert_equal "$(grep -P '^GET\t/metrics\t' <<<"$public")" $'GET\t/metrics\tpublic'
	assert_equal "$(grep -vP '^GET\t/metrics\t' <<<"$public")" \
	    "$(grep -vP '^GET\t/metrics\t' <<<"$plain")"
	# And the daemon does as it prints: anonymous gets 401 here (the
	# matrix's daemon has it off); 0250 scrapes a metrics_public one.
	assert_equal "$(code "$URL/metrics")" 401
}

@test "the expectation table evaluates the design's rules as written" {
	# Guard the evaluator itself, so the matrix cannot agree by accident.
	expect anon public - ""
	assert_equal "$WANT" allowed
	expect anon anyone - ""
	assert_equal "$WANT" 401
	expect vmuser SysAudit@/access - ""
	assert_equal "$WANT" 403
	expect vmuser SysAudit@/access self u-vmuser
	assert_equal "$WANT" allowed
	expect vmuser SysAudit@/access self u-victim
	assert_equal "$WANT" 403
	expect vmukey SysAudit@/access self u-vmuser
	assert_equal "$WANT" 403
	expect admkey UserModify@/access self u-admin
	assert_equal "$WANT" 403
	expect admkey SysAudit@/access - ""
	assert_equal "$WANT" allowed
	expect watcher SysAudit@/nodes - ""
	assert_equal "$WANT" allowed
	expect storadmin SysAudit@/nodes - ""
	assert_equal "$WANT" 403
	expect scoped VmPowerMgmt@/vms/web-1 - web-1
	assert_equal "$WANT" allowed
	expect scoped VmAudit@/vms/web-2 - web-2
	assert_equal "$WANT" 403
	expect auditor VmPowerMgmt@/vms/web-1 - web-1
	assert_equal "$WANT" 403
	expect vmuser VmPowerMgmt@/vms/web-2 - web-2
	assert_equal "$WANT" allowed
	privs_at "VmUser@/vms/web-1:1" /vms/web-1/disk
	assert_equal "$PRIVS" "VmPowerMgmt VmConsole VmAudit"
	privs_at "VmUser@/vms/web-1:0" /vms/web-1/disk
	assert_equal "$PRIVS" ""
	privs_at "Auditor@/:1 VmUser@/vms/web-1:1" /vms/web-1
	assert_equal "$PRIVS" "VmPowerMgmt VmConsole VmAudit"
	privs_at "Auditor@/:1 VmUser@/vms/web-1:1" /vms/web-2
	assert_equal "$PRIVS" "VmAudit DatastoreAudit SysAudit"
	has_priv_below scoped VmAudit /vms
	run ! has_priv scoped VmAudit /vms
	run ! has_priv_below scoped SysAudit /nodes
}

# --- the matrix -------------------------------------------------------------

@test "matrix: anonymous over TCP" {
	check_row anon
}

@test "matrix: root@local over the Unix socket" {
	check_row root
}

@test "matrix: Administrator (session)" {
	check_row admin
}

@test "matrix: VmAdmin (session)" {
	check_row vmadmin
}

@test "matrix: VmUser (session)" {
	check_row vmuser
}

@test "matrix: StorageAdmin (session)" {
	check_row storadmin
}

@test "matrix: Auditor (session)" {
	check_row auditor
}

@test "matrix: custom role Watcher = SysAudit (session)" {
	check_row watcher
}

@test "matrix: no roles, VmUser by ACL on /vms/web-1 only (session)" {
	check_row scoped
}

@test "matrix: custom roles of one privilege each (sessions)" {
	local id bad=0
	for id in $SINGLE_IDENTS; do
		check_row "$id" || bad=$((bad + 1))
	done
	[ "$bad" -eq 0 ]
}

@test "the expectation for single privileges and for acting on others' credentials" {
	expect p_UserModify UserModify@/access - ""
	assert_equal "$WANT" allowed
	expect p_PermissionsModify UserModify@/access - ""
	assert_equal "$WANT" 403
	# A password or key for u-victim (VmUser on /vms) needs their rights.
	expect p_UserModify UserModify@/access+cover self u-victim
	assert_equal "$WANT" 403
	expect p_UserModify UserModify@/access+cover self u-p-UserModify
	assert_equal "$WANT" allowed
	expect admin UserModify@/access+cover self u-victim
	assert_equal "$WANT" allowed
	expect p_VmAudit VmAudit@/vms/web-2 - web-2
	assert_equal "$WANT" allowed
	expect p_VmAudit VmPowerMgmt@/vms/web-2 - web-2
	assert_equal "$WANT" 403
}

@test "matrix: Administrator's API key restricted to Auditor" {
	check_row admkey
}

@test "matrix: VmUser's unrestricted API key" {
	check_row vmukey
}

@test "matrix: VmUser from a directory group (session of realm ldap)" {
	check_row dirvmuser
}

@test "matrix: Auditor from an OpenID Connect claim (session of realm oidc)" {
	check_row oidcauditor
}

@test "the spare sessions the matrix logged out are revoked; the main ones live" {
	# Runs after the rows above: each row's allowed logout used its spare.
	local id v
	for id in $IDENTS; do
		[ "${ID_KIND[$id]}" = session ] || continue
		v=SPARE_$id
		run code -H "Authorization: Bearer ${!v}" "$URL/api/auth/me"
		assert_output 401
		v=TOK_$id
		run code -H "Authorization: Bearer ${!v}" "$URL/api/auth/me"
		assert_output 200
	done
}

@test "GET /api/vms lists exactly the VMs each identity may audit" {
	local id vm all want got bad=()
	auth_args root "GET /api/vms"
	all=$(curl -s "${AUTH[@]}" "$BASE/api/vms" | jq -r '.[].id' | sort)
	[ "$(wc -l <<<"$all")" -ge 2 ]
	for id in $IDENTS; do
		[ "$id" != anon ] || continue
		want=()
		for vm in $all; do
			has_priv "$id" VmAudit "/vms/$vm" && want+=("$vm")
		done
		auth_args "$id" "GET /api/vms"
		got=$(curl -s "${AUTH[@]}" "$BASE/api/vms" | jq -r '.[].id' |
		    sort | paste -sd' ')
		[ "$got" = "${want[*]}" ] ||
		    bad+=("$id: sees [$got], may audit [${want[*]}]")
	done
	if [ "${#bad[@]}" -ne 0 ]; then
		printf '%s\n' "${bad[@]}"
		return 1
	fi
}

# --- WebSocket topics -------------------------------------------------------

# ws_args ID: hx-wsclient's address and credential arguments for ID.
ws_args() {
	local v
	case ${ID_KIND[$1]} in
	anon)	WS=(--url "ws://127.0.0.1:$PORT/api/ws") ;;
	local)	WS=(--url "unix:$SOCK") ;;
	session)
		v=TOK_$1
		WS=(--url "ws://127.0.0.1:$PORT/api/ws"
		    --header "Authorization: Bearer ${!v}") ;;
	key)
		v=KEY_$1
		WS=(--url "ws://127.0.0.1:$PORT/api/ws"
		    --header "X-API-Key: ${!v}") ;;
	esac
}

# topic_allowed ID SPEC
topic_allowed() {
	local alt
	for alt in ${2//|/ }; do
		case $alt in
		anyone) return 0 ;;
		*+)
			alt=${alt%+}
			has_priv_below "$1" "${alt%@*}" "${alt#*@}" &&
			    return 0 ;;
		*) has_priv "$1" "${alt%@*}" "${alt#*@}" && return 0 ;;
		esac
	done
	return 1
}

# ws_frames: the frames of $output as "TYPE CODE TOPIC..." lines (the
# Subscribed line lists its topics sorted), one jq for all of them.
ws_frames() {
	jq -r '.frame // empty | [.type, .data.code // "-"] +
	    (if .type == "Subscribed" then .data.topics | sort
	     else [.data.topic // empty] end) | join(" ")' <<<"$output"
}

@test "WebSocket topics: each identity is granted exactly what it may see" {
	local id topic spec all='' granted forbidden fjson lines want got
	local bad=()
	while read -r topic spec; do
		[ -n "$topic" ] && all+=${all:+,}\"$topic\"
	done <<<"$TOPIC_TABLE"
	# One of each kind of answer; admin and vmadmin would repeat root and
	# vmuser, and admkey covers the key path of the upgrade.
	for id in root vmuser storadmin auditor watcher scoped admkey; do
		granted=() forbidden=()
		while read -r topic spec; do
			[ -n "$topic" ] || continue
			if topic_allowed "$id" "$spec"; then
				granted+=("$topic")
			else
				forbidden+=("$topic")
			fi
		done <<<"$TOPIC_TABLE"
		ws_args "$id"

		# All of them asked for: Subscribed lists exactly the granted
		# ones.
		run "$WSC" "${WS[@]}" --timeout 5 --until Subscribed \
		    --send "{\"topics\":[$all]}"
		lines=$(ws_frames)
		want=$(printf '%s\n' Subscribed - "${granted[@]}" | sort -u |
		    paste -sd' ')
		got=$(grep '^Subscribed ' <<<"$lines" | tr ' ' '\n' | sort -u |
		    paste -sd' ')
		[ "$status" -eq 0 ] && [ "$got" = "$want" ] ||
		    bad+=("$id: all topics: exit $status, got '$got'," \
		    "want '$want'")

		# Only the forbidden ones: Connected, Subscribed [], then one
		# FORBIDDEN_TOPIC Error for each, in the order asked.
		[ "${#forbidden[@]}" -gt 0 ] || continue
		fjson=$(printf ',"%s"' "${forbidden[@]}")
		run "$WSC" "${WS[@]}" --timeout 5 \
		    --count $((2 + ${#forbidden[@]})) \
		    --send "{\"topics\":[${fjson#,}]}"
		lines=$(ws_frames)
		want="Notification - Subscribed -$(printf ' Error FORBIDDEN_TOPIC %s' "${forbidden[@]}")"
		got=$(paste -sd' ' <<<"$lines")
		[ "$status" -eq 0 ] && [ "$got" = "$want" ] ||
		    bad+=("$id: forbidden topics: exit $status, got '$got'," \
		    "want '$want'")
	done
	if [ "${#bad[@]}" -ne 0 ]; then
		printf '%s\n' "${bad[@]}"
		return 1
	fi
}

@test "WebSocket topics: the daemon's table says what DESIGN §3 says" {
	# The dump is read, not trusted: DESIGN §3's "who sees it" column for
	# the topics whose rule differs, and every topic has a rule.
	local n
	n=$(grep -c . <<<"$TOPIC_TABLE")
	[ "$n" -eq 8 ] || { echo "$TOPIC_TABLE"; false; }
	assert_equal "$(grep -c '^[a-z:]* [A-Za-z@/+|]*$' <<<"$TOPIC_TABLE")" "$n"
	grep -qx 'node:metrics SysAudit@/nodes' <<<"$TOPIC_TABLE"
	grep -qx 'vm:metrics VmAudit@/vms+' <<<"$TOPIC_TABLE"
	grep -qx 'vm:status VmAudit@/vms+' <<<"$TOPIC_TABLE"
	grep -qx 'alerts SysAudit@/nodes|VmAudit@/vms+' <<<"$TOPIC_TABLE"
	grep -qx 'notifications anyone' <<<"$TOPIC_TABLE"
}

@test "WebSocket topics: the table says what the design says for a few" {
	# The brief's reading of DESIGN §3, spelled out, so an evaluator slip
	# cannot hide behind the loop above.
	topic_allowed auditor SysAudit@/nodes
	topic_allowed vmuser 'SysAudit@/nodes|VmAudit@/vms+'
	run ! topic_allowed vmuser SysAudit@/nodes
	topic_allowed scoped VmAudit@/vms+
	run ! topic_allowed scoped SysAudit@/nodes
	run ! topic_allowed watcher VmAudit@/vms+
	run ! topic_allowed storadmin 'SysAudit@/nodes|VmAudit@/vms+'
	topic_allowed admkey VmAudit@/vms+
}

@test "WebSocket: an anonymous upgrade over TCP is refused with 401" {
	run "$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --timeout 5 \
	    --until Subscribed --send '{"topics":["notifications"]}'
	assert_equal "$status" 5
	assert_equal "$(jq -r 'select(.error == "upgrade") | .status' \
	    <<<"$output")" 401
}

# --- the self rule's edges ----------------------------------------------------
# (Last in the file: if the daemon got these wrong, they would change state
# the matrix relies on.)

@test "self: a session cannot revoke another user's key through its own name" {
	local kid=${KEY_admkey:3:16}
	run code -X DELETE -H "Authorization: Bearer $TOK_vmuser" \
	    "$URL/api/users/u-vmuser/api-keys/$kid"
	assert_output 404
	run code -H "X-API-Key: $KEY_admkey" "$URL/api/auth/me"
	assert_output 200
}

@test "self: a session cannot mint a key wider than its user" {
	local out
	out=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $TOK_vmuser" \
	    -H 'Content-Type: application/json' \
	    --data-binary '{"name":"wide","roles":["Administrator"]}' \
	    "$URL/api/users/u-vmuser/api-keys")
	assert_equal "$(tail -1 <<<"$out")" 422
	assert_equal "$(sed '$d' <<<"$out" | jq -r .error)" VALIDATION_ERROR
	# Nothing was made: the user's key list has no key called "wide".
	run curl -s -H "Authorization: Bearer $TOK_vmuser" "$URL/api/users/u-vmuser/api-keys"
	refute_output --partial '"name":"wide"'
}

# --- granting roles: Proxmox's rule -------------------------------------------
# Changing roles (a user's, an ACL entry's) needs PermissionsModify on
# /access, and nobody may hand out, or take away, a role carrying rights
# they do not hold where it applies. An API key is held to what it may do
# itself, never to its owner's full rights.

# as ID METHOD PATH [BODY]: a request as the session or key of ID; prints
# the body, then the status on a line of its own.
as() {
	local id=$1 args
	auth_args "$id" "$2 $3"
	args=(-s -w '\n%{http_code}' -X "$2" "${AUTH[@]}")
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' \
	    --data-binary "$4")
	curl "${args[@]}" "$BASE$3"
}

@test "grant: UserModify alone cannot give its own user Administrator" {
	run as p_UserModify PATCH /api/users/u-p-UserModify '{"roles":["Administrator"]}'
	assert_equal "${lines[-1]}" 403
	assert_equal "$(jq -r .error <<<"${lines[0]}")" FORBIDDEN
	run as p_UserModify POST /api/users '{"username":"esc-um","password":"password-123","roles":["Administrator"]}'
	assert_equal "${lines[-1]}" 403
	# Nothing changed: the roles are as before, no user was made.
	assert_equal "$(must 200 GET /api/users/u-p-UserModify | jq -c .roles)" '["Only-UserModify"]'
	must 404 GET /api/users/esc-um >/dev/null
	# A password reset of a stronger user would let it become them.
	run as p_UserModify POST /api/users/u-admin/password '{"password":"taken-over-1"}'
	assert_equal "${lines[-1]}" 403
	# Roles are left alone: other changes still work with UserModify.
	run as p_UserModify PATCH /api/users/u-victim '{"email":"victim@example.org"}'
	assert_equal "${lines[-1]}" 200
}

@test "grant: a key narrowed to a UserModify role cannot escape its narrowing" {
	local key
	key=$(mkkey u-admin '{"name":"um-only","roles":["Only-UserModify"]}')
	run curl -s -w '\n%{http_code}' -X POST -H "X-API-Key: $key" \
	    -H 'Content-Type: application/json' --data-binary \
	    '{"username":"esc-key","password":"password-123","roles":["Administrator"]}' \
	    "$URL/api/users"
	assert_equal "${lines[-1]}" 403
	must 404 GET /api/users/esc-key >/dev/null
	# Nor mint an unrestricted key of its Administrator owner.
	run curl -s -w '\n%{http_code}' -X POST -H "X-API-Key: $key" \
	    -H 'Content-Type: application/json' --data-binary '{"name":"wide"}' \
	    "$URL/api/users/u-admin/api-keys"
	assert_equal "${lines[-1]}" 403
	# Nor reset its owner's password.
	run curl -s -w '\n%{http_code}' -X POST -H "X-API-Key: $key" \
	    -H 'Content-Type: application/json' --data-binary '{"password":"taken-over-1"}' \
	    "$URL/api/users/u-admin/password"
	assert_equal "${lines[-1]}" 403
	# What it may do, it does: a user without roles.
	run curl -s -w '\n%{http_code}' -X POST -H "X-API-Key: $key" \
	    -H 'Content-Type: application/json' --data-binary \
	    '{"username":"plain-by-key","password":"password-123"}' "$URL/api/users"
	assert_equal "${lines[-1]}" 201
}

@test "grant: PermissionsModify grants only roles whose rights the granter holds" {
	local tok
	must 201 POST /api/roles '{"name":"Delegator","privileges":["UserModify","PermissionsModify","VmPowerMgmt","VmConsole","VmAudit"]}' >/dev/null
	mkuser u-delegator '["Delegator"]'
	mkuser u-plain '[]'
	tok=$(login u-delegator)
	export TOK_delegator=$tok
	ID_KIND[delegator]=session
	# ACL: VmUser's rights it holds on /vms/web-2; VmAdmin's it does not.
	run as delegator PUT /api/acl '{"path":"/vms/web-2","role":"VmUser","user":"u-plain"}'
	assert_equal "${lines[-1]}" 200
	run as delegator PUT /api/acl '{"path":"/vms/web-2","role":"VmAdmin","user":"u-plain"}'
	assert_equal "${lines[-1]}" 403
	run as delegator PUT /api/acl '{"path":"/","role":"Administrator","user":"u-delegator"}'
	assert_equal "${lines[-1]}" 403
	run as delegator DELETE /api/acl '{"path":"/vms/web-2","role":"VmUser","user":"u-plain"}'
	assert_equal "${lines[-1]}" 204
	# A user's roles: give and take VmUser; never Administrator or Auditor.
	run as delegator PATCH /api/users/u-plain '{"roles":["VmUser"]}'
	assert_equal "${lines[-1]}" 200
	assert_equal "$(jq -c .roles <<<"${lines[0]}")" '["VmUser"]'
	run as delegator PATCH /api/users/u-plain '{"roles":["VmUser","Auditor"]}'
	assert_equal "${lines[-1]}" 403
	run as delegator PATCH /api/users/u-delegator '{"roles":["Delegator","Administrator"]}'
	assert_equal "${lines[-1]}" 403
	run as delegator PATCH /api/users/u-plain '{"roles":[]}'
	assert_equal "${lines[-1]}" 200
	# Taking away what it does not hold is refused too.
	run as delegator PATCH /api/users/u-auditor '{"roles":[]}'
	assert_equal "${lines[-1]}" 403
	run as delegator POST /api/users '{"username":"by-delegator","password":"password-123","roles":["VmUser"]}'
	assert_equal "${lines[-1]}" 201
	run as delegator POST /api/users '{"username":"admin-by-delegator","password":"password-123","roles":["Administrator"]}'
	assert_equal "${lines[-1]}" 403
	# PermissionsModify alone: the ACL of roles it holds nothing of is shut.
	run as p_PermissionsModify PUT /api/acl '{"path":"/vms/web-2","role":"VmUser","user":"u-plain"}'
	assert_equal "${lines[-1]}" 403
	# The state is what the allowed calls left.
	assert_equal "$(must 200 GET /api/users/u-plain | jq -c .roles)" '[]'
	assert_equal "$(must 200 GET /api/acl | jq '[.[] | select(.user == "u-plain")] | length')" 0
	assert_equal "$(must 200 GET /api/users/u-auditor | jq -c .roles)" '["Auditor"]'
}
