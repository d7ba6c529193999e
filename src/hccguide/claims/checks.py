"""Code-level claim checks as one DuckDB query over the KB reference tables (claims/reference.py).

The same SQL checks one claim (`check_codes`, used by the API, CLI and page) and a million (`check_batch`): the
input is three relations, never SQL text built from user values:

- ``in_claims(ck BIGINT, age INTEGER, sex VARCHAR, dos DATE, claim_type VARCHAR, bill_type VARCHAR)``
- ``in_dx(ck BIGINT, pos INTEGER, raw VARCHAR)``  (pos 0 = principal / first-listed)
- ``in_lines(ck BIGINT, pos INTEGER, cpt VARCHAR)``

and the output is one row per finding ``(ck, pos, rule, severity, codes VARCHAR[], message)``. Rules (rules.csv and
docs/claims.md): invalid_code, not_valid_on_date, header_code, missing_7th_character (validity on the date of
service: the fiscal year's MCE list, the tabular of the code set), excludes1, manifestation_first,
code_first_missing, use_additional_missing (tabular notes, own and inherited), age_conflict, sex_conflict (MCE and
CMS model edits, sex by date), duplicate_code, ra_ineligible (CMS encounter filtering). The MCE edits of an inpatient
stay and the MS-DRG are added by `claims.drg` (they need the grouper, one claim at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb
import pyarrow as pa

from hccguide.claims import drg
from hccguide.claims.models import CheckResult, Claim, DrgResult, Finding
from hccguide.claims.reference import References, references
from hccguide.icd10 import code_set_of, fiscal_year_of
from hccguide.kb.open import KB

# Validity of each distinct (code, fiscal year) first, then everything else joins it: a claim file repeats codes, so
# the status logic runs once per distinct code, not once per diagnosis row.
FINDINGS_SQL = r"""
WITH c AS (
  SELECT ck, age, sex, dos, claim_type, bill_type,
    CASE WHEN month(dos) >= 10 THEN year(dos) + 1 ELSE year(dos) END AS fy
  FROM in_claims),
cc AS MATERIALIZED (
  SELECT c.*, coalesce(s.code_set, $default_cs) AS cs,
    substr(ltrim(trim(c.bill_type), '0'), 1, 2) AS bill2
  FROM c LEFT JOIN ref_cs s ON s.fy = c.fy),
d AS MATERIALIZED (
  SELECT x.ck, x.pos, x.raw, upper(replace(replace(trim(x.raw), '.', ''), ' ', '')) AS code,
    cc.age, cc.sex, cc.dos, cc.fy, cc.cs
  FROM in_dx x JOIN cc ON x.ck = cc.ck
  WHERE x.raw IS NOT NULL AND trim(x.raw) <> ''),
dc AS MATERIALIZED (SELECT DISTINCT code, fy, cs FROM d),
st AS MATERIALIZED (
  SELECT dc.code, dc.fy, dc.cs, CASE
      WHEN NOT regexp_full_match(dc.code, '[A-Z][0-9A-Z]{2}[0-9A-Z]{0,4}') THEN 'invalid_code'
      WHEN dc.fy < 2023 OR dc.fy > 2027 THEN 'unchecked'
      WHEN v.valid THEN NULL
      WHEN e.new_codes IS NOT NULL THEN 'header_code'
      WHEN r.code IS NOT NULL AND NOT r.billable AND r.needs7 THEN 'missing_7th_character'
      WHEN r.code IS NOT NULL AND NOT r.billable THEN 'header_code'
      WHEN y.code IS NOT NULL THEN 'not_valid_on_date'
      ELSE 'invalid_code' END AS status,
    e.new_codes, y.valid_years, r.title
  FROM dc
  LEFT JOIN ref_valid v ON v.code = dc.code AND v.fy = dc.fy
  LEFT JOIN ref_expand e ON e.code = dc.code AND e.fy = dc.fy
  LEFT JOIN ref_code r ON r.code_set = dc.cs AND r.code = dc.code
  LEFT JOIN ref_years y ON y.code = dc.code),
