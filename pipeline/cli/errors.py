"""Turning bad user input into one line on stderr and exit code 2."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import typer
from pydantic import ValidationError

from pipeline.config import ConfigError, one_line
from pipeline.prefect_server import ServerDidNotStart
from pipeline.storage import ENVIRONMENT_ERRNOS


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


# A path the user gave that names the wrong thing: nothing there, or a file where a folder goes
# (`runs_dir = "notes.txt/runs"`) or the other way round.
WRONG_PATH_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


@contextmanager
def user_errors():
    """ConfigError, ValueError, wrong paths and a full or read-only disk are the user's to fix:
    no traceback."""
    try:
        with environment_errors():
            yield
    except ValidationError as error:  # pydantic's own first line only names the model
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise fail(one_line(error, where_empty="") + more) from None
    except (ConfigError, ValueError, *WRONG_PATH_ERRORS) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise fail(message) from None


@contextmanager
def environment_errors():
    """A full or read-only disk, or a temporary Prefect server that did not start (its log names the
    cause: a port, a database it cannot open), is the user's to fix (exit 2, one line), wherever it
    happens. Around a flow, whose config was checked before it started, nothing else is: a stage that
    raises (a ValueError included) is a bug of ours, exit 1 with its traceback."""
    try:
        yield
    except ServerDidNotStart as error:
        raise fail(str(error)) from None
    except OSError as error:
        if error.errno not in ENVIRONMENT_ERRNOS:
            raise
        raise fail(str(error)) from None


def rerun_command(words: list[str], config: Path | None, overrides: Iterable[str]) -> str:
    """`leakless <words>` as the user ran it, its --config and --sets too: printed as the way to carry
    on a run, it must not be refused as a run made with another config."""
    return shlex.join(["leakless", *words, *(["--config", str(config)] if config else []),
                       *(word for value in overrides for word in ("--set", value))])


# 128 + SIGINT: what a shell reports for a command Ctrl-C stopped, so scripts can tell it apart.
INTERRUPTED = 130


@contextmanager
def resumable(command: str):
    """Ctrl-C stops a run whose finished work is checkpointed (every write is atomic): one line
    naming the command that resumes it, exit 130, no traceback."""
    try:
        yield
    except KeyboardInterrupt:
        typer.echo(f"interrupted; rerun with `{command}` to resume", err=True)
        raise typer.Exit(INTERRUPTED) from None


class _InterruptCrashLine(logging.Filter):
    """Prefect's "Crash detected! Execution was aborted by an interrupt signal." for a Ctrl-C: the
    line `resumable` prints says it, with the way out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith("prefect.flow_runs")
                    and "aborted by an interrupt signal" in record.getMessage())


@contextmanager
def without_interrupt_crash_line():
    """Around a flow call, once Prefect has set up its logging: its console handlers (on the root
    logger) skip the crash line a Ctrl-C makes; its API handler still records it."""
    handlers = logging.getLogger().handlers
    quiet = _InterruptCrashLine()
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


def readable_rows(file, strict: bool, **reading) -> tuple[list, list]:
    """The file's readable rows and its rejects (`read_rows`), reported by `report_rejects`."""
    from pipeline.io.external import read_rows

    with user_errors():
        rows, rejects = read_rows(file, **reading)
    report_rejects(file, rejects, strict)
    return rows, rejects


def report_rejects(file, rejects: list, strict: bool, listed_in=None) -> None:
    """Unreadable rows, to be skipped: each named on stderr by its row or line, or counted there when
    the caller lists them all in the file `listed_in`; with `strict` the first is a one-line error
    and exit 2."""
    if rejects and strict:
        raise fail(f"{file}: {rejects[0].describe()}")
    if not rejects:
        return
    skipped = f"skipped {len(rejects)} unreadable row(s) of {file} (--strict stops at the first)"
    if listed_in is not None:
        typer.echo(f"{skipped}, listed in {listed_in}", err=True)
        return
    typer.echo(f"{skipped}:", err=True)
    for reject in rejects:
        typer.echo(f"  {reject.describe()}", err=True)


@contextmanager
def echoed_notes(notes: list[str]):
    """Echo `notes` on stderr when the block ends, however it ends (before an error's one line)."""
    try:
        yield notes
    finally:
        for note in notes:
            typer.echo(f"note: {note}", err=True)
