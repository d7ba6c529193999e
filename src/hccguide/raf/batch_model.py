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

from hccguide.kb.reference import ESRD_GRAFT_SEGMENTS, PaymentYearConstants
from hccguide.raf.batch_rows import Rows
from hccguide.raf.batch_sql import in_list, lit, round_sql
from hccguide.raf.rules import hierarchy_patches
from hccguide.raf.segments import derive, select_segment
from hccguide.raf.steps import sum_coefficients
from hccguide.raf.tables import ModelTables, interaction_spec, term_key

DEMO_KEY = ("age", "sex", "dual", "orec", "lti", "new_enrollee", "esrd", "snp", "graft_months", "low_income")


@dataclass
class RefRows:
    """Reference rows of one model, ready to load in any engine."""

    model: str
    tables: dict[str, Rows]


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
            "ref_dx": Rows.of([("code", "VARCHAR"), ("cc", "VARCHAR")], dx),
            "ref_edits": Rows.of(
                [
                    ("code", "VARCHAR"),
                    ("edit_type", "VARCHAR"),
                    ("sex", "INTEGER"),
                    ("age_min", "INTEGER"),
                    ("age_max", "INTEGER"),
                    ("action", "VARCHAR"),
                    ("cc_override", "VARCHAR"),
                ],
                edits,
            ),
            "ref_hier": Rows.of([("parent", "VARCHAR"), ("child", "VARCHAR")], hier),
            "ref_coef": Rows.of(
                [("segment", "VARCHAR"), ("term", "VARCHAR"), ("coefficient", "VARCHAR"), ("value", "DOUBLE")], coef
            ),
            "ref_groups": Rows.of([("grp", "VARCHAR"), ("cc", "VARCHAR")], groups),
            "ref_inter": Rows.of([("name", "VARCHAR"), ("factor", "VARCHAR"), ("nfactors", "INTEGER")], inter),
        },
    )


