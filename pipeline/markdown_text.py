"""Text someone else wrote (a server's model name, a model's raw answer) inside Markdown we write."""

from __future__ import annotations


def code_cell(text: str) -> str:
    """`text` as a Markdown code span that stays within its table cell or line. A backtick, a pipe or a
    character that is not printable (a newline, a bidi control) in it would end the span, the cell or
    the row and let the text write the page (a heading, a table, an image fetched from anywhere), so
    each is shown as its \\u escape."""
    return "`" + "".join(char if char.isprintable() and char not in "`|" else f"\\u{ord(char):04x}"
                         for char in text) + "`"
