"""Code page latency: in-process `code_page` and `GET /api/codes/{code}` over HTTP on loopback.

Prints p50/p95/max in milliseconds over a random sample of codes (billable and headers) of the FY2026 code set,
plus the one-off cost of loading the in-memory code store. The page includes the confusable codes, documentation
checklist and FAQ (issue 17). Targets (issues 3 and 17, 2 cores): p95 < 5 ms in-process, < 20 ms over HTTP. Uses
the current KB (`hccguide kb build` first). Run: uv run python benchmarks/code_lookup.py [in-process n] [HTTP n]
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import sys
import threading
import time

import httpx
import uvicorn

from hccguide.codes.pages import code_page
from hccguide.codes.store import code_store
from hccguide.kb.open import shared_kb
from hccguide.web.app import create_app

SAMPLE = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
HTTP_SAMPLE = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
CODE_SET = "FY2026"


def _percentiles(ms: list[float]) -> str:
    ms = sorted(ms)
    return (
        f"p50 {ms[len(ms) // 2]:.2f} ms  p95 {ms[int(len(ms) * 0.95)]:.2f} ms  max {ms[-1]:.2f} ms  "
        f"mean {statistics.fmean(ms):.2f} ms  (n={len(ms)})"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    kb = shared_kb()
    started = time.perf_counter()
    code_store(kb)
    print(f"release {kb.release_id}")
    print(f"code store load: {time.perf_counter() - started:.2f} s")
    codes = [r["code_dotted"] for r in kb.query("SELECT code_dotted FROM codes WHERE code_set = ?", [CODE_SET])]
    rng = random.Random(20261124)
    sample = rng.sample(codes, SAMPLE)
    timings, cpu = [], []
    for code in sample:
        t, c = time.perf_counter(), time.thread_time()
        code_page(kb, code, fy=2026, payment_year=2026)
        timings.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    print(f"in-process code_page (first call per code): {_percentiles(timings)}")
    # CPU time of this thread per call: what the call costs on a core of its own (wall time also counts waiting
    # for a core on a shared machine; `uptime` load average printed below)
    print(f"  same, thread CPU time:                    {_percentiles(cpu)}")
    timings, cpu = [], []
    for code in sample[: min(500, SAMPLE)]:
        t, c = time.perf_counter(), time.thread_time()
        code_page(kb, code, fy=2026, payment_year=2026)
        timings.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    print(f"in-process code_page (repeat):              {_percentiles(timings)}")
    print(f"  same, thread CPU time:                    {_percentiles(cpu)}")
    print(f"load average: {os.getloadavg()}")

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    timings = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        for code in sample[:HTTP_SAMPLE]:
            t = time.perf_counter()
            response = client.get(f"/api/codes/{code}", params={"fy": 2026, "payment_year": 2026})
            timings.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (code, response.status_code)
    server.should_exit = True
    thread.join(timeout=10)
    print(f"HTTP GET /api/codes/{{code}} (loopback):     {_percentiles(timings)}")


if __name__ == "__main__":
    main()
