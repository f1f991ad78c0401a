"""The leaderboard and report call the scripted judge's labels a dry run, as the selected version's card
does and docs/evaluate.md says they do: they named it only as "Judge: scripted-judge (served as
scripted-fake:scripted-judge)", which reads like any model's labels."""

from __future__ import annotations

import pytest
from tests.evaluate.test_scripted_rows import release

from pipeline.evaluate.leaderboard import load_leaderboard
from pipeline.evaluate.models import EvaluationConfig
from pipeline.evaluate.report import markdown, render_html
from pipeline.evaluate.runner import IMAGE, run_model
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "dry-run")


def config(url: str, judge: str) -> EvaluationConfig:
    return EvaluationConfig.model_validate({
        "cache": False, "judge": {"base_url": url, "api_key_env": FAKE_KEY_ENV, "model": judge},
        "models": [{"name": "eye", "base_url": url, "api_key_env": FAKE_KEY_ENV, "model": "refuses-image"}]})


def test_the_scripted_judges_leaderboard_and_report_say_it_is_a_dry_run(tmp_path):
    folder, out = release(tmp_path), tmp_path / "evaluations"
    with FakeOpenAIServer() as fake:
        run_model(folder, config(fake.base_url, "scripted-judge"), "eye", IMAGE, out)
    board = load_leaderboard(out / folder.name, folder)
    text, html = markdown(board), render_html(board)
    assert "Judge: scripted-judge (served as scripted-fake:scripted-judge)." in text
    assert ("**A dry run**: the judge is the scripted server of leakless fake-llm, not a model, so these labels "
            "say nothing about the models") in text
    assert 'id="judge-check" class="alarm"><strong>A dry run</strong>: the judge is the scripted server' in html
