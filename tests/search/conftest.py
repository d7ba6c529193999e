"""Search fixtures: the real index of the code set search answers from by default (today's: FY2027 since
2026-10-01), built once per session next to the session's real KB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hccguide.codes.lookup import choose_code_set
from hccguide.kb.open import KB
from hccguide.search.index import SearchIndex, open_index
from hccguide.web.app import create_app


@pytest.fixture(scope="session")
def index(served_kb: KB) -> SearchIndex:
    return open_index(served_kb, choose_code_set(served_kb).code_set)


@pytest.fixture(scope="session")
def api(index: SearchIndex) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c
