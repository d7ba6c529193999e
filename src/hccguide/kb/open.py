"""Find and open the built knowledge base, read-only.

`open_kb()` returns a `KB`: a read-only DuckDB connection plus the release facts every answer is stamped
with. Use `kb.cursor()` in threads (one DuckDB cursor per thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from hccguide.errors import KnowledgeBaseMissing
from hccguide.kb import releases

T = TypeVar("T")


@dataclass
class KB:
    """An open knowledge base release."""

    path: Path
    con: duckdb.DuckDBPyConnection
    release_id: str
    default_code_set: str
    code_sets: list[str]  # newest first
    payment_years: list[int]
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    _memo_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def memo(self, key: Any, factory: Callable[[], T]) -> T:
        """The value cached on this KB handle under `key`, made once by `factory()` (thread-safe).

        Every derived table a module keeps in memory (code store, search index, RAF model tables, validity
        sets, ...) lives here, keyed by the module's own key (e.g. ``("raf.tables", model, year)``), so it is
        released with the handle (`close()`) instead of living in a module-level dict forever."""
        try:
            return self._memo[key]
        except KeyError:
            pass
        with self._memo_lock:
            if key not in self._memo:
                self._memo[key] = factory()
            return self._memo[key]

    def forget(self, prefix: Any = None) -> None:
        """Drop memoized values (all, or those whose key is a tuple starting with `prefix`)."""
        with self._memo_lock:
            if prefix is None:
                self._memo.clear()
            else:
                for k in [k for k in self._memo if isinstance(k, tuple) and k and k[0] == prefix]:
                    del self._memo[k]

    def close(self) -> None:
        """Release the memo and the DuckDB connection."""
        self.forget()
        self.con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor owned by the calling thread."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self.con.cursor()
            self._local.cursor = cur
        return cur

    def query(self, sql: str, params: list | tuple | None = None) -> list[dict]:
        """Run SQL on this thread's cursor; rows as dicts."""
        cur = self.cursor()
        cur.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @cached_property
    def sources(self) -> list[dict]:
        """The provenance table: every file this release was built from."""
        return self.query("SELECT * FROM provenance ORDER BY source_key")

    def stamp(self) -> dict:
        """What every output carries: release id and code sets / payment years available."""
        return {"release_id": self.release_id, "code_sets": self.code_sets, "payment_years": self.payment_years}


def open_kb(path: Path | None = None, *, build_if_missing: bool = False) -> KB:
    """Open the KB at `path`, else the current release in kb_home().

    Raises KnowledgeBaseMissing if none is built (unless build_if_missing, which builds it first).
    """
    if path is None:
        path = releases.read_current()
    if path is None and build_if_missing:
        from hccguide.kb.build import build

        path = build()
    if path is None or not Path(path).is_file():
        raise KnowledgeBaseMissing(
            "no knowledge base is built yet",
            field="kb",
            value=str(path) if path else None,
            fix="run `hccguide kb build`",
        )
    con = duckdb.connect(str(path), read_only=True)
    row = con.execute(
        "SELECT release_id, default_code_set, code_sets, payment_years, schema_version FROM release"
    ).fetchone()
    assert row is not None
    if row[4] != releases.SCHEMA_VERSION:
        con.close()
        if build_if_missing:
            from hccguide.kb.build import build

            return open_kb(build(), build_if_missing=False)
        raise KnowledgeBaseMissing(
            f"the knowledge base was built by another hccguide version (schema {row[4]}, "
            f"this version reads schema {releases.SCHEMA_VERSION})",
            field="kb",
            value=str(path),
            fix="run `hccguide kb build` to build the current release",
        )
    return KB(Path(path), con, row[0], row[1], list(row[2]), list(row[3]))


_SHARED: dict[str, KB] = {}
_LOCK = threading.Lock()


def shared_kb(path: Path | None = None) -> KB:
    """One KB per process (the faces share it); opened on first use."""
    key = str(path or releases.read_current() or "")
    with _LOCK:
        if key not in _SHARED:
            _SHARED[key] = open_kb(path)
        return _SHARED[key]
