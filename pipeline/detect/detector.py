"""The offline VSIL leak detector: two named scores, one verdict.

- `text_harm`: would a text-only safety judge refuse the query on its own?
  (`text_harm.py`, a probe fitted on public data.)
- `reveal`: does the query name or pin down the risky thing the description
  shows (the element, a synonym, a broader term that still identifies it)? It is
  the strongest lexicon concept the query shares with the description, or 1 when
  a known element term appears in the query, or when the query and the description
  both name a risky thing of the element library (`library_terms.py`). A text-only
  row has no `reveal`.

A pair leaks when either score crosses its own threshold. Both are mapped onto one
common scale whose threshold is `COMMON_THRESHOLD`, so that `score = max(text_harm,
reveal)` ranks pairs and one threshold (`leak_filter.threshold`) moves both at once.
The raw values and their thresholds are kept in `signals`.

The fitted probe and the thresholds live in `calibration.json`, whose hash is
part of the detector's version with the element library's, so a re-calibration or
a new library never passes for the old detector.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.detect.language import is_english
from pipeline.detect.lexicon import Lexicon
from pipeline.detect.library_terms import library_digest
from pipeline.detect.signals import SIGNALS, SignalExtractor, Texts
from pipeline.detect.text_harm import TextHarmProbe
from pipeline.hashing import sha256_file

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
COMMON_THRESHOLD = 0.5


@dataclass(frozen=True)
class LeakInput:
    query: str
    image_description: str       # "" for a text-only row: only `text_harm` is scored
    category: str | None = None
    element_terms: tuple[str, ...] = ()   # element, synonyms, broader terms when known


@dataclass(frozen=True)
class LeakScore:
    score: float                 # max(text_harm, reveal) on the common scale, in [0, 1]
    text_harm: float             # on the common scale
    reveal: float | None         # on the common scale; None for a text-only row
    signals: dict[str, float]    # raw values, kept apart from the verdict
    spans: tuple[str, ...]       # the query substrings that leak (evidence)
    leak: bool                   # score >= the detector's threshold
    english: bool = True         # False: outside the detector's scope, the score means little

    def reason(self, threshold: float) -> str | None:
        """The reason code of a leak verdict at `threshold`, None when the pair does not leak."""
        if self.score < threshold:
            return None
        return "leak.text_harm" if self.text_harm >= (self.reveal or 0.0) else "leak.reveal"


def on_common_scale(value: np.ndarray | float, threshold: float) -> np.ndarray:
    """Piecewise-linear map of [0, 1] onto [0, 1] that sends `threshold` to COMMON_THRESHOLD."""
    value = np.asarray(value, dtype=np.float64)
    below = COMMON_THRESHOLD * value / threshold
    above = COMMON_THRESHOLD + (1 - COMMON_THRESHOLD) * (value - threshold) / (1 - threshold)
    return np.where(value < threshold, below, above)


def reveal_values(matrix: np.ndarray) -> np.ndarray:
    """The raw `reveal` score of each row of a signal matrix."""
    columns = [SIGNALS.index(name) for name in ("element_match", "library_match", "shared_risk")]
    return matrix[:, columns].max(axis=1)


@dataclass(frozen=True)
class Calibration:
    probe: TextHarmProbe
    text_harm_threshold: float
    reveal_threshold: float
    digest: str

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        raw = path.read_bytes()
        data = json.loads(raw)
        if tuple(data["signals"]) != SIGNALS:
            raise ValueError(f"{path}: fitted on signals {data['signals']}, detector has {list(SIGNALS)}")
        probe_path = path.with_name(data["text_harm_probe"]["file"])
        if sha256_file(probe_path) != data["text_harm_probe"]["sha256"]:
            raise ValueError(f"{probe_path} is not the probe {path.name} was fitted with")
        return cls(TextHarmProbe.load(probe_path), float(data["thresholds"]["text_harm"]),
                   float(data["thresholds"]["reveal"]), hashlib.sha256(raw).hexdigest()[:8])


class LeakDetector:
    backend = "offline-detector"

    def __init__(self, embedder: Embedder | None = None, threshold: float | None = None,
                 calibration: Path = CALIBRATION_FILE):
        if embedder is None:
            from pipeline.backends.minilm import default_embedder
            embedder = default_embedder()
        self.model = f"{embedder.model}+lexicon"  # names the embedder's precision when it is not float32
        self.calibration = Calibration.load(calibration)
        self.threshold = COMMON_THRESHOLD if threshold is None else float(threshold)
        # the calibration and the element library `reveal` reads: a change of either is a new detector
        self.version = f"offline-4+{self.calibration.digest}+{library_digest()}"
        self.extractor = SignalExtractor(Lexicon(), embedder)

    def score(self, items: list[LeakInput]) -> list[LeakScore]:
        if not items:
            return []
        texts = [Texts.of(i.query, i.image_description, tuple(i.element_terms)) for i in items]
        extraction = self.extractor.extract(texts)
        calibration = self.calibration
        text_harm_raw = calibration.probe.probability(extraction.query_features)
        reveal_raw = reveal_values(extraction.matrix)
        text_harm = on_common_scale(text_harm_raw, calibration.text_harm_threshold)
        reveal = on_common_scale(reveal_raw, calibration.reveal_threshold)
        scores = []
        for i, item in enumerate(items):
            has_description = bool(item.image_description.strip())
            item_reveal = float(reveal[i]) if has_description else None
            score = max(float(text_harm[i]), item_reveal or 0.0)
            signals = dict(zip(SIGNALS, map(float, extraction.matrix[i])))
            signals.update(text_harm=float(text_harm[i]), text_harm_probability=float(text_harm_raw[i]))
            # A text-only row has no reveal at all, not a reveal of 0; every row keeps the same
            # signal names, so tables of mixed rows have one set of columns.
            signals.update(reveal=item_reveal if has_description else math.nan,
                           reveal_raw=float(reveal_raw[i]) if has_description else math.nan)
            scores.append(LeakScore(score=score, text_harm=float(text_harm[i]), reveal=item_reveal,
                                    signals=signals, spans=extraction.spans[i], leak=self.decide(score),
                                    english=is_english(item.query)))
        return scores

    def decide(self, score: float, threshold: float | None = None) -> bool:
        return score >= (self.threshold if threshold is None else threshold)
