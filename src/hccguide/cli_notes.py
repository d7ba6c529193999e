"""`hccguide note FILE` and `hccguide note-batch DIR|notes.parquet`: the note checker from the command line (a face:
no logic of its own, see notes/).

`note` prints each condition with its assertion, codes, HCCs, MEAT evidence and support (or the JSON answer of
POST /api/notes with --json). `note-batch` checks a folder of .txt notes (note_id = file name without .txt) or a
Parquet/CSV file with columns note_id, text and optionally date_of_service; it writes one row per condition to
--out (Parquet or CSV by suffix) and the notes it could not check to --rejects with the reason (never the text);
rows in = notes checked + notes rejected.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from hccguide.cli import JsonOpt, app, console, emit_json, err_console, handles_errors
from hccguide.errors import BadDate, BadInput


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadDate("date of service is not a date", field="date_of_service", value=value, fix="YYYY-MM-DD") from None


@app.command("note")
@handles_errors
def note_cmd(
    file: Annotated[Path, typer.Argument(help="A clinical note as a UTF-8 text file.")],
    as_json: JsonOpt = False,
    payment_year: Annotated[int | None, typer.Option("--payment-year", help="CMS payment year of the HCCs.")] = None,
    date_of_service: Annotated[
        str | None, typer.Option("--date-of-service", help="YYYY-MM-DD; picks the ICD-10-CM code set (default today).")
    ] = None,
    age: Annotated[int | None, typer.Option(help="Age, for the risk score of the supported codes.")] = None,
    sex: Annotated[str | None, typer.Option(help="M or F, for the risk score.")] = None,
    dual: Annotated[str | None, typer.Option(help="CMS dual code 00..10, or non / partial / full.")] = None,
    orec: Annotated[str | None, typer.Option(help="Original reason for entitlement 0..3.")] = None,
    lti: Annotated[bool, typer.Option("--lti", help="Long-term institutional.")] = False,
    new_enrollee: Annotated[bool, typer.Option("--new-enrollee", help="New enrollee.")] = False,
    setting: Annotated[
        str, typer.Option("--setting", help="outpatient (default) or inpatient: an uncertain diagnosis ('probable', "
                          "'rule out') is coded only inpatient (ICD-10-CM Guidelines II.H vs IV.H).")
    ] = "outpatient",
) -> None:
    """Check a note: conditions, assertion, codes, HCCs, MEAT evidence with spans, support and provider queries."""
    from hccguide.kb.open import open_kb
    from hccguide.notes.explain import text_lines
    from hccguide.notes.pipeline import check_note

    text = _read_note(file)
    member = None
    if age is not None or sex:
        member = {k: v for k, v in {"age": age, "sex": sex, "dual_status": dual, "orec": orec, "lti": lti,
                                    "new_enrollee": new_enrollee}.items() if v is not None}
    from hccguide.notes import codecache

    kb = open_kb()
    result = check_note(kb, text, date_of_service=_day(date_of_service), payment_year=payment_year,
                        member=member, setting=setting)
    codecache.save(kb)  # the next `hccguide note` opens the search index only for phrases new to this KB
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    for line in text_lines(result):
        console.print(line, highlight=False, markup=False)


def _read_note(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("no such file", field="file", value=str(file), fix="give the path of a .txt note") from None
    except UnicodeDecodeError:
        raise BadInput("the file is not UTF-8 text", field="file", value=str(file),
                       fix="save the note as UTF-8 text") from None


def _batch_inputs(source: Path) -> tuple[list[tuple[str, str | None, str | None]], list[dict]]:
    """(note_id, text, date_of_service) of every note, and the rejected rows {note_id, reason}."""
    notes: list[tuple[str, str | None, str | None]] = []
    rejected: list[dict] = []
    if source.is_dir():
        for path in sorted(source.glob("*.txt")):
            try:
                notes.append((path.stem, path.read_text(encoding="utf-8"), None))
            except UnicodeDecodeError:
                rejected.append({"note_id": path.stem, "reason": "not UTF-8 text"})
        return notes, rejected
    if not source.exists():
        raise BadInput("no such file or folder", field="source", value=str(source),
                       fix="a folder of .txt notes, or a .parquet/.csv file with note_id and text columns")
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    suffix = source.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise BadInput("unsupported file type", field="source", value=source.suffix,
                       fix="a folder of .txt notes, or a .parquet/.csv file")
    table = pq.read_table(source) if suffix == ".parquet" else pacsv.read_csv(source)
    missing = [c for c in ("note_id", "text") if c not in table.column_names]
    if missing:
        raise BadInput(f"missing column(s) {', '.join(missing)}", field="columns", value=table.column_names,
                       fix="columns: note_id, text, and optionally date_of_service (YYYY-MM-DD)")
    dates = table.column("date_of_service").to_pylist() if "date_of_service" in table.column_names else None
    for i, (nid, text) in enumerate(zip(table.column("note_id").to_pylist(), table.column("text").to_pylist(),
                                        strict=True)):
        day = dates[i] if dates else None
        notes.append((str(nid) if nid is not None else f"row{i + 1}", text,
                      day.isoformat() if hasattr(day, "isoformat") else day))
    return notes, rejected


def _write(path: Path, rows: list[dict], columns: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows) if rows else pa.table({c: pa.array([], pa.string()) for c in columns})
    if path.suffix.lower() == ".csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)


@app.command("note-batch")
@handles_errors
def note_batch_cmd(
    source: Annotated[Path, typer.Argument(help="A folder of .txt notes, or a .parquet/.csv with note_id, text.")],
    out: Annotated[Path, typer.Option("--out", help="Findings file, one row per condition (.parquet or .csv).")],
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Rejected notes with the reason (.csv); default OUT.rejects.csv")
    ] = None,
    payment_year: Annotated[int | None, typer.Option("--payment-year", help="CMS payment year of the HCCs.")] = None,
    date_of_service: Annotated[
        str | None, typer.Option("--date-of-service", help="YYYY-MM-DD for notes without their own date.")
    ] = None,
    as_json: JsonOpt = False,
    processes: Annotated[
        int | None, typer.Option("--processes", help="Worker processes, each loading the pipeline once (default: the "
                                 "cores available; small batches run in this process).")
    ] = None,
    setting: Annotated[
        str, typer.Option("--setting", help="outpatient (default) or inpatient (uncertain diagnoses coded).")
    ] = "outpatient",
) -> None:
    """Check many notes: one row per condition; rows in = notes checked + notes rejected (with the reason)."""
    from rich.progress import Progress

    from hccguide.kb.open import open_kb
    from hccguide.notes.batch import check_many

    kb = open_kb()
    default_day = _day(date_of_service)
    notes, rejected = _batch_inputs(source)
    rows: list[dict] = []
    checked = 0
    with Progress(console=err_console.real(), transient=True) as bar:
        task = bar.add_task("checking notes", total=len(notes))
        for note_id, found, reason in check_many(kb, notes, processes=processes, default_day=default_day,
                                                 payment_year=payment_year, setting=setting):
            if found is None:
                rejected.append({"note_id": note_id, "reason": reason})
            else:
                rows.extend(found)
                checked += 1
            bar.advance(task)
    rejects = rejects or out.with_name(out.name + ".rejects.csv")
    _write(out, rows, ["note_id", "condition"])
    _write(rejects, rejected, ["note_id", "reason"])
    summary = {"rows_in": checked + len(rejected), "notes_checked": checked, "notes_rejected": len(rejected),
               "conditions": len(rows), "supported": sum(1 for r in rows if r["supported"]), "out": str(out),
               "rejects": str(rejects), "kb_release": kb.release_id}
    if as_json:
        emit_json(summary)
        return
    for key, value in summary.items():
        console.print(f"{key}: {value}", highlight=False)
