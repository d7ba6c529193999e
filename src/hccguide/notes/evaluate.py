"""Accuracy of the note checker on annotated notes (tests/data/notes/GUIDE.md describes the gold files).

`evaluate_notes(kb, folder)` -> {"notes", "hcc": {p, r, f1, tp, fp, fn}, "code": {...}, "meat": {...},
"assertion": {"accuracy", "matched", "gold", "per_class": {...}}, "supported": {"accuracy", "n"}, "detection":
{"recall"}}.

Matching (GUIDE.md): a predicted condition matches a gold condition when one of its mentions overlaps one of the
gold mentions by at least one character (first predicted condition in note order wins). HCC F1: the note's
supported V28 HCCs after hierarchies, per note. Code F1: the codes of the conditions asserted present, per note.
Assertion accuracy: over gold conditions that were matched. MEAT F1: (condition, element, span) triples; a
predicted span counts once, as a true positive when its condition matches the gold condition, the element is the
same and the spans overlap.
"""

from __future__ import annotations

import json
from pathlib import Path

from hccguide.kb.open import KB
from hccguide.notes.models import ELEMENTS, NoteResult
from hccguide.notes.pipeline import check_note


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f1, 4), "tp": tp, "fp": fp, "fn": fn}


def _add(acc: list[int], tp: int, fp: int, fn: int) -> None:
    acc[0] += tp
    acc[1] += fp
    acc[2] += fn


def _overlap(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def load_gold(folder: Path) -> list[tuple[str, str, dict]]:
    """(name, note text, gold) for every NN_name.json with its .txt, sorted by name."""
    out = []
    for path in sorted(folder.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        text = (folder / gold["note"]).read_text(encoding="utf-8")
        out.append((path.stem, text, gold))
    return out


def score_note(result: NoteResult, gold: dict, counts: dict) -> None:
    """Add one note's comparison to `counts` (mutated)."""
    pred_hcc = {h.hcc for h in result.hccs if h.supported and h.model == gold.get("model", "CMS-HCC V28")}
    gold_hcc = set(gold["supported_hccs"])
    _add(counts["hcc"], len(pred_hcc & gold_hcc), len(pred_hcc - gold_hcc), len(gold_hcc - pred_hcc))
    pred_codes = {cc.code for c in result.conditions if c.assertion == "present" for cc in c.codes}
    gold_codes = {code for c in gold["conditions"] if c["assertion"] == "present" for code in c["codes"]}
    _add(counts["code"], len(pred_codes & gold_codes), len(pred_codes - gold_codes), len(gold_codes - pred_codes))

    matched: dict[str, int] = {}
    for g in gold["conditions"]:
        for i, c in enumerate(result.conditions):
            if i in matched.values():
                continue
            if any(_overlap(m.start, m.end, gm["start"], gm["end"]) for m in c.mentions for gm in g["mentions"]):
                matched[g["id"]] = i
                break
    for g in gold["conditions"]:
        cls = counts["assertion"].setdefault(g["assertion"], [0, 0, 0])
        cls[2] += 1
        if g["id"] in matched:
            cls[1] += 1
            pred = result.conditions[matched[g["id"]]]
            cls[0] += pred.assertion == g["assertion"]
            if g["assertion"] == "present" and pred.assertion == "present":
                counts["supported"][0] += pred.supported == g["supported"]
                counts["supported"][1] += 1

    gold_spans = [(g["id"], e, s["start"], s["end"]) for g in gold["conditions"] for e in ELEMENTS
                  for s in g["meat"][e]]
    back = {i: gid for gid, i in matched.items()}
    pred_spans = [(back.get(i), e, s.start, s.end) for i, c in enumerate(result.conditions) for e in ELEMENTS
                  for s in getattr(c.meat, e)]
    used: set[int] = set()
    tp = 0
    for gid, e, s0, s1 in pred_spans:
        hit = next((k for k, (g2, e2, t0, t1) in enumerate(gold_spans) if k not in used and g2 == gid and e2 == e
                    and gid is not None and _overlap(s0, s1, t0, t1)), None)
        if hit is not None:
            used.add(hit)
            tp += 1
    _add(counts["meat"], tp, len(pred_spans) - tp, len(gold_spans) - len(used))


def evaluate_notes(kb: KB, folder: Path) -> dict:
    """Run the checker on every annotated note of `folder` and compare (see the module docstring)."""
    counts: dict = {"hcc": [], "code": [], "meat": [], "assertion": {}, "supported": [0, 0]}
    for key in ("hcc", "code", "meat"):
        counts[key] = [0, 0, 0]
    notes = load_gold(folder)
    for _name, text, gold in notes:
        result = check_note(kb, text, date_of_service=gold["date_of_service"], payment_year=gold.get("payment_year"),
                            setting=gold.get("setting", "outpatient"))
        score_note(result, gold, counts)
    per_class = {k: {"correct": v[0], "matched": v[1], "gold": v[2],
                     "accuracy": round(v[0] / v[1], 4) if v[1] else None} for k, v in counts["assertion"].items()}
    correct = sum(v[0] for v in counts["assertion"].values())
    matched = sum(v[1] for v in counts["assertion"].values())
    gold_n = sum(v[2] for v in counts["assertion"].values())
    return {
        "notes": len(notes),
        "hcc": _prf(*counts["hcc"]),
        "code": _prf(*counts["code"]),
        "meat": _prf(*counts["meat"]),
        "assertion": {"accuracy": round(correct / matched, 4) if matched else None, "matched": matched,
                      "gold": gold_n, "per_class": per_class},
        "detection": {"recall": round(matched / gold_n, 4) if gold_n else None},
        "supported": {"accuracy": round(counts["supported"][0] / counts["supported"][1], 4)
                      if counts["supported"][1] else None, "n": counts["supported"][1]},
    }


def evaluate_negex(kb: KB, path: Path, code_set: str | None = None) -> dict:
    """Assertion accuracy per class on the NegEx/ConText test sentences (tests/data/notes/negex_context_test.jsonl,
    Chapman et al.): each sentence's target is made a mention at its offsets and asserted by our ConText rules.
    Rows whose target is not in the sentence are skipped. {"n", "accuracy", "per_class": {class: {n, accuracy}}}."""
    from hccguide.notes.pipeline import assert_spans, pipeline_for

    pipe = pipeline_for(kb, code_set or kb.code_sets[0])
    per: dict[str, list[int]] = {}
    n = ok = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not row.get("target_in_sentence"):
            continue
        got = assert_spans(pipe, row["sentence"], [(row["target_start"], row["target_end"])])[0]
        want = row["assertion"]
        c = per.setdefault(want, [0, 0])
        c[1] += 1
        c[0] += got == want
        n += 1
        ok += got == want
    return {"n": n, "accuracy": round(ok / n, 4) if n else None,
            "per_class": {k: {"n": v[1], "accuracy": round(v[0] / v[1], 4)} for k, v in sorted(per.items())}}
