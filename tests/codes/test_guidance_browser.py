"""The checklist, confusable codes and FAQ of a code page in a real browser (Debian chromium via Playwright,
real server and KB), at 1280 px and 390 px: the FAQPage JSON-LD in the page parses and matches the API's FAQ, the
sections are visible, and the narrow page does not scroll sideways. (The page's CSP allows no inline style: the
sections use the site stylesheet only.)"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_m86_50_guidance_sections_and_json_ld(browser, base_url: str, shots: Path, width: int) -> None:  # type: ignore[no-untyped-def]
    api = httpx.get(f"{base_url}/api/codes/M86.50", params={"fy": 2026, "payment_year": 2026}, timeout=120).json()
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{base_url}/codes/M86.50?fy=2026&payment_year=2026")
    ld = json.loads(page.locator("script#faq-json-ld").inner_text())
    assert ld["@type"] == "FAQPage"
    assert [q["name"] for q in ld["mainEntity"]] == [q["question"] for q in api["faq"]]
    assert page.locator("#checklist li.check").count() == len(api["checklist"])
    assert page.locator("#faq .qa").count() == len(api["faq"])
    assert page.locator("#checklist").is_visible() and page.locator("#faq").is_visible()
    vertebra = page.locator("#faq h3", has_text="M46.2-")
    assert vertebra.count() == 1 and vertebra.is_visible()
    confused = [a.inner_text() for a in page.locator("#confused td.code a").all()]
    assert confused == [c["code"] for c in api["confused_codes"]]
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page scrolls sideways by {overflow} px at {width} px"
    page.screenshot(path=str(shots / f"m8650_guidance_{width}.png"), full_page=True)
    page.locator("#checklist").screenshot(path=str(shots / f"m8650_checklist_{width}.png"))
    page.locator("#faq").screenshot(path=str(shots / f"m8650_faq_{width}.png"))
    page.close()
