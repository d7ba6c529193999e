"""Notes a code carries and inherits (with the ancestor they come from), 7th characters, MEAT guidance and
commonly confused codes, on real tabular rows."""

from __future__ import annotations

import pytest

from hccguide.codes.pages import code_page


def test_inherited_notes_name_their_ancestor(kb) -> None:
    page = code_page(kb, "M87.352", fy=2026, payment_year=2026)
    inherited = {(n["type"], n["from"]) for n in page["inherited_notes"]}
    # M87 (category) carries Excludes1 and Use additional code; chapter 13 carries Excludes2.
    assert ("excludes1", "M87") in inherited
    assert ("use_additional_code", "M87") in inherited
    assert ("excludes2", "13") in inherited
    texts = [n["text"] for n in page["inherited_notes"] if n["from"] == "M87" and n["type"] == "excludes1"]
    assert "juvenile osteonecrosis (M91-M92)" in texts
    assert not any(n["type"] == "inclusion_term" for n in page["inherited_notes"])


def test_own_notes_are_grouped_by_type(kb) -> None:
    page = code_page(kb, "E11", fy=2026, payment_year=2026)
    assert page["notes"]["includes"] and page["notes"]["use_additional_code"]
    assert any("insulin" in t.lower() for t in page["notes"]["use_additional_code"])
    assert page["billable"] is False and page["billable_descendant_count"] > 50


def test_seventh_character_codes_know_their_definition(kb) -> None:
    page = code_page(kb, "S72.001A", fy=2026, payment_year=2026)
    seventh = page["seventh_characters"]
    assert seventh["from"] == "S72" and seventh["this_code"] == "A"
    assert {c["character"] for c in seventh["characters"]} >= {"A", "B", "C", "D", "S"}
    assert page["parent"]["code"] == "S72.001" and page["parent"]["billable"] is False


def test_placeholder_x_codes(kb) -> None:
    page = code_page(kb, "T36.0X1A", fy=2026, payment_year=2026)
    assert page["billable"] and page["title"].endswith("initial encounter")
    header = code_page(kb, "T36.0X1", fy=2026, payment_year=2026)
    assert not header["billable"] and {"T36.0X1A", "T36.0X1D", "T36.0X1S"} == {
        c["code"] for c in header["billable_descendants"]
    }


@pytest.mark.parametrize(
    ("code", "axis", "value"),
    [
        ("M87.352", "laterality", "left"),
        ("S72.001A", "episode_of_care", "initial encounter"),
        ("L89.154", "stage", "stage 4"),
        ("L97.904", "ulcer_depth", "with necrosis of bone"),
        ("E10.10", "diabetes_type", "type 1"),
        ("F33.1", "severity", "moderate"),
    ],
)
def test_meat_specificity_axes(kb, code: str, axis: str, value: str) -> None:
    spec = {s["axis"]: s["value"] for s in code_page(kb, code, fy=2026, payment_year=2026)["meat"]["specificity"]}
    assert spec.get(axis) == value


def test_meat_distinguishes_from_siblings(kb) -> None:
    meat = code_page(kb, "M87.352", fy=2026, payment_year=2026)["meat"]
    assert any("M87.351" in d and "left" in d for d in meat["distinguishing"])
    assert [e["letter"] for e in meat["elements"]] == ["M", "E", "A", "T"]
    assert any("RADV" in f for f in meat["audit_flags"])


def test_header_page_flags_not_billable(kb) -> None:
    meat = code_page(kb, "S72.001", fy=2026, payment_year=2026)["meat"]
    assert any("not billable" in f for f in meat["audit_flags"])


def test_confused_codes_cover_siblings_and_excludes1(kb) -> None:
    confused = code_page(kb, "M87.352", fy=2026, payment_year=2026)["confused_codes"]
    by_code = {c["code"]: c for c in confused}
    assert "side" in by_code["M87.351"]["reason"]
    assert "'right'" in by_code["M87.351"]["difference"] and "'left'" in by_code["M87.351"]["difference"]
    assert any(c["reason"].startswith("Excludes1") for c in confused)


def test_near_identical_titles_in_other_categories(kb) -> None:
    confused = code_page(kb, "E11.9", fy=2026, payment_year=2026)["confused_codes"]
    near = {c["code"]: c for c in confused if c["reason"].startswith("near-identical")}
    assert "E10.9" in near and "'type 1'" in near["E10.9"]["difference"] and "'type 2'" in near["E10.9"]["difference"]
    assert not any(code.startswith("E11") for code in near)


def test_page_carries_release_and_sources(kb) -> None:
    page = code_page(kb, "I50.22", fy=2026, payment_year=2026)
    assert page["kb"]["release_id"] == kb.release_id
    keys = {s["source_key"] for s in page["kb"]["sources"]}
    assert {"icd10cm_tabular:FY2026", "cms:ra_dx_to_cc:2026", "cms:ra_coefficients:2026"} <= keys
    assert all(len(s["sha256"]) == 64 for s in page["kb"]["sources"])


def test_header_page_lists_hccs_reached_by_its_billable_codes(kb) -> None:
    # E11 is a header; its billable codes map to V28 HCC36/37/38 (PY2026 CMS map), so the page says so.
    page = code_page(kb, "E11", fy=2026, payment_year=2026)
    v28 = {b["hcc"]: b["codes"] for b in page["hccs_below"] if b["model"] == "CMS-HCC V28"}
    assert {"HCC36", "HCC37", "HCC38"} <= set(v28) and all(n > 0 for n in v28.values())
    assert code_page(kb, "E11.9", fy=2026, payment_year=2026)["hccs_below"] == []


def test_distinguishing_sentences_name_only_stated_axes(kb) -> None:
    meat = code_page(kb, "E11.9", fy=2026, payment_year=2026)["meat"]
    assert meat["distinguishing"] and not any("not stated" in d for d in meat["distinguishing"])
