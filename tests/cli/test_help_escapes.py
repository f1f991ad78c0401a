"""Help texts are plain (rich_markup_mode=None): a backslash written to escape Rich markup shows
as a literal backslash, so none may be there."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from pipeline.cli import app


def command_paths(group, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            yield from command_paths(command, path + (name,))
        else:
            yield path + (name,)


@pytest.mark.parametrize("path", list(command_paths(typer.main.get_command(app))), ids=" ".join)
def test_no_markup_escape_shows_in_help(path):
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "\\[" not in result.output


@pytest.mark.parametrize(("path", "expected"), [
    (("extend",), "(or an [extend] table)"),
    (("evaluate",), "a [judge] table and [[models]] entries"),
])
def test_square_brackets_show_as_written(path, expected):
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert expected in " ".join(result.output.split())
