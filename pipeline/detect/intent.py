"""The `query_intent` signal: how harmful a query reads on its own, from its MiniLM vector.

The lexicon knows only the words someone thought to list, and each new blind set
found phrasings it missed (euphemisms, slang, intents with no object word). A
linear probe over the query's sentence embedding carries what MiniLM knows about
phrasing instead: a logistic regression on the 384 dimensions, trained on every
team-labelled query. It costs one dot product per query, whose vector the detector
computes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# Strong regularisation: 384 dimensions against about 1,500 labelled queries. Chosen
# by fitting on some team sets and scoring others (0.01 beat 0.1 and 1 on both).
PROBE_C = 0.01


@dataclass(frozen=True)
class IntentProbe:
    weights: np.ndarray   # over the L2-normalised MiniLM vector, input scaling folded in
    intercept: float

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(vectors.astype(np.float64) @ self.weights + self.intercept)))

    def to_json(self) -> dict:
        return {"weights": [round(float(w), 6) for w in self.weights], "intercept": round(self.intercept, 6)}

    @classmethod
    def from_json(cls, data: dict) -> IntentProbe:
        return cls(np.asarray(data["weights"], dtype=np.float64), float(data["intercept"]))


def fit_probe(vectors: np.ndarray, labels: np.ndarray, c: float = PROBE_C) -> IntentProbe:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=5000))
    model.fit(vectors, labels)
    scaler, regression = model[0], model[1]
    weights = regression.coef_[0] / scaler.scale_
    intercept = float(regression.intercept_[0] - weights @ scaler.mean_)
    return IntentProbe(weights, intercept)


def out_of_fold(vectors: np.ndarray, labels: np.ndarray, folds: int = 5) -> np.ndarray:
    """Each query's probe score from a probe that never saw it: what the combiner must be
    fitted on, or it learns to trust a signal that merely remembers its training rows."""
    scores = np.zeros(len(labels))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(vectors, labels):
        scores[test] = fit_probe(vectors[train], labels[train]).probability(vectors[test])
    return scores
