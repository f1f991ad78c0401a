"""The guardrail: where a seed is blocked for content no run may produce (`pipeline.guardrails`).

Checked twice in the build: on each seed's element and source before the writer sees it
(`screen_seeds`, called by the drafts stage, so a blocked element is never sent to a
model) and, as this stage, on what the writer wrote (image description, queries and
safety reason) read together with the element, and then with each pair's texts too
(retrieval may have replaced an image description with a pool image's caption). A seed's
source is read because it ships: a pool's captions file may set it to any text. A seed's
texts are one item: a minor in the description and a sexual word in a query are one hit.
A hit blocks the whole seed: every live pair of it goes. Blocks are written as
`Blocked` records whose reason code is `guardrail.<rule>`.
"""

from __future__ import annotations

from collections import defaultdict

from pipeline.batch import Batch
from pipeline.contracts import StageName
from pipeline.guardrails import check_texts
from pipeline.records import Blocked, CandidatePair, Draft, Element, Seed
from pipeline.stages.base import Stage, drop_blocked_seeds


def element_texts(element: Element) -> list[str]:
    return [element.element, *element.synonyms, element.description]


def seed_texts(seed: Seed) -> list[str]:
    return [*element_texts(seed.element), seed.source]


def draft_texts(draft: Draft) -> list[str]:
    return [draft.image_description, *draft.harmful_queries, draft.safety_reason]


def pair_texts(pair: CandidatePair) -> list[str]:
    return [pair.image_description, pair.original_query, pair.final_query, pair.safety_reason, pair.source]


def screen_seeds(seeds: list[Seed]) -> tuple[list[Seed], list[Blocked]]:
    """(the seeds the writer may see, the blocks of the others)."""
    live, blocked = [], []
    for seed in seeds:
        if hit := check_texts(seed_texts(seed), seed.category):
            blocked.append(Blocked(item_id=seed.id, seed_id=seed.id, stage=StageName.seed,
                                   rule=hit.rule, matched=hit.matched))
        else:
            live.append(seed)
    return live, blocked


class GuardrailStage(Stage):
    name = StageName.guardrail

    def run(self, batch: Batch) -> Batch:
        seeds = {seed.id: seed for seed in batch.seeds}
        written = {seed_id: seed_texts(seed) for seed_id, seed in seeds.items()}
        for draft in batch.drafts:
            written[draft.seed_id] = written.get(draft.seed_id, []) + draft_texts(draft)
        blocked, stopped = [], set()
        for draft in batch.drafts:  # a seed's drafts are read together: one check, one block per seed
            if draft.seed_id not in stopped and (hit := check_texts(written[draft.seed_id],
                                                                     seeds[draft.seed_id].category)):
                blocked.append(Blocked(item_id=draft.id, seed_id=draft.seed_id, stage=StageName.draft,
                                       rule=hit.rule, matched=hit.matched))
                stopped.add(draft.seed_id)
        paired: dict[str, list[CandidatePair]] = defaultdict(list)
        for pair in batch.pairs:
            if pair.seed_id not in stopped:
                paired[pair.seed_id].append(pair)
        for seed_id, pairs in paired.items():
            texts = written.get(seed_id, []) + [text for pair in pairs for text in pair_texts(pair)]
            if hit := check_texts(texts, pairs[0].category):
                blocked.append(Blocked(item_id=seed_id, seed_id=seed_id, stage=StageName.retrieval,
                                       rule=hit.rule, matched=hit.matched))
        return drop_blocked_seeds(batch, blocked)
