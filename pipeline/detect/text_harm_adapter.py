"""`text_harm`'s second reader: MiniLM fine-tuned through low-rank adapters.

The linear probe (`text_harm.py`) reads frozen MiniLM vectors, and on held-out public
sources those top out near 0.75 AUROC whatever sits on top of them (an MLP, other
layers). Fine-tuning the encoder itself does better (held-out XSTest 0.84 against
0.71), and rank-8 adapters on every layer's query, value and feed-forward output keep
most of that (0.81) in 166,273 weights (650 KB) instead of 90 MB of new encoder.

The adapters are merged into a private copy of the weights they change when loaded,
so scoring costs one MiniLM pass over the queries. Texts are encoded grouped by token count, as
the embedder does, so none is padded; even so a query's probability can differ in the last
digits between batches of different sizes (up to 4e-8 seen), which `verify` allows for.

Fits are cached by content (the training texts, labels and settings) under
`artifacts/cache/text_harm_adapter/`: `calibrate` and `eval-public` fit the same
folds, and the second finds them done.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.backends.minilm import MODEL_LOCK, _load_model
from pipeline.backends.text_batches import RecentResults, by_token_count
from pipeline.hashing import sha256_file

ADAPTER_FILE_NAME = "text_harm_adapter.npz"
# (module path inside each encoder layer) the adapters sit beside
TARGETS = ("attention.self.query", "attention.self.value", "output.dense")


@dataclass(frozen=True)
class AdapterSettings:
    rank: int = 8
    scale: float = 2.0           # the adapters' output is multiplied by this
    epochs: int = 2
    learning_rate: float = 1e-3
    batch_size: int = 32
    seed: int = 0

    def key(self, texts: list[str], labels: np.ndarray) -> str:
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode())
        for text, label in zip(texts, labels):
            digest.update(f"{int(label)}\t{text}\n".encode())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class AdapterWeights:
    down: dict[str, np.ndarray]   # target name -> (rank, in features)
    up: dict[str, np.ndarray]     # target name -> (out features, rank)
    head_weight: np.ndarray       # (hidden,)
    head_bias: float
    scale: float

    def save(self, path: Path) -> str:
        arrays = {f"down/{name}": value for name, value in self.down.items()}
        arrays |= {f"up/{name}": value for name, value in self.up.items()}
        arrays |= {"head_weight": self.head_weight, "head_bias": np.float64(self.head_bias),
                   "scale": np.float64(self.scale)}
        temporary = path.with_suffix(".partial.npz")
        with temporary.open("wb") as out:
            np.savez_compressed(out, **arrays)
        temporary.replace(path)
        return sha256_file(path)

    @classmethod
    def load(cls, path: Path) -> AdapterWeights:
        with np.load(path) as data:
            return cls(down={k[5:]: data[k] for k in data.files if k.startswith("down/")},
                       up={k[3:]: data[k] for k in data.files if k.startswith("up/")},
                       head_weight=data["head_weight"], head_bias=float(data["head_bias"]),
                       scale=float(data["scale"]))


def _targets(encoder) -> list[tuple[str, object, str]]:
    """(name, parent module, attribute) of every linear layer that gets an adapter."""
    found = []
    for number, layer in enumerate(encoder.encoder.layer):
        for path in TARGETS:
            *parents, attribute = path.split(".")
            parent = layer
            for part in parents:
                parent = getattr(parent, part)
            found.append((f"{number}.{path}", parent, attribute))
    return found


def _mean_pool(encoder, batch) -> "torch.Tensor":  # noqa: F821
    tokens = encoder(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
    return (tokens * mask).sum(1) / mask.sum(1)


def _base():
    model = _load_model()
    return model.tokenizer, model[0].auto_model, model.max_seq_length


def fit_adapter(texts: list[str], labels: np.ndarray, settings: AdapterSettings = AdapterSettings()) -> AdapterWeights:
    """Class-balanced fine-tuning of rank-`settings.rank` adapters and a linear head."""
    import torch

    torch.manual_seed(settings.seed)
    tokenizer, base, max_length = _base()
    encoder = copy.deepcopy(base)
    for parameter in encoder.parameters():
        parameter.requires_grad = False
    adapters = {}
    for name, parent, attribute in _targets(encoder):
        adapter = _LowRank(getattr(parent, attribute), settings.rank, settings.scale)
        setattr(parent, attribute, adapter)
        adapters[name] = adapter
    head = torch.nn.Linear(encoder.config.hidden_size, 1)
    trainable = [p for a in adapters.values() for p in (a.down, a.up)] + list(head.parameters())
    optimiser = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=0.01)
    labels = np.asarray(labels)
    positive_weight = torch.tensor(max((labels == 0).sum(), 1) / max((labels == 1).sum(), 1), dtype=torch.float32)
    batches = _length_buckets(tokenizer, texts, max_length, settings.batch_size)
    order = np.random.default_rng(settings.seed)
    encoder.train()
    for _ in range(settings.epochs):
        for index in order.permutation(len(batches)):
            rows = batches[index]
            batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=max_length,
                              return_tensors="pt")
            logits = head(_mean_pool(encoder, batch)).squeeze(-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, torch.tensor(labels[rows], dtype=torch.float32), pos_weight=positive_weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return AdapterWeights(
        down={name: a.down.detach().numpy().copy() for name, a in adapters.items()},
        up={name: a.up.detach().numpy().copy() for name, a in adapters.items()},
        head_weight=head.weight.detach().numpy()[0].copy(), head_bias=float(head.bias.detach()[0]),
        scale=settings.scale)


def _length_buckets(tokenizer, texts: list[str], max_length: int, size: int) -> list[np.ndarray]:
    # Batches of texts of about one length: padding would otherwise double the work.
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
    by_length = np.argsort(lengths, kind="stable")
    return [by_length[i:i + size] for i in range(0, len(texts), size)]


class _LowRank:
    """Built lazily as a torch module (torch is imported only by code that fits)."""

    def __new__(cls, linear, rank: int, scale: float):
        import torch

        class LowRank(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = linear
                self.scale = scale
                self.down = torch.nn.Parameter(torch.randn(rank, linear.in_features) * 0.01)
                self.up = torch.nn.Parameter(torch.zeros(linear.out_features, rank))

            def forward(self, x):
                return self.linear(x) + (x @ self.down.T) @ self.up.T * self.scale

        return LowRank()


def cached_fit(texts: list[str], labels: np.ndarray, settings: AdapterSettings = AdapterSettings(),
               cache: Path | None = None) -> AdapterWeights:
    from pipeline.env import artifacts_dir

    folder = cache or artifacts_dir() / "cache" / "text_harm_adapter"
    path = folder / f"{settings.key(texts, labels)}.npz"
    if path.is_file():
        return AdapterWeights.load(path)
    weights = fit_adapter(texts, labels, settings)
    folder.mkdir(parents=True, exist_ok=True)
    weights.save(path)
    return weights


class TextHarmAdapter:
    """Scores queries with the adapters merged into a private copy of the weights they change."""

    def __init__(self, weights: AdapterWeights, cache_size: int = 50_000):
        import torch

        tokenizer, base, self.max_length = _base()
        self.tokenizer = tokenizer
        # Only the weights the adapters change are copied (21 of MiniLM's 91 MB); the rest,
        # the 47 MB of word embeddings among them, is shared with the embedder's model.
        changed = {id(getattr(parent, attribute).weight) for _, parent, attribute in _targets(base)}
        shared = {id(p): p for p in base.parameters() if id(p) not in changed}
        self.encoder = copy.deepcopy(base, shared).eval()
        with torch.no_grad():
            for name, parent, attribute in _targets(self.encoder):
                linear = getattr(parent, attribute)
                delta = torch.from_numpy(weights.up[name]) @ torch.from_numpy(weights.down[name])
                linear.weight += weights.scale * delta
        self.head_weight = weights.head_weight.astype(np.float64)
        self.head_bias = weights.head_bias
        # The embedder's lock, not one of its own: the tokenizer is the embedder's too, and a padded
        # call of the embedder between this one's two calls broke its batches (ValueError from threads).
        self._lock = MODEL_LOCK
        self._recent: RecentResults[float] = RecentResults(cache_size)

    def probability(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            logits = np.array(self._recent.get(texts, self._logits), dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-logits))

    def _logits(self, texts: list[str]) -> list[float]:
        import torch

        ids = self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
        logits = [0.0] * len(texts)
        with torch.inference_mode():
            for indices in by_token_count(ids):  # one token count per batch: nothing padded
                for start in range(0, len(indices), 256):
                    chunk = indices[start:start + 256]
                    batch = self.tokenizer([texts[i] for i in chunk], truncation=True, max_length=self.max_length,
                                           return_tensors="pt")
                    pooled = _mean_pool(self.encoder, batch).numpy().astype(np.float64)
                    # Row by row in float64: a matrix-vector product would sum each row in an order
                    # that depends on how many rows the batch has.
                    values = (pooled * self.head_weight).sum(axis=1) + self.head_bias
                    for index, value in zip(chunk, values.tolist()):
                        logits[index] = value
        return logits
