"""Which task failures Prefect tries again, and which of its tracebacks say nothing.

A full or read-only disk (`storage.ENVIRONMENT_ERRNOS`) fails every attempt the same way: a retry only
redoes the stage and adds a traceback. The build stops on it with one `error:` line (exit 2) where a
person can free space; Prefect's state message and log line still name the error.
"""

from __future__ import annotations

import logging

from pipeline.storage import is_machine_error

# The loggers of Prefect's task and flow runs: their records reach the console and the run's Logs tab.
RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")


def worth_retrying(task, task_run, state) -> bool:
    """Prefect's `retry_condition_fn`: anything but a machine error is tried again (a dead LLM client
    process included: `ClientProcess` starts a new one for the retry)."""
    return not is_machine_error(state.result(raise_on_failure=False))


class MachineErrorTracebacks(logging.Filter):
    """Keeps the line Prefect logs for a machine error and drops its traceback (up to 130 lines per
    failed task before the one `error:` line that says it all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and is_machine_error(record.exc_info[1]):
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_machine_error_tracebacks() -> None:
    """On the run loggers themselves, so both the console and the Logs tab get the one line; once."""
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, MachineErrorTracebacks) for existing in logger.filters):
            logger.addFilter(MachineErrorTracebacks())
