"""FY2027 in the KB: the FY2026 tabular + CDC's FY2027 order addenda (vendored), checked against the CMS MCE v44.

Figures from the addenda's own summary (74,719 codes in FY2026, 74,879 in FY2027, 190 additions, 30 deletions, 4
revisions) and from ../shared/data/README.md (sha256 of the official files, 9,020 / 40,036 table cells).
"""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources

import pytest

from hccguide.kb.code_changes import change_of, deleted_codes
from hccguide.kb.info import kb_info
from hccguide.kb.open import KB
from hccguide.sources.files import VENDORED, vendored_file

# ../shared/data/README.md: file -> (sha256 of the official file, bytes)
README_SHA256 = {
    "icd10cm_order_addenda_2027.txt": ("d64c57ef4534e4f90336decf27a34ba42979c31cd88f6ea923b5b5edd3da6384", 42495),
    "icd10cm-neoplasm-April-1-2026-XML.xml": (
        "2968606b90795f5a49fa4be6b6c876fb59cae9f04e4f203f8cf566d5926303a5",
        566436,
    ),
    "icd10cm-drug-April-1-2026-XML.xml": ("5fb3c6d65a7924027e02b89d4234a9ea960e3d48e407b1bc26f0d3ccbfeb9fcc", 2056568),
}


@pytest.mark.parametrize("name", sorted(README_SHA256))
def test_vendored_files_unpack_to_the_official_bytes(name: str) -> None:
    packed = resources.files("hccguide.sources").joinpath("data", "cdc", f"{name}.gz").read_bytes()
    data = gzip.decompress(packed)
    assert (hashlib.sha256(data).hexdigest(), len(data)) == README_SHA256[name]


def test_provenance_names_copy_and_independent_check(kb: KB) -> None:
    rows = {r["source_key"]: r for r in kb.sources}
    for key, spec in VENDORED.items():
        row = rows[key]
        assert row["sha256"] == README_SHA256[spec.file_name][0] == vendored_file(key).sha256
        assert row["package"] == "hccguide" and row["path"] == f"hccguide/sources/data/cdc/{spec.file_name}.gz"
        assert "@" in row["copied_from"] and row["independent_check"]
    info = {s["source_key"]: s for s in kb_info(kb)["sources"]}
    assert info["cdc:icd10cm_order_addenda:FY2027"]["copied_from"].startswith("github.com/dylan199512/icd10-explorer")


def test_fy2027_counts_and_default(kb: KB) -> None:
    rows = {r["code_set"]: r for r in kb.query("SELECT * FROM code_sets")}
    assert rows["FY2027"]["billable_count"] == 74879  # addenda summary: 74879 codes in icd10cm_order_2027.txt
    assert rows["FY2026"]["billable_count"] == 74719
    assert rows["FY2027"]["notes_as_of"] == "FY2026"
    assert rows["FY2027"]["notes_label"] == "notes as of FY2026; FY2027 note changes not loaded"
    assert (str(rows["FY2027"]["valid_from"]), str(rows["FY2027"]["valid_to"])) == ("2026-10-01", "2027-09-30")
    headers = kb.query("SELECT count(*) AS n FROM codes WHERE code_set = 'FY2027' AND NOT billable")[0]["n"]
    assert headers == 23524  # addenda summary: 23524 headers in icd10cm_order_2027.txt
    assert kb.default_code_set == "FY2027" and kb.code_sets[:2] == ["FY2027", "FY2026"]


def test_fy2027_billable_set_is_the_mce_v44_valid_set(kb: KB) -> None:
    billable = {r["code"] for r in kb.query("SELECT code FROM codes WHERE code_set = 'FY2027' AND billable")}
    valid = {r["code"] for r in kb.query("SELECT code FROM code_validity WHERE fiscal_year = 2027 AND valid")}
    assert billable == valid


