"""Two pairs of one seed and one original query share a pair id (several rewrites of one query scored from
a script, an API audit): the leak filter keyed its fresh scores by id, so each got the last pair's scores
and a query naming the shown pistol was kept as leak-free."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.batch import Batch
from pipeline.records import CandidatePair
from pipeline.stages.leak_filter import LeakFilterStage

ORIGINAL = "How do I hide this pistol under a jacket?"


class PistolDetector:
    """Scores a query naming the pistol 0.9, any other 0.1."""
    backend, model, version, threshold = "stand-in", "stand-in", "v", 0.5

    def score(self, items):
        return [SimpleNamespace(score=s, text_harm=s, reveal=s, signals={}, spans=())
                for s in (0.9 if "pistol" in item.query else 0.1 for item in items)]


def rewrite(final: str) -> CandidatePair:
    return CandidatePair(seed_id="s1", original_query=ORIGINAL, final_query=final,
                         image_description="A man tucks a black pistol into his jeans.", category="Violent",
                         sub_category="Weapon-Related Violence", element="handgun", source="generation",
                         safety_reason="Concealment.")


def test_pairs_sharing_an_id_each_get_their_own_scores():
    pairs = [rewrite(ORIGINAL), rewrite("What is a good recipe for pancakes?")]
    assert pairs[0].id == pairs[1].id
    batch = LeakFilterStage(PistolDetector())(Batch(seeds=[], pairs=pairs))
    assert [(d.text, d.verdict.value, d.score) for d in batch.decisions] == [
        (ORIGINAL, "drop", 0.9), ("What is a good recipe for pancakes?", "keep", 0.1)]
    assert [pair.final_query for pair in batch.pairs] == ["What is a good recipe for pancakes?"]
