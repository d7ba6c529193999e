"""JSON API routes (`/api/...`): thin wrappers over the library; errors are mapped in web/app.py."""

from __future__ import annotations

from fastapi import APIRouter, Query

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
