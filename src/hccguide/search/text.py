"""Text normalisation shared by the index and the query: one tokenizer, so both sides agree.

`tokens("Alzheimer's disease, late onset")` -> ['alzheimer', 'disease', 'late', 'onset']: lower case, possessive
"'s" dropped, split on anything not a letter or digit, a light plural stemmer (ulcers -> ulcer, injuries -> injury;
words ending in -ss, -us, -is are kept: mellitus, sepsis). Spelling variants from synonyms.csv (kind 'variant',
e.g. haemorrhage -> hemorrhage, diabetic -> diabetes) are applied by the caller on both sides.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")
_POSSESSIVE = re.compile(r"(\w)'s\b")

# Words that carry no meaning for matching (never counted for or against a code).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "its",
        "this",
        "that",
    ]
)
# Words that a title uses to say "no further detail": not held against a code the query did not specify.
# 'nonrheumatic' and 'uncomplicated' state the default reading, like a 'without' clause.
FILLER = frozenset(
    [
        "unspecified",
        "nos",
        "other",
        "specified",
        "elsewhere",
        "classified",
        "not",
        "site",
        "part",
        "type",
        "encounter",
        "uncomplicated",
        "nonrheumatic",
    ]
)
_RANGE = re.compile(r"\b(\d{1,3})(?:\.\d)?\s*-\s*(\d{1,3})(?:\.\d)?\b")
_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def stem(word: str) -> str:
    """Light plural stemmer: 'ulcers' -> 'ulcer', 'injuries' -> 'injury'; short words and -ss/-us/-is kept."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ys")):
        return word[:-1]
    return word


def raw_tokens(text: str) -> list[str]:
    """Lower-cased words of `text`, possessives dropped, not stemmed."""
    lowered = _POSSESSIVE.sub(r"\1", text.lower().replace("\u2019", "'"))
    return _WORD.findall(lowered)


def range_tokens(text: str) -> list[str]:
    """Whole numbers inside a printed range, so that 'BMI 42' finds 'Body mass index [BMI] 40.0-44.9, adult':
    '40.0-44.9' -> ['40', '41', '42', '43', '44'] (ranges of at most 20 numbers)."""
    out: list[str] = []
    for low, high in _RANGE.findall(text):
        a, b = int(low), int(high)
        if a < b <= a + 20:
            out.extend(str(n) for n in range(a, b + 1))
    return out


def tokens(text: str, variants: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """Normalised tokens of `text`: raw tokens, spelling variants replaced (before stemming), then stemmed."""
    out: list[str] = []
    for word in raw_tokens(text):
        replaced = variants.get(word) if variants else None
        if replaced:
            out.extend(stem(w) for w in replaced)
        else:
            out.append(stem(word))
    return out


def content_tokens(text: str, variants: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """The tokens of a title that a query should explain. Not counted: stopwords and filler, words in parentheses
    or brackets (the tabular's nonessential modifiers), the word after a clause-opening 'unspecified' past the
    first comma ('Pneumonia, unspecified organism'; a clause 'unspecified whether ...' / 'unspecified as ...' is
    negated as a whole: '..., unspecified whether with hypoxia or hypercapnia'), and
    the words from 'without' or 'not' up to a 'with' or the end of the clause ('without complications', 'not having
    achieved remission': an absence is the default reading; 'without delta-agent with hepatic coma' keeps 'hepatic
    coma'; 'without foreign body of scalp' keeps 'scalp').

    'Essential (primary) hypertension' -> ['essential', 'hypertension'];
    'Type 2 diabetes mellitus without complications' -> ['2', 'diabete', 'mellitus'].
    """
    return name_parts(text, variants)[0]


def name_parts(text: str, variants: dict[str, tuple[str, ...]] | None = None) -> tuple[list[str], list[str]]:
    """(content tokens as in `content_tokens`, negated tokens): the words of the 'without ...' / 'not ...'
    clauses, which should not match a query that does not itself say 'without', 'not' or 'no'."""
    out: list[str] = []
    negated: list[str] = []
    for n, clause in enumerate(re.split(r"[,;]", _RANGE.sub(" ", _PAREN.sub(" ", text)))):
        words = tokens(clause, variants)
        if n > 0 and words[:1] == ["unspecified"]:
            if len(words) > 1 and words[1] in ("whether", "as"):
                # '..., unspecified whether with hypoxia or hypercapnia', '..., unspecified as acute or chronic':
                # the clause names what is NOT stated, like a 'without' clause
                negated.extend(w for w in words[2:] if w not in STOPWORDS)
                continue
            # 'Pneumonia, unspecified organism' drops 'organism'; 'Cystitis, unspecified without hematuria' keeps
            # its 'without' clause
            words = words[1:] if words[1:2] and words[1] in ("without", "not", "with") else words[2:]
        inside = False
        k = 0
        while k < len(words):
            w = words[k]
            if w in ("without", "not"):
                inside = True
                if words[k + 1 : k + 4] == ["foreign", "body", "of"]:  # 'Laceration without foreign body of
                    negated.extend(("foreign", "body"))  # scalp': only the foreign body is negated
                    inside = False
                    k += 4
                    continue
            elif w == "with":  # 'Acute hepatitis B without delta-agent with hepatic coma': 'with' ends the clause
                inside = False
            elif inside:
                if w not in STOPWORDS:
                    negated.append(w)
            elif w not in STOPWORDS and w not in FILLER:
                out.append(w)
            k += 1
    return out, negated
