"""Ranking: prefer the most specific code the query's words support, billable first.

Each candidate code is scored by its best *name* (its title, one of its inclusion terms, or an inclusion term of
an ancestor, as printed in the CDC tabular):

    recall    = share of the query's concepts found in that name (or, at 0.7, in the ancestors' titles; or in the
                7th-character meanings of a code that needs one), concepts weighted by idf
    precision = share of the name's own words that the query explains (idf weighted); filler words
                ('unspecified', 'other', 'NOS') and 'without ...' clauses do not count, so a query that does not
                name a side, stage or type prefers the code that says 'unspecified'
    name score = name weight x recall x (0.5 + 0.5 x precision)

    score = best name score + 0.05 x title score + 0.1 if billable (or completed by a 7th character)

A code that needs a 7th character (S72.001) is completed with the extension whose meaning the query supports
best ('subsequent encounter ... routine healing' -> D); when the query names no episode of care, the initial
encounter (A, the first character the tabular lists) is shown and the result says it was assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hccguide.search.index import NAME_WEIGHTS, Doc, SearchIndex
from hccguide.search.text import FILLER, STOPWORDS

CONTEXT_CREDIT = 0.7
EPISODE_WORDS = frozenset({"initial", "subsequent", "sequela"})
# What a 7th character means when the query does not say: a fracture not stated as open is closed, healing not
# stated otherwise is routine (ICD-10-CM Guidelines I.C.19.c.1).
EXTENSION_DEFAULTS = frozenset({"closed", "routine", "healing"})
BILLABLE_BONUS = 0.1
OTHER_FACTOR = 0.93  # a name saying 'other ...' when the query does not: a residual category, not the default
WITHOUT_FACTOR = 0.97  # a name with a 'without ...' clause ties below one without it
COVER_BONUS = 0.08  # a name covering every (positive) concept of the query ranks above a broader one (issue 14)
ABSENT_CREDIT = 0.8  # a negated concept ('without coma') the name does not mention: mostly satisfied
CONTRADICTION_FACTOR = 0.6  # a name asserting what the query negates ('with coma' for 'without coma')


@dataclass(frozen=True)
class Concept:
    """One part of the query: the words as typed and their alternative wordings (synonyms, corrections)."""

    text: str
    alts: tuple[tuple[str, ...], ...]
    weight: float
    negated: bool = False  # said after 'without' / 'not' / 'no': the code should not assert it


@dataclass
class Scored:
    """A ranked candidate: document index, score, the name that matched best, words matched, and the chosen
    7th character (position in doc.ext) with whether it was assumed."""

    doc: int
    score: float
    name_kind: str = "title"
    name_text: str = ""
    matched: list[str] = field(default_factory=list)
    ext: int | None = None
    ext_assumed: bool = False


Prepared = list[tuple[float, str, list[tuple[tuple[str, ...], tuple[float, ...], float]], bool]]


def prepare(concepts: list[Concept], si: SearchIndex) -> Prepared:
    """Per concept: (weight, text, [(words, their idf, idf total)] per alternative), stopwords dropped."""
    out: Prepared = []
    for c in concepts:
        alts = []
        for alt in c.alts:
            words = tuple(t for t in alt if t not in STOPWORDS)
            if words:
                idfs = tuple(si.idf_of(t) for t in words)
                alts.append((words, idfs, sum(idfs) or 1.0))
        out.append((c.weight, c.text, alts, c.negated))
    return out


def _match(alts: list[tuple[tuple[str, ...], tuple[float, ...], float]], toks: frozenset[str]) -> float:
    """Best share (idf weighted) of one alternative's words found in `toks`."""
    best = 0.0
    for words, idfs, total in alts:
        got = 0.0
        for t, w in zip(words, idfs, strict=True):
            if t in toks:
                got += w
        if got / total > best:
            best = got / total
            if best >= 1.0:
                break
    return best


def choose_extension(doc: Doc, explained: set[str], si: SearchIndex) -> tuple[int, bool]:
    """The 7th character the query supports best: (position in doc.ext, assumed?). Ties go to the first
    character listed (A, initial encounter)."""
    best, best_score = 0, float("-inf")
    known = explained | EXTENSION_DEFAULTS
    for j, (_char, _code, _meaning, mtoks) in enumerate(doc.ext):
        words = [t for t in mtoks if t not in STOPWORDS and t not in FILLER]
        hit = sum(1 for t in words if t in explained)
        miss = sum(1 for t in words if t not in known)
        score = hit - 0.5 * miss
        if score > best_score + 1e-9:
            best, best_score = j, score
    return best, not (explained & EPISODE_WORDS)


