"""The offline VSIL leak detector: two named scores, one verdict.

- `text_harm`: would a text-only safety judge refuse the query on its own?
  (A linear probe over MiniLM vectors, `text_harm.py`, blended with MiniLM fine-tuned
  through adapters, `text_harm_adapter.py`; both fitted on public data.)
- `reveal`: does the query name or pin down the risky thing the description
  shows (the element, a synonym, a broader term that still identifies it)? It is
  the strongest lexicon concept the query shares with the description, or 1 when
  a known element term appears in the query, or when the query and the description
  both name a risky thing of the element library (`library_terms.py`). A text-only
  row has no `reveal`.

A pair leaks when either score crosses its own threshold. Both are mapped onto one
common scale whose threshold is `COMMON_THRESHOLD`, so that `score = max(text_harm,
reveal)` ranks pairs and one threshold (`leak_filter.threshold`) moves both at once;
the smaller score breaks ties (`combined_score`). The raw values and their thresholds
are kept in `signals`.

The fitted probe, the adapter, their blend and the thresholds live in `calibration.json`, whose hash is
part of the detector's version with the element library's and the risk lexicon's, so a re-calibration,
a new library or an edited lexicon never passes for the old detector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.detect.calibration import CALIBRATION_FILE, Calibration, detector_version
from pipeline.language import is_english, is_english_description, other_script_words
from pipeline.detect.lexicon import Lexicon
from pipeline.detect.named_risk import GAIN_THRESHOLD, on_reveal_scale, without_shown_words
from pipeline.detect.signals import SIGNALS, Extraction, SignalExtractor, Texts, canonical_query
from pipeline.plain_text import has_words, plain

COMMON_THRESHOLD = 0.5
# Many pairs share the larger score exactly (`reveal` takes a few lexicon weights, and every pair
# that names a shown library term has it at the top, a leaky query and its masked twin among them),
# and such a tie says nothing about which pair leaks more. The smaller score breaks it, adding at
# most TIE_BREAK: enough to order pairs, even stored as float32, and too little to move a verdict
# unless the larger score sits within it below the threshold. The common scale ends TIE_BREAK
# below 1, so a score stays below 1.
TIE_BREAK = 1e-6
# MiniLM reads the first 256 word pieces of a text (about 150 to 190 English words), so a
# request put after enough padding would go unread. A longer query is also read in windows of
# WINDOW_WORDS words, WINDOW_STRIDE apart, and its text_harm is the highest of them all.
WINDOW_WORDS = 120
WINDOW_STRIDE = 60


@dataclass(frozen=True)
class LeakInput:
    query: str
    image_description: str       # "" (or None) for a text-only row: only `text_harm` is scored
    category: str | None = None
    element_terms: tuple[str, ...] = ()   # element, synonyms, broader terms when known

    def __post_init__(self):
        # A wrong type here used to fail six calls deep, or worse, score: one string of terms was
        # read as its letters, and the term "a" matched every article.
        if not isinstance(self.query, str):
            raise TypeError(f"LeakInput.query must be text, not {type(self.query).__name__}")
        if not has_words(self.query):
            raise ValueError(f"LeakInput.query has no words to score: {self.query!r}")
        if _missing(self.image_description):
            object.__setattr__(self, "image_description", "")
        elif not isinstance(self.image_description, str):
            raise TypeError(f"LeakInput.image_description must be text or None, "
                            f"not {type(self.image_description).__name__}")
        if self.element_terms is None:
            object.__setattr__(self, "element_terms", ())
        if isinstance(self.element_terms, str) or not all(isinstance(t, str) for t in self.element_terms):
            raise TypeError(f"LeakInput.element_terms must be a sequence of terms, such as "
                            f"('bolt cutters',), not {self.element_terms!r}")
        object.__setattr__(self, "element_terms", tuple(self.element_terms))


def _missing(value) -> bool:
    """None, or a data frame's empty cell (NaN, pd.NA), which `leakless audit` reads as text-only too."""
    if value is None or isinstance(value, str):
        return value is None
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: not one missing value
        return False


@dataclass(frozen=True)
class LeakScore:
    score: float                 # `combined_score(text_harm, reveal)`, in [0, 1)
    text_harm: float             # on the common scale
    reveal: float | None         # on the common scale; None for a text-only row
    signals: dict[str, float]    # raw values, kept apart from the verdict
    spans: tuple[str, ...]       # the query substrings that leak (evidence)
    leak: bool                   # score >= the detector's threshold
    english: bool = True         # False: outside the detector's scope, the score means little

    def reason(self, threshold: float) -> str | None:
        """The reason code of a leak verdict at `threshold`, None when the pair does not leak."""
        if self.score < checked_threshold(threshold):
            return None
        return "leak.text_harm" if self.text_harm >= (self.reveal or 0.0) else "leak.reveal"


