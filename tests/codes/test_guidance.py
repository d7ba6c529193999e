"""Confusable codes, documentation checklist and FAQ (issue 17) on 47 codes across all 22 chapters.

Expectations were read by hand from the CDC FY2026 ICD-10-CM tabular (titles, the codes beside each code in its
category, and the Excludes1/Excludes2/Use additional/Code first notes printed on the code, its categories and
block); the `why` column names the tabular fact. The five seed pages (M87.352, M85.89, L97.904, M86.50, L97.903)
are among them. A row fails when an expected code is missing from the confusable list, a checklist item does not
mention an expected fact, or no FAQ answer names an expected code.
"""

from __future__ import annotations

import json

import pytest

from hccguide.codes.pages import code_page

# (code, chapter, confusable codes expected, checklist mentions expected, codes the FAQ must name, why)
CASES = [
    (
        "M87.352",
        13,
        {"M87.052", "M87.852", "M87.152", "M87.252", "M87.351"},
        {"left", "secondary", "M89.7-"},
        {"M89.7"},
        "M87.0/.1/.2/.8 have the same site and side under another cause; M87 Use additional code M89.7-",
    ),
    (
        "M86.50",
        13,
        {"M86.60", "M86.00", "M46.2"},
        {"hematogenous", "site", "infectious agent", "osseous defect", "chronic", "vertebra"},
        {"M46.2", "B95", "B97", "M89.7"},
        "M86: Use additional B95-B97 and M89.7-, Excludes2 vertebra (M46.2-)",
    ),
    (
        "M85.89",
        13,
        {"M85.88", "M48.1"},
        {"multiple sites", "hyperostosis"},
        {"M48.1"},
        "M85.8 sites by 5th character; M85.8 Excludes1 DISH (M48.1)",
    ),
    (
        "M80.08XA",
        13,
        {"M80.88XA", "M80.08XD"},
        {"initial encounter", "osseous defect"},
        {"M89.7", "M48.5"},
        "7th character D = subsequent encounter; M80 Use additional M89.7-, Excludes1 collapsed vertebra M48.5",
    ),
    (
        "L97.904",
        12,
        {"L97.903", "L97.914", "L97.924"},
        {"necrosis of bone", "pressure ulcer"},
        {"L89"},
        "L97.90x depth by 6th character, side by 5th; L97 Excludes2 pressure ulcer (L89.-)",
    ),
    (
        "L97.903",
        12,
        {"L97.904", "L97.913"},
        {"necrosis of muscle", "underlying condition"},
        {"L89", "I70.23"},
        "L97 Code first any associated underlying condition (I70.23-, ...)",
    ),
    ("L89.154", 12, {"L89.153", "L89.151"}, {"stage 4"}, {"L97"}, "L89.15x stage by 6th character; L89 Excludes2 L97"),
    (
        "A41.9",
        1,
        {"A41.1", "A41.3", "R78.81"},
        {"organism"},
        {"R78.81", "P36"},
        "A41.x organism by 4th character; A41 Excludes1 bacteremia NOS (R78.81), neonatal (P36.-)",
    ),
    ("A41.01", 1, {"A41.02"}, {"staphylococcus aureus"}, {"R78.81"}, "A41.01 MSSA vs A41.02 MRSA"),
    (
        "B20",
        1,
        {"Z21", "R75"},
        {"asymptomatic human immunodeficiency virus"},
        {"Z21"},
        "B20 Excludes1 asymptomatic HIV infection status (Z21), inconclusive serology (R75)",
    ),
    (
        "C50.911",
        2,
        {"C50.912", "C50.919"},
        {"right", "receptor status"},
        {"Z17"},
        "C50.91x side by 6th character; C50 Use additional code estrogen receptor status (Z17.-)",
    ),
    (
        "C34.90",
        2,
        {"C34.91", "C34.92"},
        {"tobacco"},
        {"C45", "Z87.891"},
        "C34.9x side; C34 Excludes1 Kaposi/carcinoid/mesothelioma (C45.-); Use additional tobacco codes",
    ),
    (
        "C79.51",
        2,
        {"C79.52", "C7B.03"},
        {"secondary"},
        {"C7B.03"},
        "C79.52 bone marrow; C79 Excludes1 secondary carcinoid tumors of bone (C7B.03)",
    ),
    ("D57.00", 3, {"D57.01"}, {"fever"}, {"R50.81"}, "D57.0 crisis type by 5th character; Use additional R50.81"),
    (
        "D69.1",
        3,
        {"D69.0"},
        {"von willebrand"},
        {"D68.0"},
        "D69 siblings; D69.1 Excludes2 von Willebrand disease (D68.0)",
    ),
    (
        "E11.9",
        4,
        {"E10.9", "E11.A"},
        {"type 2", "insulin"},
        {"E10"},
        "E10.9 the type-1 twin; E11 Excludes1 type 1 (E10.-), Use additional Z79.4 insulin",
    ),
    (
        "E11.22",
        4,
        {"E10.22"},
        {"stage of chronic kidney disease"},
        {"N18.1", "N18.6"},
        "E11.22 Use additional code to identify stage of CKD (N18.1-N18.6)",
    ),
    (
        "E10.10",
        4,
        {"E11.10", "E10.11"},
        {"type 1", "ketoacidosis"},
        {"E11"},
        "E10.11 with coma; E10 Excludes1 type 2 diabetes (E11.-)",
    ),
    (
        "E66.01",
        4,
        {"E66.09", "E66.2"},
        {"body mass index"},
        {"E66.2"},
        "E66.0 by 5th character; E66.01 Excludes1 morbid obesity with alveolar hypoventilation (E66.2)",
    ),
    (
        "F33.1",
        5,
        {"F33.0", "F33.2"},
        {"moderate"},
        {"F31", "F30"},
        "F33.x severity; F33 Excludes1 bipolar (F31.-), manic (F30.-)",
    ),
    (
        "F10.20",
        5,
        {"F10.21", "F10.10"},
        {"blood alcohol"},
        {"Y90", "F10.1"},
        "F10.21 in remission, F10.1 abuse; F10 Use additional Y90 blood alcohol level; F10.2 Excludes1 F10.1-",
    ),
    (
        "F31.9",
        5,
        {"F31.0", "F30"},
        {"cyclothymia"},
        {"F30", "F32", "F33", "F34.0"},
        "F31 Excludes1 F30.-, F32.-, F33.-; Excludes2 cyclothymia (F34.0)",
    ),
    (
        "G40.909",
        6,
        {"G40.919", "G40.901"},
        {"not intractable", "without status epilepticus"},
        {"R56.9"},
        "G40.90x/.91x intractability and status epilepticus; G40 Excludes1 seizure NOS (R56.9)",
    ),
    (
        "G30.9",
        6,
        {"G30.0", "G30.1", "G31.1"},
        {"dementia"},
        {"F03", "G31.1"},
        "G30 Excludes1 senile degeneration (G31.1), senile dementia NOS (F03); Use additional dementia codes",
    ),
    (
        "H35.3211",
        7,
        {"H35.3221", "H35.3210"},
        {"right"},
        {"E11.311"},
        "H35.32x1 side by 6th, activity by 7th; H35.3 Excludes2 diabetic retinal disorders (E11.311-...)",
    ),
    (
        "H40.9",
        7,
        {"H44.51", "Q15.0"},
        {"congenital glaucoma"},
        {"Q15.0"},
        "H40 Excludes1 absolute (H44.51-), congenital (Q15.0)",
    ),
    ("H60.00", 8, {"H60.01", "H60.02", "H60.03"}, {"ear"}, {"H60.01"}, "H60.0x side of the ear by 5th character"),
    (
        "I50.22",
        9,
        {"I50.21", "I50.23", "I50.4"},
        {"chronic", "systolic"},
        {"I50.4", "I46"},
        "I50.2x acuity; I50.2 Excludes1 combined (I50.4-); I50 Excludes2 cardiac arrest (I46.-)",
    ),
    ("I48.91", 9, {"I48.92"}, {"fibrillation"}, set(), "I48.91 atrial fibrillation vs I48.92 flutter"),
    (
        "I21.4",
        9,
        {"I21.9", "I25.2"},
        {"old myocardial infarction"},
        {"I25.2"},
        "I21 Excludes2 old myocardial infarction (I25.2)",
    ),
    (
        "I70.262",
        9,
        {"I70.261", "I70.263", "I70.202"},
        {"gangrene", "left"},
        {"L97"},
        "I70.26x side; I70.2x complication by 5th; I70.26 Use additional code for the ulcer (L97.-)",
    ),
    (
        "J44.1",
        10,
        {"J44.9", "J44.0"},
        {"exacerbation"},
        {"J45", "J44.0"},
        "J44.x by 4th character; J44 Code also type of asthma (J45.-)",
    ),
    (
        "J96.01",
        10,
        {"J96.02", "J96.11", "J96.21"},
        {"acute", "hypoxia"},
        {"J80"},
        "J96.0x with hypoxia/hypercapnia; J96.1 chronic, J96.2 acute and chronic; J96 Excludes1 ARDS (J80)",
    ),
    ("K50.90", 11, {"K50.91", "K51"}, {"ulcerative colitis"}, {"K51"}, "K50 Excludes1 ulcerative colitis (K51.-)"),
    (
        "K70.30",
        11,
        {"K70.31"},
        {"alcohol"},
        {"F10"},
        "K70.31 with ascites; K70 Use additional code alcohol abuse (F10.-)",
    ),
    (
        "N18.4",
        14,
        {"N18.5", "N18.6"},
        {"stage 4"},
        {"E11.22"},
        "N18.x stage; N18 Code first diabetic CKD (E11.22, ...)",
    ),
    ("N18.31", 14, {"N18.32", "N18.30"}, {"stage 3a"}, {"N14"}, "N18.3x by 5th character; N17-N19 Excludes2 N14.-"),
    (
        "O24.410",
        15,
        {"O24.414", "O24.419"},
        {"diet controlled"},
        {"Z3A"},
        "O24.41x control by 6th character; chapter 15 Use additional code Z3A weeks of gestation",
    ),
    ("P07.01", 16, {"P07.02", "P05"}, {"less than 500 grams"}, {"P05"}, "P07.0x weight; P07 Excludes1 P05.-"),
    (
        "Q90.9",
        17,
        {"Q90.0", "E88.4"},
        {"intellectual"},
        {"Q90.0", "F70"},
        "Q90 Use additional code intellectual disabilities (F70-F79); Excludes2 E88.4-",
    ),
    (
        "R65.21",
        18,
        {"R65.20", "T81.12"},
        {"septic shock"},
        {"T81.12"},
        "R65.2 Excludes1 postprocedural septic shock (T81.12-)",
    ),
    (
        "S72.001A",
        19,
        {"S72.002A", "S72.009A", "S72.001D"},
        {"initial encounter", "right"},
        {"S78", "S79.0"},
        "S72.00x side; 7th character D subsequent; S72 Excludes1 traumatic amputation (S78.-)",
    ),
    (
        "T36.0X1A",
        19,
        {"T36.0X1D", "T36.0X1S"},
        {"initial encounter"},
        {"T45.1"},
        "7th characters A/D/S; T36 Excludes1 antineoplastic antibiotics (T45.1-)",
    ),
    (
        "W19.XXXA",
        20,
        {"W19.XXXD", "W19.XXXS"},
        {"initial encounter"},
        {"Z91.81"},
        "W00-W19 Excludes2 at risk for fall (Z91.81)",
    ),
    (
        "Z89.511",
        21,
        {"Z89.512", "Z89.519"},
        {"right"},
        {"M20", "Q71"},
        "Z89.51x side; Z89 Excludes1 acquired deformities (M20-M21), congenital absence (Q71-Q73)",
    ),
    (
        "Z79.4",
        21,
        {"Z79.84", "Z79.85"},
        {"oral antidiabetic"},
        {"Z79.84"},
        "Z79.4 Excludes2 oral antidiabetic drugs (Z79.84)",
    ),
    (
        "U07.1",
        22,
        {"J12.81"},
        {"pneumonia due to covid-19"},
        {"J12.82"},
        "U07.1 Use additional code pneumonia due to COVID-19 (J12.82); Excludes2 SARS pneumonia (J12.81)",
    ),
]


