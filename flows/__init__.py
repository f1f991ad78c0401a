"""Prefect flows, wiring only. Importing them means a flow is about to run, so Prefect's home
is made here (`pipeline.env`), not by every command, and its run loggers keep a full disk's
traceback to one line (`pipeline.retry_policy`)."""

from pipeline.env import ensure_prefect_home
from pipeline.retry_policy import quiet_machine_error_tracebacks

ensure_prefect_home()
quiet_machine_error_tracebacks()
