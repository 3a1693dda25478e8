#!/usr/bin/env bats
# The shipped status rule on a real crash: a qemu:///session VM (the tiny
# TCG guest of helpers/qemu) whose qemu process is killed with SIGKILL.
# libvirt then reports the domain "shut off" with reason "crashed" (a
# STOPPED event with detail FAILED), which horcruxd's alert rules see as
# `crashed` (DESIGN §9's "any VM crashed"): AlertTriggered from
# vm-crashed, and AlertResolved once the VM runs again. Skipped where the
# session libvirtd or QEMU cannot run (see qemu_session_skip_reason).

load helpers/common
load helpers/qemu

setup_file() {
	local reason
	reason=$(qemu_session_skip_reason)
	[ -z "$reason" ] || skip "$reason"
	qemu_session_setup
}

teardown_file() {
	qemu_session_teardown
}

setup() {
	vm_running
}

teardown() {
	ws_stop
	stop_session_daemon
}

@test "killing the VM's qemu fires vm-crashed; starting it again resolves it" {
	local pidf=$QT/run/libvirt/qemu/run/$QVM.pid qpid ev
	start_session_daemon --vm-interval 0.5
	ws=$BATS_TEST_TMPDIR/ws
	ws_start "$ws" '["alerts","vm:status"]' 120
	qpid=$(cat "$pidf")
	[ -n "$qpid" ]
	kill -KILL "$qpid"
	ev='.frame.type == "AlertTriggered" and .frame.data.rule_name == "vm-crashed"'
	wait_frames "$ws" "$ev" 1 30
	trig=$(frames_where "$ws" "$ev" | head -1)
	jq -e --arg t "vm:$QVM" '.frame.data | .target == $t and
		.severity == "critical" and (.seq | type) == "number" and
		.value == null' <<<"$trig"
	# What libvirt itself says of the domain now.
	run vsh domstate "$QVM" --reason
	echo "virsh: $output" >&2
	[[ $output == "shut off (crashed)" || $output == crashed* ]]
	id=$(jq -r .frame.data.alert_id <<<"$trig")
	out=$(curl -s --unix-socket "$SOCK" http://localhost/api/alerts)
	jq -e --arg id "$id" '.alerts[] | select(.alert_id == $id) |
		.state == "firing" and .series == null' <<<"$out"

	vm_running
	wait_frames "$ws" ".frame.type == \"AlertResolved\" and .frame.data.alert_id == \"$id\"" 1 30
	# One episode: a single AlertTriggered for the crash.
	[ "$(frames_where "$ws" "$ev" | wc -l)" -eq 1 ]
}