def model_statements(
    tag: str, model: str, payment_year: int, constants: PaymentYearConstants, hcc_prefix: str, where: str = "TRUE"
) -> list[tuple[str, str]]:
    """The RAF steps for one model as SQL. Inputs: mem and dx (batch_validate: clean members; clean diagnoses with
    their member's key, age, sex and ESRD flag), `where` (batch_plan: which members this model scores, over columns
    both have), demo_seg_{tag} (demographic key -> segment, flags and demographic part: demographic_rows) and the
    ref_*_{tag} reference tables. Output: scores_{tag}(mkey, member_id, model, payment_year, segment, risk_score,
    risk_score_normalized, hccs, part_demographic, part_disease, part_interaction, part_count).

    The diagnoses reach the CC steps without a join to the members (their key, age and sex came with them); the
    segment is joined once, where coefficients are looked up; the demographic terms were summed per distinct key
    (a few thousand) rather than per member."""
    key_join = " AND ".join(f"m.{k} IS NOT DISTINCT FROM k.{k}" for k in DEMO_KEY)
    t = tag
    norm = _normalize_sql(constants)
    # add_interactions as bit masks: each factor of interactions.csv (a disease group, DISABLED, NONAGED) is one bit;
    # a member's factors are one integer (the bit_or of its HCCs' groups, or-ed with its demographic bits), and an
    # interaction is present when all its bits are. The interaction part depends only on (segment, factor bits), so
    # it is summed once per distinct pair (a few thousand) instead of per member and interaction row.
    spec = interaction_spec(model)
    bits = factor_bits(spec)
    demo_bits = (
        f"(CASE WHEN k.disabled AND k.scores_hccs THEN {bits.get('DISABLED', 0)} ELSE 0 END"
        f" + CASE WHEN NOT k.aged AND k.scores_hccs THEN {bits.get('NONAGED', 0)} ELSE 0 END)"
    )
    # when every interaction names a disease group, a member without an HCC has none: only members with an HCC
    # (terms) need a look-up; otherwise members without one are looked up by their demographic bits too
    needs_hcc = all(any(f in spec.groups for f in i.factors) for i in spec.interactions)
    no_hcc_keys = "" if needs_hcc else f" UNION SELECT segment, dbits AS fbits FROM mseg_{t} WHERE scores_hccs"
    mseg = (
        f"mseg_{t}",
        f"""
SELECT m.rn AS mkey, m.member_id, k.segment, k.scores_hccs, k.demographic, CAST({demo_bits} AS BIGINT) AS dbits
FROM (SELECT * FROM mem WHERE {where}) m JOIN demo_seg_{t} k ON {key_join}""",
    )
    # the CC steps first: they read the diagnoses only, so an engine may run them before demo_seg_{t} exists
    # (needs_demographics); the member segments from mseg_{t} on
    stmts = [
        # the mapping and edits keyed by ref_codes' integer code id, as the diagnoses are (batch_validate dx_codes);
        # from here on a CC is its number (CMS CCs are numbers: 'HCC' || cc is the coefficient name), an INTEGER
        (
            f"ref_dxc_{t}",
            f"SELECT c.cid, CAST(r.cc AS INTEGER) AS cc FROM ref_dx_{t} r JOIN ref_codes c ON r.code = c.code",
        ),
        (
            f"ref_editc_{t}",
            f"SELECT c.cid, e.edit_type, e.sex, e.age_min, e.age_max, e.action, "
            f"CAST(e.cc_override AS INTEGER) AS cc_override FROM ref_edits_{t} e JOIN ref_codes c ON e.code = c.code",
        ),
        (
            f"ref_hierc_{t}",
            f"SELECT CAST(parent AS INTEGER) AS parent, CAST(child AS INTEGER) AS child FROM ref_hier_{t}",
        ),
        # map_dx_to_cc (CMS ICD-10 mapping of the payment year), then apply_edits (CMS model software age/sex edits
        # and MCE age conditions) on the few codes that have one
        (
            f"cc_edit_{t}",
            f"""
SELECT DISTINCT mkey, cc FROM (
  SELECT x.mkey,
    CASE WHEN e.cid IS NOT NULL AND (
           (e.edit_type = 'sex' AND e.sex = CASE WHEN x.sex = 'F' THEN 2 ELSE 1 END)
        OR (e.edit_type <> 'sex' AND ((e.age_max IS NOT NULL AND x.age <= e.age_max)
                                   OR (e.age_min IS NOT NULL AND x.age >= e.age_min))))
         THEN CASE WHEN e.action = 'override' THEN e.cc_override ELSE NULL END
         ELSE r.cc END AS cc
  FROM (SELECT mkey, cid, age, sex FROM dx WHERE {where}) x JOIN ref_dxc_{t} r ON x.cid = r.cid
  LEFT JOIN ref_editc_{t} e ON x.cid = e.cid) y
WHERE cc IS NOT NULL""",
        ),
    ]
    patches = hierarchy_patches().get(model, ())
    if patches:
        # raf/hierarchy_patches.csv (CMS-HCC V28 software V2826T1M heart patch): a CC counts only with one of its
        # companion CCs
        keep = " AND ".join(
            f"(c.cc <> {int(p.cc)} OR EXISTS (SELECT 1 FROM cc_edit_{t} o WHERE o.mkey = c.mkey "
            f"AND o.cc IN ({', '.join(str(int(n)) for n in sorted(p.needs_any, key=int))})))"
            for p in patches
        )
        stmts.append((f"cc_{t}", f"SELECT c.mkey, c.cc FROM cc_edit_{t} c WHERE {keep}"))
    else:
        stmts.append((f"cc_{t}", f"SELECT mkey, cc FROM cc_edit_{t}"))
    stmts += [
        # apply_hierarchies
        (
            f"hcc_{t}",
            f"""
SELECT c.mkey, c.cc FROM cc_{t} c
WHERE NOT EXISTS (SELECT 1 FROM cc_{t} p JOIN ref_hierc_{t} h ON p.cc = h.parent
                  WHERE p.mkey = c.mkey AND h.child = c.cc)""",
        ),
        # the factor bits of each HCC (its disease groups) and of each interaction (all its factors)
        (
            f"ref_gbits_{t}",
            f"SELECT CAST(cc AS INTEGER) AS gcc, bit_or(CAST({_bit_case('grp', bits)} AS BIGINT)) AS bits "
            f"FROM ref_groups_{t} GROUP BY cc",
        ),
        (
            f"ref_imask_{t}",
            f"SELECT name, bit_or(CAST({_bit_case('factor', bits)} AS BIGINT)) AS mask FROM ref_inter_{t} GROUP BY name",
        ),
        # the HCC coefficients keyed by segment and CC number (term = prefix || cc; interaction terms such as
        # HCC47_gCancer are not numbers and drop out): no text built per diagnosis
        (
            f"ref_hcoef_{t}",
            f"SELECT segment, hcc, value FROM (SELECT segment, TRY_CAST(substr(term, {len(hcc_prefix) + 1}) AS INTEGER) "
            f"AS hcc, value FROM ref_coef_{t} WHERE starts_with(term, {lit(hcc_prefix)})) c WHERE hcc IS NOT NULL",
        ),
        mseg,
        # sum_coefficients of the payment HCCs, each looked up in the member's segment table, with the count and
        # list of HCCs and the member's factor bits; members whose segment scores no HCC drop out here
        (
            f"terms_{t}",
            f"""
SELECT h.mkey, sum(r.value) AS disease, count(*) AS n, {{HCC_LIST}} AS hccs, s.segment,
  bit_or(coalesce(b.bits, 0)) | s.dbits AS fbits
FROM hcc_{t} h JOIN mseg_{t} s ON h.mkey = s.mkey AND s.scores_hccs
LEFT JOIN ref_hcoef_{t} r ON s.segment = r.segment AND h.cc = r.hcc
LEFT JOIN ref_gbits_{t} b ON h.cc = b.gcc
GROUP BY h.mkey, s.segment, s.dbits""",
        ),
        # the interactions present for each distinct (segment, factor bits) and the sum of their coefficients
        (
            f"inter_{t}",
            f"""
SELECT k.segment, k.fbits, sum(c.value) AS interaction
FROM (SELECT DISTINCT segment, fbits FROM terms_{t}{no_hcc_keys}) k
JOIN ref_imask_{t} i ON (k.fbits & i.mask) = i.mask
LEFT JOIN ref_coef_{t} c ON c.segment = k.segment AND c.term = i.name
GROUP BY k.segment, k.fbits""",
        ),
        # the parts (trace.score_parts: demographic, disease, interaction, count) and their sum, rounded as CMS
        # does (3 decimals); normalize. The count variable is looked up once the count is known.
        (
            f"scores_{t}",
            f"""
SELECT s.mkey, s.member_id, {lit(model)} AS model, {int(payment_year)} AS payment_year, s.segment, s.risk_score,
  {norm} AS risk_score_normalized, s.hccs, round(s.demographic, 3) AS part_demographic,
  round(s.disease, 3) AS part_disease, round(s.interaction, 3) AS part_interaction, round(s.cnt, 3) AS part_count
FROM (
  SELECT p.*, round(p.demographic + p.disease + p.interaction + p.cnt, 3) AS risk_score FROM (
    SELECT m.mkey, m.member_id, m.segment, coalesce(a.hccs, {{HCC_EMPTY}}) AS hccs, m.demographic,
      coalesce(a.disease, 0) AS disease, coalesce(i.interaction, 0) AS interaction, coalesce(c.value, 0) AS cnt
    FROM mseg_{t} m LEFT JOIN terms_{t} a ON m.mkey = a.mkey
    LEFT JOIN inter_{t} i ON m.segment = i.segment
      AND i.fbits = CASE WHEN m.scores_hccs THEN coalesce(a.fbits, m.dbits) END
    LEFT JOIN ref_coef_{t} c ON m.segment = c.segment
      AND c.term = CASE WHEN a.n >= 10 THEN 'D10P' WHEN a.n >= 1 THEN 'D' || CAST(a.n AS VARCHAR) END) p) s""",
        ),
    ]
    return stmts


