"""HTML pages (Jinja2 templates in web/templates): the same data as the JSON API, for people."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from hccguide.errors import HccguideError
from hccguide.kb.open import shared_kb

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)

# Note types in the order the CDC tabular prints them, with the heading a coder reads.
NOTE_TYPES: dict[str, str] = {
    "inclusion_term": "Inclusion terms",
    "includes": "Includes",
    "excludes1": "Excludes1 (never coded together with this code)",
    "excludes2": "Excludes2 (not included here; both may be coded)",
    "code_first": "Code first",
    "use_additional_code": "Use additional code",
    "code_also": "Code also",
    "notes": "Notes",
    "seventh_char_note": "7th character",
}

# A code, category or header written inside a tabular note: 'I96', 'I70.23-', 'L89.-', 'E11.621'.
_CODE_IN_TEXT = re.compile(r"(?<![\w.])([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)(?=\.?-|[^\w]|$)")


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
    for m in _CODE_IN_TEXT.finditer(text):
        code = m.group(1)
        out.append(str(escape(text[last : m.start()])))
        out.append(f'<a href="/codes/{escape(code)}">{escape(code)}</a>')
        last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def hcc_name(ref: dict, entry: dict) -> str:
    """'HCC381' for a hierarchy row {cc|hcc, label} of a model entry (the prefix of the entry's own HCC)."""
    if ref.get("hcc"):
        return str(ref["hcc"])
    prefix = str(entry.get("hcc") or "HCC").removesuffix(str(entry.get("cc") or ""))
    return f"{prefix}{ref.get('cc')}"


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
    from hccguide.codes.pages import code_page

    kb = shared_kb()
    page = code_page(kb, code, fy=fy, payment_year=payment_year)
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


@router.get("/score", response_class=HTMLResponse)
def score_page(
    request: Request,
    model: str = "V28",
    payment_year: int = 2026,
    age: str = "",
    sex: str = "",
    dual: str = "",
    orec: str = "",
    lti: bool = False,
    new_enrollee: bool = False,
    esrd: bool = False,
    dx: str = "",
    date_of_service: str = "",
) -> HTMLResponse:
    """The RAF form; with age and sex filled in, the score and its trace (same data as POST /api/score).
    date_of_service (YYYY-MM-DD, in the model year) dates every diagnosis: the MCE sex edits are by date."""
    from hccguide.raf.request import ScoreRequest, form_int

    form = {"model": model, "payment_year": payment_year, "age": age, "sex": sex, "dual": dual, "orec": orec,
            "lti": lti, "new_enrollee": new_enrollee, "esrd": esrd, "dx": dx, "date_of_service": date_of_service}
    result = None
    if age.strip() or sex.strip():
        req = ScoreRequest.parse(dict(
            model=model, payment_year=payment_year, age=form_int(age, "age"), sex=sex or None,
            dual_status=dual or None, orec=orec or None, lti=lti, new_enrollee=new_enrollee, esrd=esrd,
            dx=[c for c in dx.replace(" ", ",").split(",") if c.strip()], date_of_service=date_of_service.strip() or None,
        ))
        result = req.score(shared_kb()).to_dict()
    return TEMPLATES.TemplateResponse(request, "score.html", {"form": form, "result": result})
