"""Instructional notes of a code: those printed on it and those it inherits.

ICD-10-CM Official Guidelines for Coding and Reporting, Section I.A (conventions): Includes, Excludes1,
Excludes2, Code first, Use additional code, Code also and general notes printed at a chapter, block (range of
categories) or category apply to every code below them. Inclusion terms and the 7th-character note describe the
code they are printed under and are not inherited. 7th characters come from the nearest ancestor that defines
them (`seventh_characters`, Section I.A.5 and the tabular's sevenChrDef).
"""

from __future__ import annotations

from hccguide.codes.store import CodeStore, code_store
from hccguide.icd10 import dot, undot
from hccguide.kb.open import KB

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


# Notes that name other codes a coder must weigh for this one (Guidelines I.A.12-I.A.13): printed on the code, on
# an ancestor code or on its block; at the chapter level only the notes that ask for another code (chapter-wide
# Excludes2 lists name whole chapters, not confusable codes).
RULE_TYPES = ("excludes1", "excludes2", "use_additional_code", "code_first", "code_also")
CHAPTER_RULE_TYPES = ("use_additional_code", "code_first", "code_also")


def resolve_ref(store: CodeStore, code_set: str, ref: str) -> list[str]:
    """The existing codes (dotted) a printed reference names: 'M46.2-' -> ['M46.2'], 'B95-B97' -> ['B95', 'B97'],
    'A54.43' -> ['A54.43'], 'I70.2--I70.7' -> ['I70.2', 'I70.7']. A reference to a code the code set lacks (a tabular erratum such as 'G31.90') gives
    []; callers keep the printed text and report it as unresolved."""
    parts = [p.strip().rstrip(".") for p in ref.strip().split("-")]
    parts = [p for p in parts if p]  # 'M46.2-' and 'F10.--F19': the '-' wildcard leaves empty parts
    if not parts:
        return []
    out = []
    for part in parts:
        row = store.codes.get((code_set, undot(part)))
        if row is None:
            return []
        out.append(row["code_dotted"])
    return out


def _node_rules(store: CodeStore, code_set: str, kind: str, node: str, label: str) -> list[dict]:
    """The RULE_TYPES notes of one node, lead-ins joined and references resolved; cached on the store."""
    key = (code_set, kind, node)
    cached = store.rule_cache.get(key)
    if cached is not None:
        return cached
    types = CHAPTER_RULE_TYPES if kind == "chapter" else RULE_TYPES
    lead: dict[str, str] = {}
    out: list[dict] = []
    for r in store.notes.get(key, []):
        note_type = r["note_type"]
        if note_type not in types:
            continue
        text = r["text"]
        if not r["refs"] and text.endswith(":"):
            lead[note_type] = text
            continue
        codes: list[str] = []
        unresolved: list[str] = []
        ref_codes: list[list[str]] = []
        for ref in r["refs"]:
            named = resolve_ref(store, code_set, ref)
            ref_codes.append(named)
            codes += [c for c in named if c not in codes]
            if not named:
                unresolved.append(ref)
        out.append(
            {
                "type": note_type,
                "text": f"{lead[note_type]} {text}" if note_type in lead else text,
                "item": text,
                "from": label,
                "from_kind": kind,
                "own": False,
                "refs": list(r["refs"]),
                "ref_codes": ref_codes,
                "codes": codes,
                "unresolved": unresolved,
            }
        )
    store.rule_cache[key] = out
    return out


def rule_notes(kb: KB, row: dict, ancestor_rows: list[dict]) -> list[dict]:
    """Notes of RULE_TYPES that apply to `row`: its own, its ancestor codes' (nearest first), its block's, and
    the chapter's notes asking for another code. A lead-in item ending in ':' ('osteomyelitis due to:') is joined
    to the items printed under it. Returns [{type, text, item, from, from_kind, own, refs, ref_codes, codes,
    unresolved}]: `ref_codes` the existing dotted codes each ref names, `codes` all of them, `unresolved` the refs
    naming no code of the code set (tabular errata such as 'G31.90'). The dicts are shared: do not mutate them."""
    store = code_store(kb)
    code_set = row["code_set"]
    out = [{**n, "own": True} for n in _node_rules(store, code_set, "code", row["code"], row["code_dotted"])]
    for a in reversed(ancestor_rows):
        out += _node_rules(store, code_set, "code", a["code"], a["code_dotted"])
    out += _node_rules(store, code_set, "block", row["block_id"], row["block_id"])
    out += _node_rules(store, code_set, "chapter", str(row["chapter"]), f"chapter {row['chapter']}")
    return out
