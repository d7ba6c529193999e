"""HTML faces over the real KB: code page, header page, error page, jump box, about, home hooks."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from hccguide.codes.pages import code_page
from hccguide.kb.open import KB

HTML = {"accept": "text/html"}


class _Cells(HTMLParser):
    """Collect coefficient cells: {(model, hcc, segment): text} from tables rows with data-model/data-hcc."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str, str], str] = {}
        self._row: tuple[str, str] | None = None
        self._seg: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("data-hcc"):
            self._row = (a["data-model"] or "", a["data-hcc"] or "")
        elif tag == "td" and self._row and a.get("data-segment"):
            self._seg, self._buf = a["data-segment"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row and self._seg:
            self.cells[(*self._row, self._seg)] = " ".join("".join(self._buf).split())
            self._seg = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._seg:
            self._buf.append(data)


def _cells(html: str) -> dict[tuple[str, str, str], str]:
    parser = _Cells()
    parser.feed(html)
    return parser.cells


def test_code_page_shows_every_coefficient_of_the_payment_year(client: TestClient, app_kb: KB) -> None:
    resp = client.get("/codes/L97.904", params={"payment_year": 2026}, headers=HTML)
    assert resp.status_code == 200
    cells = _cells(resp.text)
    page = code_page(app_kb, "L97.904", payment_year=2026)
    expected = 0
    for entry in page["hcc"]:
        for c in entry["coefficients"]:
            expected += 1
            assert f"{c['value']:.3f}" in cells[(entry["model"], entry["hcc"], c["segment"])], c
    assert expected >= 14
    assert cells[("CMS-HCC V28", "HCC380", "CNA")] == "1.078"
    assert cells[("CMS-HCC V24", "HCC161", "CNA")] == "0.515"


def test_code_page_content(client: TestClient, app_kb: KB) -> None:
    html = client.get("/codes/L97.904", headers=HTML).text
    page = code_page(app_kb, "L97.904")
    assert page["title"] in html
    assert 'id="billable">Billable<' in html
    for a in page["ancestors"]:
        assert f'href="/codes/{a["code"]}"' in html
    for s in page["siblings"]:
        assert f'href="/codes/{s["code"]}"' in html
    for c in page["confused_codes"]:
        assert f'href="/codes/{c["code"]}"' in html and c["difference"].replace("'", "&#39;") in html
    # inherited notes name (and link) the ancestor they come from
    assert re.search(r'from <a href="/codes/L97">L97</a>', html)
    assert "from chapter 12" in html
    for s in page["kb"]["sources"]:
        assert s["sha256"] in html
    assert html.count(page["kb"]["release_id"]) >= 2  # sources section and footer
    assert "Is L97.904 an HCC code?" in html and "<strong>Yes.</strong>" in html


def test_header_page_says_not_billable_and_lists_billable_codes(client: TestClient) -> None:
    html = client.get("/codes/M87.35", headers=HTML).text
    warning = html[html.index('id="not-billable"') :]
    assert "M87.35 is not billable" in warning
    for code in ("M87.350", "M87.351", "M87.352", "M87.353"):
        assert f'href="/codes/{code}"' in warning
    assert 'id="billable">Not billable' in html


def test_seventh_characters_and_current_character_marked(client: TestClient) -> None:
    html = client.get("/codes/S72.002A", headers=HTML).text
    assert 'id="seventh"' in html and "initial encounter for closed fracture" in html
    assert re.search(r'<tr class="cur"><td class="code">A</td>', html)


def test_proposed_payment_year_is_labelled(client: TestClient) -> None:
    html = client.get("/codes/L97.904", params={"payment_year": 2027}, headers=HTML).text
    assert 'id="payment-year-note"' in html and "proposed" in html
    assert "<sup>P</sup>" in html
    assert re.search(r'<option value="2027"\s+selected>PY2027 \(proposed\)</option>', html)


def test_v28_only_code_is_not_labelled_proposed_in_py2027(client: TestClient) -> None:
    """A01.04 maps to V28 (and ESRD) but no RxHCC: PY2027 scores it with the final PY2026 V28 table (CMS kept the
    2024 model), so the year is not 'proposed' although the KB also holds the Advance Notice V28 table of 2027."""
    html = client.get("/codes/A01.04", params={"payment_year": 2027}, headers=HTML).text
    assert re.search(r'<option value="2027"\s+selected>PY2027</option>', html)


def test_unknown_code_page_is_404_with_suggestion_links(client: TestClient, app_kb: KB) -> None:
    resp = client.get("/codes/M87.999", headers=HTML)
    assert resp.status_code == 404 and resp.headers["content-type"].startswith("text/html")
    assert "M87.999 is not an ICD-10-CM code" in resp.text
    assert 'href="/codes/M87.9"' in resp.text
    assert app_kb.release_id in resp.text  # the error page is inside the layout


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [({"payment_year": "2019"}, 422, "unknown_payment_year"), ({"fy": "x"}, 422, "bad_input")],
)
def test_bad_years_render_the_error_page(client: TestClient, query: dict, status: int, code: str) -> None:
    resp = client.get("/codes/M87.352", params=query, headers=HTML)
    assert resp.status_code == status
    assert f'data-error-code="{code}"' in resp.text


@pytest.mark.parametrize(("typed", "target"), [("m87352", "/codes/M87.352"), (" L97.904 ", "/codes/L97.904")])
def test_code_box_jumps_to_the_canonical_page(client: TestClient, typed: str, target: str) -> None:
    resp = client.get("/codes", params={"code": typed}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == target


def test_code_box_with_a_malformed_code_shows_the_error(client: TestClient) -> None:
    resp = client.get("/codes", params={"code": "hello"}, headers=HTML)
    assert resp.status_code == 404 and 'data-error-code="invalid_code"' in resp.text


def test_home_has_code_box_and_search_hooks(client: TestClient) -> None:
    html = client.get("/", headers=HTML).text
    assert '<input id="q"' in html and '<ul id="search-results" role="listbox"' in html
    assert 'role="combobox"' in html and 'action="/search"' in html  # without JavaScript the box submits
    assert '<script src="/static/search.js" defer></script>' in html
    assert 'id="code-box"' in html and 'action="/codes"' in html


def test_about_lists_release_and_sources(client: TestClient, app_kb: KB) -> None:
    html = client.get("/about", headers=HTML).text
    assert f'<code id="about-release-id">{app_kb.release_id}</code>' in html
    for s in app_kb.sources:
        assert s["sha256"] in html and s["path"] in html


def test_stylesheet_is_served_and_has_print_rules(client: TestClient) -> None:
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "@media print" in css.text
    assert "http://" not in css.text and "https://" not in css.text


def test_deleted_code_without_successor_links_a_search_of_the_new_code_set(client: TestClient) -> None:
    """S23.420A: deleted in FY2027 with nothing beneath or beside it in the addenda. The page guesses no successor;
    it links a search of FY2027 for the condition, and that search finds the sternoclavicular sprain codes."""
    page = client.get("/codes/S23.420A", headers=HTML).text
    assert "conversion table" in page
    href = re.search(r'id="fy-change-search" href="([^"]+)"', page)
    assert href is not None
    found = client.get(href.group(1).replace("&amp;", "&"), headers=HTML)
    assert found.status_code == 200 and "S43.60XA" in found.text
