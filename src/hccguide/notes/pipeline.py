"""The note checker: conditions, assertion, codes, HCCs and MEAT evidence from a clinical note (docs/notes.md).

`check_note(kb, text, date_of_service=..., payment_year=..., member=...)` -> NoteResult (notes/models.py).

Steps, each with its data file:
1. sentences (newline-aware splitter) and sections (medspaCy Sectionizer, notes/rules/sections.csv);
2. condition mentions: a phrase index over the lexicon's spaCy tokens (notes/lexicon.py: KB titles and inclusion terms,
   search/synonyms.csv, search/conditions.csv), longest match, widened over stage/type/acuity/laterality words;
3. assertion: medspaCy ConText with notes/rules/context.csv, then the section (family history -> family, past
   surgical history -> historical) and one risk-adjustment rule: a 'history of' condition with a current treatment
   in the same sentence or problem is present ('history of hypertension, on lisinopril');
4. codes: the search module's public `search()` on the mention and its qualifiers, in the code set of the date of
   service (diabetes of unstated type is type 2, ICD-10-CM Guidelines I.C.4.a.2); then the presumed links of
   Guidelines I.A.15 and I.C.9.a across the note (diabetes + CKD -> E11.22; hypertension + heart failure -> I11.0,
   + CKD -> I12.-, both -> I13.-; diabetes + foot ulcer -> E11.621), again through `search()`, whose
   search/combinations.csv holds the rules;
5. MEAT (notes/meat.py, notes/rules/meat.csv and evidence.csv): clauses of this encounter's sections linked to a
   condition by sentence, by problem-oriented plan block, or by what the lab/finding/drug is evidence for;
6. HCCs: KB dx_to_cc for the payment year (V28; V24 too for PY2025, the blend year), hierarchies across the
   whole note (KB `hierarchies`), and the score of the supported codes by the RAF engine when demographics are
   given.

Note text never goes to a log, a warning or an error message (errors name the field only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from hccguide.errors import BadDate, BadInput
from hccguide.icd10 import code_set_of, fiscal_year_of, undot
from hccguide.kb.open import KB
from hccguide.notes.lexicon import Lexicon, cached_lexicon
from hccguide.notes.meat import Clause, clauses_of, link_clauses
from hccguide.notes.models import (
    ELEMENTS,
    CodeChoice,
    Condition,
    HccRef,
    Meat,
    Mention,
    NoteHcc,
    NoteResult,
    Span,
)
from hccguide.notes.rules import Rules, load_rules
from hccguide.notes.sections import LISTING_SECTIONS, section_rules, split_sentences

MAX_CHARS = 200_000
_LEFT = re.compile(
    r"(?:\b(?:acute on chronic|acute|chronic|paroxysmal|persistent|permanent|longstanding persistent|morbid|"
    r"severe|moderate|mild|recurrent|uncontrolled|seropositive|seronegative|left|right|bilateral|late onset|"
    r"type (?:1|2|i|ii|one|two)|stage (?:[1-5][ab]?|i{1,3}v?|iv|v)|systolic|diastolic|combined|end stage|"
    r"essential|primary|secondary|obstructive|diabetic|alcoholic|hypertensive|ischemic|dilated|vascular)"
    r"[ \t-]+)+$", re.IGNORECASE)
_RIGHT = re.compile(
    r"^(?:\s*,?\s*(?:stage|class|grade|nyha class)\s*(?:[1-5][ab]?|i{1,3}v?|iv|v)\b"
    r"|\s+type\s*(?:[12]|i{1,2})\b"
    r"|\s+(?:[1-5][ab]?|iii|ii|iv|i)\b(?!\s*(?:mg|mcg|%|/|\.\d|x\b|times|years?|months?|days?|lb|units?))"
    r"|\s*,?\s*(?:left|right|bilateral)(?:\s+(?:side|sided))?\b"
    r"|\s*,?\s*(?:recurrent|single episode|in (?:partial |full |early |sustained )?remission|mild|moderate|"
    r"severe|late onset|early onset|seropositive|of multiple sites|unspecified|"
    r"(?:with|w/) (?:hyperglycemia|hypoglycemia|behavioral disturbance|agitation|acute exacerbation|exacerbation|"
    r"psychotic features|withdrawal|angina|ascites|diabetic polyneuropathy|polyneuropathy|peripheral angiopathy|"
    r"diabetic (?:chronic kidney disease|ckd|nephropathy)|nephropathy|neuropathy|retinopathy|fat layer exposed)"
    r"|without (?:psychotic features|complications?|behavioral disturbance|ascites|angina|exacerbation)|"
    r"of (?:the )?(?:left|right) (?:heel|foot|ankle|knee|hip|breast|lung|side|toe|calf)|"
    r"affecting (?:left|right) (?:dominant|non-dominant) side|"
    r"(?:limited to )?breakdown of skin|with fat layer exposed|on (?:hd|hemodialysis|dialysis))\b)+",
    re.IGNORECASE)
_DIABETES = re.compile(r"\b(diabet\w*|dm|iddm|niddm)\b", re.IGNORECASE)
_DM_TYPE = re.compile(r"\b(type\s*(1|2|i|ii|one|two)|dm\s*[12]|t[12]dm?|iddm|niddm|gestational|secondary|steroid|"
                      r"drug|due to|pre-?diabet\w*|insipidus|juvenile)\b", re.IGNORECASE)
_MORBID = re.compile(r"\b(morbid|severe) obesity\b", re.IGNORECASE)
_BMI = re.compile(r"\bbmi\s*(of|:|=|is)?\s*\d", re.IGNORECASE)
_CURRENT_TREAT = re.compile(r"\b(on|taking|currently|continue[sd]?|start(ed)?|increase[sd]?|managed (with|on)|"
                            r"adjuvant|receiving)\b", re.IGNORECASE)
_HISTORY_WORDS = re.compile(r"\b(history|hx|h/o)\b", re.IGNORECASE)

# Chapters that are not conditions of risk adjustment in a note: R (signs and symptoms, integral to a diagnosis or
# not coded when one is made, Guidelines I.B.4-5), S-T (injuries need an encounter character), V-Y (external causes).
NOT_CONDITIONS = frozenset("RSTVWXY")
PLAN_SECTIONS = frozenset({"assessment_plan", "hospital_course"})
COEXISTING = frozenset({"E08", "E09", "E10", "E11", "E13", "I69", "L89", "L97", "F02", "G30"})
# Categories that name one condition at two levels of detail: 'depression' (F32.A) in the history and 'major
# depressive disorder, recurrent, severe' (F33.2) in the plan are one condition; so are 'rheumatoid arthritis'
# (M06.9) and 'seropositive rheumatoid arthritis' (M05.-).
SAME_CONDITION = {"F33": "F32", "M06": "M05"}


def _family(code: str) -> str:
    return SAME_CONDITION.get(code[:3], code[:3])
ASSERTION_ORDER = ("negated", "family", "hypothetical", "historical")
CATEGORY_TO_ASSERTION = {"NEGATED_EXISTENCE": "negated", "FAMILY": "family", "HYPOTHETICAL": "hypothetical",
                         "HISTORICAL": "historical"}
# The encounter setting decides what an uncertain diagnosis ('probable', 'suspected', 'rule out': context.csv
# category UNCERTAIN) is: outpatient and physician encounters never code it (ICD-10-CM Official Guidelines FY2026
# Section IV.H; risk adjustment uses these rules for physician encounters); an inpatient discharge codes it as if
# established (Sections II.H and III.C).
SETTINGS = ("outpatient", "inpatient")
UNCERTAIN_AS = {"outpatient": "hypothetical", "inpatient": None}

# Conditions that ICD-10-CM links without the provider saying so (Guidelines FY2026 I.A.15 'with', I.C.9.a
# hypertension), by code prefix. The combination code itself comes from search() (search/combinations.csv).
ROLES = (("diabetes", ("E08", "E09", "E10", "E11", "E13")), ("ckd", ("N18",)), ("hypertension", ("I10",)),
         ("heart_failure", ("I50",)), ("foot_ulcer", ("L97.4", "L97.5")),
         ("neuropathy", ("G62.9", "G60.9", "G63")), ("hypoglycemia", ("E16.0", "E16.1", "E16.2")),
         ("pvd", ("I73.9",)))
# Written beside diabetes, these are the diabetes's own complication (Alphabetic Index 'Diabetes, with'; Guidelines
# I.A.15): the condition folds into the diabetes and its combination code (E11.40, E11.649, E11.51) is added.
FOLD_INTO_DIABETES = {"neuropathy": ("with polyneuropathy", ".4"), "hypoglycemia": ("with hypoglycemia", ".649"),
                      "pvd": ("with peripheral angiopathy", ".51")}
# Status codes of past procedures are not conditions of a note (Z90 acquired absence, Z96-Z98 implants and
# postprocedural states, Z91-Z92 personal risk factors and history of treatment).
NOT_CONDITION_PREFIXES = ("Z90", "Z91", "Z92", "Z96", "Z97", "Z98")


@dataclass
class NotePipeline:
    """The loaded pipeline of one code set: spaCy + medspaCy components, lexicon and rules."""

    nlp: Any
    matcher: Any
    sectionizer: Any
    context: Any
    lexicon: Lexicon
    rules: Rules
    code_set: str


def build_pipeline(kb: KB, code_set: str) -> NotePipeline:
    """Build the pipeline (spaCy blank English, a phrase index over the lexicon, medspaCy Sectionizer and ConText
    with our rules); use `pipeline_for` to build it once per KB handle. The lexicon is cached next to the KB."""
    import spacy

    ConText, ConTextRule, Sectionizer = _medspacy_parts()
    rules = load_rules()
    nlp = spacy.blank("en")
    lexicon, tokens = cached_lexicon(
        kb, code_set, lambda phrases: [[t.text for t in d] for d in nlp.tokenizer.pipe(phrases)])
    matcher = PhraseIndex(tokens)
    sectionizer = Sectionizer(nlp, rules=None, require_start_line=True, span_attrs=None)
    sectionizer.add(section_rules(rules.sections, nlp))
    context = ConText(nlp, rules=None, max_scope=None)
    context.add([
        ConTextRule(literal=r.literal, category=r.category, direction=r.direction, max_scope=r.max_scope,
                    pattern=_spaced([{"LOWER": t.lower_} for t in nlp.make_doc(r.literal)]))
        for r in rules.context
    ])
    return NotePipeline(nlp, matcher, sectionizer, context, lexicon, rules, code_set)


def _medspacy_parts() -> tuple[Any, Any, Any]:
    """medspaCy's ConText, ConTextRule and Sectionizer without the rest of medspaCy.

    `import medspacy.context` first runs medspacy/__init__.py, which loads every component (PyRuSH, the
    TargetMatcher, QuickUMLS and through it NLTK): about 1.5 s of CPU on this machine, for parts the checker does
    not use. If medspaCy is not imported yet, its package is entered as a bare namespace (its __path__ only) and
    QuickUMLS as an empty module while the two subpackages load (medspacy/util.py imports QuickUMLS's spaCy
    factory at module level, used only by medspacy.load), then both placeholders are removed: a later `import
    medspacy` or `import quickumls` anywhere in the process loads the real packages."""
    import importlib.util
    import sys
    import types

    placed = []
    if "medspacy" not in sys.modules:
        spec = importlib.util.find_spec("medspacy")
        if spec is not None and spec.submodule_search_locations:
            pkg = types.ModuleType("medspacy")
            pkg.__path__ = list(spec.submodule_search_locations)
            pkg.__spec__ = spec
            sys.modules["medspacy"] = pkg
            placed.append("medspacy")
            if "quickumls" not in sys.modules:
                stub = types.ModuleType("quickumls")
                stub.spacy_component = types.ModuleType("quickumls.spacy_component")  # type: ignore[attr-defined]
                sys.modules["quickumls"] = stub
                placed.append("quickumls")
    try:
        from medspacy._extensions import set_extensions
        from medspacy.context import ConText, ConTextRule
        from medspacy.section_detection import Sectionizer

        set_extensions()  # what medspacy/__init__.py does: the Doc/Span/Token attributes (doc._.sections, ...)
    finally:
        for name in placed:
            sys.modules.pop(name, None)
        if "quickumls" in placed:  # imported against the placeholder: a later `import medspacy` imports it again
            sys.modules.pop("medspacy.util", None)
    return ConText, ConTextRule, Sectionizer


class PhraseIndex:
    """Lexicon phrases as tuples of lower-case spaCy tokens; `matches(doc)` gives (start, end) token spans, the
    longest phrase at each start. A dict lookup per token and length: it loads from the cached token lists in
    well under a second, where spaCy's PhraseMatcher needs a Doc per phrase (4 s for 15,000 phrases, measured)."""

    def __init__(self, tokens: list[list[str]]) -> None:
        self.phrases = {tuple(w.lower() for w in words) for words in tokens if words}
        self.longest: dict[str, int] = {}
        for p in self.phrases:
            if len(p) > self.longest.get(p[0], 0):
                self.longest[p[0]] = len(p)

    def matches(self, doc: Any) -> list[tuple[int, int]]:
        words = [t.lower_ for t in doc]
        out = []
        for i, w in enumerate(words):
            n = self.longest.get(w)
            if not n:
                continue
            for k in range(min(n, len(words) - i), 0, -1):
                if tuple(words[i:i + k]) in self.phrases:
                    out.append((i, i + k))
                    break
        return out


