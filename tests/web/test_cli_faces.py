"""The CLI text faces: `hccguide code` and `hccguide kb info` over the real KB (typer's CliRunner)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hccguide.claims.drg import add_ms_drg
from hccguide.cli import app
from hccguide.codes.pages import code_page
from hccguide.kb.open import KB

runner = CliRunner()
ENV = {"COLUMNS": "100"}


def test_code_prints_the_page(app_kb: KB) -> None:
    result = runner.invoke(app, ["code", "m87352", "--payment-year", "2026"], env=ENV)
    assert result.exit_code == 0, result.output
    page = code_page(app_kb, "M87.352", payment_year=2026)
    out = result.stdout
    assert "M87.352" in out and "Other secondary osteonecrosis, left femur" in out
    assert "BILLABLE" in out and "Is M87.352 an HCC code?" in out
    v28 = next(e for e in page["hcc"] if e["model"] == "CMS-HCC V28")
    assert v28["mapped"] and v28["hcc"] in out
    cna = next(c["value"] for c in v28["coefficients"] if c["segment"] == "CNA")
    assert f"{cna:.3f}" in out
    assert page["kb"]["release_id"] in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_header_code_says_not_billable(app_kb: KB) -> None:
    result = runner.invoke(app, ["code", "M87.35"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "NOT BILLABLE" in result.stdout and "M87.353" in result.stdout


def test_unknown_code_exits_2_with_the_error() -> None:
    result = runner.invoke(app, ["code", "M87.999"], env=ENV)
    assert result.exit_code == 2
    assert "invalid_code" in result.stderr and "M87.999" in result.stderr
    assert "did you mean" in result.stderr and "M87.9" in result.stderr


def test_code_json_parses_and_equals_the_library(app_kb: KB) -> None:
    result = runner.invoke(app, ["code", "L97.904", "--json", "--fy", "2026", "--payment-year", "2026"], env=ENV)
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    page = add_ms_drg(code_page(app_kb, "L97.904", fy=2026, payment_year=2026))  # with its MS-DRG section
    expected = json.loads(json.dumps(page, default=str))
    assert parsed == expected


def test_unknown_code_json_is_the_error_shape() -> None:
    result = runner.invoke(app, ["code", "XYZ", "--json"], env=ENV)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "invalid_code"


def test_kb_info_prints_release_and_sources(app_kb: KB) -> None:
    result = runner.invoke(app, ["kb", "info"], env=ENV)
    assert result.exit_code == 0, result.output
    assert app_kb.release_id in result.stdout
    for s in app_kb.sources:
        assert s["sha256"][:16] in result.stdout
    as_json = runner.invoke(app, ["kb", "info", "--json"], env=ENV)
    assert json.loads(as_json.stdout)["release_id"] == app_kb.release_id
