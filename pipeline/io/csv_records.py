"""CSV and TSV benchmark files, as spreadsheets save them.

Lines are counted as an editor shows them (a quoted cell may span lines). The delimiter is
found from the first lines (a spreadsheet set to a comma decimal separator saves "CSV" with
semicolons), or named by the "sep=;" line Excel may write above the header. Bytes that are not UTF-8 reject only the row holding them, and a row with more
cells than the header, or a quote left open, is a reject naming its line: one bad row must
not stop the file.
"""

from __future__ import annotations

import collections
import csv
import re
from collections.abc import Iterator
from pathlib import Path

from pipeline.io.encoding import NOT_UTF8_TEXT, SAVE_CSV, EncodingCheck, NotUtf8Reasons, other_encoding
from pipeline.io.entries import Entry, Position, RecordStream, Unreadable
from pipeline.io.compressed import data_suffix

CSV_DELIMITERS = ",;\t"
CSV_FIELD_LIMIT = 2**31 - 1  # the csv module's default, 128 KiB, would stop a file at one long query
# A CSV is decoded with errors="surrogateescape": each byte that is not UTF-8 becomes one of these,
# so the row holding it can be rejected while the rest of the file is read.
NOT_UTF8 = re.compile("[\udc80-\udcff]")
# Excel's first line naming the delimiter ("sep=;"), read by Excel itself and skipped by it.
_EXCEL_SEPARATOR = re.compile(r"sep=(.)[\r\n]*")


def read_csv(path: Path) -> RecordStream:
    """A CSV or TSV file's entries; the delimiter is found from its first lines."""
    csv.field_size_limit(CSV_FIELD_LIMIT)
    delimiter = _delimiter(path)
    with _open_csv(path) as handle:
        header = _csv_header(path, _Lines(handle), delimiter)
    encoding = _encoding_check(path)
    # The rows expected, for the progress bar and to refuse an empty file: counted by reading them
    # as they will be read, so a bare CR (Excel for Mac's "CSV (Macintosh)") ends a line as \n does
    # and a quoted cell that spans lines is one row.
    total = sum(1 for _ in _csv_entries(path, delimiter, encoding))
    return RecordStream(_csv_entries(path, delimiter, encoding), total, "line", header)


def _open_csv(path: Path):
    return path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")


def _encoding_check(path: Path) -> EncodingCheck:
    """Whether the file seems to be in another encoding, from its lines as bytes. Read as Latin-1,
    each byte is one character, so the lines split where the csv reader splits them (at \n, \r\n
    or a bare \r) and encode back to the file's own bytes."""
    encoding = EncodingCheck()
    with path.open(encoding="latin-1", newline="") as handle:
        for line in handle:
            encoding.see(line.encode("latin-1"))
    return encoding


def _delimiter(path: Path) -> str:
    """Tab for a .tsv file; otherwise whichever of comma, semicolon and tab splits the header line
    into the most names (quoted names kept whole; a tie goes to the comma)."""
    if data_suffix(path) == ".tsv":
        return "\t"
    if named := _excel_separator(path):
        return named
    with _open_csv(path) as handle:
        header = handle.readline()
    return max(CSV_DELIMITERS, key=lambda delimiter: len(next(csv.reader([header], delimiter=delimiter), [])))


def _excel_separator(path: Path) -> str | None:
    with _open_csv(path) as handle:
        found = _EXCEL_SEPARATOR.fullmatch(handle.readline())
    return found.group(1) if found else None


def _csv_header(path: Path, lines: _Lines, delimiter: str) -> list[str]:
    """The column names; a header that is not CSV or not UTF-8 makes the whole file unreadable."""
    if _excel_separator(path) is not None:
        next(lines)
        lines.row_done()
    at = lines.consumed + 1  # the header's line
    try:
        header = next(csv.reader(lines, delimiter=delimiter, strict=True), [])
    except csv.Error as error:
        raise ValueError(f"{path}: line {at} (the header) is not CSV: {error}") from None
    if any(NOT_UTF8.search(name) for name in header):
        raise ValueError(f"{path}: cannot read (line {at}, the header, is {NOT_UTF8_TEXT}: {other_encoding(SAVE_CSV)})")
    repeated = sorted(name for name, count in collections.Counter(header).items() if name and count > 1)
    if repeated:  # which of the two columns a row means is a guess: a JSON row repeating a key is refused too
        raise ValueError(f"{path}: line {at} (the header) names column {repeated[0]!r} more than once")
    lines.row_done()
    return header


