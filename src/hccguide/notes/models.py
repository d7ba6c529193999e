"""Result models of the note checker (docs/notes.md): what the API declares as `response_model` and the CLI renders.

Offsets are character offsets into the note text exactly as given (Python `str` indices, end exclusive).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from hccguide.raf.request import (
    AGE_MAX,
    AGE_MIN,
    DUAL_PATTERN,
    GRAFT_MONTHS_MAX,
    GRAFT_MONTHS_MIN,
    MODEL_CHOICES,
    OREC_PATTERN,
    SEX_PATTERN,
)

Assertion = Literal["present", "negated", "historical", "hypothetical", "family"]
Element = Literal["monitor", "evaluate", "assess", "treat"]
ELEMENTS: tuple[Element, ...] = ("monitor", "evaluate", "assess", "treat")


class Span(BaseModel):
    """A stretch of the note."""

    text: str = Field(..., description="the words of the note at [start, end)")
    start: int = Field(..., ge=0, description="character offset of the first character")
    end: int = Field(..., ge=0, description="character offset after the last character")


class Mention(Span):
    """One place the note names the condition."""

    section: str | None = Field(None, description="section category (notes/rules/sections.csv), None before any header")
    assertion: Assertion = Field(..., description="present, negated, historical, hypothetical or family")
    trigger: Span | None = Field(None, description="the words (ConText modifier or section header) that set the "
                                 "assertion; None when present")


class CodeChoice(BaseModel):
    """An ICD-10-CM code the words support."""

    code: str = Field(..., description="dotted ICD-10-CM code, billable in the code set of the date of service")
    title: str = Field(..., description="tabular title")
    why: str = Field("", description="how the code was chosen (search match, combination rule and its guideline)")


class HccRef(BaseModel):
    """One CMS-HCC a code maps to."""

    model: str = Field(..., description="KB model key, e.g. 'CMS-HCC V28'")
    hcc: str = Field(..., description="condition category number as CMS writes it, e.g. '37'")
    label: str = Field("", description="CMS label of the HCC")


class Meat(BaseModel):
    """The evidence of this encounter for one condition, per MEAT element (CMS RADV Medical Record Reviewer
    Guidance; AHA Coding Clinic on MEAT/TAMPER)."""

    monitor: list[Span] = Field(default_factory=list, description="signs, symptoms, progression, follow-up plans")
    evaluate: list[Span] = Field(default_factory=list, description="test results, exam findings, orders")
    assess: list[Span] = Field(default_factory=list, description="status, discussion, response to treatment")
    treat: list[Span] = Field(default_factory=list, description="medications, therapies, referrals, procedures")


class Condition(BaseModel):
    """One condition of the note (all its mentions), coded, with its evidence."""

    text: str = Field(..., description="the words of the main mention")
    start: int = Field(..., description="character offset of the main mention")
    end: int = Field(..., description="character offset after the main mention")
    section: str | None = Field(None, description="section of the main mention")
    assertion: Assertion = Field(..., description="present if any mention is present, else the main mention's")
    trigger: Span | None = Field(None, description="the assertion trigger of the main mention")
    mentions: list[Mention] = Field(default_factory=list, description="every mention, in note order")
    codes: list[CodeChoice] = Field(default_factory=list, description="the codes to report (combination code "
                                    "first where a rule links two conditions)")
    alternatives: list[CodeChoice] = Field(default_factory=list, description="other codes the words could mean")
    hcc: list[HccRef] = Field(default_factory=list, description="HCCs of the codes for the payment year")
    meat: Meat = Field(default_factory=Meat, description="MEAT evidence linked to this condition")
    supported: bool = Field(..., description="present with MEAT evidence in this encounter")
    reason: str = Field(..., description="why supported or not")
    queries: list[str] = Field(default_factory=list, description="provider query suggestions (documentation too "
                               "vague for the specific code)")


class NoteHcc(BaseModel):
    """An HCC of the note: supported, or a candidate with the reason it is not."""

    model: str = Field(..., description="KB model key")
    hcc: str = Field(..., description="condition category")
    label: str = Field("", description="CMS label")
    supported: bool = Field(..., description="a supported condition maps here and no supported HCC drops it")
    codes: list[str] = Field(default_factory=list, description="dotted codes that map here")
    reason: str = Field("", description="for candidates: why not supported; for dropped HCCs: the hierarchy")


class NoteResult(BaseModel):
    """What `check_note` answers for one note."""

    conditions: list[Condition] = Field(default_factory=list, description="conditions in note order")
    hccs: list[NoteHcc] = Field(default_factory=list, description="supported HCCs, then candidates")
    score: dict | None = Field(None, description="risk score of the supported codes by the RAF engine (raf.trace "
                               "ScoreResult.to_dict()) when demographics were given")
    code_set: str = Field(..., description="ICD-10-CM code set of the date of service, e.g. 'FY2026'")
    payment_year: int = Field(..., description="CMS payment year of the HCCs")
    date_of_service: str | None = Field(None, description="YYYY-MM-DD as given")
    setting: str = Field("outpatient", description="encounter setting the uncertain diagnoses were read in")
    sections: list[Span] = Field(default_factory=list, description="section headers found (text = category)")
    kb: dict = Field(default_factory=dict, description="knowledge base release stamp")


class NoteMember(BaseModel):
    """Demographics for the risk score of the supported codes, with the rules of `hccguide score`
    (raf/request.py: the same patterns and bounds; age and sex are required). Other keys (a member id, a name) are
    ignored and never echoed."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field("V28", description="risk model", json_schema_extra={"enum": list(MODEL_CHOICES)})
    age: StrictInt = Field(..., ge=AGE_MIN, le=AGE_MAX, description="whole years on February 1 of the payment year")
    sex: str = Field(..., pattern=SEX_PATTERN, description="M or F (CMS 1 = M, 2 = F)")
    dual_status: str | None = Field(None, pattern=DUAL_PATTERN, description="CMS dual status code 00..10, or non / "
                                    "partial / full; default non")
    orec: str | None = Field(None, pattern=OREC_PATTERN, description="original reason for entitlement 0..3")
    lti: StrictBool = Field(False, description="long-term institutional")
    new_enrollee: StrictBool = Field(False, description="new enrollee")
    esrd: StrictBool = Field(False, description="ESRD (scored with the ESRD model)")
    snp: StrictBool = Field(False, description="C-SNP member")
    graft_months: StrictInt | None = Field(None, ge=GRAFT_MONTHS_MIN, le=GRAFT_MONTHS_MAX,
                                           description="ESRD: months since a kidney transplant")
    low_income: StrictBool = Field(False, description="RxHCC: low-income subsidy")

    def score_fields(self) -> dict:
        """The fields `raf.request.ScoreRequest` takes (None values left out)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class NoteRequest(BaseModel):
    """POST /api/notes body."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., min_length=1, description="the note text (at most 200,000 characters; the body limit "
                      "of the server, 1 MB by default, applies first)")
    date_of_service: str | None = Field(None, description="YYYY-MM-DD: picks the ICD-10-CM code set (default today)")
    payment_year: int | None = Field(None, ge=2000, le=2100, description="CMS payment year of the HCCs (default: "
                                     "the year after the date of service, or the latest loaded)")
    member: NoteMember | None = Field(None, description="demographics: when given, the answer has the risk score")
    setting: Literal["outpatient", "inpatient"] = Field(
        "outpatient", description="encounter setting: an uncertain diagnosis ('probable', 'suspected', 'rule out') is "
        "hypothetical outpatient (ICD-10-CM Official Guidelines IV.H; physician encounters, as risk adjustment reads "
        "them) and coded as present inpatient (II.H, III.C)")
