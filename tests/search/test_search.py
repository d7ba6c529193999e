"""Behaviour of the encoder search on the real index of today's code set (FY2027 since 2026-10-01; FY2026 on
request): specificity, 7th characters, codes, filters, errors."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccguide.codes.lookup import choose_code_set
from hccguide.errors import BadInput, UnknownFiscalYear, UnknownModel
from hccguide.kb.open import KB
from hccguide.search.index import SearchIndex, build_index, cache_dir, open_index
from hccguide.search.query import search


def codes_of(kb: KB, q: str, **kw: object) -> list[str]:
    return [r["code"] for r in search(kb, q, **kw)["results"]]  # type: ignore[arg-type]


# given a query, when searched, then the first result is the code a coder would pick
FIRST = [
    ("CKD 3b", "N18.32", "abbreviation with a sub-stage"),
    ("hfref", "I50.20", "inclusion term of the I50.2 header reaches its unspecified child"),
    ("s/p right BKA", "Z89.511", "status-post abbreviation and laterality"),
    ("h/o breast ca", "Z85.3", "history-of and cancer abbreviations"),
    ("bed sore sacrum stage 4", "L89.154", "lay term and stage"),
    ("high blood pressure", "I10", "an Includes note of I10"),
    ("BMI 42", "Z68.41", "a number inside the printed range 40.0-44.9"),
    ("T2DM", "E11.9", "unspecified beats 'with unspecified complications'"),
    ("MDD recurrent moderate", "F33.1", "words in any order"),
]


@pytest.mark.parametrize(("q", "code", "why"), FIRST, ids=[f[0] for f in FIRST])
def test_first_result(served_kb: KB, index: SearchIndex, q: str, code: str, why: str) -> None:
    assert codes_of(served_kb, q, limit=5)[0] == code, why


@pytest.mark.parametrize(
    ("q", "code", "base", "assumed"),
    [
        ("hip fracture right initial", "S72.001A", "S72.001", False),
        ("right femoral neck fracture subsequent encounter routine healing", "S72.001D", "S72.001", False),
        ("right femoral neck fracture sequela", "S72.001S", "S72.001", False),
        ("closed fracture right femur nonunion subsequent", "S72.91XK", "S72.91", False),
        ("right femoral neck fracture", "S72.001A", "S72.001", True),
    ],
)
def test_episode_of_care_picks_the_7th_character(served_kb: KB, q: str, code: str, base: str, assumed: bool) -> None:
    first = search(served_kb, q, limit=3)["results"][0]
    assert first["code"] == code
    assert first["billable"] is True
    assert first["seventh_character"]["assumed"] is assumed
    assert first["seventh_character"]["base"] == base
    assert {c["character"] for c in first["seventh_character"]["choices"]} >= {"A", "D", "S"}


@pytest.mark.parametrize("q", ["S72.001A", "s72001a", "E11.9", "e119", "I10"])
def test_code_shaped_query_finds_the_code_first(served_kb: KB, q: str) -> None:
    first = codes_of(served_kb, q, limit=3)[0]
    assert first.replace(".", "") == q.upper().replace(".", "")


def test_header_lists_billable_choices_and_axes(served_kb: KB) -> None:
    first = search(served_kb, "L89.62", limit=5)["results"][0]
    assert first["code"] == "L89.62" and first["billable"] is False
    assert [c["code"] for c in first["choices"]][:3] == ["L89.620", "L89.621", "L89.622"]
    assert "stage" in first["axes"]


@pytest.mark.parametrize(
    ("q", "header", "first_choice", "why"),
    [
        ("breast cancer", "C50", "C50.919", "no site, side or type said: the unspecified code, not inflammatory C50.A0"),
        ("ckd", "N18", "N18.9", "no stage said: N18.9, not stage 1"),
        ("heart failure", "I50", "I50.9", "no type said: I50.9"),
    ],
)
def test_header_choices_start_with_what_the_words_support(served_kb: KB, q: str, header: str, first_choice: str,
                                                          why: str) -> None:
    """The note checker codes a header by its first choice, so the first must add nothing the text did not say."""
    result = next(r for r in search(served_kb, q, limit=10)["results"] if r["code"] == header)
    assert result["choices"][0]["code"] == first_choice, why


@pytest.mark.parametrize(
    ("q", "first", "why"),
    [
        ("heel ulcer", "L97.409", "Index: Ulcer, lower limb, heel L97.4-; not a pressure ulcer unless written (kind index)"),
        ("heel pressure ulcer", "L89.609", "pressure written: L89.6-"),
        ("OA", "M19.90", "osteoarthritis with no site or type: not 'primary osteoarthritis of shoulder'"),
        ("right knee OA", "M17.11", "the knee code still comes first"),
    ],
)
def test_index_readings_of_short_phrases(served_kb: KB, q: str, first: str, why: str) -> None:
    assert search(served_kb, q, limit=3)["results"][0]["code"] == first, why


def test_typo_is_corrected_and_reported(served_kb: KB) -> None:
    answer = search(served_kb, "osteomylitis l foot", limit=5)
    assert {"from": "osteomylitis", "to": "osteomyelitis"} in answer["corrections"]
    assert all(r["code"].startswith("M86") for r in answer["results"][:5])
    assert any("left" in r["title"].lower() for r in answer["results"][:1])


def test_answer_carries_release_code_set_and_v28_hcc(served_kb: KB, index: SearchIndex) -> None:
    answer = search(served_kb, "chronic osteomyelitis left foot with draining sinus", limit=3)
    assert answer["kb"]["release_id"] == served_kb.release_id
    assert answer["code_set"] == index.code_set == choose_code_set(served_kb).code_set
    first = answer["results"][0]
    assert first["code"] == "M86.472"
    cc = served_kb.query(
        "SELECT cc FROM dx_to_cc WHERE model = 'CMS-HCC V28' AND payment_year = ? AND code = 'M86472'",
        [answer["payment_year"]],
    )
    assert first["v28_hcc"] == cc[0]["cc"]


def test_filters(served_kb: KB) -> None:
    billable = search(served_kb, "diabetes", limit=20, billable=True)["results"]
    assert billable and all(r["billable"] for r in billable)
    hcc = search(served_kb, "diabetes", limit=20, hcc="V28")["results"]
    mapped = {
        r["code"]
        for r in served_kb.query("SELECT code FROM dx_to_cc WHERE model = 'CMS-HCC V28' AND payment_year = 2026")
    }
    assert hcc and all(r["code"].replace(".", "") in mapped for r in hcc)
    assert all(r["hcc"]["model"] == "CMS-HCC V28" for r in hcc)
    chapter = search(served_kb, "ulcer", limit=20, chapter=12)["results"]
    assert chapter and all(r["chapter"] == 12 and r["code"].startswith("L") for r in chapter)


@pytest.mark.parametrize("q", ["", " ", "x", "a" * 2001])
def test_bad_query_raises_bad_input_naming_q(served_kb: KB, q: str) -> None:
    with pytest.raises(BadInput) as err:
        search(served_kb, q)
    assert err.value.field == "q"


def test_long_query_is_answered(served_kb: KB) -> None:
    answer = search(served_kb, ("type 2 diabetes with chronic kidney disease " * 50)[:2000], limit=5)
    assert answer["results"][0]["code"] == "E11.22"
    assert any("first" in n for n in answer["notes"])


def test_unknown_model_and_bad_limit(served_kb: KB) -> None:
    with pytest.raises(UnknownModel):
        search(served_kb, "diabetes", hcc="V99")
    with pytest.raises(BadInput) as err:
        search(served_kb, "diabetes", limit=0)
    assert err.value.field == "limit"


WORDS = [
    "heart",
    "failure",
    "chf",
    "left",
    "fracture",
    "femur",
    "initial",
    "ulcer",
    "stage",
    "3",
    "copd",
    "ca",
    "h/o",
    "s/p",
    "bka",
    "xyzzy",
    "diabtes",
    "E11",
    "S72.0",
    "of",
    "with",
    "w/o",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
def test_search_never_returns_a_code_that_does_not_exist(served_kb: KB, words: list[str]) -> None:
    q = " ".join(words)
    if len(q.strip()) < 2:
        return
    today = choose_code_set(served_kb).code_set
    known_sql = f"SELECT count(*) AS n FROM codes WHERE code_set = '{today}' AND code_dotted = ?"
    answer = search(served_kb, q, limit=10)
    for r in answer["results"]:
        assert served_kb.query(known_sql, [r["code"]])[0]["n"] == 1, r
        for c in r.get("choices", []):
            assert served_kb.query(known_sql, [c["code"]])[0]["n"] == 1, c


def test_index_is_cached_next_to_the_kb_and_reloads_identically(served_kb: KB, index: SearchIndex) -> None:
    assert open_index(served_kb, index.code_set) is index  # memoized on the KB handle
    folder = cache_dir(served_kb, index.code_set)
    assert folder.parent == served_kb.path.parent
    assert served_kb.release_id in folder.name and (folder / "docs.json").is_file()
    fresh = build_index(served_kb, index.code_set)  # in memory, not cached
    assert [d.code for d in fresh.docs] == [d.code for d in index.docs]
    assert fresh.idf == index.idf


def test_unloaded_fiscal_year_is_refused_naming_fy(served_kb: KB) -> None:
    assert search(served_kb, "copd", fy=2026)["code_set"] == "FY2026"
    with pytest.raises(UnknownFiscalYear) as err:
        search(served_kb, "copd", fy=2019)
    assert err.value.field == "fy"


def test_a_damaged_cache_is_rebuilt(served_kb: KB, index: SearchIndex, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Given a copy of the cache whose docs.json is cut short, when it is opened, then it is rebuilt in place
    and holds the same documents as the real index."""
    import shutil

    from hccguide.search.index import open_at

    copy = tmp_path / cache_dir(served_kb, index.code_set).name
    shutil.copytree(cache_dir(served_kb, index.code_set), copy)
    (copy / "docs.json").write_text((copy / "docs.json").read_text()[:1000])
    rebuilt = open_at(served_kb, index.code_set, copy)
    assert rebuilt.build_seconds is not None
    assert (copy / "docs.json").stat().st_size > 1_000_000
    assert [d.code for d in rebuilt.docs] == [d.code for d in index.docs]
    assert open_at(served_kb, index.code_set, copy).build_seconds is None  # now loaded, not rebuilt


@pytest.fixture(scope="module")
def every_code(served_kb: KB) -> list[str]:
    today = choose_code_set(served_kb).code_set
    return [r["code_dotted"] for r in served_kb.query("SELECT code_dotted FROM codes WHERE code_set = ?", [today])]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_code_of_the_tabular_is_found_first(served_kb: KB, every_code: list[str], data: st.DataObject) -> None:
    """Law: searching for a code (dotted or not, any case) answers that code first, 7th-character codes too."""
    code = data.draw(st.sampled_from(every_code))
    spelling = data.draw(st.sampled_from([code, code.replace(".", ""), code.lower()]))
    assert codes_of(served_kb, spelling, limit=1) == [code]