def _context(doc: Doc, si: SearchIndex) -> frozenset[str]:
    """Words of the titles of the doc's ancestors (computed once per document, kept on the index)."""
    cached = si.context_cache.get(doc.code)
    if cached is not None:
        return cached
    words: set[str] = set()
    up = doc.parent
    while up is not None and up in si.by_code:
        anc = si.docs[si.by_code[up]]
        words.update(anc.names[0][2])
        up = anc.parent
    out = si.context_cache[doc.code] = frozenset(words)
    return out


def _names(doc: Doc, si: SearchIndex) -> list[tuple]:
    """The doc's own names, then the inclusion terms of its ancestors (kind 'inherited'); computed once per
    document, kept on the index."""
    cached = si.names_cache.get(doc.code)
    if cached is not None:
        return cached
    names = list(doc.names)
    up = doc.parent
    while up is not None and up in si.by_code:
        anc = si.docs[si.by_code[up]]
        names.extend(("inherited", *n[1:]) for n in anc.names if n[0] == "incl")
        up = anc.parent
    si.names_cache[doc.code] = names
    return names


def score_doc(i: int, prepared: Prepared, explained: set[str], si: SearchIndex) -> Scored:
    """Score one document against the prepared query concepts (see the module docstring)."""
    doc = si.docs[i]
    idf = si.idf.get
    rare = si.max_idf
    total_w = sum(w for w, _t, _a, _n in prepared) or 1.0
    positive = sum(1 for *_x, neg in prepared if not neg)
    ext_toks = doc.ext_tokens
    context = _context(doc, si)
    ctx = [0.0 if neg else CONTEXT_CREDIT * _match(alts, context) for _w, _t, alts, neg in prepared]
    best = Scored(i, 0.0)
    title_score = 0.0
    title_content = doc.names[0][3]
    for kind, text, toks, raw_content, neg_toks in _names(doc, si):
        if kind != "title" and toks.isdisjoint(explained):
            continue  # shares no word with the query: cannot beat the title (Drug-table codes have many names)
        # An ancestor's inclusion term describes this code only together with the code's own title words
        # (E11 'diabetes NOS' is E11.9, not E11.36 '... with diabetic cataract').
        content = raw_content + title_content if kind == "inherited" else raw_content
        names_toks = toks.difference(neg_toks) if neg_toks else toks
        if ext_toks:
            names_toks = names_toks | ext_toks
        got = 0.0
        matched: list[str] = []
        covered = 0
        contradicted = False
        for (w, ctext, alts, negated), cx in zip(prepared, ctx, strict=True):
            if negated:
                # 'without hepatic coma': a name saying 'without hepatic coma' fits, a name silent on it mostly
                # fits, a name asserting it contradicts the query
                if neg_toks and _match(alts, frozenset(neg_toks)) > 0.5:
                    m = 1.0
                elif _match(alts, names_toks) > 0.5:
                    m, contradicted = 0.0, True
                else:
                    m = ABSENT_CREDIT
                got += w * m
                continue
            m = _match(alts, names_toks)
            if m > 0.5 or cx > 0.5:
                covered += 1
            if cx > m:
                m = cx
            if m > 0.5:
                matched.append(ctext)
            got += w * m
        recall = got / total_w
        if recall <= 0:
            continue
        if content:
            total = explained_w = 0.0
            for t in content:
                v = idf(t, rare)
                total += v
                if t in explained:
                    explained_w += v
            precision = explained_w / total if total else 1.0
        else:
            precision = 1.0
        s = NAME_WEIGHTS[kind] * recall * (0.5 + 0.5 * precision)
        if positive > 1 and covered == positive:
            s += COVER_BONUS  # the name itself covers every concept of the query (A41.51 for 'sepsis E. coli')
        if contradicted:
            s *= CONTRADICTION_FACTOR
        if "other" in toks and "other" not in explained:
            s *= OTHER_FACTOR
        if "without" in toks:
            s *= WITHOUT_FACTOR
        if kind == "title":
            title_score = s
        if s > best.score:
            best = Scored(i, s, kind, text, matched)
    best.score += 0.05 * title_score
    if doc.ext:
        best.ext, best.ext_assumed = choose_extension(doc, explained, si)
        best.score += BILLABLE_BONUS
    elif doc.billable:
        best.score += BILLABLE_BONUS
    return best


def rank(candidates: list[int], concepts: list[Concept], si: SearchIndex) -> list[Scored]:
    """Score and sort candidates: best score first, then billable before header, then tabular order."""
    explained = {t for c in concepts for alt in c.alts for t in alt if t not in STOPWORDS}
    prepared = prepare(concepts, si)
    scored = [score_doc(i, prepared, explained, si) for i in candidates]
    # ties: a billable code (or one completed by a 7th character) before its header, then tabular order
    scored.sort(key=lambda s: (-round(s.score, 6), not (si.docs[s.doc].billable or s.ext is not None), s.doc))
    return scored
