"""The FastAPI application: JSON API (web/api.py) and HTML pages (web/pages.py), no logic of their own.

One error shape for every 4xx/5xx of every route, API and pages alike (pages render it readably):
``{"error": {"code", "message", "field", "value", "fix", "suggestions"}}`` — `field` is a field path
(`dx.3.code`), `value` is JSON-safe and truncated (raf.request.safe_value; raw body bytes are never echoed).

| status | code | when |
|---|---|---|
| 400 | `bad_json` | the body is not JSON (syntax, invalid UTF-8, nesting too deep) |
| 401 | `unauthorized` | a key is set and the request has none (API: X-API-Key or HTTP Basic; pages: login) |
| 404 | `not_found` / `invalid_code` | unknown route / unknown or malformed code |
| 405 | `method_not_allowed` | wrong method (the `Allow` header lists the right ones) |
| 413 | `body_too_large` | body over `max_body_bytes` (default 1 MB, `serve --max-body-bytes`) |
| 415 | `unsupported_media_type` | a JSON body sent with another content type |
| 422 | `bad_input`, `unknown_*`, `bad_date` | a value breaks a rule (the schema states each) |
| 500 | `internal_error` | a bug: a generic message; the log names the place, never the request's values |
| 503 | `kb_missing` | no knowledge base built |

Every response carries Content-Security-Policy, X-Frame-Options DENY, X-Content-Type-Options nosniff and
Referrer-Policy no-referrer. With an API key (required beyond loopback) the API takes `X-API-Key` (or HTTP Basic
with the key as password) compared in constant time; a browser logs in once at `/login` and gets an HttpOnly,
SameSite=Strict session cookie (an HMAC of the key, never the key).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import traceback
from base64 import b64decode
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hccguide.errors import HccguideError
from hccguide.raf.request import field_path, safe_value, validation_error
from hccguide.web.cache import (
    CACHE_CONTROL,
    RESPONSE_CACHE_BYTES,
    CachedResponse,
    ResponseCache,
    cacheable,
    etag_matches,
    etag_of,
    release_token,
)

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("hccguide.web")

MAX_BODY_BYTES = 1_000_000  # 1 MB: a member with DX_MAX diagnoses is about 40 kB
SESSION_COOKIE = "hccguide_session"
_PUBLIC_PATHS = ("/healthz", "/login", "/logout")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# Swagger UI and ReDoc (served offline by fastapi_offline) start with an inline script and use blob workers.
CSP_DOCS = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self'")


# ---------------------------------------------------------------------------------------------------- error models
class ErrorDetail(BaseModel):
    """What went wrong, where, and how to fix it."""

    code: str = Field(..., description="machine-readable kind: bad_input, invalid_code, not_found, bad_json, ...")
    message: str = Field(..., description="one readable sentence")
    field: str | None = Field(None, description="the field path at fault (`age`, `dx.3.code`, `q`), if any")
    value: Any = Field(None, description="the offending value, JSON-safe and truncated (never raw body bytes)")
    fix: str | None = Field(None, description="what to send instead")
    suggestions: list[Any] = Field(default_factory=list, description="nearest codes, loaded years, models ...")


class ErrorBody(BaseModel):
    """The one error shape of every 4xx/5xx response."""

    error: ErrorDetail


def _err(status: int, what: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": what}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _err(400, "`bad_json`: the body is not JSON (syntax, invalid UTF-8, nesting too deep)"),
    401: _err(401, "`unauthorized`: a key is set and the request sent none or a wrong one"),
    404: _err(404, "`not_found` (route) or `invalid_code` (nearest codes in `suggestions`)"),
    405: _err(405, "`method_not_allowed`"),
    413: _err(413, "`body_too_large`: over the server's body limit (1 MB by default)"),
    415: _err(415, "`unsupported_media_type`: send JSON with Content-Type: application/json"),
    422: _err(422, "a value breaks a rule stated in this schema (`bad_input`, `unknown_fiscal_year`, "
                   "`unknown_payment_year`, `unknown_model`, `bad_date`); `field` names it"),
    500: _err(500, "`internal_error`: a bug; the message is generic, the server log names the place"),
    503: _err(503, "`kb_missing`: no knowledge base is built"),
}

_HTTP_CODES = {400: "bad_json", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               413: "body_too_large", 415: "unsupported_media_type"}


def error_dict(exc: HccguideError) -> dict[str, Any]:
    """exc.to_dict() with a JSON-safe, truncated value and suggestions."""
    body = exc.to_dict()
    body["error"]["value"] = safe_value(body["error"]["value"])
    body["error"]["suggestions"] = [safe_value(s) if not isinstance(s, dict) else s
                                    for s in body["error"]["suggestions"][:20]]
    return body


def make_error(status: int, message: str, *, code: str | None = None, field: str | None = None, value: Any = None,
               fix: str | None = None) -> HccguideError:
    """A HccguideError with an explicit HTTP status (for errors that are not one of the typed kinds)."""
    err = HccguideError(message, field=field, value=value, fix=fix)
    err.code, err.http_status = code or _HTTP_CODES.get(status, "error"), status
    return err


class BodyTooLarge(StarletteHTTPException):
    """Raised from the request's receive channel once the body passes the limit (FastAPI re-raises HTTP
    exceptions met while reading a body)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


