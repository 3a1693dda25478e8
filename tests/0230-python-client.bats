#!/usr/bin/env bats
# An independent client: Debian's python3-websockets (not libwebsockets)
# over the Unix socket, checking the same frames as our own client sees.

load helpers/common

teardown() {
	stop_daemon
}

@test "python3-websockets over the Unix socket: welcome, Subscribed, errors, NodeMetrics, deflate" {
	start_daemon --node-interval 0.3
	wait_sample
	run $PY - "$SOCK" <<'PY'
import asyncio, json, sys
from websockets.client import unix_connect

async def main():
    async with unix_connect(sys.argv[1], "ws://localhost/api/ws") as ws:
        print("extensions", [type(e).__name__ for e in ws.extensions])
        hello = json.loads(await ws.recv())
        print("hello", hello["type"], hello["data"]["message"])
        await ws.send(json.dumps({"topics": ["node:metrics", "nope"]}))
        seen = []
        while len([t for t in seen if t == "NodeMetrics"]) < 3:
            m = json.loads(await asyncio.wait_for(ws.recv(), 5))
            seen.append(m["type"])
            if m["type"] == "Subscribed":
                print("subscribed", m["data"]["topics"])
            elif m["type"] == "Error":
                print("error", m["data"]["code"], m["data"]["topic"])
            elif m["type"] == "NodeMetrics":
                d = m["data"]
                print("node", d["hostname"], d["memory_total_bytes"],
                      len(d["cpu_per_core"]) == d["cpu_cores"])
        print("order", seen[:3])
        await ws.send("{oops")
        m = json.loads(await ws.recv())
        while m["type"] == "NodeMetrics":
            m = json.loads(await ws.recv())
        print("bad", m["type"], m["data"]["code"])

asyncio.run(main())
PY
	assert_success
	memtotal=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024 ))
	assert_line "extensions ['PerMessageDeflate']"
	assert_line "hello Notification WebSocket connection established for user root@local"
	assert_line "subscribed ['node:metrics']"
	assert_line "error UNKNOWN_TOPIC nope"
	assert_line "node $(hostname) $memtotal True"
	assert_line "order ['Subscribed', 'Error', 'NodeMetrics']"
	assert_line "bad Error BAD_MESSAGE"
}

@test "python3-websockets over TCP without credentials is refused with 401" {
	start_daemon
	run $PY - "$PORT" <<'PY'
import asyncio, sys
import websockets
from websockets.exceptions import InvalidStatusCode

async def main():
    try:
        async with websockets.connect("ws://127.0.0.1:%s/api/ws" % sys.argv[1]):
            print("connected")
    except InvalidStatusCode as e:
        print("status", e.status_code)

asyncio.run(main())
PY
	assert_success
	assert_output "status 401"
}
