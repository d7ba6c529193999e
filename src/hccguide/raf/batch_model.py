"""The RAF steps of one model as SQL over all members at once (map_dx_to_cc, apply_edits, the hierarchy patches and
table, interactions, coefficients, normalization), and the reference rows they read as Arrow tables.

The rules are the same data as the one-member path (raf/steps.py): demographic terms and segments come from
segments.select_segment itself (each distinct demographic key of the input is scored in Python and joined back: a
few thousand keys for millions of members); dx→CC, edits, hierarchies, coefficients and labels are the KB rows of
tables.load_tables; interactions are interactions.csv; the V28 heart patch is hierarchy_patches.csv (rules.py);
rounding is steps.round_cms written as SQL. Statement texts hold no user value: model names and figures are
rendered as literals by sqlglot (batch_sql.lit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from hccguide.kb.reference import ESRD_GRAFT_SEGMENTS, PaymentYearConstants
from hccguide.raf.batch_sql import in_list, lit, round_sql
from hccguide.raf.rules import hierarchy_patches
from hccguide.raf.segments import derive, select_segment
from hccguide.raf.tables import ModelTables, term_key

DEMO_KEY = ("age", "sex", "dual", "orec", "lti", "new_enrollee", "esrd", "snp", "graft_months", "low_income")


@dataclass
class RefRows:
    """Reference rows of one model as Arrow tables, ready to register in any engine."""

    model: str
    tables: dict[str, pa.Table]


def reference_rows(t: ModelTables) -> RefRows:
    """dx_to_cc, edits, hierarchy, coefficients, groups and interactions of one model as Arrow tables (kept with the
    ModelTables, which live on the KB handle: built once per process)."""
    cached = t.extra.get("reference_rows")
    if cached is None:
        cached = t.extra["reference_rows"] = _reference_rows(t)
    return cached


def _reference_rows(t: ModelTables) -> RefRows:
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


def model_statements(
    tag: str, model: str, payment_year: int, constants: PaymentYearConstants, hcc_prefix: str
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
    patches = hierarchy_patches().get(model, ())
    if patches:
        # raf/hierarchy_patches.csv (CMS-HCC V28 software V2826T1M heart patch): a CC counts only with one of its
        # companion CCs
        keep = " AND ".join(
            f"(c.cc <> {lit(p.cc)} OR EXISTS (SELECT 1 FROM cc_edit_{t} o WHERE o.mkey = c.mkey "
            f"AND o.cc IN {in_list(sorted(p.needs_any))}))"
            for p in patches
        )
        stmts.append((f"cc_{t}", f"SELECT c.mkey, c.segment, c.cc FROM cc_edit_{t} c WHERE {keep}"))
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
UNION ALL SELECT mkey, NULL, NULL, segment, {lit(hcc_prefix)} || cc AS term, cc FROM hcc_{t}
UNION ALL SELECT mkey, NULL, NULL, segment, name AS term, NULL FROM inter_{t}""",
        ),
        # normalize (CMS rounding: 3 decimals)
        (
            f"scores_{t}",
            f"""
SELECT s.member_id, {lit(model)} AS model, {int(payment_year)} AS payment_year, s.segment, s.risk_score,
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
        return round_sql(f"s.risk_score / {lit(float(factor))}") if factor else "CAST(NULL AS DOUBLE)"

    if c.model != "CMS-HCC ESRD V24":
        return one(c.normalization_factor)
    graft = in_list(sorted(ESRD_GRAFT_SEGMENTS))
    return (
        f"CASE WHEN s.segment IN {graft} THEN {one(c.normalization_factor_graft)} "
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
