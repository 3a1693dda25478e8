#!/usr/bin/env bats
# The interactive shell through a real pty (a detached tmux): the prompt,
# Tab completion of a command, a subcommand and a live username, history
# recalled with Up (and kept in $XDG_STATE_HOME), Ctrl-C, Ctrl-D. Then the
# shell completions: bash called with COMP_WORDS like bash does, fish's
# `complete -C`, zsh's file loading and registering; all offer the same
# words as __complete, live names included.

load helpers/common
load helpers/cli
load helpers/tmux

setup_file() {
	cli_start_daemon || return 1
	cli_mkuser zebediah --role Auditor || return 1
}

teardown_file() {
	stop_daemon
}

setup() {
	TMUX_L=hxcli-$$-$BATS_TEST_NUMBER
	TMUX_S=cli
}

teardown() {
	tmux -L "$TMUX_L" kill-server 2>/dev/null || true
}

start_shell() {
	rm -f "$BATS_TEST_TMPDIR/rc"
	tmux -L "$TMUX_L" new-session -d -s cli -x 150 -y 40 \
		"$CLI 2>$BATS_TEST_TMPDIR/err; echo \$? >$BATS_TEST_TMPDIR/rc; sleep 60"
	wait_pane '^root@local@.+>$'
}

# wait_exit: until the shell has exited; prints its status.
wait_exit() {
	local i
	for i in $(seq 1 100); do
		[ -s "$BATS_TEST_TMPDIR/rc" ] && { cat "$BATS_TEST_TMPDIR/rc"; return 0; }
		sleep 0.05
	done
	echo "the shell did not exit" >&2
	return 1
}

@test "shell: prompt, Tab completes a command, a subcommand and a username; Ctrl-D exits 0" {
	start_shell
	pane | grep -q "^horcrux-cli 0.1.0 on unix:$SOCK as root@local"
	keys 'us' Tab
	wait_pane '> user$'
	keys 'sh' Tab
	wait_pane '> user show$'
	keys 'zeb' Tab
	wait_pane '> user show zebediah$'
	keys Enter
	wait_pane '^Roles: +Auditor$'
	# A flag and a live role name after it.
	keys 'user modify zebediah --ro' Tab
	wait_pane '> user modify zebediah --role$'
	keys 'VmU' Tab
	wait_pane '> user modify zebediah --role VmUser$'
	# Ctrl-C abandons the line and gives a fresh prompt.
	keys C-c
	wait_pane '^root@local@.+>$'
	run -0 "$CLI" -o json user show zebediah
	assert_equal "$(jq -c .roles <<<"$output")" '["Auditor"]'
	keys C-d
	run -0 wait_exit
	assert_output 0
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ""
}

@test "shell: history is recalled with Up and kept in XDG_STATE_HOME across runs" {
	rm -f "$XDG_STATE_HOME/horcrux/history"
	start_shell
	keys 'role show VmUser' Enter
	wait_pane '^Scope: +/vms$'
	keys 'privilege list' Enter
	wait_pane '^PoolAllocate +'
	keys Up Up
	wait_pane '> role show VmUser$'
	keys C-u 'quit' Enter
	run -0 wait_exit
	assert_output 0
	run -0 cat "$XDG_STATE_HOME/horcrux/history"
	assert_output "role show VmUser
privilege list
quit"
	assert_equal "$(stat -c %a "$XDG_STATE_HOME/horcrux")" 700
	# A new shell remembers.
	tmux -L "$TMUX_L" kill-server
	start_shell
	keys Up Up
	wait_pane '> privilege list$'
	keys C-u 'exit' Enter
	run -0 wait_exit
	assert_output 0
}

@test "shell: errors do not end the session; events ends with Ctrl-C back at the prompt" {
	start_shell
	keys 'user show nobody' Enter
	wait_file_match "$BATS_TEST_TMPDIR/err" "^horcrux-cli: cannot show user 'nobody': no such user$"
	keys 'events vm:metrics' Enter
	wait_pane ' VmMetrics vm_id='
	keys C-c
	wait_pane '^root@local@.+>$'
	# Numbers as the daemon wrote them (25.01, not 25.010000000000002).
	run -0 pane
	refute_output --regexp 'cpu_usage=[0-9]+\.[0-9]{5}'
	keys 'whoami' Enter
	wait_pane '^User: +root@local$'
	keys C-d
	run -0 wait_exit
	assert_output 0
}

