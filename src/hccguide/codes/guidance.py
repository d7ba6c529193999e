"""The coder's guidance of a code page in one call: confusable codes, documentation checklist and FAQ (issue 17).

`code_guidance` is what `codes.pages.code_page` adds to the page, and what the whole-table test runs over every
billable code (it takes the parts the page already computed, or computes them from the in-memory code store).
"""

from __future__ import annotations

from hccguide.codes import hierarchy
from hccguide.codes.checklist import documentation_checklist
from hccguide.codes.confused import axis_neighbours, confusable_codes
from hccguide.codes.faq import build_faq, faq_json_ld
from hccguide.codes.hcc import hcc_entries
from hccguide.codes.notes import rule_notes, seventh_characters
from hccguide.codes.store import code_store
from hccguide.kb.open import KB
from hccguide.kb.validity import validity_of


def code_guidance(
    kb: KB,
    row: dict,
    payment_year: int,
    *,
    ancestor_rows: list[dict] | None = None,
    siblings: list[dict] | None = None,
    hcc: list[dict] | None = None,
    descendants: tuple[list[dict], int] | None = None,
    seventh: dict | None = None,
) -> dict:
    """{confused_codes, checklist, faq, faq_json_ld, rule_notes} of a KB `codes` row for `payment_year`.

    Parts the caller already has (ancestors, siblings, HCC entries, billable descendants, 7th characters) are
    reused; missing ones are computed. Every code any part names (confusable codes, checklist `codes`, FAQ
    `codes`) exists in `row`'s code set; FAQ `later_codes` are MCE replacement codes of a later code set."""
    store = code_store(kb)
    if ancestor_rows is None:
        ancestor_rows = hierarchy.ancestors(kb, row)
    if siblings is None:
        siblings = hierarchy.siblings(kb, row)
    if hcc is None:
        hcc = hcc_entries(kb, row["code"], row["code_set"], payment_year)
    if descendants is None:
        descendants = hierarchy.billable_descendants(kb, row)
    if seventh is None:
        seventh = seventh_characters(kb, row)
    rules = rule_notes(kb, row, ancestor_rows)
    neighbours = axis_neighbours(store, row)
    checklist = documentation_checklist(row, siblings, rules, neighbours, hcc, payment_year, seventh)
    faq = build_faq(
        row,
        rules,
        hcc,
        payment_year,
        descendants[0],
        descendants[1],
        siblings,
        neighbours,
        seventh,
        validity_of(kb, row["code"]),
    )
    return {
        "confused_codes": confusable_codes(kb, row, rules, neighbours=neighbours),
        "checklist": checklist,
        "faq": faq,
        "faq_json_ld": faq_json_ld(faq),
        "rule_notes": rules,
    }
