"""Each build of a run records its own LLM calls in every process that computes its stages: a build
stopped before `finalize` (Ctrl-C in a notebook), or computed by an external Dask cluster's workers
that never finalize, must not leave a record a later build of the run goes on counting in, as the
process's client also counts every other run built in between."""

from __future__ import annotations

import pickle
import re

import pytest

import pipeline.build
from pipeline.build import LLM_CALLS, build_without_orchestration, llm_calls_of_run, llm_calls_recorded
from pipeline.config import load_config
from pipeline.contracts import StageName
from pipeline.llm.accounting import Accounting
from pipeline.rundir import RunDir
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer


def requests_of(run: RunDir) -> int:
    return sum(usage["requests"] for usage in llm_calls_of_run(run, 0)[0].values())


def test_a_resumed_build_counts_only_its_own_calls_after_another_run(tmp_path, monkeypatch):
    client = Accounting()  # one client for every run of the process, as `factory.llm_client` keeps it
    monkeypatch.setattr(pipeline.build, "_llm_accounting", lambda key: client)
    with pytest.raises(KeyboardInterrupt):
        with llm_calls_recorded("key", RunDir(tmp_path, "A")):
            client.add("leak_rewriter", requests=2)
            raise KeyboardInterrupt  # no finalize
    with llm_calls_recorded("key", run_b := RunDir(tmp_path, "B")):
        client.add("leak_rewriter", requests=5)
    assert requests_of(run_b) == 5
    with llm_calls_recorded("key", resumed := RunDir(tmp_path, "A")):  # each build makes its own handle
        client.add("leak_rewriter", requests=1)
    assert requests_of(resumed) == 2 + 1


def test_a_handle_claimed_again_serves_a_new_build(tmp_path, monkeypatch):
    client = Accounting()
    monkeypatch.setattr(pipeline.build, "_llm_accounting", lambda key: client)
    config = load_config(None, [f"run.runs_dir='{tmp_path}'"])
    run, other = RunDir(tmp_path, "A"), RunDir(tmp_path, "B")
    run.claim(config)
    with llm_calls_recorded("key", run):
        client.add("leak_rewriter", requests=2)
    with llm_calls_recorded("key", other):
        client.add("leak_rewriter", requests=5)
    run.claim(config)
    with llm_calls_recorded("key", run):
        client.add("leak_rewriter", requests=1)
    assert requests_of(run) == 3


def test_the_stages_of_one_build_in_one_process_share_one_file(tmp_path, monkeypatch):
    """A Dask worker gets its own copy of the build's handle with each stage: one file per process per
    build, so the summary adds each process once."""
    client = Accounting()
    monkeypatch.setattr(pipeline.build, "_llm_accounting", lambda key: client)
    run = RunDir(tmp_path, "A")
    for requests in (2, 3):
        with llm_calls_recorded("key", pickle.loads(pickle.dumps(run))):
            client.add("leak_rewriter", requests=requests)
    assert len(list((run.path / LLM_CALLS).glob("*.json"))) == 1
    assert requests_of(run) == 5


def summary_requests(run) -> int:
    table = (run / "summary.md").read_text().split("## LLM calls", 1)[1]
    return sum(int(requests) for role, requests in re.findall(r"^\| (\w+) \| \d+ \| (\d+) \|", table, re.MULTILINE)
               if role != "role")


@pytest.mark.slow  # three LLM builds
def test_a_run_stopped_mid_stage_and_resumed_after_another_run_counts_what_it_sent(tmp_path, monkeypatch):
    """One process, as a notebook: run A stops during its rewrite stage, run B is built, A is resumed;
    A's summary counts the requests the server got for A."""
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-any")
    real_build_stages = pipeline.build.build_stages

    def rewrite_then_stop(key, run_path):
        stages = dict(real_build_stages(key, run_path))
        rewrite = stages[StageName.rewrite.value]

        def stopped(batch):
            rewrite(batch)  # its requests are sent; the stage never ends
            raise KeyboardInterrupt

        return stages | {StageName.rewrite.value: stopped}

    with FakeOpenAIServer() as server:
        def settings(sub_category: str):
            config = load_config(None, ["run.size=1", f"run.sub_categories=['{sub_category}']",
                                        f"run.runs_dir='{tmp_path}'", "backends.rewriter='llm'",
                                        "backends.vsil_judge='llm'", "backends.harm_check='llm'"])
            return config.model_copy(update={"llm": server.llm_settings(cache_path=tmp_path / "llm.sqlite")})

        def sent() -> int:
            return sum(server.state.requests.values())

        monkeypatch.setattr(pipeline.build, "build_stages", rewrite_then_stop)
        with pytest.raises(KeyboardInterrupt):
            build_without_orchestration(settings("Cybercrime"), "A")
        monkeypatch.setattr(pipeline.build, "build_stages", real_build_stages)
        sent_for_a = sent()
        assert sent_for_a > 0 and not (tmp_path / "A" / "summary.md").exists()

        build_without_orchestration(settings("Property Crimes"), "B")
        sent_for_b = sent() - sent_for_a
        assert sent_for_b > 0 and summary_requests(tmp_path / "B") == sent_for_b

        build_without_orchestration(settings("Cybercrime"), "A")
        sent_for_a += sent() - sent_for_a - sent_for_b
    assert summary_requests(tmp_path / "A") == sent_for_a
