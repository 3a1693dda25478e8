#!/usr/bin/env bats
# horcrux-cli admin backup (horcrux-cli(1), BACKUP AND RESTORE): an online
# backup of a running daemon's identity and metrics databases, made while
# logins, new users and history flushes go on; the archive checked by
# independent readers (python3's tarfile and sqlite3, the sqlite3 shell's
# integrity_check); restored into a fresh data directory as the man page
# says, where a second daemon lets the old accounts in by password and by
# API key and serves the old history, roles, ACL, rules and targets. Then
# every failure: an existing file (kept byte for byte), a missing or
# unwritable place, a user who may not read the data directory, a full
# disk (a small tmpfs): one line, exit 1, nothing left behind.
#
# One daemon for the file; the restored one is a second instance. Nothing
# sleeps blindly: waits poll the API or the daemon's log.

load helpers/common
load helpers/api

CLI=$HX_BUILD/horcrux-cli
NODE="test://$HX_REPO/share/demo-node.xml"

setup_file() {
	DDIR=$BATS_FILE_TMPDIR/hx
	start_daemon --libvirt-uri "$NODE" --node-interval 0.2 \
		--vm-interval 0.3 --history-flush 1 --log-level debug || return 1
	export HXD_PID PORT SOCK DDIR HXD_LOG URL
	wait_vms || return 1
	populate || return 1
}

teardown_file() {
	stop_instance restored || :
	stop_daemon
}

teardown() {
	if [ -n "${OWN_TMP:-}" ]; then
		rm -rf "$OWN_TMP"
	fi
	if [ -n "${OWN_MOUNT:-}" ]; then
		umount "$OWN_MOUNT" || :
	fi
	if [ -n "${LOAD_PID:-}" ]; then
		touch "$BATS_FILE_TMPDIR/load.stop"
		kill_clients "$LOAD_PID"
	fi
}

# Every kind of content the backup must carry, made through the API.
populate() {
	must 201 POST /api/roles '{"name":"Watcher","privileges":["VmAudit"]}' >/dev/null || return 1
	must 201 POST /api/users '{"username":"alice","password":"alice-pass-1","roles":["Administrator"],"email":"alice@example.org"}' >/dev/null || return 1
	must 201 POST /api/users '{"username":"bob","password":"bob-pass-12"}' >/dev/null || return 1
	must 200 PUT /api/acl '{"path":"/vms/web-1","role":"Watcher","user":"bob"}' >/dev/null || return 1
	must 201 POST /api/users/bob/api-keys '{"name":"report"}' |
		jq -er .token >"$BATS_FILE_TMPDIR/bob.key" || return 1
	must 201 POST /api/notify/targets '{"name":"ops","type":"webhook","url":"http://127.0.0.1:9/hook","secret":"s3cret-value"}' >/dev/null || return 1
	must 201 POST /api/alerts/rules '{"name":"hot-cpu","series":"node:cpu_usage","op":">","threshold":99.5,"for_seconds":600,"severity":"warning","notify":["ops"]}' >/dev/null
}

# flushes: how many "history flushed" lines the daemon logged.
flushes() {
	grep -c 'history flushed' "$HXD_LOG" || :
}

# wait_flush: until one more flush than now is logged (10 s).
wait_flush() {
	local n i
	n=$(flushes)
	for i in $(seq 1 200); do
		[ "$(flushes)" -gt "$n" ] && return 0
		sleep 0.05
	done
	echo "no history flush in 10 s" >&2
	return 1
}

# write_load: logins (sessions written) and new users until load.stop.
write_load() {
	local n=0
	while [ ! -e "$BATS_FILE_TMPDIR/load.stop" ]; do
		curl -s -o /dev/null -X POST "$URL/api/auth/login" \
			-H 'Content-Type: application/json' \
			-d '{"username":"alice","password":"alice-pass-1"}'
		if [ "$(status_of "$(sock POST /api/users "{\"username\":\"load-$n\",\"password\":\"load-pass-$n\"}")")" = 201 ]; then
			echo "load-$n" >>"$BATS_FILE_TMPDIR/load.users"
		fi
		n=$((n + 1))
	done
}

