"""A benchmark file's raw records, streamed, each with the 1-based position a person would look for.

JSON lists and objects and Parquet files count rows; JSONL and CSV (or TSV) count lines, so a reject
names the line an editor shows. A UTF-8 byte-order mark (Excel's "CSV UTF-8")
is dropped, so it never sticks to the first column name. An entry that cannot
be read as a record (a JSONL line that is not JSON, a list or keyed entry that is not an
object, a CSV line with more cells than the header or with bytes that are not
UTF-8, a JSON record that gives one key twice or nests deeper than MAX_NESTING levels)
comes out as the reason it is unreadable instead of a record: one bad row must not
stop the file. Only what makes the whole file unreadable is a `ValueError`.

A compressed text file (`data.jsonl.gz`, `.zst`, `.bz2`, `.xz`) reads as the file it holds, with the same positions.
JSONL, CSV and Parquet are read as they are consumed; a JSON list is one
document, so it is parsed whole (use JSONL or Parquet for very large files).
The columns are those of the whole file (a JSONL file is read once before its
records to gather its keys), so a field first seen late is still found.
"""

from __future__ import annotations

import collections
import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.io.csv_records import read_csv
from pipeline.io.encoding import NOT_UTF8_TEXT, SAVE_TEXT, EncodingCheck, NotUtf8Reasons, refuse_utf16
from pipeline.io.entries import Entry, Position, RecordStream, Unreadable
from pipeline.io.compressed import COMPRESSIONS, READ_ERRORS, Decompressed, data_suffix, is_compressed, shown_suffixes
from pipeline.messages import first_line

FORMATS = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet")
# Where a JSON object's records are keyed by id, the key is kept under this name; the readers
# take it as the id only when the record names no id of its own.
OBJECT_KEY = "__key__"
PARQUET_BATCH_ROWS = 1024
BOM = b"\xef\xbb\xbf"
# No benchmark row needs more levels; deeper values overflow Python's stack (a RecursionError)
# wherever they are parsed, printed or written, so they are refused where they are read.
MAX_NESTING = 100
TOO_DEEP = f"nested more than {MAX_NESTING} levels deep"


