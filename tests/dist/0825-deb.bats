#!/usr/bin/env bats
# The Debian package: built once for the file from this tree by
# scripts/build-deb (`make deb`: dpkg-buildpackage -us -uc -b in a copy,
# then lintian), its contents in Debian's places, and installed into a
# scratch root with dpkg --root and chrootless maintainer scripts
# (DPKG_ROOT): the sysusers, tmpfiles and systemd snippets act on the
# scratch root only, a policy-rc.d there forbids starting anything.
# Remove keeps /var/lib/horcrux and the conffile; purge deletes both.
#
# About two minutes: a release build without sanitizers, and lintian.

load ../helpers/common

DEB_VERSION=0.1.0

setup_file() {
	export OUT=$BATS_FILE_TMPDIR/deb
	"$HX_REPO/scripts/build-deb" "$OUT" >"$BATS_FILE_TMPDIR/build-deb.out" 2>&1
	echo $? >"$BATS_FILE_TMPDIR/build-deb.rc"
	DEB=$(ls "$OUT"/horcrux_"$DEB_VERSION"_*.deb 2>/dev/null || true)
	export DEB
}

teardown() {
	stop_daemon
}

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

# dpkg on the scratch root $S; maintainer scripts run outside a chroot
# with DPKG_ROOT=$S (the host has the libraries, the root does not).
sdpkg() {
	dpkg --root="$S" --force-script-chrootless --force-depends "$@"
}

@test "dpkg-buildpackage builds the package from the tree and lintian reports no error" {
	run cat "$BATS_FILE_TMPDIR/build-deb.out"
	[ "$(cat "$BATS_FILE_TMPDIR/build-deb.rc")" = 0 ] ||
		fail "scripts/build-deb failed:" "$output"
	[ -f "$DEB" ] || fail "no horcrux_${DEB_VERSION}_*.deb in $OUT"
	assert_line --regexp '^lintian: 0 errors, [0-9]+ warnings, [0-9]+ info'
	run grep '^E: ' "$OUT/lintian.txt"
	assert_failure
	# The checkout gets no droppings: the build ran in a copy.
	local f
	for f in files debhelper-build-stamp horcrux horcrux.substvars .debhelper tmp; do
		[ ! -e "$HX_REPO/debian/$f" ] || fail "debian/$f left in the checkout"
	done
}

@test "the package holds every file in Debian's places, /etc/horcrux/horcrux.conf a conffile" {
	[ -f "$DEB" ] || skip "no package built"
	local f
	run dpkg-deb -c "$DEB"
	for f in usr/sbin/horcruxd usr/bin/horcrux-top usr/bin/horcrux-cli \
		usr/share/man/man8/horcruxd.8.gz usr/share/man/man5/horcrux.conf.5.gz \
		usr/share/man/man1/horcrux-top.1.gz usr/share/man/man1/horcrux-cli.1.gz \
		usr/share/bash-completion/completions/horcrux-cli \
		usr/share/zsh/vendor-completions/_horcruxd \
		usr/share/fish/vendor_completions.d/horcrux-top.fish \
		usr/share/horcrux/web/index.html usr/share/horcrux/web/vendor/uPlot.js \
		lib/systemd/system/horcruxd.service usr/lib/sysusers.d/horcrux.conf \
		usr/lib/tmpfiles.d/horcrux.conf etc/horcrux/horcrux.conf \
		usr/share/doc/horcrux/copyright; do
		assert_line --regexp " \./$f\$"
	done
	run dpkg-deb -f "$DEB" Package Depends
	assert_line 'Package: horcrux'
	assert_line --regexp '^Depends: .*libvirt0.*systemd \| systemd-standalone-sysusers'
	mkdir -p "$BATS_TEST_TMPDIR/ctl"
	dpkg-deb -e "$DEB" "$BATS_TEST_TMPDIR/ctl"
	run cat "$BATS_TEST_TMPDIR/ctl/conffiles"
	assert_output /etc/horcrux/horcrux.conf
	# A release build: no sanitizer in what is shipped.
	dpkg-deb -x "$DEB" "$BATS_TEST_TMPDIR/x"
	run nm -D "$BATS_TEST_TMPDIR/x/usr/sbin/horcruxd"
	refute_output --partial __asan
	refute_output --partial __ubsan
}

