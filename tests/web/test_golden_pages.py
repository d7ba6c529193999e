"""Every golden code (tests/data/golden_codes.csv: 75 codes over all 22 chapters, figures taken from the official
files without hccguide) renders as a web page and a CLI page showing its title and PY2026 CNA relative factors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from typer.testing import CliRunner

from hccguide.cli import app

ROWS = list(csv.DictReader((Path(__file__).parents[1] / "data" / "golden_codes.csv").open()))
HTML = {"accept": "text/html"}


def _cna_cell(page_html: str, model: str, hcc: str) -> str:
    row = page_html[page_html.index(f'<tr data-model="{model}" data-hcc="{hcc}">') :]
    row = row[: row.index("</tr>")]
    cell = row[row.index('data-segment="CNA"') :]
    return cell[: cell.index("</td>")]


@pytest.mark.parametrize("row", ROWS, ids=[r["code"] for r in ROWS])
def test_golden_code_web_page(client: TestClient, row: dict) -> None:
    resp = client.get(f"/codes/{row['code']}", params={"fy": 2026, "payment_year": 2026}, headers=HTML)
    assert resp.status_code == 200
    text = resp.text
    assert f'<span id="title">{escape(row["title"])}</span>' in text
    billable = row["billable"] == "True"
    assert ('id="billable">Billable<' in text) is billable
    assert ('id="not-billable"' in text) is (not billable)
    if row["v28_hcc"] and row["v28_cna_2026"]:
        assert f"{float(row['v28_cna_2026']):.3f}" in _cna_cell(text, "CMS-HCC V28", f"HCC{row['v28_hcc']}")
    if row["v24_hcc"] and row["v24_cna_2026"]:
        assert f"{float(row['v24_cna_2026']):.3f}" in _cna_cell(text, "CMS-HCC V24", f"HCC{row['v24_hcc']}")
    if not row["v28_hcc"] and not row["v24_hcc"]:
        assert "<strong>No.</strong>" in text


@pytest.mark.parametrize("row", ROWS[::5], ids=[r["code"] for r in ROWS[::5]])
def test_golden_code_cli_page(app_kb, row: dict) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        app, ["code", row["code"], "--fy", "2026", "--payment-year", "2026"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert row["title"] in result.stdout  # brackets such as "[HIV]" are text, not rich markup
    if row["v28_hcc"] and row["v28_cna_2026"]:
        assert f"HCC{row['v28_hcc']}" in result.stdout
        assert f"{float(row['v28_cna_2026']):.3f}" in result.stdout
