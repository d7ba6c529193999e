"""KB build time and file size (targets: < 60 s and < 300 MB on 2 cores), printed, never asserted.

Usage:
    uv run python benchmarks/kb_build.py                 # the default KB (FY2026 + CMS tables + MCE validity)
    uv run python benchmarks/kb_build.py --add FY2025 --add FY2021 [--wheels DIR]
        # also with code sets added from the simple-icd-10-cm wheels (in DIR, else downloaded with pip)

Each run builds into a fresh temporary HCCGUIDE_HOME (force), so nothing is reused from a cache.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0
TARGET_MB = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--add", action="append", default=[], help="code set to add first (FY2025, FY2021)")
    parser.add_argument("--wheels", type=Path, help="folder holding simple_icd_10_cm-<v>-py3-none-any.whl files")
    args = parser.parse_args()

    from hccguide.kb.add import WHEELS, add_from_wheel, download_wheel
    from hccguide.kb.build import build
    from hccguide.kb.open import open_kb

    with tempfile.TemporaryDirectory(prefix="hccguide-bench-") as tmp:
        home = Path(tmp)
        os.environ["HCCGUIDE_HOME"] = str(home)
        for code_set in args.add:
            version = WHEELS[code_set.upper()].version
            folder = args.wheels or home / "wheels"
            wheel = folder / f"simple_icd_10_cm-{version}-py3-none-any.whl"
            if not wheel.is_file():
                wheel = download_wheel(version, home / "wheels")
            add_from_wheel(code_set, wheel=wheel, home=home)  # builds once; the timed build below is forced
        started = time.perf_counter()
        path = build(home, force=True)
        seconds = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        kb = open_kb(path)
        tables = [r["table_name"] for r in kb.query("SELECT table_name FROM information_schema.tables ORDER BY 1")]
        counts = {t: kb.query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables}
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"release      {kb.release_id}  code sets {', '.join(kb.code_sets)}  cpus {os.cpu_count()}")
        print(f"build time   {seconds:6.1f} s   (target < {TARGET_SECONDS:.0f} s)  {'ok' if seconds < 60 else 'OVER'}")
        print(f"file size    {size_mb:6.1f} MB  (target < {TARGET_MB:.0f} MB) {'ok' if size_mb < 300 else 'OVER'}")
        print(f"peak RSS     {peak_mb:6.0f} MB")
        for table, n in counts.items():
            print(f"  {table:<20} {n:>10,} rows")
        kb.con.close()


if __name__ == "__main__":
    main()
