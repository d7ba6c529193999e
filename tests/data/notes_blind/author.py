"""Authoring script of the blind set (GUIDE.md here): the gold JSON of each note from a hand-written spec.

The spec below was written by hand from the note text before the pipeline ran on these notes: conditions, every
mention, assertion, the codes a coder would report, supported, and MEAT spans, each as a phrase of the note (with
its occurrence number when the phrase occurs more than once). This script only turns phrases into offsets and fills
`hccs` / `supported_hccs` from the KB (`dx_to_cc`, `hierarchies`, CMS-HCC V28 of the payment year), as the
development set's authoring did. Run once: uv run python tests/data/notes_blind/author.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).parent
EMPTY = {"monitor": [], "evaluate": [], "assess": [], "treat": []}


def C(cid, mentions, assertion, codes, supported=False, **meat):
    return {"id": cid, "mentions": mentions, "assertion": assertion, "codes": codes, "supported": supported,
            "meat": {**EMPTY, **meat}}


SPEC = [
    ("b01_terse_clinic_abbrev.txt", "2026-03-04", 2027, "outpatient", [
        C("c1", [("DM", 1), ("DM2 w/ neuropathy", 1), ("DM2 w/ neuropathy", 2)], "present", ["E11.40"], True,
          monitor=["feet numb/tingling, no change", "BG 140-190 fasting", "RTC 3 mo w/ A1c"],
          evaluate=["Monofilament: absent sensation bilat soles", ("A1c 8.1", 1), ("A1c 8.1", 2)],
          assess=["not at goal"],
          treat=["Add empagliflozin 10 mg daily", "cont metformin 1000 BID and gabapentin", "Podiatry referral"]),
        C("c2", [("HTN", 1), ("HTN", 2)], "present", ["I10"], True,
          evaluate=["BP 148/88"], assess=["above goal"], treat=["Inc lisinopril to 40 mg"], monitor=["Home BP log"]),
        C("c3", [("HLD", 1), ("HLD", 2)], "present", ["E78.5"], True,
          evaluate=[("LDL 92", 1), ("LDL 92", 2)], treat=["on atorva 40, cont"]),
        C("c4", [("OSA", 1), ("OSA", 2)], "present", ["G47.33"], True,
          treat=["Using CPAP most nights", ("cont", 3)], monitor=["adherent to CPAP"]),
        C("c5", ["Obesity"], "present", ["E66.9", "Z68.33"], True,
          evaluate=[("BMI 33.4", 1), ("BMI 33.4", 2)], treat=["diet/exercise counseled"]),
        C("c6", ["Former smoker"], "historical", ["Z87.891"]),
    ]),
    ("b02_hash_problem_ap.txt", "2026-01-14", 2027, "outpatient", [
        C("c1", ["HFrEF", "Chronic systolic heart failure"], "present", ["I50.22"], True,
          monitor=["stable 2-pillow orthopnea, no PND", "Weight at home 171-174 lb", "Daily weights"],
          evaluate=["JVP 8 cm", "Trace bilateral ankle edema", "bibasilar crackles", "BNP 612", "Echo 11/2025: EF 30%"],
          assess=["Mildly volume up"],
          treat=["Increase furosemide to 40 mg BID x 3 days then back to 40 daily",
                 "Continue carvedilol 12.5 mg BID and sacubitril-valsartan 49/51 mg BID"]),
        C("c2", [("CKD", 1), "CKD stage 3b"], "present", ["N18.32"], True,
          evaluate=["Cr 1.62, eGFR 33", ("Cr 1.62", 2)], assess=["near baseline"], treat=["Avoid NSAIDs"],
          monitor=["Recheck BMP in 1 week after diuretic change"]),
        C("c3", ["T2DM", "Type 2 diabetes with diabetic CKD"], "present", ["E11.22"], True,
          evaluate=[("A1c 7.2", 1), ("A1c 7.2", 2)], assess=["at goal for her"],
          treat=["Continue empagliflozin 10 mg daily"]),
        C("c4", ["AF", "Paroxysmal atrial fibrillation"], "present", ["I48.0"], True,
          monitor=["Missed two doses of apixaban last month", "Denies melena"],
          evaluate=["HR 88 irregular", "Rate 88"], assess=["acceptable", "adherence reviewed"],
          treat=["Continue apixaban 5 mg BID"]),
        C("c5", ["Hypertension"], "present", ["I13.0"], True, evaluate=["BP 118/70"], assess=["Well controlled"]),
    ]),
    ("b03_copy_forward_problem_list.txt", "2026-02-03", 2027, "outpatient", [
        C("c1", ["Chronic obstructive pulmonary disease", ("COPD", 1), "COPD with acute exacerbation"], "present",
          ["J44.1"], True,
          monitor=["5 days of productive cough, yellow sputum, increased dyspnea walking to the mailbox",
                   "Using albuterol 4-5 times a day, up from once a week", "recheck in 1 week"],
          evaluate=["SpO2 91% RA", "Diffuse expiratory wheezes, prolonged expiration", "CXR today: hyperinflation"],
          assess=[("moderate", 2)],
          treat=["Prednisone 40 mg daily x 5 days, doxycycline 100 mg BID x 5 days", "Continue tiotropium"]),
        C("c2", ["Type 2 diabetes mellitus without complications"], "present", ["E11.9"]),
        C("c3", ["Essential hypertension"], "present", ["I10"]),
        C("c4", ["Major depressive disorder, recurrent, moderate"], "present", ["F33.1"]),
        C("c5", ["Morbid obesity"], "present", ["E66.01"]),
        C("c6", ["Vitamin D deficiency"], "present", ["E55.9"]),
        C("c7", ["Hx of colon polyps"], "historical", ["Z86.0100"]),
        C("c8", ["Alcohol dependence in remission"], "present", ["F10.21"]),
        C("c9", ["Pneumonia"], "historical", ["Z87.01"]),
        C("c10", ["Tobacco use"], "present", ["Z72.0"], True, treat=["smoking cessation counseled 5 minutes"]),
    ]),
    ("b04_discharge_summary_inpatient.txt", "2026-02-22", 2027, "inpatient", [
        C("c1", ["Acute on chronic diastolic heart failure", "Acute on chronic diastolic (congestive) heart failure"],
          "present", ["I50.33"], True,
          monitor=["10 lb weight gain, orthopnea and bilateral leg edema", "daily weights, call for gain over 3 lb"],
          evaluate=["BNP 1,840", "CXR with bilateral effusions", "Echo showed EF 60% with grade II diastolic dysfunction",
                    "net negative 4.2 L"],
          assess=["weight down to 148 lb"],
          treat=["diuresed with IV furosemide 40 mg BID", "transitioned to oral torsemide 20 mg daily"]),
        C("c2", [("Probable aspiration pneumonia", 1), ("probable aspiration pneumonia", 1)], "present", ["J69.0"],
          True, evaluate=[("right lower lobe opacity", 1), ("right lower lobe opacity", 2)],
          treat=["treated with ampicillin-sulbactam, then amoxicillin-clavulanate to complete 7 days",
                 "Speech therapy evaluated and recommended mechanical soft diet"]),
        C("c3", ["Acute kidney injury", "AKI"], "present", ["N17.9"], True,
          evaluate=["Creatinine rose from a baseline of 2.4 to 3.1 on admission"],
          assess=["likely from cardiorenal physiology", "improved to 2.6 at discharge with diuresis"],
          treat=["Nephrology was consulted"], monitor=["PCP in 1 week with BMP"]),
        C("c4", ["chronic kidney disease stage 4"], "present", ["N18.4"], True,
          monitor=["nephrology clinic in 2 weeks", "PCP in 1 week with BMP"]),
        C("c5", ["Type 2 diabetes mellitus with hyperglycemia"], "present", ["E11.65"], True,
          evaluate=["Glucose ran 220-310 on admission"],
          treat=["basal-bolus insulin was started and glargine 14 units nightly continued at discharge"]),
        C("c6", ["Hypertension"], "present", ["I13.0"], True,
          evaluate=["Blood pressure 150s-160s systolic"], treat=["amlodipine increased to 10 mg"]),
        C("c7", ["History of right MCA stroke without residual deficits"], "historical", ["Z86.73"]),
    ]),
    ("b05_snf_progress.txt", "2026-03-05", 2027, "outpatient", [
        C("c1", ["Alzheimer's disease, late onset", "Dementia due to late-onset Alzheimer's disease with agitation"],
          "present", ["G30.1", "F02.811"], True,
          monitor=["more agitated in the evenings and tried to get out of bed unassisted twice this week"],
          evaluate=["oriented to self only"],
          treat=["continue donepezil 10 mg nightly", "redirection and structured evening activities",
                 "avoid antipsychotics"]),
        C("c2", [("stage 3 pressure ulcer", 1), "Stage 3 pressure ulcer of sacrum"], "present", ["L89.153"], True,
          evaluate=["full-thickness, granulation at base, no tunneling, minimal serous drainage"],
          assess=["unchanged in size"],
          treat=["Sacral wound dressing per wound nurse",
                 "Continue hydrocolloid dressing every 3 days, turn every 2 hours, low air loss mattress"]),
        C("c3", ["Moderate protein-calorie malnutrition"], "present", ["E44.0"], True,
          monitor=["Eating about 50% of meals", "weekly weights"],
          evaluate=["Wt 112 lb (118 lb one month ago)", ("albumin 2.9", 1), "5% weight loss in 1 month, albumin 2.9"],
          treat=["Dietitian to add Ensure TID"]),
        C("c4", [("hypothyroidism", 1), ("Hypothyroidism", 1)], "present", ["E03.9"], True,
          evaluate=["TSH 3.1", "TSH normal"], treat=["continue levothyroxine 50 mcg daily"]),
        C("c5", [("osteoporosis", 1), ("Osteoporosis", 1)], "present", ["M81.0"], True,
          treat=["continue calcium and vitamin D"]),
        C("c6", ["prior L1 compression fracture"], "historical", ["Z87.310"]),
        C("c7", ["GERD"], "present", ["K21.9"]),
        C("c8", ["history of UTI"], "historical", ["Z87.440"]),
    ]),
    ("b06_telehealth_psych_dm1.txt", "2025-12-09", 2026, "outpatient", [
        C("c1", ["bipolar I disorder", "Bipolar I disorder, in full remission, most recent episode manic"], "present",
          ["F31.74"], True,
          monitor=['mood has been "even," sleeping 7 hours, no racing thoughts or spending sprees', "no missed doses",
                   "lithium level and BMP in 3 months"],
          evaluate=['mood "good," affect euthymic', "no psychosis", "Lithium level 0.8 (11/30/2025)"],
          assess=["stable on lithium"],
          treat=["Taking lithium 600 mg nightly", "Continue lithium 600 mg nightly"]),
        C("c2", ["alcohol use", "Alcohol dependence, in early remission"], "present", ["F10.21"], True,
          monitor=["has not had a drink in 4 months"], assess=["4 months sober"],
          treat=["attends AA twice a week", "Continue naltrexone 50 mg daily and AA"]),
        C("c3", ["type 1 diabetes", "Type 1 diabetes mellitus with hyperglycemia"], "present", ["E10.65"], True,
          monitor=["CGM average 168 over the last 2 weeks, no lows below 70", "CGM average 168, time in range 62%",
                   "Endocrinology follow-up in January"],
          treat=["managed with an insulin pump", "Adjust basal rate from 0.9 to 1.0 units/h overnight"]),
        C("c4", ["obstructive sleep apnea"], "hypothetical", ["G47.33"]),
    ]),
    ("b07_problem_heading_paragraphs.txt", "2026-04-07", 2027, "outpatient", [
        C("c1", ["Heart failure with mildly reduced ejection fraction"], "present", ["I50.20"], True,
          monitor=["more ankle swelling by evening and shortness of breath on one flight of stairs",
                   "Check BMP in 1 week and weigh daily"],
          evaluate=["Weight 204 lb (199 lb in January)", "1+ pitting edema to mid-shin bilaterally",
                    "Faint bibasilar crackles", "NT-proBNP 960", "Echo 03/2026: LVEF 45%, mildly reduced"],
          assess=["more volume overloaded than at her last visit, with weight up 5 lb and new edema"],
          treat=["Start furosemide 20 mg daily", "Continue losartan 50 mg daily"]),
        C("c2", ["Type 2 diabetes mellitus"], "present", ["E11.22"], True,
          monitor=["She checks her sugars twice daily, mostly 130-160"],
          evaluate=["Monofilament sensation intact", "A1c 7.6"], assess=["A1c slightly above her goal of 7"],
          treat=["Increase metformin XR to 1000 mg daily", "continue semaglutide 0.5 mg weekly"]),
        C("c3", ["Hypertension"], "present", ["I13.0"], True, evaluate=["BP 136/78"], assess=["Reasonable today"]),
        C("c4", ["Chronic kidney disease stage 3a"], "present", ["N18.31"], True,
          evaluate=["eGFR 48, urine albumin/creatinine ratio 210 mg/g", "Albuminuria noted above"],
          assess=["Renal dosing of medications reviewed"], monitor=["Will follow with nephrology annually"]),
        C("c5", ["stopped smoking"], "historical", ["Z87.891"]),
    ]),
    ("b08_new_patient_negation_ros.txt", "2026-03-20", 2027, "outpatient", [
        C("c1", [("asthma", 1), ("Asthma", 1), "Mild persistent asthma, uncomplicated"], "present", ["J45.30"], True,
          monitor=["no nighttime awakenings, no ED visits or steroid bursts in the past year"],
          evaluate=["Lungs clear, no wheezes"], assess=["well controlled on current regimen"],
          treat=["uses fluticasone-salmeterol 250/50 one puff twice daily and albuterol about once a month",
                 "Continue fluticasone-salmeterol and albuterol as needed", "Asthma action plan provided"]),
        C("c2", [("hypothyroidism", 1), ("Hypothyroidism", 1), ("Hypothyroidism", 2)], "present", ["E03.9"], True,
          evaluate=["Thyroid without nodules", "TSH 2.4 (02/2026)"], assess=["euthyroid"],
          treat=[("on levothyroxine 88 mcg", 1), "on levothyroxine 88 mcg, continue"], monitor=["TSH yearly"]),
        C("c3", ["Gestational diabetes"], "historical", ["Z86.32"]),
        C("c4", ["stroke"], "negated", ["I63.9"]),
        C("c5", ["heart attack"], "negated", ["I21.9"]),
        C("c6", ["blood clots"], "negated", ["I82.90"]),
        C("c7", [("type 2 diabetes", 1)], "family", ["Z83.3"]),
        C("c8", [("breast cancer", 1), ("breast cancer", 2)], "family", ["Z80.3"]),
        C("c9", ["myocardial infarction", "premature coronary artery disease"], "family", ["Z82.49"]),
        C("c10", ["schizophrenia"], "family", ["Z81.8"]),
        C("c11", ["hepatitis"], "negated", ["B19.9"]),
        C("c12", [("depression", 1), ("depression", 2)], "negated", ["F32.A"]),
        C("c13", ["anxiety"], "negated", ["F41.9"]),
    ]),
    ("b09_oncology_followup.txt", "2026-01-27", 2027, "outpatient", [
        C("c1", ["Breast cancer, left", "Left breast cancer"], "present", ["C50.912"], True,
          monitor=["mild arthralgias in her hands, no bone pain", "Diagnostic mammogram in 12 months"],
          evaluate=["No palpable masses in either breast", "left lumpectomy scar well healed",
                    "No axillary, cervical or supraclavicular lymphadenopathy", "Mammogram 12/2025 BI-RADS 2"],
          assess=["no evidence of recurrence"],
          treat=["She continues anastrozole 1 mg daily", "Continue anastrozole through 2029"]),
        C("c2", ["chronic lymphocytic leukemia", "CLL"], "present", ["C91.10"], True,
          monitor=["no night sweats or infections", "CBC every 6 months"],
          evaluate=["Spleen not palpable", "WBC 18.2 with ALC 13.1", "Absolute lymphocyte count stable from 12.8 in July"],
          assess=["stable lymphocytosis, no treatment indication"]),
        C("c3", ["Type 2 diabetes"], "present", ["E11.9"]),
        C("c4", ["hyperlipidemia"], "present", ["E78.5"]),
        C("c5", [("osteopenia", 1), "Osteopenia"], "present", ["M85.80"], True,
          evaluate=["DEXA 11/2025 T-score -1.8"], treat=["calcium, vitamin D, weight-bearing exercise"],
          monitor=["repeat DEXA in 2 years"]),
    ]),
    ("b10_outpatient_uncertain_history.txt", "2025-11-18", 2026, "outpatient", [
        C("c1", ["Probable peripheral arterial disease", ("peripheral arterial disease", 2)], "hypothetical",
          ["I73.9"]),
        C("c2", ["CAD", "Coronary artery disease of native vessels"], "present", ["I25.10"], True,
          monitor=["No angina since CABG", "no angina"], assess=["stable"],
          treat=["uses nitroglycerin rarely",
                 "Continue aspirin 81 mg, atorvastatin 80 mg, metoprolol tartrate 25 mg BID", "Nitroglycerin SL prn"]),
        C("c3", [("hypertension", 1), ("Hypertension", 1)], "present", ["I10"], True,
          treat=["on amlodipine", "Continue amlodipine 5 mg"], evaluate=["BP 138/74"], assess=["controlled"]),
        C("c4", [("COPD", 1), ("COPD", 2)], "present", ["J44.9"], True,
          monitor=["one exacerbation in the spring", "Spirometry next visit"],
          evaluate=["decreased breath sounds, no wheezes"], assess=[("at baseline", 1), ("at baseline", 2)],
          treat=["on Trelegy", "Continue Trelegy 1 inhalation daily"]),
        C("c5", [("TIA", 1), "History of TIA"], "historical", ["Z86.73"]),
    ]),
]


def find(text: str, phrase: str | tuple[str, int]) -> dict:
    """{text, start, end} of a phrase's occurrence (1-based; a phrase that occurs more than once needs its number)."""
    word, n = (phrase, None) if isinstance(phrase, str) else phrase
    hits = [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text)]
    if not hits:
        raise ValueError(f"not found: {word!r}")
    if n is None and len(hits) > 1:
        raise ValueError(f"ambiguous ({len(hits)}): {word!r}")
    if (n or 1) > len(hits):
        raise ValueError(f"only {len(hits)} of {word!r}")
    start = hits[(n or 1) - 1]
    return {"text": word, "start": start, "end": start + len(word)}


