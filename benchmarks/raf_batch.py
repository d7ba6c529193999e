"""RAF batch throughput and memory: DuckDB and Spark end to end vs hccinfhir (prints figures; no assertions).

Usage: uv run python benchmarks/raf_batch.py [--members 1000000] [--threads 2] [--spark-members 1000000]
       [--no-spark] [--peer-sample 20000]
DuckDB is timed as a user runs it: the `hccguide score-batch` command in a fresh process, wall clock from start-up
(imports, KB open) to the files written (issue 13.9 target: 1,000,000 members < 5 s, >= 15x hccinfhir's members/s);
its --json summary gives the engine's own seconds. Spark runs in its own process; peak RSS is measured inside it
(Python ru_maxrss plus the JVM VmHWM). Figures are noisy on a shared machine: run when it is idle and say so.
"""

from __future__ import annotations

import argparse
import compileall
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# hccinfhir's calculate_raf keyword -> members-file column (docs/raf.md)
PEER_ARGS = {
    "age": "age",
    "sex": "sex",
    "dual_elgbl_cd": "dual_status",
    "orec": "orec",
    "crec": "crec",
    "new_enrollee": "new_enrollee",
    "snp": "snp",
    "lti": "lti",
}


def child(kind: str, members: str, dx: str, out: str, threads: int) -> None:
    from hccguide.kb.open import open_kb

    kb = open_kb()
    t = time.perf_counter()
    if kind == "duckdb":
        from hccguide.raf.engine_duckdb import run_duckdb

        res = run_duckdb(
            kb, Path(members), Path(dx), out=Path(out), rejects=Path(out + ".rej.parquet"), threads=threads
        )
    elif kind == "spark":
        from hccguide.raf.engine_spark import run_spark, spark_session

        spark = spark_session(f"local[{threads}]")
        t = time.perf_counter()
        res = run_spark(kb, Path(members), Path(dx), out=Path(out), rejects=Path(out + ".rej.parquet"), spark=spark)
    else:
        raise SystemExit(kind)
    secs = time.perf_counter() - t
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # this Python process
    if kind == "spark":  # plus the JVM's high-water mark (VmHWM), read before the JVM exits
        pid = spark.sparkContext._gateway.proc.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                rss_kib += int(line.split()[1])
    print(json.dumps({"seconds": secs, "members": res.members_scored, "dx": res.dx_used, "rss_kib": rss_kib}))


def run_child(kind: str, members: Path, dx: Path, out: Path, threads: int) -> dict:
    p = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(members), str(dx), str(out), str(threads)],
        capture_output=True,
        text=True,
        check=True,
    )
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("{")][-1]
    data = json.loads(line)
    data["peak_rss_gib"] = data["rss_kib"] / 1024 / 1024  # KiB -> GiB, measured inside the child
    return data


