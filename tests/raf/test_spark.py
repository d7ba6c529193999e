"""DuckDB == Spark: the same statements (transpiled with sqlglot) on a real local Spark session."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hccguide.raf.engine_duckdb import run_duckdb
from hccguide.raf.synthetic import generate, write_files

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_duckdb_equals_spark(kb, tmp_path: Path) -> None:
    from hccguide.raf.engine_spark import run_spark, spark_session

    con = duckdb.connect()
    generate(con, kb, 3_000, dirty=True, seed=21)
    m, d = write_files(con, tmp_path)
    a = run_duckdb(kb, m, d, out=tmp_path / "duck.parquet", rejects=tmp_path / "duck_rej.parquet")
    spark = spark_session("local[2]")
    b = run_spark(kb, m, d, out=tmp_path / "spark.parquet", rejects=tmp_path / "spark_rej.parquet", spark=spark)
    assert (a.members_in, a.members_scored, a.members_rejected, a.dx_in, a.dx_used, a.dx_rejected) == (
        b.members_in,
        b.members_scored,
        b.members_rejected,
        b.dx_in,
        b.dx_used,
        b.dx_rejected,
    )
    cols = (
        "member_id, model, payment_year, segment, risk_score, risk_score_normalized, risk_score_payment, hccs, "
        "kb_release, part_demographic, part_disease, part_interaction, part_count"
    )
    diff = duckdb.sql(f"""
        (SELECT {cols} FROM '{tmp_path / "duck.parquet"}' EXCEPT SELECT {cols} FROM '{tmp_path / "spark.parquet"}')
        UNION ALL
        (SELECT {cols} FROM '{tmp_path / "spark.parquet"}' EXCEPT SELECT {cols} FROM '{tmp_path / "duck.parquet"}')
    """).fetchall()
    assert diff == []
    rej = "source, row_number, member_id, field, value, reason"
    rdiff = duckdb.sql(f"""
        SELECT {rej} FROM '{tmp_path / "duck_rej.parquet"}' EXCEPT SELECT {rej} FROM '{tmp_path / "spark_rej.parquet"}'
    """).fetchall()
    assert rdiff == []


def test_spark_rejects_name_the_physical_csv_line(kb, tmp_path: Path) -> None:
    """CSV files with blank lines: Spark's rejects give the line an editor shows, as DuckDB's do (why: Spark used to
    number data rows from line 2 without counting the blank lines its reader skips, so a reject pointed at another
    line than DuckDB's)."""
    from hccguide.raf.engine_spark import run_spark, spark_session

    members = tmp_path / "m.csv"
    members.write_text(
        "member_id,age,sex\n"  # line 1
        "A1,70,F\n"  # 2
        "\n"  # 3 (blank)
        "A2,70,X\n"  # 4: invalid sex
        "\n\n"  # 5, 6
        "A3,130,M\n"  # 7: age out of bounds
        "A4,71,M\n",  # 8
        encoding="utf-8",
    )
    dx = tmp_path / "d.csv"
    dx.write_text(
        "member_id,dx_code,date_of_service\n\nA1,E11.22,2025-03-01\n\nA1,ZZZ99,2025-03-01\nA4,E11.9,2025-13-01\n",
        encoding="utf-8",
    )
    run_duckdb(kb, members, dx, out=tmp_path / "duck.csv", rejects=tmp_path / "duck_rej.csv")
    spark = spark_session("local[2]")
    run_spark(kb, members, dx, out=tmp_path / "spark.csv", rejects=tmp_path / "spark_rej.csv", spark=spark)
    q = "SELECT source, row_number, field, reason FROM read_csv('{}', all_varchar = true) ORDER BY 1, 2"
    duck = duckdb.sql(q.format(tmp_path / "duck_rej.csv")).fetchall()
    assert duck == duckdb.sql(q.format(tmp_path / "spark_rej.csv")).fetchall()
    assert [(r[0], r[1]) for r in duck] == [("diagnoses", "5"), ("diagnoses", "6"), ("members", "4"), ("members", "7")]
