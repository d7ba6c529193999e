"""Synthetic members and diagnoses for tests and benchmarks (deterministic, generated in DuckDB SQL).

Every segment is covered: aged and disabled, non/partial/full duals (CMS dual codes), originally disabled (OREC 1),
OREC 2/3, long-term institutional, new enrollees (and C-SNP new enrollees), ESRD (dialysis, transplant months 1-3,
functioning graft). Diagnoses: ~6.5 per member drawn from the codes that map to a V28 or V24 HCC and from valid codes
that map to none; `dirty=True` adds bad rows (unknown codes, invalid dates, duplicate members, missing sex).
No real person's data is used.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from hccguide.kb.open import KB


def _r(salt: str, col: str = "i") -> str:
    """A deterministic uniform number in [0, 1) for row `col`."""
    return f"((hash({col}, '{salt}') % 1000003) / 1000003.0)"


def generate(
    con: duckdb.DuckDBPyConnection,
    kb: KB,
    n_members: int,
    *,
    payment_year: int = 2026,
    seed: int = 0,
    dirty: bool = False,
    hcc_share: float = 0.35,
) -> None:
    """Create tables gen_members and gen_dx in `con`."""
    hcc_codes = [
        r[0]
        for r in kb.cursor()
        .execute(
            "SELECT DISTINCT code FROM dx_to_cc WHERE payment_year = ? AND model IN ('CMS-HCC V28', 'CMS-HCC V24') "
            "ORDER BY code",
            [payment_year],
        )
        .fetchall()
    ]
    other = [
        r[0]
        for r in kb.cursor()
        .execute(
            "SELECT code FROM codes WHERE billable AND code_set = (SELECT default_code_set FROM release) AND code NOT IN "
            "(SELECT code FROM dx_to_cc) ORDER BY hash(code) LIMIT 20000"
        )
        .fetchall()
    ]
    con.register("hcc_pool_a", pa.table({"code": hcc_codes}))
    con.register("other_pool_a", pa.table({"code": other}))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE hcc_pool AS SELECT row_number() OVER (ORDER BY code) - 1 AS k, code "
        "FROM hcc_pool_a"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE other_pool AS SELECT row_number() OVER (ORDER BY code) - 1 AS k, code "
        "FROM other_pool_a"
    )
    nh, no = len(hcc_codes), len(other)
    s = f"s{seed}"
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE gen_members AS
SELECT
  'M' || lpad(CAST(i AS VARCHAR), 9, '0') AS member_id,
  CAST(CASE WHEN {_r(s + "dis")} < 0.15 THEN 18 + floor({_r(s + "a1")} * 47)
            ELSE 65 + floor(pow({_r(s + "a2")}, 1.6) * 36) END AS INTEGER) AS age,
  CASE WHEN {_r(s + "sex")} < 0.55 THEN 'F' ELSE 'M' END AS sex,
  CASE WHEN {_r(s + "du")} < 0.70 THEN '00'
       WHEN {_r(s + "du")} < 0.73 THEN '01' WHEN {_r(s + "du")} < 0.76 THEN '03' WHEN {_r(s + "du")} < 0.78 THEN '06'
       WHEN {_r(s + "du")} < 0.86 THEN '02' WHEN {_r(s + "du")} < 0.90 THEN '04' ELSE '08' END AS dual_status,
  {_r(s + "orec")} AS u_orec,
  {_r(s + "lti")} < 0.05 AS lti,
  {_r(s + "ne")} < 0.06 AS new_enrollee,
  {_r(s + "esrd")} < 0.03 AS esrd,
  {_r(s + "snp")} < 0.25 AS snp,
  CASE WHEN {_r(s + "gm")} < 0.35 THEN CAST(1 + floor({_r(s + "gm2")} * 24) AS INTEGER) ELSE NULL END AS gm,
  {_r(s + "li")} < 0.3 AS low_income,
  i
FROM range({int(n_members)}) t(i)""")
    con.execute("""
CREATE OR REPLACE TEMP TABLE gen_members AS
SELECT member_id, age, sex, dual_status,
  CASE WHEN age < 65 THEN (CASE WHEN u_orec < 0.9 THEN '1' ELSE '3' END)
       WHEN esrd AND u_orec < 0.5 THEN '2'
       WHEN u_orec < 0.78 THEN '0' WHEN u_orec < 0.97 THEN '1' ELSE '3' END AS orec,
  '0' AS crec, lti, new_enrollee, esrd, snp AND new_enrollee AS snp,
  CASE WHEN esrd THEN gm ELSE NULL END AS graft_months, low_income, i
FROM gen_members""")
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE gen_dx AS
WITH n AS (SELECT i, member_id, CAST(floor({_r(s + "ndx")} * 14) AS INTEGER) AS k FROM gen_members),
e AS (SELECT i, member_id, j FROM n, range(k) r(j))
SELECT e.member_id,
  coalesce(h.code, o.code) AS dx_code,
  DATE '{payment_year - 1}-01-01' + CAST(floor({_r(s + "dos", "i * 31 + j")} * 365) AS INTEGER) AS date_of_service
FROM e
LEFT JOIN hcc_pool h ON {_r(s + "kind", "i * 31 + j")} < {hcc_share}
  AND h.k = CAST(floor({_r(s + "hk", "i * 31 + j")} * {nh}) AS INTEGER)
LEFT JOIN other_pool o ON {_r(s + "kind", "i * 31 + j")} >= {hcc_share}
  AND o.k = CAST(floor({_r(s + "ok", "i * 31 + j")} * {no}) AS INTEGER)""")
    if dirty:
        con.execute(f"""
CREATE OR REPLACE TEMP TABLE gen_dx AS
SELECT member_id,
  CASE WHEN row_number() OVER () % 97 = 0 THEN 'ZZZ99' WHEN row_number() OVER () % 89 = 0 THEN ' ' || lower(dx_code) || ' '
       ELSE dx_code END AS dx_code,
  CASE WHEN row_number() OVER () % 101 = 0 THEN 'not-a-date' WHEN row_number() OVER () % 103 = 0 THEN '{payment_year}-03-01'
       ELSE CAST(date_of_service AS VARCHAR) END AS date_of_service
FROM gen_dx
UNION ALL SELECT 'NOBODY', 'E119', '{payment_year - 1}-05-05'""")
        con.execute("""
CREATE OR REPLACE TEMP TABLE gen_members AS
SELECT member_id, age, CASE WHEN i % 211 = 5 THEN NULL ELSE sex END AS sex, dual_status, orec, crec, lti,
  new_enrollee, esrd, snp, graft_months, low_income, i FROM gen_members
UNION ALL SELECT member_id, age, sex, dual_status, orec, crec, lti, new_enrollee, esrd, snp, graft_months,
  low_income, i FROM gen_members WHERE i % 499 = 7""")


def write_files(con: duckdb.DuckDBPyConnection, folder: Path, suffix: str = ".parquet") -> tuple[Path, Path]:
    """Write gen_members / gen_dx to files (parquet or csv) and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    fmt = "PARQUET" if suffix == ".parquet" else "CSV, HEADER"
    m, d = folder / f"members{suffix}", folder / f"diagnoses{suffix}"
    con.execute(f"COPY (SELECT * EXCLUDE (i) FROM gen_members ORDER BY i) TO '{m}' (FORMAT {fmt})")
    con.execute(f"COPY (SELECT * FROM gen_dx) TO '{d}' (FORMAT {fmt})")
    return m, d
