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

from collections.abc import Iterable
from dataclasses import dataclass

from hccguide.kb.reference import ESRD_GRAFT_SEGMENTS, PaymentYearConstants
from hccguide.raf.batch_rows import Rows
from hccguide.raf.batch_sql import in_list, lit, round_sql
from hccguide.raf.bounds import AGE_MIN
from hccguide.raf.rules import hierarchy_patches
from hccguide.raf.segments import derive, select_segment
from hccguide.raf.steps import sum_coefficients
from hccguide.raf.tables import ModelTables, interaction_spec, term_key

DEMO_KEY = ("age", "sex", "dual", "orec", "lti", "new_enrollee", "esrd", "snp", "graft_months", "low_income")

# A member's demographic key packed into one BIGINT, so that the distinct keys, their transfer and the join back to
# a million members are over one integer instead of ten columns. Validated values fit (batch_validate: age
# AGE_MIN..AGE_MAX, sex 'F' | 'M', dual class, OREC '0'..'3', yes/no flags, graft months GRAFT_MONTHS_MIN..
# GRAFT_MONTHS_MAX or NULL); a value outside the packed ranges (age 0..127, graft months 0..2047, those codes) packs
# to NULL, which decode_key refuses.
_DUALS = ("non", "partial", "full")
_FLAGS = (("lti", 12), ("new_enrollee", 13), ("esrd", 14), ("snp", 15), ("low_income", 16))
_AGE_BITS, _GRAFT_SHIFT, _GRAFT_BITS = 7, 18, 11


def demo_key_sql(alias: str = "") -> str:
    """The packed demographic key of a row of `mem` (columns DEMO_KEY, optional table alias): age in bits 0-6, sex
    F bit 7, dual class bits 8-9, OREC bits 10-11, the five flags bits 12-16, graft months given bit 17 and their
    number bits 18-28."""
    a = f"{alias}." if alias else ""
    dual = " ".join(f"WHEN {lit(d)} THEN {i << 8}" for i, d in enumerate(_DUALS))
    flags = " + ".join(f"CASE WHEN {a}{f} THEN {1 << b} ELSE 0 END" for f, b in _FLAGS)
    return (
        f"(CASE WHEN {a}age BETWEEN {AGE_MIN} AND {(1 << _AGE_BITS) - 1} THEN CAST({a}age AS BIGINT) END"
        f" + CASE {a}sex WHEN 'F' THEN 128 WHEN 'M' THEN 0 END + CASE {a}dual {dual} END"
        f" + CASE WHEN {a}orec IN ('0', '1', '2', '3') THEN CAST({a}orec AS BIGINT) * 1024 END + {flags}"
        f" + CASE WHEN {a}graft_months IS NULL THEN 0 WHEN {a}graft_months BETWEEN 0 AND {(1 << _GRAFT_BITS) - 1}"
        f" THEN {1 << 17} + CAST({a}graft_months AS BIGINT) * {1 << _GRAFT_SHIFT} END)"
    )


def decode_key(key: int | None) -> tuple:
    """demo_key_sql's integer back to the DEMO_KEY tuple. Raises ValueError for NULL (a value outside the packed
    domain: validation let through what it should have rejected)."""
    if key is None:
        raise ValueError("a member's demographic key is outside the validated domain")
    graft = (key >> _GRAFT_SHIFT) & ((1 << _GRAFT_BITS) - 1) if key >> 17 & 1 else None
    lti, new_enrollee, esrd, snp, low_income = [key >> b & 1 == 1 for _, b in _FLAGS]
    return (
        key & ((1 << _AGE_BITS) - 1),
        "F" if key >> 7 & 1 else "M",
        _DUALS[key >> 8 & 3],
        str(key >> 10 & 3),
        lti,
        new_enrollee,
        esrd,
        snp,
        graft,
        low_income,
    )


@dataclass
class RefRows:
    """Reference rows of one model, ready to load in any engine."""

    model: str
    tables: dict[str, Rows]


