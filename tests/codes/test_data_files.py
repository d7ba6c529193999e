"""The axis vocabulary (codes/data/axes.csv) and the FAQ question templates (codes/data/faq_questions.csv) are
data files validated at load: a broken row fails with SourceError naming the line and field."""

from __future__ import annotations

import pytest

from hccguide.codes.faq import QUESTION_KEYS, load_questions, parse_questions
from hccguide.codes.meat import AXES_COLUMNS, axis_values, load_axes, parse_axes
from hccguide.errors import SourceError

GOOD_AXES = 'axis,label,pattern,must_document\nlaterality,side,"\\b(right|left)\\b","the side ({value})"\n'
GOOD_QUESTIONS = "key,question,source\n" + "".join(
    f'{k},"Q {{code}}{" {target}" if k.startswith("excludes") else ""}?",src\n' for k in QUESTION_KEYS
)


def test_shipped_files_load() -> None:
    axes = load_axes()
    assert {"cause", "organism", "episode_of_care", "laterality", "acuity", "stage", "type"} <= {a.name for a in axes}
    assert set(load_questions()) == set(QUESTION_KEYS)


@pytest.mark.parametrize(
    ("title", "axis", "value"),
    [  # CDC FY2026 titles
        ("Idiopathic aseptic necrosis of left femur", "cause", "idiopathic"),
        ("Osteonecrosis due to drugs, left femur", "cause", "due to drugs"),
        ("Other chronic hematogenous osteomyelitis, unspecified site", "cause", "hematogenous"),
        (
            "Sepsis due to Methicillin susceptible Staphylococcus aureus",
            "organism",
            "methicillin susceptible staphylococcus aureus",
        ),
        ("Sepsis, unspecified organism", "organism", "unspecified organism"),
        ("Epilepsy, unspecified, not intractable, without status epilepticus", "intractability", "not intractable"),
        (
            "Epilepsy, unspecified, not intractable, without status epilepticus",
            "status_epilepticus",
            "without status epilepticus",
        ),
        ("Type 2 diabetes mellitus with diabetic chronic kidney disease", "acuity", None),  # CKD's 'chronic' is a name
    ],
)
def test_axis_values_of_titles(title: str, axis: str, value: str | None) -> None:
    assert axis_values(title).get(axis) == value


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('axis,pattern,must_document\nx,"(a)",y\n', "header"),
        (GOOD_AXES.replace('"\\b(right|left)\\b"', '"\\b(right|left\\b"'), "pattern"),  # does not compile
        (GOOD_AXES.replace('"\\b(right|left)\\b"', '"\\bright\\b"'), "pattern"),  # no capturing group
        (GOOD_AXES.replace("({value})", "({side})"), "must_document"),  # unknown placeholder
        (GOOD_AXES + GOOD_AXES.splitlines()[1] + "\n", "axis"),  # repeated axis
        (GOOD_AXES.replace("laterality,side,", "laterality,,"), "label"),
    ],
)
def test_bad_axes_file_is_refused(text: str, field: str) -> None:
    assert [a.name for a in parse_axes(GOOD_AXES)] == ["laterality"] and AXES_COLUMNS[0] == "axis"
    with pytest.raises(SourceError) as err:
        parse_axes(text)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (GOOD_QUESTIONS.replace("key,question,source", "key,question"), "header"),
        (GOOD_QUESTIONS + "nonsense,Q {code}?,src\n", "key"),
        (GOOD_QUESTIONS.replace('is_hcc,"Q {code}?"', 'is_hcc,"Q {code} {target}?"'), "question"),
        (GOOD_QUESTIONS.replace('billable,"Q {code}?",src', 'billable,"Q {code}?",'), "source"),
        ("key,question,source\nis_hcc,Q {code}?,src\n", "key"),  # the other questions are missing
    ],
)
def test_bad_question_file_is_refused(text: str, field: str) -> None:
    assert set(parse_questions(GOOD_QUESTIONS)) == set(QUESTION_KEYS)
    with pytest.raises(SourceError) as err:
        parse_questions(text)
    assert err.value.field == field
