"""The note checker on the web: ``POST /api/notes`` (JSON) and the ``/notes`` page (a POST form: a note never goes
into a URL, so never into an access log).

A face: it validates the request (`NoteRequest`), calls `notes.pipeline.check_note` and renders the `NoteResult`
(highlighted note and condition table). Errors take the app's one JSON error shape (web/app.py); an empty note is
422 `bad_input`, a body over the server limit 413.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hccguide.errors import HccguideError
from hccguide.kb.open import shared_kb
from hccguide.notes.explain import highlight_segments
from hccguide.notes.models import NoteRequest, NoteResult
from hccguide.notes.pipeline import check_note
from hccguide.web.pages import TEMPLATES

router = APIRouter()

EXAMPLE = """ASSESSMENT AND PLAN:
1. Type 2 diabetes mellitus with CKD stage 3b - A1c 8.2 today, not at goal. Increase metformin to 1000 mg BID.
2. Chronic diastolic heart failure - stable, no edema. Continue furosemide 20 mg daily.
3. History of breast cancer, no recurrence. Denies fever, has mild cough.
"""


@router.post(
    "/api/notes",
    tags=["api"],
    summary="Check a clinical note: conditions, assertion, codes, HCCs and MEAT evidence with spans (docs/notes.md)",
    response_model=NoteResult,
    responses={422: {"description": "empty note, bad date or payment year (`bad_input`, `bad_date`, "
                                    "`unknown_fiscal_year`, `unknown_payment_year`)"}},
)
def post_notes(body: NoteRequest) -> NoteResult:
    return check_note(shared_kb(), body.text, date_of_service=body.date_of_service, payment_year=body.payment_year,
                      member=body.member.model_dump() if body.member else None, setting=body.setting)


def _page(request: Request, form: dict, result: NoteResult | None, error: str | None, status: int) -> HTMLResponse:
    segments = highlight_segments(form["text"], result) if result else []
    return TEMPLATES.TemplateResponse(
        request, "notes.html", {"form": form, "result": result, "segments": segments, "error": error},
        status_code=status)


@router.get("/notes", response_class=HTMLResponse, include_in_schema=False)
def notes_page(request: Request) -> HTMLResponse:
    return _page(request, {"text": EXAMPLE, "dos": "", "payment_year": "", "age": "", "sex": "",
                           "setting": "outpatient"}, None, None, 200)


@router.post("/notes", response_class=HTMLResponse, include_in_schema=False)
async def notes_check_page(request: Request) -> HTMLResponse:
    raw = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    form = {k: (raw.get(k) or [""])[0] for k in ("text", "dos", "payment_year", "age", "sex", "setting")}
    form["setting"] = form["setting"] or "outpatient"
    member = None
    try:
        year = int(form["payment_year"]) if form["payment_year"].strip() else None
    except ValueError:
        return _page(request, form, None, "payment year: a year such as 2026", 422)
    if form["age"].strip() and form["sex"].strip():
        if not form["age"].strip().isdigit():
            return _page(request, form, None, "age: whole years", 422)
        member = {"age": int(form["age"]), "sex": form["sex"]}
    try:
        result = check_note(shared_kb(), form["text"], date_of_service=form["dos"] or None, payment_year=year,
                            member=member, setting=form["setting"])
    except HccguideError as exc:  # the message names the field, never the note
        return _page(request, form, None, f"{exc.field}: {exc}", 422)
    return _page(request, form, result, None, 200)
