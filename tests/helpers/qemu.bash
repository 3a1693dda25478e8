# A real qemu:///session libvirtd for the end-to-end tests (0520, 0525):
# an unprivileged user's session daemon with one tiny TCG VM, and horcruxd
# running as that same user so that qemu:///session names that daemon.
# Load after helpers/common.
#
# Everything lives in one directory $QT under /tmp (mktemp -d, owned by
# nobody): HOME and the XDG directories of the session, the VM's disk, a
# copy of horcruxd and its files when the checkout is out of that user's
# reach, and one data directory and log per test. A second session (a
# second libvirtd of the same user, for migrations) lives in a directory
# below $QT made by qemu_session_add; commands run in it with QS set to
# that directory (`QS=$QT/dst vsh list`). Processes are found through
# their pid files and through $QT in their environment, never by name,
# so nothing else on the machine is touched.
#
# Variables set by qemu_session_dir / qemu_session_setup (exported):
#   QT    the directory           QVM   the domain's name
#   QHXD  the horcruxd to run     QWEB, QSUPP  its web root, LSan suppressions

QVM=hx-tcg
QUSER=nobody
QGROUP=nogroup

# as_user CMD...: run CMD as the session's user with the session's
# environment and nothing else.
as_user() {
	local -a cmd
	as_user_argv
	"${cmd[@]}" "$@"
}

# as_user_argv: the prefix of as_user into the caller's array `cmd`.
# Started as `"${cmd[@]}" PROG &`, PROG itself is at $! (setpriv and env
# exec); a function started with & would put a subshell there instead.
# The session is the one in $QS if set, else the first one, $QT.
as_user_argv() {
	local s=${QS:-$QT}
	cmd=(setpriv --reuid="$QUSER" --regid="$QGROUP" --clear-groups
		env -i HOME="$s" XDG_RUNTIME_DIR="$s/run"
		XDG_CONFIG_HOME="$s/cfg" XDG_CACHE_HOME="$s/cache"
		PATH=/usr/bin:/bin)
}

# vsh ARGS...: virsh on the session daemon (spawns it when none runs).
vsh() {
	as_user virsh -q -c qemu:///session "$@"
}

# pid_alive PID: true while PID exists and is not a zombie (our PID 1
# may reap late; a daemonized libvirtd is its child, not ours).
pid_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $st != Z* ]]
}

