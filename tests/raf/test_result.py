"""The typed score result (raf/result.py), the parts of a raw score, new FY2027 codes, the one model resolver."""

from __future__ import annotations

import pytest

from hccguide.errors import UnknownModel
from hccguide.kb.reference import resolve_model
from hccguide.raf.result import ScoreResponse
from hccguide.raf.segments import Member
from hccguide.raf.tables import new_codes
from hccguide.raf.trace import score_member


def test_parts_add_up_and_the_result_validates(kb, hand_case) -> None:
    """Every hand-worked case: the four parts add up to the raw score, each part is the sum of its own kind of
    factor, and the JSON validates against ScoreResponse (why: the API declares it as response_model)."""
    c, member, dx = hand_case
    r = score_member(kb, member, dx, model=c["model"], payment_year=int(c["payment_year"]))
    out = ScoreResponse.of(r)
    parts = out.score_parts
    assert round(parts.demographic + parts.disease + parts.interaction + parts.count, 3) == r.risk_score
    kinds = ("demographic", "hcc", "interaction", "count")
    by_kind = [round(sum(f.value for f in r.main.factors if f.kind == k), 3) for k in kinds]
    assert [parts.demographic, parts.disease, parts.interaction, parts.count] == by_kind


def test_parts_of_a_worked_member(kb) -> None:
    """72-year-old community non-dual woman with diabetes with complications and heart failure (V28 PY2026): each
    part is non-zero and the interaction DIABETES_HF_V28 is the interaction part (why: the four kinds are kept
    apart, not lumped into 'disease')."""
    r = score_member(kb, Member(age=72, sex="F"), ["E11.22", "I50.22"], model="V28", payment_year=2026)
    parts = r.to_dict()["score_parts"]
    inter = {f.name: f.value for f in r.main.factors if f.kind == "interaction"}
    assert "DIABETES_HF_V28" in {i.name for i in r.main.interactions}
    assert parts["interaction"] == round(sum(inter.values()), 3) > 0
    assert parts["demographic"] > 0 and parts["disease"] > 0


def test_new_fy2027_code_without_mapping_is_no_hcc_with_reason(kb) -> None:
    """A code new in FY2027 (KB code_expansions / FY2027 code set) that the PY2027 initial CMS mapping lacks is
    reported no_hcc, saying which mapping to load, and gets no HCC from its parent (why: issue 14; D69.1 maps to a
    V28 HCC, its FY2027 children D69.11/D69.19 must not inherit it)."""
    new = new_codes(kb)
    unmapped = sorted(
        c for c in new if not kb.query("SELECT 1 FROM dx_to_cc WHERE code = ? AND payment_year = 2027", [c])
    )
    assert unmapped, "the KB lists no FY2027 code without a PY2027 mapping"
    code = "D6911" if "D6911" in unmapped else unmapped[0]
    r = score_member(kb, Member(age=70, sex="F"), [code], model="V28", payment_year=2027, check_dates=False)
    dx = r.to_dict()["diagnoses"][0]
    assert dx["status"] == "no_hcc" and list(dx["ccs"]) == [], dx
    assert "not in the CMS PY2027 initial mapping" in dx["reason"] and "hccguide kb add-mappings" in dx["reason"]
    assert r.hccs == []


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("V28", "CMS-HCC V28"),
        ("cms-hcc v28", "CMS-HCC V28"),  # case-insensitive (search used to accept this, raf did not)
        (" ESRD-V24 ", "CMS-HCC ESRD V24"),
        ("RxHCC-V08", "RxHCC V08"),  # the KB models.short_name (search's spelling)
        ("RX-V08", "RxHCC V08"),  # raf's old alias
        ("CMS-HCC Model V24", "CMS-HCC V24"),  # the CMS mapping files' name
    ],
)
def test_one_model_resolver(typed: str, key: str) -> None:
    assert resolve_model(typed) == key


@pytest.mark.parametrize("typed", ["V99", "", None, "HCC"])
def test_unknown_model_names_the_field(typed) -> None:
    with pytest.raises(UnknownModel) as e:
        resolve_model(typed, field="hcc")
    assert e.value.field == "hcc" and e.value.suggestions


def test_batch_counts_new_fy2027_codes_without_mapping(kb, tmp_path) -> None:
    """The batch scores a new FY2027 code as no HCC (not an 'unknown code' reject) and its summary counts it, as the
    trace says of each (why: issue 14 - a plan must see how many diagnoses wait for CMS's later mapping)."""
    from hccguide.raf.engine_duckdb import run_duckdb

    code = sorted(c for c in new_codes(kb) if not kb.query("SELECT 1 FROM dx_to_cc WHERE code = ?", [c]))[0]
    (tmp_path / "m.csv").write_text("member_id,age,sex\nN1,70,F\nN2,71,M\n", encoding="utf-8")
    (tmp_path / "d.csv").write_text(
        f"member_id,dx_code,date_of_service\nN1,{code},2026-11-02\nN2,E11.9,2026-03-01\n", encoding="utf-8"
    )
    res = run_duckdb(
        kb,
        tmp_path / "m.csv",
        tmp_path / "d.csv",
        out=tmp_path / "s.csv",
        rejects=None,
        payment_year=2027,
        check_dates=False,
    )
    assert res.dx_rejected == 0 and res.dx_used == 2
    assert res.summary["diagnoses_new_code_unmapped"] == 1
    assert any("hccguide kb add-mappings" in w for w in res.summary["warnings"])
