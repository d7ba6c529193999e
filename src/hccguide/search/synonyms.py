"""The curated synonym and abbreviation table (`search/synonyms.csv`), loaded and validated at start.

Columns: term, expansion, kind, note. `kind` is one of:
- abbreviation / lay / old_term / clinical / organism: query side ('organism': organism names and abbreviations,
  strep -> streptococcus, H. flu -> hemophilus influenzae, GBS -> streptococcus group B; issue 14). When the words of `term` occur in a query, `expansion` is
  an alternative wording of that part of the query (the original words stay an alternative too). Several rows may
  share a term (CHF -> congestive heart failure; CHF -> heart failure).
- index: the ICD-10-CM Alphabetic Index sends these words to the expansion, so the typed words are NOT an
  alternative of their own ('heel ulcer' -> Ulcer, lower limb, heel L97.4-: a pressure ulcer L89.6- only when
  pressure or decubitus is written). Every row of such a term must be of kind index.
- variant: a spelling variant of one word, replaced on both sides (index and query) before stemming
  (haemorrhage -> hemorrhage, diabetic -> diabetes).
Coders may add rows; a bad row (unknown kind, empty term, a variant of more than one word, a duplicate) raises
SourceError naming the line, so a typo in the file never silently changes answers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from hccguide.errors import SourceError
from hccguide.search.text import raw_tokens, tokens

KINDS = frozenset({"abbreviation", "lay", "old_term", "clinical", "organism", "index", "variant"})


@dataclass(frozen=True)
class Synonyms:
    """The validated table. `phrases` maps a normalised term (tuple of tokens) to its expansions (tuples of
    tokens); `variants` maps one raw word to its replacement words; `longest` is the longest term in tokens;
    `replacing`: the terms of kind 'index', whose typed words are not an alternative of their own."""

    phrases: dict[tuple[str, ...], tuple[tuple[str, ...], ...]]
    variants: dict[str, tuple[str, ...]]
    longest: int
    rows: int
    replacing: frozenset[tuple[str, ...]] = frozenset()


def parse_synonyms(text: str, source: str = "search/synonyms.csv") -> Synonyms:
    """Validate and index the CSV text. Raises SourceError naming the line of the first bad row."""
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != ["term", "expansion", "kind", "note"]:
        raise SourceError(f"{source}: header must be term,expansion,kind,note", field="header", value=reader.fieldnames)
    variants: dict[str, tuple[str, ...]] = {}
    pending: list[tuple[int, str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    count = 0
    for line, row in enumerate(reader, start=2):
        term, expansion, kind = (row.get("term") or "").strip(), (row.get("expansion") or "").strip(), row.get("kind")
        problem = None
        if kind not in KINDS:
            problem = f"kind must be one of {sorted(KINDS)}"
        elif not raw_tokens(term) or not raw_tokens(expansion):
            problem = "term and expansion must contain letters or digits"
        elif term.lower() == expansion.lower():
            problem = "expansion repeats the term"
        elif (term.lower(), expansion.lower()) in seen:
            problem = "duplicate row"
        elif kind == "variant" and len(raw_tokens(term)) != 1:
            problem = "a variant replaces exactly one word"
        if problem:
            raise SourceError(f"{source} line {line}: {problem}", field="synonyms.csv", value=dict(row))
        seen.add((term.lower(), expansion.lower()))
        count += 1
        if kind == "variant":
            variants[raw_tokens(term)[0]] = tuple(raw_tokens(expansion))
        else:
            pending.append((line, term, expansion, kind or ""))
    phrases: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    kinds: dict[tuple[str, ...], set[str]] = {}
    for line, term, expansion, kind in pending:
        key = tuple(tokens(term, variants))
        phrases.setdefault(key, []).append(tuple(tokens(expansion, variants)))
        kinds.setdefault(key, set()).add(kind)
        if "index" in kinds[key] and len(kinds[key]) > 1:
            raise SourceError(f"{source} line {line}: a term of kind index has rows of kind index only",
                              field="synonyms.csv", value=term)
    return Synonyms(
        replacing=frozenset(k for k, v in kinds.items() if v == {"index"}),
        phrases={k: tuple(v) for k, v in phrases.items()},
        variants=variants,
        longest=max((len(k) for k in phrases), default=1),
        rows=count,
    )


@cache
def load_synonyms() -> Synonyms:
    """The packaged search/synonyms.csv, validated (cached per process)."""
    text = resources.files("hccguide.search").joinpath("synonyms.csv").read_text(encoding="utf-8")
    return parse_synonyms(text)
