"""bench/wire's client side (python3-websockets, python3-msgpack).

    wire-client.py SOCKET FRAMES_OUT TICKS

1. Capture: one JSON session on node:metrics and vm:metrics keeps TICKS
   NodeMetrics and every VmMetrics of the same ticks, as the daemon wrote
   them, in FRAMES_OUT ("LABEL<TAB>text" lines for wire-bench), and a few
   of the daemon's VmMetricsBatch frames from a session asking for
   "batch": true; from a daemon without batches, a stand-in per VM tick
   instead: the tick's VmMetrics data in one
   {"type":"VmMetricsBatch","data":{"vms":[...]}} (VmMetricsBatch-standin).
2. Wire: four sessions (JSON, JSON + permessage-deflate, MessagePack,
   MessagePack + permessage-deflate), each through a relay on its own Unix
   socket that parses the server's WebSocket frames and records each
   message's size on the wire (header, extension and payload); the client
   names each message's type, in the same order. TICKS NodeMetrics each.
3. Python decode cost: json.loads against msgpack.unpackb on the captured
   frames.
The last line of output is JSON.
"""

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time

import msgpack
from websockets.client import unix_connect

SOCK, OUT, TICKS = sys.argv[1], sys.argv[2], int(sys.argv[3])
SUB = {"topics": ["node:metrics", "vm:metrics"]}


async def capture():
    node, vms = [], {}
    async with unix_connect(SOCK, "ws://localhost/api/ws",
                            compression=None, max_size=None) as ws:
        await ws.recv()
        await ws.send(json.dumps(SUB))
        while len(node) < TICKS + 1:
            text = await asyncio.wait_for(ws.recv(), 60)
            f = json.loads(text)
            if f["type"] == "NodeMetrics":
                node.append(text)
            elif f["type"] == "VmMetrics":
                vms.setdefault(f["data"]["timestamp"], []).append(text)
    # The daemon's own VmMetricsBatch, where it has them (issue 16).
    batches = []
    async with unix_connect(SOCK, "ws://localhost/api/ws",
                            compression=None, max_size=None) as ws:
        await ws.recv()
        await ws.send(json.dumps({"topics": ["vm:metrics"], "batch": True}))
        while len(batches) < min(TICKS, 5) + 1:
            text = await asyncio.wait_for(ws.recv(), 60)
            f = json.loads(text)
            if f["type"] == "VmMetricsBatch":
                batches.append(text)
            elif f["type"] in ("VmMetrics", "Error"):
                break  # a daemon without batches
    # The first VM tick may be the snapshot's, cut by the subscription.
    ticks = [t for t in sorted(vms)][1:] or sorted(vms)
    with open(OUT, "w") as f:
        for t in node[1:]:
            f.write("NodeMetrics\t" + t + "\n")
        for ts in ticks:
            for t in vms[ts]:
                f.write("VmMetrics\t" + t + "\n")
        for t in batches[1:]:
            f.write("VmMetricsBatch\t" + t + "\n")
        for ts in ticks if not batches[1:] else []:
            data = [json.loads(t)["data"] for t in vms[ts]]
            batch = {"type": "VmMetricsBatch",
                     "data": {"vms": data, "timestamp": ts}}
            f.write("VmMetricsBatch-standin\t" +
                    json.dumps(batch, separators=(",", ":"),
                               ensure_ascii=False) + "\n")
    return node[1:], ticks, vms, batches


