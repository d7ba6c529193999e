"""Accuracy of the encoder search on a query set: top-1, top-5 and MRR, overall and per category.

The set is tests/data/search_queries.csv (query, category, acceptable_codes space-separated dotted codes, why),
written by hand before the engine was tuned. A query counts as found at rank r when the r-th result's code is one
of its acceptable codes (a header result counts too, when the header itself is listed as acceptable).
"""

from __future__ import annotations

import csv
from pathlib import Path

from hccguide.kb.open import KB
from hccguide.search.query import search


def load_queries(path: Path) -> list[dict]:
    """Rows of the query CSV: {query, category, acceptable: list[str], why}."""
    with path.open(encoding="utf-8") as fh:
        return [
            {
                "query": r["query"],
                "category": r["category"],
                "acceptable": r["acceptable_codes"].split(),
                "why": r["why"],
            }
            for r in csv.DictReader(fh)
        ]


def evaluate(kb: KB, queries: list[dict], limit: int = 10) -> dict:
    """{"overall": {n, top1, top5, mrr}, "by_category": {category: {...}}, "misses": [{query, expected, got}]}."""
    per: dict[str, list[int | None]] = {}
    misses = []
    for q in queries:
        codes = [r["code"] for r in search(kb, q["query"], limit=limit)["results"]]
        rank = next((k + 1 for k, c in enumerate(codes) if c in q["acceptable"]), None)
        per.setdefault(q["category"], []).append(rank)
        if rank != 1:
            misses.append(
                {
                    "query": q["query"],
                    "category": q["category"],
                    "expected": q["acceptable"],
                    "got": codes[:5],
                    "rank": rank,
                }
            )

    def figures(ranks: list[int | None]) -> dict:
        n = len(ranks)
        return {
            "n": n,
            "top1": round(sum(1 for r in ranks if r == 1) / n, 3),
            "top5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 3),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 3),
        }

    every = [r for ranks in per.values() for r in ranks]
    return {"overall": figures(every), "by_category": {k: figures(v) for k, v in sorted(per.items())}, "misses": misses}
