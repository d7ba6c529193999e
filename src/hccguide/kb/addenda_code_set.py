"""A code set built from the previous year's tabular plus CDC's order-file addenda (FY2027 = FY2026 + addenda).

Why: no package ships the CDC FY2027 tabular; the FY2027 order addenda (CDC NCHS, vendored, see
sources/files.py VENDORED) give every FY2027 code, header and title. `derive(base, addenda, "FY2027")` returns a
`Tabular` for the KB like a parsed one, with:

- codes: every FY2026 row still present (a `Delete:` without a matching `Add:` removes it), billable flags changed
  where the addenda delete and re-add a code with the other flag (`Delete: 1 I420` + `Add: 0 I420`: I42.0 becomes a
  header), titles revised (`Revise to:` long title), and every `Add:` row (long title). A new row's parent is its
  longest prefix present in FY2027; its block and chapter are its category's; its 7th-character source is its
  parent's (a 7-character leaf under such a parent is an 'extension' row). A new category (FY2027: QA1) has no
  block or chapter in the addenda: chapter 0 and block 'unplaced:QA1', whose rows say "not known without the
  FY2027 tabular" (never guessed). `seq` renumbers the tabular order, new codes placed among their siblings in
  code order (QA1 last).
- chapters, blocks, notes, seventh_characters: the FY2026 rows of nodes still present, unchanged. The new codes
  inherit notes from their FY2026 ancestors through the usual inheritance; `NOTES_LABEL` says so wherever shown.
- changes: one row per code the addenda touch (see schema.sql `code_changes`).

Checks (SourceError on failure): the FY2026 counts equal the addenda summary (74,719 codes, 23,467 headers), the
FY2027 counts equal it (74,879 codes, 23,524 headers), every row is billable exactly when it has no children.
"""

from __future__ import annotations

from collections import defaultdict

from hccguide.errors import SourceError
from hccguide.icd10 import dot
from hccguide.sources.cdc_addenda import Addenda
from hccguide.sources.cdc_tabular import Tabular

NOTES_LABEL = "notes as of FY2026; FY2027 note changes not loaded"
UNPLACED = "not known without the FY2027 tabular"


def notes_label(base_code_set: str, code_set: str) -> str:
    return f"notes as of {base_code_set}; {code_set} note changes not loaded"


