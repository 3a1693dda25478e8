# A program under test in a detached tmux of a fixed size, driven as a
# person would: send keys, capture the pane, wait for text. Used by the
# horcrux-top (helpers/top.bash) and horcrux-cli shell suites. The caller
# sets TMUX_L (its own tmux server, so nothing leaks between tests) and
# TMUX_S (the session name).

# pane [-e]: the visible pane as text (-e keeps the SGR attributes).
pane() {
	tmux -L "$TMUX_L" capture-pane -p "$@" -t "$TMUX_S"
}

# keys KEY...: tmux send-keys (names like Enter, Escape, Up, F1, C-l).
keys() {
	tmux -L "$TMUX_L" send-keys -t "$TMUX_S" "$@"
}

# wait_pane ERE [SECONDS]: until the pane matches ERE (default 10 s);
# on failure shows the pane.
wait_pane() {
	local i n=$(( ${2:-10} * 20 ))
	for ((i = 0; i < n; i++)); do
		pane | grep -Eq -- "$1" && return 0
		sleep 0.05
	done
	echo "pane never matched /$1/:" >&2
	pane >&2
	return 1
}

# wait_pane_gone ERE [SECONDS]: until the pane no longer matches ERE.
wait_pane_gone() {
	local i n=$(( ${2:-10} * 20 ))
	for ((i = 0; i < n; i++)); do
		pane | grep -Eq -- "$1" || return 0
		sleep 0.05
	done
	echo "pane still matches /$1/:" >&2
	pane >&2
	return 1
}