# wait_gone SECONDS PID...: poll until every PID is gone.
wait_gone() {
	local n=$(($1 * 20)) p alive
	shift
	while [ "$n" -gt 0 ]; do
		alive=0
		for p in "$@"; do
			pid_alive "$p" && alive=1
		done
		[ "$alive" = 0 ] && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# qemu_session_skip_reason: prints why the session cannot run here, if so.
qemu_session_skip_reason() {
	local c out
	if [ "$(id -u)" != 0 ]; then
		echo "needs root to run libvirtd and horcruxd as '$QUSER' (setpriv)"
		return
	fi
	for c in setpriv virsh /usr/sbin/libvirtd /usr/sbin/virtlogd \
	    qemu-system-x86_64; do
		if ! command -v "$c" >/dev/null; then
			echo "$c is not installed (scripts/install-deps installs it)"
			return
		fi
	done
	if ! compgen -G '/usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so' >/dev/null; then
		echo "libvirt's QEMU driver is not installed (libvirt-daemon-driver-qemu)"
		return
	fi
	if ! out=$(setpriv --reuid="$QUSER" --regid="$QGROUP" --clear-groups \
	    qemu-system-x86_64 -version 2>&1); then
		echo "qemu-system-x86_64 cannot run as '$QUSER': $out"
		return
	fi
}

# qemu_session_dir: the directory and the horcruxd to run; no libvirtd
# yet (the first virsh spawns it).
qemu_session_dir() {
	QT=$(mktemp -d /tmp/hx-qemu.XXXXXX) || return 1
	export QT QVM
	chmod 755 "$QT"
	chown "$QUSER:$QGROUP" "$QT"
	# horcruxd runs as $QUSER: when the checkout is out of its reach
	# (under /root, say), it runs from copies.
	QHXD=$HXD QWEB=$HX_REPO/share/web QSUPP=$HX_REPO/tests/lsan.supp
	if ! as_user test -x "$QHXD" -a -r "$QWEB/index.html" -a -r "$QSUPP"; then
		mkdir "$QT/bin"
		cp "$QHXD" "$QSUPP" "$QT/bin/"
		cp -r "$QWEB" "$QT/bin/web"
		QHXD=$QT/bin/horcruxd QWEB=$QT/bin/web QSUPP=$QT/bin/lsan.supp
	fi
	export QHXD QWEB QSUPP
}

# qemu_session_host_uuid DIR UUID: the session in DIR reports host UUID
# UUID (libvirtd.conf host_uuid). libvirt refuses to migrate between two
# daemons with the same host UUID, and one that cannot read the SMBIOS
# UUID (as a user cannot) makes up a random one per start. Call before
# the session's libvirtd starts.
qemu_session_host_uuid() {
	mkdir -p "$1/cfg/libvirt"
	echo "host_uuid = \"$2\"" >"$1/cfg/libvirt/libvirtd.conf"
	chown -R "$QUSER:$QGROUP" "$1/cfg"
}

# qemu_session_add NAME UUID: a second session in $QT/NAME (its own
# HOME, XDG directories and libvirtd, host UUID UUID); prints the
# directory. Its libvirtd starts with the first `QS=DIR vsh`.
qemu_session_add() {
	local d=$QT/$1
	mkdir -p "$d/run" "$d/cache"
	chown "$QUSER:$QGROUP" "$d" "$d/run" "$d/cache"
	qemu_session_host_uuid "$d" "$2"
	echo "$d"
}

# qemu_session_setup: the directory, the session daemon (spawned by the
# first virsh) and the VM, defined and running.
qemu_session_setup() {
	qemu_session_dir || return 1
	truncate -s 64M "$QT/blank.raw"
	cat >"$QT/$QVM.xml" <<-EOF
	<domain type='qemu'>
	  <name>$QVM</name>
	  <memory unit='MiB'>96</memory>
	  <vcpu>1</vcpu>
	  <os><type arch='x86_64' machine='pc'>hvm</type></os>
	  <devices>
	    <emulator>$(command -v qemu-system-x86_64)</emulator>
	    <disk type='file' device='disk'>
	      <driver name='qemu' type='raw'/>
	      <source file='$QT/blank.raw'/>
	      <target dev='vda' bus='virtio'/>
	    </disk>
	    <interface type='user'><model type='virtio'/></interface>
	    <memballoon model='virtio'><stats period='2'/></memballoon>
	  </devices>
	</domain>
	EOF
	chown -R "$QUSER:$QGROUP" "$QT"
	vsh define "$QT/$QVM.xml" >/dev/null || return 1
	vm_running
}

# vm_running [VM]: make VM (default $QVM) run in the session (start or
# resume it) and wait until it does.
vm_running() {
	local vm=${1:-$QVM} st
	for _ in $(seq 1 100); do
		st=$(vsh domstate "$vm" 2>&1)
		case "$st" in
		running) return 0 ;;
		"shut off" | crashed)
			if ! vsh start "$vm" >/dev/null; then
				tail -5 "${QS:-$QT}/cache/libvirt/qemu/log/$vm.log" >&2
				return 1
			fi ;;
		paused) vsh resume "$vm" >/dev/null ;;
		esac
		sleep 0.1
	done
	echo "$vm is '$st', not running, after 10 s" >&2
	return 1
}

# session_pids: every process of the sessions still alive: the pid files
# of each session's libvirtd, virtlogd and VMs, and anything whose HOME
# or XDG directories point into $QT (a libvirtd that lost its pid file; a
# capabilities probe `qemu-system-* -machine none` orphaned by a libvirtd
# killed mid-probe).
session_pids() {
	local f p
	{
		for f in "$QT"/run/libvirt/*.pid "$QT"/*/run/libvirt/*.pid \
		    "$QT"/run/libvirt/qemu/run/*.pid \
		    "$QT"/*/run/libvirt/qemu/run/*.pid; do
			if [ -r "$f" ]; then
				cat "$f"
				echo
			fi
		done
		# One grep over every environment (NUL-separated entries): a
		# process per pid is seconds on a busy machine. HOME and XDG_*
		# only: the test's own commands carry QT and friends.
		grep -lszE "^(HOME|XDG_[A-Z_]+)=${QT//./\\.}(/|\$)" /proc/[0-9]*/environ |
		    sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
	} | grep -E '^[0-9]+$' | sort -u | while read -r p; do
		if pid_alive "$p"; then
			echo "$p"
		fi
	done
}

# qemu_session_teardown: the VM destroyed and undefined, every process of
# the sessions ended (by pid), the directory removed. Safe after a partial
# setup.
qemu_session_teardown() {
	local pids
	[ -n "${QT:-}" ] && [ -d "$QT" ] || return 0
	if [ -e "$QT/$QVM.xml" ]; then
		vsh destroy "$QVM" >/dev/null 2>&1 || true	# may be stopped
		vsh undefine "$QVM" >/dev/null 2>&1 || true
	fi
	# Twice: a libvirtd ended mid-probe leaves its probe behind.
	for _ in 1 2; do
		pids=$(session_pids)
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null
		# shellcheck disable=SC2086
		if ! wait_gone 10 $pids; then
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null
			# shellcheck disable=SC2086
			wait_gone 5 $pids ||
			    echo "session processes still alive: $pids" >&2
		fi
	done
	rm -rf "$QT"
}

