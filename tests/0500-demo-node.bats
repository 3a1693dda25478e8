#!/usr/bin/env bats
# The demo host (share/demo-node.xml) and the scale fixture generator
# (scripts/gen-node) on libvirt's test driver, through virsh: the demo file
# holds exactly the domains and states it promises, containers are lxc,
# every guest has storage and a NIC; gen-node output loads, is
# deterministic, and its command line behaves.
#
# Self-contained: needs only virsh (libvirt-clients) and python3. Each virsh
# process opens its own copy of the node file, so nothing here can leak
# state into another test.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
DEMO=$TOP/share/demo-node.xml
GEN=$TOP/scripts/gen-node

# The demo host as designed: name type state vcpus memory(KiB) disks nics.
# Containers have a root filesystem instead of a disk (0 disks here; the
# filesystem is checked separately).
DEMO_TABLE="\
web-1 kvm running 2 4194304 1 1
web-2 kvm running 2 4194304 1 1
db-1 kvm running 4 16777216 2 2
cache-1 kvm paused 2 8388608 1 1
build-1 kvm running 8 16777216 2 1
backup-1 kvm shut-off 2 4194304 2 1
win-test kvm shut-off 4 8388608 1 1
ci-runner kvm running 4 8388608 1 1
dns-1 lxc running 1 524288 0 2
metrics-1 lxc shut-off 2 1048576 0 1"

VMS="web-1 web-2 db-1 cache-1 build-1 backup-1 win-test ci-runner"
CONTAINERS="dns-1 metrics-1"

setup_file() {
	if ! command -v virsh >/dev/null; then
		echo "virsh not found: apt-get install libvirt-clients" >&2
		return 1
	fi
	[ -f "$DEMO" ] || { echo "missing $DEMO" >&2; return 1; }
	[ -x "$GEN" ] || { echo "$GEN is not executable" >&2; return 1; }
}

# vsh FILE ARGS... - virsh, quiet (no table headers), on the test driver
# with node file FILE (made absolute: test:/// needs an absolute path).
vsh() {
	local f=$1
	shift
	case $f in /*) ;; *) f=$PWD/$f ;; esac
	virsh -q -c "test://$f" "$@"
}

# each_domain FILE 'CMD @D; CMD @D' NAME... - one virsh process (cheap:
# one connection, one parse of FILE) running the commands for every NAME,
# with @D replaced by the name; each name's output follows a line "@@ NAME".
# Not quiet, because virsh -q drops the newline after echo: table headers
# are left in and the parsers below ignore them.
each_domain() {
	local f=$1 tmpl=$2 d cmds=""
	shift 2
	case $f in /*) ;; *) f=$PWD/$f ;; esac
	for d in "$@"; do
		cmds+="echo @@ $d; ${tmpl//@D/$d}; "
	done
	virsh -c "test://$f" "$cmds"
}

# section NAME - the part of each_domain's output (stdin) for NAME.
section() {
	awk -v n="$1" '$0 == "@@ " n { on = 1; next } /^@@ / { on = 0 } on'
}

# table_row NAME - the demo table row for NAME from its section of
# "dumpxml; dominfo; domblklist --details; domiflist" output (stdin).
table_row() {
	awk -v n="$1" '
		/^<domain type=/ { split($2, a, "\047"); type = a[2] }
		/^State:/        { sub(/^State: */, ""); gsub(/ /, "-"); state = $0 }
		/^CPU\(s\):/     { vcpus = $2 }
		/^Max memory:/   { mem = $3 }
		NF == 4 && $2 == "disk"    { disks++ }
		NF == 5 && $2 == "network" { nics++ }
		END { printf "%s %s %s %s %s %d %d\n", n, type, state, vcpus, mem, disks, nics }'
}

# state_counts FILE - "R running, P paused, S shut off" from one list --all.
state_counts() {
	vsh "$1" list --all | awk '
		{ $1 = ""; $2 = ""; sub(/^ +/, ""); c[$0]++ }
		END { printf "%d running, %d paused, %d shut off\n", c["running"], c["paused"], c["shut off"] }'
}

@test "demo node: exactly the designed domains, types, states, sizes, disks and NICs" {
	run vsh "$DEMO" list --all --name
	assert_success
	assert_equal "$(grep . <<<"$output" | sort)" \
		"$(cut -d' ' -f1 <<<"$DEMO_TABLE" | sort)"

	local names d out observed=""
	names=$(cut -d' ' -f1 <<<"$DEMO_TABLE")
	# shellcheck disable=SC2086 # names are plain words
	out=$(each_domain "$DEMO" "dumpxml @D; dominfo @D; domblklist --details @D; domiflist @D" $names)
	for d in $names; do
		observed+=$(section "$d" <<<"$out" | table_row "$d")$'\n'
	done
	assert_equal "${observed%$'\n'}" "$DEMO_TABLE"
}

