"""The code store (KB tables copied into Python dicts, `codes.store`) against DuckDB point queries (issue 13.4).

For a random sample of codes of the default code set, times the reads one code page needs, two ways:
- point queries: the codes row, its ancestors, children and siblings, the category's codes (confusable
  neighbours), the notes of the code, its ancestors, block and chapter, the 7th characters, the HCC mappings, the
  coefficients, hierarchies, labels, chronic flags and edits of the mapped HCCs (about a dozen SELECTs);
- the code store: the same rows from the in-memory dicts (`code_store(kb)`), after its one-off load.
Prints p50/p95 per code, the store's load time and the process RSS before and after loading it (Linux
/proc/self/status). Run: uv run python benchmarks/code_store.py [sample size, default 300]
"""

from __future__ import annotations

import random
import sys
import time

from hccguide.codes.store import code_store
from hccguide.kb.open import KB, shared_kb


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def point_queries(kb: KB, code_set: str, code: str) -> int:
    """The rows a code page reads, by point queries; returns how many rows came back."""
    q = kb.query
    row = q("SELECT * FROM codes WHERE code_set = ? AND code = ?", [code_set, code])[0]
    prefixes = [code[:n] for n in range(3, len(code))]
    ancestors = q("SELECT * FROM codes WHERE code_set = ? AND code IN (SELECT unnest(?))", [code_set, prefixes])
    children = q(
        "SELECT code, code_dotted, title, billable FROM codes WHERE code_set = ? AND parent = ?", [code_set, code]
    )
    siblings = q(
        "SELECT code, code_dotted, title, billable FROM codes WHERE code_set = ? AND parent IS NOT DISTINCT FROM ?",
        [code_set, row["parent"]],
    )
    category = q(
        "SELECT code, title, billable, seq FROM codes WHERE code_set = ? AND code LIKE ?", [code_set, code[:3] + "%"]
    )
    nodes = [code, *prefixes]
    notes = q(
        "SELECT * FROM notes WHERE code_set = ? AND ((node_kind = 'code' AND node IN (SELECT unnest(?))) OR "
        "(node_kind = 'block' AND node = ?) OR (node_kind = 'chapter' AND node = ?))",
        [code_set, nodes, row["block_id"], str(row["chapter"])],
    )
    seventh = q(
        "SELECT * FROM seventh_characters WHERE code_set = ? AND node = ?", [code_set, row["seventh_char_source"] or ""]
    )
    maps = q("SELECT * FROM dx_to_cc WHERE code = ?", [code])
    terms = sorted({("RXHCC" if m["model"].startswith("Rx") else "HCC") + m["cc"] for m in maps})
    coefficients = q("SELECT * FROM coefficients WHERE term IN (SELECT unnest(?))", [terms]) if terms else []
    ccs = sorted({m["cc"] for m in maps})
    hier = (
        q(
            "SELECT * FROM hierarchies WHERE cc_parent IN (SELECT unnest(?)) OR cc_child IN (SELECT unnest(?))",
            [ccs, ccs],
        )
        if ccs
        else []
    )
    labels = q("SELECT * FROM hcc_labels WHERE cc IN (SELECT unnest(?))", [ccs]) if ccs else []
    chronic = q("SELECT * FROM hcc_chronic WHERE cc IN (SELECT unnest(?))", [ccs]) if ccs else []
    edits = q("SELECT * FROM dx_edits WHERE code = ?", [code])
    return sum(
        map(
            len,
            (ancestors, children, siblings, category, notes, seventh, maps, coefficients, hier, labels, chronic, edits),
        )
    )


def store_reads(kb: KB, code_set: str, code: str) -> int:
    """The same rows from the in-memory code store."""
    s = code_store(kb)
    row = s.codes[(code_set, code)]
    prefixes = [code[:n] for n in range(3, len(code))]
    ancestors = [s.codes[(code_set, p)] for p in prefixes if (code_set, p) in s.codes]
    children = s.children.get((code_set, code), [])
    siblings = s.children.get((code_set, row["parent"]), []) if row["parent"] else []
    category = s.category_codes(code_set, code[:3])
    notes = [n for node in [code, *prefixes] for n in s.notes.get((code_set, "code", node), [])]
    notes += s.notes.get((code_set, "block", row["block_id"]), []) + s.notes.get(
        (code_set, "chapter", str(row["chapter"])), []
    )
    seventh = s.seventh.get((code_set, row["seventh_char_source"] or ""), [])
    maps = s.dx_to_cc.get(code, [])
    coefficients = [
        c for m in maps for c in s.coefficients.get((m["model"], s.models[m["model"]]["hcc_prefix"] + m["cc"]), [])
    ]
    return sum(map(len, (ancestors, children, siblings, category, notes, seventh, maps, coefficients)))


def _pct(ms: list[float]) -> str:
    ms = sorted(ms)
    return f"p50 {ms[len(ms) // 2]:.3f} ms  p95 {ms[int(len(ms) * 0.95)]:.3f} ms  (n={len(ms)})"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    kb = shared_kb()
    code_set = kb.default_code_set
    codes = [r["code"] for r in kb.query("SELECT code FROM codes WHERE code_set = ?", [code_set])]
    sample = random.Random(20261201).sample(codes, n)
    rss0 = _rss_mb()
    timings = []
    for code in sample:
        t = time.perf_counter()
        point_queries(kb, code_set, code)
        timings.append((time.perf_counter() - t) * 1000)
    rss1 = _rss_mb()
    print(f"release {kb.release_id}, code set {code_set}")
    print(f"point queries (DuckDB, ~13 SELECTs a page): {_pct(timings)}; RSS {rss0:.0f} -> {rss1:.0f} MB")
    t = time.perf_counter()
    code_store(kb)
    load = time.perf_counter() - t
    rss2 = _rss_mb()
    print(f"code store load: {load:.2f} s; RSS {rss1:.0f} -> {rss2:.0f} MB (+{rss2 - rss1:.0f} MB)")
    timings = []
    for code in sample:
        t = time.perf_counter()
        store_reads(kb, code_set, code)
        timings.append((time.perf_counter() - t) * 1000)
    print(f"code store reads:                           {_pct(timings)}")


if __name__ == "__main__":
    main()
