"""A benchmark record's values read as a row's typed fields: text, id, 0/1 label, terms.

Each reader returns the field's value, None where the record leaves it out (null, blank text
or NaN: pandas' missing value), or raises `UnreadableValue` with the reason a person reads in
the row's `Reject`.
"""

from __future__ import annotations

import math
import re

from pipeline.plain_text import has_words

# Valid pairs are joined into one character when JSON is parsed, so any surrogate left is half a pair.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
BOOLEAN_WORDS = {"true": 1, "false": 0}


class UnreadableValue(Exception):
    """Why a row cannot be read; becomes its `Reject`."""


def binary(value) -> int | None:
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


def _absent(value) -> bool:
    """Null, blank text, or NaN: pandas' missing value, which `json.dumps` writes as NaN."""
    return value is None or (isinstance(value, str) and not value.strip()) or is_nan(value)


def is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def text_value(record: dict, column: str) -> str | None:
    """The column's text; None where it is absent, null, blank or NaN."""
    value = record.get(column)
    if _absent(value):
        return None
    if not isinstance(value, str):
        raise UnreadableValue(f"`{column}` is {_kind(value)}, not text")
    return _paired(column, value)


def _paired(column: str, value: str) -> str:
    """A JSON string may escape half a surrogate pair ("\\ud83d"): no model can read that text."""
    surrogate = LONE_SURROGATE.search(value)
    if surrogate:
        raise UnreadableValue(f"`{column}` holds an unpaired surrogate at character {surrogate.start() + 1}")
    return value


def query_value(record: dict, column: str) -> str:
    query = text_value(record, column)
    if query is None:
        raise UnreadableValue(missing_reason(record, column))
    if not has_words(query):  # "?" or "...": nothing to score (an emoji is a word: it reads as its name)
        raise UnreadableValue(f"`{column}` has no words")
    return query


def file_id(record: dict, column: str | None) -> str | None:
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
    raise UnreadableValue(f"`{column}` is {_kind(value)}, not an id")


def id_if_readable(record: dict, column: str | None) -> str | None:
    try:
        return file_id(record, column)
    except UnreadableValue:
        return None


def missing_reason(record: dict, column: str) -> str:
    if column not in record:
        return f"`{column}` is missing"
    if is_nan(record[column]):
        return f"`{column}` is NaN (missing)"
    return f"`{column}` is null" if record[column] is None else f"`{column}` is empty"


def label_text(record: dict, column: str | None) -> str | None:
    value = record.get(column) if column else None
    return None if value is None or value == "" or is_nan(value) else _paired(column, str(value))


def term_list(value) -> tuple[str, ...]:
    if not value or is_nan(value):  # NaN is pandas' missing value, as for the other fields
        return ()
    if isinstance(value, str):  # a CSV cell holds "a; b"
        value = value.split(";")
    elif not isinstance(value, (list, tuple)):
        value = [value]
    return tuple(str(t).strip() for t in value if str(t).strip())
