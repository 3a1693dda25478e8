#!/usr/bin/python3
"""webhook-receiver.py PORT_FILE LOG_FILE SECRET - a webhook receiver for
the notification tests (0270), started once per file.

It listens on 127.0.0.1 on a port of its own choosing, written to
PORT_FILE once it accepts connections. Every request is one JSON line in
LOG_FILE, written when it arrives: path, whether X-Horcrux-Signature is
the HMAC-SHA256 of the body under SECRET, the X-Horcrux-Event and
Content-Type headers, the body. What it answers depends on the path:

  /ok       204
  /alert    204 (the alert rule test's own path)
  /fail500  500 (the daemon retries)
  /gone     410 (a permanent failure: no retry)
  /hang     nothing, for 60 s or until the client gives up
"""
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT_FILE, LOG_FILE, SECRET = sys.argv[1], sys.argv[2], sys.argv[3].encode()
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        want = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Horcrux-Signature", "")
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        rec = {
            "path": self.path,
            "sig_ok": hmac.compare_digest(want, got),
            "event": self.headers.get("X-Horcrux-Event"),
            "content_type": self.headers.get("Content-Type"),
            "body": parsed,
            "time": time.time(),
        }
        with lock, open(LOG_FILE, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if self.path == "/hang":
            # The receiver is what hangs; the daemon's timeout ends it.
            self.connection.settimeout(60)
            try:
                self.rfile.read(1)
            except OSError:
                pass
            return
        code = {"/ok": 204, "/alert": 204, "/fail500": 500, "/gone": 410}.get(self.path, 404)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os

os.rename(PORT_FILE + ".tmp", PORT_FILE)
srv.serve_forever()