def open_records(path: Path) -> RecordStream:
    """The file's entries, by its suffix. File-level failures raise a one-line `ValueError`,
    also when they surface while the entries are consumed."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; name a benchmark file")
    if path.exists() and not path.is_file():  # a named pipe, or <(zcat x.jsonl.gz): it can be read only once
        raise ValueError(f"{path}: is not a regular file (a pipe or device), and the file is read more than once: "
                         "save it to a file first")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = data_suffix(path)
    if suffix not in FORMATS or (suffix == ".parquet" and is_compressed(path)):
        raise ValueError(f"{path}: unknown format {shown_suffixes(path) or '(no suffix)'}; expected .json, .jsonl, "
                         f".ndjson, .csv, .tsv (each also compressed: {COMPRESSIONS}) or .parquet")
    if is_compressed(path):
        path = Decompressed(path)
    readers = {".json": _json, ".jsonl": _jsonl, ".ndjson": _jsonl, ".csv": read_csv, ".tsv": read_csv, ".parquet": _parquet}
    try:
        if suffix != ".parquet":
            refuse_utf16(path)
        stream = readers[suffix](path)
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error, pa.ArrowException, *READ_ERRORS) as error:
        raise _unreadable(path, error) from None
    return RecordStream(_reraising(path, stream.entries), stream.total, stream.unit, stream.columns)


def _unreadable(path: Path, error: Exception, where: str = "") -> ValueError:
    first = first_line(error)
    return ValueError(f"{path}: cannot read ({where}{first})")


def _reraising(path: Path, entries: Iterator[Entry]) -> Iterator[Entry]:
    position = None
    try:
        for position, entry in entries:
            yield position, entry
    except (csv.Error, pa.ArrowException, *READ_ERRORS) as error:  # a compressed file cut short, or not compressed
        after = f"after {position}: " if position else ""
        raise _unreadable(path, error, after) from None


def _json(path: Path) -> RecordStream:
    try:
        data = _loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        # One object a line, named .json: read as JSON lines, so a bad line is that line's reject
        # whichever line it is (a first line that does not parse is no "Extra data").
        raw = path.read_bytes()
        if getattr(error, "msg", None) == "Extra data" or _json_lines(raw):
            return _jsonl(path)
        if isinstance(error, UnicodeDecodeError):  # its offset in bytes tells a person nothing
            raise ValueError(f"{path}: cannot read (line {_first_not_utf8(raw)} is {NOT_UTF8_TEXT}: "
                             "save the file as UTF-8)") from None
        raise
    except RecursionError:
        raise ValueError(f"{path}: cannot read ({TOO_DEEP})") from None
    if isinstance(data, _RepeatedKeys):
        raise ValueError(f"{path}: cannot read ({_repeated(data)} at the top level)")
    if isinstance(data, dict) and _column_oriented(data):
        raise ValueError(f"{path}: looks like pandas' column-oriented JSON (to_json's default): write it with "
                         'orient="records" (or orient="records", lines=True for JSON lines)')
    records = _keyed_records(data) if isinstance(data, dict) else data
    if not isinstance(records, list) or not any(isinstance(r, dict) for r in records):
        raise ValueError(f"{path}: expected a list of objects, or an object of objects keyed by id"
                         if records != [] else f"{path}: no rows")
    entries = ((Position("row", number), _object_or_reason(record))
               for number, record in enumerate(records, start=1))
    columns = dict.fromkeys(key for record in records if isinstance(record, dict) for key in record)
    return RecordStream(entries, len(records), "row", list(columns))


def _json_lines(raw: bytes) -> bool:
    """Whether a .json file that does not parse as one document is JSON lines: two or more lines, and
    more than half of them each a JSON object of its own. The lines of a JSON list or object written
    across lines ("[", "  {", '"id": 1,', "},") are not; a broken or non-UTF-8 line is one of the rest."""
    lines = [line for line in raw.removeprefix(BOM).splitlines() if line.strip()]
    return len(lines) >= 2 and sum(_is_object(line) for line in lines) * 2 > len(lines)


def _first_not_utf8(raw: bytes) -> int:
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return 1  # not reached: the whole file failed to decode


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):  # not JSON, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return False


def _column_oriented(data: dict) -> bool:
    """Each value an object keyed by row index ("0", "1", ...), all with the same keys: pandas' default
    `to_json()`. Records keyed by id name fields, never only numbers, so they are not taken for it."""
    columns = list(data.values())
    if not columns or not all(isinstance(column, dict) and column for column in columns):
        return False
    rows = set(columns[0])
    return all(set(column) == rows for column in columns) and all(key.lstrip("-").isdigit() for key in rows)


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
        return [_keyed_entry(key, value) for key, value in data.items()]
    return None


def _keyed_entry(key: str, value) -> dict | Unreadable:
    entry = _object_or_reason(value)
    if isinstance(entry, Unreadable):
        return Unreadable(f"the entry under key {key!r}: {entry}", {**entry.record, OBJECT_KEY: key})
    if isinstance(entry, str):
        return Unreadable(f"the entry under key {key!r} is {entry}", {OBJECT_KEY: key})
    return {**entry, OBJECT_KEY: key}


def _object_or_reason(value) -> dict | str:
    if isinstance(value, Unreadable):
        return value
    if isinstance(value, dict):
        problem = _problem(value)
        return value if problem is None else Unreadable(problem, _unrepeated(value))
    return f"not an object but {type(value).__name__} {value!r:.40}"


class _RepeatedKeys(dict):
    """A JSON object that gives a key more than once: json keeps the last value, silently, so what
    the row says depends on the reader. `counts` says how often each such key appears."""

    counts: dict[str, int]


def _object(pairs: list[tuple[str, object]]) -> dict:
    made = dict(pairs)
    if len(made) == len(pairs):
        return made
    counts = collections.Counter(key for key, _ in pairs)
    marked = _RepeatedKeys(made)
    marked.counts = {key: count for key, count in counts.items() if count > 1}
    return marked


def _loads(text: str | bytes):
    """JSON, with each object that repeats a key marked. Nesting too deep for Python's stack is a RecursionError."""
    return json.loads(text, object_pairs_hook=_object)


