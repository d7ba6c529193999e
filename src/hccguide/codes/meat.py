"""Documentation (MEAT) guidance generated from a code's own structure.

What the note must state to reach this code rather than its siblings comes from comparing the code's title with
its siblings' titles, axis by axis. The axes (laterality, episode of care, stage, type, ...) and the general
Monitor/Evaluate/Assess/Treat elements are data that coders can read and change: `codes/data/axes.csv` and
`codes/data/meat_elements.csv`, loaded and validated once.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from hccguide.errors import SourceError

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)?")


@dataclass(frozen=True)
class Axis:
    """One axis of codes/data/axes.csv: `name` (key), `label` (words for people: 'cause or mechanism'), `pattern`
    (one capturing group: the value found in a title) and `must_document` (what the note must state; `{value}`)."""

    name: str
    label: str
    pattern: re.Pattern[str]
    must_document: str


AXES_COLUMNS = ["axis", "label", "pattern", "must_document"]
_PLACEHOLDER = re.compile(r"{([^}]*)}")


def parse_axes(text: str, source: str = "codes/data/axes.csv") -> tuple[Axis, ...]:
    """Axes from the CSV text, validated: the header is exactly AXES_COLUMNS, axis names are unique snake_case,
    every pattern compiles with exactly one capturing group, and `must_document` uses no placeholder but
    `{value}`. Raises SourceError naming the line, field and value."""
    rows = list(csv.reader(text.splitlines()))
    if not rows or rows[0] != AXES_COLUMNS:
        raise SourceError(
            f"{source}: header must be {','.join(AXES_COLUMNS)}",
            field="header",
            value=",".join(rows[0]) if rows else "",
            fix="keep the four columns in this order",
        )
    axes: list[Axis] = []
    seen: set[str] = set()
    for line, values in enumerate(rows[1:], start=2):
        if not values:
            continue
        if len(values) != len(AXES_COLUMNS):
            raise SourceError(f"{source} line {line}: {len(values)} columns, expected 4", field="row", value=values)
        name, label, pattern, must = values
        if not re.fullmatch(r"[a-z][a-z_]*", name) or name in seen:
            raise SourceError(f"{source} line {line}: axis name must be unique snake_case", field="axis", value=name)
        seen.add(name)
        try:
            # Titles are matched lower-cased, so the pattern is too (no IGNORECASE: it defeats the regex engine's
            # literal prefix scan and costs ~3x); upper-case escapes (\B, \W, \S, \D) are refused below.
            if re.search(r"\\[BWSD]", pattern):
                raise re.error("upper-case escapes (\\B, \\W, \\S, \\D) are not allowed: patterns are lower-cased")
            compiled = re.compile(pattern.lower())
        except re.error as exc:
            raise SourceError(f"{source} line {line}: {exc}", field="pattern", value=pattern) from exc
        if compiled.groups != 1:
            raise SourceError(
                f"{source} line {line}: the pattern must have exactly one capturing group (the value)",
                field="pattern",
                value=pattern,
                fix="use (?:...) for the other groups",
            )
        bad = [p for p in _PLACEHOLDER.findall(must) if p != "value"]
        if bad or not label.strip():
            raise SourceError(
                f"{source} line {line}: must_document may only use {{value}}, label must be set",
                field="must_document" if bad else "label",
                value=must if bad else label,
            )
        axes.append(Axis(name, label.strip(), compiled, must))
    return tuple(axes)


@cache
def load_axes() -> tuple[Axis, ...]:
    """The axes of codes/data/axes.csv, validated by `parse_axes` (SourceError names the bad line)."""
    return parse_axes(resources.files("hccguide.codes").joinpath("data/axes.csv").read_text(encoding="utf-8"))


@cache
def axis_labels() -> dict[str, str]:
    """{axis name: label} ('cause' -> 'cause or mechanism')."""
    return {a.name: a.label for a in load_axes()}


@cache
def load_meat_elements() -> tuple[dict, ...]:
    """The general M/E/A/T elements of codes/data/meat_elements.csv: ({letter, name, what_counts, examples})."""
    text = resources.files("hccguide.codes").joinpath("data/meat_elements.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    if [r["letter"] for r in rows] != ["M", "E", "A", "T"]:
        raise SourceError("codes/data/meat_elements.csv must list M, E, A, T in order", field="letter", value=None)
    return tuple(
        {
            "letter": r["letter"],
            "name": r["name"],
            "what_counts": r["what_counts"],
            "examples": [e.strip().strip('"') for e in r["examples"].split(";")],
        }
        for r in rows
    )


@cache
def axis_values(title: str) -> dict[str, str]:
    """{axis: value found in the title} for every axis whose pattern matches (first match per axis).

    Cached per title; callers must not mutate the returned dict."""
    out = {}
    lowered = title.lower()
    for axis in load_axes():
        match = axis.pattern.search(lowered)
        if match:
            out[axis.name] = match.group(1)
    return out


@cache
def _title_words(title: str) -> tuple[tuple[str, ...], frozenset[str]]:
    words = tuple(_WORD.findall(title.lower()))
    return words, frozenset(words)


@cache
def _axis_rank() -> dict[str, int]:
    return {axis.name: i for i, axis in enumerate(load_axes())}


def word_difference(title: str, other: str) -> tuple[list[str], list[str]]:
    """(words only in `title`, words only in `other`), in title order, lower case."""
    (mine, mine_set), (theirs, theirs_set) = _title_words(title), _title_words(other)
    return [w for w in mine if w not in theirs_set], [w for w in theirs if w not in mine_set]


def word_distance(title: str, other: str) -> int:
    """How many distinct lower-case words are in one title but not the other (symmetric difference)."""
    return len(_title_words(title)[1] ^ _title_words(other)[1])


def differing_axes(title: str, other: str) -> list[tuple[str, str | None, str | None]]:
    """Axes on which two titles differ, in axes.csv order: [(axis, value in title, value in other)]."""
    a, b = axis_values(title), axis_values(other)
    if a == b:
        return []
    rank = _axis_rank()
    names = sorted({k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}, key=rank.__getitem__)
    return [(name, a.get(name), b.get(name)) for name in names]


def one_line_difference(title: str, other: str, other_code: str) -> str:
    """How `other` differs from `title`, in words: "M87.351 says 'right' where this code says 'left'"."""
    only_mine, only_theirs = word_difference(title, other)
    if not only_mine and not only_theirs:
        return f"{other_code} has the same words in another order"
    if not only_mine:
        return f"{other_code} adds '{' '.join(only_theirs)}'"
    if not only_theirs:
        return f"{other_code} lacks '{' '.join(only_mine)}'"
    return f"{other_code} says '{' '.join(only_theirs)}' where this code says '{' '.join(only_mine)}'"


def meat_guidance(
    row: dict, siblings: list[dict], hcc_mapped: bool, own_notes: dict[str, list[str]], inherited: list[dict]
) -> dict:
    """{specificity, distinguishing, elements, audit_flags} for a code row.

    specificity: [{axis, value, must_document}] from the code's title; distinguishing: one sentence per sibling
    that differs (at most 12); elements: the general M/E/A/T list; audit_flags: what a RADV-style review checks
    for this code (header billed as a code, unspecified code, manifestation code, history-of codes, ...).
    """
    axes = {a.name: a for a in load_axes()}
    specificity = [
        {"axis": name, "value": value, "must_document": axes[name].must_document.format(value=value)}
        for name, value in axis_values(row["title"]).items()
    ]
    distinguishing = []
    for sib in siblings[:12]:
        only_mine, only_theirs = word_difference(row["title"], sib["title"])
        if not only_mine and not only_theirs:
            continue
        axes_hint = "; ".join(  # only what this code states: an axis it leaves unstated is no requirement
            f"{axis.replace('_', ' ')}: {mine}" for axis, mine, _ in differing_axes(row["title"], sib["title"]) if mine
        )
        distinguishing.append(
            f"To report {row['code_dotted']} rather than {sib['code']} ({sib['title']}), the note must state "
            f"'{' '.join(only_mine) or row['title']}'" + (f" ({axes_hint})" if axes_hint else "") + "."
        )
    flags = []
    lowered = row["title"].lower()
    if not row["billable"]:
        flags.append(f"{row['code_dotted']} is a header, not billable: a claim must carry one of the codes below it.")
    if "unspecified" in lowered:
        flags.append(
            "Unspecified code: use it only when the record does not allow more detail; reviewers query "
            "for the specific site, side, type or stage."
        )
    if (
        "in diseases classified elsewhere" in lowered
        or own_notes.get("code_first")
        or any(n["type"] == "code_first" for n in inherited)
    ):
        flags.append(
            "Code first: the underlying condition must be documented and coded first (manifestation codes "
            "are never first-listed; Guidelines I.A.13)."
        )
    if lowered.startswith(("personal history", "family history", "history of")):
        flags.append("History code: a resolved condition does not support a current HCC; document current status.")
    if hcc_mapped:
        flags.append(
            "Payment HCC: the condition must be documented with MEAT by an acceptable provider type in a "
            "face-to-face or telehealth encounter within the data collection year; a problem list alone "
            "fails RADV review."
        )
    if row.get("seventh_char_source") and row["level"] != "extension":
        flags.append("Needs a 7th character: report one of the full codes below (placeholder X fills empty positions).")
    return {
        "specificity": specificity,
        "distinguishing": distinguishing,
        "elements": list(load_meat_elements()),
        "audit_flags": flags,
    }
