#!/usr/bin/python3
"""web-driver.py - bench/web's headless Chromium, driven over the DevTools
protocol (python3-websockets, Debian's): one dashboard at a time.

    web-driver.py --cdp PORT paint URL --ready EXPR [--loads N]
        [--signin USER:PASS]
    web-driver.py --cdp PORT bytes URL [--identity] [--extra PATH]...
    web-driver.py --cdp PORT frames URL --fragment FRAG [--seconds S]

Every command prints one JSON object on stdout and exits 0, or prints why
on stderr and exits 1. The browser's cache is off for every load (the
daemon sends its files with no-store anyway; netdata's would otherwise
come from the cache after the first load), so each load fetches what a
first visit fetches.

paint: loads URL (signing in on the page first when --signin is given,
once: the session cookie and the tab's sessionStorage carry over) N times
(default 20) with Page.reload, and times each load from navigation start
(performance.timeOrigin) to the first animation frame in which EXPR, a
JavaScript expression, is true (the frame that paints it: a requestAnimationFrame
loop, injected before the page's own scripts, checks EXPR at the start
of each frame). p50/p99 by nearest rank.

bytes: one load of URL, then the JS and CSS the page fetched (by the URL's
extension, .js/.mjs/.css, whatever fetched them), as Resource Timing saw
them: encodedBodySize (the body on the wire: gzip where the server sent
gzip), transferSize (plus headers) and decodedBodySize. --extra PATH
fetches PATH from the page too when the page did not (uPlot, before a page
module imports it; such a file is marked by_bench). --identity makes the browser accept no content
encoding (Accept-Encoding: identity through Network.setExtraHTTPHeaders;
this Chromium has no Network.setAcceptedEncodings), so the server must
send every file as it is.

frames: loads URL, shows FRAG (falling back to "#/" when no page answers
it: the router then shows the monitor view; an empty FRAG leaves the page
as it loaded), waits --settle seconds (default 4), records a Chromium trace for
S seconds (default 20; categories devtools.timeline and
disabled-by-default-devtools.timeline.frame) and reports, for the page's
renderer: each frame's main-thread work (from its BeginMainThreadFrame to
the end of the top-level main-thread tasks that run on from it, until the
next frame begins or the thread goes idle for over 0.5 ms), and every
top-level main-thread task's length; max,
p99 and the count over 16 ms of each. A task over 16 ms delays any frame
it overlaps.

It does not start or stop the browser: bench/web owns that process.
"""

import argparse
import asyncio
import json
import sys
import time
import urllib.request

import websockets

ANIM_WAIT_S = 60
# Main-thread tasks closer than this are one stretch of work (a frame's
# rendering is often split into several tasks a few microseconds apart).
GAP_US = 500


class Failure(Exception):
    pass


