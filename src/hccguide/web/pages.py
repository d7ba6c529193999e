"""HTML pages (Jinja2 templates in web/templates): the same data as the JSON API, for people."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hccguide.errors import HccguideError

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


def error_page(request: Request, exc: HccguideError) -> HTMLResponse:
    """The HTML face of an error: message, field, value, fix and suggestions, with the error's HTTP status."""
    return TEMPLATES.TemplateResponse(
        request, "error.html", {"error": exc.to_dict()["error"]}, status_code=exc.http_status
    )
