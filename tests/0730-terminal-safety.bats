#!/usr/bin/env bats
# Names that try to take over a terminal: a VM name and a user's e-mail
# holding U+202E (right-to-left override), U+200F and C1 controls
# (U+009B is CSI on terminals that obey C1). horcrux-cli's tables and
# horcrux-top's screen and batch text show each as one '?'; JSON output
# (-o json, --json) escapes them as \uXXXX, decoding to the same text.

load helpers/common
load helpers/api
load helpers/top

CLI=$HX_BUILD/horcrux-cli
RAW=$(printf 'vm-\u202etxt\u009b2J\u200f')
SAFE='vm-?txt?2J?'

teardown() {
	top_stop
	stop_daemon
}

start_bidi() {
	node=$BATS_TEST_TMPDIR/bidi.xml
	one_vm_node "$node" 'vm-&#x202E;txt&#x9B;2J&#x200F;'
	start_daemon --libvirt-uri "test://$node" --vm-interval 0.3
	wait_sample
	wait_vms
	export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config
	mkdir -p "$HOME"
	export HORCRUX_SERVER="unix:$SOCK"
}

# no_raw TEXT: TEXT holds none of the raw controls' bytes (U+202E,
# U+200F, U+009B, U+0085).
no_raw() {
	! LC_ALL=C grep -q $'\xe2\x80\xae\|\xe2\x80\x8f\|\xc2\x9b\|\xc2\x85' <<<"$1"
}

@test "horcrux-cli: tables show the controls as '?', -o json escapes them" {
	start_bidi
	run -0 "$CLI" vm list
	assert_line --regexp "^${SAFE//\?/\\?} +${SAFE//\?/\\?} +running"
	no_raw "$output"
	run -0 "$CLI" -o json vm list
	no_raw "$output"
	assert_output --partial '"vm-\u202etxt\u009b2J\u200f"'
	assert_equal "$(jq -r '.[0].id' <<<"$output")" "$RAW"
	# A user's field too: the e-mail comes back from the daemon.
	curl -sf --unix-socket "$SOCK" -X POST http://localhost/api/users \
		-H 'Content-Type: application/json' \
		-d '{"username":"eve","password":"eve-pass-123","email":"x\u202ey\u0085z@example.org"}' >/dev/null
	run -0 "$CLI" user show eve
	assert_line --regexp '^E-?mail: +x\?y\?z@example\.org$'
	no_raw "$output"
	run -0 "$CLI" -o json user show eve
	no_raw "$output"
	assert_output --partial '"x\u202ey\u0085z@example.org"'
}

@test "horcrux-top: the screen and batch text show '?', --json escapes" {
	start_bidi
	run --separate-stderr "$TOP" -c "unix:$SOCK" -b -n 1
	assert_success
	assert_line --regexp "^${SAFE//\?/\\?} +running"
	no_raw "$output"
	run --separate-stderr "$TOP" -c "unix:$SOCK" --json -n 1
	assert_success
	no_raw "$output"
	assert_output --partial '"vm-\u202etxt\u009b2J\u200f"'
	assert_equal "$(jq -r '.vms[0].name' <<<"$output")" "$RAW"
	top_start
	wait_pane "${SAFE//\?/\\?} +running"
	no_raw "$(pane)"
}
