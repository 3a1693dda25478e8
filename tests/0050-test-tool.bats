#!/usr/bin/env bats
# Unit-style tests of pure modules inside the programs, through
# hx-test-tool (tests/tools/hx-test-tool.c): horcruxd's route matching and
# Host names (http-parse.c), its privilege decisions (access.c over a
# store built from a fixture), and horcrux-top's model (model.c: events,
# the VM list, sorting and filtering). Each answer below is one a real
# request or screen depends on.
#
# Self-contained on purpose (no helpers/common): it starts no daemon.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
TT=${HX_BUILD:-$REPO/build/release}/tests/tools/hx-test-tool

# The names of the rows of the last view in $output, space-separated.
view_names() {
	local l names=()
	for l in "${lines[@]}"; do
		case $l in
		"  "*) l=${l#  }; names+=("${l%% *}") ;;
		esac
	done
	echo "${names[*]}"
}

# --- the tool itself ----------------------------------------------------

@test "usage: no command or an unknown one exits 2 with the command list" {
	run --separate-stderr "$TT"
	assert_equal "$status" 2
	assert_output ""
	[[ $stderr == *"hx-test-tool route-match PATTERN PATH"* ]]
	[[ $stderr == *"hx-test-tool top-model"* ]]
	run --separate-stderr "$TT" nope
	assert_equal "$status" 2
	[[ $stderr == "hx-test-tool: unknown command 'nope'"* ]]
	run --separate-stderr "$TT" route-match /a
	assert_equal "$status" 2
}

# --- route patterns (horcruxd/http-parse.c) ------------------------------

@test "route: literal patterns match exactly, byte for byte" {
	run "$TT" route-match /api/health /api/health
	assert_success
	assert_output "match"
	run "$TT" route-match /api/health /api/healthz
	assert_failure 1
	assert_output "no match"
	run "$TT" route-match /api/health /api/healt
	assert_failure 1
	run "$TT" route-match /api/health /api/Health
	assert_failure 1
	run "$TT" route-match /api/health ""
	assert_failure 1
}

@test "route: a :param takes exactly one non-empty segment" {
	run "$TT" route-match /api/vms/:id /api/vms/web-1
	assert_success
	assert_output $'match\nparam 0: web-1'
	run "$TT" route-match /api/vms/:id/status/:action \
		/api/vms/web-1/status/start
	assert_success
	assert_output $'match\nparam 0: web-1\nparam 1: start'
	# Empty, or more than one segment: no match.
	run "$TT" route-match /api/vms/:id /api/vms/
	assert_failure 1
	run "$TT" route-match /api/vms/:id /api/vms/web-1/x
	assert_failure 1
	run "$TT" route-match /api/vms/:id/status/:action /api/vms//status/start
	assert_failure 1
	# The literal part after a parameter still has to match.
	run "$TT" route-match /api/vms/:id/status/:action /api/vms/a/stats/start
	assert_failure 1
}

@test "route: a trailing slash is a different path" {
	run "$TT" route-match /api/vms /api/vms/
	assert_failure 1
	run "$TT" route-match /api/vms/ /api/vms
	assert_failure 1
	run "$TT" route-match /api/vms/:id /api/vms/web-1/
	assert_failure 1
	run "$TT" route-match /api/vms/:id/ /api/vms/web-1/
	assert_success
	assert_output $'match\nparam 0: web-1'
}

@test "route: percent-escapes are bytes of the segment, never separators" {
	run "$TT" route-match /api/vms/:id /api/vms/a%2Fb
	assert_success
	assert_output $'match\nparam 0: a%2Fb'
	run "$TT" route-match /api/users/:username /api/users/web%201
	assert_success
	assert_output $'match\nparam 0: web%201'
	# An escape does not match the byte it stands for in a literal.
	run "$TT" route-match /api/health /api/h%65alth
	assert_failure 1
}

