#!/usr/bin/python3
"""smtp-receiver.py PORT PLAIN_PORT PORT_FILE LOG_FILE CERT KEY USER PASSWORD -
a real SMTP server for the notification tests (0270): Debian's aiosmtpd
on 127.0.0.1:PORT that requires STARTTLS (with the test's certificate)
before anything else and AUTH (USER and PASSWORD, PLAIN or LOGIN) before
it takes mail; and on PLAIN_PORT the same without TLS at all, which a
client that insists on TLS must refuse. Each message accepted is one
JSON line in LOG_FILE: the envelope's sender and recipients, the user
who logged in, whether TLS was on, the message text. PORT_FILE is
written once both accept connections.
"""
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

PORT, PLAIN_PORT, PORT_FILE, LOG_FILE, CERT, KEY, USER, PASSWORD = \
    sys.argv[1:9]
lock = threading.Lock()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login.decode() == USER and
          auth_data.password.decode() == PASSWORD)
    # handled=False: aiosmtpd answers the failure (535) itself.
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        rec = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": (session.auth_data.login.decode()
                      if session.authenticated else None),
            "tls": session.ssl is not None,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        with lock, open(LOG_FILE, "a") as f:
            f.write(json.dumps(rec) + "\n")
        return "250 OK"


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(CERT, KEY)
c = Controller(Handler(), hostname="127.0.0.1", port=int(PORT),
               tls_context=ctx, require_starttls=True,
               authenticator=authenticator, auth_required=True,
               auth_require_tls=True)
c.start()
plain = Controller(Handler(), hostname="127.0.0.1", port=int(PLAIN_PORT),
                   authenticator=authenticator, auth_require_tls=False)
plain.start()
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(PORT)
os.rename(PORT_FILE + ".tmp", PORT_FILE)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
done.wait()
plain.stop()
c.stop()
