#!/usr/bin/python3
"""history-client.py - bench/history's HTTP side (standard library only).

  history-client.py export URL KEY FROM_MS TO_MS OUT.om
      Every raw sample horcruxd holds between FROM_MS and TO_MS (both
      included), read through GET /api/metrics/history in JSON with the
      API key KEY, written as OpenMetrics for `promtool tsdb
      create-blocks-from openmetrics`: one family `hx`, the series name in
      label `s`, exact values (JSON null as NaN), ms timestamps, each
      series' points together. Windows of 900 s with step=auto, which
      serves the raw tier as it is for ranges of at most 2,000 node
      intervals; names in batches that keep each reply under the API's
      50,000 points and each series parameter under the 512 bytes the
      daemon reads of one query argument. Prints one JSON line: series, samples, requests.

  history-client.py query HX_URL KEY PROM_URL END_MS N VMS UUIDS
      The three queries of the issue, N times each (after 5 untimed),
      against horcruxd's REST API (API key) and Prometheus'
      /api/v1/query_range, on one keep-alive connection each: 1 h of
      node:cpu_usage at 1 s (the raw tier), 24 h at 1 min of the 100 VM
      cpu_usage series (for horcruxd as many requests as the API's caps
      require, timed together), 30 days at 1 h of the first VM's. VMS and UUIDS
      are comma lists, the same VMs by name (horcruxd) and by UUID (what
      history-gen stored and gave Prometheus). Prints a table and one
      JSON line.

Times are from sending the request to the last byte of the body (the
JSON is parsed afterwards, untimed, and checked). Exit 1 on any answer
but 200 or a reply that does not hold the expected series.
"""

import http.client
import json
import sys
import time
import urllib.parse

WINDOW_MS = 900 * 1000
GRID_MAX = 50000  # the API's most points per reply
PARAM_MAX = 480  # horcruxd reads a query fragment of at most 511 bytes


def conn_for(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


RECONNECTS = [0]


def get(conn, path, headers):
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError):
        # The server ended the keep-alive connection: say so, reconnect.
        RECONNECTS[0] += 1
        conn.close()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("history-client: GET %s answered %d: %s"
                 % (path[:200], r.status, body[:300]))
    return body


def rfc3339(ms):
    s, m = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + \
        ".%03dZ" % m


def hx_path(series, from_ms, to_ms, step):
    return "/api/metrics/history?" + urllib.parse.urlencode({
        "series": ",".join(series), "from": rfc3339(from_ms),
        "to": rfc3339(to_ms), "step": step})


def pack(names, points):
    """names in batches of series a request can carry: at most 50,000
    points in all (each series gives points), and a series parameter that
    fits, URL-encoded, in the 512 bytes horcruxd reads of one query
    argument."""
    batches, cur, size = [], [], 0
    for n in names:
        q = len(urllib.parse.quote(n, safe="")) + 3
        if cur and ((len(cur) + 1) * points > GRID_MAX or
                    size + q > PARAM_MAX):
            batches.append(cur)
            cur, size = [], 0
        cur.append(n)
        size += q
    if cur:
        batches.append(cur)
    return batches


