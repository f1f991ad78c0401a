"""The leak filter's verdict at its edges: a score exactly at the threshold leaks (it leaks when its score
reaches the threshold), and a tie of the two parts is named for the query's own harm, as the detector does."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.records import LeakScores
from pipeline.stages.leak_filter import LeakFilterStage

# the verdict reads only the threshold: a stand-in spares loading the detector's models
DETECTOR = SimpleNamespace(backend="leak-detector", model="stand-in", version="v", threshold=0.5)


def test_a_score_exactly_at_the_threshold_leaks():
    stage = LeakFilterStage(DETECTOR, threshold=0.4)
    assert stage.verdict(LeakScores(score=0.4, text_harm=0.4, reveal=0.1)) == (True, "leak.text_harm")
    assert stage.verdict(LeakScores(score=0.4 - 1e-9, text_harm=0.4 - 1e-9, reveal=0.1)) == (False, "leak.none")


def test_text_harm_equal_to_reveal_over_the_threshold_is_a_text_harm_leak():
    stage = LeakFilterStage(DETECTOR, threshold=0.4)
    assert stage.verdict(LeakScores(score=0.6, text_harm=0.6, reveal=0.6)) == (True, "leak.text_harm")