@test "__complete: commands, subcommands, flags, live names, global -c" {
	run -0 "$CLI" __complete ''
	assert_line login
	assert_line apikey
	refute_line __complete
	run -0 "$CLI" __complete us sh ze
	assert_output zebediah
	run -0 "$CLI" __complete acl grant /vms/web-
	assert_output "/vms/web-1
/vms/web-2"
	run -0 "$CLI" __complete acl grant /vms/web-1 VmU
	assert_output VmUser
	run -0 "$CLI" __complete role add R VmP
	assert_output VmPowerMgmt
	run -0 "$CLI" __complete role add R VmAudit Sys
	assert_output "SysModify
SysAudit"
	run -0 "$CLI" __complete events vm:s
	assert_output vm:status
	run -0 "$CLI" __complete apikey create --
	assert_output "--name
--expires
--role
--output"
	run -0 "$CLI" __complete audit --
	assert_output "--user
--action
--since
--limit
--output"
	run -0 "$CLI" __complete role modify R VmAudit Sys
	assert_output "SysModify
SysAudit"
	run -0 "$CLI" __complete user permissions zebediah /acc
	assert_output "/access"
	run -0 "$CLI" __complete session list ze
	assert_output zebediah
	run -0 "$CLI" __complete vm list -o ''
	assert_output "table
json"
	key=$(cli_key zebediah --name k1)
	kid=${key:3:16}
	run -0 "$CLI" __complete apikey revoke zebediah ''
	assert_output "$kid"
	# -c on the line picks the daemon; an unreachable one gives no names.
	run -0 "$CLI" __complete -c "unix:$BATS_TEST_TMPDIR/none" user show ''
	assert_output ""
	HORCRUX_SERVER=unix:/nonexistent run -0 "$CLI" __complete -c "unix:$SOCK" user show z
	assert_output zebediah
}

@test "bash completion: the function with COMP_WORDS offers commands, flags and live names" {
	touch "$BATS_TEST_TMPDIR/my.key" "$BATS_TEST_TMPDIR/subfile"
	mkdir "$BATS_TEST_TMPDIR/sub"
	run -0 env PATH="$HX_BUILD:$PATH" bash -c '
		source "$1"
		complete -p horcrux-cli
		c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _horcrux_cli; echo "${COMPREPLY[*]}"; }
		c horcrux-cli ""
		c horcrux-cli us ""
		c horcrux-cli user show ze
		c horcrux-cli user add x --r
		c horcrux-cli acl grant /vms/web-1 Vm
		c horcrux-cli vm start web
		COMP_LINE="horcrux-cli events vm:st" COMP_POINT=24 c horcrux-cli events vm : st
		cd "$2" && c horcrux-cli --api-key-file my
		c horcrux-cli admin backup --force my
		c horcrux-cli admin backup --data-dir su
	' _ "$HX_REPO/completions/horcrux-cli.bash" "$BATS_TEST_TMPDIR"
	assert_line --index 0 "complete -F _horcrux_cli horcrux-cli"
	assert_line --index 1 "login logout whoami user role privilege acl apikey session audit vm node notify events history alert admin help version quit exit"
	assert_line --index 2 "list show add modify delete passwd sessions logout permissions"
	assert_line --index 3 "zebediah"
	assert_line --index 4 "--realm --role"
	assert_line --index 5 "VmAdmin VmUser"
	assert_line --index 6 "web-1 web-2"
	# "vm:st" is three words to bash; it replaces only "st".
	assert_line --index 7 "status"
	# A key file completes as a file name.
	assert_line --index 8 "my.key"
	# So do admin backup's FILE and --data-dir (directories only).
	assert_line --index 9 "my.key"
	assert_line --index 10 "sub"
}

@test "fish completion loads and offers the same words" {
	run -0 env PATH="$HX_BUILD:$PATH" fish -c "source $HX_REPO/completions/horcrux-cli.fish; complete -C'horcrux-cli us'; complete -C'horcrux-cli user show ze'"
	assert_output "user
zebediah"
	# admin backup's FILE and --data-dir are paths (file names, directories).
	touch "$BATS_TEST_TMPDIR/my.key"
	mkdir "$BATS_TEST_TMPDIR/sub"
	run -0 env PATH="$HX_BUILD:$PATH" fish -c "cd $BATS_TEST_TMPDIR; source $HX_REPO/completions/horcrux-cli.fish; complete -C'horcrux-cli admin backup my'; complete -C'horcrux-cli admin backup --data-dir su'; complete -C'horcrux-cli admin ba'"
	assert_output "my.key
sub/
backup"
}

@test "zsh completion loads (sourced after compinit, or from fpath) without error" {
	run -0 --separate-stderr zsh -f -c "autoload -U compinit; compinit -u -d $BATS_TEST_TMPDIR/zcd; source $HX_REPO/completions/_horcrux-cli; print -r -- \$_comps[horcrux-cli]"
	assert_output _horcrux-cli
	assert_equal "$stderr" ""
	run -0 --separate-stderr zsh -f -c "fpath=($HX_REPO/completions \$fpath); autoload -U compinit; compinit -u -d $BATS_TEST_TMPDIR/zcd2; print -r -- \$_comps[horcrux-cli]"
	assert_output _horcrux-cli
	assert_equal "$stderr" ""
}
