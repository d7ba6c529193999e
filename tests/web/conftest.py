"""Web fixtures: the real FastAPI app over the session's real knowledge base (tests/conftest.py builds it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hccguide.kb.open import KB, shared_kb
from hccguide.web.app import create_app


@pytest.fixture(scope="session")
def app_kb(kb_path: Path, kb: KB) -> KB:
    """The KB the app answers from: shared_kb() opens the current release in HCCGUIDE_HOME (the test home)."""
    served = shared_kb()
    assert served.path == kb_path, "the app must answer from the test KB"
    return served


@pytest.fixture(scope="session")
def client(app_kb: KB) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c
