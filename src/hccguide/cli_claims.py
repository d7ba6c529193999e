"""`hccguide check FILE`: claim checks from the command line (a face: no logic of its own, see claims/).

A ``.json`` file is one claim (the body of POST /api/claims/check) and prints its findings (or the JSON answer with
--json). A ``.parquet``/``.csv``/``.jsonl``/``.837`` file is a batch: one row per finding and one summary row per
claim are written to --out (CSV or Parquet by suffix; default: next to the input), unreadable claims to --rejects
with their reason, and the counts are printed: rows in = claims checked + claims rejected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hccguide.cli import JsonOpt, app, console, emit_json, err_console, handles_errors


@app.command("check")
@handles_errors
def check_cmd(
    file: Annotated[Path, typer.Argument(help="A JSON claim, or a .parquet/.csv/.jsonl/.837 batch of claims.")],
    as_json: JsonOpt = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Batch: findings file (.csv or .parquet); default FILE.findings.csv")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Batch: rejected claims (.csv); default FILE.rejects.csv")
    ] = None,
) -> None:
    """Check claims: code validity on the date of service, headers, Excludes1, Code first / Use additional code,
    age/sex edits, duplicates, risk-adjustment eligibility; MCE edits and MS-DRG for inpatient claims."""
    from hccguide.claims.checks import check_batch, check_claim
    from hccguide.claims.readers import read_batch, read_json_claim
    from hccguide.kb.open import open_kb

    kb = open_kb()
    if file.suffix.lower() == ".json":
        result = check_claim(kb, read_json_claim(file))
        if as_json:
            emit_json(result.model_dump(mode="json"))
            return
        _print_result(result)
        return
    claims, rejected = read_batch(file)
    skipped: list[str] = []
    if file.suffix.lower() in (".837", ".x12", ".edi", ".txt"):
        from hccguide.claims.readers import segment_problems

        skipped = segment_problems(file.read_text(encoding="utf-8", errors="replace"))
        for problem in skipped:
            err_console.print(f"warning: {problem}", highlight=False)
    from rich.progress import Progress

    with Progress(console=err_console.real(), transient=True) as bar:
        task = bar.add_task("checking claims", total=len(claims))
        results = check_batch(kb, claims, progress=lambda n: bar.advance(task, n))
    out = out or file.with_name(file.name + ".findings.csv")
    rejects = rejects or file.with_name(file.name + ".rejects.csv")
    _write_rows(out, _finding_rows(results))
    _write_rows(rejects, [{"row": r.row, "claim_id": r.claim_id, "reason": r.reason} for r in rejected])
    summary = {
        "rows_in": len(claims) + len(rejected),
        "claims_checked": len(results),
        "claims_rejected": len(rejected),
        "claims_with_errors": sum(1 for r in results if any(f.severity == "error" for f in r.findings)),
        "findings": sum(len(r.findings) for r in results),
        "x12_segments_skipped": len(skipped),
        "out": str(out),
        "rejects": str(rejects),
        "kb_release": kb.release_id,
    }
    if as_json:
        emit_json(summary)
        return
    for key, value in summary.items():
        console.print(f"{key}: {value}", highlight=False)


def _finding_rows(results: list) -> list[dict]:
    """One row per finding, then one 'summary' row per claim (rule = 'summary')."""
    rows = []
    for r in results:
        for f in r.findings:
            rows.append(
                {
                    "claim_id": r.claim_id,
                    "kind": "finding",
                    "rule": f.rule,
                    "severity": f.severity,
                    "codes": " ".join(f.codes),
                    "message": f.message,
                    "code_set": r.code_set,
                    "drg": r.drg.drg if r.drg else None,
                }
            )
        errors = sum(1 for f in r.findings if f.severity == "error")
        rows.append(
            {
                "claim_id": r.claim_id,
                "kind": "summary",
                "rule": "",
                "severity": "error" if errors else "clean" if not r.findings else "warning",
                "codes": "",
                "message": f"{len(r.findings)} findings, {errors} errors",
                "code_set": r.code_set,
                "drg": r.drg.drg if r.drg else None,
            }
        )
    return rows


def _write_rows(path: Path, rows: list[dict]) -> None:
    import pyarrow as pa

    table = pa.Table.from_pylist(rows) if rows else pa.table({"empty": pa.array([], pa.string())})
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path)


def _print_result(result: object) -> None:
    r = result  # CheckResult
    console.print(f"[bold]{r.claim_id}[/] — code set {r.code_set} ({r.kb_release})", highlight=False)  # type: ignore[attr-defined]
    if not r.findings:  # type: ignore[attr-defined]
        console.print("  no findings", highlight=False)
    for f in r.findings:  # type: ignore[attr-defined]
        colour = {"error": "red", "warning": "yellow", "info": "blue"}[f.severity]
        console.print(f"  [{colour}]{f.severity:7}[/] {f.rule:24} {', '.join(f.codes)}", highlight=False)
        console.print(f"          {f.message}", highlight=False)
    for n in r.not_checked:  # type: ignore[attr-defined]
        console.print(f"  not checked: {n}", highlight=False)
    d = r.drg  # type: ignore[attr-defined]
    if d is not None:
        console.print(
            f"  MS-DRG {d.drg} {d.title} (MDC {d.mdc}, grouper v{d.grouper_version}, severity {d.severity})",
            highlight=False,
        )
        for c in d.cc_mcc:
            console.print(f"    {c.severity} {c.code}: without it MS-DRG {c.drg_without} {c.drg_without_title}")


def print_ms_drg(page: dict) -> None:
    """The MS-DRG section of a code page, under `hccguide code` (see claims.drg.add_ms_drg)."""
    s = page.get("ms_drg")
    if not s:
        return
    console.print(f"\n[bold]MS-DRG as principal diagnosis[/] (FY{s['fiscal_year']}, grouper v{s['grouper_version']})")
    if not s["valid_principal"]:
        console.print("  not accepted as principal diagnosis by the grouper", highlight=False)
    else:
        for label, key in (("without CC/MCC", "without_cc_mcc"), ("with CC", "with_cc"), ("with MCC", "with_mcc")):
            d = s[key]
            how = f" (e.g. secondary {d['secondary']})" if d.get("secondary") else ""
            text = f"{d['drg']:03d} {d['title']}{how}" if d["drg"] is not None else "no separate DRG"
            console.print(f"  {label:15} {text}", highlight=False)
    console.print(f"  as a secondary diagnosis: {s['secondary_level']}", highlight=False)
    console.print(f"  {s['note']}", highlight=False, style="dim")
