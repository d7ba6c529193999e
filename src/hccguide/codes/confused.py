"""Commonly confused codes: siblings that differ on one axis, Excludes1 targets, and codes elsewhere in the
chapter with a near-identical title, each with a one-line difference.

Sources: the KB `codes` and `notes` tables (CDC tabular of the chosen code set). Near-identical titles are found
with rapidfuzz's token_set_ratio (>= 90) among the chapter's billable codes outside the code's own category.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from hccguide.codes.meat import differing_axes, one_line_difference
from hccguide.kb.open import KB
from hccguide.sources.cdc_tabular import code_refs, undot

NEAR_TITLE_SCORE = 90


_CHAPTER_TITLES: dict[tuple[str, str, int], tuple[list[str], list[dict]]] = {}


def _chapter_titles(kb: KB, code_set: str, chapter: int) -> tuple[list[str], list[dict]]:
    """Billable titles of a chapter (cached per release, code set and chapter)."""
    key = (kb.release_id, code_set, chapter)
    if key not in _CHAPTER_TITLES:
        rows = kb.query(
            "SELECT code, code_dotted, title FROM codes WHERE code_set = ? AND chapter = ? AND billable ORDER BY seq",
            [code_set, chapter],
        )
        _CHAPTER_TITLES[key] = ([r["title"] for r in rows], rows)
    return _CHAPTER_TITLES[key]


def _resolve_ref(kb: KB, code_set: str, ref: str) -> dict | None:
    """A cited code or range ('M90.3-', 'P35-P39', 'I10') -> the first matching code row."""
    first = ref.split("-")[0] if "-" in ref and not ref.endswith("-") else ref.rstrip("-")
    first = undot(first.rstrip("."))
    rows = kb.query(
        "SELECT code, code_dotted, title, billable FROM codes WHERE code_set = ? AND code = ?", [code_set, first]
    )
    return rows[0] if rows else None


def confused_codes(
    kb: KB, row: dict, siblings: list[dict], own_excludes1: list[str], inherited: list[dict], limit: int = 12
) -> list[dict]:
    """[{code, title, reason, difference}] — siblings differing on one axis first, then Excludes1 targets, then
    near-identical titles."""
    out: list[dict] = []
    seen = {row["code_dotted"]}
    for sib in siblings:
        diff = differing_axes(row["title"], sib["title"])
        if len(diff) == 1 and sib["code"] not in seen:
            axis = diff[0][0].replace("_", " ")
            seen.add(sib["code"])
            out.append(
                {
                    "code": sib["code"],
                    "title": sib["title"],
                    "billable": sib["billable"],
                    "reason": f"sibling that differs in {axis}",
                    "difference": one_line_difference(row["title"], sib["title"], sib["code"]),
                }
            )
    excludes = [(text, None) for text in own_excludes1] + [
        (n["text"], n["from"]) for n in inherited if n["type"] == "excludes1" and n["from_kind"] == "code"
    ]
    for text, origin in excludes:
        for ref in code_refs(text):
            target = _resolve_ref(kb, row["code_set"], ref)
            if target and target["code_dotted"] not in seen:
                seen.add(target["code_dotted"])
                where = f" (note inherited from {origin})" if origin else ""
                out.append(
                    {
                        "code": target["code_dotted"],
                        "title": target["title"],
                        "billable": target["billable"],
                        "reason": f"Excludes1{where}: never reported together with this code",
                        "difference": f"{ref}: {text}",
                    }
                )
    if row["billable"]:
        titles, rows = _chapter_titles(kb, row["code_set"], row["chapter"])
        category = row["code"][:3]
        for _title, score, idx in process.extract(
            row["title"], titles, scorer=fuzz.token_set_ratio, limit=40, score_cutoff=NEAR_TITLE_SCORE
        ):
            other = rows[idx]
            if other["code"][:3] == category or other["code_dotted"] in seen:
                continue
            seen.add(other["code_dotted"])
            out.append(
                {
                    "code": other["code_dotted"],
                    "title": other["title"],
                    "billable": True,
                    "reason": f"near-identical title in another category ({score:.0f}% word overlap)",
                    "difference": one_line_difference(row["title"], other["title"], other["code_dotted"]),
                }
            )
            if len(out) >= limit:
                break
    return out[:limit]