dk AS MATERIALIZED (SELECT d.* FROM d JOIN st USING (code, fy, cs) WHERE st.status IS NULL),
f_valid AS (
  SELECT d.ck, d.pos, st.status AS rule, NULL AS severity,
    [CASE WHEN st.status = 'invalid_code' AND NOT regexp_full_match(d.code, '[A-Z][0-9A-Z]{2}[0-9A-Z]{0,4}')
          THEN d.raw ELSE dotc(d.code) END] AS codes,
    CASE st.status
      WHEN 'invalid_code' THEN CASE WHEN regexp_full_match(d.code, '[A-Z][0-9A-Z]{2}[0-9A-Z]{0,4}')
        THEN dotc(d.code) || ' is not a valid ICD-10-CM code in any fiscal year from FY2023 to FY2027 (CMS MCE list)'
        ELSE '''' || d.raw || ''' does not have the shape of an ICD-10-CM code' END
      WHEN 'not_valid_on_date' THEN dotc(d.code) || ' is not valid on ' || strftime(d.dos, '%Y-%m-%d') || ' (FY'
        || d.fy || '); it is valid in ' || array_to_string(list_transform(st.valid_years, lambda y: 'FY' || y), ', ')
      WHEN 'header_code' THEN dotc(d.code) || coalesce(' (' || st.title || ')', '') || ' is a header in FY' || d.fy
        || ', not a billable code: code to the highest level of detail'
        || coalesce('; the MCE accepts ' || array_to_string(list_transform(string_split(st.new_codes, ','),
             lambda n: dotc(n)), ', '), '')
      WHEN 'missing_7th_character' THEN dotc(d.code) || coalesce(' (' || st.title || ')', '')
        || ' needs a 7th character: add it (with placeholder X up to 6 characters), e.g. '
        || dotc(rpad(d.code, 6, 'X') || 'A') || ' for an initial encounter where A is defined'
    END AS message
  FROM d JOIN st USING (code, fy, cs) WHERE st.status IS NOT NULL AND st.status <> 'unchecked'),
f_dup AS (
  SELECT ck, max(pos) AS pos, 'duplicate_code' AS rule, NULL AS severity, [dotc(code)] AS codes,
    dotc(code) || ' is listed ' || count(*) || ' times; report each code once' AS message
  FROM d GROUP BY ck, code HAVING count(*) > 1),
f_age AS (
  SELECT d.ck, d.pos, 'age_conflict' AS rule,
    CASE WHEN bool_or(a.kind = 'mce') THEN 'error' ELSE 'warning' END AS severity, [dotc(d.code)] AS codes,
    dotc(d.code) || ' conflicts with age ' || d.age || ': ' || string_agg(DISTINCT a.description, '; ') AS message
  FROM dk d JOIN ref_age a ON a.code = d.code
  WHERE d.age IS NOT NULL AND CASE
      WHEN a.lo IS NULL THEN d.age <= a.hi
      WHEN a.hi IS NULL THEN d.age >= a.lo
      WHEN a.lo <= a.hi THEN d.age BETWEEN a.lo AND a.hi
      ELSE d.age >= a.lo OR d.age <= a.hi END
  GROUP BY d.ck, d.pos, d.code, d.age),
f_sex AS (
  SELECT d.ck, d.pos, 'sex_conflict' AS rule, NULL AS severity, [dotc(d.code)] AS codes,
    dotc(d.code) || ' is for ' || CASE s.sex_allowed WHEN 'M' THEN 'males' ELSE 'females' END
    || ' only (CMS MCE sex edit in force ' || strftime(s.first_day, '%Y-%m-%d') || ' to '
    || strftime(s.last_day, '%Y-%m-%d') || '); the patient is ' || CASE d.sex WHEN 'M' THEN 'male' ELSE 'female' END
    AS message
  FROM dk d JOIN ref_sex s ON s.code = d.code AND d.dos BETWEEN s.first_day AND s.last_day
  WHERE d.sex IN ('M', 'F') AND d.sex <> s.sex_allowed),
