"""The condition lexicon: which words of a note name a condition. Built from the KB and the search module's data,
not from a hand list (docs/notes.md):

- tabular titles and inclusion terms (KB `codes`, `notes` note_type 'inclusion_term') of the code set, chapters 1-17
  (A00-Q99: diseases; not R symptoms, S-T injuries, V-Y external causes or Z factors), cleaned of 'unspecified',
  'NOS' and parentheses, 1-7 words, without 'other', 'elsewhere', 'classified' or 'specified';
- `search/synonyms.csv` terms (abbreviations, lay and old terms) whose expansion is a lexicon phrase or a phrase of
  two words or more ending with the head word of one ('chf' -> 'congestive heart failure'), and those expansions;
- `search/conditions.csv` phrases (the conditions of the combination rules);
- minus `notes/rules/lexicon_exclude.csv` (term, comment): ambiguous words ('ra' is also room air, 'cm' a length).

`Lexicon.phrases` maps a lower-case phrase to the dotted billable code whose title or inclusion term it is (None
when it names a header or comes from a synonym): a hint the coder uses when the mention is exactly that phrase.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hccguide.errors import SourceError
from hccguide.icd10 import dot
from hccguide.kb.open import KB

_PAREN = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
_DROP = re.compile(r"(,\s*unspecified\b[^,]*|\bunspecified\s+|,?\s*\b(nos|not otherwise specified)\b)", re.IGNORECASE)
_SKIP_WORDS = frozenset({"other", "elsewhere", "classified", "specified", "unspecified", "certain", "encounter",
                         "personal", "history", "sequela", "subsequent", "initial", "due", "following", "without",
                         "complicating", "affecting", "in", "for", "of"})
_GENERIC = frozenset({"disease", "disorder", "disorders", "syndrome", "failure", "condition", "injury", "lesion",
                      "abnormality", "deficiency", "insufficiency", "infection", "inflammation", "anomaly",
                      "complication", "complications", "dysfunction", "mass", "cyst", "pain", "use", "abuse"})
_QUALIFIERS = frozenset({"type", "stage", "grade", "class", "left", "right", "bilateral", "acute", "chronic"})
MAX_WORDS = 7


@dataclass(frozen=True)
class Lexicon:
    """Phrases (lower case, words separated by one space) -> dotted code hint or None."""

    phrases: dict[str, str | None]
    code_set: str


def clean_title(title: str) -> str | None:
    """A tabular title or inclusion term as a phrase a note would use, or None when it is not one.

    'Diastolic (congestive) heart failure' -> 'diastolic heart failure'; 'Heart failure, unspecified' ->
    'heart failure'; 'Other specified diabetes mellitus' -> None (too general to name a condition in a note)."""
    text = _PAREN.sub("", title)
    text = _DROP.sub("", text).lower().replace(",", " ").replace(";", " ")
    words = text.split()
    if not words or len(words) > MAX_WORDS or any(w in _SKIP_WORDS for w in words):
        return None
    if len(words) == 1 and (len(words[0]) < 5 or words[0] in _GENERIC):
        return None
    if words[-1] in {"and", "or", "with", "to"}:
        return None
    return " ".join(words)


def _excluded() -> set[str]:
    text = resources.files("hccguide.notes").joinpath("rules", "lexicon_exclude.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != ["term", "comment"]:
        raise SourceError("notes/rules/lexicon_exclude.csv: header must be term,comment", field="header",
                          value=reader.fieldnames, fix="first line: term,comment")
    out = set()
    for line, row in enumerate(reader, start=2):
        term = (row.get("term") or "").strip().lower()
        if not term:
            raise SourceError(f"notes/rules/lexicon_exclude.csv line {line}: term is empty", field="term",
                              value=dict(row), fix=f"correct line {line}")
        out.add(term)
    return out


def _search_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("hccguide.search").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def build_lexicon(kb: KB, code_set: str) -> Lexicon:
    """The lexicon of one code set (see the module docstring). About 30,000 phrases; 1-2 s."""
    excluded = _excluded()
    rows = kb.query(
        "SELECT c.code, c.title, c.billable FROM codes c WHERE c.code_set = ? AND c.level <> 'extension' "
        "AND c.code < 'R' ORDER BY c.seq", [code_set])
    incl = kb.query(
        "SELECT n.node AS code, n.text AS title, c.billable FROM notes n JOIN codes c "
        "ON c.code_set = n.code_set AND c.code = n.node WHERE n.code_set = ? AND n.node_kind = 'code' "
        "AND n.note_type = 'inclusion_term' AND n.node < 'R' ORDER BY c.seq, n.seq", [code_set])
    phrases: dict[str, str | None] = {}
    for r in rows + incl:
        phrase = clean_title(r["title"])
        if phrase is not None and phrase not in excluded:
            hint = dot(r["code"]) if r["billable"] else None
            if phrase not in phrases or (phrases[phrase] is None and hint):
                phrases[phrase] = hint
        # the words before the first comma name the condition too ('Pneumonia, unspecified organism')
        head = clean_title(r["title"].split(",")[0])
        if head is not None and head not in excluded and head not in phrases:
            phrases[head] = None
    heads = {p.split()[-1] for p in phrases}
    for row in _search_csv("synonyms.csv"):
        term = " ".join((row.get("term") or "").lower().split())
        expansion = " ".join((row.get("expansion") or "").lower().split())
        if not term or term in excluded or term in phrases or (row.get("kind") or "") == "organism":
            continue
        words = expansion.split()
        if expansion in phrases or (len(words) >= 2 and words[-1] in heads):
            phrases[term] = None
            named = [w for w in words if w.isalpha() and len(w) >= 3 and w not in _QUALIFIERS]
            if len(named) >= 2 and expansion not in phrases and expansion not in excluded:
                phrases[expansion] = None  # 'coronary artery disease', 'gastroesophageal reflux disease'
    for row in _search_csv("conditions.csv"):
        phrase = " ".join((row.get("phrase") or "").lower().split())
        if phrase and phrase not in excluded and phrase not in phrases:
            phrases[phrase] = None
    return Lexicon(phrases, code_set)


def _inputs_digest() -> str:
    """sha256 over what the lexicon is made of besides the KB: this module and its data files."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(resources.files("hccguide.notes").joinpath("rules", "lexicon_exclude.csv").read_bytes())
    for name in ("synonyms.csv", "conditions.csv"):
        h.update(resources.files("hccguide.search").joinpath(name).read_bytes())
    return h.hexdigest()[:16]


def cached_lexicon(kb: KB, code_set: str, tokenize: Callable[[list[str]], list[list[str]]]
                   ) -> tuple[Lexicon, list[list[str]]]:
    """The lexicon and the tokens of each phrase (as `tokenize` splits them), from a JSON file next to the KB
    (`notes-lexicon-<release>-<code set>-<digest>.json`), made once per KB release, code set and data files.
    A cache that cannot be written (read-only folder) is skipped."""
    path = Path(kb.path).parent / f"notes-lexicon-{kb.release_id}-{code_set}-{_inputs_digest()}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Lexicon(data["phrases"], code_set), data["tokens"]
    except (OSError, ValueError, KeyError):
        pass
    lexicon = build_lexicon(kb, code_set)
    tokens = tokenize(list(lexicon.phrases))
    try:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"phrases": lexicon.phrases, "tokens": tokens}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
    return lexicon, tokens
