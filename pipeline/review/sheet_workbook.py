"""A review sheet saved as an Excel workbook (.xlsx: Excel's own Save, or a Google Sheets download),
read row by row as its CSV would be: each cell as the text the spreadsheet shows (a formula's saved
result, so a failed one reads as its error value, `#NAME?`), the row's number as its line.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timezone
from pathlib import Path

from pipeline.review.sheet_format import export_time

def is_excel_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def cell_text(value) -> str:
    """The cell as text: a whole number without ".0", a date-time as the export writes times (a
    spreadsheet that took `exported_at` for a date shows the UTC time it was written with, zone dropped)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return export_time(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def workbook_rows(path: Path, is_header) -> Iterator[tuple[int, list[str]]]:
    """(row number, its cells as text) of the workbook's one review sheet: the worksheet whose first
    filled row `is_header` takes (the others are not read past that row). A workbook with two such
    worksheets is refused, not guessed at, and so is a formula with no saved result (a workbook a script
    wrote: the value a spreadsheet would show is not in the file, and the row would read as blank)."""
    import openpyxl

    try:
        shown = openpyxl.load_workbook(path, read_only=True, data_only=True)
        typed = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises what its XML and zip readers raise
        raise ValueError(f"{path.name} cannot be read as an Excel workbook ({error})") from None
    try:
        review = [title for title in shown.sheetnames if is_header(first_filled(shown[title]))]
        if len(review) > 1:
            raise ValueError(f"{path.name} holds {len(review)} review sheets ({', '.join(review)}): keep one, or "
                             "save each as its own file; nothing was recorded")
        title = review[0] if review else shown.sheetnames[0]
        for number, (values, formulas) in enumerate(zip(shown[title].iter_rows(values_only=True),
                                                        typed[title].iter_rows(values_only=True)), start=1):
            if any(value is None and isinstance(formula, str) and formula.startswith("=")
                   for value, formula in zip(values, formulas)):
                raise ValueError(f"{path.name} row {number}: a formula with no saved result (a workbook written by a "
                                 "script?): open and save it in a spreadsheet, or type the cell as text; nothing "
                                 "was recorded")
            yield number, [cell_text(value) for value in values]
    finally:
        shown.close()
        typed.close()


def first_filled(sheet) -> list[str]:
    for row in sheet.iter_rows(values_only=True):
        cells = [cell_text(value) for value in row]
        if any(cell.strip() for cell in cells):
            return cells
    return []
