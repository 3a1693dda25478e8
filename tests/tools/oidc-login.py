#!/usr/bin/python3
"""oidc-login.py - sign in at the test OpenID provider without a browser.

  oidc-login.py --ca ROOT.pem --user NAME START_URL [--callback]

START_URL is the daemon's /api/auth/oidc/start (or any URL that redirects
to the provider's authorization endpoint). The script follows redirects
with a cookie jar as a browser would, fills the provider's sign-in form
(tests/tools/oidc-provider.mjs's developer interactions: login and any
password) and stops at the first redirect that leaves the provider: the
daemon's callback URL with code and state, which it prints. With
--callback it also requests that URL from the daemon and prints the
status, then each Set-Cookie header, then the body, one per line.

bench/oidc imports it (to_callback, request_plain). Standard library
only. Exit 1 with a one-line message if the flow does
not reach the callback.
"""
import argparse
import html.parser
import http.cookiejar
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action")
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""


class Stuck(Exception):
    pass


def to_callback(start, ca, user):
    """Follow START through the provider's sign-in as USER; return the
    callback URL the provider sends the browser back to (not requested).
    Raises Stuck with a one-line reason."""
    ctx = ssl.create_default_context(cafile=ca)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        NoRedirect, urllib.request.HTTPSHandler(context=ctx),
        urllib.request.HTTPCookieProcessor(jar))

    def fetch(url, data=None):
        req = urllib.request.Request(url, data=data)
        try:
            r = opener.open(req, timeout=10)
            return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode(errors="replace")

    url, data = start, None
    provider = None
    for _ in range(20):
        status, headers, body = fetch(url, data)
        data = None
        if status in (301, 302, 303, 307):
            nxt = urllib.parse.urljoin(url, headers["Location"])
            host = urllib.parse.urlsplit(nxt).netloc
            if provider is None:
                provider = host
            elif host != provider:
                return nxt
            url = nxt
            continue
        if status == 200 and "<form" in body:
            f = FormParser()
            f.feed(body)
            if "login" not in f.fields:
                raise Stuck("the provider's page has no sign-in form")
            f.fields["login"] = user
            f.fields["password"] = "any"
            url = urllib.parse.urljoin(url, f.action)
            data = urllib.parse.urlencode(f.fields).encode()
            continue
        raise Stuck("stuck at %s with status %d: %s" %
                    (url, status, " ".join(body.split())[:200]))
    raise Stuck("too many redirects")


def request_plain(url):
    """GET url without following redirects: (status, headers, body)."""
    plain = urllib.request.build_opener(NoRedirect)
    try:
        r = plain.open(url, timeout=30)
        return r.status, r.headers, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--callback", action="store_true")
    ap.add_argument("start")
    o = ap.parse_args()
    try:
        cb = to_callback(o.start, o.ca, o.user)
    except (Stuck, OSError) as e:
        print("oidc-login: %s" % e, file=sys.stderr)
        return 1
    print(cb)
    if o.callback:
        status, headers, body = request_plain(cb)
        print(status)
        for c in headers.get_all("Set-Cookie") or []:
            print("Set-Cookie: " + c)
        print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
