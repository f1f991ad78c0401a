"""What a build holds around its flow, run from the command line (`leakless build`) or from Python
(`flows.build.build`): a Prefect API of its own and its run's lock, both let go when the build ends,
however it ends (Ctrl-C or a notebook's interrupt included).

The API is a temporary server in its own session (`prefect_server.prefect_api`) unless one is
configured. Without it Prefect starts a server itself, in the caller's process group: an interrupt
sent to that whole group (a terminal's Ctrl-C, Jupyter's Interrupt button) killed it too, the flow
retried the dead server for about 40 s before it stopped, and every later flow of that process (a
notebook kernel) failed to connect to it.

The lock (`run_lock`) keeps one build per run: a second build of a run id is refused at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext

from pipeline import prefect_server, run_lock
from pipeline.config import BuildConfig
from pipeline.rundir import RunDir


class BuildSession:
    """A build's Prefect API (`server`: the temporary one, None for a configured API) and its run."""

    def __init__(self, run: RunDir, server: prefect_server.LocalServer | None, holding: ExitStack) -> None:
        self.run = run
        self.server = server
        self._holding = holding

    def hold(self, settings: BuildConfig, loading: Callable[[], object] = lambda: None,
             refusing: Callable[[], AbstractContextManager] = nullcontext) -> None:
        """Refuse the run at once if another process builds it; run `loading` (the models load while
        the server starts); then lock the run until the session ends and check it again under the lock:
        a build that ended meanwhile may have made it. The refusals (`run_lock.RunBusy`, a ConfigError)
        are raised inside `refusing()`, where the command turns them into its one line."""
        with refusing():
            refuse_a_busy_run(self.run)
        loading()
        with refusing():
            self._holding.enter_context(run_lock.held(self.run))
            self.run.check(settings)

    def reporting(self) -> AbstractContextManager:
        """Around the flow call: Prefect's client pointed at this session's API."""
        return prefect_server.use(self.server)


@contextmanager
def build_session(run: RunDir, wait_for_server_stop: bool = False) -> Iterator[BuildSession]:
    """A build of `run`: its Prefect API started now (its start-up runs beside the caller's loading),
    then `hold` and `reporting` around the flow. On leaving, the lock goes, then the server is stopped;
    a long-lived process (a notebook) waits for its exit (`wait_for_server_stop`, about 0.2 s), or each
    build would leave one exited process behind until the kernel ends."""
    server = None
    try:
        with prefect_server.prefect_api() as server, ExitStack() as holding:
            yield BuildSession(run, server, holding)
    finally:
        if wait_for_server_stop and server is not None:
            server.wait_stopped()


def refuse_a_busy_run(run: RunDir) -> None:
    """A run another process builds is refused at once, not once the models have loaded; its lock is
    taken for the build only then, as taking it makes the run folder."""
    if run.path.exists():
        with run_lock.held(run):
            pass
