"""The lines of a JSON-lines file, split where JSON lines end."""

from __future__ import annotations

from collections.abc import Iterator


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """The 1-based number and text of each line that is not blank. Split on "\\n" alone (a "\\r" before
    it is JSON whitespace): `str.splitlines` also splits on U+2028, U+2029 and NEL, which JSON keeps
    raw inside a string, so an element or a review item holding one read back as two broken lines."""
    return ((number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip())