def on_common_scale(value: np.ndarray | float, threshold: float) -> np.ndarray:
    """Piecewise-linear map of [0, 1] onto [0, 1 - TIE_BREAK] that sends `threshold` to COMMON_THRESHOLD."""
    value = np.asarray(value, dtype=np.float64)
    below = COMMON_THRESHOLD * value / threshold
    above = COMMON_THRESHOLD + (1 - TIE_BREAK - COMMON_THRESHOLD) * (value - threshold) / (1 - threshold)
    return np.where(value < threshold, below, above)


def from_common_scale(value: float, threshold: float) -> float:
    """The raw value that `on_common_scale` sends to `value`: what a common-scale threshold means
    for one score."""
    if value < COMMON_THRESHOLD:
        return value * threshold / COMMON_THRESHOLD
    return threshold + (value - COMMON_THRESHOLD) * (1 - threshold) / (1 - TIE_BREAK - COMMON_THRESHOLD)


def combined_score(text_harm: np.ndarray, reveal: np.ndarray, has_description: np.ndarray) -> np.ndarray:
    """Each pair's score from its two on the common scale: the larger, ties broken by the smaller.
    A text-only row has no `reveal`: its score is its `text_harm`."""
    paired = np.maximum(text_harm, reveal) + TIE_BREAK * np.minimum(text_harm, reveal)
    return np.where(has_description, paired, text_harm)


def reveal_values(matrix: np.ndarray) -> np.ndarray:
    """The raw `reveal` score of each row of a signal matrix."""
    columns = [SIGNALS.index(name) for name in ("element_match", "library_match", "shared_risk")]
    return matrix[:, columns].max(axis=1)


def query_windows(query: str) -> list[str]:
    """Overlapping windows of a query longer than WINDOW_WORDS words (none for a shorter one);
    the last window ends with the query."""
    words = query.split()
    if len(words) <= WINDOW_WORDS:
        return []
    starts = list(range(0, len(words) - WINDOW_WORDS, WINDOW_STRIDE)) + [len(words) - WINDOW_WORDS]
    return [" ".join(words[start:start + WINDOW_WORDS]) for start in starts]


