"""The faces of the search: GET /api/search, `hccguide search`, the home page hooks and search.js."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hccguide.cli import app
from hccguide.codes.lookup import choose_code_set
from hccguide.kb.open import KB
from hccguide.search.query import search

runner = CliRunner()
STATIC = Path(__file__).parents[2] / "src" / "hccguide" / "web" / "static" / "search.js"


def test_api_answers_with_results_kb_and_code_set(api: TestClient, served_kb: KB) -> None:
    resp = api.get("/api/search", params={"q": "chf exacerbation", "limit": 5})
    assert resp.status_code == 200
    body = resp.json()
    assert body["kb"]["release_id"] == served_kb.release_id
    assert body["code_set"] == choose_code_set(served_kb).code_set  # today's code set (FY2027 since 2026-10-01)
    assert len(body["results"]) == 5
    assert {"code", "title", "billable", "v28_hcc"} <= set(body["results"][0])
    assert body == json.loads(json.dumps(search(served_kb, "chf exacerbation", limit=5)))


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x"}, {"q": "a" * 2001}])
def test_api_refuses_short_or_huge_query_with_422_naming_q(api: TestClient, params: dict) -> None:
    resp = api.get("/api/search", params=params)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "bad_input"
    assert resp.json()["error"]["field"] == "q"


def test_api_answers_a_2000_character_query(api: TestClient) -> None:
    resp = api.get("/api/search", params={"q": ("copd with exacerbation " * 100)[:2000]})
    assert resp.status_code == 200
    assert resp.json()["results"][0]["code"] == "J44.1"


def test_api_filters(api: TestClient) -> None:
    body = api.get("/api/search", params={"q": "heart failure", "billable": "true", "hcc": "V28", "fy": 2026}).json()
    assert body["results"] and all(r["billable"] and r["v28_hcc"] for r in body["results"])
    bad = api.get("/api/search", params={"q": "heart failure", "hcc": "V99"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "hcc"


def test_cli_prints_a_table(served_kb: KB) -> None:
    result = runner.invoke(app, ["search", "h/o breast ca", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert "Z85.3" in result.output


def test_cli_json_equals_the_library(served_kb: KB) -> None:
    result = runner.invoke(app, ["search", "ckd 3b", "--json", "--limit", "3"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(json.dumps(search(served_kb, "ckd 3b", limit=3)))


def test_cli_short_query_exits_2() -> None:
    result = runner.invoke(app, ["search", "x", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.output)["error"]["field"] == "q"


def test_home_page_has_the_search_hooks_and_script(api: TestClient) -> None:
    page = api.get("/", headers={"accept": "text/html"}).text
    assert 'id="q"' in page and 'id="search-results"' in page and "/static/search.js" in page
    script = api.get("/static/search.js")
    assert script.status_code == 200
    assert "/api/search?q=" in script.text and "/codes/" in script.text
    assert re.search(r"\.innerHTML\s*=", STATIC.read_text()) is None, "results must be inserted as text"
