#!/usr/bin/env bats
# VMs through libvirt's test driver and the demo node: the inventory, one
# VM's document, power actions and the events they cause (with the user),
# VmMetrics (all with vm_uuid), per-VM access for an ACL-scoped user, containers.

load helpers/common
load helpers/api

NODE="test://$HX_REPO/share/demo-node.xml"
WSJ="$PY $HX_REPO/tests/tools/wsjson.py"

# uuid_map: {"vm_id": "uuid", ...} from GET /api/vms (never hard-coded).
uuid_map() {
	body_of "$(sock GET /api/vms)" | jq -c 'map({(.id): .uuid}) | add'
}

teardown() {
	stop_daemon
}

@test "GET /api/vms lists every domain of the node with its state" {
	start_daemon --libvirt-uri "$NODE" --vm-interval 0.3
	wait_vms
	run bash -c "curl -s --unix-socket '$SOCK' http://localhost/api/vms | jq -r 'sort_by(.id)[] | \"\(.id) \(.state) \(.container)\"'"
	assert_output "backup-1 stopped false
build-1 running false
cache-1 paused false
ci-runner running false
db-1 running false
dns-1 running true
metrics-1 stopped true
web-1 running false
web-2 running false
win-test stopped false"
}

@test "GET /api/vms/:id has disks, NICs and the latest metrics; unknown is 404" {
	start_daemon --libvirt-uri "$NODE" --vm-interval 0.3
	wait_vms
	# Wait for a VmMetrics of db-1 with a CPU figure (the second sample).
	for _ in $(seq 1 60); do
		out=$(sock GET /api/vms/db-1)
		[ "$(body_of "$out" | jq '.metrics.cpu_usage | type')" = '"number"' ] && break
		sleep 0.1
	done
	assert_equal "$(status_of "$out")" 200
	doc=$(body_of "$out")
	assert_equal "$(jq -r '[.id, .state, .vcpus, (.disks|length), (.nics|length)] | join(" ")' <<<"$doc")" "db-1 running 4 2 2"
	assert_equal "$(jq -r '.disks[0].target' <<<"$doc")" vda
	jq -e '.metrics.vm_id == "db-1" and .metrics.cpu_usage >= 0 and .metrics.cpu_usage <= 100' <<<"$doc"
	# Per-device figures come from the same sample as the totals.
	assert_equal "$(jq '[.disks[].read_bytes] | add' <<<"$doc")" "$(jq '.metrics.disk_read' <<<"$doc")"
	assert_equal "$(jq '[.disks[].write_bytes] | add' <<<"$doc")" "$(jq '.metrics.disk_write' <<<"$doc")"
	assert_equal "$(jq '[.nics[].rx_bytes] | add' <<<"$doc")" "$(jq '.metrics.network_rx' <<<"$doc")"
	assert_equal "$(jq '[.nics[].tx_bytes] | add' <<<"$doc")" "$(jq '.metrics.network_tx' <<<"$doc")"
	jq -e '[.disks[].read_bps, .nics[].rx_bps] | all(type == "number" and . >= 0)' <<<"$doc"
	# A stopped VM has no figures, not stale ones.
	doc=$(body_of "$(sock GET /api/vms/backup-1)")
	jq -e '[.disks[].read_bytes, .disks[].read_bps, .nics[].rx_bytes] | all(. == null)' <<<"$doc"
	assert_equal "$(status_of "$(sock GET /api/vms/no-such-vm)")" 404
}

