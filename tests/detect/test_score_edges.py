"""The detector's score arithmetic at its edges, without its models: a text-only row's score is its
text harm whatever its reveal would be, and a tie of text harm and reveal is named for the text harm."""

from __future__ import annotations

import numpy as np

from pipeline.detect.detector import LeakScore, combined_score


def test_a_text_only_rows_score_is_its_text_harm_even_beside_a_full_reveal():
    scores = combined_score(np.array([0.2, 0.2]), np.array([0.9, 0.9]), np.array([False, True]))
    assert scores[0] == 0.2 and scores[1] > 0.9


def test_a_tie_of_text_harm_and_reveal_is_named_for_the_text_harm():
    tied = LeakScore(score=0.7, text_harm=0.6, reveal=0.6, signals={}, spans=(), leak=True)
    assert tied.reason(0.5) == "leak.text_harm"
    assert tied.reason(0.7) == "leak.text_harm"  # a score at the threshold leaks
    assert tied.reason(0.7 + 1e-9) is None
