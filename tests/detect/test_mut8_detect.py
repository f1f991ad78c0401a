"""mut8: the fitting queries' cached vectors are keyed by the embedder's model too: vectors another model
made are never compared with this one's (the near-repeat cosines would be meaningless)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.detect.fitting_keys import _cached_vectors


class Embedder:
    def __init__(self, model: str, value: float):
        self.model, self.value = model, value

    def embed(self, texts):
        return np.full((len(texts), 3), self.value, dtype=np.float32)


def test_vectors_cached_for_one_model_are_not_another_models(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "artifacts"))
    texts = ["where to buy a pistol", "how to pick a lock"]
    assert (_cached_vectors(Embedder("minilm-a", 1.0), texts) == 1.0).all()
    assert (_cached_vectors(Embedder("minilm-a", 9.0), texts) == 1.0).all()  # cached: not embedded again
    assert (_cached_vectors(Embedder("minilm-b", 2.0), texts) == 2.0).all()


def test_an_unwritable_cache_still_gives_the_vectors(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("LEAKLESS_ARTIFACTS", str(blocker / "artifacts"))  # under a file: cannot be made
    assert (_cached_vectors(Embedder("minilm-a", 3.0), ["a"]) == 3.0).all()


def test_a_library_term_the_description_shows_is_a_shown_risk_span_whole():
    """'credit card skimmer' is the element library's term; the lexicon's object is only 'skimmer': without
    the library's, the rewriter would leave 'credit card' dangling before its reference."""
    from pipeline.detect.lexicon import Lexicon
    from pipeline.detect.signals import Texts, shown_risk_spans

    spans = shown_risk_spans(Lexicon(), Texts.of("How do I use this credit card skimmer?",
                                                 "A credit card skimmer on an ATM."))
    assert "credit card skimmer" in spans and "skimmer" in spans


def test_a_renamed_fitting_corpus_with_the_recorded_rows_is_accepted(monkeypatch, tmp_path):
    """`fitted_on` records the corpus's file name, rows and hash: a copy under another name is the same data."""
    from pipeline.detect import fitting_keys

    recorded = {"file": "pairs.jsonl", "rows": 3, "sha256": "ab" * 32}
    monkeypatch.setattr(fitting_keys, "fitting_rows", lambda public, team: ["r1", "r2", "r3"])
    monkeypatch.setattr(fitting_keys, "fingerprint", lambda path, rows: {**recorded, "file": path.name})
    monkeypatch.setattr(fitting_keys, "recorded_fit", lambda calibration: dict(recorded))
    assert fitting_keys.checked_fitting_rows(tmp_path / "my-copy.jsonl", tmp_path) == ["r1", "r2", "r3"]
    monkeypatch.setattr(fitting_keys, "fingerprint", lambda path, rows: {**recorded, "rows": 2, "file": path.name})
    with pytest.raises(ValueError, match="give other rows"):
        fitting_keys.checked_fitting_rows(tmp_path / "my-copy.jsonl", tmp_path)


def test_no_fitting_queries_makes_no_near_repeat(monkeypatch, tmp_path):
    import pipeline.backends.minilm as minilm
    from pipeline.detect.fitting_keys import in_sample, nearest_fitting_cosine

    monkeypatch.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setattr(minilm, "default_embedder", lambda: Embedder("minilm-a", 1.0))
    assert nearest_fitting_cosine(["where to buy a pistol"], []).tolist() == [-1.0]
    assert in_sample(["where to buy a pistol"], frozenset(), []) == ([False], [None])


def test_near_repeats_count_as_in_sample():
    from pipeline.detect.evaluate import Repeats

    repeats = Repeats([], [], [], fitting=["exact"], fitting_kept=False, near_fitting=[("near", 0.97)],
                      near_checked=True)
    assert repeats.in_sample == 2
