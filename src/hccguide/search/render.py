"""Readable terminal face of a search answer (rich): one row per result, headers with their billable choices."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_search(console: Console, answer: dict) -> None:
    """Print `search()`'s answer: corrections and expansions used, then a table (code, billable, V28 HCC, title)."""
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