xe AS MATERIALIZED (
  SELECT da.ck, da.pos, da.code, e.lo, e.hi, e.origin, e.title_pattern
  FROM dk da JOIN ref_excl e ON e.code_set = da.cs AND e.code = da.code),
f_excl AS (
  SELECT xe.ck, max(greatest(xe.pos, db.pos)) AS pos, 'excludes1' AS rule, NULL AS severity,
    [dotc(least(xe.code, db.code)), dotc(greatest(xe.code, db.code))] AS codes,
    dotc(least(xe.code, db.code)) || ' and ' || dotc(greatest(xe.code, db.code))
    || ' exclude each other (Excludes1 at ' || string_agg(DISTINCT xe.origin, ', ' ORDER BY xe.origin)
    || '): they are not coded together; keep the one the record supports' AS message
  FROM xe JOIN dk db ON db.ck = xe.ck
  LEFT JOIN ref_code t ON t.code_set = db.cs AND t.code = db.code
  WHERE db.code >= xe.lo AND db.code <= xe.hi AND db.code <> xe.code
    AND (xe.title_pattern IS NULL OR regexp_matches(lower(coalesce(t.title, '')), xe.title_pattern))
  GROUP BY xe.ck, least(xe.code, db.code), greatest(xe.code, db.code)),
mf AS MATERIALIZED (
  SELECT d.*, m.open, m.manifestation FROM dk d JOIN ref_manif m ON m.code_set = d.cs AND m.code = d.code),
f_mfirst AS (
  SELECT ck, pos, 'manifestation_first' AS rule, NULL AS severity, [dotc(code)] AS codes,
    dotc(code) || ' is a manifestation code (Code first the underlying condition): it is never listed first'
    AS message
  FROM mf WHERE pos = 0 AND manifestation),
cf_ok AS (
  SELECT DISTINCT m.ck, m.pos FROM mf m
  JOIN dk b ON b.ck = m.ck AND b.pos <> m.pos
  LEFT JOIN ref_manif mb ON mb.code_set = b.cs AND mb.code = b.code
  LEFT JOIN ref_cf r ON r.code_set = m.cs AND r.code = m.code AND b.code >= r.lo AND b.code <= r.hi
  WHERE mb.code IS NULL AND (m.open OR r.code IS NOT NULL)),
f_cf AS (
  SELECT m.ck, m.pos, 'code_first_missing' AS rule, NULL AS severity, [dotc(m.code)] AS codes,
    dotc(m.code) || ' needs its underlying condition coded first (Code first note); none is on the claim'
    AS message
  FROM mf m ANTI JOIN cf_ok o ON o.ck = m.ck AND o.pos = m.pos),
ua_need AS MATERIALIZED (
  SELECT DISTINCT d.ck, d.pos, d.cs, d.code, u.note_id, u.text
  FROM dk d JOIN ref_ua u ON u.code_set = d.cs AND u.code = d.code),
ua_ok AS (
  SELECT DISTINCT n.ck, n.pos, n.note_id FROM ua_need n
  JOIN ref_ua u ON u.code_set = n.cs AND u.code = n.code
    AND u.note_id = n.note_id
  JOIN dk b ON b.ck = n.ck AND b.code >= u.lo AND b.code <= u.hi),
f_ua AS (
  SELECT n.ck, n.pos, 'use_additional_missing' AS rule, NULL AS severity, [dotc(n.code)] AS codes,
    dotc(n.code) || ': Use additional ' || n.text || ' - none of those codes is on the claim' AS message
  FROM ua_need n ANTI JOIN ua_ok o ON o.ck = n.ck AND o.pos = n.pos AND o.note_id = n.note_id),
rl AS (
  SELECT l.ck, l.pos, upper(trim(l.cpt)) AS cpt, e.code IS NOT NULL AS ok
  FROM in_lines l JOIN cc ON cc.ck = l.ck
  LEFT JOIN ref_cpt e ON e.code = upper(trim(l.cpt)) AND e.year = year(cc.dos)
  WHERE l.cpt IS NOT NULL AND trim(l.cpt) <> ''),
