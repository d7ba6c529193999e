"""JSON API routes (`/api/...`): thin wrappers over the library; errors are mapped in web/app.py."""

from __future__ import annotations

from fastapi import APIRouter, Query

from hccguide.codes.page_model import CodePage
from hccguide.kb.info import KbInfo, kb_info
from hccguide.kb.open import shared_kb
from hccguide.raf.request import ScoreRequest
from hccguide.raf.result import ScoreResponse
from hccguide.web.app import ErrorBody

router = APIRouter(prefix="/api", tags=["api"])

# Two characters that are not white space once trimmed (str.strip also trims \x1c-\x1f, which regex \s may not).
Q_PATTERN = r"[^\s\x1c-\x1f][\s\S]*[^\s\x1c-\x1f]"


@router.get("/kb", summary="The knowledge base release: id, code sets, payment years and every source file",
            response_model=KbInfo)
def get_kb() -> dict:
    return kb_info()


@router.get(
    "/codes/{code}",
    summary="The code page of one ICD-10-CM code (docs/code-page.md)",
    response_model=CodePage,
    responses={
        404: {"model": ErrorBody,
              "description": "unknown or malformed code (`invalid_code`, nearest codes in `suggestions`)"},
        422: {"model": ErrorBody, "description": "unknown fiscal year or payment year, or a non-integer query value"},
    },
)
def get_code(
    code: str,
    fy: int | None = Query(None, description="ICD-10-CM fiscal year (code set), e.g. 2026; default: in force today"),
    payment_year: int | None = Query(None, description="CMS payment year, e.g. 2026; default: the current one"),
) -> dict:
    """Exactly `hccguide.codes.pages.code_page(kb, code, fy, payment_year)`: any spelling of the code
    (M87.352, m87352)."""
    from hccguide.web.cache import code_page_answer  # code_page + its MS-DRG section (claims layer, issue 16)

    return code_page_answer(shared_kb(), code, fy, payment_year)


# ---------------------------------------------------------------------------------------------------- RAF score
@router.post("/score", summary="Score one member (CMS-HCC RAF) with the full trace (docs/raf.md)",
             response_model=ScoreResponse)
async def post_score(body: ScoreRequest) -> ScoreResponse:
    """`ScoreRequest.score(kb)` (raf/request.py): the member built once from the request, scored with its trace,
    as the typed `raf.result.ScoreResponse`.

    Runs on the event loop, not in the thread pool: a score is ~1 ms of CPU (60 ms at DX_MAX diagnoses), and the
    hop to a worker thread, which then waits for the GIL behind code-page and search work, cost more than that
    under load (benchmarks/load.py, issue 12: server CPU per request 0.93 -> 0.71 ms, score p99 371 -> 136 ms)."""
    return ScoreResponse.of(body.score(shared_kb()))


# ---------------------------------------------------------------------------------------------------- search
@router.get(
    "/search",
    summary="Encoder search: free text to ranked ICD-10-CM codes with V28 HCCs (docs/search.md)",
    responses={422: {"model": ErrorBody,
                     "description": "empty, 1-character or over 2,000-character `q`, bad limit, model or year"}},
)
def get_search(
    q: str = Query(..., min_length=2, max_length=2000, pattern=Q_PATTERN,
                   description="free text ('chf exacerbation', 'T2DM w/ neuropathy') or a code (E11.9): "
                   "2..2,000 characters after trimming spaces"),
    limit: int = Query(10, ge=1, le=100, description="results to return, 1..100"),
    billable: bool = Query(False, description="billable codes only"),
    hcc: str | None = Query(None, description="only codes mapping to an HCC of this model (V28, V24, ...)"),
    chapter: int | None = Query(None, ge=1, le=22, description="ICD-10-CM chapter 1..22"),
    fy: int | None = Query(None, description="ICD-10-CM fiscal year (code set); default: in force today"),
) -> dict:
    """Exactly `hccguide.search.query.search(kb, q, ...)`: {"results": [{"code", "title", "billable", "v28_hcc",
    ...}], "kb": {"release_id", ...}, "code_set", ...}."""
    from hccguide.errors import BadInput
    from hccguide.web.cache import search_answer

    if hcc is not None and not hcc.strip():
        raise BadInput("hcc names a model; leave it out for no filter", field="hcc", value=hcc, fix="e.g. hcc=V28")
    return search_answer(shared_kb(), q, limit=limit, billable=billable, hcc=hcc, chapter=chapter, fy=fy)
