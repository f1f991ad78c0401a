"""The LLM client's loop thread: where every synchronous caller's batch runs."""

from __future__ import annotations

import asyncio
import threading

import pytest

from pipeline.llm.loop import LoopThread


class Pool:
    """Stands for a connection pool: counts how often it is opened and closed, and on which thread."""

    def __init__(self, log: list[str]):
        self.log = log

    async def __aenter__(self):
        self.log.append(f"open on {threading.current_thread().name}")
        return self

    async def __aexit__(self, *exc):
        self.log.append(f"close on {threading.current_thread().name}")


def test_coroutines_from_any_thread_run_on_the_one_loop_thread():
    loop = LoopThread(name="llm-test-loop")

    async def where() -> tuple[str, int]:
        return threading.current_thread().name, id(asyncio.get_running_loop())

    seen = {loop.run(where()) for _ in range(3)}
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(loop.run(where()))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen | set(results)) == 1  # one thread, one loop, whoever called
    assert next(iter(seen))[0] == "llm-test-loop"
    loop.close()


def test_what_is_kept_opens_once_and_closes_on_close():
    loop = LoopThread(name="llm-test-loop")
    log: list[str] = []

    async def use() -> Pool:
        return await loop.kept("endpoint", lambda: Pool(log))

    first, second = loop.run(use()), loop.run(use())
    assert first is second and log == ["open on llm-test-loop"]
    loop.close()
    assert log == ["open on llm-test-loop", "close on llm-test-loop"]
    third = loop.run(use())  # a closed loop thread starts afresh
    assert third is not first and log[-1] == "open on llm-test-loop"
    loop.close()
    assert log[-1] == "close on llm-test-loop"


def test_waiting_on_the_loop_from_the_loop_itself_is_refused_not_a_deadlock():
    loop = LoopThread()

    async def nested() -> int:
        async def inner() -> int:
            return 1
        return loop.run(inner())

    with pytest.raises(RuntimeError, match="cannot be called on it"):
        loop.run(nested())
    loop.close()


def test_kept_is_only_for_the_loop_thread():
    loop = LoopThread()

    async def elsewhere():
        return await loop.kept("endpoint", lambda: Pool([]))

    with pytest.raises(RuntimeError, match="call it there"):
        asyncio.run(elsewhere())
    loop.close()



def test_two_batches_asking_at_once_get_the_same_kept_pool():
    loop = LoopThread(name="llm-test-loop")
    log: list[str] = []

    class SlowPool(Pool):
        async def __aenter__(self):
            await asyncio.sleep(0.05)  # both askers are inside before either has it
            return await super().__aenter__()

    async def both() -> list:
        return await asyncio.gather(*(loop.kept("endpoint", lambda: SlowPool(log)) for _ in range(2)))

    first, second = loop.run(both())
    assert first is second
    assert log == ["open on llm-test-loop"] * 2 + ["close on llm-test-loop"]  # the spare closed at once
    loop.close()
    assert log.count("close on llm-test-loop") == 2


def test_closed_from_its_own_thread_it_closes_what_it_kept_and_stops_without_waiting_on_itself():
    """A client collected while its loop thread runs (its finalizer then runs there)."""
    loop = LoopThread(name="llm-test-loop")
    log: list[str] = []

    async def open_then_close() -> threading.Thread:
        await loop.kept("endpoint", lambda: Pool(log))
        loop.close()
        return threading.current_thread()

    ran_on: list[threading.Thread] = []
    caller = threading.Thread(target=lambda: ran_on.append(loop.run(open_then_close())), daemon=True)
    caller.start()
    caller.join(5)
    assert not caller.is_alive(), "close() on the loop thread waited on itself"
    [thread] = ran_on
    thread.join(5)
    assert not thread.is_alive()
    assert log == ["open on llm-test-loop", "close on llm-test-loop"]


def test_close_without_waiting_still_closes_what_was_kept_and_ends_the_thread():
    loop = LoopThread(name="llm-test-loop")
    log: list[str] = []

    async def open_pool() -> threading.Thread:
        await loop.kept("endpoint", lambda: Pool(log))
        return threading.current_thread()

    thread = loop.run(open_pool())
    loop.close(wait=False)
    thread.join(5)
    assert not thread.is_alive()
    assert log == ["open on llm-test-loop", "close on llm-test-loop"]


def test_close_lets_a_running_batch_finish_its_clean_up():
    """A build stopped mid-request closes the loop with a batch still running: the batch is cancelled
    and its `finally` (a session's cache flush, on a worker thread) runs, rather than the task being
    destroyed pending with the loop and its `finally` failing with "no running event loop"."""
    loop = LoopThread(name="test-close")
    started, cleaned = threading.Event(), threading.Event()

    async def batch():
        try:
            started.set()
            await asyncio.sleep(600)
        finally:
            await asyncio.to_thread(cleaned.set)

    future = loop.submit(batch())
    assert started.wait(10)

    loop.close()

    assert cleaned.is_set() and future.cancelled()
