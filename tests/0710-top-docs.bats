#!/usr/bin/env bats
# horcrux-top's man page, --help and completions against its option
# table (`horcrux-top --dump-options`): every flag documented with its
# default, in --help, and offered by bash, zsh and fish; the page renders
# without warnings; its KEYS are the key table's (`horcrux-top --dump-keys',
# the table the key handler and the help screen use), no more, no less.
#
# Self-contained (no helpers/common): it starts no daemon.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
TOP=${HX_BUILD:-$REPO/build/release}/horcrux-top
MAN1=$REPO/man/horcrux-top.1
BASHC=$REPO/completions/horcrux-top.bash
ZSHC=$REPO/completions/_horcrux-top
FISHC=$REPO/completions/horcrux-top.fish

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

load_table() {
	local k f s t d
	KEY=() FLAG=() SHORT=() DFLT=()
	while IFS=$'\t' read -r k f s t d; do
		KEY+=("$k") FLAG+=("$f") SHORT+=("$s") DFLT+=("$d")
	done < <("$TOP" --dump-options)
	((${#KEY[@]} >= 8)) ||
		fail "horcrux-top --dump-options printed only ${#KEY[@]} options"
}

render() {
	groff -mdoc -Tascii -rLL=4000n -P-cbou "$1" 2>/dev/null
}

@test "horcrux-top(1) has an entry for every flag, with its default, and --help lists it" {
	local i page help tag
	load_table
	page=$(render "$MAN1")
	help=$("$TOP" --help)
	for i in "${!KEY[@]}"; do
		tag="--${FLAG[i]}"
		[ "${SHORT[i]}" = - ] || tag="-${SHORT[i]}, --${FLAG[i]}"
		para=$(awk -v t="     $tag" 'f && /^[[:space:]]*$/ { exit } f { printf " %s", $0; next }
			index($0, t) == 1 { f = 1; printf "%s", $0 }' <<<"$page")
		[ -n "$para" ] || fail "horcrux-top(1): no entry for $tag"
		if [ -n "${DFLT[i]}" ]; then
			[[ $para == *"Default: ${DFLT[i]}."* ]] ||
				fail "horcrux-top(1) $tag: no 'Default: ${DFLT[i]}.'" "$para"
		else
			[[ $para == *"Default: none"* ]] ||
				fail "horcrux-top(1) $tag: no 'Default: none'" "$para"
		fi
		[[ $help == *"--${FLAG[i]}"* ]] || fail "--help lacks --${FLAG[i]}"
	done
}

# The KEYS list of the page's source, one binding per line as the key table
# names it: `.It Ic h , \&? , F1' is "h ? F1".
man_keys() {
	sed -n '/^\.Sh KEYS$/,/^\.Sh /s/^\.It Ic //p' "$MAN1" |
		sed 's/\\&//g; s/\\-/-/g; s/ ,//g' | sort -u
}

@test "horcrux-top(1) KEYS has every binding of the key table (--dump-keys) and no other" {
	local dump man name
	dump=$("$TOP" --dump-keys | cut -f1 | sort -u)
	(($(wc -l <<<"$dump") >= 10)) || fail "--dump-keys printed only: $dump"
	man=$(man_keys)
	(($(wc -l <<<"$man") >= 10)) || fail "horcrux-top(1) KEYS has only: $man"
	while IFS= read -r name; do
		grep -qxF -- "$name" <<<"$man" ||
			fail "horcrux-top(1) KEYS: no entry for '$name' of the key table"
	done <<<"$dump"
	while IFS= read -r name; do
		grep -qxF -- "$name" <<<"$dump" ||
			fail "horcrux-top(1) KEYS: '$name' is bound to nothing"
	done <<<"$man"
	# The rendered page shows them too (alternatives separated by commas).
	page=$(render "$MAN1")
	for k in 'q, F10' 'h, ?, F1' 'Up Down PgUp PgDn Home End'; do
		grep -qF -- "     $k" <<<"$page" || fail "horcrux-top(1): key '$k' not rendered"
	done
}

@test "horcrux-top(1) documents the exit codes" {
	page=$(render "$MAN1")
	for c in 0 1 2 3 4; do
		grep -qE "^     $c +" <<<"$(sed -n '/^EXIT STATUS/,/^EXAMPLES/p' <<<"$page")" ||
			fail "horcrux-top(1): exit status $c missing"
	done
}

@test "horcrux-top(1) renders with no groff or man warnings" {
	for m in -mdoc -mandoc; do
		run --separate-stderr groff -ww -z -Tutf8 "$m" "$MAN1"
		[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail "groff $m:" "$stderr"
	done
	run --separate-stderr env MANWIDTH=80 MANPAGER=cat man --warnings -l "$MAN1"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail "man -l:" "$stderr"
	[[ $output == *"live console"* ]] || fail "man -l printed nothing useful"
}

@test "bash: the completion offers every flag, and files for --api-key-file" {
	load_table
	source "$BASHC"
	COMP_WORDS=(horcrux-top -) COMP_CWORD=1
	_horcrux_top
	for i in "${!KEY[@]}"; do
		[[ " ${COMPREPLY[*]} " == *" --${FLAG[i]} "* ]] || fail "bash: no --${FLAG[i]}"
		[ "${SHORT[i]}" = - ] || [[ " ${COMPREPLY[*]} " == *" -${SHORT[i]} "* ]] ||
			fail "bash: no -${SHORT[i]}"
	done
	[[ " ${COMPREPLY[*]} " != *" --dump-options "* ]] || fail "bash offers the hidden option"
	[[ " ${COMPREPLY[*]} " != *" --dump-keys "* ]] || fail "bash offers --dump-keys"
	cd "$BATS_TEST_TMPDIR" && touch my.key
	COMP_WORDS=(horcrux-top --api-key-file my) COMP_CWORD=2
	_horcrux_top
	[ "${COMPREPLY[*]}" = my.key ] || fail "bash: --api-key-file offered '${COMPREPLY[*]}'"
	COMP_WORDS=(horcrux-top -c un) COMP_CWORD=2
	_horcrux_top
	[ "${COMPREPLY[*]}" = unix:/run/horcrux/horcruxd.sock ] || fail "bash: -c offered '${COMPREPLY[*]}'"
}

@test "zsh: the completion names every flag and loads without error" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	load_table
	for i in "${!KEY[@]}"; do
		grep -Eq -- "--${FLAG[i]}([^a-z-]|\$)" "$ZSHC" || fail "_horcrux-top: no --${FLAG[i]}"
		[ "${SHORT[i]}" = - ] || grep -Eq -- "[{,]-${SHORT[i]}[+,]" "$ZSHC" ||
			fail "_horcrux-top: no -${SHORT[i]}"
	done
	run --separate-stderr zsh -f -c "autoload -U compinit; compinit -u -D;
	    source '$ZSHC'; [[ \$_comps[horcrux-top] == _horcrux-top ]]"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail "zsh: status $status" "$stderr"
}

@test "fish: the completion loads and offers every flag" {
	command -v fish >/dev/null || skip "fish is not installed"
	load_table
	run --separate-stderr env HOME="$BATS_TEST_TMPDIR" XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/c" \
		XDG_DATA_HOME="$BATS_TEST_TMPDIR/d" XDG_CACHE_HOME="$BATS_TEST_TMPDIR/x" \
		fish --no-config -c "source '$FISHC'; complete -C'horcrux-top -'"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail "fish: status $status" "$stderr"
	for i in "${!KEY[@]}"; do
		[[ $'\n'$output == *$'\n'"--${FLAG[i]}"$'\t'* ]] || fail "fish: --${FLAG[i]} not offered:" "$output"
		[ "${SHORT[i]}" = - ] || [[ $'\n'$output == *$'\n'"-${SHORT[i]}"$'\t'* ]] ||
			fail "fish: -${SHORT[i]} not offered"
	done
}
