#!/usr/bin/env bats
# GET /metrics, the Prometheus exposition (DESIGN §10): promtool accepts
# it with VM names holding quotes, backslashes, newlines and Unicode; its
# values are the REST snapshot's, by the naming rules worked out here
# (tests/tools/prom-expect.py); a VM-scoped API key sees only its VM;
# without credentials 401, unless metrics_public; the WebSocket counters;
# and a real Prometheus, scraping every second with an API key, answers
# PromQL with our figures.
#
# One daemon for the file, on a test-driver node sampled once: host and
# VMs every hour (--node-interval, --vm-interval 3600), so the snapshot
# holds still while the test compares it with the exposition.

load helpers/common
load helpers/api
load helpers/authz

PROM_EXPECT="$PY $HX_REPO/tests/tools/prom-expect.py"

# The VMs: ordinary, with a double quote, a backslash, a newline,
# Unicode (BMP and astral), one stopped and one paused.
vm_node() {
	local i=0 n rs
	{
		echo "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
		echo "<cpu><mode>fixed</mode><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>8388608</memory>"
		for n in 'web-1:1' 'q&quot;uote:1' 'back\slash\\:1' 'new&#xA;line:1' 'uni-&#x2603;-&#xE9;-&#x1F600;:1' 'off-1:5' 'paused-1:3'; do
			i=$((i + 1))
			rs=${n##*:}
			echo "<domain type='test'><name>${n%:*}</name><uuid>00000000-0000-0000-0000-00000000000$i</uuid><memory unit='MiB'>$((128 * i))</memory><vcpu>$i</vcpu><os><type>hvm</type></os><test:runstate>$rs</test:runstate></domain>"
		done
		echo "</node>"
	} >"$1"
}

setup_file() {
	local t
	vm_node "$BATS_FILE_TMPDIR/node.xml"
	authz_start_daemon --libvirt-uri "test://$BATS_FILE_TMPDIR/node.xml" \
	    --node-interval 3600 --vm-interval 3600 || return 1
	# The first inventory, with all seven VMs.
	for t in $(seq 1 100); do
		[ "$(sock_json GET /api/vms | head -n -1 | jq length)" = 7 ] && break
		sleep 0.05
	done
	[ "$(sock_json GET /api/vms | head -n -1 | jq length)" = 7 ] || {
		echo "setup: no inventory of 7 VMs" >&2
		return 1
	}
	mkuser u-scoped '[]' && mkuser u-auditor '["Auditor"]' &&
	    mkuser u-nobody '[]' || return 1
	must 200 PUT /api/acl '{"path":"/vms/web-1","role":"VmUser","user":"u-scoped","propagate":true}' \
	    >/dev/null || return 1
	KEY_scoped=$(mkkey u-scoped '{"name":"scrape"}') &&
	    KEY_auditor=$(mkkey u-auditor '{"name":"scrape"}') &&
	    KEY_nobody=$(mkkey u-nobody '{"name":"scrape"}') || return 1
	export KEY_scoped KEY_auditor KEY_nobody
}

teardown_file() {
	stop_daemon
}

teardown() {
	kill_clients ${WS_PID:-}
	if [ -n "${PROM_PID:-}" ]; then
		kill "$PROM_PID" 2>/dev/null || true
		wait "$PROM_PID" 2>/dev/null || true
	fi
}

# scrape FILE [CURL ARGS...]: GET /metrics over TCP into FILE; prints the
# status.
scrape() {
	local f=$1
	shift
	curl -s -o "$f" -w '%{http_code}' "$@" "$URL/metrics"
}

# expect_json FILE NODE SELF VMS_FILTER: what prom-expect.py needs, from
# the REST snapshot read as root: the protocol, the host sample when NODE
# is true, and every VM whose id VMS_FILTER (a jq boolean on .id) keeps,
# with its VmMetrics data from GET /api/vms/UUID.
expect_json() {
	local vms='[]' uuid doc
	vms=$(sock_json GET /api/vms | head -n -1 | jq -c "map(select($4))")
	for uuid in $(jq -r '.[].uuid' <<<"$vms"); do
		doc=$(sock_json GET "/api/vms/$uuid" | head -n -1)
		vms=$(jq -c --arg u "$uuid" --argjson d "$doc" \
		    'map(if .uuid == $u then . + {metrics: $d.metrics} else . end)' \
		    <<<"$vms")
	done
	jq -n --argjson p "$(sock_json GET /api/protocol | head -n -1)" \
	    --argjson n "$(if [ "$2" = true ]; then
		sock_json GET /api/nodes/local | head -n -1; else echo null; fi)" \
	    --argjson s "$3" --argjson v "$vms" \
	    '{protocol: $p, node: $n, self: $s, vms: $v}' >"$1"
}

