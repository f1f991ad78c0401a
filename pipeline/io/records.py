"""A benchmark file's raw records, streamed, each with the 1-based position a person would look for.

JSON lists and objects and Parquet files count rows; JSONL and CSV (or TSV) count lines, so a reject
names the line an editor shows. A UTF-8 byte-order mark (Excel's "CSV UTF-8")
is dropped, so it never sticks to the first column name. An entry that cannot
be read as a record (a JSONL line that is not JSON, a list or keyed entry that is not an
object, a CSV line with more cells than the header or with bytes that are not
UTF-8) comes out as the reason it is unreadable instead of a record: one bad row
must not stop the file. Only what makes the whole file unreadable is a `ValueError`.

JSONL, CSV and Parquet are read as they are consumed; a JSON list is one
document, so it is parsed whole (use JSONL or Parquet for very large files).
The columns are those of the whole file (a JSONL file is read once before its
records to gather its keys), so a field first seen late is still found.
"""

from __future__ import annotations

import collections
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet")
# Where a JSON object's records are keyed by id, the key is kept under this name; the readers
# take it as the id only when the record names no id of its own.
OBJECT_KEY = "__key__"
# A spreadsheet set to a comma decimal separator saves "CSV" with semicolons.
CSV_DELIMITERS = ",;\t"
CSV_FIELD_LIMIT = 2**31 - 1  # the csv module's default, 128 KiB, would stop a file at one long query
PARQUET_BATCH_ROWS = 1024
BOM = b"\xef\xbb\xbf"
# A CSV is decoded with errors="surrogateescape": each byte that is not UTF-8 becomes one of these,
# so the row holding it can be rejected while the rest of the file is read.
NOT_UTF8 = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Position:
    unit: str    # "row" (JSON list, Parquet) or "line" (JSONL, CSV)
    number: int  # 1-based

    def __str__(self) -> str:
        return f"{self.unit} {self.number}"


class Unreadable(str):
    """Why an entry is not a record, with what could be read of it (so a reject can name its id)."""

    record: dict

    def __new__(cls, reason: str, record: dict | None = None) -> Unreadable:
        made = super().__new__(cls, reason)
        made.record = record or {}
        return made


Entry = tuple[Position, "dict | str"]  # a record, or the reason the entry is not one


@dataclass
class RecordStream:
    entries: Iterator[Entry]
    total: int | None  # entries expected, where known without parsing the file twice
    unit: str          # what the positions count: "row" or "line" (a .json file of JSON lines counts lines)
    columns: list[str]  # every record's keys, in the order first seen


def open_records(path: Path) -> RecordStream:
    """The file's entries, by its suffix. File-level failures raise a one-line `ValueError`,
    also when they surface while the entries are consumed."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; name a benchmark file")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unknown format {suffix or '(no suffix)'}; "
                         "expected .json, .jsonl, .ndjson, .csv, .tsv or .parquet")
    readers = {".json": _json, ".jsonl": _jsonl, ".ndjson": _jsonl, ".csv": _csv, ".tsv": _csv, ".parquet": _parquet}
    try:
        stream = readers[suffix](path)
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error, pa.ArrowException, OSError) as error:
        raise _unreadable(path, error) from None
    return RecordStream(_reraising(path, stream.entries), stream.total, stream.unit, stream.columns)


def _unreadable(path: Path, error: Exception, where: str = "") -> ValueError:
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ValueError(f"{path}: cannot read ({where}{first})")


def _reraising(path: Path, entries: Iterator[Entry]) -> Iterator[Entry]:
    position = None
    try:
        for position, entry in entries:
            yield position, entry
    except (csv.Error, pa.ArrowException, OSError) as error:
        after = f"after {position}: " if position else ""
        raise _unreadable(path, error, after) from None


def _json(path: Path) -> RecordStream:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        if error.msg == "Extra data":  # one object a line, named .json: JSON lines
            return _jsonl(path)
        raise
    records = _keyed_records(data) if isinstance(data, dict) else data
    if not isinstance(records, list) or not any(isinstance(r, dict) for r in records):
        raise ValueError(f"{path}: expected a list of objects, or an object of objects keyed by id"
                         if records != [] else f"{path}: no rows")
    entries = ((Position("row", number), _object_or_reason(record))
               for number, record in enumerate(records, start=1))
    columns = dict.fromkeys(key for record in records if isinstance(record, dict) for key in record)
    return RecordStream(entries, len(records), "row", list(columns))


def _keyed_records(data: dict) -> list | None:
    """`{"data": [...]}`, or an object whose values are mostly records, keyed by id (MM-SafetyBench's
    processed_questions files), each key kept under OBJECT_KEY; a value that is not a record is the
    reason it is not, naming its key, as in a list."""
    if isinstance(data.get("data"), list):
        return data["data"]
    objects = [value for value in data.values() if isinstance(value, dict)]
    # Records keyed by id share their fields; one record's own nested objects ("image": {...},
    # "meta": {...}) do not, so such a record is not read as a file of records.
    shared_fields = set.intersection(*(set(value) for value in objects)) if objects else set()
    if len(objects) * 2 > len(data) and shared_fields:
        return [{**value, OBJECT_KEY: key} if isinstance(value, dict)
                else Unreadable(f"the entry under key {key!r} is {_object_or_reason(value)}", {OBJECT_KEY: key})
                for key, value in data.items()]
    return None


def _object_or_reason(value) -> dict | str:
    if isinstance(value, (dict, Unreadable)):
        return value
    return f"not an object but {type(value).__name__} {value!r:.40}"


def _jsonl(path: Path) -> RecordStream:
    """One pass counts the lines and gathers every record's keys (memory: the keys, not the
    records); the entries are read in a second pass."""
    total, columns = 0, {}
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                total += 1
                columns.update(dict.fromkeys(_keys(line)))
    return RecordStream(_jsonl_entries(path), total, "line", list(columns))


def _keys(line: bytes) -> list[str]:
    """A JSON line's keys; none where it is not a JSON object (its entry says why)."""
    try:
        record = json.loads(line)  # bytes: a byte-order mark is dropped
    except ValueError:
        return []
    return list(record) if isinstance(record, dict) else []


