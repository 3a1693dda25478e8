#!/usr/bin/python3
"""login-burst.py - many logins at once, each from a chosen source address.

Usage: login-burst.py PORT < SPEC

SPEC has one request per line: SOURCE USERNAME PASSWORD [PATH [OLD_PASSWORD
TOKEN]]. SOURCE is a loopback address to bind (127.0.0.2, ...). With PATH
"/api/auth/login" (the default) it logs in; with a password path it sends
{"password", "old_password"} with the bearer TOKEN. Every request is
connected first, then all are sent together behind a barrier, so they reach
the daemon as one burst. One JSON line per reply is printed (and flushed)
as it arrives: index, source, status, retry_after, message. A request that
fails on the client side prints status 0. Each request waits at most 60 s.
"""
import http.client
import json
import sys
import threading


def main():
    port = int(sys.argv[1])
    specs = [line.split() for line in sys.stdin if line.strip()]
    barrier = threading.Barrier(len(specs))
    out_lock = threading.Lock()

    def one(i, spec):
        src, user, password = spec[0], spec[1], spec[2]
        path = spec[3] if len(spec) > 3 else "/api/auth/login"
        headers = {"Content-Type": "application/json"}
        if path == "/api/auth/login":
            body = {"username": user, "password": password}
        else:
            body = {"password": password, "old_password": spec[4]}
            headers["Authorization"] = "Bearer " + spec[5]
        res = {"i": i, "source": src, "user": user, "status": 0,
               "retry_after": None, "message": None}
        conn = None
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                              source_address=(src, 0))
            conn.connect()
        except OSError as e:
            res["message"] = "connect: %s" % e
            conn = None
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        if conn is not None:
            try:
                conn.request("POST", path, json.dumps(body), headers)
                r = conn.getresponse()
                data = r.read()
                res["status"] = r.status
                res["retry_after"] = r.getheader("Retry-After")
                try:
                    res["message"] = json.loads(data).get("message")
                except ValueError:
                    res["message"] = None
            except (OSError, http.client.HTTPException) as e:
                res["message"] = "request: %s" % e
            finally:
                conn.close()
        with out_lock:
            print(json.dumps(res), flush=True)

    threads = [threading.Thread(target=one, args=(i, s))
               for i, s in enumerate(specs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
