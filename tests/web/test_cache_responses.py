"""web/cache.ResponseCache through the real app (web/app.Guard): code pages and search answered from stored bytes
are the bytes the app computes, carry the same security headers, revalidate with ETag -> 304, never hold an error,
and never reach a request that fails the API key check. Issue 12 (load target): docs/serving.md."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hccguide.kb.open import KB
from hccguide.web.app import create_app, warm_caches
from hccguide.web.cache import CachedResponse, ResponseCache, cacheable, etag_matches, etag_of

SECURITY = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")

# (path, expected content type prefix, why it is cached)
CACHED = [
    ("/codes/E11.9", "text/html", "HTML code page: the Jinja render is ~9 ms of the ~10 ms of a request"),
    ("/codes/M87.352?payment_year=2025", "text/html", "a query argument is part of the key"),
    ("/api/codes/S72.001A", "application/json", "JSON code page: response-model validation + encoding, 1-4 ms"),
    ("/api/search?q=chf%20exacerbation&limit=5", "application/json", "search API: the as-you-type list repeats"),
    ("/search?q=copd", "text/html", "the no-JavaScript search page"),
]

# (method, path, why it is not served from the cache)
NOT_CACHED = [
    ("GET", "/api/codes/ZZ9.99", "an error (404 invalid_code) is never stored"),
    ("GET", "/api/search?q=x", "a 422 (q too short) is never stored"),
    ("GET", "/codes/E11.9?fy=1999", "an unknown code set (422) is never stored"),
    ("GET", "/score?age=72&sex=F&dx=E11.9", "the score page is not a cached route"),
    ("GET", "/api/kb", "not a cached route"),
]


@pytest.fixture(scope="module")
def fresh(app_kb: KB) -> Iterator[TestClient]:
    """An app of its own (its own, empty response cache), warmed at startup like `hccguide serve`."""
    with TestClient(create_app(warm=True)) as c:
        yield c


@pytest.fixture(scope="module")
def uncached(app_kb: KB) -> Iterator[TestClient]:
    with TestClient(create_app(response_cache_bytes=0)) as c:
        yield c


@pytest.mark.parametrize(("path", "ctype", "why"), CACHED, ids=[c[0] for c in CACHED])
def test_a_cached_answer_is_the_computed_answer(fresh: TestClient, uncached: TestClient, path: str, ctype: str,
                                                why: str) -> None:
    first = fresh.get(path)
    again = fresh.get(path)
    plain = uncached.get(path)
    assert first.status_code == again.status_code == plain.status_code == 200, why
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit"), why
    assert "x-cache" not in plain.headers, "a cache of 0 bytes is off"
    assert first.content == again.content == plain.content, "the stored bytes are the bytes the app computes"
    assert again.headers["content-type"].startswith(ctype)
    assert again.headers["content-length"] == str(len(plain.content))
    assert first.headers["etag"] == again.headers["etag"] == etag_of(plain.content).decode()
    assert again.headers["cache-control"] == "private, no-cache"
    for name in SECURITY:
        assert again.headers[name] == plain.headers[name], f"{name} on a cached answer too"


@pytest.mark.parametrize(("path", "ctype", "why"), CACHED[:1] + CACHED[3:4], ids=["html", "json"])
def test_if_none_match_revalidates_with_304(fresh: TestClient, path: str, ctype: str, why: str) -> None:
    etag = fresh.get(path).headers["etag"]
    for inm in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        r = fresh.get(path, headers={"if-none-match": inm})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag, inm
        assert all(name in r.headers for name in SECURITY)
    assert fresh.get(path, headers={"if-none-match": '"stale"'}).status_code == 200


@pytest.mark.parametrize(("method", "path", "why"), NOT_CACHED, ids=[c[1] for c in NOT_CACHED])
def test_errors_and_other_routes_are_not_stored(fresh: TestClient, method: str, path: str, why: str) -> None:
    for _ in range(2):
        r = fresh.request(method, path)
        assert "x-cache" not in r.headers and "etag" not in r.headers, why
        assert all(name in r.headers for name in SECURITY)
    if r.status_code >= 400:
        assert set(r.json()["error"]) >= {"code", "message", "field", "value"}, "the one error shape"


def test_success_answers_do_not_depend_on_request_headers(uncached: TestClient) -> None:
    """Why the key holds no header: Accept / HX-Request change how an error is shown, never a 200 answer."""
    for path, _, _ in CACHED:
        bodies = {uncached.get(path, headers=h).content for h in
                  ({}, {"accept": "text/html"}, {"accept": "application/json"}, {"hx-request": "true"})}
        assert len(bodies) == 1, path


def test_the_key_is_checked_before_a_cached_answer(app_kb: KB) -> None:
    key = "k-cache-test"
    with TestClient(create_app(api_key=key)) as c:
        assert c.get("/api/codes/E11.9", headers={"x-api-key": key}).headers["x-cache"] == "miss"
        assert c.get("/api/codes/E11.9", headers={"x-api-key": key}).headers["x-cache"] == "hit"
        denied = c.get("/api/codes/E11.9")
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthorized"
        assert c.get("/api/codes/E11.9", headers={"x-api-key": "wrong"}).status_code == 401


def test_the_cache_is_bounded_by_bytes_least_recent_out() -> None:
    cache = ResponseCache(max_bytes=1000)
    for k in "abcde":
        cache.put(k, CachedResponse([], bytes(200), etag_of(bytes(200))))  # 200 B each: all five fit
    assert len(cache) == 5 and cache.size == 1000
    assert cache.get("a") is not None  # 'a' is now the most recent
    cache.put("f", CachedResponse([], bytes(200), b'"f"'))
    assert cache.get("b") is None and cache.get("a") is not None and cache.size == 1000
    cache.put("big", CachedResponse([], bytes(300), b'"x"'))  # over a quarter of the budget: not kept
    assert cache.get("big") is None and (cache.hits, cache.misses) == (2, 2)


# (If-None-Match, matches, why)
INM = [
    (None, False, "no header"),
    (b'"abc"', True, "the tag"),
    (b'W/"abc"', True, "weak comparison (RFC 9110 13.1.2)"),
    (b'"x", "abc"', True, "a list"),
    (b"*", True, "any"),
    (b'"abcd"', False, "another tag"),
    (b"abc", False, "an unquoted value is no tag"),
]


@pytest.mark.parametrize(("inm", "matches", "why"), INM, ids=[w for *_, w in INM])
def test_etag_matching(inm: bytes | None, matches: bool, why: str) -> None:
    assert etag_matches(inm, b'"abc"') is matches, why


# (method, path, cacheable)
ROUTES = [("GET", "/codes/E11.9", True), ("GET", "/api/codes/E11.9", True), ("GET", "/search", True),
          ("GET", "/api/search", True), ("HEAD", "/codes/E11.9", False), ("POST", "/api/score", False),
          ("GET", "/codes", False), ("GET", "/api/searchx", False), ("GET", "/score", False)]


@pytest.mark.parametrize(("method", "path", "expected"), ROUTES)
def test_cacheable_routes(method: str, path: str, expected: bool) -> None:
    assert cacheable(method, path) is expected


def test_warm_loads_the_code_store_and_search_index(app_kb: KB) -> None:
    """`hccguide serve` warms before it accepts a connection; afterwards these are memoised on the KB."""
    from hccguide.codes import store
    from hccguide.search import index

    warm_caches()
    assert (store.MEMO,) in app_kb._memo
    assert (index.MEMO, app_kb.default_code_set) in app_kb._memo