# py_check TAR DIR: python3 reads the archive and the unpacked databases
# on its own: the names in order, modes 0600, the manifest's schema
# versions and sizes against the files.
py_check() {
	$PY - "$1" "$2" <<'PY'
import json, os, sqlite3, sys, tarfile
tar, d = sys.argv[1], sys.argv[2]
with tarfile.open(tar) as t:
    members = t.getmembers()
    names = [m.name for m in members]
    assert names[0] == "horcrux-backup.json", names
    assert sorted(names[1:]) == ["horcrux.db", "metrics.db"], names
    assert all(m.isfile() and m.mode == 0o600 for m in members), members
    man = json.load(t.extractfile("horcrux-backup.json"))
assert man["format"] == "horcrux-backup" and man["version"] == 1, man
for f in man["files"]:
    p = os.path.join(d, f["name"])
    assert os.path.getsize(p) == f["bytes"], (f, os.path.getsize(p))
    db = sqlite3.connect("file:%s?mode=ro" % p, uri=True)
    assert db.execute("PRAGMA user_version").fetchone()[0] == f["schema"], f
    db.close()
print(" ".join("%s:%d" % (f["name"], f["schema"]) for f in man["files"]))
PY
}

@test "a backup made under write load restores: old accounts, key, content and history" {
	local win pts out before i b tok tar=$BATS_FILE_TMPDIR/full.tar rdir

	# History flushed before the backup: its newest point is the mark.
	# One absolute window queried here and on the restored daemon.
	# 15 points (3 s at 0.2 s): the window, cut to the second, holds 5.
	wait_points "series=node:cpu_usage&from=-5m" 15 >/dev/null
	win="series=node:cpu_usage&from=$(date -u -d @$(($(date +%s) - 60)) +%FT%TZ)&to=$(date -u +%FT%TZ)"
	pts=$(body_of "$(hist "$win")" | jq -c '[.series[0].points[] | select(.[1] != null)]')
	[ "$(jq length <<<"$pts")" -ge 5 ] || fail "window $win: $pts"
	wait_flush
	# A session of the old data directory, to see it end after restore.
	tok=$(curl -s -X POST "$URL/api/auth/login" -H 'Content-Type: application/json' \
		-d '{"username":"alice","password":"alice-pass-1"}' | jq -r .token)
	[ -n "$tok" ] && [ "$tok" != null ]

	: >"$BATS_FILE_TMPDIR/load.users"
	write_load &
	LOAD_PID=$!
	# Under way: a few users made by the load before the backups start.
	for i in $(seq 1 200); do
		[ "$(wc -l <"$BATS_FILE_TMPDIR/load.users")" -ge 3 ] && break
		sleep 0.05
	done
	before=$(wc -l <"$BATS_FILE_TMPDIR/load.users")
	[ "$before" -ge 3 ]
	# Three backups while logins, user writes and flushes go on.
	for b in b1 b2 b3; do
		run -0 --separate-stderr "$CLI" admin backup --data-dir "$DDIR/data" "$BATS_FILE_TMPDIR/$b.tar"
		assert_line --index 0 "backup written to '$BATS_FILE_TMPDIR/$b.tar'"
		assert_line --regexp '^  horcrux\.db +identity +schema [0-9]+, '
		assert_line --regexp '^  metrics\.db +metrics +schema [0-9]+, '
		[ -z "$stderr" ]
	done
	wait_flush
	run -0 --separate-stderr "$CLI" -o json admin backup --data-dir "$DDIR/data" "$tar"
	jq -e '.format == "horcrux-backup" and (.files | map(.name) == ["horcrux.db","metrics.db"])' <<<"$output"
	touch "$BATS_FILE_TMPDIR/load.stop"
	kill_clients "$LOAD_PID"
	LOAD_PID=
	# The load went on during the backups (more users than at the start).
	[ "$(wc -l <"$BATS_FILE_TMPDIR/load.users")" -gt "$before" ]
	# The daemon kept serving and is unharmed.
	assert_equal "$(status_of "$(sock GET /api/users)")" 200
	[ "$(stat -c %a "$tar")" = 600 ]

	# Restore as the man page says: an empty 0700 directory, unpacked.
	rdir=$(inst_dir restored)/data
	install -d -m 0700 "$rdir"
	tar -xf "$tar" -C "$rdir" --exclude horcrux-backup.json
	for i in horcrux.db metrics.db; do
		run -0 sqlite3 "$rdir/$i" 'PRAGMA integrity_check'
		assert_output ok
	done
	run -0 py_check "$tar" "$rdir"
	assert_output --regexp '^horcrux\.db:[0-9]+ metrics\.db:[0-9]+$'
	[ ! -e "$rdir/jwt.key" ]

	start_instance restored --libvirt-uri "$NODE" --node-interval 0.2
	local RURL RSOCK
	RURL=$(inst_url restored)
	RSOCK=$(inst_sock restored)
	# The old password logs in; the old API key works, with its ACL.
	out=$(curl -s -X POST "$RURL/api/auth/login" -H 'Content-Type: application/json' \
		-d '{"username":"alice","password":"alice-pass-1"}' -w '\n%{http_code}')
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.roles == ["Administrator"]'
	out=$(curl -s "$RURL/api/auth/me" -H "X-API-Key: $(cat "$BATS_FILE_TMPDIR/bob.key")" -w '\n%{http_code}')
	assert_equal "$(status_of "$out")" 200
	body_of "$out" | jq -e '.username | startswith("bob")'
	out=$(curl -s "$RURL/api/vms/web-1" -H "X-API-Key: $(cat "$BATS_FILE_TMPDIR/bob.key")" -w '\n%{http_code}')
	assert_equal "$(status_of "$out")" 200
	# A session of the old data directory does not survive (new jwt.key).
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$RURL/api/auth/me" -H "Authorization: Bearer $tok")" 401
	# Roles, ACL, users made by the load before the backups, rules, targets.
	SOCK=$RSOCK
	must 200 GET /api/roles | jq -e '.. | objects | select(.name? == "Watcher")'
	must 200 GET /api/acl | jq -e '.. | objects | select(.path? == "/vms/web-1" and .role? == "Watcher")'
	must 200 GET /api/users | jq -e '.. | objects | select(.email? == "alice@example.org")'
	for i in $(head -"$before" "$BATS_FILE_TMPDIR/load.users"); do
		must 200 GET "/api/users/$i" >/dev/null
	done
	must 200 GET /api/alerts/rules | jq -e '.rules[] | select(.name == "hot-cpu") | .threshold == 99.5 and .notify == ["ops"]'
	must 200 GET /api/notify/targets | jq -e '.. | objects | select(.name? == "ops")'
	# The history flushed before the backup is served by the new daemon.
	out=$(must 200 GET "/api/metrics/history?$win")
	assert_equal "$(jq -c '[.series[0].points[] | select(.[1] != null)]' <<<"$out")" "$pts"
	stop_instance restored
}

