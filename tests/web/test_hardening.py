"""Issue 12: every bad input of every route ends in the one JSON error shape (or the same error on a page, or one
readable CLI line), never a 500, a traceback or a raw body echo. Table-driven over the real app and the real KB.

Each row: (id, request, expected HTTP status, expected error code, expected field path prefix, why).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hccguide.cli import app as cli_app
from hccguide.kb.open import KB
from hccguide.raf.request import AGE_MAX, DX_MAX, GRAFT_MONTHS_MAX
from hccguide.web.app import SESSION_COOKIE, Guard, create_app

ERROR_KEYS = {"code", "message", "field", "value", "fix", "suggestions"}
JSON_CT = {"content-type": "application/json"}
OK = {"age": 72, "sex": "F"}


def _raw(body: bytes | str, ctype: str | None = "application/json") -> dict[str, Any]:
    return {"content": body.encode() if isinstance(body, str) else body, "headers": {"content-type": ctype} if ctype
            else {}}


def _j(**fields: Any) -> dict[str, Any]:
    return {"json": {**OK, **fields}}


# (id, method, path, request kwargs, status, code, field prefix, why)
API_CASES: list[tuple[str, str, str, dict[str, Any], int, str, str | None, str]] = [
    # -- issue 12.1: a body that is not JSON
    ("text-plain", "POST", "/api/score", _raw('{"age":70,"sex":"F"}', "text/plain"), 415, "unsupported_media_type",
     "body", "issue 12.1 reproducer: was a 500 whose log held the body"),
    ("form", "POST", "/api/score", _raw("age=70&sex=F", "application/x-www-form-urlencoded"), 415,
     "unsupported_media_type", "body", "a browser form post"),
    ("xml", "POST", "/api/score", _raw("<m><age>70</age></m>", "application/xml"), 415, "unsupported_media_type",
     "body", "XML"),
    ("multipart", "POST", "/api/score", _raw(b"--x\r\n\r\n70\r\n--x--", "multipart/form-data; boundary=x"), 415,
     "unsupported_media_type", "body", "multipart"),
    ("no-ctype", "POST", "/api/score", _raw('{"age":70,"sex":"F"}', None), 415, "unsupported_media_type", "body",
     "no content type at all"),
    # -- issue 12.2: payment years that are no year
    *[(f"py-{v!r}", "POST", "/api/score", {"json": {**OK, "payment_year": v}}, 422, "bad_input", "payment_year",
       "issue 12.2: was a 500 'year out of range'") for v in (0, -1, 99999, 1e20, True, False, "2026", 2026.5, None)],
    ("py-2030", "POST", "/api/score", _j(payment_year=2030), 422, "unknown_payment_year", "payment_year",
     "a year with no CMS tables in the KB"),
    ("py-2001", "POST", "/api/score", _j(payment_year=2001), 422, "unknown_payment_year", "payment_year",
     "inside the schema bounds but not loaded"),
    # -- issue 12.10: integers only, booleans are not numbers
    *[(f"age-{v!r}", "POST", "/api/score", {"json": {"sex": "F", "age": v}}, 422, "bad_input", "age",
       "issue 12.10: integers only, bounds checked") for v in
      (True, False, 72.5, 0.5, "72", -1, AGE_MAX + 1, 1e20, [72], {"a": 1}, None)],
    *[(f"graft-{v!r}", "POST", "/api/score", _j(graft_months=v), 422, "bad_input", "graft_months",
       "issue 12.10: graft_months 1e20 was taken") for v in (1e20, -1, GRAFT_MONTHS_MAX + 1, True, "12", 12.5)],
    *[(f"sex-{v!r}", "POST", "/api/score", {"json": {"age": 72, "sex": v}}, 422, "bad_input", "sex",
       "sex is M or F") for v in ("X", "", 1, True)],
    ("sex-missing", "POST", "/api/score", {"json": {"age": 72}}, 422, "bad_input", "sex", "sex is required"),
    ("age-and-dob-missing", "POST", "/api/score", {"json": {"sex": "F"}}, 422, "bad_input", "age",
     "age or date_of_birth is required"),
    *[(f"dual-{v!r}", "POST", "/api/score", _j(dual_status=v), 422, "bad_input", "dual_status",
       "a CMS dual code or a word") for v in ("11", "foo", 2)],
    *[(f"orec-{v!r}", "POST", "/api/score", _j(orec=v), 422, "bad_input", "orec", "OREC 0..3")
      for v in ("4", "x", 1)],
    *[(f"flag-{k}", "POST", "/api/score", _j(**{k: "yes"}), 422, "bad_input", k, "booleans are true/false")
      for k in ("lti", "new_enrollee", "esrd", "snp", "low_income")],
    # -- diagnoses
    ("dx-string", "POST", "/api/score", _j(dx="E11.9"), 422, "bad_input", "dx", "dx is a list"),
    ("dx-int", "POST", "/api/score", _j(dx=[1]), 422, "bad_input", "dx[0]", "a code is text"),
    ("dx-null", "POST", "/api/score", _j(dx=[None]), 422, "bad_input", "dx[0]", "no null codes"),
    ("dx-empty-code", "POST", "/api/score", _j(dx=[{"code": ""}]), 422, "bad_input", "dx[0].code",
     "an entry needs a code"),
    ("dx-bad-date", "POST", "/api/score", _j(dx=[{"code": "E11.9", "date_of_service": "2025-13-01"}]), 422,
     "bad_input", "dx[0].date_of_service", "month 13"),
    ("dx-epoch-date", "POST", "/api/score", _j(dx=[{"code": "E11.9", "date_of_service": 0}]), 422, "bad_input",
     "dx[0].date_of_service", "a number is not a date (pydantic would read Unix time)"),
    ("dx-extra", "POST", "/api/score", _j(dx=[{"code": "E11.9", "extra": 1}]), 422, "bad_input", "dx[0].extra",
     "unknown keys are refused, not ignored"),
    ("dx-long-code", "POST", "/api/score", _j(dx=["E" * 33]), 422, "bad_input", "dx[0]", "codes are short"),
    ("dx-too-many", "POST", "/api/score", _j(dx=["E11.9"] * (DX_MAX + 1)), 422, "bad_input", "dx",
     "issue 12.5: list bound, naming the field"),
    ("dx-no-code", "POST", "/api/score", _j(dx=[{"date_of_service": "2025-01-01"}]), 422, "bad_input", "dx[0].code",
     "code is required"),
    ("dx-outside-year", "POST", "/api/score", _j(dx=[{"code": "E11.9", "date_of_service": "2030-01-01"}]), 422,
     "bad_date", "dx[0].date_of_service", "dates of service in the model year"),
    # -- dates
    ("dos-word", "POST", "/api/score", _j(date_of_service="yesterday"), 422, "bad_input", "date_of_service",
     "YYYY-MM-DD"),
    ("dos-int", "POST", "/api/score", _j(date_of_service=20250101), 422, "bad_input", "date_of_service",
     "a number is not a date"),
    ("dos-outside", "POST", "/api/score", _j(date_of_service="2030-01-01", dx=["E11.9"]), 422, "bad_date", "date_of_service",
     "outside the PY2026 model year (2025)"),
    ("dob-feb30", "POST", "/api/score", {"json": {"sex": "F", "date_of_birth": "1950-02-30"}}, 422, "bad_input",
     "date_of_birth", "no such day"),
    ("dob-int", "POST", "/api/score", {"json": {"sex": "F", "date_of_birth": 0}}, 422, "bad_input", "date_of_birth",
     "a number is not a date"),
    ("dob-future", "POST", "/api/score", {"json": {"sex": "F", "date_of_birth": "2030-01-01"}}, 422, "bad_date",
     "date_of_birth", "born after the age reference date"),
    # -- model and unknown fields
    ("model-v99", "POST", "/api/score", _j(model="V99"), 422, "unknown_model", "model", "unknown model"),
    ("model-int", "POST", "/api/score", _j(model=28), 422, "bad_input", "model", "model is text"),
    ("model-empty", "POST", "/api/score", _j(model=""), 422, "unknown_model", "model", "empty model"),
    ("unknown-field", "POST", "/api/score", _j(dob="1950-01-01"), 422, "bad_input", "dob",
     "a typo (dob for date_of_birth) is refused, not silently ignored"),
    # -- issue 12.6: NaN / Infinity
    ("nan", "POST", "/api/score", _raw('{"age": NaN, "sex": "F"}'), 422, "bad_input", "age", "issue 12.6"),
    ("inf", "POST", "/api/score", _raw('{"age": 70, "sex": "F", "graft_months": Infinity}'), 422, "bad_input",
     "graft_months", "issue 12.6"),
    ("-inf", "POST", "/api/score", _raw('{"age": -Infinity, "sex": "F"}'), 422, "bad_input", "age", "issue 12.6"),
    # -- issue 12.11: malformed JSON, invalid UTF-8, deep nesting
    ("truncated", "POST", "/api/score", _raw('{"age":7'), 400, "bad_json", "body", "field was a char offset"),
    ("empty-body", "POST", "/api/score", _raw(""), 422, "bad_input", "body", "no body: the member is required"),
    ("open-brace", "POST", "/api/score", _raw("{"), 400, "bad_json", "body", "syntax"),
    ("open-list", "POST", "/api/score", _raw("[1,2"), 400, "bad_json", "body", "syntax"),
    ("json-null", "POST", "/api/score", _raw("null"), 422, "bad_input", "body", "null is no member"),
    ("json-string", "POST", "/api/score", _raw('"member"'), 422, "bad_input", "body", "a string is no member"),
    ("json-list", "POST", "/api/score", _raw("[]"), 422, "bad_input", "body", "a list is no member"),
    ("bad-utf8", "POST", "/api/score", _raw(b'{"age": 70, "sex": "\xff"}'), 400, "bad_json", "body",
     "issue 12.11: was FastAPI's {detail}"),
    ("bad-utf8-key", "POST", "/api/score", _raw(b'{"\xc3\x28": 1}'), 400, "bad_json", "body", "invalid 2-byte seq"),
    ("deep-nesting", "POST", "/api/score", _raw("[" * 100_000 + "]" * 100_000), 400, "bad_json", "body",
     "issue 12.11: 100k-deep nesting"),
    # -- issue 12.5: body limit
    ("too-large", "POST", "/api/score", _raw('{"dx": [' + ",".join(['"E11.9"'] * 200_000) + "]}"), 413,
     "body_too_large", "body", "issue 12.5: 58 MB answered 200 in 5.9 s"),
    # -- issue 12.11: unknown routes and wrong methods
    ("404", "GET", "/nope", {}, 404, "not_found", "path", "unknown page"),
    ("404-api", "GET", "/api/nope", {}, 404, "not_found", "path", "unknown API route"),
    ("404-codes-root", "GET", "/api/codes", {}, 404, "not_found", "path", "no code given"),
    ("405-delete", "DELETE", "/api/score", {}, 405, "method_not_allowed", "method", "was {detail}"),
    ("405-get-score", "GET", "/api/score", {}, 405, "method_not_allowed", "method", "score is POST"),
    ("405-put-search", "PUT", "/api/search?q=copd", {}, 405, "method_not_allowed", "method", "search is GET"),
    ("405-post-code", "POST", "/api/codes/E11.9", {}, 405, "method_not_allowed", "method", "codes are GET"),
    ("405-post-kb", "POST", "/api/kb", {}, 405, "method_not_allowed", "method", "kb is GET"),
    # -- search
    ("q-missing", "GET", "/api/search", {}, 422, "bad_input", "q", "issue 12.11: q is required"),
    ("q-1", "GET", "/api/search?q=a", {}, 422, "bad_input", "q", "2 characters at least"),
    ("q-spaces", "GET", "/api/search?q=%20%20%20", {}, 422, "bad_input", "q", "spaces are not text"),
    ("q-1-padded", "GET", "/api/search?q=%20a%20", {}, 422, "bad_input", "q", "1 character once trimmed"),
    ("q-2001", "GET", "/api/search?q=" + "a" * 2001, {}, 422, "bad_input", "q", "2,000 characters at most"),
    ("limit-0", "GET", "/api/search?q=copd&limit=0", {}, 422, "bad_input", "limit", "1..100"),
    ("limit-101", "GET", "/api/search?q=copd&limit=101", {}, 422, "bad_input", "limit", "1..100"),
    ("limit-word", "GET", "/api/search?q=copd&limit=ten", {}, 422, "bad_input", "limit", "a number"),
    ("limit-float", "GET", "/api/search?q=copd&limit=2.5", {}, 422, "bad_input", "limit", "a whole number"),
    ("chapter-0", "GET", "/api/search?q=copd&chapter=0", {}, 422, "bad_input", "chapter", "1..22"),
    ("chapter-23", "GET", "/api/search?q=copd&chapter=23", {}, 422, "bad_input", "chapter", "1..22"),
    ("chapter-x", "GET", "/api/search?q=copd&chapter=x", {}, 422, "bad_input", "chapter", "a number"),
    ("billable-maybe", "GET", "/api/search?q=copd&billable=maybe", {}, 422, "bad_input", "billable", "a boolean"),
    ("hcc-v99", "GET", "/api/search?q=copd&hcc=V99", {}, 422, "unknown_model", "hcc", "unknown model"),
    ("search-fy-1999", "GET", "/api/search?q=copd&fy=1999", {}, 422, "unknown_fiscal_year", "fy", "not loaded"),
    ("search-fy-x", "GET", "/api/search?q=copd&fy=x", {}, 422, "bad_input", "fy", "a number"),
    # -- code pages
    ("code-zzz", "GET", "/api/codes/ZZZ", {}, 404, "invalid_code", "code", "malformed code"),
    ("code-long", "GET", "/api/codes/" + "A" * 500, {}, 404, "invalid_code", "code", "a long path stays an error"),
    ("code-fy-1999", "GET", "/api/codes/E11.9?fy=1999", {}, 422, "unknown_fiscal_year", "fy", "not loaded"),
    ("code-fy-x", "GET", "/api/codes/E11.9?fy=abc", {}, 422, "bad_input", "fy", "a number"),
    ("code-py-0", "GET", "/api/codes/E11.9?payment_year=0", {}, 422, "unknown_payment_year", "payment_year",
     "issue 12.2 on the code route"),
    ("code-py-99999", "GET", "/api/codes/E11.9?payment_year=99999", {}, 422, "unknown_payment_year",
     "payment_year", "issue 12.2"),
    ("code-py-1e20", "GET", "/api/codes/E11.9?payment_year=1e20", {}, 422, "bad_input", "payment_year",
     "not an integer"),
]


@pytest.mark.parametrize(("case", "method", "path", "kwargs", "status", "code", "field", "why"), API_CASES,
                         ids=[c[0] for c in API_CASES])
def test_api_bad_input_is_the_one_error_shape(client: TestClient, case: str, method: str, path: str,
                                              kwargs: dict, status: int, code: str, field: str | None,
                                              why: str) -> None:
    resp = client.request(method, path, **kwargs)
    assert resp.status_code == status, (why, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    err = body["error"]
    assert err["code"] == code, (why, err)
    if field is not None:
        assert err["field"] is not None and err["field"].startswith(field), (why, err)
    assert len(json.dumps(err["value"])) <= 1000, "value must be truncated"
    sent = kwargs.get("content") or b""
    if len(sent) > 50:
        assert sent.decode("utf-8", "replace")[:50] not in resp.text, "the raw body is never echoed"


def test_a_whole_json_number_is_an_integer(client: TestClient) -> None:
    """JSON Schema's `integer` admits 72.0 (the same JSON number as 72): the schema and the server agree."""
    one = client.post("/api/score", json={**OK, "age": 72.0, "payment_year": 2026.0}).json()
    assert one == client.post("/api/score", json=OK).json()


