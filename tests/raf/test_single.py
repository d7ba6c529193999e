"""One member: hand-worked cases (tests/raf/cases.csv) following the CMS model software rules, the trace, rounding."""

from __future__ import annotations

import pytest

from hccguide.cli_render import score_text
from hccguide.errors import BadInput, UnknownModel, UnknownPaymentYear
from hccguide.raf.segments import Member
from hccguide.raf.steps import round_cms
from hccguide.raf.tables import payment_year_constants
from hccguide.raf.trace import score_member


def test_hand_worked_case(kb, hand_case) -> None:
    c, member, dx = hand_case
    r = score_member(kb, member, dx, model=c["model"], payment_year=int(c["payment_year"]))
    assert r.segment == c["segment"], c["why"]
    names = {f.name for f in r.main.factors}
    assert names == set(c["factors"].split()), c["why"]
    # the raw score is the sum of exactly those CMS coefficients, read back from the KB (the coefficient table of
    # the payment year: PY2026 RxHCC reads the 2025 file, see payment_years.csv)
    table_year = payment_year_constants()[(r.payment_year, r.model)].coefficient_year
    rows = kb.query(
        "SELECT coefficient, value FROM coefficients WHERE model = ? AND payment_year = ? AND variant = 1",
        [r.model, table_year],
    )
    values = {row["coefficient"]: row["value"] for row in rows}
    assert r.risk_score == pytest.approx(round(sum(values[n] for n in names), 3))
    dropped = {f"{d.hcc}>{d.by or 'rule'}" for d in r.main.dropped}
    assert dropped == set(c["dropped"].split()), c["why"]


def test_worked_example_numbers(kb) -> None:
    """72-year-old woman, non-dual, E11.22 + N18.4 + I50.22, V28 PY2026: 0.395 + 0.166 + 0.360 + 0.514 + 0.112 +
    0.176 + 0 = 1.723 raw; / 1.067 = 1.615 (3 decimals); × (1 − 0.059) = 1.520 (3 decimals)."""
    r = score_member(kb, Member(age=72, sex="F", dual_status="non"), ["E11.22", "N18.4", "I50.22"])
    assert (r.risk_score, r.risk_score_normalized, r.risk_score_payment) == (1.723, 1.615, 1.520)
    d = r.to_dict()
    assert d["kb_release"] == kb.release_id
    assert d["defaults"] == ["orec defaulted to 0 (old age)"]
    assert [h["hcc"] for h in d["hccs"]] == ["37", "226", "327"]
    assert {i["name"] for i in d["interactions"]} == {"DIABETES_HF_V28", "HF_KIDNEY_V28"}
    text = "\n".join(score_text(r))
    assert "CNA_HCC226" in text and "segment CNA" in text


def test_py2025_blends_v24_and_v28(kb) -> None:
    m = Member(age=72, sex="F", dual_status="00", orec="0")
    r28 = score_member(kb, m, ["E11.22", "I50.22"], model="V28", payment_year=2025)
    r24 = score_member(kb, m, ["E11.22", "I50.22"], model="V24", payment_year=2025)
    c = payment_year_constants()
    w24, w28 = c[(2025, "CMS-HCC V24")].blend_weight, c[(2025, "CMS-HCC V28")].blend_weight
    blended = round_cms(w24 * r24.risk_score_normalized + w28 * r28.risk_score_normalized)
    assert r28.risk_score_payment == round_cms(blended * (1 - 0.059)) == r24.risk_score_payment
    assert {p["model"] for p in r28.blend_parts} == {"CMS-HCC V24", "CMS-HCC V28"}


def test_py2027_uses_the_retained_v28_coefficients_and_says_normalization_is_unconfirmed(kb) -> None:
    r26 = score_member(kb, Member(age=72, sex="F"), ["E11.22"], payment_year=2026)
    r27 = score_member(kb, Member(age=72, sex="F"), ["E11.22"], payment_year=2027)
    assert r27.risk_score == r26.risk_score
    assert r27.risk_score_normalized is None and r27.risk_score_payment is None
    assert any("normalization factor" in w for w in r27.warnings)


def test_unmapped_and_invalid_codes_are_reported_not_dropped(kb) -> None:
    r = score_member(kb, Member(age=70, sex="M"), [" e11.9 ", "R51.9", "ZZZ99", ""])
    status = {d.input: d.status for d in r.main.diagnoses}
    assert status == {" e11.9 ": "mapped", "R51.9": "no_hcc", "ZZZ99": "invalid_code", "": "empty"}
    assert r.hccs == ["38"]


def test_age_from_date_of_birth_is_as_of_february_first(kb) -> None:
    from datetime import date

    r = score_member(kb, Member(date_of_birth=date(1961, 2, 2), sex="F"), [], payment_year=2026)
    assert r.demographics.age == 64  # turns 65 on 2026-02-02, after February 1
    r = score_member(kb, Member(date_of_birth=date(1961, 2, 1), sex="F"), [], payment_year=2026)
    assert r.demographics.age == 65


def test_esrd_member_is_routed_to_the_esrd_model(kb) -> None:
    r = score_member(kb, Member(age=70, sex="F", orec="2", esrd=True), ["E11.9"], model="V28")
    assert r.model == "CMS-HCC ESRD V24" and r.segment == "DI"
    assert any("ESRD" in w for w in r.warnings)


@pytest.mark.parametrize(
    ("kwargs", "model", "year", "error"),
    [
        ({"sex": "F"}, "V28", 2026, BadInput),
        ({"age": 70, "sex": "X"}, "V28", 2026, BadInput),
        ({"age": 70, "sex": "F", "dual_status": "77"}, "V28", 2026, BadInput),
        ({"age": 70, "sex": "F"}, "V99", 2026, UnknownModel),
        ({"age": 70, "sex": "F"}, "V28", 2019, UnknownPaymentYear),
    ],
)
def test_bad_input_raises_a_typed_error(kb, kwargs, model, year, error) -> None:
    with pytest.raises(error) as exc:
        score_member(kb, Member(**kwargs), [], model=model, payment_year=year)
    assert exc.value.field and exc.value.fix


def test_every_constant_names_its_source_document() -> None:
    for (year, model), c in payment_year_constants().items():
        assert "CMS" in c.source_document and str(year) in c.source_document, (year, model)
        assert c.verified in {"yes", "partial", "no"}
        assert c.evidence
