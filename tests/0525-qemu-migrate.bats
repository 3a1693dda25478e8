#!/usr/bin/env bats
# Live migration with real libvirt and QEMU: two qemu:///session libvirtds
# of one unprivileged user on this host (own sockets and directories,
# distinct host UUIDs), a diskless TCG VM migrated between them with
# `virsh migrate --live --persistent --undefinesource`, and horcruxd
# watching the source (and, in one test, the target too). The migrations
# topic against what libvirt says of the job; the VM leaving the source;
# per-VM access; an aborted migration. The second test migrates the VM
# back, which spares it a stop and a start.
#
# The guest runs no OS, so its RAM is nearly all zero pages, which QEMU
# sends as a few bytes each: alone they migrate in a blink. A 3 MiB option
# ROM of random bytes is RAM that must really travel, and --bandwidth 1
# (MiB/s) makes that take about three seconds, long enough to watch.

load helpers/common
load helpers/authz
load helpers/qemu

MVM=hx-mig

setup_file() {
	local reason
	reason=$(qemu_session_skip_reason)
	[ -z "$reason" ] || skip "$reason"
	qemu_session_dir
	qemu_session_host_uuid "$QT" 6b1e2c3d-0525-4000-8000-000000000001
	QSRC=$QT
	QDST=$(qemu_session_add dst 6b1e2c3d-0525-4000-8000-000000000002)
	# How horcruxd and the other daemon reach each session.
	SRC_URI="qemu+unix:///session?socket=$QSRC/run/libvirt/libvirt-sock"
	DST_URI="qemu+unix:///session?socket=$QDST/run/libvirt/libvirt-sock"
	export QSRC QDST SRC_URI DST_URI
	head -c 3M /dev/urandom >"$QT/rom.bin"
	# No 55 AA signature: the BIOS never runs it.
	printf '\0\0' | dd of="$QT/rom.bin" conv=notrunc status=none
	cat >"$QT/$MVM.xml" <<-EOF
	<domain type='qemu'>
	  <name>$MVM</name>
	  <memory unit='MiB'>64</memory>
	  <vcpu>1</vcpu>
	  <os><type arch='x86_64' machine='pc'>hvm</type></os>
	  <devices>
	    <emulator>$(command -v qemu-system-x86_64)</emulator>
	    <interface type='user'>
	      <model type='virtio'/>
	      <rom file='$QT/rom.bin'/>
	    </interface>
	    <memballoon model='none'/>
	  </devices>
	</domain>
	EOF
	chown -R "$QUSER:$QGROUP" "$QT"
}

teardown_file() {
	qemu_session_teardown
}

# at DIR ARGS...: virsh on the session in DIR.
at() {
	QS=$1 vsh "${@:2}"
}

# Both libvirtds up: an idle session libvirtd exits after a while, and
# a qemu+unix:// URI does not spawn one.
setup() {
	at "$QSRC" uri >/dev/null
	at "$QDST" uri >/dev/null
}

# vm_at DIR: the VM defined and running in the session in DIR only.
# FROM and TO are then that session's and the other one's directory,
# TO_URI the URI of the other, FROM_HOST and TO_HOST their host names.
vm_at() {
	FROM=$1 TO=$QDST TO_URI=$DST_URI
	[ "$FROM" = "$QDST" ] && TO=$QSRC TO_URI=$SRC_URI
	if at "$TO" dominfo "$MVM" >/dev/null 2>&1; then
		at "$TO" destroy "$MVM" >/dev/null 2>&1 || true
		at "$TO" undefine "$MVM" >/dev/null 2>&1 || true
	fi
	at "$FROM" dominfo "$MVM" >/dev/null 2>&1 ||
		at "$FROM" define "$QT/$MVM.xml" >/dev/null
	QS=$FROM vm_running "$MVM"
	FROM_HOST=$(at "$FROM" hostname)
	TO_HOST=$(at "$TO" hostname)
	[ -n "$FROM_HOST" ] && [ -n "$TO_HOST" ]
}