def reference_rows(t: ModelTables) -> RefRows:
    """dx_to_cc, edits, coefficients, interactions and each CC's bits (hierarchy children, interaction groups:
    ref_ccbit) of one model as Arrow tables (kept with the ModelTables, which live on the KB handle: built once
    per process)."""
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
    coef = [(s, term, name, v) for (s, term), (name, v) in t.coefficients.items()]
    inter = [(term_key(i.name), f, len(set(i.factors))) for i in t.spec.interactions for f in set(i.factors)]
    layout = cc_bits(t)
    fbits = factor_bits(t.spec)
    patched = {int(p.cc) for p in hierarchy_patches().get(t.model, ())}
    ccbit = []
    for cc in sorted(layout.index):
        word = layout.mask([cc])
        children = layout.mask(int(c) for c in t.hierarchy.get(str(cc), ()))
        gbits = sum(b for g, b in fbits.items() if str(cc) in t.spec.groups.get(g, ()))
        ccbit.append((cc, *word, *children, cc in patched, gbits))
    ccbit_types = [("cc", "INTEGER")] + [(f"w{i}", "BIGINT") for i in range(layout.words)]
    ccbit_types += [(f"c{i}", "BIGINT") for i in range(layout.words)] + [("patch", "BOOLEAN"), ("gbits", "BIGINT")]
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
            "ref_coef": Rows.of(
                [("segment", "VARCHAR"), ("term", "VARCHAR"), ("coefficient", "VARCHAR"), ("value", "DOUBLE")], coef
            ),
            "ref_inter": Rows.of([("name", "VARCHAR"), ("factor", "VARCHAR"), ("nfactors", "INTEGER")], inter),
            # each CC as one bit of the words w0.. (cc_bits), the CCs its hierarchy drops (c0..), whether a hierarchy
            # patch may remove it, and its interaction factor bits (factor_bits of its disease groups)
            "ref_ccbit": Rows.of(ccbit_types, ccbit),
        },
    )