def needs_demographics(stmts: list[tuple[str, str]], tag: str) -> int:
    """The index of the first of model_statements(tag, ...) that reads demo_seg_<tag> (mseg_<tag>): the statements
    before it read the diagnoses and reference rows only."""
    return next(i for i, (name, _) in enumerate(stmts) if name == f"mseg_{tag}")


def factor_bits(spec) -> dict[str, int]:
    """One bit per factor of a model's interactions (interactions.csv: its disease groups and the demographic
    factors DISABLED / NONAGED), in name order: {factor: 1, 2, 4, ...}. At most 62 factors (a BIGINT)."""
    names = sorted({f for i in spec.interactions for f in i.factors} | set(spec.groups) | {"DISABLED", "NONAGED"})
    if len(names) > 62:
        raise ValueError(f"{len(names)} interaction factors do not fit a BIGINT bit mask")
    return {n: 1 << k for k, n in enumerate(names)}


def _bit_case(col: str, bits: dict[str, int]) -> str:
    """CASE <col> WHEN 'factor' THEN bit ... ELSE 0 END (factor names: package data, interactions.csv)."""
    return f"CASE {col} " + " ".join(f"WHEN {lit(n)} THEN {b}" for n, b in bits.items()) + " ELSE 0 END"


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


HCC_LIST_DUCKDB = "CAST(list_sort(list(cc) FILTER (WHERE cc IS NOT NULL)) AS VARCHAR[])"
HCC_EMPTY_DUCKDB = "CAST([] AS VARCHAR[])"


