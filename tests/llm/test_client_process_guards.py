"""The client process refuses what would send requests nobody waits for: an interrupted caller's batch
stops, a closed client starts no new process, a forked copy cannot use its parent's pipe; and an
answer that cannot cross the pipe still ends its caller's wait."""

from __future__ import annotations

import queue
import time
from concurrent.futures import Future
from multiprocessing import Pipe

import pytest

import pipeline.llm.process as process
from pipeline.llm.process import ClientProcess, ClientProcessError
from pipeline.llm.process_child import _send_forever
from pipeline.llm.roles import VSILJudgeInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer


def inputs(n: int) -> list[VSILJudgeInput]:
    return [VSILJudgeInput(query=f"where could I keep item {i}?", image_description="a shelf") for i in range(n)]


@pytest.fixture
def fake_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")


def interrupted_once(server: FakeOpenAIServer) -> type[Future]:
    """A caller that presses Ctrl-C once the server has its first requests."""

    class InterruptedWait(Future):
        def result(self, timeout=None):
            deadline = time.monotonic() + 30
            while sum(server.state.requests.values()) < 4 and time.monotonic() < deadline:
                try:
                    return super().result(timeout=0.05)
                except TimeoutError:
                    pass
            raise KeyboardInterrupt

    return InterruptedWait


def test_an_interrupted_callers_batch_stops_sending(fake_key, monkeypatch):
    with FakeOpenAIServer(latency_s=0.2) as server:
        client = ClientProcess(server.llm_settings(max_in_flight=4))
        monkeypatch.setattr(process, "Future", interrupted_once(server))
        with pytest.raises(KeyboardInterrupt):
            client.run_batch("vsil_judge", inputs(200))
        sent_by_then = sum(server.state.requests.values())
        time.sleep(1.0)  # five latencies: a batch still running would send 20 more
        assert sum(server.state.requests.values()) - sent_by_then <= 8  # at most those being sent
        client.close()


def test_a_closed_client_starts_no_new_process(fake_key):
    with FakeOpenAIServer() as server:
        client = ClientProcess(server.llm_settings())
        [answer] = client.run_batch("vsil_judge", inputs(1))
        assert answer.output is not None
        closed = client.pid
        client.close()
        with pytest.raises(ClientProcessError, match="exited with code 0"):
            client.run_batch("vsil_judge", inputs(1))
        assert client.pid == closed and sum(server.state.requests.values()) == 1


def test_a_copy_in_another_process_cannot_send_on_its_parents_pipe(fake_key, monkeypatch):
    with FakeOpenAIServer() as server:
        client = ClientProcess(server.llm_settings())
        monkeypatch.setattr(process.os, "getpid", lambda: -1)  # as in a forked worker
        with pytest.raises(ClientProcessError, match="belongs to another process"):
            client.run_batch("vsil_judge", inputs(1))
        monkeypatch.undo()
        client.close()
        assert sum(server.state.requests.values()) == 0


def test_an_answer_that_does_not_pickle_reaches_its_caller_as_an_error():
    """Else the reply is never sent and the build waits on the batch for ever."""
    outbox, (replies_read, replies) = queue.SimpleQueue(), Pipe(duplex=False)
    usage = {"vsil_judge": {"requests": 1}}
    outbox.put((7, False, ValueError(lambda: None), usage))  # a lambda does not pickle
    outbox.put(None)
    _send_forever(outbox, replies)
    assert replies_read.poll(1), "nothing was sent back"
    batch_id, ok, error, sent_usage = replies_read.recv()
    assert (batch_id, ok, sent_usage) == (7, False, usage)
    assert isinstance(error, ClientProcessError) and "pickle" in str(error).lower()
