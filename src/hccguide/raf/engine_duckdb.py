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
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from hccguide.errors import BadInput
from hccguide.kb.open import KB
from hccguide.kb.reference import model_year
from hccguide.raf.batch_io import (
    Source,
    check_output,
    file_kind,
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
    cc_bits,
    demographic_rows,
    model_statements,
    needs_demographics,
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
    kb_statements,
    load_kb,
    needs_reference,
    prepare_statements,
    prepare_tables,
    source_statements,
)

Progress = Callable[[str, float], None]  # (step name, fraction done)
T = TypeVar("T")

# Statements cheap enough to stay views (DuckDB inlines them into the next materialized statement), or read once:
# member_status by dx_checked; each run's scores_<tag> by the union `scores`, materialized once (run_duckdb).
VIEWS = ("mem_parsed", "mem", "member_status", "dx_parsed", "dx", "inter_", "scores_", "rejects")


# The settings of the in-memory database run_duckdb makes when no connection is given (a caller's own database is
# left as it is): DuckDB's block allocator keeps up to 1 GB of the buffer blocks it frees for reuse instead of
# returning them to the system and faulting them in again. The memory is this database's and is released when it
# closes (measured: RSS 1.6 GB -> 74 MB on close; a new database has 0). 1M benchmark, 8 alternating CLI runs each
# way: wall median 5.30 -> 4.97 s, system CPU 0.94 -> 0.77 s, peak RSS unchanged (docs/raf.md).
OWN_DATABASE = {"block_allocator_memory": "1GB"}


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
    con = con or duckdb.connect(config=OWN_DATABASE)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    column_map = column_map or {}
    step("reading inputs", 0.05)
    sources = [
        read_source(con, members, MEMBER_COLUMNS, REQUIRED_MEMBER, column_map, "members", "src_members"),
        read_source(con, diagnoses, DX_COLUMNS, REQUIRED_DX, column_map, "diagnoses", "src_dx"),
    ]
    # the inputs are numbered (read_source); from here on no statement needs the input order (the rejects are
    # written ORDER BY), so DuckDB may materialize and write in parallel without keeping it
    keep_order, disabled = con.execute(
        "SELECT current_setting('preserve_insertion_order'), current_setting('disabled_optimizers')"
    ).fetchall()[0]
    con.execute("SET preserve_insertion_order = false")
    # DuckDB's compressed materialization packs the keys and payloads of hash tables and aggregates and unpacks
    # them after: for these integer bit masks and short codes it costs more than it saves (1M benchmark, 6 runs
    # each way in one process: CPU 7.64 -> 7.33 s, wall 4.50 -> 4.32 s, identical output; docs/raf.md)
    off = dict.fromkeys(filter(None, [*disabled.split(","), "compressed_materialization"]))
    con.execute("SET disabled_optimizers = ?", [",".join(off)])
    types = {**sources[0].types, **sources[1].types}  # column names of the two files differ (member_id aside)

    def statements(plan: BatchPlan) -> list[tuple[str, str]]:
        return validation_statements(kb, plan, as_of, check_dates, filter_encounters, types)

    try:
        plan = overlapped(
            con, kb, lambda: plan_batch(kb, model, payment_year), statements, sources, filter_encounters, step
        )
        step("writing", 0.9)
        # the union of the model runs (each a view over its sets) is computed once: while a Parquet file is written
        # (the summary then reads the five columns it needs back from the file), else into a table
        final = final_statement(plan, kb.release_id)
        if out_path is not None and file_kind(out_path, "out", output=True) == "parquet":
            write_relation(con.sql(final), out_path)
            con.read_parquet(str(out_path)).create_view("scores", replace=True)
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE scores AS {final}")
            if out_path is not None:
                write_relation(con.table("scores"), out_path)
        req_tag = next(tag for tag, m, _ in plan.runs if m == plan.requested)
        res = summarize(con, t0, undated_sex_statement(kb, payment_year), payment_year, new_code_statement(req_tag))
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
        con.execute("SET disabled_optimizers = ?", [disabled])
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