def _faq_names(page: dict) -> set[str]:
    return {c for q in page["faq"] for c in q["codes"]}


def test_cases_cover_twelve_chapters_and_the_seed_codes() -> None:
    assert len(CASES) >= 40
    assert len({c[1] for c in CASES}) >= 12
    assert {"M87.352", "M85.89", "L97.904", "M86.50", "L97.903"} <= {c[0] for c in CASES}


@pytest.mark.parametrize(
    ("code", "chapter", "confused", "mentions", "faq_codes", "why"), CASES, ids=[c[0] for c in CASES]
)
def test_guidance_from_the_tabular(
    kb, code: str, chapter: int, confused: set[str], mentions: set[str], faq_codes: set[str], why: str
) -> None:
    page = code_page(kb, code, fy=2026, payment_year=2026)
    assert page["chapter"]["number"] == chapter
    listed = [c["code"] for c in page["confused_codes"]]
    assert confused <= set(listed), (why, listed)
    assert len(listed) <= 12
    text = " ".join(f"{i['topic']} {i['document']} {i['rule']}" for i in page["checklist"]).lower()
    assert all(m.lower() in text for m in mentions), (why, [m for m in mentions if m.lower() not in text])
    assert all(i["rule"] for i in page["checklist"])
    assert faq_codes <= _faq_names(page), (why, faq_codes - _faq_names(page))
    assert {"is_hcc", "billable", "other_codes", "more_specific", "validity"} <= {q["key"] for q in page["faq"]}


