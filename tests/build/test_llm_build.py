"""`leakless build` with every build role pointed at the loopback OpenAI-compatible server:
the chain runs through HTTP, a second identical run sends no request, and the key leaks nowhere."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds

SECRET = "sk-leakless-test-0123456789abcdef"
LLM_BACKENDS = ["backends.seed_writer='llm'", "backends.rewriter='llm'", "backends.harm_check='llm'",
                "backends.vsil_judge='llm'", "backends.image_refiner='llm'"]
ROLES = {"seed_writer", "leak_rewriter", "harm_filter", "vsil_judge", "image_refiner"}


@pytest.fixture()
def server(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, SECRET)
    with FakeOpenAIServer() as running:
        yield running


def config_for(server, tmp_path: Path):
    config = load_config(None, ["run.size=1", "run.categories=['Violent', 'Privacy']",
                                f"run.runs_dir='{tmp_path / 'runs'}'", *LLM_BACKENDS])
    return config.model_copy(update={"llm": server.llm_settings(cache_path=tmp_path / "llm.sqlite")})


def test_build_through_http_then_from_cache(prefect_harness, server, tmp_path):
    from flows.build import build_flow

    config = config_for(server, tmp_path)
    first = build_flow(config, "llm-1", show_progress=False)
    assert set(server.state.requests) >= ROLES
    sent = sum(server.state.requests.values())

    rows = pd.read_parquet(f"{first['run_dir']}/data")
    assert len(rows) > 0
    assert (rows["seed_backend"] == "openai-compatible").all()
    # the model that answered the seed writer, as the rewriter's is recorded
    assert (rows["seed_model"] == f"scripted-fake:{config.llm.role('seed_writer').model}").all()
    assert rows["rewrite_model"].str.startswith("scripted-fake:").all()  # the model that answered
    decisions = pd.read_parquet(f"{first['run_dir']}/decisions.parquet")
    harm = decisions[decisions["stage"] == "harm_check"]
    assert (harm["backend"] == "openai-compatible").all() and harm["prompt_hash"].str.len().min() > 0
    leak = decisions[decisions["stage"] == "leak_filter"]
    assert leak["signal_judge_leaks"].notna().all()
    assert leak["model"].str.startswith("all-MiniLM-L6-v2").all()  # the detector and the judge's answering model
    assert leak["model"].str.contains("+scripted-fake:", regex=False).all() and leak["prompt_hash"].str.len().min() > 0
    assert "LLM calls" in first["summary"]

    second = build_flow(config, "llm-2", show_progress=False)
    assert sum(server.state.requests.values()) == sent  # every answer came from the cache
    again = pd.read_parquet(f"{second['run_dir']}/data")
    assert sorted(again["instruction"]) == sorted(rows["instruction"])

    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_image_first_seeds_go_to_the_image_query_writer(prefect_harness, server, tmp_path):
    from flows.build import build_flow
    from tests.build.test_image_backends_build import make_pool

    pool = make_pool(tmp_path / "pool", count=4)
    config = load_config(None, [
        "run.size=1", "run.sub_categories=['Identity Theft and Impersonation']",
        f"run.runs_dir='{tmp_path / 'runs'}'", "backends.seed_writer='llm'", "backends.images='pool'",
        f"images.pool.folder='{pool}'", "images.pool.name='p'", "images.pool.image_first=true",
        "images.pool.min_similarity=0.0"])
    config = config.model_copy(update={"llm": server.llm_settings()})
    result = build_flow(config, "llm-pool", show_progress=False)
    assert server.state.requests["image_query_writer"] == 4  # one per pool image, sent as a data URL
    assert server.state.with_image["image_query_writer"] == 4
    ledger = pd.read_parquet(f"{result['run_dir']}/ledger.parquet")
    assert len(ledger) == 5 and ledger["seed_id"].is_unique


@pytest.mark.parametrize(("backend", "role", "stage"), [("seed_writer", "seed_writer", "drafts"),
                                                        ("vsil_judge", "vsil_judge", "leak_filter"),
                                                        ("image_refiner", "image_refiner", "images")])
def test_seeds_lost_to_a_server_that_was_down_are_tried_again_when_the_run_is_rerun(prefect_harness, monkeypatch,
                                                                                    tmp_path, backend, role, stage):
    """A failure that a rerun can fix (the server down, or failing past the retries) is not frozen into the
    run's checkpoints: rerunning the same run id once the server is back builds those seeds."""
    from flows.build import build_flow

    monkeypatch.setenv(FAKE_KEY_ENV, SECRET)
    server = FakeOpenAIServer()  # its port is held, but nothing answers on it until it starts
    config = load_config(None, ["run.size=1", "run.categories=['Privacy']", f"run.runs_dir='{tmp_path / 'runs'}'",
                                f"backends.{backend}='llm'"])
    config = config.model_copy(update={"llm": server.llm_settings(cache_path=tmp_path / "llm.sqlite",
                                                                  max_retries=0)})
    down = build_flow(config, "flaky", show_progress=False)
    failures = pd.read_parquet(f"{down['run_dir']}/failures.parquet")
    assert down["states"] == {"failed": down["seeds"]}
    assert (failures["stage"] == stage).all() and failures["transient"].all()
    assert failures["error"].str.contains("gave up after 1 attempt:").all()
    with server:
        back = build_flow(config, "flaky", show_progress=False)
    assert "failed" not in back["states"] and back["states"]["accepted"] > 0
    assert server.state.requests[role] > 0
