"""Every `hccguide` command shown in README.md and docs/*.md runs and succeeds (docs are tested).

Commands are the lines of fenced code blocks that start with `uv run hccguide` or `hccguide`; `serve` (a server),
`kb add` (downloads or needs a folder; tested in tests/kb) and the batch verbs (`score-batch`, `note-batch`: they
need input files) are listed but not run here, nor are usage
synopses (lines with `[--option]` or `|`).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hccguide.cli import app

ROOT = Path(__file__).parents[1]
NOT_RUN = ("serve", "kb add", "score-batch", "note-batch")  # batch verbs need input files


def _doc_commands() -> list[tuple[str, str]]:
    out = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", doc.read_text(), flags=re.S):
            for line in block.splitlines():
                line = line.split("  #")[0].strip()
                match = re.match(r"^(?:uv run )?hccguide (.+)$", line)
                synopsis = " [" in line or "|" in line or "…" in line  # usage lines, not examples
                if match and not synopsis and not match.group(1).startswith(NOT_RUN):
                    out.append((doc.name, match.group(1)))
    return out


COMMANDS = _doc_commands()


def test_docs_show_commands() -> None:
    assert any(cmd.startswith("code ") for _, cmd in COMMANDS)


@pytest.mark.parametrize(("doc", "command"), COMMANDS, ids=[f"{d}:{c}" for d, c in COMMANDS])
def test_documented_command_runs(kb_path, doc: str, command: str) -> None:
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code == 0, f"{doc}: hccguide {command}\n{result.output}"
    assert result.output.strip()
