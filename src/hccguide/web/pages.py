"""HTML pages (Jinja2 templates in web/templates): the same data as the JSON API, for people."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from hccguide.cli_render import NOTE_HEADINGS, hcc_name
from hccguide.errors import HccguideError
from hccguide.icd10 import CODE_IN_TABULAR_NOTE
from hccguide.kb.open import shared_kb

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)

# Note types in tabular order with the heading a coder reads (defined once in cli_render.NOTE_HEADINGS).
NOTE_TYPES: dict[str, str] = {k: f"{h} ({meaning})" if meaning else h for k, (h, meaning) in NOTE_HEADINGS.items()}



def release_id() -> str | None:
    """The release id of the KB the pages answer from (None when no KB is built yet): shown in every footer."""
    try:
        return shared_kb().release_id
    except HccguideError:
        return None


def link_codes(text: str) -> Markup:
    """Escape a tabular note and link every code written in it to its code page."""
    out: list[str] = []
    last = 0
    for m in CODE_IN_TABULAR_NOTE.finditer(text):
        code = m.group(1)
        out.append(str(escape(text[last : m.start()])))
        out.append(f'<a href="/codes/{escape(code)}">{escape(code)}</a>')
        last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def coefficient_tables(entries: list[dict]) -> list[dict]:
    """Group the mapped model entries that share the same segments into one table each.

    Returns [{"segments": [{"segment", "label"}], "rows": [{"entry", "cells": {segment: [coefficient rows]}}]}]:
    CMS-HCC V28 and V24 share CNA..INS, ESRD and RxHCC have their own segments. A cell may hold several rows
    (variants of one CMS coefficient name).
    """
    tables: list[dict] = []
    for entry in entries:
        if not entry.get("mapped") or not entry.get("coefficients"):
            continue
        segments: list[dict] = []
        cells: dict[str, list[dict]] = {}
        for c in entry["coefficients"]:
            if c["segment"] not in cells:
                segments.append({"segment": c["segment"], "label": c.get("segment_label") or c["segment"]})
                cells[c["segment"]] = []
            cells[c["segment"]].append(c)
        key = [s["segment"] for s in segments]
        for table in tables:
            if [s["segment"] for s in table["segments"]] == key:
                table["rows"].append({"entry": entry, "cells": cells})
                break
        else:
            tables.append({"segments": segments, "rows": [{"entry": entry, "cells": cells}]})
    return tables


def grouped_inherited(notes: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """Inherited notes grouped by type in tabular order: [(type, heading, [note])]."""
    groups: list[tuple[str, str, list[dict]]] = []
    for kind, heading in NOTE_TYPES.items():
        rows = [n for n in notes if n.get("type") == kind]
        if rows:
            groups.append((kind, heading, rows))
    other = [n for n in notes if n.get("type") not in NOTE_TYPES]
    if other:
        groups.append(("other", "Other notes", other))
    return groups


def payment_year_status(page: dict, kb: Any) -> dict[int, str]:
    """{payment year: 'final' | 'proposed' | ''} for the models this code page maps to (raf.request)."""
    from hccguide.raf.request import payment_year_status as status_of

    return status_of({e["model"] for e in page.get("hcc", []) if e.get("coefficients_by_year")}, kb)


TEMPLATES.env.globals.update(release_id=release_id, hcc_name=hcc_name, NOTE_TYPES=NOTE_TYPES)
TEMPLATES.env.filters["link_codes"] = link_codes


def error_page(request: Request, exc: HccguideError) -> HTMLResponse:
    """The HTML face of an error: message, field, value, fix and suggestions, with the error's HTTP status."""
    return TEMPLATES.TemplateResponse(
        request, "error.html", {"error": exc.to_dict()["error"]}, status_code=exc.http_status
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """Home: a code box that jumps to a code page, and the search box (web/static/search.js fills it)."""
    return TEMPLATES.TemplateResponse(request, "home.html", {"kb_info": _kb_summary()})


@router.get("/codes", response_class=HTMLResponse)
def jump_to_code(code: str | None = Query(None)) -> RedirectResponse:
    """The code box target: `/codes?code=m87352` -> 303 to `/codes/M87.352` (malformed -> the error page)."""
    if code is None or not code.strip():
        return RedirectResponse("/", status_code=303)
    from hccguide.codes.lookup import normalize_code
    from hccguide.sources.cdc_tabular import dot

    return RedirectResponse(f"/codes/{dot(normalize_code(code))}", status_code=303)


@router.get("/codes/{code}", response_class=HTMLResponse)
def code_page_html(
    request: Request, code: str, fy: int | None = Query(None), payment_year: int | None = Query(None)
) -> HTMLResponse:
    """The code page for people: the same dict as `GET /api/codes/{code}`, laid out like docs/code-page.md."""
    from hccguide.web.cache import code_page_answer  # code_page + its MS-DRG section (claims layer, issue 16)

    kb = shared_kb()
    page = code_page_answer(kb, code, fy, payment_year)
    context: dict[str, Any] = {
        "page": page,
        "fy": fy,
        "code_sets": kb.code_sets,
        "payment_years": kb.payment_years,
        "year_status": payment_year_status(page, kb),
        "coef_tables": coefficient_tables(page["hcc"]),
        "inherited_groups": grouped_inherited(page["inherited_notes"]),
    }
    return TEMPLATES.TemplateResponse(request, "code.html", context)


@router.get("/about", response_class=HTMLResponse)
def about(request: Request) -> HTMLResponse:
    """The KB release id, its code sets, payment years, models and every source file with its sha256."""
    from hccguide.kb.info import kb_info

    return TEMPLATES.TemplateResponse(request, "about.html", {"info": kb_info()})


def _kb_summary() -> dict | None:
    try:
        kb = shared_kb()
    except HccguideError:
        return None
    return {"release_id": kb.release_id, "code_sets": kb.code_sets, "payment_years": kb.payment_years}


# Form field names of /score and the ScoreRequest fields they fill (dual -> dual_status).
_SCORE_FORM_FIELDS = {"dual_status": "dual", "dob": "date_of_birth"}
_TRUE = ("true", "on", "1", "yes")


def _form_field(api_field: str | None) -> str:
    """The /score form field an error belongs to: 'dx[3].date_of_service' -> 'dx', 'dual_status' -> 'dual'."""
    root = re.split(r"[.\[]", api_field or "form")[0]
    return _SCORE_FORM_FIELDS.get(root, root)


@router.get("/score", response_class=HTMLResponse)
def score_page(
    request: Request,
    model: str = "V28",
    payment_year: str = "",
    age: str = "",
    date_of_birth: str = "",
    sex: str = "",
    dual: str = "",
    orec: str = "",
    lti: str = "",
    new_enrollee: str = "",
    esrd: str = "",
    snp: str = "",
    graft_months: str = "",
    low_income: str = "",
    dx: str = "",
    date_of_service: str = "",
) -> HTMLResponse:
    """The RAF form; with age (or date of birth) or sex filled in, the score and its trace (the same ScoreResult as
    POST /api/score, built from the same raf.request.ScoreRequest). Every field is read as text so that a bad value
    is shown next to its field, with the form kept as typed (HTTP 422), never a page that replaces the form.
    date_of_service (YYYY-MM-DD, in the model year) dates every diagnosis: the MCE sex edits are by date."""
    from pydantic import ValidationError

    from hccguide.raf.request import ScoreRequest, form_int, validation_error

    kb = shared_kb()
    form = {"model": model, "payment_year": payment_year or "2026", "age": age, "date_of_birth": date_of_birth,
            "sex": sex, "dual": dual, "orec": orec, "lti": lti.lower() in _TRUE,
            "new_enrollee": new_enrollee.lower() in _TRUE, "esrd": esrd.lower() in _TRUE, "snp": snp.lower() in _TRUE,
            "graft_months": graft_months, "low_income": low_income.lower() in _TRUE, "dx": dx,
            "date_of_service": date_of_service}
    errors: dict[str, dict] = {}
    result = None
    if age.strip() or date_of_birth.strip() or sex.strip():
        data: dict[str, Any] = {k: form[k] for k in ("lti", "new_enrollee", "esrd", "snp", "low_income")}
        data.update(model=model, sex=sex.strip() or None, dual_status=dual.strip() or None,
                    orec=orec.strip() or None, date_of_birth=date_of_birth.strip() or None,
                    date_of_service=date_of_service.strip() or None,
                    dx=[c for c in dx.replace(" ", ",").replace("\n", ",").split(",") if c.strip()])
        for name, text in (("age", age), ("graft_months", graft_months), ("payment_year", form["payment_year"])):
            try:
                data[name] = form_int(text, name)
            except HccguideError as exc:
                errors[name] = exc.to_dict()["error"]
        try:
            req = ScoreRequest.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as exc:
            for e in exc.errors(include_url=False):
                err = validation_error([e]).to_dict()["error"]
                errors.setdefault(_form_field(err["field"]), err)
        if not errors:
            try:
                result = req.score(kb).to_dict()
            except HccguideError as exc:
                errors[_form_field(exc.field)] = exc.to_dict()["error"]
    context = {"form": form, "result": result, "errors": errors, "payment_years": kb.payment_years,
               "models": ["V28", "V24", "ESRD-V24", "RxHCC-V08"]}
    return TEMPLATES.TemplateResponse(request, "score.html", context, status_code=422 if errors else 200)


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request, q: str = "", limit: str = "25", billable: str = "", fy: str = ""
) -> HTMLResponse:
    """Search results without JavaScript: `/search?q=chf+exacerbation` (bookmarkable, shareable). The same answer
    as GET /api/search; a bad value is shown next to its field (HTTP 422) with the form kept."""
    from hccguide.raf.request import form_int
    from hccguide.web.cache import search_answer

    kb = shared_kb()
    form = {"q": q, "limit": limit, "billable": billable.lower() in _TRUE, "fy": fy}
    errors: dict[str, dict] = {}
    answer = None
    if q.strip():
        try:
            n = form_int(limit, "limit") or 25
            year = form_int(fy, "fy")
            answer = search_answer(kb, q, limit=n, billable=form["billable"], fy=year)
        except HccguideError as exc:
            errors[exc.field or "q"] = exc.to_dict()["error"]
    context = {"form": form, "answer": answer, "errors": errors, "code_sets": kb.code_sets}
    return TEMPLATES.TemplateResponse(request, "search.html", context, status_code=422 if errors else 200)
