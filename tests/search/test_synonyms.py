"""synonyms.csv: loaded and validated at start; a bad row names its line."""

from __future__ import annotations

import csv
import re
from importlib import resources

import pytest

from hccguide.errors import SourceError
from hccguide.kb.open import KB
from hccguide.search.index import SearchIndex
from hccguide.search.query import search
from hccguide.search.synonyms import load_synonyms, parse_synonyms
from hccguide.search.text import STOPWORDS, tokens

HEADER = "term,expansion,kind,note\n"


def test_packaged_table_loads_with_several_hundred_rows() -> None:
    syn = load_synonyms()
    assert syn.rows >= 1000
    assert ("congestive", "heart", "failure") in syn.phrases[("chf",)]
    assert ("chronic", "kidney", "disease", "stage", "3b") in syn.phrases[("ckd", "3b")]
    assert syn.variants["haemorrhage"] == ("hemorrhage",)


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ("chf,congestive heart failure,abbrev,\n", "kind must be one of"),
        ("chf,congestive heart failure,abbreviation,\nCHF,Congestive heart failure,abbreviation,\n", "duplicate"),
        ("heart attack,myocardial infarction,variant,\n", "exactly one word"),
        ("/,heart,lay,\n", "letters or digits"),
        ("chf,chf,abbreviation,\n", "repeats the term"),
        ("heel ulcer,non pressure chronic ulcer of heel,index,\nheel ulcer,pressure ulcer of heel,clinical,\n",
         "kind index only"),
    ],
)
def test_bad_rows_are_refused_with_their_line(rows: str, problem: str) -> None:
    with pytest.raises(SourceError) as err:
        parse_synonyms(HEADER + rows)
    assert problem in err.value.message
    assert "line" in err.value.message


def test_index_terms_replace_the_typed_words() -> None:
    """Kind 'index': the Alphabetic Index sends the words elsewhere, so they are no alternative of their own."""
    syn = parse_synonyms(HEADER + "heel ulcer,non pressure chronic ulcer of heel,index,\nchf,heart failure,abbreviation,\n")
    assert syn.replacing == frozenset({("heel", "ulcer")})


def test_bad_header_is_refused() -> None:
    with pytest.raises(SourceError):
        parse_synonyms("abbr,meaning\nchf,congestive heart failure\n")


EXPECT = re.compile(r"\bexpect ([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)\b")


def _rows() -> list[dict]:
    text = resources.files("hccguide.search").joinpath("synonyms.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_expected_codes_in_notes_exist_in_the_tabular(kb: KB) -> None:
    """A row whose note says 'expect <code>' names a real FY2026 code (checked against the KB tabular)."""
    known = {r["code_dotted"] for r in kb.query("SELECT code_dotted FROM codes WHERE code_set = 'FY2026'")}
    expected = [(r["term"], m.group(1)) for r in _rows() if (m := EXPECT.search(r["note"] or ""))]
    assert len(expected) >= 200
    assert [(t, c) for t, c in expected if c not in known] == []


def test_lay_and_old_terms_reach_their_expected_code(served_kb: KB, index: SearchIndex) -> None:
    """Searching the term alone finds the code its note expects: in the top 5 always, first for at least 95%."""
    expected = {r["term"]: m.group(1) for r in _rows() if (m := EXPECT.search(r["note"] or ""))}
    first = 0
    missed = []
    for term, code in expected.items():
        got = [r["code"] for r in search(served_kb, term, limit=5)["results"]]
        first += got[:1] == [code]
        if code not in got:
            missed.append((term, code, got[:3]))
    assert missed == []
    assert first / len(expected) >= 0.95


def test_query_side_expansions_use_words_of_the_index(index: SearchIndex) -> None:
    """Every word of a lay or old-term expansion occurs in the FY2026 index names, so the expansion can match."""
    syn = index.synonyms
    unknown = [
        (r["term"], r["expansion"], t)
        for r in _rows()
        if r["kind"] in {"lay", "old_term"}
        for t in tokens(r["expansion"], syn.variants)
        if t not in STOPWORDS and t not in index.idf
    ]
    assert unknown == []
