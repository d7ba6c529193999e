"""Every demographic term the segment logic produces finds its coefficient in the CMS table of the year.

A name the table spells differently (the CY2027 Advance Notice RxHCC table writes NESRD_NOD_X_M65 where the 2025
table writes NESRD_NOD_x_M65) must not make a term silently count 0: CMS model software is SAS, whose variable names
are case-insensitive (tables.term_key)."""

from __future__ import annotations

import itertools

import pytest

from hccguide.raf.segments import Member
from hccguide.raf.trace import score_member

AGES = (0, 34, 50, 64, 65, 66, 67, 68, 69, 70, 77, 90, 97)


def _members() -> list[Member]:
    out = []
    for age, sex, dual, orec, lti, ne, low in itertools.product(
        AGES, "MF", ("non", "full", "partial"), "013", (False, True), (False, True), (False, True)
    ):
        out.append(
            Member(
                age=age, sex=sex, dual_status=dual, orec=orec, lti=lti, new_enrollee=ne, low_income=low, esrd=False
            )
        )
    return out


MEMBERS = _members()


@pytest.mark.parametrize(
    ("model", "year"),
    [("RxHCC-V08", 2025), ("RxHCC-V08", 2026), ("RxHCC-V08", 2027), ("V28", 2026), ("V28", 2027), ("V24", 2025)],
)
def test_every_demographic_term_has_a_coefficient(kb, model: str, year: int) -> None:
    missing: dict[tuple[str, str], int] = {}
    for m in MEMBERS:
        r = score_member(kb, m, [], model=model, payment_year=year)
        seg = r.main.segment
        wanted = [(seg.segment, t) for t in seg.demographic_terms] + list(seg.extra_terms)
        found = {f.term for f in r.main.factors if f.kind == "demographic"}
        for s, t in wanted:
            if t not in found:
                missing[(s, t)] = missing.get((s, t), 0) + 1
    assert not missing, f"{model} PY{year}: demographic terms without a coefficient: {sorted(missing)[:10]}"


def test_py2027_rxhcc_male_new_enrollee_scores_its_capitalised_coefficient(kb) -> None:
    """Rx_NE_NoLo_NESRD_NOD_X_M70_74 = 0.669 in the R08_MAPD_ONLY table of ra_proposed_coefficients_2027.csv."""
    r = score_member(kb, Member(age=70, sex="M", new_enrollee=True), [], model="RxHCC-V08", payment_year=2027)
    names = {f.name: f.value for f in r.main.factors}
    assert names == {"Rx_NE_NoLo_NESRD_NOD_X_M70_74": 0.669}
    assert r.risk_score == 0.669
