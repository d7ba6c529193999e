"""Issue 15 follow-up: the encounter setting decides uncertain diagnoses; the blind set keeps its floors; note-batch
with worker processes gives the rows of one process; the code cache next to the KB; medspaCy's two components
load without the rest of medspaCy and leave the real package importable."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hccguide.cli import app
from hccguide.errors import BadInput
from hccguide.kb.open import KB, open_kb
from hccguide.notes import codecache
from hccguide.notes.evaluate import evaluate_notes
from hccguide.notes.pipeline import check_note

DATA = Path(__file__).parent.parent / "data"
DOS = "2026-03-10"


def _find(result, words: str):
    for c in result.conditions:
        if any(words in m.text.lower() for m in c.mentions):
            return c
    raise AssertionError(f"no condition {words!r} in {[c.text for c in result.conditions]}")


@pytest.mark.parametrize(
    ("note", "words", "outpatient", "inpatient", "why"),
    [
        ("Discharge diagnoses: 1. Probable aspiration pneumonia.\nHospital course: treated with "
         "ampicillin-sulbactam for 7 days.", "aspiration pneumonia", "hypothetical", "present",
         "'probable' is coded as if established only inpatient (Guidelines II.H vs IV.H)"),
        ("A/P: Suspected pulmonary embolism - CT angiogram ordered, start heparin drip.", "pulmonary embolism",
         "hypothetical", "present", "'suspected' (UNCERTAIN in context.csv)"),
        ("A/P: Rule out pneumonia - chest x-ray ordered.", "pneumonia", "hypothetical", "present",
         "'rule out' outpatient is never coded (IV.H); inpatient at discharge it is (II.H)"),
        ("Plan: call if symptoms of heart failure develop.", "heart failure", "hypothetical", "hypothetical",
         "a conditional ('if') is hypothetical in every setting (not an uncertain diagnosis)"),
        ("A/P: Pneumonia ruled out; chest x-ray clear.", "pneumonia", "negated", "negated",
         "'ruled out' is negated in every setting"),
        ("A/P: Type 2 diabetes - A1c 8.1, continue metformin.", "type 2 diabetes", "present", "present",
         "a certain diagnosis is present in both"),
    ],
)
def test_setting_decides_uncertain_diagnoses(kb: KB, note: str, words: str, outpatient: str, inpatient: str,
                                             why: str) -> None:
    out = check_note(kb, note, date_of_service=DOS)
    inp = check_note(kb, note, date_of_service=DOS, setting="inpatient")
    assert out.setting == "outpatient" and inp.setting == "inpatient"
    assert _find(out, words).assertion == outpatient, why
    assert _find(inp, words).assertion == inpatient, why
    if outpatient == "hypothetical" and inpatient == "present":
        assert not _find(out, words).supported and _find(inp, words).supported, why


def test_unknown_setting_names_the_field(kb: KB) -> None:
    with pytest.raises(BadInput) as err:
        check_note(kb, "A/P: CKD stage 4 - stable.", date_of_service=DOS, setting="er")
    assert err.value.field == "setting" and "CKD" not in str(err.value)


@pytest.fixture(scope="module")
def blind(kb: KB) -> dict:
    return evaluate_notes(kb, DATA / "notes_blind")


@pytest.mark.parametrize(
    ("metric", "floor", "why"),
    [
        (("hcc", "f1"), 0.85, "blind, before any change: 0.895 (docs/notes.md), minus 0.045"),
        (("code", "f1"), 0.72, "blind, before: 0.762"),
        (("meat", "f1"), 0.60, "blind, before: 0.645"),
        (("assertion", "accuracy"), 0.88, "blind, before: 0.919"),
        (("detection", "recall"), 0.87, "blind, before: 0.912"),
        (("supported", "accuracy"), 0.93, "blind, before: 0.977"),
    ],
)
def test_blind_set_floor(blind: dict, metric: tuple[str, str], floor: float, why: str) -> None:
    """Floors from the blind set's figures measured before the changes it judges (never tuned to pass)."""
    assert blind["notes"] >= 10
    assert blind[metric[0]][metric[1]] >= floor, (why, blind)


def test_blind_gold_offsets_match_the_text() -> None:
    for path in sorted((DATA / "notes_blind").glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        text = (path.parent / gold["note"]).read_text(encoding="utf-8")
        assert gold["setting"] in ("outpatient", "inpatient")
        for c in gold["conditions"]:
            spans = c["mentions"] + [s for e in c["meat"].values() for s in e]
            assert all(text[s["start"]:s["end"]] == s["text"] for s in spans), (path.name, c["id"])


def test_note_batch_processes_give_the_rows_of_one_process(kb_home: Path, kb_path: Path, tmp_path: Path) -> None:
    """--processes 2 (spawned workers, pipeline loaded once in each) writes the rows --processes 1 writes, in the
    same order; rows in = notes checked + notes rejected still holds."""
    folder = tmp_path / "notes"
    folder.mkdir()
    for path in sorted((DATA / "notes").glob("0*.txt"))[:5]:
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "zz_empty.txt").write_text(" \n", encoding="utf-8")
    outs = {}
    for n in (1, 2):
        out = tmp_path / f"p{n}.parquet"
        res = CliRunner().invoke(app, ["note-batch", str(folder), "--out", str(out), "--date-of-service", DOS,
                                       "--processes", str(n), "--json"])
        assert res.exit_code == 0, res.output
        summary = json.loads(res.stdout)
        assert summary["rows_in"] == 6 and summary["notes_checked"] == 5 and summary["notes_rejected"] == 1
        outs[n] = pq.read_table(out).to_pylist()
    assert outs[1] == outs[2] and len(outs[1]) > 10


