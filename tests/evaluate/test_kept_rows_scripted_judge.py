"""A row a real model answered but the scripted judge (`leakless fake-llm`) labelled is not kept once a real
judge serves the judge's URL: its label is asked again (`kept_rows` checks both sessions)."""

from __future__ import annotations

import asyncio

from pipeline.evaluate.runner import kept_rows, write_rows
from tests.evaluate.test_runner_rows import row, stamp


class Session:
    """A RoleSession's `served_here`: whether the endpoint still serves what a row names as its model."""

    def __init__(self, scripted_now: bool):
        self.scripted_now = scripted_now

    async def served_here(self, served_model: str, if_no_reply: bool = False) -> bool:
        return self.scripted_now or not served_model.startswith("scripted-fake:")


def test_a_row_the_scripted_judge_labelled_is_judged_again_by_a_real_judge(tmp_path):
    path = tmp_path / "smol.parquet"
    write_rows(path, [row("p1", 1, "unsafe", served_model="smol-real", judge_served_model="scripted-fake:judge"),
                      row("p2", 2, "unsafe", served_model="smol-real", judge_served_model="judge-real")])
    kept = asyncio.run(kept_rows(path, stamp(), {"p1", "p2"}, Session(False), Session(False)))
    assert set(kept) == {"p2"}
    kept = asyncio.run(kept_rows(path, stamp(), {"p1", "p2"}, Session(False), Session(True)))
    assert set(kept) == {"p1", "p2"}
