"""web/cache.py: answers cached on the KB handle are the library's answers, bounded, and released with the memo."""

from __future__ import annotations

from hccguide.claims.drg import add_ms_drg
from hccguide.codes.pages import code_page
from hccguide.kb.open import KB
from hccguide.search.query import search
from hccguide.web.cache import LRU, code_page_answer, search_answer


def test_cached_answers_equal_the_library(app_kb: KB) -> None:
    first = code_page_answer(app_kb, "m87.352", None, 2026)
    assert first == add_ms_drg(code_page(app_kb, "m87.352", payment_year=2026))
    assert code_page_answer(app_kb, "M87.352", None, 2026) is first  # same code, other spelling: one entry
    hits = search_answer(app_kb, "chf exacerbation", limit=5, billable=False, hcc=None, chapter=None, fy=None)
    assert hits == search(app_kb, "chf exacerbation", limit=5)
    assert search_answer(app_kb, "chf exacerbation", limit=6, billable=False, hcc=None, chapter=None, fy=None) != hits


def test_lru_keeps_the_most_recent_entries() -> None:
    lru = LRU(3)
    for k in "abcd":
        lru.get_or_make(k, lambda k=k: k.upper())
    assert len(lru) == 3
    assert lru.get_or_make("a", lambda: "made again") == "made again"  # 'a' was the oldest: evicted
    assert lru.get_or_make("d", lambda: "not made") == "D"


def test_the_cache_is_released_with_the_memo(app_kb: KB) -> None:
    code_page_answer(app_kb, "E11.9", None, None)
    app_kb.forget("web.cache")
    assert ("web.cache", "code_page") not in app_kb._memo
