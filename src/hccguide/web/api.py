"""JSON API routes (`/api/...`): thin wrappers over the library; errors are mapped in web/app.py."""

from __future__ import annotations

from fastapi import APIRouter

from hccguide.kb.info import kb_info

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/kb", summary="The knowledge base release: id, code sets, payment years and every source file")
def get_kb() -> dict:
    return kb_info()
