# Requests to a running horcruxd (started by common.bash's start_daemon)
# and the libvirt test-driver node the VM tests start it on. Load it after
# helpers/common. It starts nothing itself. A file whose daemon may stall
# under load sets HX_CURL_MAX_TIME (seconds) so no request hangs the test.

# sock METHOD PATH [JSON]: a request over the Unix socket (root@local);
# prints the body, then the status code on a line of its own.
sock() {
	curl -s ${HX_CURL_MAX_TIME:+--max-time "$HX_CURL_MAX_TIME"} \
		--unix-socket "$SOCK" -X "$1" "http://localhost$2" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} \
		-w '\n%{http_code}'
}

# tcp METHOD PATH [JSON] [CURL ARGS...]: the same over TCP to $URL.
tcp() {
	local m=$1 p=$2 d=${3:-}
	shift 3 2>/dev/null || shift $#
	curl -s ${HX_CURL_MAX_TIME:+--max-time "$HX_CURL_MAX_TIME"} \
		-X "$m" "$URL$p" -H 'Content-Type: application/json' \
		${d:+-d "$d"} -w '\n%{http_code}' "$@"
}

# status_of OUT, body_of OUT: the two parts of what sock printed.
status_of() { tail -1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }

# must STATUS METHOD PATH [JSON]: a root@local request (sock) that
# fails loudly unless it answers STATUS; prints the body.
must() {
	local want=$1 out
	shift
	out=$(sock "$@")
	if [ "$(status_of "$out")" != "$want" ]; then
		echo "$* answered $(status_of "$out"), not $want: $(body_of "$out")" >&2
		return 1
	fi
	body_of "$out"
}

# wait_vms: until the collector has posted its first inventory (5 s).
wait_vms() {
	local i
	for i in $(seq 1 100); do
		[ "$(body_of "$(sock GET /api/vms)" | jq length)" -gt 0 ] && return 0
		sleep 0.05
	done
	return 1
}

# one_vm_node FILE NAME: a test-driver node with one running domain
# called NAME, given as XML text (so escaped: &lt; &#x202E;).
one_vm_node() {
	cat >"$1" <<XML
<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
  <cpu><mode>fixed</mode><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active><mhz>2000</mhz><model>x86_64</model></cpu>
  <memory>8388608</memory>
  <domain type='test'>
    <name>$2</name>
    <memory unit='MiB'>256</memory>
    <vcpu>1</vcpu>
    <os><type>hvm</type></os>
    <test:runstate>1</test:runstate>
  </domain>
</node>
XML
}

# hist QUERY: GET /api/metrics/history?QUERY as root@local (body, status).
hist() {
	sock GET "/api/metrics/history?$1"
}

# wait_points QUERY N: until the history of QUERY's first series holds
# at least N points (10 s); prints the body.
wait_points() {
	local i out
	for i in $(seq 1 200); do
		out=$(hist "$1")
		if [ "$(status_of "$out")" = 200 ] &&
			[ "$(body_of "$out" | jq '.series[0].points | length')" -ge "$2" ]; then
			body_of "$out"
			return 0
		fi
		sleep 0.05
	done
	echo "fewer than $2 points for $1: $out" >&2
	return 1
}
