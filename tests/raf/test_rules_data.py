"""Rules kept as data (raf/*.csv) give the same answer on both paths: the Python of one member (segments.py,
steps.py) and the SQL of the batch (batch_sql.py, batch_model.py), value by value."""

from __future__ import annotations

import duckdb
import pytest

from hccguide.kb.reference import rule_rows, segment_labels
from hccguide.raf.batch_sql import code_join, dual_key_sql, dual_sql, lit, sex_key_sql, sex_sql
from hccguide.raf.rules import hierarchy_patches, member_codes
from hccguide.raf.segments import dual_class, normalize_sex

ODD = ["", " ", "2", " 02 ", "002", "11", "²", "full", "FULL", "Partial", "none", "na", "x", "1", "F", "male", "01"]


def _sql(expr_of, value: str | None):
    return duckdb.sql(f"SELECT {expr_of('v')} FROM (SELECT CAST({lit(value)} AS VARCHAR) AS v)").fetchall()[0][0]


@pytest.mark.parametrize("value", [None, *ODD, *member_codes("dual_status")])
def test_dual_status_same_in_python_and_sql(value) -> None:
    """Why: the batch used to carry its own CASE (lpad made '002' 'full'-able and 'none' a truncated 'no')."""
    assert dual_class(value) == _sql(dual_sql, value)


@pytest.mark.parametrize("value", [None, *ODD, *member_codes("sex")])
def test_sex_same_in_python_and_sql(value) -> None:
    assert normalize_sex(value) == _sql(sex_sql, value)


def _joined(field: str, key_sql: str, value: str | None):
    return duckdb.sql(
        f"SELECT j.j_cls FROM (SELECT CAST({lit(value)} AS VARCHAR) AS v) s {code_join(field, key_sql, 'j')}"
    ).fetchall()[0][0]


@pytest.mark.parametrize("value", [None, *ODD, *member_codes("dual_status")])
def test_dual_status_join_same_as_python(value) -> None:
    """Why: the batch reads dual status through code_join (a hash look-up, not a CASE); blank is 'non' before it."""
    blank = value is None or value.strip() == ""
    assert dual_class(value) == ("non" if blank else _joined("dual_status", dual_key_sql("s.v"), value))


@pytest.mark.parametrize("value", [None, *ODD, *member_codes("sex")])
def test_sex_join_same_as_python(value) -> None:
    assert normalize_sex(value) == _joined("sex", sex_key_sql("s.v"), value)


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("O'Brien", "'O''Brien'"), ("a''b", "'a''''b'"), ("CMS-HCC V28", "'CMS-HCC V28'"), (None, "NULL"), (3, "3")],
)
def test_literals_are_quoted(value, quoted: str) -> None:
    """Why: the few values that become SQL text (model keys, release ids, rule data) are quoted, never pasted."""
    assert lit(value) == quoted
    if value is not None:
        assert duckdb.sql(f"SELECT {lit(value)}").fetchall()[0][0] == value


def test_every_rule_row_cites_its_source() -> None:
    """Why: a rule without its CMS document cannot be checked (docs/raf.md, rule data files)."""
    for name in ("member_codes.csv", "hierarchy_patches.csv", "bill_types.csv", "segments.csv"):
        rows = rule_rows(name)
        assert rows and all(r["source"].strip() for r in rows), name
    assert hierarchy_patches()["CMS-HCC V28"][0].needs_any == frozenset({"221", "222", "224", "225", "226"})
    assert segment_labels()["CNA"] == "Community, non-dual, aged"
