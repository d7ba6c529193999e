"""The bounds of a member's fields, in one place without pydantic: read by the request model (raf/request.py, the
API, the `/score` page, `hccguide score`) and by the batch validation SQL (raf/batch_validate.py), so that the batch
command does not import pydantic at start-up (about 0.3 s of CPU).

Units: years (age on February 1 of the payment year), months (graft_months), payment years, counts and characters.
"""

from __future__ import annotations

AGE_MIN = 0
AGE_MAX = 125  # raf.segments.demographics refuses ages above 125 (no CMS cell beyond "95 and over" needs more)
GRAFT_MONTHS_MIN = 0
GRAFT_MONTHS_MAX = 12 * AGE_MAX  # months since a transplant cannot exceed a lifetime
PAYMENT_YEAR_MIN = 2000  # schema bounds only; the loaded payment years (kb.payment_years) are the real rule
PAYMENT_YEAR_MAX = 2100
DX_MAX = 1000  # diagnoses per member (a year of claims of a very sick member is a few hundred codes)
CODE_MAX_CHARS = 32  # an ICD-10-CM code is 3..7 characters; room for dots, spaces and a typo
VALUE_MAX_CHARS = 80  # error values are truncated to this many characters
