"""Fixtures of the RAF tests: the hand-worked cases of tests/raf/cases.csv as members to score."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hccguide.raf.segments import Member

CASES = list(csv.DictReader((Path(__file__).parent / "cases.csv").open(encoding="utf-8")))


def case_member(c: dict) -> Member:
    """The Member of one cases.csv row (flags written 1/0, blank graft_months = none)."""
    return Member(
        age=int(c["age"]),
        sex=c["sex"],
        dual_status=c["dual"],
        orec=c["orec"],
        lti=c["lti"] == "1",
        new_enrollee=c["new_enrollee"] == "1",
        esrd=c["esrd"] == "1",
        snp=c["snp"] == "1",
        graft_months=int(c["graft_months"]) if c["graft_months"] else None,
    )


@pytest.fixture(params=CASES, ids=[c["case"] for c in CASES])
def hand_case(request) -> tuple[dict, Member, list[str]]:
    """(cases.csv row, its Member, its diagnoses) for each hand-worked case."""
    c = request.param
    return c, case_member(c), [x for x in c["dx"].split(";") if x]
