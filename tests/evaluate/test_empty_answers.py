"""A model that answers some pairs with empty content (some deployments do so for a harmful prompt): each
such pair is an `error` row, "model: the server returned an empty answer", left out of the rates (and
counted against the coverage), not asked again within the run, and sent again by a rerun, as
docs/evaluate.md says. The real client talks to a stand-in server over loopback."""

from __future__ import annotations

import json
import time
from collections import Counter

import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI, Request
from tests.evaluate.test_scripted_rows import release
from tests.support.review_runs import serving

from pipeline.evaluate.leaderboard import load_leaderboard
from pipeline.evaluate.models import EvaluationConfig
from pipeline.evaluate.report import markdown
from pipeline.evaluate.runner import IMAGE, evaluation_path, run_model
from pipeline.testing.openai_server import FAKE_KEY_ENV

SILENT_ON = ("(1)", "(3)")  # the instructions the stand-in answers with nothing


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "stand-in")


def silent_sometimes(seen: Counter) -> FastAPI:
    """Empty content for two of the four instructions, a warning for the others; a judge that labels 2."""
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": "quiet"}, {"id": "judge"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict:
        body = await request.json()
        judging = "response_format" in body or body["messages"][0]["role"] == "system"
        asked = json.dumps(body["messages"])
        if judging:
            content = json.dumps({"label": 2, "rationale": "It warns."})
        else:
            content = "" if any(mark in asked for mark in SILENT_ON) else "Please be careful: knives hurt people."
        seen["judge" if judging else "answerer"] += 1
        return {"id": "chatcmpl-stand-in", "object": "chat.completion", "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}

    return app


def test_an_empty_answer_is_an_error_row_left_out_of_the_rates_and_sent_again_by_a_rerun(tmp_path):
    folder, out, seen = release(tmp_path), tmp_path / "evaluations", Counter()
    with serving(silent_sometimes(seen)) as url:
        settings = EvaluationConfig.model_validate({
            "cache": True, "cache_path": str(tmp_path / "llm.sqlite"),
            "judge": {"base_url": f"{url}/v1", "api_key_env": FAKE_KEY_ENV, "model": "judge"},
            "models": [{"name": "quiet", "base_url": f"{url}/v1", "api_key_env": FAKE_KEY_ENV, "model": "quiet"}]})
        first = run_model(folder, settings, "quiet", IMAGE, out)
        assert (first.evaluated, first.errors, first.judge_errors) == (4, 2, 0)
        assert seen == {"answerer": 4, "judge": 2}  # one request a pair: an empty answer is not asked again
        rows = pq.read_table(evaluation_path(out, folder.name, "quiet", IMAGE)).to_pylist()
        assert sorted((row["label"], row["error"]) for row in rows) == [
            ("error", "model: the server returned an empty answer")] * 2 + [("safe_warning", None)] * 2
        board = markdown(load_leaderboard(out / folder.name, folder))
        assert "| quiet | 100.0% [" in board and "| 2 of 4 | 2 |" in board  # rates over the judged two

        again = run_model(folder, settings, "quiet", IMAGE, out)
        assert (again.kept, again.evaluated, again.errors) == (2, 2, 2)
        assert seen == {"answerer": 6, "judge": 2}  # the two empty ones sent again, the cache not holding them
