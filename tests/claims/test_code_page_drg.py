"""The code page's MS-DRG section (issue 16 item 2) in the API, the page and the CLI."""

from __future__ import annotations

import httpx
from typer.testing import CliRunner

from hccguide.cli import app


def test_api_code_page_has_the_ms_drg_section(base_url: str) -> None:
    page = httpx.get(f"{base_url}/api/codes/I50.20?fy=2026", timeout=60).json()
    s = page["ms_drg"]
    assert (s["without_cc_mcc"]["drg"], s["with_cc"]["drg"], s["with_mcc"]["drg"]) == (293, 292, 291)
    assert s["fiscal_year"] == 2026 and s["secondary_level"] == "CC" and s["mdc"] == 5
    assert httpx.get(f"{base_url}/api/codes/E11?fy=2026", timeout=60).json()["ms_drg"] is None  # a header


def test_page_and_cli_show_it(base_url: str, browser: object, shots: object, kb_home: object) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(f"{base_url}/codes/M86.50?fy=2026")
    text = page.inner_text("#ms-drg")
    assert "541" in text and "540" in text and "539" in text
    page.locator("#ms-drg").screenshot(path=str(shots / "code-ms-drg-1280.png"))  # type: ignore[operator]
    page.close()
    out = CliRunner().invoke(app, ["code", "M86.50", "--fy", "2026"])
    assert out.exit_code == 0 and "541 Osteomyelitis without CC/MCC" in out.output
