"""One event loop on its own thread, for the synchronous callers of the LLM client.

Prefect tasks call `LLMClient.run_batch` from several worker threads at once. Each
call used to run its own event loop with its own connection pool, so every batch
opened new connections (a TLS handshake each, against a real API: two rounds of four batches
with 8 requests in flight opened 32, `tests/llm/test_llm_in_flight.py`), and one loop per
worker competed for the GIL to read its answers. Now every batch of a client runs
on this one loop and shares its keep-alive connections.

Things the loop keeps open (a connection pool per endpoint) are made on the loop by
`kept` and closed on it by `close`. The client also closes its loop when it is
collected, without waiting (a collection runs on whatever thread allocated, a server's
or the loop's own, and must not block it), and at exit, waiting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

T = TypeVar("T")
Opened = TypeVar("Opened", bound=AbstractAsyncContextManager)


class LoopThread:
    """Started by the first `run`, in the process that calls it."""

    def __init__(self, name: str = "leakless-llm"):
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._kept: dict[Any, AbstractAsyncContextManager] = {}

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the loop and wait for its result on the calling thread."""
        if self.owns_running_loop():
            coroutine.close()
            raise RuntimeError("run() waits for the loop thread, so it cannot be called on it; await the coroutine")
        future = self.submit(coroutine)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # an interrupted caller's requests stop too
            raise

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start `coroutine` on the loop; its result arrives on the returned future."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._started())

    def owns_running_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    async def kept(self, key: Any, opener: Callable[[], Opened]) -> Opened:
        """The context manager `opener` makes, entered once on this loop and kept open until `close`.
        Call it on the loop (from a coroutine that `run` started)."""
        if not self.owns_running_loop():
            raise RuntimeError("kept() opens things that live on the loop thread; call it there")
        if key not in self._kept:
            opened = opener()
            await opened.__aenter__()
            if self._kept.setdefault(key, opened) is not opened:  # another batch opened it meanwhile
                await opened.__aexit__(None, None, None)
        return self._kept[key]

    def close(self, wait: bool = True) -> None:
        """Close what was kept, stop the loop and end its thread; a later `run` starts a new one.
        With `wait=False`, or on the loop thread itself, it only asks the loop to do so."""
        with self._lock:
            loop, thread, kept = self._loop, self._thread, list(self._kept.values())
            self._loop, self._thread, self._kept = None, None, {}
            ours = self._pid == os.getpid()
        if loop is None or not ours:  # a forked child leaves its parent's loop alone
            return
        if not wait or threading.current_thread() is thread:  # it cannot wait on itself
            loop.call_soon_threadsafe(_close_then_stop, loop, kept)
            return
        asyncio.run_coroutine_threadsafe(_end_tasks_then_exit_all(kept), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():  # a forked child starts its own
                self._loop, self._pid, self._kept = asyncio.new_event_loop(), os.getpid(), {}
                self._thread = threading.Thread(target=_run, args=(self._loop,), name=self.name, daemon=True)
                self._thread.start()
            return self._loop


def _run(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_forever()
    loop.close()


def _close_then_stop(loop: asyncio.AbstractEventLoop, kept: list[AbstractAsyncContextManager]) -> None:
    loop.create_task(_end_tasks_then_exit_all(kept)).add_done_callback(lambda _: loop.stop())


async def _end_tasks_then_exit_all(opened: list[AbstractAsyncContextManager]) -> None:
    # A batch still running (a build stopped by Ctrl-C mid-request) is cancelled and let finish its
    # clean-up (its session's cache flush) before the loop stops: left pending, it was destroyed with
    # the loop ("Task was destroyed but it is pending!", then a traceback from its `finally`).
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    for each in opened:
        await each.__aexit__(None, None, None)