def _spaced(tokens: list[dict]) -> list[dict]:
    """A token pattern that also matches with extra spaces or a line break between the words ('family  history
    of', dictated text wrapped mid-phrase)."""
    out: list[dict] = []
    for i, t in enumerate(tokens):
        if i:
            out.append({"IS_SPACE": True, "OP": "*"})
        out.append(t)
    return out


def pipeline_for(kb: KB, code_set: str) -> NotePipeline:
    """The pipeline of `code_set`, built once per KB handle (KB.memo)."""
    return kb.memo(("notes.pipeline", code_set), lambda: build_pipeline(kb, code_set))


# ------------------------------------------------------------------------------------------------ mentions
@dataclass
class RawMention:
    start: int
    end: int
    text: str
    query: str
    sent: tuple[int, int]
    line: tuple[int, int]
    section: str | None
    assertion: str
    trigger: Span | None
    hint: str | None
    condition: int = -1


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    a = text.rfind("\n", 0, pos) + 1
    b = text.find("\n", pos)
    return a, len(text) if b < 0 else b


def _widen(text: str, start: int, end: int, sent_start: int, sent_end: int) -> tuple[int, int]:
    """Widen a lexicon match over the qualifiers written before and after it in the same sentence."""
    m = _LEFT.search(text[sent_start:start])
    if m:
        start = sent_start + m.start()
    m = _RIGHT.match(text[end:sent_end])
    if m:
        end = end + len(m.group(0).rstrip(" ,"))
    return start, end


