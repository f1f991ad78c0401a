"""The detector's fitting pieces on synthetic data: the sign-held combiner and the intent probe."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_probe_matches_scikit_learn_and_survives_a_round_trip(tmp_path):
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    rng = np.random.default_rng(1)
    ring = lambda x: (np.hypot(x[:, 0], x[:, 1]) > 1.2).astype(int)  # noqa: E731  (no line separates it)
    vectors = rng.normal(size=(400, 8))
    labels = ring(vectors)
    probe = fit_probe(vectors, labels)
    unseen = rng.normal(size=(200, 8))
    truth = ring(unseen)
    assert ((probe.probability(unseen) > 0.5) == truth).mean() > 0.8
    scaler = StandardScaler().fit(vectors)
    reference = SVC(C=10.0, kernel="rbf", gamma="scale", class_weight="balanced").fit(scaler.transform(vectors), labels)
    # the stored kernel expansion is scikit-learn's decision function, and Platt keeps its order
    decision = reference.decision_function(scaler.transform(unseen))
    ours = probe.probability(unseen)
    assert np.all(np.diff(ours[np.argsort(decision)]) >= -1e-12)
    assert ((ours > 0.5) == (decision > 0)).mean() > 0.95
    probe.save(tmp_path / "probe.npz")
    again = IntentProbe.load(tmp_path / "probe.npz")
    assert np.allclose(again.probability(unseen), probe.probability(unseen))


@pytest.mark.slow
def test_out_of_fold_scores_come_from_probes_that_never_saw_the_row():
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(300, 8))
    learnable = (vectors[:, 0] > 0).astype(int)
    noise = rng.integers(0, 2, 300)
    accuracy = lambda scores, labels: ((scores > 0.5) == labels).mean()  # noqa: E731
    assert accuracy(out_of_fold(vectors, learnable), learnable) > 0.85
    # The same noise with every row doubled: a copy lands in its twin's training folds and
    # the probe recalls it. So the probe can remember rows, and chance above means no fold leak.
    doubled = np.vstack([vectors, vectors + 1e-6])
    assert accuracy(out_of_fold(vectors, noise), noise) < 0.65
    assert accuracy(out_of_fold(doubled, np.concatenate([noise, noise])), np.concatenate([noise, noise])) > 0.65


def test_threshold_keeps_the_false_positive_rate_on_nine_sets_in_ten():
    labels = np.array([0] * 50 + [1] * 50)
    ordinary = (labels, np.concatenate([np.linspace(0.0, 0.6, 50), np.linspace(0.4, 1.0, 50)]))
    # One set in ten whose leakless queries read alarming: the rule may give it up, not more.
    alarming = (labels, np.concatenate([np.linspace(0.3, 0.95, 50), np.linspace(0.4, 1.0, 50)]))
    threshold = pick_threshold([ordinary] * 9 + [alarming], max_fpr=0.02, share=0.9)
    assert np.mean(ordinary[1][:50] >= threshold) <= 0.02
    assert np.mean(alarming[1][:50] >= threshold) > 0.02
    assert np.mean(ordinary[1][50:] >= threshold) > 0.6
    # Held on every set, the alarming one sets the bar, and recall pays for it.
    strict = pick_threshold([ordinary] * 9 + [alarming], max_fpr=0.02, share=1.0)
    assert strict > threshold and np.mean(alarming[1][:50] >= strict) <= 0.02
