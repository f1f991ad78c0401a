"""Tables of the user's own text (names, edits, ids), printed whole: never cut, never read as markup."""

from __future__ import annotations

from rich.cells import cell_len
from rich.table import Column, Table
from rich.text import Text


def cells(*values: str) -> list[Text]:
    """Table cells shown as written: names, ids and annotators' edits are data, and Rich would read
    "[/]" or "[bold red]" in them as markup (and ":smile:" as an emoji code)."""
    return [Text(value) for value in values]


NARROWEST_TEXT = 4  # columns of names and edits fold down to this; a narrower window wraps the table's lines


def fitted_table(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]], texts: set[str]) -> Table:
    """A table whose columns fold rather than cut with "…": Rich's word wrap miscounts wide (CJK)
    characters and would crop an edit, showing the adjudicator a text that is not the one stored. The
    columns not in `texts` (ids that `review adjudicate` takes, counts) are as wide as their widest
    value, so none is split."""
    def column(index: int, header: str) -> Column:
        widest = max((cell_len(row[index]) for row in rows), default=1)
        return Column(header, overflow="fold", min_width=NARROWEST_TEXT if header in texts else widest)

    table = Table(*(column(index, header) for index, header in enumerate(headers)), title=title)
    for row in rows:
        table.add_row(*cells(*row))
    return table


def print_whole(console, table: Table) -> None:
    """Print `table` no narrower than its columns' minimum widths: in a narrower window Rich would
    squeeze the text columns to nothing, where the terminal now wraps the long lines instead."""
    needed = sum(column.min_width for column in table.columns) + 3 * len(table.columns) + 1  # padding, rules
    console.print(table, width=max(console.width, needed), crop=False)
