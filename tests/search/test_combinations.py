"""Presumed causal links (ICD-10-CM Official Guidelines FY2026 I.A.15 and I.C.9.a): the combination code first.

Table-driven on the real FY2026 index; the rule tables (search/conditions.csv, search/combinations.csv) are checked
against the KB tabular.
"""

from __future__ import annotations

import pytest

from hccguide.errors import SourceError
from hccguide.kb.open import KB
from hccguide.search.combinations import load_combinations, parse_combinations
from hccguide.search.index import SearchIndex
from hccguide.search.query import search

CONDITIONS = "condition,phrase,note\nhypertension,hypertension,\nckd,chronic kidney disease,\n"
RULES = "group,conditions,unless,code,guideline,note\n"


def test_every_combination_code_is_in_the_tabular(kb: KB) -> None:
    known = {r["code_dotted"] for r in kb.query("SELECT code_dotted FROM codes WHERE code_set = 'FY2026'")}
    table = load_combinations()
    assert len(table.rules) >= 30
    assert [r.code for r in table.rules if r.code not in known] == []
    assert all("Guidelines" in r.guideline for r in table.rules)


@pytest.mark.parametrize(
    ("conditions", "rules", "problem"),
    [
        (CONDITIONS, RULES + "g,hypertension,,I12.9,Guidelines I.C.9.a.2,\n", "at least two conditions"),
        (CONDITIONS, RULES + "g,hypertension + heart_failure,,I11.0,Guidelines I.C.9.a.1,\n", "unknown condition"),
        (CONDITIONS, RULES + "g,hypertension + ckd,,I129,Guidelines I.C.9.a.2,\n", "not a dotted"),
        (CONDITIONS, RULES + "g,hypertension + ckd,,I12.9,,\n", "guideline must cite"),
        (CONDITIONS, RULES + "g,hypertension + ckd,,I12.9,G,\nh,ckd + hypertension,,I12.0,G,\n", "duplicate"),
        (CONDITIONS + "ckd,chronic kidney disease,\n", RULES, "duplicate phrase"),
        (CONDITIONS + "Bad Name,x,\n", RULES, "condition must be"),
    ],
)
def test_bad_rows_are_refused_with_their_line(conditions: str, rules: str, problem: str) -> None:
    with pytest.raises(SourceError) as err:
        parse_combinations(conditions, rules)
    assert problem in err.value.message
    assert "line" in err.value.message


@pytest.mark.parametrize(
    ("q", "first"),
    [
        ("HTN with ESRD", "I12.0"),
        ("htn and chf", "I11.0"),
        ("HTN + CKD 3", "I12.9"),
        ("hypertension with chronic kidney disease stage 5", "I12.0"),
        ("hypertension with heart failure and ckd stage 4", "I13.0"),
        ("htn chf esrd", "I13.2"),
        ("hypertensive heart disease", "I11.9"),
        ("hypertensive heart disease without heart failure", "I11.9"),
        ("diabetes with ckd", "E11.22"),
        ("iddm with ckd 4", "E10.22"),
        ("t2dm ckd stage 3a", "E11.22"),
        ("diabetic foot ulcer", "E11.621"),
        ("diabetes with ulcer of right heel", "E11.621"),
        ("diabetes with gastroparesis", "E11.43"),
        ("dm with pvd", "E11.51"),
        ("uncontrolled diabetes", "E11.65"),
        ("type 1 diabetes with neuropathy", "E10.40"),
        ("type 2 diabetes with diabetic polyneuropathy", "E11.42"),
        ("dm2 with proliferative retinopathy right eye with macular edema", "E11.3511"),
        ("t1dm with dka", "E10.10"),
    ],
)
def test_combination_code_ranks_first(served_kb: KB, index: SearchIndex, q: str, first: str) -> None:
    answer = search(served_kb, q, limit=5)
    assert answer["results"][0]["code"] == first


@pytest.mark.parametrize(
    ("q", "not_first"),
    [
        ("pulmonary hypertension with chf", "I11.0"),  # I27.-, not the hypertension of I10-I13
        ("htn and cad", "I11.9"),  # coronary disease is not presumed hypertensive
        ("gestational diabetes with hypoglycemia", "E11.649"),
        ("hypoglycemia non diabetic", "E11.649"),
        ("diabetes with pressure ulcer of right heel stage 2", "E11.621"),
    ],
)
def test_no_combination_when_the_guideline_does_not_presume_it(
    served_kb: KB, index: SearchIndex, q: str, not_first: str
) -> None:
    assert search(served_kb, q, limit=5)["results"][0]["code"] != not_first


def test_the_answer_notes_the_guideline(served_kb: KB, index: SearchIndex) -> None:
    answer = search(served_kb, "HTN with ESRD", limit=5)
    assert any("I12.0" in n and "I.C.9.a.2" in n for n in answer["notes"])
    # the components stay among the results (use additional code N18.6)
    assert "N18.6" in [r["code"] for r in answer["results"]]
