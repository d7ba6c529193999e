"""The note checker's rule files (notes/rules/*.csv), read and validated at load.

Each file is data a coder can read and change (docs/notes.md): a header row, one rule per line and a comment
column. A bad line raises SourceError naming the file, the line and what is wrong. `load_rules()` gives the packaged
files (cached per process); `parse_*` take the text so a test or a user can pass their own.

- sections.csv (category, header, comment): section headers, matched at the start of a line, followed by ':' or
  the end of the line. Replaces medspaCy's default sectionizer rules, which have no SOAP headers and no ROS.
- context.csv (literal, category, direction, max_scope, comment): ConText modifiers. Replaces medspaCy's default
  rules, which mark 'history of hypertension, on lisinopril' historical, 'no longer on insulin' negated and let
  'denies fever, has pneumonia' negate pneumonia.
- meat.csv (element, pattern, current, comment): MEAT triggers (regular expressions, case-insensitive); element
  `none` marks words that make a clause not evidence ('here for follow-up of diabetes': the visit reason).
- evidence.csv (pattern, codes, comment): which labs, findings and drugs are evidence for which code prefixes, in
  priority order ('I50 I25.5 I42': heart failure's evidence, a cardiomyopathy's only without one); '+' joins
  prefixes of equal rank ('N18+N17': the CKD and the AKI both).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from hccguide.errors import SourceError

SECTION_CATEGORIES = frozenset({
    "chief_complaint", "hpi", "subjective", "pmh", "psh", "family_history", "social_history", "medications",
    "allergies", "ros", "exam", "objective", "results", "problem_list", "assessment_plan", "discharge_diagnoses",
    "hospital_course", "follow_up", "health_maintenance",
})
CONTEXT_CATEGORIES = frozenset({"NEGATED_EXISTENCE", "HISTORICAL", "HYPOTHETICAL", "UNCERTAIN", "FAMILY", "PSEUDO",
                                "TERMINATE"})
DIRECTIONS = frozenset({"FORWARD", "BACKWARD", "BIDIRECTIONAL", "PSEUDO", "TERMINATE"})
ELEMENTS = frozenset({"monitor", "evaluate", "assess", "treat", "none"})  # none: a clause that is not evidence


@dataclass(frozen=True)
class SectionHeader:
    category: str
    header: str
    line: int


@dataclass(frozen=True)
class ContextRow:
    literal: str
    category: str
    direction: str
    max_scope: int | None
    line: int


@dataclass(frozen=True)
class MeatRow:
    element: str
    pattern: re.Pattern[str]
    current: bool
    line: int


@dataclass(frozen=True)
class EvidenceRow:
    pattern: re.Pattern[str]
    codes: tuple[str, ...]
    line: int
    tiers: tuple[tuple[str, ...], ...] = ()  # prefixes in priority order, equal ranks joined: 'N18+N17'


@dataclass(frozen=True)
class Rules:
    sections: tuple[SectionHeader, ...]
    context: tuple[ContextRow, ...]
    meat: tuple[MeatRow, ...]
    evidence: tuple[EvidenceRow, ...]


def _rows(text: str, name: str, header: list[str]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != header:
        raise SourceError(f"notes/rules/{name}: header must be {','.join(header)}", field=name,
                          value=reader.fieldnames, fix=f"first line: {','.join(header)}")
    return [(n, {k: (v or "").strip() for k, v in row.items() if k}) for n, row in enumerate(reader, start=2)]


def _bad(name: str, line: int, problem: str, row: dict) -> SourceError:
    return SourceError(f"notes/rules/{name} line {line}: {problem}", field=name, value=row,
                       fix=f"correct line {line} of notes/rules/{name}")


def _regex(name: str, line: int, pattern: str, row: dict) -> re.Pattern[str]:
    if not pattern:
        raise _bad(name, line, "pattern is empty", row)
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise _bad(name, line, f"pattern is not a regular expression ({exc})", row) from None


def parse_sections(text: str) -> tuple[SectionHeader, ...]:
    out, seen = [], set()
    for line, row in _rows(text, "sections.csv", ["category", "header", "comment"]):
        if row["category"] not in SECTION_CATEGORIES:
            raise _bad("sections.csv", line, f"unknown category {row['category']!r} (one of "
                       f"{', '.join(sorted(SECTION_CATEGORIES))})", row)
        header = row["header"].lower()
        if not header:
            raise _bad("sections.csv", line, "header is empty", row)
        if header in seen:
            raise _bad("sections.csv", line, f"duplicate header {header!r}", row)
        seen.add(header)
        out.append(SectionHeader(row["category"], header, line))
    return tuple(out)


def parse_context(text: str) -> tuple[ContextRow, ...]:
    out, seen = [], set()
    for line, row in _rows(text, "context.csv", ["literal", "category", "direction", "max_scope", "comment"]):
        if row["category"] not in CONTEXT_CATEGORIES:
            raise _bad("context.csv", line, f"unknown category {row['category']!r}", row)
        if row["direction"] not in DIRECTIONS:
            raise _bad("context.csv", line, f"unknown direction {row['direction']!r}", row)
        if not row["literal"]:
            raise _bad("context.csv", line, "literal is empty", row)
        if (row["literal"].lower(), row["category"]) in seen:
            raise _bad("context.csv", line, "duplicate literal", row)
        seen.add((row["literal"].lower(), row["category"]))
        scope = row["max_scope"]
        if scope and not scope.isdigit():
            raise _bad("context.csv", line, "max_scope must be a whole number of tokens or empty", row)
        out.append(ContextRow(row["literal"].lower(), row["category"], row["direction"],
                              int(scope) if scope else None, line))
    return tuple(out)


def parse_meat(text: str) -> tuple[MeatRow, ...]:
    out = []
    for line, row in _rows(text, "meat.csv", ["element", "pattern", "current", "comment"]):
        if row["element"] not in ELEMENTS:
            raise _bad("meat.csv", line, f"element must be one of {', '.join(sorted(ELEMENTS))}", row)
        if row["current"] not in ("yes", "no"):
            raise _bad("meat.csv", line, "current must be yes or no", row)
        out.append(MeatRow(row["element"], _regex("meat.csv", line, row["pattern"], row), row["current"] == "yes",
                           line))
    return tuple(out)


_PREFIX = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{0,4})?$")


def parse_evidence(text: str) -> tuple[EvidenceRow, ...]:
    out = []
    for line, row in _rows(text, "evidence.csv", ["pattern", "codes", "comment"]):
        tiers = tuple(tuple(t.split("+")) for t in row["codes"].split())
        codes = tuple(c for t in tiers for c in t)
        if not codes or not all(_PREFIX.match(c) for c in codes):
            raise _bad("evidence.csv", line, "codes must be dotted ICD-10-CM codes or prefixes separated by spaces "
                       "(in priority order), '+' joining prefixes of equal rank", row)
        out.append(EvidenceRow(_regex("evidence.csv", line, row["pattern"], row), codes, line, tiers))
    return tuple(out)


@cache
def load_rules() -> Rules:
    """The packaged rule files, validated (cached per process). Raises SourceError naming file and line."""
    pkg = resources.files("hccguide.notes").joinpath("rules")

    def read(name: str) -> str:
        return pkg.joinpath(name).read_text(encoding="utf-8")

    return Rules(parse_sections(read("sections.csv")), parse_context(read("context.csv")),
                 parse_meat(read("meat.csv")), parse_evidence(read("evidence.csv")))
