"""Parse the CDC NCHS ICD-10-CM tabular XML (and its code list) into plain rows.

Source format: the `icd10cm_tabular_YYYY.xml` file of the CDC ICD-10-CM release (as shipped unchanged by
simple-icd-10-cm, e.g. `data/icd10c-tabular-April-1-2026.xml` in 1.5.0). Elements used: chapter/name/desc,
section (block) id/desc, diag/name/desc, the note elements in NOTE_TAGS, sevenChrNote and sevenChrDef/extension.

7th characters: a code with a sevenChrDef (or below one) that has no child codes needs a 7th character; the
billable codes are the code padded with placeholder X to six characters plus each defined character (CDC
tabular conventions, section "7th characters and placeholder X"). The nearest ancestor's definition wins.
The title of such a code is the parent title, a comma, and the meaning of the character, as in the CDC
`icd10cm_codes_YYYY.txt` file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hccguide.errors import SourceError
from hccguide.icd10 import dot, undot

# XML note element -> KB note_type
NOTE_TAGS: dict[str, str] = {
    "inclusionTerm": "inclusion_term",
    "includes": "includes",
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "codeFirst": "code_first",
    "useAdditionalCode": "use_additional_code",
    "codeAlso": "code_also",
    "notes": "notes",
    "sevenChrNote": "seventh_char_note",
}

_RANGE_AT_END = re.compile(r"\s*\(([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]+)?)-([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]+)?)\)\s*$")
# Code references printed inside notes: 'E11.-', 'Z16.-', 'P35-P39', 'I10', 'T36-T65', 'O98.-'
_CODE_REF = re.compile(
    r"\b([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4}-?)?(?:-[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)?)(?![0-9A-Za-z])"
)


# A tabular note that withdraws 7th characters from some codes, e.g. S06 (FY2026): "7th characters D and S do
# not apply to codes in category S06 with 6th character 7 - death due to brain injury ..., or 8 - death due to ..."
_SEVENTH_EXCEPTION = re.compile(
    r"7th characters? ((?:[A-Z0-9](?:,? (?:and|or) |, )?)+) do(?:es)? not apply to codes in category ([A-Z][0-9][0-9A-Z])"
    r" with 6th character ([0-9A-Z])(?:.*?, or ([0-9A-Z]) - )?"
)


def seventh_exceptions(text: str) -> tuple[str, set[str], set[str]] | None:
    """(category, withdrawn 7th characters, 6th characters they are withdrawn from) stated by a note, or None."""
    match = _SEVENTH_EXCEPTION.search(text)
    if not match:
        return None
    chars = set(re.findall(r"\b[A-Z0-9]\b", match.group(1)))
    sixth = {c for c in (match.group(3), match.group(4)) if c}
    return match.group(2), chars, sixth


# CDC order file line: '00002 A000    1 Cholera due to ...' (order number, code padded to 7, flag, titles).
_ORDER_LINE = re.compile(r"^\d{5} [A-Z0-9]{3,7} *[01] ")


def code_refs(text: str) -> list[str]:
    """Codes and ranges cited in a note, as printed ('E11.-', 'P35-P39')."""
    return [m.group(1) for m in _CODE_REF.finditer(text)]


@dataclass
class Tabular:
    """Rows parsed from one tabular XML, ready for the KB tables of the same names."""

    code_set: str
    fiscal_year: int
    chapters: list[dict] = field(default_factory=list)
    blocks: list[dict] = field(default_factory=list)
    codes: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    seventh_characters: list[dict] = field(default_factory=list)

    @property
    def billable(self) -> set[str]:
        return {row["code"] for row in self.codes if row["billable"]}


def _text(element: ET.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _split_range(desc: str) -> tuple[str, str | None, str | None]:
    match = _RANGE_AT_END.search(desc)
    if not match:
        return desc.strip(), None, None
    return desc[: match.start()].strip(), match.group(1), match.group(2)


def parse_tabular(path: Path, code_set: str | None = None) -> Tabular:
    """Parse a CDC ICD-10-CM tabular XML file.

    Returns a Tabular with one row per chapter, block, code (categories, subcategories, billable codes and
    every 7th-character code), note and 7th-character definition. `code_set` defaults to 'FY' + <version>.
    Raises SourceError when the file is not an ICD-10-CM tabular.
    """
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise SourceError(f"cannot read tabular XML: {exc}", field="path", value=str(path)) from exc
    if root.tag != "ICD10CM.tabular":
        raise SourceError("not an ICD-10-CM tabular file", field="path", value=str(path))
    fiscal_year = int(_text(root.find("version")))
    tab = Tabular(code_set=code_set or f"FY{fiscal_year}", fiscal_year=fiscal_year)
    seq = 0
    seventh_by_node: dict[str, list[dict]] = {}

    withdrawn: dict[str, tuple[set[str], set[str]]] = {}  # category -> (7th chars, 6th chars)

    def add_notes(element: ET.Element, node_kind: str, node: str) -> None:
        for child in element:
            note_type = NOTE_TAGS.get(child.tag)
            if note_type is None:
                continue
            for i, note in enumerate(child.findall("note")):
                text = _text(note)
                exception = seventh_exceptions(text)
                if exception:
                    withdrawn[exception[0]] = (exception[1], exception[2])
                if text:
                    tab.notes.append(
                        {
                            "code_set": tab.code_set,
                            "node_kind": node_kind,
                            "node": node,
                            "note_type": note_type,
                            "seq": i,
                            "text": text,
                            "refs": code_refs(text),
                        }
                    )

    def walk(diag: ET.Element, parent: str | None, block_id: str, chapter: int, seventh_src: str | None) -> None:
        nonlocal seq
        code = undot(_text(diag.find("name")))
        title = _text(diag.find("desc"))
        add_notes(diag, "code", code)
        definition = diag.find("sevenChrDef")
        if definition is not None:
            seventh_src = code
            for i, ext in enumerate(definition.findall("extension")):
                row = {
                    "code_set": tab.code_set,
                    "node": code,
                    "character": ext.get("char", "").strip(),
                    "meaning": _text(ext),
                    "seq": i,
                }
                tab.seventh_characters.append(row)
                seventh_by_node.setdefault(code, []).append(row)
        children = diag.findall("diag")
        leaf = not children
        billable = leaf and seventh_src is None
        level = "category" if len(code) == 3 else "code" if billable else "subcategory"
        seq += 1
        tab.codes.append(
            {
                "code_set": tab.code_set,
                "code": code,
                "code_dotted": dot(code),
                "title": title,
                "billable": billable,
                "level": level,
                "depth": len(code),
                "parent": parent,
                "block_id": block_id,
                "chapter": chapter,
                "seventh_char_source": seventh_src,
                "seventh_char": None,
                "seq": seq,
            }
        )
        if leaf and seventh_src is not None:
            _add_extensions(code, title, parent_seq_block=(block_id, chapter), seventh_src=seventh_src)
        for child in children:
            walk(child, code, block_id, chapter, seventh_src)

    def _add_extensions(code: str, title: str, parent_seq_block: tuple[str, int], seventh_src: str) -> None:
        nonlocal seq
        block_id, chapter = parent_seq_block
        padded = code.ljust(6, "X")
        chars_out, sixth = withdrawn.get(code[:3], (set(), set()))
        for definition in seventh_by_node[seventh_src]:
            if len(code) == 6 and code[5] in sixth and definition["character"] in chars_out:
                continue  # withdrawn by a tabular note on the category (see _SEVENTH_EXCEPTION)
            seq += 1
            full = padded + definition["character"]
            tab.codes.append(
                {
                    "code_set": tab.code_set,
                    "code": full,
                    "code_dotted": dot(full),
                    "title": f"{title}, {definition['meaning']}",
                    "billable": True,
                    "level": "extension",
                    "depth": 7,
                    "parent": code,
                    "block_id": block_id,
                    "chapter": chapter,
                    "seventh_char_source": seventh_src,
                    "seventh_char": definition["character"],
                    "seq": seq,
                }
            )

    for chapter_el in root.findall("chapter"):
        chapter = int(_text(chapter_el.find("name")))
        title, first, last = _split_range(_text(chapter_el.find("desc")))
        add_notes(chapter_el, "chapter", str(chapter))
        sections = chapter_el.findall("section")
        tab.chapters.append(
            {
                "code_set": tab.code_set,
                "chapter": chapter,
                "first_code": first or sections[0].get("id", "").split("-")[0],
                "last_code": last or sections[-1].get("id", "").split("-")[-1],
                "title": title,
            }
        )
        for section in sections:
            block_id = section.get("id", "")
            if "-" not in block_id:
                block_id = f"{block_id}-{block_id}"
            first_code, last_code = block_id.split("-", 1)
            block_title, _, _ = _split_range(_text(section.find("desc")))
            tab.blocks.append(
                {
                    "code_set": tab.code_set,
                    "block_id": block_id,
                    "chapter": chapter,
                    "first_code": first_code,
                    "last_code": last_code,
                    "title": block_title,
                    "seq": len(tab.blocks),
                }
            )
            add_notes(section, "block", block_id)
            for diag in section.findall("diag"):
                walk(diag, None, block_id, chapter, None)
    return tab


def read_code_list(path: Path) -> set[str]:
    """Billable codes (undotted) of an official code list.

    Accepts the CDC `icd10cm_codes_YYYY.txt` (one billable code and its title per line), the CDC
    `icd10cm_order_YYYY.txt` (fixed columns: order number 1-5, code 7-13, billable flag 15 = '1', titles; as
    shipped in simple-icd-10-cm 1.2.0 `data/icd10cm-order-Jan-2021.txt`) and the simple-icd-10-cm
    `code-list-*.txt` (every chapter, block and code, one per line; billable = no longer code starts with it).
    Raises SourceError on an empty file.
    """
    raw = [line.rstrip("\r\n") for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    if not any(line.strip() for line in raw):
        raise SourceError("the code list is empty", field="code_list", value=str(path))
    if all(_ORDER_LINE.match(line) for line in raw[:50] if line.strip()):
        return {undot(line[6:13]) for line in raw if _ORDER_LINE.match(line) and line[14] == "1"}
    lines = [line.strip() for line in raw]
    lines = [line for line in lines if line]
    if any(" " in line for line in lines[:50]):  # CDC codes file: 'A000    Cholera due to ...'
        return {undot(line.split()[0]) for line in lines}
    codes = sorted(undot(line) for line in lines if not line.isdigit() and "-" not in line)
    billable: set[str] = set()
    for i, code in enumerate(codes):
        nxt = codes[i + 1] if i + 1 < len(codes) else ""
        if not nxt.startswith(code):
            billable.add(code)
    return billable


def check_against_code_list(tab: Tabular, official: Iterable[str]) -> None:
    """Raise SourceError unless the billable codes parsed from the tabular equal the official list."""
    parsed = tab.billable
    official = set(official)
    missing, extra = sorted(official - parsed), sorted(parsed - official)
    if missing or extra:
        raise SourceError(
            f"{tab.code_set}: tabular gives {len(parsed)} billable codes, code list {len(official)} "
            f"(missing {missing[:5]}, extra {extra[:5]})",
            field="code_list",
            value=tab.code_set,
        )
