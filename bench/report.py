#!/usr/bin/env python3
"""Turns bench/run.sh's raw results into the Markdown section of BENCHMARKS.md.

usage: report.py RESULTS.tsv RUNS SCALE (BENCHMARKS.md | -)
Set EXTRA_MD=FILE to append that Markdown to the section (notes, before/after tables).

Rows: run, scenario, server, tool, req/s, MiB/s, max latency ms, server cores, RSS idle KiB,
RSS after KiB, failed. Medians are taken over the runs where the server used at least 0.95
core (the clean runs); when no run of a cell is clean, over all runs, marked with `*`.
"""
import datetime
import os
import re
import statistics
import subprocess
import sys

HEADING = "## Server throughput (h2load)"
SERVERS = ["nghttpd", "h2proto", "hyper"]
SCENARIOS = {
    "S1": "-c 10 -m 100 /",
    "S2": "-c 1 -m 100 /",
    "S3": "-c 200 -m 10 /",
    "S4": "-c 4 -m 4 /1m",
    "S6": "-c 10 -m 100 https://…/",
}
N = {"S1": 200000, "S2": 100000, "S3": 100000, "S4": 2000, "S6": 200000}
LABEL = {"S6": "S6 (S1 over TLS)"}


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def main():
    path, runs, scale, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    h2 = [r for r in rows if r[3] == "h2load"]
    cells = {}
    for r in h2:
        cells.setdefault((r[1], r[2]), []).append(r)

    def pick(sc, server):
        rs = cells.get((sc, server), [])
        clean = [r for r in rs if (num(r[7]) or 0) >= 0.95]
        return (clean, False) if clean else (rs, True)

    def med(rs, col):
        vals = [num(r[col]) for r in rs if num(r[col]) is not None]
        return statistics.median(vals) if vals else None

    def cpu_us(rs):
        """Median server CPU time per request (µs): robust when the client is the bottleneck."""
        vals = [num(r[7]) / num(r[4]) * 1e6 for r in rs if num(r[7]) and num(r[4])]
        return statistics.median(vals) if vals else None

    def fmt(v, digits=0):
        if v is None:
            return "-"
        return f"{v:,.{digits}f}"

    lines = [HEADING, ""]
    cpu = ""
    try:
        cpu = subprocess.run(
            ["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
            capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    versions = ""
    try:
        versions = subprocess.run(["sh", "-c", "nghttpd --version 2>&1 | head -1"],
                                  capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    lines += [
        f"Measured {datetime.date.today()} with `bash bench/run.sh` (RUNS={runs}, SCALE={scale}) on "
        f"{cpu or 'this machine'}, 2 shared cores: each server on one core (`nghttpd -n 1 --no-tls`, "
        "`h2proto serve DIR --h2c --threads 1`, `bench/hyper-anchor`: hyper 1.x on a current-thread "
        f"runtime, h2c prior knowledge), `h2load -t 1` on the other core ({versions}). "
        "S6 is S1 over TLS (h2 by ALPN) against a self-signed P-256 certificate generated per "
        "harness run: `nghttpd -n 1 KEY CERT`, `h2proto serve DIR --threads 1 --cert --key` "
        "(rustls, ring), `hyper-anchor --tls CERT KEY` (tokio-rustls, ring). "
        "Each cell is the median of the rounds, servers interleaved and started fresh for every "
        "measurement, after a warm-up of a tenth of the requests. Server CPU is utime+stime from "
        "`/proc/PID/stat` over the h2load run; a run where the server used under 0.95 core was "
        "limited by the client or the machine, and is left out of the median when a clean run "
        "exists (`*`: no clean run, median of all). Server CPU per request (median over all runs "
        "of cores / req/s) is the figure that does not depend on which side was the bottleneck.",
        "",
        "| scenario | h2load | nghttpd req/s | h2proto req/s | hyper req/s | h2proto / nghttpd | "
        "h2proto / hyper | h2proto MiB/s | server cores (ng / h2p / hy) | server CPU µs/request "
        "(ng / h2p / hy) | runs kept (ng / h2p / hy) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for sc, shape in SCENARIOS.items():
        n = max(N[sc] // scale, 1)
        rps, cores, kept, mib, us = {}, [], [], None, []
        for s in SERVERS:
            rs, dirty = pick(sc, s)
            v = med(rs, 4)
            rps[s] = (v, dirty)
            cores.append(fmt(med(rs, 7), 2))
            per = cpu_us(cells.get((sc, s), []))
            us.append(fmt(per, 0 if per and per >= 100 else 2))
            total = len(cells.get((sc, s), []))
            kept.append(f"{0 if dirty else len(rs)}/{total}")
            if s == "h2proto":
                mib = med(rs, 5)

        def cell(s):
            v, dirty = rps[s]
            return fmt(v) + ("*" if dirty and v is not None else "")

        def ratio(a, b):
            va, vb = rps[a][0], rps[b][0]
            return f"{va / vb:.2f}x" if va and vb else "-"

        lines.append(
            f"| {LABEL.get(sc, sc)} | `-n {n} {shape}` | {cell('nghttpd')} | **{cell('h2proto')}** | {cell('hyper')} | "
            f"{ratio('h2proto', 'nghttpd')} | {ratio('h2proto', 'hyper')} | {fmt(mib, 1)} | "
            f"{' / '.join(cores)} | {' / '.join(us)} | {' / '.join(kept)} |")

    lines += ["", "| server | RSS idle (KiB) | RSS after S3 (KiB) | S1 max latency (ms) |",
              "|---|---|---|---|"]
    for s in SERVERS:
        idle = med(cells.get(("S1", s), []), 8)
        after = med(cells.get(("S3", s), []), 9)
        lat = med(pick("S1", s)[0], 6)
        lines.append(f"| {s} | {fmt(idle)} | {fmt(after)} | {fmt(lat, 1)} |")

    own = [r for r in rows if r[3] == "h2proto-load"]
    if own:
        lines += ["", "Load generators on S1 against the same warm server (`h2proto load` runs right "
                  "after h2load, same flags; medians of all rounds):", "",
                  "| server | h2load req/s | `h2proto load` req/s | h2proto load / h2load |",
                  "|---|---|---|---|"]
        for s in SERVERS:
            mine = [r for r in own if r[2] == s]
            if not mine:
                continue
            a = med(cells.get(("S1", s), []), 4)
            b = med(mine, 4)
            r = f"{b / a:.2f}x" if a and b else "-"
            lines.append(f"| {s} | {fmt(a)} | {fmt(b)} | {r} |")
    failed = [r for r in h2 if r[10] not in ("0", "")]
    if failed:
        lines += ["", "Runs with failed requests: " + ", ".join(
            f"{r[1]} {r[2]} run {r[0]} ({r[10]})" for r in failed)]
    extra = os.environ.get("EXTRA_MD")
    if extra and os.path.exists(extra):
        lines += ["", open(extra).read().rstrip("\n")]
    section = "\n".join(lines) + "\n"
    print(section)
    if out == "-":
        return
    text = open(out).read()
    m = re.search(r"^" + re.escape(HEADING) + r"\s*$", text, re.M)
    if m:
        nxt = re.search(r"^## ", text[m.end():], re.M)
        end = m.end() + nxt.start() if nxt else len(text)
        text = text[:m.start()] + section + ("\n" if nxt else "") + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    open(out, "w").write(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
