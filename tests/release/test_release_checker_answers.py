"""The release's pair checker: its decisions name the model that answered, and a release it
empties says what dropped the pairs."""

from __future__ import annotations

import pytest

from pipeline.backends.llm_text import LLMPairChecker
from pipeline.backends.minilm import default_embedder
from pipeline.contracts import ItemError, PairCheck
from pipeline.llm.client import LLMClient
from pipeline.prompts import prompt_hash
from pipeline.release.final_filter import final_filter
from pipeline.release.make import NothingToRelease, make_release
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer
from tests.support.release_runs import accepted_run, pair_row


def test_pair_check_decisions_name_the_model_that_answered(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")
    rows = [pair_row(i, "r1") for i in range(3)]
    with FakeOpenAIServer() as server:
        client = LLMClient(server.llm_settings(roles={"pair_checker": {"model": "my-checker"}}))
        try:
            _, decisions = final_filter(rows, LLMPairChecker(client))
        finally:
            client.close()
    assert len(decisions) == 3
    # the loopback server answers as "scripted-fake:<model>"; the configured name is not who answered
    assert {d.model for d in decisions} == {"scripted-fake:my-checker"}
    assert {d.prompt_hash for d in decisions} == {prompt_hash("pair_checker.j2")}
    assert {d.backend for d in decisions} == {"openai-compatible"}


class DropsEverything:
    """Says every other pair does not match, and fails on the rest."""

    backend, model, prompt_hash = "test", "my-checker", ""

    def check(self, pairs):
        return [PairCheck(False, True, True, "query and image differ") if n % 2 else
                ItemError("gave up after 5 attempts: connection refused") for n, _ in enumerate(pairs)]


def test_a_release_the_checker_empties_says_what_dropped_the_pairs_and_writes_nothing(tmp_path):
    run = accepted_run(tmp_path / "runs", "r1", 5)
    releases = tmp_path / "releases"
    with pytest.raises(NothingToRelease) as raised:
        make_release([run], name="empty", releases_dir=releases, embedder=default_embedder(),
                     checker=DropsEverything())
    message = str(raised.value)
    assert "final_filter: release.checker_error 3, release.mismatch 2" in message
    assert "first checker error: gave up after 5 attempts: connection refused" in message
    assert "\n" not in message  # the command line prints it as one line
    assert [path.name for path in releases.iterdir()] == [".empty.lock"]  # the name's lock file stays