def _mentions(pipe: NotePipeline, text: str, setting: str = "outpatient"
              ) -> tuple[list[RawMention], list[tuple[str, int, int, int]], Any]:
    """Condition mentions with section and assertion; the sections as (category, title start, title end, body end)."""
    from spacy.util import filter_spans

    doc = split_sentences(pipe.nlp.make_doc(text))
    spans = filter_spans([doc[s:e] for s, e in pipe.matcher.matches(doc)])
    spans = [s for s in spans if not s.text.isdigit()]
    doc.ents = [doc.char_span(s.start_char, s.end_char, label="CONDITION", alignment_mode="expand") for s in spans]
    pipe.sectionizer(doc)
    pipe.context(doc)
    sections = [(s.category, doc[s.title_start].idx if s.title_start is not None else 0,
                 doc[s.title_end - 1].idx + len(doc[s.title_end - 1]) if s.title_end else 0,
                 doc[s.body_end - 1].idx + len(doc[s.body_end - 1]) if s.body_end else len(text))
                for s in doc._.sections]
    out: list[RawMention] = []
    for ent in doc.ents:
        sent = ent.sent
        s0, s1 = sent.start_char, sent.end_char
        start, end = _widen(text, ent.start_char, ent.end_char, s0, s1)
        section = ent._.section_category
        assertion, trigger = _assertion_of(ent, doc, setting)
        if section in ("family_history", "psh") and assertion != "negated":
            assertion = "family" if section == "family_history" else "historical"
            trigger = _section_trigger(sections, start)
        key = " ".join(ent.text.lower().split())
        out.append(RawMention(start, end, text[start:end], text[start:end], (s0, s1), _line_bounds(text, start),
                              section, assertion, trigger, pipe.lexicon.phrases.get(key)))
    return out, sections, doc