def _repeated(marked: _RepeatedKeys) -> str:
    key, count = next(iter(marked.counts.items()))
    return f"key {key!r} appears {count} times"


def _problem(record: dict) -> str | None:
    """Why a parsed record is not what its file says: a key given twice (anywhere in it), or nesting
    deeper than MAX_NESTING. Walked with a list, not recursion, so depth cannot overflow the stack."""
    containers = [(record, 1)]
    while containers:
        value, depth = containers.pop()
        if depth > MAX_NESTING:
            return TOO_DEEP
        if isinstance(value, _RepeatedKeys):
            return _repeated(value)
        children = value.values() if isinstance(value, dict) else value
        containers.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return None


def _unrepeated(record: dict) -> dict:
    """What can be read of a record for its reject (its id): the keys it gives once."""
    repeated = record.counts if isinstance(record, _RepeatedKeys) else {}
    return {key: value for key, value in record.items() if key not in repeated}


def _jsonl(path: Path) -> RecordStream:
    """One pass counts the lines and gathers every record's keys (memory: the keys, not the
    records); the entries are read in a second pass."""
    total, columns, encoding = 0, {}, EncodingCheck()
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                total += 1
                columns.update(dict.fromkeys(_keys(line)))
                encoding.see(line)
    return RecordStream(_jsonl_entries(path, encoding), total, "line", list(columns))


def _keys(line: bytes) -> list[str]:
    """A JSON line's keys; none where it is not a JSON object (its entry says why)."""
    try:
        record = _loads(line)  # bytes: a byte-order mark is dropped
    except (ValueError, RecursionError):
        return []
    return list(record) if isinstance(record, dict) else []


def _jsonl_entries(path: Path, encoding: EncodingCheck) -> Iterator[Entry]:
    not_utf8 = NotUtf8Reasons(encoding, SAVE_TEXT)
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number == 1:
                line = line.removeprefix(BOM)
            if not line.strip():
                continue
            position = Position("line", number)
            try:
                # without its line end, an error at the end of the line is not put on a "next line" at column 1
                yield position, _object_or_reason(_loads(line.decode("utf-8").rstrip("\r\n")))
            except UnicodeDecodeError:
                yield position, not_utf8.reason()
            except json.JSONDecodeError as error:
                # "Unterminated string starting at" and "Invalid control character at" end in "at" already
                yield position, f"not valid JSON ({error.msg.removesuffix(' at')} at column {error.colno})"
            except RecursionError:
                yield position, TOO_DEEP


def _parquet(path: Path) -> RecordStream:
    handle = path.open("rb")  # pyarrow takes no path whose name is not UTF-8 (a Latin-1 name on an old share)
    try:
        parquet = pq.ParquetFile(handle)
        _refuse_repeated_columns(path, parquet.schema_arrow.names)
    except BaseException:
        handle.close()
        raise
    return RecordStream(_parquet_entries(parquet, handle), parquet.metadata.num_rows, "row", parquet.schema_arrow.names)


def _refuse_repeated_columns(path: Path, names: list[str]) -> None:
    """Each row would keep only the last of two columns of one name (as a CSV header or a JSON row
    naming one twice, which of them is meant is a guess)."""
    repeated = sorted(name for name, count in collections.Counter(names).items() if count > 1)
    if repeated:
        raise ValueError(f"{path}: names column {repeated[0]!r} more than once")


def _parquet_entries(parquet: pq.ParquetFile, handle) -> Iterator[Entry]:
    number = 0
    with handle:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for record in batch.to_pylist():
                number += 1
                yield Position("row", number), record
