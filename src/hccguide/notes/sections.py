"""Sentences and sections of a note (spaCy blank English + medspaCy Sectionizer with our rules).

Sentences: a newline-aware splitter (PyRuSH logs every token at DEBUG and costs most of the time; measured in
docs/notes.md). A line break starts a sentence unless the line before ends in a lower-case word or a comma and the
next line starts in lower case (a hard-wrapped sentence); '.', '?', '!' and ';' end a sentence when the next token
starts with a capital letter, a digit or a bullet.

Sections: medspaCy's Sectionizer with the headers of notes/rules/sections.csv only (its default rules have no SOAP
headers and no Review of Systems), each header at the start of a line and followed by ':' or the end of the line.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from hccguide.notes.rules import SectionHeader

# Sections whose conditions are listed, not addressed: a condition only there has no MEAT in this encounter.
LISTING_SECTIONS = frozenset({"pmh", "psh", "problem_list", "medications", "family_history", "social_history",
                              "allergies", "discharge_diagnoses", "chief_complaint", "health_maintenance", "ros"})
# Sections where this encounter's evidence is written.
ENCOUNTER_SECTIONS = frozenset({None, "hpi", "subjective", "exam", "objective", "results", "assessment_plan",
                                "hospital_course", "follow_up"})
_ENDERS = frozenset({".", "?", "!", ";"})
_BULLETS = frozenset({"-", "*", "•", "#", "+"})


def split_sentences(doc: Doc) -> Doc:
    """Set the sentence starts of every token (see the module docstring), in one array write. Returns the doc."""
    import numpy as np
    from spacy.attrs import SENT_START

    flags = np.full(len(doc), -1, dtype="int64")  # spaCy: 1 starts a sentence, -1 does not
    prev_word = None
    before = None
    for i, tok in enumerate(doc):
        text = tok.text
        start = i == 0
        if before is not None:
            if before.is_space and "\n" in before.text:
                start = not (prev_word is not None and (prev_word.text == "," or prev_word.is_lower) and tok.is_lower)
            elif before.text in _ENDERS and not tok.is_space:
                start = text[:1].isupper() or text[:1].isdigit() or text in _BULLETS or tok.is_punct
        if start:
            flags[i] = 1
        if not tok.is_space:
            prev_word = tok
        before = tok
    if len(doc):
        doc.from_array([SENT_START], flags.view("uint64").reshape(-1, 1))  # spaCy's arrays are uint64
    return doc


def section_rules(headers: tuple[SectionHeader, ...], nlp: Language) -> list:
    """medspaCy SectionRules for our headers: header tokens (lower case) then ':' — or the end of the line for
    headers of more than one letter."""
    from medspacy.section_detection import SectionRule

    rules = []
    for h in headers:
        words = [{"LOWER": t.lower_} for t in nlp.make_doc(h.header)]
        rules.append(SectionRule(literal=h.header, category=h.category, pattern=[*words, {"ORTH": ":"}]))
        if len(h.header) > 2:
            rules.append(SectionRule(literal=h.header + " (line)", category=h.category,
                                     pattern=[*words, {"TEXT": {"REGEX": r"^\s*\n"}}]))
    return rules