teardown() {
	local p
	for p in ${WS_PIDS:-}; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	WS_PIDS=
	ws_stop
	if [ -n "${MIG_PID:-}" ]; then
		kill "$MIG_PID" 2>/dev/null
		wait "$MIG_PID" 2>/dev/null
		MIG_PID=
	fi
	stop_session_daemon
}

# migrate_start [ARGS...]: `virsh migrate` of the VM from FROM to TO (see
# vm_at) in the background, at 1 MiB/s; output in $MIG_OUT, start time
# in MIG_T0 (epoch ms). migrate_wait waits for it (sets MIG_T1) and has
# its exit status.
migrate_start() {
	local -a cmd
	MIG_OUT=$BATS_TEST_TMPDIR/migrate.out
	MIG_T0=$(date +%s%3N)
	QS=$FROM as_user_argv
	"${cmd[@]}" timeout 60 virsh -q -c qemu:///session migrate --live \
		--persistent --undefinesource --bandwidth 1 "$MVM" "$TO_URI" \
		--migrateuri "tcp://127.0.0.1:$(free_port)" "$@" \
		>"$MIG_OUT" 2>&1 3>&- &
	MIG_PID=$!
}

migrate_wait() {
	local rc=0
	wait "$MIG_PID" || rc=$?
	MIG_PID=
	MIG_T1=$(date +%s%3N)
	if [ "$rc" -ne 0 ]; then
		echo "virsh migrate exited with status $rc:" >&2
		cat "$MIG_OUT" >&2
	fi
	return "$rc"
}

# user_ws NAME KEY TOPICS_JSON: a WebSocket client over TCP with an API
# key, frames in $BATS_TEST_TMPDIR/ws-NAME; waits for Subscribed.
user_ws() {
	local f=$BATS_TEST_TMPDIR/ws-$1
	"$WSC" --url "ws://127.0.0.1:$PORT/api/ws" --header "X-API-Key: $2" \
		--timeout 60 --send "{\"topics\":$3}" >"$f" 2>&1 3>&- &
	WS_PIDS="${WS_PIDS:-} $!"
	wait_frames "$f" '.frame.type == "Subscribed"' 1 5
}

# migration_frames FILE: the Migration* frames of FILE, one compact
# {type, ms (the event's timestamp), d (its data)} per line.
migration_frames() {
	frames_where "$1" '.frame.type | startswith("Migration")' |
		jq -c "$JQ_MS"' {type: .frame.type, ms: (.frame.data.timestamp | ms), d: .frame.data}'
}

# inventory: GET /api/vms as root@local, compact.
inventory() {
	curl -sf --unix-socket "$SOCK" http://localhost/api/vms | jq -c .
}

