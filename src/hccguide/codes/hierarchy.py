"""Where a code sits in the tabular: chapter, block, ancestors, children, siblings, billable codes below it.

All from the KB `codes`, `blocks` and `chapters` tables (CDC ICD-10-CM tabular of the chosen code set), read
through the in-memory `code_store`.
"""

from __future__ import annotations

from hccguide.codes.store import code_store
from hccguide.kb.open import KB


def brief(row: dict) -> dict:
    """{code (dotted), title, billable} of a codes row."""
    return {"code": row["code_dotted"], "title": row["title"], "billable": row["billable"]}


def ancestors(kb: KB, row: dict) -> list[dict]:
    """Ancestor rows (full `codes` rows), category first, parent last."""
    store = code_store(kb)
    chain: list[dict] = []
    parent = row["parent"]
    while parent and (row["code_set"], parent) in store.codes:
        chain.append(store.codes[(row["code_set"], parent)])
        parent = chain[-1]["parent"]
    return list(reversed(chain))


def children(kb: KB, row: dict) -> list[dict]:
    """Direct children as {code, title, billable}, in tabular order."""
    return [brief(r) for r in code_store(kb).children.get((row["code_set"], row["code"]), [])]


def siblings(kb: KB, row: dict) -> list[dict]:
    """Codes with the same parent (for a category: the other categories of its block), self excluded."""
    store = code_store(kb)
    if row["parent"]:
        pool = store.children.get((row["code_set"], row["parent"]), [])
    else:
        pool = store.block_categories.get((row["code_set"], row["block_id"]), [])
    return [brief(r) for r in pool if r["code"] != row["code"]]


def billable_descendants(kb: KB, row: dict, limit: int = 200) -> tuple[list[dict], int]:
    """Billable codes below a header (first `limit`, tabular order) and their total count."""
    if row["billable"]:
        return [], 0
    rows = code_store(kb).billable_under(row["code_set"], row["code"])
    return [brief(r) for r in rows[:limit]], len(rows)


def chapter_and_block(kb: KB, row: dict) -> tuple[dict, dict]:
    """({number, range, title}, {range, title}) of a code."""
    store = code_store(kb)
    chapter = store.chapters[(row["code_set"], row["chapter"])]
    block = store.blocks[(row["code_set"], row["block_id"])]
    return (
        {
            "number": chapter["chapter"],
            "range": f"{chapter['first_code']}-{chapter['last_code']}",
            "title": chapter["title"],
        },
        {"range": block["block_id"], "title": block["title"]},
    )


def code_sets_containing(kb: KB, code: str) -> list[str]:
    """Loaded code sets (newest first) whose tabular contains the code (header or billable)."""
    return list(code_store(kb).code_sets_of.get(code, []))
