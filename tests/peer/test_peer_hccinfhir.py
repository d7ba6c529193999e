"""Peer conformance: ≥ 10,000 generated members scored by hccinfhir 0.4.0 and by hccguide, V28 and V24 (PY2026).

Every difference must be one of the classes written up, with the CMS rule, in tests/peer/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from peer_compare import compare

EXPLAINED = {"esrd_model", "new_enrollee_institutional", "orec_esrd_new_enrollee"}


@pytest.mark.slow
@pytest.mark.parametrize("model", ["V28", "V24"])
def test_every_difference_from_hccinfhir_is_explained(kb, model: str) -> None:
    n, counts, unexplained = compare(kb, 10_000, model)
    assert n >= 10_000
    assert unexplained == [], unexplained[:10]
    assert set(counts) - {"equal"} <= EXPLAINED
    # most members agree to the third decimal; the explained classes are the peer's documented defects
    assert counts["equal"] >= 0.95 * n
    # and each explained class really occurs in the generated population (the README's claims are exercised)
    assert counts["esrd_model"] > 0 and counts["new_enrollee_institutional"] > 0
