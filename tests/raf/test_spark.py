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
    cols = "member_id, model, payment_year, segment, risk_score, risk_score_normalized, risk_score_payment, hccs, kb_release"
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
