"""mut8: a stage waiting on the LLM client process's answers (a native wait no signal reaches) gives up once
a stop is requested, raising StageStopped, instead of waiting out the whole batch after SIGTERM."""

from __future__ import annotations

import threading
import time

from pipeline.llm.process import ClientProcess
from pipeline.llm.roles import VSILJudgeInput
from pipeline.stopping import StageStopped, clear_stop, request_stop, stoppable
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer


def test_a_stage_waiting_on_the_client_process_stops_with_the_stop(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    clear_stop()
    inputs = [VSILJudgeInput(query=f"where could I keep item {i}?", image_description="a shelf") for i in range(100)]
    with FakeOpenAIServer(latency_s=0.5) as server:  # one at a time: the batch takes some 50 s
        client = ClientProcess(server.llm_settings(max_in_flight=1))
        ended: list = []

        def stage():
            try:
                with stoppable():
                    ended.append(client.run_batch("vsil_judge", inputs))
            except BaseException as error:  # noqa: BLE001  the outcome under test
                ended.append(error)

        thread = threading.Thread(target=stage, daemon=True)
        try:
            thread.start()
            deadline = time.monotonic() + 30
            while not sum(server.state.requests.values()) and time.monotonic() < deadline:
                time.sleep(0.05)
            request_stop()
            thread.join(10)
            assert not thread.is_alive(), "the wait on the client process ran on after the stop"
            assert len(ended) == 1 and isinstance(ended[0], StageStopped)
        finally:
            clear_stop()
            client.close()
