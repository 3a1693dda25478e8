#!/usr/bin/env python3
"""Check a Prometheus text exposition against what DESIGN §10 says it holds.

Usage: prom-expect.py EXPECT.json EXPOSITION

EXPECT.json: {"protocol": <GET /api/protocol>, "node": <GET
/api/nodes/local> or null (no node series expected), "self": true|false
(the horcrux_ws_* series expected or not), "vms": [{"id", "uuid", "state",
"metrics": <the VM's VmMetrics data> or null}]} - exactly the VMs the
caller may see.

The exposition is parsed here (label values unescaped), independently of
the daemon's code, and the expected series are worked out from the REST
answers with the naming rules written in DESIGN §10 and horcruxd(8):
percent -> _ratio / 100, bytes/s -> _bytes_per_second, bytes and seconds
as base units, cumulative -> _total, per-CPU label cpu, per-mount label
mount, load1/5/15, null -> no series, horcrux_vm_state with one series per
state. Prints each difference; exit 0 when there is none, 1 otherwise.
"""
import json
import math
import re
import sys

STATES = ["unknown", "running", "paused", "shutdown", "stopped", "crashed",
          "suspended"]
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')


def parse_labels(s):
    labels, i = {}, 0
    while i < len(s):
        m = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="', s[i:])
        if not m:
            raise ValueError("bad labels: %r" % s)
        name, i, val = m.group(1), i + m.end(), []
        while s[i] != '"':
            if s[i] == '\\':
                val.append({'\\': '\\', '"': '"', 'n': '\n'}[s[i + 1]])
                i += 2
            else:
                val.append(s[i])
                i += 1
        labels[name] = ''.join(val)
        i += 1
        if i < len(s):
            if s[i] != ',':
                raise ValueError("bad labels: %r" % s)
            i += 1
    return labels


def parse(text):
    got, types, errors = {}, {}, []
    for line in text.split('\n'):
        if not line:
            continue
        if line.startswith('# TYPE '):
            _, _, name, typ = line.split(' ', 3)
            if name in types:
                errors.append("family declared twice: " + name)
            types[name] = typ
            continue
        if line.startswith('#'):
            continue
        m = LINE.match(line)
        if not m:
            errors.append("unparsable line: %r" % line)
            continue
        labels = parse_labels(m.group(3) or '')
        key = (m.group(1), tuple(sorted(labels.items())))
        if key in got:
            errors.append("series twice: %r" % (key,))
        got[key] = float(m.group(4))
    return got, types, errors


def name_of(prefix, field, name=None):
    base, unit = name or field["name"], field.get("unit") or ""
    if unit == "percent":
        return prefix + base + "_ratio", 100.0
    if unit == "bytes/s":
        return prefix + re.sub(r'_bps$', '', base) + "_bytes_per_second", 1.0
    total = "_total" if field.get("doc") == "cumulative" else ""
    if unit in ("bytes", "seconds"):
        suffix = "" if base.endswith("_" + unit) else "_" + unit
        return prefix + base + suffix + total, 1.0
    return prefix + base + total, 1.0


def expect_fields(exp, fields, data, prefix, labels):
    for f in fields:
        if f.get("fields") is not None and isinstance(data.get(f["name"]),
                                                      list):
            key = f["fields"][0]["name"]
            for el in data[f["name"]]:
                for sf in f["fields"][1:]:
                    if sf.get("series"):
                        n, div = name_of(prefix + key + "_", sf)
                        v = el.get(sf["name"])
                        exp[(n, tuple(sorted(dict(labels, **{
                            key: el[key]}).items())))] = (
                            None if v is None else v / div)
            continue
        if not f.get("series"):
            continue
        v = data.get(f["name"])
        if f["name"] == "load_average":
            for i, n in enumerate(["load1", "load5", "load15"]):
                exp[("horcrux_node_" + n, ())] = v[i] if v else None
        elif f["name"] == "cpu_per_core":
            n, div = name_of(prefix, f)
            for i, x in enumerate(v or []):
                exp[(n, (("cpu", str(i)),))] = None if x is None else x / div
        else:
            n, div = name_of(prefix, f)
            exp[(n, tuple(sorted(labels.items())))] = (
                None if v is None else v / div)


def main():
    with open(sys.argv[1]) as f:
        want = json.load(f)
    with open(sys.argv[2], encoding='utf-8') as f:
        got, types, errors = parse(f.read())
    events = {e["type"]: e for e in want["protocol"]["events"]}
    exp = {}
    if want["node"] is not None:
        expect_fields(exp, events["NodeMetrics"]["fields"], want["node"],
                      "horcrux_node_", {})
    seen_vms = set()
    for vm in want["vms"]:
        labels = {"vm": vm["id"], "vm_uuid": vm["uuid"]}
        seen_vms.add(vm["id"])
        if vm.get("metrics") is not None:
            expect_fields(exp, events["VmMetrics"]["fields"], vm["metrics"],
                          "horcrux_vm_", labels)
        for s in STATES:
            exp[("horcrux_vm_state", tuple(sorted(dict(
                labels, state=s).items())))] = (
                1.0 if vm["state"] == s else 0.0)
    for key, v in sorted(exp.items(), key=lambda kv: repr(kv[0])):
        if v is None:
            if key in got:
                errors.append("a null value has a series: %r" % (key,))
        elif key not in got:
            errors.append("missing: %r = %r" % (key, v))
        elif not math.isclose(got[key], v, rel_tol=1e-12, abs_tol=1e-12):
            errors.append("%r: got %r, want %r" % (key, got[key], v))
    for key in got:
        name, labels = key[0], dict(key[1])
        if "vm" in labels and labels["vm"] not in seen_vms:
            errors.append("a VM the caller may not see: %r" % (key,))
        if name.startswith("horcrux_ws_") != (name.startswith("horcrux_ws_")
                                              and want["self"]):
            errors.append("self-metric not expected: %r" % (key,))
        if name.startswith("horcrux_node_") and key not in exp:
            errors.append("unexpected node series: %r" % (key,))
        if (name.startswith("horcrux_vm_") and key not in exp and not
                name.startswith(("horcrux_vm_block_",
                                 "horcrux_vm_interface_"))):
            errors.append("unexpected VM series: %r" % (key,))
    if want["self"]:
        for n in ["horcrux_ws_sessions", "horcrux_ws_frames_sent_total",
                  "horcrux_ws_frames_coalesced_total",
                  "horcrux_ws_sessions_closed_slow_total"]:
            if (n, ()) not in got:
                errors.append("missing: " + n)
    for name, typ in types.items():
        if name.endswith("_total") != (typ == "counter"):
            errors.append("%s is a %s" % (name, typ))
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
