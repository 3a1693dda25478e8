#!/usr/bin/env bats
# The REST read answers kept pre-serialized: GET /api/nodes/local writes
# the newest NodeMetrics frame's own data bytes, GET /api/vms the
# inventory's text (serialized once per inventory) to a caller who may see
# every VM. A new sample or a VM change must show at once, an ACL-scoped
# user must only ever get its own list, and a keep-alive connection must
# carry one whole answer after another. One daemon for the file.

load helpers/common
load helpers/api

NODE="test://$HX_REPO/share/demo-node.xml"

setup_file() {
	DDIR=$BATS_FILE_TMPDIR/hx
	start_daemon --libvirt-uri "$NODE" --node-interval 2 \
		--vm-interval 0.3 || return 1
	export HXD_PID PORT SOCK DDIR HXD_LOG URL
	wait_vms
	wait_sample
}

teardown() {
	kill_clients ${BG_PIDS:-}
	BG_PIDS=
}

teardown_file() {
	stop_daemon
}

@test "GET /api/nodes/local is the newest NodeMetrics data and moves with each sample" {
	a=$(body_of "$(sock GET /api/nodes/local)")
	ta=$(jq -r .timestamp <<<"$a")
	[ -n "$ta" ] && [ "$ta" != null ]
	# A later sample gives a later answer (node interval 2 s; 10 s max).
	for _ in $(seq 1 200); do
		b=$(body_of "$(sock GET /api/nodes/local)")
		[ "$(jq -r .timestamp <<<"$b")" != "$ta" ] && break
		sleep 0.05
	done
	refute [ "$(jq -r .timestamp <<<"$b")" = "$ta" ]
	[[ "$(jq -r .timestamp <<<"$b")" > "$ta" ]]
	# The figures a subscriber gets replayed on subscribing are the REST
	# answer's while no new sample came between the two reads.
	for _ in $(seq 1 10); do
		run "$WSC" --url "unix:$SOCK" --timeout 5 --until NodeMetrics \
			--send '{"topics":["node:metrics"]}'
		w=$(frames <(printf '%s\n' "$output") NodeMetrics | head -1)
		y=$(body_of "$(sock GET /api/nodes/local)")
		[ "$(jq -r .timestamp <<<"$w")" = "$(jq -r .timestamp <<<"$y")" ] && break
	done
	assert_equal "$(jq -r .timestamp <<<"$w")" "$(jq -r .timestamp <<<"$y")"
	assert_equal "$(jq -cS . <<<"$w")" "$(jq -cS . <<<"$y")"
}

@test "one keep-alive connection carries whole answers one after another" {
	sock POST /api/users '{"username":"ada","password":"ada-pass-12","roles":["Administrator"]}' >/dev/null
	key=$(body_of "$(sock POST /api/users/ada/api-keys '{"name":"ka"}')" | jq -r .token)
	d=$BATS_TEST_TMPDIR
	run curl -sv -H "X-API-Key: $key" \
		"$URL/api/nodes/local" -o "$d/1" "$URL/api/vms" -o "$d/2" \
		"$URL/api/nope" -o "$d/3" "$URL/api/nodes/local" -o "$d/4"
	assert_success
	assert_equal "$(grep -c '^< HTTP/1.1 200' <<<"$output")" 3
	assert_equal "$(grep -c '^< HTTP/1.1 404' <<<"$output")" 1
	assert_equal "$(grep -c 'Re-using existing connection' <<<"$output")" 3
	# Each body is exactly its Content-Length and parses.
	lens=$(grep -i '^< content-length:' <<<"$output" | tr -dc '0-9\n')
	assert_equal "$lens" "$(for f in 1 2 3 4; do wc -c <"$d/$f"; done)"
	for f in 1 2 3 4; do jq -e . "$d/$f" >/dev/null; done
	assert_equal "$(jq -r .error "$d/3")" NOT_FOUND
	assert_equal "$(jq length "$d/2")" 10
}

