"""Ctrl-C and SIGTERM stop the stages running in worker threads, not only the main thread.

A signal interrupts the main thread alone. A stage running in a task runner's worker thread went on
to its end and was checkpointed, while the process waited for it at exit: a minute or more of LLM
rewriting or image making after `kill`, past a cron or systemd timeout's grace (then SIGKILL, 137).

`request_stop` (the SIGTERM handler, and the threads runner leaving a flow on Ctrl-C or SIGTERM)
marks the process stopped and raises `StageStopped` in every thread running a stage (`stoppable`,
around each `Stage.run`), at its next Python instruction: between two items, two chunks of a model,
two denoising steps. A stage inside one long native call (a model's forward pass on a whole chunk)
stops when it returns. Waits that block in native code (the LLM client's) poll `raise_if_stopped`.
The stage raises instead of returning, so its batch's checkpoint is not written: the resume runs it.
Every file is written atomically, so one interrupted mid-write leaves only a temporary file, which
the next writer in that folder removes (`storage.remove_leftovers`).
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager

POLL_S = 0.2  # how long a wait that native code blocks goes between two looks at the stop


class StageStopped(BaseException):
    """A stage stopped by Ctrl-C or SIGTERM before it finished: dropped, not checkpointed. A
    BaseException, as KeyboardInterrupt is, so no `except Exception` of a stage or a backend turns it
    into an item's failure, and Prefect records the task as crashed without trying it again."""


_stopped = threading.Event()
_lock = threading.RLock()  # re-entered by a signal handler that interrupts its own thread holding it
_stage_threads: dict[int, bool] = {}  # thread ident -> whether StageStopped was sent to it


def stop_requested() -> bool:
    return _stopped.is_set()


def raise_if_stopped() -> None:
    if _stopped.is_set():
        raise StageStopped()


def clear_stop() -> None:
    """A new flow or command in this process runs its stages again (a notebook's next `build_flow`)."""
    _stopped.clear()


def request_stop() -> None:
    """Marks the process stopped and raises StageStopped in each other thread running a stage."""
    with _lock:
        _stopped.set()
        for ident, sent in _stage_threads.items():
            if not sent and ident != threading.get_ident():  # the caller's own thread raises itself
                _stage_threads[ident] = _raise_in(ident, StageStopped)


@contextmanager
def stoppable() -> Iterator[None]:
    """Around a stage's work in this thread: `request_stop` interrupts it, and a stop requested
    meanwhile raises StageStopped at its end, so a result it finished anyway is not checkpointed."""
    ident = threading.get_ident()
    with _lock:
        raise_if_stopped()
        _stage_threads[ident] = False
    try:
        yield
    except Exception as error:  # what a stop caused (a closed LLM client's error) is no failure to retry
        if stop_requested():
            raise StageStopped() from error
        raise
    finally:
        with _lock:
            if _stage_threads.pop(ident, False):
                _raise_in(ident, None)  # one still pending would go off later, in Prefect's own code
    raise_if_stopped()


def result_unless_stopped(future: concurrent.futures.Future):
    """`future.result()`, or StageStopped once a stop is requested: a thread blocked in a native wait
    sees neither a signal nor the exception `request_stop` raises in it."""
    while not concurrent.futures.wait([future], timeout=POLL_S).done:
        raise_if_stopped()
    return future.result()


def _raise_in(ident: int, exception: type[BaseException] | None) -> bool:
    """Raises `exception` in the thread `ident` at its next Python instruction (None: forgets one not
    raised yet); whether it was sent. CPython's API for it; elsewhere only the polled waits stop."""
    set_async_exc = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
    if set_async_exc is None:
        return False
    thrown = ctypes.py_object(exception) if exception is not None else None  # None: NULL, which forgets
    return set_async_exc(ctypes.c_ulong(ident), thrown) == 1
