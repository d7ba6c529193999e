"""The one request model of a member to score, and its bounds: the API body, the `/score` page and
`hccguide score` all build `raf.Member` from `ScoreRequest` (docs/raf.md, "Score one member").

Rules (one set for every face and for the batch engines; the bounds live in raf/bounds.py, without pydantic, so
that the batch command does not import it):
- integers only: `age`, `graft_months` and `payment_year` are whole numbers; booleans are not numbers
  (`"age": true` is refused), fractions are refused (72.5), as are NaN and Infinity; a JSON number written with a
  zero fraction (72.0) is the integer it equals, as JSON Schema's `integer` type says (1e20 then fails the bounds);
- `age` is the age on February 1 of the payment year, AGE_MIN..AGE_MAX (raf.segments.demographics refuses the
  same range; the CMS age cells end with an open "95 and over" cell, AGE_BANDS);
- `graft_months` (ESRD, months since a kidney transplant) GRAFT_MONTHS_MIN..GRAFT_MONTHS_MAX (a lifetime at
  AGE_MAX; the CMS ESRD graft cells are 1-3, 4-9 and 10+ months);
- `payment_year` must be a payment year the knowledge base holds tables for (`kb.payment_years`): checked by
  `ScoreRequest.to_member(kb)` (UnknownPaymentYear), stated as an enum in the OpenAPI schema by web/app.py;
- at most DX_MAX diagnoses per member, each code at most CODE_MAX_CHARS characters;
- `age` or `date_of_birth`, and `sex`, are required.

Errors: `ScoreRequest.parse(data)` turns a pydantic ValidationError into BadInput naming the field path
(`dx.3.code`), the offending value (JSON-safe, truncated) and the rule.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from hccguide.errors import BadDate, BadInput, UnknownPaymentYear
from hccguide.raf.bounds import (  # the one request model's bounds (re-exported)
    AGE_MAX,
    AGE_MIN,
    CODE_MAX_CHARS,
    DX_MAX,
    GRAFT_MONTHS_MAX,
    GRAFT_MONTHS_MIN,
    PAYMENT_YEAR_MAX,
    PAYMENT_YEAR_MIN,
    VALUE_MAX_CHARS,
)
from hccguide.raf.segments import Member, age_on


def model_names() -> list[str]:
    """Every model name the one resolver (kb.reference.resolve_model, model_aliases.csv) accepts, as written there,
    then the KB model keys: the enum of `model` (score) and `hcc` (search) in the OpenAPI schema."""
    from hccguide.kb.reference import rule_rows, supported_models

    return list(dict.fromkeys([*(r["alias"].strip() for r in rule_rows("model_aliases.csv")), *supported_models()]))


MODEL_CHOICES = tuple(model_names())
SEX_PATTERN = r"^(M|F|m|f|1|2)$"
DUAL_PATTERN = r"^(0?[0-9]|10|non|partial|full)$"
OREC_PATTERN = r"^[0-3]$"
ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _whole(value: Any) -> Any:
    """A JSON number without a fraction (72.0) is the integer it equals (JSON Schema's `integer` says the same);
    booleans, 72.5, NaN and Infinity are left for StrictInt to refuse."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# Integers only: true/false are not numbers, 72.5 is not a whole number; 72.0 is 72.
WholeInt = Annotated[StrictInt, BeforeValidator(_whole)]


def _iso_date(value: Any) -> Any:
    """A date only from a YYYY-MM-DD string or a date (pydantic would also take a Unix time number)."""
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("a date is written YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("a date is written YYYY-MM-DD (a real calendar date)") from None


IsoDate = Annotated[
    date, BeforeValidator(_iso_date), Field(json_schema_extra={"format": "date", "pattern": ISO_DATE_PATTERN})
]


class DxEntry(BaseModel):
    """One diagnosis with its own date of service."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=CODE_MAX_CHARS, description="ICD-10-CM code, dotted or not")
    date_of_service: IsoDate | None = Field(
        None,
        description="YYYY-MM-DD, in the model year (the calendar year before the payment year); default: the "
        "request's date_of_service",
    )


class ScoreRequest(BaseModel):
    """One member to score (docs/raf.md). `age` or `date_of_birth`, and `sex`, are required."""

    model_config = ConfigDict(
        extra="forbid",
        # age or date_of_birth is required (raf.segments.demographics); stated here for the schema's readers
        json_schema_extra={"anyOf": [{"required": ["age"]}, {"required": ["date_of_birth"]}]},
    )

    model: str = Field("V28", description="risk model", json_schema_extra={"enum": list(MODEL_CHOICES)})
    payment_year: WholeInt = Field(
        2026,
        ge=PAYMENT_YEAR_MIN,
        le=PAYMENT_YEAR_MAX,
        description="CMS payment year; must be one the knowledge base holds tables for (GET /api/kb payment_years)",
    )
    # Typed without None so that the schema (and validation) refuse an explicit null; absent means "not given".
    age: WholeInt = Field(  # type: ignore[assignment]
        None, ge=AGE_MIN, le=AGE_MAX, description="whole years on February 1 of the payment year (or date_of_birth)"
    )
    date_of_birth: IsoDate = Field(  # type: ignore[assignment]
        None, description="YYYY-MM-DD, instead of age; not after February 1 of the payment year"
    )
    sex: str = Field(..., pattern=SEX_PATTERN, description="M or F (CMS 1 = M, 2 = F)")
    dual_status: str | None = Field(
        None, pattern=DUAL_PATTERN, description="CMS dual status code 00..10, or non / partial / full; default non"
    )
    orec: str | None = Field(
        None, pattern=OREC_PATTERN, description="original reason for entitlement 0..3; default 0 (old age)"
    )
    lti: StrictBool = Field(False, description="long-term institutional (MDS 90+ days)")
    new_enrollee: StrictBool = Field(False, description="new enrollee")
    esrd: StrictBool = Field(False, description="ESRD: scored with the CMS-HCC ESRD V24 model")
    snp: StrictBool = Field(False, description="C-SNP member (SNP new enrollee table)")
    graft_months: Annotated[StrictInt, Ge(GRAFT_MONTHS_MIN), Le(GRAFT_MONTHS_MAX), BeforeValidator(_whole)] | None = (
        Field(
            None,
            description="ESRD: months since a kidney transplant (none = dialysis)",
        )
    )
    low_income: StrictBool = Field(False, description="RxHCC: low-income subsidy")
    dx: list[Annotated[str, Field(max_length=CODE_MAX_CHARS)] | DxEntry] = Field(
        default_factory=list,
        max_length=DX_MAX,
        description=f"ICD-10-CM codes, dotted or not, or {{code, date_of_service}}; at most {DX_MAX}",
    )
    date_of_service: IsoDate | None = Field(
        None,
        description="YYYY-MM-DD: date of the diagnoses without their own, in the model year (MCE sex edits "
        "are chosen by date)",
    )

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ScoreRequest:
        """Validate a dict (CLI options, page form) into a ScoreRequest. Raises BadInput naming the first bad
        field path, its value (JSON-safe, truncated) and the rule broken."""
        try:
            return cls.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as exc:
            raise validation_error(exc.errors(include_url=False)) from None

    def check(self, payment_years: list[int]) -> None:
        """UnknownPaymentYear unless `payment_year` is one of the loaded payment years."""
        if self.payment_year not in payment_years:
            raise UnknownPaymentYear(
                f"no CMS tables for payment year {self.payment_year}",
                field="payment_year",
                value=self.payment_year,
                fix="use one of " + ", ".join(str(y) for y in payment_years),
                suggestions=list(payment_years),
            )

    def to_member(self, kb: Any) -> Member:
        """The `raf.Member` of this request, after checking the payment year against `kb.payment_years`."""
        self.check(list(kb.payment_years))
        if self.date_of_birth is not None:
            when = date(self.payment_year, 2, 1)  # CMS: age on February 1 of the payment year
            if self.date_of_birth <= when and age_on(self.date_of_birth, when) > AGE_MAX:
                raise BadDate(
                    f"a date of birth more than {AGE_MAX} years before February 1 of the payment year",
                    field="date_of_birth",
                    value=self.date_of_birth.isoformat(),
                    fix=f"a date of birth after {date(self.payment_year - AGE_MAX - 1, 2, 1).isoformat()}",
                )
        return Member(
            age=self.age,
            sex=self.sex,
            dual_status=self.dual_status,
            orec=self.orec,
            lti=self.lti,
            new_enrollee=self.new_enrollee,
            esrd=self.esrd,
            snp=self.snp,
            graft_months=self.graft_months,
            low_income=self.low_income,
            date_of_birth=self.date_of_birth,
        )

    def dx_inputs(self) -> list[str | tuple[str, date | None]]:
        """The diagnoses as `score_member` takes them: codes, or (code, date of service) pairs."""
        return [d if isinstance(d, str) else (d.code, d.date_of_service) for d in self.dx]

    def score(self, kb: Any) -> Any:
        """`raf.trace.score_member` of this request: a ScoreResult. Raises the typed errors of score_member."""
        from hccguide.raf.trace import score_member

        return score_member(
            kb,
            self.to_member(kb),
            self.dx_inputs(),
            model=self.model,
            payment_year=self.payment_year,
            date_of_service=self.date_of_service,
        )


def safe_value(value: Any, limit: int = VALUE_MAX_CHARS) -> Any:
    """A JSON-safe, truncated copy of a user value for an error body: bytes are never echoed (their length is),
    NaN/Infinity become strings, long strings and containers are cut to `limit` characters / 10 items."""
    if value is None or isinstance(value, bool | int):
        return value if not isinstance(value, int) or abs(value) < 10**18 else str(value)[:limit]
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, dict):
        return {str(k)[:limit]: safe_value(v, limit) for k, v in list(value.items())[:10]}
    if isinstance(value, list | tuple):
        items = [safe_value(v, limit) for v in list(value)[:10]]
        return [*items, f"… {len(value) - 10} more"] if len(value) > 10 else items
    if isinstance(value, date):
        return value.isoformat()
    return safe_value(str(value), limit)


def field_path(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """'dx[3].code' (the style of raf.trace's own errors) from a pydantic error location, without the request part
    ('body', 'query', 'path') and the union branch names pydantic adds ('str', 'DxEntry')."""
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p not in ("body", "query", "path", "header", "cookie", "str", "DxEntry") and not str(p).startswith(
            ("function-", "constrained-")
        ):
            out += f".{p}" if out else str(p)
    return out or None


def validation_error(errors: list[dict[str, Any]]) -> BadInput:
    """BadInput from pydantic error dicts: the first error's field path, message and value (JSON-safe)."""
    # A union (dx items: a code string or {code, date_of_service}) reports one error per branch: keep the branch
    # the input was meant for (a dict is not a failed string).
    meant = [e for e in errors if e.get("type") not in ("string_type", "model_type")] or errors
    first = meant[0] if meant else {}
    loc = tuple(first.get("loc", ()))
    field = field_path(loc)
    msg = str(first.get("msg", "invalid value"))
    if field is None and loc[:1] == ("body",):  # the body as a whole: absent, null, a list, a string
        field = "body"
        msg = "the request body must be a JSON object" + (" (it is empty)" if first.get("type") == "missing" else "")
    elif first.get("type") == "extra_forbidden":
        msg = f"unknown field {field!r}"
    elif first.get("type") == "missing":
        msg = f"{field} is required"
    err = BadInput(
        f"{field}: {msg}" if field and not msg.startswith(field) else msg,
        field=field,
        value=safe_value(first.get("input")) if first.get("type") != "missing" else None,
        fix=_FIXES.get(re.split(r"[.\[]", field or "")[0]),
    )
    return err


_FIXES = {
    "age": f"a whole number {AGE_MIN}..{AGE_MAX}, e.g. 72",
    "graft_months": f"a whole number of months {GRAFT_MONTHS_MIN}..{GRAFT_MONTHS_MAX}",
    "payment_year": "a whole year such as 2026 (GET /api/kb lists the loaded payment years)",
    "sex": "M or F",
    "dual_status": "a CMS dual code 00..10, or non / partial / full",
    "orec": "0 age, 1 disability, 2 ESRD, 3 both",
    "dx": f'a list of at most {DX_MAX} codes, e.g. ["E11.9", {{"code": "I50.22", "date_of_service": "2025-03-01"}}]',
    "date_of_birth": "YYYY-MM-DD",
    "date_of_service": "YYYY-MM-DD",
    "model": "V28, V24, ESRD-V24 or RxHCC-V08",
}


def form_int(text: str | None, field: str) -> int | None:
    """A whole number typed in an HTML form field: None when blank; ASCII digits only (a superscript '²' passes
    str.isdigit() but is no number). Raises BadInput naming the field."""
    t = (text or "").strip()
    if t == "":
        return None
    sign = -1 if t.startswith("-") else 1
    digits = t.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
        raise BadInput(
            f"{field.replace('_', ' ')} must be a whole number",
            field=field,
            value=safe_value(text),
            fix=_FIXES.get(field),
        )
    return sign * int(digits)


def payment_year_status(models: set[str] | list[str], kb: Any) -> dict[int, str]:
    """{payment year: 'final' | 'proposed' | ''} for the models a code maps to: 'proposed' when one of them scores
    that payment year with an Advance Notice table (the coefficient table and status of raf/payment_years.csv and
    what the user loaded: raf.tables.kb_payment_year_constants; PY2027 CMS-HCC V28 uses the final PY2026 table),
    '' when none of them has constants for the year."""
    from hccguide.raf.tables import kb_payment_year_constants

    constants = kb_payment_year_constants(kb)
    status: dict[int, str] = {}
    for y in kb.payment_years:
        used = [constants[(y, m)].coefficient_status for m in models if (y, m) in constants]
        status[y] = "proposed" if "proposed" in used else ("final" if used else "")
    return status