class Session:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.calls = {}
        self.listeners = {}
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
                for q in self.listeners.get(msg.get("method"), []):
                    q.put_nowait(msg.get("params", {}))
        except websockets.ConnectionClosed:
            pass
        for fut in self.calls.values():
            if not fut.done():
                fut.set_exception(Failure("the browser closed the session"))

    def listen(self, method):
        q = asyncio.Queue()
        self.listeners.setdefault(method, []).append(q)
        return q

    def unlisten(self, method, q):
        self.listeners[method].remove(q)

    async def call(self, method, **params):
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.calls[self.next_id] = fut
        await self.ws.send(json.dumps(
            {"id": self.next_id, "method": method, "params": params}))
        msg = await fut
        if "error" in msg:
            raise Failure("%s failed: %s" % (method, msg["error"]))
        return msg.get("result", {})

    async def evaluate(self, expr, timeout=ANIM_WAIT_S):
        res = await asyncio.wait_for(self.call(
            "Runtime.evaluate", expression=expr, returnByValue=True,
            awaitPromise=True), timeout)
        if "exceptionDetails" in res:
            ex = res["exceptionDetails"]
            raise Failure("'%s' threw: %s" % (expr[:80], ex.get(
                "exception", {}).get("description") or ex.get("text")))
        return res.get("result", {}).get("value")

    async def wait_for(self, expr, timeout=ANIM_WAIT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = await self.evaluate(expr)
            if v:
                return v
            await asyncio.sleep(0.05)
        raise Failure("timed out waiting for %s" % expr[:120])

    async def load(self, url=None):
        """Navigate to url (reload when None) and wait for its load event."""
        q = self.listen("Page.loadEventFired")
        try:
            if url is None:
                await self.call("Page.reload", ignoreCache=True)
            else:
                res = await self.call("Page.navigate", url=url)
                if res.get("errorText"):
                    raise Failure("cannot load %s: %s" %
                                  (url, res["errorText"]))
            await asyncio.wait_for(q.get(), ANIM_WAIT_S)
        finally:
            self.unlisten("Page.loadEventFired", q)


def page_ws_url(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port,
                                timeout=5) as r:
        for t in json.load(r):
            if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                return t["webSocketDebuggerUrl"]
    raise Failure("no page target on DevTools port %d" % port)


def pct(values, p):
    """Nearest rank: the smallest value with at least p% at or below it."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, -(-len(v) * p // 100) - 1)]


def r1(x):
    return None if x is None else round(x, 1)


# Before the page's scripts: a frame-by-frame check of the ready condition
# (window.__hxPaint resolves with performance.now() at the first frame in
# which it holds), and room for every resource timing entry.
PAINT_PROBE = """
performance.setResourceTimingBufferSize(100000);
window.__hxPaint = new Promise(function (resolve) {
	function ready() {
		try { return !!(%s); } catch (e) { return false; }
	}
	function tick() {
		if (ready()) resolve(performance.now());
		else requestAnimationFrame(tick);
	}
	requestAnimationFrame(tick);
});
"""


async def prepare(s, probe_expr=None):
    await s.call("Page.enable")
    await s.call("Network.enable")
    await s.call("Network.setCacheDisabled", cacheDisabled=True)
    # Headless, the page is never focused, and netdata's dashboard pauses
    # its updates in a window without focus: both pages get focus.
    await s.call("Emulation.setFocusEmulationEnabled", enabled=True)
    # No frame loop unless a paint is timed: it would make frames itself.
    await s.call("Page.addScriptToEvaluateOnNewDocument",
                 source=PAINT_PROBE % probe_expr if probe_expr else
                 "performance.setResourceTimingBufferSize(100000);")


async def sign_in(s, url, cred):
    user, _, password = cred.partition(":")
    await s.load(url)
    await s.wait_for("!document.getElementById('signin').hidden")
    await s.evaluate(
        "document.getElementById('su-user').value = %s;"
        "document.getElementById('su-pass').value = %s;"
        "document.getElementById('signin-form').requestSubmit(); true"
        % (json.dumps(user), json.dumps(password)))
    await s.wait_for("document.getElementById('conn').dataset.state"
                     " === 'connected'")


async def cmd_paint(s, a):
    await prepare(s, a.ready)
    if a.signin:
        await sign_in(s, a.url, a.signin)
    else:
        await s.load(a.url)
    ms = []
    for _ in range(a.loads):
        await s.load(None)
        ms.append(await s.evaluate("window.__hxPaint"))
    return {"loads": len(ms), "p50_ms": r1(pct(ms, 50)),
            "p99_ms": r1(pct(ms, 99)), "min_ms": r1(min(ms)),
            "max_ms": r1(max(ms))}


BYTES_JS = """
(async function () {
	var extra = %s, seen = {}, fetched = {}, i, out = [];
	var want = /\\.(m?js|css)$/;
	function path(u) { return new URL(u).pathname; }
	performance.getEntriesByType('resource').forEach(function (e) {
		seen[path(e.name)] = true;
	});
	for (i = 0; i < extra.length; i++) {
		var u = new URL(extra[i], location.href);
		if (!seen[u.pathname]) {
			fetched[u.pathname] = true;
			var r = await fetch(u.href, {cache: 'no-store'});
			await r.arrayBuffer();
			if (!r.ok) throw new Error(u.pathname + ': ' + r.status);
		}
	}
	performance.getEntriesByType('resource').forEach(function (e) {
		if (want.test(path(e.name)))
			out.push({path: path(e.name), transfer: e.transferSize,
			    encoded: e.encodedBodySize, decoded: e.decodedBodySize,
			    by_bench: !!fetched[path(e.name)]});
	});
	return out;
})()
"""


async def cmd_bytes(s, a):
    await prepare(s)
    if a.identity:
        await s.call("Network.setExtraHTTPHeaders",
                     headers={"Accept-Encoding": "identity"})
    await s.load(a.url)
    files = await s.evaluate(BYTES_JS % json.dumps(a.extra or []))
    if a.identity:
        await s.call("Network.setExtraHTTPHeaders", headers={})
    tot = {k: sum(f[k] for f in files)
           for k in ("transfer", "encoded", "decoded")}
    return {"files": len(files), "encoded_bytes": tot["encoded"],
            "transfer_bytes": tot["transfer"],
            "decoded_bytes": tot["decoded"],
            "largest": sorted(files, key=lambda f: -f["encoded"])[:5]}


async def show_fragment(s, frag):
    """Show frag; returns the fragment shown ("#/" when frag has no page)."""
    await s.evaluate("location.hash = %s; true" % json.dumps(frag))
    probe = ("(function () { var v = document.querySelector("
             "'[data-view]:not([hidden])');"
             " return v && v.childElementCount > 0 ? v.dataset.view : ''; })()")
    try:
        view = await s.wait_for(probe, 5)
    except Failure:
        view = ""
    if frag.strip("#/") != "" and view in ("", "monitor"):
        await s.evaluate("location.hash = '#/'; true")
        await s.wait_for(probe, 5)
        return "#/"
    return frag


async def trace(s, seconds):
    events = []
    data = s.listen("Tracing.dataCollected")
    done = s.listen("Tracing.tracingComplete")
    await s.call("Tracing.start", transferMode="ReportEvents",
                 traceConfig={"includedCategories": [
                     "devtools.timeline",
                     "disabled-by-default-devtools.timeline.frame",
                     "disabled-by-default-devtools.timeline"]})
    await asyncio.sleep(seconds)
    await s.call("Tracing.end")
    await asyncio.wait_for(done.get(), 60)
    while not data.empty():
        events.extend(data.get_nowait()["value"])
    return events


def analyse(events, pid):
    """Frame work and task lengths on pid's renderer main thread."""
    main = None
    for e in events:
        if (e.get("ph") == "M" and e.get("name") == "thread_name" and
                e.get("pid") == pid and
                e.get("args", {}).get("name") == "CrRendererMain"):
            main = e["tid"]
    if main is None:
        raise Failure("no CrRendererMain thread in the trace")
    tasks, begins = [], []
    for e in events:
        if e.get("pid") != pid or e.get("tid") != main:
            continue
        if e.get("ph") == "X" and e.get("name") in (
                "RunTask", "ThreadControllerImpl::RunTask") and "dur" in e:
            tasks.append((e["ts"], e["ts"] + e["dur"]))
        elif e.get("name") == "BeginMainThreadFrame":
            begins.append(e["ts"])
    # Top-level tasks only (a nested RunTask is inside its parent).
    tasks.sort()
    top = []
    for t in tasks:
        if top and t[0] < top[-1][1]:
            continue
        top.append(t)
    begins.sort()
    # A frame's main-thread work: from its BeginMainThreadFrame to the end
    # of the tasks that run on from it without the thread going idle
    # (a gap over GAP_US between tasks), or to the next frame's start,
    # whichever is first.
    work = []
    for i, b in enumerate(begins):
        nxt = begins[i + 1] if i + 1 < len(begins) else float("inf")
        end = b
        for t0, t1 in top:
            if t1 <= b:
                continue
            if t0 >= nxt or t0 > end + GAP_US:
                break
            end = min(max(end, t1), nxt)
        work.append((end - b) / 1000.0)
    lens = [(t1 - t0) / 1000.0 for t0, t1 in top]
    def stats(v):
        return {"count": len(v), "max_ms": r1(max(v) if v else None),
                "p99_ms": r1(pct(v, 99)), "p50_ms": r1(pct(v, 50)),
                "over_16ms": sum(1 for x in v if x > 16.0)}
    return {"frames": stats(work), "tasks": stats(lens)}


async def cmd_frames(s, a):
    await prepare(s)
    if a.signin:
        await sign_in(s, a.url, a.signin)
    else:
        await s.load(a.url)
    shown = await show_fragment(s, a.fragment) if a.fragment else ""

    # Let the page settle (a first render of a big table is not the
    # steady state the goal is about): two live updates.
    await asyncio.sleep(a.settle)
    events = await trace(s, a.seconds)
    # The renderer of this page: the pid of its TracingStartedInBrowser
    # frame, else the pid with a CrRendererMain thread doing frames.
    pids = {}
    for e in events:
        if e.get("name") == "BeginMainThreadFrame":
            pids[e["pid"]] = pids.get(e["pid"], 0) + 1
    if not pids:
        raise Failure("no main-thread frame in %g s of trace" % a.seconds)
    pid = max(pids, key=pids.get)
    if a.save:
        with open(a.save, "w", encoding="utf-8") as f:
            json.dump({"traceEvents": events}, f)
    out = {"fragment": a.fragment, "shown": shown, "seconds": a.seconds,
           "trace_events": len(events)}
    out.update(analyse(events, pid))
    return out


async def run(a):
    async with websockets.connect(page_ws_url(a.cdp), max_size=1 << 30,
                                  ping_interval=None) as ws:
        s = Session(ws)
        try:
            return await {"paint": cmd_paint, "bytes": cmd_bytes,
                          "frames": cmd_frames}[a.command](s, a)
        finally:
            s.reader.cancel()


def main():
    p = argparse.ArgumentParser(prog="web-driver.py")
    p.add_argument("--cdp", type=int, required=True)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("paint")
    c.add_argument("url")
    c.add_argument("--ready", required=True)
    c.add_argument("--loads", type=int, default=20)
    c.add_argument("--signin")
    c = sub.add_parser("bytes")
    c.add_argument("url")
    c.add_argument("--identity", action="store_true")
    c.add_argument("--extra", action="append")
    c = sub.add_parser("frames")
    c.add_argument("url")
    c.add_argument("--fragment", default="#/vms")
    c.add_argument("--seconds", type=float, default=20)
    c.add_argument("--settle", type=float, default=4)
    c.add_argument("--save", metavar="FILE",
                   help="also write the trace (chrome://tracing JSON)")
    c.add_argument("--signin")
    a = p.parse_args()
    try:
        out = asyncio.run(run(a))
    except (Failure, OSError, asyncio.TimeoutError,
            websockets.WebSocketException) as e:
        print("web-driver.py: %s: %s" % (a.command, str(e) or type(e).__name__),
              file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
