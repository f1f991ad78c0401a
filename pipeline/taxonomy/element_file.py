"""Reading a user's element library (`run.elements_file`) for a build, line by line.

Each line is held to what the shipped library and every grown proposal are held to: valid JSON
of an element, a known category/sub-category pair (`element_lines`), the guardrails' hard block
(a line it stops is named by its rule, never its text, so its text reaches no build and no grow
request's known names), the library's shape (a name, 2-6 synonyms, 1-3 broader terms, no term a
sentence or other junk, a description naming it: `shape_problem`), and a name not already given
on an earlier line under another spelling (`name_keys`: case, spacing, hyphens, plurals). A bad
line is left out with its file:line and why, so one typo does not stop a build of the rest. Lines
left out for the very same reason (all the lines of a sub-category the taxonomy no longer has) are
named once, by the first of them and how many there are: a note per line buried the notes that matter.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pipeline.elements.checks import guardrail_hit, shape_problem
from pipeline.elements.novelty import name_keys
from pipeline.records import Element
from pipeline.taxonomy import ELEMENTS_FILE, element_lines


@dataclass(frozen=True)
class ElementFile:
    elements: list[Element]
    skipped: list[str]  # one "file:line: why" per reason a line was left out, by its first line, in file order


def library_file(elements_file: Path | str | None) -> ElementFile:
    """The library a config names (`run.elements_file`, else the shipped one), read line by line:
    the build, growth, `elements list` and extend all start from these same elements."""
    return read_element_file(Path(elements_file) if elements_file else ELEMENTS_FILE)


def read_element_file(path: Path) -> ElementFile:
    """The file's good elements and its bad lines. A file with no good element at all is a
    ValueError naming its first bad line."""
    elements = []
    lines_of: dict[str, list[int]] = defaultdict(list)  # why -> the lines left out for it, in file order
    first_named: dict[str, tuple[int, str]] = {}  # name key -> the line that gave it, and its name
    for number, element, problem in element_lines(path):
        problem = (problem or _guardrail_problem(element) or shape_problem(element)
                   or _repeated_name(element, first_named))
        if problem:
            lines_of[problem].append(number)
            continue
        first_named.update((key, (number, element.element)) for key in name_keys(element.element))
        elements.append(element)
    skipped = [_skipped_note(path, problem, numbers) for problem, numbers in lines_of.items()]
    if not elements:
        first_why = next(iter(lines_of), None)
        raise ValueError(f"{path}: no elements" if first_why is None else
                         f"{path}: no usable element; {skipped[0]}"
                         + _and_more(sum(map(len, lines_of.values())) - len(lines_of[first_why])))
    return ElementFile(elements=elements, skipped=skipped)


def _skipped_note(path: Path, problem: str, numbers: list[int]) -> str:
    """"file:line: why" for the first line left out for `problem`, and how many more were."""
    more = len(numbers) - 1
    return f"{path}:{numbers[0]}: {problem}" + (
        f" (and {more} more line{'s' if more > 1 else ''} like it, the last line {numbers[-1]})" if more else "")


def _guardrail_problem(element: Element) -> str | None:
    hit = guardrail_hit(element)
    return f"guardrail {hit.rule}" if hit else None


def _repeated_name(element: Element, first_named: dict[str, tuple[int, str]]) -> str | None:
    for key in name_keys(element.element):
        if key in first_named:
            number, name = first_named[key]
            return (f"the name {element.element!r} repeats {name!r} of line {number} "
                    "(case, spacing, hyphens and plurals aside)")
    return None


def _and_more(count: int) -> str:
    return f" (and {count} more bad line{'s' if count > 1 else ''})" if count else ""
