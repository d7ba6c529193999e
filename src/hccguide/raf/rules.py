"""RAF rules kept as data, read once by both paths (raf/steps.py + segments.py for one member, the batch SQL):

- ``member_codes.csv``: dual status codes (CMS MMR / MARx) and sex codes (CMS model software SEX) -> class;
- ``hierarchy_patches.csv``: the V28 heart patch (CMS-HCC V28 software V2826T1M): a CC that counts only with one of
  the listed CCs;
- ``bill_types.csv``: facility bill types of the CMS encounter-data filtering (inpatient: kept; outpatient: kept
  with an eligible CPT/HCPCS code);
- ``segments.csv`` (segment labels, ESRD graft normalization) and ``model_aliases.csv`` are read by kb/reference.py.
Each row cites its CMS document; a rule change is one edit of a file, and tests/raf/test_batch.py proves the two
paths still agree on 10,000 members.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from hccguide.kb.reference import rule_rows


@cache
def member_codes(field: str) -> dict[str, str]:
    """{upper-cased value: class} of one field of member_codes.csv: 'dual_status' -> {'02': 'full', 'NON': 'non',
    ...}; 'sex' -> {'F': 'F', '2': 'F', 'MALE': 'M', ...}."""
    return {r["value"].strip().upper(): r["class"] for r in rule_rows("member_codes.csv") if r["field"] == field}


def dual_key(value: str) -> str:
    """The lookup form of a dual status: trimmed, upper case, a single digit padded to two ('2' -> '02')."""
    v = value.strip()
    return "0" + v if len(v) == 1 and v in "0123456789" else v.upper()


@dataclass(frozen=True)
class HierarchyPatch:
    """`cc` counts only when the member also has one of `needs_any` (applied before the hierarchy table)."""

    model: str
    cc: str
    needs_any: frozenset[str]
    source: str


@cache
def hierarchy_patches() -> dict[str, tuple[HierarchyPatch, ...]]:
    """{model: patches} from hierarchy_patches.csv."""
    out: dict[str, list[HierarchyPatch]] = {}
    for r in rule_rows("hierarchy_patches.csv"):
        out.setdefault(r["model"], []).append(
            HierarchyPatch(r["model"], r["cc"], frozenset(r["needs_any"].split()), r["source"])
        )
    return {k: tuple(v) for k, v in out.items()}


@cache
def bill_types(kind: str) -> tuple[str, ...]:
    """The two-character facility bill types of `kind` ('inpatient' | 'outpatient') in bill_types.csv."""
    return tuple(r["bill2"] for r in rule_rows("bill_types.csv") if r["kind"] == kind)
