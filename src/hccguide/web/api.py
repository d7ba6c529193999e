"""JSON API routes (`/api/...`): thin wrappers over the library; errors are mapped in web/app.py."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hccguide.kb.info import kb_info
from hccguide.kb.open import shared_kb

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/kb", summary="The knowledge base release: id, code sets, payment years and every source file")
def get_kb() -> dict:
    return kb_info()


@router.get(
    "/codes/{code}",
    summary="The code page of one ICD-10-CM code (docs/code-page.md)",
    responses={
        404: {"description": "unknown or malformed code (`invalid_code`, nearest codes in `suggestions`)"},
        422: {"description": "unknown fiscal year or payment year, or a non-integer query value"},
    },
)
def get_code(
    code: str,
    fy: int | None = Query(None, description="ICD-10-CM fiscal year (code set), e.g. 2026; default: in force today"),
    payment_year: int | None = Query(None, description="CMS payment year, e.g. 2026; default: the current one"),
) -> dict:
    """Exactly `hccguide.codes.pages.code_page(kb, code, fy, payment_year)`: any spelling of the code
    (M87.352, m87352)."""
    from hccguide.codes.pages import code_page

    return code_page(shared_kb(), code, fy=fy, payment_year=payment_year)


# ---------------------------------------------------------------------------------------------------- RAF score
class DxEntry(BaseModel):
    """One diagnosis with its own date of service."""

    code: str = Field(..., description="ICD-10-CM code, dotted or not")
    date_of_service: str | None = Field(None, description="YYYY-MM-DD, in the model year; default: the request's")


class ScoreRequest(BaseModel):
    """One member to score (docs/raf.md)."""

    model: str = Field("V28", description="V28, V24, ESRD-V24 or RxHCC-V08")
    payment_year: int = Field(2026, description="CMS payment year (2025..2027)")
    age: int | None = Field(None, description="age on February 1 of the payment year")
    date_of_birth: date | None = Field(None, description="instead of age")
    sex: str | None = Field(None, description="M or F")
    dual_status: str | None = Field(None, description="CMS dual code 00..10, or non / partial / full")
    orec: str | None = None
    lti: bool = False
    new_enrollee: bool = False
    esrd: bool = False
    snp: bool = False
    graft_months: int | None = None
    low_income: bool = False
    dx: list[str | DxEntry] = Field(
        default_factory=list, description="ICD-10-CM codes, dotted or not, or {code, date_of_service}"
    )
    date_of_service: str | None = Field(
        None, description="YYYY-MM-DD: date of the diagnoses without their own (MCE sex edits are chosen by date)"
    )


@router.post("/score", summary="Score one member (CMS-HCC RAF) with the full trace (docs/raf.md)")
def post_score(body: ScoreRequest) -> dict:
    from hccguide.raf.segments import Member
    from hccguide.raf.trace import score_member

    member = Member(age=body.age, sex=body.sex, dual_status=body.dual_status, orec=body.orec, lti=body.lti,
                    new_enrollee=body.new_enrollee, esrd=body.esrd, snp=body.snp, graft_months=body.graft_months,
                    low_income=body.low_income, date_of_birth=body.date_of_birth)
    dx = [d if isinstance(d, str) else (d.code, d.date_of_service) for d in body.dx]
    return score_member(shared_kb(), member, dx, model=body.model, payment_year=body.payment_year,
                        date_of_service=body.date_of_service).to_dict()


# ---------------------------------------------------------------------------------------------------- search
@router.get(
    "/search",
    summary="Encoder search: free text to ranked ICD-10-CM codes with V28 HCCs (docs/search.md)",
    responses={422: {"description": "empty, 1-character or over 2,000-character `q`, bad limit, model or year"}},
)
def get_search(
    q: str = Query("", description="free text ('chf exacerbation', 'T2DM w/ neuropathy') or a code (E11.9)"),
    limit: int = Query(10, description="results to return, 1..100"),
    billable: bool = Query(False, description="billable codes only"),
    hcc: str | None = Query(None, description="only codes mapping to an HCC of this model (V28, V24, ...)"),
    chapter: int | None = Query(None, description="ICD-10-CM chapter 1..22"),
    fy: int | None = Query(None, description="ICD-10-CM fiscal year (code set); default: in force today"),
) -> dict:
    """Exactly `hccguide.search.query.search(kb, q, ...)`: {"results": [{"code", "title", "billable", "v28_hcc",
    ...}], "kb": {"release_id", ...}, "code_set", ...}."""
    from hccguide.search.query import search

    return search(shared_kb(), q, limit=limit, billable=billable, hcc=hcc, chapter=chapter, fy=fy)
