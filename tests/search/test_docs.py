"""docs/search.md is tested: every row of its examples table is answered with the first result it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hccguide.kb.open import KB
from hccguide.search.index import SearchIndex
from hccguide.search.query import search

DOC = Path(__file__).parents[2] / "docs" / "search.md"
ROWS = re.findall(r"^\| `([^`]+)` \| ([A-Z][0-9][0-9A-Z.]+) \|", DOC.read_text(encoding="utf-8"), flags=re.M)


def test_the_doc_has_examples() -> None:
    assert len(ROWS) >= 8


@pytest.mark.parametrize(("q", "code"), ROWS, ids=[r[0] for r in ROWS])
def test_doc_example(served_kb: KB, index: SearchIndex, q: str, code: str) -> None:
    assert search(served_kb, q, limit=3)["results"][0]["code"] == code
