#!/usr/bin/python3
"""cdp.py - a small Chrome DevTools Protocol driver for the browser tests.

Each invocation attaches to the first page target of a Chromium started
with --remote-debugging-port, runs one command, prints its result on
stdout and detaches; the page keeps its state between invocations, so a
bats test is a sequence of `run cdp.py ...` lines, each asserted on.

    cdp.py [--port N] [--timeout S] [--viewport WxH] COMMAND ...

    ready                  wait until the DevTools endpoint answers
    navigate URL [--inject FILE]...
                           load URL and wait for its load event; probe.js
                           (and each FILE) runs in the new document first
    eval EXPR              evaluate EXPR (promises awaited), print the value
    wait EXPR              poll EXPR every 100 ms until it is truthy, print it
    screenshot FILE        write a PNG of the viewport to FILE
    type TEXT              insert TEXT into the focused element, as typing
    key KEY...             press and release each key (Enter, Tab,
                           Shift+Tab, Space, Escape) on the focused element
    call METHOD [JSON]     send one raw CDP command, print its result

--viewport sets the viewport for this invocation only (an emulation
override ends with the session); so do --color-scheme light|dark
(prefers-color-scheme, $HX_COLOR_SCHEME when not given),
--reduced-motion (prefers-reduced-motion: reduce) and --offline
(the network emulated offline: navigator.onLine false, the 'offline'
event, no connection succeeds; online again when the command ends). Strings print as they are, anything else
as JSON. Exit status: 0 done, 1 failed or timed out (reason on stderr),
2 usage. Needs Debian's python3-websockets; run it with /usr/bin/python3.

It does not start or stop the browser: the test owns that process.

    cdp.py serve PORTFILE  the same commands from a long-lived process,
                           so a call costs a message, not a Python start

serve listens on a free TCP port of 127.0.0.1 and writes "PORT TOKEN"
to PORTFILE (mode 0600) once it accepts. A request is NUL-terminated
fields: TOKEN, the caller's working directory (relative paths are taken
from it), its $HX_COLOR_SCHEME (may be empty), the argument count, then
the arguments exactly as on this command line. The answer is three
NUL-terminated fields: the exit status, stdout and stderr, each as the
one-shot command would have given them; then the driver closes the
connection. Each request opens its own DevTools session, so emulation
overrides still end with the request. SIGTERM ends the driver (status 0).
tests/helpers/browser.bash speaks this from bash (/dev/tcp).
"""

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import secrets
import signal
import sys
import time
import urllib.error
import urllib.request

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
POLL_S = 0.1


class Failure(Exception):
    """A command could not do what it was asked; the message says why."""


