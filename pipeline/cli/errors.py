"""Turning bad user input into one line on stderr and exit code 2."""

from __future__ import annotations

from contextlib import contextmanager

import typer

from pipeline.config import ConfigError


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@contextmanager
def user_errors():
    """ConfigError, ValueError and missing files are the user's to fix: no traceback."""
    try:
        yield
    except (ConfigError, ValueError, FileNotFoundError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise fail(message) from None
