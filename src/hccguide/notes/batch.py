"""Many notes at once: `check_many` runs `check_note` over (note_id, text, date) items in this process or in N
worker processes (concurrent.futures, 'spawn': each worker opens the KB read-only and loads the pipeline once),
and yields, in input order, (note_id, rows, reason): the finding rows of a checked note (one per condition,
`finding_rows`), or the reason a note was rejected (the error's code, field and message: never the text).

Rows in = notes checked + notes rejected. The code choices workers find are handed back and saved once in the
parent (notes/codecache.py), so the next run opens the search index only for new phrases.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from hccguide.errors import BadInput, HccguideError

# Below this many notes per worker a process pool costs more (each worker loads the pipeline) than it saves.
MIN_NOTES_PER_WORKER = 8
CHUNK = 4

Item = tuple[str, Any, Any]


def default_processes() -> int:
    """The cores this process may run on (os.sched_getaffinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def finding_rows(note_id: str, result: Any) -> list[dict]:
    """One row per condition of a NoteResult: note_id, condition words and offsets, section, assertion, codes,
    HCCs ('V28:37'), supported, reason, MEAT counts, queries, code set, payment year."""
    rows = []
    for c in result.conditions:
        rows.append({
            "note_id": note_id, "condition": c.text, "start": c.start, "end": c.end, "section": c.section,
            "assertion": c.assertion, "codes": " ".join(cc.code for cc in c.codes),
            "hccs": " ".join(f"{h.model.split()[-1]}:{h.hcc}" for h in c.hcc), "supported": c.supported,
            "reason": c.reason, "monitor": len(c.meat.monitor), "evaluate": len(c.meat.evaluate),
            "assess": len(c.meat.assess), "treat": len(c.meat.treat), "queries": " | ".join(c.queries),
            "code_set": result.code_set, "payment_year": result.payment_year,
        })
    return rows


def _check(kb: Any, item: Item, options: dict) -> tuple[str, list[dict] | None, str | None]:
    from hccguide.notes.pipeline import check_note

    note_id, text, day = item
    try:
        if not isinstance(text, str):
            raise BadInput("the note text is missing", field="text", value=None, fix="a text per row")
        result = check_note(kb, text, date_of_service=day or options["default_day"],
                            payment_year=options["payment_year"], setting=options["setting"])
    except HccguideError as exc:  # the reason names the field and rule, never the text
        return note_id, None, f"{exc.code}: {exc.field}: {exc}"
    return note_id, finding_rows(note_id, result), None


_WORKER: dict[str, Any] = {}


def _init_worker(kb_path: str) -> None:
    """Open the KB read-only in this worker; the pipeline of a code set loads with its first note."""
    import hccguide.notes.pipeline  # noqa: F401  (spaCy and medspaCy imports, once per worker)
    from hccguide.kb.open import open_kb

    _WORKER["kb"] = open_kb(Path(kb_path))


def _check_chunk(items: list[Item], options: dict) -> tuple[list[tuple[str, list[dict] | None, str | None]], dict]:
    from hccguide.notes import codecache

    kb = _WORKER["kb"]
    out = [_check(kb, item, options) for item in items]
    found = codecache.pending(kb)
    codecache.save_done(kb, found)
    return out, found


def check_many(
    kb: Any,
    items: Iterable[Item],
    *,
    processes: int | None = None,
    default_day: date | str | None = None,
    payment_year: int | None = None,
    setting: str = "outpatient",
) -> Iterator[tuple[str, list[dict] | None, str | None]]:
    """(note_id, rows, reason) per item, in order. `processes`: worker processes (default: the cores this process
    may use; a batch smaller than 8 notes per worker runs here). Raises BadInput for processes < 1."""
    from hccguide.notes import codecache

    items = list(items)
    explicit = processes is not None
    n = default_processes() if processes is None else processes
    if n < 1:
        raise BadInput("processes must be at least 1", field="processes", value=n, fix="--processes 2")
    if not explicit:
        n = min(n, max(1, len(items) // MIN_NOTES_PER_WORKER))
    options = {"default_day": default_day, "payment_year": payment_year, "setting": setting}
    if n == 1 or len(items) < 2:
        for item in items:
            yield _check(kb, item, options)
        codecache.save(kb)
        return
    import multiprocessing

    chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker, initargs=(str(kb.path),)) as pool:
        for out, found in pool.map(_check_chunk, chunks, [options] * len(chunks)):
            codecache.merge(kb, found)
            yield from out
    codecache.save(kb)
