"""Where knowledge bases live and how a release is named.

A release is the set of source files it was built from. Its id is `kb-<default code set>-<12 hex>`, the hex
being the sha256 of the schema version and of every (source_key, sha256) pair, sorted: the same inputs give
the same id on any machine (the build is deterministic).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import platformdirs

SCHEMA_VERSION = 3  # 2: code_validity (MCE per fiscal year); 3: FY2027 from addenda, index tables; id covers schema.sql
HOME_ENV = "HCCGUIDE_HOME"


def kb_home() -> Path:
    """The folder holding built releases and added code sets: $HCCGUIDE_HOME, else the user cache dir."""
    home = os.environ.get(HOME_ENV)
    path = Path(home) if home else Path(platformdirs.user_cache_dir("hccguide"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def code_sets_dir(home: Path | None = None) -> Path:
    """Where `kb add` keeps extra code sets, one sub-folder per code set (FY2025/ with manifest.json)."""
    path = (home or kb_home()) / "code_sets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def release_id(default_code_set: str, fingerprints: list[tuple[str, str]]) -> str:
    """Deterministic id of a release from its (source_key, sha256) pairs."""
    digest = hashlib.sha256(f"schema:{SCHEMA_VERSION}".encode())
    for key, sha in sorted(fingerprints):
        digest.update(f"\n{key}:{sha}".encode())
    return f"kb-{default_code_set}-{digest.hexdigest()[:12]}"


def current_pointer(home: Path | None = None) -> Path:
    return (home or kb_home()) / "current.json"


def read_current(home: Path | None = None) -> Path | None:
    """Path of the release `current.json` points at, or None if there is none (or its file is gone)."""
    pointer = current_pointer(home)
    if not pointer.is_file():
        return None
    try:
        path = Path(json.loads(pointer.read_text())["path"])
    except (ValueError, KeyError):
        return None
    return path if path.is_file() else None


def write_current(db_path: Path, rid: str, home: Path | None = None) -> None:
    pointer = current_pointer(home)
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(json.dumps({"release_id": rid, "path": str(db_path)}, indent=2))
    tmp.replace(pointer)


def prune(keep: Path, home: Path | None = None) -> list[Path]:
    """Delete every other built release (`kb-*.duckdb`) in `home`; the deleted paths.

    Used after `kb add`, whose rebuild supersedes the previous release (60-100 MB each). A process that still has
    an old file open keeps reading it (POSIX unlink semantics).
    """
    removed = []
    for path in sorted((home or kb_home()).glob("kb-*.duckdb")):
        if path.resolve() != keep.resolve():
            path.unlink(missing_ok=True)
            Path(f"{path}.wal").unlink(missing_ok=True)
            removed.append(path)
    return removed
