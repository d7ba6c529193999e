"""MEAT evidence: clauses of this encounter that Monitor, Evaluate, Assess or Treat a condition, and the condition
each clause belongs to (CMS RADV Medical Record Reviewer Guidance: the record must show the condition was
monitored, evaluated, assessed/addressed or treated in the encounter).

A clause is a stretch of a sentence between ',', ';', ' - ', ':' or the sentence end. Its element is that of its
first trigger (notes/rules/meat.csv), cut where a treatment verb begins; each clause is its own span, the
shortest phrase that carries the evidence ('daily weights', 'strict I/O'; a run of lab values is one: 'Cr 1.3,
eGFR 42'). Only clauses in this encounter's sections count (HPI, subjective, exam, objective, results, assessment and
plan, hospital course, follow-up, or a note without headers): a drug in a medication list or a diagnosis in the
past medical history is not evidence.

A clause is linked to a condition, in this order, never by a bare word window:
1. sentence: the condition mentions of the same sentence written before the clause (the nearest group of them,
   narrowed to those the clause is evidence for; in 'X with/on/due to Y' the first), else the first one after
   it; a trigger that is a word of the condition itself ('ESRD on HD') is not evidence;
2. problem-oriented plan: in an assessment/plan or hospital course section, the problem line the clause's line
   belongs to ('2. CKD 3b - stable.' then 'Follow with nephrology.' on the next line; a problem heading alone on
   its line owns the paragraph under it; in a list of one-line problems the line after the last is the visit's);
3. what the clause is evidence for (notes/rules/evidence.csv: 'A1c 8.2' -> diabetes, 'EF 35%' -> heart failure,
   'continue apixaban' -> atrial fibrillation), for the present conditions whose code starts with a listed prefix
   (the row's first prefix that any condition has);
4. in a plan, a clause with none of these goes with the clause before it in the same sentence ('Continue ART,
   labs in 6 months').
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from itertools import pairwise

from hccguide.notes.rules import Rules
from hccguide.notes.sections import ENCOUNTER_SECTIONS

_SENT = re.compile(r"(?<=[.?!;])\s+(?=[A-Z0-9#*•\-(])|\n")
_WRAPPED = re.compile(r"(?:[a-z][a-z0-9]*|,)[ \t]*$")
_LOWER_START = re.compile(r"[ \t]*[a-z]")
_CLAUSE = re.compile(r",\s+|;\s*|\s+-\s+|:\s+|\.\s+|\s*\|\s*")
_BULLET = re.compile(r"\s*(?:\d{1,2}[.)]|#|-|\*|•|[a-z][.)])?\s*", re.IGNORECASE)
_JOINED = re.compile(r"[\s,]*(?:and|with|or|&|/)?[\s,]*", re.IGNORECASE)
# a treatment verb that starts a new part of a clause ('at goal on atorvastatin')
_CUT = re.compile(r"(on|continue[sd]?|start(ed)?|increase[sd]?|decrease[sd]?|resume[sd]?|hold|refer)\b",
                  re.IGNORECASE)
_HOME = re.compile(r"\b(at home|home (readings?|log|checks?|bp|glucose|sugars?)|per (his |her )?log)\b",
                   re.IGNORECASE)
_LAB = re.compile(r"[A-Za-z][A-Za-z0-9/-]{0,14}\s*:?\s*[<>]?\d")
_PROBLEM_SECTIONS = frozenset({"assessment_plan", "hospital_course", None})
_PLAN_ONLY = frozenset({"assessment_plan", "hospital_course", "follow_up"})
# a problem line that is only a heading: no sentence or clause inside, short
_HEADING = re.compile(r"[^\n.;:]{2,90}?[:.]?[ \t]*")


@dataclass(frozen=True)
class Clause:
    """A MEAT clause: element, span, first trigger offset, and the sentence it is in."""

    element: str
    start: int
    end: int
    text: str
    trigger: int
    trigger_end: int
    sentence: tuple[int, int]
    section: str | None


def sentences_of(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: split after '.', '?', '!' or ';' before a capital, digit or bullet, and at
    line breaks, except where a hard-wrapped sentence goes on (the line ends in a lower-case word or a comma and the
    next line starts in lower case, as the spaCy splitter of sections.py decides)."""
    out, pos = [], 0
    for m in _SENT.finditer(text):
        if m.group(0) == "\n" and _WRAPPED.search(text, max(0, m.start() - 40), m.start()) \
                and _LOWER_START.match(text, m.end()):
            continue
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        out.append((pos, len(text)))
    return out


