"""The text face of the CLI: `hccguide code`, `kb info`, `score --explain` and `search` rendered with rich
(readable at 100 columns).

Pure presentation: every value printed comes from the code page dict (docs/code-page.md) or the `kb_info()`
payload; nothing is computed here except layout. Rich markup in KB text is escaped.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

# Tabular note types in the order the CDC tabular prints them: (heading, what it means to a coder). The ONE
# definition: the CLI prints the heading, the web pages (web/pages.py) print "heading (meaning)".
NOTE_HEADINGS: dict[str, tuple[str, str]] = {
    "inclusion_term": ("Inclusion terms", ""),
    "includes": ("Includes", ""),
    "excludes1": ("Excludes1", "never coded together with this code"),
    "excludes2": ("Excludes2", "not included here; both may be coded"),
    "code_first": ("Code first", ""),
    "use_additional_code": ("Use additional code", ""),
    "code_also": ("Code also", ""),
    "notes": ("Notes", ""),
    "seventh_char_note": ("7th character", ""),
}
NOTE_TYPES: dict[str, str] = {kind: heading for kind, (heading, _) in NOTE_HEADINGS.items()}


def hcc_name(ref: dict, entry: dict) -> str:
    """'HCC381' for a hierarchy row {cc|hcc, label} of a code page model entry (the prefix of the entry's own HCC:
    'HCC' for CMS-HCC, 'RxHCC' for RxHCC). The one definition for the CLI and the pages."""
    if ref.get("hcc"):
        return str(ref["hcc"])
    prefix = str(entry.get("hcc") or "HCC").removesuffix(str(entry.get("cc") or ""))
    return f"{prefix}{ref.get('cc')}"


_CORE_MODELS = ("CMS-HCC V28", "CMS-HCC V24")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _brief_list(rows: list[dict], limit: int = 40) -> Text:
    text = Text()
    for i, r in enumerate(rows[:limit]):
        if i:
            text.append("\n")
        text.append(f"{r['code']:<9}", style="bold cyan")
        text.append(str(r.get("title", "")))
        if r.get("billable") is False:
            text.append("  (header)", style="red")
    if len(rows) > limit:
        text.append(f"\n… {len(rows) - limit} more", style="dim")
    return text


def _head(page: dict) -> Panel:
    badge = (
        Text(" BILLABLE ", style="bold white on green")
        if page["billable"]
        else Text(" NOT BILLABLE (header) ", style="bold white on red")
    )
    title = Text.assemble((page["code"], "bold cyan"), "  ", (page["title"], "bold"))
    lines: list[Any] = [title, Text.assemble(badge, f"  {page['level']} · ICD-10-CM {page['code_set']}")]
    crumbs = [f"Chapter {page['chapter']['number']} ({page['chapter']['range']})"] if page.get("chapter") else []
    if page.get("block"):
        crumbs.append(f"Block {page['block']['range']} {page['block']['title']}")
    crumbs += [a["code"] for a in page.get("ancestors", [])]
    lines.append(Text(" › ".join([*crumbs, page["code"]]), style="dim"))
    if page.get("chapter"):
        lines.append(Text(f"Chapter: {page['chapter']['title']}", style="dim"))
    if page.get("code_set_note"):
        lines.append(Text(page["code_set_note"], style="yellow"))
    validity = page.get("validity") or {}
    if validity.get("by_fiscal_year"):
        marks = " · ".join(f"{fy} {'valid' if ok else 'INVALID'}" for fy, ok in validity["by_fiscal_year"].items())
        lines.append(Text(f"CMS MCE: {marks}", style="dim"))
    if validity.get("sex_edit"):
        lines.append(Text(validity["sex_edit"], style="dim"))
    if validity.get("note"):
        lines.append(Text(validity["note"], style="bold red"))
    return Panel(Group(*lines), box=box.ROUNDED, padding=(0, 1))


def _hcc_section(page: dict) -> list[Any]:
    out: list[Any] = []
    py = page["payment_year"]
    core = [e for e in page["hcc"] if e["mapped"] and e["model"] in _CORE_MODELS]
    if page["is_hcc"]:
        names = " and ".join(f"{e['model']} {e['hcc']} ({e['label']})" for e in core)
        answer = Text.assemble(("Yes. ", "bold green"), f"For payment year {py}, {page['code']} maps to {names}.")
    else:
        answer = Text.assemble(
            ("No. ", "bold"), f"For payment year {py}, {page['code']} maps to no payment HCC in CMS-HCC V28 or V24."
        )
    out.append(answer)
    if page.get("hccs_below"):
        below = "; ".join(f"{b['model']} {b['hcc']} ({b['label']}, {b['codes']} codes)" for b in page["hccs_below"])
        out.append(Text(f"Billable codes below this header map to: {below}."))
    if page.get("payment_year_note"):
        out.append(Text(page["payment_year_note"], style="yellow"))

    summary = Table(box=box.SIMPLE_HEAD, title=f"HCC mapping, payment year {py}", title_justify="left", expand=True)
    summary.add_column("Model", no_wrap=True)
    summary.add_column("HCC", no_wrap=True, style="cyan")
    summary.add_column("Label", ratio=1)
    summary.add_column("Chronic", no_wrap=True)
    for e in page["hcc"]:
        chronic = {True: "yes", False: "no"}.get(e.get("is_chronic"), "not listed") if e["mapped"] else ""
        summary.add_row(e["model"], e["hcc"] or "-", Text(e["label"] if e["mapped"] else "not mapped"), chronic)
    out.append(summary)

    for e in page["hcc"]:
        if not e["mapped"]:
            continue
        if e["coefficients"]:
            segments: dict[str, list[dict]] = {}
            for c in e["coefficients"]:
                segments.setdefault(c["segment"], []).append(c)
            table = Table(
                box=box.SIMPLE_HEAD,
                title=f"{e['model']} {e['hcc']}: relative factors, PY{py}",
                title_justify="left",
                expand=False,
            )
            for seg in segments:
                table.add_column(seg.replace("Rx_CE_", ""), justify="right", no_wrap=True)
            cells = []
            for rows in segments.values():
                cell = " / ".join(_fmt(c["value"]) + ("P" if c["status"] == "proposed" else "") for c in rows)
                cells.append(cell)
            table.add_row(*cells)
            out.append(table)
        drops = ", ".join(hcc_name(d, e) for d in e["hierarchy"].get("drops", []))
        dropped_by = ", ".join(hcc_name(d, e) for d in e["hierarchy"].get("dropped_by", []))
        if drops or dropped_by:
            out.append(
                Text(
                    f"  {e['model']} {e['hcc']} hierarchy: drops {drops or 'nothing'}; "
                    f"dropped by {dropped_by or 'nothing'}",
                    style="dim",
                )
            )
    if any(c["status"] == "proposed" for e in page["hcc"] for c in e["coefficients"]):
        out.append(Text("P = proposed (CMS Advance Notice)", style="dim"))
    if any(len({c["variant"] for c in e["coefficients"]}) > 1 for e in page["hcc"]):
        out.append(Text("a / b = two CMS table variants of the same coefficient name", style="dim"))
    return out


def _notes_section(page: dict) -> list[Any]:
    out: list[Any] = []
    own = Table.grid(padding=(0, 1))
    own.add_column(style="bold", no_wrap=True)
    own.add_column(ratio=1)
    for kind, heading in NOTE_TYPES.items():
        for i, text in enumerate(page["notes"].get(kind, [])):
            own.add_row(heading if i == 0 else "", Text(text))
    out.append(Text(f"On {page['code']} itself", style="bold underline"))
    out.append(own if own.row_count else Text("none", style="dim"))
    inherited = Table.grid(padding=(0, 1))
    inherited.add_column(style="bold", no_wrap=True)
    inherited.add_column(ratio=1)
    inherited.add_column(style="dim", no_wrap=True)
    for kind, heading in NOTE_TYPES.items():
        rows = [n for n in page["inherited_notes"] if n["type"] == kind]
        for i, n in enumerate(rows):
            origin = n["from"] if n["from_kind"] == "code" else f"{n['from_kind']} {n['from']}"
            inherited.add_row(heading if i == 0 else "", Text(n["text"]), Text(f"from {origin}"))
    out.append(Text("Inherited from higher levels", style="bold underline"))
    out.append(inherited if inherited.row_count else Text("none", style="dim"))
    return out


def _meat_section(page: dict) -> list[Any]:
    meat = page.get("meat") or {}
    out: list[Any] = []
    for s in meat.get("specificity", []):
        out.append(Text.assemble((f"{s['axis'].replace('_', ' ')}: ", "bold"), f"{s['value']} — {s['must_document']}"))
    for d in meat.get("distinguishing", []):
        out.append(Text(f"• {d}"))
    if meat.get("elements"):
        out.append(Text("  ".join(f"{el['letter']} = {el['name']}" for el in meat["elements"]), style="cyan"))
    for f in meat.get("audit_flags", []):
        out.append(Text(f"! {f}", style="yellow"))
    return out or [Text("none", style="dim")]


def print_code_page(console: Console, page: dict) -> None:
    """Print a code page (the dict of `hccguide.codes.pages.code_page`) as panels and tables.

    Sections: head (code, title, billable badge, breadcrumb, code set note), the billable codes under a header,
    HCC (answer, mapping per model, relative factors per segment, hierarchy), notes (own and inherited with
    their origin), 7th characters, MEAT, commonly confused codes, related codes, release id.
    """
    console.print(_head(page))
    if not page["billable"]:
        body = Text.assemble(
            (f"{page['code']} is a header and cannot be reported. ", "bold red"),
            f"Report one of its {page['billable_descendant_count']} billable codes:\n",
        )
        body.append_text(_brief_list(page["billable_descendants"]))
        console.print(Panel(body, title="Not billable", border_style="red", title_align="left"))
    console.print(Panel(Group(*_hcc_section(page)), title=f"Is {page['code']} an HCC code?", title_align="left"))
    console.print(Panel(Group(*_notes_section(page)), title="Tabular notes", title_align="left"))
    seventh = page.get("seventh_characters")
    if seventh:
        t = Table(box=box.SIMPLE_HEAD, expand=True)
        t.add_column("7th", style="bold cyan", no_wrap=True)
        t.add_column("Meaning", ratio=1)
        for c in seventh["characters"]:
            t.add_row(Text(c["character"]), Text(c["meaning"]))
        console.print(Panel(t, title=f"7th characters (from {seventh['from']})", title_align="left"))
    console.print(Panel(Group(*_meat_section(page)), title="MEAT: what the record must show", title_align="left"))
    if page.get("confused_codes"):
        t = Table(box=box.SIMPLE_HEAD, expand=True)
        t.add_column("Code", style="bold cyan", no_wrap=True)
        t.add_column("Title", ratio=3)
        t.add_column("Difference", ratio=2)
        for c in page["confused_codes"]:
            t.add_row(c["code"], Text(c["title"]), Text(c.get("difference") or c.get("reason") or ""))
        console.print(Panel(t, title="Commonly confused codes", title_align="left"))
    related: list[Any] = []
    if page.get("children"):
        related += [Text("Children", style="bold underline"), _brief_list(page["children"])]
    if page.get("siblings"):
        related += [Text("Siblings", style="bold underline"), _brief_list(page["siblings"])]
    if related:
        console.print(Panel(Group(*related), title="Related codes", title_align="left"))
    console.print(
        Text(
            f"Release {page['kb']['release_id']} · code set {page['code_set']} · payment year {page['payment_year']}"
            f" · {len(page['kb']['sources'])} source files (hccguide kb info)",
            style="dim",
        )
    )


def print_kb_info(console: Console, payload: dict) -> None:
    """Print `kb_info()`: release id, code sets, payment years, models and every source file with its sha256."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column(ratio=1)
    head.add_row("Release", escape(str(payload["release_id"])))
    head.add_row("Path", escape(str(payload.get("path", ""))))
    for cs in payload.get("code_sets", []):
        head.add_row(
            "Code set",
            Text(
                f"{cs['code_set']} ({cs.get('release_label', '')}), dates of service {cs.get('valid_from')} to "
                f"{cs.get('valid_to')}, {cs.get('billable_count', 0):,} billable codes"
            ),
        )
    head.add_row("Payment years", ", ".join(str(y) for y in payload.get("payment_years", [])))
    for m in payload.get("models", []):
        head.add_row("Model", f"{m['model']} (PY {', '.join(str(y) for y in m.get('payment_years', []))})")
    console.print(Panel(head, title="hccguide knowledge base", title_align="left"))
    t = Table(box=box.SIMPLE_HEAD, expand=True, title="Sources", title_justify="left")
    t.add_column("File (official release)", ratio=1)
    t.add_column("Package", no_wrap=True)
    t.add_column("sha256", no_wrap=True, style="dim")
    for s in payload.get("sources", []):
        cell = Text(str(s.get("path")))
        cell.append(f"\n{s.get('official_release') or s.get('source_key')}", style="dim")
        t.add_row(
            cell,
            Text(f"{s.get('package')} {s.get('package_version')}"),
            Text(str(s.get("sha256", ""))[:16] + "…"),
        )
    console.print(t)
    console.print(Text("Full sha256 of every file: hccguide kb info --json", style="dim"))


