"""Parse the CDC ICD-10-CM order-file addenda (`icd10cm_order_addenda_YYYY.txt`).

Source format (CDC NCHS "Code Descriptions in Tabular Order" zip, FY2027: `icd10cm_order_addenda_2027.txt`, vendored
in `hccguide/sources/data/cdc/`): fixed-width lines as in `icd10cm_order_YYYY.txt` with the order number replaced by
an action, CRLF line ends:

    Add:         1 I4201   Familial-genetic dilated cardiomyopathy      Familial-genetic dilated cardiomyopathy
    ^action (13) ^flag ^code (7) ^short title (60 chars)               ^long title

- action: `Add:`, `Delete:`, `Revise from:`, `Revise to:`;
- flag: 1 = a code valid for HIPAA-covered transactions (billable), 0 = a header;
- a `Delete:` and an `Add:` of the same code with different flags change its billable flag (`Delete: 1 I420` +
  `Add: 0 I420` = I42.0 becomes a header with I42.00/I42.01/I42.09 beneath it);
- the file ends with a summary ("74719 codes in icd10cm_order_2026.txt", "190 additions", ...), read into
  `Addenda.summary` so a build can check its counts against CDC's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hccguide.errors import SourceError
from hccguide.icd10 import undot

_LINE = re.compile(r"^(Add|Delete|Revise from|Revise to):\s+([01]) ([A-Z0-9]{3,7})\s+(.*)$")
_SUMMARY = re.compile(r"^\s*(\d+) (headers|codes|additions|deletions|revisions) ?(?:in (\S+))?")
SHORT_WIDTH = 60  # the short title column is 60 characters, then a space, then the long title (CDC order file)


@dataclass(frozen=True)
class Change:
    """One line of the addenda."""

    action: str  # 'add' | 'delete' | 'revise_from' | 'revise_to'
    billable: bool  # the flag column (1 = billable)
    code: str  # undotted ('I4201')
    short_title: str
    title: str  # the long title (the tabular's description)
    line: int  # 1-based line number in the file


@dataclass
class Addenda:
    """Every change line in file order, and CDC's summary counts.

    `summary` keys: 'headers_from', 'headers_to', 'codes_from', 'codes_to' (counts of the order files before and
    after), and 'header_additions', 'header_deletions', 'header_revisions', 'code_additions', 'code_deletions',
    'code_revisions'."""

    changes: list[Change] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)

    def of(self, action: str) -> list[Change]:
        return [c for c in self.changes if c.action == action]


def parse_addenda(text: str) -> Addenda:
    """Parse the text of an order-file addenda. Raises SourceError naming the line of a line it cannot read."""
    out = Addenda()
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match:
            action, flag, code, rest = match.groups()
            out.changes.append(
                Change(
                    action.lower().replace(" ", "_"),
                    flag == "1",
                    undot(code),
                    rest[:SHORT_WIDTH].strip(),
                    rest[SHORT_WIDTH + 1 :].strip() or rest[:SHORT_WIDTH].strip(),
                    number,
                )
            )
            continue
        stripped = line.strip()
        if stripped in ("Headers", "Codes"):
            section = stripped.lower()[:-1]  # 'header' | 'code'
            continue
        if stripped.startswith("of which") or "revisions to" in stripped:
            continue
        summary = _SUMMARY.match(line)
        if summary and section:
            count, what, file_name = int(summary.group(1)), summary.group(2), summary.group(3)
            if what in ("headers", "codes"):
                when = "from" if file_name and file_name == min(_order_files(text)) else "to"
                out.summary[f"{section}s_{when}"] = count
            else:
                out.summary[f"{section}_{what}"] = count
            continue
        raise SourceError(
            f"cannot read line {number} of the order addenda: {line[:60]!r}",
            field="line",
            value=number,
            fix="use the CDC icd10cm_order_addenda_YYYY.txt file unchanged",
        )
    if not out.changes:
        raise SourceError("the order addenda has no Add/Delete/Revise lines", field="addenda", value=len(text))
    return out


def _order_files(text: str) -> list[str]:
    return sorted(set(re.findall(r"icd10cm_order_\d{4}\.txt", text)))