def _section_at(sections: list[tuple[str, int, int, int]], pos: int) -> str | None:
    found = None
    for cat, a, _b, end in sections:
        if a <= pos < end:
            found = cat
    return found


def clauses_of(text: str, sections: list[tuple[str, int, int, int]], rules: Rules) -> list[Clause]:
    """The MEAT clauses of a note (see the module docstring), in text order."""
    out: list[Clause] = []
    headers = [(a, b) for _c, a, b, _e in sections]
    for s0, s1 in sentences_of(text):
        section = _section_at(sections, s0)
        if section not in ENCOUNTER_SECTIONS:
            continue
        pieces, pos = [], s0
        for m in _CLAUSE.finditer(text, s0, s1):
            pieces.append((pos, m.start()))
            pos = m.end()
        pieces.append((pos, s1))
        for a, b in pieces:
            if any(h0 <= a < h1 for h0, h1 in headers):
                continue
            lead = _BULLET.match(text, a, b)
            a = lead.end() if lead else a
            end = b
            while end > a and text[end - 1] in " .\t\r\n":
                end -= 1
            for element, p0, p1, t0, t1 in _segments(text, a, end, rules):
                if element == "evaluate" and _HOME.search(text, p0, p1):
                    element = "monitor"  # a reading the patient took at home is Monitor, not a test of this visit
                if element == "none":
                    continue
                # each clause is its own span, the shortest phrase that carries the evidence (GUIDE.md: 'daily
                # weights', 'strict I/O'; 'increase metformin to 1000 mg', 'start empagliflozin'), except a run of
                # lab values, which is one result ('Cr 1.3, eGFR 42')
                prev = out[-1] if out and out[-1].sentence == (s0, s1) else None
                if prev is not None and element == "evaluate" == prev.element and _LAB.match(text, p0) \
                        and _LAB.match(text, prev.start) and re.fullmatch(r"[,\s]*(and\s+)?", text[prev.end:p0]):
                    out[-1] = Clause(element, prev.start, p1, text[prev.start:p1], prev.trigger, prev.trigger_end,
                                     (s0, s1), section)
                else:
                    out.append(Clause(element, p0, p1, text[p0:p1], t0, t1, (s0, s1), section))
    return out


_ANY: dict[int, tuple[Rules, re.Pattern[str]]] = {}


def _any_trigger(rules: Rules) -> re.Pattern[str]:
    """One pattern of every MEAT trigger (cached per rules object): a clause without any is skipped at once."""
    hit = _ANY.get(id(rules))
    if hit is None or hit[0] is not rules:
        hit = (rules, re.compile("|".join(f"(?:{row.pattern.pattern})" for row in rules.meat), re.IGNORECASE))
        _ANY[id(rules)] = hit
    return hit[1]


