#!/usr/bin/python3
"""hold-conns.py - open many connections to the daemon and hold them.

For the per-user, per-address and descriptor limits: opens N
connections one after another and keeps every one that stays open until
it is killed (SIGTERM) or its --hold time passes.

usage: hold-conns.py MODE ADDR N [--source IP] [--header 'Name: value']
                     [--expect-open K] [--wait S] [--hold S]
  ADDR   unix:/path/sock or HOST:PORT
  MODE   ws    send a WebSocket upgrade on each; print one line per
               connection: the answer's status ("101", "429", "503") and,
               for a refusal, the JSON error code
         tcp   send nothing; after opening all N, wait (at most --wait
               seconds, default 10) until exactly --expect-open of them
               are still open, then print "open X closed Y"
  --source IP  bind the client side to IP (127.0.0.2 is another address)

After its report it prints "holding" and keeps the open connections.
"""
import base64
import json
import os
import select
import signal
import socket
import sys
import time


def connect(addr, source):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
        return s, "localhost"
    h, p = addr.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source:
        s.bind((source, 0))
    s.connect((h, int(p)))
    return s, addr


def recv_some(s, timeout):
    """Up to 4 KiB from s within timeout seconds; b"" on its end, a reset
    or the timeout."""
    s.settimeout(timeout)
    try:
        return s.recv(4096)
    except (socket.timeout, ConnectionResetError):
        return b""


def upgrade(s, host, headers):
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET /api/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\n" % (host, key))
    for h in headers:
        req += h + "\r\n"
    s.sendall((req + "\r\n").encode())
    buf, deadline = b"", time.time() + 10
    while b"\r\n\r\n" not in buf and time.time() < deadline:
        chunk = recv_some(s, max(0.01, deadline - time.time()))
        if not chunk:
            break
        buf += chunk
    if b"\r\n\r\n" not in buf:
        return "none", None
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
    code = None
    if status != "101":
        # The refusal's JSON body, whole (it carries a Content-Length).
        while True:
            try:
                code = json.loads(rest)["error"]
                break
            except ValueError:
                pass
            chunk = recv_some(s, 2)
            if not chunk:
                break
            rest += chunk
    return status, code


def is_closed(s):
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(4096, socket.MSG_PEEK) == b""
    except OSError:
        return True


def main():
    args = sys.argv[1:]
    opts = {"--source": None, "--expect-open": None, "--wait": "10",
            "--hold": "600"}
    headers = []
    i = 0
    while i < len(args):
        if args[i] == "--header":
            headers.append(args[i + 1])
            del args[i:i + 2]
        elif args[i] in opts:
            opts[args[i]] = args[i + 1]
            del args[i:i + 2]
        else:
            i += 1
    mode, addr, n = args[0], args[1], int(args[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    socks = []
    for _ in range(n):
        try:
            s, host = connect(addr, opts["--source"])
        except OSError as e:
            print("connect-error %s" % e.strerror, flush=True)
            continue
        socks.append(s)
        if mode == "ws":
            status, code = upgrade(s, host, headers)
            print(status if code is None else "%s %s" % (status, code),
                  flush=True)
    if mode == "tcp":
        want = int(opts["--expect-open"]) if opts["--expect-open"] else None
        deadline = time.time() + float(opts["--wait"])
        while True:
            closed = sum(1 for s in socks if is_closed(s))
            if (want is not None and len(socks) - closed == want) or \
                    time.time() >= deadline:
                break
            time.sleep(0.05)
        print("open %d closed %d" % (len(socks) - closed, closed),
              flush=True)
    print("holding", flush=True)
    time.sleep(float(opts["--hold"]))


if __name__ == "__main__":
    main()
