#!/usr/bin/env bats
# The man pages and shell completions against the option table: every
# option `horcruxd --dump-options` prints must have an entry in
# horcruxd(8), a key entry in horcrux.conf(5) (with the same default and
# range the daemon enforces), and be offered by the bash, zsh and fish
# completions; the completions must load and behave; both pages must
# render without a single groff warning. The WebSocket protocol too:
# `horcruxd --dump-protocol` (lib/hx-proto.c's table) against the topic
# list of horcruxd(8), the topic names in every page, and the NodeMetrics
# and VmMetrics fields horcrux.conf(5) explains.
#
# Self-contained on purpose (no helpers/common): it starts no daemon.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
HXD=${HX_BUILD:-$REPO/build/release}/horcruxd
MAN8=$REPO/man/horcruxd.8
MAN5=$REPO/man/horcrux.conf.5
BASHC=$REPO/completions/horcruxd.bash
ZSHC=$REPO/completions/_horcruxd
FISHC=$REPO/completions/horcruxd.fish

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

# The option table: arrays KEY FLAG SHORT KIND DFLT, one entry per option.
load_table() {
	local k f s t d
	KEY=() FLAG=() SHORT=() KIND=() DFLT=()
	while IFS=$'\t' read -r k f s t d; do
		KEY+=("$k") FLAG+=("$f") SHORT+=("$s") KIND+=("$t") DFLT+=("$d")
	done < <("$HXD" --dump-options)
	# A table this small means --dump-options broke, not that all is well.
	((${#KEY[@]} >= 10)) ||
		fail "horcruxd --dump-options printed only ${#KEY[@]} options"
}

# A page as plain text, one paragraph per line (no wrapping, so no
# hyphenation either).
render() {
	groff -mdoc -Tascii -rLL=4000n -P-cbou "$1" 2>/dev/null
}

# The paragraph of the list entry whose tag line matches regex $2, joined
# into one line with single spaces.
entry() {
	awk -v re="$2" '
		found && /^[[:space:]]*$/ { exit }
		found { printf " %s", $0; next }
		$0 ~ re { found = 1; printf "%s", $0 }
	' <<<"$1" | tr -s ' \t' '  '
}

# The --log-level choices as the daemon itself lists them.
log_levels() {
	local out
	out=$("$HXD" --log-level no-such-level 2>&1)
	out=${out#*is not one of: }
	out=${out%%$'\n'*}
	printf '%s\n' "${out//, / }"
}

# Complete words "$@" (the last is the one being completed) with the bash
# function; sets REPLY_WORDS to COMPREPLY.
bash_complete() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_horcruxd
	REPLY_WORDS=("${COMPREPLY[@]}")
}

fish_hermetic() {
	HOME=$BATS_TEST_TMPDIR XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config \
	    XDG_DATA_HOME=$BATS_TEST_TMPDIR/data \
	    XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache fish --no-config "$@"
}

@test "--dump-options prints the table, without the hidden option" {
	run "$HXD" --dump-options
	[ "$status" -eq 0 ] || fail "exit $status" "$output"
	[[ $output == *$'listen\tlisten\t-\tkey\t127.0.0.1:8006'* ]] ||
		fail "no listen line in:" "$output"
	[[ $output == *$'config\tconfig\tc\tflag\t'* ]] ||
		fail "no config line in:" "$output"
	[[ $output != *dump* ]] || fail "the hidden option is listed"
}

@test "horcruxd(8) has an OPTIONS entry for every flag, with its default" {
	local page i short tagre para
	load_table
	page=$(render "$MAN8")
	[[ $page == *$'\nOPTIONS\n'* ]] || fail "no OPTIONS section"
	for i in "${!KEY[@]}"; do
		short=""
		[ "${SHORT[i]}" = - ] || short="-${SHORT[i]}( [a-z]+)?, "
		tagre="^     ${short}--${FLAG[i]}( |\$)"
		para=$(entry "$page" "$tagre")
		[ -n "$para" ] ||
			fail "horcruxd.8: no entry '${short}--${FLAG[i]}'"
		# web_root's default follows the build's PREFIX; the page names
		# the default prefix in words.
		if [ "${KIND[i]}" = key ] && [ "${KEY[i]}" != web_root ]; then
			[[ $para == *"Default: ${DFLT[i]:-none}"[.\ ]* ]] ||
				fail "horcruxd.8: --${FLAG[i]} lacks" \
				    "'Default: ${DFLT[i]:-none}':" "$para"
		fi
	done
}

@test "horcrux.conf(5) has an entry for every key and none for flags" {
	local page i para why range
	load_table
	page=$(render "$MAN5")
	[[ $page == *$'\nKEYS\n'* ]] || fail "no KEYS section"
	for i in "${!KEY[@]}"; do
		para=$(entry "$page" "^     ${KEY[i]} = ")
		if [ "${KIND[i]}" = flag ]; then
			[ -z "$para" ] ||
				fail "horcrux.conf.5: '${KEY[i]}' is a flag, not a key"
			continue
		fi
		[ -n "$para" ] || fail "horcrux.conf.5: no entry '${KEY[i]} = '"
		if [ "${KEY[i]}" != web_root ]; then
			[[ $para == *"Default: ${DFLT[i]:-none}"[.\ ]* ]] ||
				fail "horcrux.conf.5: ${KEY[i]} lacks" \
				    "'Default: ${DFLT[i]:-none}':" "$para"
		fi
		# The range and the path rule the daemon enforces are the ones
		# the page states. The unknown option after the probe makes
		# sure no daemon starts even when -1 is a valid value.
		why=$("$HXD" "--${FLAG[i]}" -1 --no-such-option 2>&1 \
		    >/dev/null) || :
		if [[ $why =~ out\ of\ range\ \(([^\)]*)\) ]]; then
			range=${BASH_REMATCH[1]}
			[[ $para == *"$range"* ]] ||
				fail "horcrux.conf.5: ${KEY[i]} lacks '$range'"
			[[ $(entry "$(render "$MAN8")" "^     --${FLAG[i]} ") == \
			    *"$range"* ]] ||
				fail "horcruxd.8: --${FLAG[i]} lacks '$range'"
		fi
		if [[ $why == *"not an absolute path"* ]]; then
			[[ $para == *"(path"* ]] ||
				fail "horcrux.conf.5: ${KEY[i]} is not typed (path)"
		fi
	done
}

@test "both pages have their sections" {
	local page s
	page=$(render "$MAN8")
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS ACCESS "WEBSOCKET PROTOCOL" \
	    SIGNALS "EXIT STATUS" FILES EXAMPLES "SEE ALSO"; do
		[[ $page == *$'\n'"$s"$'\n'* ]] || fail "horcruxd.8: no $s"
	done
	page=$(render "$MAN5")
	for s in NAME DESCRIPTION KEYS "NODE METRICS" EXAMPLES "SEE ALSO"; do
		[[ $page == *$'\n'"$s"$'\n'* ]] || fail "horcrux.conf.5: no $s"
	done
}

@test "the horcrux.conf(5) example is a valid configuration file" {
	local conf
	conf=$BATS_TEST_TMPDIR/example.conf
	render "$MAN5" | sed -n '/^EXAMPLES$/,/^SEE ALSO$/p' |
		sed -n 's/^           //p' >"$conf"
	grep -q '^listen = ' "$conf" || fail "no example found:" "$(cat "$conf")"
	# The options are checked when the file is loaded; a data directory
	# under a regular file then stops start-up before anything listens,
	# which proves loading got past them.
	: >"$BATS_TEST_TMPDIR/not-a-dir"
	run "$HXD" -f -c "$conf" --data-dir "$BATS_TEST_TMPDIR/not-a-dir/data"
	[ "$status" -eq 1 ] || fail "exit $status" "$output"
	[[ $output == *"data directory"* ]] ||
		fail "the example was refused:" "$output"
}

@test "both pages render with no groff or man warnings" {
	local p
	for p in "$MAN8" "$MAN5"; do
		for m in -mdoc -mandoc; do
			run --separate-stderr groff -ww -z -Tutf8 "$m" "$p"
			[ "$status" -eq 0 ] && [ -z "$stderr" ] ||
				fail "groff $m $p:" "$stderr"
		done
		run --separate-stderr env MANWIDTH=80 MANPAGER=cat \
		    man --warnings -l "$p"
		[ "$status" -eq 0 ] && [ -z "$stderr" ] ||
			fail "man -l $p:" "$stderr"
		[[ $output == *horcrux* ]] || fail "man -l $p printed nothing"
	done
}

@test "bash: the completion offers every flag of the table" {
	local i w
	load_table
	run bash -c "source '$BASHC' && complete -p horcruxd"
	[ "$status" -eq 0 ] && [[ $output == *"-F _horcruxd"* ]] ||
		fail "loading the bash completion: $output"
	source "$BASHC"
	bash_complete horcruxd -
	for i in "${!KEY[@]}"; do
		for w in "--${FLAG[i]}" "-${SHORT[i]}"; do
			[ "$w" = -- ] && continue
			[[ " ${REPLY_WORDS[*]} " == *" $w "* ]] ||
				fail "bash: '$w' not offered: ${REPLY_WORDS[*]}"
		done
	done
}

@test "bash: --log- completes to --log-level, whose values are the levels" {
	source "$BASHC"
	bash_complete horcruxd --log-
	[ "${REPLY_WORDS[*]}" = "--log-level --log-format" ] ||
		fail "got '${REPLY_WORDS[*]}'"
	bash_complete horcruxd --log-format ""
	[ "${REPLY_WORDS[*]}" = "text json" ] ||
		fail "got '${REPLY_WORDS[*]}'"
	bash_complete horcruxd --log-level ""
	[ "${REPLY_WORDS[*]}" = "$(log_levels)" ] ||
		fail "got '${REPLY_WORDS[*]}', want '$(log_levels)'"
	[ "${REPLY_WORDS[*]}" = "error warning info debug" ] ||
		fail "got '${REPLY_WORDS[*]}'"
	bash_complete horcruxd --log-level = de
	[ "${REPLY_WORDS[*]}" = debug ] || fail "got '${REPLY_WORDS[*]}'"
}

@test "bash: files for -c and --socket, directories for dir options" {
	local d=$BATS_TEST_TMPDIR/tree w
	mkdir -p "$d/sub"
	: >"$d/file.conf"
	source "$BASHC"
	for w in -c --config --socket; do
		bash_complete horcruxd "$w" "$d/"
		[ "${#REPLY_WORDS[@]}" -eq 2 ] ||
			fail "$w: got '${REPLY_WORDS[*]}'"
	done
	for w in --data-dir --web-root --disks; do
		bash_complete horcruxd "$w" "$d/"
		[ "${REPLY_WORDS[*]}" = "$d/sub" ] ||
			fail "$w: got '${REPLY_WORDS[*]}'"
	done
}

@test "zsh: the completion names every flag and loads without error" {
	local i
	command -v zsh >/dev/null || skip "zsh is not installed"
	load_table
	for i in "${!KEY[@]}"; do
		grep -Eq -- "--${FLAG[i]}([^a-z-]|\$)" "$ZSHC" ||
			fail "_horcruxd: no --${FLAG[i]}"
		[ "${SHORT[i]}" = - ] ||
			grep -Eq -- "[{,]-${SHORT[i]}[+,]" "$ZSHC" ||
			fail "_horcruxd: no -${SHORT[i]}"
	done
	grep -Fq "($(log_levels))" "$ZSHC" || fail "_horcruxd: no log levels"
	run --separate-stderr zsh -f -c "autoload -U compinit; compinit -u -D;
	    source '$ZSHC'; [[ \$_comps[horcruxd] == _horcruxd ]]"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] ||
		fail "zsh: status $status" "$stderr"
}

@test "fish: the completion loads and offers every flag and level" {
	local i
	command -v fish >/dev/null || skip "fish is not installed"
	load_table
	run --separate-stderr fish_hermetic -c "source '$FISHC'"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] ||
		fail "fish: status $status" "$stderr"
	run --separate-stderr fish_hermetic -c \
	    "source '$FISHC'; complete -C'horcruxd -'"
	[ "$status" -eq 0 ] || fail "fish: status $status" "$stderr"
	for i in "${!KEY[@]}"; do
		[[ $'\n'$output == *$'\n'"--${FLAG[i]}"$'\t'* ]] ||
			fail "fish: --${FLAG[i]} not offered:" "$output"
		[ "${SHORT[i]}" = - ] ||
			[[ $'\n'$output == *$'\n'"-${SHORT[i]}"$'\t'* ]] ||
			fail "fish: -${SHORT[i]} not offered:" "$output"
	done
	run --separate-stderr fish_hermetic -c \
	    "source '$FISHC'; complete -C'horcruxd --log-level '"
	[ "$(printf '%s\n' "${lines[@]%%$'\t'*}" | sort | tr '\n' ' ')" = \
	    "$(log_levels | tr ' ' '\n' | sort | tr '\n' ' ')" ] ||
		fail "fish: levels offered:" "$output"
}

# --- the WebSocket protocol against the pages --------------------------------
# `horcruxd --dump-protocol` is lib/hx-proto.c's table, the one the daemon
# and the clients encode and decode with; the pages must follow it.

MANS=("$MAN8" "$MAN5" "$REPO/man/horcrux-cli.1" "$REPO/man/horcrux-top.1")

# The protocol as JSON in PROTO.
load_protocol() {
	PROTO=$("$HXD" --dump-protocol) || fail "--dump-protocol failed"
	(($(jq '.topics | length' <<<"$PROTO") >= 8)) ||
		fail "--dump-protocol lists too few topics:" "$PROTO"
}

# Lines of the page's source from ".Sh $2" to the next .Sh.
section() {
	awk -v want=".Sh $2" '
		$0 == want { on = 1; next }
		on && /^\.Sh / { exit }
		on { print }
	' "$1"
}

# The names in the ".It Li a , b" tags of the source on stdin, one a line.
tag_names() {
	sed -n 's/^\.It Li //p' | tr ',' '\n' | sed 's/^ *//; s/ *$//' |
		grep -v '^$' | sort -u
}

# Does the source on stdin hold $1 as a whole word?
has_word() {
	grep -Eq "(^|[^A-Za-z0-9_])$1([^A-Za-z0-9_]|\$)"
}

@test "--dump-protocol prints the table and exits 0" {
	run --separate-stderr "$HXD" --dump-protocol
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail "exit $status" "$stderr"
	jq -e '.topics[0].name == "node:metrics" and
	    (.events | map(.type) | index("VmMetrics") != null)' \
	    <<<"$output" >/dev/null || fail "not the protocol:" "$output"
}

@test "horcruxd(8) lists exactly the table's topics, each with its events" {
	local list want got t
	load_protocol
	# The topic list of WEBSOCKET PROTOCOL: tag, then its events line.
	list=$(section "$MAN8" "WEBSOCKET PROTOCOL" | awk '
		/^The topics, their events/ { on = 1 }
		on && /^\.El/ { exit }
		on && /^\.It Li / { tag = $3; getline; print tag, $0 }')
	want=$(jq -r '.topics[].name' <<<"$PROTO" | sort)
	got=$(awk '{ print $1 }' <<<"$list" | sort)
	[ "$got" = "$want" ] ||
		fail "horcruxd.8 topics:" "$got" "the table's:" "$want"
	for t in $want; do
		want=$(jq -r --arg t "$t" \
		    '.events[] | select(.topic == $t) | .type' <<<"$PROTO" | sort)
		got=$(awk -v t="$t" '$1 == t' <<<"$list" |
		    sed 's/^[^ ]* \.Li //; s/ ;$//' | tr ',' '\n' |
		    tr -d ' ' | grep -v '^$' | sort)
		[ "$got" = "$want" ] ||
			fail "horcruxd.8: $t lists events '$got'," \
			    "the table '$want'"
	done
}

@test "the pages name no topic the table lacks; horcrux-cli(1) lists them all" {
	local p w want got bad=()
	load_protocol
	want=$(jq -r '.topics[].name' <<<"$PROTO" | sort)
	# A "word:word" not inside a URL or a host:port is a topic name.
	for p in "${MANS[@]}"; do
		for w in $(grep -Eo '(^|[^/:A-Za-z0-9_])[a-z]+:[a-z]+([^:/A-Za-z0-9_]|$)' \
		    "$p" | grep -Eo '[a-z]+:[a-z]+' | grep -vx 'host:port' |
		    sort -u); do
			grep -qx "$w" <<<"$want" ||
				bad+=("$(basename "$p"): '$w' is no topic")
		done
	done
	# The events command's "Topics:" list.
	got=$(awk '/^Topics:$/ { on = 1; next }
		on && /^\.Cm / { print; next }
		on { exit }' "$REPO/man/horcrux-cli.1" |
		sed 's/^\.Cm //; s/ ;$//' | tr ',' '\n' | tr -d ' ' |
		grep -v '^$' | sort)
	[ "$got" = "$want" ] ||
		bad+=("horcrux-cli.1: events lists '$(paste -sd' ' <<<"$got")'")
	if [ "${#bad[@]}" -ne 0 ]; then
		fail "${bad[@]}"
	fi
}

@test "horcrux.conf(5) explains every NodeMetrics and VmMetrics field, and no other" {
	local ev sec f src tags want bad=()
	load_protocol
	for ev in "NodeMetrics:NODE METRICS" "VmMetrics:VM METRICS"; do
		sec=${ev#*:}
		ev=${ev%%:*}
		src=$(section "$MAN5" "$sec")
		[ -n "$src" ] || { bad+=("horcrux.conf.5: no $sec"); continue; }
		# Fields of the event and of its arrays of objects (disks).
		want=$(jq -r --arg e "$ev" '.events[] | select(.type == $e) |
		    .fields[] | .name, (.fields[]?.name)' <<<"$PROTO" | sort -u)
		(($(wc -l <<<"$want") >= 10)) ||
			bad+=("$ev: only $(wc -l <<<"$want") fields dumped")
		for f in $want; do
			has_word "$f" <<<"$src" ||
				bad+=("horcrux.conf.5 $sec: no '$f'")
		done
		# Every tag is a field (or the timestamp every event has).
		tags=$(tag_names <<<"$src")
		for f in $tags; do
			[ "$f" = timestamp ] || grep -qx "$f" <<<"$want" ||
				bad+=("horcrux.conf.5 $sec: '$f' is no $ev field")
		done
	done
	if [ "${#bad[@]}" -ne 0 ]; then
		fail "${bad[@]}"
	fi
}
