"""The text-harm adapter and the embedder share MiniLM's fast tokenizer, which keeps padding and
truncation as state between calls. Each held a lock of its own, so an embedder call from another
thread could switch padding on between the adapter's two tokenizer calls, and the adapter raised
"ValueError: Unable to create tensor" (audit 'notebook': a shared LeakDetector in a thread pool;
a build's threads runner scores and embeds side by side too). The interleaving is forced here."""

from __future__ import annotations

import threading

import numpy as np
from transformers.utils import PaddingStrategy

from pipeline.backends.minilm import _load_model, default_embedder
from pipeline.detect import LeakDetector


def test_an_embedder_call_cannot_come_between_the_adapter_s_tokenizer_calls(monkeypatch):
    adapter = LeakDetector().calibration.adapter
    embedder = default_embedder()
    tokenizer = _load_model().tokenizer
    assert adapter.tokenizer is tokenizer
    original = tokenizer.set_truncation_and_padding
    adapter_reset, embedder_padded = threading.Event(), threading.Event()

    def interleaved(padding_strategy, *args, **kwargs):
        original(padding_strategy, *args, **kwargs)
        thread = threading.current_thread().name
        if thread == "adapter" and not adapter_reset.is_set():
            adapter_reset.set()             # the adapter set "no padding" and is about to encode:
            embedder_padded.wait(2)         # let the embedder in now, if anything lets it
        elif thread == "embedder" and padding_strategy != PaddingStrategy.DO_NOT_PAD:
            embedder_padded.set()

    monkeypatch.setattr(tokenizer, "set_truncation_and_padding", interleaved)
    outcome = {}

    def score():
        try:
            outcome["adapter"] = adapter.probability(["hide it", "how do I keep this out of sight from my roommates"])
        except ValueError as error:
            outcome["adapter"] = error

    def embed():
        adapter_reset.wait(5)
        embedder.embed(["a text this embedder has not seen before, in a thread of its own"])

    threads = [threading.Thread(target=score, name="adapter"), threading.Thread(target=embed, name="embedder")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert isinstance(outcome["adapter"], np.ndarray), outcome["adapter"]
    assert outcome["adapter"].shape == (2,) and np.all((0 < outcome["adapter"]) & (outcome["adapter"] < 1))
