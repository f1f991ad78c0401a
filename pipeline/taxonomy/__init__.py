"""The 6x19 taxonomy and the team-written element library, loaded from data files."""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from pipeline.json_lines import numbered_lines
from pipeline.records import Element

DATA_DIR = Path(__file__).parent
TAXONOMY_FILE = DATA_DIR / "taxonomy.toml"
ELEMENTS_FILE = DATA_DIR / "elements.jsonl"
DEFINITIONS_FILE = DATA_DIR / "definitions.toml"


@dataclass(frozen=True)
class Taxonomy:
    sub_categories: dict[str, str]  # sub-category -> its category
    # the categories marked `sexual = true`: the hard block reads a minor reference in their items as
    # sexual content involving minors, whatever the category is called
    sexual_categories: frozenset[str] = frozenset()

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(self.sub_categories.values()))

    def subs_of(self, category: str) -> list[str]:
        return [s for s, c in self.sub_categories.items() if c == category]

    def parent(self, sub_category: str) -> str | None:
        return self.sub_categories.get(sub_category)

    def marked_sexual(self, category: str) -> bool:
        """Whether `category` is one the taxonomy marks `sexual = true`, in any case ("erotic")."""
        return category.strip().casefold() in {name.casefold() for name in self.sexual_categories}

    def unknown_sub_category(self, name: str) -> str:
        """Why `name` is no sub-category, with what was likely meant: a user cannot see the 19 names."""
        category = next((c for c in self.categories if c.casefold() == name.casefold()), None)
        if category is not None:
            hint = f"it is a category; its sub-categories are {', '.join(map(repr, self.subs_of(category)))}"
        else:
            folded = {sub.casefold(): sub for sub in self.sub_categories}
            close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
            hint = f"did you mean {folded[close[0]]!r}?" if close else "`leakless elements stats` lists them all"
        return f"unknown sub-category {name!r} ({hint})"


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    data = tomllib.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    subs = {s["name"]: c["name"] for c in data["category"] for s in c["sub_categories"]}
    sexual = frozenset(filter(None, map(_marked_sexual, data["category"])))
    return Taxonomy(sub_categories=subs, sexual_categories=sexual)


def _marked_sexual(category: dict) -> str | None:
    """The category's name when it is marked `sexual = true`. A flag that is no true/false is refused,
    not read as false: the hard block would quietly lose its rule for that category."""
    flag = category.get("sexual", False)
    if not isinstance(flag, bool):
        raise ValueError(f"{TAXONOMY_FILE}: category {category['name']!r}: sexual = {flag!r} "
                         "(write sexual = true or sexual = false)")
    return category["name"] if flag else None


@lru_cache(maxsize=1)
def load_definitions() -> dict[str, str]:
    """Sub-category -> one line saying what it covers (given to the element writer)."""
    return tomllib.loads(DEFINITIONS_FILE.read_text(encoding="utf-8"))


def load_elements(path: Path | None = None) -> list[Element]:
    """Read an element library (JSONL, one element per line), whichever categories the taxonomy
    holds now: the leak detector's word lists read the whole shipped library (its version names the
    library file, not the taxonomy), so removing a category from taxonomy.toml leaves them as they were.

    Raises ValueError naming the file and line of the first line that is no element. A build reads
    the library with `element_file.read_element_file` instead, which also leaves out the elements
    of sub-categories the taxonomy lacks, and names every line it leaves out.
    """
    path = Path(path) if path else ELEMENTS_FILE
    elements = []
    for number, line in _lines(path):
        element, problem = _parsed(line)
        if problem:
            raise ValueError(f"{path}:{number}: {problem}")
        elements.append(element)
    if not elements:
        raise ValueError(f"{path}: no elements")
    return elements


def element_lines(path: Path) -> Iterator[tuple[int, Element | None, str | None]]:
    """Each non-blank line of an element library: its number, and its element or why it is none
    (not JSON, not an element, a category/sub-category pair the taxonomy lacks)."""
    for number, line in _lines(path):
        element, problem = _parsed(line)
        if element is not None and load_taxonomy().parent(element.sub_category) != element.category:
            element, problem = None, f"unknown category/sub-category {element.category!r}/{element.sub_category!r}"
        yield number, element, problem


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a byte-order mark is no JSON
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return numbered_lines(text)


def _parsed(line: str) -> tuple[Element | None, str | None]:
    try:
        return Element.model_validate(json.loads(line)), None
    except json.JSONDecodeError as error:
        # "Unterminated string starting at" and "Invalid control character at" end in "at" already
        return None, f"not a valid element (not JSON: {error.msg.removesuffix(' at')} at column {error.colno})"
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"])
        return None, f"not a valid element ({where + ': ' if where else ''}{error.errors()[0]['msg']})"
