"""The KB tables a code page reads, held in memory once per release for fast lookups.

A code page touches about sixty rows in a dozen tables; as DuckDB point queries that costs tens of milliseconds,
as dictionary look-ups well under 5 ms (figures: docs/code-page.md, "Code store or point queries",
benchmarks/code_store.py). `code_store(kb)` loads every table the pages need on first use and keeps it on the KB
handle (`KB.memo`, key ``("codes.store",)``), released with it. The rows are the KB rows unchanged; nothing here
interprets them.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field

from hccguide.kb.open import KB

_WORD = re.compile(r"[a-z0-9]+")


def title_words(title: str) -> set[str]:
    """Lower-case words (letters and digits) of a title, as a set."""
    return set(_WORD.findall(title.lower()))


@dataclass
class CodeStore:
    release_id: str
    codes: dict[tuple[str, str], dict] = field(default_factory=dict)
    children: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    block_categories: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    sorted_codes: dict[str, list[str]] = field(default_factory=dict)  # code_set -> codes sorted (prefix scans)
    chapter_billable: dict[tuple[str, int], list[str]] = field(default_factory=lambda: defaultdict(list))
    code_sets_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    chapters: dict[tuple[str, int], dict] = field(default_factory=dict)
    blocks: dict[tuple[str, str], dict] = field(default_factory=dict)
    notes: dict[tuple[str, str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    seventh: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    models: dict[str, dict] = field(default_factory=dict)
    dx_to_cc: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    model_years: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    coefficients: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    hierarchy_years: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    hierarchy_drops: dict[tuple[str, int, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    hierarchy_dropped_by: dict[tuple[str, int, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    labels: dict[tuple[str, str], str] = field(default_factory=dict)
    chronic: dict[tuple[str, str], bool | None] = field(default_factory=dict)
    edits: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    # near-identical title search, built per (code set, chapter) on first use: word -> billable codes, code -> words
    _title_index: dict[tuple[str, int], tuple[dict[str, list[str]], dict[str, frozenset[str]]]] = field(
        default_factory=dict
    )
    # instructional notes of one node, resolved (codes.notes.rule_notes), built on first use per (code set, kind, node)
    rule_cache: dict[tuple[str, str, str], list[dict]] = field(default_factory=dict)
    # one-character neighbours, built per (code set, category) on first use: masked code -> codes
    _neighbours: dict[tuple[str, str], dict[str, list[str]]] = field(default_factory=dict)

    def category_codes(self, code_set: str, category: str) -> list[str]:
        """Every code (headers and billable) of a category, the category itself included, in code order."""
        keys = self.sorted_codes[code_set]
        i = bisect.bisect_left(keys, category)
        j = bisect.bisect_left(keys, category + "~")
        return keys[i:j]

    def neighbours(self, code_set: str, code: str) -> list[tuple[int, str]]:
        """Codes of the same category and length that differ from `code` in exactly one character after the
        category, as (position, code), position 3 = the 4th character. The ICD-10-CM tabular gives each
        character after the category one axis of the classification (cause, site, side, episode, ...), so these
        are the codes that share every axis but one with `code`."""
        category = code[:3]
        key = (code_set, category)
        index = self._neighbours.get(key)
        if index is None:
            index = {}
            for other in self.category_codes(code_set, category):
                for pos in range(3, len(other)):
                    index.setdefault(f"{other[:pos]}*{other[pos + 1 :]}", []).append(other)
            self._neighbours[key] = index
        out = []
        for pos in range(3, len(code)):
            for other in index.get(f"{code[:pos]}*{code[pos + 1 :]}", ()):
                if other != code:
                    out.append((pos, other))
        return out

    def billable_under(self, code_set: str, prefix: str) -> list[dict]:
        """Billable codes whose code starts with `prefix` (the prefix itself excluded), in tabular order."""
        keys = self.sorted_codes[code_set]
        i = bisect.bisect_left(keys, prefix)
        out = []
        while i < len(keys) and keys[i].startswith(prefix):
            row = self.codes[(code_set, keys[i])]
            if row["billable"] and keys[i] != prefix:
                out.append(row)
            i += 1
        return sorted(out, key=lambda r: r["seq"])

    def title_index(self, code_set: str, chapter: int) -> tuple[dict[str, list[str]], dict[str, frozenset[str]]]:
        """(word -> billable codes whose title has it, code -> its title words) for one chapter, built once."""
        key = (code_set, chapter)
        if key not in self._title_index:
            postings: dict[str, list[str]] = defaultdict(list)
            word_sets: dict[str, frozenset[str]] = {}
            for code in self.chapter_billable.get(key, []):
                word_sets[code] = frozenset(title_words(self.codes[(code_set, code)]["title"]))
                for word in word_sets[code]:
                    postings[word].append(code)
            self._title_index[key] = (dict(postings), word_sets)
        return self._title_index[key]


def _load(kb: KB) -> CodeStore:
    store = CodeStore(kb.release_id)
    for row in kb.query("SELECT * FROM codes ORDER BY code_set, seq"):
        key = (row["code_set"], row["code"])
        store.codes[key] = row
        store.code_sets_of[row["code"]].append(row["code_set"])
        if row["billable"]:
            store.chapter_billable[(row["code_set"], row["chapter"])].append(row["code"])
        if row["parent"]:
            store.children[(row["code_set"], row["parent"])].append(row)
        else:
            store.block_categories[(row["code_set"], row["block_id"])].append(row)
    for code_set in {cs for cs, _ in store.codes}:
        store.sorted_codes[code_set] = sorted(code for cs, code in store.codes if cs == code_set)
    for sets in store.code_sets_of.values():
        sets.sort(reverse=True)
    for row in kb.query("SELECT * FROM chapters"):
        store.chapters[(row["code_set"], row["chapter"])] = row
    for row in kb.query("SELECT * FROM blocks"):
        store.blocks[(row["code_set"], row["block_id"])] = row
    for row in kb.query("SELECT * FROM notes ORDER BY code_set, node_kind, node, note_type, seq"):
        row["refs"] = list(row["refs"])
        store.notes[(row["code_set"], row["node_kind"], row["node"])].append(row)
    for row in kb.query("SELECT * FROM seventh_characters ORDER BY code_set, node, seq"):
        store.seventh[(row["code_set"], row["node"])].append(row)
    for row in kb.query("SELECT * FROM models"):
        store.models[row["model"]] = row
    for row in kb.query("SELECT payment_year, model, code, cc FROM dx_to_cc ORDER BY payment_year, model, cc"):
        store.dx_to_cc[row["code"]].append(row)
        store.model_years[row["model"]].add(row["payment_year"])
    for row in kb.query(
        "SELECT payment_year, model, segment, term, coefficient, value, status, variant, rx_variant FROM coefficients "
        "ORDER BY payment_year, rx_variant NULLS FIRST, variant"
    ):
        store.coefficients[(row["model"], row["term"])].append(row)
    for row in kb.query("SELECT table_year, model, cc_parent, cc_child FROM hierarchies"):
        store.hierarchy_years[row["model"]].add(row["table_year"])
        store.hierarchy_drops[(row["model"], row["table_year"], row["cc_parent"])].add(row["cc_child"])
        store.hierarchy_dropped_by[(row["model"], row["table_year"], row["cc_child"])].add(row["cc_parent"])
    for row in kb.query("SELECT model, cc, label FROM hcc_labels"):
        store.labels[(row["model"], row["cc"])] = row["label"]
    for row in kb.query("SELECT model, cc, is_chronic FROM hcc_chronic"):
        store.chronic[(row["model"], row["cc"])] = row["is_chronic"]
    for row in kb.query(
        "SELECT model, code, edit_type, sex, age_min, age_max, action, cc_override, description FROM dx_edits "
        "ORDER BY edit_type"
    ):
        store.edits[(row.pop("model"), row.pop("code"))].append(row)
    return store


MEMO = "codes.store"


def code_store(kb: KB) -> CodeStore:
    """The in-memory tables of `kb`'s release, made once per KB handle (`KB.memo`, key ``("codes.store",)``) and
    shared by every thread; `kb.close()` / `kb.forget("codes.store")` releases them."""
    return kb.memo((MEMO,), lambda: _load(kb))
