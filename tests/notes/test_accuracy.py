"""Accuracy floors, set from measured values (docs/notes.md): the development set tests/data/notes (30 annotated
notes, GUIDE.md) and the public NegEx/ConText sentences (vendored copy of ../shared/testdata)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hccguide.kb.open import KB
from hccguide.notes.evaluate import evaluate_negex, evaluate_notes

DATA = Path(__file__).parent.parent / "data" / "notes"


@pytest.fixture(scope="module")
def dev(kb: KB) -> dict:
    return evaluate_notes(kb, DATA)


@pytest.mark.parametrize(
    ("metric", "floor", "why"),
    [
        (("hcc", "f1"), 0.95, "HCC-level F1 of supported HCCs after hierarchies (measured 0.990)"),
        (("code", "f1"), 0.70, "code F1 of present conditions (measured 0.732: extra mentions and search ranks cost)"),
        (("meat", "f1"), 0.72, "MEAT span F1, same condition and element, overlapping spans (measured 0.756)"),
        (("assertion", "accuracy"), 0.95, "assertion accuracy of detected gold conditions (measured 0.975)"),
        (("detection", "recall"), 0.88, "gold conditions found (measured 0.908)"),
        (("supported", "accuracy"), 0.95, "supported/unsupported of present conditions (measured 0.989)"),
    ],
)
def test_dev_set_floor(dev: dict, metric: tuple[str, str], floor: float, why: str) -> None:
    assert dev["notes"] >= 30
    value = dev[metric[0]][metric[1]]
    assert value >= floor, (why, value, dev)


@pytest.fixture(scope="module")
def negex(kb: KB) -> dict:
    return evaluate_negex(kb, DATA / "negex_context_test.jsonl")


@pytest.mark.parametrize(
    ("cls", "floor", "why"),
    [
        ("negated", 0.90, "measured 0.93"),
        ("present", 0.92, "measured 0.944"),
        ("hypothetical", 0.85, "measured 0.93"),
        ("family", 0.5, "6 sentences; measured 0.667"),
        ("historical", 0.30, "measured 0.354: most historical rows are bare problem-list lines with no cue"),
    ],
)
def test_negex_floor(negex: dict, cls: str, floor: float, why: str) -> None:
    assert negex["n"] > 2300
    assert negex["per_class"][cls]["accuracy"] >= floor, (why, negex)