def _segments(text: str, a: int, b: int, rules: Rules) -> list[tuple[str, int, int, int, int]]:
    """(element, start, end, trigger start, trigger end) of the MEAT parts of one clause: it starts with its first
    trigger's element and is cut where a treatment verb begins ('at goal on atorvastatin' -> assess 'at goal',
    treat 'on atorvastatin'). At one position the longest trigger wins ('decreased sensation' is an
    exam finding, not a dose decrease)."""
    if b <= a:
        return []
    hits: list[tuple[int, int, str]] = []
    seg = text[a:b]
    if not _any_trigger(rules).search(seg):
        return []
    for row in rules.meat:
        for m in row.pattern.finditer(seg):
            hits.append((m.start(), -(m.end() - m.start()), row.element))
    if not hits:
        return []
    hits.sort()
    parts: list[list] = []
    covered = -1
    for start, neg_len, element in hits:
        if start < covered:
            continue
        covered = start - neg_len
        if not parts:
            parts.append([element, a, b, a + start, a + covered])
        elif element != parts[-1][0] and element == "treat" and _CUT.match(text, a + start):
            cut = a + start
            parts[-1][2] = cut
            parts.append([element, cut, b, cut, a + covered])
    out = []
    for element, p0, p1, t0, t1 in parts:
        while p1 > p0 and text[p1 - 1] in " ,.;\t\r\n":
            p1 -= 1
        if p1 > p0:
            out.append((element, p0, p1, t0, t1))
    return out


def _problem_lines(text: str, mentions: list[tuple[int, int, int]], sections: list[tuple[str, int, int, int]]
                   ) -> list[tuple[int, int, list[int]]]:
    """(line start, block end, condition indices) of each problem line: a line of an assessment/plan or hospital
    course section (or a note without headers) whose first words name a condition. The block runs to the next
    problem line, a blank line or the end of the section."""
    starts = sorted(m[0] for m in mentions)
    lines: list[tuple[int, int, list[int]]] = []
    pos = 0
    for raw in text.split("\n"):
        a, b = pos, pos + len(raw)
        pos = b + 1
        if _section_at(sections, a) not in _PROBLEM_SECTIONS:
            continue
        lead = _BULLET.match(text, a, b)
        content = lead.end() if lead else a
        # a header on the line ('A:', 'Impression:') is skipped too
        for _c, h0, h1, _e in sections:
            if h0 <= content < h1 or h0 == content:
                content = h1
                while content < b and text[content] in " :\t":
                    content += 1
        i = bisect.bisect_left(starts, content)
        if i >= len(starts) or starts[i] > content + 2 or starts[i] >= b:
            continue
        first_clause = re.search(r"\s+-\s+|:\s+|\.\s+", text[content:b])
        title_end = content + first_clause.start() if first_clause else b
        cis = sorted({ci for s, e, ci in mentions if content <= s < title_end})
        if cis:
            lines.append((a, b, cis))
    blocks = []
    for k, (a, b, cis) in enumerate(lines):
        nxt = lines[k + 1][0] if k + 1 < len(lines) else len(text)
        blank = text.find("\n\n", a)
        if blank == b and _HEADING.fullmatch(text, a, b):
            # a problem heading alone on its line, its discussion in the paragraph below ('Heart failure' + blank
            # line + 'She is more volume overloaded...'): the block is that paragraph
            para = b
            while para < len(text) and text[para] in " \t\r\n":
                para += 1
            blank = text.find("\n\n", para)
        end = min(nxt, blank if blank >= 0 else len(text))
        sec_end = next((e for _c, h0, _h1, e in sections if h0 <= a < e), len(text))
        blocks.append((a, min(end, sec_end), cis))
    # a list of one-line problems ('1. CKD 3b - stable. Follow with nephrology.' then '2. ...'): the line after the
    # last one ('Return in 3 months.') is about the visit, not the last problem
    one_line = [text.find("\n", a) + 1 == e or text.find("\n", a) < 0 for a, e, _ in blocks[:-1]]
    if len(one_line) >= 2 and all(one_line):
        a, e, cis = blocks[-1]
        line_end = text.find("\n", a)
        blocks[-1] = (a, e if line_end < 0 else min(e, line_end), cis)
    return blocks