f_ra_bill AS (
  SELECT cc.ck, 0 AS pos, 'ra_ineligible' AS rule, NULL AS severity, [cc.bill_type] AS codes,
    'bill type ' || cc.bill_type || ' is not acceptable for risk adjustment (inpatient 11x, 41x; outpatient 12x, 13x, '
    || '43x, 71x, 73x, 76x, 77x, 85x, 87x)' AS message
  FROM cc LEFT JOIN ref_bill b ON b.bill2 = cc.bill2
  WHERE cc.bill2 IS NOT NULL AND cc.bill2 <> '' AND b.bill2 IS NULL),
ra_bad AS (
  SELECT rl.ck FROM rl JOIN cc ON cc.ck = rl.ck LEFT JOIN ref_bill b ON b.bill2 = cc.bill2
  WHERE cc.claim_type <> 'inpatient' AND coalesce(b.kind, 'outpatient') = 'outpatient'
    AND year(cc.dos) IN (SELECT year FROM ref_cpt_years)
  GROUP BY rl.ck HAVING NOT bool_or(rl.ok)),
f_ra_cpt AS (
  SELECT rl.ck, 0 AS pos, 'ra_ineligible' AS rule, NULL AS severity, list(rl.cpt ORDER BY rl.pos) AS codes,
    'no service line has a CPT/HCPCS code on the CMS risk-adjustment-eligible list of ' || any_value(year(cc.dos))
    || ' (' || string_agg(rl.cpt, ', ' ORDER BY rl.pos) || '): the diagnoses do not count for risk adjustment'
    AS message
  FROM rl SEMI JOIN ra_bad ON ra_bad.ck = rl.ck JOIN cc ON cc.ck = rl.ck
  GROUP BY rl.ck)
