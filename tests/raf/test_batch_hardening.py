"""Hostile and careless batch inputs (issue 12, items 3, 4, 9, 10, 12, 13), through `hccguide score-batch`.

Every case ends either in one readable error naming the file and what is wrong (exit 2, no traceback) or in rejects
with reasons, line numbers as an editor shows them; no member value ever reaches the terminal; a crafted output
path never runs SQL; outputs are checked before any work and written through a temporary file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hccguide.cli import app

SECRET = "SECRETID"  # member ids start with this: it must never appear in the CLI's output


def _members_rows(n: int = 400) -> list[dict]:
    return [{"member_id": f"{SECRET}{i}", "age": str(65 + i % 30), "sex": "FM"[i % 2]} for i in range(n)]


def _dx_csv(path: Path, n: int = 400) -> Path:
    lines = ["member_id,dx_code,date_of_service"] + [f"{SECRET}{i},E11.22,2025-03-0{1 + i % 9}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _csv(path: Path, text: bytes) -> Path:
    path.write_bytes(text)
    return path


def _parquet(path: Path, n: int = 400) -> Path:
    pq.write_table(pa.Table.from_pylist(_members_rows(n)), path, row_group_size=100)
    return path


def _truncated_parquet(path: Path) -> Path:
    _parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupt_parquet(path: Path) -> Path:
    """Footer intact, the data pages of row group 2 overwritten with garbage."""
    _parquet(path, 4000)
    meta = pq.ParquetFile(path).metadata
    col = meta.row_group(1).column(0)
    start = col.data_page_offset
    data = bytearray(path.read_bytes())
    data[start : start + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))
    return path


def _run(args: list[str]) -> tuple[int, str]:
    r = CliRunner().invoke(app, ["score-batch", *args, "--payment-year", "2026"])
    return r.exit_code, " ".join(r.output.split())  # rich wraps long lines


# (case, members file builder, expected: ("error", words in the message) | ("rejects", {reason: count}), why)
CASES: list[tuple[str, Callable[[Path], Path], tuple, str]] = [
    (
        "non-UTF-8 byte",
        lambda p: _csv(p / "m.csv", f"member_id,age,sex\n{SECRET}1,70,F\n{SECRET}2,7".encode() + b"\xff1,M\n"),
        ("rejects", {"unreadable line: not UTF-8 text": 1}, 3),
        "one bad byte costs one line, named by its line number, not the whole file",
    ),
    (
        "truncated last line",
        lambda p: _csv(p / "m.csv", f"member_id,age,sex\n{SECRET}1,70,F\n{SECRET}2,7".encode()),
        ("rejects", {"unreadable line: fewer columns than the header": 1}, 3),
        "a file cut mid-row: the cut row is rejected, the rest scored",
    ),
    (
        "semicolon separator",
        lambda p: _csv(p / "m.csv", f"member_id;age;sex\n{SECRET}1;70;F\n{SECRET}2;71;M\n".encode()),
        ("rejects", {}, None),
        "DuckDB's sniffer reads ';' as the delimiter: every member is scored",
    ),
    (
        "tab separated",
        lambda p: _csv(p / "m.csv", f"member_id\tage\tsex\n{SECRET}1\t70\tF\n".encode()),
        ("rejects", {}, None),
        "tab-separated files are read too",
    ),
    (
        "empty CSV",
        lambda p: _csv(p / "m.csv", b""),
        ("error", ["m.csv", "empty", "no header line"]),
        "used to say \"no column 'member_id'\" with value ['column0']",
    ),
    (
        "CSV without member_id column",
        lambda p: _csv(p / "m.csv", f"id,age,sex\n{SECRET}1,70,F\n".encode()),
        ("error", ["m.csv", "no column 'member_id'", "--column-map"]),
        "names the missing column and the fix",
    ),
    (
        "empty Parquet",
        lambda p: _csv(p / "m.parquet", b""),
        ("error", ["m.parquet", "empty"]),
        "a 0-byte Parquet file",
    ),
    (
        "truncated Parquet",
        lambda p: _truncated_parquet(p / "m.parquet"),
        ("error", ["m.parquet", "truncated"]),
        "no footer: DuckDB used to print a raw traceback",
    ),
    (
        "corrupt Parquet row group",
        lambda p: _corrupt_parquet(p / "m.parquet"),
        ("error", ["m.parquet", "row group 2"]),
        "names the damaged row group",
    ),
    (
        "ages and graft months that are not whole numbers or out of bounds",
        lambda p: _csv(
            p / "m.csv",
            (
                "member_id,age,sex,graft_months\n"
                f"{SECRET}1,72.5,F,\n{SECRET}2,1e2,F,\n{SECRET}3,true,M,\n{SECRET}4,-5,M,\n{SECRET}5,200,F,\n"
                f"{SECRET}6,70,F,4.5\n{SECRET}7,70,F,99999\n{SECRET}8,70,F,\n{SECRET}9,72.0,F,4.0\n"
            ).encode(),
        ),
        (
            "rejects",
            {
                "invalid age: not a whole number": 3,
                "invalid age: outside 0..125": 2,
                "invalid graft_months: not a whole number": 1,
                "invalid graft_months: outside 0..1500": 1,
            },
            None,
        ),
        "integers only (72.5 and 1e2 used to be rounded to 73 and 100; 72.0 is 72, as in the API), booleans are not "
        "numbers, bounds of raf/request.py",
    ),
]


@pytest.mark.parametrize(("case", "build", "expect", "why"), CASES, ids=[c[0] for c in CASES])
def test_damaged_members_file(kb_home, kb, tmp_path: Path, case, build, expect, why) -> None:
    members = build(tmp_path)
    dx = _dx_csv(tmp_path / "d.csv", 3)
    code, output = _run([str(members), str(dx), "--out", str(tmp_path / "s.csv"), "--rejects", str(tmp_path / "r.csv")])
    assert "Traceback" not in output and SECRET not in output, (why, output)
    if expect[0] == "error":
        assert code == 2, (why, output)
        for word in expect[1]:
            assert word in output, (why, word, output)
        assert not (tmp_path / "s.csv").exists(), "no output is left behind after an error"
        return
    assert code == 0, (why, output)
    members_rejects = duckdb.sql(
        f"SELECT reason, row_number, field FROM read_csv('{tmp_path / 'r.csv'}') WHERE source = 'members'"
    ).fetchall()
    got: dict[str, int] = {}
    for reason, _, _ in members_rejects:
        got[reason] = got.get(reason, 0) + 1
    assert got == expect[1], (why, members_rejects)
    if expect[2] is not None:
        assert [r[1] for r in members_rejects] == [expect[2]], (why, members_rejects)


def test_rejects_name_the_field_and_the_physical_line(kb_home, kb, tmp_path: Path) -> None:
    """row_number is the line an editor shows (header = 1, blank lines counted); field and value are the offending
    field's (why: issue 12 items 9 and 12 - 1,528 of 1,630 rejects pointed at another line, and graft_months or a
    date of birth after the reference date were reported as field member_id)."""
    text = (
        "member_id,age,sex,graft_months,date_of_birth\n"  # line 1
        f"{SECRET}1,70,F,,\n"  # 2
        "\n"  # 3 (blank)
        f"{SECRET}2,70,F,-3,\n"  # 4
        "\n\n"  # 5, 6
        f"{SECRET}3,,F,,2031-01-01\n"  # 7
        f"{SECRET}4,130,M,,\n"  # 8
    )
    members = _csv(tmp_path / "m.csv", text.encode())
    dx = _dx_csv(tmp_path / "d.csv", 1)
    code, output = _run([str(members), str(dx), "--out", str(tmp_path / "s.csv"), "--rejects", str(tmp_path / "r.csv")])
    assert code == 0, output
    rows = duckdb.sql(
        f"SELECT row_number, field, value, reason FROM read_csv('{tmp_path / 'r.csv'}', all_varchar = true) "
        "WHERE source = 'members' ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("4", "graft_months", "-3", "invalid graft_months: outside 0..1500"),
        ("7", "date_of_birth", "2031-01-01", "invalid date: date_of_birth after the age reference date"),
        ("8", "age", "130", "invalid age: outside 0..125"),
    ]


def _good_inputs(p: Path) -> tuple[Path, Path]:
    lines = "member_id,age,sex\n" + "".join(f"{SECRET}{i},{70 + i},F\n" for i in range(3))
    return _csv(p / "m.csv", lines.encode()), _dx_csv(p / "d.csv", 3)


# (case, --out, --rejects, words in the error, why); paths relative to tmp_path
OUTPUTS = [
    ("existing directory", "adir", None, ["is a directory"], "used to print a traceback"),
    ("path under a file", "afile.txt/s.csv", None, ["is a file, not a folder"], "used to print a traceback"),
    ("/proc", "/proc/hccguide_out.csv", None, ["cannot write"], "a folder nobody may write in"),
    ("unknown extension", "s.xlsx", None, ["unsupported file type '.xlsx'"], "used to write CSV silently"),
    ("out equals an input", "m.csv", None, ["is an input file"], "used to overwrite the members file"),
    (
        "unwritable rejects",
        "s.csv",
        "/proc/hccguide_rej.csv",
        ["rejects", "cannot write"],
        "used to leave a half-written result and a traceback",
    ),
    ("out equals rejects", "s.csv", "s.csv", ["same file"], "one would overwrite the other"),
]


@pytest.mark.parametrize(("case", "out", "rej", "words", "why"), OUTPUTS, ids=[c[0] for c in OUTPUTS])
def test_outputs_are_checked_before_any_work(kb_home, kb, tmp_path: Path, case, out, rej, words, why) -> None:
    members, dx = _good_inputs(tmp_path)
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile.txt").write_text("x")
    before = members.read_bytes()
    args = [str(members), str(dx), "--out", str(tmp_path / out)]
    if rej:
        args += ["--rejects", str(tmp_path / rej)]
    code, output = _run(args)
    assert code == 2 and "Traceback" not in output, (why, output)
    for word in words:
        assert word in output, (why, word, output)
    assert members.read_bytes() == before
    assert not (tmp_path / "s.csv").exists(), "checked before any work: nothing written"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder: the check cannot fail as root")
def test_read_only_folder(kb_home, kb, tmp_path: Path) -> None:
    members, dx = _good_inputs(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    code, output = _run([str(members), str(dx), "--out", str(ro / "s.csv")])
    assert code == 2 and "cannot write" in output


def test_crafted_out_path_runs_no_sql(kb_home, kb, tmp_path: Path, monkeypatch) -> None:
    """Issue 12 item 3: this --out used to run a second statement and write pwned.csv (exit 0). Now the name is a
    file name, nothing else; a quote in an input path is an ordinary character too."""
    monkeypatch.chdir(tmp_path)
    members, dx = _good_inputs(tmp_path)
    quoted = tmp_path / "o'brien members.csv"
    members.rename(quoted)
    crafted = "inj.csv' (FORMAT CSV); COPY (SELECT 42) TO 'pwned.csv' (FORMAT CSV); --.csv"
    code, output = _run([str(quoted), str(dx), "--out", crafted, "--json"])
    assert code == 0, output
    assert not (tmp_path / "pwned.csv").exists()
    assert (tmp_path / crafted).is_file()
    assert json.loads(output)["members_scored"] == 3  # (--json output is one JSON document)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == [], "no temporary file left"