class Session:
    """One CDP connection: numbered calls, and futures for events."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.calls = {}
        self.waiters = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if "id" in msg:
                    fut = self.calls.pop(msg["id"], None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                    continue
                for method, fut in list(self.waiters):
                    if method == msg.get("method") and not fut.done():
                        fut.set_result(msg.get("params", {}))
        except websockets.ConnectionClosed:
            pass
        for fut in list(self.calls.values()):
            if not fut.done():
                fut.set_exception(Failure("the browser closed the session"))

    def expect(self, method):
        """A future for the next `method` event; register before causing it."""
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append((method, fut))
        return fut

    async def call(self, method, **params):
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.calls[self.next_id] = fut
        await self.ws.send(json.dumps(
            {"id": self.next_id, "method": method, "params": params}))
        msg = await fut
        if "error" in msg:
            raise Failure("%s failed: %s" % (method, msg["error"].get(
                "message", msg["error"])))
        return msg.get("result", {})

    async def evaluate(self, expr):
        res = await self.call("Runtime.evaluate", expression=expr,
                              returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            ex = res["exceptionDetails"]
            desc = ex.get("exception", {}).get("description") or ex.get(
                "text", "exception")
            raise Failure("'%s' threw: %s" % (expr, desc))
        value = res.get("result", {})
        return value.get("value") if "value" in value else None


def http_json(port, path):
    url = "http://127.0.0.1:%d%s" % (port, path)
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.load(r)


def page_ws_url(port):
    for t in http_json(port, "/json/list"):
        if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
            return t["webSocketDebuggerUrl"]
    raise Failure("no page target on DevTools port %d" % port)


def show(value):
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def cmd_ready(args):
    deadline = time.monotonic() + args.timeout
    last = None
    while time.monotonic() < deadline:
        try:
            info = http_json(args.port, "/json/version")
            page_ws_url(args.port)
            return info.get("Browser", "ready")
        except (OSError, ValueError, Failure) as e:
            last = e
        await asyncio.sleep(POLL_S)
    raise Failure("DevTools on port %d did not answer within %gs: %s" %
                  (args.port, args.timeout, last))


async def cmd_navigate(s, args):
    scripts = [os.path.join(HERE, "probe.js")] + (args.inject or [])
    await s.call("Page.enable")
    for path in scripts:
        with open(path, encoding="utf-8") as f:
            await s.call("Page.addScriptToEvaluateOnNewDocument",
                         source=f.read())
    loaded = s.expect("Page.loadEventFired")
    res = await s.call("Page.navigate", url=args.url)
    if res.get("errorText"):
        raise Failure("cannot load '%s': %s" % (args.url, res["errorText"]))
    await loaded
    return await s.evaluate("location.href")


async def cmd_eval(s, args):
    return await s.evaluate(args.expr)


async def cmd_wait(s, args):
    # The caller's --timeout bounds the whole run; poll until just before.
    while True:
        args.last = await s.evaluate(args.expr)
        if args.last:
            return args.last
        await asyncio.sleep(POLL_S)


async def cmd_screenshot(s, args):
    res = await s.call("Page.captureScreenshot", format="png")
    data = base64.b64decode(res["data"])
    with open(args.file, "wb") as f:
        f.write(data)
    return "%s %d bytes" % (args.file, len(data))


# name -> (key, code, windowsVirtualKeyCode, text)
KEYS = {
    "Enter": ("Enter", "Enter", 13, "\r"),
    "Tab": ("Tab", "Tab", 9, ""),
    "Space": (" ", "Space", 32, " "),
    "Escape": ("Escape", "Escape", 27, ""),
}
SHIFT = 8


async def cmd_type(s, args):
    await s.call("Input.insertText", text=args.text)
    return await s.evaluate("document.activeElement ? "
                            "document.activeElement.id : ''")


async def cmd_key(s, args):
    for name in args.keys:
        mods = 0
        if name.startswith("Shift+"):
            mods, name = SHIFT, name[len("Shift+"):]
        if name not in KEYS:
            raise Failure("unknown key '%s' (know: %s)" %
                          (name, ", ".join(sorted(KEYS))))
        key, code, vk, text = KEYS[name]
        down = dict(key=key, code=code, windowsVirtualKeyCode=vk,
                    nativeVirtualKeyCode=vk, modifiers=mods)
        if text:
            await s.call("Input.dispatchKeyEvent", type="keyDown",
                         text=text, unmodifiedText=text, **down)
        else:
            await s.call("Input.dispatchKeyEvent", type="rawKeyDown",
                         **down)
        await s.call("Input.dispatchKeyEvent", type="keyUp", **down)
    # The focused element afterwards, so a test can follow Tab.
    return await s.evaluate("document.activeElement ? "
                            "document.activeElement.id : ''")


async def cmd_call(s, args):
    try:
        params = json.loads(args.params) if args.params else {}
    except ValueError as e:
        raise Failure("params are not JSON: %s" % e)
    return await s.call(args.method, **params)


async def run(args):
    if args.command == "ready":
        return await cmd_ready(args)
    try:
        url = page_ws_url(args.port)
    except (OSError, ValueError) as e:
        raise Failure("cannot reach DevTools on port %d: %s" % (args.port, e))
    async with websockets.connect(url, max_size=64 << 20,
                                  ping_interval=None) as ws:
        s = Session(ws)
        media = []
        if args.color_scheme:
            media.append({"name": "prefers-color-scheme",
                          "value": args.color_scheme})
        if args.reduced_motion:
            media.append({"name": "prefers-reduced-motion",
                          "value": "reduce"})
        if media:
            await s.call("Emulation.setEmulatedMedia", features=media)
        if args.offline:
            await s.call("Network.enable")
            await s.call("Network.emulateNetworkConditions", offline=True,
                         latency=0, downloadThroughput=-1,
                         uploadThroughput=-1)
        if args.viewport:
            w, h = args.viewport
            await s.call("Emulation.setDeviceMetricsOverride", width=w,
                         height=h, deviceScaleFactor=1, mobile=False)
        if args.viewport or media:
            # Two frames: style, layout and paint have caught up.
            await s.evaluate("new Promise(r => requestAnimationFrame("
                             "() => requestAnimationFrame(r)))")
        handler = {"navigate": cmd_navigate, "eval": cmd_eval,
                   "wait": cmd_wait, "screenshot": cmd_screenshot,
                   "type": cmd_type, "key": cmd_key, "call": cmd_call}
        try:
            return await handler[args.command](s, args)
        finally:
            s.reader.cancel()


def viewport(text):
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("want WIDTHxHEIGHT, not '%s'" % text)
    return w, h


def parser(env):
    p = argparse.ArgumentParser(prog="cdp.py")
    p.add_argument("--port", type=int,
                   default=int(env.get("CDP_PORT", "9222")))
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--viewport", type=viewport)
    p.add_argument("--color-scheme", choices=("light", "dark"),
                   default=env.get("HX_COLOR_SCHEME") or None)
    p.add_argument("--reduced-motion", action="store_true")
    p.add_argument("--offline", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("ready")
    n = sub.add_parser("navigate")
    n.add_argument("url")
    n.add_argument("--inject", action="append", metavar="FILE")
    sub.add_parser("eval").add_argument("expr")
    sub.add_parser("wait").add_argument("expr")
    sub.add_parser("screenshot").add_argument("file")
    sub.add_parser("type").add_argument("text")
    sub.add_parser("key").add_argument("keys", nargs="+", metavar="KEY")
    c = sub.add_parser("call")
    c.add_argument("method")
    c.add_argument("params", nargs="?")
    sub.add_parser("serve").add_argument("portfile")
    return p


async def execute(args):
    """Run one command: (exit status, stdout text, stderr text)."""
    try:
        out = await asyncio.wait_for(run(args), args.timeout)
    except asyncio.TimeoutError:
        what = args.command
        if args.command == "wait":
            what = "wait for '%s' (last value: %s)" % (
                args.expr, show(getattr(args, "last", None)))
        return 1, "", "cdp.py: timed out after %gs: %s\n" % (
            args.timeout, what)
    except (Failure, OSError, websockets.WebSocketException) as e:
        return 1, "", "cdp.py: %s\n" % e
    return 0, show(out) + "\n", ""


async def serve_one(argv, cwd, scheme):
    """One request to the driver: parse and run it as the CLI would."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
            args = parser({"HX_COLOR_SCHEME": scheme}).parse_args(argv)
    except SystemExit as e:
        return (e.code if isinstance(e.code, int) else 2), "", err.getvalue()
    if args.command == "serve":
        return 2, "", "cdp.py: serve is not a request\n"
    # Relative paths are the caller's, not the driver's.
    if getattr(args, "file", None):
        args.file = os.path.join(cwd, args.file)
    if getattr(args, "inject", None):
        args.inject = [os.path.join(cwd, f) for f in args.inject]
    try:
        return await execute(args)
    except Exception as e:  # a bug here must not end the driver
        return 1, "", "cdp.py: %s: %s\n" % (type(e).__name__, e)


async def serve(portfile):
    """The per-file driver: requests over TCP on 127.0.0.1 (see above)."""
    token = secrets.token_hex(16)

    async def handle(reader, writer):
        async def field():
            return (await reader.readuntil(b"\0"))[:-1].decode()
        try:
            if await field() != token:
                return
            cwd, scheme, argc = await field(), await field(), await field()
            argv = [await field() for _ in range(int(argc))]
            rc, out, err = await serve_one(argv, cwd, scheme)
            writer.write(b"%d\0%s\0%s\0" % (rc, out.encode(), err.encode()))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0,
                                        limit=64 << 20)
    port = server.sockets[0].getsockname()[1]
    tmp = portfile + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("%d %s\n" % (port, token))
    os.rename(tmp, portfile)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop
    return 0


def main():
    args = parser(os.environ).parse_args()
    if args.command == "serve":
        return asyncio.run(serve(args.portfile))
    rc, out, err = asyncio.run(execute(args))
    sys.stderr.write(err)
    sys.stdout.write(out)
    return rc


if __name__ == "__main__":
    sys.exit(main())
