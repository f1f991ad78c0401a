"""A dead LLM client process (kill -9, out of memory) costs the batches it had in flight, not the
build: the next batch, Prefect's retry of the failed task, starts a new one, and the counts of the
dead one stay in the run's accounting."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.llm.process import ClientProcess
from pipeline.llm.roles import VSILJudgeInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer


def judge_inputs(batch: int, n: int) -> list[VSILJudgeInput]:
    return [VSILJudgeInput(query=f"batch {batch}: where could I keep item {i}?",
                           image_description=f"a shelf holding item {i}") for i in range(n)]


def kill_child(client: ClientProcess) -> None:
    """SIGKILL the client's child and wait until the client has seen it exit."""
    client._process.kill()
    deadline = time.monotonic() + 10
    while client._pending.exit_code is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client._pending.exit_code == -9


def test_the_batch_after_a_killed_child_is_answered_by_a_new_one_and_counts_add_up(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    with FakeOpenAIServer() as server:
        client = ClientProcess(server.llm_settings())
        client.run_batch("vsil_judge", judge_inputs(0, 5))
        killed = client.pid
        kill_child(client)
        answers = client.run_batch("vsil_judge", judge_inputs(1, 3))
        client.close()
    assert client.pid != killed and all(answer.output is not None for answer in answers)
    assert client.accounting.usage("vsil_judge").items == 8  # the dead child's 5 and the new one's 3


@pytest.mark.slow
def test_a_build_whose_client_process_is_killed_finishes_on_the_tasks_retry(prefect_harness, monkeypatch, tmp_path):
    import pipeline.build
    from flows.build import build_flow
    from pipeline.factory import llm_client

    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    real_run_stage = pipeline.build.run_stage
    attempts = []

    def kill_during_the_first_rewrite(stage, batch, key, run):
        attempts.append(stage)
        if stage == "rewrite" and attempts.count("rewrite") == 1:  # once its requests are out
            threading.Timer(0.5, llm_client(config)._process.kill).start()  # the client the stages hold
        return real_run_stage(stage, batch, key, run)

    monkeypatch.setattr(pipeline.build, "run_stage", kill_during_the_first_rewrite)
    with FakeOpenAIServer(latency_s=1.5) as server:
        config = load_config(None, ["run.size=1", "run.categories=['Privacy']", f"run.runs_dir='{tmp_path}'",
                                    "backends.rewriter='llm'"])
        config = config.model_copy(update={"llm": server.llm_settings(cache_path=tmp_path / "llm.sqlite")})
        result = build_flow(config, "client-killed", show_progress=False)
    assert attempts.count("rewrite") == 2  # the failed attempt and Prefect's retry
    assert sum(result["states"].values()) == result["seeds"] and "failed" not in result["states"]
    assert (Path(result["run_dir"]) / "manifest.json").exists()
