"""Read an existing benchmark file (JSON list or object of records, JSONL, CSV, TSV or Parquet), or a Hugging
Face dataset folder (Parquet shards, or a `save_to_disk` folder: `pipeline.io.folders`), into typed rows.

Fields are found by their common names (VLSBench's `instruction`,
`image_description`, `instruction_id`; or `query`, `question`, `prompt`,
`caption`, `id`, ...) unless the caller names them. A file that cannot be read
at all is a `ValueError` with a one-line message the CLI can print as is; a row
that cannot be read is a `Reject` naming its 1-based row or line, its id and
why, and the rows after it are still read.

A row without an image description is a text-only row (its description is
""), not a bad one, unless the caller requires descriptions. How each value is
read (text, id, 0/1 label, terms) is `pipeline.io.row_values`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from pipeline.io.entries import Position
from pipeline.io.folders import open_benchmark
from pipeline.io.records import OBJECT_KEY
from pipeline.io.row_values import (UnreadableValue, binary, file_id, id_if_readable, label_text, missing_reason,
                                    query_value, term_list, text_value)

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
    label_given: object = None        # the label cell as the file gives it ("unsafe", 1): `audit --by label`

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
        shard = {"file": self.position.file} if self.position.file else {}
        return json.dumps({**shard, self.position.unit: self.position.number, "id": self.id, "reason": self.reason},
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
    """A benchmark file (or one split of a dataset folder) read in chunks of typed rows and rejects.
    Opening it finds the fields from the columns of the whole file, so a file-level problem is raised
    before any work. `files`: a folder's shards read, in order; None for a file."""

    def __init__(self, path: Path, query_field: str | None = None, description_field: str | None = None,
                 id_field: str | None = None, require_label: bool = False, require_description: bool = True,
                 split: str | None = None):
        self.path, self.split = Path(path), split
        stream = open_benchmark(self.path, split)
        self.files = getattr(stream, "files", None)
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
              require_description: bool = True, split: str | None = None) -> tuple[list[BenchmarkRow], list[Reject]]:
    """Every readable row of the file (or of the `split` of a dataset folder), and a `Reject` for each
    unreadable one; a file none of whose rows can be read is a `ValueError` naming the first."""
    reader = BenchmarkReader(path, query_field, description_field, id_field, require_label, require_description,
                             split)
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


def _typed(position: Position, entry: dict | str, reader: BenchmarkReader) -> BenchmarkRow | Reject:
    if isinstance(entry, str):
        return Reject(position, id_if_readable(getattr(entry, "record", {}), reader.fields.get("id")), entry)
    fields, row_id = reader.fields, None
    try:
        row_id = file_id(entry, fields.get("id"))
        if row_id is None and OBJECT_KEY in entry:  # the record names no id of its own: its key is one
            row_id = str(entry[OBJECT_KEY])
        query = query_value(entry, fields["query"])
        description = text_value(entry, fields["image_description"]) if reader.has_descriptions else None
        if description is None and reader.require_description:
            raise UnreadableValue(missing_reason(entry, fields["image_description"]))
        category, sub_category = (label_text(entry, fields.get(field)) for field in ("category", "sub_category"))
        label = entry.get(fields["label"]) if "label" in fields else None
        if reader.require_label and binary(label) is None:
            raise UnreadableValue(f"`{fields['label']}` is not 0 or 1: {label!r}")
    except UnreadableValue as reason:
        return Reject(position, row_id, str(reason))
    used = set(fields.values())
    return BenchmarkRow(
        id=_positional_id(position, fields) if row_id is None else row_id, query=query,
        image_description=description or "", category=category, sub_category=sub_category,
        label=binary(label), element_terms=term_list(entry.get(fields.get("element_terms"))),
        extra={k: v for k, v in entry.items() if k not in used and k != OBJECT_KEY} or None, position=position,
        label_given=label,
    )


def _positional_id(position: Position, fields: dict[str, str]) -> str:
    """The id of a row the file gives none: its position; named ("line 3") where the file gives ids,
    so that it cannot be taken for the row whose id is 3, and with its shard in a folder, whose
    shards each count from 1."""
    return str(position) if "id" in fields or position.file else str(position.number)
