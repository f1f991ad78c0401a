"""Harm preservation: after rewriting, the text alone must be benign, the image still
harmful, and the query must keep its original intent.

Offline rules (backend "rules"):
- text benign: the leak detector found no harmful act and no risky object in the
  final query (its `harm_act` and `query_risk` signals, reused from the leak
  filter's decision on the same text, so nothing is recomputed);
- image harmful: the image description still shows the element;
- intent kept: MiniLM cosine between the original and the final query is at
  least `min_intent_similarity`.
"""

from __future__ import annotations

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.batch import Batch
from pipeline.lexicon import contains_term, load_lexicon, stems, words
from pipeline.records import Decision, Verdict
from pipeline.stages.base import Stage

TEXT_HARM_SIGNALS = ("harm_act", "query_risk")


def text_harm(signals: dict[str, float]) -> float:
    """The strongest risky object or harmful act the detector's lexicon found in the query:
    above 0, the text alone still reads as harmful, whatever the combined leak score."""
    return max((signals.get(name, 0.0) for name in TEXT_HARM_SIGNALS), default=0.0)


class HarmCheckStage(Stage):
    name = "harm_check"
    backend = "rules"
    model = "all-MiniLM-L6-v2"

    def __init__(self, embedder: Embedder, min_intent_similarity: float):
        self.embedder = embedder
        self.min_intent_similarity = min_intent_similarity

    def run(self, batch: Batch) -> Batch:
        if not batch.pairs:
            return batch
        leak_scores = {d.item_id: d.scores for d in batch.decisions if d.stage == "leak_filter"}
        terms = {seed.id: seed.element.terms for seed in batch.seeds}
        originals = self.embedder.embed([pair.original_query for pair in batch.pairs])
        finals = self.embedder.embed([pair.final_query for pair in batch.pairs])
        similarities = np.einsum("ij,ij->i", originals, finals)

        kept, decisions = [], []
        for pair, similarity in zip(batch.pairs, similarities):
            signals = leak_scores.get(pair.id, {})
            harm = text_harm(signals)
            shows_element = shows_any(pair.image_description, terms.get(pair.seed_id, (pair.element,)))
            failed = []
            if harm > 0:
                failed.append("the query alone still reads as harmful")
            if not shows_element:
                failed.append("the image description no longer shows the element")
            if similarity < self.min_intent_similarity:
                failed.append(f"intent drifted (similarity {similarity:.3f} < {self.min_intent_similarity:.3f})")
            decisions.append(Decision(
                item_id=pair.id, seed_id=pair.seed_id, stage=self.name, text=pair.final_query,
                scores={"text_harm": float(harm), "image_shows_element": float(shows_element),
                        "intent_similarity": float(similarity)},
                score=float(similarity), threshold=self.min_intent_similarity,
                verdict=Verdict.drop if failed else Verdict.keep,
                reason="; ".join(failed) or "text benign, image harmful, intent kept",
                backend=self.backend, model=self.model, prompt_hash="",
            ))
            if not failed:
                kept.append(pair)
        return batch.model_copy(update={"pairs": kept, "decisions": batch.decisions + decisions})


def shows_any(description: str, terms: tuple[str, ...]) -> bool:
    """A term shows when it occurs as a phrase, or when each of its content words occurs
    ("laptop login page" in "a laptop screen showing a login page")."""
    if contains_term(description, terms):
        return True
    lexicon = load_lexicon()
    present = set(stems(description))
    for term in terms:
        content = [stems(m.group())[0] for m in words(term) if lexicon.is_content_word(m.group())]
        if content and all(stem in present for stem in content):
            return True
    return False
