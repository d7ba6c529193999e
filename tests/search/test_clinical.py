"""Search that speaks clinical language (issue 14): textbook and older phrasing, organisms, NOS / "without mention
of", the Neoplasm and Drug tables, and today's code set (FY2027 titles), on the real KB and index.

The development set `data/clinical_queries.csv` (183 phrases) was written and committed before any tuning, with
each expected code read from the tabular by hand; `data/clinical_holdout_queries.csv` was written after the
tuning and run once. Floors sit a little below the figures measured (docs/search.md).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hccguide.codes.lookup import choose_code_set
from hccguide.kb.open import KB
from hccguide.search.evaluate import evaluate, load_queries
from hccguide.search.index import SearchIndex
from hccguide.search.models import SearchResponse
from hccguide.search.query import drop_filler_phrases, negation_scope, search
from hccguide.search.text import name_parts

DATA = Path(__file__).parent / "data"
CLINICAL = DATA / "clinical_queries.csv"
CLINICAL_HOLDOUT = DATA / "clinical_holdout_queries.csv"
CLINICAL_CATEGORIES = {"sepsis_organism", "infection", "organism", "old_term", "neoplasm", "drug"}


@pytest.mark.parametrize("path", [CLINICAL, CLINICAL_HOLDOUT], ids=["dev", "holdout"])
def test_every_expected_code_is_billable_in_fy2026_and_fy2027(path: Path, kb: KB) -> None:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows and set(rows[0]) == {"query", "category", "acceptable_codes", "why"}
    for code_set in ("FY2026", "FY2027"):
        billable = {
            r["code_dotted"]
            for r in kb.query("SELECT code_dotted FROM codes WHERE code_set = ? AND billable", [code_set])
        }
        assert [(r["query"], c) for r in rows for c in r["acceptable_codes"].split() if c not in billable] == []
    assert all(r["category"] in CLINICAL_CATEGORIES and r["why"].strip() for r in rows)
    queries = [r["query"].lower() for r in rows]
    assert len(queries) == len(set(queries)), "a query is listed twice"


def test_clinical_dev_set_accuracy_floor(served_kb: KB, index: SearchIndex) -> None:
    rows = load_queries(CLINICAL)
    assert len(rows) >= 150
    figures = evaluate(served_kb, rows)
    overall = figures["overall"]
    # measured 2026-12-01: before the issue-14 work 0.743 / 0.858, after 0.984 / 1.000 (MRR 0.992)
    assert overall["top1"] >= 0.95, figures["misses"]
    assert overall["top5"] >= 0.98
    for category, f in figures["by_category"].items():
        assert f["top5"] >= 0.9, (category, f)


def test_clinical_holdout_accuracy_floor(served_kb: KB, index: SearchIndex) -> None:
    rows = load_queries(CLINICAL_HOLDOUT)
    assert len(rows) >= 40
    overall = evaluate(served_kb, rows)["overall"]
    # run once after the tuning (docs/search.md): floors a little below that run
    assert overall["top1"] >= HOLDOUT_FLOOR_TOP1
    assert overall["top5"] >= HOLDOUT_FLOOR_TOP5


HOLDOUT_FLOOR_TOP1 = 0.75  # run once 2026-12-01: 0.778 (42 of 54)
HOLDOUT_FLOOR_TOP5 = 0.85  # run once 2026-12-01: 0.870 (MRR 0.819)

# given a clinical phrase, when searched, then the first result is the code a coder reads in the tabular / tables
FIRST = [
    ("septicemia due to E. coli", "A41.51", "septicemia = sepsis; the sepsis code covers both concepts, J15.5 only one"),
    ("streptococcal septicemia", "A40.9", "adjective = organism (variant), septicemia = sepsis"),
    ("H. flu sepsis", "A41.3", "organism abbreviation H. flu = Hemophilus influenzae"),
    ("GBS sepsis of newborn", "P36.0", "GBS = streptococcus group B"),
    ("salmonella gastroenteritis", "A02.0", "Index: Gastroenteritis see also Enteritis; Enteritis, salmonella A02.0"),
    ("chronic viral hepatitis B without hepatic coma", "B18.1", "absent coma is satisfied by a code silent on coma"),
    ("acute hepatitis B without mention of hepatic coma", "B16.9", "B16.2 says 'with hepatic coma': contradicted"),
    ("duodenal ulcer without mention of hemorrhage or perforation", "K26.9", "both negated words, 'or' inside"),
    ("asthma without mention of status asthmaticus", "J45.909", "J45.902 asserts status asthmaticus"),
    ("chronic airway obstruction not elsewhere classified", "J44.9", "NEC phrasing is filler; ICD-9 496 wording"),
    ("mets to liver", "C78.7", "Table of Neoplasms: liver, Malignant Secondary"),
    ("secondary bone cancer", "C79.51", "Table of Neoplasms: bone, Malignant Secondary"),
    ("warfarin overdose accidental", "T45.511A", "Table of Drugs: Warfarin, Poisoning Accidental; 7th character A"),
    ("adverse effect of lisinopril", "T46.4X5A", "Table of Drugs: Lisinopril, Adverse effect"),
    ("underdosing of insulin", "T38.3X6A", "Table of Drugs: Insulin, Underdosing"),
    ("heroin overdose", "T40.1X1A", "intent not stated: accidental (Guidelines I.C.19.e.5.b)"),
    ("intentional overdose of acetaminophen", "T39.1X2A", "intent stated: intentional self-harm column"),
]


@pytest.mark.parametrize(("q", "code", "why"), FIRST, ids=[f[0] for f in FIRST])
def test_clinical_phrase_first_result(served_kb: KB, index: SearchIndex, q: str, code: str, why: str) -> None:
    assert search(served_kb, q, limit=5)["results"][0]["code"] == code, why


def test_table_rows_explain_the_match_and_the_7th_character(served_kb: KB, index: SearchIndex) -> None:
    first = search(served_kb, "adverse effect of lisinopril", limit=3)["results"][0]
    assert first["matched_name"]["kind"] == "table"
    assert first["matched_name"]["text"].startswith("Table of Drugs and Chemicals: Lisinopril, Adverse effect")
    assert first["seventh_character"]["character"] == "A"
    assert first["seventh_character"]["assumed"] is True  # no episode of care named: initial encounter shown
    later = search(served_kb, "adverse effect of lisinopril subsequent encounter", limit=3)["results"][0]
    assert later["code"] == "T46.4X5D" and later["seventh_character"]["assumed"] is False
    liver = search(served_kb, "mets to liver", limit=3)["results"][0]
    assert liver["code"] == "C78.7"
    assert liver["matched_name"]["kind"] in {"table", "title"}


# codes new in FY2027 (CDC order addenda), found by their official titles in today's code set
NEW_FY2027 = [
    ("familial genetic dilated cardiomyopathy", "I42.01"),
    ("brugada syndrome", "I49.81"),
    ("glanzmann thrombasthenia", "D69.11"),
    ("post bariatric hypoglycemia", "E89.830"),
]


@pytest.mark.parametrize(("q", "code"), NEW_FY2027, ids=[n[0] for n in NEW_FY2027])
def test_new_fy2027_codes_are_found_by_title_in_todays_code_set(served_kb: KB, q: str, code: str) -> None:
    choice = choose_code_set(served_kb)
    answer = search(served_kb, q, limit=5)
    assert answer["code_set"] == choice.code_set
    codes = [r["code"] for r in answer["results"]]
    if choice.code_set == "FY2027":
        assert codes[0] == code
        assert code not in [r["code"] for r in search(served_kb, q, limit=10, fy=2026)["results"]]


# query parsing: filler phrases and negation scope (search/query.py)
@pytest.mark.parametrize(
    ("words", "kept"),
    [
        ("septicemia nos", "septicemia"),
        ("chronic airway obstruction not elsewhere classified", "chronic airway obstruction"),
        ("herpes zoster without mention of complication", "herpes zoster without complication"),
        ("mdd w o psychotic feature", "mdd without psychotic feature"),
        ("not intractable", "not intractable"),
    ],
)
def test_filler_phrases(words: str, kept: str) -> None:
    assert " ".join(drop_filler_phrases(words.split())) == kept


@pytest.mark.parametrize(
    ("words", "negated"),
    [
        ("duodenal ulcer without hemorrhage or perforation", {"hemorrhage", "or", "perforation"}),
        ("diabetes with hyperosmolarity without coma", {"coma"}),
        ("concussion without loss of consciousness initial encounter", {"loss", "of", "consciousness"}),
        ("hepatitis without coma with ascites", {"coma"}),
        ("pneumonia", set()),
    ],
)
def test_negation_scope(words: str, negated: set[str]) -> None:
    seq = words.split()
    assert {seq[n] for n in negation_scope(seq)} == negated


# title parsing: what a title asserts (content) and what it denies (negated) (search/text.py)
@pytest.mark.parametrize(
    ("title", "content", "negated"),
    [
        ("Acute hepatitis B without delta-agent with hepatic coma", ["acute", "hepatitis", "b", "hepatic", "coma"],
         ["delta", "agent"]),
        ("Laceration without foreign body of scalp", ["laceration", "scalp"], ["foreign", "body"]),
        ("Acute respiratory failure, unspecified whether with hypoxia or hypercapnia",
         ["acute", "respiratory", "failure"], ["hypoxia", "hypercapnia"]),
        ("Cystitis, unspecified without hematuria", ["cystitis"], ["hematuria"]),
        ("Pneumonia, unspecified organism", ["pneumonia"], []),
    ],
)
def test_name_parts(title: str, content: list[str], negated: list[str]) -> None:
    assert name_parts(title) == (content, negated)


@pytest.mark.parametrize(
    ("q", "kw"),
    [
        ("septicemia due to E. coli", {}),
        ("adverse effect of lisinopril", {}),
        ("hip fracture right initial", {}),
        ("diabetes", {"hcc": "V28", "limit": 20}),
        ("E11", {}),
        ("osteomylitis l foot", {}),
        ("htn with esrd", {"billable": True}),
        ("fracture of femur", {"fy": 2026}),
    ],
)
def test_every_answer_matches_the_typed_model(served_kb: KB, index: SearchIndex, q: str, kw: dict) -> None:
    answer = search(served_kb, q, **kw)
    model = SearchResponse.model_validate(answer)
    assert model.model_dump(by_alias=True, exclude_none=True) == _without_none(answer)


def _without_none(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
