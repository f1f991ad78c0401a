"""Read an existing benchmark file (JSON list or object of records, JSONL, CSV, TSV or Parquet) into typed rows.

Fields are found by their common names (VLSBench's `instruction`,
`image_description`, `instruction_id`; or `query`, `question`, `prompt`,
`caption`, `id`, ...) unless the caller names them. A file that cannot be read
at all is a `ValueError` with a one-line message the CLI can print as is; a row
that cannot be read is a `Reject` naming its 1-based row or line, its id and
why, and the rows after it are still read.

A row without an image description is a text-only row (its description is
""), not a bad one, unless the caller requires descriptions.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from pipeline.io.entries import Position
from pipeline.io.records import OBJECT_KEY, open_records
from pipeline.plain_text import has_words

# Candidate source names per field, most specific first; a column matches whatever its case
# and its separators ("Question", "Image Description", "BehaviorID").
FIELD_NAMES = {
    # redteam_query: JailbreakV-28K; forbidden_prompt: StrongREJECT; goal: AdvBench, JailbreakBench;
    # behavior, behavior_id, semantic_category: HarmBench
    "query": ("instruction", "query", "question", "prompt", "redteam_query", "forbidden_prompt", "goal",
              "behavior", "text"),
    "image_description": ("image_description", "description", "caption", "image_caption"),
    "id": ("instruction_id", "id", "item_id", "question_id", "uid", "behavior_id"),
    "category": ("category", "semantic_category"),
    "sub_category": ("sub_category", "subcategory"),
    "label": ("label",),
    "element_terms": ("element_terms",),
}
# Valid pairs are joined into one character when JSON is parsed, so any surrogate left is half a pair.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
BOOLEAN_WORDS = {"true": 1, "false": 0}
# Column names an error lists before "... and N more".
LISTED_COLUMNS = 20
# Rows read at a time by `read_rows`.
ROWS_PER_CHUNK = 1000


@dataclass(frozen=True)
class BenchmarkRow:
    id: str
    query: str
    image_description: str            # "" for a text-only row
    category: str | None = None
    sub_category: str | None = None
    label: int | None = None
    element_terms: tuple[str, ...] = ()
    extra: dict | None = None         # every other field, untouched (e.g. `kind`, `twin_of`)
    position: Position | None = None  # where the row is in its file

    @property
    def text_only(self) -> bool:
        return not self.image_description


@dataclass(frozen=True)
class Reject:
    position: Position
    id: str | None  # None where the row has no readable id
    reason: str

    def describe(self) -> str:
        return f"{self.position}" + (f" (id {self.id})" if self.id is not None else "") + f": {self.reason}"

    def json_line(self) -> str:
        """The reject as a line of a rejects file (`leakless audit --rejects`, `eval-detector --rejects`)."""
        return json.dumps({self.position.unit: self.position.number, "id": self.id, "reason": self.reason},
                          ensure_ascii=False) + "\n"


def resolve_fields(columns: list[str], overrides: dict[str, str | None],
                   required: tuple[str, ...] = ("query", "image_description")) -> dict[str, str]:
    """Our field name -> the file's column name, for the fields the file has."""
    resolved = {}
    for field, candidates in FIELD_NAMES.items():
        chosen = overrides.get(field)
        if chosen is not None:
            if chosen not in columns:
                raise ValueError(f"field {chosen!r} not in the file (columns: {listed(columns)})")
            resolved[field] = chosen
            continue
        found = next((c for c in candidates if c in columns), None) or next(
            (column for c in candidates for column in columns if _field_key(column) == _field_key(c)), None)
        if found is not None:
            resolved[field] = found
    if "id" not in resolved and OBJECT_KEY in columns:
        resolved["id"] = OBJECT_KEY  # a record's own id, under any name, wins over its key
    for field in required:
        if field not in resolved:
            raise ValueError(f"no {field} field found (columns: {listed(columns)}); "
                             f"name it with --{field.replace('image_', '').replace('_', '-')}-field")
    return resolved


def listed(columns: list[str]) -> str:
    """The file's column names for an error line: its own (not the object keys' internal name), and
    no more than LISTED_COLUMNS of them."""
    names = [column for column in columns if column != OBJECT_KEY]
    more = f", ... and {len(names) - LISTED_COLUMNS} more" if len(names) > LISTED_COLUMNS else ""
    return ", ".join(names[:LISTED_COLUMNS]) + more


