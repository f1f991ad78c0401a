"""The guardrail: where a seed is blocked for content no run may produce (`pipeline.guardrails`).

Checked twice in the build: on each seed's element before the writer sees it
(`screen_seeds`, called by the drafts stage, so a blocked element is never sent to a
model) and, as this stage, on what the writer wrote (image description and queries) and
on each pair's image description, which retrieval may have replaced with a pool
image's caption.
A hit blocks the whole seed: every live pair of it goes. Blocks are written as
`Blocked` records whose reason code is `guardrail.<rule>`.
"""

from __future__ import annotations

from pipeline.batch import Batch
from pipeline.contracts import StageName
from pipeline.guardrails import check_texts
from pipeline.records import Blocked, Seed
from pipeline.stages.base import Stage, drop_blocked_seeds


def screen_seeds(seeds: list[Seed]) -> tuple[list[Seed], list[Blocked]]:
    """(the seeds the writer may see, the blocks of the others)."""
    live, blocked = [], []
    for seed in seeds:
        element = seed.element
        if hit := check_texts([element.element, *element.synonyms, element.description], seed.category):
            blocked.append(Blocked(item_id=seed.id, seed_id=seed.id, stage=StageName.seed,
                                   rule=hit.rule, matched=hit.matched))
        else:
            live.append(seed)
    return live, blocked


class GuardrailStage(Stage):
    name = StageName.guardrail

    def run(self, batch: Batch) -> Batch:
        categories = {seed.id: seed.category for seed in batch.seeds}
        blocked = []
        for draft in batch.drafts:
            if hit := check_texts([draft.image_description, *draft.harmful_queries], categories[draft.seed_id]):
                blocked.append(Blocked(item_id=draft.id, seed_id=draft.seed_id, stage=StageName.draft,
                                       rule=hit.rule, matched=hit.matched))
        stopped = {block.seed_id for block in blocked}
        for pair in batch.pairs:
            if pair.seed_id not in stopped and (hit := check_texts([pair.image_description], pair.category)):
                blocked.append(Blocked(item_id=pair.seed_id, seed_id=pair.seed_id, stage=StageName.retrieval,
                                       rule=hit.rule, matched=hit.matched))
                stopped.add(pair.seed_id)
        return drop_blocked_seeds(batch, blocked)
