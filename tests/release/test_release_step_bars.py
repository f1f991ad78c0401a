"""Within the steps of `release` and `verify` that work through the pairs in slices (final filtration,
leak check, dedup, the shards read, the near-duplicate search, the re-scoring), a rows bar moves as each
slice is done: a step took 35 s on 103 pairs, minutes on thousands, with nothing between its lines.
The step lines stay as they were; the bar is drawn on stderr at a terminal only."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

import pipeline.release.final_filter as final_filter_module
import pipeline.release.leak_check as leak_check_module
import pipeline.release.verify as verify_module
from pipeline.backends.minilm import default_embedder
from pipeline.progress import StepLines, counted_step
from pipeline.release.make import make_release
from pipeline.release.verify import verify_release
from tests.support.release_runs import accepted_run


class RecordedSteps:
    """A step hook that draws bars, as `StepLines` does: each step's line, and per bar its total and
    the slices it was told of."""

    def __init__(self):
        self.lines: list[str] = []
        self.bars: dict[str, tuple[int, list[int]]] = {}

    def __call__(self, step: str) -> None:
        self.lines.append(step)

    @contextmanager
    def counted(self, step: str, total: int, label: str):
        self(step)
        told: list[int] = []
        self.bars[label] = (total, told)
        yield told.append


@pytest.fixture()
def small_slices(monkeypatch):
    """Slices of two pairs, so three pairs make two of each."""
    monkeypatch.setattr(final_filter_module, "CHECK_SLICE", 2)
    monkeypatch.setattr(leak_check_module, "SCORE_SLICE", 2)
    monkeypatch.setattr(verify_module, "EMBED_SLICE", 2, raising=False)


def test_release_and_verify_move_a_bar_per_slice_within_their_steps(tmp_path, small_slices):
    steps = RecordedSteps()
    folder = make_release([accepted_run(tmp_path / "runs", "r1", 3)], name="bench",
                          releases_dir=tmp_path / "releases", embedder=default_embedder(), on_step=steps)
    assert steps.bars == {"filtering": (3, [2, 1]), "leak check": (3, [2, 1]), "dedup": (3, [2, 1])}
    assert steps.lines == ["final filtration of 3 new pairs (rules)", "leak check of 3 pairs",
                           "dedup of 3 pairs against 0 released", "writing 3 pairs"]

    checked = RecordedSteps()
    # the scores stored in slices are the ones verify finds again
    assert verify_release(folder, default_embedder(), on_step=checked) == []
    assert checked.bars == {"shards": (3, [3]), "near-dups": (3, [2, 1]), "re-scoring": (3, [2, 1])}
    assert checked.lines == ["checking 1 shard(s) against the manifest", "looking for near-duplicates among 3 pairs",
                             "re-scoring 3 shipped queries"]


def test_a_plain_step_hook_hears_the_step_alone():
    heard: list[str] = []
    with counted_step(heard.append, "leak check of 3 pairs", 3, "leak check") as advance:
        advance(3)
    assert heard == ["leak check of 3 pairs"]


def test_step_lines_draw_the_bar_only_at_a_terminal(capsys, monkeypatch):
    def said(terminal: bool) -> str:
        if terminal:
            monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich's own switch: a terminal it may draw on
        else:
            monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
        with StepLines("verify").counted("re-scoring 3 shipped queries", 3, "re-scoring") as advance:
            advance(2)
            advance(1)
        out, err = capsys.readouterr()
        assert out == ""  # stdout holds results only
        return err

    plain = said(terminal=False)
    assert plain == "verify: re-scoring 3 shipped queries (at 0 s)\n"  # a log gets the line as before
    drawn = said(terminal=True)
    assert drawn.startswith("verify: re-scoring 3 shipped queries (at 0 s)\n")
    assert "re-scoring" in drawn and "3/3" in drawn and "pairs" in drawn
