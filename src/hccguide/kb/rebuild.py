"""The one sha256 and rebuild helper of every `hccguide kb add*` verb (kb/add.py, kb/user_tables.py).

`file_sha256(path)` is the provenance fingerprint (hex sha256 of the file's bytes, via sources/files.sha256_of);
`rebuild(home)` builds the release for the current inputs (a new release id: the added file is one of them),
points `current.json` at it and deletes the superseded releases.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hccguide.kb import releases
from hccguide.sources.files import sha256_of

Progress = Callable[[str], None]


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return sha256_of(Path(path))


def rebuild(home: Path, progress: Progress | None = None) -> tuple[str, Path]:
    """(release id, DuckDB path) of the KB rebuilt for the current inputs of `home`; older releases removed.

    Raises SourceError (a source file does not parse) like `kb.build.build`."""
    from hccguide.kb.build import build, expected_release_id

    path = build(home, progress=progress)
    for old in releases.prune(path, home):
        (progress or (lambda _msg: None))(f"removed the superseded release {old.name}")
    return expected_release_id(home), path
