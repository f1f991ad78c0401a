"""How a one-line message shows an error or a list of names."""

from __future__ import annotations

from collections.abc import Iterable


def first_line(error: BaseException) -> str:
    """An error's first line of text, or its type's name where it has none: httpx raises
    `ReadTimeout('')`, and an empty message must not become an empty (or an IndexError's) line."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def first_few(names: Iterable[str], shown: int = 3) -> str:
    """The first `shown` names, and how many more: a message stays one line."""
    names = list(names)
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
