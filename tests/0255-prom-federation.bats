#!/usr/bin/env bats
# Prometheus federation over several horcruxd (DESIGN §10, README "Many
# hosts"): two daemons on this machine (own ports, sockets and data
# directories), one leaf Prometheus scraping both /metrics with a bearer
# API key each, one global Prometheus federating from the leaf's
# /federate with match[] and honor_labels. Through the global's HTTP API a
# node series of each daemon is there under its own instance label, with
# the value and the family names the daemon's own /metrics has.
#
# Each process starts once for the file; waits poll readiness endpoints
# and the query API, never a blind sleep.

load helpers/common

FED_MATCH='{__name__=~"horcrux_node_.*"}'

# scraper_key NAME: a fresh Auditor and an API key on instance NAME
# (root@local over its Unix socket); prints the key.
scraper_key() {
	local s
	s=$(inst_sock "$1")
	curl -sf --unix-socket "$s" -H 'Content-Type: application/json' \
		-d '{"username":"scraper","password":"pw-scraper-123","roles":["Auditor"]}' \
		http://localhost/api/users >/dev/null || return 1
	curl -sf --unix-socket "$s" -H 'Content-Type: application/json' \
		-d '{"name":"prometheus"}' \
		http://localhost/api/users/scraper/api-keys | jq -er .token
}

# start_prom NAME: Prometheus with $BATS_FILE_TMPDIR/NAME/prometheus.yml
# on a free port (NAME_PORT in NAME/port), until /-/ready answers.
start_prom() {
	local dir=$BATS_FILE_TMPDIR/$1 port i
	mkdir -p "$dir/data"
	port=$(free_port)
	echo "$port" >"$dir/port"
	prometheus --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" >"$dir/log" 2>&1 3>&- &
	echo $! >"$dir/pid"
	for i in $(seq 1 300); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/-/ready" && return 0
		kill -0 "$(cat "$dir/pid")" || {
			tail -5 "$dir/log" >&2
			return 1
		}
		sleep 0.1
	done
	echo "prometheus $1 not ready" >&2
	return 1
}

stop_prom() {
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/$1/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

setup_file() {
	local n
	for n in alpha beta; do
		start_instance "$n" --libvirt-uri "test://$HX_REPO/tests/fixtures/multihost-$n.xml" || return 1
		scraper_key "$n" >"$BATS_FILE_TMPDIR/$n/key" || return 1
	done
	mkdir -p "$BATS_FILE_TMPDIR/leaf" "$BATS_FILE_TMPDIR/global"
	{
		printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n'
		for n in alpha beta; do
			printf '  - job_name: horcrux-%s\n' "$n"
			printf '    authorization:\n      type: Bearer\n      credentials_file: %s\n' \
				"$BATS_FILE_TMPDIR/$n/key"
			printf "    static_configs:\n      - targets: ['127.0.0.1:%s']\n" \
				"$(inst_port "$n")"
		done
	} >"$BATS_FILE_TMPDIR/leaf/prometheus.yml"
	start_prom leaf || return 1
	cat >"$BATS_FILE_TMPDIR/global/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	scrape_configs:
	  - job_name: federate
	    honor_labels: true
	    metrics_path: /federate
	    params:
	      'match[]': ['$FED_MATCH']
	    static_configs:
	      - targets: ['127.0.0.1:$(cat "$BATS_FILE_TMPDIR/leaf/port")']
	EOF
	start_prom global
}

teardown_file() {
	stop_prom global
	stop_prom leaf
	stop_instance alpha
	stop_instance beta
}

# gquery PROMQL: the global Prometheus' instant query answer.
gquery() {
	curl -s -G "http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/global/port")/api/v1/query" \
		--data-urlencode "query=$1"
}

# own_metrics NAME: instance NAME's /metrics as its scraper sees it.
own_metrics() {
	curl -sf -H "Authorization: Bearer $(cat "$BATS_FILE_TMPDIR/$1/key")" \
		"$(inst_url "$1")/metrics"
}

@test "the global Prometheus has each daemon's node series under its own instance" {
	local i q n inst want got
	# Until both daemons' memory total reached the global one (30 s).
	for i in $(seq 1 300); do
		q=$(gquery 'horcrux_node_memory_total_bytes')
		[ "$(jq '.data.result | length' <<<"$q")" = 2 ] && break
		sleep 0.1
	done
	[ "$(jq '.data.result | length' <<<"$q")" = 2 ] || {
		echo "$q"
		tail -5 "$BATS_FILE_TMPDIR/global/log" "$BATS_FILE_TMPDIR/leaf/log"
		return 1
	}
	for n in alpha beta; do
		inst=127.0.0.1:$(inst_port "$n")
		# The leaf's own labels survive federation (honor_labels).
		got=$(jq -r --arg i "$inst" \
			'.data.result[] | select(.metric.instance == $i) | "\(.metric.job) \(.value[1])"' <<<"$q")
		want="horcrux-$n $(own_metrics "$n" | sed -n 's/^horcrux_node_memory_total_bytes //p')"
		assert_equal "$got" "$want"
		# The same node families as the daemon's own /metrics.
		want=$(own_metrics "$n" | sed -n 's/^\(horcrux_node_[a-z0-9_]*\).*/\1/p' | sort -u)
		got=$(gquery "count by (__name__) ({__name__=~\"horcrux_node_.*\",instance=\"$inst\"})" |
			jq -r '.data.result[].metric.__name__' | sort -u)
		assert_equal "$got" "$want"
	done
	# Only what match[] asked for crossed over: no VM series.
	q=$(gquery '{__name__=~"horcrux_vm_.*"}')
	assert_equal "$(jq '.data.result | length' <<<"$q")" 0
}
