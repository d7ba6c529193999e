"""validity_of: what a face shows when a FY2027 date meets FY2026 text (rows from the real KB)."""

from __future__ import annotations

import pytest

from hccguide.kb.open import KB
from hccguide.kb.validity import validity_of


@pytest.mark.parametrize(
    ("code", "valid_by_year", "replaced_by"),
    [
        ("D69.1", {2023: True, 2024: True, 2025: True, 2026: True, 2027: False}, [(2027, ["D69.11", "D69.19"])]),
        ("E11.9", dict.fromkeys(range(2023, 2028), True), []),
        # Expanded to C86.00/C86.01 on 2024-10-01; the CMS PY2025-PY2026 maps still name C86.0.
        ("C86.0", {2023: True, 2024: True, 2025: False, 2026: False, 2027: False}, [(2025, ["C86.00", "C86.01"])]),
        (
            "M86.8X8",
            {2023: True, 2024: True, 2025: True, 2026: True, 2027: False},
            [(2027, ["M86.8X80", "M86.8X81", "M86.8X89"])],
        ),
    ],
)
def test_validity_of(kb: KB, code: str, valid_by_year: dict[int, bool], replaced_by: list) -> None:
    got = validity_of(kb, code.lower())
    assert got["code"] == code
    assert {y["fiscal_year"]: y["valid"] for y in got["years"]} == valid_by_year
    assert [(r["fiscal_year"], r["codes"]) for r in got["replaced_by"]] == replaced_by
    assert got["years"][-1]["checked_on"] == "2026-10-01"


def test_unknown_code_has_no_rows(kb: KB) -> None:
    assert validity_of(kb, "E11.99")["years"] == []
