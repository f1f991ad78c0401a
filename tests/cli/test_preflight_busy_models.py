"""A busy server's slow GET /models is no "no list": the model-name check waits for it once more, and
says so; a listing that never comes is a `note:` line, not silence. With a busy llama.cpp server a
config asking for gpt-4o-mini was accepted and its SmolLM2 answers cached under gpt-4o-mini."""

from __future__ import annotations

import pytest

from pipeline.cli import preflight
from pipeline.cli.preflight import check_llm_ready
from pipeline.config import load_config
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer

SERVED = "SmolLM2-135M-Instruct-Q4_1"
FIRST_WAIT_S = 0.2  # stands in for the 5 s an idle server takes at most
LATE_S = 0.6  # the busy server's /models: past the first wait


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "k")


@pytest.fixture
def short_first_wait(monkeypatch):
    monkeypatch.setattr(preflight, "MODELS_FIRST_WAIT_S", FIRST_WAIT_S, raising=False)


def settings(server: FakeOpenAIServer, model: str, tmp_path, timeout_s: float = 30):
    return load_config(None, ["backends.rewriter='llm'", f"llm.endpoints.default.base_url='{server.base_url}'",
                              f"llm.endpoints.default.api_key_env='{FAKE_KEY_ENV}'",
                              f"llm.endpoints.default.timeout_s={timeout_s}",
                              f"llm.roles.leak_rewriter.model='{model}'", f"llm.cache_path='{tmp_path / 'c.sqlite'}'"])


def test_a_model_a_busy_server_does_not_list_is_still_refused(short_first_wait, tmp_path, capsys):
    with FakeOpenAIServer(served=(SERVED,), models_delay_s=LATE_S) as server:
        with pytest.raises(ValueError, match=f"serves {SERVED}, not 'gpt-4o-mini', which the leak_rewriter role"):
            check_llm_ready(settings(server, "gpt-4o-mini", tmp_path))
        check_llm_ready(settings(server, SERVED, tmp_path))  # listed, late: fine
    waits = capsys.readouterr().err.splitlines()
    assert waits == [f"waiting for {server.base_url}/models (the server is busy; up to 30 s)"] * 2


def test_a_listing_that_never_comes_is_a_note_not_silence(short_first_wait, tmp_path, capsys):
    with FakeOpenAIServer(served=(SERVED,), models_delay_s=LATE_S) as server:
        check_llm_ready(settings(server, "gpt-4o-mini", tmp_path, timeout_s=0.3))
        said = capsys.readouterr().err.splitlines()
    assert said == [
        f"waiting for {server.base_url}/models (the server is busy; up to 0.3 s)",
        f"note: LLM endpoint 'default' ({server.base_url}): GET /models did not answer within 0.3 s, so the model "
        "names asked of it could not be checked against the server (a name it does not serve would be recorded "
        "as the model that answered)"]


def test_an_idle_server_is_asked_once_without_a_word(tmp_path, capsys):
    with FakeOpenAIServer(served=(SERVED,)) as server:
        with pytest.raises(ValueError, match="not 'gpt-4o-mini'"):
            check_llm_ready(settings(server, "gpt-4o-mini", tmp_path))
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_a_listing_later_than_five_seconds_is_waited_for(tmp_path, capsys):
    """The first wait as shipped: the report's busy llama.cpp server took longer than it."""
    with FakeOpenAIServer(served=(SERVED,), models_delay_s=5.5) as server:
        with pytest.raises(ValueError, match="not 'gpt-4o-mini'"):
            check_llm_ready(settings(server, "gpt-4o-mini", tmp_path))
    assert capsys.readouterr().err.splitlines() == [
        f"waiting for {server.base_url}/models (the server is busy; up to 30 s)"]