def export(url, key, from_ms, to_ms, out):
    c = conn_for(url)
    h = {"X-API-Key": key}
    names = [s["name"] for s in
             json.loads(get(c, "/api/metrics/series", h))["series"]]
    windows = []
    t = from_ms
    while t <= to_ms:
        windows.append((t, min(t + WINDOW_MS - 1, to_ms)))
        t += WINDOW_MS
    batches = pack(names, WINDOW_MS // 1000 + 1)
    samples = requests = 0
    with open(out, "w") as f:
        f.write("# TYPE hx gauge\n")
        for batch in batches:
            pts = {n: [] for n in batch}
            for a, b in windows:
                r = json.loads(get(c, hx_path(batch, a, b, "auto"), h))
                requests += 1
                for s in r["series"]:
                    if "min" in s:
                        sys.exit("history-client: %s came from an "
                                 "aggregated tier" % s["name"])
                    pts[s["name"]].extend(s["points"])
            for n in batch:
                for tm, v in pts[n]:
                    f.write('hx{s="%s"} %s %d.%03d\n'
                            % (n, "NaN" if v is None else repr(float(v)),
                               tm // 1000, tm % 1000))
                samples += len(pts[n])
        f.write("# EOF\n")
    print(json.dumps({"series": len(names), "samples": samples,
                      "requests": requests}))


def pct(ts):
    ts = sorted(ts)
    return ts[len(ts) // 2], ts[min(len(ts) - 1, len(ts) * 99 // 100)]


def timed(conn, paths, headers, n, check):
    """n rounds of the requests in paths (one round is one query); the
    first five rounds are untimed and their answers checked."""
    out = []
    for k in range(n + 5):
        t0 = time.perf_counter()
        bodies = [get(conn, p, headers) for p in paths]
        dt = (time.perf_counter() - t0) * 1e3
        if k < 5:
            check(bodies)
        else:
            out.append(dt)
    return out


def query(hx_url, key, prom_url, end_ms, n, vms, uuids):
    hx = conn_for(hx_url)
    pr = conn_for(prom_url)
    hh = {"X-API-Key": key}
    end_s = end_ms / 1000
    if len(vms) != len(uuids):
        sys.exit("history-client: VMS and UUIDS differ in length")

    def hx_check(want_series, want_points):
        def check(bodies):
            got = [s for b in bodies for s in json.loads(b)["series"]]
            pts = min(len(s["points"]) for s in got) if got else 0
            if len(got) != want_series or pts < want_points:
                sys.exit("history-client: horcruxd gave %d series, the "
                         "shortest %d points; expected %d of >= %d"
                         % (len(got), pts, want_series, want_points))
        return check

    def prom_check(want_series, want_points):
        def check(bodies):
            r = json.loads(bodies[0])["data"]["result"]
            pts = min(len(s["values"]) for s in r) if r else 0
            if len(r) != want_series or pts < want_points:
                sys.exit("history-client: Prometheus gave %d series, the "
                         "shortest %d points; expected %d of >= %d"
                         % (len(r), pts, want_series, want_points))
        return check

    def prom_path(q, span_s, step):
        return "/api/v1/query_range?" + urllib.parse.urlencode({
            "query": q, "start": "%.3f" % (end_s - span_s),
            "end": "%.3f" % end_s, "step": step})

    # Expected points: a little under one per step, since the recording
    # has the gaps of ticks the collector skipped on a busy machine.
    vm_names = ["vm:%s:cpu_usage" % v for v in vms]
    # The API answers at most 50,000 points, 100 series x 1,441 minutes
    # are 144,100, and a long series list does not fit in one query
    # argument: one query is as few requests as carry them all.
    q2 = [hx_path(b, end_ms - 86400000, end_ms, "60")
          for b in pack(vm_names, 1441)]
    cases = [
        ("1 h raw, 1 series (1 s)",
         [hx_path(["node:cpu_usage"], end_ms - 3600000, end_ms, "1")],
         hx_check(1, 3000),
         prom_path('hx{s="node:cpu_usage"}', 3600, "1"),
         prom_check(1, 3000)),
        ("24 h at 1 min, %d series" % len(vms), q2,
         hx_check(len(vms), 1300),
         prom_path('hx{s=~"vm:.*:cpu_usage"}', 86400, "60"),
         prom_check(len(vms), 1300)),
        ("30 days at 1 h, 1 series",
         [hx_path([vm_names[0]], end_ms - 30 * 86400000, end_ms, "3600")],
         hx_check(1, 650),
         prom_path('hx{s="vm:%s:cpu_usage"}' % uuids[0], 30 * 86400,
                   "3600"),
         prom_check(1, 650)),
    ]
    res = []
    print("%-28s %9s %9s %11s %11s %8s" % ("query", "hx p50", "hx p99",
                                          "prom p50", "prom p99",
                                          "p99 ratio"))
    for name, paths, hc, pp, pc in cases:
        a = timed(hx, paths, hh, n, hc)
        b = timed(pr, [pp], {}, n, pc)
        a50, a99 = pct(a)
        b50, b99 = pct(b)
        print("%-28s %9.2f %9.2f %11.2f %11.2f %8.3f"
              % (name, a50, a99, b50, b99, a99 / b99))
        res.append({"query": name, "requests": len(paths),
                    "horcruxd_ms": {"p50": round(a50, 3),
                                    "p99": round(a99, 3)},
                    "prometheus_ms": {"p50": round(b50, 3),
                                      "p99": round(b99, 3)},
                    "p50_ratio": round(a50 / b50, 3),
                    "p99_ratio": round(a99 / b99, 3)})
    if RECONNECTS[0]:
        print("note: %d request(s) found the connection closed by the "
              "server and were sent again on a new one" % RECONNECTS[0])
    print(json.dumps({"queries": n, "results": res,
                      "reconnects": RECONNECTS[0]}))


def main(argv):
    if len(argv) == 7 and argv[1] == "export":
        export(argv[2], argv[3], int(argv[4]), int(argv[5]), argv[6])
    elif len(argv) == 9 and argv[1] == "query":
        query(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]),
              argv[7].split(","), argv[8].split(","))
    else:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
