"""POST /api/score and the /score page over the real app and KB: same numbers as the library, one error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hccguide.kb.open import shared_kb
from hccguide.raf.segments import Member
from hccguide.raf.trace import score_member
from hccguide.web.app import create_app


@pytest.fixture(scope="module")
def client(kb_path, kb):
    assert shared_kb().path == kb_path
    with TestClient(create_app()) as c:
        yield c


def test_api_score_equals_the_library(client, kb) -> None:
    body = {
        "model": "V28",
        "payment_year": 2026,
        "age": 72,
        "sex": "F",
        "dual_status": "non",
        "dx": ["E11.22", "N18.4", "I50.22"],
    }
    r = client.post("/api/score", json=body)
    assert r.status_code == 200
    lib = score_member(kb, Member(age=72, sex="F", dual_status="non"), body["dx"]).to_dict()
    got = r.json()
    assert got["risk_score"] == lib["risk_score"] == 1.723
    assert got["risk_score_payment"] == lib["risk_score_payment"]
    assert [f["name"] for f in got["factors"]] == [f["name"] for f in lib["factors"]]
    assert got["kb_release"] == kb.release_id


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"sex": "F"}, 422, "age"),
        ({"age": 70, "sex": "F", "model": "V99"}, 422, "model"),
        ({"age": 70, "sex": "F", "payment_year": 2019}, 422, "payment_year"),
        ({"age": "old", "sex": "F"}, 422, "age"),
    ],
)
def test_api_score_errors_use_the_one_error_shape(client, body, status, field) -> None:
    r = client.post("/api/score", json=body)
    assert r.status_code == status
    assert r.json()["error"]["field"] == field


def test_score_page_form_and_result(client) -> None:
    empty = client.get("/score", headers={"accept": "text/html"})
    assert empty.status_code == 200 and "<form" in empty.text and 'id="result"' not in empty.text
    page = client.get(
        "/score",
        params={"age": 72, "sex": "F", "dual": "non", "dx": "E11.22, N18.4, I50.22"},
        headers={"accept": "text/html"},
    )
    assert page.status_code == 200
    assert 'id="risk-score">1.723<' in page.text
    assert "CNA_HCC226" in page.text and "DIABETES_HF_V28" in page.text
    bad = client.get("/score", params={"age": "x", "sex": "F"}, headers={"accept": "text/html"})
    assert bad.status_code == 422


def test_score_page_shows_the_py2025_blend_behind_the_payment_score(client, kb) -> None:
    """PY2025 pays 33% V24 + 67% V28 (normalized, each with its factor): the page shows both parts, so the payment
    score can be checked by hand from what is on screen."""
    lib = score_member(kb, Member(age=70, sex="F"), ["E11.9"], model="V28", payment_year=2025).to_dict()
    page = client.get(
        "/score", params={"age": 70, "sex": "F", "dx": "E11.9", "payment_year": 2025}, headers={"accept": "text/html"}
    )
    assert page.status_code == 200 and 'id="blend"' in page.text
    for p in lib["blend_parts"]:
        assert f"{p['weight'] * 100:.0f}% {p['model']}" in page.text
        assert f"normalized {p['risk_score_normalized']:.3f}" in page.text
    assert f'id="risk-score-payment">{lib["risk_score_payment"]:.3f}' in page.text
    one = client.get("/score", params={"age": 70, "sex": "F", "dx": "E11.9"}, headers={"accept": "text/html"})
    assert 'id="blend"' not in one.text  # PY2026: 100% V28, nothing to blend
