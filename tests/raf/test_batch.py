"""Batch (DuckDB) == single on the same members; rows in = rows out + rows rejected; the score-batch CLI."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hccguide.cli import app
from hccguide.raf.engine_duckdb import run_duckdb
from hccguide.raf.segments import Member
from hccguide.raf.synthetic import generate, write_files
from hccguide.raf.trace import score_member, score_parts

# the score parts are compared too: batch SQL and trace.score_parts must split the raw score alike
PARTS = ("demographic", "disease", "interaction", "count")
COLS = "member_id, model, segment, risk_score, risk_score_normalized, risk_score_payment, hccs, " + ", ".join(
    f"part_{p}" for p in PARTS
)


def _single(r) -> tuple:
    parts = score_parts(r.main.factors)
    head = (r.model, r.segment, r.risk_score, r.risk_score_normalized, r.risk_score_payment, r.hccs)
    return (*head, *(parts[p] for p in PARTS))


def _single_rows(kb, members: Path, diagnoses: Path, model: str, year: int) -> dict[str, tuple]:
    dx: dict[str, list] = {}  # (code, date of service): the MCE sex edits are chosen by date (test_mce_sex.py)
    sql = f"SELECT member_id, dx_code, TRY_CAST(date_of_service AS DATE) FROM '{diagnoses}'"
    for mid, code, day in duckdb.sql(sql).fetchall():
        dx.setdefault(mid, []).append((code, day))
    out = {}
    rel = duckdb.sql(f"SELECT * FROM '{members}'")
    for values in rel.fetchall():
        row = dict(zip(rel.columns, values, strict=True))
        mid = row["member_id"]
        r = score_member(
            kb,
            Member.from_row(row),
            dx.get(mid, []),
            model=model,
            payment_year=year,
        )
        out[mid] = _single(r)
    return out


@pytest.mark.parametrize(
    ("model", "year"), [("V28", 2026), ("V24", 2026), ("V28", 2025), ("ESRD-V24", 2026), ("RxHCC-V08", 2026)]
)
def test_batch_equals_single_on_10k_generated_members(kb, tmp_path: Path, model: str, year: int) -> None:
    con = duckdb.connect()
    generate(con, kb, 10_000, payment_year=year, seed=3)
    m, d = write_files(con, tmp_path)
    res = run_duckdb(
        kb, m, d, out=tmp_path / "s.parquet", rejects=tmp_path / "r.parquet", model=model, payment_year=year
    )
    assert res.members_scored == 10_000 and res.members_rejected == 0
    batch = {r[0]: tuple(r[1:]) for r in duckdb.sql(f"SELECT {COLS} FROM '{tmp_path / 's.parquet'}'").fetchall()}
    single = _single_rows(kb, m, d, model, year)
    diff = [k for k in single if single[k] != (*batch[k][:5], list(batch[k][5]), *batch[k][6:])]
    assert diff == [], [(k, single[k], batch[k]) for k in diff[:5]]
    if model in ("ESRD-V24", "RxHCC-V08"):  # every member scored by the one model: its own segments
        assert len({s for (_, s, *_rest) in single.values()}) >= 4
        return
    assert {s for (_, s, *_rest) in single.values()} >= {
        "CNA",
        "CND",
        "CFA",
        "CFD",
        "CPA",
        "CPD",
        "INS",
        "NE",
        "SNPNE",
        "DI",
        "TRANSPLANT",
        "GNPA",
    }


member_st = st.fixed_dictionaries(
    {
        "age": st.integers(0, 105),
        "sex": st.sampled_from(["M", "F", "1", "2"]),
        "dual_status": st.sampled_from(
            ["00", "01", "02", "03", "04", "05", "06", "08", "full", "partial", "non", None]
        ),
        "orec": st.sampled_from(["0", "1", "2", "3", None]),
        "lti": st.booleans(),
        "new_enrollee": st.booleans(),
        "esrd": st.booleans(),
        "snp": st.booleans(),
        "graft_months": st.one_of(st.none(), st.integers(0, 30)),
    }
)
dx_st = st.lists(
    st.sampled_from(
        [
            "E11.22",
            "E1122",
            "N18.4",
            "I50.22",
            "I50.9",
            "Z95.811",
            "I50.811",
            "J44.1",
            "F20.9",
            "F10.20",
            "C50.911",
            "D66",
            "C34.90",
            "L89.154",
            "N18.6",
            "R51.9",
            "G35",
            "E11.9",
            " i10 ",
            "A41.9",
            "J96.00",
            "M87.352",
        ]
    ),
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.lists(st.tuples(member_st, dx_st), min_size=1, max_size=30))
def test_property_batch_equals_single(kb, tmp_path_factory, members) -> None:
    folder = tmp_path_factory.mktemp("prop")
    rows = [{"member_id": f"P{i}", **m} for i, (m, _) in enumerate(members)]
    dxs = [
        {"member_id": f"P{i}", "dx_code": c, "date_of_service": "2025-06-01"}
        for i, (_, ds) in enumerate(members)
        for c in ds
    ]
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), folder / "m.parquet")
    pq.write_table(
        pa.Table.from_pylist(
            dxs,
            schema=pa.schema([("member_id", pa.string()), ("dx_code", pa.string()), ("date_of_service", pa.string())]),
        ),
        folder / "d.parquet",
    )
    run_duckdb(kb, folder / "m.parquet", folder / "d.parquet", out=folder / "s.parquet", rejects=None)
    batch = {r[0]: tuple(r[1:]) for r in duckdb.sql(f"SELECT {COLS} FROM '{folder / 's.parquet'}'").fetchall()}
    for i, (m, ds) in enumerate(members):
        r = score_member(kb, Member(**m), ds)
        assert batch[f"P{i}"] == _single(r), (m, ds)


def test_rows_in_equal_rows_out_plus_rejected(kb, tmp_path: Path) -> None:
    con = duckdb.connect()
    generate(con, kb, 5_000, dirty=True, seed=5)
    m, d = write_files(con, tmp_path, ".csv")
    res = run_duckdb(kb, m, d, out=tmp_path / "s.csv", rejects=tmp_path / "r.csv")
    n_members = duckdb.sql(f"SELECT count(*) FROM read_csv('{m}')").fetchall()[0][0]
    n_dx = duckdb.sql(f"SELECT count(*) FROM read_csv('{d}', all_varchar=true)").fetchall()[0][0]
    n_scores = duckdb.sql(f"SELECT count(*) FROM read_csv('{tmp_path / 's.csv'}')").fetchall()[0][0]
    rej = dict(duckdb.sql(f"SELECT source, count(*) FROM read_csv('{tmp_path / 'r.csv'}') GROUP BY 1").fetchall())
    assert n_members == n_scores + rej["members"] == res.members_in
    assert n_dx == res.dx_used + rej["diagnoses"]
    reasons = set(res.summary["reject_reasons"])
    assert {
        "unknown code",
        "invalid date",
        "missing required demographic: sex",
        "duplicate member",
        "unknown member",
    } <= reasons
    assert any(r.startswith("date of service outside the model year") for r in reasons)


def test_score_batch_cli_with_column_map(kb_home, kb, tmp_path: Path) -> None:
    con = duckdb.connect()
    generate(con, kb, 300, seed=9)
    con.execute("CREATE TABLE m2 AS SELECT member_id AS MBI, * EXCLUDE (member_id, i) FROM gen_members")
    con.execute(f"COPY m2 TO '{tmp_path / 'm.csv'}' (FORMAT CSV, HEADER)")
    con.execute(
        f"COPY (SELECT member_id AS MBI, dx_code AS ICD, date_of_service FROM gen_dx) TO '{tmp_path / 'd.csv'}' "
        "(FORMAT CSV, HEADER)"
    )
    result = CliRunner().invoke(
        app,
        [
            "score-batch",
            str(tmp_path / "m.csv"),
            str(tmp_path / "d.csv"),
            "--out",
            str(tmp_path / "s.parquet"),
            "--rejects",
            str(tmp_path / "r.parquet"),
            "--column-map",
            "member_id=MBI,dx_code=ICD",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["members_scored"] == 300 and summary["members_rejected"] == 0
    cols = [c[0] for c in duckdb.sql(f"DESCRIBE SELECT * FROM '{tmp_path / 's.parquet'}'").fetchall()]
    assert cols == [
        "member_id",
        "model",
        "payment_year",
        "segment",
        "risk_score",
        "risk_score_normalized",
        "risk_score_payment",
        "hccs",
        "kb_release",
        *(f"part_{p}" for p in PARTS),
    ]


def test_score_cli_json_and_error(kb_home, kb) -> None:
    r = CliRunner().invoke(
        app,
        [
            "score",
            "--model",
            "V28",
            "--payment-year",
            "2026",
            "--age",
            "72",
            "--sex",
            "F",
            "--dual",
            "non",
            "--dx",
            "E11.22,N18.4,I50.22",
            "--explain",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    payload = json.loads(r.output)
    assert payload["risk_score"] == 1.723 and payload["segment"] == "CNA"
    r = CliRunner().invoke(app, ["score", "--sex", "F", "--json"])
    assert r.exit_code == 2 and json.loads(r.output)["error"]["field"] == "age"


ENCOUNTERS = [
    # (dx, cpt_hcpcs, bill_type, kept, why)
    ("E11.9", "99213", None, True, "professional office visit on the CMS eligible list"),
    ("I50.9", "80053", None, False, "professional lab panel: not on the eligible list"),
    ("N18.4", None, "0111", True, "inpatient facility bill type 11x needs no CPT"),
    ("J44.1", "99284", "131", True, "outpatient bill type 13x with an eligible E/M code"),
    ("F20.9", None, "131", False, "outpatient bill type without CPT"),
    ("G35", "99213", "0221", False, "bill type 22x (SNF inpatient Part B) is not risk-adjustment eligible"),
    ("E11.9", "99213", "0871", True, "bill type 87x (opioid treatment program), eligible since CMS's July 2021 edit"),
]


def test_encounter_filter_keeps_only_risk_adjustment_eligible_records(kb, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"member_id": "E1", "age": 70, "sex": "F"}]), tmp_path / "m.parquet")
    rows = [
        {"member_id": "E1", "dx_code": dx, "date_of_service": "2025-03-03", "cpt_hcpcs": cpt, "bill_type": bt}
        for dx, cpt, bt, _, _ in ENCOUNTERS
    ]
    schema = pa.schema(
        [(c, pa.string()) for c in ("member_id", "dx_code", "date_of_service", "cpt_hcpcs", "bill_type")]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp_path / "d.parquet")
    assert (
        kb.query("SELECT count(*) AS n FROM eligible_cpt_hcpcs WHERE year = 2025 AND code IN ('99213', '99284')")[0][
            "n"
        ]
        == 2
    )
    res = run_duckdb(
        kb,
        tmp_path / "m.parquet",
        tmp_path / "d.parquet",
        out=tmp_path / "s.parquet",
        rejects=tmp_path / "r.parquet",
        filter_encounters=True,
    )
    rejected = {r[0] for r in duckdb.sql(f"SELECT row_number FROM '{tmp_path / 'r.parquet'}'").fetchall()}
    assert rejected == {i + 1 for i, e in enumerate(ENCOUNTERS) if not e[3]}, [e[4] for e in ENCOUNTERS]
    assert res.dx_used + res.dx_rejected == len(ENCOUNTERS)
    hccs = duckdb.sql(f"SELECT hccs FROM '{tmp_path / 's.parquet'}'").fetchall()[0][0]
    assert hccs == ["38", "280", "327"]


def test_typed_parquet_columns_read_as_their_text(kb, tmp_path: Path) -> None:
    """A Parquet file with integer, boolean and date columns scores and rejects exactly as the same rows written as
    CSV text (why: typed columns skip the text rules for speed, batch_validate.INTEGER_TYPES; an unsigned age past
    BIGINT must still be 'not a whole number', a boolean is never an age)."""
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE m AS SELECT * FROM (VALUES
          ('T1', 72::UBIGINT, 'F', NULL::DATE, true, false, NULL::INTEGER),
          ('T2', 18446744073709551615::UBIGINT, 'M', NULL, false, false, NULL),
          ('T3', 130::UBIGINT, 'F', NULL, false, true, NULL),
          ('T4', NULL, 'M', DATE '1951-06-30', false, false, NULL),
          ('T5', NULL, 'F', DATE '2031-01-01', false, false, NULL),
          ('T6', 70::UBIGINT, 'F', NULL, false, false, 4),
          ('T7', 66::UBIGINT, 'M', NULL, true, true, 2000)
        ) t(member_id, age, sex, date_of_birth, lti, new_enrollee, graft_months)""")
    con.execute("""
        CREATE TABLE d AS SELECT * FROM (VALUES ('T1', 'E11.22', DATE '2025-03-01'), ('T4', 'I50.22', NULL),
          ('T6', 'N18.6', DATE '2025-05-01'), ('T7', 'E11.9', DATE '2024-05-01')) t(member_id, dx_code, date_of_service)
    """)
    for name in ("m", "d"):
        con.execute(f"COPY {name} TO '{tmp_path / name}.parquet' (FORMAT PARQUET)")
        con.execute(f"COPY {name} TO '{tmp_path / name}.csv' (FORMAT CSV, HEADER)")
    out = {}
    for kind in ("parquet", "csv"):
        res = run_duckdb(
            kb,
            tmp_path / f"m.{kind}",
            tmp_path / f"d.{kind}",
            out=tmp_path / f"s_{kind}.parquet",
            rejects=tmp_path / f"r_{kind}.parquet",
        )
        scores = duckdb.sql(f"SELECT {COLS} FROM '{tmp_path / f's_{kind}.parquet'}' ORDER BY 1").fetchall()
        # a Parquet row_number is the 1-based row, a CSV one the line (header = line 1): compared as the line
        line = "row_number + 1" if kind == "parquet" else "row_number"
        rejects = duckdb.sql(
            f"SELECT * REPLACE ({line} AS row_number) FROM '{tmp_path / f'r_{kind}.parquet'}' ORDER BY 1, 2"
        ).fetchall()
        out[kind] = (res.members_scored, res.dx_used, scores, rejects)
    assert out["parquet"] == out["csv"]
    reasons = {r[2]: r[5] for r in out["parquet"][3] if r[0] == "members"}
    assert reasons == {
        "T2": "invalid age: not a whole number",
        "T3": "invalid age: outside 0..125",
        "T5": "invalid date: date_of_birth after the age reference date",
        "T7": "invalid graft_months: outside 0..1500",
    }


