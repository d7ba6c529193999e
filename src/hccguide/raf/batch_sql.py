"""Small SQL builders shared by the batch statements: literals (`lit`, `date_lit`: standard SQL quoting, the form
sqlglot's Literal.string writes, without importing sqlglot on the DuckDB path), CMS rounding, booleans, and the RAF
rules of raf/rules.py written as SQL from the same data files the one-member path reads (dual status and sex codes,
bill types, the V28 heart patch).

Only package data and KB values (model keys, factors, release ids, rule tables) become literals; user values
(file paths, column names, member fields) never enter SQL text: files are read through DuckDB's relation API
(batch_io) and member values are rows. The SQL is DuckDB dialect; engine_spark.py transpiles it with sqlglot.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from hccguide.raf.rules import member_codes


def lit(value: str | int | float | None) -> str:
    """A SQL literal of a string, number or NULL: a string in single quotes with each quote doubled ("O'Brien" ->
    'O''Brien', SQL-92 and DuckDB/Spark alike). Raises ValueError for a NUL character."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(int(value))
    text = str(value)
    if "\x00" in text:
        raise ValueError("NUL character in a SQL literal")
    return "'" + text.replace("'", "''") + "'"


def date_lit(day: date) -> str:
    """DATE 'YYYY-MM-DD' of a date object."""
    if not isinstance(day, date):
        raise TypeError("date_lit takes a datetime.date")
    return f"CAST({lit(day.isoformat())} AS DATE)"


def in_list(values: Iterable[str]) -> str:
    """('a', 'b', ...) of string literals."""
    return "(" + ", ".join(lit(v) for v in values) + ")"


def round_sql(expr: str) -> str:
    """steps.round_cms as SQL: floor(x * 1000 + 0.5 + 1e-9) / 1000."""
    return f"(floor(({expr}) * 1000 + 0.5 + 1e-9) / 1000)"


def bool_sql(col: str) -> str:
    """A yes/no column read as the CLI and API read it: 1, true, t, y, yes (any case) are true, anything else false."""
    whens = " ".join(f"WHEN {lit(v)} THEN TRUE" for v in ("1", "TRUE", "T", "Y", "YES"))
    # a simple CASE, not IN (...): DuckDB plans a 5-value IN list as a join of its own
    return f"CASE upper(trim(CAST({col} AS VARCHAR))) {whens} ELSE FALSE END"


def code_case(key_sql: str, field: str) -> str:
    """CASE <key> WHEN 'value' THEN 'class' ... ELSE NULL END over member_codes.csv rows of `field`."""
    whens = " ".join(f"WHEN {lit(v)} THEN {lit(c)}" for v, c in member_codes(field).items())
    return f"CASE {key_sql} {whens} ELSE NULL END"


def dual_key_sql(col: str = "dual_status") -> str:
    """rules.dual_key as SQL: trimmed, upper case, a single digit padded to two (a one-character value between '0'
    and '9' is a digit: no regular expression per row)."""
    t = f"trim(CAST({col} AS VARCHAR))"
    return f"CASE WHEN length({t}) = 1 AND {t} BETWEEN '0' AND '9' THEN '0' || {t} ELSE upper({t}) END"


def dual_sql(col: str = "dual_status") -> str:
    """rules.dual_key + member_codes('dual_status') as SQL: blank or NULL -> 'non'; unknown -> NULL."""
    t = f"trim(CAST({col} AS VARCHAR))"
    return f"CASE WHEN {col} IS NULL OR {t} = '' THEN 'non' ELSE {code_case(dual_key_sql(col), 'dual_status')} END"


def sex_key_sql(col: str = "sex") -> str:
    """The lookup form of a sex code (segments.normalize_sex): trimmed, upper case."""
    return f"upper(trim(CAST({col} AS VARCHAR)))"


def sex_sql(col: str = "sex") -> str:
    """segments.normalize_sex as SQL (member_codes('sex')): 'F' | 'M' | NULL."""
    return code_case(sex_key_sql(col), "sex")


def code_join(field: str, key_sql: str, alias: str) -> str:
    """member_codes.csv rows of `field` as a join: LEFT JOIN (VALUES (value, class), ...) alias(alias_k, alias_cls)
    ON alias_k = <key>. The same rows as code_case, for a whole file: one hash look-up per row instead of a CASE of
    a dozen string comparisons (dual status: 1 s of CPU per million members as a CASE)."""
    rows = ", ".join(f"({lit(v)}, {lit(c)})" for v, c in member_codes(field).items())
    return f"LEFT JOIN (VALUES {rows}) {alias}({alias}_k, {alias}_cls) ON {alias}.{alias}_k = {key_sql}"
