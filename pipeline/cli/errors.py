"""Turning bad user input into one line on stderr and exit code 2."""

from __future__ import annotations

import errno
from contextlib import contextmanager

import typer

from pipeline.config import ConfigError

# Failures of the machine the user can fix (a full disk, a read-only folder), not bugs of ours.
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@contextmanager
def user_errors():
    """ConfigError, ValueError, missing files and a full or read-only disk are the user's to fix:
    no traceback."""
    try:
        yield
    except (ConfigError, ValueError, FileNotFoundError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise fail(message) from None
    except OSError as error:
        if error.errno not in ENVIRONMENT_ERRNOS:
            raise
        raise fail(str(error)) from None
