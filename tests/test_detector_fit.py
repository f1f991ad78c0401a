"""The detector's fitting pieces on synthetic data: the sign-held combiner and the intent probe."""

from __future__ import annotations

import numpy as np

from pipeline.detect.calibrate import fit_signed_logistic, pick_threshold
from pipeline.detect.intent import IntentProbe, fit_probe, out_of_fold
from pipeline.detect.signals import SIGNALS


def test_signed_fit_keeps_protective_negative_and_evidence_positive():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    matrix = rng.random((400, len(SIGNALS)))
    evidence, protective = SIGNALS.index("evidence"), SIGNALS.index("protective")
    matrix[:, evidence] += labels          # a real leak signal
    matrix[:, protective] += labels        # a protective cue that happens to follow leaks here
    weights, _ = fit_signed_logistic(matrix, labels)
    assert weights[evidence] > 1.0
    assert weights[protective] == 0.0      # an unconstrained fit would make it positive
    assert all(w >= 0 for name, w in zip(SIGNALS, weights) if name != "protective")


def test_probe_folds_its_scaling_into_the_weights():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(300, 16))
    labels = (vectors[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(int)
    probe = fit_probe(vectors, labels, c=1.0)
    assert ((probe.probability(vectors) > 0.5) == labels).mean() > 0.9
    again = IntentProbe.from_json(probe.to_json())
    assert np.allclose(again.probability(vectors), probe.probability(vectors), atol=1e-4)


def test_out_of_fold_scores_do_not_remember_their_rows():
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(200, 64))
    labels = rng.integers(0, 2, 200)          # nothing to learn: in-sample fits still memorise
    in_sample = fit_probe(vectors, labels, c=10.0).probability(vectors)
    unseen = out_of_fold(vectors, labels)
    accuracy = lambda scores: ((scores > 0.5) == labels).mean()  # noqa: E731
    assert accuracy(in_sample) > 0.7
    assert accuracy(unseen) < 0.65


def test_threshold_keeps_the_false_positive_rate():
    labels = np.array([0] * 50 + [1] * 50)
    scores = np.concatenate([np.linspace(0.0, 0.6, 50), np.linspace(0.4, 1.0, 50)])
    threshold = pick_threshold(labels, scores, max_fpr=0.02)
    assert np.mean(scores[labels == 0] >= threshold) <= 0.02
    assert np.mean(scores[labels == 1] >= threshold) > 0.6
