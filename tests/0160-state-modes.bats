#!/usr/bin/env bats
# The data directory and the identity database with loose modes: what
# others could write is refused at start (exit 1, one line naming the
# path and mode), what others could read is a warning in the log.

load helpers/common

teardown() {
	stop_daemon
}

# run_hxd: horcruxd in the foreground on $DDIR/data, expected to refuse.
run_hxd() {
	run --separate-stderr timeout 20 "$HXD" -f --listen "127.0.0.1:$(free_port)" \
		--socket "$BATS_TEST_TMPDIR/r.sock" --data-dir "$DDIR/data"
}

@test "a fresh data directory and database are 0700 and 0600, with no warning" {
	DDIR=$BATS_TEST_TMPDIR/hx
	start_daemon
	stop_daemon
	assert_equal "$(stat -c %a "$DDIR/data")" 700
	assert_equal "$(stat -c %a "$DDIR/data/horcrux.db")" 600
	run grep -c 'accessible by group or others' "$HXD_LOG"
	assert_output 0
}

@test "a data directory others may write is refused, naming path and mode" {
	DDIR=$BATS_TEST_TMPDIR/hx
	mkdir -p "$DDIR/data"
	chmod 0777 "$DDIR/data"
	run_hxd
	assert_failure 1
	assert_equal "$stderr" "horcruxd: data directory '$DDIR/data' is writable by group or others (mode 0777); make it 0700"
	chmod 0770 "$DDIR/data"
	run_hxd
	assert_failure 1
	assert_equal "$stderr" "horcruxd: data directory '$DDIR/data' is writable by group or others (mode 0770); make it 0700"
	[ ! -e "$DDIR/data/horcrux.db" ]
}

@test "a data directory others may read starts with a warning naming path and mode" {
	DDIR=$BATS_TEST_TMPDIR/hx
	mkdir -p "$DDIR/data"
	chmod 0755 "$DDIR/data"
	start_daemon
	run grep -F "data directory '$DDIR/data' is accessible by group or others (mode 0755); 0700 is advised" "$HXD_LOG"
	assert_success
	assert_line --partial 'warning'
}

@test "an identity database others may write is refused, naming path and mode" {
	DDIR=$BATS_TEST_TMPDIR/hx
	start_daemon
	stop_daemon
	chmod 0666 "$DDIR/data/horcrux.db"
	run_hxd
	assert_failure 1
	assert_equal "$stderr" "horcruxd: identity database '$DDIR/data/horcrux.db' is writable by group or others (mode 0666); make it 0600"
	chmod 0620 "$DDIR/data/horcrux.db"
	run_hxd
	assert_failure 1
	assert_equal "$stderr" "horcruxd: identity database '$DDIR/data/horcrux.db' is writable by group or others (mode 0620); make it 0600"
}

@test "an identity database others may read starts with a warning naming path and mode" {
	DDIR=$BATS_TEST_TMPDIR/hx
	start_daemon
	stop_daemon
	chmod 0644 "$DDIR/data/horcrux.db"
	start_daemon
	run grep -F "identity database '$DDIR/data/horcrux.db' is accessible by group or others (mode 0644); 0600 is advised" "$HXD_LOG"
	assert_success
	assert_line --partial 'warning'
	# The database still works: the Unix-socket administrator reads users.
	run curl -sf --unix-socket "$SOCK" http://localhost/api/users
	assert_success
	assert_output '[]'
}
