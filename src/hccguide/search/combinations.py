"""Presumed causal links: when a query names two conditions that ICD-10-CM links, the combination code ranks first.

ICD-10-CM Official Guidelines for Coding and Reporting FY2026:
- I.A.15 "With": conditions listed under "with" in the Alphabetic Index (e.g. Diabetes, with, chronic kidney
  disease E11.22; with foot ulcer E11.621) are presumed linked even without the provider saying so, unless the
  record says they are unrelated.
- I.C.9.a: hypertension with heart disease (I50.-, I51.4-I51.7, I51.89, I51.9) is I11.-; with chronic kidney
  disease I12.- (stage 5 or ESRD: I12.0); with both I13.-; the causal relationship is presumed.
- I.C.4.a.2: diabetes of unstated type is type 2 (E11.-).

Data, not code: `search/conditions.csv` (condition, phrase, note) names each condition by its phrases, and
`search/combinations.csv` (group, conditions, unless, code, guideline, note) the combination of conditions and its
code. Within a group the first row whose conditions are all named (and none of its `unless` conditions) wins, so
the more specific rows come first (hypertension + heart failure + ESRD before hypertension + ESRD). A code that
is a header (E11.4) stands for its best-ranked billable code (E11.40, or E11.42 when the query says
polyneuropathy). Both files are validated when loaded: an unknown condition, a duplicate, a missing guideline or
a code that is not code-shaped raises SourceError naming the line. Every code is checked against the KB tabular
by tests/search/test_combinations.py.

A phrase is named when its words occur in order (at most two other words between) in the query as written
(after spelling correction) or in one synonym expansion of part of it ('chf' -> 'congestive heart failure');
words after 'without', 'no' or 'not' do not name a condition ('hypertensive heart disease without heart failure').
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from hccguide.errors import SourceError
from hccguide.icd10 import DOTTED_SHAPE, undot
from hccguide.search.index import SearchIndex
from hccguide.search.rank import Concept, Scored
from hccguide.search.synonyms import load_synonyms
from hccguide.search.text import STOPWORDS, tokens

NEGATIONS = frozenset({"without", "no", "not", "denies"})
GAP = 2  # other words allowed inside a phrase ('ulcer of right foot' names 'ulcer foot')


@dataclass(frozen=True)
class Rule:
    """One row of combinations.csv: all `conditions` named and none of `unless` -> `code` (dotted)."""

    group: str
    conditions: tuple[str, ...]
    unless: tuple[str, ...]
    code: str
    guideline: str
    note: str
    line: int


@dataclass(frozen=True)
class Combinations:
    """The validated tables: condition -> its phrases (tuples of normalised words); the rules in file order."""

    phrases: dict[str, tuple[tuple[str, ...], ...]]
    rules: tuple[Rule, ...]


def _names(cell: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in cell.split("+") if n.strip())


def parse_combinations(
    conditions_text: str,
    rules_text: str,
    variants: dict[str, tuple[str, ...]] | None = None,
) -> Combinations:
    """Validate and index conditions.csv and combinations.csv. Raises SourceError naming the file and line."""
    phrases: dict[str, list[tuple[str, ...]]] = {}
    reader = csv.DictReader(conditions_text.splitlines())
    if reader.fieldnames != ["condition", "phrase", "note"]:
        raise SourceError("search/conditions.csv: header must be condition,phrase,note", field="header",
                          value=reader.fieldnames)
    for line, row in enumerate(reader, start=2):
        name = (row.get("condition") or "").strip()
        words = tuple(t for t in tokens(row.get("phrase") or "", variants) if t not in STOPWORDS)
        problem = None
        if not re.fullmatch(r"[a-z0-9_]+", name):
            problem = "condition must be a name of lower-case letters, digits and _"
        elif not words:
            problem = "phrase must contain words"
        elif words in phrases.get(name, []):
            problem = "duplicate phrase"
        if problem:
            raise SourceError(f"search/conditions.csv line {line}: {problem}", field="conditions.csv", value=dict(row))
        phrases.setdefault(name, []).append(words)
    rules: list[Rule] = []
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    reader = csv.DictReader(rules_text.splitlines())
    if reader.fieldnames != ["group", "conditions", "unless", "code", "guideline", "note"]:
        raise SourceError("search/combinations.csv: header must be group,conditions,unless,code,guideline,note",
                          field="header", value=reader.fieldnames)
    for line, row in enumerate(reader, start=2):
        conds, unless = _names(row.get("conditions") or ""), _names(row.get("unless") or "")
        code = (row.get("code") or "").strip()
        problem = None
        unknown = [n for n in conds + unless if n not in phrases]
        if len(conds) < 2:
            problem = "a combination names at least two conditions (joined by +)"
        elif unknown:
            problem = f"unknown condition(s) {unknown}: define them in search/conditions.csv"
        elif not DOTTED_SHAPE.match(code):
            problem = f"code {code!r} is not a dotted ICD-10-CM code"
        elif not (row.get("guideline") or "").strip():
            problem = "guideline must cite the rule (e.g. ICD-10-CM Official Guidelines FY2026 I.C.9.a.2)"
        elif (tuple(sorted(conds)), tuple(sorted(unless))) in seen:
            problem = "duplicate combination"
        if problem:
            raise SourceError(f"search/combinations.csv line {line}: {problem}", field="combinations.csv",
                              value=dict(row))
        seen.add((tuple(sorted(conds)), tuple(sorted(unless))))
        rules.append(Rule((row.get("group") or "").strip() or f"line{line}", conds, unless, code,
                          row["guideline"].strip(), (row.get("note") or "").strip(), line))
    return Combinations({k: tuple(v) for k, v in phrases.items()}, tuple(rules))


@cache
def load_combinations() -> Combinations:
    """The packaged search/conditions.csv and search/combinations.csv, validated (cached per process)."""
    pkg = resources.files("hccguide.search")
    return parse_combinations(
        pkg.joinpath("conditions.csv").read_text(encoding="utf-8"),
        pkg.joinpath("combinations.csv").read_text(encoding="utf-8"),
        load_synonyms().variants,
    )


def _contains(seq: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """`phrase` occurs in `seq` in order, with at most GAP other words inside it."""
    n = len(phrase)
    for start, word in enumerate(seq):
        if word != phrase[0]:
            continue
        k, pos = 1, start
        while k < n:
            try:
                pos = seq.index(phrase[k], pos + 1, start + n + GAP)
            except ValueError:
                break
            k += 1
        if k == n:
            return True
    return False


def named_conditions(concepts: list[Concept], table: Combinations | None = None) -> set[str]:
    """The conditions of the table that the query's concepts name (before any negation)."""
    table = table or load_combinations()
    kept: list[Concept] = []
    for c in concepts:
        if c.text in NEGATIONS or c.negated:
            break
        kept.append(c)
    written = tuple(w for c in kept for w in c.text.split() if w not in STOPWORDS)
    seqs = [written] + [tuple(w for w in alt if w not in STOPWORDS) for c in kept for alt in c.alts[1:]]
    return {
        name
        for name, phrases in table.phrases.items()
        if any(_contains(seq, p) for p in phrases for seq in seqs)
    }


