# Shared setup for the horcrux-cli bats files (tests/06*-cli*.bats).
#
# cli_start_daemon [ARGS...] starts horcruxd for a whole file on the demo
# node (start_daemon from helpers/common), with the client's config,
# history and home under the file's temporary directory so no test reads
# or writes the real ~/.config. HORCRUX_SERVER points at the daemon's Unix
# socket: as root the CLI is root@local there, the bootstrap administrator.
# Load helpers/common first.

CLI=$HX_BUILD/horcrux-cli
NODE="test://$HX_REPO/share/demo-node.xml"

# cli_env DIR: a private HOME, XDG dirs and the daemon's socket.
cli_env() {
	export HOME=$1/home XDG_CONFIG_HOME=$1/config XDG_STATE_HOME=$1/state
	mkdir -p "$HOME"
	export HORCRUX_SERVER="unix:$SOCK"
	unset HORCRUX_API_KEY HORCRUX_TOKEN NO_COLOR
}

# cli_start_daemon [ARGS...]: one daemon for the file, variables exported.
cli_start_daemon() {
	DDIR=$BATS_FILE_TMPDIR/hx
	start_daemon --libvirt-uri "$NODE" --vm-interval 0.3 "$@" || return 1
	export HXD_PID PORT SOCK DDIR HXD_LOG URL
	cli_env "$BATS_FILE_TMPDIR"
	cli_wait_vms
}

# The collector's first inventory: web-1 listed (5 s).
cli_wait_vms() {
	local i
	for i in $(seq 1 100); do
		curl -s --unix-socket "$SOCK" http://localhost/api/vms |
			jq -e 'map(.id) | index("web-1") != null' >/dev/null && return 0
		sleep 0.05
	done
	echo "no VM inventory from the demo node" >&2
	return 1
}

# cli_mkuser NAME [--role R]...: a local user with password "pw-NAME-123".
cli_mkuser() {
	local name=$1
	shift
	"$CLI" user add "$name" --password-stdin "$@" <<<"pw-$name-123" >/dev/null
}

# cli_key USER [ARGS...]: create an API key, print the token.
cli_key() {
	local out
	out=$("$CLI" -o json apikey create "$@" 2>/dev/null) || return 1
	jq -er .token <<<"$out"
}

# cli_no_sanitizer_report: fail if the last `run` output holds a report.
cli_no_sanitizer_report() {
	if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$output$stderr"; then
		echo "sanitizer report in the CLI's output" >&2
		return 1
	fi
}

# wait_file_match FILE REGEX [TRIES]: until FILE has a line matching (5 s).
wait_file_match() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing matching '$2' in $1:" >&2
	cat "$1" >&2 2>/dev/null
	return 1
}
