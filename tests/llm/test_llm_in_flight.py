"""`max_in_flight` holds for the endpoint across batches running at once on several threads
(parallel Prefect tasks), counted by the loopback server itself."""

from __future__ import annotations

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
    import asyncio

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
    import asyncio

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


def test_the_stand_in_server_answers_at_its_latency_whatever_its_own_work(monkeypatch):
    """The benchmarks' bound assumes a server that answers `latency_s` after a request arrives.
    The stand-in makes its answer first and sleeps what is left, so a slow answer (here 0.4 s
    of work against 0.5 s of latency) does not add to the latency."""
    import time

    import pipeline.testing.openai_server as fake

    scripted = fake.answer_for

    def slow_answer(*args):
        time.sleep(0.4)
        return scripted(*args)

    monkeypatch.setattr(fake, "answer_for", slow_answer)
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    with FakeOpenAIServer(latency_s=0.5) as server:
        client = LLMClient(server.llm_settings())
        [result] = client.run_batch("vsil_judge", [VSILJudgeInput(query="what is this?", image_description="a park")])
        assert not isinstance(result, ItemError)
        # the server counts the request done after its last byte left, which can be after the client read it
        deadline = time.monotonic() + 5
        while server.state.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        assert 0.5 <= server.state.in_flight_s < 0.8  # 0.9 s and more if the work came after the sleep
