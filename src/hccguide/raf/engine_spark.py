"""Batch scoring on Spark: the statements of engine_duckdb.py, transpiled DuckDB → Spark SQL with sqlglot.

Nothing is re-written for Spark: `prepare_statements`, `model_statements` and `final_statement` produce the SQL, the
demographic keys are scored by segments.select_segment, and the reference rows are the same Arrow tables. Only the
ordered HCC list uses a Spark expression (collect_list has no ORDER BY). `master` is any Spark master URL
(local[*] by default; a cluster URL for scale-out).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from hccguide.errors import BadInput
from hccguide.kb.open import KB
from hccguide.raf.batch_io import Source, blank_lines, file_kind, line_map
from hccguide.raf.batch_rows import Rows
from hccguide.raf.batch_summary import COUNTS_SQL, new_code_statement, new_code_warning
from hccguide.raf.engine_duckdb import (
    DX_COLUMNS,
    MEMBER_COLUMNS,
    REJECTS_BY_LINE_SQL,
    REQUIRED_DX,
    REQUIRED_MEMBER,
    BatchResult,
    Progress,
    batch_result,
    cc_bits,
    check_outputs,
    demographic_rows,
    final_statement,
    is_view,
    kb_statements,
    load_kb,
    model_statements,
    plan_batch,
    plan_tables,
    prepare_tables,
    source_statements,
    undated_sex_statement,
    undated_sex_warning,
    validation_statements,
)

HCC_LIST_SPARK = "transform(array_sort(collect_list(CAST(cc AS INT))), x -> CAST(x AS STRING))"
HCC_EMPTY_SPARK = "CAST(array() AS ARRAY<STRING>)"
# Spark pays a job for each materialized statement: these stay views there (read once, or tiny, or a cheap filter
# over a materialized table); the others are materialized as on DuckDB. A name ending in '_' is a prefix.
# terms_ is read twice (inter_, scores_) and stays a table; inter_ (a few thousand rows) and the bit-mask reference
# rows are tiny views
SPARK_VIEWS = (
    "rejects",
    "member_status",
    "dx_codes",
    "ref_mce_cid",
    "ref_dxc_",
    "ref_editc_",
    "ref_imask_",
    "ref_hcoef_",
    "inter_",
    "sets_",
)


def _spark_view(name: str) -> bool:
    return any(name == v or (v.endswith("_") and name.startswith(v)) for v in SPARK_VIEWS)


def to_spark(sql: str) -> str:
    """DuckDB SQL → Spark SQL (sqlglot), with the two engine-specific list expressions put back in."""
    marker_list, marker_empty = "HCCLISTMARKER()", "HCCEMPTYMARKER()"
    src = sql.replace("{HCC_LIST}", marker_list).replace("{HCC_EMPTY}", marker_empty)
    out = sqlglot.transpile(src, read="duckdb", write="spark")[0]
    return out.replace(marker_list, HCC_LIST_SPARK).replace(marker_empty, HCC_EMPTY_SPARK)


def spark_session(master: str = "local[*]", app_name: str = "hccguide-raf") -> Any:
    """A Spark session (pyspark; Java 17 on the machine)."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", "4g")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def _arrow_to_view(spark: Any, table: Rows, name: str) -> None:
    """Hand rows to Spark as an Arrow table (createDataFrame reads pyarrow tables directly since Spark 4), named."""
    spark.createDataFrame(table.to_arrow()).createOrReplaceTempView(name)


def kb_tables(kb: KB, filter_encounters: bool) -> dict[str, Rows]:
    """batch_validate.kb_statements' tables as rows for Spark: made by DuckDB from the KB file (load_kb, in a scratch
    database), exactly as the DuckDB engine makes them."""
    con = duckdb.connect()
    try:
        prepare_tables(kb)["ref_new_codes"].load(con, "ref_new_codes")
        load_kb(con, kb, filter_encounters)
        return {name: Rows.from_duckdb(con, name) for name, _ in kb_statements(filter_encounters)}
    finally:
        con.close()


def _source(
    spark: Any,
    path: Path,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    column_map: dict[str, str],
    name: str,
    what: str,
) -> Source:
    """Read a members/diagnoses file into view `name` (columns, rn); returns its Source with the blank lines of a
    CSV file (Spark's reader skips them, as DuckDB's does: their numbers give the rejects their physical lines)."""
    kind = file_kind(path, what)
    if not path.is_file():
        raise BadInput(f"{what} file {path.name!r} not found", field=what, value=str(path), fix="check the path")
    df = spark.read.parquet(str(path)) if kind == "parquet" else spark.read.option("header", "true").csv(str(path))
    inverse = {v: k for k, v in column_map.items()}
    from pyspark.sql import functions as F

    cols = []
    for c in columns:
        src = inverse.get(c, c)
        if src in df.columns:
            cols.append(F.col(f"`{src}`").alias(c))
        elif c in required:
            raise BadInput(
                f"{what} file has no column {src!r}",
                field=what,
                value=df.columns,
                fix=f"add the column or map it with --column-map {c}=YOURS",
            )
        else:
            cols.append(F.lit(None).cast("string").alias(c))
    if kind == "parquet":
        # Parquet row index (Spark file metadata): the 1-based input row number without a global sort
        df = df.select(*cols, (F.col("_metadata.row_index") + 1).alias("rn"))
    else:
        from pyspark.sql.window import Window

        # data row ordinal + 1 (the header is line 1); Source.line_of adds the blank lines Spark skipped
        rn = F.row_number().over(Window.orderBy(F.monotonically_increasing_id())) + 1
        df = df.select(*cols).withColumn("rn", rn)
    df.createOrReplaceTempView(name)
    return Source(path, what, kind, skipped=blank_lines(path) if kind == "csv" else [])


