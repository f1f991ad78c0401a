"""`max_in_flight` holds for the endpoint across batches running at once on several threads
(parallel Prefect tasks), counted by the loopback server itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pipeline.backends.base import ItemError
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import VSILJudgeInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer


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
