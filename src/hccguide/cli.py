"""The `hccguide` command line: thin verbs over the library (no logic of its own).

Verbs (public interface, ../shared/ARCHITECTURE.md): code, search, score, score-batch, note, check, kb, serve.
Every error is a `HccguideError`: printed as one readable line (or the JSON error shape with --json) and the
process exits with the error's exit code (2 for bad input, 3 for a missing knowledge base or source).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hccguide.errors import HccguideError

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    name="hccguide",
    help="ICD-10-CM code reference, encoder search, CMS-HCC risk scores and MEAT checks from official CDC/CMS files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kb_app = typer.Typer(help="Build and inspect the knowledge base (official files -> DuckDB).", no_args_is_help=True)
app.add_typer(kb_app, name="kb")


class LazyConsole:
    """rich's Console, made on first use (attributes are the Console's): a command that prints JSON only never
    imports rich, 0.07 s of every start-up (measured with `python -X importtime`)."""

    def __init__(self, stderr: bool = False) -> None:
        self._hcc_stderr = stderr
        self._hcc_console: Console | None = None

    def real(self) -> Console:
        """The rich Console itself."""
        if self._hcc_console is None:
            from rich.console import Console

            self._hcc_console = Console(stderr=self._hcc_stderr)
        return self._hcc_console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


console = LazyConsole()
err_console = LazyConsole(stderr=True)


def emit_json(payload: Any) -> None:
    """Print JSON to stdout (no rich markup, so it can be piped)."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def handles_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a HccguideError into a readable message (or the JSON error shape) and its exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HccguideError as exc:
            if kwargs.get("as_json"):
                emit_json(exc.to_dict())
            else:
                err_console.print(f"[bold red]error[/] ({exc.code}): {exc.message}", highlight=False)
                if exc.field:
                    err_console.print(f"  field: {exc.field} = {exc.value!r}", highlight=False)
                if exc.fix:
                    err_console.print(f"  fix: {exc.fix}", highlight=False)
                if exc.suggestions:
                    shown = ", ".join(
                        str(s.get("code", s)) if isinstance(s, dict) else str(s) for s in exc.suggestions[:8]
                    )
                    err_console.print(f"  did you mean: {shown}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


JsonOpt = Annotated[bool, typer.Option("--json", help="Print the documented JSON instead of a readable page.")]


# ---------------------------------------------------------------------------------------------------- kb
@kb_app.command("build")
@handles_errors
def kb_build(
    force: Annotated[bool, typer.Option(help="Rebuild even if this release is already built.")] = False,
) -> None:
    """Build the knowledge base from the official files (reuses an identical release)."""
    from hccguide.kb.build import build

    path = build(force=force, progress=lambda msg: err_console.print(f"[dim]kb:[/] {msg}", highlight=False))
    console.print(str(path))


@kb_app.command("info")
@handles_errors
def kb_info(as_json: JsonOpt = False) -> None:
    """Show the release id, code sets, payment years and every source file with its sha256."""
    from hccguide.kb.info import kb_info as info

    payload = info()
    if as_json:
        emit_json(payload)
        return
    from hccguide.cli_render import print_kb_info

    print_kb_info(console, payload)


@kb_app.command("add")
@handles_errors
def kb_add(
    code_set: Annotated[
        str | None, typer.Argument(help="Fiscal year shipped by a simple-icd-10-cm wheel: FY2025 or FY2021.")
    ] = None,
    from_path: Annotated[
        Path | None,
        typer.Option("--from", help="Folder or zip of an official CDC ICD-10-CM release (e.g. FY2027)."),
    ] = None,
    wheel: Annotated[
        Path | None, typer.Option("--wheel", help="A simple-icd-10-cm wheel already on disk (no download).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a code set (fiscal year) and rebuild: `kb add FY2025` (PyPI wheel) or `kb add --from RELEASE`."""
    from hccguide.errors import BadInput
    from hccguide.kb.add import add_from_release, add_from_wheel

    def say(msg: str) -> None:
        err_console.print(f"[dim]kb:[/] {msg}", highlight=False)

    if (code_set is None) == (from_path is None):
        raise BadInput(
            "give either a code set (FY2025) or --from PATH",
            field="code_set",
            value=code_set,
            fix="hccguide kb add FY2025, or hccguide kb add --from ~/Downloads/icd10cm-2027",
        )
    if from_path is not None:
        added = add_from_release(from_path, progress=say)
    else:
        assert code_set is not None
        added = add_from_wheel(code_set, wheel=wheel, progress=say)
    if as_json:
        emit_json(added.to_dict())
        return
    console.print(f"added {added.code_set} ({added.billable_count} billable codes); release {added.release_id}")
    console.print(str(added.kb_path))


@kb_app.command("add-coefficients")
@handles_errors
def kb_add_coefficients(
    file: Annotated[Path, typer.Argument(help="CSV: coefficient,value (CMS variable names, e.g. CNA_HCC92).")],
    model: Annotated[str, typer.Option("--model", help="RxHCC, V28, V24 or ESRD-V24.")],
    payment_year: Annotated[int, typer.Option("--payment-year", help="Payment year the table is for, e.g. 2027.")],
    status: Annotated[str, typer.Option("--status", help="final (Rate Announcement) or proposed.")] = "final",
    as_json: JsonOpt = False,
) -> None:
    """Load an official CMS coefficient table from a local CSV; it replaces that model/year's rows (rebuilds)."""
    from hccguide.kb.user_tables import add_coefficients

    added = add_coefficients(
        file, model, payment_year, status=status, progress=lambda m: err_console.print(f"[dim]kb:[/] {m}")
    )
    if as_json:
        emit_json(added.to_dict())
        return
    console.print(f"loaded {added.rows} coefficients ({status}) for {', '.join(added.keys)}; release {added.release_id}")
    for note in added.notes:
        console.print(f"  {note}", highlight=False)
    console.print(str(added.kb_path))


@kb_app.command("add-constants")
@handles_errors
def kb_add_constants(
    file: Annotated[Path, typer.Argument(help="CSV with the columns of raf/payment_years.csv (Rate Announcement).")],
    as_json: JsonOpt = False,
) -> None:
    """Load payment-year constants (normalization, MA coding adjustment, blend) from a local CSV (rebuilds)."""
    from hccguide.kb.user_tables import add_constants

    added = add_constants(file, progress=lambda m: err_console.print(f"[dim]kb:[/] {m}"))
    if as_json:
        emit_json(added.to_dict())
        return
    console.print(f"loaded {added.rows} payment-year constant rows ({', '.join(added.keys)}); release {added.release_id}")
    console.print(str(added.kb_path))


@kb_app.command("add-mappings")
@handles_errors
def kb_add_mappings(
    file: Annotated[Path, typer.Argument(help="CMS ICD-10 mapping CSV: diagnosis_code,cc,model_name or CMS's columns.")],
    payment_year: Annotated[int, typer.Option("--payment-year", help="Payment year of the mapping, e.g. 2027.")],
    mode: Annotated[str, typer.Option("--mode", help="replace (CMS's full file) or merge (only its codes).")] = "replace",
    as_json: JsonOpt = False,
) -> None:
    """Load CMS's dx->CC mapping (midyear/final) from a local CSV into the KB (rebuilds); kb engineer."""
    from hccguide.kb.user_tables import add_mappings

    added = add_mappings(file, payment_year, mode=mode, progress=lambda m: err_console.print(f"[dim]kb:[/] {m}"))
    if as_json:
        emit_json(added.to_dict())
        return
    console.print(f"loaded {added.rows} dx->CC rows ({', '.join(added.keys)}); release {added.release_id}")
    for note in added.notes:
        console.print(f"  {note}", highlight=False)
    console.print(str(added.kb_path))


# ---------------------------------------------------------------------------------------------------- code
@app.command("code")
@handles_errors
def code_cmd(
    code: Annotated[str, typer.Argument(help="An ICD-10-CM code, dotted or not (M87.352, m87352).")],
    as_json: JsonOpt = False,
    fy: Annotated[int | None, typer.Option("--fy", help="ICD-10-CM fiscal year (code set), e.g. 2026.")] = None,
    payment_year: Annotated[int | None, typer.Option("--payment-year", help="CMS payment year, e.g. 2026.")] = None,
) -> None:
    """Show the code page: description, hierarchy, notes (own and inherited), HCCs, MEAT, confused codes."""
    from hccguide.codes.pages import code_page
    from hccguide.kb.open import open_kb

    page = code_page(open_kb(), code, fy=fy, payment_year=payment_year)
    from hccguide.claims.drg import add_ms_drg  # the MS-DRG section (claims layer, issue 16)

    page = add_ms_drg(page)
    if as_json:
        emit_json(page)
        return
    from hccguide.cli_render import print_code_page

    print_code_page(console, page)
    from hccguide.cli_claims import print_ms_drg

    print_ms_drg(page)


# ---------------------------------------------------------------------------------------------------- score (RAF)
def _date_option(value: str | None, field: str, what: str) -> date | None:
    """A YYYY-MM-DD option as a date (None when not given). Raises BadDate naming the field and value."""
    from hccguide.errors import BadDate

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadDate(f"{what} is not a date", field=field, value=value, fix="YYYY-MM-DD") from None


@app.command("score")
@handles_errors
def score_cmd(
    model: Annotated[str, typer.Option(help="V28, V24, ESRD-V24 or RxHCC-V08.")] = "V28",
    payment_year: Annotated[int, typer.Option("--payment-year", help="CMS payment year (2025..2027).")] = 2026,
    age: Annotated[int | None, typer.Option(help="Age on February 1 of the payment year.")] = None,
    dob: Annotated[str | None, typer.Option("--dob", help="Date of birth (YYYY-MM-DD), instead of --age.")] = None,
    sex: Annotated[str | None, typer.Option(help="M or F.")] = None,
    dual: Annotated[str | None, typer.Option(help="CMS dual code 00..10, or non / partial / full.")] = None,
    orec: Annotated[str | None, typer.Option(help="Original reason for entitlement 0..3 (default 0).")] = None,
    lti: Annotated[bool, typer.Option("--lti", help="Long-term institutional.")] = False,
    new_enrollee: Annotated[bool, typer.Option("--new-enrollee", help="New enrollee.")] = False,
    esrd: Annotated[bool, typer.Option("--esrd", help="ESRD (scored with the ESRD model).")] = False,
    snp: Annotated[bool, typer.Option("--snp", help="C-SNP member (SNP new enrollee table).")] = False,
    graft_months: Annotated[int | None, typer.Option("--graft-months", help="ESRD: months since transplant.")] = None,
    low_income: Annotated[bool, typer.Option("--low-income", help="RxHCC: low-income subsidy.")] = False,
    dx: Annotated[str, typer.Option(help="Diagnosis codes, comma separated (dotted or not).")] = "",
    explain: Annotated[bool, typer.Option("--explain", help="Print the full trace.")] = False,
    as_json: JsonOpt = False,
    date_of_service: Annotated[
        str | None,
        typer.Option("--date-of-service", help="Date of service of the diagnoses (YYYY-MM-DD, in the model year)."),
    ] = None,
) -> None:
    """Score one member (CMS-HCC RAF) and explain it line by line."""
    from hccguide.kb.open import open_kb
    from hccguide.raf.request import ScoreRequest

    born = _date_option(dob, "dob", "date of birth")
    day = _date_option(date_of_service, "date_of_service", "date of service")
    request = ScoreRequest.parse(dict(
        model=model, payment_year=payment_year, age=age, date_of_birth=born, sex=sex, dual_status=dual, orec=orec,
        lti=lti, new_enrollee=new_enrollee, esrd=esrd, snp=snp, graft_months=graft_months, low_income=low_income,
        dx=[c for c in dx.split(",")] if dx.strip() else [], date_of_service=day,
    ))
    result = request.score(open_kb())
    if as_json:
        emit_json(result.to_dict())
        return
    if explain:
        from hccguide.cli_render import score_text

        for line in score_text(result):
            console.print(line, highlight=False, markup=False)
        return
    pay = "n/a" if result.risk_score_payment is None else f"{result.risk_score_payment:.3f}"
    norm = "n/a" if result.risk_score_normalized is None else f"{result.risk_score_normalized:.3f}"
    console.print(f"{result.model} PY{result.payment_year} segment {result.segment}: raw {result.risk_score:.3f}, "
                  f"normalized {norm}, payment {pay}; HCCs {', '.join(result.hccs) or 'none'}", highlight=False)
    for w in result.warnings:
        err_console.print(f"warning: {w}", highlight=False, markup=False)


@app.command("score-batch")
@handles_errors
def score_batch_cmd(
    members: Annotated[str, typer.Argument(help="Members file (.parquet or .csv).")],
    diagnoses: Annotated[str, typer.Argument(help="Diagnoses file (.parquet or .csv).")],
    out: Annotated[str, typer.Option("--out", help="Scores file to write (.parquet or .csv).")],
    rejects: Annotated[str | None, typer.Option("--rejects", help="Rejected rows with reasons.")] = None,
    engine: Annotated[str, typer.Option(help="duckdb (default) or spark.")] = "duckdb",
    model: Annotated[str, typer.Option(help="V28, V24, ESRD-V24 or RxHCC-V08.")] = "V28",
    payment_year: Annotated[int, typer.Option("--payment-year", help="CMS payment year.")] = 2026,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Age reference date for date_of_birth (default Feb 1 of the payment year).")] = None,
    column_map: Annotated[str | None, typer.Option("--column-map", help="standard=yours pairs, comma separated (member_id=MBI,dx_code=ICD).")] = None,
    no_date_check: Annotated[bool, typer.Option("--no-date-check", help="Keep diagnoses dated outside the model year.")] = False,
    filter_encounters: Annotated[
        bool, typer.Option("--filter-encounters", help="Keep only risk-adjustment-eligible encounters (cpt_hcpcs, bill_type columns).")
    ] = False,
    master: Annotated[str, typer.Option(help="Spark master URL (engine spark).")] = "local[*]",
    threads: Annotated[int | None, typer.Option(help="DuckDB threads.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a whole file of members; write scores and rejects; print a summary."""
    from pathlib import Path as _Path

    if not as_json:
        from rich.progress import Progress

    from hccguide.errors import BadInput
    from hccguide.kb.open import open_kb

    when = _date_option(as_of, "as_of", "--as-of")
    cmap: dict[str, str] = {}
    for pair in (column_map or "").split(","):
        if pair.strip():
            if "=" not in pair:
                raise BadInput("column map entries are standard=yours", field="column_map", value=pair,
                               fix="e.g. --column-map member_id=MBI,dx_code=ICD10")
            k, v = pair.split("=", 1)
            cmap[v.strip()] = k.strip()
    kwargs = dict(out=_Path(out), rejects=_Path(rejects) if rejects else None, model=model,
                  payment_year=payment_year, as_of=when, column_map=cmap, check_dates=not no_date_check,
                  filter_encounters=filter_encounters)
    with contextlib.nullcontext() if as_json else Progress(console=err_console.real(), transient=True) as bar:
        task = bar.add_task("scoring", total=1.0) if bar is not None else None

        def step(msg: str, frac: float) -> None:
            if bar is not None:
                bar.update(task, completed=frac, description=msg)

        if engine == "duckdb":
            from hccguide.raf.engine_duckdb import run_duckdb

            res = run_duckdb(open_kb(), _Path(members), _Path(diagnoses), threads=threads, progress=step, **kwargs)
        elif engine == "spark":
            from hccguide.raf.engine_spark import run_spark

            res = run_spark(open_kb(), _Path(members), _Path(diagnoses), master=master, progress=step, **kwargs)
        else:
            raise BadInput("unknown engine", field="engine", value=engine, fix="duckdb or spark")
    summary = {**res.summary, "seconds": round(res.seconds, 3), "engine": engine, "out": out, "rejects": rejects}
    if as_json:
        emit_json(summary)
        return
    console.print(f"members: {res.members_in} in, {res.members_scored} scored, {res.members_rejected} rejected; "
                  f"diagnoses: {res.dx_in} in, {res.dx_used} used, {res.dx_rejected} rejected "
                  f"({res.seconds:.1f} s, {engine})", highlight=False)
    pct = res.summary["risk_score_percentiles"]
    mean = res.summary["risk_score_mean"]
    console.print(f"risk score (raw): mean {mean or 0:.3f}; " + ", ".join(f"{k} {v:.3f}" for k, v in pct.items()),
                  highlight=False)
    for reason, n in res.summary["reject_reasons"].items():
        console.print(f"  rejected {n}: {reason}", highlight=False)
    for warning in res.summary.get("warnings", []):
        console.print(f"warning: {warning}", highlight=False)


# ---------------------------------------------------------------------------------------------------- search
@app.command("search")
@handles_errors
def search_cmd(
    text: Annotated[str, typer.Argument(help="Free text ('chf exacerbation', 'T2DM w/ neuropathy') or a code.")],
    limit: Annotated[int, typer.Option("--limit", help="How many results (1..100).")] = 10,
    as_json: JsonOpt = False,
    billable: Annotated[bool, typer.Option("--billable", help="Billable codes only.")] = False,
    hcc: Annotated[str | None, typer.Option("--hcc", help="Only codes mapping to an HCC of this model (V28).")] = None,
    chapter: Annotated[int | None, typer.Option("--chapter", help="ICD-10-CM chapter 1..22.")] = None,
    fy: Annotated[int | None, typer.Option("--fy", help="ICD-10-CM fiscal year (code set), e.g. 2026.")] = None,
) -> None:
    """Encoder search: free text to the most specific billable ICD-10-CM codes, with V28 HCCs."""
    from hccguide.kb.open import open_kb
    from hccguide.search.query import search

    answer = search(open_kb(), text, limit=limit, billable=billable, hcc=hcc, chapter=chapter, fy=fy)
    if as_json:
        emit_json(answer)
        return
    from hccguide.cli_render import print_search

    print_search(console, answer)


# ---------------------------------------------------------------------------------------------------- serve
@app.command("serve")
@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind; anything but loopback needs --api-key.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    api_key: Annotated[
        str | None, typer.Option(envvar="HCCGUIDE_API_KEY", help="Required when not on loopback.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Server processes (each opens the KB read-only).")] = 1,
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", min=1024, help="Request body limit in bytes (larger: HTTP 413).")
    ] = 1_000_000,
    timeout_keep_alive: Annotated[
        int,
        typer.Option("--timeout-keep-alive", min=1, help="Seconds an idle keep-alive connection stays open; keep "
                     "it above your clients' pool idle timeout (httpx 5 s, browsers 60 s+)."),
    ] = 75,
    cache_mb: Annotated[
        int,
        typer.Option("--cache-mb", min=0, max=4096, help="Memory for ready answers of code pages and search, per "
                     "worker, in MB (0: off)."),
    ] = 64,
) -> None:
    """Serve the web app and JSON API (http://127.0.0.1:8000 by default).

    Each worker loads the code store and search index before it accepts a connection (a few seconds), and keeps
    the answers of recent code pages and searches as bytes with an ETag (docs/serving.md)."""
    import os

    import uvicorn

    from hccguide.errors import BadInput

    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        raise BadInput(
            "binding beyond loopback requires an API key",
            field="host",
            value=host,
            fix="pass --api-key KEY (or set HCCGUIDE_API_KEY); clients send it as X-API-Key",
        )
    from hccguide.kb.open import shared_kb

    kb = shared_kb()  # fails now, with the fix, if no knowledge base is built
    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(
            f"warning: {host} is served over plain HTTP: the key and every score travel unencrypted. Put a TLS "
            "proxy in front (or use an SSH tunnel) before anyone but you connects.", highlight=False, markup=False)
    err_console.print(f"hccguide: serving on http://{host}:{port} (release {kb.release_id}, {workers} worker(s))",
                      highlight=False)
    # The factory reads these in every worker process.
    os.environ["HCCGUIDE_MAX_BODY_BYTES"] = str(max_body_bytes)
    os.environ["HCCGUIDE_RESPONSE_CACHE_BYTES"] = str(cache_mb * 1_000_000)
    if api_key:
        os.environ["HCCGUIDE_API_KEY"] = api_key
    common = dict(host=host, port=port, log_level="warning", timeout_keep_alive=timeout_keep_alive)
    if workers > 1:
        uvicorn.run("hccguide.web.app:create_app_from_env", factory=True, workers=workers, **common)  # type: ignore[arg-type]
        return
    from hccguide.web.app import create_app_from_env

    # warmed in the app's startup, before uvicorn binds the port: the first request is not a cold one
    uvicorn.run(create_app_from_env(), **common)  # type: ignore[arg-type]


import hccguide.cli_claims  # noqa: E402  (registers `check`)
import hccguide.cli_notes  # noqa: E402, F401  (registers `note`, `note-batch`)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
