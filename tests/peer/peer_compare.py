"""Score generated members with hccinfhir 0.4.0 and with hccguide, and classify every difference.

Each difference must fall under a CMS rule written up in tests/peer/README.md; anything else is a failure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import duckdb
from hccinfhir.model_calculate import calculate_raf

from hccguide.kb.open import KB
from hccguide.raf.segments import Member
from hccguide.raf.synthetic import generate
from hccguide.raf.trace import score_member

PEER_MODEL = {"V28": "CMS-HCC Model V28", "V24": "CMS-HCC Model V24"}


@dataclass
class Diff:
    member_id: str
    reason: str
    ours: float
    theirs: float | None


def explain(m: dict, ours) -> str | None:  # type: ignore[no-untyped-def]
    """The README section that explains why hccinfhir differs for this member, or None."""
    if m["esrd"]:
        return "esrd_model"
    if m["new_enrollee"] and m["lti"]:
        return "new_enrollee_institutional"
    if m["new_enrollee"] and m["orec"] in ("2", "3"):
        return "orec_esrd_new_enrollee"
    return None


def compare(kb: KB, n: int, model: str, payment_year: int = 2026, seed: int = 11) -> tuple[int, Counter, list[Diff]]:
    con = duckdb.connect()
    generate(con, kb, n, payment_year=payment_year, seed=seed)
    members = con.sql("SELECT * EXCLUDE (i) FROM gen_members ORDER BY i").to_arrow_table().to_pylist()
    dx: dict[str, list[str]] = {}
    for mid, code in con.execute("SELECT member_id, dx_code FROM gen_dx").fetchall():
        dx.setdefault(mid, []).append(code)
    counts: Counter = Counter()
    unexplained: list[Diff] = []
    for m in members:
        codes = dx.get(m["member_id"], [])
        ours = score_member(
            kb,
            Member.from_row(m),
            codes,
            model=model,
            payment_year=payment_year,
        )
        try:
            theirs = calculate_raf(
                codes,
                PEER_MODEL[model],
                age=m["age"],
                sex=m["sex"],
                dual_elgbl_cd=m["dual_status"],
                orec=m["orec"],
                crec=m["crec"],
                new_enrollee=m["new_enrollee"],
                snp=m["snp"],
                lti=m["lti"],
            ).risk_score
        except Exception:
            theirs = None
        if theirs is not None and abs(round(theirs, 3) - ours.risk_score) < 1e-9:
            counts["equal"] += 1
            continue
        reason = explain(m, ours)
        if reason:
            counts[reason] += 1
        else:
            counts["unexplained"] += 1
            unexplained.append(Diff(m["member_id"], "unexplained", ours.risk_score, theirs))
    return len(members), counts, unexplained
