"""Path options and arguments read a `~` at their start as the home folder, as LEAKLESS_ARTIFACTS
and config paths do: the shell leaves it alone in `--runs-dir=~/runs` and in quotes, and a literal
`./~` folder made in its place invites `rm -rf ~`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.env import expand_home


def given_path(text: str) -> Path:
    """A run or release given as text (an id, or a folder): a folder path's `~` read as for the Path options."""
    try:
        return expand_home(Path(text))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def home_expanded(value: Path | list[Path] | None) -> Path | list[Path] | None:
    """The callback of every Path-typed parameter (a list-valued one too); a `~name` that is no
    user's is a bad value (one `error:` line, exit 2)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [home_expanded(path) for path in value]
    try:
        value = expand_home(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    # ".", "" (which the shell and typer hand over as ".") and ".." have no name to put an output's name
    # beside ("leakless audit ." in a dataset folder): their real folder has
    return value.resolve() if value.name in ("", "..") else value
