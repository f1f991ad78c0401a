"""A full or read-only disk is no fault a retry helps: the stage is not run again, and Prefect's run
loggers keep its line without the traceback (the build's one `error:` line says it), while other
failures are still retried and logged whole."""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prefect.states import Failed

import flows  # noqa: F401  (installs the run loggers' filter, as running any flow does)
from pipeline import storage
from pipeline.config import load_config
from pipeline.llm.process import ClientProcessError
from pipeline.retry_policy import RUN_LOGGERS, worth_retrying


class Kept(logging.Handler):
    """What reaches Prefect's handlers from its run loggers."""

    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def kept_records() -> Iterator[Kept]:
    """Attached once Prefect's logging is set up (the harness may set it up again, dropping handlers)."""
    handler = Kept()
    for name in RUN_LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in RUN_LOGGERS:
            logging.getLogger(name).removeHandler(handler)


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   OSError(errno.EROFS, "Read-only file system")])
def test_a_machine_error_is_not_retried(error):
    assert not worth_retrying(None, None, Failed(data=error))


@pytest.mark.parametrize("error", [ClientProcessError("the LLM client process exited with code -9"),
                                   OSError(errno.ECONNRESET, "Connection reset"), RuntimeError("a bug")])
def test_other_failures_are_retried(error):
    assert worth_retrying(None, None, Failed(data=error))


def log_raised(error: BaseException, logger: str) -> None:
    """As Prefect logs a failed run: its line, with the exception being handled."""
    try:
        raise error
    except type(error):
        logging.getLogger(logger).error("Task run failed with exception: %r", error, exc_info=True)


@pytest.mark.parametrize("logger", RUN_LOGGERS)
def test_a_machine_errors_traceback_is_dropped_and_its_line_kept(logger):
    with kept_records() as kept:
        log_raised(OSError(errno.ENOSPC, "No space left on device"), logger)
        log_raised(RuntimeError("a bug"), logger)
    full_disk, bug = kept.records
    assert full_disk.exc_info is None and "No space left on device" in full_disk.getMessage()
    assert bug.exc_info is not None  # a bug keeps its traceback


@pytest.mark.slow
def test_a_full_disk_runs_the_stage_once_and_logs_no_traceback(prefect_harness, monkeypatch, tmp_path):
    import pipeline.build
    from flows.build import build_flow

    real_write, real_run_stage = storage.atomic_write_bytes, pipeline.build.run_stage
    attempts = []

    def full_for_drafts(target: Path, data: bytes) -> None:
        if Path(target).name == "drafts.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(target, data)

    def counted(stage, batch, key, run):
        attempts.append(stage)
        return real_run_stage(stage, batch, key, run)

    monkeypatch.setattr(storage, "atomic_write_bytes", full_for_drafts)
    monkeypatch.setattr(pipeline.build, "run_stage", counted)
    config = load_config(None, ["run.size=1", "run.categories=['Privacy']", f"run.runs_dir='{tmp_path}'"])
    with kept_records() as kept, pytest.raises(OSError, match="No space left on device"):
        build_flow(config, "full-disk", show_progress=False)
    assert attempts == ["drafts"]  # one batch, one attempt
    assert not [record for record in kept.records if record.exc_info or "Retry" in record.getMessage()]
    assert "Encountered exception during execution: OSError(28, 'No space left on device')" in [
        record.getMessage() for record in kept.records]