def _assertion_of(ent: Any, doc: Any, setting: str = "outpatient") -> tuple[str, Span | None]:
    """The ConText assertion of an entity (first of negated, family, hypothetical, historical) and its trigger;
    an uncertain diagnosis is hypothetical in an outpatient setting and present in an inpatient one."""
    found: dict[str, Span] = {}
    for mod in ent._.modifiers:
        a = UNCERTAIN_AS[setting] if mod.category == "UNCERTAIN" else CATEGORY_TO_ASSERTION.get(mod.category)
        if a and a not in found:
            t = doc[mod.modifier_span[0]:mod.modifier_span[1]]
            found[a] = Span(text=t.text, start=t.start_char, end=t.end_char)
    for a in ASSERTION_ORDER:
        if a in found:
            return a, found[a]
    return "present", None


def assert_spans(pipe: NotePipeline, text: str, spans: list[tuple[int, int]], setting: str = "outpatient"
                 ) -> list[str]:
    """Assertion of given character spans of a text by our sentences, sections and ConText rules (the NegEx test
    uses it with the annotated targets); `setting` as in `check_note`."""
    doc = split_sentences(pipe.nlp.make_doc(text))
    ents = [doc.char_span(a, b, label="CONDITION", alignment_mode="expand") for a, b in spans]
    doc.ents = [e for e in ents if e is not None]
    pipe.sectionizer(doc)
    pipe.context(doc)
    out = []
    for ent in doc.ents:
        assertion, _ = _assertion_of(ent, doc, setting)
        section = ent._.section_category
        if section in ("family_history", "psh") and assertion != "negated":
            assertion = "family" if section == "family_history" else "historical"
        out.append(assertion)
    return out


def _section_trigger(sections: list[tuple[str, int, int, int]], pos: int) -> Span | None:
    for cat, a, b, end in sections:
        if a <= pos < end:
            return Span(text=cat, start=a, end=b)
    return None


# ------------------------------------------------------------------------------------------------ codes
def _search(kb: KB, query: str, fy: int, payment_year: int) -> list[dict]:
    """search() results for a condition phrase (billable codes), kept on disk next to the KB (notes/codecache.py):
    the search index is opened only for a phrase not coded before with this KB release and search code."""
    from hccguide.notes import codecache

    key = f"{fy}|{payment_year}|{query.lower()}"
    hit = codecache.get(kb, key)
    if hit is None:
        hit = _run_search(kb, query, fy, payment_year)
        codecache.put(kb, key, hit)
    return hit


def _run_search(kb: KB, query: str, fy: int, payment_year: int) -> list[dict]:
    """search() results for a condition phrase: the billable choices, at most 4."""
    from hccguide.search import search

    def run() -> list[dict]:
        try:
            found = search(kb, query[:200], limit=4, fy=fy, payment_year=payment_year)
        except BadInput:
            return []
        # A header that ranks first stands for its first billable choice (search orders the choices, the
        # unspecified one first): "breast cancer" -> C50 -> C50.x, never a lower-ranked billable code of
        # another category (C44.501, skin of breast) that a billable-only search would put first.
        out: list[dict] = []
        for r in found["results"]:
            if r.get("billable"):
                pick = {"code": r["code"], "title": r["title"]}
            else:
                choices = [c for c in r.get("choices") or [] if not c.get("needs_7th_character")]
                if not choices:
                    continue
                pick = {"code": choices[0]["code"], "title": choices[0]["title"]}
            if all(o["code"] != pick["code"] for o in out):
                out.append({**pick, "notes": found.get("notes", [])})
        return out[:4]

    return run()


_PAST_TIME = re.compile(r"\b(?:(?:in|on|of|since|from)\s+)?(?:(\d{1,2})/)?((?:19|20)\d{2})\b|\b(\d+|a|one|two|three|"
                        r"four|five|six|several|many)\s+(?:years?|yrs?|months?)\s+ago\b|\bremote\b", re.IGNORECASE)


