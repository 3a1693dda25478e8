#!/usr/bin/python3
"""free-port.py [N] - print N (default 1) TCP ports on 127.0.0.1 that nobody
listens on and no other test of any run on this machine was given within
the last hour.

Two test files run at once (tests/run), so "bind port 0, print it, close"
is not enough: the kernel may hand the same port to the other file, or use
it as the local port of an outgoing connection before our server binds it.
So the ports come from below the kernel's ephemeral range (never a local
port of an outgoing connection) and each is claimed with an atomic mkdir
in a directory shared by every run of this user; a claim older than an
hour is stale (its test is over) and may be taken again.
"""
import os
import random
import socket
import sys
import time

STALE = 3600


def ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def claim(d, port):
    path = os.path.join(d, str(port))
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        pass
    try:
        if time.time() - os.stat(path).st_mtime < STALE:
            return False
        # Only one of several takers can rename the stale claim away;
        # the mkdir after it is atomic again.
        old = "%s.stale.%d" % (path, os.getpid())
        os.rename(path, old)
        os.rmdir(old)
        os.mkdir(path)
        return True
    except OSError:
        return False


def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    d = os.environ.get("HX_PORT_CLAIMS") or "/tmp/hx-port-claims-%d" % os.getuid()
    os.makedirs(d, mode=0o700, exist_ok=True)
    hi = min(ephemeral_low(), 65536) - 1
    lo = 20000 if hi > 25000 else 1024
    ports = []
    for _ in range(20000):
        p = random.randint(lo, hi)
        if p in ports or not claim(d, p):
            continue
        if free(p):
            ports.append(p)
            if len(ports) == n:
                print(*ports)
                return 0
    print("free-port.py: no free port between %d and %d" % (lo, hi),
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
