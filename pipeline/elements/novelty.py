"""Is a proposed element new? Two tests against every known element (library, store, and
the proposals already accepted in this grow), in every sub-category:

- its name: the proposal's name (lower case, spaces and hyphens dropped, stemmed: "ransom-ware
  screen" is "ransomware screen", "USB key logger" is "USB keylogger") is a known element's
  name or synonym, or one of its synonyms is a known element's name;
- its description: MiniLM cosine to the nearest known description reaches `max_similarity`.

The shipped library's nearest-neighbour cosine tops out at about 0.70; a known photo
reworded under a new name scored 0.85 to 0.95 in an audit (the scripted writer's near-copy
about 0.95), so the default `max_similarity` of 0.85 sits at the low end of that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.lexicon import stem
from pipeline.records import Element


def name_keys(name: str) -> set[str]:
    """The forms under which two names are one: the model writes the same name with and without
    spaces or hyphens ("USB key logger"), and with a plural on any word ("drugs scale"). So the
    words joined then stemmed, and each word stemmed then joined."""
    words = [word for word in re.split(r"[\s_-]+", name.lower()) if word]
    return {stem("".join(words)), "".join(stem(word) for word in words)}


@dataclass(frozen=True)
class Novelty:
    similarity: float  # the highest description cosine to a known element
    nearest: str  # that element's name
    duplicate_of: str | None  # the known element the name repeats

    @property
    def novelty(self) -> float:
        return 1.0 - self.similarity


class NoveltyIndex:
    def __init__(self, known: list[Element], vectors: np.ndarray, embedder: Embedder, max_similarity: float):
        if len(known) != len(vectors):
            raise ValueError(f"{len(known)} known elements but {len(vectors)} vectors")
        self.embedder = embedder
        self.max_similarity = max_similarity
        self.names: dict[str, str] = {}  # normalised name -> the known element it names
        self.terms: dict[str, str] = {}  # normalised name or synonym -> the known element
        self.labels: list[str] = []
        self._buffer = np.zeros((max(1024, 2 * len(known)), 384), dtype=np.float32)  # grows by doubling
        self._add(known, np.asarray(vectors, dtype=np.float32))

    @property
    def vectors(self) -> np.ndarray:
        return self._buffer[:len(self.labels)]

    def _add(self, elements: list[Element], vectors: np.ndarray) -> None:
        for element in elements:
            for key in name_keys(element.element):
                self.names.setdefault(key, element.element)
            for term in (element.element, *element.synonyms):
                for key in name_keys(term):
                    self.terms.setdefault(key, element.element)
        start, vectors = len(self.labels), vectors.reshape(-1, self._buffer.shape[1])
        if start + len(vectors) > len(self._buffer):
            grown = np.zeros((2 * (start + len(vectors)), self._buffer.shape[1]), dtype=np.float32)
            grown[:start] = self._buffer[:start]
            self._buffer = grown
        self._buffer[start:start + len(vectors)] = vectors
        self.labels += [element.element for element in elements]

    def embed(self, elements: list[Element]) -> np.ndarray:
        return np.asarray(self.embedder.embed([element.description for element in elements]), dtype=np.float32)

    def measure(self, element: Element, vector: np.ndarray) -> Novelty:
        duplicate = next((self.terms[key] for key in name_keys(element.element) if key in self.terms), None) or next(
            (self.names[key] for synonym in element.synonyms for key in name_keys(synonym) if key in self.names), None)
        if not len(self.vectors):
            return Novelty(0.0, "", duplicate)
        similarities = self.vectors @ vector
        nearest = int(np.argmax(similarities))
        return Novelty(float(similarities[nearest]), self.labels[nearest], duplicate)

    def admit(self, element: Element, vector: np.ndarray) -> None:
        """A proposal accepted: later ones in the same grow are measured against it too."""
        self._add([element], vector)