# wait_inventory JQ SECONDS: until JQ is true of GET /api/vms.
wait_inventory() {
	local n=$(($2 * 10))
	while [ "$n" -gt 0 ]; do
		[ "$(inventory | jq "$1")" = true ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	echo "GET /api/vms never satisfied $1: $(inventory)" >&2
	return 1
}

PROGRESS='.frame.type == "MigrationProgress"'
COMPLETED='.frame.type == "MigrationCompleted"'
FAILED='.frame.type == "MigrationFailed"'

@test "a live migration watched at both ends: MigrationStarted, MigrationProgress while the job runs, MigrationCompleted; the VM ends up on the target" {
	vm_at "$QSRC"
	start_session_daemon --vm-interval 0.25 \
		--libvirt-uri "$SRC_URI" --libvirt-uri "$DST_URI"
	ws=$BATS_TEST_TMPDIR/ws
	ws_start "$ws" '["migrations","vm:metrics"]' 60
	wait_inventory "[.[] | select(.id == \"$MVM\")] | length == 1" 10
	migrate_start

	# libvirt's own account of the job once it has figures, for the
	# frames around it.
	job=$BATS_TEST_TMPDIR/job
	for _ in $(seq 1 100); do
		tb=$(date +%s%3N)
		at "$FROM" domjobinfo "$MVM" --rawstats >"$job" 2>&1
		ta=$(date +%s%3N)
		grep -q '^ *data_total: [1-9]' "$job" && break
		sleep 0.1
	done
	if ! grep -q '^ *data_total: [1-9]' "$job"; then
		echo "no job figures from virsh domjobinfo: $(cat "$job")" >&2
		return 1
	fi
	wait_frames "$ws" "$COMPLETED" 1 40
	migrate_wait

	m=$(migration_frames "$ws")
	echo "$m" >&2
	echo "domjobinfo: $(tr '\n' ' ' <"$job")" >&2

	# One start, progress, one end, in that order, all about the VM.
	jq -se '(map(.type) | .[0] == "MigrationStarted" and
	    .[-1] == "MigrationCompleted" and
	    (.[1:-1] | length > 0 and all(. == "MigrationProgress"))) and
	    all(.d.vm_id == "'"$MVM"'") and
	    (map(.ms) | . == sort)' <<<"$m"
	assert_equal "$(jq -c 'select(.type == "MigrationStarted") | .d |
	    [.source_node, .target_node]' <<<"$m")" \
		"$(jq -cn --arg s "$FROM_HOST" --arg d "$TO_HOST" '[$s, $d]')"

	p=$(jq -c 'select(.type == "MigrationProgress") | .d' <<<"$m")
	# Shares and bytes that make sense together: progress is the part of
	# the total already on the target, as `virsh migrate --verbose`
	# counts it, and the guest's 64 MiB are part of the total.
	jq -se 'all(
	    (.progress | type) == "number" and .progress >= 0 and
	    .progress <= 100 and
	    (.transferred_bytes | type) == "number" and
	    .transferred_bytes >= 0 and
	    .transferred_bytes <= .total_bytes and
	    .total_bytes >= 64 * 1048576 and
	    ((.progress - 100 * .transferred_bytes / .total_bytes) |
	    fabs) <= 0.01 and
	    (.iteration | type) == "number" and .iteration >= 1)' <<<"$p"
	# Sampled while the job ran, not only at its iterations: several
	# growing figures in the first pass. A later pass counts what the
	# guest dirtied meanwhile as remaining again, so the figures only
	# never fall within a pass, and passes only go up.
	jq -se '(map(.iteration) | . == sort) and
	    (group_by(.iteration) | all(map(.transferred_bytes) | . == sort)) and
	    ([.[] | select(.iteration == 1) | .transferred_bytes] |
	    unique | length >= 3)' <<<"$p"

	# Against libvirt: the same total, and a transferred figure that
	# lies between the frames of the same pass around the domjobinfo
	# call. A frame is stamped after its libvirt call; the second one
	# stamped after `ta` is the first whose call surely started after it.
	job_total=$(sed -n 's/^ *data_total: //p' "$job")
	job_left=$(sed -n 's/^ *data_remaining: //p' "$job")
	job_pass=$(sed -n 's/^ *memory_iteration: //p' "$job")
	[ -n "$job_total" ] && [ -n "$job_left" ] && [ -n "$job_pass" ]
	jq -se --argjson t "$job_total" 'all(.total_bytes == $t)' <<<"$p"
	snap=$((job_total - job_left))
	lo=$(jq -s "$JQ_MS"' [.[] | select(.iteration == '"$job_pass"' and
	    (.timestamp | ms) < '"$tb"') | .transferred_bytes] | last // 0' <<<"$p")
	hi=$(jq -s "$JQ_MS"' [.[] | select(.iteration == '"$job_pass"' and
	    (.timestamp | ms) > '"$ta"') | .transferred_bytes] |
	    .[1] // '"$job_total" <<<"$p")
	echo "transferred: frames say $lo before and $hi after, libvirt $snap" >&2
	[ "$lo" -le "$snap" ] && [ "$snap" -le "$hi" ]

	# The end: where the VM went, and how long libvirt says it took:
	# at least the span of the frames, at most the wall time of virsh.
	assert_equal "$(jq -c 'select(.type == "MigrationCompleted") |
	    .d.target_node' <<<"$m")" "$(jq -cn --arg d "$TO_HOST" '$d')"
	jq -se --argjson wall "$((MIG_T1 - MIG_T0))" '
	    (map(select(.type == "MigrationStarted"))[0].ms) as $s |
	    (map(select(.type == "MigrationProgress"))[-1].ms) as $p |
	    (.[-1].d.duration_seconds * 1000) as $d |
	    $d > 0 and $d >= $p - $s - 50 and $d <= $wall' <<<"$m"

	# Sampling went on meanwhile: the target's stats of its incoming VM
	# wait for the migration unless asked not to, and would stall the
	# collector and every call on that connection until the end.
	t_first=$(jq -s 'map(select(.type == "MigrationProgress"))[0].ms' <<<"$m")
	t_last=$(jq -s 'map(select(.type == "MigrationProgress"))[-1].ms' <<<"$m")
	metrics=$(frames_where "$ws" ".frame.type == \"VmMetrics\" and
	    (.frame.data.timestamp | ms) > $t_first and
	    (.frame.data.timestamp | ms) < $t_last" | wc -l)
	echo "VmMetrics during $((t_last - t_first)) ms of progress: $metrics" >&2
	[ "$metrics" -ge $(((t_last - t_first) / 1000)) ]

	# The VM left the source and runs on the target, listed once.
	[ -z "$(at "$FROM" list --all --name)" ]
	assert_equal "$(at "$TO" domstate "$MVM")" running
	wait_inventory "[.[] | select(.id == \"$MVM\")] |
	    length == 1 and .[0].state == \"running\"" 10
}

