"""One row per rule: a real example (tabular note, CMS edit table) that must raise the rule, and a counter-example
that must stay clean of it. Given a claim, when it is checked, then the rule fires (or not), for the reason given."""

from __future__ import annotations

import pytest

from hccguide.claims.checks import check_claim
from hccguide.claims.models import Claim
from hccguide.claims.reference import rule_table
from hccguide.kb.open import KB

P = "professional"
# (rule, codes, age, sex, date, claim type, cpt, bill type, fires, why)
CASES = [
    ("invalid_code", ["E11.99X"], 60, "M", "2026-01-05", P, "99213", None, True, "no such code in FY2023..FY2027"),
    ("invalid_code", ["E11.9"], 60, "M", "2026-01-05", P, "99213", None, False, "E11.9 is a code"),
    ("not_valid_on_date", ["A41.54"], 60, "M", "2022-11-01", P, "99213", None, True, "A41.54 is new after FY2023"),
    ("not_valid_on_date", ["A41.54"], 60, "M", "2026-01-05", P, "99213", None, False, "valid in FY2026"),
    ("header_code", ["E11"], 60, "M", "2026-01-05", P, "99213", None, True, "E11 is a category"),
    ("header_code", ["D69.1"], 60, "M", "2026-11-05", P, "99213", None, True, "D69.1 split in FY2027 (MCE)"),
    ("header_code", ["D69.1"], 60, "M", "2026-01-05", P, "99213", None, False, "D69.1 is a code in FY2026"),
    ("missing_7th_character", ["S72.001"], 60, "M", "2026-01-05", P, "99213", None, True, "S72 needs a 7th char"),
    ("missing_7th_character", ["S72.001A"], 60, "M", "2026-01-05", P, "99213", None, False, "7th char given"),
    ("excludes1", ["E10.9", "E11.9"], 60, "M", "2026-01-05", P, "99213", None, True, "E11 Excludes1 E10.-"),
    ("excludes1", ["E11.42", "G63"], 60, "M", "2026-01-05", P, "99213", None, True, "G63 Excl1 E08-E13 with .42"),
    ("excludes1", ["E11.9", "G63"], 60, "M", "2026-01-05", P, "99213", None, False, "only .42 is excluded"),
    ("excludes1", ["E11.9", "I10"], 60, "M", "2026-01-05", P, "99213", None, False, "no Excludes1 between them"),
    ("excludes1", ["K92.2", "K57.31"], 60, "M", "2026-01-05", P, "99213", None, True, "K57.- with hemorrhage"),
    ("excludes1", ["K92.2", "K57.30"], 60, "M", "2026-01-05", P, "99213", None, False, "K57.30 without bleeding"),
    ("excludes1", ["J45.909", "J30.9"], 60, "M", "2026-01-05", P, "99213", None, True, "J30 Excl1 J45.909 named"),
    ("manifestation_first", ["F02.80", "G30.9"], 80, "F", "2026-01-05", P, "99213", None, True, "F02 Code first"),
    ("manifestation_first", ["G30.9", "F02.80"], 80, "F", "2026-01-05", P, "99213", None, False, "etiology first"),
    ("code_first_missing", ["F02.80"], 80, "F", "2026-01-05", P, "99213", None, True, "no underlying condition"),
    ("code_first_missing", ["G30.9", "F02.80"], 80, "F", "2026-01-05", P, "99213", None, False, "G30.9 present"),
    ("use_additional_missing", ["I13.11"], 70, "M", "2026-01-05", P, "99213", None, True, "needs N18.5/N18.6"),
    ("use_additional_missing", ["I13.11", "N18.5"], 70, "M", "2026-01-05", P, "99213", None, False, "stage given"),
    ("age_conflict", ["C58"], 70, "F", "2026-01-05", P, "99213", None, True, "MCE: C58 ages 9-64"),
    ("age_conflict", ["C58"], 30, "F", "2026-01-05", P, "99213", None, False, "age 30 is in range"),
    ("sex_conflict", ["N40.0"], 70, "F", "2024-03-05", P, "99213", None, True, "MCE sex edit in force FY2024"),
    ("sex_conflict", ["N40.0"], 70, "F", "2025-03-05", P, "99213", None, False, "no MCE sex edit from 2024-10-01"),
    ("sex_conflict", ["N40.0"], 70, "M", "2024-03-05", P, "99213", None, False, "male patient"),
    ("duplicate_code", ["E11.9", "E11.9"], 60, "M", "2026-01-05", P, "99213", None, True, "listed twice"),
    ("duplicate_code", ["E11.9", "I10"], 60, "M", "2026-01-05", P, "99213", None, False, "distinct codes"),
    ("ra_ineligible", ["E11.9"], 60, "M", "2026-01-05", P, "81002", None, True, "81002 not on the CMS list"),
    ("ra_ineligible", ["E11.9"], 60, "M", "2026-01-05", "outpatient", "99213", "0181", True, "bill type 18x"),
    ("ra_ineligible", ["E11.9"], 60, "M", "2026-01-05", "outpatient", "99213", "0131", False, "13x + 99213"),
    (
        "mce_e_code_as_pdx",
        ["V00.01XA", "S72.001A"],
        60,
        "M",
        "2026-01-05",
        "inpatient",
        "",
        "0111",
        True,
        "MCE: external cause as principal",
    ),
    (
        "mce_e_code_as_pdx",
        ["S72.001A", "V00.01XA"],
        60,
        "M",
        "2026-01-05",
        "inpatient",
        "",
        "0111",
        False,
        "external cause as secondary",
    ),
]


def _claim(codes: list[str], age: int, sex: str, dos: str, kind: str, cpt: str, bill: str | None) -> Claim:
    return Claim.model_validate(
        {
            "patient": {"age": age, "sex": sex},
            "date_of_service": dos,
            "claim_type": kind,
            "diagnosis_codes": codes,
            "lines": [{"cpt_hcpcs": cpt}] if cpt else [],
            "bill_type": bill,
        }
    )


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{'+'.join(c[1])}-{c[8]}" for c in CASES])
def test_rule(kb: KB, case: tuple) -> None:
    rule, codes, age, sex, dos, kind, cpt, bill, fires, why = case
    result = check_claim(kb, _claim(codes, age, sex, dos, kind, cpt, bill))
    rules = [f.rule for f in result.findings]
    assert (rule in rules) == fires, f"{why}: {[(f.rule, f.codes) for f in result.findings]}"


def test_every_code_level_rule_has_a_case_and_a_documented_row() -> None:
    table = rule_table()
    tested = {c[0] for c in CASES}
    code_level = {r for r in table if not r.startswith("mce_")}
    assert code_level <= tested
    assert all(table[r]["source"] for r in table)


def test_clean_claims_stay_clean(kb: KB) -> None:
    """Common, correctly coded encounters raise no error or warning."""
    for codes in (["E11.9", "I10"], ["I50.22", "I13.0", "N18.30"], ["J44.1", "J96.01"], ["E11.22", "N18.4"]):
        result = check_claim(kb, _claim(codes, 72, "F", "2026-02-10", P, "99214", None))
        assert [f for f in result.findings if f.severity != "info"] == [], (codes, result.findings)