# label VALUE: VALUE escaped as a label value (jq, not the daemon).
label() {
	jq -rn --arg v "$1" '$v | gsub("\\\\"; "\\\\") | gsub("\""; "\\\"") | gsub("\n"; "\\n")'
}

@test "promtool check metrics accepts it, odd VM names included, each escaped" {
	local m=$BATS_TEST_TMPDIR/metrics id uuid state vms i
	assert_equal "$(scrape "$m" -H "Authorization: Bearer $KEY_auditor")" 200
	run promtool check metrics <"$m"
	assert_success
	assert_output ""
	# Every VM, running or not, has its state, its name escaped.
	vms=$(sock_json GET /api/vms | head -n -1)
	for i in $(seq 0 6); do
		id=$(jq -r ".[$i].id" <<<"$vms")
		uuid=$(jq -r ".[$i].uuid" <<<"$vms")
		state=$(jq -r ".[$i].state" <<<"$vms")
		grep -qxF "horcrux_vm_state{vm=\"$(label "$id")\",vm_uuid=\"$uuid\",state=\"$state\"} 1" "$m" ||
		    fail "no state line for $(jq -c ".[$i].id" <<<"$vms")"
	done
	assert_equal "$(grep -c '^horcrux_vm_state{' "$m")" $((7 * 7))
	grep -qF 'vm="q\"uote"' "$m"
	grep -qF 'vm="back\\slash\\\\"' "$m"
	grep -qF 'vm="new\nline"' "$m"
	grep -qF "vm=\"uni-$(printf '\u2603')-$(printf '\u00e9')-$(printf '\U0001F600')\"" "$m"
	# The check can fail: an unescaped quote, a counter without _total.
	sed 's/q\\"uote/q"uote/' "$m" >"$m.bad"
	run promtool check metrics <"$m.bad"
	assert_failure
	sed 's/horcrux_ws_frames_sent_total/horcrux_ws_frames_sent/' "$m" >"$m.bad"
	run promtool check metrics <"$m.bad"
	assert_failure
}

@test "the values are the snapshot's: host, every VM, states, self" {
	local m=$BATS_TEST_TMPDIR/metrics e=$BATS_TEST_TMPDIR/expect.json
	assert_equal "$(scrape "$m" -H "X-API-Key: $KEY_auditor")" 200
	expect_json "$e" true true true
	run $PROM_EXPECT "$e" "$m"
	assert_success
	assert_output ""
	# Spot checks written out, in case both sides shared a mistake.
	grep -qxF "horcrux_node_memory_total_bytes $(sock_json GET /api/nodes/local | head -n -1 | jq .memory_total_bytes)" "$m"
	grep -qxF 'horcrux_vm_vcpus{vm="off-1",vm_uuid="00000000-0000-0000-0000-000000000006"} 6' "$m" &&
	    fail "a stopped VM has no sample, so no vcpus series"
	grep -qxF 'horcrux_vm_memory_max_bytes{vm="web-1",vm_uuid="00000000-0000-0000-0000-000000000001"} 134217728' "$m"
	grep -qxF 'horcrux_vm_state{vm="paused-1",vm_uuid="00000000-0000-0000-0000-000000000007",state="paused"} 1' "$m"
	# The checker can fail: a value changed, a series dropped.
	sed 's/^\(horcrux_node_memory_total_bytes\) .*/\1 1/' "$m" >"$m.bad"
	run $PROM_EXPECT "$e" "$m.bad"
	assert_failure
	assert_output --partial horcrux_node_memory_total_bytes
	grep -v '^horcrux_vm_state{vm="off-1"' "$m" >"$m.bad"
	run $PROM_EXPECT "$e" "$m.bad"
	assert_failure
	assert_output --partial "missing"
}

