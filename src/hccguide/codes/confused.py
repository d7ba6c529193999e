"""Commonly confused codes: the codes that share every axis but one with a code, the codes its Excludes1 and
Excludes2 notes name, and near-identical titles in other categories, each with a one-line difference, nearest
first (issue 17).

- Axis neighbours: codes of the same category and length that differ in exactly one character after the category
  (`CodeStore.neighbours`): the ICD-10-CM tabular gives each such character one axis, so M87.352 (other secondary
  osteonecrosis, left femur) meets M87.052/.152/.252/.852 (same site and side, another cause) and M87.350/.351/
  .353 (another side). The axis that differs is named from the titles with codes/data/axes.csv; neighbours whose
  titles differ on a named axis (cause, side, acuity, type, organism, episode, stage, ...) rank before those that
  differ only in site or other detail, and within a rank the fewer title words differ, the nearer.
- Excludes1/Excludes2 targets: the codes named by the notes printed on the code, its ancestor codes and its block
  (`notes.rule_notes`), nearest note first.
- Near-identical titles: billable codes of another category in the same chapter whose title has the same words
  but for at most two on each side, of which at most one content word.

Sources: the KB `codes` and `notes` tables (CDC ICD-10-CM tabular of the chosen code set).
"""

from __future__ import annotations

from collections import Counter

from hccguide.codes.meat import axis_labels, differing_axes, word_difference, word_distance
from hccguide.codes.store import CodeStore, code_store
from hccguide.icd10 import undot
from hccguide.kb.open import KB

CONFUSABLE_LIMIT = 12  # "at most about ten" (issue 17)
AXIS_NEIGHBOURS_PER_POSITION = 6  # per character position ...
SEVENTH_CHARACTER_NEIGHBOURS = 3  # ... and 3 for the 7th character, so 14 of them do not crowd out side and site
MAX_RANGE_CATEGORIES = 10  # an Excludes range wider than this ('A00-B99') names a chapter, not a confusable code
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


def _near_titles(store: CodeStore, code_set: str, code: str, limit: int = 40) -> list[tuple[str, int]]:
    """Billable codes of other categories whose title has the same words but for at most NEAR_TITLE_WORDS on
    each side, fewest differences first, as (code, words that differ).

    A qualifying title misses at most MAX_CONTENT_DIFFERENCE (one) of the code's content words, so it holds at
    least one of its two rarest content words: candidates are the union of those two words' posting lists (exact,
    not a heuristic). Titles with fewer than three content words are not searched.
    """
    postings, sets = store.title_index(code_set, store.codes[(code_set, code)]["chapter"])
    words = sets[code]
    content = [w for w in words if w in postings and w not in _FUNCTION_WORDS]
    content_set = set(content)
    if len(content) < MIN_CONTENT_WORDS:
        return []  # too short a title for "near-identical" to mean anything
    rarest = sorted(content, key=lambda w: len(postings[w]))[: MAX_CONTENT_DIFFERENCE + 1]
    candidates: set[str] = set()
    for word in rarest:
        candidates.update(postings[word])
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


def _axis_diffs(title: str, other: str) -> list[tuple[str, str | None, str | None]]:
    """Named axes on which `other` differs from `title`; 'linkage' left out when another axis differs."""
    diffs = differing_axes(title, other)
    if len(diffs) > 1:
        diffs = [d for d in diffs if d[0] != "linkage"]
    return diffs


def _difference_text(title: str, other: str, diffs: list[tuple[str, str | None, str | None]]) -> str:
    """One line, e.g. "cause or mechanism: 'idiopathic' vs 'secondary' (this code)"; with no named axis the
    differing words are quoted instead ("'humerus' vs 'femur' (this code)")."""
    labels = axis_labels()
    if diffs:
        return (
            "; ".join(
                f"{labels[name]}: {repr(theirs) if theirs else 'none stated'} vs {repr(mine) if mine else 'none stated'}"
                for name, mine, theirs in diffs
            )
            + " (this code)"
        )
    only_mine, only_theirs = word_difference(title, other)
    theirs_text = repr(" ".join(only_theirs)) if only_theirs else "nothing"
    mine_text = repr(" ".join(only_mine)) if only_mine else "nothing"
    return f"{theirs_text} vs {mine_text} (this code)"


def _axis_difference(title: str, other: str) -> tuple[list[str], str]:
    """(labels of the named axes on which `other` differs from `title`, one-line difference)."""
    diffs = _axis_diffs(title, other)
    labels = axis_labels()
    return [labels[name] for name, _, _ in diffs], _difference_text(title, other, diffs)


_word_distance = word_distance