def matching_rules(concepts: list[Concept], table: Combinations | None = None) -> list[Rule]:
    """Per group, the first rule whose conditions are all named and none of its `unless`; in file order."""
    table = table or load_combinations()
    named = named_conditions(concepts, table)
    done: set[str] = set()
    out: list[Rule] = []
    for rule in table.rules:
        if rule.group in done:
            continue
        if all(c in named for c in rule.conditions) and not any(c in named for c in rule.unless):
            done.add(rule.group)
            out.append(rule)
    return out


def promote(ranked: list[Scored], rules: list[Rule], si: SearchIndex) -> tuple[list[Scored], list[str]]:
    """Move the combination code of each rule to the front (first rule first), as a billable code: the code
    itself, or the best-ranked billable code under it (the first one in tabular order when none was ranked).
    Returns the new ranking and one note per rule applied. A rule whose code is not in this code set is skipped."""
    if not rules:
        return ranked, []
    top = max((s.score for s in ranked), default=1.0)
    front: list[Scored] = []
    notes: list[str] = []
    for rule in rules:
        undotted = undot(rule.code)
        if undotted not in si.by_code:
            continue
        pick = next(
            (
                s
                for s in ranked
                if si.docs[s.doc].code.startswith(undotted)
                and (si.docs[s.doc].billable or s.ext is not None)
            ),
            None,
        )
        if pick is None:
            pick = _first_billable(si, si.by_code[undotted])
            if pick is None:
                continue
        else:
            ranked = [s for s in ranked if s is not pick]
        pick.score = top + 0.01 * (len(rules) - len(front))
        if not pick.matched:
            pick.matched = list(rule.conditions)
        front.append(pick)
        shown = si.docs[pick.doc].dotted
        notes.append(
            f"{' + '.join(c.replace('_', ' ') for c in rule.conditions)}: {shown} is the combination code; "
            f"the link is presumed ({rule.guideline})" + (f"; {rule.note}" if rule.note else "")
        )
    return front + ranked, notes


def _first_billable(si: SearchIndex, i: int) -> Scored | None:
    """The code itself when billable, else its first billable descendant in tabular order."""
    stack = [i]
    while stack:
        j = stack.pop(0)
        d = si.docs[j]
        if d.billable and not d.ext:
            return Scored(j, 0.0, "title", d.title, [])
        stack[:0] = si.children.get(d.code, [])
    return None