@test "a VM-scoped key sees its VM only; a key without rights sees nothing" {
	local m=$BATS_TEST_TMPDIR/metrics e=$BATS_TEST_TMPDIR/expect.json
	assert_equal "$(scrape "$m" -H "Authorization: Bearer $KEY_scoped")" 200
	expect_json "$e" false false '.id == "web-1"'
	run $PROM_EXPECT "$e" "$m"
	assert_success
	assert_output ""
	run grep -c '^horcrux_vm_state{vm="web-1",' "$m"
	assert_output 7
	run grep -E '^horcrux_(node|ws)_|vm="[^w]' "$m"
	assert_failure
	# The same file against the auditor's view: VMs are missing.
	expect_json "$e" false false true
	run $PROM_EXPECT "$e" "$m"
	assert_failure
	assert_equal "$(scrape "$m" -H "Authorization: Bearer $KEY_nobody")" 200
	assert_equal "$(wc -c <"$m")" 0
}

@test "without credentials 401; with metrics_public 200 and every series" {
	local m=$BATS_TEST_TMPDIR/metrics e=$BATS_TEST_TMPDIR/expect.json
	local out
	out=$(curl -s -D - -o "$m" "$URL/metrics")
	[[ $out == "HTTP/1.1 401 "* ]] || fail "$out"
	[[ ${out,,} == *"www-authenticate: bearer"* ]] || fail "$out"
	assert_equal "$(jq -r .error "$m")" UNAUTHORIZED
	assert_equal "$(scrape "$m" -H 'X-API-Key: hx_0000000000000000_nope')" 401
	# A second daemon, the same node, metrics_public: no credentials.
	(
		HXD_PID= DDIR=$BATS_TEST_TMPDIR/pub
		start_daemon --libvirt-uri "test://$BATS_FILE_TMPDIR/node.xml" \
		    --node-interval 3600 --vm-interval 3600 --metrics-public ||
		    exit 1
		for _ in $(seq 1 100); do
			grep -q '^horcrux_vm_state{vm="paused-1"' \
			    <(curl -s "$URL/metrics") && break
			sleep 0.05
		done
		code=$(scrape "$m")
		stop_daemon || exit 1
		[ "$code" = 200 ] || { echo "public scrape: $code"; exit 1; }
	)
	run promtool check metrics <"$m"
	assert_success
	grep -q '^horcrux_node_cpu_usage_ratio ' "$m"
	grep -q '^horcrux_ws_sessions 0$' "$m"
	assert_equal "$(grep -c '^horcrux_vm_state{' "$m")" $((7 * 7))
}

@test "horcrux_ws_sessions and frames sent follow the WebSocket clients" {
	local m=$BATS_TEST_TMPDIR/metrics ws=$BATS_TEST_TMPDIR/ws sent
	"$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $KEY_auditor" \
	    --timeout 30 --send '{"topics":["node:metrics"]}' >"$ws" 3>&- &
	WS_PID=$!
	wait_subscribed "$ws"
	# Connected, Subscribed and the snapshot's NodeMetrics were written.
	for _ in $(seq 1 100); do
		[ "$(frames "$ws" NodeMetrics | wc -l)" -ge 1 ] && break
		sleep 0.05
	done
	assert_equal "$(scrape "$m" -H "X-API-Key: $KEY_auditor")" 200
	grep -qx 'horcrux_ws_sessions 1' "$m"
	sent=$(sed -n 's/^horcrux_ws_frames_sent_total //p' "$m")
	[ "$sent" -ge 3 ] || fail "frames sent: $sent"
	kill_clients "$WS_PID"
	WS_PID=
	wait_clients 0
	assert_equal "$(scrape "$m" -H "X-API-Key: $KEY_auditor")" 200
	grep -qx 'horcrux_ws_sessions 0' "$m"
	# A closed session's frames still count: the counter never goes back.
	[ "$(sed -n 's/^horcrux_ws_frames_sent_total //p' "$m")" -ge "$sent" ]
	grep -qx 'horcrux_ws_sessions_closed_slow_total 0' "$m"
}

