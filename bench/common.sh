# shellcheck shell=bash
# bench/common.sh - helpers shared by the bench/ scripts (sourced, not run).
#
# Starting and stopping horcruxd and the peers on loopback, picking free
# ports, and measuring a process tree's CPU time and memory from /proc.
# Every wait here is a bounded poll on a condition, never a blind sleep;
# the only deliberate sleeps are the measurement windows themselves and
# the settle time before an idle measurement.
#
# The caller sets `set -euo pipefail` and ROOT (the source tree), sources
# this file and calls bench_init BUILD_DIR first.

BENCH_SECONDS_DEFAULT=${BENCH_SECONDS_DEFAULT:-30}
CLK_TCK=$(getconf CLK_TCK)

# bench_init BUILD_DIR: check the binaries, make a scratch directory and
# arrange for everything started through bench_spawn to be stopped on exit.
bench_init() {
	if [ $# -ne 1 ] || [ ! -d "$1" ]; then
		echo "usage: $0 BUILD_DIR   (e.g. build/release)" >&2
		exit 2
	fi
	B=${1%/}
	HXD=$B/horcruxd
	WSLOAD=$B/tests/tools/hx-wsload
	WSCLIENT=$B/tests/tools/hx-wsclient
	for f in "$HXD" "$WSLOAD" "$WSCLIENT"; do
		if [ ! -x "$f" ]; then
			echo "$0: missing '$f': run make HX_DEPS=ok" \
			    "MODE=release build build-tests" >&2
			exit 1
		fi
	done
	BENCH_TMP=$(mktemp -d /tmp/hx-bench.XXXXXX)
	chmod 755 "$BENCH_TMP"
	BENCH_PIDS=()
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# alive PID: true while PID runs (a zombie waiting to be reaped is not).
alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# wait_gone TENTHS PID...: wait up to TENTHS/10 s until none of PIDs runs.
wait_gone() {
	local n=$1 p left
	shift
	for ((; n > 0; n--)); do
		left=0
		for p in "$@"; do
			if alive "$p"; then
				left=1
				break
			fi
		done
		[ "$left" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# Stop every process started by bench_spawn (and its descendants), newest
# first, by pid: TERM to the process itself (it stops its own children;
# signalling them too would orphan them to a PID 1 that may not reap them),
# then KILL whatever of the tree is left after 10 s.
bench_cleanup() {
	local i pid tree p
	for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${BENCH_PIDS[i]}
		if alive "$pid"; then
			tree=$(tree_pids "$pid")
			kill -TERM "$pid" 2>/dev/null || true
			# shellcheck disable=SC2086
			wait_gone 100 $tree
			for p in $tree; do
				if alive "$p"; then
					kill -KILL "$p" 2>/dev/null || true
				fi
			done
			# shellcheck disable=SC2086
			wait_gone 20 $tree
		fi
		wait "$pid" 2>/dev/null || true
	done
	BENCH_PIDS=()
	if [ -n "${BENCH_TMP:-}" ]; then
		rm -rf "$BENCH_TMP"
	fi
	return 0
}

# bench_spawn LOG CMD...: start CMD in the background with output to LOG;
# sets SPAWNED_PID.
bench_spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	SPAWNED_PID=$!
	BENCH_PIDS+=("$SPAWNED_PID")
}

# bench_stop PID: TERM it, wait up to 10 s, then KILL; sets STOP_RC to its
# exit status (143 = it died of the TERM instead of exiting).
bench_stop() {
	local pid=$1 n
	STOP_RC=0
	kill -TERM "$pid" 2>/dev/null || true
	for ((n = 0; n < 100; n++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || STOP_RC=$?
}

# free_port: print a TCP port on 127.0.0.1 nobody listens on.
free_port() {
	local i p
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 30000))
		if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	echo "$0: no free port found" >&2
	return 1
}

# wait_http URL SECS PID: poll URL until it answers 200, for at most SECS,
# giving up early if PID dies.
wait_http() {
	local url=$1 secs=$2 pid=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		if [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" \
		    2>/dev/null)" = 200 ]; then
			return 0
		fi
		[ -d "/proc/$pid" ] || return 1
		sleep 0.1
	done
	return 1
}

# start_horcruxd: start the daemon on a free port and a socket in the
# scratch directory; sets HXD_PID, HXD_PORT, HXD_SOCK. Extra flags come
# from BENCH_HXD_FLAGS (default, if the daemon has the option: the libvirt
# test driver, so the VM collector has one domain to sample instead of
# retrying an absent qemu:///system). The page comes from BENCH_WEB_ROOT
# (default: share/web of this tree), so bench/web can time another build's.
start_horcruxd() {
	local dir=$BENCH_TMP/hxd
	local flags
	if [ -n "${BENCH_HXD_FLAGS+set}" ]; then
		flags=$BENCH_HXD_FLAGS
	elif "$HXD" --help 2>&1 | grep -q -- '--libvirt-uri'; then
		flags="--libvirt-uri test:///default"
	else
		flags=
	fi
	mkdir -p "$dir/data"
	HXD_PORT=$(free_port)
	HXD_SOCK=$dir/s.sock
	# shellcheck disable=SC2086
	bench_spawn "$dir/log" "$HXD" -f --listen "127.0.0.1:$HXD_PORT" \
	    --socket "$HXD_SOCK" --data-dir "$dir/data" \
	    --web-root "${BENCH_WEB_ROOT:-$ROOT/share/web}" \
	    --node-interval 1 --log-level warning \
	    $flags
	HXD_PID=$SPAWNED_PID
	if ! wait_http "http://127.0.0.1:$HXD_PORT/api/health" 15 "$HXD_PID" ||
	    [ ! -S "$HXD_SOCK" ]; then
		echo "$0: horcruxd did not become ready; its log:" >&2
		sed 's/^/  | /' "$dir/log" >&2
		exit 1
	fi
}

# stop_horcruxd: stop it and complain if it did not exit cleanly.
stop_horcruxd() {
	bench_stop "$HXD_PID"
	HXD_EXIT=$STOP_RC
	if [ "$HXD_EXIT" != 0 ]; then
		echo "warning: horcruxd exited with status $HXD_EXIT on" \
		    "SIGTERM; the end of its log:" >&2
		tail -20 "$BENCH_TMP/hxd/log" | sed 's/^/  | /' >&2
	fi
}

# tree_pids PID: PID and all its descendants, one line.
tree_pids() {
	ps -eo pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			out = root
			for (p in parent) {
				q = p
				for (n = 0; n < 64 && q != root && q in parent; n++)
					q = parent[q]
				if (q == root && p != root)
					out = out " " p
			}
			print out
		}'
}

# tree_ticks PID: CPU clock ticks used by PID and its descendants:
# utime + stime + cutime + cstime of each live process, so a child that
# exits and is reaped moves its time into its parent's and the sum holds.
tree_ticks() {
	local p s total=0 f
	for p in $(tree_pids "$1"); do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }
		read -ra f <<<"$s"
		total=$((total + f[11] + f[12] + f[13] + f[14]))
	done
	echo "$total"
}

# tree_mem PID: "RSS_KB PSS_KB HWM_KB" summed over PID and its descendants
# (RSS counts shared pages once per process, PSS splits them fairly; HWM is
# each process's peak RSS).
tree_mem() {
	local p rss=0 pss=0 hwm=0 r h s
	for p in $(tree_pids "$1"); do
		r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		h=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		s=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
		rss=$((rss + ${r:-0}))
		hwm=$((hwm + ${h:-0}))
		pss=$((pss + ${s:-0}))
	done
	echo "$rss $pss $hwm"
}

now_s() {
	echo "$EPOCHREALTIME"
}

# cpu_pct TICKS0 TICKS1 T0 T1: percent of one core over the interval.
cpu_pct() {
	awk -v a="$1" -v b="$2" -v t0="$3" -v t1="$4" -v hz="$CLK_TCK" \
	    'BEGIN { d = t1 - t0; printf "%.3f", (d > 0 ? (b - a) / hz / d * 100 : 0) }'
}

# mb KB: kilobytes as megabytes (MiB), one decimal.
mb() {
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# Credentials for the benchmarks that need them (bench/auth, bench/rest).
# The daemon lives in the scratch directory, so these never leave it.
BENCH_USER='admin'
BENCH_PASS='admin-pass-1'

# hxd_call METHOD PATH JSON OUT VIA: one JSON request to horcruxd, VIA
# "unix" (its socket: trusted as root or the daemon's uid) or "tcp"; the
# body goes to OUT. Fails (with the status and body on stderr) unless the
# answer is 2xx.
hxd_call() {
	local method=$1 path=$2 json=$3 out=$4 via=$5 code
	local -a where
	if [ "$via" = unix ]; then
		where=(--unix-socket "$HXD_SOCK" "http://localhost$path")
	else
		where=("http://127.0.0.1:$HXD_PORT$path")
	fi
	code=$(curl -s -m 10 -o "$out" -w '%{http_code}' -X "$method" \
	    -H 'Content-Type: application/json' -d "$json" "${where[@]}") ||
	    code=000
	case $code in
	2??) return 0 ;;
	esac
	echo "$0: $method $path ($via) answered $code: $(head -c 300 \
	    "$out" 2>/dev/null)" >&2
	return 1
}

# hxd_make_admin: create BENCH_USER as an Administrator over the Unix
# socket (the first user of the fresh data directory).
hxd_make_admin() {
	hxd_call POST /api/users "$(jq -cn --arg u "$BENCH_USER" \
	    --arg p "$BENCH_PASS" \
	    '{username: $u, password: $p, roles: ["Administrator"]}')" \
	    "$BENCH_TMP/admin.json" unix
}

# hxd_login: log BENCH_USER in over TCP; sets HXD_JWT (the session token).
# One Argon2id verification on the daemon's worker thread.
hxd_login() {
	hxd_call POST /api/auth/login "$(jq -cn --arg u "$BENCH_USER" \
	    --arg p "$BENCH_PASS" '{username: $u, password: $p}')" \
	    "$BENCH_TMP/login.json" tcp
	# shellcheck disable=SC2034 # for the caller
	HXD_JWT=$(jq -er .token "$BENCH_TMP/login.json")
}

# hxd_api_key NAME: make an API key for BENCH_USER (its own rights) over
# the Unix socket; sets HXD_KEY (hx_...).
hxd_api_key() {
	hxd_call POST "/api/users/$BENCH_USER/api-keys" \
	    "$(jq -cn --arg n "$1" '{name: $n}')" "$BENCH_TMP/key.json" unix
	# shellcheck disable=SC2034 # for the caller
	HXD_KEY=$(jq -er .token "$BENCH_TMP/key.json")
}

# http_code URL [CURL ARGS...]: the status of one GET (000: no answer).
http_code() {
	local url=$1
	shift
	curl -s -m 5 -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null ||
	    true
}

# machine_busy SECS: percent of all CPUs busy (not idle or iowait) over
# SECS, from /proc/stat. Taken before a benchmark starts anything, it
# tells whether something else on the machine will be in the figures.
machine_busy() {
	local a b
	a=$(awk '/^cpu / { print $2+$3+$4+$7+$8+$9, $5+$6 }' /proc/stat)
	sleep "$1"
	b=$(awk '/^cpu / { print $2+$3+$4+$7+$8+$9, $5+$6 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
		busy = y[1] - x[1]; all = busy + y[2] - x[2]
		printf "%.1f", (all > 0 ? busy / all * 100 : 0) }'
}

# quiet_check: set BUSY_PCT (machine_busy over 2 s) and print a warning
# when the machine is not quiet (above 10% of all CPUs).
quiet_check() {
	BUSY_PCT=$(machine_busy 2)
	if awk -v b="$BUSY_PCT" 'BEGIN { exit !(b > 10) }'; then
		echo "warning: the machine was ${BUSY_PCT}% busy (all CPUs)" \
		    "before this benchmark started anything: other work is" \
		    "in these figures; repeat them on a quiet machine" >&2
	fi
}