@test "admin backup refuses an existing file, keeps it, and --force replaces it" {
	local f=$BATS_FILE_TMPDIR/exists.tar sum
	echo "precious" >"$f"
	sum=$(sha256sum <"$f")
	run -1 --separate-stderr "$CLI" admin backup --data-dir "$DDIR/data" "$f"
	assert_equal "$stderr" "horcrux-cli: cannot back up to '$f': it exists (--force replaces it)"
	[ -z "$output" ]
	assert_equal "$(sha256sum <"$f")" "$sum"
	run -0 "$CLI" admin backup --data-dir "$DDIR/data" --force "$f"
	run -0 tar -tf "$f"
	assert_output "horcrux-backup.json
horcrux.db
metrics.db"
	# No temporary directory is left beside it.
	run -0 find "$BATS_FILE_TMPDIR" -maxdepth 1 -name '.horcrux-backup.*'
	assert_output ""
}

@test "admin backup: usage, missing places and a data directory without history" {
	run -2 --separate-stderr "$CLI" admin backup
	assert_equal "$stderr" "horcrux-cli: 'admin backup' needs FILE
usage: horcrux-cli admin backup FILE [--data-dir DIR] [--config FILE] [--force]"
	run -2 --separate-stderr "$CLI" admin backup a b
	[[ $stderr == "horcrux-cli: 'admin backup': too many arguments"* ]]
	run -2 --separate-stderr "$CLI" admin backup --data-dir "$DDIR/data" --config /x "$BATS_TEST_TMPDIR/x.tar"
	[[ $stderr == "horcrux-cli: --data-dir and --config exclude each other"* ]]

	run -1 --separate-stderr "$CLI" admin backup --data-dir "$BATS_TEST_TMPDIR/none" "$BATS_TEST_TMPDIR/x.tar"
	assert_equal "$stderr" "horcrux-cli: cannot back up: cannot read data directory '$BATS_TEST_TMPDIR/none': No such file or directory"
	mkdir "$BATS_TEST_TMPDIR/empty"
	run -1 --separate-stderr "$CLI" admin backup --data-dir "$BATS_TEST_TMPDIR/empty" "$BATS_TEST_TMPDIR/x.tar"
	assert_equal "$stderr" "horcrux-cli: cannot back up: cannot read '$BATS_TEST_TMPDIR/empty/horcrux.db': No such file or directory"
	run -1 --separate-stderr "$CLI" admin backup --data-dir "$DDIR/data" "$BATS_TEST_TMPDIR/no/such/dir/x.tar"
	assert_equal "$stderr" "horcrux-cli: cannot back up: cannot write '$BATS_TEST_TMPDIR/no/such/dir/x.tar': No such file or directory"
	[ ! -e "$BATS_TEST_TMPDIR/x.tar" ]

	# data_dir from horcruxd's configuration file; a named missing one fails.
	printf '# horcruxd\nlisten = 127.0.0.1:1\ndata_dir = "%s"\n' "$DDIR/data" >"$BATS_TEST_TMPDIR/h.conf"
	run -0 "$CLI" admin backup --config "$BATS_TEST_TMPDIR/h.conf" "$BATS_TEST_TMPDIR/c.tar"
	run -0 tar -tf "$BATS_TEST_TMPDIR/c.tar"
	assert_line horcrux.db
	run -1 --separate-stderr "$CLI" admin backup --config "$BATS_TEST_TMPDIR/nope.conf" "$BATS_TEST_TMPDIR/d.tar"
	assert_equal "$stderr" "horcrux-cli: cannot read '$BATS_TEST_TMPDIR/nope.conf': No such file or directory"

	# history = off leaves no metrics.db: the archive holds the rest.
	install -d -m 0700 "$BATS_TEST_TMPDIR/idonly"
	sqlite3 "$DDIR/data/horcrux.db" ".backup '$BATS_TEST_TMPDIR/idonly/horcrux.db'"
	run -0 --separate-stderr "$CLI" -o json admin backup --data-dir "$BATS_TEST_TMPDIR/idonly" "$BATS_TEST_TMPDIR/i.tar"
	jq -e '.files | map(.name) == ["horcrux.db"]' <<<"$output"
}