@test "power actions change state, emit VmStatusChanged with the user, and refuse what cannot be done" {
	start_daemon --libvirt-uri "$NODE" --vm-interval 5
	wait_vms
	out=$BATS_TEST_TMPDIR/ws
	"$WSC" --url "unix:$SOCK" --timeout 10 --until VmStatusChanged \
		--send '{"topics":["vm:status"]}' >"$out" 3>&- &
	c=$!
	wait_subscribed "$out"
	r=$(sock POST /api/vms/web-2/suspend)
	assert_equal "$(status_of "$r")" 200
	assert_equal "$(body_of "$r" | jq -c .)" '{"vm_id":"web-2","action":"suspend","result":"done"}'
	wait "$c"
	assert_equal "$(jq -c 'select(.frame.type=="VmStatusChanged") | .frame.data | [.vm_id,.old_status,.new_status,.user]' "$out")" \
		'["web-2","running","paused","root@local"]'
	# vm_uuid beside vm_id: the UUID GET /api/vms gives for web-2.
	uuid=$(uuid_map | jq -r '."web-2"')
	[[ "$uuid" =~ ^[0-9a-f-]{36}$ ]] || fail "no uuid for web-2: $uuid"
	assert_equal "$(jq -r 'select(.frame.type=="VmStatusChanged") | .frame.data.vm_uuid' "$out")" "$uuid"
	# Not possible now: a clear 409 naming the VM.
	r=$(sock POST /api/vms/web-2/suspend)
	assert_equal "$(status_of "$r")" 409
	[[ "$(body_of "$r" | jq -r .message)" == "cannot suspend 'web-2': "* ]]
	assert_equal "$(status_of "$(sock POST /api/vms/web-2/resume)")" 200
	assert_equal "$(status_of "$(sock POST /api/vms/backup-1/start)")" 200
	assert_equal "$(status_of "$(sock POST /api/vms/backup-1/explode)")" 404
	assert_equal "$(status_of "$(sock POST /api/vms/ghost/start)")" 404
}

@test "containers report ContainerStatusChanged" {
	start_daemon --libvirt-uri "$NODE" --vm-interval 5
	wait_vms
	out=$BATS_TEST_TMPDIR/ws
	"$WSC" --url "unix:$SOCK" --timeout 10 --until ContainerStatusChanged \
		--send '{"topics":["vm:status"]}' >"$out" 3>&- &
	c=$!
	wait_subscribed "$out"
	assert_equal "$(status_of "$(sock POST /api/vms/metrics-1/start)")" 200
	wait "$c"
	assert_equal "$(jq -c 'select(.frame.type=="ContainerStatusChanged") | .frame.data | [.container_id,.old_status,.new_status]' "$out")" \
		'["metrics-1","stopped","running"]'
}

@test "VmMetrics: every running VM reports, a stopped one stops reporting" {
	start_daemon --libvirt-uri "$NODE" --vm-interval 0.3
	wait_vms
	run "$WSC" --url "unix:$SOCK" --timeout 4 --send '{"topics":["vm:metrics"]}'
	ids=$(grep '"VmMetrics"' <<<"$output" | jq -r .frame.data.vm_id | sort -u | tr '\n' ' ')
	assert_equal "$ids" "build-1 cache-1 ci-runner db-1 dns-1 web-1 web-2 "
	web1=$(grep '"VmMetrics"' <<<"$output" | jq -c 'select(.frame.data.vm_id=="web-1") | .frame.data' | tail -1)
	echo "web-1: $web1" >&2
	jq -e '(.vcpus == 2) and (.memory_max_bytes == 4294967296) and (.disk_read >= 0)' <<<"$web1"
	# Paused cache-1 runs no CPU, though the test driver's clock runs on.
	cache1=$(grep '"VmMetrics"' <<<"$output" | jq -c 'select(.frame.data.vm_id=="cache-1") | .frame.data' | tail -1)
	jq -e '.cpu_usage == null and .memory_bytes > 0' <<<"$cache1"
	# Each carries vm_uuid, the UUID GET /api/vms gives for that VM.
	map=$(uuid_map)
	bad=$(grep '"VmMetrics"' <<<"$output" | jq -c --argjson m "$map" \
		'.frame.data | select(.vm_uuid == null or .vm_uuid != $m[.vm_id]) | [.vm_id, .vm_uuid]')
	assert_equal "$bad" ""
	# So does each entry of a VmMetricsBatch, read by an independent client.
	run $WSJ "unix:$SOCK" --send '{"topics":["vm:metrics"],"batch":true}' \
		--until VmMetricsBatch --timeout 10
	assert_success
	batch=$(jq -c 'select(.type=="VmMetricsBatch") | .data.vms' <<<"$output" | tail -1)
	(($(jq length <<<"$batch") > 0)) || fail "an empty batch: $output"
	bad=$(jq -c --argjson m "$map" \
		'.[] | select(.vm_uuid == null or .vm_uuid != $m[.vm_id]) | [.vm_id, .vm_uuid]' <<<"$batch")
	assert_equal "$bad" ""
	assert_equal "$(status_of "$(sock POST /api/vms/web-1/stop)")" 200
	sleep 0.7
	run "$WSC" --url "unix:$SOCK" --timeout 2 --send '{"topics":["vm:metrics"]}'
	refute_output --partial '"vm_id":"web-1"'
}