def test_the_cases_number_at_least_100_with_the_pages_and_cli() -> None:
    assert len(API_CASES) + len(PAGE_CASES) + len(CLI_CASES) >= 100


def test_a_good_member_still_scores(client: TestClient) -> None:
    """The strict request model keeps the documented examples working (docs/raf.md)."""
    resp = client.post("/api/score", json={"model": "V28", "payment_year": 2026, "age": 72, "sex": "F",
                                           "dual_status": "non", "dx": ["E11.22", {"code": "I50.22",
                                                                                    "date_of_service": "2025-03-01"}]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["segment"] == "CNA"


# ---------------------------------------------------------------------------------------------------- pages
HTML = {"accept": "text/html"}
# (id, path, status, field shown next to its input (or None: the error page), why)
PAGE_CASES: list[tuple[str, str, int, str | None, str]] = [
    ("score-superscript-age", "/score?age=%C2%B2&sex=F", 422, "age", "issue 12.8: '²' passed isdigit()"),
    ("score-age-word", "/score?age=abc&sex=F", 422, "age", "not a number"),
    ("score-age-200", "/score?age=200&sex=F", 422, "age", "bounds"),
    ("score-py-0", "/score?age=70&sex=F&payment_year=0", 422, "payment_year", "issue 12.2 on the page"),
    ("score-py-word", "/score?age=70&sex=F&payment_year=abc", 422, "payment_year", "was FastAPI's 422 page"),
    ("score-py-2030", "/score?age=70&sex=F&payment_year=2030", 422, "payment_year", "not loaded"),
    ("score-graft-huge", "/score?age=70&sex=F&esrd=true&graft_months=100000000000000000000", 422, "graft_months",
     "1e20 months"),
    ("score-dos-outside", "/score?age=70&sex=F&dx=E11.9&date_of_service=2030-01-01", 422, "date_of_service",
     "outside the model year"),
    ("score-dob-bad", "/score?sex=F&date_of_birth=1950-02-30", 422, "date_of_birth", "no such day"),
    ("score-dual-bad", "/score?age=70&sex=F&dual=zz", 422, "dual", "unknown dual code"),
    ("score-orec-bad", "/score?age=70&sex=F&orec=9", 422, "orec", "OREC 0..3"),
    ("score-sex-bad", "/score?age=70&sex=Q", 422, "sex", "sex M or F"),
    ("search-q-1", "/search?q=a", 422, "q", "2 characters"),
    ("search-limit-word", "/search?q=copd&limit=ten", 422, "limit", "a number"),
    ("code-fy-word", "/codes/E11.9?fy=abc", 422, None, "the error page, not a traceback"),
    ("page-404", "/nope", 404, None, "unknown page: the error page"),
]


@pytest.mark.parametrize(("case", "path", "status", "field", "why"), PAGE_CASES, ids=[c[0] for c in PAGE_CASES])
def test_pages_show_the_error_readably(client: TestClient, case: str, path: str, status: int, field: str | None,
                                       why: str) -> None:
    resp = client.get(path, headers=HTML)
    assert resp.status_code == status, (why, resp.text[:300])
    assert resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "Traceback" not in html
    if field is None:
        assert 'class="error-page"' in html, why
    else:
        # the form is kept, the field is marked invalid and its message sits next to it
        assert '<form class="score"' in html or '<form class="searchbox"' in html
        assert f'id="err-{field}"' in html, (why, field)
        assert f'aria-describedby="err-{field}"' in html


def test_score_page_keeps_what_was_typed(client: TestClient) -> None:
    html = client.get("/score?age=%C2%B2&sex=M&dx=E11.9&lti=true", headers=HTML).text
    assert 'value="²"' in html and 'value="E11.9"' in html and 'name="lti" value="true" checked' in html


# ---------------------------------------------------------------------------------------------------- CLI
# (id, argv, why): each must exit 2 with one readable error line and no traceback.
CLI_CASES: list[tuple[str, list[str], str]] = [
    ("py-0", ["score", "--age", "70", "--sex", "F", "--payment-year", "0"], "issue 12.2: was a traceback"),
    ("py--1", ["score", "--age", "70", "--sex", "F", "--payment-year", "-1"], "issue 12.2"),
    ("py-99999", ["score", "--age", "70", "--sex", "F", "--payment-year", "99999"], "issue 12.2"),
    ("py-2030", ["score", "--age", "70", "--sex", "F", "--payment-year", "2030"], "not loaded"),
    ("age--1", ["score", "--age", "-1", "--sex", "F"], "bounds"),
    ("age-126", ["score", "--age", str(AGE_MAX + 1), "--sex", "F"], "bounds"),
    ("graft--1", ["score", "--age", "70", "--sex", "F", "--esrd", "--graft-months", "-1"], "bounds"),
    ("graft-big", ["score", "--age", "70", "--sex", "F", "--esrd", "--graft-months", "99999"], "bounds"),
    ("sex-x", ["score", "--age", "70", "--sex", "X"], "M or F"),
    ("sex-missing", ["score", "--age", "70"], "required"),
    ("dob-bad", ["score", "--dob", "1950-02-30", "--sex", "F"], "no such day"),
    ("dos-outside", ["score", "--age", "70", "--sex", "F", "--dx", "E11.9", "--date-of-service", "2030-01-01"],
     "model year"),
    ("model-v99", ["score", "--age", "70", "--sex", "F", "--model", "V99"], "unknown model"),
    ("search-1", ["search", "a"], "2 characters"),
    ("search-limit-0", ["search", "copd", "--limit", "0"], "1..100"),
    ("code-zzz", ["code", "ZZZ"], "malformed"),
    ("code-fy-1999", ["code", "E11.9", "--fy", "1999"], "not loaded"),
]


@pytest.mark.parametrize(("case", "argv", "why"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input_is_one_readable_error(app_kb: KB, case: str, argv: list[str], why: str) -> None:
    result = CliRunner().invoke(cli_app, argv, env={"COLUMNS": "120"})
    assert result.exit_code == 2, (why, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "error (" in result.output, result.output


def test_cli_json_error_is_the_one_shape(app_kb: KB) -> None:
    result = CliRunner().invoke(cli_app, ["score", "--age", "70", "--sex", "F", "--payment-year", "0", "--json"])
    assert result.exit_code == 2
    assert set(json.loads(result.stdout)["error"]) == ERROR_KEYS


# ---------------------------------------------------------------------------------------------------- headers, key
@pytest.mark.parametrize("path", ["/", "/score", "/search?q=copd", "/codes/E11.9", "/nope", "/api/codes/E11.9",
                                  "/api/nope", "/static/style.css", "/openapi.json", "/docs"])
def test_every_response_has_the_security_headers(client: TestClient, path: str) -> None:
    resp = client.get(path, headers=HTML)
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    if path != "/docs":  # Swagger UI starts with an inline script; every other page runs none
        assert "'unsafe-inline'" not in resp.headers["content-security-policy"]


def test_405_keeps_the_allow_header(client: TestClient) -> None:
    assert client.delete("/api/score").headers["allow"] == "POST"


def test_body_limit_is_configurable(app_kb: KB) -> None:
    with TestClient(create_app(max_body_bytes=2048)) as small:
        resp = small.post("/api/score", json={**OK, "dx": ["E11.9"] * 400})
        assert resp.status_code == 413 and resp.json()["error"]["code"] == "body_too_large"
        assert small.post("/api/score", json=OK).status_code == 200


def test_chunked_body_over_the_limit_is_413(app_kb: KB) -> None:
    """No Content-Length: the Guard counts the streamed bytes."""
    with TestClient(create_app(max_body_bytes=4096)) as small:
        chunks = iter([b'{"age": 70, "sex": "F", "dx": [' + b'"E11.9",' * 1000 + b'"E11.9"]}'])
        resp = small.post("/api/score", content=chunks, headers=JSON_CT)
        assert resp.status_code == 413, resp.text


def test_key_api_and_browser_login(app_kb: KB) -> None:
    key = "s3cret-key"
    with TestClient(create_app(api_key=key), follow_redirects=False) as c:
        assert c.get("/api/codes/E11.9").status_code == 401
        assert c.get("/api/codes/E11.9").json()["error"]["code"] == "unauthorized"
        assert c.get("/api/codes/E11.9", headers={"x-api-key": "wrong"}).status_code == 401
        assert c.get("/api/codes/E11.9", headers={"x-api-key": key}).status_code == 200
        assert c.get("/api/codes/E11.9", auth=("any", key)).status_code == 200  # HTTP Basic
        assert c.get("/api/codes/E11.9", auth=("any", "nope")).status_code == 401
        assert c.get("/healthz").status_code == 200
        page = c.get("/codes/E11.9", headers=HTML)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fcodes%2FE11.9"
        assert c.get("/login").status_code == 200
        bad = c.post("/login", data={"key": "nope", "next": "/codes/E11.9"})
        assert bad.status_code == 401 and "not the server" in bad.text
        good = c.post("/login", data={"key": key, "next": "/codes/E11.9"})
        assert good.status_code == 303 and good.headers["location"] == "/codes/E11.9"
        cookie = good.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert key not in cookie, "the cookie holds an HMAC, never the key"
        assert c.get("/codes/E11.9", headers=HTML).status_code == 200  # the client kept the cookie
        away = c.post("/login", data={"key": key, "next": "//evil.example/"})
        assert away.headers["location"] == "/", "no open redirect"
        c.cookies.clear()
        c.cookies.set(SESSION_COOKIE, "forged")
        assert c.get("/api/codes/E11.9").status_code == 401


def test_serve_warns_about_plain_http_beyond_loopback() -> None:
    """Without a key a public bind is refused (before any socket is opened)."""
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "requires an API key" in result.output


def test_an_internal_error_is_generic_and_logs_no_value(caplog: pytest.LogCaptureFixture) -> None:
    """The Guard's last resort over a real ASGI app that fails with a member value in its message."""

    async def broken(scope: dict, receive: Any, send: Any) -> None:
        raise ValueError("member 1EG4-TE5-MK72 age 72 sex F")

    import asyncio

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/score", "headers": [], "query_string": b""}
    # In its own thread: the session's Playwright browser keeps an event loop running in the main thread.
    runner = threading.Thread(
        target=lambda: asyncio.run(Guard(broken, api_key=None, max_body_bytes=1000)(scope, receive, send))
    )
    with caplog.at_level(logging.ERROR, logger="hccguide.web"):
        runner.start()
        runner.join(timeout=30)
    assert sent[0]["status"] == 500
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["error"]["code"] == "internal_error" and "1EG4" not in json.dumps(body)
    assert "ValueError" in caplog.text and "1EG4" not in caplog.text and "age 72" not in caplog.text