def _wants_html(scope_or_request: Any) -> bool:
    path = scope_or_request.url.path if isinstance(scope_or_request, Request) else scope_or_request["path"]
    if path.startswith("/api/") or path in ("/openapi.json", "/healthz"):
        return False
    if isinstance(scope_or_request, Request):
        accept = scope_or_request.headers.get("accept", "")
    else:
        accept = dict(scope_or_request.get("headers") or []).get(b"accept", b"").decode("latin-1")
    return "text/html" in accept


def session_token(api_key: str) -> str:
    """The session cookie value for a key: HMAC-SHA256 of a fixed label (the key never leaves the server)."""
    return hmac.new(api_key.encode(), b"hccguide-session-v1", hashlib.sha256).hexdigest()


def key_ok(api_key: str, headers: dict[bytes, bytes]) -> bool:
    """Constant-time check of X-API-Key, HTTP Basic (the key as password) or the session cookie."""
    given = headers.get(b"x-api-key")
    if given is not None and hmac.compare_digest(given, api_key.encode()):
        return True
    auth = headers.get(b"authorization", b"")
    if auth[:6].lower() == b"basic ":
        try:
            _, _, password = b64decode(auth[6:].strip(), validate=True).partition(b":")
        except ValueError:
            password = b""
        if hmac.compare_digest(password, api_key.encode()):
            return True
    for part in headers.get(b"cookie", b"").split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == SESSION_COOKIE.encode() and hmac.compare_digest(value, session_token(api_key).encode()):
            return True
    return False


