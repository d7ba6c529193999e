"""A KB built by another hccguide version (older schema) is refused with a clear error, never read half-way.

Why: a user who upgrades hccguide keeps the KB of the old version in the cache; reading it with the new code ended
in a DuckDB binder traceback (a column the new code expects is missing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from hccguide.errors import KnowledgeBaseMissing
from hccguide.kb import releases
from hccguide.kb.open import open_kb


def test_a_kb_of_an_older_schema_is_refused_naming_the_fix(kb_path: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    shutil.copy(kb_path, old)
    with duckdb.connect(str(old)) as con:
        con.execute("UPDATE release SET schema_version = ?", [releases.SCHEMA_VERSION - 1])
    with pytest.raises(KnowledgeBaseMissing) as err:
        open_kb(old)
    assert err.value.field == "kb" and err.value.value == str(old)
    assert "hccguide kb build" in (err.value.fix or "")
    assert open_kb(kb_path).release_id  # the current one still opens
