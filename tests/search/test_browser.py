"""Search as you type on the home page, in a real browser (Debian chromium via Playwright) against the real
uvicorn server and KB: typing fills #search-results from /api/search, each result links to its code page."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from hccguide.kb.open import KB
from hccguide.search.index import SearchIndex
from hccguide.search.query import search

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"


def test_typing_shows_results_that_link_to_code_pages(
    browser, base_url: str, served_kb: KB, index: SearchIndex
) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    site = base_url
    hosts: list[str] = []
    page.on("request", lambda req: hosts.append(urlparse(req.url).netloc))
    page.goto(site + "/")
    page.locator("#q").press_sequentially("h/o breast ca", delay=30)
    first = page.locator("#search-results a.search-code").first
    first.wait_for(timeout=15000)
    expected = search(served_kb, "h/o breast ca", limit=10)["results"]
    assert first.inner_text() == expected[0]["code"] == "Z85.3"
    item = page.locator("#search-results li.search-result").first
    assert "Personal history of malignant neoplasm of breast" in item.inner_text()
    assert "billable" in item.inner_text()
    assert "no V28 HCC" in item.inner_text()  # Z85.3 maps to no CMS-HCC V28 HCC (KB dx_to_cc, PY2026)
    assert expected[0]["v28_hcc"] is None
    assert page.locator("#search-results li.search-result").count() == len(expected)
    assert first.get_attribute("href") == "/codes/Z85.3"

    page.locator("#q").fill("x")  # one character: the results are cleared, no error shown
    # locator assertions, not wait_for_function: the page's Content-Security-Policy forbids eval
    expect(page.locator("#search-results li")).to_have_count(0, timeout=5000)

    page.locator("#q").fill("ckd 3b")
    expect(page.locator("#search-results a.search-code").first).to_have_text("N18.32", timeout=15000)
    # the code page of a new server builds its code store first (seconds on a shared 2-core machine)
    with page.expect_navigation(timeout=90_000):
        page.locator("#q").press("Enter", timeout=90_000)
    assert page.url.endswith("/codes/N18.32")
    assert {h for h in hosts if h} <= {urlparse(site).netloc}, "the page must not call any other host"
    page.close()