# domstats FILE: the VM's `virsh domstats` (key=value lines) into FILE.
domstats() {
	vsh domstats "$QVM" | sed -n 's/^ *\([^=]*\)=\(.*\)$/\1=\2/p' >"$1"
	[ -s "$1" ]
}

# stat_of FILE KEY: the value of KEY in a domstats FILE, or nothing.
stat_of() {
	sed -n "s/^$2=//p" "$1"
}

# start_session_daemon [ARGS...]: horcruxd as the session's user on
# qemu:///session (unless ARGS name their own --libvirt-uri), with the
# variables of start_daemon (helpers/common), so its wait_ready and
# check_sanitizers apply. The sanitizer options of tests/run cross env -i;
# LSan reads suppressions from $QSUPP. It runs in the first session, $QT.
start_session_daemon() {
	local -a uri=(--libvirt-uri qemu:///session)
	[[ " $* " == *" --libvirt-uri "* ]] && uri=()
	DDIR=$QT/hx-$BATS_TEST_NUMBER
	mkdir -p "$DDIR"
	chown "$QUSER:$QGROUP" "$DDIR"
	PORT=$(free_port)
	SOCK=$DDIR/s.sock
	HXD_LOG=$DDIR/horcruxd.log
	URL=http://127.0.0.1:$PORT
	local -a cmd
	QS= as_user_argv
	"${cmd[@]}" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:halt_on_error=1}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
		LSAN_OPTIONS="suppressions=$QSUPP:print_suppressions=0" \
		"$QHXD" -f "${uri[@]}" \
		--listen "127.0.0.1:$PORT" --socket "$SOCK" \
		--data-dir "$DDIR/data" --web-root "$QWEB" \
		--log-level info "$@" >"$HXD_LOG" 2>&1 3>&- &
	HXD_PID=$!
	wait_ready
}

# stop_session_daemon: stop_daemon (helpers/common) with a bounded wait:
# SIGTERM, up to 20 s for the exit (the leak check included), else
# SIGKILL and a failure. Fails unless the exit status is 0 and the log
# has no sanitizer report.
stop_session_daemon() {
	[ -n "${HXD_PID:-}" ] || return 0
	local rc=0
	kill -TERM "$HXD_PID" 2>/dev/null
	if ! wait_gone 20 "$HXD_PID"; then
		echo "horcruxd still running 20 s after SIGTERM; killing it" >&2
		kill -KILL "$HXD_PID" 2>/dev/null
		rc=137
	fi
	wait "$HXD_PID" || rc=$?
	HXD_PID=
	check_sanitizers || return 1
	if [ "$rc" -ne 0 ]; then
		echo "horcruxd exited with status $rc" >&2
		tail -20 "$HXD_LOG" >&2
		return 1
	fi
}

# ws_start FILE TOPICS_JSON [SECONDS]: a WebSocket client as root@local
# (uid 0 is trusted on the Unix socket) in the background, its frames in
# FILE; waits for Subscribed. Sets WS_PID.
ws_start() {
	"$WSC" --url "unix:$SOCK" --timeout "${3:-30}" \
		--send "{\"topics\":$2}" >"$1" 2>&1 3>&- &
	WS_PID=$!
	wait_frames "$1" '.frame.type == "Subscribed"' 1 5
}

ws_stop() {
	[ -n "${WS_PID:-}" ] || return 0
	kill "$WS_PID" 2>/dev/null
	wait "$WS_PID" 2>/dev/null
	WS_PID=
}

# JQ_MS: jq definitions; `ms` turns an RFC 3339 timestamp with
# milliseconds into epoch milliseconds.
JQ_MS='def ms: (.[0:19] + "Z" | fromdateiso8601) * 1000 + (.[20:23] | tonumber);'

# frames_where FILE FILTER: the lines of FILE (hx-wsclient output) for
# which FILTER is true, compact. Lines still being written are skipped.
frames_where() {
	jq -cR "$JQ_MS fromjson? | select($2)" "$1" 2>/dev/null
}

# wait_frames FILE FILTER N SECONDS: poll until N lines match FILTER.
wait_frames() {
	local n=$(($4 * 20))
	while [ "$n" -gt 0 ]; do
		[ "$(frames_where "$1" "$2" | wc -l)" -ge "$3" ] && return 0
		sleep 0.05
		n=$((n - 1))
	done
	echo "timed out after $4 s waiting for $3 frame(s) where $2 in $1:" >&2
	tail -20 "$1" >&2
	return 1
}
