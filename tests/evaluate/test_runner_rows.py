"""Which rows a rerun of `evaluate` keeps, and how many pairs are out at once (pipeline/evaluate/runner.py)."""

from __future__ import annotations

import asyncio

from pipeline.evaluate.models import EvaluationConfig
from pipeline.evaluate.runner import ERROR, IMAGE, reusable_rows, run_stamp, stream, write_rows
from pipeline.testing.openai_server import FAKE_KEY_ENV


def stamp() -> dict:
    config = EvaluationConfig.model_validate({
        "judge": {"base_url": "http://j:1/v1", "api_key_env": FAKE_KEY_ENV, "model": "scripted-judge"},
        "models": [{"name": "smol", "base_url": "http://a:1/v1", "api_key_env": FAKE_KEY_ENV, "model": "complies"}]})
    return run_stamp(config.model("smol"), config.judge, IMAGE)


def row(pair_id: str, instruction_id: int, label: str, **fields) -> dict:
    return {"id": pair_id, "instruction_id": instruction_id, "category": "c", "sub_category": "s",
            "label": label, **stamp(), **fields}


def test_an_error_row_is_not_kept_so_the_rerun_asks_that_pair_again(tmp_path):
    path = tmp_path / "smol.parquet"
    write_rows(path, [row("p1", 1, "unsafe"), row("p2", 2, ERROR, error="model: HTTP 500")])
    assert set(reusable_rows(path, stamp(), {"p1", "p2"})) == {"p1"}


def test_a_row_of_a_pair_the_release_no_longer_holds_is_not_kept(tmp_path):
    path = tmp_path / "smol.parquet"
    write_rows(path, [row("p1", 1, "unsafe"), row("gone", 2, "safe_refusal")])
    assert set(reusable_rows(path, stamp(), {"p1"})) == {"p1"}


def test_stream_keeps_at_most_window_pairs_out_and_returns_every_result():
    running, most, results = 0, 0, []

    async def work(item: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.005)
        running -= 1
        return item

    asyncio.run(stream(range(20), work, window=3, on_result=results.append))
    assert most == 3
    assert sorted(results) == list(range(20))
