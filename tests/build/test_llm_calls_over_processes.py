"""summary.md's LLM table adds up every build process of a run, through real HTTP to the loopback
server: a resumed or repeated run keeps the calls its earlier processes sent."""

from __future__ import annotations

import re

import pytest

from pipeline.build import LLM_CALLS, build_without_orchestration
from pipeline.config import load_config
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer

pytestmark = pytest.mark.slow


def seed_writer_requests(summary: str) -> int:
    return int(re.search(r"^\| seed_writer \| \d+ \| (\d+) \|", summary, re.MULTILINE).group(1))


def test_a_rerun_keeps_the_calls_of_the_processes_before_it(tmp_path, monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-any")
    with FakeOpenAIServer() as server:
        config = load_config(None, ["run.size=1", "run.categories=['Violent']", f"run.runs_dir='{tmp_path}'",
                                    "backends.seed_writer='llm'"])
        config = config.model_copy(update={"llm": server.llm_settings(cache_path=tmp_path / "llm.sqlite")})
        build_without_orchestration(config, "r1")
        run = tmp_path / "r1"
        first = (run / "summary.md").read_text()
        sent = server.state.requests["seed_writer"]
        assert sent > 0 and seed_writer_requests(first) == sent
        assert "1 build process " in first and "sent none" not in first

        build_without_orchestration(config, "r1")  # every batch from its checkpoint
        repeated = (run / "summary.md").read_text()
        assert server.state.requests["seed_writer"] == sent
        assert seed_writer_requests(repeated) == sent  # the first process's calls still count
        assert "This build sent none: every batch came from its checkpoint." in repeated

        for drafts in run.glob("batches/*/drafts.json"):
            drafts.unlink()  # as a kill before the stage's checkpoint leaves it
        build_without_orchestration(config, "r1")  # answered from the LLM cache this time
        resumed = (run / "summary.md").read_text()
        assert len(list((run / LLM_CALLS).glob("*.json"))) == 2
        assert "2 build processes" in resumed and seed_writer_requests(resumed) == sent
        assert re.search(r"^\| seed_writer \| (\d+) \| \d+ \| [\d.]+ \| \d+ \| \d+ \| (\d+) \|", resumed,
                         re.MULTILINE).group(2) != "0"  # the second process's cache hits are added
