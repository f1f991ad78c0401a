"""The narrow interfaces every model role sits behind.

A backend takes a batch and returns one result per input, in order. A backend
that cannot handle one item returns an `ItemError` in its place instead of
raising, so one bad item never sinks a batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from pipeline.contracts import ItemError, Provenance
from pipeline.records import Draft, Seed


class Backend(ABC):
    """Every backend names itself, its model and the prompt it used."""

    backend: str = "unknown"
    model: str = ""
    prompt_hash: str = ""

    @property
    def provenance(self) -> Provenance:
        return Provenance(backend=self.backend, model=self.model, prompt_hash=self.prompt_hash)


class SeedWriter(Backend):
    """Element (or pool image) -> image description, harmful queries, safety reason."""

    @abstractmethod
    def write(self, seeds: list[Seed]) -> list[Draft | ItemError]: ...


@dataclass(frozen=True)
class RewriteRequest:
    item_id: str
    query: str
    image_description: str
    category: str
    element_terms: tuple[str, ...] = ()
    feedback_spans: tuple[str, ...] = ()  # spans a detector flagged in an earlier attempt
    element_kind: str = ""  # the library's kind ("object", "substance", ...), "" when unknown
    # those of the feedback spans that the detector reads as harmful acts ("without anyone
    # noticing", "get rid of"), not as things the image shows
    feedback_acts: tuple[str, ...] = ()


class Rewriter(Backend):
    """Harmful query -> a query that leaves the risk to the image."""

    @abstractmethod
    def rewrite(self, requests: list[RewriteRequest]) -> list[str | ItemError]: ...

    def rewrite_with_provenance(self, requests: list[RewriteRequest]) -> list[tuple[str, Provenance] | ItemError]:
        """Each rewrite with who made it; a backend whose model can vary per item (fallbacks) overrides this."""
        return [result if isinstance(result, ItemError) else (result, self.provenance)
                for result in self.rewrite(requests)]


@dataclass(frozen=True)
class ImageRequest:
    item_id: str
    prompt: str
    seed: int


@dataclass(frozen=True)
class GeneratedImage:
    png: bytes
    meta: dict = field(default_factory=dict)  # model, seed, steps, guidance, size, seconds


class ImageGenerator(Backend):
    """Image description -> PNG bytes."""

    @abstractmethod
    def generate(self, requests: list[ImageRequest]) -> list[GeneratedImage | ItemError]: ...


class Embedder(Backend):
    """Texts -> L2-normalised vectors (rows)."""

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray: ...

    def embed_with_peaks(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The sentence vectors and, from the same pass, each text's L2-normalised
        element-wise maximum over its word-piece vectors (what the leak detector's
        intent probe reads). Only embedders that expose token vectors have it."""
        raise NotImplementedError(f"{type(self).__name__} exposes no token vectors")
