"""Ctrl-C and SIGTERM stop a stage that runs in a worker thread mid-way: the build exits 130 or 143 in
seconds with its one line, and the stage is dropped (no checkpoint), where it used to run to its end
(a minute of rewriting, past a timeout's grace) and be checkpointed (`pipeline.stopping`)."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.batch import Batch
from pipeline.stages.base import Stage
from pipeline.stopping import StageStopped, clear_stop, request_stop, result_unless_stopped
from tests.build.test_interrupt import environment

GENEROUS_S = 60  # the stage below never ends on its own: exiting at all shows it was stopped


# Set when a test ends: a stage a test failed to stop spins no longer (nor hangs the session).
released = threading.Event()


@pytest.fixture(autouse=True)
def no_stop_left():
    released.clear()
    yield
    released.set()
    clear_stop()


class Spinning(Stage):
    """Python work with no end of its own, as a long stage is: item after item."""
    name = "spinning"

    def __init__(self):
        self.started = threading.Event()

    def run(self, batch: Batch) -> Batch:
        self.started.set()
        while not released.is_set():
            sum(range(1000))
        return batch


def in_thread(call) -> tuple[threading.Thread, list]:
    """`call()` in a worker thread; what it returned or raised lands in the list."""
    ended: list = []

    def work():
        try:
            ended.append(call())
        except BaseException as error:  # noqa: BLE001  the outcome under test
            ended.append(error)

    thread = threading.Thread(target=work, daemon=True)  # daemon: a failed test leaves no hang
    thread.start()
    return thread, ended


def test_a_stop_raises_in_a_worker_thread_running_a_stage():
    stage = Spinning()
    thread, ended = in_thread(lambda: stage(Batch(seeds=[])))
    assert stage.started.wait(GENEROUS_S)
    request_stop()
    thread.join(GENEROUS_S)
    assert not thread.is_alive(), "the stage ran on after the stop"
    assert len(ended) == 1 and isinstance(ended[0], StageStopped)


def test_a_stage_does_not_start_once_stopped():
    request_stop()
    stage = Spinning()
    thread, ended = in_thread(lambda: stage(Batch(seeds=[])))
    thread.join(GENEROUS_S)
    assert len(ended) == 1 and isinstance(ended[0], StageStopped)
    assert not stage.started.is_set()


def test_a_thread_that_left_its_stage_is_not_interrupted():
    """The exception goes to threads inside a stage only, never into a worker's later (Prefect's) code."""
    class Quick(Stage):
        name = "quick"

        def run(self, batch: Batch) -> Batch:
            return batch

    stopped_at_last = threading.Event()

    def stage_then_more_work():
        Quick()(Batch(seeds=[]))
        stage_done.set()
        while not stopped_at_last.is_set():  # Python work after the stage, until told
            sum(range(1000))
        return "ended normally"

    stage_done = threading.Event()
    thread, ended = in_thread(stage_then_more_work)
    assert stage_done.wait(GENEROUS_S)
    request_stop()
    stopped_at_last.set()
    thread.join(GENEROUS_S)
    assert ended == ["ended normally"]


def test_the_llm_clients_wait_gives_up_once_stopped():
    """A thread blocked on a batch's answers (`ClientProcess.run_batch`) sees the stop and raises, so it
    cancels the batch in the client's process."""
    never: concurrent.futures.Future = concurrent.futures.Future()
    thread, ended = in_thread(lambda: result_unless_stopped(never))
    request_stop()
    thread.join(GENEROUS_S)
    assert len(ended) == 1 and isinstance(ended[0], StageStopped)


def test_a_finished_wait_returns_its_answer():
    done: concurrent.futures.Future = concurrent.futures.Future()
    done.set_result(["answer"])
    assert result_unless_stopped(done) == ["answer"]


def test_a_stopped_tasks_crash_lines_are_left_to_the_commands_one_line():
    from pipeline.cli.errors import _LinesTheCommandSays

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("prefect.task_runs", logging.ERROR, __file__, 1, message, None, None)

    quiet = _LinesTheCommandSays()
    assert not quiet.filter(record("Crash detected! Execution was interrupted by an unexpected exception: "
                                   "StageStopped: "))
    assert not quiet.filter(record("Finished in state Crashed('Execution was interrupted by an unexpected "
                                   "exception: StageStopped: ')"))
    assert quiet.filter(record("Task run failed with exception: ValueError('bad')"))


# A build whose rewrite stage is `Spinning`: it writes MARKER when it starts, then never ends.
LAUNCHER = """
import os, sys
import pipeline.build
from pipeline.stages.base import Stage

class Spinning(Stage):
    name = "rewrite"

    def run(self, batch):
        open(os.environ["MARKER"], "w").close()
        while True:
            sum(range(1000))

made = pipeline.build.build_stages
pipeline.build.build_stages = lambda key, run_dir: {**made(key, run_dir), "rewrite": Spinning()}
sys.argv[0] = "leakless"
from pipeline.cli import main
main()
"""


@pytest.mark.slow  # a build in a subprocess
@pytest.mark.parametrize("stop, code, said", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_stops_the_running_stage_and_drops_it(tmp_path, stop, code, said):
    runs, marker = tmp_path / "runs", tmp_path / "rewrite-started"
    config = tmp_path / "c.toml"
    config.write_text(f'[run]\nsize = 1\nsub_categories = ["Cybercrime"]\nruns_dir = "{runs}"\n')
    launcher = tmp_path / "launch.py"
    launcher.write_text(LAUNCHER)
    command = ["build", "--config", str(config), "--run-id", "stopped", "--no-progress"]
    env = {**environment(tmp_path), "MARKER": str(marker),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")]))}
    build = subprocess.Popen([sys.executable, str(launcher), *command], env=env, start_new_session=True,
                             text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(marker, build)
        # SIGTERM to the process, as `kill` and a timeout send it; Ctrl-C to its group, as a terminal does
        os.kill(build.pid, stop) if stop == signal.SIGTERM else os.killpg(build.pid, stop)
        try:
            out, err = build.communicate(timeout=GENEROUS_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {GENEROUS_S} s after {stop.name}: the stage was not stopped")
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
            build.communicate()

    assert build.returncode == code, err
    notes = [line for line in err.splitlines() if not line.startswith("note: ")]
    assert notes == [f"{said}; rerun with `{shlex.join(['leakless', *command[:-1]])}` to resume"], err
    batch = next((runs / "stopped" / "batches").iterdir())
    assert {path.name for path in batch.iterdir()} == {"drafts.json", "retrieval.json", "guardrail.json"}
    assert not list((runs / "stopped").rglob(".*.tmp"))


def wait_for(marker: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the rewrite stage did not start within 300 s"
        time.sleep(0.1)