# ---------------------------------------------------------------------------------------------------- score
def score_text(result: Any) -> list[str]:
    """The readable trace of a `raf.trace.ScoreResult`, line by line (`hccguide score --explain`)."""
    d = result.to_dict()
    m = result.main
    lines = [
        f"model {d['model']}  payment year {d['payment_year']}  KB {d['kb_release']}",
        f"segment {d['segment']}: {d['segment_reason']}",
    ]
    for x in d["defaults"]:
        lines.append(f"default: {x}")
    lines.append("diagnoses:")
    for x in m.diagnoses:
        lines.append(f"  {x.input!s:>10} → {('HCC ' + ', '.join(x.ccs)) if x.ccs else '—'}  ({x.reason})")
    for e in m.edits:
        lines.append(f"  edit: {e.code} CC{e.cc_from} → {('CC' + e.cc_to) if e.cc_to else 'removed'} ({e.rule})")
    for x in m.dropped:
        by = f"by HCC{x.by} {m.labels.get(x.by, '')}" if x.by else "by rule"
        lines.append(f"  hierarchy: HCC{x.hcc} {m.labels.get(x.hcc, '')} dropped {by}")
    for h in m.interactions:
        lines.append(f"  interaction {h.name}: {'; '.join(h.because)}")
    if m.count_variable:
        lines.append(f"  count variable {m.count_variable} ({len(m.hccs)} payment HCCs)")
    lines.append("factors:")
    for f in m.factors:
        lines.append(f"  {f.name:<40} {f.value:>7.3f}  {f.label or ''}")
    lines.append(f"raw score {result.risk_score:.3f}")
    if result.risk_score_normalized is not None:
        lines.append(f"normalized {result.risk_score_normalized:.3f} (÷ {m.normalization_factor})")
    for p in result.blend_parts:
        lines.append(f"  blend {p['model']} × {p['weight']}: normalized {p['risk_score_normalized']}")
    if result.risk_score_payment is not None:
        lines.append(
            f"payment {result.risk_score_payment:.3f} (× (1 − {result.ma_coding_adjustment}) MA coding adjustment)"
        )
    for w in result.warnings:
        lines.append(f"warning: {w}")
    return lines