def derive(base: Tabular, addenda: Addenda, code_set: str, source_key: str) -> tuple[Tabular, list[dict]]:
    """(the derived code set, its `code_changes` rows). See the module docstring. Raises SourceError."""
    fiscal_year = int(code_set.removeprefix("FY"))
    old = {r["code"]: r for r in base.codes}
    _check_counts(addenda, old, "from", base.code_set)
    deleted = {c.code: c for c in addenda.of("delete")}
    added = {c.code: c for c in addenda.of("add")}
    revised = {c.code: c for c in addenda.of("revise_to")}
    revised_from = {c.code: c for c in addenda.of("revise_from")}
    unknown = sorted(c for c in set(deleted) | set(revised) if c not in old)
    if unknown:
        raise SourceError(
            f"{code_set} addenda delete or revise codes {base.code_set} does not have: {unknown[:5]}",
            field="addenda",
            value=unknown[:5],
            fix=f"use the addenda that follows the {base.code_set} release",
        )
    rows: dict[str, dict] = {}
    for code, row in old.items():
        if code in deleted and code not in added:
            continue
        new = dict(row, code_set=code_set, change=None, previous_title=None)
        if code in added:  # deleted and re-added: the flag changes (billable -> header, or back)
            new["billable"] = added[code].billable
            new["change"] = "now_header" if not added[code].billable else "now_billable"
            if not new["billable"] and new["level"] in ("code", "extension"):
                new["level"] = "subcategory" if len(code) > 3 else "category"
        if code in revised:
            new["previous_title"], new["title"], new["change"] = row["title"], revised[code].title, "revised"
        rows[code] = new
    for code in sorted(c for c in added if c not in old):
        change = added[code]
        parent = next((code[:n] for n in range(len(code) - 1, 2, -1) if code[:n] in rows), None)
        category = rows.get(code[:3])
        parent_row = rows.get(parent) if parent else None
        seventh_src = parent_row["seventh_char_source"] if parent_row else None
        extension = change.billable and len(code) == 7 and seventh_src is not None
        rows[code] = {
            "code_set": code_set,
            "code": code,
            "code_dotted": dot(code),
            "title": change.title,
            "billable": change.billable,
            "level": "category"
            if len(code) == 3
            else "extension"
            if extension
            else "code"
            if change.billable
            else "subcategory",
            "depth": len(code),
            "parent": parent,
            "block_id": category["block_id"] if category else f"unplaced:{code[:3]}",
            "chapter": category["chapter"] if category else 0,
            "seventh_char_source": seventh_src,
            "seventh_char": code[6] if extension else None,
            "seq": 0,
            "change": "added",
            "previous_title": None,
        }
    _renumber(rows, old)
    _check_leaves(rows, code_set)
    derived = Tabular(code_set=code_set, fiscal_year=fiscal_year)
    derived.codes = sorted(rows.values(), key=lambda r: r["seq"])
    _check_counts(addenda, rows, "to", code_set)
    present_blocks = {r["block_id"] for r in rows.values()}
    derived.chapters = [dict(r, code_set=code_set) for r in base.chapters]
    derived.blocks = [dict(r, code_set=code_set) for r in base.blocks]
    for category in sorted({r["code"] for r in rows.values() if r["block_id"].startswith("unplaced:")}):
        derived.blocks.append(
            {
                "code_set": code_set,
                "block_id": f"unplaced:{category}",
                "chapter": 0,
                "first_code": category,
                "last_code": category,
                "title": f"Block of {category}: {UNPLACED}",
                "seq": len(derived.blocks),
            }
        )
    if any(b.startswith("unplaced:") for b in present_blocks):
        derived.chapters.append(
            {"code_set": code_set, "chapter": 0, "first_code": "", "last_code": "", "title": f"Chapter {UNPLACED}"}
        )
    derived.notes = [dict(n, code_set=code_set) for n in base.notes if n["node_kind"] != "code" or n["node"] in rows]
    derived.seventh_characters = [dict(s, code_set=code_set) for s in base.seventh_characters if s["node"] in rows]
    changes = []
    for c in addenda.changes:
        if c.action == "revise_from":
            continue
        if c.action == "delete" and c.code in added:
            continue  # recorded once, as the flag change of the Add line
        if c.action == "add" and c.code in old:
            kind = "now_header" if not c.billable else "now_billable"
        else:
            kind = {"add": "added", "delete": "deleted", "revise_to": "revised"}[c.action]
        changes.append(
            {
                "code_set": code_set,
                "code": c.code,
                "code_dotted": dot(c.code),
                "change": kind,
                "billable_before": old[c.code]["billable"] if c.code in old else None,
                "billable_after": rows[c.code]["billable"] if c.code in rows else None,
                "title": c.title,
                "previous_title": revised_from[c.code].title if c.code in revised_from else None,
                "addenda_line": c.line,
                "source_key": source_key,
            }
        )
    return derived, changes


def _renumber(rows: dict[str, dict], old: dict[str, dict]) -> None:
    """Tabular order: FY2026 order, a new code placed among its siblings in code order, new categories last."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for code, row in rows.items():
        children[row["parent"]].append(code)
    for parent, kids in children.items():
        existing = sorted((k for k in kids if k in old), key=lambda k: old[k]["seq"])
        new = sorted(k for k in kids if k not in old)
        if parent is None:
            children[parent] = existing + new
            continue
        merged = list(existing)
        for k in new:
            at = next((i for i, e in enumerate(merged) if e > k), len(merged))
            merged.insert(at, k)
        children[parent] = merged
    seq = 0
    stack = list(reversed(children[None]))
    while stack:
        code = stack.pop()
        seq += 1
        rows[code]["seq"] = seq
        stack.extend(reversed(children.get(code, [])))
    if seq != len(rows):
        raise SourceError("the derived hierarchy is not a tree", field="codes", value=len(rows) - seq)


def _check_leaves(rows: dict[str, dict], code_set: str) -> None:
    has_children = {r["parent"] for r in rows.values() if r["parent"]}
    wrong = sorted(c for c, r in rows.items() if r["billable"] == (c in has_children))
    if wrong:
        raise SourceError(
            f"{code_set}: billable flags disagree with the hierarchy for {wrong[:5]}",
            field="addenda",
            value=wrong[:5],
            fix="the addenda must follow the base code set's release",
        )


def _check_counts(addenda: Addenda, rows: dict[str, dict], when: str, code_set: str) -> None:
    billable = sum(1 for r in rows.values() if r["billable"])
    headers = len(rows) - billable
    want = (addenda.summary.get(f"codes_{when}"), addenda.summary.get(f"headers_{when}"))
    if want != (billable, headers):
        raise SourceError(
            f"{code_set}: {billable} codes and {headers} headers, the addenda summary says {want[0]} and {want[1]}",
            field="addenda",
            value=code_set,
            fix="use the addenda that follows the base code set's release",
        )
