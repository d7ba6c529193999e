"""The code choices of condition phrases, kept on disk next to the KB so a new process does not open the search
index for phrases already coded.

`search()` (search/query.py) needs the search index in memory (seconds to open: benchmarks/notes.py prints it); the
note checker asks it only for the text of a condition mention and keeps the billable choices (pipeline._search).
Those answers depend on the KB release and on the search module's code and data only, so they are stored in
`notes-codes-<release>-<digest>.json` beside the KB, where the digest is a sha256 of every .py and .csv file of
`hccguide.search` and of notes/pipeline.py (an edit to the ranking or to the synonyms starts a new file; stale
files of the same release are removed when a new one is written).

Shapes: `get(kb, key)` -> list[dict] | None; `put(kb, key, results)`; `pending(kb)` -> {key: results} found since
the last `save`; `merge(kb, entries)` adds entries found by another process; `save(kb)` writes the file (merged
with what is on disk, atomically: a temporary file, then renamed). A folder that cannot be written is skipped.
Keys are 'FY|payment year|lower-case query'; values the JSON of pipeline._search. No note text is stored: only the
words of condition mentions (at most 200 characters each), as the search module's own index holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import resources
from pathlib import Path

from hccguide.kb.open import KB

_MEMO = ("notes.codecache",)


def _digest() -> str:
    h = hashlib.sha256()
    pkg = resources.files("hccguide.search")
    for entry in sorted(pkg.iterdir(), key=lambda p: p.name):
        if entry.name.endswith((".py", ".csv")):
            h.update(entry.name.encode())
            h.update(entry.read_bytes())
    h.update(resources.files("hccguide.notes").joinpath("pipeline.py").read_bytes())
    return h.hexdigest()[:16]


def path_of(kb: KB) -> Path:
    """The cache file of this KB release and search code."""
    return Path(kb.path).parent / f"notes-codes-{kb.release_id}-{_digest()}.json"


class _Cache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, list[dict]] = _read(path)
        self.new: dict[str, list[dict]] = {}


def _read(path: Path) -> dict[str, list[dict]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _cache(kb: KB) -> _Cache:
    return kb.memo(_MEMO, lambda: _Cache(path_of(kb)))


def start_empty(kb: KB) -> None:
    """Forget the entries read from disk in this process (benchmarks/notes.py measures a cold pass with it)."""
    _cache(kb).entries.clear()


def get(kb: KB, key: str) -> list[dict] | None:
    """The stored results of `key`, or None."""
    return _cache(kb).entries.get(key)


def put(kb: KB, key: str, results: list[dict]) -> None:
    """Remember the results of `key` (kept in memory until `save`)."""
    c = _cache(kb)
    c.entries[key] = results
    c.new[key] = results


def pending(kb: KB) -> dict[str, list[dict]]:
    """The entries found in this process since the last `save` (a batch worker hands them to the parent)."""
    return dict(_cache(kb).new)


def save_done(kb: KB, entries: dict[str, list[dict]]) -> None:
    """Forget `entries` as pending (a worker that handed them to its parent, which saves them)."""
    c = _cache(kb)
    for key in entries:
        c.new.pop(key, None)


def merge(kb: KB, entries: dict[str, list[dict]]) -> None:
    """Add entries found by another process (they are saved with this process's own)."""
    for key, results in entries.items():
        put(kb, key, results)


def save(kb: KB) -> int:
    """Write the new entries to the cache file (merged with the file's current content); returns how many were
    new. Stale cache files of the same release (older search code) are removed."""
    c = _cache(kb)
    if not c.new:
        return 0
    n = len(c.new)
    try:
        merged = {**_read(c.path), **c.new}
        fd, tmp = tempfile.mkstemp(prefix=c.path.name + ".tmp-", dir=c.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(merged, f, separators=(",", ":"))
        os.chmod(tmp, 0o644)  # as the lexicon cache beside it (mkstemp makes 0600)
        os.replace(tmp, c.path)
        for other in c.path.parent.glob(f"notes-codes-{kb.release_id}-*.json"):
            if other != c.path:
                other.unlink(missing_ok=True)
    except OSError:
        return 0
    c.new.clear()
    return n
