"""Members, their demographics and the model segment CMS scores them in.

Rules (CMS-HCC V24/V28 model software, variables AGEF, DISABL, ORIGDS, NEMCAID, LTIMCAID; CMS Medicare Managed Care
Manual ch. 7 "Risk Adjustment", section 70 (segments)):
- age is the age on February 1 of the payment year (CMS model software AGEF) when a date of birth is given;
- DISABL = age < 65 and OREC != '0'; ORIGDS = OREC = '1' and not DISABL (OREC 1 only: OREC 3 = DIB and ESRD is not
  "originally disabled" in V24/V28);
- segments: long-term institutional → INS; new enrollee → NE (SNPNE in a C-SNP); otherwise community by dual status
  (N non-dual, P partial-benefit dual, F full-benefit dual) and aged (A, age ≥ 65) / disabled (D, age < 65);
  an ESRD member is scored with the CMS-HCC ESRD model (dialysis, transplant or functioning graft), never with
  the community model;
- new enrollee age cells split 65..69 by single year, and a new enrollee aged 64 with OREC 0 takes the 65 cell
  (the beneficiary will be 65 in the payment year; CMS model software, new enrollee section).
Dual status codes (CMS MMR / MARx dual status): full-benefit 02, 04, 08; partial-benefit 01, 03, 05, 06; 00, 07, 09,
10 and blank are treated as non-dual without Medicaid (say so: peers count 09/10 as Medicaid).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from hccguide.errors import BadDate, BadInput
from hccguide.raf.rules import dual_key, member_codes

# Dual status and sex codes: raf/member_codes.csv (rules.member_codes), read by the batch SQL too.
COMMUNITY_SEGMENTS = ("CNA", "CND", "CFA", "CFD", "CPA", "CPD")

# Age cells of the demographic terms (CMS model software age/sex variables).
AGE_BANDS = (
    (0, 34, "0_34"),
    (35, 44, "35_44"),
    (45, 54, "45_54"),
    (55, 59, "55_59"),
    (60, 64, "60_64"),
    (65, 69, "65_69"),
    (70, 74, "70_74"),
    (75, 79, "75_79"),
    (80, 84, "80_84"),
    (85, 89, "85_89"),
    (90, 94, "90_94"),
    (95, 10_000, "95_GT"),
)
# ESRD dialysis new-enrollee cells stop at 85 and over (CMS-HCC ESRD V24 software, DNE variables).
ESRD_NE_AGE_BANDS = (*AGE_BANDS[:9], (85, 10_000, "85_GT"))
# New-enrollee cells split 65-69 into single years (CMS new enrollee tables, NE_* / SNPNE_* variables).
NE_AGE_BANDS = (*AGE_BANDS[:5], *((a, a, str(a)) for a in range(65, 70)), *AGE_BANDS[6:])


@dataclass(frozen=True)
class Member:
    """What a plan knows about one enrollee. `age` or `date_of_birth` and `sex` are required."""

    age: int | None = None
    sex: str | None = None  # 'M' | 'F' (or CMS '1' | '2')
    dual_status: str | None = None  # CMS code '00'..'10' or 'non' | 'partial' | 'full'
    orec: str | None = None  # original reason for entitlement: '0' age, '1' disability, '2' ESRD, '3' both
    crec: str | None = None
    lti: bool = False  # long-term institutional (MDS 90+ days)
    new_enrollee: bool = False
    esrd: bool = False
    snp: bool = False  # C-SNP (selects the SNP new enrollee table)
    graft_months: int | None = None  # ESRD: months since kidney transplant (None = dialysis)
    low_income: bool = False  # RxHCC
    date_of_birth: date | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Member:
        """A Member from a members-file row (column names as in docs/raf.md); other columns are ignored."""
        return cls(**{f.name: row[f.name] for f in fields(cls) if f.name in row})


@dataclass(frozen=True)
class Demographics:
    """The derived variables of the CMS model software for one member, and what was assumed."""

    age: int
    sex: str  # 'F' | 'M'
    dual: str  # 'non' | 'partial' | 'full'
    medicaid: bool
    orec: str
    aged: bool  # age >= 65
    disabled: bool  # DISABL
    origds: bool  # ORIGDS
    lti: bool
    new_enrollee: bool
    esrd: bool
    snp: bool
    graft_months: int | None
    low_income: bool
    defaults: tuple[str, ...] = field(default=())


def age_on(dob: date, as_of: date) -> int:
    """Whole years from dob to as_of."""
    return as_of.year - dob.year - ((as_of.month, as_of.day) < (dob.month, dob.day))


def dual_class(value: str | None) -> str | None:
    """'non' | 'partial' | 'full' from a CMS dual status code or word; None when unrecognised."""
    if value is None or str(value).strip() == "":
        return "non"
    return member_codes("dual_status").get(dual_key(str(value)))


def normalize_sex(value: str | None) -> str | None:
    """'F' | 'M' from a sex code or word (raf/member_codes.csv); None when unrecognised."""
    return member_codes("sex").get((value or "").strip().upper())


def demographics(member: Member, payment_year: int, as_of: date | None = None) -> Demographics:
    """Validate a member and derive the CMS variables. Raises BadInput / BadDate naming the field."""
    defaults: list[str] = []
    age = member.age
    if member.date_of_birth is not None:
        when = as_of or date(payment_year, 2, 1)  # CMS: age as of February 1 of the payment year
        if member.date_of_birth > when:
            raise BadDate(
                "date of birth is after the age reference date",
                field="date_of_birth",
                value=str(member.date_of_birth),
                fix=f"a date before {when}",
            )
        age = age_on(member.date_of_birth, when)
    if age is None:
        raise BadInput("age (or date_of_birth) is required", field="age", value=None, fix="pass --age 72")
    if not isinstance(age, int) or age < 0 or age > 125:
        raise BadInput("age must be a whole number from 0 to 125", field="age", value=age, fix="e.g. 72")
    sex = normalize_sex(member.sex)
    if sex is None:
        raise BadInput("sex must be M or F", field="sex", value=member.sex, fix="pass --sex F or --sex M")
    if member.dual_status is None or str(member.dual_status).strip() == "":
        defaults.append("dual_status defaulted to non-dual (00)")
    dual = dual_class(member.dual_status)
    if dual is None:
        raise BadInput(
            "unknown dual status",
            field="dual_status",
            value=member.dual_status,
            fix="a CMS dual code 00..10, or non / partial / full",
        )
    orec = (member.orec or "").strip()
    if orec == "":
        orec = "0"
        defaults.append("orec defaulted to 0 (old age)")
    if orec not in {"0", "1", "2", "3"}:
        raise BadInput(
            "OREC must be 0, 1, 2 or 3", field="orec", value=member.orec, fix="0 age, 1 disability, 2 ESRD, 3 both"
        )
    if member.graft_months is not None and member.graft_months < 0:
        raise BadInput(
            "graft_months must be ≥ 0", field="graft_months", value=member.graft_months, fix="months since transplant"
        )
    return derive(
        age,
        sex,
        dual,
        orec,
        lti=bool(member.lti),
        new_enrollee=bool(member.new_enrollee),
        esrd=bool(member.esrd),
        snp=bool(member.snp),
        graft_months=member.graft_months,
        low_income=bool(member.low_income),
        defaults=tuple(defaults),
    )


def derive(
    age: int,
    sex: str,
    dual: str,
    orec: str,
    *,
    lti: bool,
    new_enrollee: bool,
    esrd: bool,
    snp: bool,
    graft_months: int | None,
    low_income: bool,
    defaults: tuple[str, ...] = (),
) -> Demographics:
    """The CMS model software's derived variables from already validated values (sex 'M' | 'F', dual 'non' |
    'partial' | 'full', orec '0'..'3'): Medicaid = any dual; aged = age >= 65; DISABL = age < 65 and OREC != 0;
    ORIGDS = OREC 1 and not DISABL. Used by `demographics` and by the batch engines for each demographic key."""
    disabled = age < 65 and orec != "0"
    return Demographics(
        age=age,
        sex=sex,
        dual=dual,
        medicaid=dual in ("full", "partial"),
        orec=orec,
        aged=age >= 65,
        disabled=disabled,
        origds=orec == "1" and not disabled,
        lti=lti,
        new_enrollee=new_enrollee,
        esrd=esrd,
        snp=snp,
        graft_months=graft_months,
        low_income=low_income,
        defaults=defaults,
    )


def band(age: int, bands: tuple[tuple[int, int, str], ...]) -> str:
    for low, high, label in bands:
        if low <= age <= high:
            return label
    raise BadInput("age outside every CMS age band", field="age", value=age, fix="0..125")


@dataclass(frozen=True)
class Segment:
    """The coefficient table a member is scored in, its demographic terms and why."""

    model: str
    segment: str  # 'CNA' | ... | 'INS' | 'NE' | 'SNPNE' | 'DI' | 'DNE' | 'GI' | 'GNE' | 'GFA' | ... | 'TRANSPLANT'
    reason: str
    demographic_terms: tuple[str, ...]  # terms looked up in the segment ('F70_74', 'OriginallyDisabled_Female')
    scores_hccs: bool  # False for new enrollee tables (demographics only)
    extra_terms: tuple[tuple[str, str], ...] = ()  # (segment, term) looked up outside the main segment


def cms_hcc_segment(d: Demographics, model: str) -> Segment:
    """Segment of the CMS-HCC V24/V28 model (community, institutional, new enrollee)."""
    sex_word = "Female" if d.sex == "F" else "Male"
    if d.new_enrollee:
        seg = "SNPNE" if d.snp else "NE"
        ne_age = 65 if (d.age == 64 and d.orec == "0") else d.age
        origdis = d.age >= 65 and d.orec == "1"
        term = f"{'MCAID' if d.medicaid else 'NMCAID'}_{'ORIGDIS' if origdis else 'NORIGDIS'}_NE{d.sex}{band(ne_age, NE_AGE_BANDS)}"
        why = "new enrollee in a C-SNP: SNP new enrollee table" if d.snp else "new enrollee: new enrollee table"
        if d.lti:
            why += " (institutional status does not apply to new enrollees)"
        if ne_age != d.age:
            why += "; aged 64 with OREC 0, so the 65 cell is used"
        return Segment(model, seg, why, (term,), False)
    cell = f"{d.sex}{band(d.age, AGE_BANDS)}"
    if d.lti:
        terms = [cell]
        if d.origds:
            terms.append("ORIGDS")
        if d.medicaid:
            terms.append("LTIMCAID")
        return Segment(model, "INS", "long-term institutional (LTI flag): institutional table", tuple(terms), True)
    letter = {"non": "N", "partial": "P", "full": "F"}[d.dual]
    aged = "A" if d.aged else "D"
    seg = f"C{letter}{aged}"
    terms = [cell]
    if d.origds:
        terms.append(f"OriginallyDisabled_{sex_word}")
    why = f"community, {d.dual}-dual ({'full-benefit' if d.dual == 'full' else d.dual}), " + (
        "aged (age ≥ 65)" if d.aged else "disabled (age < 65)"
    )
    return Segment(model, seg, why, tuple(terms), True)


def esrd_segment(d: Demographics, model: str) -> Segment:
    """Segment of the CMS-HCC ESRD V24 model: dialysis, transplant months 1-3, or functioning graft.

    Source: CMS-HCC ESRD V24 model software (2023 ESRD model): dialysis (DI, DNE), kidney transplant flat rates for
    months 1-3 (TRANSPLANT_KIDNEY_ONLY_1M..3M), functioning graft from month 4 (GI institutional, GNE new enrollee,
    GFA/GFN full-benefit dual aged/non-aged, GNPA/GNPN non- or partial-dual aged/non-aged) plus the graft-duration
    add-ons (FGC community, FGI institutional, by months 4-9 / 10+ and dual status).
    """
    sex_word = "Female" if d.sex == "F" else "Male"
    aged_word = "Aged" if d.aged else "NonAged"
    gm = d.graft_months
    if gm is not None and 1 <= gm <= 3:
        return Segment(
            model, "TRANSPLANT", f"kidney transplant, month {gm}: transplant rate", (f"KIDNEY_ONLY_{gm}M",), False
        )
    if gm is None or gm == 0:
        if d.new_enrollee:
            cell = band(d.age, ESRD_NE_AGE_BANDS)
            origdis = d.age >= 65 and d.orec == "1"
            term = f"{'FBD' if d.dual == 'full' else 'ND_PBD'}_{'ORIGDIS' if origdis else 'NORIGDIS'}_NE{d.sex}{cell}"
            return Segment(model, "DNE", "ESRD dialysis, new enrollee: dialysis new enrollee table", (term,), False)
        terms = [f"{d.sex}{band(d.age, AGE_BANDS)}"]
        if d.aged and d.origds:
            terms.append(f"OriginallyDisabled_{sex_word}")
        if d.aged and d.orec in ("2", "3"):
            terms.append(f"Originally_ESRD_{sex_word}")
        if d.dual == "full":
            terms.append(f"FBDual_{sex_word}_{aged_word}")
        elif d.dual == "partial":
            terms.append(f"PBDual_{sex_word}_{aged_word}")
        if d.lti:
            terms.append(f"LTI_{aged_word}")
        return Segment(model, "DI", "ESRD dialysis: dialysis table", tuple(terms), True)
    # functioning graft, month 4 onwards
    dur = "DUR4_9" if gm <= 9 else "DUR10PL"
    age_word = "GE65" if d.aged else "LT65"
    dual_word = "FBD" if d.dual == "full" else "ND_PBD"
    if d.new_enrollee:
        ne_age = 65 if (d.age == 64 and d.orec == "0") else d.age
        origdis = d.age >= 65 and d.orec == "1"
        term = f"{dual_word}_{'ORIGDIS' if origdis else 'NORIGDIS'}_G_NE{d.sex}{band(ne_age, NE_AGE_BANDS)}"
        return Segment(model, "GNE", f"ESRD functioning graft month {gm}, new enrollee", (term,), False)
    cell = f"{d.sex}{band(d.age, AGE_BANDS)}"
    extra: list[tuple[str, str]] = []
    if d.lti:
        terms = [cell] + (["ORIGDS"] if d.origds else [])
        extra.append(("FGI", f"{age_word}_{dur}_{dual_word}"))
        if d.dual == "partial":
            extra.append(("FGI", f"PBD_{age_word}_flag"))
        extra.append(("LTI", age_word))
        return Segment(
            model, "GI", f"ESRD functioning graft month {gm}, institutional", tuple(terms), True, tuple(extra)
        )
    seg = ("GF" if d.dual == "full" else "GNP") + ("A" if d.aged else "N")
    terms = [cell] + ([f"OriginallyDisabled_{sex_word}"] if d.origds else [])
    extra.append(("FGC", f"{age_word}_{dur}_{dual_word}"))
    if d.dual == "partial":
        extra.append(("FGC", f"PBD_{age_word}_flag"))
    return Segment(model, seg, f"ESRD functioning graft month {gm}, community", tuple(terms), True, tuple(extra))


def rx_segment(d: Demographics, model: str) -> Segment:
    """Segment of the RxHCC V08 model (CMS RxHCC model software R08): continuing enrollees by low-income status and
    aged/non-aged (Rx_CE_LowAged, Rx_CE_LowNoAged, Rx_CE_NoLowAged, Rx_CE_NoLowNoAged), long-term institutional
    (Rx_CE_LTI), new enrollees (Rx_NE_Lo, Rx_NE_NoLo, Rx_NE_LTI) whose cells cross ESRD and originally-disabled
    status (ESRD_OD_x_F65, NESRD_NOD_x_M70_74, ...). Aged originally-disabled community members get the
    {sex}65OD term; institutional ones ORIGDS.
    """
    if d.new_enrollee:
        seg = "Rx_NE_LTI" if d.lti else ("Rx_NE_Lo" if d.low_income else "Rx_NE_NoLo")
        ne_age = 65 if (d.age == 64 and d.orec == "0") else d.age
        origdis = d.age >= 65 and d.orec == "1"
        term = f"{'ESRD' if d.esrd else 'NESRD'}_{'OD' if origdis else 'NOD'}_x_{d.sex}{band(ne_age, NE_AGE_BANDS)}"
        return Segment(
            model,
            seg,
            f"RxHCC new enrollee ({'LTI' if d.lti else 'low income' if d.low_income else 'not low income'})",
            (term,),
            False,
        )
    terms = [f"{d.sex}{band(d.age, AGE_BANDS)}"]
    if d.lti:
        seg = "Rx_CE_LTI"
        if d.origds:
            terms.append("ORIGDS")
        why = "RxHCC continuing enrollee, long-term institutional"
    else:
        seg = "Rx_CE_" + ("Low" if d.low_income else "NoLow") + ("Aged" if d.aged else "NoAged")
        if d.origds:
            terms.append(f"{d.sex}65OD")
        why = (
            f"RxHCC continuing enrollee, community, {'low income' if d.low_income else 'not low income'}, "
            f"{'aged' if d.aged else 'non-aged'}"
        )
    return Segment(model, seg, why, tuple(terms), True)


def select_segment(d: Demographics, model: str) -> Segment:
    """The segment of `model` this member is scored in."""
    if model == "CMS-HCC ESRD V24":
        return esrd_segment(d, model)
    if model == "RxHCC V08":
        return rx_segment(d, model)
    return cms_hcc_segment(d, model)