def test_demographic_key_packs_and_unpacks_every_validated_value() -> None:
    """batch_model.demo_key_sql (SQL, per member) and decode_key (Python, per distinct key) are inverse on the
    validated domain (ages 0..125, both sexes, the three dual classes, OREC 0-3, each flag, graft months NULL,
    0 and 1500), and a value it cannot pack (age 200) is NULL, which decode_key refuses."""
    import itertools

    from hccguide.raf.batch_model import DEMO_KEY, decode_key, demo_key_sql
    from hccguide.raf.bounds import AGE_MAX, AGE_MIN, GRAFT_MONTHS_MAX

    rows = [
        (age, sex, dual, orec, lti, ne, esrd, snp, graft, li)
        for age, sex, dual, orec, graft in itertools.product(
            (AGE_MIN, 64, 65, AGE_MAX), ("F", "M"), ("non", "partial", "full"), "0123", (None, 0, GRAFT_MONTHS_MAX)
        )
        for lti, ne, esrd, snp, li in ((False,) * 5, (True,) * 5, (True, False, True, False, True))
    ]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE mem (age INTEGER, sex VARCHAR, dual VARCHAR, orec VARCHAR, lti BOOLEAN, new_enrollee BOOLEAN, "
        "esrd BOOLEAN, snp BOOLEAN, graft_months INTEGER, low_income BOOLEAN)"
    )
    con.executemany("INSERT INTO mem VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    got = con.execute(f"SELECT {', '.join(DEMO_KEY)}, {demo_key_sql()} FROM mem").fetchall()
    assert len(got) == len(rows) == 4 * 2 * 3 * 4 * 3 * 3
    assert all(decode_key(r[-1]) == tuple(r[:-1]) for r in got)
    assert len({r[-1] for r in got}) == len(rows)  # distinct keys stay distinct
    bad = con.execute(
        f"SELECT {demo_key_sql('m')} FROM (SELECT 200 AS age, 'F' AS sex, 'non' AS dual, '0' AS orec, false AS lti, "
        "false AS new_enrollee, false AS esrd, false AS snp, NULL AS graft_months, false AS low_income) m"
    ).fetchall()[0][0]
    assert bad is None
    with pytest.raises(ValueError, match="outside the validated domain"):
        decode_key(bad)