def validation_statements(
    kb: KB,
    plan: BatchPlan,
    as_of: date | None,
    check_dates: bool,
    filter_encounters: bool,
    types: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """batch_validate.prepare_statements for this plan (both engines): its ESRD rule, its model runs' mappings and
    whether an MCE sex edit overlaps the model year (batch_summary.undated_sex_statement)."""
    year = plan.payment_year
    return prepare_statements(
        year,
        as_of,
        model_year(year),
        check_dates,
        filter_encounters,
        plan.esrd_unavailable,
        types,
        tuple(tag for tag, _, _ in plan.runs),
        undated_sex_statement(kb, year) is not None,
    )


def plan_tables(plan: BatchPlan) -> dict[str, Rows]:
    """The reference rows of every model run of the plan (batch_model.reference_rows), named <table>_<tag>: loaded
    before the validation statements, which read each run's dx→CC codes (both engines)."""
    return {
        f"{name}_{tag}": table
        for tag, m, _ in plan.runs
        for name, table in reference_rows(plan.tables[m]).tables.items()
    }


def _model_sql(plan: BatchPlan, tag: str, m: str, where: str) -> list[tuple[str, str]]:
    """batch_model.model_statements of one run, with DuckDB's HCC list expressions."""
    prefix = "RXHCC" if m.startswith("RxHCC") else "HCC"
    t = plan.tables[m]
    stmts = model_statements(tag, m, plan.payment_year, t.constants, prefix, where, cc_bits(t))
    return [(n, s.replace("{HCC_LIST}", HCC_LIST_DUCKDB).replace("{HCC_EMPTY}", HCC_EMPTY_DUCKDB)) for n, s in stmts]


def overlapped(
    con: duckdb.DuckDBPyConnection,
    kb: KB,
    make_plan: Callable[[], BatchPlan],
    make_statements: Callable[[BatchPlan], list[tuple[str, str]]],
    sources: list[Source],
    filter_encounters: bool,
    step: Progress,
) -> BatchPlan:
    """Run the validation statements and every model run of the plan, DuckDB's work overlapping the Python work;
    returns the plan (make_plan: batch_plan.plan_batch; make_statements: batch_validate.prepare_statements).

    One worker thread alone uses the connection, in this order: the statements that read the input files only
    (source_statements, while this thread makes the plan), the member statements, the reference rows (Python's,
    then those read from the KB file: batch_validate.load_kb), each run's distinct demographic keys, the
    diagnosis statements and each run's CC steps, then each run's demographic rows and segment, interaction and
    score statements. Meanwhile this thread builds the reference rows (prepare_tables, plan_tables) and scores
    each run's demographic keys (batch_model.demographic_rows: Python, segments.select_segment): DuckDB releases
    the GIL while a statement runs, so the Python work runs beside the SQL instead of before it. Statements, rows
    and results are those of the serial order; an error in the worker is raised here (after the worker stops)."""
    worker = _Worker()
    try:
        worker.submit(run_statements, con, source_statements(), step, 0.05, 0.1)
        plan = make_plan()
        stmts = make_statements(plan)
        first_ref = needs_reference(stmts)
        runs = [(tag, m, where, _model_sql(plan, tag, m, where)) for tag, m, where in plan.runs]
        split = [needs_demographics(sql, tag) for tag, _, _, sql in runs]
        worker.submit(run_statements, con, stmts[:first_ref], step, 0.1, 0.2)
        import numpy  # noqa: F401  (Rows.load's, imported here while the worker runs the member statements)

        tables = {**prepare_tables(kb, unreadable_rows(sources)), **plan_tables(plan)}
        # loaded before this thread scores the demographic keys: Rows.load reads Python objects, which needs the
        # GIL (beside demographic_rows it took ten times as long); then the tables read from the KB file itself
        worker.submit(_tables, con, tables)
        worker.submit(load_kb, con, kb, filter_encounters)
        keys = [worker.submit(_distinct_keys, con, where) for _, _, where, _ in runs]
        worker.submit(run_statements, con, stmts[first_ref:], step, 0.2, 0.4)
        for (_, _, _, sql), k in zip(runs, split, strict=True):
            worker.submit(run_statements, con, sql[:k], step, 0.4, 0.4)
        for i, ((tag, m, _, sql), k, job) in enumerate(zip(runs, split, keys, strict=True)):
            found = job.result()
            if worker.error is not None:
                break
            demo = demographic_rows(found, m, plan.tables[m])
            lo = 0.4 + 0.5 * i / len(runs)
            worker.submit(_table, con, f"demo_seg_{tag}", demo)
            worker.submit(run_statements, con, sql[k:], step, lo, lo + 0.5 / len(runs))
    except BaseException:
        worker.cancelled = True  # an error here (or Ctrl-C): the jobs left are skipped
        raise
    finally:
        worker.stop()  # waits for the jobs; raises the worker's first error
    return plan


def _distinct_keys(con: duckdb.DuckDBPyConnection, where: str) -> list[int]:
    return [r[0] for r in con.execute(f"SELECT DISTINCT dkey FROM mem WHERE {where}").fetchall()]


def _tables(con: duckdb.DuckDBPyConnection, tables: dict[str, Rows]) -> None:
    for name, table in tables.items():
        _table(con, name, table)


class _Worker:
    """One thread that alone uses a DuckDB connection: jobs run in submission order; after a failure the jobs left
    are skipped, and stop() raises that first error (as are the jobs left once `cancelled` is set)."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hccguide-duckdb")
        self.error: BaseException | None = None
        self.cancelled = False

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T | None]:
        def job() -> T | None:
            if self.error is not None or self.cancelled:
                return None
            try:
                return fn(*args)
            except BaseException as exc:
                self.error = exc
                raise

        return self.pool.submit(job)

    def stop(self) -> None:
        self.pool.shutdown(wait=True)
        if self.error is not None:
            raise self.error
