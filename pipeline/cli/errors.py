"""Turning bad user input into one line on stderr and exit code 2."""

from __future__ import annotations

import logging
import shlex
import signal
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import httpx
import typer
from pydantic import ValidationError

from pipeline.config import ConfigError, one_line
from pipeline.messages import first_line
from pipeline.prefect_server import ServerDidNotStart
from pipeline.stopping import StageStopped, clear_stop, request_stop
from pipeline.storage import is_machine_error


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
        raise fail(first_line(error)) from None


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
        if not is_machine_error(error):
            raise
        raise fail(str(error)) from None


def rerun_command(words: list[str], config: Path | None, overrides: Iterable[str]) -> str:
    """`leakless <words>` as the user ran it, its --config and --sets too: printed as the way to carry
    on a run, it must not be refused as a run made with another config."""
    return shlex.join(["leakless", *words, *(["--config", str(config)] if config else []),
                       *(word for value in overrides for word in ("--set", value))])


# 128 + the signal's number: what a shell reports for a command the signal stopped, so scripts can
# tell Ctrl-C (130) and SIGTERM (143: systemd, a cron or CI timeout, `kill`) apart from a failure.
INTERRUPTED = 128 + signal.SIGINT
TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so it stops a run the same way: Prefect
    records the crash, the temporary server and the LLM client's process stop, and `resumable` says
    how to resume."""


def _raise_terminated(signum, frame) -> None:
    request_stop()  # stages in worker threads too (`pipeline.stopping`); during a flow Prefect's handler runs
    raise Terminated()


@contextmanager
def resumable(command: str):
    """Ctrl-C or SIGTERM stops a run whose finished work is checkpointed (every write is atomic): one
    line naming the command that resumes it, exit 130 or 143, no traceback. During a flow Prefect's
    own SIGTERM handler records the crash first, then passes the signal on to the one set here."""
    with _stopped_by_signal(f"rerun with `{command}` to resume"):
        yield


@contextmanager
def nothing_written(what: str = "nothing written"):
    """Ctrl-C or SIGTERM stops a command whose outputs are written atomically, so none is half there:
    one line saying so (`what`), exit 130 or 143. Without it Typer exits 130 saying nothing, which
    reads like a crash, and SIGTERM would skip the clean-up that removes a temporary file."""
    with _stopped_by_signal(what):
        yield


@contextmanager
def _stopped_by_signal(then: str):
    """"interrupted; <then>" (or "terminated; ...") on stderr and the signal's exit code."""
    clear_stop()
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, Terminated)
        typer.echo(f"{'terminated' if terminated else 'interrupted'}; {then}", err=True)
        raise typer.Exit(TERMINATED if terminated else INTERRUPTED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


# Prefect's crash lines for a signal: the line `resumable` prints says it, with the way out.
SIGNAL_CRASH_LINES = ("aborted by an interrupt signal", "aborted by a termination signal")
# A task the signal caught: one not started yet its runner cancels, one running it stops
# (`pipeline.stopping`); Prefect logs either as its crash, the second twice.
_CANCELLED_TASK_LINES = ("Task run cancelled by the task runner", StageStopped.__name__)


class _LinesTheCommandSays(logging.Filter):
    """Prefect's console lines (a traceback each) for what the command reports itself in one line: the
    crash a signal makes (the flow's, and a running task's cancellation), a ConfigError (`user_errors`),
    the Prefect API lost (`prefect_api_lost`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("prefect.task_runs"):
            return not any(line in record.getMessage() for line in _CANCELLED_TASK_LINES)
        if not record.name.startswith("prefect.flow_runs"):
            return True
        error = record.exc_info[1] if record.exc_info else None
        return not (any(line in record.getMessage() for line in SIGNAL_CRASH_LINES)
                    or isinstance(error, (ConfigError, httpx.TransportError)))


@contextmanager
def without_lines_the_command_says():
    """Around a flow call, once Prefect has set up its logging: its console handlers (on the root
    logger) skip the lines `_LinesTheCommandSays` names; its API handler still records them."""
    handlers = logging.getLogger().handlers
    quiet = _LinesTheCommandSays()
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


# EX_TEMPFAIL (sysexits.h): nothing to fix but to wait, then the same command again; a scheduler or
# systemd (RestartForceExitStatus=75) can retry on it.
PREFECT_API_LOST = 75


def from_prefect_api(error: httpx.TransportError, api_url: str) -> bool:
    """Whether `error` is a request to the Prefect API at `api_url` that got no answer (not an LLM's)."""
    try:
        return str(error.request.url).startswith(api_url.rstrip("/"))
    except RuntimeError:  # raised without its request
        return False


def prefect_api_lost(error: httpx.TransportError, api_url: str) -> str:
    """What to say of `error` when the Prefect API at `api_url` stopped answering, its queued logs and
    events forgotten; any other request's error is raised again."""
    if not from_prefect_api(error, api_url):
        raise error
    forget_what_is_queued_for_the_api()
    return f"lost the Prefect server at {api_url} ({type(error).__name__}: {first_line(error)})"


def api_lost_after_finishing(error: httpx.TransportError, api_url: str, run, before, command: str) -> str:
    """What to note when the Prefect API stopped answering (`prefect_api_lost`) after this flow finished
    `run`: its manifest written since `before` (`RunDir.manifest_stamp`; a rerun of a finished run keeps
    the old one until it finishes). Otherwise one line with the command that resumes, exit 75."""
    lost = prefect_api_lost(error, api_url)
    if run is None or run.manifest_stamp() in (None, before):
        typer.echo(f"error: {lost}; finished batches are checkpointed: once it answers, rerun with `{command}` "
                   "to resume", err=True)
        raise typer.Exit(PREFECT_API_LOST) from None
    return lost


def forget_what_is_queued_for_the_api() -> None:
    """Prefect's log and event workers would try every item still queued for a lost API at exit, about
    7 s apiece: minutes of warnings after the command has said all there is. No setting bounds that
    wait (prefect 3.9), so their queues are emptied; their stop markers (None) stay, or they would
    never end."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (EventsWorker, APILogWorker):
        instances = getattr(worker, "_instances", {})  # private: a later Prefect may name them otherwise
        for instance in [each for each in instances.values() if isinstance(each, worker)]:
            waiting = getattr(instance, "_queue", None)
            if waiting is None:
                continue  # then the wait is only longer
            with waiting.mutex:
                markers = [item for item in waiting.queue if item is None]
                waiting.unfinished_tasks -= len(waiting.queue) - len(markers)
                waiting.queue.clear()
                waiting.queue.extend(markers)
                if waiting.unfinished_tasks == 0:  # as task_done does: a join() waiting on them returns
                    waiting.all_tasks_done.notify_all()


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
