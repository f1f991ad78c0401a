"""A curator's removals from the element store, kept as versions of their own.

The store is append-only, and each version's lines and vectors must stay in step, so an element
is never deleted from the version that added it: a removal is a new version whose
`removed.jsonl` names it (sub-category, name, the version that grew it) with the curator's
reason. Builds read past a removed element; a grow still counts it as known (its name and its
vector), so a writer that proposes it again is refused as a repeat.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from pipeline.config import one_line
from pipeline.json_lines import numbered_lines
from pipeline.records import Record

REMOVED_FILE = "removed.jsonl"


class Removal(Record):
    sub_category: str
    element: str  # the name as it was stored
    version: int  # the version that grew it
    reason: str
    removed_at: str


def removal_key(sub_category: str, element: str, version: int) -> tuple[str, str, int]:
    return sub_category, element, version


def read_removals(version: Path) -> list[Removal]:
    """A version's removals; none for a version a grow wrote. A line that does not read stops the
    reader, by file and line, as a store entry's does: read past, the element would be built again."""
    path = version / REMOVED_FILE
    if not path.is_file():
        return []
    removals = []
    for number, line in numbered_lines(path.read_text(encoding="utf-8")):
        try:
            removals.append(Removal.model_validate_json(line))
        except ValidationError as error:
            raise ValueError(f"{path}:{number}: not a removal of version {int(version.name[1:])} "
                             f"({one_line(error, where_empty='')})") from None
    return removals


def write_removals(staging: Path, removals: list[Removal]) -> None:
    (staging / REMOVED_FILE).write_text("".join(r.model_dump_json() + "\n" for r in removals), encoding="utf-8")