def _field_key(name: str) -> str:
    """"Image Description", "image-description" and "ImageDescription" all read "imagedescription"."""
    return "".join(character for character in name.lower() if character.isalnum())


class BenchmarkReader:
    """A benchmark file read in chunks of typed rows and rejects. Opening it finds the fields from
    the columns of the whole file, so a file-level problem is raised before any work."""

    def __init__(self, path: Path, query_field: str | None = None, description_field: str | None = None,
                 id_field: str | None = None, require_label: bool = False, require_description: bool = True):
        self.path = Path(path)
        stream = open_records(self.path)
        self.total = stream.total
        self.position_unit = stream.unit  # "line" for JSON lines, also in a .json file
        self._entries = stream.entries
        self.columns = columns = stream.columns
        if self.total == 0:  # a header-only CSV, a 0-row Parquet: refused before a command loads its model
            raise ValueError(f"{self.path}: no rows")
        if not columns:
            first = next(self._entries, None)
            if first is None:
                raise ValueError(f"{self.path}: no rows")
            if isinstance(first[1], str):  # else records without fields: refused below, naming no field
                raise ValueError(f"{self.path}: no readable rows ({first[0]}: {first[1]})")
        required = ("query", "image_description") if require_description else ("query",)
        try:
            self.fields = resolve_fields(columns, {"query": query_field, "image_description": description_field,
                                                   "id": id_field}, required)
        except ValueError as error:
            raise ValueError(f"{self.path}: {error}") from None
        if require_label and "label" not in self.fields:
            raise ValueError(f"{self.path}: no label field (columns: {listed(columns)})")
        self.require_label, self.require_description = require_label, require_description

    @property
    def has_descriptions(self) -> bool:
        return "image_description" in self.fields

    def chunks(self, size: int) -> Iterator[tuple[list[BenchmarkRow], list[Reject]]]:
        """Up to `size` entries at a time, as (rows, rejects), in file order; once only."""
        entries, self._entries = self._entries, iter(())
        while chunk := list(islice(entries, size)):
            typed = [_typed(position, entry, self) for position, entry in chunk]
            yield ([t for t in typed if isinstance(t, BenchmarkRow)], [t for t in typed if isinstance(t, Reject)])


def read_rows(path: Path, query_field: str | None = None, description_field: str | None = None,
              id_field: str | None = None, require_label: bool = False,
              require_description: bool = True) -> tuple[list[BenchmarkRow], list[Reject]]:
    """Every readable row of the file, and a `Reject` for each unreadable one; a file none of
    whose rows can be read is a `ValueError` naming the first."""
    reader = BenchmarkReader(path, query_field, description_field, id_field, require_label, require_description)
    rows, rejects = [], []
    for chunk, bad in reader.chunks(ROWS_PER_CHUNK):
        rows.extend(chunk)
        rejects.extend(bad)
    if not rows:
        raise ValueError(f"{reader.path}: none of its {len(rejects)} rows can be read ({rejects[0].describe()})")
    return rows, rejects


def read_benchmark(path: Path, query_field: str | None = None, description_field: str | None = None,
                   id_field: str | None = None, require_label: bool = False,
                   require_description: bool = True) -> list[BenchmarkRow]:
    """Every row of the file; an unreadable row is a `ValueError` naming the first."""
    rows, rejects = read_rows(path, query_field, description_field, id_field, require_label, require_description)
    if rejects:
        raise ValueError(f"{Path(path)}: {rejects[0].describe()}")
    return rows


def _binary(value) -> int | None:
    """0 or 1 from a JSON number or bool, or a CSV cell ("1", "0.0", or "True"/"FALSE": how pandas
    and R write a boolean column); None for anything else ("yes" could as well be a category)."""
    if isinstance(value, str) and value.strip().lower() in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[value.strip().lower()]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number in (0, 1) else None


def _kind(value) -> str:
    """What a value is, in words, for a reason a person reads."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


class _Unreadable(Exception):
    """Why a row cannot be read; becomes its `Reject`."""


def _absent(value) -> bool:
    """Null, blank text, or NaN: pandas' missing value, which `json.dumps` writes as NaN."""
    return value is None or (isinstance(value, str) and not value.strip()) or _is_nan(value)