def run_spark(
    kb: KB,
    members: Path,
    diagnoses: Path,
    *,
    out: Path | None,
    rejects: Path | None,
    model: str = "V28",
    payment_year: int = 2026,
    as_of: date | None = None,
    column_map: dict[str, str] | None = None,
    check_dates: bool = True,
    filter_encounters: bool = False,
    master: str = "local[*]",
    spark: Any = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Score a file of members on Spark; same outputs and summary as engine_duckdb.run_duckdb."""
    t0 = time.perf_counter()
    step = progress or (lambda _m, _f: None)
    out, rejects = check_outputs(out, rejects, [Path(members), Path(diagnoses)])
    spark = spark or spark_session(master)
    plan = plan_batch(kb, model, payment_year)
    column_map = column_map or {}
    step("reading inputs", 0.05)
    sources = [
        _source(spark, Path(members), MEMBER_COLUMNS, REQUIRED_MEMBER, column_map, "src_members", "members"),
        _source(spark, Path(diagnoses), DX_COLUMNS, REQUIRED_DX, column_map, "src_dx", "diagnoses"),
    ]
    for name, table in {**prepare_tables(kb), **kb_tables(kb, filter_encounters), **plan_tables(plan)}.items():
        _arrow_to_view(spark, table, name)

    def run(stmts: list[tuple[str, str]], cache: bool = True) -> None:
        for name, sql in stmts:
            step(name, 0.5)
            df = spark.sql(to_spark(sql))
            if cache and not is_view(name) and not _spark_view(name):
                # materialize and cut the lineage: the plan of the next statement stays small
                df = df.localCheckpoint(eager=True)
            df.createOrReplaceTempView(name)

    run(source_statements())
    run(validation_statements(kb, plan, as_of, check_dates, filter_encounters))
    for tag, m, where in plan.runs:
        t = plan.tables[m]
        keys = [r[0] for r in spark.sql(f"SELECT DISTINCT dkey FROM mem WHERE {where}").collect()]
        _arrow_to_view(spark, demographic_rows(keys, m, t), f"demo_seg_{tag}")
        prefix = "RXHCC" if m.startswith("RxHCC") else "HCC"
        run(model_statements(tag, m, plan.payment_year, t.constants, prefix, where, cc_bits(t)))
    step("writing", 0.9)
    scores = spark.sql(to_spark(final_statement(plan, kb.release_id))).localCheckpoint(eager=True)
    scores.createOrReplaceTempView("scores")
    req_tag = next(tag for tag, m, _ in plan.runs if m == plan.requested)
    res = _summary(spark, t0, undated_sex_statement(kb, payment_year), payment_year, new_code_statement(req_tag))
    if out:
        _write(scores, Path(out))  # no order promised, as with DuckDB: a global sort costs a job of its own
    if rejects:
        _write(_rejects(spark, sources).orderBy("source", "row_number"), Path(rejects))
    res.out, res.rejects = out, rejects
    step("done", 1.0)
    return res


def _rejects(spark: Any, sources: list[Source]) -> Any:
    """The rejects with physical CSV line numbers, as engine_duckdb.rejects_relation writes them."""
    if not any(s.skipped for s in sources):
        return spark.sql("SELECT * FROM rejects")
    rejected = [(r[0], int(r[1])) for r in spark.sql("SELECT source, row_number FROM rejects_data").collect()]
    _arrow_to_view(spark, line_map(sources, rejected), "line_map")
    return spark.sql(to_spark(REJECTS_BY_LINE_SQL))


def _summary(spark: Any, t0: float, undated_sql: str | None, payment_year: int, new_sql: str) -> BatchResult:
    counts = spark.sql(to_spark(COUNTS_SQL)).collect()[0]
    m_in, scored, m_rej, d_in, d_used, d_rej = (int(x) for x in counts)
    row = spark.sql(
        "SELECT avg(risk_score), percentile_approx(risk_score, array(0.1, 0.25, 0.5, 0.75, 0.9, 0.99)), "
        "avg(risk_score_payment) FROM scores"
    ).collect()[0]
    reasons = {r[0]: r[1] for r in spark.sql("SELECT reason, count(*) FROM rejects GROUP BY reason").collect()}
    segs = {r[0]: r[1] for r in spark.sql("SELECT segment, count(*) FROM scores GROUP BY segment").collect()}
    undated = spark.sql(to_spark(undated_sql)).collect()[0][0] if undated_sql else 0
    new = int(spark.sql(to_spark(new_sql)).collect()[0][0])
    warnings = undated_sex_warning(undated, payment_year) + new_code_warning(new, payment_year)
    return batch_result((m_in, scored, m_rej, d_in, d_used, d_rej), row, reasons, segs, t0, warnings, new)


def _write(df: Any, path: Path) -> None:
    """Write one file (parquet or csv by suffix), as the DuckDB engine does: Spark writes a single part file with its
    own writer (no collect to the driver), which is then moved to `path`."""
    import shutil
    import tempfile

    from pyspark.sql import functions as F

    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="hccguide_spark_out_", dir=path.parent))
    target = folder / "out"
    if path.suffix.lower() in (".parquet", ".pq"):
        df.coalesce(1).write.mode("overwrite").parquet(str(target))
        part = next(target.glob("part-*.parquet"))
    else:
        if "hccs" in df.columns:
            df = df.withColumn("hccs", F.concat(F.lit("["), F.array_join("hccs", ", "), F.lit("]")))
        df.coalesce(1).write.mode("overwrite").option("header", "true").option("emptyValue", "").csv(str(target))
        part = next(target.glob("part-*.csv"))
    shutil.move(str(part), str(path))
    shutil.rmtree(folder, ignore_errors=True)
