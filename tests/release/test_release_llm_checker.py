"""The release's final filtration through the pair-checker role on the loopback server."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.backends.llm_text import LLMPairChecker
from pipeline.backends.minilm import default_embedder
from pipeline.llm.client import LLMClient
from pipeline.release.make import make_release
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer
from tests.support.release_runs import accepted_run

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds


def test_pair_checker_role_decides_the_final_filter(tmp_path, monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")
    run = accepted_run(tmp_path / "runs", "r1", 8)
    with FakeOpenAIServer() as server:
        client = LLMClient.from_settings(server.llm_settings())
        try:
            folder = make_release([run], name="llmcheck", releases_dir=tmp_path / "releases",
                                  embedder=default_embedder(), checker=LLMPairChecker(client), preview=False)
        finally:
            client.close()
        assert server.state.requests["pair_checker"] == 8
    decisions = pd.read_parquet(folder / "decisions.parquet")
    final = decisions[decisions["stage"] == "final_filter"]
    assert len(final) == 8 and (final["backend"] == "openai-compatible").all()
    kept = set(final[final["verdict"] == "keep"]["item_id"])
    # the scripted checker names a category per query; only pairs it categorised as they are stay
    assert set(pd.read_parquet(folder / "data")["id"]) == kept
    assert (final[final["verdict"] == "drop"]["reason"].str.len() > 0).all()
