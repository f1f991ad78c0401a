"""What a benchmark file's reader yields: entries, each a record or the reason it is not one,
at the position a person would look for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    unit: str    # "row" (JSON list, Parquet) or "line" (JSONL, CSV)
    number: int  # 1-based
    file: str | None = None  # the shard of a dataset folder ("data/test-00001-of-00002.parquet"); None for a file

    def __str__(self) -> str:
        return f"{self.file + ' ' if self.file else ''}{self.unit} {self.number}"


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