def test_m87_352_ranks_same_site_and_side_under_another_cause_first(kb) -> None:
    # Seed page lists M87.852, M87.351 and M87.052; the nearest (fewest differing title words) come first.
    confused = code_page(kb, "M87.352", fy=2026, payment_year=2026)["confused_codes"]
    codes = [c["code"] for c in confused]
    assert codes[:2] == ["M87.852", "M87.351"]
    assert codes.index("M87.052") < codes.index("M91")  # axis neighbours before the Excludes1 targets
    by_code = {c["code"]: c for c in confused}
    assert by_code["M87.052"]["axes"] == ["cause or mechanism"]
    assert "'idiopathic' vs 'secondary'" in by_code["M87.052"]["difference"]
    assert "'right' vs 'left'" in by_code["M87.351"]["difference"]
    assert by_code["M91"]["kind"] == "excludes1"


def test_m86_50_checklist_covers_the_six_seed_items_each_with_its_rule(kb) -> None:
    checklist = code_page(kb, "M86.50", fy=2026, payment_year=2026)["checklist"]
    by_topic = {i["topic"]: i for i in checklist}
    assert "Use additional code note at M86" in by_topic["infectious agent"]["rule"]
    assert "B95-B97" in by_topic["infectious agent"]["document"]
    assert "M89.7-" in by_topic["major osseous defect"]["document"]
    assert (
        "axes.csv" in by_topic["cause or mechanism"]["rule"]
        and "hematogenous" in by_topic["cause or mechanism"]["document"]
    )
    assert "chronic" in by_topic["acuity"]["document"] and "M86.00" in by_topic["acuity"]["codes"]
    assert "M86.51–M86.59" in by_topic["site"]["document"] and "M86.5" in by_topic["site"]["rule"]
    assert "Excludes2 note at M86" in by_topic["vertebra"]["rule"] and "M46.2-" in by_topic["vertebra"]["document"]
    assert (
        "HCC92" in by_topic["HCC support (MEAT)"]["rule"]
        and "face-to-face" in by_topic["HCC support (MEAT)"]["document"]
    )


