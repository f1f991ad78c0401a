"""`leakless evaluate` end to end on what it refuses before a pair is sent and what a rerun asks
again: a server that drops image messages (llama.cpp's, for real, and the loopback server counting
tokens as it does), a judge that cannot be used or fails on every answer, other sampling settings,
and a judge change that leaves text-only files behind."""

from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest
from tests.evaluate.test_evaluate_preflight import answered_as, counted_as_llama_cpp, unused_url
from tests.llm import test_llm_real_server as real_server
from tests.support.evaluate_release import build_release, models_file
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.testing.local_servers import SMOLLM2_NAME
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan

pytestmark = pytest.mark.slow
llama = real_server.llama  # llama.cpp's server with SmolLM2, a text model (skipped where not installed)
KEY_ENV = real_server.KEY_ENV


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return build_release(tmp_path_factory.mktemp("evaluate-checks"), per_sub_category=1, planted=1)


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")


@pytest.fixture(autouse=True)
def prefect(prefect_harness):
    yield


def run(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def refused(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert all(fragment in result.output for fragment in fragments), result.output


def pairs_of(release) -> int:
    return pq.read_table(release / "data").num_rows


def test_the_real_llama_cpp_server_with_a_text_model_is_refused_before_a_pair_is_sent(release, llama, tmp_path):
    with FakeOpenAIServer() as judge:
        models = models_file(tmp_path / "models.toml", f"{llama.url}/v1", {"smol": SMOLLM2_NAME},
                             cache_path=tmp_path / "llm.sqlite", judge_url=judge.base_url, max_in_flight=2)
        models.write_text(models.read_text().replace(f'api_key_env = "{FAKE_KEY_ENV}"\nmax', f'api_key_env = '
                                                     f'"{KEY_ENV}"\nmax'))
        assert os.environ.get(KEY_ENV)
        result = run("evaluate", release, "--models", models, "--text-only", "--out-dir", tmp_path / "ev")
    refused(result, "model 'smol' at", "drops messages that carry an image",
            "a text-only model cannot take this benchmark")
    assert not (tmp_path / "ev").exists()


def test_the_loopback_server_counting_as_llama_cpp_is_refused_and_nothing_is_written(release, tmp_path,
                                                                                     monkeypatch):
    answered_as(monkeypatch, counted_as_llama_cpp)
    with FakeOpenAIServer() as server:
        models = models_file(tmp_path / "models.toml", server.base_url, {"smol": "complies"},
                             cache_path=tmp_path / "llm.sqlite")
        refused(run("evaluate", release, "--models", models, "--out-dir", tmp_path / "ev"),
                "model 'smol' at", "drops messages that carry an image")
        assert dict(server.state.requests) == {"answerer": 2}  # the probe, and no pair
    assert not (tmp_path / "ev").exists()


def test_a_judge_that_cannot_be_used_is_refused_before_any_model_is_asked(release, tmp_path):
    with FakeOpenAIServer() as server:
        models = models_file(tmp_path / "models.toml", server.base_url, {"eye": "refuses-image"},
                             cache_path=tmp_path / "llm.sqlite", judge_url=unused_url())
        refused(run("evaluate", release, "--models", models, "--out-dir", tmp_path / "ev"),
                "LLM endpoint 'judge' (http://127.0.0.1:", "cannot be reached")
        assert sum(server.state.requests.values()) == 0
    assert not (tmp_path / "ev").exists()


def test_a_judge_failing_on_every_answer_is_named_not_the_model(release, tmp_path):
    with FakeOpenAIServer() as server, FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("malformed",))) as judge:
        models = models_file(tmp_path / "models.toml", server.base_url, {"eye": "refuses-image"},
                             cache_path=tmp_path / "llm.sqlite", judge_url=judge.base_url)
        result = run("evaluate", release, "--models", models, "--out-dir", tmp_path / "ev")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == (
        f"error: no pair judged for eye (image): the judge 'scripted-judge' at {judge.base_url} failed on every "
        f"answer (see the error column of its evaluation file)")


def test_a_rerun_with_other_sampling_settings_asks_again(release, tmp_path):
    out = tmp_path / "ev"
    with FakeOpenAIServer() as server:
        first = models_file(tmp_path / "a.toml", server.base_url, {"eye": "refuses-image"},
                            cache_path=tmp_path / "llm.sqlite", temperature=0.0, max_tokens=64)
        assert run("evaluate", release, "--models", first, "--out-dir", out).exit_code == 0
        again = run("evaluate", release, "--models", first, "--out-dir", out)
        pairs = pairs_of(release)
        assert f"{pairs} kept from an earlier run, 0 evaluated, 0 errors, 0 requests" in again.output
        other = models_file(tmp_path / "b.toml", server.base_url, {"eye": "refuses-image"},
                            cache_path=tmp_path / "llm.sqlite", temperature=0.9, max_tokens=400)
        before = dict(server.state.requests)
        changed = run("evaluate", release, "--models", other, "--out-dir", out)
        assert f"0 kept from an earlier run, {pairs} evaluated" in changed.output, changed.output
        assert server.state.requests["answerer"] - before["answerer"] == pairs + 2  # the pairs and the probe
    rows = pq.read_table(out / release.name / "eye.parquet").to_pylist()
    assert {(row["temperature"], row["max_tokens"], row["base_url"]) for row in rows} == {
        (0.9, 400, server.base_url)}
    assert {(row["judge_temperature"], row["judge_max_tokens"], row["judge_base_url"]) for row in rows} == {
        (0.0, 1024, server.base_url)}


def test_a_judge_change_refusal_says_text_only_re_judges_the_control_files(release, tmp_path):
    out = tmp_path / "ev"
    with FakeOpenAIServer() as server:
        models = models_file(tmp_path / "models.toml", server.base_url, {"eye": "refuses-image"},
                             cache_path=tmp_path / "llm.sqlite")
        assert run("evaluate", release, "--models", models, "--text-only", "--out-dir", out).exit_code == 0
        other = tmp_path / "other.toml"
        other.write_text(models.read_text().replace('model = "scripted-judge"', 'model = "other-judge"'))
        refused(run("evaluate", release, "--models", other, "--out-dir", out),
                "scripted-judge (text-only/eye.parquet)", "with this judge (with --text-only for their text-only "
                                                          "files), or move their files away")
        assert run("evaluate", release, "--models", other, "--text-only", "--out-dir", out).exit_code == 0
