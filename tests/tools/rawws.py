#!/usr/bin/python3
"""rawws.py - a deliberately rude WebSocket client for protocol tests.

Speaks RFC 6455 by hand over a Unix socket or TCP so tests can do what
a well-behaved library refuses to: never answer pings (a silent peer),
flood messages without reading replies (a slow consumer), send one huge
message. Prints one JSON line per frame received:
  {"t": epoch_seconds, "op": "text"|"ping"|"pong"|"close", "data": ...,
   "code": close_code}
and ends when the server closes or the timeout passes.

usage: rawws.py ADDR MODE [ARG] [--timeout S] [--deflate]
  ADDR   unix:/path/sock or HOST:PORT
  MODE   silent            subscribe to node:metrics, then never reply
         flood N           send N malformed messages, reading nothing
                           for a second, then read everything
         big N             send one text message of N bytes
  --deflate                negotiate permessage-deflate (exit 6 if the
                           server does not) and compress what is sent
"""
import base64
import json
import os
import socket
import struct
import sys
import time
import zlib


def connect(addr, deflate=False):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
        host = "localhost"
    else:
        h, p = addr.rsplit(":", 1)
        s = socket.create_connection((h, int(p)))
        host = addr
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((
        "GET /api/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
        "Sec-WebSocket-Version: 13\r\n%s\r\n" % (host, key,
            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
            if deflate else "")).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("connection closed during handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = head.split(b"\r\n", 1)[0].decode()
    if " 101 " not in status + " ":
        print(json.dumps({"error": "upgrade", "status": status}))
        sys.exit(5)
    if deflate and b"permessage-deflate" not in head.lower():
        print(json.dumps({"error": "deflate not negotiated"}))
        sys.exit(6)
    return s, rest


def send_frame(s, payload, opcode=1, deflate=False):
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = 0x80 | opcode
    if deflate:
        # RFC 7692: raw deflate, the final empty block's tail removed.
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        payload = (c.compress(payload) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
        b0 |= 0x40
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    s.sendall(hdr + mask + body)


class Reader:
    def __init__(self, s, rest):
        self.s, self.buf = s, rest

    def need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.time()
            if left <= 0:
                return False
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise EOFError
            self.buf += chunk
        return True

    def frame(self, deadline):
        if not self.need(2, deadline):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            if not self.need(4, deadline):
                return None
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            if not self.need(10, deadline):
                return None
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        if not self.need(off + n, deadline):
            return None
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        if b0 & 0x40:
            # The server keeps its context between messages.
            if not hasattr(self, "inflater"):
                self.inflater = zlib.decompressobj(-15)
            payload = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
        return b0 & 0x0F, payload


OPS = {1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


def read_all(r, deadline):
    while True:
        try:
            f = r.frame(deadline)
        except EOFError:
            print(json.dumps({"t": time.time(), "op": "eof"}), flush=True)
            return
        if f is None:
            print(json.dumps({"t": time.time(), "op": "timeout"}),
                  flush=True)
            return
        op, payload = f
        line = {"t": time.time(), "op": OPS.get(op, str(op))}
        if op == 8:
            line["code"] = (struct.unpack("!H", payload[:2])[0]
                            if len(payload) >= 2 else None)
            line["reason"] = payload[2:].decode(errors="replace")
        elif op == 1:
            line["data"] = json.loads(payload)
        print(json.dumps(line), flush=True)
        if op == 8:
            return


def main():
    args = sys.argv[1:]
    timeout = 10.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    deflate = "--deflate" in args
    if deflate:
        args.remove("--deflate")
    addr, mode = args[0], args[1]
    s, rest = connect(addr, deflate)
    r = Reader(s, rest)
    deadline = time.time() + timeout
    if mode == "silent":
        send_frame(s, json.dumps({"topics": ["node:metrics"]}))
    elif mode == "flood":
        # Send from a thread and read nothing for a second: the server's
        # replies back up as for a stalled client; then read it all.
        import threading

        def flood():
            try:
                for _ in range(int(args[2])):
                    send_frame(s, "{bad")
            except OSError:
                pass
        threading.Thread(target=flood, daemon=True).start()
        time.sleep(1.0)
    elif mode == "big":
        n = int(args[2])
        body = '{"topics":["' + "x" * max(0, n - 15) + '"]}'
        send_frame(s, body[:n] if len(body) > n else body, deflate=deflate)
    else:
        raise SystemExit("unknown mode " + mode)
    read_all(r, deadline)


if __name__ == "__main__":
    main()
