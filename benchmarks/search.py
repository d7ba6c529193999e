"""Encoder search benchmark: prints index build and load time, query latency (in process and over HTTP), memory and
accuracy on the query sets. Figures only, no assertions (targets: docs/search.md).

    uv run python benchmarks/search.py [--rounds 3] [--json]

Uses the current KB (`hccguide kb build` first; HCCGUIDE_HOME is honoured). The HTTP figures come from a real
`hccguide serve` (uvicorn) on 127.0.0.1 at a free port, started and stopped by this script.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from hccguide.codes.lookup import choose_code_set
from hccguide.kb.open import open_kb
from hccguide.search import index as index_mod
from hccguide.search.evaluate import evaluate, load_queries
from hccguide.search.query import search

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "search_queries.csv"
HOLDOUT = ROOT / "tests" / "search" / "data" / "holdout_queries.csv"
HOLDOUT2 = ROOT / "tests" / "search" / "data" / "holdout2_queries.csv"
HOLDOUT3 = ROOT / "tests" / "search" / "data" / "holdout3_queries.csv"
CLINICAL = ROOT / "tests" / "search" / "data" / "clinical_queries.csv"
CLINICAL_HOLDOUT = ROOT / "tests" / "search" / "data" / "clinical_holdout_queries.csv"
SETS = {
    "dev": DEV,
    "holdout": HOLDOUT,
    "holdout2": HOLDOUT2,
    "holdout3": HOLDOUT3,
    "clinical": CLINICAL,
    "clinical_holdout": CLINICAL_HOLDOUT,
}


def _rss_mb(pid: int | None = None) -> float:
    """Resident set size now (MB), from /proc/<pid>/status VmRSS."""
    path = Path(f"/proc/{pid or os.getpid()}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentiles(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
        "max_ms": round(ms[-1], 2),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(queries: list[str], rounds: int) -> dict:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hccguide.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a loaded machine can take a minute to import and start the server
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        t = time.perf_counter()
        urllib.request.urlopen(base + "/api/search?q=warm+up", timeout=120).read()
        first_ms = (time.perf_counter() - t) * 1000
        ms = []
        for _ in range(rounds):
            for q in queries:
                url = f"{base}/api/search?{urllib.parse.urlencode({'q': q, 'limit': 10})}"
                t = time.perf_counter()
                urllib.request.urlopen(url, timeout=30).read()
                ms.append((time.perf_counter() - t) * 1000)
        return {**_percentiles(ms), "first_request_ms": round(first_ms, 1), "server_rss_mb": round(_rss_mb(proc.pid))}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query sets for latency")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP figures")
    args = parser.parse_args()

    kb = open_kb()
    code_set = choose_code_set(kb).code_set  # the code set search answers from by default (today's)
    out: dict = {"kb": kb.release_id, "code_set": code_set, "cpus": os.cpu_count()}

    rss0 = _rss_mb()
    tmp = Path(tempfile.mkdtemp(prefix="hccguide-search-bench-"))
    try:
        t = time.perf_counter()
        built = index_mod.build_index(kb, code_set, tmp / "index")
        out["index_build_s"] = round(time.perf_counter() - t, 2)
        out["index_docs"] = len(built.docs)
        out["index_disk_mb"] = round(sum(p.stat().st_size for p in (tmp / "index").rglob("*")) / 2**20, 1)
        del built
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    kb.forget(index_mod.MEMO)
    t = time.perf_counter()
    index_mod.open_index(kb, code_set)  # from the cache next to the KB (built there on first use)
    out["index_open_s"] = round(time.perf_counter() - t, 2)

    queries = [q["query"] for path in SETS.values() for q in load_queries(path)]
    search(kb, "warm up")
    ms = []
    for _ in range(args.rounds):
        for q in queries:
            t = time.perf_counter()
            search(kb, q, limit=10)
            ms.append((time.perf_counter() - t) * 1000)
    out["in_process"] = _percentiles(ms)
    out["rss_mb"] = {
        "before_index": round(rss0),
        "after": round(_rss_mb()),
        "peak": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    for name, path in SETS.items():
        figures = evaluate(kb, load_queries(path))
        out[f"accuracy_{name}"] = {"overall": figures["overall"], **figures["by_category"]}
    if not args.no_http:
        out["http"] = _http(queries, max(1, args.rounds - 1))

    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"KB {out['kb']} ({out['code_set']}), {out['cpus']} CPUs")
    print(
        f"index build {out['index_build_s']} s for {out['index_docs']} codes ({out['index_disk_mb']} MB on disk);"
        f" open from cache {out['index_open_s']} s"
    )
    p = out["in_process"]
    print(f"in process: {p['n']} queries p50 {p['p50_ms']} ms, p95 {p['p95_ms']} ms, max {p['max_ms']} ms")
    if "http" in out:
        h = out["http"]
        print(
            f"HTTP (uvicorn 127.0.0.1): p50 {h['p50_ms']} ms, p95 {h['p95_ms']} ms, max {h['max_ms']} ms; "
            f"first request {h['first_request_ms']} ms; server RSS {h['server_rss_mb']} MB"
        )
    r = out["rss_mb"]
    print(f"RSS: {r['before_index']} MB before the index, {r['after']} MB after, peak {r['peak']} MB")
    for name in SETS:
        print(f"accuracy ({name}): category n top1 top5 mrr")
        for cat, f in out[f"accuracy_{name}"].items():
            print(f"  {cat:15} {f['n']:4} {f['top1']:.3f} {f['top5']:.3f} {f['mrr']:.3f}")


if __name__ == "__main__":
    main()
