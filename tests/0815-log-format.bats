#!/usr/bin/env bats
# Log lines fit for where they go (issue 17): under the systemd journal
# (JOURNAL_STREAM naming the device and inode of the daemon's very
# stderr) a line is "<N>message" with the sd-daemon priority and no
# timestamp, program or pid of its own; JOURNAL_STREAM naming another
# file changes nothing; --log-format json writes one JSON object per
# line; a bad format is refused at start.
#
# Three daemons for the file, each started once in setup_file: the
# journal's, one whose JOURNAL_STREAM points elsewhere, and a JSON one
# (also under a matching JOURNAL_STREAM: the chosen format wins).

load helpers/common

# launch NAME JOURNAL ARGS...: start a daemon in $BATS_FILE_TMPDIR/NAME,
# its stdout and stderr the file NAME/log. JOURNAL: "self" sets
# JOURNAL_STREAM to that file's device and inode as seen through the
# daemon's own fd 2, "other" to another file's, "none" leaves it unset.
# Sets NAME_PID, NAME_PORT in the environment of the tests.
launch() {
	local name=$1 journal=$2 dir
	shift 2
	dir=$BATS_FILE_TMPDIR/$name
	mkdir -p "$dir"
	chmod 0750 "$dir" # a warning at start: data directory mode
	local PORT URL HXD_LOG=$dir/log HXD_PID
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	: >"$dir/other"
	(
		case $journal in
		self) JOURNAL_STREAM=$(stat -L -c '%d:%i' /proc/self/fd/2) ;;
		other) JOURNAL_STREAM=$(stat -L -c '%d:%i' "$dir/other") ;;
		none) unset JOURNAL_STREAM ;;
		esac
		[ "$journal" = none ] || export JOURNAL_STREAM
		exec "$HXD" -f --listen "127.0.0.1:$PORT" --socket "$dir/s.sock" \
			--data-dir "$dir" --web-root "$HX_REPO/share/web" \
			--libvirt-uri test:///default "$@"
	) >"$HXD_LOG" 2>&1 3>&- &
	HXD_PID=$!
	echo "$HXD_PID" >"$dir/pid"
	wait_ready || return 1
	wait_count "$HXD_LOG" 'ready \(pid' 1
}

logf() { echo "$BATS_FILE_TMPDIR/$1/log"; }
pidof_d() { cat "$BATS_FILE_TMPDIR/$1/pid"; }

setup_file() {
	: >"$BATS_FILE_TMPDIR/journal.conf"
	launch journal self -c "$BATS_FILE_TMPDIR/journal.conf" --log-level debug || return 1
	launch elsewhere other || return 1
	launch json self --log-format json --log-level debug || return 1
}

# stop NAME: SIGTERM, reap, exit 0 and no sanitizer report in its log.
stop() {
	local HXD_PID HXD_LOG
	HXD_PID=$(pidof_d "$1")
	HXD_LOG=$(logf "$1")
	stop_daemon
}

teardown_file() {
	local rc=0
	stop journal || rc=1
	stop elsewhere || rc=1
	stop json || rc=1
	return $rc
}

@test "under the journal: <6>, <4>, <7> priority prefixes and nothing else" {
	log=$(logf journal)
	pid=$(pidof_d journal)
	run grep -Fx "<6>horcruxd 0.1.0 ready (pid $pid)" "$log"
	assert_success
	run grep -E "^<4>data directory '.*' is accessible by group or others" "$log"
	assert_success
	run grep -E '^<7>' "$log"
	assert_success
	# Every line is "<N>..." and none carries a timestamp or a pid tag.
	run grep -Ev '^<[3467]>' "$log"
	assert_output ""
	run grep -E "[0-9]{4}-[0-9]{2}-[0-9]{2}T|horcruxd\[$pid\]|: (info|warning|debug): " "$log"
	assert_output ""
}

@test "under the journal: an error is <3> (a reload of a bad file)" {
	conf=$BATS_FILE_TMPDIR/journal.conf
	echo "node_interval = 0" >"$conf"
	kill -HUP "$(pidof_d journal)"
	wait_count "$(logf journal)" '^<3>configuration not reloaded' 1
	run grep -F "<3>configuration not reloaded, the running settings stay: $conf:1: node_interval: '0' is out of range (0.1 to 3600)" "$(logf journal)"
	assert_success
}

@test "JOURNAL_STREAM naming another file: the usual timestamped lines" {
	log=$(logf elsewhere)
	pid=$(pidof_d elsewhere)
	run grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z horcruxd\[$pid\]: info: horcruxd 0.1.0 ready \(pid $pid\)$" "$log"
	assert_success
	run grep -E '^<[0-9]>' "$log"
	assert_output ""
}

@test "--log-format json: one object per line with ts, level, program, pid, msg" {
	log=$(logf json)
	pid=$(pidof_d json)
	# Every line parses, alone, as an object with exactly those fields.
	run jq -e 'type == "object"' "$log"
	assert_success
	[ "$(jq -r 'keys_unsorted | join(",")' "$log" | sort -u)" = "ts,level,program,pid,msg" ]
	[ "$(jq -r '.program' "$log" | sort -u)" = horcruxd ]
	[ "$(jq -r '.pid' "$log" | sort -u)" = "$pid" ]
	[ "$(jq -r '.pid | type' "$log" | sort -u)" = number ]
	# RFC 3339, UTC, milliseconds.
	[ "$(jq -r '.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")' "$log" | sort -u)" = true ]
	run jq -r 'select(.msg == "horcruxd 0.1.0 ready (pid \(.pid))") | .level' "$log"
	assert_output info
	run jq -r 'select(.msg | startswith("data directory")) | .level' "$log"
	assert_output warning
	run jq -r 'select(.level == "debug") | .level' "$log"
	assert_line debug
	# The journal's variable matched, but JSON was asked for.
	run grep -E '^<[0-9]>' "$log"
	assert_output ""
}

@test "a bad --log-format or log_format is refused at start with one clear line" {
	run --separate-stderr "$HXD" -f --log-format yaml
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "horcruxd: --log-format: 'yaml' is not one of: text, json"
	printf 'log_format = syslog\n' >"$BATS_TEST_TMPDIR/bad.conf"
	run --separate-stderr "$HXD" -f -c "$BATS_TEST_TMPDIR/bad.conf" \
		--data-dir "$BATS_TEST_TMPDIR/d" --socket "$BATS_TEST_TMPDIR/s.sock"
	assert_failure 1
	assert_equal "$stderr" "horcruxd: $BATS_TEST_TMPDIR/bad.conf:1: log_format: 'syslog' is not one of: text, json"
	[ ! -e "$BATS_TEST_TMPDIR/d" ]
}
