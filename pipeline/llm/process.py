"""The batch client in a child process of its own, for builds.

A build's stage threads (the leak detector, images, the hard block, checkpoints) and the
client's event loop shared one GIL. Each time a stage thread held it, answers waited
unread and their in-flight slots stayed taken: at 2,014 seeds the loop thread held the GIL
for about 20 s and the stage threads for about 11 s, and the server had 50 of 64 requests
on average (58-60 when the loop ran alone). In its own process the loop has its own GIL
and the other core; the build only pickles each batch across a pipe.

`ClientProcess` has what the build's backends use of `LLMClient`: `settings`, `run_batch`
and `accounting` (the child's counts, sent back with every batch, about every second while batches
run, and as a stopped batch ends, its cancelled requests counted: a stopped build records them). The child runs
`python -m pipeline.llm.process`, which serves the batches with `pipeline.llm.process_child`. It exits when
the parent closes the pipe, and at once, without finishing its batches, when the parent dies: a killed build
must not go on sending requests that its rerun will send again.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import subprocess
import sys
import threading
import weakref
from concurrent.futures import Future
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Sequence

from pipeline.llm.accounting import Accounting, added_up
from pipeline.llm.config import LLMSettings
from pipeline.llm.process_child import ClientProcessError, main
from pipeline.stopping import result_unless_stopped

__all__ = ["ClientProcess", "ClientProcessError"]  # the error is raised on both sides

CLOSE_WAIT_S = 60.0  # the child flushes its cache writes before it exits
CANCEL_WAIT_S = 5.0  # a stopped batch's last counts (its requests cancelled) come back within it


class ClientProcess:
    """Started at construction, in the process that makes it. Stopped by `close`, when it is
    collected, or at exit, whichever comes first. A child that died otherwise (killed, out of
    memory) fails the batches it had, and the next batch starts a new one: a retried task is
    answered again instead of failing on the same dead process."""

    def __init__(self, settings: LLMSettings):
        self.settings = settings
        self.accounting = Accounting()
        self._ids = itertools.count()
        self._pid = os.getpid()
        self._closed = False
        self._starting = threading.Lock()
        self._start()

    def _start(self) -> None:
        """A new child; the counts it sends back add to those of the children before it."""
        self._pending = _Pending()
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.llm.process", str(to_child), str(from_child)],
            pass_fds=(to_child, from_child), env=env, stderr=subprocess.PIPE)
        threading.Thread(target=_copy_to_stderr, args=(self._process.stderr,), name="leakless-llm-stderr",
                         daemon=True).start()
        os.close(to_child)
        os.close(from_child)
        self._requests = Connection(from_parent, readable=False)
        self._requests.send(self.settings.model_dump_json())
        # The reader and the finalizer hold the parts they need, not the client, so an unused
        # client is still collected (and its process stopped).
        self._reader = threading.Thread(
            target=_read_replies, name="leakless-llm-replies", daemon=True,
            args=(Connection(to_parent, writable=False), self._process, self._pending, self.accounting,
                  self.accounting.summary()))
        self._reader.start()
        self._stop = weakref.finalize(self, _stop, self._process, self._requests, self._pending)

    def _live(self) -> tuple[_Pending, Connection]:
        """The pending batches and the pipe of a child that has not died, started anew if it had."""
        with self._starting:
            if self._pending.exit_code is not None and not self._closed:
                self._stop()  # closes the dead child's pipe
                self._start()
            return self._pending, self._requests

    @property
    def pid(self) -> int:
        return self._process.pid

    def run_batch(self, role: str, inputs: Sequence[Any]) -> list:
        """Same as `LLMClient.run_batch`: one answer or `ItemError` per input, in order."""
        if self._pid != os.getpid():
            raise ClientProcessError("this LLM client belongs to another process; make one in this one")
        pending, requests = self._live()
        future: Future = Future()
        batch_id = next(self._ids)
        with pending.lock:  # also keeps one sender at a time on the pipe
            if pending.exit_code is not None:
                raise ClientProcessError(f"the LLM client process exited with code {pending.exit_code}")
            pending.futures[batch_id] = future
            try:
                requests.send(("batch", batch_id, role, list(inputs)))
            except OSError:  # the child is gone; the reader is about to say how
                pass
        try:
            return result_unless_stopped(future)
        except BaseException:
            _cancel(pending, requests, batch_id, future)
            raise

    def close(self) -> None:
        """Let the child finish writing its cache, then wait for it."""
        if self._pid == os.getpid():
            with self._starting:
                self._closed = True
            self._stop()
            self._reader.join(timeout=CLOSE_WAIT_S)


def _cancel(pending: _Pending, requests: Connection, batch_id: int, future: Future) -> None:
    """An interrupted caller's requests stop too. Waits (briefly) for the counts of what the batch
    sent, its cancelled requests included, so that a stopped stage's record of its calls has them."""
    last_counts: Future = Future()
    with pending.lock:
        if pending.futures.get(batch_id) is not future:  # answered meanwhile, or the child is gone
            return
        pending.futures[batch_id] = last_counts
        try:
            requests.send(("cancel", batch_id))
        except OSError:
            pending.futures.pop(batch_id, None)
            return
    concurrent.futures.wait([last_counts], timeout=CANCEL_WAIT_S)


class _Pending:
    """Batches sent and not yet answered, shared by the callers and the reader thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.futures: dict[int, Future] = {}
        self.exit_code: int | None = None  # set once the child is gone: no batch is sent after


def _read_replies(replies: Connection, process: subprocess.Popen, pending: _Pending,
                  accounting: Accounting, before: dict[str, dict]) -> None:
    """`before`: the counts of the children this one replaced, which its own add to."""
    while True:
        try:
            batch_id, ok, result, usage = replies.recv()
        except (EOFError, OSError):
            break
        accounting.replace(added_up([before, usage]))
        if batch_id is None:  # the counts alone
            continue
        with pending.lock:
            future = pending.futures.pop(batch_id, None)
        if future is None:  # cancelled meanwhile
            continue
        if ok is None:  # a cancelled batch's last counts, which `_cancel` waits for
            future.set_result(None)
        elif ok:
            future.set_result(result)
        else:
            future.set_exception(result)
    code = process.wait()
    with pending.lock:
        pending.exit_code = code
        unanswered = list(pending.futures.values())
        pending.futures.clear()
    for future in unanswered:
        future.set_exception(ClientProcessError(f"the LLM client process exited with code {code}"))


def _copy_to_stderr(child_stderr) -> None:
    """The child's warnings (a server's refused response format), line by line, to this process's
    sys.stderr as it is at each line: while progress bars show, Rich prints them above the bars, where
    the child writing to the terminal itself put them inside a bar."""
    with child_stderr:
        for line in child_stderr:
            sys.stderr.write(line.decode("utf-8", "replace"))
            sys.stderr.flush()


def _stop(process: subprocess.Popen, requests: Connection, pending: _Pending) -> None:
    with pending.lock:
        try:
            requests.send(None)
        except OSError:  # already gone
            requests.close()
            return
        requests.close()
    try:
        process.wait(timeout=CLOSE_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()


if __name__ == "__main__":  # the child, started by `ClientProcess._start`
    main()