def test_m86_50_faq_answers_vertebra_organism_and_osseous_defect(kb) -> None:
    faq = code_page(kb, "M86.50", fy=2026, payment_year=2026)["faq"]
    vertebra = next(q for q in faq if q["key"] == "excludes2" and "M46.2-" in q["question"])
    assert vertebra["answer"].startswith("Yes") and "vertebra" in vertebra["answer"]
    other = next(q for q in faq if q["key"] == "other_codes")
    assert "B95-B97" in other["answer"] and "M89.7-" in other["answer"]
    assert any("Use additional code note at M86" in c for c in other["citations"])
    echinococcus = next(q for q in faq if q["key"] == "excludes1" and "B67.2" in q["question"])
    assert echinococcus["answer"].startswith("No")
    hcc = next(q for q in faq if q["key"] == "is_hcc")
    assert hcc["answer"].startswith("Yes") and "HCC92" in hcc["answer"] and "0.479" in hcc["answer"]


def test_header_faq_says_not_billable_and_names_codes_below(kb) -> None:
    faq = {q["key"]: q for q in code_page(kb, "M86.5", fy=2026, payment_year=2026)["faq"]}
    assert faq["billable"]["answer"].startswith("No") and "M86.50" in faq["billable"]["codes"]


def test_seventh_character_question_for_codes_that_need_one(kb) -> None:
    faq = {q["key"]: q for q in code_page(kb, "S72.001", fy=2026, payment_year=2026)["faq"]}
    assert "A: initial encounter for closed fracture" in faq["seventh_character"]["answer"]
    assert "seventh_character" not in {q["key"] for q in code_page(kb, "M86.50", fy=2026, payment_year=2026)["faq"]}


def test_validity_question_names_the_fy2027_replacement(kb) -> None:
    faq = {q["key"]: q for q in code_page(kb, "D69.1", fy=2026, payment_year=2026)["faq"]}
    assert faq["validity"]["answer"].startswith("No") and faq["validity"]["later_codes"] == ["D69.11", "D69.19"]


def test_faq_json_ld_is_schema_org_faqpage(kb) -> None:
    page = code_page(kb, "M86.50", fy=2026, payment_year=2026)
    ld = json.loads(json.dumps(page["faq_json_ld"]))
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "FAQPage"
    assert [q["name"] for q in ld["mainEntity"]] == [q["question"] for q in page["faq"]]
    assert all(q["@type"] == "Question" and q["acceptedAnswer"]["@type"] == "Answer" for q in ld["mainEntity"])