@test "an ACL-scoped VmUser sees web-1 only: list, document, events, metrics; 403 elsewhere" {
	start_daemon --libvirt-uri "$NODE" --vm-interval 0.3
	wait_vms
	sock POST /api/users '{"username":"vera","password":"vera-pass-1"}' >/dev/null
	assert_equal "$(status_of "$(sock PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"vera"}')")" 200
	key=$(body_of "$(sock POST /api/users/vera/api-keys '{"name":"k"}')" | jq -r .token)
	api() { curl -s -X "$1" "$URL$2" -H "X-API-Key: $key" -w '\n%{http_code}'; }
	assert_equal "$(body_of "$(api GET /api/vms)" | jq -c '[.[].id]')" '["web-1"]'
	assert_equal "$(status_of "$(api GET /api/vms/web-1)")" 200
	assert_equal "$(status_of "$(api GET /api/vms/web-2)")" 403
	assert_equal "$(status_of "$(api POST /api/vms/web-2/stop)")" 403
	out=$BATS_TEST_TMPDIR/ws
	"$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $key" --timeout 6 \
		--send '{"topics":["vm:status","vm:metrics","node:metrics"]}' >"$out" 3>&- &
	c=$!
	wait_subscribed "$out"
	assert_equal "$(status_of "$(sock POST /api/vms/web-2/stop)")" 200
	assert_equal "$(status_of "$(api POST /api/vms/web-1/suspend)")" 200
	wait "$c" || true
	assert_equal "$(jq -c 'select(.frame.type=="Subscribed") | .frame.data.topics' "$out")" '["vm:metrics","vm:status"]'
	assert_equal "$(jq -r 'select(.frame.type=="Error") | .frame.data.code + " " + .frame.data.topic' "$out")" "FORBIDDEN_TOPIC node:metrics"
	# Only web-1's events and metrics, and the suspend names vera.
	assert_equal "$(jq -r 'select(.frame.data.vm_id) | .frame.data.vm_id' "$out" | sort -u)" web-1
	assert_equal "$(jq -c 'select(.frame.type=="VmStatusChanged") | .frame.data | [.new_status,.user]' "$out")" '["paused","vera@local"]'
}

@test "a libvirt URI that cannot be reached does not stop the daemon" {
	start_daemon --libvirt-uri "test:///no/such/node.xml" --vm-interval 0.3
	grep -q "cannot connect to libvirt 'test:///no/such/node.xml'" "$HXD_LOG"
	run curl -sf "$URL/api/health"
	assert_success
	assert_equal "$(body_of "$(sock GET /api/vms)")" "[]"
	run "$WSC" --url "unix:$SOCK" --until NodeMetrics --timeout 5 --send '{"topics":["node:metrics"]}'
	assert_success
}

@test "a VM name with shell and HTML metacharacters and Unicode comes back intact" {
	node=$BATS_TEST_TMPDIR/odd.xml
	one_vm_node "$node" 'web &lt;b&gt;"1"; rm -rf é $(id)'
	start_daemon --libvirt-uri "test://$node" --vm-interval 0.3
	wait_vms
	name='web <b>"1"; rm -rf é $(id)'
	assert_equal "$(body_of "$(sock GET /api/vms)" | jq -r '.[0].id')" "$name"
	enc=$(jq -rn --arg n "$name" '$n|@uri')
	out=$(sock GET "/api/vms/$enc")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -r .name)" "$name"
	# Escaped JSON on the wire: no raw markup.
	run curl -s --unix-socket "$SOCK" http://localhost/api/vms
	assert_output --partial '"web <b>\"1\"; rm -rf é $(id)"'
	out=$(sock POST "/api/vms/$enc/suspend")
	assert_equal "$(status_of "$out")" 200
	assert_equal "$(body_of "$out" | jq -r .vm_id)" "$name"
}