def axis_neighbours(store: CodeStore, row: dict) -> list[dict]:
    """Codes sharing every axis but one with `row`, ranked (named axis first, then fewer differing words, then
    the later character first), at most AXIS_NEIGHBOURS_PER_POSITION per character position (3 for the 7th)."""
    code_set = row["code_set"]
    title = row["title"]
    scored = []
    for pos, other in store.neighbours(code_set, row["code"]):
        orow = store.codes[(code_set, other)]
        diffs = _axis_diffs(title, orow["title"])
        tier = 0 if diffs and orow["billable"] == row["billable"] else 1  # a header is no alternative to a code
        scored.append((tier, _word_distance(title, orow["title"]), -pos, orow["seq"], pos, orow, diffs))
    scored.sort(key=lambda s: s[:4])
    per_position: Counter[int] = Counter()
    labels = axis_labels()
    out = []
    for tier, distance, _, _, pos, orow, diffs in scored:
        cap = SEVENTH_CHARACTER_NEIGHBOURS if pos == 6 and row["seventh_char"] else AXIS_NEIGHBOURS_PER_POSITION
        if per_position[pos] >= cap:
            continue
        per_position[pos] += 1
        axes = [labels[name] for name, _, _ in diffs]
        what = ", ".join(axes) if axes else "site or other detail"
        out.append(
            {
                "code": orow["code_dotted"],
                "title": orow["title"],
                "billable": orow["billable"],
                "kind": "axis",
                "axes": axes,
                "position": pos + 1,
                "tier": tier,
                "distance": distance,
                "reason": f"shares every axis but one (character {pos + 1}: {what})",
                "difference": f"{orow['code_dotted']}: {_difference_text(title, orow['title'], diffs)}",
            }
        )
    return out


def _narrow(codes: list[str]) -> bool:
    """True for one code, or a range within one letter spanning at most MAX_RANGE_CATEGORIES categories."""
    if len(codes) == 1:
        return True
    first, last = codes[0][:3], codes[-1][:3]
    if first[0] != last[0] or not (first[1:].isdigit() and last[1:].isdigit()):
        return False
    return int(last[1:]) - int(first[1:]) < MAX_RANGE_CATEGORIES


def excludes_targets(store: CodeStore, row: dict, rules: list[dict]) -> list[dict]:
    """The codes the Excludes1/Excludes2 notes that apply to `row` name (`notes.rule_notes`), nearest note
    first, one entry per printed reference (a range gives its first code; ranges wider than MAX_RANGE_CATEGORIES
    categories are left out), each code once."""
    out = []
    seen = {row["code_dotted"]}
    for note in rules:
        if note["type"] not in ("excludes1", "excludes2"):
            continue
        for ref, named in zip(note["refs"], note["ref_codes"], strict=True):
            if not named or not _narrow(named) or named[0] in seen:
                continue
            code = named[0]
            seen.add(code)
            target = store.codes[(row["code_set"], undot(code))]
            where = "this code" if note["own"] else note["from"]
            if note["type"] == "excludes1":
                reason = f"Excludes1 at {where}: never reported together with this code"
            else:
                reason = f"Excludes2 at {where}: not included here; both may be reported when both are present"
            out.append(
                {
                    "code": target["code_dotted"],
                    "title": target["title"],
                    "billable": target["billable"],
                    "kind": note["type"],
                    "axes": [],
                    "position": None,
                    "tier": 0,
                    "distance": _word_distance(row["title"], target["title"]),
                    "reason": reason,
                    "difference": f"{ref}: the note reads '{note['text']}'",
                }
            )
    return out


def near_title_codes(store: CodeStore, row: dict) -> list[dict]:
    """Billable codes of other categories with a near-identical title (see `_near_titles`), as confusable
    entries; none for headers and 7th-character codes."""
    if not row["billable"] or row["level"] == "extension":
        return []  # a 7th-character code's near titles are the same injury elsewhere: its neighbours cover them
    out = []
    for code, differing in _near_titles(store, row["code_set"], row["code"]):
        other = store.codes[(row["code_set"], code)]
        axes, difference = _axis_difference(row["title"], other["title"])
        out.append(
            {
                "code": other["code_dotted"],
                "title": other["title"],
                "billable": True,
                "kind": "near_title",
                "axes": axes,
                "position": None,
                "tier": 0 if axes and differing <= NEAR_TITLE_WORDS else 1,
                "distance": differing,
                "reason": f"near-identical title in another category ({differing} words differ)",
                "difference": f"{other['code_dotted']}: {difference}",
            }
        )
    return out


def confusable_codes(
    kb: KB, row: dict, rules: list[dict], limit: int = CONFUSABLE_LIMIT, neighbours: list[dict] | None = None
) -> list[dict]:
    """At most `limit` confusable codes of `row`, nearest first: axis neighbours and near-identical titles that
    differ on a named axis (fewest differing words first; at least half of `limit`, more when the notes name few
    codes), then Excludes1/Excludes2 targets, then neighbours that differ in site or other detail, then other
    near-identical titles.

    Each entry: {code, title, billable, kind ('axis' | 'excludes1' | 'excludes2' | 'near_title'), axes (labels
    of the axes that differ), position (the character that differs, 1-based, for 'axis'), tier, distance (title
    words that differ), reason, difference (one line)}. Every code exists in `row`'s code set."""
    store = code_store(kb)
    if neighbours is None:
        neighbours = axis_neighbours(store, row)
    near = near_title_codes(store, row)
    named = sorted([e for e in neighbours + near if e["tier"] == 0], key=lambda e: e["distance"])
    excludes = excludes_targets(store, row, rules)
    keep = max(limit - len(excludes), limit // 2)  # the nearest axis neighbours, then room for the notes' codes
    ranked = named[:keep] + excludes + named[keep:]
    ranked += [e for e in neighbours if e["tier"] == 1] + [e for e in near if e["tier"] == 1]
    out: list[dict] = []
    seen = {row["code_dotted"]}
    for entry in ranked:
        if entry["code"] not in seen:
            seen.add(entry["code"])
            out.append(entry)
    return out[:limit]
