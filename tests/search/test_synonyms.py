"""synonyms.csv: loaded and validated at start; a bad row names its line."""

from __future__ import annotations

import pytest

from hccguide.errors import SourceError
from hccguide.search.synonyms import load_synonyms, parse_synonyms

HEADER = "term,expansion,kind,note\n"


def test_packaged_table_loads_with_several_hundred_rows() -> None:
    syn = load_synonyms()
    assert syn.rows >= 300
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
    ],
)
def test_bad_rows_are_refused_with_their_line(rows: str, problem: str) -> None:
    with pytest.raises(SourceError) as err:
        parse_synonyms(HEADER + rows)
    assert problem in err.value.message
    assert "line" in err.value.message


def test_bad_header_is_refused() -> None:
    with pytest.raises(SourceError):
        parse_synonyms("abbr,meaning\nchf,congestive heart failure\n")
