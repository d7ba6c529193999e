"""Web fixtures: the real FastAPI app over the session's real knowledge base (tests/conftest.py builds it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hccguide.kb.open import KB
from hccguide.web.app import create_app


@pytest.fixture(scope="session")
def app_kb(served_kb: KB) -> KB:
    """The KB the app answers from (tests/conftest.py `served_kb`: the current release in the test home)."""
    return served_kb


@pytest.fixture(scope="session")
def client(app_kb: KB) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c
