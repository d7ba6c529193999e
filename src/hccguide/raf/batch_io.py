"""Batch files in and out: check the output paths before any work, read members/diagnoses files without pasting a
path or a column name into SQL, turn a damaged file into one readable error (or rejected lines), write through a
temporary file renamed into place.

Nothing here prints or returns a member value: errors name the file, the line (CSV, 1 = header) or row group
(Parquet) and what is wrong (issue 12, items 3, 4, 12, 13).

Input formats: ``.parquet`` / ``.pq`` (row numbers are 1-based rows of the file), ``.csv`` / ``.txt`` / ``.gz``
(CSV with a header line; delimiter sniffed by DuckDB: ``,`` ``;`` tab and ``|`` all read; row numbers are the
physical line numbers an editor shows, header = line 1, blank lines counted). A CSV line DuckDB cannot read (not
UTF-8, too few or too many columns, a broken quote) becomes a reject ``unreadable line: ...`` with its line number;
the rest of the file is scored.
"""

from __future__ import annotations

import bisect
import mmap
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from hccguide.errors import BadInput
from hccguide.raf.batch_rows import Rows

PARQUET = (".parquet", ".pq")
CSV_IN = (".csv", ".txt", ".gz")
CSV_OUT = (".csv",)

# DuckDB CSV reject error types (duckdb 1.x/2.x rejects table), in words.
CSV_ERROR_WORDS = {
    "INVALID ENCODING": "not UTF-8 text",
    "MISSING COLUMNS": "fewer columns than the header",
    "TOO MANY COLUMNS": "more columns than the header",
    "UNQUOTED VALUE": "a quote inside an unquoted value",
    "LINE SIZE OVER MAXIMUM": "line too long",
    "INVALID STATE": "broken quoting",
    "CAST": "a value of the wrong type",
}


def file_kind(path: Path, what: str, *, output: bool = False) -> str:
    """'parquet' | 'csv' by suffix; BadInput naming `what` for any other (e.g. .xlsx: an error, never a silent CSV)."""
    suffix = path.suffix.lower()
    if suffix in PARQUET:
        return "parquet"
    if suffix in (CSV_OUT if output else CSV_IN):
        return "csv"
    allowed = ".parquet or .csv" if output else ".parquet, .csv, .txt or .gz"
    raise BadInput(
        f"{what} file {path.name!r}: unsupported file type {suffix or '(none)'!r}",
        field=what,
        value=str(path),
        fix=f"use {allowed}",
    )


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(path: Path, what: str, inputs: Iterable[Path] = ()) -> Path:
    """Check that `path` can be written, before any scoring starts: a supported suffix, not an existing directory,
    not one of the input files, its folder exists or can be created, and a file can be created in it (a temporary
    probe, removed at once). Returns the absolute path. BadInput naming `what` (out | rejects) otherwise."""
    path = Path(path)
    absolute = Path(os.path.abspath(path))

    def bad(message: str, fix: str) -> BadInput:
        return BadInput(f"{what} {str(path)!r}: {message}", field=what, value=str(path), fix=fix)

    if absolute.is_dir():
        raise bad("is a directory", "give a file name, e.g. scores.parquet")
    file_kind(path, what, output=True)
    for src in inputs:
        if absolute == Path(os.path.abspath(src)) or _same(absolute, Path(src)):
            raise bad("is an input file (it would be overwritten)", "write the scores to another file")
    parent = absolute.parent
    for p in (parent, *parent.parents):
        if p.exists() and not p.is_dir():
            raise bad(f"{p} is a file, not a folder", "choose a path in a folder")
        if p.exists():
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".hccguide_probe_", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise bad(
            f"cannot write in {parent} ({exc.strerror or type(exc).__name__})", "choose a writable folder"
        ) from None
    return absolute