class _Lines:
    """The file's lines, remembering those the current row took, so that a row the csv module
    rejects can be skipped without reading the file again."""

    def __init__(self, handle):
        self.handle, self.pending, self.taken = handle, collections.deque(), []
        self.consumed = 0  # lines before the current row

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.pending.popleft() if self.pending else next(self.handle)
        self.taken.append(line)
        return line

    def row_done(self) -> None:
        self.consumed += len(self.taken)
        self.taken = []

    def skip_first_line_only(self) -> None:
        """A quote left open took later lines into its cell: only its first line is lost."""
        self.pending.extendleft(reversed(self.taken[1:]))
        self.consumed += 1
        self.taken = []


def _quote_left_open(error: csv.Error, row: list[str], delimiter: str) -> bool:
    """Whether a row the csv module rejects is a quote left open on its first line rather than a
    quoted cell that closes badly: the file ended inside the quote, or the quote taken as closing it
    stands where a cell opens on a later line, so it opens a cell of a later row."""
    if "unexpected end of data" in str(error):
        return True
    text = "".join(row)
    quote = _failing_quote(text, delimiter)
    return (quote is not None and quote >= len(row[0])
            and text[quote - 1] in (delimiter, "\r", "\n"))


def _rows_follow_inside(row: list[str], delimiter: str) -> bool:
    """Whether a quote opened on a row's first line took in lines that read as whole rows of their
    own ('2,what is this'): a quote in the middle of a later cell then 'closed' it, and skipping
    every line up to there would lose those rows."""
    return len(row) > 2 and all(delimiter in line and line.count('"') % 2 == 0 for line in row[1:-1])


def _failing_quote(text: str, delimiter: str) -> int | None:
    """Where a strict csv reader fails on a row's text: the quote that ends a quoted cell without
    the delimiter, another quote or the line's end after it."""
    quoted, cell_start = False, True
    index = 0
    while index < len(text):
        char = text[index]
        if quoted and char == '"':
            if text.startswith('"', index + 1):
                index += 1  # a doubled quote stands for one
            elif text[index + 1:index + 2] not in (delimiter, "\r", "\n", ""):
                return index
            else:
                quoted = False
        elif not quoted:
            quoted = char == '"' and cell_start  # a quote within an unquoted cell is text
            cell_start = char in (delimiter, "\r", "\n")
        index += 1
    return None


def _csv_entries(path: Path, delimiter: str, encoding: EncodingCheck) -> Iterator[Entry]:
    """Rows by the line they start on. A row that is not valid CSV is named and skipped: one whose
    quote is never closed (it would swallow later rows into one cell) costs its first line only,
    any other the lines it spans, each named in the reason; so is a row with bytes that are not UTF-8."""
    not_utf8 = NotUtf8Reasons(encoding, SAVE_CSV)
    with _open_csv(path) as handle:
        lines = _Lines(handle)
        header = _csv_header(path, lines, delimiter)
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        while True:
            start = lines.consumed + 1
            try:
                cells = next(reader, None)
            except csv.Error as error:
                yield Position("line", start), _skip_bad_row(lines, error, delimiter, header)
                reader = csv.reader(lines, delimiter=delimiter, strict=True)
                continue
            lines.row_done()
            if cells is None:
                return
            if not any(cell.strip() for cell in cells):  # a blank line, or Excel's row of empty cells
                continue
            position = Position("line", start)
            if any(NOT_UTF8.search(cell) for cell in cells):
                readable = {name: cell for name, cell in zip(header, cells) if not NOT_UTF8.search(cell)}
                yield position, Unreadable(not_utf8.reason(), readable)
            elif len(cells) > len(header):
                yield position, Unreadable(f"{len(cells)} cells where the header has {len(header)}",
                                           dict(zip(header, cells)))
            else:
                yield position, dict(zip(header, cells))  # a short row lacks its last columns


def _skip_bad_row(lines: _Lines, error: csv.Error, delimiter: str, header: list[str]) -> Unreadable:
    """Skips the row the csv module rejected and says why it was skipped and which lines went."""
    start, row = lines.consumed + 1, lines.taken
    readable = _cells_before_quote(header, row[0], delimiter)
    if _quote_left_open(error, row, delimiter) or _rows_follow_inside(row, delimiter):
        lines.skip_first_line_only()
        return Unreadable("not CSV (a quote opened on this line is never closed; reading goes on from the next line)",
                          readable)
    lines.row_done()
    spanned = f"; lines {start}-{start + len(row) - 1} skipped with it" if len(row) > 1 else ""
    return Unreadable(f"not CSV ({error}{spanned})", readable)


def _cells_before_quote(header: list[str], first_line: str, delimiter: str) -> dict:
    """The whole cells of a bad row's first line before its first quote (so its reject can name its id):
    unquoted, they read the same whatever went wrong after."""
    cells = first_line.split('"', 1)[0].split(delimiter)[:-1]  # the last is cut by the quote or is the line end
    return dict(zip(header, cells))
