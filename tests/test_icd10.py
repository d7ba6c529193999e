"""hccguide.icd10: the one module for code spelling and fiscal years (issue 13.3), on real codes of the code sets."""

from __future__ import annotations

from datetime import date

import pytest

from hccguide.errors import InvalidCode
from hccguide.icd10 import CODE_IN_TABULAR_NOTE, CODE_IN_TEXT, dot, fiscal_year_of, normalize_code, undot


@pytest.mark.parametrize(
    ("given", "undotted", "dotted", "why"),
    [
        (" m87.352 ", "M87352", "M87.352", "any case and spaces"),
        ("E119", "E119", "E11.9", "undotted input"),
        ("S72.001A", "S72001A", "S72.001A", "7th character"),
        ("I10", "I10", "I10", "a category has no dot"),
        ("QA1.0", "QA10", "QA1.0", "FY2027 brings category QA1 (letter, letter, digit)"),
    ],
)
def test_spellings(given: str, undotted: str, dotted: str, why: str) -> None:
    assert normalize_code(given) == undotted, why
    assert dot(undot(given.strip().upper())) == dotted, why


@pytest.mark.parametrize("bad", ["", "12345", "E11..9", "E1", "M87.3520000"])
def test_malformed_codes_are_refused(bad: str) -> None:
    with pytest.raises(InvalidCode):
        normalize_code(bad)


@pytest.mark.parametrize(
    ("day", "fy", "why"),
    [
        (date(2026, 9, 30), 2026, "last day of FY2026"),
        (date(2026, 10, 1), 2027, "FY2027 is in force from 2026-10-01"),
        (date(2027, 1, 15), 2027, "January belongs to the fiscal year that began in October"),
    ],
)
def test_fiscal_year_of_a_date_of_service(day: date, fy: int, why: str) -> None:
    assert fiscal_year_of(day) == fy, why


@pytest.mark.parametrize(
    ("text", "codes", "why"),
    [
        ("Code first underlying disease (I70.23-, L89.-)", ["I70.23", "L89"], "header references keep the code"),
        ("Use additional code for G6PD deficiency (D55.0)", ["D55.0"], "'G6PD' is a word, not a code"),
        ("unspecified (QA1.0) and I96", ["QA1.0", "I96"], "QA1 and bare categories"),
    ],
)
def test_codes_in_a_tabular_note(text: str, codes: list[str], why: str) -> None:
    assert [m.group(1) for m in CODE_IN_TABULAR_NOTE.finditer(text)] == codes, why


def test_codes_in_free_text_take_undotted_codes() -> None:
    """Notes and claims write codes without dots; the free-text pattern finds them (and, unlike the tabular one,
    would take 'G6PD' too: the readers check each match against the code set)."""
    assert CODE_IN_TEXT.findall("dx E119, N184 and I50.22") == ["E119", "N184", "I50.22"]
