"""What `hccguide kb info` and `GET /api/kb` report: the release id, its code sets, payment years and sources."""

from __future__ import annotations

from hccguide.kb.open import KB, shared_kb


def kb_info(kb: KB | None = None) -> dict:
    """{"release_id", "path", "code_sets": [{code_set, release_label, valid_from, valid_to, billable_count}],
    "payment_years", "models", "sources": [provenance rows]}. Raises KnowledgeBaseMissing if none is built."""
    kb = kb or shared_kb()
    code_sets = kb.query(
        "SELECT code_set, fiscal_year, release_label, valid_from, valid_to, billable_count FROM code_sets "
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
    }
