"""Bounded loopback load on the web app: mixed code pages / search / score, N keep-alive clients, T seconds.

    HCCGUIDE_HOME=/path/to/home uv run python benchmarks/load.py [--seconds 60] [--clients 50] [--workers 1]
        [--url http://127.0.0.1:8000]   # an already running server instead of starting one

Without --url it starts `hccguide serve` on a free loopback port (with `--workers N` when given, and any
`--serve-arg` passed through), waits for /healthz, runs the load, then stops the server it started.

The mix (weights): HTML code page 25%, JSON code page 20%, search API 25%, HTML /search page 5%, score API 20%,
HTML /score page with a result 5%. Codes and queries cycle through fixed lists (real ICD-10-CM codes and coder
phrases). Every client holds one keep-alive connection (httpx, HTTP/1.1, connection pool = clients).

Prints: requests, requests/s, latency p50/p95/p99/max in ms, errors (transport errors such as "server
disconnected" and any 5xx, by kind), statuses, and the 1-minute load average before and after (the machine is
shared: say what else ran). Exit code 0 always; this script measures, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import httpx

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


def _request(kind: str, rng: random.Random) -> tuple[str, str, dict | None]:
    """(method, path, json body) of one request of a kind."""
    code, q, m = rng.choice(CODES), rng.choice(QUERIES), rng.choice(MEMBERS)
    if kind == "code_html":
        return "GET", f"/codes/{code}", None
    if kind == "code_api":
        return "GET", f"/api/codes/{code}", None
    if kind == "search_api":
        return "GET", f"/api/search?q={q}", None
    if kind == "search_html":
        return "GET", f"/search?q={q}", None
    if kind == "score_api":
        return "POST", "/api/score", m
    dx = ",".join(m["dx"])
    return "GET", f"/score?age={m['age']}&sex={m['sex']}&dx={dx}", None


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values; 0.0 for none."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


async def _client(base: str, until: float, seed: int, lat: list[float], errors: Counter, statuses: Counter,
                  client: httpx.AsyncClient) -> None:
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    while time.perf_counter() < until:
        kind = rng.choice(kinds)
        method, path, body = _request(kind, rng)
        t0 = time.perf_counter()
        try:
            r = await client.request(method, base + path, json=body)
            statuses[r.status_code] += 1
            if r.status_code >= 500:
                errors[f"{kind} HTTP {r.status_code}"] += 1
        except httpx.HTTPError as exc:
            errors[f"{kind} {type(exc).__name__}: {str(exc)[:60]}"] += 1
        lat.append((time.perf_counter() - t0) * 1000)


async def run(base: str, seconds: float, clients: int) -> dict:
    """Run the load; returns the figures."""
    lat: list[float] = []
    errors: Counter = Counter()
    statuses: Counter = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=30)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        # Warm: one request of each kind (first requests load caches).
        for kind, _ in MIX:
            method, path, body = _request(kind, random.Random(0))
            await client.request(method, base + path, json=body)
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_client(base, until, i, lat, errors, statuses, client) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return {"requests": len(lat), "seconds": elapsed, "rps": len(lat) / elapsed, "p50": percentile(lat, 50),
            "p95": percentile(lat, 95), "p99": percentile(lat, 99), "max": max(lat, default=0.0),
            "errors": errors, "statuses": statuses}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(workers: int | None, extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "hccguide.cli", "serve", "--port", str(port), *extra]
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
    ap.add_argument("--url", default=None, help="an already running server (not started nor stopped here)")
    ap.add_argument("--serve-arg", action="append", default=[], help="extra argument for hccguide serve")
    args = ap.parse_args()
    proc = None
    base = args.url
    if base is None:
        proc, base = _start_server(args.workers, args.serve_arg)
    load_before = os.getloadavg()[0]
    try:
        res = asyncio.run(run(base.rstrip("/"), args.seconds, args.clients))
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    print(f"clients {args.clients}, {res['seconds']:.1f} s, workers {args.workers or 1}, keep-alive on, "
          f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}, cores {os.cpu_count()}")
    print(f"requests {res['requests']}  req/s {res['rps']:.1f}  p50 {res['p50']:.1f} ms  p95 {res['p95']:.1f} ms  "
          f"p99 {res['p99']:.1f} ms  max {res['max']:.1f} ms  errors {sum(res['errors'].values())}")
    print("statuses " + ", ".join(f"{k}: {v}" for k, v in sorted(res["statuses"].items())))
    for kind, n in res["errors"].most_common(10):
        print(f"  error {n}: {kind}")


if __name__ == "__main__":
    main()
