"""Any spelling finds the code; bad input fails with a typed error naming the field, value and nearest codes."""

from __future__ import annotations

from datetime import date

import pytest

from hccguide.codes.lookup import choose_code_set, fiscal_year_of, normalize_code
from hccguide.codes.pages import code_page
from hccguide.errors import InvalidCode, UnknownFiscalYear, UnknownPaymentYear


@pytest.mark.parametrize("spelling", ["M87.352", "m87352", " M87.352 ", "m87.352", "M87 352"])
def test_every_spelling_gives_the_same_page(kb, spelling: str) -> None:
    page = code_page(kb, spelling, fy=2026, payment_year=2026)
    assert page["code"] == "M87.352" and page["code_undotted"] == "M87352"


@pytest.mark.parametrize("bad", ["", "   ", "12345", "M8", "M87.3522222", "ZZZ.1!", "E11..9X"])
def test_malformed_codes_are_invalid(bad: str) -> None:
    with pytest.raises(InvalidCode) as err:
        normalize_code(bad)
    assert err.value.field == "code" and err.value.value == bad


def test_absent_code_suggests_nearest_existing_codes(kb) -> None:
    with pytest.raises(InvalidCode) as err:
        code_page(kb, "E11.9X", fy=2026)
    assert err.value.http_status == 404 and err.value.exit_code == 2
    codes = [s["code"] for s in err.value.suggestions]
    assert codes[0] == "E11.9"
    assert err.value.to_dict()["error"]["field"] == "code"


def test_typo_code_suggests_neighbours(kb) -> None:
    with pytest.raises(InvalidCode) as err:
        code_page(kb, "M87.359", fy=2026)  # no such code: M87.35 has 0, 1, 2, 3 only
    assert {"M87.350", "M87.351", "M87.352", "M87.353"} <= {s["code"] for s in err.value.suggestions}


def test_seventh_character_withdrawn_by_note_does_not_exist(kb) -> None:
    # S06: "7th characters D and S do not apply to codes ... with 6th character 7 ... or 8" (CDC FY2026 tabular)
    with pytest.raises(InvalidCode):
        code_page(kb, "S06.1X7D", fy=2026)
    assert code_page(kb, "S06.1X7A", fy=2026)["billable"] is True


def test_unknown_fiscal_year_names_accepted_values(kb) -> None:
    with pytest.raises(UnknownFiscalYear) as err:
        code_page(kb, "M87.352", fy=2019)
    assert err.value.http_status == 422 and err.value.field == "fy" and 2026 in err.value.suggestions


def test_unknown_payment_year_names_accepted_values(kb) -> None:
    with pytest.raises(UnknownPaymentYear) as err:
        code_page(kb, "M87.352", payment_year=2031)
    assert err.value.http_status == 422 and err.value.suggestions == kb.payment_years


def test_fy2027_date_answers_from_fy2027_or_falls_back_and_says_so(kb) -> None:
    # Today (2026-11-24) the FY2027 code set is in force. A KB with the FY2027 code set (built from the CDC
    # addenda) answers from it; a KB without it answers from FY2026 and says so.
    choice = choose_code_set(kb, None, today=date(2026, 11, 24))
    page = code_page(kb, "M87.352", today=date(2026, 11, 24))
    if "FY2027" in kb.code_sets:
        assert choice.code_set == "FY2027" and choice.note is None
        assert page["code_set"] == "FY2027" and page["code_set_note"] is None
    else:
        assert choice.code_set == "FY2026" and "FY2027" in (choice.note or "")
        assert page["code_set"] == "FY2026" and "not loaded" in page["code_set_note"]
    assert page["payment_year"] == 2026


def test_fiscal_year_boundaries() -> None:
    assert fiscal_year_of(date(2025, 9, 30)) == 2025
    assert fiscal_year_of(date(2025, 10, 1)) == 2026
    assert fiscal_year_of(date(2026, 10, 1)) == 2027


def test_payment_year_2027_uses_the_kept_v28_model_and_labels_proposed_rxhcc(kb) -> None:
    # CY2027 Rate Announcement: CMS kept the 2024 CMS-HCC (V28) model, so PY2027 uses the PY2026 V28 table, not
    # the Advance Notice file; RxHCC PY2027 values are the proposed table (raf/payment_years.csv).
    page = code_page(kb, "M87.352", fy=2026, payment_year=2027)
    v28 = next(e for e in page["hcc"] if e["model"] == "CMS-HCC V28")
    assert v28["coefficient_table_year"] == 2026
    assert {c["status"] for c in v28["coefficients"]} == {"final"}
    assert next(c["value"] for c in v28["coefficients"] if c["segment"] == "CNA") == 0.479
    assert any("kept the 2024 CMS-HCC (V28) model" in n for n in v28["notes"])
    rx = next(e for e in page["hcc"] if e["model"] == "RxHCC V08")
    assert {c["status"] for c in rx["coefficients"]} == {"proposed"}
    assert "proposed" in page["payment_year_note"]
    v24 = next(e for e in page["hcc"] if e["model"] == "CMS-HCC V24")
    assert v24["mapped"] is False and "no CMS-HCC V24 diagnosis mapping" in v24["notes"][0]


def test_fy2027_validity_from_the_medicare_code_editor(kb) -> None:
    # D69.1 was split into D69.11/D69.19 for FY2027 (MCE v44); M87.352 is unchanged.
    page = code_page(kb, "D69.1", payment_year=2026, today=date(2026, 11, 24))
    assert page["validity"]["by_fiscal_year"]["FY2026"] is True
    assert page["validity"]["by_fiscal_year"]["FY2027"] is False
    assert page["validity"]["replaced_by"] == ["D69.11", "D69.19"]
    assert "not a valid code for FY2027" in page["validity"]["note"]
    ok = code_page(kb, "M87.352", payment_year=2026, today=date(2026, 11, 24))["validity"]
    assert ok["by_fiscal_year"]["FY2027"] is True and ok["note"] is None
    # Asking for FY2026 explicitly: D69.1 is valid, no note.
    assert code_page(kb, "D69.1", fy=2026, payment_year=2026)["validity"]["note"] is None