@test "admin backup as a user who may not read the data directory or write there" {
	local out
	# Places nobody can reach: /tmp, not the test's own 0700 tree.
	OWN_TMP=$(mktemp -d /tmp/hx-0830.XXXXXX)
	out=$OWN_TMP/pub
	chmod 0755 "$OWN_TMP"
	mkdir -m 1777 "$out"
	mkdir -m 0755 "$OWN_TMP/rootonly"
	# A data directory nobody may read, to see the place written refused.
	install -d -m 0755 "$OWN_TMP/open"
	sqlite3 "$DDIR/data/horcrux.db" ".backup '$OWN_TMP/open/horcrux.db'"
	chmod 0644 "$OWN_TMP/open/horcrux.db"
	# nobody has no client settings (and may not read root's).
	export HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent
	run -1 --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$CLI" admin backup --data-dir "$OWN_TMP/open" "$OWN_TMP/rootonly/x.tar"
	assert_equal "$stderr" "horcrux-cli: cannot back up: cannot write '$OWN_TMP/rootonly/x.tar': Permission denied"
	run -1 --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$CLI" admin backup --data-dir "$DDIR/data" "$out/x.tar"
	[[ $stderr == "horcrux-cli: cannot back up: cannot read '$DDIR/data/horcrux.db': Permission denied" ||
		$stderr == "horcrux-cli: cannot back up: cannot read data directory '$DDIR/data': Permission denied" ]] ||
		fail "$stderr"
	run -0 find "$out" "$OWN_TMP/rootonly" -mindepth 1
	assert_output ""
}

@test "admin backup onto a full disk fails cleanly and leaves nothing" {
	OWN_MOUNT=$BATS_TEST_TMPDIR/small
	mkdir -p "$OWN_MOUNT"
	if ! mount -t tmpfs -o size=64k,mode=0700 tmpfs "$OWN_MOUNT" 2>/dev/null; then
		OWN_MOUNT=
		skip "cannot mount a tmpfs here (not root?)"
	fi
	run -1 --separate-stderr "$CLI" admin backup --data-dir "$DDIR/data" "$OWN_MOUNT/x.tar"
	[[ $stderr == "horcrux-cli: cannot back up: "*"full"* ||
		$stderr == "horcrux-cli: cannot back up: "*"No space left on device"* ]] || fail "$stderr"
	[ "${#lines[@]}" -eq 0 ]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	run -0 find "$OWN_MOUNT" -mindepth 1
	assert_output ""
	# The daemon is unaffected.
	assert_equal "$(status_of "$(sock GET /api/health)")" 200
}
