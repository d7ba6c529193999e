"""`kb add --from FOLDER` with a complete FY2027 release replaces the addenda build and agrees with it.

No CDC FY2027 tabular is reachable here (../shared/data/README.md), so the release folder is assembled the way CDC
would publish it: the FY2026 tabular XML of simple-icd-10-cm 1.5.0 (CDC April 1, 2026) with the FY2027 order
addenda applied to the XML (a new <diag> per added code, deleted ones removed, titles revised, version 2027), and
an `icd10cm_codes_2027.txt` made from the FY2026 code list and the addenda lines (not from the KB). QA1, which the
addenda do not place, is put in a section of its own at the end of chapter 2 in this fixture only; the comparison
is on codes, titles and billable flags, which the addenda do give.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hccguide.icd10 import dot
from hccguide.kb.add import add_from_release
from hccguide.kb.build import default_code_set_source
from hccguide.kb.open import KB, open_kb
from hccguide.sources.cdc_addenda import parse_addenda
from hccguide.sources.cdc_tabular import read_code_list
from hccguide.sources.files import vendored_file


def _diag(name: str, desc: str) -> ET.Element:
    el = ET.Element("diag")
    ET.SubElement(el, "name").text = name
    ET.SubElement(el, "desc").text = desc
    return el


def _release_folder(root: Path) -> Path:
    source = default_code_set_source()
    tree = ET.parse(source.tabular.location)
    top = tree.getroot()
    top.find("version").text = "2027"  # type: ignore[union-attr]
    by_code: dict[str, tuple[ET.Element, ET.Element]] = {}  # code -> (diag, its parent element)
    for parent in top.iter():
        for child in parent.findall("diag"):
            by_code[child.findtext("name", "").replace(".", "")] = (child, parent)
    addenda = parse_addenda(vendored_file("cdc:icd10cm_order_addenda:FY2027").read_bytes().decode())
    added = {c.code: c for c in addenda.of("add")}
    for c in addenda.of("delete"):
        if c.code not in added and c.code in by_code:  # extension codes have no <diag>: gone with their parent
            diag, parent = by_code.pop(c.code)
            parent.remove(diag)
    for c in addenda.of("revise_to"):
        by_code[c.code][0].find("desc").text = c.title  # type: ignore[union-attr]
    for code in sorted(added):
        if code in by_code:
            continue  # deleted and re-added as a header: children below make it one
        parent_code = next((code[:n] for n in range(len(code) - 1, 2, -1) if code[:n] in by_code), None)
        if parent_code is None:  # new category (QA1): its own section at the end of chapter 2 (fixture only)
            chapter = next(ch for ch in top.findall("chapter") if ch.findtext("name") == "2")
            section = ET.SubElement(chapter, "section", id=f"{code}-{code}")
            ET.SubElement(section, "desc").text = "Fixture section (placement not given by the addenda)"
            holder = section
        else:
            holder = by_code[parent_code][0]
            if len(code) == 7 and _needs_seventh(top, parent_code, by_code):
                continue  # a 7th-character code: the tabular generates it from sevenChrDef
        siblings = holder.findall("diag")
        el = _diag(dot(code), added[code].title)
        after = [s for s in siblings if s.findtext("name", "").replace(".", "") < code]
        index = list(holder).index(after[-1]) + 1 if after else len(list(holder)) - len(siblings)
        holder.insert(index, el)
        by_code[code] = (el, holder)
    folder = root / "icd10cm-2027"
    (folder / "Table and Index").mkdir(parents=True)
    tree.write(folder / "Table and Index" / "icd10cm-tabular-2027.xml", encoding="utf-8", xml_declaration=True)
    billable = read_code_list(source.code_list.location)  # type: ignore[union-attr]
    billable -= {c.code for c in addenda.of("delete") if c.billable}
    billable |= {c.code for c in addenda.of("add") if c.billable}
    lines = sorted(billable)
    (folder / "icd10cm_codes_2027.txt").write_text("\n".join(f"{c:<8}x" for c in lines) + "\n")
    return folder


def _needs_seventh(top: ET.Element, code: str, by_code: dict[str, tuple[ET.Element, ET.Element]]) -> bool:
    """True when `code` or an ancestor carries a sevenChrDef (then 7-character codes below are generated)."""
    for n in range(len(code), 2, -1):
        if code[:n] in by_code and by_code[code[:n]][0].find("sevenChrDef") is not None:
            return True
    return False


@pytest.fixture(scope="module")
def kb_full_fy2027(tmp_path_factory: pytest.TempPathFactory) -> KB:
    root = tmp_path_factory.mktemp("fy2027_release")
    added = add_from_release(_release_folder(root), home=root / "home")
    assert (added.code_set, added.billable_count) == ("FY2027", 74879)
    return open_kb(added.kb_path)


def test_complete_release_replaces_the_addenda_build(kb_full_fy2027: KB) -> None:
    row = kb_full_fy2027.query("SELECT * FROM code_sets WHERE code_set = 'FY2027'")[0]
    assert row["derived_from"] is None and row["notes_as_of"] is None  # its own tabular and notes
    assert row["source_key"] == "icd10cm_tabular:FY2027"
    assert kb_full_fy2027.default_code_set == "FY2027"
    changes = kb_full_fy2027.query("SELECT count(*) AS n FROM code_changes WHERE code_set = 'FY2027'")[0]["n"]
    assert changes > 0  # the addenda still say what changed


def test_complete_release_agrees_with_the_addenda_build_on_every_code_and_title(kb_full_fy2027: KB, kb: KB) -> None:
    sql = "SELECT code, title, billable FROM codes WHERE code_set = 'FY2027'"
    full = {r["code"]: (r["title"], r["billable"]) for r in kb_full_fy2027.query(sql)}
    derived = {r["code"]: (r["title"], r["billable"]) for r in kb.query(sql)}
    assert len(derived) == 74879 + 23524
    assert sorted(set(full) ^ set(derived)) == []
    assert sorted(c for c in full if full[c] != derived[c]) == []