@test "a real Prometheus scrapes with an API key and answers PromQL with our figures" {
	local dir=$BATS_FILE_TMPDIR/prometheus pport purl q r i
	mkdir -p "$dir/data"
	pport=$(free_port)
	purl=http://127.0.0.1:$pport
	printf '%s' "$KEY_auditor" >"$dir/key"
	cat >"$dir/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  evaluation_interval: 1s
	scrape_configs:
	  - job_name: horcrux
	    metrics_path: /metrics
	    authorization:
	      type: Bearer
	      credentials_file: $dir/key
	    static_configs:
	      - targets: ['127.0.0.1:$PORT']
	EOF
	prometheus --config.file="$dir/prometheus.yml" \
	    --storage.tsdb.path="$dir/data" \
	    --web.listen-address="127.0.0.1:$pport" >"$dir/log" 2>&1 3>&- &
	PROM_PID=$!
	# Until its first scrape of us has succeeded (30 s).
	for i in $(seq 1 300); do
		r=$(curl -s "$purl/api/v1/targets" | jq -r '.data.activeTargets[0].health // empty' 2>/dev/null)
		[ "$r" = up ] && break
		kill -0 "$PROM_PID" || fail "prometheus died: $(tail -5 "$dir/log")"
		sleep 0.1
	done
	[ "$r" = up ] || fail "target not up: $(curl -s "$purl/api/v1/targets")"
	# The stopped VM, by its state.
	q=$(curl -s -G "$purl/api/v1/query" --data-urlencode 'query=horcrux_vm_state{state="stopped"} == 1')
	assert_equal "$(jq -c '[.data.result[].metric.vm]' <<<"$q")" '["off-1"]'
	# The odd names arrive intact: Prometheus' labels equal our VM ids.
	q=$(curl -s -G "$purl/api/v1/query" --data-urlencode 'query=horcrux_vm_state{state="running"} == 1')
	assert_equal "$(jq -c '[.data.result[].metric.vm] | sort' <<<"$q")" \
	    "$(sock_json GET /api/vms | head -n -1 | jq -c '[.[] | select(.state == "running") | .id] | sort')"
	# Figures: the host's memory and each VM's vCPUs, as REST says.
	q=$(curl -s -G "$purl/api/v1/query" --data-urlencode 'query=horcrux_node_memory_total_bytes')
	assert_equal "$(jq -r '.data.result[0].value[1]' <<<"$q")" \
	    "$(sock_json GET /api/nodes/local | head -n -1 | jq .memory_total_bytes)"
	q=$(curl -s -G "$purl/api/v1/query" --data-urlencode 'query=sum(horcrux_vm_vcpus)')
	assert_equal "$(jq -r '.data.result[0].value[1]' <<<"$q")" \
	    "$(sock_json GET /api/vms | head -n -1 | jq '[.[] | select(.state == "running" or .state == "paused") | .vcpus] | add')"
	q=$(curl -s -G "$purl/api/v1/query" --data-urlencode 'query=horcrux_vm_vcpus{vm="new\nline"}')
	assert_equal "$(jq -r '.data.result[0].value[1]' <<<"$q")" 4
	kill "$PROM_PID"
	wait "$PROM_PID" || :
	PROM_PID=
}
