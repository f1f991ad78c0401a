"""`text_harm`: would a text-only safety judge refuse the query on its own?

This is VLSBench's own leakage test (LlamaGuard on the text alone), learned from
public data: a class-balanced logistic regression over what MiniLM makes of the
query (`probe_features`: the sentence vector, the element-wise maximum over word
pieces, and the lexicon's query-only cues). It is fitted on the permissively
licensed sources of the public VSIL corpus plus the team's sets (`calibrate.py`).

Linear on purpose: on held-out public sources an RBF SVM was no better and a
hundred times larger, and a linear score moves little under meaningless edits
(a trailing tag, a polite prefix), which keeps verdicts stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from pipeline.backends.minilm import DIMENSION
from pipeline.hashing import sha256_file

PROBE_FILE = Path(__file__).with_name("text_harm_probe.npz")
# L2 penalty; held-out public AUROC was flat from 0.01 to 0.5.
PROBE_C = 0.05
# The lexicon's query-only cues the probe reads beside the MiniLM vectors (`signals.SIGNALS` names).
CUE_SIGNALS = ("query_risk", "harm_act", "evidence", "protective", "prototype_similarity")


def probe_features(sentence_vectors: np.ndarray, peak_vectors: np.ndarray, cues: np.ndarray) -> np.ndarray:
    return np.hstack([sentence_vectors, peak_vectors, cues])


def sentence_vectors(features: np.ndarray) -> np.ndarray:
    """The MiniLM sentence vectors inside `probe_features`' rows (their first columns)."""
    return features[:, :DIMENSION]


@dataclass(frozen=True)
class TextHarmProbe:
    mean: np.ndarray        # input standardisation
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        x = (features.astype(np.float64) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))

    def save(self, path: Path = PROBE_FILE) -> str:
        arrays = {name: np.asarray(getattr(self, name)) for name in self.__dataclass_fields__}
        with path.open("wb") as out:
            np.savez_compressed(out, **arrays)
        return sha256_file(path)

    @classmethod
    def load(cls, path: Path = PROBE_FILE) -> TextHarmProbe:
        with np.load(path) as data:
            return cls(**{name: (data[name] if data[name].ndim else float(data[name]))
                          for name in cls.__dataclass_fields__})


def fit_probe(features: np.ndarray, labels: np.ndarray, c: float = PROBE_C) -> TextHarmProbe:
    scaler = StandardScaler().fit(features)
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit(scaler.transform(features), labels)
    return TextHarmProbe(mean=scaler.mean_, scale=scaler.scale_, coef=model.coef_[0],
                         intercept=float(model.intercept_[0]))


def out_of_group(features: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row's probe score from a probe fitted without the row's whole group (source or
    set): the scores a new benchmark's rows will get, which the threshold must be set on."""
    scores = np.zeros(len(labels))
    for group in np.unique(groups):
        held = groups == group
        scores[held] = fit_probe(features[~held], labels[~held]).probability(features[held])
    return scores
