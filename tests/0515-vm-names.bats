#!/usr/bin/env bats
# Every VM libvirt lists is monitored, whatever its name: "..", control
# characters, bidi and C1 controls, over 255 bytes, a '%'. Names are
# escaped into ACL paths (/vms/%2E%2E), and a VM whose name cannot travel
# in a URL is addressed by its UUID.

load helpers/common
load helpers/api

teardown() {
	kill_clients ${WS_PID:-}
	stop_daemon
}

LONG=$(printf 'L%.0s' $(seq 1 300))
# The names as JSON strings, sorted as jq sorts them.
NAMES_JSON=$(jq -cn --arg l "$LONG" '[".", "..", "ctl\tx\ny", "pct%2E", "vm-\u202etxt\u009b2J\u200f", $l] | sort')

# odd_node FILE: a test-driver node whose domains have those names, each
# with a fixed UUID (1..6), all running.
odd_node() {
	local i=0 n
	{
		echo "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
		echo "<cpu><mode>fixed</mode><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>8388608</memory>"
		for n in '.' '..' 'ctl&#x9;x&#xA;y' 'pct%2E' 'vm-&#x202E;txt&#x9B;2J&#x200F;' "$LONG"; do
			i=$((i + 1))
			echo "<domain type='test'><name>$n</name><uuid>00000000-0000-0000-0000-00000000000$i</uuid><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os><test:runstate>1</test:runstate></domain>"
		done
		echo "</node>"
	} >"$1"
}

start_odd() {
	odd_node "$BATS_TEST_TMPDIR/odd.xml"
	start_daemon --libvirt-uri "test://$BATS_TEST_TMPDIR/odd.xml" --vm-interval 0.3
	wait_vms
}

uuid_of() { printf '00000000-0000-0000-0000-00000000000%d' "$1"; }

@test "root sees every VM in the inventory and gets VmMetrics for each" {
	start_odd
	assert_equal "$(body_of "$(sock GET /api/vms)" | jq -c 'map(.id) | sort')" "$NAMES_JSON"
	out=$BATS_TEST_TMPDIR/ws
	"$WSC" --url "unix:$SOCK" --timeout 20 --send '{"topics":["vm:metrics"]}' >"$out" 3>&- &
	WS_PID=$!
	for _ in $(seq 1 200); do
		[ "$(jq -sc '[.[] | select(.frame.type == "VmMetrics") | .frame.data.vm_id] | unique' "$out" 2>/dev/null)" = "$NAMES_JSON" ] && break
		sleep 0.05
	done
	assert_equal "$(jq -sc '[.[] | select(.frame.type == "VmMetrics") | .frame.data.vm_id] | unique' "$out")" "$NAMES_JSON"
	# The wire is valid JSON with the control characters escaped.
	grep -q '"vm_id":"ctl\\tx\\ny"' "$out"
}

@test "root reads each VM's document by name or UUID and powers '..' by UUID, with its event" {
	start_odd
	for i in 1 2 3 4 5 6; do
		out=$(sock GET "/api/vms/$(uuid_of $i)")
		assert_equal "$(status_of "$out")" 200
		assert_equal "$(body_of "$out" | jq -c '[.name]')" "$(jq -c ".[$(($i - 1))] | [.]" <<<"$(jq -cn --arg l "$LONG" '[".", "..", "ctl\tx\ny", "pct%2E", "vm-\u202etxt\u009b2J\u200f", $l]')")"
	done
	# Names that survive a URL work percent-encoded too.
	assert_equal "$(body_of "$(sock GET "/api/vms/vm-%E2%80%AEtxt%C2%9B2J%E2%80%8F")" | jq -r .name)" "$(printf 'vm-\u202etxt\u009b2J\u200f')"
	assert_equal "$(body_of "$(sock GET "/api/vms/$LONG")" | jq -r .name)" "$LONG"
	assert_equal "$(body_of "$(sock GET "/api/vms/pct%252E")" | jq -r .name)" "pct%2E"
	out=$BATS_TEST_TMPDIR/ws
	"$WSC" --url "unix:$SOCK" --timeout 20 --until VmStatusChanged --send '{"topics":["vm:status"]}' >"$out" 3>&- &
	WS_PID=$!
	wait_subscribed "$out"
	r=$(sock POST "/api/vms/$(uuid_of 2)/suspend")
	assert_equal "$(status_of "$r")" 200
	assert_equal "$(body_of "$r" | jq -c .)" '{"vm_id":"..","action":"suspend","result":"done"}'
	wait "$WS_PID"
	WS_PID=
	assert_equal "$(jq -c 'select(.frame.type=="VmStatusChanged") | .frame.data | [.vm_id,.new_status,.user]' "$out")" '["..","paused","root@local"]'
	r=$(sock POST "/api/vms/$(uuid_of 3)/suspend")
	assert_equal "$(body_of "$r" | jq -c .)" '{"vm_id":"ctl\tx\ny","action":"suspend","result":"done"}'
}

@test "an ACL on an escaped path grants that VM only" {
	start_odd
	assert_equal "$(status_of "$(sock POST /api/users '{"username":"vera","password":"vera-pass-1"}')")" 201
	assert_equal "$(status_of "$(sock PUT /api/acl '{"path":"/vms/%2E%2E","role":"VmUser","user":"vera"}')")" 200
	assert_equal "$(status_of "$(sock PUT /api/acl '{"path":"/vms/ctl%09x%0Ay","role":"VmUser","user":"vera"}')")" 200
	key=$(body_of "$(sock POST /api/users/vera/api-keys '{"name":"k"}')" | jq -r .token)
	api() { curl -s -X "$1" "$URL$2" -H "X-API-Key: $key" -w '\n%{http_code}'; }
	assert_equal "$(body_of "$(api GET /api/vms)" | jq -c 'map(.id) | sort')" '["..","ctl\tx\ny"]'
	assert_equal "$(status_of "$(api GET "/api/vms/$(uuid_of 2)")")" 200
	assert_equal "$(status_of "$(api GET "/api/vms/$(uuid_of 3)")")" 200
	# "." is not "..", and '%' is escaped: no two names share a path.
	assert_equal "$(status_of "$(api GET "/api/vms/$(uuid_of 1)")")" 403
	assert_equal "$(status_of "$(api GET "/api/vms/pct%252E")")" 403
	assert_equal "$(status_of "$(api POST "/api/vms/$(uuid_of 5)/stop")")" 403
	out=$BATS_TEST_TMPDIR/ws
	"$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $key" --timeout 20 \
		--send '{"topics":["vm:metrics"]}' >"$out" 3>&- &
	WS_PID=$!
	for _ in $(seq 1 200); do
		[ "$(jq -sc '[.[] | select(.frame.type == "VmMetrics") | .frame.data.vm_id] | unique' "$out" 2>/dev/null)" = '["..","ctl\tx\ny"]' ] && break
		sleep 0.05
	done
	# A few more samples: still only those two.
	n=$(grep -c VmMetrics "$out")
	for _ in $(seq 1 100); do
		[ "$(grep -c VmMetrics "$out")" -ge $((n + 6)) ] && break
		sleep 0.05
	done
	assert_equal "$(jq -sc '[.[] | select(.frame.type == "VmMetrics") | .frame.data.vm_id] | unique' "$out")" '["..","ctl\tx\ny"]'
}
