"""The batch path (one SQL run over the whole reference tables, many claims) equals the single-claim path (the same
SQL over the reference rows of one claim's codes, checks._small_database): every finding of every claim, on the rule
cases of test_rules.py and on generated claims drawn from every billable code."""

from __future__ import annotations

import random

import pyarrow as pa
from test_rules import CASES, _claim  # same folder (pytest puts it on sys.path)

from hccguide.claims import checks
from hccguide.claims.models import Claim
from hccguide.claims.reference import references
from hccguide.kb.open import KB


def _rows(table: pa.Table, offset: int = 0) -> set[tuple]:
    return {(r["ck"] + offset, r["rule"], r["severity"], tuple(r["codes"]), r["message"]) for r in table.to_pylist()}


def test_batch_equals_single(kb: KB) -> None:
    claims: list[Claim] = [_claim(c[1], c[2], c[3], c[4], c[5], c[6], c[7]) for c in CASES]
    codes = [r["code"] for r in kb.query("SELECT code_dotted AS code FROM codes WHERE code_set = 'FY2026'")]
    rnd = random.Random(16)
    for i in range(60):
        dx = rnd.sample(codes, rnd.randint(1, 6))
        if i % 5 == 0:
            dx.append(dx[0])  # a duplicate
        claims.append(
            Claim.model_validate(
                {
                    "patient": {"age": rnd.randint(0, 99), "sex": rnd.choice("MF")},
                    "date_of_service": f"202{rnd.choice('3456')}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
                    "diagnosis_codes": dx,
                    "lines": [{"cpt_hcpcs": rnd.choice(["99213", "81002"])}],
                }
            )
        )
    refs = references(kb)
    tables = checks.claim_tables(claims)
    batch = _rows(checks._run(refs.cursor(), refs, *tables, close=True))
    single: set[tuple] = set()
    for i, claim in enumerate(claims):
        single |= _rows(checks.run_findings(refs, *checks.claim_tables([claim])), offset=i)
    assert batch == single
    assert len(batch) > 40  # the cases are not all clean