@test "route: parameters must fit the request's buffer, at most two" {
	local fits big
	# URI_MAX is 2048: a 2047-byte segment and its NUL fill it exactly.
	fits=$(printf 'x%.0s' {1..2047})
	big=${fits}x
	run "$TT" route-match /api/vms/:id "/api/vms/$fits"
	assert_success
	assert_line --index 1 "param 0: $fits"
	run --separate-stderr "$TT" route-match /api/vms/:id "/api/vms/$big"
	assert_failure 1
	assert_output "no match"
	assert_equal "$stderr" ""
	# Two parameters share the buffer.
	run "$TT" route-match /a/:x/:y "/a/${fits:0:1023}/${fits:0:1023}"
	assert_success
	run --separate-stderr "$TT" route-match /a/:x/:y \
		"/a/${fits:0:1024}/${fits:0:1024}"
	assert_failure 1
	assert_output "no match"
	assert_equal "$stderr" ""
	# ROUTE_PARAMS is 2: a third parameter cannot be taken.
	run --separate-stderr "$TT" route-match /a/:x/:y/:z /a/1/2/3
	assert_failure 1
	assert_output "no match"
	assert_equal "$stderr" ""
}

@test "host-name: brackets, ports, and what is refused" {
	run "$TT" host-name '[::1]:8006'
	assert_success
	assert_output "::1"
	run "$TT" host-name example.org:8006
	assert_output "example.org"
	run "$TT" host-name example.org
	assert_output "example.org"
	run "$TT" host-name '[::1'
	assert_failure 1
	assert_output "refused"
}

# --- access decisions (horcruxd/access.c) --------------------------------

# The fixture every access test starts from.
FIXTURE='
user admin Administrator
user aud Auditor
user vmu VmUser
user bob -
user carol Auditor disabled
user dave -
user erin Administrator
role Nothing -
role Watcher VmAudit
acl /vms/web-1 VmUser bob
acl /vms VmAdmin dave
acl /vms/secret Nothing dave
acl /nodes Auditor dave no-propagate
acl /vms/x Auditor erin
'

# access LINES...: run the access subcommand on the fixture and LINES.
access() {
	run --separate-stderr "$TT" access < <(printf '%s\n' "$FIXTURE" "$@")
}

@test "access: a role given directly applies at its scope and below" {
	access "allowed admin SysModify,UserModify /" \
		"allowed admin VmConfig /vms/anything" \
		"allowed aud SysAudit /" \
		"allowed aud VmAudit /vms/web-1" \
		"allowed aud SysModify /" \
		"allowed aud VmPowerMgmt /vms/web-1" \
		"allowed vmu VmPowerMgmt /vms/web-1" \
		"allowed vmu VmAudit /vms" \
		"allowed vmu SysAudit /" \
		"allowed vmu VmAudit /nodes"
	assert_success
	assert_output - <<'EOF'
allowed admin SysModify,UserModify / -> yes
allowed admin VmConfig /vms/anything -> yes
allowed aud SysAudit / -> yes
allowed aud VmAudit /vms/web-1 -> yes
allowed aud SysModify / -> no
allowed aud VmPowerMgmt /vms/web-1 -> no
allowed vmu VmPowerMgmt /vms/web-1 -> yes
allowed vmu VmAudit /vms -> yes
allowed vmu SysAudit / -> no
allowed vmu VmAudit /nodes -> no
EOF
}

@test "access: an ACL entry on /vms/X holds there only" {
	access "allowed bob VmPowerMgmt,VmAudit /vms/web-1" \
		"allowed bob VmConfig /vms/web-1" \
		"allowed bob VmAudit /vms/web-2" \
		"allowed bob VmAudit /vms" \
		"allowed bob VmAudit /" \
		"below bob VmAudit /vms" \
		"below bob VmAudit /" \
		"below bob VmAudit /nodes" \
		"below bob SysAudit /"
	assert_success
	assert_output - <<'EOF'
allowed bob VmPowerMgmt,VmAudit /vms/web-1 -> yes
allowed bob VmConfig /vms/web-1 -> no
allowed bob VmAudit /vms/web-2 -> no
allowed bob VmAudit /vms -> no
allowed bob VmAudit / -> no
below bob VmAudit /vms -> yes
below bob VmAudit / -> yes
below bob VmAudit /nodes -> no
below bob SysAudit / -> no
EOF
}