class Relay:
    """Copies a client's bytes to the daemon; sizes the server's messages."""

    def __init__(self, path):
        self.path = path
        self.sizes = []
        self.ext = None

    async def serve(self):
        self.server = await asyncio.start_unix_server(self.conn, self.path)

    async def conn(self, cr, cw):
        ur, uw = await asyncio.open_unix_connection(SOCK)

        async def up():
            while (b := await cr.read(65536)):
                uw.write(b)
                await uw.drain()
            uw.close()

        async def down():
            buf, head, cur = b"", None, 0
            while (b := await ur.read(65536)):
                cw.write(b)
                await cw.drain()
                buf += b
                if head is None:
                    i = buf.find(b"\r\n\r\n")
                    if i < 0:
                        continue
                    head = buf[:i].decode("latin-1")
                    for line in head.split("\r\n"):
                        n, _, v = line.partition(":")
                        if n.strip().lower() == "sec-websocket-extensions":
                            self.ext = v.strip()
                    buf = buf[i + 4:]
                while len(buf) >= 2:
                    fin, op, ln = buf[0] & 0x80, buf[0] & 0x0F, buf[1] & 0x7F
                    hl = 2
                    if ln == 126:
                        if len(buf) < 4:
                            break
                        ln, hl = int.from_bytes(buf[2:4], "big"), 4
                    elif ln == 127:
                        if len(buf) < 10:
                            break
                        ln, hl = int.from_bytes(buf[2:10], "big"), 10
                    if len(buf) < hl + ln:
                        break
                    if op < 8:
                        cur += hl + ln
                        if fin:
                            self.sizes.append(cur)
                            cur = 0
                    buf = buf[hl + ln:]
            cw.close()

        await asyncio.gather(up(), down(), return_exceptions=True)


async def wire(mode, tmp):
    relay = Relay(os.path.join(tmp, mode + ".sock"))
    await relay.serve()
    kw = {"max_size": None}
    if "deflate" not in mode:
        kw["compression"] = None
    if mode.startswith("msgpack"):
        kw["subprotocols"] = ["horcrux.msgpack"]
    types = []
    async with unix_connect(relay.path, "ws://localhost/api/ws", **kw) as ws:
        dec = ((lambda b: msgpack.unpackb(b, raw=False))
               if mode.startswith("msgpack") else json.loads)
        types.append(dec(await ws.recv())["type"])
        await ws.send(json.dumps(SUB))
        while types.count("NodeMetrics") < TICKS + 1:
            types.append(dec(await asyncio.wait_for(ws.recv(), 60))["type"])
    relay.server.close()
    # The relay has seen at least every message the client read.
    sizes = relay.sizes[:len(types)]
    per = {}
    for t, n in zip(types, sizes):
        per.setdefault(t, []).append(n)
    return {"extensions": relay.ext,
            "bytes_per_frame": {t: round(statistics.mean(v), 1)
                                for t, v in per.items()
                                if t in ("NodeMetrics", "VmMetrics")},
            "frames": {t: len(v) for t, v in per.items()}}


def py_decode(texts):
    bins = [msgpack.packb(json.loads(t)) for t in texts]
    reps = max(1, 2000 // len(texts))
    t0 = time.process_time()
    for _ in range(reps):
        for t in texts:
            json.loads(t)
    tj = (time.process_time() - t0) / reps / len(texts)
    t0 = time.process_time()
    for _ in range(reps):
        for b in bins:
            msgpack.unpackb(b, raw=False)
    tm = (time.process_time() - t0) / reps / len(texts)
    return {"json_us": round(tj * 1e6, 2), "msgpack_us": round(tm * 1e6, 2)}


async def main():
    node, ticks, vms, batches = await capture()
    out = {"bench": "wire-bytes", "ticks": TICKS,
           "vms_per_tick": len(vms[ticks[0]]) if ticks else 0, "modes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("json", "json+deflate", "msgpack", "msgpack+deflate"):
            out["modes"][mode] = await wire(mode, tmp)
    vm_texts = [t for ts in ticks for t in vms[ts]]
    label = "VmMetricsBatch" if batches[1:] else "VmMetricsBatch-standin"
    batch = [line.split("\t", 1)[1] for line in open(OUT)
             if line.startswith(label + "\t")]
    out["python_decode"] = {"NodeMetrics": py_decode(node),
                            "VmMetrics": py_decode(vm_texts),
                            label: py_decode(batch)}
    for mode, r in out["modes"].items():
        print("  %-16s NodeMetrics %7.1f B/frame   VmMetrics %6.1f B/frame"
              "   (%s)" % (mode, r["bytes_per_frame"].get("NodeMetrics", 0),
                           r["bytes_per_frame"].get("VmMetrics", 0),
                           r["extensions"] or "no extension"))
    for t, r in out["python_decode"].items():
        print("  python decode %-24s json.loads %6.1f us  msgpack.unpackb "
              "%6.1f us" % (t, r["json_us"], r["msgpack_us"]))
    print(json.dumps(out))


asyncio.run(main())
