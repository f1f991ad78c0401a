"""A review sheet read as spreadsheets save CSV: with a BOM or without, UTF-8 (or UTF-16, Excel's
"Unicode Text"), comma, semicolon or tab between cells (or Excel's `sep=;` first line), CRLF line
ends, quoted cells holding line breaks, header names in any case and spacing, trailing empty rows and
columns; or saved as an Excel workbook (`sheet_workbook`). Each row keeps the line it starts on (a
workbook's row number), for messages. A file that cannot be read as such (not UTF-8, an .ods or .xls
workbook, no pair_id or verdict column) is one ValueError, before anything is recorded.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.review.sheet_format import COLUMNS
from pipeline.review.sheet_workbook import is_excel_workbook, workbook_rows

REQUIRED = ("pair_id", "verdict")
DELIMITERS = (",", ";", "\t")
WORKBOOKS = {b"PK\x03\x04": "an OpenDocument spreadsheet (.ods) or another zip file",
             b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)"}
SAVE_AS_CSV = ("save it as CSV UTF-8 or as an Excel workbook (.xlsx) (Excel: File > Save As > 'CSV UTF-8'; "
               "LibreOffice: Text CSV, Unicode (UTF-8), or Excel 2007-365)")


@dataclass(frozen=True)
class SheetRow:
    line: int  # the line of the file the row starts on (1-based, the header's line counted)
    cells: dict[str, str]  # our column -> the cell as saved
    extra: tuple[str, ...] = ()  # non-empty cells beyond the header row's last cell (ours or not)


def decoded_text(path: Path) -> str:
    raw = path.read_bytes()
    for magic, kind in WORKBOOKS.items():
        if raw.startswith(magic):
            raise ValueError(f"{path.name} is {kind}, not a CSV or .xlsx sheet: {SAVE_AS_CSV}, and import that")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ValueError(f"{path.name} is not UTF-8 text (line {line}: byte 0x{raw[error.start]:02x}; most likely "
                         f"Windows-1252, Excel's plain 'CSV'): {SAVE_AS_CSV}; nothing was recorded") from None


def header_name(cell: str) -> str:
    """`Pair ID`, ` pair-id `, `Edited Query` -> pair_id, edited_query."""
    return re.sub(r"[\s\-]+", "_", cell.replace("\ufeff", "").strip().lower())


def is_sheet_header(line: str) -> bool:
    """Whether a file's first line is a review sheet's header, whichever separator it was saved with
    (Label Studio's CSV export has a pair_id and a verdict column too, beside its task's and annotation's)."""
    return is_header_row(re.split(r"[,;\t]", line))


def delimiter_of(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def split_sep_line(text: str) -> tuple[str | None, str, int]:
    """Excel's `sep=;` first line names the delimiter: (it or None, the text after it, lines taken)."""
    first, newline, rest = text.partition("\n")
    match = re.fullmatch(r'"?sep=(.)"?\r?', first.strip(" "))
    return (match.group(1), rest, 1) if match and newline else (None, text, 0)


def read_sheet(path: Path) -> list[SheetRow]:
    """The sheet's rows that are not wholly empty, or a ValueError naming what is wrong with the file."""
    numbered = workbook_rows(path, is_header_row) if is_excel_workbook(path) else csv_rows(path)
    header, width, rows = None, 0, []
    for line, cells in numbered:
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:  # its width counts the sheet's own columns too (notes right of ours)
            header, width = columns_of(cells, path), len(cells)
            continue
        rows.append(SheetRow(line, {name: cells[index] if index < len(cells) else "" for name, index in header.items()},
                             tuple(cell for cell in cells[width:] if cell.strip())))
    if header is None:
        raise ValueError(f"{path.name} is empty: expected a review sheet (`review export --format csv`)")
    return rows


def is_header_row(cells: Iterable[str]) -> bool:
    names = {header_name(cell.strip().strip('"')) for cell in cells}
    return set(REQUIRED) <= names and not names & {"annotation_id", "batch_id"}


def csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(the line a row starts on, its cells) of a CSV sheet."""
    delimiter, text, skipped = split_sep_line(decoded_text(path))
    header_line = next((line for line in text.splitlines() if line.strip(" ,;\t")), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or delimiter_of(header_line))
    start = 1
    try:
        for cells in reader:
            line, start = start + skipped, reader.line_num + 1
            yield line, cells
    except csv.Error as error:
        raise ValueError(f"{path.name}: line {start + skipped} cannot be read as CSV ({error})") from None


def columns_of(cells: list[str], path: Path) -> dict[str, int]:
    """Our columns in the header row -> their index; the others (the sheet's own notes) are not read."""
    names = [header_name(cell) for cell in cells]
    ours = {name: index for index, name in enumerate(names) if name in COLUMNS}
    twice = sorted({name for name in ours if names.count(name) > 1})
    if twice:
        raise ValueError(f"{path.name}: the header names {', '.join(twice)} more than once")
    missing = [name for name in REQUIRED if name not in ours]
    if missing:
        found = ", ".join(repr(cell.strip()) for cell in cells if cell.strip())
        raise ValueError(f"{path.name}: no {' or '.join(missing)} column in its header ({found}): expected a "
                         "review sheet with the header `review export --format csv` wrote")
    return ours
