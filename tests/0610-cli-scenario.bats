#!/usr/bin/env bats
# The access model managed from horcrux-cli alone, as an administrator
# would: users with each built-in role, a narrow ACL on one VM, a scoped
# API key used by `events` and `vm list` (it sees web-1 only), the key
# revoked (the live stream ends with exit 1 and the reason), the user
# deleted.

load helpers/common
load helpers/cli

setup() {
	DDIR=$BATS_TEST_TMPDIR/hx
	start_daemon --libvirt-uri "$NODE" --vm-interval 0.3
	cli_env "$BATS_TEST_TMPDIR"
	cli_wait_vms
}

teardown() {
	[ -n "${EV_PID:-}" ] && kill "$EV_PID" 2>/dev/null
	stop_daemon
}

@test "an administrator bootstraps users with every built-in role and logs in as one" {
	local r
	for r in Administrator VmAdmin VmUser StorageAdmin Auditor; do
		cli_mkuser "u-$r" --role "$r"
	done
	run -0 "$CLI" -o json user list
	assert_equal "$(jq -c 'map([.username, .roles[0]]) | sort' <<<"$output")" \
		'[["u-Administrator","Administrator"],["u-Auditor","Auditor"],["u-StorageAdmin","StorageAdmin"],["u-VmAdmin","VmAdmin"],["u-VmUser","VmUser"]]'
	# The new administrator takes over: log in, work without root.
	run -0 "$CLI" login u-Administrator --password-stdin <<<"pw-u-Administrator-123"
	run -0 "$CLI" whoami
	assert_line --regexp '^User: +u-Administrator@local$'
	run -0 "$CLI" -c "$URL" user modify u-Auditor --disable
	# Each role sees what it should: a StorageAdmin no VMs, VmUser all ten.
	tok_s=$(curl -s "$URL/api/auth/login" -H 'Content-Type: application/json' \
		-d '{"username":"u-StorageAdmin","password":"pw-u-StorageAdmin-123"}' | jq -r .token)
	HORCRUX_TOKEN=$tok_s run -0 "$CLI" -o json vm list
	assert_equal "$(jq length <<<"$output")" 0
	HORCRUX_TOKEN=$tok_s run -4 --separate-stderr "$CLI" user list
	assert_equal "$stderr" "horcrux-cli: cannot list the users: insufficient privileges: SysAudit on /access needed"
	run -0 "$CLI" logout
}

@test "a narrow ACL and a scoped key: events and vm list see web-1 only; revoking ends the stream" {
	cli_mkuser webop
	run -0 "$CLI" acl grant /vms/web-1 VmUser webop
	run -0 --separate-stderr "$CLI" -o json apikey create webop --name ci --expires 1
	key=$(jq -r .token <<<"$output")
	kid=$(jq -r .key_id <<<"$output")
	[[ $key == hx_${kid}_* ]]
	assert_equal "$(jq -r '[.user, .userid] | join(" ")' <<<"$output")" "webop webop@local"
	assert_equal "$(jq -r .expires_at <<<"$output" | cut -c1-4)" "$(date -u -d tomorrow +%Y)"

	HORCRUX_API_KEY=$key run -0 "$CLI" -o json vm list
	assert_equal "$(jq -c 'map(.id)' <<<"$output")" '["web-1"]'
	HORCRUX_API_KEY=$key run -4 --separate-stderr "$CLI" vm show web-2
	HORCRUX_API_KEY=$key run -4 --separate-stderr "$CLI" events node:metrics
	[[ $stderr == *"warning: node:metrics: "*"cannot stream events: no topic allowed" ]] || { echo "$stderr"; false; }

	# Power events: web-2 first, then web-1; the key's stream shows web-1's,
	# without who acted (webop may not read identities).
	ev=$BATS_TEST_TMPDIR/ev.json
	HORCRUX_API_KEY=$key timeout 30 "$CLI" -o json events vm:status vm:metrics >"$ev" 2>"$ev.err" 3>&- &
	EV_PID=$!
	wait_file_match "$ev" '"type":"VmMetrics"'
	run -0 "$CLI" vm suspend web-2
	run -0 "$CLI" vm suspend web-1
	wait_file_match "$ev" '"type":"VmStatusChanged"'
	run -0 "$CLI" vm resume web-1
	run -0 "$CLI" vm resume web-2
	wait_file_match "$ev" '"new_status":"running"'
	assert_equal "$(jq -r 'select(.type=="VmStatusChanged") | .data | "\(.vm_id) \(.new_status) \(.user)"' "$ev")" \
		"web-1 paused null
web-1 running null"
	assert_equal "$(jq -r 'select(.type=="VmMetrics") | .data.vm_id' "$ev" | sort -u)" web-1

	# The key's owner uses it to power web-1: allowed by the ACL.
	HORCRUX_API_KEY=$key run -0 "$CLI" vm reboot web-1
	HORCRUX_API_KEY=$key run -4 --separate-stderr "$CLI" vm reboot web-2
	assert_equal "$stderr" "horcrux-cli: cannot reboot VM 'web-2': insufficient privileges: VmPowerMgmt on /vms/web-2 needed"

	# Revoke it: the live stream ends at once, exit 1 with the reason.
	run -0 "$CLI" apikey revoke webop "$kid"
	wait "$EV_PID" && rc=0 || rc=$?
	EV_PID=
	assert_equal "$rc" 1
	run cat "$ev.err"
	assert_output "horcrux-cli: the event stream ended: closed by the server (1008): credentials revoked"
	HORCRUX_API_KEY=$key run -3 "$CLI" vm list

	# And the user goes, with the ACL entry.
	run -0 "$CLI" user delete webop
	run -0 "$CLI" -o json acl list
	assert_equal "$output" "[]"
	run -1 "$CLI" user show webop
}

@test "a key restricted to one of its owner's roles narrows what the owner could do" {
	cli_mkuser ops --role Auditor --role VmAdmin
	key=$(cli_key ops --name audit-only --role Auditor)
	HORCRUX_API_KEY=$key run -0 "$CLI" -o json whoami
	# The key's privileges are the Auditor's only.
	assert_equal "$(jq -c '.privileges["/"]' <<<"$output")" '["VmAudit","DatastoreAudit","SysAudit"]'
	assert_equal "$(jq -c '.privileges["/vms"] | index("VmPowerMgmt")' <<<"$output")" null
	HORCRUX_API_KEY=$key run -0 "$CLI" vm list
	HORCRUX_API_KEY=$key run -4 "$CLI" vm suspend web-2
	# Without the restriction the same user may.
	key2=$(cli_key ops --name full)
	HORCRUX_API_KEY=$key2 run -0 "$CLI" vm suspend web-2
	run -0 "$CLI" -o json apikey list ops
	assert_equal "$(jq -c 'map([.name, .roles]) | sort' <<<"$output")" '[["audit-only",["Auditor"]],["full",null]]'
}
