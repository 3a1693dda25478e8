#!/usr/bin/env bats
# make install into a DESTDIR with PREFIX=/usr SYSCONFDIR=/etc, the way a
# distribution installs: every file where its reader looks (man, bash,
# zsh, fish, systemd, sysusers, tmpfiles), the installed daemon's
# compiled-in web root, the commented horcrux.conf against the option
# table the daemon itself prints, the unit through systemd-analyze, and
# make uninstall taking back exactly what install put.
#
# The programs are those of $HX_BUILD, copied into a build directory of
# this file and linked again by the Makefile for PREFIX=/usr: only what
# PREFIX changes (options.c's HX_DATADIR) is compiled again, which is
# itself under test (the web_root default).

load helpers/common

setup_file() {
	export B=$BATS_FILE_TMPDIR/build
	export R=$BATS_FILE_TMPDIR/root
	export MODE_=$(basename "$HX_BUILD")
	mkdir -p "$B"
	cp -a "$HX_BUILD"/obj "$HX_BUILD"/libhorcrux.a "$HX_BUILD"/horcruxd \
		"$HX_BUILD"/horcrux-top "$HX_BUILD"/horcrux-cli "$B"/
	[ -e "$HX_BUILD/prefix.stamp" ] && cp -a "$HX_BUILD/prefix.stamp" "$B"/
	make -C "$HX_REPO" --no-print-directory HX_DEPS=ok MODE="$MODE_" \
		B="$B" PREFIX=/usr SYSCONFDIR=/etc build \
		>"$BATS_FILE_TMPDIR/build.log" 2>&1
	make -C "$HX_REPO" --no-print-directory HX_DEPS=ok MODE="$MODE_" \
		B="$B" PREFIX=/usr SYSCONFDIR=/etc DESTDIR="$R" do-install \
		>"$BATS_FILE_TMPDIR/install.log" 2>&1
}

teardown() {
	stop_daemon
}

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

# What make install must put, relative to DESTDIR, with its mode.
expected_files() {
	local p
	echo "0755 usr/sbin/horcruxd"
	echo "0755 usr/bin/horcrux-top"
	echo "0755 usr/bin/horcrux-cli"
	echo "0644 usr/share/man/man1/horcrux-top.1"
	echo "0644 usr/share/man/man1/horcrux-cli.1"
	echo "0644 usr/share/man/man5/horcrux.conf.5"
	echo "0644 usr/share/man/man8/horcruxd.8"
	for p in horcruxd horcrux-top horcrux-cli; do
		echo "0644 usr/share/bash-completion/completions/$p"
		echo "0644 usr/share/zsh/vendor-completions/_$p"
		echo "0644 usr/share/fish/vendor_completions.d/$p.fish"
	done
	echo "0644 usr/share/horcrux/web/index.html"
	echo "0644 usr/share/horcrux/web/vendor/uPlot.js"
	echo "0644 usr/lib/systemd/system/horcruxd.service"
	echo "0644 usr/lib/sysusers.d/horcrux.conf"
	echo "0644 usr/lib/tmpfiles.d/horcrux.conf"
	echo "0644 etc/horcrux/horcrux.conf"
}

@test "make install puts every file where its reader looks, with its mode" {
	local mode path n=0
	while read -r mode path; do
		[ -f "$R/$path" ] || fail "missing: /$path" "$(cat "$BATS_FILE_TMPDIR/install.log")"
		[ "$(stat -c %a "$R/$path")" = "${mode#0}" ] ||
			fail "/$path has mode $(stat -c %a "$R/$path"), not $mode"
		n=$((n + 1))
	done < <(expected_files)
	((n == 22)) || fail "checked $n files"
	# The whole web root, .gz copies and their times included.
	run diff -r "$HX_REPO/share/web" "$R/usr/share/horcrux/web"
	assert_success
	[ "$(stat -c %Y "$R/usr/share/horcrux/web/index.html.gz")" -ge \
		"$(stat -c %Y "$R/usr/share/horcrux/web/index.html")" ] ||
		fail "index.html.gz is older than index.html: horcruxd would not send it"
}

