"""A served model name is what a server said: on the leaderboard's Markdown it stays inside its cell."""

from __future__ import annotations

from markdown_it import MarkdownIt

from pipeline.evaluate.report import served_markdown


def test_a_served_name_with_a_pipe_or_newline_stays_in_its_cell():
    row = "| 1 | careful | " + served_markdown(("evil|name", "x\n# heading")) + " |"
    tokens = MarkdownIt("commonmark").enable("table").parse("| a | b | c |\n|---|---|---|\n" + row + "\n")
    cells = [token for token in tokens if token.type == "td_open"]
    assert len(cells) == 3 and not [token for token in tokens if token.type == "heading_open"]
    assert served_markdown(()) == "n/a"
