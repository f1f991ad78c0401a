"""Fit the detector's signal weights and threshold on a labelled dev set.

    python -m pipeline.detect.calibrate [tests/data/detector_dev.jsonl]

A class-balanced logistic regression turns the signals into a probability. The
threshold is the one with the best recall among those keeping the dev set's
false-positive rate at or under `MAX_FPR`, set halfway to the next lower
score so that a near-tie on new data does not flip the verdict.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from pipeline.backends.minilm import default_embedder
from pipeline.detect.detector import CALIBRATION_FILE
from pipeline.detect.evaluate import report, to_inputs
from pipeline.detect.lexicon import Lexicon
from pipeline.detect.signals import SIGNALS, SignalExtractor, Texts
from pipeline.env import PROJECT_ROOT
from pipeline.io.external import read_benchmark

DEV_FILE = PROJECT_ROOT / "tests" / "data" / "detector_dev.jsonl"
MAX_FPR = 0.02


def signal_matrix(path: Path) -> tuple[np.ndarray, np.ndarray]:
    rows = read_benchmark(path, require_label=True)
    extractor = SignalExtractor(Lexicon(), default_embedder())
    matrix, _ = extractor.extract([Texts.of(i.query, i.image_description, i.element_terms)
                                   for i in to_inputs(rows)])
    return matrix, np.array([r.label for r in rows])


def pick_threshold(labels: np.ndarray, scores: np.ndarray, max_fpr: float = MAX_FPR) -> float:
    candidates = np.unique(scores)
    best, best_recall = float(candidates[-1]), -1.0
    for t in candidates:
        r = report(labels, scores, float(t))
        if r.fpr <= max_fpr and r.recall > best_recall:
            best, best_recall = float(t), r.recall
    below = scores[scores < best]
    return (best + float(below.max())) / 2 if below.size else best


def calibrate(path: Path = DEV_FILE, out: Path = CALIBRATION_FILE) -> dict:
    matrix, labels = signal_matrix(path)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(matrix, labels)
    scores = model.predict_proba(matrix)[:, 1]
    threshold = pick_threshold(labels, scores)
    result = {
        "signals": list(SIGNALS),
        "weights": [round(float(w), 6) for w in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "threshold": round(threshold, 6),
        "fitted_on": str(Path(path).resolve().relative_to(PROJECT_ROOT)),
        "pairs": int(len(labels)),
        "max_fpr": MAX_FPR,
    }
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    print(json.dumps(calibrate(Path(sys.argv[1]) if len(sys.argv) > 1 else DEV_FILE), indent=2))
