"""Typed shape of a search answer (issue 13.6): the pydantic models the API declares as `response_model`
(`GET /api/search` -> `SearchResponse`), so OpenAPI documents the real shape, and that the CLI and pages render.

`hccguide.search.query.search()` returns a plain dict of exactly this shape (its callers index it); the model
validates it without change: `SearchResponse.model_validate(search(kb, "chf"))`. Every model forbids unknown
fields, so a field added to the answer without its description here fails tests/search/test_models.py.
Sources of the values: the KB tables named in each description (CDC ICD-10-CM tabular of the code set, CMS
ICD-10 to HCC mappings, the CDC Neoplasm and Drug tables).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatchedName(_Strict):
    """The name of the code that matched the query best."""

    kind: Literal["title", "incl", "inherited", "table", "code"] = Field(
        description="'title' (the code's title), 'incl' (an inclusion term or Includes note printed under it), "
        "'inherited' (an inclusion term of an ancestor), 'table' (a row of the Table of Neoplasms or of Drugs and "
        "Chemicals), 'code' (the query was the code)"
    )
    text: str = Field(description="that name as printed ('Congestive heart failure NOS'; 'Table of Neoplasms: "
                      "Neoplasm, liver, Malignant Secondary \u2192 C78.7')")


class SeventhCharacterChoice(_Strict):
    """One 7th character a code may take."""

    character: str = Field(description="the 7th character ('A')")
    code: str = Field(description="the complete dotted code ('S72.001A')")
    meaning: str = Field(description="its meaning from the tabular ('initial encounter for closed fracture')")


class SeventhCharacter(_Strict):
    """How a code needing a 7th character was completed."""

    character: str = Field(description="the 7th character chosen ('A')")
    meaning: str = Field(description="its meaning from the tabular")
    assumed: bool = Field(description="true when the query named no episode of care: the initial encounter (A) is "
                          "shown (ICD-10-CM Guidelines I.C.19.a)")
    base: str = Field(description="the 6-character code completed ('S72.001')")
    choices: list[SeventhCharacterChoice] = Field(description="every 7th character of the base code")
    note: str | None = Field(None, description="present when `assumed`: which character to use otherwise")


class Choice(_Strict):
    """A billable code under a non-billable header of the results."""

    code: str = Field(description="dotted code")
    title: str = Field(description="its title in the code set")
    needs_7th_character: bool = Field(description="true when the code still needs a 7th character")
    v28_hcc: str | None = Field(description="its CMS-HCC V28 HCC in the payment year (KB dx_to_cc), or null")


class HccOfModel(_Strict):
    """The HCC of the result in the model asked for with the `hcc` filter."""

    model: str = Field(description="KB model key ('CMS-HCC V28')")
    cc: str = Field(description="the HCC number ('226')")
    label: str = Field(description="the HCC label of that model")


class SearchResult(_Strict):
    """One ranked code."""

    code: str = Field(description="dotted ICD-10-CM code ('I50.9')")
    title: str = Field(description="its title in the code set answered from")
    billable: bool = Field(description="valid for billing in that code set (a 7th-character code is billable)")
    level: str = Field(description="'category' | 'subcategory' | 'code' | 'extension' (KB codes.level)")
    v28_hcc: str | None = Field(description="CMS-HCC V28 HCC in the payment year (KB dx_to_cc), or null")
    v28_hcc_label: str | None = Field(description="label of that HCC (KB hcc_labels), or null")
    chapter: int = Field(description="chapter of the tabular (1..22; 0: not placed, FY2027 QA1)")
    score: float = Field(description="ranking score (search/rank.py; only the order is meaningful)")
    matched: list[str] = Field(description="the parts of the query the code's best name matched")
    matched_name: MatchedName = Field(description="the name that matched best")
    seventh_character: SeventhCharacter | None = Field(
        None, description="codes completed with a 7th character: which one and why"
    )
    choices: list[Choice] | None = Field(
        None, description="non-billable headers: their billable codes, best first"
    )
    axes: list[str] | None = Field(
        None, description="non-billable headers: the axes on which the choices differ (codes/data/axes.csv)"
    )
    hcc: HccOfModel | None = Field(None, description="with the `hcc` filter: the HCC of that model")


class Correction(_Strict):
    """A misspelt word replaced by the nearest word of the index."""

    from_: str = Field(alias="from", description="the word as typed")
    to: str = Field(description="the index word used")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Expansion(_Strict):
    """A phrase of the query read with its synonyms.csv alternatives."""

    text: str = Field(description="the phrase as normalised ('chf')")
    as_: list[str] = Field(alias="as", description="its alternative wordings ('congestive heart failure', ...)")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class KbStamp(_Strict):
    """The KB release the answer comes from."""

    release_id: str = Field(description="KB release id")
    code_sets: list[str] = Field(description="ICD-10-CM code sets loaded ('FY2027', 'FY2026')")
    payment_years: list[int] = Field(description="CMS payment years loaded")


class SearchResponse(_Strict):
    """The answer of `search(kb, q, ...)` and of `GET /api/search` (docs/search.md)."""

    query: str = Field(description="the query as searched (trimmed)")
    code_set: str = Field(description="the code set answered from: today's by default ('FY2027'), or `fy`")
    payment_year: int = Field(description="payment year of the HCC mapping shown")
    results: list[SearchResult] = Field(description="ranked codes, best first")
    corrections: list[Correction] = Field(description="misspellings corrected")
    expansions: list[Expansion] = Field(description="synonym phrases used")
    notes: list[str] = Field(description="sentences for the user: code-set fallback, combination codes applied "
                             "(with the guideline), long query cut")
    kb: KbStamp = Field(description="the KB release")
