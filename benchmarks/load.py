"""Bounded loopback load on the web app: mixed code pages / search / score, N keep-alive clients, T seconds.

    HCCGUIDE_HOME=/path/to/home uv run python benchmarks/load.py [--seconds 60] [--clients 50] [--workers 1]
        [--mix fixed|wide] [--client raw|httpx|httpx-each] [--url http://127.0.0.1:8000] [--serve-arg ARG ...]
        [--server-python /tmp/before_wt/.venv/bin/python]   # serve another checkout (an A/B "before") with its
                                                            # own dependencies, measured by this same client

Without --url it starts `hccguide serve` on a free loopback port (with `--workers N` when given, and any
`--serve-arg` passed through), waits for /healthz, warms it, runs the load, then stops the server it started.

The request kinds (weights): HTML code page 25%, JSON code page 20%, search API 25%, HTML /search page 5%,
score API 20%, HTML /score page with a result 5%.

Mixes:
- `fixed` (default; the setup in which issue 12's "before" was measured): 15 codes, 10 phrases and 5 members,
  cycled. A response cache hits nearly always: this measures the serving path, not the work of a first answer.
- `wide`: 2,000 billable codes of the code set in force (a fixed-seed sample of the KB's `codes` table) drawn
  Zipf-like (weight 1/rank), 200 phrases (fixed-seed sample of the `query` column of tests/search/data/*.csv),
  and 500 generated members (age 65-95, sex, dual status, 0-8 diagnoses of which most map to a CMS-HCC V28 HCC
  of payment year 2026). Most code pages and every member score are first answers here.

Clients (every client holds one keep-alive HTTP/1.1 connection):
- `raw` (default): a minimal asyncio HTTP/1.1 client (Content-Length and chunked bodies): 0.2-0.5 ms of CPU
  per request, so that on a 2-core machine the client takes little of the server's CPU;
- `httpx` (the client of the issue's "before" figures): one httpx.AsyncClient, pool = clients. It spends
  9.6-14.9 ms of CPU per request (more when the server is faster): it, not the server, bounds the figure;
- `httpx-each`: one httpx.AsyncClient per connection, 3-4.6 ms of CPU per request.

Prints: requests, requests/s, latency p50/p95/p99/max in ms, errors (transport errors such as "server
disconnected" and any 5xx, by kind), statuses, the share of `X-Cache: hit` answers, CPU ms per request of the
server (all its processes) and of the client, the server's RSS (all processes, MB) after the run, and the 1-minute
load average before and after (the machine is shared: say what else ran). Exit code 0 always; this script
measures, it does not judge.

Measured (issue 12; 2 cores shared by server and client, 50 clients, 1 worker, 20 s, before = b6d4797 in its
own checkout and venv via --server-python, back to back, under load average 2-5 from other work; the lead
re-measures on a quiet machine; docs/serving.md has the whole table):
- fixed mix, raw client: before 166.6 req/s, p50 254 ms, p99 1,326 ms; after 1,348.5 req/s, p50 28 ms,
  p99 172 ms; 0 errors; server CPU 5.86 -> 0.67 ms per request (75% stored answers: not a general figure);
- wide mix, raw client: before 97.4 req/s, p99 1,918 ms; after 299.8 req/s, p50 74 ms, p99 1,663 ms; 0 errors;
  server CPU 8.94 -> 2.86 ms per request (55% stored answers; first code pages and searches cost 20-27 ms);
- fixed mix, httpx client: before 69.4 req/s, after 45.0 (client CPU 9.6 -> 14.9 ms per request: the client).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
CODES = ["M87.352", "E11.9", "I50.22", "E11.22", "N18.4", "J44.1", "F32.A", "C61", "I10", "Z79.4", "S72.001A",
         "G30.9", "E66.01", "K50.00", "L89.154"]
QUERIES = ["chf exacerbation", "T2DM w/ neuropathy", "copd", "major depression", "ckd stage 4", "E11.9",
           "hip fracture", "pressure ulcer sacrum", "atrial fibrillation", "morbid obesity"]
MEMBERS = [
    {"age": 72, "sex": "F", "dx": ["E11.22", "N18.4", "I50.22"]},
    {"age": 80, "sex": "M", "dual_status": "full", "lti": True, "dx": ["I50.9", "J44.1"]},
    {"age": 64, "sex": "F", "new_enrollee": True, "dx": ["E11.9"]},
    {"age": 55, "sex": "M", "orec": "2", "esrd": True, "graft_months": 12, "model": "ESRD-V24", "dx": ["E11.9"]},
    {"age": 69, "sex": "M", "dx": []},
]
MIX = [("code_html", 25), ("code_api", 20), ("search_api", 25), ("search_html", 5), ("score_api", 20),
       ("score_html", 5)]


class Workload:
    """The codes, phrases and members requests are drawn from, with the weight of each code (Zipf-like or flat)."""

    def __init__(self, codes: list[str], queries: list[str], members: list[dict], zipf: bool) -> None:
        self.codes, self.queries, self.members = codes, queries, members
        self.code_weights = [1 / (r + 1) for r in range(len(codes))] if zipf else None
        self.query_weights = [1 / (r + 1) for r in range(len(queries))] if zipf else None

    def request(self, kind: str, rng: random.Random) -> tuple[str, str, dict | None]:
        """(method, path with its query string, JSON body or None) of one request of a kind."""
        if self.code_weights:
            code = rng.choices(self.codes, self.code_weights)[0]
            q = rng.choices(self.queries, self.query_weights)[0]
        else:
            code, q = rng.choice(self.codes), rng.choice(self.queries)
        m = rng.choice(self.members)
        if kind == "code_html":
            return "GET", f"/codes/{code}", None
        if kind == "code_api":
            return "GET", f"/api/codes/{code}", None
        if kind == "search_api":
            return "GET", "/api/search?" + urlencode({"q": q}), None
        if kind == "search_html":
            return "GET", "/search?" + urlencode({"q": q}), None
        if kind == "score_api":
            return "POST", "/api/score", m
        return "GET", "/score?" + urlencode({"age": m["age"], "sex": m["sex"], "dx": ",".join(m["dx"])}), None


def fixed_workload() -> Workload:
    """The mix of the issue's "before": 15 codes, 10 phrases, 5 members, drawn uniformly."""
    return Workload(CODES, QUERIES, MEMBERS, zipf=False)


