"""What a review sheet (a CSV an annotator fills in a spreadsheet) holds, and how its cells are kept safe.

Each row also carries when the export wrote the sheet (`exported_at`, UTC, written so that no
spreadsheet takes it for a date), so that the time travels with a copy, whatever its file's time says.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return) as a formula
(OWASP "CSV injection"): such a cell is written with a leading apostrophe, and the import takes
exactly that apostrophe off again (`guarded` / `unguarded` are inverses). A pair id a spreadsheet
would read as a number (all digits, or digits around one `e`: 16 hex characters can be either) would
lose its leading zeros or become 1.23457E+15, so it is written as `id:<pair id>`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from pipeline.review.decisions import REASONS

# the columns an annotator reads, then the ones they fill
READ_COLUMNS = ("pair_id", "category", "image", "query", "image_description")
FILL_COLUMNS = ("verdict", "reason", "edited_query")
EXPORTED_AT = "exported_at"  # filled by the export, last: a notes column goes after it
COLUMNS = READ_COLUMNS + FILL_COLUMNS + (EXPORTED_AT,)
EXPORT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")  # 2026-12-07T18:34:06Z: Calc and Excel keep it text
VERDICTS = ("accept", "reject", "edit", "skip")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ID_MARK = "id:"
# what a spreadsheet saves for a formula that failed: a cell typed `=accept` (a formula, not text) is
# saved as its error value (LibreOffice `#NAME?`, `Err:509`; Excel and Google Sheets `#NAME?`, `#ERROR!`)
FORMULA_ERROR = re.compile(r"Err:\d{3}|#(NAME\?|VALUE!|REF!|DIV/0!|N/A|NULL!|NUM!|SPILL!|CALC!|FIELD!|BLOCKED!|"
                           r"CONNECT!|BUSY!|UNKNOWN!|ERROR!|GETTING_DATA)")


def needs_guard(text: str) -> bool:
    """Whether a spreadsheet could run `text` as a formula, or it already starts with our guard (an
    apostrophe before such text), so that taking one apostrophe off on import gives it back exactly."""
    if text.startswith(FORMULA_STARTS):
        return True
    return text.startswith("'") and needs_guard(text[1:])


def guarded(text: str) -> str:
    return "'" + text if needs_guard(text) else text


def unguarded(text: str) -> str:
    """A cell as it was before `guarded` (a cell it never changed comes back as it is)."""
    return text[1:] if text.startswith("'") and needs_guard(text[1:]) else text


def formula_error(cell: str) -> bool:
    """Whether a cell holds a spreadsheet's error value (what a failed formula is saved as), not typed text."""
    return FORMULA_ERROR.fullmatch(cell.strip()) is not None


def export_time(moment: datetime) -> str:
    """`moment` as the sheet writes it: UTC, to the second (rounded down, so a decision made in the same
    second as the export counts as made after it)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def exported_at_of(cell: str) -> datetime | None:
    """A row's export time, or None where the cell is empty or not as the export wrote it."""
    cell = cell.strip()
    return datetime.fromisoformat(cell) if EXPORT_TIME.fullmatch(cell) else None


def reads_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def sheet_id(pair_id: str) -> str:
    """The pair id as written in a sheet: marked where a spreadsheet would turn it into a number."""
    return ID_MARK + pair_id if reads_as_number(pair_id) or pair_id.startswith(ID_MARK) else pair_id


def pair_id_of(cell: str) -> str:
    cell = cell.strip()
    return cell[len(ID_MARK):] if cell.startswith(ID_MARK) else cell


def guide_lines(sheets_folder: str = "") -> list[str]:
    """How to fill a sheet: printed by the export and written beside the sheets as README.txt (the
    sheet itself holds only the header and one row per pair, so a spreadsheet sorts and filters it)."""
    return [
        "Fill one row per pair: verdict is one of " + ", ".join(VERDICTS) + " (case and spaces do not matter).",
        "reject needs a reason: " + ", ".join(REASONS) + ".",
        "edit (or accept with an edited_query) ships edited_query instead of query; it is re-checked for leaks "
        "and harm as in the review app.",
        "Leave verdict, reason and edited_query empty for a pair you have not reviewed.",
        "Images are in images/ beside the sheets" + (f" ({sheets_folder})" if sheets_folder else "") + ".",
        "Keep the exported_at column: a decision you make in the review app after that time stands over the "
        "sheet's row, whatever the file's date (a copy or a download re-dates a file).",
        "Save as CSV (UTF-8; comma, semicolon or tab) or as an Excel workbook (.xlsx), keep the header row and the "
        "pair_id column as they are, then: leakless review import-sheet RUN FILE --user NAME",
    ]