@dataclass(frozen=True)
class CcBits:
    """Each CC of a model as one bit: position k is bit k % 62 of word k // 62 (BIGINT words, sign bit unused, so
    the SQL of both engines reads them as plain positive integers). CCs in ascending number order."""

    index: dict[int, int]  # cc number -> position
    words: int

    def mask(self, ccs: Iterable[int]) -> list[int]:
        """The words of the set `ccs` (CCs outside the layout are ignored)."""
        out = [0] * self.words
        for cc in ccs:
            k = self.index.get(int(cc))
            if k is not None:
                out[k // WORD_BITS] |= 1 << (k % WORD_BITS)
        return out


WORD_BITS = 62


def cc_bits(t: ModelTables) -> CcBits:
    """The bit layout of every CC a model can hold: mapped (dx→CC), set by an edit, named by its hierarchy, its
    interaction groups or a hierarchy patch (115 CCs for V28: two words). Kept with the ModelTables."""
    cached = t.extra.get("cc_bits")
    if cached is None:
        ccs = {cc for v in t.dx_to_cc.values() for cc in v}
        ccs |= {e.cc_override for v in t.edits.values() for e in v if e.cc_override}
        ccs |= set(t.hierarchy) | {c for v in t.hierarchy.values() for c in v}
        ccs |= {cc for v in t.spec.groups.values() for cc in v}
        for p in hierarchy_patches().get(t.model, ()):
            ccs |= {p.cc, *p.needs_any}
        numbers = sorted({int(cc) for cc in ccs})  # CMS CCs are numbers ('HCC' || cc names the coefficient)
        cached = t.extra["cc_bits"] = CcBits(
            {cc: k for k, cc in enumerate(numbers)}, max(1, -(-len(numbers) // WORD_BITS))
        )
    return cached


def model_statements(
    tag: str,
    model: str,
    payment_year: int,
    constants: PaymentYearConstants,
    hcc_prefix: str,
    where: str,
    layout: CcBits,
) -> list[tuple[str, str]]:
    """The RAF steps for one model as SQL. Inputs: mem and dx (batch_validate: clean members; clean diagnoses with
    their member's key, age, sex and ESRD flag), `where` (batch_plan: which members this model scores, over columns
    both have), demo_seg_{tag} (demographic key -> segment, flags and demographic part: demographic_rows) and the
    ref_*_{tag} reference tables (reference_rows; `layout` = cc_bits of the same tables). Output:
    scores_{tag}(mkey, member_id, model, payment_year, segment, risk_score, risk_score_normalized, hccs,
    part_demographic, part_disease, part_interaction, part_count).

    A member's CCs are bit masks (CcBits words f0, f1, ...): map_dx_to_cc and apply_edits give each diagnosis its
    CC bit, one grouping per member ORs them (a CC found twice is one bit: no DISTINCT), and the V28 heart patch
    and the hierarchy are mask arithmetic on that row (drop = the OR of the child masks of the CCs present, each
    CC's children from the CMS hierarchy table). Everything the payment HCCs decide is computed once per distinct
    HCC set (a few hundred thousand for a million members, far fewer in real data) rather than per member: the
    HCC list, count and interaction groups per set, the disease part per (segment, set). The demographic terms
    were summed per distinct key (a few thousand) in Python."""
    t = tag
    w = range(layout.words)
    norm = _normalize_sql(constants)
    # add_interactions as bit masks: each factor of interactions.csv (a disease group, DISABLED, NONAGED) is one bit;
    # a member's factors are one integer (the OR of its HCCs' group bits and its demographic bits), and an
    # interaction is present when all its bits are. The interaction part depends only on (segment, factor bits), so
    # it is summed once per distinct pair instead of per member and interaction row.
    bits = factor_bits(interaction_spec(model))
    demo_bits = (
        f"CAST((CASE WHEN k.disabled AND k.scores_hccs THEN {bits.get('DISABLED', 0)} ELSE 0 END"
        f" + CASE WHEN NOT k.aged AND k.scores_hccs THEN {bits.get('NONAGED', 0)} ELSE 0 END) AS BIGINT)"
    )

    def has(col: str, cc: str) -> str:  # CC `cc` is in the mask <col>0, <col>1, ...
        word = layout.mask([int(cc)])
        return " OR ".join(f"({col}{i} & {word[i]}) <> 0" for i in w if word[i])

    def any_of(col: str, ccs: Iterable[str]) -> str:  # some CC of `ccs` is in the mask
        word = layout.mask(int(c) for c in ccs)
        return "(" + (" OR ".join(f"({col}{i} & {word[i]}) <> 0" for i in w if word[i]) or "FALSE") + ")"

    # apply_hierarchies: raf/hierarchy_patches.csv first (CMS-HCC V28 software V2826T1M heart patch: a CC counts
    # only with one of its companion CCs), one patch after the other as steps.apply_hierarchies does; then every CC
    # a kept CC's hierarchy row names is dropped (the OR of the child masks c0, c1, ... of the CCs kept; a CC a patch
    # removed drops nothing)
    patches = hierarchy_patches().get(model, ())
    kept = "p"
    layers = []
    for j, patch in enumerate(patches):
        word = layout.mask([int(patch.cc)])
        cols = ", ".join(
            f"CASE WHEN {has(kept, patch.cc)} AND NOT {any_of(kept, patch.needs_any)} "
            f"THEN {kept}{i} & ~CAST({word[i]} AS BIGINT) ELSE {kept}{i} END AS k{j}_{i}"
            for i in w
        )
        layers.append(cols)
        kept = f"k{j}_"
    # x<j>_<i>: the children of patch j's CC when the member has it (its row of ref_ccbit), dropped only if kept
    drop = {
        i: " | ".join(
            [f"a{i}"] + [f"CASE WHEN {has(kept, pt.cc)} THEN x{j}_{i} ELSE 0 END" for j, pt in enumerate(patches)]
        )
        for i in w
    }

    # per diagnosis code: the bits of its CC and of the CC an edit may set instead (o_*): w = the CC, a = the CCs its
    # hierarchy row drops (none for a CC a patch may remove), x<j> = the CCs patch j's CC drops
    def bit_cols(z: str, pre: str) -> list[str]:
        cols = [f"{z}.w{i} AS {pre}w{i}" for i in w]
        cols += [f"CASE WHEN {z}.patch THEN 0 ELSE {z}.c{i} END AS {pre}a{i}" for i in w]
        cols += [
            f"CASE WHEN {z}.cc = {int(pt.cc)} THEN {z}.c{i} ELSE 0 END AS {pre}x{j}_{i}"
            for j, pt in enumerate(patches)
            for i in w
        ]
        return cols

    names = [c.split(" AS ")[1] for c in bit_cols("b", "")]
    cidbits = f"""
SELECT r.cid, e.cid IS NOT NULL AS has_edit, e.edit_type, e.sex AS edit_sex, e.age_min, e.age_max, e.action,
  {", ".join(bit_cols("b", "") + bit_cols("o", "o_"))}
FROM ref_dxc_{t} r JOIN ref_ccbit_{t} b ON b.cc = r.cc
LEFT JOIN ref_editc_{t} e ON e.cid = r.cid
LEFT JOIN ref_ccbit_{t} o ON o.cc = e.cc_override"""
    # apply_edits (CMS model software age/sex edits and MCE age conditions): a firing edit sets its override CC or
    # drops the CC (NULL bits, which bit_or skips)
    chosen = ", ".join(
        f"CASE WHEN fires THEN CASE WHEN action = 'override' THEN o_{n} END ELSE {n} END AS {n}" for n in names
    )
    # the codes without an edit (nearly all) take their bits as they are; only the few with one are judged per row
    plain = ", ".join(f"b.{n}" for n in names)
    grouped = f"""
SELECT mkey, {", ".join(f"bit_or(w{i}) AS p{i}" for i in w)}, {", ".join(f"bit_or({n}) AS {n}" for n in names if not n.startswith("w"))}
FROM (
  SELECT x.mkey, {plain} FROM (SELECT mkey, cid FROM dx WHERE {where}) x
  JOIN (SELECT * FROM ref_cidbits_{t} WHERE NOT has_edit) b ON x.cid = b.cid
  UNION ALL
  SELECT mkey, {chosen} FROM (
    SELECT x.mkey, b.*, (
           (b.edit_type = 'sex' AND b.edit_sex = CASE WHEN x.sex = 'F' THEN 2 ELSE 1 END)
        OR (b.edit_type <> 'sex' AND ((b.age_max IS NOT NULL AND x.age <= b.age_max)
                                   OR (b.age_min IS NOT NULL AND x.age >= b.age_min)))) AS fires
    FROM (SELECT mkey, cid, age, sex FROM dx WHERE {where}) x
    JOIN (SELECT * FROM ref_cidbits_{t} WHERE has_edit) b ON x.cid = b.cid) e) y
WHERE w0 IS NOT NULL
GROUP BY mkey"""
    body = grouped
    for j, cols in enumerate(layers):
        body = f"SELECT *, {cols} FROM ({body}) l{j}"
    final = ", ".join(f"{kept}{i} & ~({drop[i]}) AS f{i}" for i in w)

    def f_eq(a: str, b: str) -> str:  # the same HCC set in tables a and b
        return " AND ".join(f"{a}.f{i} = {b}.f{i}" for i in w)

    def f_cols(a: str) -> str:
        return ", ".join(f"{a}.f{i}" for i in w)

    return [
        # the mapping and edits keyed by ref_codes' integer code id, as the diagnoses are (batch_validate dx_codes);
        # from here on a CC is its number, an INTEGER
        (
            f"ref_dxc_{t}",
            f"SELECT c.cid, CAST(r.cc AS INTEGER) AS cc FROM ref_dx_{t} r JOIN ref_codes c ON r.code = c.code",
        ),
        (
            f"ref_editc_{t}",
            f"SELECT c.cid, e.edit_type, e.sex, e.age_min, e.age_max, e.action, "
            f"CAST(e.cc_override AS INTEGER) AS cc_override FROM ref_edits_{t} e JOIN ref_codes c ON e.code = c.code",
        ),
        (f"ref_cidbits_{t}", cidbits),
        # map_dx_to_cc (CMS ICD-10 mapping of the payment year), apply_edits (CMS model software age/sex edits and
        # MCE age conditions, on the few codes that have one), apply_hierarchies: the payment HCCs of each member
        # with one, as mask words f0, f1, ...
        (
            f"masks_{t}",
            f"SELECT mkey, {final} FROM ({body}) h",
        ),
        (
            f"ref_imask_{t}",
            f"SELECT name, bit_or(CAST({_bit_case('factor', bits)} AS BIGINT)) AS mask FROM ref_inter_{t} GROUP BY name",
        ),
        # the HCC coefficients keyed by segment and CC number (term = prefix || cc; interaction terms such as
        # HCC47_gCancer are not numbers and drop out)
        (
            f"ref_hcoef_{t}",
            f"SELECT segment, hcc, value FROM (SELECT segment, TRY_CAST(substr(term, {len(hcc_prefix) + 1}) AS INTEGER) "
            f"AS hcc, value FROM ref_coef_{t} WHERE starts_with(term, {lit(hcc_prefix)})) c WHERE hcc IS NOT NULL",
        ),
        # each distinct HCC set as its CCs (one row per bit set), then its list, count and interaction group bits
        (
            f"fcc_{t}",
            f"SELECT {f_cols('f')}, b.cc, b.gbits FROM (SELECT DISTINCT {', '.join(f'f{i}' for i in w)} "
            f"FROM masks_{t}) f JOIN ref_ccbit_{t} b ON ({' | '.join(f'(f.f{i} & b.w{i})' for i in w)}) <> 0",
        ),
        (
            f"flist_{t}",
            f"SELECT {', '.join(f'f{i}' for i in w)}, count(*) AS n, {{HCC_LIST}} AS hccs, bit_or(gbits) AS gbits "
            f"FROM fcc_{t} GROUP BY {', '.join(f'f{i}' for i in w)}",
        ),
        # each distinct (segment, scores HCCs, demographic factor bits) of the demographic keys as one small
        # integer, skey: what the members' HCC sets are looked up by
        (
            f"dseg_{t}",
            f"SELECT *, CAST(dense_rank() OVER (ORDER BY segment, scores_hccs, dbits) AS INTEGER) AS skey "
            f"FROM (SELECT k.*, {demo_bits} AS dbits FROM demo_seg_{t} k) k",
        ),
        # each member's segment key and demographic part (demo_seg: segments.select_segment per distinct key) and
        # its payment HCCs when its segment scores them (new enrollee segments do not); no HCC: every word 0
        (
            f"mseg_{t}",
            f"""
SELECT m.rn AS mkey, m.member_id, k.skey, k.demographic, {", ".join(f"coalesce(a.f{i}, 0) AS f{i}" for i in w)}
FROM (SELECT * FROM mem WHERE {where}) m JOIN dseg_{t} k ON k.dkey = m.dkey
LEFT JOIN masks_{t} a ON a.mkey = m.rn AND k.scores_hccs""",
        ),
        # the interactions present for each (segment, factor bits) the members can have (their segments'
        # demographic bits with every HCC set's group bits, or none) and the sum of their coefficients
        (
            f"inter_{t}",
            f"""
SELECT k.segment, k.fbits, sum(c.value) AS interaction
FROM (SELECT DISTINCT d.segment, g.gbits | d.dbits AS fbits
      FROM (SELECT DISTINCT segment, dbits FROM dseg_{t} WHERE scores_hccs) d,
           (SELECT DISTINCT gbits FROM flist_{t} UNION SELECT CAST(0 AS BIGINT) AS gbits) g) k
JOIN ref_imask_{t} i ON (k.fbits & i.mask) = i.mask
LEFT JOIN ref_coef_{t} c ON c.segment = k.segment AND c.term = i.name
GROUP BY k.segment, k.fbits""",
        ),
        # everything the payment HCCs decide, once per distinct (segment key, HCC set): the disease part
        # (sum_coefficients of the HCCs in the segment's table), the HCC list, the interaction part (the group bits
        # of the set with the segment key's demographic bits) and the count variable (looked up once the count is
        # known)
        (
            f"sets_{t}",
            f"""
SELECT s.*, coalesce(l.hccs, {{HCC_EMPTY}}) AS hccs, coalesce(i.interaction, 0) AS interaction,
  coalesce(c.value, 0) AS cnt
FROM (
  SELECT d.skey, d.segment, d.scores_hccs, d.dbits, {f_cols("d")}, coalesce(sum(r.value), 0) AS disease
  FROM (SELECT u.skey, g.segment, g.scores_hccs, g.dbits, {f_cols("u")}
        FROM (SELECT DISTINCT skey, {", ".join(f"f{i}" for i in w)} FROM mseg_{t}) u
        JOIN (SELECT DISTINCT skey, segment, scores_hccs, dbits FROM dseg_{t}) g ON g.skey = u.skey) d
  LEFT JOIN fcc_{t} c ON {f_eq("c", "d")}
  LEFT JOIN ref_hcoef_{t} r ON r.segment = d.segment AND r.hcc = c.cc
  GROUP BY d.skey, d.segment, d.scores_hccs, d.dbits, {f_cols("d")}) s
LEFT JOIN flist_{t} l ON {f_eq("l", "s")}
LEFT JOIN inter_{t} i ON s.segment = i.segment
  AND i.fbits = CASE WHEN s.scores_hccs THEN coalesce(l.gbits, 0) | s.dbits END
LEFT JOIN ref_coef_{t} c ON s.segment = c.segment
  AND c.term = CASE WHEN l.n >= 10 THEN 'D10P' WHEN l.n >= 1 THEN 'D' || CAST(l.n AS VARCHAR) END""",
        ),
        # the parts (trace.score_parts: demographic, disease, interaction, count) and their sum, rounded as CMS
        # does (3 decimals); normalize
        (
            f"scores_{t}",
            f"""
SELECT s.mkey, s.member_id, {lit(model)} AS model, {int(payment_year)} AS payment_year, s.segment, s.risk_score,
  {norm} AS risk_score_normalized, s.hccs, round(s.demographic, 3) AS part_demographic,
  round(s.disease, 3) AS part_disease, round(s.interaction, 3) AS part_interaction, round(s.cnt, 3) AS part_count
FROM (
  SELECT m.mkey, m.member_id, p.segment, p.hccs, m.demographic, p.disease, p.interaction, p.cnt,
    round(m.demographic + p.disease + p.interaction + p.cnt, 3) AS risk_score
  FROM mseg_{t} m JOIN sets_{t} p ON p.skey = m.skey AND {f_eq("p", "m")}) s""",
        ),
    ]


def needs_demographics(stmts: list[tuple[str, str]], tag: str) -> int:
    """The index of the first of model_statements(tag, ...) that reads demo_seg_<tag>: the statements before it read
    the diagnoses and reference rows only."""
    return next(i for i, (_, sql) in enumerate(stmts) if f"demo_seg_{tag}" in sql)


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


def demographic_rows(keys: list[int], model: str, tables: ModelTables) -> Rows:
    """Score each distinct demographic key (demo_key_sql's integer) with segments.select_segment (the one definition
    of segments) and sum its demographic terms with steps.sum_coefficients (the one coefficient lookup, extra terms
    of other segments included): a few thousand keys instead of a join per member.

    Returns demo_seg: dkey + segment, disabled, aged, scores_hccs, demographic (the unrounded sum of the key's
    demographic coefficients: score_parts' 'demographic' part before rounding)."""
    cols: tuple[list, ...] = ([], [], [], [], [], [])
    dkey, segment, disabled, aged, scores_hccs, demographic_part = cols
    sums: dict[tuple, float] = {}  # the demographic sum depends only on the segment and its terms
    for key in keys:
        age, sex, dual, orec, lti, new_enrollee, esrd, snp, graft, low_income = decode_key(key)  # DEMO_KEY order
        d = derive(
            age,
            sex,
            dual,
            orec,
            lti=lti,
            new_enrollee=new_enrollee,
            esrd=esrd,
            snp=snp,
            graft_months=graft,
            low_income=low_income,
        )
        seg = select_segment(d, model)
        terms = (seg.segment, seg.demographic_terms, seg.extra_terms)
        demographic = sums.get(terms)
        if demographic is None:
            factors, _ = sum_coefficients(seg, frozenset(), [], None, tables)
            demographic = sums[terms] = float(sum(f.value for f in factors if f.kind == "demographic"))
        dkey.append(key)
        segment.append(seg.segment)
        disabled.append(d.disabled)
        aged.append(d.aged)
        scores_hccs.append(seg.scores_hccs)
        demographic_part.append(demographic)
    names = ("dkey", "segment", "disabled", "aged", "scores_hccs", "demographic")
    types = ("BIGINT", "VARCHAR", "BOOLEAN", "BOOLEAN", "BOOLEAN", "DOUBLE")
    return Rows({n: (t, c) for n, t, c in zip(names, types, cols, strict=True)})
