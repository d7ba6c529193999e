"""Note checker speed: pipeline load time, notes/s on 600-1,000-word notes in one process and in 2 processes, peak
RSS.

Targets (issue 15, 2 cores): >= 30 notes/s on 600-1,000-word notes, pipeline load < 5 s, peak RSS < 1 GB.

Notes: the development set's notes of 600 words or more, and every pair of the other notes joined into one note
(a progress note followed by another encounter's note) when the pair is 600-1,000 words: real sentences, varied
conditions.

- load: a fresh process importing spaCy, the two medspaCy components (notes/pipeline.py `_medspacy_parts`) and
  hccguide, opening the KB and building the pipeline of the code set (lexicon from its cache next to the KB, phrase
  index, sectionizer, ConText rules) and the code cache (notes/codecache.py). The search index is not opened: it
  opens with the first condition phrase the code cache does not hold, and is timed apart.
- one process, cold: the in-memory code cache emptied, so every condition phrase goes to search() (the search
  index opens in this pass; its open time is printed apart); warm: the same notes again.
- two processes: `notes.batch` workers (spawn, KB and pipeline loaded once per worker), warmed up on a few notes,
  then the whole corpus; and the same through `check_many(processes=2)` including the workers' start.

CPU time is printed beside wall time: the machine is shared; `uptime` load average is printed with the figures.
Bytecode: with PYTHONDONTWRITEBYTECODE=1 and a venv installed without .pyc files every import compiles its source
(seconds of the load); `uv sync --compile-bytecode` (or UV_COMPILE_BYTECODE=1) writes them once.

Run: uv run python benchmarks/notes.py [--limit N] [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import os
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


def load_average() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def two_processes(kb_path: str, notes: list[tuple[str, str]], processes: int) -> tuple[float, float]:
    """(notes/s after the workers are warm, notes/s including their start) with `processes` workers."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from hccguide.kb.open import open_kb
    from hccguide.notes.batch import CHUNK, _check_chunk, _init_worker, check_many

    items = [(f"n{i}", text, day) for i, (day, text) in enumerate(notes)]
    options = {"default_day": None, "payment_year": None, "setting": "outpatient"}
    chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
    with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker, initargs=(kb_path,)) as pool:
        list(pool.map(_check_chunk, chunks[:processes * 2], [options] * (processes * 2)))  # warm-up
        t0 = time.perf_counter()
        done = sum(len(out) for out, _ in pool.map(_check_chunk, chunks, [options] * len(chunks)))
        warm = done / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    n = sum(1 for _ in check_many(open_kb(Path(kb_path)), items, processes=processes))
    started = n / (time.perf_counter() - t0)
    return warm, started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=120, help="notes per pass (default 120)")
    parser.add_argument("--processes", type=int, default=2, help="workers of the multi-process figure (default 2)")
    args = parser.parse_args()
    print(load_average())
    started = time.perf_counter()
    from hccguide.notes import codecache
    from hccguide.notes.pipeline import check_note, pipeline_for

    imports = time.perf_counter() - started
    imports_cpu = time.process_time()
    from hccguide.kb.open import open_kb

    kb = open_kb()
    pipeline_for(kb, "FY2026")
    cached = len(codecache._cache(kb).entries)
    load = time.perf_counter() - started
    load_cpu = time.process_time()
    print(f"pipeline load: {load:.2f} s wall, {load_cpu:.2f} s CPU (imports of spaCy, medspaCy parts and hccguide "
          f"{imports:.2f} s wall, {imports_cpu:.2f} s CPU; KB, lexicon cache, phrase index, sectionizer, ConText, "
          f"{cached} cached code choices {load - imports:.2f} s)")
    notes = corpus(args.limit)
    words = sum(len(t.split()) for _, t in notes) / len(notes)
    print(f"notes: {len(notes)}, mean {words:.0f} words")
    from hccguide.search.index import open_index

    codecache.start_empty(kb)
    for label in ("cold", "warm"):
        t0, c0 = time.perf_counter(), time.process_time()
        if label == "cold":
            open_index(kb, "FY2026")
            index = time.perf_counter() - t0
            print(f"search index open (first phrase not in the code cache): {index:.2f} s")
            t0, c0 = time.perf_counter(), time.process_time()
        conditions = 0
        for day, text in notes:
            conditions += len(check_note(kb, text, date_of_service=day).conditions)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"one process, {label}: {len(notes) / dt:.1f} notes/s wall ({dt / len(notes) * 1000:.0f} ms/note); "
              f"CPU {cpu / len(notes) * 1000:.0f} ms/note = {len(notes) / cpu:.1f} notes/s per core; {conditions} "
              f"conditions; {load_average()}")
    codecache.save(kb)
    warm, with_start = two_processes(str(kb.path), notes, args.processes)
    print(f"{args.processes} processes (notes.batch workers): {warm:.1f} notes/s once warm; {with_start:.1f} notes/s "
          f"including the workers' start (check_many); {load_average()}")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; of a "
          f"worker: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
