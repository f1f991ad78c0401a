"""A temporary local Prefect server, started as the very first thing a command does.

Without a configured API, Prefect starts the same server itself on the first flow
call, but only after `import prefect.server` in our own process (about 2 s of CPU)
and only when the flow starts. Starting the identical uvicorn command ourselves
lets its start-up run on the other core while we import and load the models. The
server dies with us, even on SIGKILL, so a killed build leaves no server behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor


# The server is on loopback: an HTTP_PROXY with no NO_PROXY for 127.0.0.1 (common behind a
# corporate proxy) would send its readiness poll away and never hear it answer.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerDidNotStart(RuntimeError):
    """The temporary server exited or stayed silent before it answered; its log is kept (`kept_log`)."""


class LocalServer:
    """`prefect.server.api.server.SubprocessASGIServer`'s command, without its imports."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        # Its log is kept only if it fails to start (`kept_log`): at shutdown it reports the events
        # it could not flush as tracebacks, after our command has printed its result.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.kept_log: str | None = None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, "PREFECT_UI_ENABLED": "0",
                 "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"},
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            # A terminal's Ctrl-C goes to its whole foreground process group. Had it reached the
            # server too, Prefect would spend about a minute retrying to record the interrupted
            # flow's crash there before the command could exit; we stop the server ourselves.
            start_new_session=True,
            stdout=self.log, stderr=subprocess.STDOUT,
        )

    def failed(self, what_happened: str) -> ServerDidNotStart:
        """One line: what happened, why (`_last_error`) and the file the whole log is copied to."""
        self.log.seek(0)
        log = self.log.read()
        with tempfile.NamedTemporaryFile("w", prefix="leakless-prefect-server-", suffix=".log", delete=False) as kept:
            kept.write(log)
        self.kept_log = kept.name
        why = _last_error(log)
        return ServerDidNotStart(f"Prefect's temporary server {what_happened}{f' ({why})' if why else ''}; "
                                 f"its log: {kept.name}")

    def wait_until_ready(self) -> None:
        """Until the API answers `/ready` (its database connected), which also takes that first
        connection off the flow's start."""
        timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self.failed(f"exited with code {self.process.returncode} before it answered")
            with contextlib.suppress(OSError):
                with DIRECT.open(f"{self.api_url}/ready", timeout=5) as response:
                    if response.status == 200:
                        return
            time.sleep(0.05)
        raise self.failed(f"did not answer within {timeout:.0f} s")

    def stop(self, wait: bool = True) -> None:
        """SIGTERM, then its exit waited for now, or (`wait=False`) when our process exits: by then its
        shutdown (about 0.2 s) has usually run beside the rest of the command. Reaped either way, so that
        no "subprocess is still running" warning follows a command's result."""
        self.process.terminate()
        self.log.close()
        if wait:
            self._reap(grace_s=5)
        else:
            atexit.register(self._reap, grace_s=1)

    def wait_stopped(self) -> None:
        """After `stop(wait=False)`, its exit waited for now: in a process that goes on (a notebook's
        kernel) it would otherwise stay an exited, unreaped process until that process ends."""
        atexit.unregister(self._reap)  # nor would each build's handler pile up there
        self._reap(grace_s=5)

    def _reap(self, grace_s: float) -> None:
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def prefect_api() -> Iterator[LocalServer | None]:
    """Yield a started local server, or None when a Prefect API is already configured.

    Call `use(server)` around the flow call once the models are loading.
    """
    from pipeline.env import ensure_prefect_home

    ensure_prefect_home()
    if configured_api_url():
        yield None
        return
    server = LocalServer()
    try:
        yield server
    finally:
        # Its own shutdown (about 0.2 s) need not hold up the command's result: it has its
        # SIGTERM, and is reaped as the command exits.
        server.stop(wait=False)


@contextlib.contextmanager
def use(server: LocalServer | None) -> Iterator[None]:
    """Point Prefect's client at `server` (a no-op for a configured API)."""
    if server is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    server.wait_until_ready()
    # Heartbeats let a long-lived server mark crashed runs; this one dies with the run, and
    # stopping the heartbeat thread costs up to a second at the end of every flow.
    with temporary_settings({PREFECT_API_URL: server.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        try:
            yield
        finally:
            _send_what_is_queued()


def _send_what_is_queued() -> None:
    """Log lines and events still queued for the API (a Ctrl-C's crash line, task states) go out
    while the server is up: at exit, after it stopped, each would print its failure to connect."""
    import logging

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    workers = (APILogWorker, EventsWorker)
    # A worker stopped with items queued warns "Still processing items: N items remaining..." on the
    # console while it sends them (draining one drains all); its failures are errors and still show.
    progress = [logging.getLogger(worker.__name__) for worker in workers]
    levels = [logger.level for logger in progress]
    for logger in progress:
        logger.setLevel(logging.ERROR)
    try:
        # Where an event loop runs in this thread (a notebook's cell), `drain_all` only returns a
        # coroutine to await: nothing was waited for, and a "never awaited" warning followed. A
        # thread of its own runs none.
        with ThreadPoolExecutor(1, thread_name_prefix="prefect-drain") as thread:
            for worker in workers:
                thread.submit(worker.drain_all, timeout=5).result()
    finally:
        for logger, level in zip(progress, levels):
            logger.setLevel(level)


def configured_api_url() -> str | None:
    """The Prefect API a flow would report to; None: `prefect_api` starts a temporary server."""
    from pipeline.env import user_api_url

    if os.environ.get("PREFECT_API_URL") or "prefect" not in sys.modules:
        return user_api_url()
    from prefect.settings import PREFECT_API_URL  # a settings context may carry one (tests' harness, a flow)

    return PREFECT_API_URL.value()


def _last_error(log: str) -> str | None:
    """The log's last exception line (`sqlite3.OperationalError: unable to open database file`), else its
    last line: uvicorn ends a failed start with "Application startup failed. Exiting.", which says no why."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(Error|Exception): ", line)]
    found = errors or lines
    return found[-1][:200] if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