SELECT * FROM f_valid UNION ALL BY NAME SELECT * FROM f_dup UNION ALL BY NAME SELECT * FROM f_age
UNION ALL BY NAME SELECT * FROM f_sex UNION ALL BY NAME SELECT * FROM f_excl UNION ALL BY NAME SELECT * FROM f_mfirst
UNION ALL BY NAME SELECT * FROM f_cf UNION ALL BY NAME SELECT * FROM f_ua UNION ALL BY NAME SELECT * FROM f_ra_bill
UNION ALL BY NAME SELECT * FROM f_ra_cpt
"""

CLAIM_SCHEMA = pa.schema(
    [
        ("ck", pa.int64()),
        ("age", pa.int32()),
        ("sex", pa.string()),
        ("dos", pa.date32()),
        ("claim_type", pa.string()),
        ("bill_type", pa.string()),
    ]
)
DX_SCHEMA = pa.schema([("ck", pa.int64()), ("pos", pa.int32()), ("raw", pa.string())])
LINE_SCHEMA = pa.schema([("ck", pa.int64()), ("pos", pa.int32()), ("cpt", pa.string())])


def run_findings(refs: References, claims: pa.Table, dx: pa.Table, lines: pa.Table) -> pa.Table:
    """Every code-level finding of the claims, as an Arrow table (ck, pos, rule, severity, codes, message, source).

    `claims`, `dx`, `lines` follow CLAIM_SCHEMA, DX_SCHEMA, LINE_SCHEMA (ck = the caller's row key). Severity is the
    rule's (rules.csv) unless the rule sets it per row (age_conflict: 'warning' for a CMS-HCC model edit only).
    Rows ordered by ck, then errors first, then position on the claim."""
    if claims.num_rows <= SMALL:
        return _run(_small_database(refs, dx, lines), refs, claims, dx, lines, close=True)
    return _run(refs.cursor(), refs, claims, dx, lines, close=True)


SMALL = 64  # up to this many claims, the reference rows of their codes are copied out first (see _small_database)
_KEYED = (
    "ref_valid",
    "ref_code",
    "ref_years",
    "ref_expand",
    "ref_age",
    "ref_sex",
    "ref_excl",
    "ref_manif",
    "ref_cf",
    "ref_ua",
)
_WHOLE = ("ref_cs", "ref_bill", "ref_cpt_years")


def _small_database(refs: References, dx: pa.Table, lines: pa.Table) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database holding only the reference rows of the given claims' codes (same table names,
    same columns). Every join of FINDINGS_SQL on a ref_* table keyed by code is keyed by a code of the claims (their
    diagnosis codes; CPT/HCPCS for ref_cpt), so the answer is the same as over the whole tables
    (tests/claims/test_readers.py compares them); a lookup with a constant IN list reads only the few row groups of
    the sorted tables that hold those codes: one claim in milliseconds instead of hash-joining 300,000 rows."""
    codes = sorted({(r or "").strip(" ").replace(".", "").replace(" ", "").upper() for r in dx["raw"].to_pylist()})
    cpts = sorted({(c or "").strip(" ").upper() for c in lines["cpt"].to_pylist()})
    src = refs.cursor()
    con = duckdb.connect(":memory:", config={"threads": 1})  # a few rows: threads would only add hand-offs
    try:
        for name in (*_KEYED, "ref_cpt"):
            keys = cpts if name == "ref_cpt" else codes
            if keys:
                marks = ", ".join("?" for _ in keys)
                table = src.execute(f"SELECT * FROM {name} WHERE code IN ({marks})", keys).to_arrow_table()
            else:
                table = src.execute(f"SELECT * FROM {name} LIMIT 0").to_arrow_table()
            con.register(name, table)
        for name in _WHOLE:
            con.register(name, src.execute(f"SELECT * FROM {name}").to_arrow_table())
    finally:
        src.close()
    con.execute(
        "CREATE MACRO dotc(c) AS CASE WHEN length(c) > 3 THEN substr(c, 1, 3) || '.' || substr(c, 4) ELSE c END"
    )
    return con


def _run(
    cur: duckdb.DuckDBPyConnection, refs: References, claims: pa.Table, dx: pa.Table, lines: pa.Table, *, close: bool
) -> pa.Table:
    try:
        cur.register("in_claims", claims)
        cur.register("in_dx", dx)
        cur.register("in_lines", lines)
        rules = pa.table(
            {
                "rule": list(refs.rules),
                "rule_severity": [r["severity"] for r in refs.rules.values()],
                "source": [r["source"] for r in refs.rules.values()],
            }
        )
        cur.register("in_rules", rules)
        return cur.sql(
            f"""WITH f AS ({FINDINGS_SQL})
SELECT f.ck, f.pos, f.rule, coalesce(f.severity, r.rule_severity) AS severity, f.codes, f.message, r.source
FROM f JOIN in_rules r ON r.rule = f.rule
ORDER BY f.ck, CASE coalesce(f.severity, r.rule_severity) WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
  f.pos, f.rule, f.message""",
            params={"default_cs": refs.default_code_set},
        ).to_arrow_table()
    finally:
        if close:
            cur.close()


# --- one claim: the same SQL, plus the MCE and the MS-DRG for an inpatient stay -----------------------------------


def claim_tables(claims: list[Claim]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Arrow inputs of `run_findings` for claims (ck = index in the list)."""
    rows = {"ck": [], "age": [], "sex": [], "dos": [], "claim_type": [], "bill_type": []}
    dx: dict[str, list] = {"ck": [], "pos": [], "raw": []}
    lines: dict[str, list] = {"ck": [], "pos": [], "cpt": []}
    for i, c in enumerate(claims):
        for col, v in zip(
            rows, (i, c.patient.age, c.patient.sex, c.date_of_service, c.claim_type, c.bill_type), strict=True
        ):
            rows[col].append(v)
        for j, code in enumerate(c.diagnosis_codes):
            dx["ck"].append(i)
            dx["pos"].append(j)
            dx["raw"].append(code)
        for j, line in enumerate(c.lines):
            lines["ck"].append(i)
            lines["pos"].append(j)
            lines["cpt"].append(line.cpt_hcpcs)
    return (
        pa.Table.from_pydict(rows, schema=CLAIM_SCHEMA),
        pa.Table.from_pydict(dx, schema=DX_SCHEMA),
        pa.Table.from_pydict(lines, schema=LINE_SCHEMA),
    )


def _not_checked(claim: Claim) -> list[str]:
    out = []
    fy = fiscal_year_of(claim.date_of_service)
    if fy < 2023 or fy > 2027:
        out.append(f"validity on the date: the KB has MCE code lists for FY2023..FY2027, not FY{fy}")
    if claim.patient.age is None:
        out.append("age edits: no age given")
    if claim.patient.sex == "U" and claim.date_of_service < SEX_EDITS_END:
        out.append("sex edits: sex unknown (the MCE sex edit is in force for this date)")
    if claim.patient.sex == "U" and claim.claim_type == "inpatient":
        out.append("MCE sex edits: sex unknown (MS-DRG grouped with sex unknown)")
    if claim.patient.age is None and claim.claim_type == "inpatient":
        out.append("MCE age edits: no age (MS-DRG grouped as age 65)")
    if claim.claim_type != "inpatient" and not claim.lines:
        bill = (claim.bill_type or "").lstrip("0")[:2]
        if bill not in ("11", "41"):
            out.append("risk-adjustment eligibility: no service line (CPT/HCPCS) given")
    return out


SEX_EDITS_END = date(2024, 10, 1)  # first day without MCE sex edits (KB mce_sex_edits, measured)


def code_findings(kb: KB, claims: list[Claim]) -> list[list[Finding]]:
    """Code-level findings for each claim (same SQL as the batch)."""
    refs = references(kb)
    out = run_findings(refs, *claim_tables(claims))
    per: list[list[Finding]] = [[] for _ in claims]
    for r in out.to_pylist():
        per[r["ck"]].append(
            Finding(rule=r["rule"], severity=r["severity"], codes=r["codes"], message=r["message"], source=r["source"])
        )
    return per


def inpatient_findings(
    claim: Claim, existing: list[Finding], refs: References
) -> tuple[list[Finding], DrgResult | None, list[str]]:
    """MCE findings (named codes) and the MS-DRG of an inpatient claim; what could not be checked."""
    discharge = claim.discharge_date or claim.date_of_service
    try:
        msclaim = drg.stay(
            claim.diagnosis_codes[0],
            claim.diagnosis_codes[1:],
            discharge=discharge,
            age=claim.patient.age,
            sex=claim.patient.sex,
            discharge_status=claim.discharge_status,
            poa=claim.poa,
            procedures=claim.procedure_codes,
        )
    except ValueError as e:
        return [], None, [f"MS-DRG and MCE: {e} (msdrg 1.2.0 covers discharges 2022-10-01 to 2027-03-31)"]
    seen = {(f.rule, tuple(f.codes)) for f in existing}
    seen_codes = {(f.rule, c) for f in existing for c in f.codes}
    found = []
    # msdrg needs an age and a sex: an unknown sex (2) makes every sex-specific code conflict and raises INVALID_SEX,
    # a missing age is sent as 65; those edits are about our defaults, not the claim (listed in not_checked instead)
    unknown = set()
    if claim.patient.sex == "U":
        unknown |= {"INVALID_SEX", "SEX_CONFLICT"}
    if claim.patient.age is None:
        unknown |= {"INVALID_AGE", "AGE_CONFLICT"}
    for e in drg.mce_edits(msclaim):
        if e.name in unknown:
            continue
        rule = drg.MCE_TO_RULE.get(e.name, "mce_" + e.name.lower())
        if rule in drg.MCE_TO_RULE.values():
            codes = [c for c in e.codes if (rule, c) not in seen_codes]
            if not codes:
                continue
        else:
            codes = list(e.codes)
        if (rule, tuple(codes)) in seen:
            continue
        meta = refs.rules.get(rule) or refs.rules.get(_family(rule)) or {}
        found.append(
            Finding(
                rule=rule,
                severity=meta.get("severity", "warning"),  # type: ignore[arg-type]
                codes=codes,
                message=f"Medicare Code Editor: {meta.get('title', e.name.lower().replace('_', ' '))} "
                f"({', '.join(codes)})",
                source=meta.get("source", f"CMS Medicare Code Editor (msdrg 1.2.0) edit {e.name}"),
            )
        )
    return found, drg.drg_of(msclaim), []


def _family(rule: str) -> str:
    """'mce_limited_coverage_kidney' -> 'mce_limited_coverage' (rules.csv has one row per edit family)."""
    return "mce_limited_coverage" if rule.startswith("mce_limited_coverage") else rule


_RANK = {"error": 0, "warning": 1, "info": 2}


def check_claim(kb: KB, claim: Claim) -> CheckResult:
    """Every check on one claim: code-level rules (the batch SQL), and for an inpatient claim the MCE and MS-DRG.

    Returns a CheckResult naming the code set used (FY of the date of service) and what was not checked."""
    return _result(kb, claim, code_findings(kb, [claim])[0])


def check_batch(
    kb: KB, claims: list[Claim], *, chunk: int = 50_000, progress: Callable[[int], None] | None = None
) -> list[CheckResult]:
    """Check many claims: the code-level SQL runs per chunk of `chunk` claims, inpatient claims add the MCE and
    MS-DRG one by one. `progress(n)` is called with the number of claims done after each step. Equals calling
    `check_claim` on each (tests/claims/test_batch.py)."""
    out: list[CheckResult] = []
    for start in range(0, len(claims), chunk):
        part = claims[start : start + chunk]
        per = code_findings(kb, part)
        for claim, findings in zip(part, per, strict=True):
            out.append(_result(kb, claim, findings))
            if progress and claim.claim_type == "inpatient":
                progress(1)
        if progress:
            progress(sum(1 for c in part if c.claim_type != "inpatient"))
    return out


def _result(kb: KB, claim: Claim, findings: list[Finding]) -> CheckResult:
    not_checked = _not_checked(claim)
    result_drg = None
    if claim.claim_type == "inpatient":
        extra, result_drg, missing = inpatient_findings(claim, findings, references(kb))
        findings = sorted(findings + extra, key=lambda f: _RANK[f.severity])
        not_checked += missing
    fy = fiscal_year_of(claim.date_of_service)
    loaded = f"FY{fy}" in kb.code_sets
    source = f"KB code_validity FY{fy} (CMS MCE via msdrg 1.2.0); " + (
        f"tabular notes and titles of code set FY{fy}"
        if loaded
        else f"tabular notes and titles of {kb.default_code_set} (FY{fy} tabular not loaded)"
    )
    return CheckResult(
        claim_id=claim.claim_id,
        code_set=code_set_of(claim.date_of_service),
        code_set_source=source,
        findings=findings,
        not_checked=not_checked,
        drg=result_drg,
        kb_release=kb.release_id,
    )


def run_findings_chunked(
    refs: References, claims: pa.Table, dx: pa.Table, lines: pa.Table, *, chunk: int = 100_000
) -> pa.Table:
    """`run_findings` over consecutive slices of `chunk` claims (same rows, same order): memory stays bounded and
    the time grows linearly with the claims (one 1,000,000-claim query measured 2.5x slower per claim than ten of
    100,000 on the 2-core machine, benchmarks/claims.py). Rows of the three tables are sorted by ck first."""
    import numpy as np

    claims, dx, lines = (t.sort_by("ck") for t in (claims, dx, lines))
    cks = claims["ck"].to_numpy()
    dx_ck, line_ck = dx["ck"].to_numpy(), lines["ck"].to_numpy()
    parts = []
    for start in range(0, len(cks), chunk):
        lo, hi = cks[start], cks[min(start + chunk, len(cks)) - 1]
        d0, d1 = np.searchsorted(dx_ck, [lo, hi], side="left")[0], np.searchsorted(dx_ck, hi, side="right")
        l0, l1 = np.searchsorted(line_ck, lo, side="left"), np.searchsorted(line_ck, hi, side="right")
        parts.append(run_findings(refs, claims.slice(start, chunk), dx.slice(d0, d1 - d0), lines.slice(l0, l1 - l0)))
    return pa.concat_tables(parts) if parts else run_findings(refs, claims, dx, lines)
