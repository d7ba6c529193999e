"""Find a code in a code set: normalise any spelling, choose the code set, suggest near codes when absent.

Code sets are chosen by fiscal year (`fy`); with none given, the code set in force today is used, falling back
to the newest loaded one with a note (FY2027, in force since 2026-10-01, is not shipped as a tabular by any
package; see ../shared/DATA.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, process

from hccguide.codes.store import code_store
from hccguide.errors import InvalidCode, UnknownFiscalYear
from hccguide.kb.open import KB
from hccguide.sources.cdc_tabular import dot

_CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")
_DOTTED_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4}$")


def normalize_code(raw: str) -> str:
    """'M87.352', 'm87352', ' M87.352 ' -> 'M87352'. Raises InvalidCode for a value that is not code-shaped."""
    if raw is None:
        raise InvalidCode("a code is required", field="code", value=raw, fix="give an ICD-10-CM code such as M87.352")
    spelled = raw.strip().upper().replace(" ", "")
    code = spelled.replace(".", "")
    if not _CODE_SHAPE.match(code) or ("." in spelled and not _DOTTED_SHAPE.match(spelled)):
        raise InvalidCode(
            f"{raw.strip()!r} is not an ICD-10-CM code",
            field="code",
            value=raw,
            fix="ICD-10-CM codes are a letter, a digit, then 1 to 5 letters or digits, e.g. M87.352 or S72.001A",
        )
    return code


def fiscal_year_of(day: date) -> int:
    """The ICD-10-CM fiscal year in force on a date of service (FY N runs N-1-10-01 .. N-09-30, CDC)."""
    return day.year + 1 if day.month >= 10 else day.year


@dataclass(frozen=True)
class CodeSetChoice:
    code_set: str
    fiscal_year: int
    note: str | None  # set when the answer falls back to another code set
    requested_fiscal_year: int  # the year asked for (or in force today), which may not be loaded


def choose_code_set(kb: KB, fy: int | None = None, today: date | None = None) -> CodeSetChoice:
    """The code set to answer from.

    `fy` None -> the fiscal year in force `today`, else the newest loaded code set with a note. A requested year
    newer than every loaded code set but not after the one in force today also falls back with a note (the
    tabular is not loaded yet). Any other unknown year raises UnknownFiscalYear naming the accepted values.
    """
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


def find_code(kb: KB, raw: str, code_set: str) -> dict:
    """The `codes` row of a code in a code set. Raises InvalidCode with the nearest codes as suggestions."""
    code = normalize_code(raw)
    row = code_store(kb).codes.get((code_set, code))
    if row is not None:
        return row
    suggestions = nearest_codes(kb, code, code_set)
    hint = f"did you mean {suggestions[0]['code']}?" if suggestions else "check the code"
    raise InvalidCode(
        f"{dot(code)} is not an ICD-10-CM code in {code_set}",
        field="code",
        value=raw,
        fix=hint,
        suggestions=suggestions,
    )


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
