"""Shared fixtures: one real knowledge base, built once per test session from the installed official packages;
the real app on uvicorn (127.0.0.1, free port, background thread); one Debian chromium driven by Playwright for
every browser test (a single sync_playwright per session: two would nest event loops). Never downloads a browser:
/usr/bin/chromium comes from `bash scripts/system-deps.sh`.

HCCGUIDE_HOME points at a session temp folder, so tests never touch a user's cache. Screenshots go to a temp dir,
or to $HCCGUIDE_SCREENSHOTS when set (to look at them).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from hccguide.kb.open import KB, open_kb, shared_kb
from hccguide.web.app import create_app

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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def served_kb(kb_path: Path, kb: KB) -> KB:
    served = shared_kb()
    assert served.path == kb_path, "the server must answer from the test KB"
    return served


@pytest.fixture(scope="session")
def base_url(served_kb: KB) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Debian chromium is missing: run `bash scripts/system-deps.sh` (no browser download)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ["HCCGUIDE_SCREENSHOTS"]) if os.environ.get("HCCGUIDE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder
