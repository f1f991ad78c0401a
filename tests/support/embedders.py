"""Embedders for tests: the real MiniLM one recording every text it is asked to embed, and a scripted
one that gives each text the vector a test chose (`basis` vectors make every cosine exact)."""

from __future__ import annotations

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.backends.minilm import default_embedder


class RecordingEmbedder(Embedder):
    def __init__(self):
        self.inner = default_embedder()
        self.backend, self.model = self.inner.backend, self.inner.model
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts += texts
        return self.inner.embed(texts)

    def embed_with_peaks(self, texts):
        self.texts += texts
        return self.inner.embed_with_peaks(texts)


DIMENSIONS = 384  # MiniLM's, which the code under test may assume


def basis(index: int) -> np.ndarray:
    """The unit vector along one axis: its cosine is 1 with itself and 0 with any other basis vector."""
    vector = np.zeros(DIMENSIONS, dtype=np.float32)
    vector[index] = 1.0
    return vector


class ScriptedEmbedder(Embedder):
    """Each text the vector `vectors` gives it; a text not named there gets `other`, or is a KeyError."""
    backend, model = "scripted", "scripted"

    def __init__(self, vectors: dict[str, np.ndarray], other: np.ndarray | None = None):
        self.vectors, self.other = vectors, other

    def embed(self, texts):
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self.vectors[text] if self.other is None else self.vectors.get(text, self.other)
                         for text in texts])
