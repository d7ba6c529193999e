"""Renderings of a NoteResult for the faces: highlighted segments of the note (the /notes page) and text lines (the
CLI). No logic of the checker here: only the spans it found."""

from __future__ import annotations

from itertools import pairwise

from hccguide.notes.models import ELEMENTS, NoteResult


def highlight_segments(text: str, result: NoteResult) -> list[dict]:
    """The note cut at every span boundary: [{"text", "classes": [...], "title"}] in order, whose texts join back to
    the note. Classes: 'cond' + 'a-<assertion>' on condition mentions, 'meat-<element>' on MEAT evidence."""
    marks: list[tuple[int, int, str, str]] = []
    for c in result.conditions:
        code = ", ".join(cc.code for cc in c.codes)
        for m in c.mentions:
            marks.append((m.start, m.end, f"cond a-{m.assertion}", f"{c.text}: {code} ({m.assertion})"))
        for e in ELEMENTS:
            for s in getattr(c.meat, e):
                marks.append((s.start, s.end, f"meat-{e}", f"{e} for {c.text}"))
    cuts = sorted({0, len(text), *(a for a, _, _, _ in marks), *(b for _, b, _, _ in marks)})
    out = []
    for a, b in pairwise(cuts):
        on = [m for m in marks if m[0] <= a and b <= m[1]]
        classes = sorted({cls for m in on for cls in m[2].split()})
        out.append({"text": text[a:b], "classes": classes, "title": "; ".join(dict.fromkeys(m[3] for m in on))})
    return out


def text_lines(result: NoteResult) -> list[str]:
    """A readable report: one block per condition, then the HCCs and the score."""
    lines = [f"code set {result.code_set} · payment year {result.payment_year} · date of service "
             f"{result.date_of_service}"]
    for c in result.conditions:
        codes = " + ".join(cc.code for cc in c.codes) or "-"
        hcc = ", ".join(f"{h.model.split()[-1]} HCC {h.hcc}" for h in c.hcc) or "no HCC"
        flag = "SUPPORTED" if c.supported else "not supported"
        lines.append(f"- {c.text} [{c.start}:{c.end}] {c.section or '-'} · {c.assertion} · {codes} · {hcc} · {flag}")
        lines.append(f"    {c.reason}")
        for e in ELEMENTS:
            spans = getattr(c.meat, e)
            if spans:
                lines.append(f"    {e}: " + " | ".join(s.text for s in spans))
        for q in c.queries:
            lines.append(f"    query: {q}")
    sup = [f"{h.model.split()[-1]} {h.hcc}" for h in result.hccs if h.supported]
    lines.append("supported HCCs: " + (", ".join(sup) or "none"))
    for h in result.hccs:
        if not h.supported:
            lines.append(f"  candidate {h.model.split()[-1]} HCC {h.hcc} ({', '.join(h.codes)}): {h.reason}")
    if result.score:
        s = result.score
        lines.append(f"risk score: raw {s.get('risk_score')}, normalized {s.get('risk_score_normalized')}, payment "
                     f"{s.get('risk_score_payment')} ({s.get('model')} PY{s.get('payment_year')})")
    return lines