def wide_workload(seed: int = 12) -> Workload:
    """2,000 billable codes of the code set in force, 200 phrases, 500 generated members (see the module doc).

    Reads the KB of HCCGUIDE_HOME (hccguide.kb.open.shared_kb) and tests/search/data/*.csv."""
    from hccguide.kb.open import shared_kb

    kb = shared_kb()
    rng = random.Random(seed)
    billable = [r["code_dotted"] for r in kb.query(
        "SELECT code_dotted FROM codes WHERE code_set = ? AND billable ORDER BY code", [kb.default_code_set])]
    codes = rng.sample(billable, 2000)
    # diagnoses a member may carry: billable in both code sets and mapped to a V28 HCC for PY2026 (most), or any
    hcc = [r["code_dotted"] for r in kb.query(
        "SELECT c.code_dotted FROM codes c JOIN codes p ON p.code = c.code AND p.code_set = 'FY2026' AND p.billable "
        "WHERE c.code_set = ? AND c.billable AND c.code IN (SELECT code FROM dx_to_cc WHERE model = 'CMS-HCC V28' "
        "AND payment_year = 2026) ORDER BY c.code", [kb.default_code_set])]
    both = sorted(set(billable) & {r["code_dotted"] for r in kb.query(
        "SELECT code_dotted FROM codes WHERE code_set = 'FY2026' AND billable")})
    phrases: list[str] = []
    for path in sorted((ROOT / "tests" / "search" / "data").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            phrases += [row["query"] for row in csv.DictReader(f) if len(row["query"].strip()) >= 2]
    queries = rng.sample(sorted(set(phrases)), 200)
    members = []
    for _ in range(500):
        n = rng.choice([0, 1, 2, 2, 3, 3, 4, 5, 6, 8])
        dx = [rng.choice(hcc) if rng.random() < 0.8 else rng.choice(both) for _ in range(n)]
        m: dict = {"age": rng.randint(65, 95), "sex": rng.choice("FM"), "dx": sorted(set(dx))}
        if rng.random() < 0.2:
            m["dual_status"] = rng.choice(["full", "partial"])
        members.append(m)
    return Workload(codes, queries, members, zipf=True)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values; 0.0 for none."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


class RawConnection:
    """One keep-alive HTTP/1.1 connection: request -> (status, headers, body). Reconnects after a close."""

    def __init__(self, base: str) -> None:
        u = urlsplit(base)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict | None) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: */*\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        try:
            self.writer.write(head.encode("latin-1") + b"\r\n" + data)
            raw = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            if headers.get("transfer-encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    parts.append(await self.reader.readexactly(size + 2))
                    if size == 0:
                        break
                content = b"".join(p[:-2] for p in parts)
            else:
                content = await self.reader.readexactly(int(headers.get("content-length", "0")))
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self.close()
            raise ConnectionError(f"server disconnected ({type(exc).__name__})") from exc
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _client(request, work: Workload, until: float, seed: int, lat: list[float], errors: Counter,
                  statuses: Counter, cache: Counter, by_kind: dict[str, list[float]]) -> None:
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    while time.perf_counter() < until:
        kind = rng.choice(kinds)
        method, path, body = work.request(kind, rng)
        t0 = time.perf_counter()
        try:
            status, headers = await request(method, path, body)
            statuses[status] += 1
            cache[headers.get("x-cache", "none")] += 1
            if status >= 500:
                errors[f"{kind} HTTP {status}"] += 1
        except (httpx.HTTPError, ConnectionError, OSError) as exc:
            errors[f"{kind} {type(exc).__name__}: {str(exc)[:60]}"] += 1
        ms = (time.perf_counter() - t0) * 1000
        lat.append(ms)
        by_kind.setdefault(kind, []).append(ms)


async def run(base: str, seconds: float, clients: int, work: Workload, client_kind: str = "httpx") -> dict:
    """Run the load; returns the figures (latencies in ms)."""
    lat: list[float] = []
    errors: Counter = Counter()
    statuses: Counter = Counter()
    cache: Counter = Counter()
    by_kind: dict[str, list[float]] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=30)
    async with httpx.AsyncClient(limits=limits, timeout=30) as hx:

        def httpx_request():  # type: ignore[no-untyped-def]
            async def request(method: str, path: str, body: dict | None) -> tuple[int, httpx.Headers]:
                r = await hx.request(method, base + path, json=body)
                return r.status_code, r.headers
            return request

        def raw_request():  # type: ignore[no-untyped-def]
            conn = RawConnection(base)

            async def request(method: str, path: str, body: dict | None) -> tuple[int, dict[str, str]]:
                status, headers, _ = await conn.request(method, path, body)
                return status, headers
            return request

        def httpx_each_request():  # type: ignore[no-untyped-def]
            own = httpx.AsyncClient(limits=httpx.Limits(max_connections=1, max_keepalive_connections=1,
                                                        keepalive_expiry=30), timeout=30)
            own_clients.append(own)

            async def request(method: str, path: str, body: dict | None) -> tuple[int, httpx.Headers]:
                r = await own.request(method, base + path, json=body)
                return r.status_code, r.headers
            return request

        own_clients: list[httpx.AsyncClient] = []
        make = {"httpx": httpx_request, "httpx-each": httpx_each_request, "raw": raw_request}[client_kind]
        for kind, _ in MIX:  # warm: one request of each kind
            method, path, body = work.request(kind, random.Random(0))
            await hx.request(method, base + path, json=body)
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_client(make(), work, until, i, lat, errors, statuses, cache, by_kind)
                               for i in range(clients)))
        elapsed = time.perf_counter() - started
        for own in own_clients:
            await own.aclose()
    return {"requests": len(lat), "seconds": elapsed, "rps": len(lat) / elapsed, "p50": percentile(lat, 50),
            "p95": percentile(lat, 95), "p99": percentile(lat, 99), "max": max(lat, default=0.0),
            "errors": errors, "statuses": statuses, "cache": cache, "by_kind": by_kind}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group_pids(pgid: int) -> list[int]:
    """The processes of a process group (the server and its workers), from /proc."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(d.name))
    return pids


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process of a process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in _group_pids(pgid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def group_rss_mb(pgid: int) -> float:
    """Resident set size (VmRSS) summed over a process group, in MB (10^6 bytes)."""
    total = 0
    for pid in _group_pids(pgid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total / 1e6


def _start_server(workers: int | None, extra: list[str], python: str | None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [python or sys.executable, "-m", "hccguide.cli", "serve", "--port", str(port), *extra]
    if workers:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a loaded 2-core machine: workers each open the KB
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                # load the code store and search index of every worker before measuring (each worker answers some)
                with httpx.Client(timeout=600) as warm:
                    for _ in range(2 * (workers or 1)):
                        for path in ("/api/codes/E11.9", "/api/search?q=copd"):
                            warm.get(base + path, headers={"connection": "close"})
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("server did not start in 300 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=None, help="pass --workers N to hccguide serve")
    ap.add_argument("--mix", choices=["fixed", "wide"], default="fixed")
    ap.add_argument("--client", choices=["raw", "httpx", "httpx-each"], default="raw")
    ap.add_argument("--url", default=None, help="an already running server (not started nor stopped here)")
    ap.add_argument("--serve-arg", action="append", default=[], help="extra argument for hccguide serve")
    ap.add_argument("--server-python", default=None,
                    help="the interpreter of the server (another checkout's venv, for A/B runs); default: this one")
    args = ap.parse_args()
    work = wide_workload() if args.mix == "wide" else fixed_workload()
    proc = None
    base = args.url
    if base is None:
        proc, base = _start_server(args.workers, args.serve_arg, args.server_python)
    load_before = os.getloadavg()[0]
    cpu0 = group_cpu_seconds(proc.pid) if proc else 0.0
    client0 = resource.getrusage(resource.RUSAGE_SELF)
    rss = 0.0
    try:
        res = asyncio.run(run(base.rstrip("/"), args.seconds, args.clients, work, args.client))
        if proc is not None:
            rss = group_rss_mb(proc.pid)
            server_cpu = group_cpu_seconds(proc.pid) - cpu0
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    client1 = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = client1.ru_utime + client1.ru_stime - client0.ru_utime - client0.ru_stime
    n = max(1, res["requests"])
    print(f"mix {args.mix}, client {args.client}, clients {args.clients}, {res['seconds']:.1f} s, workers "
          f"{args.workers or 1}, keep-alive on, load average (1 min) before {load_before:.2f}, after "
          f"{os.getloadavg()[0]:.2f}, cores {os.cpu_count()}"
          + (f", server {args.server_python}" if args.server_python else ""))
    print(f"requests {res['requests']}  req/s {res['rps']:.1f}  p50 {res['p50']:.1f} ms  p95 {res['p95']:.1f} ms  "
          f"p99 {res['p99']:.1f} ms  max {res['max']:.1f} ms  errors {sum(res['errors'].values())}")
    cache = res["cache"]
    print(f"cache hits {100 * cache['hit'] / n:.1f}% (X-Cache: " + ", ".join(f"{k} {v}" for k, v in
                                                                            sorted(cache.items())) + ")")
    if proc is not None:
        print(f"CPU per request: server {1000 * server_cpu / n:.2f} ms, client {1000 * client_cpu / n:.2f} ms; "
              f"server RSS {rss:.0f} MB")
    print("by kind (p50 / p99 ms): " + ", ".join(
        f"{k} {percentile(v, 50):.0f}/{percentile(v, 99):.0f}" for k, v in sorted(res["by_kind"].items())))
    print("statuses " + ", ".join(f"{k}: {v}" for k, v in sorted(res["statuses"].items())))
    for kind, count in res["errors"].most_common(10):
        print(f"  error {count}: {kind}")


if __name__ == "__main__":
    main()