@test "the installed horcruxd runs, defaults to PREFIX's web root, and serves it" {
	HXD=$R/usr/sbin/horcruxd
	run "$HXD" --version
	assert_success
	assert_output --regexp '^horcruxd [0-9]+\.[0-9]+\.[0-9]+$'
	run "$HXD" --dump-options
	assert_success
	assert_line --regexp $'^web_root\tweb-root\t-\tkey\t/usr/share/horcrux/web$'
	run "$HXD" --help
	assert_output --partial '(default: /usr/share/horcrux/web)'

	start_daemon --web-root "$R/usr/share/horcrux/web"
	curl -sf -o "$BATS_TEST_TMPDIR/index.html" "$URL/"
	cmp "$BATS_TEST_TMPDIR/index.html" "$R/usr/share/horcrux/web/index.html"
	curl -sf -o "$BATS_TEST_TMPDIR/uPlot.js" "$URL/vendor/uPlot.js"
	cmp "$BATS_TEST_TMPDIR/uPlot.js" "$R/usr/share/horcrux/web/vendor/uPlot.js"
	# The .gz copies kept their times: a gzip client gets them.
	run curl -sf -H 'Accept-Encoding: gzip' -D - -o /dev/null "$URL/index.html"
	assert_line --regexp '^[Cc]ontent-[Ee]ncoding: gzip'
}

