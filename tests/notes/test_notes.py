"""The note checker on real KB rows: the medspaCy pitfalls of issue 15 (table-driven, tests/notes/cases.csv with a
why column), combination codes, queries, spans, rule-file validation, and that note text never reaches a log."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from hccguide.errors import BadInput, HccguideError, SourceError
from hccguide.kb.open import KB
from hccguide.notes.evaluate import load_gold
from hccguide.notes.models import ELEMENTS
from hccguide.notes.pipeline import check_note
from hccguide.notes.rules import parse_context, parse_meat, parse_sections

HERE = Path(__file__).parent
DATA = HERE.parent / "data" / "notes"
DOS = "2026-03-10"
CASES = list(csv.DictReader((HERE / "cases.csv").read_text(encoding="utf-8").splitlines()))


def _find(result, words: str):
    words = words.lower()
    for c in result.conditions:
        if any(words in m.text.lower() for m in c.mentions):
            return c
    raise AssertionError(f"no condition {words!r} in {[c.text for c in result.conditions]}")


@pytest.mark.parametrize("case", CASES, ids=[c["why"][:50] for c in CASES])
def test_assertion_and_support(kb: KB, case: dict) -> None:
    result = check_note(kb, case["note"].replace("\\n", "\n"), date_of_service=DOS)
    c = _find(result, case["condition"])
    assert c.assertion == case["assertion"], (case["why"], c.assertion, c.trigger)
    assert c.supported is (case["supported"] == "true"), (case["why"], c.reason)


def test_denies_scope_ends_at_has(kb: KB) -> None:
    """'denies fever, has pneumonia and diabetes': only fever is negated (fever is a symptom, not listed)."""
    result = check_note(kb, "Patient denies fever, has pneumonia and diabetes.", date_of_service=DOS)
    assert {c.assertion for c in result.conditions} == {"present"}
    assert len(result.conditions) == 2


@pytest.mark.parametrize(
    ("note", "codes", "why"),
    [
        ("A/P: Type 2 diabetes - A1c 8.1, continue metformin. CKD stage 4 - stable, follow with nephrology.",
         {"E11.22", "N18.4"}, "diabetes + CKD: E11.22 presumed (Guidelines I.A.15), N18.4 for the stage"),
        ("A/P: Hypertension - continue lisinopril. Chronic systolic heart failure - euvolemic, continue furosemide.",
         {"I11.0", "I50.22"}, "hypertension + heart failure: I11.0 (Guidelines I.C.9.a.1) and I50.22"),
        ("A/P: Hypertension - continue amlodipine. CKD stage 3b - stable, recheck BMP.",
         {"I12.9", "N18.32"}, "hypertension + CKD: I12.9 (Guidelines I.C.9.a.2)"),
    ],
)
def test_combination_codes(kb: KB, note: str, codes: set[str], why: str) -> None:
    result = check_note(kb, note, date_of_service=DOS)
    got = {cc.code for c in result.conditions if c.assertion == "present" for cc in c.codes}
    assert codes <= got, (why, got)


def test_hierarchy_across_the_note(kb: KB) -> None:
    """Diabetes with CKD (HCC 37) and diabetes without complication (HCC 38) in one note: 38 is dropped."""
    note = ("A/P:\n1. Type 2 diabetes with diabetic CKD - A1c 7.9, continue insulin.\n"
            "2. CKD stage 3a - eGFR 48, stable.\n")
    result = check_note(kb, note, date_of_service=DOS, payment_year=2026)
    sup = {h.hcc for h in result.hccs if h.supported}
    assert "37" in sup and "38" not in sup


@pytest.mark.parametrize(
    ("note", "needle"),
    [
        ("A/P: CKD - stable, continue lisinopril, recheck BMP.", "CKD without a stage"),
        ("A/P: Heart failure - stable weight, continue furosemide.", "heart failure without type"),
        ("A/P: Diabetes - A1c 7.2, continue metformin.", "diabetes documented without its type"),
        ("A/P: Morbid obesity - continue diet counseling.", "morbid obesity without a BMI"),
    ],
)
def test_provider_queries(kb: KB, note: str, needle: str) -> None:
    result = check_note(kb, note, date_of_service=DOS)
    assert any(needle in q for c in result.conditions for q in c.queries), [c.queries for c in result.conditions]


def test_spans_point_at_the_note() -> None:
    """Every gold span is the note's text at its offsets (the gold files are self-consistent)."""
    for name, text, gold in load_gold(DATA):
        for c in gold["conditions"]:
            for m in c["mentions"]:
                assert text[m["start"]:m["end"]] == m["text"], name
            for e in ELEMENTS:
                for s in c["meat"][e]:
                    assert text[s["start"]:s["end"]] == s["text"], name


def test_result_spans_point_at_the_note(kb: KB) -> None:
    text = (DATA / "21_long_hp_multimorbid.txt").read_text(encoding="utf-8")
    result = check_note(kb, text, date_of_service="2026-02-09")
    assert result.conditions
    for c in result.conditions:
        assert text[c.start:c.end] == c.text
        for m in c.mentions:
            assert text[m.start:m.end] == m.text
        for e in ELEMENTS:
            for s in getattr(c.meat, e):
                assert text[s.start:s.end] == s.text


@pytest.mark.parametrize(
    ("parse", "text", "needle"),
    [
        (parse_context, "literal,category,direction,max_scope,comment\nno,NEGATED,FORWARD,,\n", "context.csv line 2"),
        (parse_context, "literal,category,direction,max_scope,comment\nno,NEGATED_EXISTENCE,UP,,\n",
         "context.csv line 2"),
        (parse_meat, "element,pattern,current,comment\ntreat,(unclosed,yes,\n", "meat.csv line 2"),
        (parse_sections, "category,header,comment\nplan,plan,\n", "sections.csv line 2"),
        (parse_sections, "category,header\nhpi,hpi\n", "header must be"),
    ],
)
def test_rule_files_are_validated(parse, text: str, needle: str) -> None:
    with pytest.raises(SourceError) as info:
        parse(text)
    assert needle in str(info.value)


def test_empty_note_is_bad_input(kb: KB) -> None:
    with pytest.raises(BadInput) as info:
        check_note(kb, "   \n", date_of_service=DOS)
    assert info.value.field == "text"


def test_note_text_never_reaches_logs(kb: KB, caplog: pytest.LogCaptureFixture,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    word = "Quixotryl"
    caplog.set_level(logging.DEBUG)
    note = f"HPI: {word} reports chest pain. A/P: Hypertension - {word} continue lisinopril, BP 150/90."
    check_note(kb, note, date_of_service=DOS)
    with pytest.raises(HccguideError) as info:
        check_note(kb, note, date_of_service="not-a-date")
    assert word not in str(info.value.to_dict())
    with pytest.raises(BadInput) as info:
        check_note(kb, word * 40_000, date_of_service=DOS)
    assert word not in str(info.value.to_dict())
    err = capfd.readouterr()
    assert word not in caplog.text and word not in err.err and word not in err.out
