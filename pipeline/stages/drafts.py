"""Seeds -> drafts -> candidate pairs, with the guardrail on the seed and on what the writer wrote."""

from __future__ import annotations

from pipeline.backends.base import ItemError, SeedWriter
from pipeline.batch import Batch
from pipeline.guardrails import check_texts
from pipeline.records import Blocked, CandidatePair, Draft, Seed
from pipeline.stages.base import Stage, drop_blocked_seeds, failure_from


def _seed_texts(seed: Seed) -> list[str]:
    element = seed.element
    return [element.element, *element.synonyms, element.description]


class DraftStage(Stage):
    name = "drafts"

    def __init__(self, writer: SeedWriter):
        self.writer = writer

    def run(self, batch: Batch) -> Batch:
        blocked: list[Blocked] = []
        live_seeds = []
        for seed in batch.seeds:
            hit = check_texts(_seed_texts(seed), seed.category)
            if hit:
                blocked.append(Blocked(item_id=seed.id, seed_id=seed.id, stage="seed",
                                       rule=hit.rule, matched=hit.matched))
            else:
                live_seeds.append(seed)

        failures = list(batch.failures)
        drafts: list[Draft] = []
        for seed, result in zip(live_seeds, self.writer.write(live_seeds)):
            if isinstance(result, ItemError):
                failures.append(failure_from(result, item_id=seed.id, seed_id=seed.id, stage=self.name))
                continue
            hit = check_texts([result.image_description, *result.harmful_queries], seed.category)
            if hit:
                blocked.append(Blocked(item_id=result.id, seed_id=seed.id, stage="draft",
                                       rule=hit.rule, matched=hit.matched))
                continue
            drafts.append(result)

        seeds_by_id = {seed.id: seed for seed in live_seeds}
        pairs = [pair for draft in drafts for pair in pairs_from(draft, seeds_by_id[draft.seed_id])]
        batch = batch.model_copy(update={"drafts": batch.drafts + drafts,
                                         "pairs": batch.pairs + pairs, "failures": failures})
        return drop_blocked_seeds(batch, blocked)


def pairs_from(draft: Draft, seed: Seed) -> list[CandidatePair]:
    return [
        CandidatePair(
            seed_id=seed.id, original_query=query, final_query=query,
            image_description=draft.image_description, category=seed.category,
            sub_category=seed.sub_category, element=seed.element.element, source=seed.source,
            safety_reason=draft.safety_reason,
            image_ref=seed.image_path,
        )
        for query in dict.fromkeys(draft.harmful_queries)  # a repeated query is one pair
    ]
