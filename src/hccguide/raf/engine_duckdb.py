"""Batch scoring on DuckDB (embedded default): a thin runner over the statements the batch modules write once.

    batch_io        check outputs first, read inputs (relation API: no path or column name in SQL), write via rename
    batch_validate  members and diagnoses -> clean tables and rejects with reasons
    batch_model     the RAF steps of one model as SQL, and its reference rows
    batch_plan      which models score which members; the payment blend
    batch_summary   counts, percentiles, reasons, warnings

engine_spark.py runs the same statements transpiled to Spark SQL. Inputs (docs/raf.md): members(member_id, age |
date_of_birth, sex, dual_status, orec, crec, lti, new_enrollee, esrd, snp, graft_months, low_income),
diagnoses(member_id, dx_code, date_of_service[, cpt_hcpcs, bill_type]). Rows in = rows out + rows rejected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from hccguide.errors import BadInput
from hccguide.kb.open import KB
from hccguide.kb.reference import model_year
from hccguide.raf.batch_io import (
    Source,
    check_output,
    line_map,
    read_failure,
    read_source,
    unreadable_rows,
    write_relation,
)
from hccguide.raf.batch_model import (  # noqa: F401  (re-exported: engine_spark, tests)
    DEMO_KEY,
    HCC_EMPTY_DUCKDB,
    HCC_LIST_DUCKDB,
    RefRows,
    _normalize_sql,
    demographic_rows,
    model_statements,
    reference_rows,
)
from hccguide.raf.batch_plan import BatchPlan, final_statement, plan_batch
from hccguide.raf.batch_rows import Rows
from hccguide.raf.batch_summary import (  # noqa: F401
    BatchResult,
    batch_result,
    new_code_statement,
    new_code_warning,
    summarize,
    undated_sex_statement,
    undated_sex_warning,
)
from hccguide.raf.batch_validate import (  # noqa: F401
    DX_COLUMNS,
    MEMBER_COLUMNS,
    REQUIRED_DX,
    REQUIRED_MEMBER,
    cpt_rows,
    prepare_statements,
    prepare_tables,
)

Progress = Callable[[str, float], None]  # (step name, fraction done)

# Statements cheap enough to stay views (DuckDB inlines them into the next materialized statement).
VIEWS = ("mem_parsed", "mem", "dx_parsed", "dx", "inter_", "rejects")


def is_view(name: str) -> bool:
    """True for the statements that are not materialized (names in VIEWS, or prefixed by one ending in '_')."""
    return any(name == v or (v.endswith("_") and name.startswith(v)) for v in VIEWS)


def check_outputs(out: Path | None, rejects: Path | None, inputs: list[Path]) -> tuple[Path | None, Path | None]:
    """batch_io.check_output for --out and --rejects before any work; they must differ."""
    o = check_output(out, "out", inputs) if out else None
    r = check_output(rejects, "rejects", inputs) if rejects else None
    if o is not None and r is not None and o == r:
        raise BadInput(
            "--out and --rejects name the same file",
            field="rejects",
            value=str(rejects),
            fix="give the rejects their own file",
        )
    return o, r


def run_duckdb(
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
    threads: int | None = None,
    progress: Progress | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> BatchResult:
    """Score a whole file of members with DuckDB; write scores and rejects (parquet or csv by suffix).

    Raises BadInput before any work for an output that cannot be written (batch_io.check_output) and, naming the
    file and line or row group, for an input that cannot be read (batch_io.read_source)."""
    t0 = time.perf_counter()
    step = progress or (lambda _msg, _frac: None)
    members, diagnoses = Path(members), Path(diagnoses)
    out_path, rej_path = check_outputs(out, rejects, [members, diagnoses])
    con = con or duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    column_map = column_map or {}
    plan = plan_batch(kb, model, payment_year)
    step("reading inputs", 0.05)
    sources = [
        read_source(con, members, MEMBER_COLUMNS, REQUIRED_MEMBER, column_map, "members", "src_members"),
        read_source(con, diagnoses, DX_COLUMNS, REQUIRED_DX, column_map, "diagnoses", "src_dx"),
    ]
    # the inputs are numbered (read_source); from here on no statement needs the input order (the rejects are
    # written ORDER BY), so DuckDB may materialize and write in parallel without keeping it
    keep_order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("SET preserve_insertion_order = false")
    try:
        for name, table in prepare_tables(kb, unreadable_rows(sources), filter_encounters).items():
            _table(con, name, table)
        for name, table in plan_tables(plan).items():
            _table(con, name, table)
        types = {**sources[0].types, **sources[1].types}  # column names of the two files differ (member_id aside)
        stmts = prepare_statements(
            payment_year,
            as_of,
            model_year(payment_year),
            check_dates,
            filter_encounters,
            plan.esrd_unavailable,
            types,
            tuple(tag for tag, _, _ in plan.runs),
        )
        run_statements(con, stmts, step, 0.1, 0.3)
        run_models(con, plan, step)
        step("writing", 0.9)
        # a union of the model runs is read as cheaply as a copy of it (summary, write): a view; a payment blend
        # joins models per member and is computed once
        kind = "TABLE" if len(plan.blend) > 1 else "VIEW"
        con.execute(f"CREATE OR REPLACE TEMP {kind} scores AS {final_statement(plan, kb.release_id)}")
        req_tag = next(tag for tag, m, _ in plan.runs if m == plan.requested)
        res = summarize(con, t0, undated_sex_statement(kb, payment_year), payment_year, new_code_statement(req_tag))
        if out_path:
            write_relation(con.table("scores"), out_path)
        if rej_path:
            write_relation(rejects_relation(con, sources), rej_path)
    except duckdb.Error as exc:
        # a Parquet page damaged past its footer is found only when read; DuckDB's message can quote data
        readable = read_failure(sources, exc)
        if readable is None:
            raise
        raise readable from None
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if keep_order else 'false'}")
    res.out, res.rejects = out_path, rej_path
    step("done", 1.0)
    return res


# The rejects with the physical CSV line of each data row (line_map: only the rejected rows of files with skipped
# lines), then the unreadable lines; both engines.
REJECTS_BY_LINE_SQL = (
    "SELECT r.source, coalesce(l.line, r.row_number) AS row_number, r.member_id, r.field, r.value, r.reason "
    "FROM rejects_data r LEFT JOIN line_map l ON r.source = l.source AND r.row_number = l.rn "
    "UNION ALL SELECT source, row_number, member_id, field, value, reason FROM ref_unreadable"
)


def rejects_relation(con: duckdb.DuckDBPyConnection, sources: list[Source]) -> duckdb.DuckDBPyRelation:
    """The rejects to write, ordered by source and row; a CSV row number is its physical line (batch_io.line_of)."""
    if any(s.skipped for s in sources):
        rejected = con.execute("SELECT source, row_number FROM rejects_data").fetchall()
        _table(con, "line_map", line_map(sources, [(s, int(n)) for s, n in rejected]))
        return con.sql(REJECTS_BY_LINE_SQL + " ORDER BY source, row_number")
    return con.sql("SELECT * FROM rejects ORDER BY source, row_number")


def _table(con: duckdb.DuckDBPyConnection, name: str, table: Rows) -> None:
    """Load rows into temp table `name` (name: an internal constant, never user text; values as parameters)."""
    table.load(con, name)


def run_statements(
    con: duckdb.DuckDBPyConnection, stmts: list[tuple[str, str]], step: Progress, lo: float, hi: float
) -> None:
    """Create each (name, SQL) as a temp view (is_view) or table, in order."""
    for i, (name, sql) in enumerate(stmts):
        step(name, lo + (hi - lo) * i / max(1, len(stmts)))
        kind = "VIEW" if is_view(name) else "TABLE"
        con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {sql}")


def plan_tables(plan: BatchPlan) -> dict[str, Rows]:
    """The reference rows of every model run of the plan (batch_model.reference_rows), named <table>_<tag>: loaded
    before the validation statements, which read each run's dx→CC codes (both engines)."""
    return {
        f"{name}_{tag}": table
        for tag, m, _ in plan.runs
        for name, table in reference_rows(plan.tables[m]).tables.items()
    }


def run_models(con: duckdb.DuckDBPyConnection, plan: BatchPlan, step: Progress) -> None:
    """Each model run of the plan: the distinct demographic keys of its members scored by segments.select_segment
    (batch_model.demographic_rows), then batch_model.model_statements (its reference rows: plan_tables)."""
    for i, (tag, m, where) in enumerate(plan.runs):
        t = plan.tables[m]
        keys = con.execute(f"SELECT DISTINCT {', '.join(DEMO_KEY)} FROM mem WHERE {where}").fetchall()
        _table(con, f"demo_seg_{tag}", demographic_rows(keys, m, t))
        prefix = "RXHCC" if m.startswith("RxHCC") else "HCC"
        stmts = model_statements(tag, m, plan.payment_year, t.constants, prefix, where)
        stmts = [
            (n, s.replace("{HCC_LIST}", HCC_LIST_DUCKDB).replace("{HCC_EMPTY}", HCC_EMPTY_DUCKDB)) for n, s in stmts
        ]
        lo = 0.3 + 0.6 * i / len(plan.runs)
        run_statements(con, stmts, step, lo, lo + 0.6 / len(plan.runs))
