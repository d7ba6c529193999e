"""The `hccguide` command line: thin verbs over the library (no logic of its own).

Verbs (public interface, ../shared/ARCHITECTURE.md): code, search, score, score-batch, note, check, kb, serve.
Every error is a `HccguideError`: printed as one readable line (or the JSON error shape with --json) and the
process exits with the error's exit code (2 for bad input, 3 for a missing knowledge base or source).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer
from rich.console import Console

from hccguide.errors import HccguideError

app = typer.Typer(
    name="hccguide",
    help="ICD-10-CM code reference, encoder search, CMS-HCC risk scores and MEAT checks from official CDC/CMS files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kb_app = typer.Typer(help="Build and inspect the knowledge base (official files -> DuckDB).", no_args_is_help=True)
app.add_typer(kb_app, name="kb")

console = Console()
err_console = Console(stderr=True)


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
    if as_json:
        emit_json(page)
        return
    from hccguide.cli_render import print_code_page

    print_code_page(console, page)


# ---------------------------------------------------------------------------------------------------- serve
@app.command("serve")
@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind; anything but loopback needs --api-key.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    api_key: Annotated[
        str | None, typer.Option(envvar="HCCGUIDE_API_KEY", help="Required when not on loopback.")
    ] = None,
) -> None:
    """Serve the web app and JSON API (http://127.0.0.1:8000 by default)."""
    import uvicorn

    from hccguide.errors import BadInput
    from hccguide.web.app import create_app

    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        raise BadInput(
            "binding beyond loopback requires an API key",
            field="host",
            value=host,
            fix="pass --api-key KEY (or set HCCGUIDE_API_KEY); clients send it as X-API-Key",
        )
    err_console.print(f"hccguide: serving on http://{host}:{port}", highlight=False)
    uvicorn.run(create_app(api_key=api_key), host=host, port=port, log_level="warning")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