def test_note_batch_rejects_zero_processes(kb_home: Path, kb_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "n"
    folder.mkdir()
    (folder / "a.txt").write_text("A/P: CKD stage 4 - stable.", encoding="utf-8")
    res = CliRunner().invoke(app, ["note-batch", str(folder), "--out", str(tmp_path / "o.parquet"), "--processes",
                                   "0"])
    assert res.exit_code != 0 and "processes" in res.output


def test_code_cache_is_read_by_a_new_handle(kb: KB, kb_path: Path) -> None:
    """A phrase coded once is on disk next to the KB: a new KB handle finds it without the search index."""
    check_note(kb, "A/P: Chronic kidney disease stage 4 - stable, follow with nephrology.", date_of_service=DOS)
    codecache.save(kb)
    assert codecache.path_of(kb).exists()
    fresh = open_kb(kb_path)
    try:
        hit = codecache.get(fresh, "2026|2027|chronic kidney disease stage 4")
        assert hit and hit[0]["code"] == "N18.4"
        assert ("search.index", "FY2026") not in fresh._memo
    finally:
        fresh.close()


def test_medspacy_parts_leave_the_real_package_importable(kb: KB) -> None:
    """The pipeline loads ConText and the Sectionizer without medspacy/__init__ (PyRuSH, QuickUMLS, NLTK); a later
    `import medspacy` still gives the whole package."""
    import subprocess
    import sys

    code = ("import sys; from hccguide.kb.open import open_kb; from hccguide.notes.pipeline import pipeline_for; "
            f"kb = open_kb({str(kb.path)!r}); pipeline_for(kb, 'FY2026'); "
            "assert 'PyRuSH' not in sys.modules and 'nltk' not in sys.modules, 'loaded too much'; "
            "import medspacy; assert callable(medspacy.load); import quickumls.spacy_component; "
            "assert hasattr(sys.modules['quickumls'], '__file__'); print('ok')")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-2000:]


@pytest.mark.parametrize(
    ("setting", "status", "assertion", "why"),
    [
        ("outpatient", 200, "hypothetical", "the default: uncertain diagnoses are not coded (Guidelines IV.H)"),
        ("inpatient", 200, "present", "coded as if established at discharge (II.H)"),
        ("er", 422, None, "an unknown setting answers 422 in the one error shape, naming the field"),
    ],
)
def test_api_setting(base_url: str, setting: str, status: int, assertion: str | None, why: str) -> None:
    import httpx

    note = "Discharge diagnoses:\n1. Probable aspiration pneumonia - treated with ampicillin-sulbactam."
    r = httpx.post(f"{base_url}/api/notes", json={"text": note, "date_of_service": DOS, "setting": setting},
                   timeout=120)
    assert r.status_code == status, (why, r.text)
    if status == 200:
        body = r.json()
        assert body["setting"] == setting
        pneumonia = next(c for c in body["conditions"] if "pneumonia" in c["text"].lower())
        assert pneumonia["assertion"] == assertion, why
    else:
        err = r.json()["error"]
        assert "setting" in err["field"] and "pneumonia" not in r.text, why


def test_notes_page_setting(base_url: str, browser: object, shots: Path) -> None:
    """The /notes form's setting select: the same uncertain diagnosis is hypothetical outpatient and present
    inpatient (screenshots at 1280 and 390 px)."""
    note = "Discharge diagnoses:\n1. Probable aspiration pneumonia - treated with ampicillin-sulbactam."
    for width, setting, cls in ((1280, "inpatient", "a-present"), (390, "outpatient", "a-hypothetical")):
        page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
        page.goto(f"{base_url}/notes")
        page.fill("#n-text", note)
        page.fill("#n-dos", DOS)
        page.select_option("#n-setting", setting)
        page.click("#n-check")
        page.wait_for_selector("#cond-table")
        assert page.locator(f"#note-text .cond.{cls}").count() >= 1, setting
        assert page.input_value("#n-setting") == setting
        assert f"{setting} setting" in page.inner_text("main")
        page.screenshot(path=str(shots / f"notes-setting-{width}.png"), full_page=True)
        page.close()


@pytest.mark.parametrize(
    ("note", "words", "assertion", "why"),
    [
        ("HPI: He had a TIA in 2023 with no residual deficit.", "tia", "historical",
         "a past TIA is history (Z86.73), notes/rules/past_events.csv"),
        ("Past medical history: Pneumonia 2019. Hypertension.", "pneumonia", "historical",
         "a pneumonia with a past year is history (Z87.01)"),
        ("HPI: Stroke 3 years ago, no residual weakness.", "stroke", "historical", "'N years ago'"),
        ("HPI: DVT in 2019, on apixaban 5 mg BID.", "dvt", "present",
         "a current treatment after it keeps it present, as 'history of X, on Y' does"),
        ("A/P: Community acquired pneumonia diagnosed 02/2026 - finishing amoxicillin.", "pneumonia", "present",
         "a month before the date of service is this illness, not history"),
        ("HPI: Type 2 diabetes since 2015 on metformin.", "type 2 diabetes", "present",
         "a chronic condition with a start year is current (not in past_events.csv)"),
    ],
)
def test_past_events(kb: KB, note: str, words: str, assertion: str, why: str) -> None:
    c = _find(check_note(kb, note, date_of_service=DOS), words)
    assert c.assertion == assertion, (why, c.trigger)