@test "man finds every installed page under PREFIX/share/man" {
	local sec page
	for sec_page in 8:horcruxd 5:horcrux.conf 1:horcrux-top 1:horcrux-cli; do
		sec=${sec_page%%:*} page=${sec_page#*:}
		run man -M "$R/usr/share/man" -w "$sec" "$page"
		assert_success
		assert_output "$R/usr/share/man/man$sec/$page.$sec"
		run --separate-stderr env MANWIDTH=100 man -M "$R/usr/share/man" -P cat "$sec" "$page"
		assert_success
		assert_output --partial "$page"
	done
	# And with MANPATH, as a user whose PATH has the installed programs.
	run env MANPATH="$R/usr/share/man" man -w horcruxd
	assert_output "$R/usr/share/man/man8/horcruxd.8"
}

@test "the installed completions load in bash, zsh and fish" {
	local d=$R/usr/share p
	for p in horcruxd horcrux-top horcrux-cli; do
		run bash -c 'source "$1" && complete -p "$2"' _ \
			"$d/bash-completion/completions/$p" "$p"
		assert_success
		assert_output --regexp "^complete .* $p\$"
	done
	# bash-completion's loader: the file is named as the command.
	run bash -c 'source "$1"; COMP_WORDS=(horcruxd --log-l); COMP_CWORD=1;
		COMP_LINE="horcruxd --log-l"; COMP_POINT=${#COMP_LINE}
		f=$(complete -p horcruxd | sed -n "s/.*-F \([^ ]*\).*/\1/p")
		$f horcruxd --log-l horcruxd; printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$d/bash-completion/completions/horcruxd"
	assert_success
	assert_line --partial -- '--log-level'
	# fish reads DIR/fish/vendor_completions.d of each XDG_DATA_DIRS entry,
	# and loads a command's completion once the command is on PATH.
	run env PATH="$R/usr/sbin:$R/usr/bin:$PATH" XDG_DATA_DIRS="$d" \
		HOME="$BATS_TEST_TMPDIR/home" XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/home/c" \
		XDG_DATA_HOME="$BATS_TEST_TMPDIR/home/d" XDG_CACHE_HOME="$BATS_TEST_TMPDIR/home/k" \
		fish -c 'complete -C "horcruxd --log-l"; complete -C "horcrux-cli --out"'
	assert_success
	assert_line --regexp '^--output'
	assert_line --regexp '^--log-level'
	for p in horcruxd horcrux-top horcrux-cli; do
		run head -1 "$d/zsh/vendor-completions/_$p"
		assert_output --regexp "^#compdef $p"
		run zsh -n "$d/zsh/vendor-completions/_$p"
		assert_success
	done
	run zsh -f -c 'fpath=($1 $fpath); autoload -Uz compinit; compinit -u -D; print -r -- $_comps[horcruxd]' \
		_ "$d/zsh/vendor-completions"
	assert_success
	assert_output _horcruxd
}

# The keys (kind "key") of the installed daemon's option table, as
# "KEY<TAB>DEFAULT" lines. Later keys join the table and need only their
# line in dist/horcrux.conf.in: this reads the list from the daemon.
table_keys() {
	"$R/usr/sbin/horcruxd" --dump-options | awk -F'\t' '$4 == "key" { print $1 "\t" $5 }'
}

@test "horcrux.conf names every key of the option table, commented, with its default" {
	local conf=$R/etc/horcrux/horcrux.conf key dflt n=0 line
	while IFS=$'\t' read -r key dflt; do
		if [ -n "$dflt" ]; then
			grep -qxF "#$key = $dflt" "$conf" ||
				fail "horcrux.conf has no '#$key = $dflt' (the daemon's default)"
		else
			grep -qxF "#$key =" "$conf" ||
				fail "horcrux.conf has no '#$key =' (no default)"
		fi
		# One line of description right above it.
		line=$(grep -nxE "#$key =.*" "$conf" | cut -d: -f1)
		sed -n "$((line - 1))p" "$conf" | grep -qE '^# [^ ]' ||
			fail "no description above '#$key' in horcrux.conf"
		n=$((n + 1))
	done < <(table_keys)
	((n >= 30)) || fail "the option table has only $n keys: --dump-options broke?"
	# No key the daemon does not have, and nothing set: all commented out.
	while IFS= read -r key; do
		table_keys | cut -f1 | grep -qxF "$key" ||
			fail "horcrux.conf names '$key', which is no key of horcruxd"
	done < <(sed -n 's/^#\([a-z_]*\) =.*/\1/p' "$conf")
	run grep -vE '^(#.*)?$' "$conf"
	assert_failure
}

@test "horcruxd starts with the installed horcrux.conf, also with every default uncommented" {
	HXD=$R/usr/sbin/horcruxd
	local conf=$R/etc/horcrux/horcrux.conf
	# Paths of the packaged layout are overridden by start_daemon's flags
	# (flags win over the file); the rest is read from the file.
	start_daemon --config "$conf" --libvirt-uri test:///default
	stop_daemon

	sed 's/^#\([a-z_]* = .\)/\1/' "$conf" >"$BATS_TEST_TMPDIR/all.conf"
	run grep -cE '^[a-z_]+ = ' "$BATS_TEST_TMPDIR/all.conf"
	(("$output" >= 28)) || fail "only $output keys uncommented"
	# A value the daemon refuses must stop it: the file is really read.
	sed 's/^log_level = info$/log_level = loud/' "$BATS_TEST_TMPDIR/all.conf" \
		>"$BATS_TEST_TMPDIR/bad.conf"
	run "$HXD" -f --config "$BATS_TEST_TMPDIR/bad.conf" --data-dir "$BATS_TEST_TMPDIR/d"
	assert_failure 1
	assert_output --partial 'loud'
	DDIR=$BATS_TEST_TMPDIR/hx2
	start_daemon --config "$BATS_TEST_TMPDIR/all.conf" --libvirt-uri test:///default
	grep -q 'ready' "$HXD_LOG"
}

@test "the unit passes systemd-analyze verify, runs what was installed, and is hardened" {
	local unit=$R/usr/lib/systemd/system/horcruxd.service exec
	run grep -xE 'ExecStart=.*' "$unit"
	assert_output 'ExecStart=/usr/sbin/horcruxd --foreground --config /etc/horcrux/horcrux.conf'
	grep -qx 'User=horcrux' "$unit"
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit"
	# ExecStart's flags are the daemon's own: it parses them and stops.
	exec=$(sed -n 's|^ExecStart=/usr/sbin/horcruxd ||p' "$unit")
	# shellcheck disable=SC2086
	run "$R/usr/sbin/horcruxd" $exec --dump-options
	assert_success

	# verify checks that ExecStart exists and runs: point it at DESTDIR,
	# and man at the installed pages (Documentation=man:...).
	mkdir -p "$BATS_TEST_TMPDIR/unit"
	sed "s|^ExecStart=/usr/sbin/|ExecStart=$R/usr/sbin/|" "$unit" \
		>"$BATS_TEST_TMPDIR/unit/horcruxd.service"
	run env MANPATH="$R/usr/share/man" systemd-analyze verify \
		"$BATS_TEST_TMPDIR/unit/horcruxd.service"
	assert_success
	assert_output ''

	run systemd-analyze security --offline=true --no-pager "$unit"
	local score
	score=$(sed -n 's/.*Overall exposure level for horcruxd.service: \([0-9.]*\) .*/\1/p' <<<"$output")
	[ -n "$score" ] || fail "no exposure score in: $output"
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
		fail "systemd-analyze security: exposure $score, above 2.0"
	assert_output --partial "$score OK"
}

@test "sysusers.d and tmpfiles.d make user horcrux in group libvirt and its directories" {
	[ "$(id -u)" = 0 ] || skip "systemd-tmpfiles' chown needs root"
	local s=$BATS_TEST_TMPDIR/sys uid gid
	mkdir -p "$s/etc"
	run systemd-sysusers --root="$s" "$R/usr/lib/sysusers.d/horcrux.conf"
	assert_success
	run grep '^horcrux:' "$s/etc/passwd"
	assert_output --regexp '^horcrux:x:[0-9]+:[0-9]+:Horcrux monitor:/var/lib/horcrux:/(usr/)?s?bin/nologin$'
	uid=$(cut -d: -f3 <<<"$output")
	gid=$(cut -d: -f4 <<<"$output")
	run grep '^libvirt:' "$s/etc/group"
	assert_output --regexp '^libvirt:x:[0-9]+:(.*,)?horcrux(,.*)?$'
	run grep '^horcrux:' "$s/etc/group"
	assert_output --regexp "^horcrux:x:$gid:"

	run systemd-tmpfiles --root="$s" --create "$R/usr/lib/tmpfiles.d/horcrux.conf"
	assert_success
	run stat -c '%a %u %g' "$s/var/lib/horcrux"
	assert_output "700 $uid $gid"
	run stat -c '%a %u %g' "$s/run/horcrux"
	assert_output "750 $uid $gid"
}

@test "make uninstall removes what make install put, and keeps an edited horcrux.conf" {
	local d=$BATS_TEST_TMPDIR/dest mk
	mk=(make -C "$HX_REPO" --no-print-directory HX_DEPS=ok MODE="$MODE_" B="$B"
		PREFIX=/usr SYSCONFDIR=/etc DESTDIR="$d")
	run "${mk[@]}" do-install
	assert_success
	run find "$d" -type f
	((${#lines[@]} > 30)) || fail "install put only ${#lines[@]} files"
	# The public target, as a user types it.
	run make -C "$HX_REPO" --no-print-directory B="$B" PREFIX=/usr \
		SYSCONFDIR=/etc DESTDIR="$d" uninstall
	assert_success
	run find "$d" -type f
	assert_output ''

	# An operator's horcrux.conf survives install (the sample goes beside
	# it as .new) and uninstall (named, not removed).
	run "${mk[@]}" do-install
	assert_success
	echo 'log_level = debug' >>"$d/etc/horcrux/horcrux.conf"
	run "${mk[@]}" do-install
	assert_success
	assert_output --partial "keeping $d/etc/horcrux/horcrux.conf"
	grep -qx 'log_level = debug' "$d/etc/horcrux/horcrux.conf"
	cmp "$d/etc/horcrux/horcrux.conf.new" "$R/etc/horcrux/horcrux.conf"
	run "${mk[@]}" do-uninstall
	assert_success
	assert_output --partial "kept $d/etc/horcrux/horcrux.conf: it was edited"
	run find "$d" -type f
	assert_output "$d/etc/horcrux/horcrux.conf"
}
