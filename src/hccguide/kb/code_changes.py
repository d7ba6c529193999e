"""What a code set changed for one code, and what replaced a deleted code, with titles.

Source: the KB `code_changes` table (CDC FY2027 order addenda, vendored: sources/files.py VENDORED) and the `codes`
of the code set. For a code deleted in a code set (`change_of(kb, "T52.8X1A", "FY2027")`) the replacement is, in
this order (the first rule that finds codes wins; `how` says which):

1. 'now_header': the code is a header in the new code set; its billable codes beneath replace it
   (I42.0 -> I42.00, I42.01, I42.09).
2. 'expanded': an ancestor was deleted and new codes added beside it: the new codes of the same length under the
   nearest surviving ancestor that equal the deleted code at every position but its placeholder X
   (T52.8X1A -> T52.811A, T52.821A, T52.891A; T52.8X- -> T52.81-, T52.82-, T52.89-).
When neither finds a code (S23.420A/D/S: deleted, nothing beneath, no sibling added), `replaced_by` is empty and the
message says the addenda name no successor: the official one is in CDC's conversion table, which the KB does not
load. No successor is guessed from titles (a figure we cannot trace to an official file stays empty).

Results are pydantic models; the in-memory tables are memoized on the KB handle (key prefix "kb.code_changes").
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from hccguide.icd10 import dot, normalize_code
from hccguide.kb.open import KB

MEMO = "kb.code_changes"


class CodeBrief(BaseModel):
    code: str = Field(description="dotted ICD-10-CM code ('I42.01')")
    title: str = Field(description="official title in the code set")
    billable: bool = Field(description="valid for HIPAA-covered transactions in the code set")


class CodeChange(BaseModel):
    """What a code set did to one code (CDC order addenda), and for a deleted code what replaced it."""

    code: str = Field(description="dotted code asked about")
    code_set: str = Field(description="the code set the change leads to ('FY2027')")
    change: str = Field(description="'added' | 'deleted' | 'now_header' | 'now_billable' | 'revised'")
    title: str = Field(description="title on the addenda line (for 'deleted': the title it had)")
    previous_title: str | None = Field(None, description="'revised': the title before")
    replaced_by: list[CodeBrief] = Field(default_factory=list, description="deleted/now_header: codes that replace it")
    how: str | None = Field(
        None, description="how replaced_by was found: 'now_header' | 'expanded' | None (nothing found)"
    )
    message: str = Field(description="one sentence for a coder, with the replacing codes and titles")
    headline: str = Field(description="the sentence without the list ('I42.0 is a header in FY2027 -> use:')")
    source: str = Field(description="provenance key of the addenda ('cdc:icd10cm_order_addenda:FY2027')")


def _tables(kb: KB) -> tuple[dict[tuple[str, str], dict], dict[str, dict[str, dict]]]:
    def load() -> tuple[dict[tuple[str, str], dict], dict[str, dict[str, dict]]]:
        changes = {(r["code_set"], r["code"]): r for r in kb.query("SELECT * FROM code_changes")}
        sets = {cs for cs, _ in changes}
        codes: dict[str, dict[str, dict]] = defaultdict(dict)
        for r in kb.query(
            "SELECT code_set, code, code_dotted, title, billable, chapter FROM codes WHERE list_contains(?, code_set)",
            [sorted(sets)],
        ):
            codes[r["code_set"]][r["code"]] = r
        return changes, dict(codes)

    return kb.memo((MEMO, "tables"), load)


def _brief(row: dict) -> CodeBrief:
    return CodeBrief(code=row["code_dotted"], title=row["title"], billable=row["billable"])


def replacements(kb: KB, code: str, code_set: str) -> tuple[list[CodeBrief], str | None]:
    """(codes of `code_set` that replace `code`, how) by the rules of the module docstring; ([], None) if none.

    `code` may be a header or a billable code, deleted in `code_set` or a header there."""
    raw = normalize_code(code)
    _, all_codes = _tables(kb)
    codes = all_codes.get(code_set, {})
    if raw in codes:
        if codes[raw]["billable"]:
            return [], None
        beneath = sorted((r for c, r in codes.items() if c.startswith(raw) and r["billable"]), key=lambda r: r["code"])
        return [_brief(r) for r in beneath], "now_header"
    ancestor = next((raw[:n] for n in range(len(raw) - 1, 2, -1) if raw[:n] in codes), None)
    if ancestor is not None:
        found = [
            r
            for c, r in codes.items()
            if len(c) == len(raw)
            and c.startswith(ancestor)
            and all(a == b or a == "X" for a, b in zip(raw, c, strict=True))
        ]
        if found:
            return [_brief(r) for r in sorted(found, key=lambda r: r["code"])], "expanded"
    return [], None


def change_of(kb: KB, code: str, code_set: str) -> CodeChange | None:
    """The change `code_set` made to `code` (any spelling), or None when the addenda do not touch it.

    Raises InvalidCode for a value that is not code-shaped."""
    raw = normalize_code(code)
    changes, _ = _tables(kb)
    row = changes.get((code_set, raw))
    if row is None:
        return None
    replaced: list[CodeBrief] = []
    how = None
    if row["change"] in ("deleted", "now_header"):
        replaced, how = replacements(kb, raw, code_set)
    listing = "; ".join(f"{b.code} {b.title}" for b in replaced)
    if row["change"] == "deleted":
        if replaced:
            message = f"{dot(raw)} was deleted in {code_set}; replaced by {listing}."
        else:
            message = (
                f"{dot(raw)} was deleted in {code_set}; the addenda add no code beneath or beside it. The official "
                f"successor is in CDC's {code_set} conversion table, which hccguide does not load: search the "
                f"{code_set} code set for the condition."
            )
    elif row["change"] == "now_header":
        message = f"{dot(raw)} is a header from {code_set} on (not billable); use a code beneath it: {listing}."
    elif row["change"] == "revised":
        message = f"{code_set} revised the title of {dot(raw)}: was \u201c{row['previous_title']}\u201d."
    elif row["change"] == "added":
        message = f"{dot(raw)} is new in {code_set}."
    else:
        message = f"{dot(raw)} is billable from {code_set} on."
    headline = message.split(":")[0] + ":" if replaced else message
    if row["change"] == "deleted" and replaced:
        headline = f"{dot(raw)} deleted in {code_set} → replaced by:"
    return CodeChange(
        headline=headline,
        code=dot(raw),
        code_set=code_set,
        change=row["change"],
        title=row["title"],
        previous_title=row["previous_title"],
        replaced_by=replaced,
        how=how,
        message=message,
        source=row["source_key"],
    )


def deleted_codes(kb: KB, code_set: str, billable_only: bool = True) -> list[str]:
    """Undotted codes `code_set` deleted or turned into headers (billable before; 30 for FY2027)."""
    changes, _ = _tables(kb)
    return sorted(
        c
        for (cs, c), r in changes.items()
        if cs == code_set and r["change"] in ("deleted", "now_header") and (r["billable_before"] or not billable_only)
    )
