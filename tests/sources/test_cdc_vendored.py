"""Readers of the vendored CDC files: the FY2027 order addenda and the April 2026 Neoplasm / Drug tables.

Counts are CDC's own (the addenda's summary) and ../shared/data/README.md's (code cells per table).
"""

from __future__ import annotations

from collections import Counter

import pytest

from hccguide.errors import SourceError
from hccguide.sources.cdc_addenda import parse_addenda
from hccguide.sources.cdc_index_tables import parse_index_table
from hccguide.sources.files import VENDORED, vendored_file


def test_addenda_lines_match_cdc_summary() -> None:
    addenda = parse_addenda(vendored_file("cdc:icd10cm_order_addenda:FY2027").read_bytes().decode())
    counts = Counter((c.action, c.billable) for c in addenda.changes)
    s = addenda.summary
    assert (s["codes_from"], s["codes_to"], s["headers_from"], s["headers_to"]) == (74719, 74879, 23467, 23524)
    assert counts[("add", True)] == s["code_additions"] == 190
    assert counts[("delete", True)] == s["code_deletions"] == 30
    assert counts[("revise_to", True)] == s["code_revisions"] == 4
    assert counts[("add", False)] == s["header_additions"] == 63  # includes billable codes that became headers


@pytest.mark.parametrize(
    ("code", "action", "billable", "title", "why"),
    [
        ("I4201", "add", True, "Familial-genetic dilated cardiomyopathy", "long title column"),
        ("QA171", "add", True, "Lynch syndrome", "two-letter category QA1"),
        ("I420", "delete", True, "Dilated cardiomyopathy", "deleted as a code ..."),
        (
            "L03322",
            "revise_to",
            True,
            "Acute lymphangitis of back [any part except buttock and flank]",
            "long != short",
        ),
    ],
)
def test_addenda_rows(code: str, action: str, billable: bool, title: str, why: str) -> None:
    addenda = parse_addenda(vendored_file("cdc:icd10cm_order_addenda:FY2027").read_bytes().decode())
    row = next(c for c in addenda.changes if c.code == code and c.action == action)
    assert (row.billable, row.title) == (billable, title), why


def test_addenda_refuses_an_unknown_line() -> None:
    with pytest.raises(SourceError) as err:
        parse_addenda("Add:         1 I4201   Familial-genetic dilated cardiomyopathy\nChange: something\n")
    assert err.value.field == "line" and err.value.value == 2


@pytest.mark.parametrize(("table", "key", "cells"), [("neoplasm", "neoplasm", 9020), ("drug", "drug", 40036)])
def test_index_table_cells(table: str, key: str, cells: int) -> None:
    parsed = parse_index_table(vendored_file(f"cdc:icd10cm_{key}_table:FY2026").read_bytes(), table)
    assert parsed.version == 2026 and len(parsed.cells) == cells
    assert all(c.code.isalnum() and c.printed.replace(".", "").rstrip("-") == c.code for c in parsed.cells)


def test_index_table_refuses_the_other_table() -> None:
    data = vendored_file("cdc:icd10cm_drug_table:FY2026").read_bytes()
    with pytest.raises(SourceError):
        parse_index_table(data, "neoplasm")


def test_every_vendored_file_is_checked() -> None:
    for key in VENDORED:
        assert vendored_file(key).sha256 == VENDORED[key].sha256
