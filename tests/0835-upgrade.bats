#!/usr/bin/env bats
# Upgrades: the current horcruxd started on a copy of every data directory
# kept in tests/fixtures/upgrade/ (one per schema version, written by the
# code of that version with tests/fixtures/make-fixture) migrates it and
# serves all of its content: the old passwords log in (a disabled account
# stays refused), the old API keys work with their role subsets and ACL,
# custom roles, users, ACL entries, alert rules (with their targets),
# notification targets (secrets still never shown) and the audit log are
# listed, and the stored history answers the fixture's window point for
# point as the API answered it when the fixture was made.
#
# Every later migration (lib/hx-store.c, lib/hx-tsdb.c) must keep this file
# passing from every fixture; a schema change adds a fixture of its own.
#
# One daemon per fixture for the whole file (started in setup_file with
# retention long enough that the fixture's old points are kept, whatever
# today's date).

load helpers/common
load helpers/api

NODE="test://$HX_REPO/share/demo-node.xml"
FIXTURES=$HX_REPO/tests/fixtures/upgrade

# The fixtures, by directory name (identity-I-metrics-M).
fixtures() {
	local d
	for d in "$FIXTURES"/*/; do
		basename "$d"
	done
}

setup_file() {
	local f dir
	[ -n "$(fixtures)" ] || return 1
	for f in $(fixtures); do
		dir=$(inst_dir "$f")
		install -d -m 0700 "$dir/data"
		install -m 0600 "$FIXTURES/$f/horcrux.db" "$FIXTURES/$f/metrics.db" "$dir/data/"
		start_instance "$f" --libvirt-uri "$NODE" \
			--history-raw-retention 100y --history-minute-retention 100y \
			--history-hour-retention 100y --audit-retention-days 36500 || return 1
	done
}

teardown_file() {
	local f
	for f in $(fixtures); do
		stop_instance "$f" || return 1
	done
}

# on FIXTURE: point sock at that fixture's daemon (SOCK, URL).
on() {
	SOCK=$(inst_sock "$1")
	URL=$(inst_url "$1")
	C=$FIXTURES/$1/content.json
}

# login USER PASSWORD: the HTTP status of a password login over TCP.
login() {
	curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/auth/login" \
		-H 'Content-Type: application/json' \
		-d "$(jq -cn --arg u "$1" --arg p "$2" '{username:$u, password:$p}')"
}

@test "there is a fixture for the schema versions the code writes now" {
	local fresh=$BATS_TEST_TMPDIR/fresh iv mv
	# A fresh data directory: the versions the current code writes.
	DDIR=$fresh start_daemon --libvirt-uri "$NODE"
	stop_daemon
	iv=$(sqlite3 "$fresh/data/horcrux.db" 'PRAGMA user_version')
	mv=$(sqlite3 "$fresh/data/metrics.db" 'PRAGMA user_version')
	[ -d "$FIXTURES/identity-$iv-metrics-$mv" ] ||
		fail "no fixture for identity schema $iv, metrics schema $mv: run tests/fixtures/make-fixture (tests/fixtures/make-fixture's comment)"
	# Every fixture's daemon migrated its copy up to them, intact.
	for f in $(fixtures); do
		assert_equal "$(sqlite3 "$(inst_dir "$f")/data/horcrux.db" 'PRAGMA user_version')" "$iv"
		assert_equal "$(sqlite3 "$(inst_dir "$f")/data/metrics.db" 'PRAGMA user_version')" "$mv"
		assert_equal "$(sqlite3 "$(inst_dir "$f")/data/horcrux.db" 'PRAGMA integrity_check')" ok
		assert_equal "$(sqlite3 "$(inst_dir "$f")/data/horcrux.db" 'PRAGMA foreign_key_check')" ""
	done
}

@test "old passwords log in; a disabled account and a wrong password do not" {
	for f in $(fixtures); do
		on "$f"
		assert_equal "$(login alice "$(jq -r .passwords.alice "$C")")" 200
		assert_equal "$(login bob "$(jq -r .passwords.bob "$C")")" 200
		assert_equal "$(login dave "$(jq -r .passwords.dave "$C")")" 200
		assert_equal "$(login alice wrong-pass-1)" 401
		[ "$(login carol "$(jq -r .passwords.carol "$C")")" != 200 ]
		# The token of an old account works for the API.
		tok=$(curl -s -X POST "$URL/api/auth/login" -H 'Content-Type: application/json' \
			-d "$(jq -c '{username:"alice", password:.passwords.alice}' "$C")" | jq -r .token)
		run -0 curl -sf "$URL/api/auth/me" -H "Authorization: Bearer $tok"
		jq -e '.roles == ["Administrator"]' <<<"$output"
	done
}

@test "old API keys work, with their role subset and ACL" {
	for f in $(fixtures); do
		on "$f"
		bob=$(jq -r .keys.bob "$C")
		alice=$(jq -r .keys.alice "$C")
		run -0 curl -sf "$URL/api/auth/me" -H "X-API-Key: $bob"
		jq -e '.username | startswith("bob")' <<<"$output"
		# bob's only grant: Watcher on /vms/web-1 (an ACL entry).
		assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/vms/web-1" -H "X-API-Key: $bob")" 200
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/vms/web-2" -H "X-API-Key: $bob")" != 200 ]
		assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/users" -H "X-API-Key: $bob")" 403
		# alice's key is limited to Auditor: it reads, it may not write.
		assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/nodes/local" -H "X-API-Key: $alice")" 200
		assert_equal "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/users" -H "X-API-Key: $alice" \
			-H 'Content-Type: application/json' -d '{"username":"mallory","password":"mallory-pass"}')" 403
		assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/auth/me" -H "X-API-Key: hx_nope_nope")" 401
	done
}

@test "roles, users, ACL entries and the audit log are all there" {
	for f in $(fixtures); do
		on "$f"
		must 200 GET /api/roles | jq -e '.. | objects | select(.name? == "Watcher") |
			(.privileges | sort) == ["SysAudit","VmAudit"]'
		out=$(must 200 GET /api/users)
		jq -e '.. | objects | select(.username? == "alice") | .email == "alice@example.org" and .roles == ["Administrator"]' <<<"$out"
		jq -e '.. | objects | select(.username? == "carol") | .enabled == false' <<<"$out"
		jq -e '.. | objects | select(.username? == "bob") | .roles == []' <<<"$out"
		jq -e '.. | objects | select(.username? == "dave") | .roles == ["VmUser"]' <<<"$out"
		must 200 GET /api/acl | jq -e '.. | objects | select(.path? == "/vms/web-1" and .role? == "Watcher" and .propagate? == true)'
		must 200 GET /api/users/bob/api-keys | jq -e '.. | objects | select(.name? == "report")'
		# Identity schema 4 on: a directory user made before their
		# first login keeps realm, roles and ACL entry.
		if jq -e '.external' "$C" >/dev/null; then
			jq -e --argjson x "$(jq .external.erin "$C")" '.. | objects |
				select(.username? == "erin") | .realm == $x.realm and .roles == $x.roles' <<<"$out"
			must 200 GET /api/acl | jq -e '.. | objects | select(.path? == "/vms/web-2" and (.user? | startswith("erin")))'
		fi
		must 200 GET '/api/audit?limit=1000' | jq -e '[.. | objects | select(.action? != null)] | length >= 5'
	done
}

@test "alert rules and notification targets are listed and usable" {
	for f in $(fixtures); do
		on "$f"
		out=$(must 200 GET /api/alerts/rules)
		jq -e '.rules[] | select(.name == "hot-cpu") | .series == "node:cpu_usage" and .op == ">"
			and .threshold == 99.5 and .clear_threshold == 90 and .for_seconds == 600
			and .severity == "warning" and .notify == ["ops-hook"]' <<<"$out"
		jq -e '.rules[] | select(.name == "web-crashed") | .status_of == "vm:web-*" and .equals == "crashed" and .notify == ["ops-mail"]' <<<"$out"
		out=$(must 200 GET /api/notify/targets)
		jq -e '.. | objects | select(.name? == "ops-hook") | .type == "webhook" and .url == "http://127.0.0.1:9/hook" and .secret_set == true' <<<"$out"
		jq -e '.. | objects | select(.name? == "ops-mail") | .type == "email" and .to == ["ops@example.org"]' <<<"$out"
		[[ $out != *fixture-secret* ]]
		# The rule can be changed and still names its target.
		must 200 PUT /api/alerts/rules/hot-cpu '{"series":"node:cpu_usage","op":">","threshold":99.9,"notify":["ops-hook"]}' >/dev/null
		must 200 GET /api/alerts/rules/hot-cpu | jq -e '.threshold == 99.9 and .notify == ["ops-hook"]'
	done
}

@test "the stored history answers the fixture's window point for point" {
	for f in $(fixtures); do
		on "$f"
		out=$(must 200 GET "/api/metrics/history?$(jq -r .window "$C")")
		assert_equal "$(jq -c '[.series[] | {name, points: [.points[] | select(.[1] != null)]}]' <<<"$out")" \
			"$(jq -c '[.history.series[] | {name, points: [.points[] | select(.[1] != null)]}]' "$C")"
		[ "$(jq '[.history.series[].points[]] | length' "$C")" -ge 40 ]
		must 200 GET /api/metrics/series | jq -e '[.series[].name] | index("vm:web-1:cpu_usage") != null'
	done
}
