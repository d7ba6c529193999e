"""Answers the faces have computed recently, kept on the KB handle (KB.memo, released with it): code pages and
search answers, keyed by every argument and by today's date (both default to the code set in force today).

Bounded LRU (ANSWERS_MAX entries per kind): coders look the same codes and phrases up again and again (the as-you-type
list repeats each prefix), and a code page costs 50-90 ms and a search 70-100 ms on a loaded 2-core machine
(benchmarks/load.py). Only answers are cached, never errors. Cached dicts are shared between requests: the faces read
them and never change them.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from pathlib import Path
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


# ---------------------------------------------------------------------------------------------------- response bytes
# GET routes whose 200 answer depends only on the path, the query string, the KB release and today's date (the code
# set in force): code pages and search, both faces. No request header changes such an answer (the pages read only
# request.url.path; Accept and HX-Request change only how an *error* is shown, and errors are never cached).
CACHED_PREFIXES = ("/codes/", "/api/codes/")
CACHED_PATHS = frozenset({"/search", "/api/search"})
RESPONSE_CACHE_BYTES = 64_000_000  # 64 MB: about 1,200 code pages (HTML ~52 kB, JSON ~46 kB) or 20,000 searches
CACHE_CONTROL = b"private, no-cache"  # a browser keeps the page and revalidates it (If-None-Match -> 304)


def cacheable(method: str, path: str) -> bool:
    """True for a GET of a code page or a search (either face)."""
    return method == "GET" and (path in CACHED_PATHS or path.startswith(CACHED_PREFIXES))


class CachedResponse:
    """One stored 200 answer: its response headers (without the security headers Guard adds to every answer),
    body bytes and ETag (a quoted BLAKE2b digest of the body, 16 bytes)."""

    __slots__ = ("body", "etag", "headers")

    def __init__(self, headers: list[tuple[bytes, bytes]], body: bytes, etag: bytes) -> None:
        self.headers, self.body, self.etag = headers, body, etag


def etag_of(body: bytes) -> bytes:
    """The strong ETag of a body: `"<32 hex digits>"` (BLAKE2b, 16 bytes)."""
    import hashlib

    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def etag_matches(if_none_match: bytes | None, etag: bytes) -> bool:
    """RFC 9110 13.1.2: If-None-Match matches `*` or any listed tag (weak comparison: a W/ prefix is ignored)."""
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(b",")]
    return b"*" in tags or any(t.removeprefix(b"W/") == etag for t in tags)


class ResponseCache:
    """Bytes of recent 200 answers of cacheable GET routes, LRU, bounded by the total of body sizes.

    Key: (path, raw query string, KB release token, today's date). Used from the event loop thread only (ASGI
    middleware), so there is no lock. `max_bytes` 0 turns it off. Counts hits and misses."""

    def __init__(self, max_bytes: int = RESPONSE_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[Hashable, CachedResponse] = OrderedDict()

    def get(self, key: Hashable) -> CachedResponse | None:
        entry = self._data.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: Hashable, entry: CachedResponse) -> None:
        """Store an answer (one larger than a quarter of the budget is not kept)."""
        if len(entry.body) * 4 > self.max_bytes:
            return
        old = self._data.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self._data[key] = entry
        self.size += len(entry.body)
        while self.size > self.max_bytes:
            _, evicted = self._data.popitem(last=False)
            self.size -= len(evicted.body)

    def clear(self) -> None:
        self._data.clear()
        self.size = 0

    def __len__(self) -> int:
        return len(self._data)


RELEASE_RECHECK_SECONDS = 1.0


class ReleaseToken:
    """`release_token()`: the release id of the KB the faces answer from (`shared_kb().release_id`), None when
    none is built; part of every response-cache key.

    `shared_kb()` makes the home folder and reads `current.json` on each call (0.1-0.2 ms of syscalls, each a
    chance for a busy worker thread to take the GIL from the event loop). This stats `current.json` at most once
    per RELEASE_RECHECK_SECONDS and asks `shared_kb()` again only when the file's stat signature (inode, size,
    mtime) changed: a `kb build` / `kb add` while serving starts new keys within a second. Event loop only."""

    def __init__(self) -> None:
        self.checked_at = float("-inf")
        self.home: str | None = None
        self.sig: tuple | None = None
        self.rid: str | None = None
        self._pointers: dict[str | None, Path] = {}

    def __call__(self) -> str | None:
        import time

        from hccguide.errors import HccguideError
        from hccguide.kb import releases

        now = time.monotonic()
        home = os.environ.get(releases.HOME_ENV)
        if self.rid is not None and home == self.home and now - self.checked_at < RELEASE_RECHECK_SECONDS:
            return self.rid
        if home not in self._pointers:  # current_pointer() makes the home folder: once per home
            self._pointers[home] = releases.current_pointer()
        pointer = self._pointers[home]
        try:
            st = pointer.stat()
            sig: tuple = (str(pointer), st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            sig = (str(pointer), None)
        if sig != self.sig or self.rid is None:
            from hccguide.kb.open import shared_kb

            try:
                self.rid = shared_kb().release_id
            except HccguideError:  # no KB: the route answers its 503; nothing cached
                self.rid = None
                return None
            self.sig = sig
        self.checked_at, self.home = now, home
        return self.rid


release_token = ReleaseToken()