def _is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _text(record: dict, column: str) -> str | None:
    """The column's text; None where it is absent, null, blank or NaN."""
    value = record.get(column)
    if _absent(value):
        return None
    if not isinstance(value, str):
        raise _Unreadable(f"`{column}` is {_kind(value)}, not text")
    return _paired(column, value)


def _paired(column: str, value: str) -> str:
    """A JSON string may escape half a surrogate pair ("\\ud83d"): no model can read that text."""
    surrogate = LONE_SURROGATE.search(value)
    if surrogate:
        raise _Unreadable(f"`{column}` holds an unpaired surrogate at character {surrogate.start() + 1}")
    return value


def _query(record: dict, column: str) -> str:
    query = _text(record, column)
    if query is None:
        raise _Unreadable(_missing(record, column))
    if not has_words(query):  # "?" or "...": nothing to score (an emoji is a word: it reads as its name)
        raise _Unreadable(f"`{column}` has no words")
    return query


def _file_id(record: dict, column: str | None) -> str | None:
    """The row's id as the file gives it; None where it gives none."""
    value = record.get(column) if column else None
    if _absent(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an integer id that went through a float column
    if isinstance(value, str):
        return _paired(column, value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Unreadable(f"`{column}` is {_kind(value)}, not an id")


def _id_if_readable(record: dict, column: str | None) -> str | None:
    try:
        return _file_id(record, column)
    except _Unreadable:
        return None


def _missing(record: dict, column: str) -> str:
    if column not in record:
        return f"`{column}` is missing"
    if _is_nan(record[column]):
        return f"`{column}` is NaN (missing)"
    return f"`{column}` is null" if record[column] is None else f"`{column}` is empty"


def _typed(position: Position, entry: dict | str, reader: BenchmarkReader) -> BenchmarkRow | Reject:
    if isinstance(entry, str):
        return Reject(position, _id_if_readable(getattr(entry, "record", {}), reader.fields.get("id")), entry)
    fields, row_id = reader.fields, None
    try:
        row_id = _file_id(entry, fields.get("id"))
        if row_id is None and OBJECT_KEY in entry:  # the record names no id of its own: its key is one
            row_id = str(entry[OBJECT_KEY])
        query = _query(entry, fields["query"])
        description = _text(entry, fields["image_description"]) if reader.has_descriptions else None
        if description is None and reader.require_description:
            raise _Unreadable(_missing(entry, fields["image_description"]))
        category, sub_category = (_label_text(entry, fields.get(field)) for field in ("category", "sub_category"))
        label = entry.get(fields["label"]) if "label" in fields else None
        if reader.require_label and _binary(label) is None:
            raise _Unreadable(f"`{fields['label']}` is not 0 or 1: {label!r}")
    except _Unreadable as reason:
        return Reject(position, row_id, str(reason))
    used = set(fields.values())
    return BenchmarkRow(
        id=_positional_id(position, fields) if row_id is None else row_id, query=query,
        image_description=description or "", category=category, sub_category=sub_category,
        label=_binary(label), element_terms=_terms(entry.get(fields.get("element_terms"))),
        extra={k: v for k, v in entry.items() if k not in used and k != OBJECT_KEY} or None, position=position,
    )


def _positional_id(position: Position, fields: dict[str, str]) -> str:
    """The id of a row the file gives none: its position; named ("line 3") where the file gives ids,
    so that it cannot be taken for the row whose id is 3."""
    return str(position) if "id" in fields else str(position.number)


def _label_text(record: dict, column: str | None) -> str | None:
    value = record.get(column) if column else None
    return None if value is None or value == "" or _is_nan(value) else _paired(column, str(value))


def _terms(value) -> tuple[str, ...]:
    if not value or _is_nan(value):  # NaN is pandas' missing value, as for the other fields
        return ()
    if isinstance(value, str):  # a CSV cell holds "a; b"
        value = value.split(";")
    elif not isinstance(value, (list, tuple)):
        value = [value]
    return tuple(str(t).strip() for t in value if str(t).strip())
