#!/usr/bin/env python3
"""Memory and scale benchmark: h2proto serve vs nghttpd vs the hyper anchor (issue 7).

    python3 bench/scale.py                       # all servers, full sizes, prints a Markdown table
    EXTRA_MD=bench/scale-notes.md python3 bench/scale.py --write   # ...into BENCHMARKS.md, with notes
    python3 bench/scale.py --servers h2proto --conns 1000

Each server runs on one core (as in bench/run.sh), fresh per server, h2c with prior knowledge on
loopback. The client is this script: raw HTTP/2 frames over asyncio, so it costs the servers the
same and needs no library. Per server:

1. baseline RSS, after one request and a 1 s settle;
2. N idle connections (1,000, then 10,000), each after one GET answered in full, held open (the
   client ACKs SETTINGS and PINGs, so keep-alive does not close them): (RSS - baseline) / N;
3. all N close; RSS 5 s later. A second 10,000-connection wave follows: its after-close RSS says
   whether a wave leaves growth behind;
4. 100 connections, each after one GET (RSS a), then 100 POSTs each with no END_STREAM and no body
   (RSS b): (b - a) / 10,000 open streams. Every connection then sends a PING; a stream counts as
   open in the server once the PING sent after it is answered (frames are processed in order);
5. the file-descriptor limit: the server is started under `prlimit --nofile=LIMIT`, and LIMIT + 500
   clients connect and GET. Reported: answered, failed fast (closed or reset within 2 s), hung (no
   answer in 5 s), the server's CPU while the excess clients wait, and whether a new client is
   served after they leave.

The binaries: H2PROTO_BIN (default target/release/h2proto), the hyper anchor built under
bench/hyper-anchor, and nghttpd from PATH. `bash bench/run.sh` builds both Rust ones.
"""

import argparse
import asyncio
import os
import re
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 5, 6, 7, 8
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def literal(name_index, value):
    """HPACK literal without indexing, indexed name (RFC 7541 §6.2.2), no Huffman."""
    assert len(value) < 127
    return bytes([name_index]) + bytes([len(value)]) + value


def get_block(authority):
    # :method GET (2), :scheme http (6), :path / (4), :authority (1) literal.
    return bytes([0x82, 0x86, 0x84]) + literal(1, authority)


def post_block(authority, path):
    # :method POST (3), :scheme http (6), :path literal (name 4), :authority (1) literal.
    return bytes([0x83, 0x86]) + literal(4, path) + literal(1, authority)