@test "watching the source only: an aborted migration, then one that completes; no target_node; the VM leaves the source; only users with VmAudit on it see any of it" {
	vm_at "$QDST"	# where the first test left it
	start_session_daemon --vm-interval 0.25 --libvirt-uri "$DST_URI"
	mkuser mig-ok '[]'
	mkuser mig-no '[]'
	must 200 PUT /api/acl "{\"path\":\"/vms/$MVM\",\"role\":\"VmUser\",\"user\":\"mig-ok\"}" >/dev/null
	must 200 PUT /api/acl '{"path":"/vms/hx-other","role":"VmUser","user":"mig-no"}' >/dev/null
	kok=$(mkkey mig-ok '{"name":"k"}')
	kno=$(mkkey mig-no '{"name":"k"}')
	topics='["migrations","vm:status","vm:events"]'
	ws=$BATS_TEST_TMPDIR/ws
	ws_start "$ws" "$topics" 60
	user_ws ok "$kok" "$topics"
	user_ws no "$kno" "$topics"
	wait_inventory "[.[] | select(.id == \"$MVM\")] | length == 1" 10

	# Cancelled: libvirt sends no event for that, horcruxd finds the job
	# gone with the VM still here and says MigrationFailed.
	migrate_start
	wait_frames "$ws" "$PROGRESS" 1 20
	at "$FROM" domjobabort "$MVM"
	if migrate_wait; then
		echo "the migration was not aborted" >&2
		return 1
	fi
	# virsh says why as it saw it: the job cancelled, or, when the abort
	# wins the race with its own write, the broken stream. Either way
	# the migration failed and the VM runs on here, which is what counts.
	if ! grep -qE 'canceled by client|operation aborted|Broken pipe|Unable to write to socket' "$MIG_OUT"; then
		echo "virsh migrate failed for another reason:" >&2
		cat "$MIG_OUT" >&2
		return 1
	fi
	assert_equal "$(at "$FROM" domstate "$MVM")" running
	t_abort=$(date +%s%3N)
	# horcruxd notices the job gone at its next look. Why, only virsh
	# heard (libvirt keeps the aborted job's figures, not its outcome):
	# the reason is libvirt's if it kept one, else null.
	wait_frames "$ws" "$FAILED" 1 10
	f=$(frames_where "$ws" "$FAILED" | jq -c .frame.data)
	echo "$f" >&2
	assert_equal "$(jq -c '[.vm_id, .source_node, .target_node]' <<<"$f")" \
		"$(jq -cn --arg v "$MVM" --arg s "$FROM_HOST" '[$v, $s, null]')"
	jq -e '.reason == null or (.reason | type == "string" and length > 0)' <<<"$f"
	grep -qF "the migration of '$MVM' from '$DST_URI' ended without completing" "$HXD_LOG"

	# Completed: announced again from the start.
	migrate_start
	deleted=".frame.type == \"VmDeleted\" and .frame.data.vm_id == \"$MVM\""
	wait_frames "$ws" "$COMPLETED" 1 40
	wait_frames "$ws" "$deleted" 1 10
	migrate_wait

	m=$(migration_frames "$ws")
	echo "$m" >&2
	assert_equal "$(jq -c 'select(.type != "MigrationProgress") | [.type, .d.vm_id]' <<<"$m")" \
		"$(printf '["%s","%s"]\n' MigrationStarted "$MVM" MigrationFailed "$MVM" MigrationStarted "$MVM" MigrationCompleted "$MVM")"
	jq -se 'map(select(.type == "MigrationStarted"))[1].ms > '"$t_abort" <<<"$m"
	# Where to, only the target knows: horcruxd does not watch it.
	assert_equal "$(jq -c 'select(.type == "MigrationStarted") | .d |
	    [.source_node, .target_node]' <<<"$m" | sort -u)" \
		"$(jq -cn --arg s "$FROM_HOST" '[$s, null]')"
	assert_equal "$(jq -c 'select(.type == "MigrationCompleted") | .d |
	    [.target_node, .duration_seconds > 0]' <<<"$m")" '[null,true]'
	# Progress of both attempts, each from its own start.
	jq -se '[.[] | select(.type != "MigrationCompleted")] |
	    .[0].type == "MigrationStarted" and
	    ([.[] | .type] | index("MigrationProgress")) == 1 and
	    (map(.type) | .[1:] | index("MigrationStarted")) as $i |
	    $i != null and .[$i + 2].type == "MigrationProgress"' <<<"$m"

	# The source's view: the VM stopped and is gone (--undefinesource;
	# libvirt sends no UNDEFINED event for it); nobody of ours asked, so
	# no user.
	s=$(frames_where "$ws" ".frame.type == \"VmStatusChanged\" and .frame.data.vm_id == \"$MVM\"" |
		jq -c '.frame.data | [.old_status, .new_status, .user]')
	echo "$s" >&2
	assert_equal "$(head -1 <<<"$s" | jq -c '.[0]')" '"running"'
	assert_equal "$(tail -1 <<<"$s" | jq -c '.[1:]')" '["stopped",null]'
	assert_equal "$(frames_where "$ws" "$deleted" | jq -c '.frame.data | [.name, .user]')" \
		"[\"$MVM\",null]"
	wait_inventory "[.[] | select(.id == \"$MVM\")] | length == 0" 10

	# A user with VmAudit on the VM sees what root sees.
	f_ok=$BATS_TEST_TMPDIR/ws-ok f_no=$BATS_TEST_TMPDIR/ws-no
	wait_frames "$f_ok" "$deleted" 1 10
	assert_equal "$(frames_where "$f_ok" '.frame.data.vm_id != null' | jq -c '[.frame.type, .frame.data.vm_id]')" \
		"$(frames_where "$ws" '.frame.data.vm_id != null' | jq -c '[.frame.type, .frame.data.vm_id]')"
	# One without sees nothing of it, though it may subscribe. Stopping
	# horcruxd flushes every queue before its Server Shutdown notice.
	assert_equal "$(frames_where "$f_no" '.frame.type == "Subscribed"' | jq -c .frame.data.topics)" \
		'["vm:status","vm:events","migrations"]'
	stop_session_daemon
	wait_frames "$f_no" '.frame.type == "Notification" and .frame.data.title == "Server Shutdown"' 1 10
	assert_equal "$(frames_where "$f_no" '.frame.data.vm_id != null' | wc -l)" 0
}
