"""The Table of Neoplasms and the Table of Drugs and Chemicals (CDC April 1, 2026, vendored) in the KB.

Cell counts from ../shared/data/README.md (9,020 Neoplasm and 40,036 Drug code cells); 70 Drug rows point at
T52.8X-, which FY2027 deletes (../shared/DATA.md).
"""

from __future__ import annotations

import pytest

from hccguide.errors import BadInput, InvalidCode
from hccguide.kb.index_tables import find_index_rows, index_table_rows
from hccguide.kb.open import KB


def test_cell_counts(kb: KB) -> None:
    rows = kb.query("SELECT table_name, count(*) AS n FROM index_cells GROUP BY 1 ORDER BY 1")
    assert {r["table_name"]: r["n"] for r in rows} == {"drug": 40036, "neoplasm": 9020}
    unknown = kb.query(
        "SELECT count(*) AS n FROM index_cells c LEFT JOIN codes k ON k.code_set = 'FY2026' AND k.code = c.code "
        "WHERE k.code IS NULL"
    )
    assert unknown[0]["n"] == 0  # every cell names a FY2026 code or category (README check, repeated)


@pytest.mark.parametrize(
    ("code", "code_set", "expected", "why"),
    [
        ("C78.7", "FY2027", "Neoplasm, liver, Malignant Secondary → C78.7", "the seed example"),
        ("C79.51", "FY2027", "Neoplasm, bone, Malignant Secondary → C79.51", "secondary bone cancer"),
        ("T45.515A", "FY2027", "Warfarin, Adverse effect → T45.515", "cell names the 6-character header"),
        ("T45.511A", "FY2026", "Warfarin, Poisoning Accidental (unintentional) → T45.511", "FY2026 too"),
        ("T46.4X5A", "FY2027", "Lisinopril, Adverse effect → T46.4X5", "adverse effect of lisinopril"),
        ("T38.3X6A", "FY2027", "Insulin, Underdosing → T38.3X6", "underdosing of insulin"),
        ("C22.8", "FY2027", "Neoplasm, liver, primary, Malignant Primary → C22.8", "nested term path"),
    ],
)
def test_rows_that_lead_to_a_code(kb: KB, code: str, code_set: str, expected: str, why: str) -> None:
    rows, total = index_table_rows(kb, code, code_set, limit=500)
    assert expected in [r.text for r in rows], why
    assert total >= len(rows) > 0


def test_t528x_rows_in_fy2027_offer_the_new_codes(kb: KB) -> None:
    """70 Drug rows point at T52.8X-: deleted in FY2027, so never shown valid; T52.81-/T52.82-/T52.89- offered."""
    fy27 = [r for r in find_index_rows(kb, "drug", [], code_set="FY2027", limit=100000) if r.code.startswith("T52.8X")]
    assert len({r.row_id for r in fy27}) == 70
    assert {r.status for r in fy27} == {"deleted"}
    for r in fy27:
        digit = r.code[-1]
        assert [o.code for o in r.offered] == [f"T52.81{digit}", f"T52.82{digit}", f"T52.89{digit}"]
        assert all(o.title for o in r.offered) and "not a FY2027 code" in (r.note or "")
    fy26 = [r for r in find_index_rows(kb, "drug", [], code_set="FY2026", limit=100000) if r.code.startswith("T52.8X")]
    assert {r.status for r in fy26} == {"header"}  # valid headers (7th character to add) in FY2026
    rows, _ = index_table_rows(kb, "T52.821A", "FY2027", limit=500)
    assert any(r.label == "Cyclohexane" and r.status == "deleted" for r in rows)


@pytest.mark.parametrize(
    ("table", "words", "column", "first_code", "why"),
    [
        ("neoplasm", ["liver"], "malignant_secondary", "C78.7", "mets to liver"),
        ("neoplasm", ["bone"], "malignant_secondary", "C79.51", "secondary bone cancer"),
        ("drug", ["warfarin"], "poisoning_accidental", "T45.511", "warfarin overdose accidental"),
        ("drug", ["lisinopril"], "adverse_effect", "T46.4X5", "adverse effect of lisinopril"),
        ("drug", ["insulin"], "underdosing", "T38.3X6", "underdosing of insulin (shortest path first)"),
    ],
)
def test_find_rows_for_search(kb: KB, table: str, words: list[str], column: str, first_code: str, why: str) -> None:
    rows = find_index_rows(kb, table, words, column)
    assert rows and rows[0].code == first_code, why


def test_bad_arguments_are_typed_errors(kb: KB) -> None:
    with pytest.raises(BadInput):
        find_index_rows(kb, "alphabetic", ["liver"])
    with pytest.raises(BadInput):
        find_index_rows(kb, "drug", ["warfarin"], column="malignant_primary")
    with pytest.raises(InvalidCode):
        index_table_rows(kb, "not a code")
