"""The real MiniLM embedder, recording every text it is asked to embed."""

from __future__ import annotations

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
