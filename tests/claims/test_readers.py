"""Readers and batch: every hccinfhir sample 837 is read and checked without a crash; rows in = claims + rejects;
the batch (one SQL run over many claims) equals checking each claim alone."""

from __future__ import annotations

from importlib import resources

import httpx

from hccguide.claims.checks import check_batch, check_claim
from hccguide.claims.readers import read_837, read_rows
from hccguide.kb.open import KB


def test_every_hccinfhir_sample_837_is_read_and_checked(kb: KB) -> None:
    folder = resources.files("hccinfhir").joinpath("sample_files")
    names = sorted(p.name for p in folder.iterdir() if p.name.startswith("sample_837_"))
    assert len(names) == 13
    checked = 0
    for name in names:
        claims, rejects = read_837(folder.joinpath(name).read_text(encoding="utf-8"))
        assert claims or rejects, name
        checked += len(check_batch(kb, claims))
    assert checked >= 13


def test_rows_in_equal_claims_plus_rejects_and_batch_equals_single(kb: KB) -> None:
    rows = [
        {
            "claim_id": "a",
            "age": 70,
            "sex": "M",
            "date_of_service": "2026-01-05",
            "diagnosis_codes": "E10.9;E11.9",
            "cpt_hcpcs": "99213",
        },
        {"claim_id": "b", "age": "x", "sex": "F", "date_of_service": "2026-01-05", "diagnosis_codes": "E11.9"},
        {
            "claim_id": "c",
            "age": 80,
            "sex": "F",
            "date_of_service": "2026-01-05",
            "diagnosis_codes": ["F02.80"],
            "cpt_hcpcs": "81002",
        },
        {"claim_id": "d", "age": 70, "sex": "M", "date_of_service": "not a date", "diagnosis_codes": "E11.9"},
        {
            "claim_id": "e",
            "age": 70,
            "sex": "M",
            "date_of_service": "2026-01-05",
            "claim_type": "inpatient",
            "diagnosis_codes": "M86.50 N17.9",
        },
    ]
    claims, rejects = read_rows(rows)
    assert len(claims) + len(rejects) == len(rows) and [r.claim_id for r in rejects] == ["b", "d"]
    batch = check_batch(kb, claims)
    single = [check_claim(kb, c) for c in claims]
    assert [b.model_dump() for b in batch] == [s.model_dump() for s in single]
    assert {f.rule for f in batch[0].findings} == {"excludes1"}


def test_api_and_page(base_url: str, browser: object, shots: object) -> None:
    r = httpx.post(
        f"{base_url}/api/claims/check",
        json={
            "patient": {"age": 70, "sex": "M"},
            "date_of_service": "2026-01-05",
            "claim_type": "inpatient",
            "diagnosis_codes": ["M86.50", "N17.9"],
        },
        timeout=60,
    )
    assert r.status_code == 200 and r.json()["drg"]["drg"] == 540
    bad = httpx.post(f"{base_url}/api/claims/check", json={"diagnosis_codes": []}, timeout=30)
    assert bad.status_code == 422 and "error" in bad.json()
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
        page.goto(f"{base_url}/claims?codes=E10.9+E11.9+S72.001&age=70&sex=M&dos=2026-01-05")
        text = page.inner_text("#claim-result")
        assert "excludes1" in text and "missing_7th_character" in text
        assert page.locator("a[href='/codes/S72.001']").count() >= 1
        page.screenshot(path=str(shots / f"claims-{width}.png"), full_page=True)  # type: ignore[operator]
        page.close()


def test_strict_reader_when_the_file_passes_and_lenient_agrees() -> None:
    from hccguide.claims.readers import _strict_837

    text = resources.files("hccinfhir").joinpath("sample_files", "sample_837_0.txt").read_text(encoding="utf-8")
    strict, refused = _strict_837(text)
    assert refused is None and len(strict) == 5
    claims, rejects = read_837(text)
    assert [c.diagnosis_codes for c in claims][:2] == [["F1120"], ["F1520", "F1220"]] and not rejects
    institutional = (
        resources.files("hccinfhir").joinpath("sample_files", "sample_837_1.txt").read_text(encoding="utf-8")
    )
    assert _strict_837(institutional)[1] is not None  # x12sdk refuses it (NM1 qualifier): openx12 reads it
    assert len(read_837(institutional)[0]) == 1


def test_a_malformed_segment_is_named_and_the_rest_is_read() -> None:
    from hccguide.claims.readers import segment_problems

    text = resources.files("hccinfhir").joinpath("sample_files", "sample_837_12.txt").read_text(encoding="utf-8")
    bad = text.replace("~HI*", "~H#I*", 1)
    assert segment_problems(text) == []
    assert segment_problems(bad) == ["segment 20: 'H#I'... is not an X12 segment (skipped)"]
    claims, rejects = read_837(bad)
    assert len(claims) == 2 and [r.reason for r in rejects] == ["no diagnosis (HI segment) in the claim"]