# ---------------------------------------------------------------------------------------------------- search
def print_search(console: Console, answer: dict) -> None:
    """Print `hccguide.search.query.search()`'s answer: corrections and expansions used, then a table (code, billable, V28 HCC, title)."""
    if answer["corrections"]:
        fixed = ", ".join(f"{c['from']} -> {c['to']}" for c in answer["corrections"])
        console.print(f"[dim]spelling:[/] {fixed}", highlight=False)
    if answer["expansions"]:
        shown = "; ".join(f"{e['text']} = {' / '.join(e['as'][:2])}" for e in answer["expansions"])
        console.print(f"[dim]read as:[/] {shown}", highlight=False)
    for note in answer["notes"]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if not answer["results"]:
        console.print("no code matches; try other words or an abbreviation from search/synonyms.csv")
        return
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("#", justify="right")
    table.add_column("code", no_wrap=True)
    table.add_column("billable")
    table.add_column("V28 HCC", no_wrap=True)
    table.add_column("title")
    for n, r in enumerate(answer["results"], start=1):
        title = r["title"]
        if r.get("seventh_character", {}).get("assumed"):
            title += " [dim](episode of care assumed: initial)[/]"
        if r.get("choices"):
            picks = ", ".join(c["code"] for c in r["choices"][:6])
            axes = f" (they differ by {', '.join(r['axes'])})" if r.get("axes") else ""
            title += f"\n[dim]header, not billable; billable choices{axes}: {picks}[/]"
        table.add_row(
            str(n),
            r["code"],
            "yes" if r["billable"] else "[red]no[/]",
            f"HCC {r['v28_hcc']}" if r["v28_hcc"] else "-",
            title,
        )
    console.print(table)
    console.print(f"[dim]{answer['code_set']}, CMS-HCC V28 PY{answer['payment_year']}, {answer['kb']['release_id']}[/]")
