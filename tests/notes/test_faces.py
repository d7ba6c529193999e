"""The note checker's faces: CLI `note` / `note-batch`, POST /api/notes (errors in the one shape, 413, 422), and the
/notes page in a real browser (1280 and 390 px screenshots). Note text never appears in an error or the server log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hccguide.cli import app

DATA = Path(__file__).parent.parent / "data" / "notes"
NOTE = (DATA / "01_soap_dm_ckd.txt").read_text(encoding="utf-8")


def test_cli_note_json(kb_home: Path, kb_path: Path) -> None:
    out = CliRunner().invoke(app, ["note", str(DATA / "01_soap_dm_ckd.txt"), "--json", "--date-of-service",
                                   "2026-03-10", "--age", "70", "--sex", "F"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout)
    assert {cc["code"] for c in body["conditions"] for cc in c["codes"]} >= {"E11.22", "N18.32"}
    assert {h["hcc"] for h in body["hccs"] if h["supported"]} == {"37", "328"}
    assert body["score"]["risk_score"] > 0
    text = CliRunner().invoke(app, ["note", str(DATA / "01_soap_dm_ckd.txt"), "--date-of-service", "2026-03-10"])
    assert text.exit_code == 0 and "SUPPORTED" in text.stdout and "supported HCCs: V28" in text.stdout


def test_cli_note_batch_rows_in(kb_home: Path, kb_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for name in ("01_soap_dm_ckd", "09_esrd_dialysis"):
        (folder / f"{name}.txt").write_text((DATA / f"{name}.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "empty.txt").write_text("  \n", encoding="utf-8")
    (folder / "latin1.txt").write_bytes("caf\xe9 diabetes".encode("latin-1"))
    out = tmp_path / "findings.parquet"
    res = CliRunner().invoke(app, ["note-batch", str(folder), "--out", str(out), "--date-of-service", "2026-03-10",
                                   "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["rows_in"] == 4 and summary["notes_checked"] == 2 and summary["notes_rejected"] == 2
    rows = pq.read_table(out).to_pylist()
    assert {r["note_id"] for r in rows} == {"01_soap_dm_ckd", "09_esrd_dialysis"}
    assert summary["conditions"] == len(rows)
    rejects = Path(summary["rejects"]).read_text(encoding="utf-8")
    assert "empty" in rejects and "latin1" in rejects and "diabetes" not in rejects


def test_api_notes(base_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    word = "Zorbanquil"
    r = httpx.post(f"{base_url}/api/notes", json={"text": NOTE + f"\n{word} noted.", "date_of_service": "2026-03-10",
                                                   "member": {"age": 70, "sex": "F", "member_id": "MBR-778899"}},
                   timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code_set"] == "FY2026" and body["payment_year"] == 2027 and body["kb"]["release_id"]
    assert body["score"]["risk_score"] > 0
    first = body["conditions"][0]
    assert set(first) >= {"text", "start", "end", "section", "assertion", "trigger", "codes", "alternatives", "hcc",
                          "meat", "supported", "reason", "queries"}
    empty = httpx.post(f"{base_url}/api/notes", json={"text": ""}, timeout=30)
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "text"
    blank = httpx.post(f"{base_url}/api/notes", json={"text": "   "}, timeout=30)
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "bad_input"
    bad_day = httpx.post(f"{base_url}/api/notes", json={"text": f"{word} has diabetes", "date_of_service": "x"},
                         timeout=30)
    assert bad_day.status_code == 422 and word not in bad_day.text
    big = httpx.post(f"{base_url}/api/notes", content=json.dumps({"text": word * 100_000}),
                     headers={"content-type": "application/json"}, timeout=30)
    assert big.status_code == 413 and "error" in big.json() and word not in big.text
    no_sex = httpx.post(f"{base_url}/api/notes", json={"text": "A/P: COPD - stable.", "member": {"age": 70}},
                        timeout=30)  # the schema says what `score` needs: age and sex
    assert no_sex.status_code == 422 and "sex" in (no_sex.json()["error"]["field"] or "")
    assert word not in caplog.text and "MBR-778899" not in caplog.text


def test_notes_page(base_url: str, browser: object, shots: Path) -> None:
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
        page.goto(f"{base_url}/notes")
        page.fill("#n-text", NOTE)
        page.fill("#n-dos", "2026-03-10")
        page.click("#n-check")
        page.wait_for_selector("#cond-table")
        table = page.inner_text("#cond-table")
        assert "E11.22" in table and "N18.32" in table and "yes" in table
        assert page.locator("#note-text .cond.a-present").count() >= 3
        assert page.locator("#note-text .meat-treat").count() >= 1
        assert page.locator("#note-text .cond.a-negated").count() >= 1
        assert "V28 HCC 37" not in page.url and "metformin" not in page.url  # the note is POSTed, not in the URL
        page.screenshot(path=str(shots / f"notes-{width}.png"), full_page=True)
        page.close()
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{base_url}/notes")
    page.fill("#n-text", "   ")
    page.click("#n-check")
    assert "text" in page.inner_text("#note-error")
    page.close()
