"""Every command's --help, as a user reads it: every word shows (no markup eats `[..]`),
flags carry no `<bool>` noise, and every argument and option says what it is."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from pipeline.cli import app


def commands(group, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            yield from commands(command, path + (name,))
        else:
            yield path + (name,), command


ALL = list(commands(typer.main.get_command(app)))


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("path", "expected"), [
    (("serve",), "TOML file with [[schedules]] entries."),
    (("release",), "Build config: backends.pair_checker = 'llm' and [llm]."),
    (("rewrite",), "[backends] rewriter"),
])
def test_square_brackets_survive(path, expected):
    assert expected in " ".join(help_text(path).split())


@pytest.mark.parametrize("path", [path for path, _ in ALL], ids=" ".join)
def test_no_bool_noise_and_every_parameter_described(path):
    text = help_text(path)
    assert "<bool>" not in text
    command = dict(ALL)[path]
    undescribed = [param.name for param in command.params if not (getattr(param, "help", None) or "").strip()]
    assert not undescribed, f"{' '.join(path)}: no help for {undescribed}"


@pytest.mark.parametrize("path", [(), *{path[:-1] for path, _ in ALL if len(path) > 1}, *(path for path, _ in ALL)],
                         ids=lambda path: " ".join(path) or "leakless")
def test_minus_h_is_help_everywhere(path):
    """`leakless build -h` was "No such option: -h" (a CLI audit): it is what most tools take."""
    result = CliRunner().invoke(app, [*path, "-h"], terminal_width=200)
    assert result.exit_code == 0 and result.output.startswith("Usage: ") and "-h, --help" in result.output


def test_every_build_config_option_is_also_minus_c():
    """`-c` worked for build, extend and elements but not for rewrite or release (a CLI audit)."""
    for path, command in ALL:
        for param in command.params:
            if param.name == "config" and "--config" in param.opts:
                assert "-c" in param.opts, " ".join(path)
