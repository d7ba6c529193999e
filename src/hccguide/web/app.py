"""The FastAPI application: JSON API (web/api.py) and HTML pages (web/pages.py), no logic of their own.

Every HccguideError becomes `{"error": {...}}` with its HTTP status; request validation errors use the same
shape (422). When an API key is set (required to bind beyond loopback), every request must send `X-API-Key`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from hccguide.errors import HccguideError

STATIC = Path(__file__).parent / "static"


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def create_app(api_key: str | None = None) -> FastAPI:
    """Build the app. Routers are included from web.api and web.pages."""
    from hccguide.web import api, pages

    # FastAPIOffline serves the Swagger UI / ReDoc assets from the package, not a CDN (no network here).
    app = FastAPIOffline(
        title="hccguide",
        version="0.1.0",
        description="ICD-10-CM code pages, encoder search and CMS-HCC risk scores from official files.",
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def require_key(request: Request, call_next):  # type: ignore[no-untyped-def]
        if api_key and request.headers.get("x-api-key") != api_key and request.url.path != "/healthz":
            err = HccguideError(
                "missing or wrong API key",
                field="X-API-Key",
                value=None,
                fix="send the key given to `hccguide serve --api-key` in the X-API-Key header",
            )
            err.code, err.http_status = "unauthorized", 401
            return JSONResponse(err.to_dict(), status_code=401)
        return await call_next(request)

    @app.exception_handler(HccguideError)
    async def on_error(request: Request, exc: HccguideError):  # type: ignore[no-untyped-def]
        if _wants_html(request):
            return pages.error_page(request, exc)
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError):  # type: ignore[no-untyped-def]
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", []) if p not in ("query", "body", "path")]
        err = HccguideError(first.get("msg", "invalid request"), field=".".join(loc) or None, value=first.get("input"))
        err.code, err.http_status = "bad_input", 422
        if _wants_html(request):
            return pages.error_page(request, err)
        return JSONResponse(err.to_dict(), status_code=422)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(__import__("hccguide.web.routes_claims", fromlist=["router"]).router)  # claims
    return app