class Conn:
    """One raw HTTP/2 client connection: sends, ACKs SETTINGS and PING, tracks answers."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.done = set()  # streams whose response ended
        self.headers_seen = set()
        self.pings = {}  # payload -> Future
        self.closed = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(self.read_loop())
        self.waiters = []

    async def read_loop(self):
        buf = b""
        try:
            while True:
                chunk = await self.reader.read(65536)
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= 9:
                    length = int.from_bytes(buf[:3], "big")
                    if len(buf) < 9 + length:
                        break
                    ftype, flags = buf[3], buf[4]
                    sid = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
                    payload = buf[9 : 9 + length]
                    buf = buf[9 + length :]
                    self.on_frame(ftype, flags, sid, payload)
        except (ConnectionError, OSError):
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result(True)
            for fut in self.pings.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("closed"))
            for fut, _ in self.waiters:
                if not fut.done():
                    fut.set_exception(ConnectionError("closed"))

    def on_frame(self, ftype, flags, sid, payload):
        if ftype == SETTINGS and not flags & ACK:
            self.writer.write(frame(SETTINGS, ACK, 0))
        elif ftype == PING:
            if flags & ACK:
                fut = self.pings.pop(payload, None)
                if fut and not fut.done():
                    fut.set_result(True)
            else:
                self.writer.write(frame(PING, ACK, 0, payload))
        elif ftype == HEADERS:
            self.headers_seen.add(sid)
            if flags & END_STREAM:
                self.done.add(sid)
        elif ftype == DATA:
            if length := len(payload):
                # Give the credit back so no server stalls on our windows.
                self.writer.write(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", length)))
            if flags & END_STREAM:
                self.done.add(sid)
        elif ftype == RST_STREAM:
            self.done.add(sid)
        for fut, sid_wanted in list(self.waiters):
            if sid_wanted in self.done and not fut.done():
                fut.set_result(True)

    async def wait_done(self, sid):
        if sid in self.done:
            return
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append((fut, sid))
        await fut

    async def ping(self, n):
        payload = struct.pack(">Q", n)
        fut = asyncio.get_running_loop().create_future()
        self.pings[payload] = fut
        self.writer.write(frame(PING, 0, 0, payload))
        await fut

    def close(self):
        self.task.cancel()
        try:
            self.writer.close()
        except Exception:
            pass


async def open_conn(port, authority):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(PREFACE + frame(SETTINGS, 0, 0) + frame(HEADERS, END_HEADERS | END_STREAM, 1, get_block(authority)))
    conn = Conn(reader, writer)
    await conn.wait_done(1)
    return conn


async def open_many(port, n, parallel=200):
    authority = b"127.0.0.1:%d" % port
    sem = asyncio.Semaphore(parallel)

    async def one():
        async with sem:
            return await asyncio.wait_for(open_conn(port, authority), 30)

    conns = await asyncio.gather(*(one() for _ in range(n)))
    # Everything the server had to do for them is done: a PING round trip on each.
    await asyncio.gather(*(c.ping(7) for c in conns))
    return conns


async def close_all(conns):
    for c in conns:
        c.close()
    # Let the cancelled readers finish, so the loop closes with no task pending.
    await asyncio.gather(*(c.task for c in conns), return_exceptions=True)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name, cmd_for_port, nofile=None):
        self.name = name
        self.port = free_port()
        cmd = cmd_for_port(self.port)
        if nofile:
            cmd = ["prlimit", f"--nofile={nofile}:{nofile}", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited at start: {cmd}")
            try:
                asyncio.run(self._probe())
                break
            except (OSError, asyncio.TimeoutError, ConnectionError):
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"{name} did not answer on port {self.port}")
                time.sleep(0.05)

    async def _probe(self):
        c = await asyncio.wait_for(open_conn(self.port, b"127.0.0.1"), 2)
        c.close()

    @property
    def pid(self):
        return self.proc.pid

    def rss(self):
        return rss_kib(self.pid)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def server_cmds(docs):
    h2proto = os.environ.get("H2PROTO_BIN", os.path.join(ROOT, "target/release/h2proto"))
    hyper = os.path.join(ROOT, "bench/hyper-anchor/target/release/hyper-anchor")
    return {
        "h2proto": lambda p: [h2proto, "serve", "--quiet", "--h2c", "--threads", "1", "--listen", f"127.0.0.1:{p}"],
        "nghttpd": lambda p: ["nghttpd", "-n", "1", "--no-tls", "-a", "127.0.0.1", "-d", docs, str(p)],
        "hyper": lambda p: [hyper, f"127.0.0.1:{p}"],
    }


def settle(seconds):
    time.sleep(seconds)


def measure_memory(name, cmd, conns_list, streams):
    out = {}
    srv = Server(name, cmd)
    try:
        settle(1)
        base = srv.rss()
        out["baseline"] = base
        waves = []

        async def hold(n):
            conns = await open_many(srv.port, n)
            # Servers may give buffers back a while into an idle period (h2proto: 0.5 s).
            await asyncio.sleep(2)
            held = srv.rss()
            await close_all(conns)
            return held

        for n in conns_list:
            held = asyncio.run(hold(n))
            settle(5)
            after = srv.rss()
            waves.append((n, held, after))
            print(f"  {name}: {n} idle conns: RSS {held} KiB ({(held - base) / n:.1f} KiB/conn); "
                  f"5 s after close {after} KiB", file=sys.stderr)
        out["waves"] = waves
        # A second wave of the largest size: does it leave more behind than the first?
        n = max(conns_list)
        held = asyncio.run(hold(n))
        settle(5)
        after2 = srv.rss()
        out["second_wave"] = (n, held, after2)
        print(f"  {name}: second {n} wave: RSS {held} KiB; 5 s after close {after2} KiB", file=sys.stderr)

    finally:
        srv.stop()
    if streams:
        # On a fresh server: memory the waves freed would otherwise absorb the streams' growth.
        srv = Server(name, cmd)
        try:
            settle(1)
            nconn, per = streams

            async def open_streams():
                conns = await open_many(srv.port, nconn)
                await asyncio.sleep(2)
                a = srv.rss()
                authority = b"127.0.0.1:%d" % srv.port
                block = post_block(authority, b"/echo")
                for c in conns:
                    c.writer.write(b"".join(
                        frame(HEADERS, END_HEADERS, 3 + 2 * i, block) for i in range(per)))
                await asyncio.gather(*(c.ping(9) for c in conns))
                await asyncio.sleep(1)
                b = srv.rss()
                reset = sum(1 for c in conns for s in c.done if s != 1)
                await close_all(conns)
                return a, b, reset

            a, b, reset = asyncio.run(open_streams())
            out["streams"] = (nconn * per, a, b, reset)
            print(f"  {name}: {nconn}x{per} open streams: RSS {a} -> {b} KiB, "
                  f"{(b - a) * 1024 / (nconn * per):.0f} B/stream ({reset} ended early)", file=sys.stderr)
        finally:
            srv.stop()
    return out


def measure_fd_limit(name, cmd, limit, extra):
    srv = Server(name, cmd, nofile=limit)
    try:
        settle(0.5)

        async def run():
            authority = b"127.0.0.1:%d" % srv.port
            held = []
            # Fill the server up to its limit with connections that were answered.
            for _ in range(limit):
                try:
                    held.append(await asyncio.wait_for(open_conn(srv.port, authority), 2))
                except (OSError, ConnectionError, asyncio.TimeoutError):
                    break
            answered = len(held)

            async def excess():
                t0 = time.monotonic()
                try:
                    c = await asyncio.wait_for(open_conn(srv.port, authority), 5)
                    held.append(c)
                    return "answered", time.monotonic() - t0
                except asyncio.TimeoutError:
                    return "hung", time.monotonic() - t0
                except (OSError, ConnectionError):
                    return "failed", time.monotonic() - t0

            c0 = cpu_ticks(srv.pid)
            t0 = time.monotonic()
            results = await asyncio.gather(*(excess() for _ in range(extra)))
            spent = time.monotonic() - t0
            cpu = (cpu_ticks(srv.pid) - c0) / os.sysconf("SC_CLK_TCK") / spent
            await close_all(held)
            await asyncio.sleep(1)
            try:
                c = await asyncio.wait_for(open_conn(srv.port, authority), 5)
                c.close()
                recovered = True
            except (OSError, ConnectionError, asyncio.TimeoutError):
                recovered = False
            fast = sum(1 for r, t in results if r == "failed" and t < 2)
            slow = sum(1 for r, t in results if r == "failed" and t >= 2)
            more = sum(1 for r, _ in results if r == "answered")
            hung = sum(1 for r, _ in results if r == "hung")
            return dict(limit=limit, filled=answered, extra=extra, fast=fast, slow=slow,
                        answered=more, hung=hung, cpu=cpu, recovered=recovered)

        r = asyncio.run(run())
        print(f"  {name}: fd limit {r}", file=sys.stderr)
        return r
    finally:
        srv.stop()


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def table(results, conns_list, streams):
    names = list(results)
    lines = ["| figure | " + " | ".join(names) + " | target |", "|---|" + "---|" * len(names) + "---|"]

    def row(label, fn, target):
        lines.append(f"| {label} | " + " | ".join(fn(results[n]) for n in names) + f" | {target} |")

    row("RSS baseline", lambda r: mib(r["mem"]["baseline"]), "")
    for i, n in enumerate(conns_list):
        row(f"KiB per idle connection ({n:,} held)",
            lambda r, i=i, n=n: f"{(r['mem']['waves'][i][1] - r['mem']['baseline']) / n:.1f}",
            "≤ 8" if n == max(conns_list) else "")
    big = max(conns_list)
    i_big = conns_list.index(big)
    row(f"RSS 5 s after {big:,} connections close",
        lambda r: f"{mib(r['mem']['waves'][i_big][2])} ({r['mem']['waves'][i_big][2] / r['mem']['baseline']:.1f}× baseline)",
        "≤ 2× baseline")
    row("... after a second wave",
        lambda r: f"{mib(r['mem']['second_wave'][2])} ({r['mem']['second_wave'][2] / r['mem']['baseline']:.1f}×)",
        "no growth")
    if streams:
        row(f"bytes per open stream ({streams[0]}×{streams[1]})",
            lambda r: f"{(r['mem']['streams'][2] - r['mem']['streams'][1]) * 1024 / r['mem']['streams'][0]:.0f}"
            + (f" ({r['mem']['streams'][3]} closed early)" if r['mem']['streams'][3] else ""),
            "≤ 400")
    if all("fd" in results[n] for n in names):
        def fd(r):
            f = r["fd"]
            return (f"CPU {f['cpu']:.0%}; of {f['extra']} excess: {f['fast']} fail fast, {f['hung']} hang, "
                    f"{f['answered']} served; recovers: {'yes' if f['recovered'] else 'no'}")
        row(f"at the fd limit (`prlimit --nofile={results[names[0]]['fd']['limit']}`)", fd,
            "back off, no spin; excess clients fail fast")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--servers", default="h2proto,nghttpd,hyper")
    ap.add_argument("--conns", default="1000,10000", help="idle connection counts")
    ap.add_argument("--streams", default="100x100", help="CONNSxSTREAMS unfinished POSTs, or 'none'")
    ap.add_argument("--fd-limit", type=int, default=1024, help="0 to skip")
    ap.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    conns_list = [int(x) for x in args.conns.split(",")]
    streams = None if args.streams == "none" else tuple(int(x) for x in args.streams.split("x"))
    docs = tempfile.mkdtemp(prefix="h2scale.")
    with open(os.path.join(docs, "index.html"), "w") as f:
        f.write("<!DOCTYPE html>\n<html><head><title>bench</title></head>\n<body><h1>Hello</h1></body></html>\n")
    cmds = server_cmds(docs)
    results = {}
    for name in args.servers.split(","):
        print(f"== {name}", file=sys.stderr)
        results[name] = {"mem": measure_memory(name, cmds[name], conns_list, streams)}
        if args.fd_limit:
            results[name]["fd"] = measure_fd_limit(name, cmds[name], args.fd_limit, 500)
    shutil.rmtree(docs, ignore_errors=True)
    cmdline = "python3 bench/scale.py " + " ".join(sys.argv[1:])
    if os.environ.get("EXTRA_MD"):
        cmdline = "EXTRA_MD=bench/" + os.path.basename(os.environ["EXTRA_MD"]) + " " + cmdline
    md = (f"## Memory and scale\n\nDate: {time.strftime('%Y-%m-%d')}. Command: `{cmdline.strip()}` "
          f"(client: raw frames over asyncio, see the script's doc). RSS from /proc/PID/status.\n\n"
          + table(results, conns_list, streams) + "\n")
    print(md)
    if args.write:
        path = os.path.join(ROOT, "BENCHMARKS.md")
        with open(path) as f:
            text = f.read()
        extra = os.environ.get("EXTRA_MD")
        if extra:
            with open(extra) as f:
                md += "\n" + f.read()
        pattern = re.compile(r"## Memory and scale\n.*?(?=\n## |\Z)", re.S)
        text = pattern.sub(lambda _: md.rstrip("\n") + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + md
        with open(path, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