def _narrow(text: str, group: list[tuple[int, int, int]], seg: str, codes: list[list[str]], rules: Rules
            ) -> list[int]:
    """The conditions of a group of mentions a clause belongs to: those it is evidence for (evidence.csv); else,
    when the group is one condition written 'with', 'on' or 'due to' another ('type 2 diabetes with CKD 3b - not at
    goal', 'AKI on CKD 4 - prerenal'), the first; else all of them ('diabetes and hypertension, stable')."""
    targets = list(dict.fromkeys(m[2] for m in group))
    fits = _evidence_targets(seg, targets, codes, rules)
    if fits:
        return fits
    if len(group) > 1 and all(re.search(r"\b(with|w/|on|due to|secondary to|from|following)\b", text[x[1]:y[0]],
                                        re.IGNORECASE)
                              for x, y in pairwise(group)):
        return [group[0][2]]
    return targets


_EVIDENCE_MEMO: dict[tuple[int, str], tuple] = {}


def _evidence_rows(seg: str, rules: Rules) -> tuple:
    """The evidence.csv rows whose pattern is in `seg` (memo per rules object and clause text, bounded: a clause
    is asked about several candidate groups)."""
    key = (id(rules), seg)
    hit = _EVIDENCE_MEMO.get(key)
    if hit is None:
        if len(_EVIDENCE_MEMO) > 20_000:
            _EVIDENCE_MEMO.clear()
        hit = tuple(row for row in rules.evidence if row.pattern.search(seg))
        _EVIDENCE_MEMO[key] = hit
    return hit


def _evidence_targets(seg: str, candidates: list[int], codes: list[list[str]], rules: Rules) -> list[int]:
    """The candidate conditions a clause is evidence for (notes/rules/evidence.csv): for each row whose pattern is
    in the clause, the candidates of its first code prefix (or '+'-joined prefixes) that has any ('I50 I25.5 I42':
    'EF 35%' is heart failure's evidence, a cardiomyopathy's only without heart failure)."""
    out: set[int] = set()
    for row in _evidence_rows(seg, rules):
        for tier in row.tiers or tuple((c,) for c in row.codes):
            hit = [i for i in candidates if any(c.startswith(p) for c in codes[i] for p in tier)]
            if hit:
                out.update(hit)
                break
    return [i for i in candidates if i in out]


