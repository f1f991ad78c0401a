"""What `leakless evaluate` checks before it sends a pair, and what a rerun keeps, without a release:
the image probe against the loopback server made to count tokens as llama.cpp does, the judge's
endpoint preflight, the settings a kept row must share with the run, and the exit-1 wording."""

from __future__ import annotations

import json
import socket

import pytest
from starlette.responses import Response

from pipeline.cli.evaluate import unjudged_errors
from pipeline.cli.evaluate_checks import check_served
from pipeline.cli.preflight import check_reads_images
from pipeline.evaluate.models import EvaluationConfig
from pipeline.evaluate.runner import CANNOT_SEE, IMAGE, reusable_rows, run_stamp, text_only_endpoint, write_rows
from pipeline.testing import openai_server
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")


@pytest.fixture()
def server():
    with FakeOpenAIServer() as running:
        yield running


def answered_as(monkeypatch, change) -> None:
    """The fake server's completions, their JSON payload passed through `change(body, payload)`."""
    original = openai_server.completion_response

    def completion_response(body, message, finish_reason="stop"):
        payload = json.loads(original(body, message, finish_reason).body)
        change(body, payload)
        return Response(json.dumps(payload), media_type="application/json")

    monkeypatch.setattr(openai_server, "completion_response", completion_response)


def counted_as_llama_cpp(body: dict, payload: dict) -> None:
    # its chatml template turns a message whose content is a list of parts (text included) into nothing
    kept = [message for message in body["messages"] if isinstance(message["content"], str)]
    payload["usage"]["prompt_tokens"] = 12 + len(json.dumps(kept)) // 4


def config(model_url: str, judge_url: str, **judge) -> EvaluationConfig:
    return EvaluationConfig.model_validate({
        "judge": {"base_url": judge_url, "api_key_env": FAKE_KEY_ENV, "model": "scripted-judge", **judge},
        "models": [{"name": "smol", "base_url": model_url, "api_key_env": FAKE_KEY_ENV, "model": "complies"}]})


def unused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


def test_a_server_that_drops_image_messages_is_refused_naming_the_model_and_the_fix(server, monkeypatch):
    answered_as(monkeypatch, counted_as_llama_cpp)
    with pytest.raises(ValueError) as refused:
        check_reads_images("model 'smol'", config(server.base_url, server.base_url).model("smol"), CANNOT_SEE)
    message = str(refused.value)
    assert message.startswith(f"model 'smol' at {server.base_url} drops messages that carry an image")
    assert "a text-only model cannot take this benchmark" in message and "vision model" in message
    assert "\n" not in message and server.state.requests["answerer"] == 2


def test_a_server_that_reads_images_passes_and_one_that_cannot_tell_gets_a_note(server, monkeypatch):
    entry = config(server.base_url, server.base_url).model("smol")
    assert check_reads_images("model 'smol'", entry, CANNOT_SEE) is None  # the image adds its tokens
    answered_as(monkeypatch, lambda body, payload: payload.pop("usage"))
    assert check_reads_images("model 'smol'", entry, CANNOT_SEE) == (
        "could not check that model 'smol' reads images: its server reports no prompt_tokens")
    down = config(unused_url(), server.base_url).model("smol")
    assert check_reads_images("model 'smol'", down, CANNOT_SEE).endswith("reads images: ConnectError")


def test_the_text_only_endpoint_refusal_no_longer_asks_for_vision_true():
    message = text_only_endpoint(["smol"])
    assert "vision = true" not in message and "a text-only model cannot take this benchmark" in message


def test_the_judge_endpoint_gets_the_builds_preflight(monkeypatch):
    closed = unused_url()
    with pytest.raises(ValueError, match=r"LLM endpoint 'judge' \(http://127.0.0.1:\d+/v1\) cannot be reached"):
        check_served(config(closed, closed), ["smol"])
    with FakeOpenAIServer(api_key="sk-other") as guarded, FakeOpenAIServer() as open_server:
        with pytest.raises(ValueError, match=f"refuses the API key in {FAKE_KEY_ENV}"):
            check_served(config(open_server.base_url, guarded.base_url), ["smol"])
        with pytest.raises(ValueError, match="no OpenAI-compatible API there"):
            check_served(config(open_server.base_url, open_server.base_url.removesuffix("/v1")), ["smol"])
        check_served(config(closed, open_server.base_url), ["smol"])  # a model's server down: recorded, not refused
        assert sum(guarded.state.requests.values()) == sum(open_server.state.requests.values()) == 0


def stamped(stamp: dict, **changed) -> dict:
    return {"id": "p1", "instruction_id": 1, "category": "c", "sub_category": "s", "label": "unsafe",
            **stamp, **changed}


def test_a_kept_row_shares_the_runs_sampling_settings_and_servers(tmp_path):
    settings = config("http://a:1/v1", "http://j:1/v1")
    stamp = run_stamp(settings.model("smol"), settings.judge, IMAGE)
    path = tmp_path / "smol.parquet"
    write_rows(path, [stamped(stamp)])
    assert set(reusable_rows(path, stamp, {"p1"})) == {"p1"}
    assert (stamp["temperature"], stamp["max_tokens"], stamp["base_url"]) == (0.0, 1024, "http://a:1/v1")
    for key, other in [("temperature", 0.9), ("max_tokens", 400), ("base_url", "http://b:1/v1"),
                       ("judge_temperature", 0.5), ("judge_max_tokens", 10), ("judge_base_url", "http://k:1/v1")]:
        assert reusable_rows(path, {**stamp, key: other}, {"p1"}) == {}, key
    # a row written before the settings were recorded: asked again (the answer cache serves it)
    write_rows(path, [stamped(stamp, temperature=None, max_tokens=None, base_url=None)])
    assert reusable_rows(path, stamp, {"p1"}) == {}


def test_a_row_whose_answer_was_read_another_way_is_judged_again(tmp_path):
    """A row judged before `<think>` reasoning was left out of answers kept its label on every rerun."""
    settings = config("http://a:1/v1", "http://j:1/v1")
    stamp = run_stamp(settings.model("smol"), settings.judge, IMAGE)
    path = tmp_path / "smol.parquet"
    for earlier_reading in (None, stamp["answer_reading"] - 1):
        write_rows(path, [stamped(stamp, answer_reading=earlier_reading)])
        assert reusable_rows(path, stamp, {"p1"}) == {}, earlier_reading
    write_rows(path, [stamped(stamp)])
    assert set(reusable_rows(path, stamp, {"p1"})) == {"p1"}


def test_a_run_the_judge_failed_on_says_so(tmp_path):
    judge = config("http://a:1/v1", "http://j:1/v1").judge
    judge_failed = {"model": "eye", "mode": IMAGE, "pairs": 3, "errors": 3, "judge_errors": 3}
    model_failed = {"model": "dead", "mode": IMAGE, "pairs": 3, "errors": 3, "judge_errors": 1}
    assert unjudged_errors([judge_failed, model_failed], judge) == [
        "no pair judged for dead (image): every request failed (see the error column of its evaluation file)",
        "no pair judged for eye (image): the judge 'scripted-judge' at http://j:1/v1 failed on every answer "
        "(see the error column of its evaluation file)"]