@test "demo node: list --all shows running, paused and shut off domains" {
	run vsh "$DEMO" list --all
	assert_success
	assert_line --regexp '^ *[0-9]+ +web-1 +running$'
	assert_line --regexp '^ *[0-9]+ +cache-1 +paused$'
	assert_line --regexp '^ *- +backup-1 +shut off$'
	assert_line --regexp '^ *- +metrics-1 +shut off$'
	assert_equal "$(state_counts "$DEMO")" "6 running, 1 paused, 3 shut off"
}

@test "demo node: the two containers are lxc with /sbin/init on a root filesystem; the rest are kvm" {
	local d xml out
	# shellcheck disable=SC2086
	out=$(each_domain "$DEMO" "dumpxml @D" $CONTAINERS $VMS)
	for d in $CONTAINERS; do
		xml=$(section "$d" <<<"$out")
		assert_regex "$(head -1 <<<"$xml")" "^<domain type='lxc'"
		assert_regex "$xml" "<type arch='x86_64'>exe</type>"
		assert_regex "$xml" "<init>/sbin/init</init>"
		assert_regex "$xml" "<source dir='/var/lib/lxc/$d/rootfs'/>"
		assert_regex "$xml" "<target dir='/'/>"
	done
	for d in $VMS; do
		xml=$(section "$d" <<<"$out")
		assert_regex "$(head -1 <<<"$xml")" "^<domain type='kvm'"
		assert_regex "$xml" ">hvm</type>"
	done
}

@test "demo node: every VM has a virtio file disk from the default pool, every domain a NIC" {
	local d vols out rows
	vols=$(vsh "$DEMO" vol-list default | awk '{print $2}')
	# shellcheck disable=SC2086
	out=$(each_domain "$DEMO" "domblklist --details @D; domiflist @D" $VMS $CONTAINERS)
	for d in $VMS; do
		rows=$(section "$d" <<<"$out" | awk 'NF == 4 && $2 == "disk"')
		grep -qE "^ *file +disk +vda +/var/lib/libvirt/images/$d\\.qcow2$" <<<"$rows" ||
			fail "$d: no vda from the pool: $rows"
		# every disk is a volume of the pool, so vol-list and the guests agree
		while read -r _ _ _ src; do
			grep -qxF "$src" <<<"$vols" || fail "$d: $src is not in pool default"
		done <<<"$rows"
	done
	for d in $VMS $CONTAINERS; do
		# the test driver renames every interface target to testnetN
		rows=$(section "$d" <<<"$out" | awk 'NF == 5 && $2 == "network"')
		assert_regex "$rows" '^ *testnet0 +network +default +[-a-z]+ +52:54:00(:[0-9a-f]{2}){3}'
	done
	assert_regex "$(section web-1 <<<"$out")" ' virtio +52:54:00:'
	# containers have no disk, only their root filesystem
	for d in $CONTAINERS; do
		assert_equal "$(section "$d" <<<"$out" | awk '$2 == "disk"')" ""
	done
}

@test "demo node: MACs and UUIDs are unique; networks and pool are active" {
	local out macs uuids
	# shellcheck disable=SC2086
	out=$(each_domain "$DEMO" "domiflist @D; domuuid @D" $VMS $CONTAINERS)
	macs=$(awk 'NF == 5 && $2 == "network" { print $5 }' <<<"$out")
	uuids=$(grep -E '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$' <<<"$out")
	assert_equal "$(wc -l <<<"$macs")" 12
	assert_equal "$(sort -u <<<"$macs" | wc -l)" 12
	assert_equal "$(sort -u <<<"$uuids" | wc -l)" 10
	# fixed UUIDs: the same on every connection
	assert_regex "$(section web-1 <<<"$out")" 99043083-70fe-50b2-b2f5-19bcfbd74970

	run vsh "$DEMO" net-list --all
	assert_success
	assert_line --regexp '^ *default +active '
	assert_line --regexp '^ *internal +active '
	run vsh "$DEMO" pool-list --all
	assert_success
	assert_line --regexp '^ *default +active '
	run vsh "$DEMO" nodeinfo
	assert_line --regexp '^CPU\(s\): +16$'
	assert_line --regexp '^Memory size: +67108864 KiB$'
}

@test "demo node: guests and containers change state within one connection" {
	run vsh "$DEMO" "start metrics-1; domstate metrics-1; resume cache-1; domstate cache-1; destroy web-1; domstate web-1; suspend dns-1; domstate dns-1; start win-test; domstate win-test"
	assert_success
	assert_equal "$(grep -v '^Domain ' <<<"$output")" "running
running
shut off
paused
running"
	# a new connection starts again from the file
	assert_equal "$(vsh "$DEMO" domstate metrics-1)" "shut off"
}

