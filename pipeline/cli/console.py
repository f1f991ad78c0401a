"""The console the commands print their tables and summaries through."""

from __future__ import annotations

import os

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
