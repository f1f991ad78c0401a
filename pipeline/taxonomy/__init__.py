"""The 6x19 taxonomy and the team-written element library, loaded from data files."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from pipeline.records import Element

DATA_DIR = Path(__file__).parent
TAXONOMY_FILE = DATA_DIR / "taxonomy.toml"
ELEMENTS_FILE = DATA_DIR / "elements.jsonl"
DEFINITIONS_FILE = DATA_DIR / "definitions.toml"


@dataclass(frozen=True)
class Taxonomy:
    sub_categories: dict[str, str]  # sub-category -> its category

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(self.sub_categories.values()))

    def subs_of(self, category: str) -> list[str]:
        return [s for s, c in self.sub_categories.items() if c == category]

    def parent(self, sub_category: str) -> str | None:
        return self.sub_categories.get(sub_category)


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    data = tomllib.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    subs = {s["name"]: c["name"] for c in data["category"] for s in c["sub_categories"]}
    return Taxonomy(sub_categories=subs)


@lru_cache(maxsize=1)
def load_definitions() -> dict[str, str]:
    """Sub-category -> one line saying what it covers (given to the element writer)."""
    return tomllib.loads(DEFINITIONS_FILE.read_text(encoding="utf-8"))


def load_elements(path: Path | None = None) -> list[Element]:
    """Read an element library (JSONL, one element per line) and check it against the taxonomy.

    Raises ValueError naming the file and line of the first bad entry. A build reads a user's
    file with `element_file.read_element_file` instead, which leaves bad lines out and names them.
    """
    path = Path(path) if path else ELEMENTS_FILE
    elements = []
    for number, element, problem in element_lines(path):
        if problem:
            raise ValueError(f"{path}:{number}: {problem}")
        elements.append(element)
    if not elements:
        raise ValueError(f"{path}: no elements")
    return elements


def element_lines(path: Path) -> Iterator[tuple[int, Element | None, str | None]]:
    """Each non-blank line of an element library: its number, and its element or why it is none
    (not JSON, not an element, a category/sub-category pair the taxonomy lacks)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, *_element_of(line)


def _element_of(line: str) -> tuple[Element | None, str | None]:
    try:
        element = Element.model_validate(json.loads(line))
    except json.JSONDecodeError as error:
        return None, f"not a valid element (not JSON: {error.msg} at column {error.colno})"
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"])
        return None, f"not a valid element ({where + ': ' if where else ''}{error.errors()[0]['msg']})"
    if load_taxonomy().parent(element.sub_category) != element.category:
        return None, f"unknown category/sub-category {element.category!r}/{element.sub_category!r}"
    return element, None
