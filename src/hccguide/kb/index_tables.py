"""The Table of Neoplasms and the Table of Drugs and Chemicals, read per code set.

Source: KB `index_terms` / `index_cells` (CDC ICD-10-CM Index, April 1, 2026 (FY2026) editions, vendored; columns in
kb/schema.sql and sources/cdc_index_tables.py COLUMNS). Two questions:

- `index_table_rows(kb, "C78.7")`: the table rows that lead to a code (for the code page): "Neoplasm, liver,
  Malignant Secondary -> C78.7"; "Warfarin, Adverse effect -> T45.515-" (a cell leads to a code when it names the
  code, or a header above it: Drug-table cells name 6-character headers that need a 7th character).
- `find_index_rows(kb, "drug", ["warfarin"], column="poisoning_accidental")`: rows whose term path has every word
  (word prefixes, case-insensitive), for search ("warfarin overdose accidental" -> T45.511A).

Each cell is resolved in the code set asked for (default: the newest loaded): 'billable', 'header' (choose a code
beneath it / add the 7th character) or 'deleted' (the FY2026 table names a code the code set deleted: the 70 Drug
rows that point at T52.8X- in FY2027; `offered` lists the FY2027 codes that replaced it, `kb/code_changes.py`
rules), never the deleted code as valid.

Memoized on the KB handle (key prefix "kb.index_tables"): about 50,000 cells.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from pydantic import BaseModel, Field

from hccguide.errors import BadInput
from hccguide.icd10 import dot, normalize_code, undot
from hccguide.kb.code_changes import CodeBrief, replacements
from hccguide.kb.open import KB
from hccguide.sources.cdc_index_tables import COLUMN_HEADS, COLUMNS

MEMO = "kb.index_tables"
TABLES = ("neoplasm", "drug")
COLUMN_LABELS: dict[str, str] = {
    key: COLUMN_HEADS[table][col] for table, cols in COLUMNS.items() for col, key in cols.items()
}
# The words a query may use for a column (a starting point for search; data, not rules of the CDC table).
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "malignant_primary": ("primary", "malignant", "cancer", "carcinoma"),
    "malignant_secondary": ("secondary", "metastatic", "metastasis", "metastases", "mets"),
    "ca_in_situ": ("in situ", "cis"),
    "benign": ("benign",),
    "uncertain_behavior": ("uncertain",),
    "unspecified_behavior": ("unspecified behavior",),
    "poisoning_accidental": ("accidental", "overdose", "poisoning", "unintentional"),
    "poisoning_intentional_self_harm": ("intentional", "self-harm", "suicide attempt"),
    "poisoning_assault": ("assault",),
    "poisoning_undetermined": ("undetermined",),
    "adverse_effect": ("adverse effect", "side effect", "reaction"),
    "underdosing": ("underdosing", "underdose", "missed dose"),
}
_WORD = re.compile(r"[a-z0-9]+")


class IndexRow(BaseModel):
    """One cell of the Neoplasm or Drug table, resolved in a code set."""

    table: str = Field(description="'neoplasm' | 'drug'")
    row_id: int = Field(description="index_terms.row_id (document order)")
    path: list[str] = Field(description="terms from the main term down (['Neoplasm, neoplastic', 'liver'])")
    label: str = Field(description="as a coder says it: 'Neoplasm, liver' / 'Warfarin'")
    nonessential: list[str] = Field(description="nonessential modifiers of the last term, as printed")
    column: str = Field(description="column key ('malignant_secondary', 'adverse_effect')")
    column_label: str = Field(description="column heading as printed ('Malignant Secondary')")
    printed: str = Field(description="the cell as printed ('C79.8-', 'T45.515')")
    code: str = Field(description="dotted code of the cell, without the dash ('C79.8', 'T45.515')")
    code_set: str = Field(description="the code set the cell was resolved in")
    status: str = Field(description="'billable' | 'header' (choose beneath / add 7th character) | 'deleted'")
    offered: list[CodeBrief] = Field(
        default_factory=list, description="'deleted': the codes of the code set that replaced it (with titles)"
    )
    note: str | None = Field(None, description="'deleted' / 'header': one sentence for a coder")
    see: str | None = Field(None, description="'see' cross-reference of the term")
    see_also: str | None = Field(None, description="'see also' cross-reference of the term")
    source: str = Field(description="provenance key ('cdc:icd10cm_drug_table:FY2026')")

    @property
    def text(self) -> str:
        """'Neoplasm, liver, Malignant Secondary -> C78.7'."""
        return f"{self.label}, {self.column_label} \u2192 {self.printed}"


@dataclass
class _Resolved:
    rows: dict[tuple[str, int, str], IndexRow]
    by_code: dict[str, list[tuple[str, int, str]]]  # code a cell leads to (own or offered, undotted) -> cells
    terms: list[dict]


def _label(table: str, path: list[str]) -> str:
    if table == "neoplasm":
        return ", ".join(["Neoplasm", *path[1:]]) if path else "Neoplasm"
    return ", ".join(path)


def _resolve(kb: KB, code_set: str) -> _Resolved:
    def load() -> _Resolved:
        codes = {
            r["code"]: r["billable"]
            for r in kb.query("SELECT code, billable FROM codes WHERE code_set = ?", [code_set])
        }
        terms = {(r["table_name"], r["row_id"]): r for r in kb.query("SELECT * FROM index_terms ORDER BY row_id")}
        offered_cache: dict[str, list[CodeBrief]] = {}
        rows: dict[tuple[str, int, str], IndexRow] = {}
        by_code: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for c in kb.query("SELECT * FROM index_cells ORDER BY table_name, row_id, column_name"):
            term = terms[(c["table_name"], c["row_id"])]
            key = (c["table_name"], c["row_id"], c["column_name"])
            offered: list[CodeBrief] = []
            note = None
            if c["code"] in codes:
                status = "billable" if codes[c["code"]] else "header"
                if status == "header" and c["table_name"] == "drug" and len(c["code"]) == 6:
                    note = "add the 7th character (A initial, D subsequent, S sequela)"
                leads_to = [c["code"]]
            else:
                status = "deleted"
                if c["code"] not in offered_cache:
                    offered_cache[c["code"]] = replacements(kb, c["code"], code_set)[0]
                offered = offered_cache[c["code"]]
                note = f"{dot(c['code'])} is not a {code_set} code (the table is the April 2026 edition)" + (
                    f"; {code_set} codes: {', '.join(o.code for o in offered)}" if offered else ""
                )
                leads_to = [c["code"]] + [undot(o.code) for o in offered]
            path = list(term["path"])
            rows[key] = IndexRow(
                table=c["table_name"],
                row_id=c["row_id"],
                path=path,
                label=_label(c["table_name"], path),
                nonessential=list(term["nonessential"]),
                column=c["column_name"],
                column_label=COLUMN_LABELS[c["column_name"]],
                printed=c["printed"],
                code=dot(c["code"]),
                code_set=code_set,
                status=status,
                offered=offered,
                note=note,
                see=term["see"],
                see_also=term["see_also"],
                source=c["source_key"],
            )
            for code in leads_to:
                by_code[code].append(key)
        return _Resolved(rows, dict(by_code), list(terms.values()))

    return kb.memo((MEMO, code_set), load)


def _code_set(kb: KB, code_set: str | None) -> str:
    if code_set is None:
        return kb.default_code_set
    if code_set not in kb.code_sets:
        raise BadInput(
            f"code set {code_set} is not loaded", field="code_set", value=code_set, fix=f"use one of {kb.code_sets}"
        )
    return code_set


def index_table_rows(kb: KB, code: str, code_set: str | None = None, limit: int = 50) -> tuple[list[IndexRow], int]:
    """(the first `limit` table rows that lead to `code`, their total count): rows naming the code itself first,
    then fewest path terms, table, document order.

    A cell leads to the code when it names it, or names a header above it (prefix), or (deleted cells) one of
    the codes offered in its place. Raises InvalidCode (not code-shaped), BadInput (code set not loaded)."""
    raw = normalize_code(code)
    resolved = _resolve(kb, _code_set(kb, code_set))
    keys: set[tuple[str, int, str]] = set()
    for n in range(3, len(raw) + 1):
        for key in resolved.by_code.get(raw[:n], []):
            row = resolved.rows[key]
            if n == len(raw) or row.status != "billable":
                keys.add(key)
    rows = resolved.rows
    ordered = sorted(
        keys, key=lambda k: (undot(rows[k].code) != raw, len(rows[k].path), TABLES.index(k[0]), k[1], k[2])
    )
    return [resolved.rows[k] for k in ordered[:limit]], len(ordered)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def find_index_rows(
    kb: KB,
    table: str,
    words: list[str],
    column: str | None = None,
    code_set: str | None = None,
    limit: int = 20,
) -> list[IndexRow]:
    """Rows of `table` whose term path (with nonessential modifiers) has every word of `words` as a word prefix,
    fewest path terms first, then document order; only `column` when given (COLUMNS keys). Rows without a
    code in that column are left out. Raises BadInput for an unknown table or column."""
    if table not in TABLES:
        raise BadInput("unknown index table", field="table", value=table, fix="use 'neoplasm' or 'drug'")
    if column is not None and column not in COLUMNS[table].values():
        raise BadInput(
            f"unknown {table} table column",
            field="column",
            value=column,
            fix=f"use one of {list(COLUMNS[table].values())}",
        )
    wanted = [w for word in words for w in _words(word)]
    resolved = _resolve(kb, _code_set(kb, code_set))
    hits = []
    for term in resolved.terms:
        if term["table_name"] != table:
            continue
        have = _words(" ".join(list(term["path"]) + list(term["nonessential"])))
        if all(any(h.startswith(w) for h in have) for w in wanted):
            hits.append(term)
    hits.sort(key=lambda t: (len(t["path"]), t["row_id"]))
    out: list[IndexRow] = []
    columns = [column] if column else list(COLUMNS[table].values())
    for term in hits:
        for col in columns:
            row = resolved.rows.get((table, term["row_id"], col))
            if row is not None:
                out.append(row)
        if len(out) >= limit:
            break
    return out[:limit]
