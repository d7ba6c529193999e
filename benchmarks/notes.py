"""Note checker speed: pipeline load time, notes/s on 600-1,000-word notes, peak RSS.

Targets (issue 15, 2 cores): >= 30 notes/s on 600-1,000-word notes, pipeline load < 5 s, peak RSS < 1 GB.

Notes: the development set's notes of 600 words or more, and every pair of the other notes joined into one note
(a progress note followed by another encounter's note) when the pair is 600-1,000 words: real sentences, varied
conditions. Two passes: `cold` (the first time each condition phrase is coded: search() runs) and `warm` (the same
notes again: codes come from the KB-handle memo, as in a long-running server or a batch where the same conditions
recur). Load time is measured in this fresh process: imports of spaCy and medspaCy, the lexicon from the KB and the
PhraseMatcher, the sectionizer and ConText rules, and the search index of the code set.

Run: uv run python benchmarks/notes.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from itertools import combinations
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "notes"


def corpus(limit: int) -> list[tuple[str, str]]:
    """(date of service, text) of 600-1,000-word notes."""
    notes = []
    for path in sorted(DATA.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        notes.append((gold["date_of_service"], (DATA / gold["note"]).read_text(encoding="utf-8")))
    out = [(d, t) for d, t in notes if 600 <= len(t.split()) <= 1000]
    for (d1, t1), (_d2, t2) in combinations(notes, 2):
        n = len(t1.split()) + len(t2.split())
        if 600 <= n <= 1000:
            out.append((d1, t1 + "\n\n" + t2))
        if len(out) >= limit:
            break
    return out[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=120, help="notes per pass (default 120)")
    args = parser.parse_args()
    started = time.perf_counter()
    import medspacy.context
    import medspacy.section_detection  # noqa: F401
    import spacy  # noqa: F401

    from hccguide.kb.open import open_kb
    from hccguide.notes.pipeline import check_note, pipeline_for
    from hccguide.search.index import open_index

    imports = time.perf_counter() - started
    imports_cpu = time.process_time()
    kb = open_kb()
    pipeline_for(kb, kb.code_sets[0])
    load = time.perf_counter() - started
    load_cpu = time.process_time()
    open_index(kb, "FY2026")
    index = time.perf_counter() - started - load
    notes = corpus(args.limit)
    words = sum(len(t.split()) for _, t in notes) / len(notes)
    print(f"pipeline load: {load:.2f} s (of which spaCy + medspaCy + hccguide imports {imports:.2f} s; lexicon from "
          f"its cache, phrase index, sectionizer and ConText rules {load - imports:.2f} s); search index open "
          f"{index:.2f} s; CPU time to a loaded pipeline {load_cpu:.2f} s (imports {imports_cpu:.2f} s)")
    print(f"notes: {len(notes)}, mean {words:.0f} words")
    for label in ("cold", "warm"):
        t0, c0 = time.perf_counter(), time.process_time()
        conditions = 0
        for day, text in notes:
            conditions += len(check_note(kb, text, date_of_service=day).conditions)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{label}: {len(notes) / dt:.1f} notes/s wall ({dt / len(notes) * 1000:.0f} ms/note); CPU "
              f"{cpu / len(notes) * 1000:.0f} ms/note = {len(notes) / cpu:.1f} notes/s per core; {conditions} conditions")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
