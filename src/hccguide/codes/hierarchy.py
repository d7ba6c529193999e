"""Where a code sits in the tabular: chapter, block, ancestors, children, siblings, billable codes below it.

All from the KB `codes`, `blocks` and `chapters` tables (CDC ICD-10-CM tabular of the chosen code set).
"""

from __future__ import annotations

from hccguide.kb.open import KB

_BRIEF = "code_dotted AS code, title, billable"


def ancestors(kb: KB, row: dict) -> list[dict]:
    """Ancestor rows (full `codes` rows), category first, parent last."""
    chain: list[dict] = []
    parent = row["parent"]
    while parent:
        rows = kb.query("SELECT * FROM codes WHERE code_set = ? AND code = ?", [row["code_set"], parent])
        if not rows:
            break
        chain.append(rows[0])
        parent = rows[0]["parent"]
    return list(reversed(chain))


def children(kb: KB, row: dict) -> list[dict]:
    """Direct children as {code, title, billable}, in tabular order."""
    return kb.query(
        f"SELECT {_BRIEF} FROM codes WHERE code_set = ? AND parent = ? ORDER BY seq", [row["code_set"], row["code"]]
    )


def siblings(kb: KB, row: dict) -> list[dict]:
    """Codes with the same parent (for a category: the other categories of its block), self excluded."""
    if row["parent"]:
        return kb.query(
            f"SELECT {_BRIEF} FROM codes WHERE code_set = ? AND parent = ? AND code <> ? ORDER BY seq",
            [row["code_set"], row["parent"], row["code"]],
        )
    return kb.query(
        f"SELECT {_BRIEF} FROM codes WHERE code_set = ? AND block_id = ? AND parent IS NULL AND code <> ? ORDER BY seq",
        [row["code_set"], row["block_id"], row["code"]],
    )


def billable_descendants(kb: KB, row: dict, limit: int = 200) -> tuple[list[dict], int]:
    """Billable codes below a header (first `limit`, tabular order) and their total count."""
    if row["billable"]:
        return [], 0
    params = [row["code_set"], row["code"] + "%", row["code"]]
    total = kb.query(
        "SELECT count(*) AS n FROM codes WHERE code_set = ? AND code LIKE ? AND code <> ? AND billable", params
    )[0]["n"]
    rows = kb.query(
        f"SELECT {_BRIEF} FROM codes WHERE code_set = ? AND code LIKE ? AND code <> ? AND billable ORDER BY seq LIMIT ?",
        [*params, limit],
    )
    return rows, total


def chapter_and_block(kb: KB, row: dict) -> tuple[dict, dict]:
    """({number, range, title}, {range, title}) of a code."""
    chapter = kb.query(
        "SELECT chapter, first_code, last_code, title FROM chapters WHERE code_set = ? AND chapter = ?",
        [row["code_set"], row["chapter"]],
    )[0]
    block = kb.query(
        "SELECT block_id, title FROM blocks WHERE code_set = ? AND block_id = ?", [row["code_set"], row["block_id"]]
    )[0]
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
    rows = kb.query("SELECT code_set FROM codes WHERE code = ? ORDER BY code_set DESC", [code])
    return [r["code_set"] for r in rows]