@test "GET /api/vms follows a VM change" {
	list=$(body_of "$(sock GET /api/vms)")
	assert_equal "$(jq -r '.[] | select(.id == "web-2") | .state' <<<"$list")" running
	assert_equal "$(status_of "$(sock POST /api/vms/web-2/stop)")" 200
	# The next inventory (vm interval 0.3 s) shows it; 10 s at most.
	for _ in $(seq 1 200); do
		list=$(body_of "$(sock GET /api/vms)")
		[ "$(jq -r '.[] | select(.id == "web-2") | .state' <<<"$list")" = stopped ] && break
		sleep 0.05
	done
	assert_equal "$(jq -r '.[] | select(.id == "web-2") | .state' <<<"$list")" stopped
	assert_equal "$(jq length <<<"$list")" 10
	assert_equal "$(status_of "$(sock POST /api/vms/web-2/start)")" 200
	for _ in $(seq 1 200); do
		list=$(body_of "$(sock GET /api/vms)")
		[ "$(jq -r '.[] | select(.id == "web-2") | .state' <<<"$list")" = running ] && break
		sleep 0.05
	done
	assert_equal "$(jq -r '.[] | select(.id == "web-2") | .state' <<<"$list")" running
}

@test "GET /api/vms agrees with a VmStatusChanged as soon as it is sent, not a tick later" {
	f=$BATS_TEST_TMPDIR/status
	"$WSC" --url "unix:$SOCK" --timeout 60 --send '{"topics":["vm:status"]}' >"$f" 3>&- &
	BG_PIDS="$BG_PIDS $!"
	wait_subscribed "$f"
	# Each answer is read as soon as the event is seen: the collector's
	# next inventory may still be up to a tick (0.3 s) away, or read
	# before the change. Six flips: a list that waits for the tick would
	# be caught out nearly every time.
	n=0
	for i in 1 2 3; do
		for act in suspend:paused resume:running; do
			assert_equal "$(status_of "$(sock POST "/api/vms/db-1/${act%:*}")")" 200
			n=$((n + 1))
			wait_count "$f" '"type":"VmStatusChanged".*"vm_id":"db-1"' $n
			list=$(body_of "$(sock GET /api/vms)")
			assert_equal "$i $(jq -r '.[] | select(.id == "db-1") | .state' <<<"$list")" "$i ${act#*:}"
			one=$(body_of "$(sock GET /api/vms/db-1)")
			assert_equal "$i $(jq -r .state <<<"$one")" "$i ${act#*:}"
		done
	done
	assert_equal "$(jq length <<<"$list")" 10
}

@test "an ACL-scoped user never gets the shared all-VMs answer" {
	sock POST /api/users '{"username":"vera","password":"vera-pass-1"}' >/dev/null
	assert_equal "$(status_of "$(sock PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"vera"}')")" 200
	vkey=$(body_of "$(sock POST /api/users/vera/api-keys '{"name":"k"}')" | jq -r .token)
	sock POST /api/users '{"username":"olga","password":"olga-pass-1","roles":["Administrator"]}' >/dev/null
	okey=$(body_of "$(sock POST /api/users/olga/api-keys '{"name":"k"}')" | jq -r .token)
	# The whole list first (its text is then kept), then vera, then again.
	all=$(curl -s -H "X-API-Key: $okey" "$URL/api/vms")
	assert_equal "$(jq length <<<"$all")" 10
	run curl -s -H "X-API-Key: $vkey" "$URL/api/vms"
	assert_success
	assert_equal "$(jq -c '[.[].id]' <<<"$output")" '["web-1"]'
	# web-1's entry is the one the whole list has, byte for byte.
	assert_equal "$(jq -c '.[0]' <<<"$output")" \
		"$(jq -c '.[] | select(.id == "web-1")' <<<"$all")"
	assert_equal "$(jq length <<<"$(curl -s -H "X-API-Key: $okey" "$URL/api/vms")")" 10
	# The trusted socket and an administrator's key get the same bytes.
	assert_equal "$(curl -s -H "X-API-Key: $okey" "$URL/api/vms")" \
		"$(body_of "$(sock GET /api/vms)")"
}
