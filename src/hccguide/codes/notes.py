"""Instructional notes of a code: those printed on it and those it inherits.

ICD-10-CM Official Guidelines for Coding and Reporting, Section I.A (conventions): Includes, Excludes1,
Excludes2, Code first, Use additional code, Code also and general notes printed at a chapter, block (range of
categories) or category apply to every code below them. Inclusion terms and the 7th-character note describe the
code they are printed under and are not inherited. 7th characters come from the nearest ancestor that defines
them (`seventh_characters`, Section I.A.5 and the tabular's sevenChrDef).
"""

from __future__ import annotations

from hccguide.codes.store import code_store
from hccguide.kb.open import KB
from hccguide.sources.cdc_tabular import dot

NOTE_TYPES = (
    "inclusion_term",
    "includes",
    "excludes1",
    "excludes2",
    "code_first",
    "use_additional_code",
    "code_also",
    "notes",
    "seventh_char_note",
)
INHERITED_TYPES = ("includes", "excludes1", "excludes2", "code_first", "use_additional_code", "code_also", "notes")


def own_notes(kb: KB, code_set: str, code: str) -> dict[str, list[str]]:
    """Notes printed on the code itself: {note_type: [text, ...]} with every type present (empty lists)."""
    rows = code_store(kb).notes.get((code_set, "code", code), [])
    out: dict[str, list[str]] = {t: [] for t in NOTE_TYPES}
    for row in rows:
        out[row["note_type"]].append(row["text"])
    return out


def inherit_notes(kb: KB, row: dict, ancestor_rows: list[dict]) -> list[dict]:
    """Notes that apply to `row` from its ancestors (nearest first), then its block, then its chapter.

    Returns [{type, text, from, from_kind, refs}] where `from` is the dotted ancestor code, the block range or
    the chapter number.
    """
    code_set = row["code_set"]
    store = code_store(kb)
    sources: list[tuple[str, str, str]] = [("code", a["code"], a["code_dotted"]) for a in reversed(ancestor_rows)]
    sources += [("block", row["block_id"], row["block_id"]), ("chapter", str(row["chapter"]), str(row["chapter"]))]
    out = []
    for kind, node, label in sources:
        rows = [r for r in store.notes.get((code_set, kind, node), []) if r["note_type"] in INHERITED_TYPES]
        out += [
            {"type": r["note_type"], "text": r["text"], "from": label, "from_kind": kind, "refs": list(r["refs"])}
            for r in rows
        ]
    return out


def seventh_characters(kb: KB, row: dict) -> dict | None:
    """{from, characters: [{character, meaning}]} for a code needing (or carrying) a 7th character, else None."""
    source = row["seventh_char_source"]
    if not source:
        return None
    chars = [
        {"character": r["character"], "meaning": r["meaning"]}
        for r in code_store(kb).seventh.get((row["code_set"], source), [])
    ]
    return {"from": dot(source), "characters": chars, "this_code": row["seventh_char"]}
