"""Small tables of Python values handed to a batch engine: the reference rows (codes, mappings, coefficients, ...),
the demographic keys and the reject line maps.

DuckDB gets them as list parameters unnested into a temp table (no pyarrow, hence no numpy, imported on the
DuckDB path: about 0.3 s of CPU at start-up, measured with `python -X importtime`); Spark gets an Arrow table
(`to_arrow`, pyarrow imported then). A table name is an internal constant, never user text; values are
parameters, never SQL text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# column SQL type -> Arrow type name (pyarrow function), for Spark
_ARROW = {
    "VARCHAR": "string",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "BOOLEAN": "bool_",
    "DATE": "date32",
}


@dataclass(frozen=True)
class Rows:
    """Columns in order: name -> (SQL type: one of VARCHAR, INTEGER, BIGINT, DOUBLE, BOOLEAN, DATE; values).
    Every column has the same number of values; None is NULL."""

    columns: dict[str, tuple[str, list[Any]]]

    @classmethod
    def of(cls, types: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> Rows:
        """From row tuples: `types` = [(name, SQL type), ...] in the order of each row's values."""
        cols: list[list[Any]] = [[] for _ in types]
        for row in rows:
            for col, value in zip(cols, row, strict=True):
                col.append(value)
        return cls({name: (sql_type, col) for (name, sql_type), col in zip(types, cols, strict=True)})

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))[1]) if self.columns else 0

    def values(self, name: str) -> list[Any]:
        """The values of one column."""
        return self.columns[name][1]

    def load(self, con: Any, name: str) -> None:
        """Create (or replace) DuckDB temp table `name` with these rows: one statement, the values as parameters."""
        cols = ", ".join(f"unnest(CAST(${i} AS {t}[])) AS {c}" for i, (c, (t, _)) in enumerate(self.columns.items(), 1))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cols}", [v for _, v in self.columns.values()])

    def to_arrow(self) -> Any:
        """The rows as a pyarrow Table (for Spark's createDataFrame)."""
        import pyarrow as pa

        return pa.table(
            {c: pa.array(v, getattr(pa, _ARROW[t])()) for c, (t, v) in self.columns.items()},
        )
