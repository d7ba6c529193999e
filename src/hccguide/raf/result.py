"""The typed result of scoring one member: `ScoreResponse`, the shape of `ScoreResult.to_dict()` (raf/trace.py).

`POST /api/score` declares it as `response_model`, so OpenAPI documents the real shape; the CLI (`hccguide score
--json`) and the `/score` page render the same object. Every field says what it is, its unit and where the figure
comes from. `ScoreResponse.of(result)` validates a `ScoreResult`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberVariables(_Model):
    """The CMS model software's derived variables of the member (raf/segments.py Demographics)."""

    age: int = Field(description="Age in years on February 1 of the payment year (CMS AGEF), or as given")
    sex: str = Field(description="'F' or 'M'")
    dual: str = Field(description="Dual status class: 'non', 'partial' or 'full' (raf/member_codes.csv)")
    medicaid: bool = Field(description="Any dual status (partial or full benefit)")
    orec: str = Field(description="Original reason for entitlement: 0 age, 1 disability, 2 ESRD, 3 both")
    aged: bool = Field(description="Age 65 or over")
    disabled: bool = Field(description="CMS DISABL: age < 65 and OREC not 0")
    origds: bool = Field(description="CMS ORIGDS: OREC 1 and not DISABL (originally disabled)")
    lti: bool = Field(description="Long-term institutional (MDS 90+ days)")
    new_enrollee: bool = Field(description="New enrollee (fewer than 12 months of Part B in the data year)")
    esrd: bool = Field(description="End-stage renal disease")
    snp: bool = Field(description="Enrolled in a chronic-condition special needs plan (C-SNP)")
    graft_months: int | None = Field(description="ESRD: months since a kidney transplant; null = dialysis")
    low_income: bool = Field(description="RxHCC: low-income subsidy")


class ScoreParts(_Model):
    """The raw score split by kind of factor (as hccinfhir reports it); the four add up to `risk_score`."""

    demographic: float = Field(description="Sum of the age/sex cell and other demographic terms (3 decimals)")
    disease: float = Field(description="Sum of the payment HCC coefficients after hierarchies (3 decimals)")
    interaction: float = Field(description="Sum of the disease and disabled interaction terms (3 decimals)")
    count: float = Field(description="The payment-HCC count variable D1..D10P (3 decimals; 0 when none)")


class BlendPart(_Model):
    """One model of the CMS-HCC payment blend (payment_years.csv blend_weight)."""

    model: str = Field(description="KB model key, e.g. 'CMS-HCC V28'")
    weight: float = Field(description="Blend weight, 0..1 (CMS Rate Announcement)")
    risk_score: float = Field(description="Raw score of this model")
    risk_score_normalized: float | None = Field(description="Normalized score; null if the factor is unknown")
    segment: str = Field(description="Segment the member is scored in with this model")


class HccOut(_Model):
    hcc: str = Field(description="Payment HCC number, e.g. '37'")
    label: str | None = Field(description="CMS label of the HCC (KB hcc_labels)")


class DiagnosisOut(_Model):
    """What became of one input diagnosis."""

    input: Any = Field(description="The code as given")
    code: str = Field(description="Undotted, upper-case code")
    ccs: list[str] = Field(description="CCs it maps to in the payment year's CMS mapping (KB dx_to_cc)")
    status: str = Field(description="'mapped', 'no_hcc', 'invalid_code', 'empty' or 'sex_conflict'")
    reason: str = Field(description="Why, in words, with the source")
    date_of_service: str | None = Field(description="YYYY-MM-DD, when one was given")


class EditOut(_Model):
    code: str = Field(description="Diagnosis code the CMS age/sex edit fired on")
    cc_from: str = Field(description="CC the code maps to")
    cc_to: str | None = Field(description="CC it is moved to; null = removed")
    rule: str = Field(description="The edit (CMS model software V28I0ED / V24I0ED, MCE age conditions)")


class DroppedOut(_Model):
    hcc: str = Field(description="HCC removed")
    label: str | None = Field(description="Its CMS label")
    dropped_by: str | None = Field(description="The higher-ranked HCC that removed it; null for the V28 heart patch")
    dropped_by_label: str | None = Field(description="Label of that HCC")
    rule: str = Field(description="Hierarchy table (CMS model software) or patch that applied")


class InteractionOut(_Model):
    name: str = Field(description="CMS interaction variable, e.g. 'DIABETES_HF_V28'")
    because: list[str] = Field(description="The factors present that made it fire")


class FactorOut(_Model):
    name: str = Field(description="CMS variable name in the coefficient table, e.g. 'CNA_F70_74'")
    kind: str = Field(description="'demographic', 'hcc', 'interaction' or 'count'")
    term: str = Field(description="Term looked up in the segment's table")
    value: float = Field(description="Relative factor (CMS coefficient table of the payment year)")
    label: str | None = Field(description="HCC label for an HCC term")


class ScoreResponse(_Model):
    """One member's risk scores and the full trace (docs/raf.md "Score one member")."""

    model: str = Field(description="KB model key the member was scored with (an ESRD member: CMS-HCC ESRD V24)")
    payment_year: int = Field(description="CMS payment year")
    kb_release: str = Field(description="Knowledge base release id every figure comes from")
    segment: str = Field(description="Coefficient segment (raf/segments.csv), e.g. 'CNA'")
    segment_reason: str = Field(description="Why this segment")
    demographics: MemberVariables
    defaults: list[str] = Field(description="Values assumed because they were not given")
    risk_score: float = Field(description="Raw risk score: sum of the factors, 3 decimals")
    score_parts: ScoreParts = Field(description="The raw score split into demographic, disease, interaction, count")
    risk_score_normalized: float | None = Field(
        description="Raw score / normalization factor, rounded half up to 3 decimals; null if the factor is unknown"
    )
    risk_score_payment: float | None = Field(
        description="Blend of normalized scores × (1 − MA coding pattern adjustment), 3 decimals; null if unknown"
    )
    normalization_factor: float | None = Field(description="CMS normalization factor used (payment_years.csv)")
    ma_coding_adjustment: float | None = Field(description="CMS MA coding pattern adjustment, e.g. 0.059")
    blend: dict[str, float] = Field(description="{model: weight} of the CMS-HCC payment blend of the year")
    blend_parts: list[BlendPart] = Field(description="Each blended model's segment, raw and normalized score")
    constants_verified: str = Field(description="'yes', 'partial', 'no' or 'user': how the constants were checked")
    constants_source: str = Field(description="CMS document of the payment-year constants")
    constants_evidence: str = Field(description="Where each constant was read")
    hccs: list[HccOut] = Field(description="Payment HCCs after edits and hierarchies")
    diagnoses: list[DiagnosisOut] = Field(description="Every input diagnosis and what became of it")
    edits: list[EditOut] = Field(description="CMS age/sex edits that fired")
    hierarchy_dropped: list[DroppedOut] = Field(description="HCCs removed by a hierarchy or the V28 heart patch")
    interactions: list[InteractionOut] = Field(description="Interactions that fired")
    count_variable: str | None = Field(description="Payment-HCC count variable (D1..D9, D10P), null when none")
    factors: list[FactorOut] = Field(description="Every coefficient added into the raw score")
    coefficient_source: str = Field(description="Coefficient table used (CMS model software, year, status)")
    hierarchy_source: str = Field(description="Hierarchy table used (CMS model software module)")
    warnings: list[str] = Field(description="What the user should know about this score")

    @classmethod
    def of(cls, result: Any) -> ScoreResponse:
        """The response of a raf.trace.ScoreResult (validated)."""
        return cls.model_validate(result.to_dict())
