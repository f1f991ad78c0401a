"""The offline VSIL leak detector: how much a query gives away the risk its image shows.

Signals (lexicon hits, MiniLM similarities, the intent probe) are combined by a
logistic regression fitted on the team's labelled sets (`calibrate.py`); its
weights, the probe and the shipped threshold live in `calibration.json`, whose
hash is part of the detector's version, so a re-calibration never passes for the
old detector.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.detect.intent import IntentProbe
from pipeline.detect.lexicon import Lexicon
from pipeline.detect.signals import SIGNALS, SignalExtractor, Texts
from pipeline.hashing import sha256_file

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class LeakInput:
    query: str
    image_description: str
    category: str | None = None
    element_terms: tuple[str, ...] = ()   # element, synonyms, broader terms when known


@dataclass(frozen=True)
class LeakScore:
    score: float                 # calibrated, in [0, 1], higher = leakier
    signals: dict[str, float]    # each signal's raw value, kept apart from the verdict
    spans: tuple[str, ...]       # the query substrings that leak (evidence)
    text_harm: float | None = None   # on the score's scale; until the detector splits them, the score
    reveal: float | None = None      # None for text-only rows

    def __post_init__(self):
        if self.text_harm is None:
            object.__setattr__(self, "text_harm", self.score)


@dataclass(frozen=True)
class Calibration:
    weights: np.ndarray
    intercept: float
    threshold: float
    intent: IntentProbe
    digest: str

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        raw = path.read_bytes()
        data = json.loads(raw)
        if tuple(data["signals"]) != SIGNALS:
            raise ValueError(f"{path}: fitted on signals {data['signals']}, detector has {list(SIGNALS)}")
        probe_path = path.with_name(data["intent_probe"]["file"])
        if sha256_file(probe_path) != data["intent_probe"]["sha256"]:
            raise ValueError(f"{probe_path} is not the probe {path.name} was fitted with")
        return cls(np.asarray(data["weights"], dtype=np.float64), float(data["intercept"]),
                   float(data["threshold"]), IntentProbe.load(probe_path),
                   hashlib.sha256(raw).hexdigest()[:8])

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(matrix.astype(np.float64) @ self.weights + self.intercept)))


class LeakDetector:
    backend = "offline-detector"

    def __init__(self, embedder: Embedder | None = None, threshold: float | None = None,
                 calibration: Path = CALIBRATION_FILE):
        if embedder is None:
            from pipeline.backends.minilm import default_embedder
            embedder = default_embedder()
        self.model = f"{embedder.model}+lexicon"  # names the embedder's precision when it is not float32
        self.calibration = Calibration.load(calibration)
        self.threshold = self.calibration.threshold if threshold is None else float(threshold)
        self.version = f"offline-2+{self.calibration.digest}"
        self.extractor = SignalExtractor(Lexicon(), embedder, self.calibration.intent)

    def score(self, items: list[LeakInput]) -> list[LeakScore]:
        if not items:
            return []
        texts = [Texts.of(i.query, i.image_description, tuple(i.element_terms)) for i in items]
        extraction = self.extractor.extract(texts)
        scores = self.calibration.probability(extraction.matrix)
        return [
            LeakScore(score=float(s), signals=dict(zip(SIGNALS, map(float, row))), spans=item_spans)
            for s, row, item_spans in zip(scores, extraction.matrix, extraction.spans)
        ]

    def decide(self, score: float, threshold: float | None = None) -> bool:
        return score >= (self.threshold if threshold is None else threshold)
