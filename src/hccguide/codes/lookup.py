"""Find a code in a code set: normalise any spelling, choose the code set, suggest near codes when absent.

Code sets are chosen by fiscal year (`fy`) or date of service; with none given, the code set in force today
(`hccguide.icd10.today_code_set()`: FY2027 since 2026-10-01, in the KB from the FY2026 tabular + CDC's FY2027 order
addenda, see kb/addenda_code_set.py), falling back to the newest loaded one with a note.

A code the chosen code set deleted (FY2027: 30 codes, e.g. I42.0 now a header, T52.8X1A) is found in the previous
code set that has it, so its page can say what replaced it (`kb.code_changes.change_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, process

from hccguide.codes.store import code_store
from hccguide.errors import InvalidCode, UnknownFiscalYear
from hccguide.icd10 import dot, fiscal_year_of, normalize_code
from hccguide.kb.open import KB

__all__ = ["CodeSetChoice", "choose_code_set", "find_code", "fiscal_year_of", "nearest_codes", "normalize_code"]


@dataclass(frozen=True)
class CodeSetChoice:
    code_set: str
    fiscal_year: int
    note: str | None  # set when the answer falls back to another code set
    requested_fiscal_year: int  # the year asked for (or in force today / on the date of service), maybe not loaded
    notes_label: str | None = None  # 'notes as of FY2026; FY2027 note changes not loaded' for a derived code set


def notes_label_of(kb: KB, code_set: str) -> str | None:
    """The label to show with the notes of `code_set` (KB `code_sets.notes_label`; None for a full tabular)."""
    labels = kb.memo(
        ("codes.lookup", "notes_label"),
        lambda: {r["code_set"]: r["notes_label"] for r in kb.query("SELECT code_set, notes_label FROM code_sets")},
    )
    return labels.get(code_set)


def choose_code_set(
    kb: KB, fy: int | None = None, today: date | None = None, *, date_of_service: date | None = None
) -> CodeSetChoice:
    """The code set to answer from.

    `fy` None -> the fiscal year in force on `date_of_service`, else `today` (default: the system date), else the
    newest loaded code set with a note. A requested year newer than every loaded code set but not after the one in
    force today also falls back with a note (the tabular is not loaded yet). Any other unknown year raises
    UnknownFiscalYear naming the accepted values.
    """
    choice = _choose(kb, fy, date_of_service or today)
    label = notes_label_of(kb, choice.code_set)
    return CodeSetChoice(choice.code_set, choice.fiscal_year, choice.note, choice.requested_fiscal_year, label)


def _choose(kb: KB, fy: int | None, today: date | None) -> CodeSetChoice:
    loaded = {int(cs.removeprefix("FY")): cs for cs in kb.code_sets}
    newest = max(loaded)
    current = fiscal_year_of(today or date.today())
    wanted = fy if fy is not None else current
    if wanted in loaded:
        return CodeSetChoice(loaded[wanted], wanted, None, wanted)
    if newest < wanted <= max(current, newest + 1):
        return CodeSetChoice(
            loaded[newest],
            newest,
            f"The FY{wanted} ICD-10-CM code set (dates of service {wanted - 1}-10-01 to {wanted}-09-30) is not loaded; "
            f"descriptions and notes are from FY{newest}. Load the official CDC FY{wanted} release with "
            f"`hccguide kb add --from FOLDER` to answer from it.",
            wanted,
        )
    raise UnknownFiscalYear(
        f"no ICD-10-CM code set for fiscal year {fy}",
        field="fy",
        value=fy,
        fix=f"use one of {sorted(loaded)} (add others with `hccguide kb add`)",
        suggestions=sorted(loaded),
    )


def find_code(kb: KB, raw: str, code_set: str, *, deleted_fallback: bool = True) -> dict:
    """The `codes` row of a code in a code set. Raises InvalidCode with the nearest codes as suggestions.

    With `deleted_fallback`, a code that `code_set` deleted (KB `code_changes`) is answered from the newest
    older code set that has it (the row's `code_set` says which), so a page can say what replaced it."""
    code = normalize_code(raw)
    store = code_store(kb)
    row = store.codes.get((code_set, code))
    if row is not None:
        return row
    if deleted_fallback:
        year = int(code_set.removeprefix("FY"))
        older = [cs for cs in store.code_sets_of.get(code, []) if int(cs.removeprefix("FY")) < year]
        if older and _deleted_in(kb, code, code_set):
            return store.codes[(older[0], code)]
    suggestions = nearest_codes(kb, code, code_set)
    hint = f"did you mean {suggestions[0]['code']}?" if suggestions else "check the code"
    raise InvalidCode(
        f"{dot(code)} is not an ICD-10-CM code in {code_set}",
        field="code",
        value=raw,
        fix=hint,
        suggestions=suggestions,
    )


def _deleted_in(kb: KB, code: str, code_set: str) -> bool:
    deleted = kb.memo(
        ("codes.lookup", "deleted"),
        lambda: {
            (r["code_set"], r["code"])
            for r in kb.query("SELECT code_set, code FROM code_changes WHERE change = 'deleted'")
        },
    )
    return (code_set, code) in deleted


def nearest_codes(kb: KB, code: str, code_set: str, limit: int = 8) -> list[dict]:
    """Existing codes nearest to a missing one, each as {code, title, billable}: codes under the longest existing
    prefix first (billable before headers), widening the prefix until `limit` are found but never beyond the
    category; then codes of the same length and first letter whose spelling is closest (a typo)."""
    out: list[dict] = []
    seen: set[str] = set()

    def add(row: dict) -> None:
        if row["code"] not in seen and len(out) < limit:
            seen.add(row["code"])
            out.append({"code": row["code_dotted"], "title": row["title"], "billable": row["billable"]})

    for cut in range(len(code) - 1, 2, -1):
        for row in kb.query(
            "SELECT code, code_dotted, title, billable FROM codes WHERE code_set = ? AND code LIKE ? "
            "ORDER BY billable DESC, length(code), seq LIMIT ?",
            [code_set, code[:cut] + "%", limit],
        ):
            add(row)
        if len(out) >= limit:
            break
    if len(out) < limit:
        pool = kb.query(
            "SELECT code, code_dotted, title, billable FROM codes WHERE code_set = ? AND code LIKE ? AND length(code) = ?",
            [code_set, code[:1] + "%", len(code)],
        )
        by_code = {r["code"]: r for r in pool}
        for match, _score, _ in process.extract(code, list(by_code), scorer=fuzz.ratio, limit=limit):
            add(by_code[match])
    return out
