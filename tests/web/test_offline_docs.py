"""The OpenAPI docs page works offline: every asset /docs references is served by this app, none by a CDN."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from hccguide.web.app import create_app


def test_docs_assets_are_local(kb_path) -> None:
    client = TestClient(create_app())
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    assert all(client.get(a).status_code == 200 for a in assets)
    assert client.get("/openapi.json").json()["paths"]["/api/codes/{code}"]