@test "access: propagate reaches below the entry's path, no-propagate stops at it" {
	access "allowed dave VmConfig /vms" \
		"allowed dave VmConfig /vms/db-1" \
		"allowed dave SysAudit /nodes" \
		"allowed dave SysAudit /nodes/n1"
	assert_success
	assert_output - <<'EOF'
allowed dave VmConfig /vms -> yes
allowed dave VmConfig /vms/db-1 -> yes
allowed dave SysAudit /nodes -> yes
allowed dave SysAudit /nodes/n1 -> no
EOF
}

@test "access: the deepest entry decides alone, so a narrower one denies" {
	# dave: VmAdmin on /vms, a role without privileges on /vms/secret.
	# erin: Administrator at /, only Auditor on /vms/x.
	access "allowed dave VmAudit /vms/secret" \
		"allowed dave VmAudit /vms/public" \
		"allowed erin VmPowerMgmt /vms/x" \
		"allowed erin VmAudit /vms/x" \
		"allowed erin VmPowerMgmt /vms/y"
	assert_success
	assert_output - <<'EOF'
allowed dave VmAudit /vms/secret -> no
allowed dave VmAudit /vms/public -> yes
allowed erin VmPowerMgmt /vms/x -> no
allowed erin VmAudit /vms/x -> yes
allowed erin VmPowerMgmt /vms/y -> yes
EOF
}

@test "access: an API key's role subset narrows its owner's rights, never widens them" {
	access "key full admin" "key aud admin Auditor" "key none admin -" \
		"key wide bob Administrator" "key off carol" \
		"allowed key:full SysModify /" \
		"allowed key:aud SysAudit /" \
		"allowed key:aud SysModify /" \
		"allowed key:none SysAudit /" \
		"allowed key:wide VmAudit /vms/web-1" \
		"allowed key:wide SysAudit /" \
		"allowed key:off SysAudit /" \
		"allowed key:missing SysAudit /"
	assert_success
	assert_output - <<'EOF'
allowed key:full SysModify / -> yes
allowed key:aud SysAudit / -> yes
allowed key:aud SysModify / -> no
allowed key:none SysAudit / -> no
allowed key:wide VmAudit /vms/web-1 -> yes
allowed key:wide SysAudit / -> no
allowed key:off SysAudit / -> unauthenticated
allowed key:missing SysAudit / -> unauthenticated
EOF
}

@test "access: disabled users do not resolve, anonymous holds nothing" {
	access "allowed carol SysAudit /" "allowed anonymous SysAudit /" \
		"below anonymous VmAudit /" "allowed nobody SysAudit /"
	assert_success
	assert_output - <<'EOF'
allowed carol SysAudit / -> unauthenticated
allowed anonymous SysAudit / -> no
below anonymous VmAudit / -> no
allowed nobody SysAudit / -> unauthenticated
EOF
}

@test "access: granting needs the role's rights; acting for a user needs theirs" {
	access "covers-role bob VmUser" \
		"covers-role bob VmUser /vms/web-1" \
		"covers-role dave VmAdmin" \
		"covers-role aud Watcher" \
		"covers-role bob NoSuchRole" \
		"covers-user admin bob" \
		"covers-user bob admin" \
		"covers-user dave bob" \
		"covers-user admin carol" \
		"covers-user aud nosuchuser"
	assert_success
	assert_output - <<'EOF'
covers-role bob VmUser -> no
covers-role bob VmUser /vms/web-1 -> yes
covers-role dave VmAdmin -> yes
covers-role aud Watcher -> yes
covers-role bob NoSuchRole -> no such role
covers-user admin bob -> yes
covers-user bob admin -> no
covers-user dave bob -> yes
covers-user admin carol -> yes
covers-user aud nosuchuser -> yes
EOF
}