class LeakDetector:
    backend = "offline-detector"

    def __init__(self, embedder: Embedder | None = None, threshold: float | None = None,
                 calibration: Path | str = CALIBRATION_FILE):
        if embedder is None:
            from pipeline.backends.minilm import default_embedder
            embedder = default_embedder()
        self.model = f"{embedder.model}+lexicon"  # names the embedder's precision when it is not float32
        self.calibration = Calibration.load(Path(calibration))
        self.threshold = COMMON_THRESHOLD if threshold is None else checked_threshold(threshold)
        # the calibration, the element library `reveal` reads and the risk lexicon (its concepts give `reveal`,
        # its cues are text_harm's features): a change of any is a new detector
        self.version = detector_version(self.calibration.digest)
        self.extractor = SignalExtractor(Lexicon(), embedder)

    def score(self, items: list[LeakInput]) -> list[LeakScore]:
        """One LeakScore per input, in order."""
        if isinstance(items, LeakInput):
            raise TypeError("LeakDetector.score takes a list of LeakInput: score([item])")
        items = list(items)
        for index, item in enumerate(items):
            if not isinstance(item, LeakInput):
                raise TypeError(f"LeakDetector.score: item {index} is {type(item).__name__}, not a LeakInput")
        if not items:
            return []
        texts = [Texts.of(i.query, i.image_description, tuple(i.element_terms)) for i in items]
        # `named_risk` reads each query that shares words with its description again without them:
        # those queries join the batch, so each encoder runs once over both (fewer, fuller batches).
        owners, stripped, shared_words = self._without_shown_words(texts)
        alone = [Texts.of(query, "") for query in stripped]
        extraction = self.extractor.extract([*texts, *alone])
        calibration = self.calibration
        both_raw, both_adapter = calibration.text_harm(
            extraction.query_features, [canonical_query(text) for text in [*(i.query for i in items), *stripped]])
        count = len(items)
        extraction = Extraction(extraction.matrix[:count], extraction.spans[:count],
                                extraction.query_features[:count])
        text_harm_raw = both_raw[:count]
        adapter = both_adapter[:count] if both_adapter is not None else None
        gain = np.zeros(count)
        if owners:
            gain[owners] = text_harm_raw[owners] - both_raw[count:]
        text_harm_raw, adapter = self._with_windows(items, text_harm_raw, adapter)
        reveal_raw = np.maximum(reveal_values(extraction.matrix),
                                on_reveal_scale(gain, calibration.reveal_threshold))
        text_harm = on_common_scale(text_harm_raw, calibration.text_harm_threshold)
        reveal = on_common_scale(reveal_raw, calibration.reveal_threshold)
        described = np.array([bool(item.image_description.strip()) for item in items])
        pair_scores = combined_score(text_harm, reveal, described)
        scores = []
        for i, item in enumerate(items):
            has_description = bool(described[i])
            item_reveal = float(reveal[i]) if has_description else None
            score = float(pair_scores[i])
            signals = dict(zip(SIGNALS, map(float, extraction.matrix[i])))
            signals.update(text_harm=float(text_harm[i]), text_harm_probability=float(text_harm_raw[i]),
                           text_harm_adapter=float(adapter[i]) if adapter is not None else math.nan)
            # A text-only row has no reveal at all, not a reveal of 0; every row keeps the same
            # signal names, so tables of mixed rows have one set of columns.
            signals.update(reveal=item_reveal if has_description else math.nan,
                           reveal_raw=float(reveal_raw[i]) if has_description else math.nan,
                           named_risk_gain=float(gain[i]) if has_description else math.nan)
            spans = extraction.spans[i]
            if gain[i] >= GAIN_THRESHOLD:  # the shared words carry the harm: the rewrite loop replaces them
                spans = tuple(dict.fromkeys([*spans, *shared_words[i]]))
            scores.append(LeakScore(score=score, text_harm=float(text_harm[i]), reveal=item_reveal,
                                    signals=signals, spans=spans, leak=self.decide(score),
                                    english=in_scope(item.query, item.image_description)))
        return scores

    def _text_harm_alone(self, queries: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """text_harm (blended, and the adapter's own) of texts read as queries with no description."""
        features = self.extractor.extract([Texts.of(query, "") for query in queries]).query_features
        return self.calibration.text_harm(features, [canonical_query(query) for query in queries])

    @staticmethod
    def _without_shown_words(texts: list[Texts]) -> tuple[list[int], list[str], list[tuple[str, ...]]]:
        """For `named_risk` (a query's text_harm less that of the query without the words its
        description shows): which queries share words with their description, each of them without
        those words, and the words (none for a query that shares none)."""
        shared_words: list[tuple[str, ...]] = [()] * len(texts)
        owners, stripped = [], []
        for index, pair in enumerate(texts):
            found = without_shown_words(pair)
            if found is not None:
                owners.append(index)
                stripped.append(found[0])
                shared_words[index] = found[1]
        return owners, stripped, shared_words

    def _with_windows(self, items: list[LeakInput], probability: np.ndarray,
                      adapter: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Raise each long query's text_harm (and the adapter's part) to its highest window's."""
        owners, windows = [], []
        for index, item in enumerate(items):
            for window in query_windows(plain(item.query)):
                owners.append(index)
                windows.append(window)
        if not windows:
            return probability, adapter
        in_windows, adapter_in_windows = self._text_harm_alone(windows)
        probability = probability.copy()
        adapter = adapter.copy() if adapter is not None else None
        for window, index in enumerate(owners):
            probability[index] = max(probability[index], in_windows[window])
            if adapter is not None:
                adapter[index] = max(adapter[index], adapter_in_windows[window])
        return probability, adapter

    def decide(self, score: float, threshold: float | None = None) -> bool:
        return score >= (self.threshold if threshold is None else checked_threshold(threshold))


def in_scope(query: str, image_description: str = "") -> bool:
    """Whether a pair is in the detector's scope (`LeakScore.english`): an English query with no word
    of another script, and an English description where there is one (in another language, `reveal`
    finds nothing to link the query to, and would pass the pair blind: `is_english_description`)."""
    read = plain(query)
    if not is_english(read) or other_script_words(read):
        return False
    return is_english_description(plain(image_description or ""))  # text-only: no words, nothing to judge


def checked_threshold(threshold: float) -> float:
    """A threshold on the common scale: a number in [0, 1] (NaN would pass every pair)."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 <= value <= 1.0:  # False for NaN too
        raise ValueError(f"a leak threshold is a number in [0, 1], not {threshold!r}")
    return value
