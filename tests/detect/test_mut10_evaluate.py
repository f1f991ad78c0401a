"""eval-detector's figures (pipeline.detect.evaluate) pinned through the public functions."""

from __future__ import annotations

import numpy as np

from pipeline.detect.evaluate import auroc_interval, paired_auroc_difference


def noisy(count: int = 60, seed: int = 3):
    rng = np.random.default_rng(seed)
    labels = np.array([0, 1] * (count // 2))
    return labels, labels * 0.3 + rng.normal(0, 0.5, count)


def test_an_interval_leaves_half_the_missing_confidence_in_each_tail():
    """At 50% the interval is the middle half of the resampled AUROCs, not their median alone; the
    95% one is wider and holds it."""
    labels, scores = noisy()
    low50, high50 = auroc_interval(labels, scores, confidence=0.5, rounds=400)
    low95, high95 = auroc_interval(labels, scores, confidence=0.95, rounds=400)
    assert low50 < high50
    assert low95 < low50 and high50 < high95


def test_the_paired_difference_is_after_minus_before():
    labels, scores = noisy()
    better = scores + labels * 2.0
    before, after, low, high = paired_auroc_difference(labels, scores, better, rounds=200)
    assert after > before and 0 < low <= high


def test_a_score_at_the_threshold_is_flagged_as_the_detector_flags_it():
    """LeakScore.leak is `score >= threshold`: the report counts such a row as flagged too."""
    from pipeline.detect.evaluate import report

    at = report(np.array([1, 0]), np.array([0.5, 0.1]), threshold=0.5)
    assert at.recall == 1.0 and at.precision == 1.0


def test_recall_is_over_the_leaky_rows_and_fpr_over_the_leakless_ones():
    from pipeline.detect.evaluate import report

    # 4 leaky (3 flagged), 6 leakless (1 flagged)
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.9, 0.2, 0.2, 0.1, 0.1, 0.1])
    figures = report(labels, scores, threshold=0.5)
    assert figures.recall == 3 / 4 and figures.precision == 3 / 4 and figures.fpr == 1 / 6
    fewer_flags = report(labels, scores, threshold=0.85)  # 1 leaky, 1 leakless flagged
    assert (fewer_flags.recall, fewer_flags.precision) == (1 / 4, 1 / 2)


def test_a_twin_naming_a_row_not_scored_is_counted_dangling():
    from pipeline.detect.evaluate import twin_links
    from pipeline.io.external import BenchmarkRow

    rows = [BenchmarkRow(id="a", query="q", image_description="d", label=1),
            BenchmarkRow(id="a:masked", query="m", image_description="d", label=0, extra={"twin_of": "a"}),
            BenchmarkRow(id="c", query="q2", image_description="d", label=1),
            BenchmarkRow(id="c:masked", query="m2", image_description="d", label=0, extra={"twin_of": "c"}),
            BenchmarkRow(id="b:masked", query="m", image_description="d", label=0, extra={"twin_of": "b"})]
    assert twin_links(rows) == (3, 1)  # b was left out or never there


def test_a_masked_twin_scoring_the_same_as_its_leaky_row_is_no_win():
    from pipeline.detect.evaluate import report

    figures = report(np.array([1, 0, 1, 0]), np.array([0.7, 0.7, 0.9, 0.2]), threshold=0.5, twins=[(0, 1), (2, 3)])
    assert figures.twin_pairs == 2 and figures.twin_win_rate == 0.5