@test "access: /api/auth/me lists privileges per path" {
	access "me bob" "me key:aud" "key aud aud"
	assert_success
	assert_line --index 0 'me bob -> {"/":[],"/access":[],"/nodes":[],"/storage":[],"/vms":[],"/vms/web-1":["VmPowerMgmt","VmConsole","VmAudit"]}'
	# A key made after the first question: the snapshot is reloaded.
	assert_line --index 1 'me key:aud -> unauthenticated'
	access "key aud aud" "me key:aud"
	assert_output 'me key:aud -> {"/":["VmAudit","DatastoreAudit","SysAudit"],"/access":["VmAudit","DatastoreAudit","SysAudit"],"/nodes":["VmAudit","DatastoreAudit","SysAudit"],"/storage":["VmAudit","DatastoreAudit","SysAudit"],"/vms":["VmAudit","DatastoreAudit","SysAudit"]}'
}

@test "access: a fixture change after a question is seen by the next one" {
	access "allowed bob VmAudit /vms/web-2" \
		"acl /vms/web-2 VmUser bob" \
		"allowed bob VmAudit /vms/web-2"
	assert_success
	assert_output $'allowed bob VmAudit /vms/web-2 -> no\nallowed bob VmAudit /vms/web-2 -> yes'
}

@test "access: the store lives in TMPDIR and is gone afterwards" {
	mkdir "$BATS_TEST_TMPDIR/t"
	TMPDIR=$BATS_TEST_TMPDIR/t run "$TT" access <<<$'user a Auditor\nallowed a SysAudit /'
	assert_success
	assert_output "allowed a SysAudit / -> yes"
	run ls -A "$BATS_TEST_TMPDIR/t"
	assert_output ""
	TMPDIR=$BATS_TEST_TMPDIR/t run "$TT" access <<<'user a NoSuchRole'
	assert_failure 1
	run ls -A "$BATS_TEST_TMPDIR/t"
	assert_output ""
}

@test "access: bad fixture and question lines fail with their line number" {
	run --separate-stderr "$TT" access <<<'user a NoSuchRole'
	assert_failure 1
	[[ $stderr == "hx-test-tool: line 1: "*"NoSuchRole"* ]]
	run --separate-stderr "$TT" access <<<$'user a -\nallowed a Bogus /'
	assert_failure 1
	[[ $stderr == "hx-test-tool: line 2: "*"Bogus"* ]]
	run --separate-stderr "$TT" access <<<'frobnicate'
	assert_failure 1
	[[ $stderr == "hx-test-tool: line 1: unknown or malformed line" ]]
}

# --- horcrux-top's model (horcrux-top/model.c) ---------------------------