def run_cli(members: Path, dx: Path, out: Path, threads: int) -> dict:
    """`hccguide score-batch` in a fresh process: wall seconds including start-up, the engine's seconds, peak RSS."""
    exe = Path(sys.executable).parent / "hccguide"
    args = [str(exe), "score-batch", str(members), str(dx), "--out", str(out), "--rejects", str(out) + ".rej.parquet"]
    args += ["--threads", str(threads), "--json"]
    t = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    summary = json.loads(p.stdout)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    return {"wall": wall, "engine": summary["seconds"], "members": summary["members_scored"], "rss_gib": rss}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--spark-members", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--peer-sample", type=int, default=20_000)
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--cli-runs", type=int, default=3, help="hccguide score-batch runs (the median is reported)")
    ap.add_argument("--child", nargs=5)
    a = ap.parse_args()
    if a.child:
        child(a.child[0], a.child[1], a.child[2], a.child[3], int(a.child[4]))
        return
    import duckdb

    from hccguide.kb.open import open_kb
    from hccguide.raf.segments import Member
    from hccguide.raf.synthetic import generate, write_files
    from hccguide.raf.trace import score_member

    kb = open_kb(build_if_missing=True)
    folder = Path(tempfile.mkdtemp(prefix="raf_bench_"))
    con = duckdb.connect()
    t = time.perf_counter()
    generate(con, kb, a.members, seed=1)
    m, d = write_files(con, folder)
    n_dx = con.sql("SELECT count(*) FROM gen_dx").fetchall()[0][0]
    print(
        f"generated {a.members:,} members, {n_dx:,} diagnoses ({n_dx / a.members:.2f} per member) "
        f"in {time.perf_counter() - t:.1f} s"
    )

    # as an installed package runs: pip compiles the bytecode at install; a checkout run with PYTHONDONTWRITEBYTECODE
    # set would compile every module of hccguide at every start (0.1-0.2 s)
    import hccguide

    compileall.compile_dir(Path(hccguide.__file__).parent, quiet=1)
    runs = [run_cli(m, d, folder / "duck.parquet", a.threads) for _ in range(a.cli_runs)]
    r = sorted(runs, key=lambda x: x["wall"])[len(runs) // 2]  # the median run
    walls = ", ".join(f"{x['wall']:.2f}" for x in runs)
    print(
        f"duckdb  ({a.threads} threads): hccguide score-batch {r['wall']:.2f} s end to end with CLI start-up, median "
        f"of {len(runs)} runs ({walls} s; "
        f"{r['engine']:.2f} s in the engine), {r['members'] / r['wall']:,.0f} members/s, "
        f"peak RSS {max(x['rss_gib'] for x in runs):.2f} GiB  (targets: 1M members < 5 s, < 4 GiB)"
    )
    duck_rate = r["members"] / r["wall"]

    if not a.no_spark:
        sm, sd = m, d
        if a.spark_members and a.spark_members < a.members:
            con2 = duckdb.connect()
            generate(con2, kb, a.spark_members, seed=1)
            sm, sd = write_files(con2, folder / "spark_in")
        s = run_child("spark", sm, sd, folder / "spark.parquet", a.threads)
        print(
            f"spark   (local[{a.threads}]): {s['seconds']:.2f} s end to end (session start excluded), "
            f"{s['members'] / s['seconds']:,.0f} members/s, peak RSS {s['peak_rss_gib']:.2f} GiB "
            f"(Python driver + JVM; target < 90 s)"
        )

    # hccinfhir 0.4.0 on a subsample, one core, in-process
    from hccinfhir.model_calculate import calculate_raf

    sample = con.sql(f"SELECT * FROM gen_members ORDER BY i LIMIT {a.peer_sample}").fetchall()
    cols = [c[0] for c in con.sql("SELECT * FROM gen_members LIMIT 0").description]
    dx: dict[str, list[str]] = {}
    for mid, code in con.sql(
        f"SELECT member_id, dx_code FROM gen_dx WHERE member_id <= 'M{a.peer_sample:09d}'"
    ).fetchall():
        dx.setdefault(mid, []).append(code)
    rows = [dict(zip(cols, r, strict=True)) for r in sample]
    t = time.perf_counter()
    for x in rows:
        calculate_raf(dx.get(x["member_id"], []), "CMS-HCC Model V28", **{k: x[c] for k, c in PEER_ARGS.items()})
    peer_rate = len(rows) / (time.perf_counter() - t)
    print(
        f"hccinfhir 0.4.0 (1 core, {len(rows):,} members): {peer_rate:,.0f} members/s; "
        f"duckdb CLI / hccinfhir = {duck_rate / peer_rate:.1f}x (target >= 15x)"
    )

    # one member with the full trace, in-process
    score_member(kb, Member(age=72, sex="F"), ["E11.22"])
    t = time.perf_counter()
    n = 0
    for x in rows[:2000]:
        score_member(
            kb,
            Member.from_row(x),
            dx.get(x["member_id"], []),
        ).to_dict()
        n += 1
    per = (time.perf_counter() - t) / n * 1000
    print(f"one member with trace (score_member + to_dict): {per:.3f} ms mean over {n:,} members (target < 1 ms)")


if __name__ == "__main__":
    main()
