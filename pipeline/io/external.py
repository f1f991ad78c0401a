"""Read an existing benchmark file (JSON list, JSONL, CSV or Parquet) into typed rows.

Fields are found by their common names (VLSBench's `instruction`,
`image_description`, `instruction_id`; or `query`, `question`, `prompt`,
`caption`, `id`, ...) unless the caller names them. Every failure is a
`ValueError` with a one-line message the CLI can print as is.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# Candidate source names per field, most specific first.
FIELD_NAMES = {
    "query": ("instruction", "query", "question", "prompt", "text"),
    "image_description": ("image_description", "description", "caption", "image_caption"),
    "id": ("instruction_id", "id", "item_id", "question_id", "uid"),
    "category": ("category",),
    "sub_category": ("sub_category", "subcategory"),
    "label": ("label",),
    "element_terms": ("element_terms",),
}
REQUIRED = ("query", "image_description")


@dataclass(frozen=True)
class BenchmarkRow:
    id: str
    query: str
    image_description: str
    category: str | None = None
    sub_category: str | None = None
    label: int | None = None
    element_terms: tuple[str, ...] = ()
    extra: dict | None = None         # every other field, untouched (e.g. `kind`, `twin_of`)


def read_records(path: Path) -> list[dict]:
    """The file's rows as plain dicts, by its suffix."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            records = data.get("data") if isinstance(data, dict) else data
        elif suffix == ".jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            records = [json.loads(line) for line in lines if line.strip()]
        elif suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                records = list(csv.DictReader(handle))
        elif suffix == ".parquet":
            records = pq.read_table(path).to_pylist()
        else:
            raise ValueError(f"{path}: unknown format {suffix or '(no suffix)'}; "
                             "expected .json, .jsonl, .csv or .parquet")
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error, pa.ArrowException, OSError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{path}: cannot read ({first})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"{path}: expected a list of objects")
    if not records:
        raise ValueError(f"{path}: no rows")
    return records


def resolve_fields(columns: list[str], overrides: dict[str, str | None]) -> dict[str, str]:
    """Our field name -> the file's column name, for the fields the file has."""
    resolved = {}
    for field, candidates in FIELD_NAMES.items():
        chosen = overrides.get(field)
        if chosen is not None:
            if chosen not in columns:
                raise ValueError(f"field {chosen!r} not in the file (columns: {', '.join(columns)})")
            resolved[field] = chosen
            continue
        found = next((c for c in candidates if c in columns), None)
        if found is not None:
            resolved[field] = found
    for field in REQUIRED:
        if field not in resolved:
            raise ValueError(f"no {field} field found (columns: {', '.join(columns)}); "
                             f"name it with --{field.replace('image_', '').replace('_', '-')}-field")
    return resolved


def read_benchmark(path: Path, query_field: str | None = None, description_field: str | None = None,
                   id_field: str | None = None, require_label: bool = False) -> list[BenchmarkRow]:
    records = read_records(path)
    columns = list(dict.fromkeys(key for record in records for key in record))
    fields = resolve_fields(columns, {"query": query_field, "image_description": description_field,
                                      "id": id_field})
    if require_label and "label" not in fields:
        raise ValueError(f"{path}: no label field (columns: {', '.join(columns)})")
    used = set(fields.values())
    return [_row(number, record, fields, used, path) for number, record in enumerate(records)]


def _binary(value) -> int | None:
    """0 or 1 from a JSON number or bool, or a CSV cell ("1", "0.0"); None for anything else."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number in (0, 1) else None


def _row(number: int, record: dict, fields: dict[str, str], used: set[str], path: Path) -> BenchmarkRow:
    def get(field: str):
        value = record.get(fields[field]) if field in fields else None
        return None if value in (None, "") else value

    query, description = get("query"), get("image_description")
    if not isinstance(query, str) or not isinstance(description, str):
        raise ValueError(f"{path}: row {number} has no query or image description text")
    label = get("label")
    if label is not None:
        if _binary(label) is None:
            raise ValueError(f"{path}: row {number} has a label that is not 0 or 1: {label!r}")
        label = _binary(label)
    terms = get("element_terms") or ()
    if isinstance(terms, str):  # a CSV cell holds "a; b"
        terms = terms.split(";")
    return BenchmarkRow(
        id=str(get("id") if get("id") is not None else number),
        query=query, image_description=description,
        category=get("category"), sub_category=get("sub_category"), label=label,
        element_terms=tuple(str(t).strip() for t in terms if str(t).strip()),
        extra={k: v for k, v in record.items() if k not in used} or None,
    )
