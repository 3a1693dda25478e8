#!/usr/bin/python3
"""dropproxy.py - a Unix-socket proxy that drops its connections on demand.

Sits between a client and horcruxd's Unix socket so a test can end the
client's connection from the daemon's side of it, as a network or a
restarting peer would: SIGUSR1 closes every connection open through it
(both halves, no WebSocket close frame) and counts it. Each new
connection is forwarded to the target. Prints "ready" once listening,
"open" for every connection forwarded, "dropped N" for every SIGUSR1
(N connections closed) and "accepting" for every SIGUSR2 on stdout, so the test waits on those lines,
never on a sleep.

usage: dropproxy.py LISTEN_PATH TARGET_PATH
"""
import os
import selectors
import signal
import socket
import sys


def main():
    listen_path, target = sys.argv[1], sys.argv[2]
    try:
        os.unlink(listen_path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(listen_path)
    srv.listen(16)
    srv.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ, None)
    peers = {}  # socket -> its other end
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    signal.signal(signal.SIGUSR1, lambda *_: None)
    signal.signal(signal.SIGUSR2, lambda *_: None)
    refusing = False
    sel.register(rfd, selectors.EVENT_READ, "signal")
    print("ready", flush=True)

    def close_pair(s):
        o = peers.pop(s, None)
        for x in (s, o):
            if x is None:
                continue
            peers.pop(x, None)
            try:
                sel.unregister(x)
            except (KeyError, ValueError):
                pass
            x.close()

    while True:
        for key, _ in sel.select():
            if key.data == "signal":
                sigs = os.read(rfd, 64)
                if bytes([signal.SIGUSR2]) in sigs:
                    refusing = False
                    print("accepting", flush=True)
                if bytes([signal.SIGUSR1]) in sigs:
                    refusing = True
                    n = len(peers) // 2
                    for s in list(peers):
                        if s in peers:
                            close_pair(s)
                    print("dropped %d" % n, flush=True)
                continue
            s = key.fileobj
            if s is srv:
                c, _ = srv.accept()
                if refusing:
                    c.close()
                    continue
                t = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    t.connect(target)
                except OSError:
                    c.close()
                    continue
                peers[c], peers[t] = t, c
                print("open", flush=True)
                sel.register(c, selectors.EVENT_READ, "peer")
                sel.register(t, selectors.EVENT_READ, "peer")
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                close_pair(s)
                continue
            try:
                peers[s].sendall(data)
            except (OSError, KeyError):
                close_pair(s)


if __name__ == "__main__":
    main()
