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
    filled row `is_header` takes. A workbook with two such worksheets is refused, not guessed at."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises what its XML and zip readers raise
        raise ValueError(f"{path.name} cannot be read as an Excel workbook ({error})") from None
    try:
        sheets = [(sheet.title, [[cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)])
                  for sheet in book.worksheets]
    finally:
        book.close()
    review = [(title, rows) for title, rows in sheets if is_header(first_filled(rows))]
    if len(review) > 1:
        raise ValueError(f"{path.name} holds {len(review)} review sheets ({', '.join(t for t, _ in review)}): "
                         "keep one, or save each as its own file; nothing was recorded")
    _, rows = review[0] if review else sheets[0]
    yield from enumerate(rows, start=1)


def first_filled(rows: list[list[str]]) -> list[str]:
    return next((row for row in rows if any(cell.strip() for cell in row)), [])
