"""Code pages on FY2027 dates: deleted codes say what replaced them (with titles), new codes show their official
title, place and FY2026 notes with the label, index-table rows lead to codes; the page in chromium.

Dates are given explicitly (2026-12-01 is in FY2027; 2026-03-01 in FY2026) so the tests do not depend on the clock.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hccguide.codes.lookup import choose_code_set
from hccguide.codes.pages import code_page
from hccguide.kb.code_changes import deleted_codes
from hccguide.kb.open import KB

FY2027_DAY = date(2026, 12, 1)
FY2026_DAY = date(2026, 3, 1)


def test_dates_choose_the_code_set(kb: KB) -> None:
    assert choose_code_set(kb, today=FY2027_DAY).code_set == "FY2027"
    assert choose_code_set(kb, today=FY2027_DAY, date_of_service=FY2026_DAY).code_set == "FY2026"
    assert choose_code_set(kb, 2026, today=FY2027_DAY).code_set == "FY2026"
    assert choose_code_set(kb, today=FY2027_DAY).notes_label == "notes as of FY2026; FY2027 note changes not loaded"
    assert choose_code_set(kb, today=FY2026_DAY).notes_label is None


def test_every_deleted_code_page_names_its_replacements(kb: KB) -> None:
    for code in deleted_codes(kb, "FY2027"):
        page = code_page(kb, code, today=FY2027_DAY)
        change = page["fy_change"]
        assert change is not None and change["change"] in ("deleted", "now_header"), code
        if not change["replaced_by"]:  # S23.420A/D/S: no successor in the addenda; the page says where it is
            assert code.replace(".", "").startswith("S23420") and "conversion table" in change["message"], code
            continue
        for brief in change["replaced_by"]:
            assert brief["code"] in change["message"] and brief["title"] in change["message"], code


@pytest.mark.parametrize(
    ("code", "page_code_set", "change", "first", "why"),
    [
        ("I42.0", "FY2027", "now_header", "I42.00", "a header in FY2027: its page is the FY2027 header"),
        ("T52.8X1A", "FY2026", "deleted", "T52.811A", "deleted: the page is the FY2026 row, saying so"),
    ],
)
def test_deleted_code_pages(kb: KB, code: str, page_code_set: str, change: str, first: str, why: str) -> None:
    page = code_page(kb, code, today=FY2027_DAY)
    assert page["code_set"] == page_code_set, why
    assert (page["fy_change"]["change"], page["fy_change"]["replaced_by"][0]["code"]) == (change, first), why


def test_new_code_page_has_title_place_and_labelled_fy2026_notes(kb: KB) -> None:
    page = code_page(kb, "I42.01", today=FY2027_DAY)
    assert (page["code_set"], page["title"], page["billable"]) == (
        "FY2027",
        "Familial-genetic dilated cardiomyopathy",
        True,
    )
    assert [a["code"] for a in page["ancestors"]] == ["I42", "I42.0"]
    assert page["fy_change"]["change"] == "added"
    assert page["notes_label"] == "notes as of FY2026; FY2027 note changes not loaded"
    assert page["inherited_notes"], "I42 notes (FY2026) are inherited"
    fy26 = code_page(kb, "I42.9", fy=2026, today=FY2027_DAY)
    assert fy26["notes_label"] is None and fy26["fy_change"] is None


def test_qa1_page_says_its_chapter_is_not_known(kb: KB) -> None:
    page = code_page(kb, "QA1.71", today=FY2027_DAY)
    assert page["title"] == "Lynch syndrome"
    assert "not known without the FY2027 tabular" in page["chapter"]["title"]
    assert "not known without the FY2027 tabular" in page["block"]["title"]


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("C78.7", "Neoplasm, liver, Malignant Secondary → C78.7"),
        ("T45.515A", "Warfarin, Adverse effect → T45.515"),
    ],
)
def test_page_lists_index_table_rows(kb: KB, code: str, text: str) -> None:
    page = code_page(kb, code, today=FY2027_DAY)
    assert text in [r["text"] for r in page["index_table_rows"]]


@pytest.mark.e2e
def test_pages_in_chromium(base_url: str, browser, shots: Path) -> None:  # type: ignore[no-untyped-def]
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(f"{base_url}/codes/T52.8X1A?fy=2027", timeout=180_000)  # first page loads the code store
        assert "replaced by" in page.locator("#fy-change").inner_text()
        assert page.locator("#fy-change a", has_text="T52.811A").count() == 1
        page.screenshot(path=str(shots / f"fy2027_deleted_{width}.png"), full_page=False)
        page.goto(f"{base_url}/codes/C78.7?fy=2027")
        assert "Neoplasm, liver" in page.locator("#index-tables").inner_text()
        assert "notes as of FY2026" in page.locator("#notes-label").inner_text()
        page.locator("#index-tables").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"fy2027_index_rows_{width}.png"), full_page=False)
        page.close()
