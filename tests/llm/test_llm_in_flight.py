"""`max_in_flight` holds for the endpoint across batches running at once on several threads
(parallel Prefect tasks), counted by the loopback server itself."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from pipeline.backends.base import ItemError
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import VSILJudgeInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan


def test_in_flight_limit_is_shared_by_concurrent_batches(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    with FakeOpenAIServer(latency_s=0.05) as server:
        client = LLMClient(server.llm_settings(max_in_flight=8))
        batches = [[VSILJudgeInput(query=f"batch {b} question {i}?", image_description="a park")
                    for i in range(24)] for b in range(4)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda batch: client.run_batch("vsil_judge", batch), batches))
        assert not any(isinstance(r, ItemError) for batch in results for r in batch)
        assert sum(server.state.requests.values()) == 96
        assert server.state.peak_in_flight == 8  # reached, never passed: 4 batches, one gate
        assert server.state.in_flight == 0
        usage = client.accounting.usage("vsil_judge")  # each request was out at least the server's latency
        assert usage.requests == 96 and usage.request_s >= 96 * 0.05


@pytest.mark.slow
def test_a_request_the_client_gave_up_on_keeps_its_slot_while_the_server_may_still_work_on_it(monkeypatch):
    """A timed-out request is still on the server (llama.cpp finishes it): when its slot went at once to
    the next request, the fake server saw 8 in flight with max_in_flight = 4."""
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    # each hung request stays on the server 0.6 s past the client's timeout, within the slot's extra second
    faults = FaultPlan(rate=0.5, kinds=("timeout",), hang_s=1.6)
    with FakeOpenAIServer(latency_s=0.05, faults=faults) as server:
        client = LLMClient(server.llm_settings(max_in_flight=2, timeout_s=1.0, backoff_s=0.01, max_retries=6))
        results = client.run_batch("vsil_judge", [VSILJudgeInput(query=f"question {i}?", image_description="a park")
                                                  for i in range(4)])
        assert not any(isinstance(r, ItemError) for r in results)
        assert server.state.faults_sent["timeout"] >= 2
        assert server.state.peak_in_flight == 2


def test_a_freed_slot_goes_to_the_earliest_batch_then_first_come():
    from pipeline.llm.limits import InFlightGate

    async def scenario() -> list[str]:
        gate = InFlightGate(1)
        order: list[str] = []

        async def wait(name: str, batch: int) -> None:
            slot = await gate.take(batch)
            order.append(name)
            await asyncio.sleep(0.01)
            slot.release()

        holder = asyncio.create_task(wait("holder", 0))
        await asyncio.sleep(0)
        waiters = []
        for name, batch in (("late batch", 7), ("early batch, first", 2), ("early batch, second", 2)):
            waiters.append(asyncio.create_task(wait(name, batch)))
            await asyncio.sleep(0)
        await asyncio.gather(holder, *waiters)
        return order

    assert asyncio.run(scenario()) == ["holder", "early batch, first", "early batch, second", "late batch"]


def test_a_waiter_cancelled_before_its_turn_passes_the_slot_on():
    from pipeline.llm.limits import InFlightGate

    async def scenario() -> list[str]:
        gate = InFlightGate(1)
        order: list[str] = []

        async def wait(name: str, batch: int) -> None:
            slot = await gate.take(batch)
            order.append(name)
            await asyncio.sleep(0.01)
            slot.release()

        holder = asyncio.create_task(wait("holder", 0))
        await asyncio.sleep(0)
        cancelled = asyncio.create_task(wait("cancelled", 1))
        later = asyncio.create_task(wait("later", 2))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.gather(holder, later)
        await asyncio.wait_for(gate.take(3), 1)  # the slot came back: nothing leaked
        order.append("after")
        return order

    assert asyncio.run(scenario()) == ["holder", "later", "after"]


def test_batches_on_several_threads_share_one_connection_pool(monkeypatch):
    """Every batch runs on the client's one loop thread, so a later batch reuses the connections
    an earlier one opened: no new connection (no new TLS handshake against a real API)."""
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    with FakeOpenAIServer(latency_s=0.02) as server:
        client = LLMClient(server.llm_settings(max_in_flight=8))

        def round_of_batches(name: str) -> None:
            batches = [[VSILJudgeInput(query=f"{name} batch {b} question {i}?", image_description="a park")
                        for i in range(16)] for b in range(4)]
            with ThreadPoolExecutor(max_workers=4) as pool:
                results = list(pool.map(lambda batch: client.run_batch("vsil_judge", batch), batches))
            assert not any(isinstance(r, ItemError) for batch in results for r in batch)

        round_of_batches("first")
        opened = len(server.state.client_addresses)
        round_of_batches("second")
        assert 1 <= opened <= 8  # never more connections than requests in flight
        assert len(server.state.client_addresses) == opened
        assert sum(server.state.requests.values()) == 128
        client.close()


class RecordingAsyncio:
    """asyncio as the stand-in server's module sees it, each sleep it asks for noted in `events`."""

    def __init__(self, events: list):
        self.events = events

    def __getattr__(self, name: str):
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        self.events.append(("sleep", seconds))
        await asyncio.sleep(seconds)


def test_the_stand_in_server_answers_at_its_latency_whatever_its_own_work(monkeypatch):
    """The benchmarks' bound assumes a server that answers `latency_s` after a request arrives.
    The stand-in makes its answer first and sleeps what is left, so a slow answer (here 0.2 s
    of work against 0.3 s of latency) does not add to the latency: checked by the order of the
    work and the sleep, and by the sleep asked for, not by a wall-clock window."""
    import time

    import pipeline.testing.openai_server as fake

    work_s, latency_s, events = 0.2, 0.3, []
    scripted = fake.answer_for

    def slow_answer(*args):
        time.sleep(work_s)
        events.append(("work", work_s))
        return scripted(*args)

    monkeypatch.setattr(fake, "answer_for", slow_answer)
    monkeypatch.setattr(fake, "asyncio", RecordingAsyncio(events))
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    with FakeOpenAIServer(latency_s=latency_s) as server:
        client = LLMClient(server.llm_settings())
        [result] = client.run_batch("vsil_judge", [VSILJudgeInput(query="what is this?", image_description="a park")])
        client.close()
    assert not isinstance(result, ItemError)
    [(first, _), (then, slept)] = events  # the work, then one sleep: no sleep before the answer is made
    assert (first, then) == ("work", "sleep")
    assert 0 <= slept <= latency_s - work_s + 1e-9  # what is left of the latency; the work took at least work_s
