"""Parse the CDC ICD-10-CM Table of Neoplasms and Table of Drugs and Chemicals (index XML).

Source format: `icd10cm-neoplasm-April-1-2026-XML.xml` and `icd10cm-drug-April-1-2026-XML.xml` of the CDC NCHS
ICD-10-CM April 1, 2026 (FY2026) "Table and Index" zip (vendored, see sources/files.py VENDORED). Root
`<ICD10CM.index>`; `<indexHeading>` names the columns (`<head col="2">Malignant Primary</head>` ...); every
`<mainTerm>` and nested `<term level="N">` has a `<title>` (its text, with nonessential modifiers in `<nemod>`,
printed in parentheses), optional `<see>` / `<seeAlso>` cross-references and `<cell col="N">` cells: a code as
printed ('C78.7', 'C79.8-', 'T45.515') or '-' / '--' for none. A trailing '-' means more characters are needed
(CDC index conventions); Drug-table codes also need a 7th character (category T36-T65: A, D, S).

Rows: `IndexTerm` per term in document order (parent first), `IndexCell` per code cell (empty cells are left out).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from hccguide.errors import SourceError
from hccguide.icd10 import undot

# Column keys by table and XML column number (the <head> texts are checked against COLUMN_HEADS).
COLUMNS: dict[str, dict[int, str]] = {
    "neoplasm": {
        2: "malignant_primary",
        3: "malignant_secondary",
        4: "ca_in_situ",
        5: "benign",
        6: "uncertain_behavior",
        7: "unspecified_behavior",
    },
    "drug": {
        2: "poisoning_accidental",
        3: "poisoning_intentional_self_harm",
        4: "poisoning_assault",
        5: "poisoning_undetermined",
        6: "adverse_effect",
        7: "underdosing",
    },
}
COLUMN_HEADS: dict[str, dict[int, str]] = {
    "neoplasm": {
        1: "Neoplasm",
        2: "Malignant Primary",
        3: "Malignant Secondary",
        4: "Ca in situ",
        5: "Benign",
        6: "Uncertain Behavior",
        7: "Unspecified Behavior",
    },
    "drug": {
        1: "Substance",
        2: "Poisoning Accidental (unintentional)",
        3: "Poisoning Intentional self-harm",
        4: "Poisoning Assault",
        5: "Poisoning Undetermined",
        6: "Adverse effect",
        7: "Underdosing",
    },
}
_CODE = re.compile(r"^[A-Z][0-9A-Z][0-9A-Z](?:\.[0-9A-Z]{0,4})?-?$")


@dataclass(frozen=True)
class IndexTerm:
    table: str  # 'neoplasm' | 'drug'
    row_id: int  # document order, from 1
    parent_id: int | None  # the term above (None for a main term)
    level: int  # 0 main term, 1.. nested term level
    term: str  # the title without nonessential modifiers ('liver'; 'Warfarin')
    nonessential: tuple[str, ...]  # modifiers in parentheses, as printed ('(dichlorophen-oxyacetic acid)')
    path: tuple[str, ...]  # terms from the main term down ('Neoplasm, neoplastic', 'liver', 'primary')
    see: str | None
    see_also: str | None


@dataclass(frozen=True)
class IndexCell:
    table: str
    row_id: int
    column: str  # COLUMNS key ('malignant_secondary', 'adverse_effect')
    printed: str  # as printed ('C79.8-')
    code: str  # undotted, dash removed ('C798')
    incomplete: bool  # printed with a trailing '-': a code beneath it is needed


@dataclass
class IndexTable:
    table: str
    version: int  # <version> (2026)
    terms: list[IndexTerm] = field(default_factory=list)
    cells: list[IndexCell] = field(default_factory=list)


def _clean(text: str) -> str:
    return " ".join(text.split())


def parse_index_table(data: bytes, table: str, where: str = "") -> IndexTable:
    """Parse the Neoplasm (`table='neoplasm'`) or Drug (`'drug'`) table XML bytes.

    Raises SourceError naming the file when it is not that table (root, headings) or a cell is not a code."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise SourceError(f"cannot read index XML: {exc}", field="path", value=where) from exc
    heads = {int(h.get("col", "0")): _clean(h.text or "") for h in root.iter("head")}
    if root.tag != "ICD10CM.index" or heads != COLUMN_HEADS[table]:
        raise SourceError(
            f"not the ICD-10-CM {table} table (columns {sorted(heads.values())[:3]})",
            field="path",
            value=where,
            fix="use the CDC icd10cm-neoplasm / icd10cm-drug XML file unchanged",
        )
    out = IndexTable(table, int(_clean(root.findtext("version") or "0")))
    columns = COLUMNS[table]

    def visit(element: ET.Element, level: int, parent: int | None, path: tuple[str, ...]) -> None:
        title = element.find("title")
        nonessential = tuple(_clean(n.text or "") for n in title.iter("nemod")) if title is not None else ()
        term = _clean(title.text or "") if title is not None else ""
        if title is not None:
            term = _clean(" ".join([title.text or ""] + [n.tail or "" for n in title.iter("nemod")]))
        row_id = len(out.terms) + 1
        here = (*path, term)
        out.terms.append(
            IndexTerm(
                table,
                row_id,
                parent,
                level,
                term,
                nonessential,
                here,
                _clean(element.findtext("see") or "") or None,
                _clean(element.findtext("seeAlso") or "") or None,
            )
        )
        for cell in element.findall("cell"):
            printed = _clean(cell.text or "")
            if printed in ("", "-", "--"):
                continue
            if not _CODE.match(printed):
                raise SourceError(
                    f"{table} table: cell {printed!r} of {', '.join(here)} is not a code",
                    field="cell",
                    value=printed,
                    fix="use the CDC file unchanged",
                )
            out.cells.append(
                IndexCell(
                    table,
                    row_id,
                    columns[int(cell.get("col", "0"))],
                    printed,
                    undot(printed.rstrip("-")),
                    printed.endswith("-"),
                )
            )
        for child in element.findall("term"):
            visit(child, int(child.get("level", str(level + 1))), row_id, here)

    for main in root.iter("mainTerm"):
        visit(main, 0, None, ())
    return out


def read_index_table(path: Path, table: str) -> IndexTable:
    return parse_index_table(path.read_bytes(), table, str(path))