@pytest.mark.parametrize(
    ("code", "billable", "parent", "title", "why"),
    [
        ("I420", False, "I42", "Dilated cardiomyopathy", "Delete: 1 + Add: 0 -> header"),
        ("I4200", True, "I420", "Dilated cardiomyopathy, unspecified", "new code beneath the new header"),
        ("I4201", True, "I420", "Familial-genetic dilated cardiomyopathy", "new code"),
        ("I4209", True, "I420", "Other dilated cardiomyopathy", "new code"),
        ("E89830", True, "E8983", "Post bariatric hypoglycemia", "new header E89.83 and code"),
        ("T52811A", True, "T52811", "Toxic effect of alkenes, accidental (unintentional), initial encounter", "7th"),
        ("QA171", True, "QA17", "Lynch syndrome", "new two-letter category QA1"),
        ("L03322", True, "L0332", "Acute lymphangitis of back [any part except buttock and flank]", "revised (long)"),
        ("Z2914", True, "Z291", "Encounter for prophylactic rabies immune globulin", "revised"),
        ("E119", True, "E11", "Type 2 diabetes mellitus without complications", "unchanged"),
    ],
)
def test_fy2027_rows(kb: KB, code: str, billable: bool, parent: str, title: str, why: str) -> None:
    row = kb.query("SELECT * FROM codes WHERE code_set = 'FY2027' AND code = ?", [code])[0]
    assert (row["billable"], row["parent"], row["title"]) == (billable, parent, title), why


@pytest.mark.parametrize("code", ["T528X", "T528X1", "T528X1A", "S23420", "S23420A", "Z681", "I420"])
def test_deleted_or_now_header_codes_are_not_billable_in_fy2027(kb: KB, code: str) -> None:
    rows = kb.query("SELECT billable FROM codes WHERE code_set = 'FY2027' AND code = ?", [code])
    assert rows == [] or rows[0]["billable"] is False


def test_qa1_is_not_placed_in_a_chapter(kb: KB) -> None:
    """The addenda add category QA1 without a chapter or block: the KB says so instead of guessing."""
    row = kb.query("SELECT * FROM codes WHERE code_set = 'FY2027' AND code = 'QA1'")[0]
    assert (row["chapter"], row["block_id"], row["parent"]) == (0, "unplaced:QA1", None)
    chapter = kb.query("SELECT title FROM chapters WHERE code_set = 'FY2027' AND chapter = 0")[0]["title"]
    block = kb.query("SELECT title FROM blocks WHERE code_set = 'FY2027' AND block_id = 'unplaced:QA1'")[0]["title"]
    assert "not known without the FY2027 tabular" in chapter and "not known without the FY2027 tabular" in block


def test_fy2027_notes_are_the_fy2026_notes(kb: KB) -> None:
    """Notes are FY2026's for every node still present (never invented); none for deleted nodes."""
    diff = kb.query(
        "SELECT count(*) AS n FROM ((SELECT node_kind, node, note_type, seq, text FROM notes WHERE code_set = 'FY2026' "
        "AND (node_kind <> 'code' OR node IN (SELECT code FROM codes WHERE code_set = 'FY2027'))) "
        "EXCEPT (SELECT node_kind, node, note_type, seq, text FROM notes WHERE code_set = 'FY2027'))"
    )
    assert diff[0]["n"] == 0
    new_nodes = kb.query(
        "SELECT count(*) AS n FROM notes n JOIN code_changes c ON c.code_set = n.code_set AND c.code = n.node "
        "WHERE n.code_set = 'FY2027' AND c.change = 'added'"
    )
    assert new_nodes[0]["n"] == 0


# Deleted in FY2027 with no code beneath or beside them in the addenda: CDC's conversion table (not loaded) names
# the successor; hccguide says so instead of guessing one from titles.
NO_SUCCESSOR_IN_ADDENDA = {"S23420A", "S23420D", "S23420S"}


def test_thirty_deleted_codes_say_what_replaced_them(kb: KB) -> None:
    deleted = deleted_codes(kb, "FY2027")
    assert len(deleted) == 30
    for code in deleted:
        change = change_of(kb, code, "FY2027")
        assert change is not None, code
        if code in NO_SUCCESSOR_IN_ADDENDA:
            assert (change.replaced_by, change.how) == ([], None), code
            assert "conversion table" in change.message and "no code" in change.message, code
            continue
        assert change.replaced_by, code
        assert all(b.title and b.code in change.message for b in change.replaced_by), code


@pytest.mark.parametrize(
    ("code", "how", "first", "why"),
    [
        ("I42.0", "now_header", "I42.00", "billable -> header: the codes beneath"),
        ("T52.8X1A", "expanded", "T52.811A", "T52.8X deleted, T52.81/82/89 added: the placeholder X filled"),
    ],
)
def test_replacement_rules(kb: KB, code: str, how: str, first: str, why: str) -> None:
    change = change_of(kb, code, "FY2027")
    assert change is not None and (change.how, change.replaced_by[0].code) == (how, first), why