# ---------------------------------------------------------------------------------------------------- ASGI guard
class Guard:
    """Pure ASGI middleware (no per-request task): security headers on every response, the API key, the body
    limit (Content-Length checked up front, streamed bodies counted), and the last-resort 500 whose body and log
    line hold no request value."""

    def __init__(self, app: Any, api_key: str | None, max_body_bytes: int, cache: ResponseCache | None = None) -> None:
        self.app = app
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.cache = cache if cache is not None and cache.max_bytes > 0 else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = (CSP_DOCS if path in ("/docs", "/redoc", "/docs/oauth2-redirect") else CSP).encode()
        started = False

        async def send_secure(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _SECURITY_NAMES]
                headers += [(b"content-security-policy", csp), (b"x-frame-options", b"DENY"),
                            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                message = {**message, "headers": headers}
            await send(message)

        headers = {k.lower(): v for k, v in scope.get("headers") or []}
        public = path in _PUBLIC_PATHS or path.startswith("/static/")
        if self.api_key and not public and not key_ok(self.api_key, headers):
            if _wants_html(scope) and scope["method"] in ("GET", "HEAD"):
                target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
                resp: Response = RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
            else:
                err = make_error(401, "missing or wrong API key", field="X-API-Key",
                                 fix="send the key of `hccguide serve --api-key` in the X-API-Key header "
                                     "(or HTTP Basic, any user name), or log in at /login")
                resp = JSONResponse(error_dict(err), status_code=401)
            await resp(scope, receive, send_secure)
            return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await self._error(scope, receive, send_secure, make_error(
                413 if length.isdigit() else 400,
                f"the request body is larger than {self.max_body_bytes} bytes" if length.isdigit()
                else "Content-Length is not a number",
                field="body", value=safe_value(length.decode("latin-1")),
                fix="send fewer diagnoses per request, or start the server with a larger --max-body-bytes"))
            return
        inner_send = send_secure
        if self.cache is not None and cacheable(scope["method"], path):
            # After the key check: a cached answer goes only to a request that may see it.
            token = release_token()
            if token is not None:
                key = (path, scope.get("query_string", b""), token, date.today())
                entry = self.cache.get(key)
                if entry is not None:
                    await _send_cached(send_secure, entry, headers.get(b"if-none-match"), b"hit")
                    return
                inner_send = self._storing(key, send_secure, headers.get(b"if-none-match"))
        seen = 0
        limit = self.max_body_bytes

        async def receive_counted() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, receive_counted, inner_send)
        except BodyTooLarge as exc:
            if not started:
                await self._error(scope, receive, send_secure, make_error(413, str(exc.detail), field="body"))
        except Exception as exc:  # the last resort: log the place, never the values
            # Frame locations only: no exception message and no source text (either may hold a request value).
            frames = "\n".join(f"  {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__))
            log.error("internal error on %s %s: %s\n%s", scope["method"], path, type(exc).__name__, frames)
            if not started:
                await self._error(scope, receive, send_secure, make_error(
                    500, "internal error: the request could not be answered (the server log names the place)",
                    code="internal_error"))

    def _storing(self, key: tuple, send: Any, if_none_match: bytes | None) -> Any:
        """A send() that holds the answer until its body is complete, stores it when it is a 200 without cookies,
        and sends it with its ETag (or a 304 when the request already holds that ETag). Nothing reaches the
        client before the body is complete, so a failure half-way still ends in the one error shape."""
        cache = self.cache
        assert cache is not None
        start: dict | None = None
        chunks: list[bytes] = []

        async def send_storing(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            head = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"etag", b"cache-control")]
            if start["status"] == 200 and not any(k.lower() == b"set-cookie" for k, _ in head):
                entry = CachedResponse(head, body, etag_of(body))
                cache.put(key, entry)
                await _send_cached(send, entry, if_none_match, b"miss")
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        return send_storing

    async def _error(self, scope: dict, receive: Any, send: Any, err: HccguideError) -> None:
        resp: Response = JSONResponse(error_dict(err), status_code=err.http_status)
        if _wants_html(scope):
            try:
                from hccguide.web import pages

                resp = pages.error_page(Request(scope, receive), err)
            except Exception:  # the JSON answer stands when the page cannot render
                pass
        await resp(scope, receive, send)


_SECURITY_NAMES = {b"content-security-policy", b"x-frame-options", b"x-content-type-options", b"referrer-policy"}


async def _send_cached(send: Any, entry: CachedResponse, if_none_match: bytes | None, how: bytes) -> None:
    """Send a stored answer (`X-Cache: hit|miss`), or 304 Not Modified when If-None-Match holds its ETag."""
    extra = [(b"etag", entry.etag), (b"cache-control", CACHE_CONTROL), (b"x-cache", how)]
    if etag_matches(if_none_match, entry.etag):
        await send({"type": "http.response.start", "status": 304, "headers": extra})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": entry.headers + extra})
    await send({"type": "http.response.body", "body": entry.body})


