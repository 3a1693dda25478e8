#!/usr/bin/python3
"""wsjson.py - an independent WebSocket client (python3-websockets).

Connects to horcruxd's /api/ws, sends the given messages after the
welcome and prints every frame received as one JSON line
(the frame as sent), until --count frames, a frame of --until type, a
frame whose data.seq reaches --until-seq, or --timeout seconds. With
--resume-welcome, "resume": {"boot_id", "after"} taken from the welcome
(its boot_id and seq) is added to the first message, so nothing that
happens after the welcome is missed.

usage: wsjson.py ADDR [--header 'Name: value'] [--send JSON]...
                 [--resume-welcome] [--count N] [--until TYPE]
                 [--until-seq N] [--timeout S]
  ADDR   unix:/path/to/sock or ws://HOST:PORT
exit: 0, or 3 when --count/--until/--until-seq was not reached in time.
"""
import argparse
import asyncio
import json
import sys

from websockets.client import connect, unix_connect


async def run(a):
    headers = []
    for h in a.header:
        k, v = h.split(":", 1)
        headers.append((k.strip(), v.strip()))
    if a.addr.startswith("unix:"):
        ctx = unix_connect(a.addr[5:], "ws://localhost/api/ws",
                           extra_headers=headers, max_size=None)
    else:
        ctx = connect(a.addr + "/api/ws", extra_headers=headers,
                      max_size=None)
    n = 0
    async with ctx as ws:
        welcome = await asyncio.wait_for(ws.recv(), a.timeout)
        print(welcome, flush=True)
        n += 1
        w = json.loads(welcome)["data"]
        for i, s in enumerate(a.send):
            m = json.loads(s)
            if i == 0 and a.resume_welcome:
                m["resume"] = {"boot_id": w["boot_id"], "after": w["seq"]}
            await ws.send(json.dumps(m))
        loop = asyncio.get_running_loop()
        end = loop.time() + a.timeout
        while True:
            left = end - loop.time()
            if left <= 0:
                return 0 if not (a.count or a.until or a.until_seq) else 3
            try:
                text = await asyncio.wait_for(ws.recv(), left)
            except asyncio.TimeoutError:
                continue
            print(text, flush=True)
            n += 1
            f = json.loads(text)
            if a.count and n >= a.count:
                return 0
            if a.until and f.get("type") == a.until:
                return 0
            seq = f.get("data", {}).get("seq")
            if a.until_seq and isinstance(seq, int) and seq >= a.until_seq:
                return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("addr")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--send", action="append", default=[])
    p.add_argument("--resume-welcome", action="store_true")
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--until")
    p.add_argument("--until-seq", type=int, default=0)
    p.add_argument("--timeout", type=float, default=10)
    sys.exit(asyncio.run(run(p.parse_args())))


if __name__ == "__main__":
    main()
