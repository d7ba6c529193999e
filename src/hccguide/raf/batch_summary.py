"""Batch warnings and summary, the same for both engines: counts (rows in = scored + rejected), score percentiles,
reject reasons, segments, diagnoses of codes new in the newest code set that no mapping holds, and the MCE sex edit
that undated diagnoses could not get. Queries are written once (DuckDB dialect; Spark transpiles them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hccguide.kb.open import KB
from hccguide.kb.reference import model_year, sex_edits
from hccguide.raf.batch_sql import date_lit


@dataclass
class BatchResult:
    members_in: int
    members_scored: int
    members_rejected: int
    dx_in: int
    dx_used: int
    dx_rejected: int
    seconds: float
    summary: dict[str, Any]
    out: Path | None = None
    rejects: Path | None = None


def undated_sex_statement(kb: KB, payment_year: int) -> str | None:
    """SQL counting the diagnoses used without a date of service whose code the MCE restricts to the member's other
    sex in a fiscal year that overlaps the model year (the sex edit could not be applied: no date), over dx_checked,
    mem and ref_mce_sex; None when no MCE sex edit overlaps the model year (PY2026 on: none, measured)."""
    lo, hi = model_year(payment_year)
    if not any(r.first_day <= hi and r.last_day >= lo for v in sex_edits(kb).values() for r in v):
        return None
    return f"""
SELECT count(*) FROM dx_checked d JOIN mem m ON d.mkey = m.rn
JOIN (SELECT DISTINCT c.cid, g.sex_allowed FROM ref_mce_sex g JOIN ref_codes c ON g.code = c.code
      WHERE g.first_day <= {date_lit(hi)} AND g.last_day >= {date_lit(lo)}) g
  ON d.cid = g.cid AND g.sex_allowed <> m.sex
WHERE d.reason IS NULL AND d.undated"""


def undated_sex_warning(n: int, payment_year: int) -> list[str]:
    """The batch summary's warning for undated_sex_statement's count (empty when 0)."""
    if not n:
        return []
    return [
        f"{n} diagnoses without a date of service have a code the Medicare Code Editor restricts to the other sex "
        f"for part of the PY{payment_year} model year (dates of service before 2024-10-01): scored, because the sex "
        "edit applies by date; add date_of_service to apply it"
    ]


def new_code_statement(tag: str) -> str:
    """SQL counting the diagnoses used whose code is new in the newest code set (FY2027; ref_new_codes) and absent
    from the requested model's mapping of the payment year (ref_dx_<tag>): scored as no HCC until CMS's
    midyear/final mapping is loaded (`hccguide kb add-mappings`), as the one-member trace says of each."""
    return (
        "SELECT count(*) FROM dx d JOIN (SELECT c.cid FROM ref_new_codes n JOIN ref_codes c ON n.code = c.code "
        f"WHERE n.code NOT IN (SELECT code FROM ref_dx_{tag})) n ON d.cid = n.cid"
    )


def new_code_warning(n: int, payment_year: int) -> list[str]:
    """The batch summary's warning for new_code_statement's count (empty when 0)."""
    if not n:
        return []
    return [
        f"{n} diagnoses have a code new in the newest ICD-10-CM code set that is not in the CMS PY{payment_year} "
        "initial mapping: no HCC; load CMS's midyear/final mapping (hccguide kb add-mappings)"
    ]


# Count queries of the summary: (members in, scored, rejected, diagnoses in, used, rejected). Members and diagnoses
# in count the unreadable CSV lines too (they are rejects). Diagnoses used = the data rows not rejected (dx holds
# only those of a code that can change a score or a warning: batch_validate.prepare_statements).
COUNTS_SQL = (
    "SELECT (SELECT count(*) FROM mem_checked) + (SELECT count(*) FROM ref_unreadable WHERE source = 'members'), "
    "(SELECT count(*) FROM scores), (SELECT count(*) FROM rejects WHERE source = 'members'), "
    "(SELECT count(*) FROM src_dx) + (SELECT count(*) FROM ref_unreadable WHERE source = 'diagnoses'), "
    "(SELECT count(*) FROM src_dx) - (SELECT count(*) FROM dx_checked WHERE reason IS NOT NULL), "
    "(SELECT count(*) FROM rejects WHERE source = 'diagnoses')"
)


def summarize(
    con: Any, t0: float, undated_sql: str | None = None, payment_year: int = 0, new_sql: str | None = None
) -> BatchResult:
    """The summary of a DuckDB run (engine_duckdb)."""
    m_in, scored, m_rej, d_in, d_used, d_rej = con.execute(COUNTS_SQL).fetchall()[0]
    row = con.execute(
        "SELECT avg(risk_score), quantile_cont(risk_score, [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]), "
        "avg(risk_score_payment) FROM scores"
    ).fetchall()[0]
    reasons = dict(con.execute("SELECT reason, count(*) FROM rejects GROUP BY reason ORDER BY 2 DESC").fetchall())
    segs = dict(con.execute("SELECT segment, count(*) FROM scores GROUP BY segment ORDER BY 2 DESC").fetchall())
    undated = con.execute(undated_sql).fetchall()[0][0] if undated_sql else 0
    new = con.execute(new_sql).fetchall()[0][0] if new_sql else 0
    warnings = undated_sex_warning(undated, payment_year) + new_code_warning(new, payment_year)
    return batch_result((m_in, scored, m_rej, d_in, d_used, d_rej), row, reasons, segs, t0, warnings, new)


def batch_result(
    counts: tuple[int, int, int, int, int, int],
    row: Any,
    reasons: dict,
    segments: dict,
    started: float,
    warnings: list[str] | None = None,
    new_codes_unmapped: int = 0,
) -> BatchResult:
    """The BatchResult and summary of a batch run (both engines): counts are (members in, scored, rejected,
    diagnoses in, used, rejected); `row` is (mean risk score, [p10, p25, p50, p75, p90, p99], mean payment score)."""
    m_in, scored, m_rej, d_in, d_used, d_rej = counts
    summary = {
        "members_in": m_in,
        "members_scored": scored,
        "members_rejected": m_rej,
        "diagnoses_in": d_in,
        "diagnoses_used": d_used,
        "diagnoses_rejected": d_rej,
        "risk_score_mean": row[0],
        "risk_score_percentiles": dict(zip(["p10", "p25", "p50", "p75", "p90", "p99"], row[1] or [], strict=False)),
        "risk_score_payment_mean": row[2],
        "reject_reasons": reasons,
        "segments": segments,
        "diagnoses_new_code_unmapped": new_codes_unmapped,
        "warnings": warnings or [],
    }
    return BatchResult(m_in, scored, m_rej, d_in, d_used, d_rej, time.perf_counter() - started, summary)
