"""Documentation checklist: what the note must state for a code to be supported and as specific as it can be,
each item naming the rule it comes from (issue 17, item 2).

Items come from, in this order:

1. the diagnosis itself (ICD-10-CM Official Guidelines I.A.19: code assignment rests on the provider's statement);
2. each axis found in the code's title (codes/data/axes.csv: side, cause or mechanism, acuity, type, stage,
   episode of care, organism, ...), with the codes that carry another value of that axis (`confused.axis_neighbours`);
3. the unspecified/specified siblings: an 'unspecified X' title says what naming X gives (M86.50 -> M86.51-M86.59),
   a specified code says which unspecified code an unstated detail falls back to (M87.352 -> M87.353);
4. the detail that only the code characters carry (site and the like): the neighbours that differ in it;
5. the instructional notes the code carries or inherits (`notes.rule_notes`): Use additional code (document what the
   extra code identifies: the organism for B95-B97, a major osseous defect for M89.7-), Code first (the
   underlying condition), Code also, Excludes1 (rule the excluded condition out) and Excludes2 (state whether the
   other condition is present: it is coded separately);
6. the 7th character a header needs (Guidelines I.A.5 / the code's sevenChrDef);
7. the HCC status: a payment HCC needs MEAT in a face-to-face (or qualifying telehealth) encounter with an
   acceptable provider in the data collection year (CMS risk adjustment data validation).

Every item: {topic, document, rule, codes}; `codes` lists the dotted codes the item names, each existing in the
code set of the page.
"""

from __future__ import annotations

import re
from functools import cache

from hccguide.codes.meat import axis_labels, axis_values, load_axes, word_difference

_TO_IDENTIFY = re.compile(
    r"\b(?:to identify|for)\s+(?:the\s+|any\s+)?(.+?)(?:,?\s+if (?:applicable|known|present))?\s*(?:\(|$)"
)
_PARENS = re.compile(r"\s*\([^)]*\)")


def _topic_of_note(text: str) -> str:
    """'code (B95-B97) to identify infectious agent' -> 'infectious agent'; 'vertebra (M46.2-)' -> 'vertebra'."""
    match = _TO_IDENTIFY.search(text)
    if match:
        return match.group(1).strip(" ,.:")
    plain = _PARENS.sub("", text).strip(" ,.:")
    if ":" in plain:
        plain = plain.split(":")[-1].strip() or plain
    return plain[:80] or text[:80]


@cache
def _unspecified_part(title: str) -> str | None:
    """The comma part of a title that says 'unspecified' ('unspecified site'), without the word itself."""
    for part in title.split(","):
        lowered = part.strip().lower()
        if "unspecified" in lowered:
            rest = re.sub(r"\bunspecified\b", "", lowered).strip()
            return rest or "detail left unspecified"
    return None


def _fmt_range(codes: list[str]) -> str:
    return codes[0] if len(codes) == 1 else f"{codes[0]}–{codes[-1]}"


GROUP_NOTES_OVER = 4
_GROUP_WORDING = {
    "excludes1": (
        "excluded conditions (Excludes1)",
        "that the condition is none of these, each coded instead and never together: {items}",
        "Excludes1 notes at {where} (Guidelines I.A.12.a)",
    ),
    "excludes2": (
        "conditions coded separately (Excludes2)",
        "whether any of these is present, each not part of {code} and coded separately (both may be coded): {items}",
        "Excludes2 notes at {where} (Guidelines I.A.12.b)",
    ),
    "code_first": (
        "underlying condition",
        "the underlying condition, coded and sequenced first: {items}",
        "Code first notes at {where} (Guidelines I.A.13)",
    ),
    "code_also": (
        "conditions coded also",
        "whether any of these is present, coded as well: {items}",
        "Code also notes at {where}",
    ),
}


