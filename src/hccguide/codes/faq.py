"""A FAQ generated from the rules, each answer citing the note, table or file it comes from (issue 17, item 3).

The questions are data (codes/data/faq_questions.csv: key, question template, source), validated at load; the
answers are computed here from the code page's parts: the HCC entries (per model, payment year and coefficient),
billable status and the billable codes below a header, one question per Excludes1 target (no) and per Excludes2
target (yes, both may be coded), the Use additional / Code first / Code also notes, the 7th character, the detail
that reaches a more specific code, and the validity per fiscal year with the FY2027 codes that replaced it (CMS
Medicare Code Editor). `faq_json_ld` renders the list as schema.org FAQPage JSON-LD.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources

from hccguide.errors import SourceError

QUESTION_COLUMNS = ["key", "question", "source"]
# key -> placeholders its question may use
QUESTION_KEYS: dict[str, frozenset[str]] = {
    "is_hcc": frozenset({"code"}),
    "billable": frozenset({"code"}),
    "excludes1": frozenset({"code", "target"}),
    "excludes2": frozenset({"code", "target"}),
    "other_codes": frozenset({"code"}),
    "seventh_character": frozenset({"code"}),
    "more_specific": frozenset({"code"}),
    "validity": frozenset({"code", "fiscal_year"}),
}
_PLACEHOLDER = re.compile(r"{([^}]*)}")
MAX_EXCLUDES_QUESTIONS = 12  # per note type; a code rarely carries more


def parse_questions(text: str, source: str = "codes/data/faq_questions.csv") -> dict[str, dict[str, str]]:
    """{key: {question, source}} from the CSV text, validated: the header is QUESTION_COLUMNS, every key of
    QUESTION_KEYS appears exactly once (no other), each question uses only its allowed placeholders and every
    source is non-empty. Raises SourceError naming the line, field and value."""
    rows = list(csv.reader(text.splitlines()))
    if not rows or rows[0] != QUESTION_COLUMNS:
        raise SourceError(
            f"{source}: header must be {','.join(QUESTION_COLUMNS)}",
            field="header",
            value=",".join(rows[0]) if rows else "",
        )
    out: dict[str, dict[str, str]] = {}
    for line, values in enumerate(rows[1:], start=2):
        if not values:
            continue
        if len(values) != 3:
            raise SourceError(f"{source} line {line}: {len(values)} columns, expected 3", field="row", value=values)
        key, question, cited = values
        if key not in QUESTION_KEYS or key in out:
            raise SourceError(
                f"{source} line {line}: unknown or repeated key",
                field="key",
                value=key,
                fix=f"use each of {sorted(QUESTION_KEYS)} once",
            )
        used = set(_PLACEHOLDER.findall(question))
        if not used <= QUESTION_KEYS[key] or "{code}" not in question:
            raise SourceError(
                f"{source} line {line}: question must name {{code}} and use only {sorted(QUESTION_KEYS[key])}",
                field="question",
                value=question,
            )
        if not cited.strip():
            raise SourceError(f"{source} line {line}: source is empty", field="source", value=cited)
        out[key] = {"question": question, "source": cited}
    missing = sorted(set(QUESTION_KEYS) - set(out))
    if missing:
        raise SourceError(f"{source}: questions missing for {missing}", field="key", value=missing)
    return out


@cache
def load_questions() -> dict[str, dict[str, str]]:
    """The validated question templates of codes/data/faq_questions.csv."""
    text = resources.files("hccguide.codes").joinpath("data/faq_questions.csv").read_text(encoding="utf-8")
    return parse_questions(text)


def _entry(
    key: str, answer: str, citations: list[str], codes: list[str], later: list[str] | None = None, **values: object
) -> dict:
    template = load_questions()[key]
    return {
        "key": key,
        "question": template["question"].format(**values),
        "answer": answer,
        "citations": [*citations, template["source"]],
        "codes": codes,
        "later_codes": later or [],
    }


def _hcc_answer(code: str, hcc: list[dict], payment_year: int) -> tuple[str, list[str]]:
    mapped = [e for e in hcc if e["mapped"]]
    payment = [e for e in mapped if e["model"] in ("CMS-HCC V28", "CMS-HCC V24")]
    parts = []
    for e in mapped:
        coefficient = e["coefficients"][0] if e["coefficients"] else None
        value = (
            f", {coefficient['segment_label'].lower()} coefficient {coefficient['value']:g} "
            f"(PY{e.get('coefficient_table_year', payment_year)} table, {coefficient['status']})"
            if coefficient
            else ", no coefficient loaded for this year"
        )
        parts.append(f"{e['model']} {e['hcc']} ({e['label']}){value}")
    unmapped = sorted({e["model"] for e in hcc if not e["mapped"]} - {e["model"] for e in mapped})
    if payment:
        head = f"Yes, for payment year {payment_year}: "
    elif mapped:
        head = f"Not a payment HCC of CMS-HCC V28 or V24 for payment year {payment_year}, but: "
    else:
        head = f"No: {code} maps to no HCC of CMS-HCC V28, V24, ESRD V24 or RxHCC V08 for payment year {payment_year}."
    text = head + "; ".join(parts)
    if mapped and unmapped:
        text += f". Not mapped in {', '.join(unmapped)}"
    citations = [f"cms:ra_dx_to_cc:{payment_year}"] + ([f"cms:ra_coefficients:{payment_year}"] if mapped else [])
    return text + ("." if mapped else ""), citations


def build_faq(
    row: dict,
    rules: list[dict],
    hcc: list[dict],
    payment_year: int,
    descendants: list[dict],
    descendant_count: int,
    siblings: list[dict],
    neighbours: list[dict],
    seventh: dict | None,
    validity: dict,
) -> list[dict]:
    """The FAQ of a code: [{key, question, answer, citations, codes, later_codes}] (`codes`: the dotted codes the
    answer names, each existing in the code set; `later_codes`: codes of a later code set the Medicare Code Editor
    names as replacements, e.g. FY2027 D69.11 for D69.1). Inputs are the parts of the code page: the KB `codes` row, the notes
    that apply (`notes.rule_notes`), the HCC entries for `payment_year`, the billable codes below a header and
    their count, the siblings, the axis neighbours (`confused.axis_neighbours`), the 7th-character definition and
    `kb.validity.validity_of(kb, code)` ({years: [{fiscal_year, valid}], replaced_by: [{fiscal_year, codes}]}).
    Never empty: the HCC, billing, other-code, more-specific and validity questions are always asked."""
    code = row["code_dotted"]
    tabular = f"CDC ICD-10-CM tabular {row['code_set']}"
    faq: list[dict] = []
    answer, citations = _hcc_answer(code, hcc, payment_year)
    faq.append(_entry("is_hcc", answer, citations, [], code=code))
    if row["billable"]:
        answer = f"Yes: {code} is a billable code of {row['code_set']} (no codes below it)."
        named: list[str] = []
    else:
        shown = [d["code"] for d in descendants[:8]]
        answer = (
            f"No: {code} is a header. Report one of the {descendant_count} billable codes below it"
            + (f", e.g. {', '.join(shown)}" if shown else "")
            + "."
        )
        named = shown
    faq.append(_entry("billable", answer, [tabular], named, code=code))
    for kind, verdict in (
        (
            "excludes1",
            "No: an Excludes1 note means the two are never coded together (the condition is coded to {refs} "
            "instead). Exception: when the two conditions are unrelated, both may be coded (Guidelines I.A.12.a).",
        ),
        (
            "excludes2",
            "Yes, when the patient has both: an Excludes2 note means '{text}' is not part of {code}; it is "
            "coded to {refs}, and both codes may be reported together (Guidelines I.A.12.b).",
        ),
    ):
        asked = 0
        for note in rules:
            if note["type"] != kind or not note["refs"] or asked >= MAX_EXCLUDES_QUESTIONS:
                continue
            asked += 1
            where = "this code" if note["own"] else note["from"]
            refs = ", ".join(note["refs"])
            faq.append(
                _entry(
                    kind,
                    verdict.format(refs=refs, text=note["text"], code=code) + f" Note at {where}: '{note['text']}'.",
                    [f"{kind.capitalize()} note at {where}, {tabular}"],
                    list(note["codes"]),
                    code=code,
                    target=f"{refs} ({note['item'].split('(')[0].strip()})",
                )
            )
    others = [n for n in rules if n["type"] in ("use_additional_code", "code_first", "code_also")]
    if others:
        said = {"use_additional_code": "Use additional code", "code_first": "Code first", "code_also": "Code also"}
        lines = [f"{said[n['type']]} ({'this code' if n['own'] else n['from']}): {n['text']}" for n in others]
        answer = "Yes. " + "; ".join(lines) + "."
        named = [c for n in others for c in n["codes"]]
        citations = [f"{said[n['type']]} note at {'this code' if n['own'] else n['from']}, {tabular}" for n in others]
    else:
        answer = f"No instructional note on {code}, its categories, block or chapter asks for another code."
        named, citations = [], [tabular]
    faq.append(_entry("other_codes", answer, citations, list(dict.fromkeys(named)), code=code))
    if seventh and seventh.get("characters"):
        chars = "; ".join(f"{c['character']}: {c['meaning']}" for c in seventh["characters"])
        if row["level"] == "extension":
            answer = f"{code} already carries 7th character {seventh['this_code']}. The characters defined at {seventh['from']}: {chars}."
        else:
            answer = (
                f"One of those defined at {seventh['from']} (fill empty positions with the placeholder X): {chars}."
            )
        faq.append(
            _entry("seventh_character", answer, [f"7th characters at {seventh['from']}, {tabular}"], [], code=code)
        )
    faq.append(_more_specific(row, siblings, descendants, descendant_count, neighbours, tabular))
    faq.append(_validity(code, validity))
    return faq


def _more_specific(
    row: dict, siblings: list[dict], descendants: list[dict], count: int, neighbours: list[dict], tabular: str
) -> dict:
    code = row["code_dotted"]
    if not row["billable"]:
        shown = [d["code"] for d in descendants[:8]]
        answer = f"{code} is a header: the detail its {count} billable codes add (e.g. {', '.join(shown)}) is required."
        return _entry("more_specific", answer, [tabular], shown, code=code)
    if "unspecified" in row["title"].lower():
        specified = [s for s in siblings if "unspecified" not in s["title"].lower()][:8]
        if specified:
            answer = (
                "Naming what the title leaves unspecified: "
                + "; ".join(f"{s['code']} ({s['title']})" for s in specified)
                + "."
            )
            return _entry("more_specific", answer, [tabular], [s["code"] for s in specified], code=code)
    named = [n for n in neighbours if n["axes"] and n["billable"]][:5]
    if named:
        answer = (
            f"{code} is as specific as its title reads; another value of one axis is another code: "
            + "; ".join(n["difference"].replace(" (this code)", "") for n in named)
            + "."
        )
        return _entry("more_specific", answer, [tabular], [n["code"] for n in named], code=code)
    answer = f"None: {code} is a billable code with no more specific code below or beside it."
    return _entry("more_specific", answer, [tabular], [], code=code)


def _validity(code: str, validity: dict) -> dict:
    years = validity.get("years", [])
    newest = max((y["fiscal_year"] for y in years), default=None)
    valid = [y["fiscal_year"] for y in years if y["valid"]]
    replaced = {r["fiscal_year"]: r["codes"] for r in validity.get("replaced_by", [])}
    if newest is None:
        answer = (
            f"The CMS Medicare Code Editor tables loaded hold no row for {code} (a header is never valid on a claim)."
        )
        return _entry("validity", answer, [], [], code=code, fiscal_year="2027")
    ok = next(y["valid"] for y in years if y["fiscal_year"] == newest)
    spans = ", ".join(f"FY{y}" for y in valid) or "no loaded fiscal year"
    answer = f"{'Yes' if ok else 'No'}: the Medicare Code Editor accepts {code} in {spans}."
    if newest in replaced:
        answer += f" In FY{newest} it is replaced by {', '.join(replaced[newest])}."
    elif not ok:
        answer += f" No FY{newest} replacement is listed."
    return _entry("validity", answer, [], [], list(replaced.get(newest, [])), code=code, fiscal_year=newest)


def faq_json_ld(faq: list[dict]) -> dict:
    """schema.org FAQPage JSON-LD of a FAQ: {"@context", "@type": "FAQPage", "mainEntity": [Question ...]}."""
    return {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": q["question"],
                "acceptedAnswer": {"@type": "Answer", "text": f"{q['answer']} Source: {'; '.join(q['citations'])}."},
            }
            for q in faq
        ],
    }