# ---------------------------------------------------------------------------------------------------- app
def create_app(api_key: str | None = None, max_body_bytes: int | None = None,
               response_cache_bytes: int | None = None, warm: bool = False) -> FastAPI:
    """Build the app. Routers are included from web.api and web.pages (and the notes/claims faces).

    - api_key: when set, every route but /healthz, /login and /static needs it (see the module docstring);
    - max_body_bytes: request body limit (default MAX_BODY_BYTES, 1 MB) -> 413 `body_too_large`;
    - response_cache_bytes: budget of the response cache of code pages and search (web/cache.ResponseCache;
      default RESPONSE_CACHE_BYTES, 64 MB; 0 turns it off);
    - warm: load the code store, validity index, search index and templates at startup, before the server
      accepts a connection (`hccguide serve` sets it; the first code page otherwise takes seconds).
    """
    from hccguide.web import api, pages

    # FastAPIOffline serves the Swagger UI / ReDoc assets from the package, not a CDN (no network here).
    app = FastAPIOffline(
        title="hccguide",
        version="0.1.0",
        description="ICD-10-CM code pages, encoder search and CMS-HCC risk scores from official files. Every "
        "4xx/5xx answer is `{\"error\": {code, message, field, value, fix, suggestions}}`.",
        responses=ERROR_RESPONSES,
        lifespan=_warm_lifespan if warm else None,
    )
    app.state.api_key = api_key
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    cache = ResponseCache(RESPONSE_CACHE_BYTES if response_cache_bytes is None else response_cache_bytes)
    app.state.response_cache = cache
    app.add_middleware(Guard, api_key=api_key, max_body_bytes=max_body_bytes or MAX_BODY_BYTES, cache=cache)

    def respond(request: Request, err: HccguideError, headers: dict[str, str] | None = None) -> Response:
        if _wants_html(request):
            resp: Response = pages.error_page(request, err)
        else:
            resp = JSONResponse(error_dict(err), status_code=err.http_status)
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(HccguideError)
    async def on_error(request: Request, exc: HccguideError):  # type: ignore[no-untyped-def]
        return respond(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):  # type: ignore[no-untyped-def]
        status = exc.status_code
        if status == 404:
            err = make_error(404, f"no such page or API route: {request.url.path[:200]}", field="path",
                             fix="see /docs for the API and / for the pages")
        elif status == 405:
            err = make_error(405, f"{request.method} is not allowed here", field="method", value=request.method,
                             fix=f"use {exc.headers.get('Allow', 'another method') if exc.headers else 'GET'}")
        elif status == 400:
            err = make_error(400, "the request body could not be read as JSON (invalid UTF-8 or nesting too deep)",
                             field="body", fix="send UTF-8 JSON with Content-Type: application/json")
        elif status == 413:
            err = make_error(413, str(exc.detail), field="body",
                             fix="send fewer diagnoses per request, or a larger serve --max-body-bytes")
        else:
            err = make_error(status, str(exc.detail)[:200])
        return respond(request, err, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError):  # type: ignore[no-untyped-def]
        errors = list(exc.errors())
        first = errors[0] if errors else {}
        ctype = request.headers.get("content-type", "")
        if first.get("type") == "json_invalid":
            ctx = first.get("ctx") or {}
            where = first.get("loc", ())[-1] if first.get("loc") else None
            err = make_error(400, f"the request body is not valid JSON ({ctx.get('error', 'syntax error')}"
                             + (f" at character {where})" if isinstance(where, int) else ")"),
                             field="body", fix="send a JSON object, e.g. {\"age\": 72, \"sex\": \"F\"}")
        elif request.method in ("POST", "PUT", "PATCH") and "json" not in ctype.lower() and any(
            tuple(e.get("loc", ())) == ("body",) for e in errors
        ):
            err = make_error(415, f"the body must be JSON, not {ctype.split(';')[0][:60] or 'untyped data'}",
                             field="body", fix="send Content-Type: application/json")
        else:
            err = validation_error(errors)
            err.http_status = 422
            if not err.field:
                err.field = field_path(first.get("loc", ()))
        return respond(request, err)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

    @app.get("/login", include_in_schema=False, response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        return pages.TEMPLATES.TemplateResponse(request, "login.html", {"next": _safe_next(next), "failed": False})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        key = (form.get("key") or [""])[0]
        target = _safe_next((form.get("next") or ["/"])[0])
        if not api_key:
            return RedirectResponse(target, status_code=303)
        if not hmac.compare_digest(key.encode(), api_key.encode()):
            return pages.TEMPLATES.TemplateResponse(request, "login.html", {"next": target, "failed": True},
                                                    status_code=401)
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie(SESSION_COOKIE, session_token(api_key), httponly=True, samesite="strict", path="/")
        return resp

    @app.get("/logout", include_in_schema=False)
    def logout() -> Response:
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(__import__("hccguide.web.routes_claims", fromlist=["router"]).router)  # claims
    app.include_router(__import__("hccguide.web.routes_notes", fromlist=["router"]).router)  # notes
    _install_openapi(app)
    return app


def warm_caches() -> float:
    """Load what the first requests would otherwise wait for: the code store, the validity index, the search index
    of the default code set, the index tables, code changes and MS-DRG tables a code page reads, and the compiled
    page templates. Seconds taken (measured 18 s under load average 7.5 on 2 cores: code store 3.9, validity
    1.0, search index 7.4, first code page 5.7).

    Idempotent (each is memoised on the KB handle, `KB.memo`). A missing KB is left to the routes (503)."""
    import time

    started = time.perf_counter()
    try:
        from hccguide.codes.store import code_store
        from hccguide.kb.open import shared_kb
        from hccguide.kb.validity import validity_of
        from hccguide.search.index import open_index
        from hccguide.web import pages

        kb = shared_kb()
        code_store(kb)
        validity_of(kb, "A00.0")
        open_index(kb, kb.default_code_set)
        _warm_answers(kb)
        for name in ("code.html", "search.html", "score.html", "home.html", "error.html"):
            pages.TEMPLATES.get_template(name)
    except HccguideError:
        pass
    return time.perf_counter() - started


def _warm_answers(kb: Any) -> None:
    """One code page and one search: the index tables, code changes and MS-DRG tables they load. (No score: the
    RAF tables load in 0.3 s, and literal member values here would change the examples Hypothesis draws for
    tests/web/test_schemathesis.py, which mines literals from the source.)"""
    from hccguide.web.cache import code_page_answer, search_answer

    code_page_answer(kb, "E11.9", None, None)
    search_answer(kb, "copd", limit=10, billable=False, hcc=None, chapter=None, fy=None)


@asynccontextmanager
async def _warm_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Startup of `hccguide serve`: warm every cache before the server accepts its first connection (uvicorn
    binds, or a worker starts accepting, only after the lifespan startup)."""
    seconds = warm_caches()
    log.info("caches ready in %.1f s", seconds)
    yield


def _safe_next(target: str) -> str:
    """Only a local path may follow a login (no open redirect to another site)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _install_openapi(app: FastAPI) -> None:
    """The schema states what the KB decides: `fy` is a loaded code set, `payment_year` a loaded payment year."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        try:
            from hccguide.kb.open import shared_kb

            kb = shared_kb()
            years, code_sets = list(kb.payment_years), list(kb.code_sets)
            from hccguide.raf.request import model_names

            models = model_names()
        except HccguideError:
            years, code_sets, models = [], [], []
        for path in schema.get("paths", {}).values():
            for op in path.values():
                for p in op.get("parameters", []):
                    target = p.get("schema", {})
                    if p["name"] == "hcc" and models:
                        for branch in target.get("anyOf", [target]):
                            if branch.get("type") == "string":
                                branch["enum"] = models
                    options = years if p["name"] == "payment_year" else code_sets if p["name"] == "fy" else None
                    if options:
                        for branch in target.get("anyOf", [target]):
                            if branch.get("type") == "integer":
                                branch["enum"] = options
        req = schema.get("components", {}).get("schemas", {}).get("ScoreRequest")
        if req and years:
            req["properties"]["payment_year"]["enum"] = years
            req["properties"]["payment_year"]["default"] = 2026 if 2026 in years else years[-1]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app_from_env() -> FastAPI:
    """The app of `hccguide serve` (uvicorn factory, one per worker process): key, body limit and response cache
    budget from HCCGUIDE_API_KEY, HCCGUIDE_MAX_BODY_BYTES and HCCGUIDE_RESPONSE_CACHE_BYTES; warmed at startup."""
    limit = os.environ.get("HCCGUIDE_MAX_BODY_BYTES")
    cache = os.environ.get("HCCGUIDE_RESPONSE_CACHE_BYTES")
    return create_app(api_key=os.environ.get("HCCGUIDE_API_KEY") or None,
                      max_body_bytes=int(limit) if limit else None,
                      response_cache_bytes=int(cache) if cache else None, warm=True)
