# horcrux-top inside a detached tmux of a fixed size, as STYLE.md asks:
# send keys, capture the pane, assert on what a person would see.
# Each test gets its own tmux server (-L) so nothing leaks between tests.
# Load after helpers/common.

load helpers/tmux

TOP=$HX_BUILD/horcrux-top
TMUX_S=top

# top_start [ARGS...]: run horcrux-top on $SOCK in a W x H (default
# 120x40) tmux pane; its stderr goes to $TOP_ERR, its exit status to
# $TOP_EXIT once it ends. Extra environment: TOP_ENV="NAME=value ...".
top_start() {
	TMUX_L=hx-top-$$-$BATS_TEST_NUMBER
	TOP_ERR=$BATS_TEST_TMPDIR/top.err
	TOP_EXIT=$BATS_TEST_TMPDIR/top.exit
	rm -f "$TOP_EXIT"
	local cmd
	cmd=$(printf '%q ' env ${TOP_ENV:-} "$TOP" -c "unix:$SOCK" "$@")
	tmux -L "$TMUX_L" -f /dev/null new-session -d -s top \
		-x "${W:-120}" -y "${H:-40}" \
		"$cmd 2>$(printf %q "$TOP_ERR"); echo \$? >$(printf %q "$TOP_EXIT"); echo TOP-EXITED; exec sleep 600"
	tmux -L "$TMUX_L" set-option -t top remain-on-exit on >/dev/null
}

# top_stop: quit horcrux-top with q if it still runs (as a person would),
# end the tmux server, make sure no horcrux-top of this test is left
# (killing one that hangs, and failing), then fail if its stderr holds a
# sanitizer report.
top_stop() {
	[ -n "${TMUX_L:-}" ] || return 0
	local i left rc=0
	if [ ! -e "$TOP_EXIT" ]; then
		tmux -L "$TMUX_L" send-keys -t top q 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			[ -e "$TOP_EXIT" ] && break
			sleep 0.05
		done
	fi
	tmux -L "$TMUX_L" kill-server 2>/dev/null || true
	TMUX_L=
	for ((i = 0; i < 100; i++)); do
		left=$(pgrep -f "^$TOP -c unix:$SOCK( |\$)" || true)
		[ -z "$left" ] && break
		sleep 0.05
	done
	if [ -n "$left" ]; then
		echo "horcrux-top did not exit: $left" >&2
		kill -KILL $left 2>/dev/null || true
		rc=1
	fi
	if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TOP_ERR" >&2; then
		echo "sanitizer report from horcrux-top" >&2
		rc=1
	fi
	return $rc
}

# table_names: the NAME column of the VM table, top to bottom.
table_names() {
	pane | awk '/^ NAME/{t=1; next} t && NF >= 2 && $1 !~ /^h$/ {print $1}' |
		grep -v '^h$' | sed 's/^\*//'
}
