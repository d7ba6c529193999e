"""Commonly confused codes: siblings that differ on one axis, Excludes1 targets, and codes elsewhere in the
chapter with a near-identical title, each with a one-line difference.

Sources: the KB `codes` and `notes` tables (CDC tabular of the chosen code set). Near-identical titles: billable
codes of another category in the same chapter whose title has the same words but for at most two on each side, of which at most one
content word (laterality, episode and similar function words may differ).
"""

from __future__ import annotations

from collections import Counter

from hccguide.codes.meat import differing_axes, one_line_difference
from hccguide.codes.store import CodeStore, code_store
from hccguide.kb.open import KB
from hccguide.sources.cdc_tabular import code_refs, undot

NEAR_TITLE_WORDS = 2  # at most this many words on each side may differ
MAX_CONTENT_DIFFERENCE = 1  # ... of which at most one content word (not a function word)
MIN_CONTENT_WORDS = NEAR_TITLE_WORDS + 1  # fewer content words: no near-identical search
# Words too common to select candidates by (they still count as differences).
_FUNCTION_WORDS = frozenset(
    {
        "of",
        "and",
        "the",
        "with",
        "without",
        "in",
        "to",
        "or",
        "for",
        "by",
        "on",
        "at",
        "due",
        "other",
        "unspecified",
        "not",
        "elsewhere",
        "classified",
        "encounter",
        "initial",
        "subsequent",
        "sequela",
        "right",
        "left",
        "part",
        "site",
        "closed",
        "open",
        "fracture",
        "injury",
        "poisoning",
        "accidental",
        "unintentional",
        "intentional",
        "self",
        "harm",
        "assault",
        "undetermined",
        "routine",
        "healing",
        "delayed",
    }
)


def _resolve_ref(store: CodeStore, code_set: str, ref: str) -> dict | None:
    """A cited code or range ('M90.3-', 'P35-P39', 'I10') -> the row of its first code, if it exists."""
    first = ref.split("-")[0] if "-" in ref and not ref.endswith("-") else ref.rstrip("-")
    return store.codes.get((code_set, undot(first.rstrip("."))))


def _near_titles(store: CodeStore, code_set: str, code: str, limit: int = 40) -> list[tuple[str, int]]:
    """Billable codes of other categories whose title has the same words but for at most NEAR_TITLE_WORDS on
    each side, fewest differences first, as (code, words that differ).

    A qualifying title misses at most two of the code's words, so it holds at least two of its four rarest
    content words: candidates come from those words' posting lists (exact, not a heuristic). Titles with fewer than three
    content words are not searched.
    """
    postings, sets = store.title_index(code_set, store.codes[(code_set, code)]["chapter"])
    words = sets[code]
    content = [w for w in words if w in postings and w not in _FUNCTION_WORDS]
    content_set = set(content)
    if len(content) < MIN_CONTENT_WORDS:
        return []  # too short a title for "near-identical" to mean anything
    # A qualifying title misses at most NEAR_TITLE_WORDS of the m rarest content words, so it holds at least
    # m - NEAR_TITLE_WORDS of them: count hits over those posting lists.
    rarest = sorted(content, key=lambda w: len(postings[w]))[: NEAR_TITLE_WORDS + 2]
    hits: Counter[str] = Counter()
    for word in rarest:
        hits.update(postings[word])
    need = len(rarest) - NEAR_TITLE_WORDS
    candidates = [c for c, n in hits.items() if n >= need]
    category = code[:3]
    scored = []
    for other in candidates:
        if other[:3] == category:
            continue
        theirs = sets[other]
        if abs(len(theirs) - len(words)) > NEAR_TITLE_WORDS:
            continue
        if (
            len(words - theirs) <= NEAR_TITLE_WORDS
            and len(theirs - words) <= NEAR_TITLE_WORDS
            and len(content_set - theirs) <= MAX_CONTENT_DIFFERENCE
        ):
            scored.append((other, len(words ^ theirs)))
    return sorted(scored, key=lambda s: (s[1], store.codes[(code_set, s[0])]["seq"]))[:limit]


def confused_codes(
    kb: KB, row: dict, siblings: list[dict], own_excludes1: list[str], inherited: list[dict], limit: int = 12
) -> list[dict]:
    """[{code, title, reason, difference}] — siblings differing on one axis first, then Excludes1 targets, then
    near-identical titles."""
    store = code_store(kb)
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
            target = _resolve_ref(store, row["code_set"], ref)
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
        category = row["code"][:3]
        for code, differing in _near_titles(store, row["code_set"], row["code"]):
            other = store.codes[(row["code_set"], code)]
            if code[:3] == category or other["code_dotted"] in seen:
                continue
            seen.add(other["code_dotted"])
            out.append(
                {
                    "code": other["code_dotted"],
                    "title": other["title"],
                    "billable": True,
                    "reason": f"near-identical title in another category ({differing} words differ)",
                    "difference": one_line_difference(row["title"], other["title"], other["code_dotted"]),
                }
            )
            if len(out) >= limit:
                break
    return out[:limit]
