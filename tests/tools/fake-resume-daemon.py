#!/usr/bin/python3
# tests/tools/fake-resume-daemon.py - a fake horcruxd WebSocket for
# horcrux-top's batch and resume (tests/0780): argv SOCKET OUT MODE
# (new: the welcome has boot_id; old: it has not). Each subscription
# message the client sends is appended to OUT, one per line. The
# first session gets a status event with seq 7, a NodeMetrics and a
# VmMetricsBatch, then is closed by the server; later sessions stay open.
import asyncio, json, sys
from websockets.server import unix_serve

path, out, mode = sys.argv[1:4]
TS = "2026-01-01T00:00:00.000Z"
sessions = 0


def frame(t, **data):
    data.setdefault("timestamp", TS)
    return json.dumps({"type": t, "data": data})


async def handler(ws, _path=None):
    global sessions
    sessions += 1
    first = sessions == 1
    hello = {"level": "info", "title": "Connected",
             "message": "WebSocket connection established for user t"}
    if mode == "new":
        hello["boot_id"] = "b1"
    await ws.send(frame("Notification", **hello))
    sub = await ws.recv()
    with open(out, "a") as f:
        f.write(sub + "\n")
    await ws.send(frame("Subscribed", topics=json.loads(sub)["topics"]))
    if first:
        await ws.send(frame("VmStatusChanged", vm_id="fake-1",
                            old_status="paused", new_status="running",
                            seq=7))
        await ws.send(frame("VmMetricsBatch", vms=[
            {"vm_id": "fake-1", "name": "fake-1", "cpu_usage": 42.5},
            {"vm_id": "fake-2", "name": "fake-2", "cpu_usage": 7.25}]))
        await ws.send(frame("NodeMetrics", hostname="fakehost",
                            cpu_usage=1.0))
        await ws.close()
        return
    await asyncio.Future()


async def main():
    async with unix_serve(handler, path):
        await asyncio.Future()

asyncio.run(main())