@test "gen-node -n 50 writes 50 domains that load, each with a disk and a NIC" {
	local f=$BATS_TEST_TMPDIR/node-50.xml
	run "$GEN" -n 50 -o "$f"
	assert_success
	assert_output ""

	run vsh "$f" list --all --name
	assert_success
	assert_equal "$(grep . <<<"$output" | sort)" "$(seq -f 'vm-%04g' 1 50)"
	assert_equal "$(state_counts "$f")" "40 running, 3 paused, 7 shut off"

	# shellcheck disable=SC2046
	run each_domain "$f" "domstate @D; domblklist --details @D; domiflist @D" $(seq -f 'vm-%04g' 1 50)
	assert_success
	assert_equal "$(section vm-0001 <<<"$output" | head -1)" running
	assert_equal "$(grep -cE '^ *file +disk +vda +/var/lib/libvirt/images/vm-[0-9]{4}\.qcow2$' <<<"$output")" 50
	assert_equal "$(grep -cE '^ *testnet[0-9]+ +network +default +virtio +52:54:00:' <<<"$output")" 50
	assert_equal "$(awk '$2 == "network" {print $5}' <<<"$output" | sort -u | wc -l)" 50
}

@test "gen-node is deterministic: the same arguments give identical files" {
	local a=$BATS_TEST_TMPDIR/a.xml b=$BATS_TEST_TMPDIR/b.xml
	"$GEN" -n 50 -o "$a"
	"$GEN" -n 50 -o "$b"
	cmp "$a" "$b"
	"$GEN" -n 50 >"$b"
	cmp "$a" "$b"
	"$GEN" -n 50 --running-fraction 0.5 -o "$a"
	"$GEN" --running-fraction 0.5 -n 50 -o "$b"
	cmp "$a" "$b"
	# and the arguments do matter
	"$GEN" -n 50 -o "$b"
	run -1 cmp -s "$a" "$b"
	assert_equal "$(state_counts "$a")" "25 running, 8 paused, 17 shut off"
}

@test "gen-node: --running-fraction 0 and 1, -n 0, and the default 1000 all load" {
	local f=$BATS_TEST_TMPDIR/n.xml
	"$GEN" -n 10 --running-fraction 1 -o "$f"
	assert_equal "$(state_counts "$f")" "10 running, 0 paused, 0 shut off"
	"$GEN" -n 10 --running-fraction 0 -o "$f"
	assert_equal "$(state_counts "$f")" "0 running, 3 paused, 7 shut off"
	"$GEN" -n 9 --running-fraction 1/3 -o "$f"
	assert_equal "$(state_counts "$f")" "3 running, 2 paused, 4 shut off"
	"$GEN" -n 0 -o "$f"
	run vsh "$f" list --all --name
	assert_success
	assert_output ""
	"$GEN" -o "$f"
	assert_equal "$(state_counts "$f")" "800 running, 67 paused, 133 shut off"
	assert_equal "$(vsh "$f" domstate vm-1000)" paused
}

@test "gen-node --help prints the usage and exits 0" {
	run --separate-stderr "$GEN" --help
	assert_success
	assert_line --index 0 "usage: gen-node [-h] [-n N] [-o FILE] [--running-fraction F]"
	assert_line --partial "-n N, --domains N"
	assert_line --partial "-o FILE, --output FILE"
	assert_line --partial "--running-fraction F"
	assert_equal "$stderr" ""
	run "$GEN" -h
	assert_success
	assert_line --index 0 --partial "usage: gen-node"
}

@test "gen-node rejects bad arguments with the usage and exit 2, writing nothing" {
	local f=$BATS_TEST_TMPDIR/never.xml bad
	for bad in "--bogus" "-n" "-n abc" "-n -1" "-n 100001" "-n 1.5" \
		"--running-fraction 1.5" "--running-fraction -0.1" \
		"--running-fraction x" "--running-fraction" "extra"; do
		# shellcheck disable=SC2086 # split on purpose
		run --separate-stderr "$GEN" $bad -o "$f"
		assert_equal "$bad: $status" "$bad: 2"
		assert_equal "$bad: $output" "$bad: "
		assert_regex "$stderr" "^usage: gen-node "
		assert_regex "$stderr" $'\ngen-node: '
		[ ! -e "$f" ] || fail "$bad: $f was written"
	done
}

@test "gen-node fails cleanly when it cannot write the output" {
	local d=$BATS_TEST_TMPDIR/out
	mkdir "$d"
	run --separate-stderr "$GEN" -n 1 -o "$d/no/such/dir/x.xml"
	assert_failure 1
	assert_equal "$stderr" "gen-node: $d/no/such/dir/x.xml: No such file or directory"
	# a directory in the way: no half-written temporary file is left behind
	mkdir "$d/x.xml"
	run --separate-stderr "$GEN" -n 1 -o "$d/x.xml"
	assert_failure 1
	assert_equal "$stderr" "gen-node: $d/x.xml: Is a directory"
	assert_equal "$(ls -A "$d")" "x.xml"
	assert_equal "$(ls -A "$d/x.xml")" ""
}
