"""The known defects of hccinfhir 0.4.0 (issue 4), each reproduced on the peer and shown fixed here.

Every test runs the real peer (hccinfhir is a dependency) and hccguide on the same member; the CMS rule is in the
docstring and in tests/peer/README.md.
"""

from __future__ import annotations

from importlib import metadata

import pytest
from hccinfhir.model_calculate import calculate_raf

from hccguide.raf.segments import Member
from hccguide.raf.trace import score_member

V28 = "CMS-HCC Model V28"


def test_new_enrollee_in_institution_scores_zero_on_the_peer(kb) -> None:
    """CMS: new enrollees are scored with the new enrollee model whatever their institutional status."""
    assert calculate_raf([], V28, age=70, sex="F", new_enrollee=True, lti=True).risk_score == 0.0
    ours = score_member(kb, Member(age=70, sex="F", new_enrollee=True, lti=True), [])
    assert ours.segment == "NE" and ours.risk_score > 0


def test_new_enrollee_with_esrd_orec_scores_zero_on_the_peer(kb) -> None:
    """CMS: OREC is the original reason for entitlement; a 66-year-old new enrollee with OREC 2 has an NE cell."""
    assert calculate_raf([], V28, age=66, sex="F", new_enrollee=True, orec="2").risk_score == 0.0
    assert score_member(kb, Member(age=66, sex="F", new_enrollee=True, orec="2"), []).risk_score > 0


def test_transplant_months_one_to_three_score_zero_on_the_peer(kb) -> None:
    """CMS ESRD model: kidney transplant months 1-3 are paid a flat transplant rate."""
    peer = calculate_raf([], "CMS-HCC ESRD Model V24", age=55, sex="M", orec="0", graft_months=2).risk_score
    assert peer == 0.0
    ours = score_member(kb, Member(age=55, sex="M", esrd=True, graft_months=2), [], model="ESRD-V24")
    assert ours.segment == "TRANSPLANT" and ours.risk_score > 0.5


def test_esrd_member_is_scored_with_the_community_model_on_the_peer(kb) -> None:
    """CMS: ESRD enrollees are paid with the ESRD models."""
    peer = calculate_raf(["E119"], V28, age=70, sex="F", orec="2")
    assert "F70_74" in peer.coefficients  # a CNA cell
    ours = score_member(kb, Member(age=70, sex="F", orec="2", esrd=True), ["E119"], model="V28")
    assert ours.model == "CMS-HCC ESRD V24" and ours.segment == "DI"


def test_chronic_only_score_goes_negative_on_the_peer() -> None:
    r = calculate_raf([], V28, age=81, sex="M", new_enrollee=True)  # a new enrollee without HCCs
    assert r.risk_score_chronic_only < 0  # a part of a score cannot be negative


def test_spaces_and_missing_dx(kb) -> None:
    assert calculate_raf([" E1122 "], V28, age=70, sex="F").hcc_list == []  # peer ignores it
    with pytest.raises(AttributeError):
        calculate_raf([None], V28, age=70, sex="F")  # peer crashes
    ours = score_member(kb, Member(age=70, sex="F"), [" E1122 ", None])  # type: ignore[list-item]
    assert ours.hccs == ["37"]
    assert [d.status for d in ours.main.diagnoses] == ["mapped", "empty"]


def test_unmapped_codes_are_reported(kb) -> None:
    peer = calculate_raf(["R51.9", "ZZZ99"], V28, age=70, sex="F")
    assert peer.cc_to_dx == {}  # nothing says what happened to the two codes
    ours = score_member(kb, Member(age=70, sex="F"), ["R51.9", "ZZZ99"])
    assert {d.status for d in ours.main.diagnoses} == {"no_hcc", "invalid_code"}


def test_peer_readme_normalization_for_2026_is_the_2024_figure() -> None:
    text = metadata.distribution("hccinfhir").read_text("METADATA") or ""
    assert "1.015 (2026)" in text
    from hccguide.raf.tables import constants_for

    assert constants_for(2026, "CMS-HCC V28").normalization_factor == 1.067


def test_payment_year_switch(kb) -> None:
    """hccinfhir scores with its 2026 tables whatever the year; hccguide selects map, coefficients and constants."""
    m = Member(age=72, sex="F")
    a = score_member(kb, m, ["E11.22", "I50.22"], payment_year=2025)
    b = score_member(kb, m, ["E11.22", "I50.22"], payment_year=2026)
    assert a.risk_score_payment != b.risk_score_payment
    assert {p["model"] for p in a.blend_parts} == {"CMS-HCC V24", "CMS-HCC V28"}