def write_relation(rel: duckdb.DuckDBPyRelation, path: Path, *, list_columns: tuple[str, ...] = ()) -> None:
    """Write a relation to `path` (parquet or csv by suffix) through a temporary file in the same folder, renamed
    into place when complete: a failed run leaves no half-written file. The path reaches DuckDB as a value of the
    relation API (never SQL text). List columns are written to CSV as '[a, b]' text."""
    kind = file_kind(path, "out", output=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        if kind == "parquet":
            rel.write_parquet(tmp)
        else:
            if list_columns:
                exprs = [
                    duckdb.SQLExpression(f"CAST({c} AS VARCHAR)").alias(c)
                    if c in list_columns
                    else duckdb.ColumnExpression(c)
                    for c in rel.columns
                ]
                rel = rel.select(*exprs)
            rel.write_csv(tmp, header=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Source:
    """One input file read into the engine: its kind, the lines DuckDB could not read and the lines skipped (blank
    or unreadable), which shift physical line numbers against data-row ordinals."""

    path: Path
    what: str  # 'members' | 'diagnoses'
    kind: str
    unreadable: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, reason)
    skipped: list[int] = field(default_factory=list)  # sorted physical lines that hold no data row
    types: dict[str, str] = field(default_factory=dict)  # standard column -> DuckDB type ('VARCHAR' for CSV)

    def line_of(self, rn: int) -> int:
        """Physical line of the data row numbered rn (= data ordinal + 1, the line it would be on with no skipped
        lines): the smallest L with L = rn + count(skipped < L)."""
        if not self.skipped:
            return rn
        line = rn
        while True:
            nxt = rn + bisect.bisect_left(self.skipped, line)
            while nxt in self._skipped_set:
                nxt += 1
            if nxt == line:
                return line
            line = nxt

    @property
    def _skipped_set(self) -> set[int]:
        if not hasattr(self, "_set"):
            self._set = set(self.skipped)
        return self._set


def blank_lines(path: Path) -> list[int]:
    """Physical line numbers (1-based) of empty lines of a text file (DuckDB's CSV reader skips them)."""
    if path.suffix.lower() == ".gz" or path.stat().st_size == 0:
        return []
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        if m.find(b"\n\n") < 0 and m.find(b"\n\r\n") < 0:
            return []
        out = []
        line = 1
        pos = 0
        for hit in re.finditer(rb"\n(?=\r?\n)", m):
            line += m[pos : hit.start()].count(b"\n")
            pos = hit.start()
            out.append(line + 1)
        return out


def _parquet_problem(path: Path) -> str | None:
    """What makes a Parquet file unreadable, naming the row group, or None if every row group reads."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        size = path.stat().st_size
        if size == 0:
            return "the file is empty (0 bytes)"
        return f"not a Parquet file or truncated ({type(exc).__name__}: no valid footer)"
    for i in range(pf.num_row_groups):
        try:
            pf.read_row_group(i)
        except Exception as exc:
            return f"row group {i + 1} of {pf.num_row_groups} is damaged ({type(exc).__name__})"
    return None


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    column_map: dict[str, str],
    what: str,
    view: str,
) -> Source:
    """Read a members/diagnoses file into temp table/view `view` with columns rn, *columns (VARCHAR or the Parquet
    type). Paths and column names go through the relation API (DuckDB values), never into SQL text.

    Raises BadInput naming the file and what is wrong: not found, unsupported type, empty, unreadable Parquet (row
    group), a missing required column. A CSV's unreadable lines are returned (Source.unreadable) to be rejected."""
    path = Path(path)
    kind = file_kind(path, what)
    if not path.is_file():
        raise BadInput(f"{what} file {path.name!r} not found", field=what, value=str(path), fix="check the path")
    src = Source(path, what, kind)
    if kind == "parquet":
        # footer and schema only: a page damaged past the footer is found when read (read_failure names its row group)
        try:
            rel = con.read_parquet(str(path), file_row_number=True)
        except duckdb.Error:
            problem = _parquet_problem(path) or "not a Parquet file or truncated (no valid footer)"
            raise BadInput(
                f"{what} file {path.name!r}: {problem}", field=what, value=str(path), fix="re-export it"
            ) from None
        rn = duckdb.SQLExpression("file_row_number + 1")
    else:
        if path.stat().st_size == 0:
            raise BadInput(
                f"{what} file {path.name!r} is empty (no header line)",
                field=what,
                value=str(path),
                fix=f"line 1 must name the columns, e.g. {','.join(required)}",
            )
        name = f"rej_{view}"
        try:
            rel = con.read_csv(
                str(path),
                all_varchar=True,
                header=True,
                ignore_errors=True,
                store_rejects=True,
                rejects_table=f"{name}_errors",
                rejects_scan=f"{name}_scans",
            )
        except duckdb.Error as exc:
            raise _unreadable_csv(what, path, exc) from None
        rn = duckdb.SQLExpression("row_number() OVER () + 1")  # header = line 1
    have = [c for c in rel.columns if c != "file_row_number"]
    type_of = {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}
    inverse = {v: k for k, v in column_map.items()}  # standard name -> user column
    exprs = [rn.alias("rn")]
    for c in columns:
        col = inverse.get(c, c)
        if col in have:
            exprs.append(duckdb.ColumnExpression(col).alias(c))
            src.types[c] = type_of[col]
        elif c in required:
            raise BadInput(
                f"{what} file {path.name!r} has no column {col!r} (line 1 names {len(have)} column(s))",
                field=what,
                value=[h[:40] for h in have[:20]],
                fix=f"add the column or map it with --column-map {c}=YOURS",
            )
        else:
            exprs.append(duckdb.ConstantExpression(None).cast(duckdb.sqltype("VARCHAR")).alias(c))
    projected = rel.select(*exprs)
    if kind == "parquet":
        projected.create_view(view, replace=True)
        return src
    try:
        con.execute(f"DROP TABLE IF EXISTS {view}")
        projected.create(view)  # materialized once: the CSV is parsed (and its bad lines collected) once
    except duckdb.Error as exc:
        raise _unreadable_csv(what, path, exc) from None
    rows = con.execute(
        f"SELECT line, column_name, CAST(error_type AS VARCHAR) FROM {name}_errors ORDER BY line"
    ).fetchall()
    src.unreadable = [(int(r[0]), r[1], CSV_ERROR_WORDS.get(r[2], r[2].lower())) for r in rows]
    src.skipped = sorted(set(blank_lines(path)) | {r[0] for r in src.unreadable})
    return src


def read_failure(sources: Iterable[Source], exc: Exception) -> BadInput | None:
    """The readable error for a DuckDB error raised while the statements read the inputs: a Parquet file damaged
    past its footer names its row group (checked only now, so that a sound file is read once), an I/O or format
    error names the files; None for any other error (a defect, to be raised as is). DuckDB's message is not shown:
    it can quote data."""
    for s in sources:
        if s.kind == "parquet":
            problem = _parquet_problem(s.path)
            if problem:
                return BadInput(
                    f"{s.what} file {s.path.name!r}: {problem}", field=s.what, value=str(s.path), fix="re-export it"
                )
    if isinstance(exc, duckdb.IOException | duckdb.InvalidInputException):
        return BadInput(
            f"an input file could not be read to the end ({type(exc).__name__})",
            field="members",
            value=[s.path.name for s in sources],
            fix="re-export the files (Parquet or UTF-8 CSV with a header line)",
        )
    return None


def _unreadable_csv(what: str, path: Path, exc: Exception) -> BadInput:
    """The error for a CSV file DuckDB cannot read at all (its message is not shown: it can quote a row)."""
    return BadInput(
        f"{what} file {path.name!r} cannot be read as CSV ({_kind_of(exc)})",
        field=what,
        value=str(path),
        fix="save it as UTF-8 CSV with a header line",
    )


def _kind_of(exc: Exception) -> str:
    """The kind of a DuckDB error, without its message (which can quote a row)."""
    text = str(exc)
    m = re.search(r"line (\d+)", text)
    return type(exc).__name__ + (f" at line {m.group(1)}" if m else "")


REJECT_TYPES = [
    ("source", "VARCHAR"),
    ("row_number", "BIGINT"),
    ("member_id", "VARCHAR"),
    ("field", "VARCHAR"),
    ("value", "VARCHAR"),
    ("reason", "VARCHAR"),
]


def unreadable_rows(sources: Iterable[Source]) -> Rows:
    """The unreadable CSV lines as reject rows (source, row_number, member_id, field, value, reason)."""
    return Rows.of(
        REJECT_TYPES,
        (
            (s.what, line, None, col, None, f"unreadable line: {reason}")
            for s in sources
            for line, col, reason in s.unreadable
        ),
    )


def line_map(sources: Iterable[Source], rejected: list[tuple[str, int]]) -> Rows:
    """(source, rn, line) for the rejected data rows of CSV files with skipped lines: where row numbers move."""
    by_what = {s.what: s for s in sources if s.skipped}
    return Rows.of(
        [("source", "VARCHAR"), ("rn", "BIGINT"), ("line", "BIGINT")],
        ((w, rn, by_what[w].line_of(rn)) for w, rn in rejected if w in by_what),
    )
