#!/usr/bin/env bats
# The horcrux.msgpack subprotocol (DESIGN §3 "Binary"): an independent
# client (python3-websockets with python3-msgpack) beside a JSON session on
# the same daemon gets the same maps for the same frames; its own messages
# may be MessagePack; a malformed one is BAD_MESSAGE and the session goes
# on; a JSON session's binary frame is still refused; horcrux-cli events on
# the Unix socket speaks MessagePack by default (the daemon's
# horcrux_ws_sessions_msgpack says so) and prints what it prints over JSON.
#
# One daemon for the file, on the demo node, sampling every 0.3 s.

load helpers/common
load helpers/cli

setup_file() {
	cli_start_daemon --node-interval 0.3 || return 1
	wait_sample || return 1
}

teardown_file() {
	stop_daemon
}

teardown() {
	# shellcheck disable=SC2086
	kill_clients ${BG_PIDS:-}
	BG_PIDS=
}

# metric NAME: the value of one series of GET /metrics (root@local).
metric() {
	curl -s --unix-socket "$SOCK" http://localhost/metrics |
		sed -n "s/^$1 //p"
}

# wait_lines FILE TYPE N: until FILE holds N lines of frames of TYPE (10 s).
wait_lines() {
	local i
	for i in $(seq 1 200); do
		[ "$(grep -c "^{\"type\":\"$2\"" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.05
	done
	echo "fewer than $3 $2 lines in $1" >&2
	cat "$1" >&2
	return 1
}

@test "horcrux.msgpack: welcome, Subscribed, NodeMetrics and VmMetrics are the JSON session's maps" {
	run $PY - "$SOCK" <<'PY'
import asyncio, json, sys
import msgpack
from websockets.client import unix_connect

def unpack(b):
    assert isinstance(b, bytes), "a text frame on horcrux.msgpack"
    return msgpack.unpackb(b, raw=False, strict_map_key=True)

async def main():
    sock = sys.argv[1]
    j = await unix_connect(sock, "ws://localhost/api/ws")
    m = await unix_connect(sock, "ws://localhost/api/ws",
                           subprotocols=["horcrux.msgpack"])
    print("subprotocols", j.subprotocol, m.subprotocol)
    print("extensions", [type(e).__name__ for e in m.extensions])
    hj = json.loads(await j.recv())
    hm = unpack(await m.recv())
    # Each session has its own welcome: equal but for the time.
    print("welcome", hm["type"], hj["data"].pop("timestamp") != "",
          hm["data"].pop("timestamp") != "", hj == hm)
    sub = {"topics": ["node:metrics", "vm:metrics"]}
    await j.send(json.dumps(sub))
    await m.send(msgpack.packb(sub))
    got = {"j": {}, "m": {}}
    done = asyncio.Event()

    def enough():
        common = set(got["j"]) & set(got["m"])
        return (any(k[0] == "NodeMetrics" for k in common) and
                any(k[0] == "VmMetrics" for k in common) and
                all(("Subscribed", None, None) in got[s] for s in got))

    async def collect(ws, name, dec):
        while True:
            f = dec(await ws.recv())
            d = f["data"]
            key = (f["type"], d.get("timestamp"), d.get("vm_id"))
            if f["type"] == "Subscribed":
                d.pop("timestamp")
                key = ("Subscribed", None, None)
            got[name][key] = f
            if enough():
                done.set()

    tasks = [asyncio.create_task(collect(j, "j", json.loads)),
             asyncio.create_task(collect(m, "m", unpack))]
    await asyncio.wait_for(done.wait(), 30)
    for t in tasks:
        t.cancel()
    common = set(got["j"]) & set(got["m"])
    for t in ("Subscribed", "NodeMetrics", "VmMetrics"):
        ks = [k for k in common if k[0] == t]
        print(t, len(ks) > 0, all(got["j"][k] == got["m"][k] for k in ks))
    n = got["m"][[k for k in common if k[0] == "NodeMetrics"][0]]["data"]
    # Integers stay integers, reals stay reals, arrays stay arrays.
    print("types", type(n["memory_total_bytes"]).__name__,
          type(n["load_average"]).__name__, type(n["hostname"]).__name__)
    await j.close()
    await m.close()

asyncio.run(main())
PY
	assert_success
	assert_line "subprotocols None horcrux.msgpack"
	assert_line "extensions ['PerMessageDeflate']"
	assert_line "welcome Notification True True True"
	assert_line "Subscribed True True"
	assert_line "NodeMetrics True True"
	assert_line "VmMetrics True True"
	assert_line "types int list str"
}

@test "horcrux.msgpack: client messages as MessagePack or JSON text; malformed MessagePack is BAD_MESSAGE and the session goes on" {
	run $PY - "$SOCK" <<'PY'
import asyncio, json, sys
import msgpack
from websockets.client import unix_connect

async def next_control(ws):
    """The next frame that is not a metric or a Ping."""
    while True:
        b = await asyncio.wait_for(ws.recv(), 15)
        assert isinstance(b, bytes), "a text frame on horcrux.msgpack"
        f = msgpack.unpackb(b, raw=False)
        if f["type"] not in ("NodeMetrics", "VmMetrics", "Ping"):
            return f

async def main():
    async with unix_connect(sys.argv[1], "ws://localhost/api/ws",
                            subprotocols=["horcrux.msgpack"]) as ws:
        await next_control(ws)  # the welcome
        await ws.send(msgpack.packb({"topics": ["node:metrics", "nope"]}))
        f = await next_control(ws)
        print("subscribed", f["type"], f["data"]["topics"])
        f = await next_control(ws)
        print("refused", f["data"]["code"], f["data"]["topic"])
        for bad in (b"\xc1", b"\x81\x01\x02", b"\x91", b"\xc4\x01x",
                    msgpack.packb([1]), msgpack.packb({"topics": 1})):
            await ws.send(bad)
            f = await next_control(ws)
            print("bad", f["type"], f["data"]["code"], f["data"]["message"])
        await ws.send(msgpack.packb({"topics": ["vm:status"]}))
        f = await next_control(ws)
        print("still there", f["type"], f["data"]["topics"])
        await ws.send(json.dumps({"unsubscribe": ["vm:status"]}))
        f = await next_control(ws)
        print("text too", f["type"], f["data"]["topics"])

asyncio.run(main())
PY
	assert_success
	assert_line "subscribed Subscribed ['node:metrics']"
	assert_line "refused UNKNOWN_TOPIC nope"
	assert_line "bad Error BAD_MESSAGE bad MessagePack at byte 0: byte 0xc1 is not MessagePack"
	assert_line "bad Error BAD_MESSAGE bad MessagePack at byte 1: map key is not a string"
	assert_line "bad Error BAD_MESSAGE bad MessagePack at byte 0: array longer than the input"
	assert_line "bad Error BAD_MESSAGE bad MessagePack at byte 0: binary data is not accepted"
	# Decoded, then the same parser as JSON text: its own words.
	[ "$(grep -c '^bad Error BAD_MESSAGE' <<<"$output")" -eq 6 ]
	assert_line "still there Subscribed ['vm:status']"
	assert_line "text too Subscribed []"
}

@test "a JSON session's binary frame is still refused, and the session goes on" {
	run $PY - "$SOCK" <<'PY'
import asyncio, json, sys
import msgpack
from websockets.client import unix_connect

async def main():
    async with unix_connect(sys.argv[1], "ws://localhost/api/ws") as ws:
        json.loads(await ws.recv())
        await ws.send(msgpack.packb({"topics": ["vm:status"]}))
        f = json.loads(await asyncio.wait_for(ws.recv(), 15))
        print("binary", f["type"], f["data"]["code"], f["data"]["message"])
        await ws.send(json.dumps({"topics": ["vm:status"]}))
        f = json.loads(await asyncio.wait_for(ws.recv(), 15))
        print("then", f["type"], f["data"]["topics"])

asyncio.run(main())
PY
	assert_success
	assert_line "binary Error BAD_MESSAGE binary frames are not accepted"
	assert_line "then Subscribed ['vm:status']"
}

@test "horcrux-cli events on the Unix socket speaks MessagePack and prints what it prints over JSON" {
	local js=$BATS_TEST_TMPDIR/json.out mp=$BATS_TEST_TMPDIR/msgpack.out
	local last line ts n=0

	wait_clients 0
	HORCRUX_WIRE=json "$CLI" -o json events node:metrics >"$js" 2>&1 &
	BG_PIDS=$!
	wait_lines "$js" NodeMetrics 1
	assert_equal "$(metric horcrux_ws_sessions)" 1
	assert_equal "$(metric horcrux_ws_sessions_msgpack)" 0

	"$CLI" -o json events node:metrics >"$mp" 2>&1 &
	BG_PIDS="$BG_PIDS $!"
	wait_lines "$mp" NodeMetrics 3
	assert_equal "$(metric horcrux_ws_sessions)" 2
	assert_equal "$(metric horcrux_ws_sessions_msgpack)" 1
	kill -TERM "${BG_PIDS#* }"
	wait "${BG_PIDS#* }"
	BG_PIDS=${BG_PIDS%% *}

	# The JSON client has had every frame the other one printed (or a
	# newer one in its place, if it ever fell behind).
	last=$(grep '^{"type":"NodeMetrics"' "$mp" | tail -1 | jq -r .data.timestamp)
	for _ in $(seq 1 200); do
		[ "$(grep '^{"type":"NodeMetrics"' "$js" | tail -1 |
		    jq -r .data.timestamp)" \> "$last" ] && break
		sleep 0.05
	done
	# Frame for frame, the same bytes: same keys, order and digits.
	while IFS= read -r line; do
		ts=$(jq -r .data.timestamp <<<"$line")
		if grep -q "\"timestamp\":\"$ts\"" "$js"; then
			grep -qxF -- "$line" "$js" || fail "differs: $line"
			n=$((n + 1))
		fi
	done < <(grep '^{"type":"NodeMetrics"' "$mp")
	[ "$n" -ge 1 ] || fail "no frame in common"

	HORCRUX_WIRE=bson run -1 --separate-stderr "$CLI" events node:metrics
	[[ $stderr == "horcrux-cli: cannot stream events: invalid HORCRUX_WIRE 'bson': use json or msgpack"* ]] ||
		fail "stderr: $stderr"
}
