"""The RAF steps, one function each, in the order of the CMS model software:

map_dx_to_cc → apply_edits → apply_hierarchies → add_interactions → sum_coefficients → normalize.

Each step is pure: it takes the reference rows (a `ModelTables`) and returns new values plus what the trace needs.
The batch engines (engine_duckdb.py, engine_spark.py) express the same steps in SQL over the same tables and
data files; tests/raf/test_batch_equals_single.py and the peer suite prove them equal on ≥ 10,000 members.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from hccguide.icd10 import undot
from hccguide.raf.mce_edits import SexEdits, conflict_on, conflict_reason
from hccguide.raf.rules import hierarchy_patches
from hccguide.raf.segments import Demographics, Segment
from hccguide.raf.tables import ModelTables, new_code_reason, term_key


def round_cms(x: float, places: int = 3) -> float:
    """Round half up to `places` decimals, as CMS rounds risk scores (normalized, then after the MA coding
    pattern adjustment, each to 3 decimals). The 1e-9 nudge makes the result identical in Python, DuckDB and
    Spark whatever the order in which floats were added. The same expression is used in the SQL engines."""
    scale = 10**places
    return math.floor(x * scale + 0.5 + 1e-9) / scale


def clean_code(raw: str | None) -> str:
    """'  e11.22 ' -> 'E1122' (surrounding spaces and dots removed, upper case): hccguide.icd10.undot."""
    return undot(raw or "")


@dataclass(frozen=True)
class DxResult:
    input: str
    code: str
    ccs: tuple[str, ...]
    status: str  # 'mapped' | 'no_hcc' | 'invalid_code' | 'empty' | 'sex_conflict'
    reason: str
    date_of_service: str | None = None  # ISO date, when one was given


DxInput = str | tuple[str, date | None]


def map_dx_to_cc(
    dx_codes: list[DxInput],
    tables: ModelTables,
    valid: frozenset[str],
    *,
    sex: str | None = None,
    sex_edits: SexEdits | None = None,
    new_codes: Mapping[str, int] | None = None,
) -> list[DxResult]:
    """Map each diagnosis to its CCs (CMS ICD-10 mapping of the payment year). Every input gets a row: an empty
    or non-existent code, and a valid code that maps to no CC, are reported, never dropped silently.

    A diagnosis is a code or (code, date of service). With the member's `sex` and the MCE restrictions
    (`mce_edits.sex_edits`), a dated code that the CMS Medicare Code Editor of that date restricts to the other sex
    gets status 'sex_conflict' and no CC (MCE "diagnoses for males only / females only"; KB mce_sex_edits).
    A code is reported once, or twice when it is dated both inside and outside a conflict.

    `new_codes` ({code: fiscal year}, tables.new_codes): a code new in the newest code set (FY2027) that the
    payment year's mapping does not hold is 'no_hcc' with the reason that CMS's later mapping must be loaded (an
    HCC is never inferred from its parent code)."""
    out: list[DxResult] = []
    seen: set[tuple[str, bool]] = set()
    for item in dx_codes:
        raw, dos = (item, None) if item is None or isinstance(item, str) else item
        iso = dos.isoformat() if dos else None
        code = clean_code(raw)
        if not code:
            out.append(DxResult(raw, code, (), "empty", "empty diagnosis code", iso))
            continue
        hit = conflict_on(sex_edits, code, sex, dos) if sex_edits and sex and dos else None
        if (code, hit is not None) in seen:
            continue
        seen.add((code, hit is not None))
        ccs = tables.dx_to_cc.get(code)
        if hit is not None and (ccs or code in valid):
            out.append(DxResult(raw, code, (), "sex_conflict", conflict_reason(hit), iso))
        elif ccs:
            out.append(DxResult(raw, code, ccs, "mapped", f"maps to CC {', '.join(ccs)}", iso))
        elif new_codes and code in new_codes:
            reason = new_code_reason(new_codes[code], tables.payment_year)
            out.append(DxResult(raw, code, (), "no_hcc", reason, iso))
        elif code in valid:
            out.append(
                DxResult(raw, code, (), "no_hcc", f"valid ICD-10-CM code; not in the {tables.model} payment model", iso)
            )
        else:
            out.append(
                DxResult(raw, code, (), "invalid_code", "not a billable ICD-10-CM code in any loaded code set", iso)
            )
    return out


@dataclass(frozen=True)
class EditResult:
    code: str
    cc_from: str
    cc_to: str | None  # None = diagnosis removed
    rule: str


def _edit_fires(rule, d: Demographics) -> bool:  # type: ignore[no-untyped-def]
    if rule.edit_type == "sex":
        return rule.sex == (2 if d.sex == "F" else 1)
    # age edits: age_max set fires at age <= age_max; age_min set fires at age >= age_min (a bounded valid range is
    # stored as both and fires outside it). CMS model software V28I0ED / V24I0ED, and the MCE age conditions.
    return (rule.age_max is not None and d.age <= rule.age_max) or (rule.age_min is not None and d.age >= rule.age_min)


def apply_edits(
    mapped: list[DxResult], d: Demographics, tables: ModelTables
) -> tuple[dict[str, set[str]], list[EditResult]]:
    """Apply the age/sex edits of the CMS model software to each mapped diagnosis.

    Returns {cc: {codes}} after edits and the list of edits that fired (for the trace).
    """
    cc_to_dx: dict[str, set[str]] = {}
    fired: list[EditResult] = []
    for m in mapped:
        if m.status != "mapped":
            continue
        rules = tables.edits.get(m.code, ())
        hit = next((r for r in rules if _edit_fires(r, d)), None)
        if hit is None:
            for cc in m.ccs:
                cc_to_dx.setdefault(cc, set()).add(m.code)
            continue
        for cc in m.ccs:
            if hit.action == "override" and hit.cc_override:
                cc_to_dx.setdefault(hit.cc_override, set()).add(m.code)
                fired.append(EditResult(m.code, cc, hit.cc_override, hit.description or hit.edit_type))
            else:
                fired.append(EditResult(m.code, cc, None, hit.description or hit.edit_type))
    return cc_to_dx, fired


@dataclass(frozen=True)
class Dropped:
    hcc: str
    by: str | None  # the parent HCC that dropped it, None for the heart patch
    rule: str


def apply_hierarchies(ccs: frozenset[str], tables: ModelTables) -> tuple[frozenset[str], list[Dropped]]:
    """Drop every CC that a higher-ranked CC of the same family excludes (CMS hierarchy table); V28 also applies
    the heart patch first. Returns the kept HCCs and each dropped one with the HCC that dropped it."""
    dropped: list[Dropped] = []
    current = set(ccs)
    for patch in hierarchy_patches().get(tables.model, ()):  # raf/hierarchy_patches.csv: the V28 heart patch
        if patch.cc in current and not (current & patch.needs_any):
            current.discard(patch.cc)
            needs = "/".join(sorted(patch.needs_any, key=_cc_key))
            dropped.append(Dropped(patch.cc, None, f"V28 heart patch: CC{patch.cc} needs CC{needs} (V2826T1M)"))
    remove: dict[str, str] = {}
    for parent in sorted(current, key=_cc_key):
        for child in tables.hierarchy.get(parent, ()):
            if child in current and child not in remove:
                remove[child] = parent
    for child, parent in sorted(remove.items(), key=lambda kv: _cc_key(kv[0])):
        dropped.append(Dropped(child, parent, tables.hierarchy_source))
    return frozenset(current - set(remove)), dropped


def _cc_key(cc: str) -> tuple[int, str]:
    return (int(cc), cc) if cc.isdigit() else (10**9, cc)


@dataclass(frozen=True)
class InteractionHit:
    name: str
    because: tuple[str, ...]


def add_interactions(
    hccs: frozenset[str], d: Demographics, tables: ModelTables
) -> tuple[list[InteractionHit], str | None]:
    """Disease–disease and disabled interactions that fire (interactions.csv), and the payment-HCC count variable
    (D1..D9, D10P: number of HCCs after hierarchies; CMS 21st Century Cures Act count variables, from PY2020)."""
    hits = []
    groups = tables.spec.groups
    for inter in tables.spec.interactions:
        because = []
        ok = True
        for f in inter.factors:
            if f == "DISABLED":
                ok = ok and d.disabled
                because.append("disabled (age < 65, OREC ≠ 0)")
            elif f == "NONAGED":
                ok = ok and not d.aged
                because.append("non-aged")
            else:
                members = groups[f] & hccs
                ok = ok and bool(members)
                because.append(f"{f}: HCC {', '.join(sorted(members, key=_cc_key))}" if members else f)
            if not ok:
                break
        if ok:
            hits.append(InteractionHit(inter.name, tuple(because)))
    n = len(hccs)
    count = None if n == 0 else (f"D{n}" if n < 10 else "D10P")
    return hits, count


@dataclass(frozen=True)
class Factor:
    name: str  # CMS variable name, e.g. 'CNA_F70_74'
    kind: str  # 'demographic' | 'hcc' | 'interaction' | 'count'
    term: str
    value: float
    label: str | None = None


def sum_coefficients(
    segment: Segment, hccs: frozenset[str], hits: list[InteractionHit], count: str | None, tables: ModelTables
) -> tuple[list[Factor], float]:
    """Look up every term of the member in the segment's coefficient table and add them up.

    Terms without a coefficient in the segment (e.g. the disabled interactions in a community table) contribute
    nothing, exactly as in the CMS software where their coefficient is 0. Raw score rounded to 3 decimals (every
    coefficient has 3, so this only removes float noise).
    """
    seg = segment.segment
    prefix = "RXHCC" if tables.model.startswith("RxHCC") else "HCC"
    factors: list[Factor] = []

    def look(seg_name: str, term: str, kind: str, label: str | None = None) -> None:
        hit = tables.coefficients.get((seg_name, term_key(term)))
        if hit is not None:
            factors.append(Factor(hit[0], kind, term, hit[1], label))

    for t in segment.demographic_terms:
        look(seg, t, "demographic")
    for s, t in segment.extra_terms:
        look(s, t, "demographic")
    if segment.scores_hccs:
        for cc in sorted(hccs, key=_cc_key):
            look(seg, f"{prefix}{cc}", "hcc", tables.labels.get(cc))
        for h in hits:
            look(seg, h.name, "interaction")
        if count:
            look(seg, count, "count")
    raw = round(sum(f.value for f in factors), 3)
    return factors, raw


def normalize(
    raw: float, normalization_factor: float | None, ma_coding_adjustment: float | None
) -> tuple[float | None, float | None]:
    """(normalized, payment): raw / normalization rounded to 3 decimals, then × (1 − MA coding pattern adjustment)
    rounded to 3 decimals (CMS Rate Announcement, Attachment VI: normalization and MA coding pattern adjustment).
    None where the payment-year constant is unknown."""
    if normalization_factor is None:
        return None, None
    normalized = round_cms(raw / normalization_factor)
    if ma_coding_adjustment is None:
        return normalized, None
    return normalized, round_cms(normalized * (1 - ma_coding_adjustment))