def _grouped_item(code: str, key: tuple[str, str], notes: list[dict]) -> dict:
    """One checklist item for the many notes of one type printed at one place."""
    origin, kind = key
    where = "this code" if notes[0]["own"] else origin
    topic, document, rule = _GROUP_WORDING[kind]
    return {
        "topic": topic,
        "document": document.format(code=code, items="; ".join(n["text"] for n in notes)),
        "rule": rule.format(where=where),
        "codes": list(dict.fromkeys(c for n in notes for c in n["codes"])),
    }


def documentation_checklist(
    row: dict,
    siblings: list[dict],
    rules: list[dict],
    neighbours: list[dict],
    hcc: list[dict],
    payment_year: int,
    seventh: dict | None,
) -> list[dict]:
    """The checklist of a code `row` (KB `codes` row) from its siblings ({code, title, billable}), the notes that
    apply (`notes.rule_notes`), its axis neighbours (`confused.axis_neighbours`), its HCC entries (`hcc.hcc_entries`
    for `payment_year`) and its 7th-character definition (`notes.seventh_characters`).

    Returns [{topic, document, rule, codes}], never empty (the diagnosis itself is always item 1)."""
    code, title = row["code_dotted"], row["title"]
    labels = axis_labels()
    axes = {a.name: a for a in load_axes()}
    items: list[dict] = [
        {
            "topic": "diagnosis",
            "document": f"the diagnosis as the provider states it: {title}",
            "rule": "ICD-10-CM Official Guidelines I.A.19: code assignment is based on the provider's diagnostic "
            "statement",
            "codes": [code],
        }
    ]
    # 2. axes of the title, with the codes carrying another value of the axis
    for name, value in axis_values(title).items():
        others = [n for n in neighbours if labels[name] in n["axes"]][:6]
        alternatives = "; ".join(n["difference"].split(": ", 1)[0] for n in others)
        items.append(
            {
                "topic": labels[name],
                "document": axes[name].must_document.format(value=value)
                + (f" (another {labels[name]} is another code: {alternatives})" if others else ""),
                "rule": f"title axis '{name}' (codes/data/axes.csv) in the title of {code}",
                "codes": [n["code"] for n in others],
            }
        )
    # 3. unspecified / specified siblings
    unspecified = _unspecified_part(title) if row["parent"] else None
    parent = row["parent"] and f"{row['parent'][:3]}.{row['parent'][3:]}".rstrip(".")
    if unspecified:
        specified = [s for s in siblings if "unspecified" not in s["title"].lower()]
        if specified:
            named = [s["code"] for s in specified]
            items.append(
                {
                    "topic": unspecified,
                    "document": f"the {unspecified}: not stated → {code}; stated → {_fmt_range(named)} "
                    f"({', '.join(s['title'].split(',')[-1].strip() for s in specified[:8])}"
                    f"{', ...' if len(specified) > 8 else ''})",
                    "rule": f"unspecified/specified siblings under {parent} (tabular; Guidelines I.B.18: an "
                    "unspecified code only when the record allows no more detail)",
                    "codes": [named[0], named[-1]] if len(named) > 1 else named,
                }
            )
    else:
        for sib in siblings:
            part = _unspecified_part(sib["title"])
            if part is None:
                continue
            mine, _ = word_difference(title, sib["title"])
            items.append(
                {
                    "topic": f"{' '.join(mine) or part} (specified)",
                    "document": f"'{' '.join(mine) or title}' as the provider states it; without it the code is "
                    f"{sib['code']} ({sib['title']})",
                    "rule": f"unspecified sibling {sib['code']} under {parent} (tabular; Guidelines I.B.18)",
                    "codes": [sib["code"]],
                }
            )
            break
    # 4. detail carried only by the code characters (site and the like)
    by_position: dict[int, list[dict]] = {}
    for n in neighbours:
        if not n["axes"] and n["position"]:
            by_position.setdefault(n["position"], []).append(n)
    for position, group in sorted(by_position.items()):
        mine, _ = word_difference(title, group[0]["title"])
        if not mine or (unspecified and "unspecified" in mine):
            continue
        shown = group[:5]
        if any(i["topic"] == " ".join(mine) for i in items):
            continue
        items.append(
            {
                "topic": " ".join(mine),
                "document": f"'{' '.join(mine)}' as stated; another value is another code: "
                + "; ".join(n["difference"].replace(" (this code)", "") for n in shown),
                "rule": f"character {position} of {code} (codes of the same category differing only there)",
                "codes": [n["code"] for n in shown],
            }
        )
    # 5. instructional notes: one item per note, or one per (origin, type) when an origin prints more than
    # GROUP_NOTES_OVER notes of a type (A41's fourteen Excludes2 lines would drown the checklist)
    counts: dict[tuple[str, str], int] = {}
    for note in rules:
        counts[(note["from"], note["type"])] = counts.get((note["from"], note["type"]), 0) + 1
    grouped: dict[tuple[str, str], list[dict]] = {}
    for note in rules:
        key = (note["from"], note["type"])
        if counts[key] > GROUP_NOTES_OVER and note["type"] != "use_additional_code":
            grouped.setdefault(key, []).append(note)
            if len(grouped[key]) == 1:
                items.append({"group": key})  # placeholder, filled below
            continue
        where = "this code" if note["own"] else note["from"]
        kind = note["type"]
        topic = _topic_of_note(note["item"])
        refs = ", ".join(note["refs"]) or "see the note"
        if kind == "use_additional_code":
            document = f"the {topic}: it is reported with an additional code ({refs})"
            rule = f"Use additional code note at {where}: '{note['text']}' (Guidelines I.A.13)"
        elif kind == "code_first":
            topic = "underlying condition"
            document = f"the underlying condition ({note['text']}): it is coded and sequenced first"
            rule = f"Code first note at {where} (Guidelines I.A.13, etiology/manifestation)"
        elif kind == "code_also":
            document = f"whether {topic} is present: it is coded as well ({refs})"
            rule = f"Code also note at {where}: '{note['text']}'"
        elif kind == "excludes1":
            document = f"that the condition is not {note['text']}: that is coded instead ({refs}), never together"
            rule = f"Excludes1 note at {where} (Guidelines I.A.12.a)"
        else:
            document = (
                f"whether there is {note['text']}: it is not part of {code} and is coded separately ({refs}); "
                "both may be coded"
            )
            rule = f"Excludes2 note at {where} (Guidelines I.A.12.b)"
        items.append({"topic": topic, "document": document, "rule": rule, "codes": list(note["codes"])})
    for i, item in enumerate(items):
        if "group" in item:
            items[i] = _grouped_item(code, item["group"], grouped[item["group"]])
    # 6. a header needing a 7th character
    if seventh and row["level"] != "extension" and seventh.get("characters"):
        chars = ", ".join(f"{c['character']} ({c['meaning']})" for c in seventh["characters"][:8])
        items.append(
            {
                "topic": "7th character",
                "document": f"what the 7th character encodes (episode of care and the like): {chars}",
                "rule": f"7th characters defined at {seventh['from']} (Guidelines I.A.5)",
                "codes": [],
            }
        )
    # 7. HCC status
    for entry in hcc:
        if entry["mapped"] and entry["model"] in ("CMS-HCC V28", "CMS-HCC V24"):
            items.append(
                {
                    "topic": "HCC support (MEAT)",
                    "document": "that the condition was monitored, evaluated, assessed or treated (MEAT) in a "
                    "face-to-face or qualifying telehealth encounter with an acceptable provider during calendar "
                    f"year {payment_year - 1} (the data collection year of payment year {payment_year}); a problem "
                    "list alone does not support it",
                    "rule": f"{entry['model']} {entry['hcc']} ({entry['label']}) for payment year {payment_year} "
                    f"(CMS ICD-10 to HCC mapping of that payment year); CMS risk adjustment data validation",
                    "codes": [],
                }
            )
            break
    return items