def main() -> None:
    from hccguide.icd10 import undot
    from hccguide.kb.open import open_kb

    kb = open_kb()
    for note, day, py, setting, conditions in SPEC:
        text = (HERE / note).read_text(encoding="utf-8")
        fy = "FY2026"
        cc = {r["code"]: r["cc"] for r in kb.query(
            "SELECT code, cc FROM dx_to_cc WHERE model = 'CMS-HCC V28' AND payment_year = ?", [py])}
        year = kb.query("SELECT max(table_year) AS y FROM hierarchies WHERE model = 'CMS-HCC V28' AND table_year <= ?",
                        [py])[0]["y"]
        pairs = kb.query("SELECT cc_parent, cc_child FROM hierarchies WHERE model = 'CMS-HCC V28' AND table_year = ?",
                         [year])
        out = []
        for c in conditions:
            for code in c["codes"]:
                rows = kb.query("SELECT billable FROM codes WHERE code = ? AND code_set = ?", [undot(code), fy])
                if not rows or not rows[0]["billable"]:
                    raise ValueError(f"{note}: {code} is not a billable {fy} code")
            hccs = sorted({cc[undot(code)] for code in c["codes"] if undot(code) in cc}, key=int)
            out.append({"id": c["id"], "mentions": [find(text, m) for m in c["mentions"]], "assertion": c["assertion"],
                        "codes": c["codes"], "hccs": hccs if c["assertion"] == "present" else [],
                        "supported": c["supported"],
                        "meat": {e: [find(text, s) for s in spans] for e, spans in c["meat"].items()}})
        supported = {h for c in out if c["supported"] for h in c["hccs"]}
        dropped = {p["cc_child"] for p in pairs if p["cc_parent"] in supported and p["cc_child"] in supported}
        gold = {"note": note, "date_of_service": day, "payment_year": py, "model": "CMS-HCC V28", "setting": setting,
                "conditions": out, "supported_hccs": sorted(supported - dropped, key=int)}
        (HERE / note.replace(".txt", ".json")).write_text(json.dumps(gold, indent=1) + "\n", encoding="utf-8")
        print(note, gold["supported_hccs"], [(c["id"], c["codes"], c["hccs"]) for c in out if c["hccs"]])


if __name__ == "__main__":
    main()
