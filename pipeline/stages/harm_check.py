"""Harm preservation: after rewriting, the text alone must be benign, the image still
harmful, and the query must keep its original intent.

Offline rules (backend "rules"):
- text benign: the leak detector found no harmful act and no risky object in the
  final query (its `harm_act` and `query_risk` signals, read from the leak scores
  the pair carries, so nothing is recomputed);
- image harmful: the image description still shows the element, by its name or a synonym
  (not a broader term: a pool caption saying "service weapon" or "prescribed drug doses" is
  no handgun or sleeping pills; the release's pair checker looks for the same terms);
- intent kept: MiniLM cosine between the original and the final query is at
  least `min_intent_similarity`.
"""

from __future__ import annotations

import numbers

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.batch import Batch
from pipeline.contracts import ReasonCode, StageName
from pipeline.lexicon import contains_term, load_lexicon, stems, words
from pipeline.records import CandidatePair
from pipeline.stages.filter import FilterStage, Judgement

HARM_CUE_SIGNALS = ("harm_act", "query_risk")
# What a decision's `score` and `threshold` are, by its code: the numbers of the rule that dropped the
# pair, or of the intent rule for a kept one. The two rules point opposite ways; `harm.image_benign`
# has no number (both null).
RULE_NUMBERS = {ReasonCode.harm_text.value: "harm cue: drops above it",
                ReasonCode.harm_intent.value: "intent similarity: drops below it",
                ReasonCode.harm_kept.value: "intent similarity: drops below it"}


def harm_cues(signals: dict[str, float]) -> float:
    """The strongest risky object or harmful act the detector's lexicon found in the query:
    above 0, the text alone still reads as harmful, whatever the combined leak score."""
    return max((signals.get(name, 0.0) for name in HARM_CUE_SIGNALS), default=0.0)


class HarmCheckStage(FilterStage):
    """Reason codes, first failing rule wins: `harm.text_harmful`, `harm.image_benign`,
    `harm.intent_lost`; `harm.kept` when all three hold."""

    name = StageName.harm_check
    backend = "rules"

    def __init__(self, embedder: Embedder, min_intent_similarity: float):
        # a cosine floor: "0.4" failed deep in judge, and 5 dropped every pair as harm.intent_lost
        if isinstance(min_intent_similarity, bool) or not isinstance(min_intent_similarity, numbers.Real) \
                or not -1 <= min_intent_similarity <= 1:
            raise ValueError(f"min_intent_similarity is a cosine, a number from -1 to 1; got {min_intent_similarity!r}")
        self.embedder = embedder
        self.min_intent_similarity = min_intent_similarity

    @property
    def model(self) -> str:
        """The embedder that made the intent cosines, as it names itself: with its precision where it
        is not float32 (`all-MiniLM-L6-v2@bfloat16`), as the leak filter's rows name it."""
        return self.embedder.model

    def gather(self, pairs: list[CandidatePair], batch: Batch) -> list[tuple[float, tuple[str, ...]]]:
        """Per pair: the MiniLM cosine of its original and final query (one embedding call per
        side for the batch) and its element's own terms (name and synonyms)."""
        # scores from a checkpoint written before they named their text (query None) are taken as they are
        unscored = [pair.id for pair in pairs if pair.leak is None
                    or (pair.leak.query is not None and not pair.leak.of(pair.final_query))]
        if unscored:  # the harm cues come from the leak scores: without them every text would read benign
            raise ValueError(f"harm_check reads the leak filter's scores of each pair's final query, and "
                             f"{len(unscored)} pair(s) have none (first: {unscored[0]}): run leak_filter first")
        terms = {seed.id: seed.element.own_terms for seed in batch.seeds}
        originals = self.embedder.embed([pair.original_query for pair in pairs])
        finals = self.embedder.embed([pair.final_query for pair in pairs])
        return [(float(similarity), terms.get(pair.seed_id, (pair.element,)))
                for pair, similarity in zip(pairs, np.einsum("ij,ij->i", originals, finals))]

    def judge(self, pair: CandidatePair, evidence: tuple[float, tuple[str, ...]]) -> Judgement:
        similarity, terms = evidence
        harm = harm_cues(pair.leak.signals)
        shows_element = shows_any(pair.image_description, terms)
        # (code, why, score and threshold of the rule): a drop records the number that decided it
        failed = []
        if harm > 0:
            failed.append((ReasonCode.harm_text, f"the query alone still reads as harmful (harm cue {harm:.3f} > 0)",
                           float(harm), 0.0))
        if not shows_element:
            failed.append((ReasonCode.harm_image, "the image description no longer shows the element", None, None))
        if similarity < self.min_intent_similarity:
            failed.append((ReasonCode.harm_intent, f"intent drifted (similarity {similarity:.3f} "
                                                   f"< {self.min_intent_similarity:.3f})",
                           similarity, self.min_intent_similarity))
        code, _, score, threshold = failed[0] if failed else (
            ReasonCode.harm_kept, "", similarity, self.min_intent_similarity)
        return Judgement(
            keep=not failed, code=code,
            reason="; ".join(why for _, why, _, _ in failed) or "text benign, image harmful, intent kept",
            scores={"harm_cue": float(harm), "image_shows_element": float(shows_element),
                    "intent_similarity": similarity},
            score=score, threshold=threshold, element_terms=tuple(terms))


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
