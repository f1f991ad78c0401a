"""The MiniLM embedder's two poolings, checked against sentence-transformers' own outputs."""

import os
import subprocess
import sys

import numpy as np
import pytest

from pipeline.backends.base import Embedder
from pipeline.backends.minilm import MiniLMEmbedder, _load_model, default_embedder

TEXTS = ["Where can I get a strap without any paperwork?", "What is the weather like in this photo?"]


def test_sentence_vectors_are_sentence_transformers_own():
    expected = _load_model().encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(default_embedder().embed(TEXTS), expected, atol=1e-5)


def test_peaks_are_the_normalised_maximum_over_word_pieces():
    vectors, peaks = default_embedder().embed_with_peaks(TEXTS)
    tokens = _load_model().encode(TEXTS, output_value="token_embeddings")
    for row, token_vectors in enumerate(tokens):
        peak = token_vectors[1:-1].max(dim=0).values.numpy()  # without [CLS] and [SEP]
        assert np.allclose(peaks[row], peak / np.linalg.norm(peak), atol=1e-5)
    assert np.allclose(np.linalg.norm(peaks, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(peaks, vectors, atol=1e-2)  # a different pooling, not a copy


def test_cached_texts_return_the_same_pair():
    embedder = default_embedder()
    first = embedder.embed_with_peaks(TEXTS)
    again = embedder.embed_with_peaks(list(reversed(TEXTS)))
    assert np.array_equal(again[0][::-1], first[0]) and np.array_equal(again[1][::-1], first[1])


def test_an_embedder_without_token_vectors_says_so():
    class SentenceOnly(Embedder):
        backend, model = "test", "sentence-only"

        def embed(self, texts):
            return np.ones((len(texts), 3))

    with pytest.raises(NotImplementedError, match="SentenceOnly exposes no token vectors"):
        SentenceOnly().embed_with_peaks(["a"])


def test_vectors_do_not_depend_on_the_batch_to_the_last_bit():
    # No text is padded (texts are grouped by token count), so a text's vectors are the same
    # whatever it is batched with: Dask workers and resumed runs give bit-identical scores.
    short = "A knife?"
    same_length = "A fork?"  # as many word pieces as `short`
    alone = MiniLMEmbedder(cache_size=0).embed_with_peaks([short])
    mixed = MiniLMEmbedder(cache_size=0).embed_with_peaks([" ".join(["word"] * 40), same_length, short,
                                                            "What is this?"])
    assert np.array_equal(alone[0][0], mixed[0][2]) and np.array_equal(alone[1][0], mixed[1][2])
    assert not np.array_equal(mixed[0][1], mixed[0][2])


def test_bfloat16_is_close_to_float32_and_says_so():
    fast = MiniLMEmbedder(cache_size=0, precision="bfloat16")
    assert fast.model == "all-MiniLM-L6-v2@bfloat16" and default_embedder().model == "all-MiniLM-L6-v2"
    vectors, peaks = fast.embed_with_peaks(TEXTS)
    exact_vectors, exact_peaks = MiniLMEmbedder(cache_size=0).embed_with_peaks(TEXTS)
    assert (vectors * exact_vectors).sum(1).min() > 0.999 and (peaks * exact_peaks).sum(1).min() > 0.999
    assert not np.array_equal(vectors, exact_vectors)  # really another arithmetic


@pytest.mark.slow
def test_an_unknown_precision_is_refused_in_one_line(tmp_path):
    env = {**os.environ, "LEAKLESS_EMBED_PRECISION": "fp8", "LEAKLESS_ARTIFACTS": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "--help"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: LEAKLESS_EMBED_PRECISION must be one of float32, bfloat16, "
                                     "not 'fp8'")
    with pytest.raises(ValueError):
        MiniLMEmbedder(precision="float16")
