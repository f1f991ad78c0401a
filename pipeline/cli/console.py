"""The console the commands print their tables and summaries through."""

from __future__ import annotations

import os
import sys

from rich.console import Console

# Wide enough for the widest table a command prints (`eval-public`'s, with its source names).
LOG_WIDTH = 200


def output_console() -> Console:
    """At a terminal Rich fits a table to the window. Written to a log, a pipe or a file, it would fit
    it to 80 columns and cut names short ("team:bl…"), though nothing there needs wrapping, so there
    tables are printed whole. An explicit COLUMNS still wins.

    No command prints markup on purpose, and what they print holds the user's own text (queries,
    edits, file and source names): Rich would read "[/]" in it as markup (a crash) and "[bold]" or
    ":smile:" as styling, so text is printed as written."""
    console = Console(markup=False, emoji=False)
    if console.is_terminal or os.environ.get("COLUMNS"):
        return console
    return Console(width=LOG_WIDTH, markup=False, emoji=False)


class _QuietWhenClosed:
    """A standard stream that, once its reader has gone (`leakless elements list | head -1`), sends
    what is written next to /dev/null. The command then runs to its end and exits with the code of
    its work: a build or export is never cut short by a reader that only wanted the first lines, and
    a closed pipe is no failure (Click would exit 1, and a default SIGPIPE would kill any command
    that writes to a socket a peer closed)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._discard()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard()

    def _discard(self) -> None:
        # On the descriptor itself, so that the stream's own last flush at exit finds /dev/null too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def quiet_when_reader_leaves() -> None:
    """Also: a character the terminal's encoding lacks is written as its escape ("\\u2014"). Under a
    latin-1 locale the summary's own dashes, or a CJK query or name, were a UnicodeEncodeError after
    the work was written: a traceback and exit 1 for a build that had succeeded."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # started with it closed, and print() already writes nowhere
            continue
        if hasattr(stream, "reconfigure"):  # not where a caller has put its own stream in place
            stream.reconfigure(errors="backslashreplace")
        setattr(sys, name, _QuietWhenClosed(stream))


def percent(value: float | None) -> str:
    """A share in a table: one decimal, or n/a where there is nothing to divide."""
    return "n/a" if value is None else f"{value:.1%}"
