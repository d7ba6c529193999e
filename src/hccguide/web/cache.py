"""Answers the faces have computed recently, kept on the KB handle (KB.memo, released with it): code pages and
search answers, keyed by every argument and by today's date (both default to the code set in force today).

Bounded LRU (ANSWERS_MAX entries per kind): coders look the same codes and phrases up again and again (the as-you-type
list repeats each prefix), and a code page costs 50-90 ms and a search 70-100 ms on a loaded 2-core machine
(benchmarks/load.py). Only answers are cached, never errors. Cached dicts are shared between requests: the faces read
them and never change them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, TypeVar

T = TypeVar("T")
ANSWERS_MAX = 512


class LRU:
    """A thread-safe least-recently-used map of at most `maxsize` entries."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        """The entry for `key`, made by `make()` (outside the lock; a race makes it twice, harmlessly)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]  # type: ignore[no-any-return]
        value = make()
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)


def answer(kb: Any, kind: str, args: tuple, make: Callable[[], T]) -> T:
    """`make()`'s answer for (kind, args, today), cached on `kb` (key ("web.cache", kind))."""
    lru: LRU = kb.memo(("web.cache", kind), lambda: LRU(ANSWERS_MAX))
    return lru.get_or_make((date.today(), *args), make)


def code_page_answer(kb: Any, code: str, fy: int | None, payment_year: int | None) -> dict:
    """`add_ms_drg(code_page(kb, code, fy, payment_year))`, the answer of GET /api/codes/{code} and /codes/{code}."""

    def make() -> dict:
        from hccguide.claims.drg import add_ms_drg  # the MS-DRG section (claims layer, issue 16)
        from hccguide.codes.pages import code_page

        return add_ms_drg(code_page(kb, code, fy=fy, payment_year=payment_year))

    return answer(kb, "code_page", (code.strip().upper(), fy, payment_year), make)


def search_answer(kb: Any, q: str, **options: Any) -> dict:
    """`hccguide.search.query.search(kb, q, **options)`, the answer of GET /api/search and /search."""
    from hccguide.search.query import search

    return answer(kb, "search", (q, *sorted(options.items())), lambda: search(kb, q, **options))