def link_clauses(
    text: str,
    clauses: list[Clause],
    mentions: list[tuple[int, int, int]],
    codes: list[list[str]],
    present: list[bool],
    rules: Rules,
    sections: list[tuple[str, int, int, int]],
) -> list[tuple[int, Clause]]:
    """(condition index, clause) pairs. `mentions` are (start, end, condition index); `codes[i]` the dotted codes
    of condition i; `present[i]` whether it is asserted present (only present conditions get evidence)."""
    out: list[tuple[int, Clause]] = []
    blocks = _problem_lines(text, mentions, sections)
    last: tuple[tuple[int, int], list[int]] | None = None
    for cl in clauses:
        s0, s1 = cl.sentence
        in_sent = sorted((m for m in mentions if s0 <= m[0] < s1), key=lambda m: m[0])
        before = [m for m in in_sent if m[1] <= cl.trigger]
        targets: list[int] = []
        clause = cl
        if any(cl.trigger_end <= m[0] <= cl.trigger_end + 3 for m in in_sent):
            continue  # 'AKI on CKD 4': the trigger word joins two conditions, it is not evidence
        host = next((m for m in in_sent if m[0] <= cl.trigger < m[1]), None)
        if host is not None:
            # the trigger is a word of the condition itself ('ESRD on HD', 'COPD with acute exacerbation', 'reduced
            # ejection fraction'): the evidence, if any, is in the words after the condition
            rest = _segments(text, host[1], cl.end, rules) if host[1] < cl.end else []
            rest = [p for p in rest if p[0] != "none" and text[host[1]:p[1]].strip(" ,:-\t") == ""]
            if not rest:
                continue
            element, p0, p1, t0, t1 = rest[0]
            cl = Clause(element, p0, p1, text[p0:p1], t0, t1, cl.sentence, cl.section)
            clause = cl
        if before:
            inside = [m for m in before if m[1] > cl.start]
            if inside:
                # the clause starts with conditions ('hypertension and atrial fibrillation presents with dyspnea
                # and orthopnea', the list begun in the clause before): those it is evidence for, else all
                group = [before[-1]]
                for m in reversed(before[:-1]):
                    if not _JOINED.fullmatch(text[m[1]:group[0][0]]):
                        break
                    group.insert(0, m)
                seg = text[max(m[1] for m in inside):cl.end]
                fits = _evidence_targets(seg, [m[2] for m in group], codes, rules)
                targets = fits or [m[2] for m in inside]
            else:  # the nearest mention and those joined to it by ',' 'and' 'with'
                group = [before[-1]]
                for m in reversed(before[:-1]):
                    if not _JOINED.fullmatch(text[m[1]:group[0][0]]):
                        break
                    group.insert(0, m)
                targets = [m[2] for m in group]
                # keep the conditions the clause is evidence for; if it is evidence only for another present
                # condition of the note ('CKD 3 who presents with dyspnea and edema'), that one
                seg = text[cl.start:cl.end]
                fits = _evidence_targets(seg, targets, codes, rules)
                if fits:
                    targets = fits
                elif len(group) > 1:
                    targets = _narrow(text, group, seg, codes, rules)
                if not fits and cl.element in ("monitor", "evaluate"):
                    elsewhere = _evidence_targets(seg, [i for i in range(len(codes)) if present[i]], codes, rules)
                    targets = elsewhere or targets
            if inside:  # the clause starts with the condition's own words: the evidence starts after them
                start = max(m[1] for m in inside)
                while start < cl.end and text[start] in " ,:-\t":
                    start += 1
                if start >= cl.end:
                    continue
                clause = Clause(cl.element, start, cl.end, text[start:cl.end], cl.trigger, cl.trigger_end, cl.sentence,
                                cl.section)
        elif in_sent:
            after = [m for m in in_sent if m[0] >= cl.end]
            if after:
                targets = [after[0][2]]
                seg = text[cl.start:cl.end]
                if cl.element in ("monitor", "evaluate") and not _evidence_targets(seg, targets, codes, rules):
                    # 'Right knee with crepitus and varus deformity': a finding of another present condition
                    targets = _evidence_targets(seg, [i for i in range(len(codes)) if present[i]], codes,
                                                rules) or targets
            else:  # 'continue metformin for diabetes': the condition named inside the clause, after the trigger
                targets = [m[2] for m in in_sent if cl.trigger_end <= m[0] < cl.end
                           and re.search(r"\b(for|of)\s+(his|her|the|their)?\s*$", text[cl.trigger_end:m[0]])]
        if not targets:
            block = next((b for b in blocks if b[0] <= cl.start < b[1]), None)
            if block:
                line_end = text.find("\n", block[0])
                title = sorted((m for m in mentions if block[0] <= m[0] < (line_end if line_end >= 0 else len(text))
                                and m[2] in block[2]), key=lambda m: m[0])
                targets = _narrow(text, title, text[cl.start:cl.end], codes, rules) if len(title) > 1 else block[2]
        if not targets:
            targets = _evidence_targets(text[cl.start:cl.end], [i for i in range(len(codes)) if present[i]], codes,
                                        rules)
        if not targets and last is not None and last[0] == cl.sentence and cl.section in _PLAN_ONLY:
            # 'Continue ART, labs in 6 months': a clause with no condition of its own goes with the clause before
            # it in the same sentence
            targets = last[1]
        if targets:
            last = (cl.sentence, targets)
        for ci in dict.fromkeys(targets):
            if present[ci]:
                out.append((ci, clause))
    return out