def _jsonl_entries(path: Path) -> Iterator[Entry]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number == 1:
                line = line.removeprefix(BOM)
            if not line.strip():
                continue
            position = Position("line", number)
            try:
                # without its line end, an error at the end of the line is not put on a "next line" at column 1
                yield position, _object_or_reason(json.loads(line.decode("utf-8").rstrip("\r\n")))
            except UnicodeDecodeError:
                yield position, "not UTF-8 text"
            except json.JSONDecodeError as error:
                yield position, f"not valid JSON ({error.msg} at column {error.colno})"


def _csv(path: Path) -> RecordStream:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    delimiter = _delimiter(path)
    with _open_csv(path) as handle:
        header = _csv_header(path, _Lines(handle), delimiter)
    return RecordStream(_csv_entries(path, delimiter), _csv_lines(path), "line", header)


def _open_csv(path: Path):
    return path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")


def _csv_lines(path: Path) -> int:
    """Lines after the header: the rows expected, for a progress bar (a quoted cell that spans
    lines makes its row count more than once)."""
    with path.open("rb") as handle:
        return max(sum(1 for line in handle if line.strip()) - 1, 0)


def _delimiter(path: Path) -> str:
    """Tab for a .tsv file; otherwise whichever of comma, semicolon and tab splits the header line
    into the most names (quoted names kept whole; a tie goes to the comma)."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    with _open_csv(path) as handle:
        header = handle.readline()
    return max(CSV_DELIMITERS, key=lambda delimiter: len(next(csv.reader([header], delimiter=delimiter), [])))


def _csv_header(path: Path, lines: _Lines, delimiter: str) -> list[str]:
    """The column names; a header that is not CSV or not UTF-8 makes the whole file unreadable."""
    try:
        header = next(csv.reader(lines, delimiter=delimiter, strict=True), [])
    except csv.Error as error:
        raise ValueError(f"{path}: line 1 (the header) is not CSV: {error}") from None
    if any(NOT_UTF8.search(name) for name in header):
        raise ValueError(f"{path}: cannot read (line 1, the header, is not UTF-8 text)")
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


def _csv_entries(path: Path, delimiter: str) -> Iterator[Entry]:
    """Rows by the line they start on. A row that is not valid CSV is named and skipped: one whose
    quote is never closed (it would swallow later rows into one cell) costs its first line only,
    any other the lines it spans, each named in the reason; so is a row with bytes that are not UTF-8."""
    with _open_csv(path) as handle:
        lines = _Lines(handle)
        header = _csv_header(path, lines, delimiter)
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        while True:
            start = lines.consumed + 1
            try:
                cells = next(reader, None)
            except csv.Error as error:
                yield Position("line", start), _skip_bad_row(lines, error, delimiter)
                reader = csv.reader(lines, delimiter=delimiter, strict=True)
                continue
            lines.row_done()
            if cells is None:
                return
            if not cells:
                continue
            position = Position("line", start)
            if any(NOT_UTF8.search(cell) for cell in cells):
                readable = {name: cell for name, cell in zip(header, cells) if not NOT_UTF8.search(cell)}
                yield position, Unreadable("not UTF-8 text", readable)
            elif len(cells) > len(header):
                yield position, Unreadable(f"{len(cells)} cells where the header has {len(header)}",
                                           dict(zip(header, cells)))
            else:
                yield position, dict(zip(header, cells))  # a short row lacks its last columns


def _skip_bad_row(lines: _Lines, error: csv.Error, delimiter: str) -> str:
    """Skips the row the csv module rejected and says why it was skipped and which lines went."""
    start, row = lines.consumed + 1, lines.taken
    if _quote_left_open(error, row, delimiter) or _rows_follow_inside(row, delimiter):
        lines.skip_first_line_only()
        return "not CSV (a quote opened on this line is never closed; reading goes on from the next line)"
    lines.row_done()
    spanned = f"; lines {start}-{start + len(row) - 1} skipped with it" if len(row) > 1 else ""
    return f"not CSV ({error}{spanned})"


def _parquet(path: Path) -> RecordStream:
    parquet = pq.ParquetFile(path)
    return RecordStream(_parquet_entries(parquet), parquet.metadata.num_rows, "row", parquet.schema_arrow.names)


def _parquet_entries(parquet: pq.ParquetFile) -> Iterator[Entry]:
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for record in batch.to_pylist():
            number += 1
            yield Position("row", number), record
