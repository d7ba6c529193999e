"""The typed shape of a code page (`codes.pages.code_page`), for `GET /api/codes/{code}` (`response_model`), its
OpenAPI document and the faces. Field descriptions sit next to the logic that fills them; docs/code-page.md shows
an example. Models allow extra fields, so a block another module adds to the page (e.g. a FY2027 replacement or an
MS-DRG block) is kept in the JSON until it is declared here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CodeBrief(_Open):
    code: str = Field(description="Dotted ICD-10-CM code, e.g. M87.35")
    title: str = Field(description="Title in the code set shown")
    billable: bool | None = Field(None, description="True for a billable code (no codes below it)")


class Validity(_Open):
    by_fiscal_year: dict[str, bool] = Field(description="'FY2027' -> accepted by the CMS Medicare Code Editor")
    source: str = Field(description="The MCE versions checked")
    replaced_by: list[str] = Field(description="Codes of the fiscal year asked for that replaced this one")
    note: str | None = Field(description="Set when the code is not valid in the fiscal year asked for")
    sex_edit: str | None = Field(None, description="MCE sex restriction per fiscal year, or null")


class Chapter(_Open):
    number: int = Field(description="Chapter number, 1..22")
    range: str = Field(description="First-last category, e.g. M00-M99")
    title: str


class Block(_Open):
    range: str = Field(description="Block id, e.g. M86-M90")
    title: str


class InheritedNote(_Open):
    type: str = Field(description="includes | excludes1 | excludes2 | code_first | use_additional_code | ...")
    text: str = Field(description="The note as printed in the tabular")
    from_: str = Field(alias="from", description="Ancestor code (dotted), block range or chapter number")
    from_kind: str = Field(description="code | block | chapter")
    refs: list[str] = Field(description="Codes and ranges the note cites, as printed ('M90.3-', 'P35-P39')")

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class SeventhCharacter(_Open):
    character: str
    meaning: str


class SeventhCharacters(_Open):
    from_: str = Field(alias="from", description="The code that defines the 7th characters")
    this_code: str | None = Field(description="The 7th character of this code, for an extension")
    characters: list[SeventhCharacter]

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class Coefficient(_Open):
    segment: str = Field(description="CMS model software segment prefix, e.g. CNA")
    segment_label: str = Field(description="What the segment means")
    coefficient: str = Field(description="Variable name in the CMS table, e.g. CNA_HCC92")
    value: float = Field(description="Relative factor")
    status: str = Field(description="final | proposed (Advance Notice)")
    variant: int = Field(description="1, or 1..n where the CMS table repeats a name")
    rx_variant: str | None = Field(description="RxHCC table variant where the file names it")


class HierarchyHcc(_Open):
    hcc: str
    cc: str
    label: str | None


class Hierarchy(_Open):
    drops: list[HierarchyHcc] = Field(description="HCCs this one drops (CMS hierarchy table)")
    dropped_by: list[HierarchyHcc] = Field(description="HCCs that drop this one")
    table_year: int | None = Field(description="The hierarchy table used (newest not after the payment year)")


class HccEntry(_Open):
    model: str = Field(description="'CMS-HCC V28' | 'CMS-HCC V24' | 'CMS-HCC ESRD V24' | 'RxHCC V08'")
    payment_year: int
    mapped: bool = Field(description="False: the model maps the code to no CC in the payment year")
    cc: str | None
    hcc: str | None = Field(description="HCC name as in coefficient names, e.g. HCC92, RXHCC80")
    label: str | None
    is_chronic: bool | None = Field(description="CMS chronic flag; null where the table leaves it blank")
    code_billable_in_code_set: bool = Field(description="False for CMS mapping rows on header codes")
    coefficients: list[Coefficient] = Field(description="Coefficients of the table the payment year uses")
    coefficient_table_year: int | None = Field(None, description="The CMS coefficient table used")
    coefficients_by_year: dict[str, list[Coefficient]] = Field(description="Every table loaded, by year")
    hierarchy: Hierarchy | None
    mapped_by_year: dict[str, Any] = Field(description="CC per payment year (null where not mapped)")
    edits: list[dict[str, Any]] = Field(description="CMS age/sex edits of this model touching the code")
    notes: list[str] = Field(description="Fallbacks, proposed values, retired mappings")


class HccBelow(_Open):
    model: str
    hcc: str
    label: str | None
    codes: int = Field(description="Billable codes below the header mapping to this HCC")


class Meat(_Open):
    specificity: list[dict[str, Any]] = Field(description="[{axis, value, must_document}] from the title")
    distinguishing: list[str] = Field(description="What the note must state to reach this code, not a sibling")
    elements: list[dict[str, Any]] = Field(description="The general M/E/A/T elements (meat_elements.csv)")
    audit_flags: list[str]


class ConfusedCode(_Open):
    code: str = Field(description="Dotted code, existing in the code set shown")
    title: str
    billable: bool
    kind: str = Field(description="axis | excludes1 | excludes2 | near_title")
    axes: list[str] = Field(description="Labels of the named axes (axes.csv) on which it differs")
    position: int | None = Field(description="For kind 'axis': the character (1-based) that differs")
    tier: int = Field(description="0: differs on a named axis or is named by a note; 1: site or other detail")
    distance: int = Field(description="Title words that differ (fewer = nearer)")
    reason: str = Field(description="Why it is confused with this code")
    difference: str = Field(description="One line: how it differs")


class ChecklistItem(_Open):
    topic: str = Field(description="What the item is about: 'cause or mechanism', 'site', 'infectious agent', ...")
    document: str = Field(description="What the note must state")
    rule: str = Field(description="The rule the item comes from (axis file, note and where printed, guideline)")
    codes: list[str] = Field(description="Dotted codes the item names, each existing in the code set shown")


class FaqEntry(_Open):
    key: str = Field(description="Question template key (codes/data/faq_questions.csv)")
    question: str
    answer: str
    citations: list[str] = Field(description="The notes, tables and files the answer comes from")
    codes: list[str] = Field(description="Dotted codes the answer names, each existing in the code set shown")
    later_codes: list[str] = Field(description="MCE replacement codes of a later code set (e.g. FY2027)")


class KbStamp(_Open):
    release_id: str
    sources: list[dict[str, Any]] = Field(description="Every source file: source_key, package, version, sha256")


class CodePage(_Open):
    """One ICD-10-CM code: title, hierarchy, notes, validity, HCCs per model and payment year, MEAT guidance,
    documentation checklist, confusable codes and FAQ (docs/code-page.md)."""

    code: str = Field(description="Dotted code, e.g. M87.352")
    code_undotted: str = Field(description="Undotted code as stored in the KB, e.g. M87352")
    title: str
    billable: bool
    level: str = Field(description="category | subcategory | code | extension")
    code_set: str = Field(description="The ICD-10-CM code set answered from, e.g. FY2026")
    code_set_note: str | None = Field(description="Set when the answer fell back to another code set")
    fiscal_years: list[str] = Field(description="Loaded code sets containing the code, newest first")
    validity: Validity
    chapter: Chapter
    block: Block
    ancestors: list[CodeBrief] = Field(description="Category first, parent last")
    parent: CodeBrief | None
    children: list[CodeBrief]
    siblings: list[CodeBrief]
    billable_descendants: list[CodeBrief] = Field(description="For headers: the first 200 billable codes below")
    billable_descendant_count: int
    notes: dict[str, list[str]] = Field(description="Notes printed on the code itself, by type")
    inherited_notes: list[InheritedNote]
    seventh_characters: SeventhCharacters | None
    payment_year: int = Field(description="The CMS payment year the HCC section answers for")
    payment_year_note: str | None
    hcc: list[HccEntry]
    is_hcc: bool = Field(description="Mapped to a payment HCC of CMS-HCC V28 or V24 in the payment year")
    hccs_below: list[HccBelow]
    meat: Meat
    checklist: list[ChecklistItem] = Field(description="Documentation checklist, each item naming its rule")
    confused_codes: list[ConfusedCode] = Field(description="Commonly confused codes, nearest first (at most 12)")
    faq: list[FaqEntry] = Field(description="Questions answered from the rules, with citations")
    faq_json_ld: dict[str, Any] = Field(description="The FAQ as schema.org FAQPage JSON-LD")
    kb: KbStamp
