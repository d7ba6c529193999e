"""Shared fixtures: one real knowledge base, built once per test session from the installed official packages.

HCCGUIDE_HOME points at a session temp folder, so tests never touch a user's cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hccguide.kb.open import KB, open_kb

_HOME = Path(os.environ.get("HCCGUIDE_TEST_HOME", "")) if os.environ.get("HCCGUIDE_TEST_HOME") else None


@pytest.fixture(scope="session")
def kb_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = _HOME or tmp_path_factory.mktemp("hccguide_home")
    os.environ["HCCGUIDE_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def kb_path(kb_home: Path) -> Path:
    from hccguide.kb.build import build

    return build(kb_home)


@pytest.fixture(scope="session")
def kb(kb_path: Path) -> KB:
    return open_kb(kb_path)