@test "installed into a scratch root: user, directories, enabled unit, working programs; remove keeps the data, purge deletes it" {
	[ -f "$DEB" ] || skip "no package built"
	[ "$(id -u)" = 0 ] || skip "dpkg --root and the scripts' chown need root"
	S=$BATS_TEST_TMPDIR/root
	mkdir -p "$S/var/lib/dpkg/info" "$S/var/lib/dpkg/updates" "$S/etc" \
		"$S/usr/sbin" "$S/var/log"
	: >"$S/var/lib/dpkg/status"
	printf '#!/bin/sh\nexit 101\n' >"$S/usr/sbin/policy-rc.d"
	chmod 755 "$S/usr/sbin/policy-rc.d"

	run sdpkg -i "$DEB"
	assert_success
	run sdpkg -s horcrux
	assert_line 'Status: install ok installed'
	# postinst: sysusers, tmpfiles, the unit enabled.
	run grep '^horcrux:' "$S/etc/passwd"
	assert_output --regexp '^horcrux:x:[0-9]+:[0-9]+:Horcrux monitor:/var/lib/horcrux:'
	local uid
	uid=$(cut -d: -f3 <<<"$output")
	run grep '^libvirt:' "$S/etc/group"
	assert_output --regexp ':horcrux$'
	run stat -c '%a %u' "$S/var/lib/horcrux" "$S/run/horcrux"
	assert_output "700 $uid
750 $uid"
	run readlink "$S/etc/systemd/system/multi-user.target.wants/horcruxd.service"
	assert_output /lib/systemd/system/horcruxd.service

	# What it installed works: the programs, the pages, a completion.
	run "$S/usr/sbin/horcruxd" --version
	assert_output "horcruxd $DEB_VERSION"
	run "$S/usr/bin/horcrux-cli" --version
	assert_success
	run man -M "$S/usr/share/man" -w 5 horcrux.conf
	assert_output "$S/usr/share/man/man5/horcrux.conf.5.gz"
	run bash -c 'source "$1" && complete -p horcrux-cli' _ \
		"$S/usr/share/bash-completion/completions/horcrux-cli"
	assert_output --regexp ' horcrux-cli$'
	run "$S/usr/sbin/horcruxd" --dump-options
	assert_line --regexp $'^web_root\t.*\t/usr/share/horcrux/web$'
	HXD=$S/usr/sbin/horcruxd
	start_daemon --config "$S/etc/horcrux/horcrux.conf" \
		--web-root "$S/usr/share/horcrux/web" --libvirt-uri test:///default
	curl -sf -o "$BATS_TEST_TMPDIR/index.html" "$URL/"
	cmp "$BATS_TEST_TMPDIR/index.html" "$S/usr/share/horcrux/web/index.html"
	# The .gz copies kept their times: a gzip client gets them.
	run curl -sf -H 'Accept-Encoding: gzip' -D - -o /dev/null "$URL/index.html"
	assert_line --regexp '^[Cc]ontent-[Ee]ncoding: gzip'
	stop_daemon

	# Remove: programs gone; the data and the edited conffile stay.
	echo 'accounts' >"$S/var/lib/horcrux/horcrux.db"
	echo 'log_level = debug' >>"$S/etc/horcrux/horcrux.conf"
	run sdpkg -r horcrux
	assert_success
	[ ! -e "$S/usr/sbin/horcruxd" ] || fail "horcruxd left after remove"
	[ -f "$S/var/lib/horcrux/horcrux.db" ] || fail "remove deleted /var/lib/horcrux"
	grep -qx 'log_level = debug' "$S/etc/horcrux/horcrux.conf"
	# Purge: the data, the conffile and the unit's enablement go.
	run sdpkg -P horcrux
	assert_success
	[ ! -e "$S/var/lib/horcrux" ] || fail "purge left /var/lib/horcrux"
	[ ! -e "$S/etc/horcrux" ] || fail "purge left /etc/horcrux"
	[ ! -e "$S/etc/systemd/system/multi-user.target.wants/horcruxd.service" ] ||
		fail "purge left the unit enabled"
	run sdpkg -s horcrux
	assert_failure
}
