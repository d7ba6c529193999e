"""ICD-10-CM basics shared by every layer: code spelling and the fiscal year (code set) of a date.

This module sits at the bottom of the layer order with `errors` (it imports nothing else of hccguide), so
sources, kb, codes, search, raf, notes, claims and the faces all use the same rules.

Code shape (CDC ICD-10-CM Official Guidelines, Section I.A; FY2027 tabular): a category is three characters, a
letter then two letters or digits (``M87``, ``U07``, and from FY2027 ``QA1``, whose second character is a letter);
a code has 3 to 7 characters, a dot after the third when written dotted. Codes are stored undotted in the KB
(``M87352``) and shown dotted (``M87.352``).

Fiscal year: ICD-10-CM FY N is in force for dates of service N-1-10-01 .. N-09-30 (CDC NCHS; the April update is
part of the same FY). Its code set key is ``FY{N}``.
"""

from __future__ import annotations

import re
from datetime import date

from hccguide.errors import InvalidCode

# Category: letter + (letter or digit) + (letter or digit); QA1 (FY2027) is letter, letter, digit.
CODE_SHAPE = re.compile(r"^[A-Z][0-9A-Z][0-9A-Z][0-9A-Z]{0,4}$")
DOTTED_SHAPE = re.compile(r"^[A-Z][0-9A-Z][0-9A-Z](\.[0-9A-Z]{1,4})?$")
# The same shape inside free text (word-bounded, dotted or not), for note and claim readers.
CODE_IN_TEXT = re.compile(r"\b[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?\b|\bQA1(?:\.?[0-9A-Z]{1,4})?\b")
# A code, category or header as the tabular prints it inside an instructional note: dotted or a bare category,
# maybe followed by the '-' of "code further" ('I96', 'I70.23-', 'L89.-', 'E11.621'); group 1 is the code. Stricter
# than CODE_IN_TEXT (no undotted codes), so words such as 'G6PD' in a note are not taken for codes.
CODE_IN_TABULAR_NOTE = re.compile(
    r"(?<![\w.])([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?|QA1(?:\.[0-9A-Z]{1,4})?)(?=\.?-|[^\w]|$)"
)


def undot(code: str) -> str:
    """'M87.352' -> 'M87352'; ' m87.352 ' -> 'M87352' (dots and surrounding spaces removed, upper case)."""
    return (code or "").replace(".", "").strip().upper()


def dot(code: str) -> str:
    """'M87352' -> 'M87.352'; three-character categories stay as they are."""
    code = undot(code)
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def is_code_shaped(raw: str | None) -> bool:
    """True when `raw` (dotted or not, any case, inner spaces ignored) has the shape of an ICD-10-CM code.

    Shape only: whether the code exists in a code set is the KB's answer, not this function's."""
    if not raw:
        return False
    spelled = raw.strip().upper().replace(" ", "")
    return bool(CODE_SHAPE.match(spelled.replace(".", ""))) and ("." not in spelled or bool(DOTTED_SHAPE.match(spelled)))


def normalize_code(raw: str | None, *, field: str = "code") -> str:
    """'M87.352', 'm87352', ' M87.352 ' -> 'M87352'.

    Raises InvalidCode naming `field` and the value when `raw` is empty or not code-shaped."""
    if raw is None or not str(raw).strip():
        raise InvalidCode("a code is required", field=field, value=raw, fix="give an ICD-10-CM code such as M87.352")
    if not is_code_shaped(str(raw)):
        raise InvalidCode(
            f"{str(raw).strip()[:40]!r} is not an ICD-10-CM code",
            field=field,
            value=str(raw)[:40],
            fix="ICD-10-CM codes are a letter, then 2 letters or digits, then up to 4 more, e.g. M87.352 or S72.001A",
        )
    return undot(str(raw).replace(" ", ""))


def fiscal_year_of(day: date) -> int:
    """The ICD-10-CM fiscal year in force on a date of service (FY N runs N-1-10-01 .. N-09-30, CDC)."""
    return day.year + 1 if day.month >= 10 else day.year


def code_set_of(day: date) -> str:
    """The code set key of a date of service: 2026-12-01 -> 'FY2027'."""
    return f"FY{fiscal_year_of(day)}"


def today_code_set() -> str:
    """The code set in force today (the system clock's date)."""
    return code_set_of(date.today())
