"""The SQL examples in docs/kb.md run on the real KB and give what the text says."""

from __future__ import annotations

import re
from pathlib import Path

from hccguide.kb.open import KB

DOC = Path(__file__).parents[2] / "docs" / "kb.md"


def _sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)


def test_doc_sql_examples_run(kb: KB) -> None:
    fy2027_gone, sex_edits, headers = (kb.query(sql) for sql in _sql_blocks())
    rows = [(r["fiscal_year"], r["sex_allowed"], r["codes"]) for r in sex_edits]
    assert rows == [(2023, "F", 3431), (2023, "M", 529), (2024, "F", 3431), (2024, "M", 529)]
    assert "FY2024 each 529 'M' and 3,431 'F' codes" in DOC.read_text()
    assert len(fy2027_gone) == 30 and "30 FY2026 billable codes" in DOC.read_text()
    d691 = next(r for r in fy2027_gone if r["code_dotted"] == "D69.1")
    assert list(d691["fy2027_codes"]) == ["D6911", "D6919"]
    assert sum(1 for r in fy2027_gone if r["fy2027_codes"] and r["fy2027_codes"][0] is not None) == 15
    assert len(headers) == 24 and sum(r["rows"] for r in headers) == 116