def demographic_rows(keys: list[tuple], model: str, tables: ModelTables) -> Rows:
    """Score each distinct demographic key (a tuple in DEMO_KEY order) with segments.select_segment (the one
    definition of segments) and sum its demographic terms with steps.sum_coefficients (the one coefficient lookup,
    extra terms of other segments included): a few thousand keys instead of a join per member.

    Returns demo_seg: DEMO_KEY + segment, disabled, aged, scores_hccs, demographic (the unrounded sum of the key's
    demographic coefficients: score_parts' 'demographic' part before rounding)."""
    out: dict[str, list] = {k: [] for k in ("segment", "disabled", "aged", "scores_hccs", "demographic")}
    sums: dict[tuple, float] = {}  # the demographic sum depends only on the segment and its terms
    for k in keys:
        d = derive(**dict(zip(DEMO_KEY, k, strict=True)))  # DEMO_KEY names derive's parameters
        seg = select_segment(d, model)
        terms = (seg.segment, seg.demographic_terms, seg.extra_terms)
        demographic = sums.get(terms)
        if demographic is None:
            factors, _ = sum_coefficients(seg, frozenset(), [], None, tables)
            demographic = sums[terms] = float(sum(f.value for f in factors if f.kind == "demographic"))
        out["segment"].append(seg.segment)
        out["disabled"].append(d.disabled)
        out["aged"].append(d.aged)
        out["scores_hccs"].append(seg.scores_hccs)
        out["demographic"].append(demographic)
    columns = [list(c) for c in zip(*keys, strict=True)] if keys else [[] for _ in DEMO_KEY]
    types = {"age": "INTEGER", "graft_months": "INTEGER", "demographic": "DOUBLE", "segment": "VARCHAR"}
    types |= dict.fromkeys(("sex", "dual", "orec"), "VARCHAR")
    cols = {**dict(zip(DEMO_KEY, columns, strict=True)), **out}
    return Rows({c: (types.get(c, "BOOLEAN"), v) for c, v in cols.items()})
