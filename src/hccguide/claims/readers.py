"""Read claims from a JSON claim, a batch file (.parquet, .csv, .jsonl) or an X12 837 (professional or institutional).

Every reader returns ``(claims, rejects)``: each input record becomes a validated `Claim` or a `Rejected` row with its
reason, so rows in = claims + rejects. No member identifier or name is kept (only the claim id, age and sex).

Batch columns (one claim per row): ``claim_id, age, sex, date_of_service, claim_type, discharge_date,
discharge_status, diagnosis_codes, poa, procedure_codes, cpt_hcpcs, bill_type``. List columns are lists (Parquet,
JSONL) or text split on ``;``, ``|``, ``,`` or spaces (CSV).

X12 837: an 837P is read strictly with `x12sdk` 2.2 (typed models validated against the implementation guide) when
it passes; otherwise, and for every 837I, with `openx12` 0.2.1 (lenient: it reads all 13 hccinfhir sample 837
files, x12sdk 1 of them). `segment_problems` lists malformed segments by number; both readers skip them and read the
rest. A claim without a diagnosis or a date is rejected with its reason. Claim type: 837P -> professional; 837I ->
inpatient for bill type 11x/41x, else outpatient (bill type = CLM05 facility code + frequency). Age = whole years
from the DMG birth date to the date of service.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hccguide.claims.models import Claim
from hccguide.errors import BadInput

_SPLIT = re.compile(r"[;|,\s]+")
BATCH_SUFFIXES = (".parquet", ".pq", ".csv", ".jsonl", ".ndjson", ".837", ".x12", ".edi", ".txt")


@dataclass(frozen=True)
class Rejected:
    """An input record that is not a checkable claim."""

    row: int  # 1-based record number in the file (837: claim number in file order)
    claim_id: str | None
    reason: str


def _listify(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x).strip() for x in v if x is not None and str(x).strip()]
    text = str(v).strip()
    if text.startswith("["):
        try:
            return _listify(json.loads(text))
        except json.JSONDecodeError:
            pass
    return [p for p in _SPLIT.split(text) if p]


def _reason(e: ValidationError) -> str:
    first = e.errors()[0]
    where = ".".join(str(x) for x in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}"


def claim_from_row(row: dict[str, Any]) -> Claim:
    """A flat batch row -> Claim. Raises ValidationError naming the field."""
    cpts = row.get("cpt_hcpcs")
    lines = row.get("lines") or [{"cpt_hcpcs": c} for c in _listify(cpts)]
    data = {
        "claim_id": str(row.get("claim_id") or ""),
        "patient": row.get("patient") or {"age": row.get("age"), "sex": row.get("sex") or "U"},
        "date_of_service": row.get("date_of_service"),
        "claim_type": row.get("claim_type") or "professional",
        "discharge_date": row.get("discharge_date") or None,
        "discharge_status": row.get("discharge_status") or None,
        "diagnosis_codes": _listify(row.get("diagnosis_codes")),
        "poa": _listify(row.get("poa")),
        "procedure_codes": _listify(row.get("procedure_codes")),
        "lines": lines,
        "bill_type": (str(row["bill_type"]) if row.get("bill_type") not in (None, "") else None),
    }
    if not data["claim_id"]:
        data.pop("claim_id")
    return Claim.model_validate(data)


def read_rows(rows: list[dict[str, Any]]) -> tuple[list[Claim], list[Rejected]]:
    """Validate flat rows; each is a claim or a reject (row number, claim id, reason)."""
    claims: list[Claim] = []
    rejects: list[Rejected] = []
    for i, row in enumerate(rows, start=1):
        try:
            claims.append(claim_from_row(row))
        except ValidationError as e:
            rejects.append(Rejected(i, str(row.get("claim_id")) if row.get("claim_id") else None, _reason(e)))
    return claims, rejects


def read_json_claim(path: Path) -> Claim:
    """One claim from a JSON file (the API's request body). Raises BadInput naming the field."""
    try:
        return Claim.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as e:
        raise BadInput(f"not JSON: {e.msg} at line {e.lineno}", field="file", value=str(path)) from e
    except ValidationError as e:
        first = e.errors()[0]
        raise BadInput(
            _reason(e),
            field=".".join(str(x) for x in first.get("loc", ())),
            value=str(first.get("input"))[:80],
            fix="see docs/claims.md for the claim fields",
        ) from e


def read_batch(path: Path) -> tuple[list[Claim], list[Rejected]]:
    """Claims and rejects of a batch file, by suffix. Raises BadInput for a missing or unsupported file."""
    if not path.is_file():
        raise BadInput("no such file", field="file", value=str(path), fix="give a path to an existing file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return read_rows(pq.read_table(path).to_pylist())
    if suffix == ".csv":
        import csv

        with path.open(encoding="utf-8", newline="") as f:
            return read_rows(list(csv.DictReader(f)))
    if suffix in (".jsonl", ".ndjson"):
        rows: list[dict[str, Any]] = []
        bad: list[Rejected] = []
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                bad.append(Rejected(i, None, f"not JSON: {e.msg}"))
                rows.append({"claim_id": None, "_bad": True})
        claims, rejects = read_rows([r for r in rows if not r.get("_bad")])
        return claims, bad + rejects
    if suffix in (".837", ".x12", ".edi", ".txt"):
        return read_837(path.read_text(encoding="utf-8", errors="replace"))
    raise BadInput(
        f"unsupported file type {suffix!r}",
        field="file",
        value=str(path),
        fix="use .json (one claim), .parquet, .csv, .jsonl or .837",
    )


def _first_date(text: str | None) -> date | None:
    if not text:
        return None
    m = re.search(r"\d{4}-\d{2}-\d{2}", str(text))
    return date.fromisoformat(m.group(0)) if m else None


def _age(dob: str | None, on: date) -> int | None:
    born = _first_date(dob)
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


_SEGMENT = re.compile(r"^[A-Z][A-Z0-9]{1,2}(\*|$)")


def segment_problems(text: str) -> list[str]:
    """Malformed segments of an X12 text, each as 'segment N: ...' (N counts from 1 in file order). The readers
    skip them and read the rest of the file."""
    body = text.strip()
    if len(body) < 106 or not body.startswith("ISA"):
        return ["segment 1: the file does not start with an ISA interchange header"]
    term = body[105]
    out = []
    for n, seg in enumerate(body.split(term), start=1):
        seg = seg.strip("\r\n ")
        if seg and not _SEGMENT.match(seg):
            out.append(f"segment {n}: {seg[:3]!r}... is not an X12 segment (skipped)")
    return out


def _strict_837(text: str) -> tuple[list[dict], str | None]:
    """Claim rows from x12sdk 2.2 (strict, validated against the implementation guide), or ([], reason)."""
    import tempfile

    try:
        from x12sdk.io import X12ModelReader
    except ImportError:  # pragma: no cover - x12sdk is a dependency
        return [], "x12sdk not installed"
    import logging

    logging.getLogger("x12sdk").setLevel(logging.CRITICAL)  # its refusals are returned as a reason, not logged
    with tempfile.NamedTemporaryFile("w", suffix=".x12", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        try:
            with X12ModelReader(f.name) as reader:
                models = [m.model_dump() for m in reader.models()]
        except Exception as e:
            first = str(e).splitlines()
            return [], f"x12sdk: {type(e).__name__}: {' '.join(first[:2])[:160]}"
    rows = []
    for model in models:
        for a in model.get("loop_2000a") or []:
            for b in a.get("loop_2000b") or []:
                dmg = ((b.get("loop_2010ba") or {}).get("dmg_segment")) or {}
                claims = list(b.get("loop_2300") or [])
                for c in b.get("loop_2000c") or []:
                    cdmg = ((c.get("loop_2010ca") or {}).get("dmg_segment")) or dmg
                    claims += [dict(x, _dmg=cdmg) for x in c.get("loop_2300") or []]
                for claim in claims:
                    rows.append(_strict_row(claim, claim.get("_dmg") or dmg))
    return rows, None


def _strict_row(claim: dict, dmg: dict) -> dict:
    clm = claim.get("clm_segment") or {}
    dx: list[str] = []
    for hi in claim.get("hi_segment") or []:
        for k in sorted((k for k in hi if k.startswith("health_care_code_")), key=lambda k: int(k.rsplit("_", 1)[1])):
            v = hi.get(k)
            if isinstance(v, (list, tuple)) and len(v) >= 2 and str(v[0]).upper() in ("ABK", "ABF", "BK", "BF"):
                dx.append(str(v[1]))
    dates = []
    lines = []
    for line in claim.get("loop_2400") or []:
        sv = line.get("sv1_segment") or line.get("sv2_segment") or {}
        proc = sv.get("product_service_id_qualifier") or sv.get("procedure_identifier") or ""
        if isinstance(proc, str) and ":" in proc:
            lines.append(proc.split(":")[1])
        for dtp in line.get("dtp_segment") or []:
            dates.append(dtp.get("date_time_period"))
    for dtp in claim.get("dtp_segment") or []:
        dates.append(dtp.get("date_time_period"))
    location = str(clm.get("health_care_service_location_information") or "")
    return {
        "claim_id": clm.get("patient_control_number"),
        "dob": dmg.get("date_time_period"),
        "sex": dmg.get("gender_code"),
        "dates": [str(d) for d in dates if d],
        "dx": dx,
        "cpt": lines,
        "pos": location.split(":")[0] if location else "",
        "frequency": location.split(":")[2] if location.count(":") >= 2 else "",
    }


def read_837(text: str) -> tuple[list[Claim], list[Rejected]]:
    """Claims of an X12 837P or 837I text (openx12, lenient). Each claim (CLM loop) is a claim or a reject."""
    from openx12 import x837i, x837p

    institutional = "005010X223" in text or "*837I" in text
    strict, _refused = _strict_837(text)  # the strict reader's refusal: the lenient one reads the file
    if strict and not institutional:
        return _claims_from_strict(strict)
    try:
        parsed = (x837i if institutional else x837p).parse(text)
        raw_claims = parsed.claims
        patients = parsed.patients
    except Exception as e:
        return [], [Rejected(1, None, f"X12 837 not readable: {type(e).__name__}: {str(e)[:120]}")]
    claims: list[Claim] = []
    rejects: list[Rejected] = []
    for i, c in enumerate(raw_claims, start=1):
        claim_id = str(c.get("claim_number") or f"claim-{i}")
        patient = patients[i - 1] if len(patients) == len(raw_claims) else (patients[0] if len(patients) == 1 else {})
        demo = patient.get("demographics") or patient.get("demographic") or {}
        dates = c.get("dates") or {}
        services = c.get("services") or []
        dos = (
            _first_date(dates.get("service_date"))
            or _first_date(services[0].get("service_date") if services else None)
            or _first_date(dates.get("statement_from_date"))
            or _first_date(dates.get("admission_date"))
        )
        dx = [d.get("diagnosis_code") for d in c.get("diagnoses") or [] if d.get("diagnosis_code")]
        if dos is None:
            rejects.append(Rejected(i, claim_id, "no date of service (DTP 472/434/435) in the claim"))
            continue
        if not dx:
            rejects.append(Rejected(i, claim_id, "no diagnosis (HI segment) in the claim"))
            continue
        bill = f"{c.get('place_of_service') or ''}{c.get('frequency') or ''}" if institutional else None
        kind = "professional"
        if institutional:
            kind = "inpatient" if (bill or "")[:2] in ("11", "41") else "outpatient"
        statement = str(dates.get("statement_from_date") or "")
        to = re.findall(r"\d{4}-\d{2}-\d{2}", statement)
        row = {
            "claim_id": claim_id,
            "patient": {"age": _age(demo.get("date_of_birth"), dos), "sex": demo.get("gender") or "U"},
            "date_of_service": dos,
            "claim_type": kind,
            "discharge_date": to[-1] if kind == "inpatient" and to else None,
            "diagnosis_codes": dx,
            "lines": [{"cpt_hcpcs": s["cpt_code"]} for s in services if s.get("cpt_code")],
            "bill_type": bill,
        }
        try:
            claims.append(claim_from_row(row))
        except ValidationError as e:
            rejects.append(Rejected(i, claim_id, _reason(e)))
    return claims, rejects


def _claims_from_strict(rows: list[dict]) -> tuple[list[Claim], list[Rejected]]:
    claims: list[Claim] = []
    rejects: list[Rejected] = []
    for i, r in enumerate(rows, start=1):
        claim_id = str(r.get("claim_id") or f"claim-{i}")
        dos = next((d for d in (_first_date(x) for x in r["dates"]) if d), None)
        if dos is None:
            rejects.append(Rejected(i, claim_id, "no date of service (DTP 472) in the claim"))
            continue
        if not r["dx"]:
            rejects.append(Rejected(i, claim_id, "no diagnosis (HI segment) in the claim"))
            continue
        row = {
            "claim_id": claim_id,
            "patient": {"age": _age(r.get("dob"), dos), "sex": r.get("sex") or "U"},
            "date_of_service": dos,
            "claim_type": "professional",
            "diagnosis_codes": r["dx"],
            "lines": [{"cpt_hcpcs": c} for c in r["cpt"]],
        }
        try:
            claims.append(claim_from_row(row))
        except ValidationError as e:
            rejects.append(Rejected(i, claim_id, _reason(e)))
    return claims, rejects
