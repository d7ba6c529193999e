"""Claim checks on the web: ``POST /api/claims/check`` (JSON) and the ``/claims`` page (a GET form, no JavaScript).

A face: it validates the request with the `Claim` model, calls `claims.checks.check_claim` and renders the
`CheckResult`. Errors take the app's one JSON error shape (web/app.py).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from hccguide.claims.checks import check_claim
from hccguide.claims.models import CheckResult, Claim
from hccguide.icd10 import CODE_IN_TEXT
from hccguide.kb.open import shared_kb
from hccguide.web.pages import TEMPLATES

router = APIRouter()


@router.post(
    "/api/claims/check",
    tags=["api"],
    summary="Check one claim: validity on the date of service, notes, edits; MS-DRG for inpatient (docs/claims.md)",
    response_model=CheckResult,
    responses={422: {"description": "a field breaks the claim schema (`bad_input`)"}},
)
def post_claim_check(claim: Claim) -> CheckResult:
    return check_claim(shared_kb(), claim)


@router.get("/claims", response_class=HTMLResponse, include_in_schema=False)
def claims_page(
    request: Request,
    codes: str | None = Query(None, max_length=600),
    age: str | None = Query(None, max_length=3),
    sex: str | None = Query(None, max_length=1),
    dos: str | None = Query(None, max_length=10),
    claim_type: str | None = Query(None, max_length=12),
    cpt: str | None = Query(None, max_length=200),
) -> HTMLResponse:
    form = {
        "codes": codes or "",
        "age": age or "",
        "sex": sex or "",
        "dos": dos or date.today().isoformat(),
        "claim_type": claim_type or "professional",
        "cpt": cpt or "",
    }
    result = None
    errors: list[str] = []
    if codes is not None:
        dx = [c for c in (codes or "").replace(",", " ").replace(";", " ").split() if c]
        try:
            claim = Claim.model_validate(
                {
                    "claim_id": "page",
                    "patient": {"age": age or None, "sex": sex or "U"},
                    "date_of_service": form["dos"],
                    "claim_type": form["claim_type"],
                    "diagnosis_codes": dx,
                    "lines": [{"cpt_hcpcs": c} for c in (cpt or "").replace(",", " ").split() if c],
                }
            )
            result = check_claim(shared_kb(), claim)
        except ValidationError as e:
            errors = [f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()]
    return TEMPLATES.TemplateResponse(
        request,
        "claims.html",
        {"form": form, "result": result, "errors": errors, "code_pattern": CODE_IN_TEXT.pattern},
        status_code=422 if errors else 200,
    )
