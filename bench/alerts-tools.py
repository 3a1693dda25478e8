#!/usr/bin/python3
"""alerts-tools.py MODE ... - the three processes of bench/alerts' latency
part. Each records arrival times with time.time(), the wall clock the
daemon stamps its samples with (same host, same clock).

  sub SOCK OUT          a python3-websockets subscriber on horcruxd's Unix
                        socket (path /api/ws; trusted as root) to the
                        alerts and node:metrics topics. Every frame is one
                        JSON line in OUT, written as it arrives:
                        {"t": arrival, "type": ..., "data": ...}. It runs
                        until killed.
  hook PORT_FILE OUT SECRET
                        a webhook receiver (http.server) on 127.0.0.1, on
                        a port of its choosing written to PORT_FILE once it
                        listens. Every POST is one JSON line in OUT:
                        {"t": arrival (body read), "event":
                        X-Horcrux-Event, "sig_ok": HMAC checked, "body":
                        ...}; it answers 204. Runs until killed.
  drive SOCK SUB_OUT N RULE_A RULE_B TARGET
                        the episodes: rules RULE_A and RULE_B (both on
                        node:memory_usage, op >=, for_seconds 0, notify
                        TARGET) take turns: PUT one's threshold to 0 (its
                        condition holds on the next sample evaluated) and
                        the other's to 101 (it resolves on that sample),
                        then wait until SUB_OUT holds the AlertTriggered of
                        the one made to hold, and swap. N episodes, about
                        one per node sample. Prints one JSON line:
                        {"episodes": N, "timeouts": K}.
  report SUB_OUT HOOK_OUT RULE_A RULE_B
                        the latencies of those rules' AlertTriggered:
                        arrival - data.timestamp at the subscriber and at
                        the webhook receiver (matched by alert_id), p50,
                        p99, max in ms, and how many of the events' times
                        are a NodeMetrics frame's data.timestamp (the
                        sample's own). One JSON line.

Standard library only, except python3-websockets for sub (Debian's, a test
dependency already; run with /usr/bin/python3).
"""
import asyncio
import hashlib
import hmac
import http.client
import json
import os
import socket
import sys
import time


def sub(sock, out):
    import websockets

    async def run():
        async with websockets.unix_connect(sock, "ws://localhost/api/ws",
                                           max_size=1 << 24,
                                           compression=None) as ws:
            await ws.send(json.dumps({"topics": ["alerts", "node:metrics"]}))
            with open(out, "a") as f:
                async for msg in ws:
                    t = time.time()
                    try:
                        fr = json.loads(msg)
                    except ValueError:
                        continue
                    f.write(json.dumps({"t": t, "type": fr.get("type"),
                                        "data": fr.get("data")}) + "\n")
                    f.flush()

    asyncio.run(run())


def hook(port_file, out, secret):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    key = secret.encode()
    f = open(out, "a")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            t = time.time()
            want = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
            got = self.headers.get("X-Horcrux-Signature", "")
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            f.write(json.dumps({"t": t,
                                "event": self.headers.get("X-Horcrux-Event"),
                                "sig_ok": hmac.compare_digest(want, got),
                                "body": parsed}) + "\n")
            f.flush()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(port_file + ".tmp", "w") as p:
        p.write(str(srv.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.path)
        self.sock = s


def drive(sock, sub_out, n, rule_a, rule_b, target):
    conn = UnixHTTP(sock)

    def put(name, threshold):
        body = json.dumps({"series": "node:memory_usage", "op": ">=",
                           "threshold": threshold, "for_seconds": 0,
                           "severity": "info", "notify": [target]})
        for attempt in (1, 2):
            try:
                conn.request("PUT", "/api/alerts/rules/" + name, body,
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                break
            except (http.client.HTTPException, OSError):
                # The daemon closed an idle keep-alive connection.
                conn.close()
                if attempt == 2:
                    raise
        if r.status != 200:
            sys.exit("PUT %s answered %d" % (name, r.status))

    f = open(sub_out)
    buf = ""
    timeouts = 0
    rules = (rule_a, rule_b)
    for i in range(n):
        on, off = rules[i % 2], rules[(i + 1) % 2]
        put(off, 101)
        put(on, 0)
        deadline = time.monotonic() + 15
        seen = False
        while not seen and time.monotonic() < deadline:
            chunk = f.read()
            if not chunk:
                time.sleep(0.01)
                continue
            buf += chunk
            lines = buf.split("\n")
            buf = lines.pop()
            for line in lines:
                fr = json.loads(line)
                if (fr["type"] == "AlertTriggered" and
                        fr["data"].get("rule_name") == on):
                    seen = True
        if not seen:
            timeouts += 1
    put(rule_a, 101)
    put(rule_b, 101)
    print(json.dumps({"episodes": n, "timeouts": timeouts}))


def ts_of(s):
    """RFC 3339 UTC (2026-12-05T01:34:26.174Z) as seconds since the epoch."""
    from datetime import datetime, timezone
    d = datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=timezone.utc).timestamp()


def pcts(v):
    """p50, p99 (nearest rank) and max of v in ms, 1 decimal; None: empty."""
    if not v:
        return None
    v = sorted(v)

    def rank(p):
        k = max(0, min(len(v) - 1, -(-len(v) * p // 100) - 1))
        return round(v[int(k)] * 1000, 1)
    return {"p50": rank(50), "p99": rank(99), "max": round(v[-1] * 1000, 1),
            "min": round(v[0] * 1000, 1), "n": len(v)}


def report(sub_out, hook_out, rule_a, rule_b):
    names = (rule_a, rule_b)
    trig = {}
    node_ts = set()
    for line in open(sub_out):
        fr = json.loads(line)
        if fr["type"] == "NodeMetrics":
            node_ts.add(fr["data"]["timestamp"])
        elif (fr["type"] == "AlertTriggered" and
                fr["data"].get("rule_name") in names):
            trig[fr["data"]["alert_id"]] = (fr["data"]["timestamp"], fr["t"])
    ws = [t - ts_of(s) for s, t in trig.values()]
    matched = sum(1 for s, _ in trig.values() if s in node_ts)
    hook = []
    bad_sig = 0
    for line in open(hook_out):
        r = json.loads(line)
        b = r.get("body") or {}
        if r["event"] != "AlertTriggered" or b.get("alert_id") not in trig:
            continue
        if not r["sig_ok"]:
            bad_sig += 1
        hook.append(r["t"] - ts_of(trig[b["alert_id"]][0]))
    print(json.dumps({"episodes": len(trig), "ts_is_node_sample": matched,
                      "ws_ms": pcts(ws), "webhook_ms": pcts(hook),
                      "webhook_bad_signatures": bad_sig}))


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "sub":
        sub(a[1], a[2])
    elif len(a) == 4 and a[0] == "hook":
        hook(a[1], a[2], a[3])
    elif len(a) == 5 and a[0] == "report":
        report(a[1], a[2], a[3], a[4])
    elif len(a) == 7 and a[0] == "drive":
        drive(a[1], a[2], int(a[3]), a[4], a[5], a[6])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