def _past_event_prefixes() -> tuple[str, ...]:
    """Code prefixes of acute conditions that, written with a past date, are history (notes/rules/past_events.csv,
    prefix and comment; validated: dotted ICD-10-CM prefixes)."""
    import csv
    from importlib import resources

    from hccguide.errors import SourceError

    text = resources.files("hccguide.notes").joinpath("rules", "past_events.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    out = []
    for line, row in enumerate(rows, start=2):
        prefix = (row.get("prefix") or "").strip()
        if not re.fullmatch(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?", prefix) or not (row.get("comment") or "").strip():
            raise SourceError(f"notes/rules/past_events.csv line {line}: a dotted code prefix and a comment are "
                              "required", field="past_events.csv", value=prefix[:20], fix="e.g. I63,stroke ...")
        out.append(prefix)
    return tuple(out)


def _past_events(coded: list[tuple[RawMention, list[dict], list[str]]], text: str, day: date) -> None:
    """An acute condition written with a past year or 'N years ago' in its sentence ('He had a TIA in 2023 with no
    residual deficit', 'Pneumonia 2019') is history (Z86-Z87; Guidelines I.C.9.d, I.C.21.c.4), unless a current
    treatment follows it in the sentence ('DVT 2019, on apixaban' stays present, as 'history of' does)."""
    prefixes = _PAST_PREFIXES or _PAST_PREFIXES.extend(_past_event_prefixes()) or _PAST_PREFIXES
    for m, results, _ in coded:
        if m.assertion != "present" or not results[0]["code"].startswith(tuple(prefixes)):
            continue
        s0, s1 = m.sent
        for t in _PAST_TIME.finditer(text, s0, s1):
            if t.group(2):  # a year, or month/year: at least 6 months before the date of service
                month = int(t.group(1)) if t.group(1) and 1 <= int(t.group(1)) <= 12 else 12
                if (day.year - int(t.group(2))) * 12 + day.month - month < 6:
                    continue
            if _CURRENT_TREAT.search(text, m.end, s1):
                break
            m.assertion, m.trigger = "historical", Span(text=t.group(0), start=t.start(), end=t.end())
            break


_PAST_PREFIXES: list[str] = []


def _code_query(m: RawMention) -> tuple[str, list[str]]:
    """The search text of a mention, and the provider queries its words raise."""
    q = m.query
    queries = []
    if _DIABETES.search(q) and not _DM_TYPE.search(q):
        queries.append("diabetes documented without its type: coded as type 2 (E11, ICD-10-CM Guidelines "
                       "I.C.4.a.2); ask the provider to document type 1, type 2 or secondary diabetes")
        q = "type 2 " + q
    return q, queries


def _role(code: str) -> str | None:
    for role, prefixes in ROLES:
        if any(code.startswith(p) for p in prefixes):
            return role
    return None


# ------------------------------------------------------------------------------------------------ the note
def check_note(
    kb: KB,
    text: str | None,
    *,
    date_of_service: date | str | None = None,
    payment_year: int | None = None,
    member: dict | None = None,
    setting: str = "outpatient",
) -> NoteResult:
    """Check one note. `date_of_service` (default today) picks the ICD-10-CM code set; `payment_year` (default the
    year after the date of service, or the latest the KB holds) the CMS-HCC mapping; `member` (age or
    date_of_birth, sex, dual_status, ... as `score` takes them) adds the risk score of the supported codes.
    `setting` ('outpatient', the default, or 'inpatient') decides uncertain diagnoses ('probable', 'suspected',
    'rule out'): hypothetical outpatient (ICD-10-CM Official Guidelines IV.H; physician encounters, as risk
    adjustment reads them), present inpatient (II.H, III.C).

    Raises BadInput (empty or over 200,000 characters, an unknown setting; errors name the field, never the text),
    BadDate,
    UnknownFiscalYear (no code set for the date), UnknownPaymentYear."""
    if text is None or not text.strip():
        raise BadInput("the note is empty", field="text", value="", fix="paste the text of a clinical note")
    if len(text) > MAX_CHARS:
        raise BadInput(f"the note has {len(text)} characters; at most {MAX_CHARS} are accepted", field="text",
                       value=f"{len(text)} characters", fix="check one encounter note at a time")
    if setting not in SETTINGS:
        raise BadInput("unknown setting", field="setting", value=str(setting)[:40], fix="outpatient or inpatient")
    day = _as_date(date_of_service)
    fy = fiscal_year_of(day)
    code_set = code_set_of(day)
    if code_set not in kb.code_sets:
        from hccguide.errors import UnknownFiscalYear

        raise UnknownFiscalYear(f"no ICD-10-CM code set {code_set} for date of service {day.isoformat()}",
                                field="date_of_service", value=day.isoformat(),
                                fix="use a date of service in " + ", ".join(kb.code_sets))
    if payment_year is None:
        payment_year = day.year + 1 if day.year + 1 in kb.payment_years else max(kb.payment_years)
    if payment_year not in kb.payment_years:
        from hccguide.errors import UnknownPaymentYear

        raise UnknownPaymentYear(f"no CMS tables for payment year {payment_year}", field="payment_year",
                                 value=payment_year, fix="use one of " + ", ".join(map(str, kb.payment_years)))
    pipe = pipeline_for(kb, code_set)
    raw, sections, _doc = _mentions(pipe, text, setting)

    # codes per mention
    coded: list[tuple[RawMention, list[dict], list[str]]] = []
    for m in raw:
        q, queries = _code_query(m)
        results = [r for r in _search(kb, q, fy, payment_year) if r["code"][:1] not in NOT_CONDITIONS
                   and not r["code"].startswith(NOT_CONDITION_PREFIXES)]
        if not results:
            continue
        coded.append((m, results, queries))

    _past_events(coded, text, day)

    # a status code written inside another condition's words ('ESRD on HD': Z99.2 inside the widened ESRD mention)
    # is a qualifier of that condition, not a condition of its own
    spans = [(m.start, m.end) for m, _, _ in coded]
    coded = [(m, res, qs) for m, res, qs in coded
             if not (res[0]["code"].startswith("Z") and any(a <= m.start and m.end <= b and (a, b) != (m.start, m.end)
                                                           for a, b in spans))]

    # group mentions into conditions by code; an unspecified code of a category joins a specific one
    titles = {r["code"]: r["title"] for _, res, _ in coded for r in res}
    groups: dict[str, list[tuple[RawMention, list[dict], list[str]]]] = {}
    for item in coded:
        groups.setdefault(item[1][0]["code"], []).append(item)
    def specificity(code: str) -> tuple[bool, bool, int]:
        return (not _vague(titles.get(code, "")), not code.endswith("9"), len(code))

    def present(code: str) -> bool:
        return any(m.assertion == "present" for m, _, _ in groups[code])

    for code in sorted(groups, key=specificity):
        if code in groups and _vague(titles.get(code, "")):
            # a negated 'no retinopathy' never makes the diabetes 'with retinopathy'
            better = [c for c in groups if c != code and c[:3] == code[:3] and specificity(c) > specificity(code)
                      and (present(c) or not present(code))]
            if better:
                groups[max(better, key=specificity)].extend(groups.pop(code))
    # one condition written twice at two specificities ('chronic diastolic heart failure' in the HPI, 'acute on
    # chronic diastolic heart failure' in the plan): the plan's words win. Not for categories whose codes coexist
    # (diabetes complications E08-E13, sequelae I69, ulcer sites L89/L97).
    addressed = {c for c, items in groups.items() if any(m.section in PLAN_SECTIONS for m, _, _ in items)}
    for code in list(groups):
        if code in addressed or code[:3] in COEXISTING:
            continue
        better = [c for c in addressed if _family(c) == _family(code) and c in groups]
        if better:
            groups[better[0]].extend(groups.pop(code))

    conditions = [_condition(code, items, text) for code, items in groups.items()]
    conditions.sort(key=lambda c: c.start)
    _historical_with_treatment(conditions, raw, text)
    _link_combinations(kb, conditions, fy, payment_year)

    # MEAT
    clauses = clauses_of(text, sections, pipe.rules)
    mention_index = [(m.start, m.end, ci) for ci, c in enumerate(conditions) for m in c.mentions]
    links = link_clauses(text, clauses, mention_index, [[cc.code for cc in c.codes] for c in conditions],
                         [c.assertion == "present" for c in conditions], pipe.rules, sections)
    for ci, clause in links:
        _add_meat(conditions[ci].meat, clause)

    _hccs_of_conditions(kb, conditions, payment_year)
    _support(conditions, text, _hcc_maps(kb, payment_year)["CMS-HCC V28"])
    hccs = _note_hccs(kb, conditions, payment_year)
    score = _score(kb, conditions, payment_year, day, member) if member else None
    return NoteResult(conditions=conditions, hccs=hccs, score=score, code_set=code_set, payment_year=payment_year,
                      date_of_service=day.isoformat(), setting=setting, kb=kb.stamp(),
                      sections=[Span(text=c, start=a, end=b) for c, a, b, _ in sections if c])


def _as_date(value: date | str | None) -> date:
    if value is None or value == "":
        return date.today()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadDate("date_of_service is not a date", field="date_of_service", value=str(value)[:40],
                      fix="YYYY-MM-DD") from None


def _vague(title: str) -> bool:
    t = title.lower()
    return "unspecified" in t or "without complications" in t or t.endswith(" nos")


def _raw_of(m: Mention, raw: list[RawMention]) -> RawMention | None:
    for r in raw:
        if r.start == m.start and r.end == m.end:
            return r
    return None


def _condition(code: str, items: list[tuple[RawMention, list[dict], list[str]]], text: str) -> Condition:
    mentions = [Mention(text=m.text, start=m.start, end=m.end, section=m.section, assertion=m.assertion,
                        trigger=m.trigger) for m, _, _ in items]
    mentions.sort(key=lambda x: x.start)
    present = [x for x in mentions if x.assertion == "present"]
    # main mention: a present one in the assessment/plan, else the first present one, else the first
    main = next((x for x in present if x.section in ("assessment_plan", "hospital_course")), None) or \
        (present[0] if present else mentions[0])
    best = next((res for _, res, _ in items if res[0]["code"] == code), None) or \
        next(res for m, res, _ in items if m.start == main.start and m.end == main.end)
    codes = [CodeChoice(code=best[0]["code"], title=best[0]["title"], why=f"search: {main.text!r}")]
    alternatives = [CodeChoice(code=r["code"], title=r["title"], why="search") for r in best[1:4]]
    queries = sorted({q for _, _, qs in items for q in qs})
    if any(_DM_TYPE.search(m.query) for m, _, _ in items):  # the type is written at one mention at least
        queries = [q for q in queries if not q.startswith("diabetes documented without its type")]
    return Condition(text=main.text, start=main.start, end=main.end, section=main.section, assertion=main.assertion,
                     trigger=main.trigger, mentions=mentions, codes=codes, alternatives=alternatives, hcc=[],
                     meat=Meat(), supported=False, reason="", queries=queries)


def _historical_with_treatment(conditions: list[Condition], raw: list[RawMention], text: str) -> None:
    """'history of hypertension, on lisinopril': a condition written as history with a current treatment in the
    same sentence is present (risk adjustment codes what is treated; AHA Coding Clinic). A cancer so written
    gets a query (history of cancer with active treatment: Z85 or C code, Guidelines I.C.2.d)."""
    for c in conditions:
        if c.assertion != "historical":
            continue
        for m in c.mentions:
            r = _raw_of(m, raw)
            if r is None or m.assertion != "historical" or not _HISTORY_WORDS.search(m.trigger.text if m.trigger
                                                                                    else ""):
                continue
            after = text[r.end:r.sent[1]]
            if _CURRENT_TREAT.search(after):
                m.assertion, c.assertion = "present", "present"
                if c.codes and c.codes[0].code[:1] in ("C", "D", "Z"):
                    c.queries.append("history of cancer with current treatment: ask whether the cancer is still "
                                     "present (C code) or only a history (Z85.-) (ICD-10-CM Guidelines I.C.2.d)")


def _link_combinations(kb: KB, conditions: list[Condition], fy: int, payment_year: int) -> None:
    """Presumed links across the note (ICD-10-CM Guidelines FY2026 I.A.15 and I.C.9.a): the combination code from
    search() on the linked conditions' words."""
    present = [c for c in conditions if c.assertion == "present" and c.codes]
    by_role: dict[str, Condition] = {}
    for c in present:
        role = _role(c.codes[0].code)
        if role and role not in by_role:
            by_role[role] = c
    dm, ckd, htn, hf, ulcer = (by_role.get(r) for r in ("diabetes", "ckd", "hypertension", "heart_failure",
                                                       "foot_ulcer"))

    def combine(target: Condition, query: str, prefix: str, replace: bool) -> None:
        results = _search(kb, query, fy, payment_year)
        hit = next((r for r in results if r["code"].startswith(prefix)), None)
        if hit is None or any(cc.code == hit["code"] or (prefix.endswith(".4") and cc.code.startswith(prefix))
                              for cc in target.codes):
            return
        why = "; ".join(results[0].get("notes", [])[:1]) or "combination (ICD-10-CM Guidelines I.A.15, I.C.9.a)"
        choice = CodeChoice(code=hit["code"], title=hit["title"], why=why)
        if replace:
            target.alternatives.insert(0, target.codes[0])
            target.codes[0] = choice
        else:
            target.codes.append(choice)

    _fold_dementia(kb, conditions, present, fy)
    for role, (words, suffix) in FOLD_INTO_DIABETES.items():
        other = by_role.get(role)
        if dm is None or other is None or dm.codes[0].code[:3] == "E08":
            continue
        dm_type = "type 1 diabetes" if dm.codes[0].code.startswith("E10") else "type 2 diabetes"
        combine(dm, f"{dm_type} {words}", dm.codes[0].code[:3] + suffix, replace=_vague(dm.codes[0].title))
        if any(cc.code.startswith(dm.codes[0].code[:3] + suffix) for cc in dm.codes):
            dm.mentions = sorted(dm.mentions + other.mentions, key=lambda m: m.start)
            conditions.remove(other)
    ckd_words = ckd.codes[0].title.lower() if ckd else ""
    if dm and ckd and dm.codes[0].code[4:5] != "2" and dm.codes[0].code[:3] != "E08":
        dm_type = "type 1 diabetes" if dm.codes[0].code.startswith("E10") else "type 2 diabetes"
        combine(dm, f"{dm_type} with chronic kidney disease", dm.codes[0].code[:3] + ".22",
                replace=_vague(dm.codes[0].title))
    if dm and ulcer:
        combine(dm, "type 2 diabetes with foot ulcer", dm.codes[0].code[:3] + ".621", replace=_vague(dm.codes[0].title))
    if htn:
        if hf and ckd:
            combine(htn, f"hypertension with heart failure and {ckd_words}", "I13", replace=True)
        elif ckd:
            combine(htn, f"hypertension with {ckd_words}", "I12", replace=True)
        elif hf:
            combine(htn, "hypertension with heart failure", "I11.0", replace=True)


# Diseases whose dementia is coded F02.- after them (ICD-10-CM Alphabetic Index 'Dementia, in (due to)';
# Tabular F02 'Code first the underlying physiological condition'), by code prefix.
DEMENTIA_CAUSES = ("G30", "G31.0", "G31.83", "G20", "G10", "G35", "B20")


def _fold_dementia(kb: KB, conditions: list[Condition], present: list[Condition], fy: int) -> None:
    """'Alzheimer's dementia' / 'dementia due to Alzheimer's disease': the dementia (coded F03.- alone) folds into
    the underlying disease's condition as F02.- of the same severity and behaviour (F03.911 -> F02.811), the
    disease's code first (Tabular F02 'Code first'; Guidelines I.A.13 etiology/manifestation)."""
    cause = next((c for c in present if c.codes and c.codes[0].code.startswith(DEMENTIA_CAUSES)), None)
    if cause is None:
        return
    for c in [c for c in present if c.codes and c.codes[0].code.startswith("F03.") and c in conditions]:
        rest = c.codes[0].code[4:]
        code = "F02." + ("8" if rest[:1] == "9" else rest[:1]) + rest[1:]
        rows = kb.query("SELECT code_dotted, title FROM codes WHERE code_set = ? AND code = ? AND billable",
                        [f"FY{fy}", undot(code)])
        if not rows:
            continue
        if not any(cc.code.startswith("F02") for cc in cause.codes):
            cause.codes.append(CodeChoice(code=rows[0]["code_dotted"], title=rows[0]["title"],
                                          why=f"dementia due to {cause.codes[0].code} (Index 'Dementia, in'; "
                                              "Tabular F02 code first the underlying condition)"))
        cause.mentions = sorted(cause.mentions + c.mentions, key=lambda m: m.start)
        for e in ELEMENTS:
            getattr(cause.meat, e).extend(getattr(c.meat, e))
        conditions.remove(c)


def _add_meat(meat: Meat, clause: Clause) -> None:
    spans = getattr(meat, clause.element)
    if not any(s.start == clause.start and s.end == clause.end for s in spans):
        spans.append(Span(text=clause.text, start=clause.start, end=clause.end))
        spans.sort(key=lambda s: s.start)


def _hcc_maps(kb: KB, payment_year: int) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """{model: {undotted code: [(cc, label)]}} for the payment year: V28, and V24 in PY2025 (the last blend year:
    CMS 2025 Rate Announcement, 67% V28 + 33% V24)."""
    models = ["CMS-HCC V28"] + (["CMS-HCC V24"] if payment_year == 2025 else [])

    def build() -> dict[str, dict[str, list[tuple[str, str]]]]:
        out: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for model in models:
            rows = kb.query(
                "SELECT d.code, d.cc, min(l.label) AS label FROM dx_to_cc d LEFT JOIN hcc_labels l "
                "ON l.model = d.model AND l.cc = d.cc WHERE d.model = ? AND d.payment_year = ? GROUP BY 1, 2",
                [model, payment_year])
            m: dict[str, list[tuple[str, str]]] = {}
            for r in rows:
                m.setdefault(r["code"], []).append((r["cc"], r["label"] or ""))
            out[model] = m
        return out

    return kb.memo(("notes.hcc", payment_year), build)


def _hccs_of_conditions(kb: KB, conditions: list[Condition], payment_year: int) -> None:
    maps = _hcc_maps(kb, payment_year)
    for c in conditions:
        if c.assertion != "present":
            continue
        for model, m in maps.items():
            for cc in c.codes:
                for hcc, label in m.get(undot(cc.code), []):
                    if not any(h.model == model and h.hcc == hcc for h in c.hcc):
                        c.hcc.append(HccRef(model=model, hcc=hcc, label=label))


def _support(conditions: list[Condition], text: str, v28: dict[str, list[tuple[str, str]]]) -> None:
    """supported + reason, and the provider queries of vague documentation."""
    has_bmi = bool(_BMI.search(text))
    for c in conditions:
        elements = [e for e in ELEMENTS if getattr(c.meat, e)]
        code = c.codes[0].code if c.codes else ""
        if c.assertion != "present":
            trig = f" ({c.trigger.text!r})" if c.trigger else ""
            c.supported, c.reason = False, f"{c.assertion}{trig}: not a current condition of the patient"
        elif not elements:
            listing = all(m.section in LISTING_SECTIONS for m in c.mentions if m.assertion == "present")
            c.supported = False
            c.reason = ("only listed (past medical history / problem list / diagnoses): no MEAT in this encounter"
                        if listing else "no MEAT evidence in this encounter")
        else:
            c.supported = True
            c.reason = "MEAT: " + ", ".join(elements)
        if code == "N18.9":
            c.queries.append("CKD without a stage: ask for the stage (N18.1-N18.6; stages 3a, 3b, 4, 5 and ESRD map "
                             "to HCCs)")
        elif code == "N18.30":
            c.queries.append("CKD stage 3 without 3a/3b: ask which (N18.31 or N18.32)")
        elif code in ("I50.9", "I50.20", "I50.30", "I50.40"):
            c.queries.append("heart failure without type or acuity: ask for systolic/diastolic/combined and "
                             "acute/chronic (I50.2x-I50.4x)")
        elif code in ("E66.01", "E66.2") and not has_bmi:
            c.queries.append("morbid obesity without a BMI: ask for the BMI (Z68.35-Z68.45) that supports it")
        elif code in ("F32.9", "F32.A"):
            c.queries.append("depression without episode and severity: ask for major depressive disorder, single or "
                             "recurrent, and its severity (F32.0-F33.9)")
        richer = [a.code for a in c.alternatives if a.code[:3] == code[:3] and undot(a.code) in v28]
        if c.supported and not c.hcc and richer:
            c.reason += f"; specificity too low for an HCC ({', '.join(richer)} would map to one)"


def _hierarchy(kb: KB, model: str, payment_year: int) -> list[dict]:
    """[{cc_parent, cc_child}] of the model's hierarchy table of the latest year up to the payment year (cached)."""

    def load() -> list[dict]:
        years = kb.query("SELECT max(table_year) AS y FROM hierarchies WHERE model = ? AND table_year <= ?",
                         [model, payment_year])
        year = years[0]["y"] if years else None
        return kb.query("SELECT cc_parent, cc_child FROM hierarchies WHERE model = ? AND table_year = ?",
                        [model, year]) if year else []

    return kb.memo(("notes.hierarchy", model, payment_year), load)


def _note_hccs(kb: KB, conditions: list[Condition], payment_year: int) -> list[NoteHcc]:
    """Supported HCCs after hierarchies across the whole note (KB `hierarchies`, CMS model software table of the
    latest year up to the payment year), then the candidates with their reasons."""
    out: list[NoteHcc] = []
    for model in _hcc_maps(kb, payment_year):
        pairs = _hierarchy(kb, model, payment_year)
        found: dict[str, NoteHcc] = {}
        for c in conditions:
            for h in c.hcc:
                if h.model != model:
                    continue
                item = found.setdefault(h.hcc, NoteHcc(model=model, hcc=h.hcc, label=h.label, supported=False))
                item.codes.extend(cc.code for cc in c.codes if cc.code not in item.codes)
                if c.supported:
                    item.supported = True
                elif not item.supported and not item.reason:
                    item.reason = c.reason
        supported = {k for k, v in found.items() if v.supported}
        for p in pairs:
            if p["cc_parent"] in supported and p["cc_child"] in supported:
                found[p["cc_child"]].supported = False
                found[p["cc_child"]].reason = f"dropped by the hierarchy: HCC {p['cc_parent']} is supported"
        out.extend(sorted(found.values(), key=lambda h: (not h.supported, int(h.hcc) if h.hcc.isdigit() else 0)))
    return out


def _score(kb: KB, conditions: list[Condition], payment_year: int, day: date, member: dict) -> dict:
    """The RAF engine's score of the supported codes (raf.request.ScoreRequest, as `hccguide score`)."""
    from hccguide.notes.models import NoteMember
    from hccguide.raf.request import ScoreRequest

    codes = list(dict.fromkeys(cc.code for c in conditions if c.supported for cc in c.codes))
    from pydantic import ValidationError

    from hccguide.raf.request import validation_error

    try:
        fields = NoteMember.model_validate(member).score_fields()  # drops identifiers and unknown keys
    except ValidationError as exc:
        err = validation_error(exc.errors(include_url=False))
        err.field = f"member.{err.field}" if err.field else "member"
        raise err from None
    data = {**fields, "payment_year": payment_year, "dx": codes}
    if day.year == payment_year - 1:
        data.setdefault("date_of_service", day)
    result = ScoreRequest.parse(data).score(kb)
    return result.to_dict()