# Four VMs whose order differs in every column, and none by name.
LIST='list [{"id":"u1","name":"alpha","state":"running","vcpus":2},{"id":"u2","name":"bravo","state":"paused"},{"id":"u3","name":"charlie","state":"crashed"},{"id":"u4","name":"delta","state":"blocked"}]'
# The same four, all running: every one of them has a CPU figure.
RUNLIST=${LIST//\"paused\"/\"running\"}
RUNLIST=${RUNLIST//\"crashed\"/\"running\"}
RUNLIST=${RUNLIST//\"blocked\"/\"running\"}
MIB=1048576
vmm() {
	# vmm ID CPU MEMPCT MEM_MIB RD WR RX TX: one VmMetrics message.
	printf '{"type":"VmMetrics","data":{"vm_id":"%s","cpu_usage":%s,"memory_usage":%s,"memory_bytes":%s,"disk_read_bps":%s,"disk_write_bps":%s,"network_rx_bps":%s,"network_tx_bps":%s}}\n' \
		"$1" "$2" "$3" $(($4 * MIB)) "$5" "$6" "$7" "$8"
}
METRICS=$(vmm u1 10 40 3 1 4 2 3; vmm u2 40 10 4 2 1 3 1
	vmm u3 30 20 1 4 3 1 4; vmm u4 20 30 2 3 2 4 2)

# top LINES...: run top-model on LINES.
top() {
	run --separate-stderr "$TT" top-model < <(printf '%s\n' "$@")
}

@test "top: every column sorts its own values, numbers descending, text ascending" {
	local col want
	for col in name:"alpha bravo charlie delta" \
		state:"delta charlie bravo alpha" \
		cpu:"bravo charlie delta alpha" \
		mempct:"alpha delta charlie bravo" \
		mem:"bravo alpha delta charlie" \
		disk_rd:"charlie delta bravo alpha" \
		disk_wr:"alpha charlie delta bravo" \
		net_rx:"delta bravo alpha charlie" \
		net_tx:"charlie alpha delta bravo"; do
		want=${col#*:} col=${col%%:*}
		# CPU is shown for running VMs only (see below).
		if [ "$col" = cpu ]; then
			top "$RUNLIST" "$METRICS" "view $col"
		else
			top "$LIST" "$METRICS" "view $col"
		fi
		assert_success
		assert_line "view $col: 4 of 4"
		assert_equal "$col: $(view_names)" "$col: $want"
	done
}

@test "top: a VM that is neither running nor blocked shows no CPU, and sorts as unknown" {
	top "$LIST" "$METRICS" "view cpu" "vm u2" "vm u3"
	assert_success
	assert_line "view cpu: 4 of 4"
	assert_line --partial "  alpha running 10.0 "
	assert_line --partial "  delta blocked 20.0 "
	assert_line --partial "  bravo paused - "
	assert_line --partial "  charlie crashed - "
	assert_equal "$(view_names)" "delta alpha bravo charlie"
}

@test "top: invert reverses the order, unknown values stay last" {
	top "$RUNLIST" "$METRICS" "view cpu invert" "view name invert"
	assert_success
	assert_equal "$(view_names)" "alpha delta charlie bravo delta charlie bravo alpha"
	top "$RUNLIST" "$(vmm u1 10 40 3 1 4 2 3; vmm u2 40 10 4 2 1 3 1)" \
		"view cpu" "view cpu invert"
	assert_equal "$(view_names)" "bravo alpha charlie delta alpha bravo delta charlie"
}

@test "top: the filter keeps names containing it, ignoring case, in the view's order" {
	top "$RUNLIST" "$METRICS" "view cpu filter=L" "view name filter=RAV" \
		"view name filter=zz"
	assert_success
	assert_line "view cpu: 3 of 4"
	assert_line "view name: 1 of 4"
	assert_line "view name: 0 of 4"
	assert_equal "$(view_names)" "charlie delta alpha bravo"
}

@test "top: cells show the metrics in units, '-' when unknown" {
	top "$LIST" "$(vmm u1 12.5 40 1024 100 2048 0 3)" \
		'{"type":"VmMetrics","data":{"vm_id":"u2","memory_bytes":536870912,"memory_max_bytes":1073741824}}' \
		"view name"
	assert_success
	assert_line --index 4 "  alpha running 12.5 40.0 1.0G 100B 2.0K 0B 3B"
	# MEM% from memory_bytes over memory_max_bytes when not sent.
	assert_line --index 5 "  bravo paused - 50.0 512M - - - -"
	assert_line --index 6 "  charlie crashed - - - - - - -"
}

@test "top: status events change the state, clear a stopped VM's metrics and are recorded" {
	top "$LIST" "$METRICS" "now 5000" \
		'{"type":"VmStatusChanged","data":{"vm_id":"u1","old_status":"running","new_status":"paused","user":"alice@local"}}' \
		"vm u1" "counts" \
		'{"type":"VmStatusChanged","data":{"vm_id":"u1","old_status":"paused","new_status":"shutoff"}}' \
		"vm u1" "counts" "view name filter=alpha"
	assert_success
	# The list, four VmMetrics, then the first status change.
	assert_line --index 5 "changed: vms"
	assert_line --index 6 "vm u1: name alpha state paused container 0 vcpus 2 metrics 1 flash_until 7000 events 1"
	assert_line --index 7 "event: running -> paused by alice@local"
	assert_line --index 8 "running 0 total 4"
	assert_line --index 10 "vm u1: name alpha state shutoff container 0 vcpus 2 metrics 0 flash_until 7000 events 2"
	assert_line --index 11 "event: paused -> shutoff"
	assert_line --index 12 "event: running -> paused by alice@local"
	assert_line "  alpha shutoff - - - - - - -"
}

@test "top: containers, new and removed VMs, and the VM list refresh" {
	top "$LIST" \
		'{"type":"ContainerStatusChanged","data":{"container_id":"c1","old_status":"shutoff","new_status":"running"}}' \
		"vm c1" \
		'{"type":"VmCreated","data":{"vm_id":"u5","name":"echo","user":"bob@local"}}' \
		"counts" "note" \
		'{"type":"VmDeleted","data":{"vm_id":"u2","name":"bravo"}}' \
		"vm u2" "view name" \
		"$LIST" "view name" "note"
	assert_success
	assert_line --index 2 "vm c1: name c1 state running container 1 vcpus 0 metrics 0 flash_until 2000 events 1"
	assert_line --index 4 "changed: vms note"
	assert_line --index 5 "running 2 total 6"
	assert_line --index 6 "note 0: VM echo defined by bob@local"
	assert_line --index 9 "need_vm_list 1 no_node 0"
	assert_line --index 11 "vm u2: absent"
	assert_line --index 12 "view name: 5 of 5"
	assert_equal "$(view_names)" "alpha c1 charlie delta echo alpha bravo charlie delta"
	# The list is the truth again: c1 and echo were not in it.
	assert_line --index 18 "list: ok"
	assert_line --index 19 "view name: 4 of 4"
	assert_line --index 24 "note 0: VM bravo undefined"
	assert_line --index 27 "need_vm_list 0 no_node 0"
}

@test "top: the VM list keeps metrics of VMs still present and refuses a non-array" {
	top "$RUNLIST" "$METRICS" \
		'list [{"id":"u3","name":"charlie","state":"running"}]' \
		"view name" 'list {"id":"u1"}' "view name"
	assert_success
	assert_line --index 6 "view name: 1 of 1"
	assert_line --index 7 "  charlie running 30.0 20.0 1.0M 4B 3B 1B 4B"
	assert_line --index 8 "list: refused"
	assert_line --index 9 "view name: 1 of 1"
}

@test "top: unknown types and broken messages change nothing" {
	top "$LIST" "$METRICS" \
		'{"type":"VmExploded","data":{"vm_id":"u1","new_status":"gone"}}' \
		'{"type":"VmStatusChanged","data":"not an object"}' \
		'{"type":"VmStatusChanged","data":{"vm_id":"u1"}}' \
		'{"data":{"vm_id":"u1","new_status":"gone"}}' \
		'{"type":"VmMetrics"' \
		"vm u1" "counts"
	assert_success
	assert_line --index 5 "changed: nothing"
	assert_line --index 6 "changed: nothing"
	assert_line --index 7 "changed: nothing"
	assert_line --index 8 "changed: nothing"
	assert_line --index 9 "changed: nothing"
	assert_line --index 10 "vm u1: name alpha state running container 0 vcpus 2 metrics 1 flash_until 0 events 0"
	assert_line --index 11 "running 1 total 4"
}

@test "top: NodeMetrics, notifications and refused topics" {
	top '{"type":"NodeMetrics","data":{"cpu_usage":33.5,"memory_usage":null}}' \
		"node cpu_usage" "node memory_usage" "node nothing" \
		'{"type":"Notification","data":{"title":"Connected","message":"live updates for user alice@pam","level":"info"}}' \
		'{"type":"Error","data":{"code":"FORBIDDEN_TOPIC","topic":"node:metrics"}}' \
		'{"type":"Error","data":{"code":"UNKNOWN_TOPIC","topic":"vm:x"}}' \
		"note" \
		'{"type":"AlertTriggered","data":{"rule_name":"hot","target":"web","message":"cpu","severity":"critical"}}' \
		'{"type":"Subscribed","data":{}}' "note"
	assert_success
	assert_line --index 0 "changed: node"
	assert_line --index 1 "node cpu_usage: 33.5"
	assert_line --index 2 "node memory_usage: unknown"
	assert_line --index 3 "node nothing: unknown"
	assert_line --index 7 "note 0: Connected: live updates for user alice@pam"
	assert_line --index 8 "hidden: not shown (no privilege): node:metrics, vm:x"
	assert_line --index 9 "user: alice@pam"
	assert_line --index 10 "need_vm_list 0 no_node 1"
	assert_line --index 12 "changed: subscribed"
	assert_line --index 13 "note 2: ALERT hot on web: cpu"
	assert_line --index 14 "hidden: "
	assert_line --index 16 "need_vm_list 0 no_node 0"
}

@test "top: held (paused), metrics change nothing while status events still count" {
	top "$LIST" "$(vmm u1 10 40 3 1 4 2 3)" "hold 1" \
		"$(vmm u1 99 40 3 1 4 2 3)" \
		'{"type":"NodeMetrics","data":{"cpu_usage":50}}' \
		'{"type":"VmStatusChanged","data":{"vm_id":"u2","old_status":"paused","new_status":"running"}}' \
		"view name filter=a" "node cpu_usage" "hold 0" \
		"$(vmm u1 99 40 3 1 4 2 3)" "view name filter=alpha"
	assert_success
	assert_line --index 2 "changed: nothing"
	assert_line --index 3 "changed: nothing"
	assert_line --index 4 "changed: vms"
	assert_line --index 6 "  alpha running 10.0 40.0 3.0M 1B 4B 2B 3B"
	assert_line --index 7 "  bravo running - - - - - - -"
	assert_line --index 10 "node cpu_usage: unknown"
	assert_line --index 11 "changed: vms"
	assert_line --index 13 "  alpha running 99.0 40.0 3.0M 1B 4B 2B 3B"
}

# --- coalescing (horcruxd/outq.c) ----------------------------------------

@test "coalesce: a newer metric replaces an unsent one of its key, in the first key's place" {
	run "$TT" coalesce <<-'EOF2'
	push NodeMetrics node n1
	push VmMetrics vm:a a1
	push VmMetrics vm:b b1
	push NodeMetrics node n2
	push VmMetrics vm:a a2
	drain
	EOF2
	assert_success
	assert_output "$(printf 'queued\n%.0s' 1 2 3 4 5)
NodeMetrics n2
VmMetrics a2
VmMetrics b1
empty"
}

@test "coalesce: the frames a newer one replaced are counted, a pop or a new key is not" {
	run "$TT" coalesce <<-'EOF2'
	coalesced
	push NodeMetrics node n1
	push VmMetrics vm:a a1
	coalesced
	push NodeMetrics node n2
	push NodeMetrics node n3
	coalesced
	drain
	push NodeMetrics node n4
	push VmStatusChanged - s1
	push VmStatusChanged - s2
	coalesced
	drain
	EOF2
	assert_success
	assert_line --index 0 "coalesced 0"
	assert_line --index 3 "coalesced 0"
	assert_line --index 6 "coalesced 2"
	assert_line --index 13 "coalesced 2"
}

@test "coalesce: discrete events keep their order, go before metrics, and are never merged" {
	run "$TT" coalesce <<-'EOF2'
	push NodeMetrics node n1
	push VmStatusChanged - s1
	push VmStatusChanged - s2
	pop
	push VmStatusChanged - s3
	drain
	EOF2
	assert_success
	assert_output "queued
queued
queued
VmStatusChanged s1
queued
VmStatusChanged s2
VmStatusChanged s3
NodeMetrics n1
empty"
}

@test "coalesce: the FIFO refuses past its bound, metrics still coalesce, popping makes room" {
	run "$TT" coalesce 2 <<-'EOF2'
	push Error - e1
	push Error - e2
	push Error - e3
	push Ping ping p1
	push Ping ping p2
	pop
	push Error - e4
	drain
	EOF2
	assert_success
	assert_output "queued
queued
full
queued
queued
Error e1
queued
Error e2
Error e4
Ping p2
empty"
}

@test "coalesce: clear drops everything and the queue stays usable; bad lines are errors" {
	run "$TT" coalesce <<-'EOF2'
	push Error - e1
	push NodeMetrics node n1
	clear
	pop
	push Error - e2
	pop
	EOF2
	assert_success
	assert_output "queued
queued
empty
queued
Error e2"
	run "$TT" coalesce <<<"push Error"
	assert_failure 1
	run "$TT" coalesce many
	assert_failure 2
}
