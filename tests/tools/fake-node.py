#!/usr/bin/python3
"""fake-node.py SOCKET CORES - a stand-in horcruxd for horcrux-top's
rendering tests of hosts this machine is not: it speaks the DESIGN §3
protocol on a Unix socket and sends one NodeMetrics whose CPU figures are
chosen so every level shows (core i at (i * 7) % 101 percent). It is a
test fixture: nothing it sends reaches a user. Other HTTP requests get 404.
"""
import asyncio, json, sys, datetime
from websockets.server import unix_serve

sock, cores = sys.argv[1], int(sys.argv[2])

def ts():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

def node():
    per = [float((i * 7) % 101) for i in range(cores)]
    return {"hostname": "bighost", "cpu_usage": 92.5, "memory_usage": 80.0,
            "cpu_user": 60.0, "cpu_system": 27.5, "cpu_iowait": 5.0, "cpu_steal": 5.0,
            "disk_usage": 60.0, "load_average": [64.0, 32.5, 16.25],
            "cpu_cores": cores, "cpu_per_core": per,
            "memory_total_bytes": 1 << 40, "memory_used_bytes": 880 << 30,
            "memory_available_bytes": 144 << 30, "swap_usage": 55.0,
            "swap_total_bytes": 8 << 30, "swap_used_bytes": 4505 << 20,
            "disks": [{"mount": "/", "usage": 60.0, "total_bytes": 1 << 40,
                       "used_bytes": 600 << 30}],
            "disk_read_bps": 1048576, "disk_write_bps": 2097152,
            "network_rx_bps": 125000000, "network_tx_bps": 62500000,
            "uptime_seconds": 90061, "timestamp": ts()}

async def handler(ws):
    await ws.send(json.dumps({"type": "Notification", "data": {"level": "info",
        "title": "Connected", "message": "WebSocket connection established for user fake", "timestamp": ts()}}))
    async for msg in ws:
        topics = json.loads(msg).get("topics", [])
        await ws.send(json.dumps({"type": "Subscribed", "data": {"topics": topics, "timestamp": ts()}}))
        await ws.send(json.dumps({"type": "NodeMetrics", "data": node()}))

async def not_ws(path, headers):
    if "Upgrade" not in headers:
        return (404, [("Content-Type", "application/json")], b'{"error":"NOT_FOUND","message":"fake"}')
    return None

async def main():
    async with unix_serve(handler, sock, process_request=not_ws):
        await asyncio.Future()

asyncio.run(main())
