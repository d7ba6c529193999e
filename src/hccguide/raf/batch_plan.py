"""The plan of a batch across models: which models score which members (ESRD members with the ESRD model, CMS
Medicare Managed Care Manual ch. 7), and the payment score: the CMS-HCC blend of the payment year
(payment_years.csv, kb.reference.blend_of) times (1 - MA coding pattern adjustment), rounded as CMS does.
The same constants as the one-member path (raf/trace.py): kb.reference CMS_HCC_FAMILY, ESRD_MODEL, blend_of.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hccguide.errors import UnknownPaymentYear
from hccguide.kb.open import KB
from hccguide.kb.reference import CMS_HCC_FAMILY, ESRD_MODEL, blend_of, resolve_model
from hccguide.raf.batch_sql import lit, round_sql
from hccguide.raf.tables import ModelTables, load_tables

# the score parts of the requested model (ESRD members: of the ESRD model), as batch_model.model_statements writes
# them: trace.score_parts' demographic, disease, interaction and count
PART_COLUMNS = ("part_demographic", "part_disease", "part_interaction", "part_count")
PARTS_SQL = ", ".join(f"s.{c}" for c in PART_COLUMNS)


@dataclass
class BatchPlan:
    """Which models run for which members, and how the payment score is formed."""

    requested: str
    payment_year: int
    runs: list[tuple[str, str, str]]  # (tag, model, member filter SQL over mem)
    blend: dict[str, float]
    ma_coding_adjustment: float | None
    tables: dict[str, ModelTables] = field(default_factory=dict)
    # why ESRD members cannot be scored this payment year (no ESRD model tables): they are rejected with it
    esrd_unavailable: str | None = None


def plan_batch(kb: KB, model: str, payment_year: int, route_esrd: bool = True) -> BatchPlan:
    """CMS-HCC: every model of the payment-year blend for non-ESRD members (+ the requested one), and ESRD V24 for
    ESRD members (CMS scores ESRD enrollees with the ESRD model). Other models: one run for everybody."""
    requested = resolve_model(model)
    runs: list[tuple[str, str, str]] = []
    blend: dict[str, float] = {}
    adj = None
    esrd_unavailable = None
    if requested in CMS_HCC_FAMILY:
        blend = blend_of(payment_year, kb=kb)  # with a blend a user loaded (hccguide kb add-constants)
        non_esrd = "NOT esrd" if route_esrd else "TRUE"
        models = list(dict.fromkeys([requested, *blend]))
        for m in models:
            runs.append((m.split()[-1].lower(), m, non_esrd))
        if route_esrd:
            try:
                load_tables(kb, ESRD_MODEL, payment_year)
                runs.append(("esrd", ESRD_MODEL, "esrd"))
            except UnknownPaymentYear as exc:  # e.g. PY2027: no ESRD constants yet; the one-member path raises it
                esrd_unavailable = f"ESRD member: {exc.message}"
        adj = load_tables(kb, requested, payment_year).constants.ma_coding_adjustment
    else:
        runs.append((requested.split()[-1].lower() + "x", requested, "TRUE"))
        adj = load_tables(kb, requested, payment_year).constants.ma_coding_adjustment
    plan = BatchPlan(requested, payment_year, runs, blend, adj, esrd_unavailable=esrd_unavailable)
    for _, m, _ in runs:
        plan.tables[m] = load_tables(kb, m, payment_year)
    return plan


def final_statement(plan: BatchPlan, release_id: str) -> str:
    """Union the model runs: requested model's scores for non-ESRD members, ESRD model for ESRD members, and the
    payment score: blend of normalized scores (rounded), × (1 − MA coding adjustment), rounded (CMS)."""
    parts = []
    tag_of = {m: tag for tag, m, _ in plan.runs}
    req_tag = tag_of[plan.requested]
    adj = plan.ma_coding_adjustment
    if plan.blend and plan.requested in plan.blend and adj is not None:
        pieces = " + ".join(f"{lit(float(w))} * b_{tag_of[m]}.risk_score_normalized" for m, w in plan.blend.items())
        joins = " ".join(
            f"LEFT JOIN scores_{tag_of[m]} b_{tag_of[m]} ON s.mkey = b_{tag_of[m]}.mkey"
            for m in plan.blend
            if tag_of[m] != req_tag
        )
        for m in plan.blend:
            if tag_of[m] == req_tag:
                pieces = pieces.replace(f"b_{req_tag}.", "s.")
        pay = round_sql(f"{round_sql(pieces)} * (1 - {lit(float(adj))})")
        parts.append(
            f"SELECT s.member_id, s.model, s.payment_year, s.segment, s.risk_score, s.risk_score_normalized, "
            f"{pay} AS risk_score_payment, s.hccs, {PARTS_SQL} FROM scores_{req_tag} s {joins}"
        )
    else:
        pay = (
            round_sql(f"s.risk_score_normalized * (1 - {lit(float(adj))})")
            if (adj is not None and not plan.blend)
            else "CAST(NULL AS DOUBLE)"
        )
        parts.append(
            f"SELECT s.member_id, s.model, s.payment_year, s.segment, s.risk_score, s.risk_score_normalized, "
            f"{pay} AS risk_score_payment, s.hccs, {PARTS_SQL} FROM scores_{req_tag} s"
        )
    if "esrd" in tag_of.values() and plan.requested != ESRD_MODEL:
        e = plan.tables[ESRD_MODEL].constants
        pay = (
            round_sql(f"s.risk_score_normalized * (1 - {lit(float(e.ma_coding_adjustment))})")
            if e.ma_coding_adjustment is not None
            else "CAST(NULL AS DOUBLE)"
        )
        parts.append(
            f"SELECT s.member_id, s.model, s.payment_year, s.segment, s.risk_score, s.risk_score_normalized, "
            f"{pay} AS risk_score_payment, s.hccs, {PARTS_SQL} FROM scores_esrd s"
        )
    body = "\nUNION ALL\n".join(parts)
    return (
        f"SELECT u.member_id, u.model, u.payment_year, u.segment, u.risk_score, u.risk_score_normalized, "
        f"u.risk_score_payment, u.hccs, {lit(release_id)} AS kb_release, "
        f"{', '.join(f'u.{c}' for c in PART_COLUMNS)} FROM ({body}) u"
    )
