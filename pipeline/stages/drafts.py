"""Seeds -> drafts -> candidate pairs. Seeds the guardrail blocks never reach the writer.

Only a draft's usable queries become pairs (`pipeline.llm.roles.query_problem`: a few words, no
refusal); the seed's ledger line names the others and why. A draft without one usable query is the
seed's failure, with the writer's answer kept: a seed never ends with no pairs and nothing to say why."""

from __future__ import annotations

from pipeline.backends.base import SeedWriter
from pipeline.batch import Batch
from pipeline.contracts import ItemError, StageName
from pipeline.llm.roles import query_problem
from pipeline.records import CandidatePair, Draft, Seed
from pipeline.stages.base import Stage, drop_blocked_seeds, failure_from
from pipeline.stages.guardrail import screen_seeds


class DraftStage(Stage):
    name = StageName.drafts

    def __init__(self, writer: SeedWriter):
        self.writer = writer

    def run(self, batch: Batch) -> Batch:
        live_seeds, blocked = screen_seeds(batch.seeds)
        failures = list(batch.failures)
        drafts: list[Draft] = []
        for seed, result in zip(live_seeds, self.writer.write(live_seeds)):
            result = with_a_query(result)
            if isinstance(result, ItemError):
                failures.append(failure_from(result, item_id=seed.id, seed_id=seed.id, stage=self.name,
                                             category=seed.category))
            else:
                drafts.append(result)

        seeds_by_id = {seed.id: seed for seed in live_seeds}
        pairs = [pair for draft in drafts for pair in pairs_from(draft, seeds_by_id[draft.seed_id])]
        batch = batch.model_copy(update={"drafts": batch.drafts + drafts,
                                         "pairs": batch.pairs + pairs, "failures": failures})
        return drop_blocked_seeds(batch, blocked)


def with_a_query(result: Draft | ItemError) -> Draft | ItemError:
    """The draft, or, when no query of it can become a pair, its failure with what the writer wrote."""
    if isinstance(result, ItemError) or usable_queries(result):
        return result
    writer = result.made_by.model or result.made_by.backend
    why = "; ".join(f"{query!r}: {problem}" for query, problem in unusable_queries(result)) or "none written"
    return ItemError(error=f"the seed writer ({writer}) wrote no usable query ({why})",
                     raw=result.model_dump_json(include={"image_description", "harmful_queries", "safety_reason"}))


def pairs_from(draft: Draft, seed: Seed) -> list[CandidatePair]:
    return [
        CandidatePair(
            seed_id=seed.id, original_query=query, final_query=query,
            image_description=draft.image_description, category=seed.category,
            sub_category=seed.sub_category, element=seed.element.element, source=seed.source,
            safety_reason=draft.safety_reason,
            image_ref=seed.image_path,
        )
        for query in usable_queries(draft)
    ]


def usable_queries(draft: Draft) -> list[str]:
    """The draft's queries that can become pairs, each once (a repeated query is one pair)."""
    return [query for query in dict.fromkeys(q.strip() for q in draft.harmful_queries) if query_problem(query) is None]


def unusable_queries(draft: Draft) -> list[tuple[str, str]]:
    """The draft's queries that cannot become pairs, each with why."""
    return [(query, problem) for query in dict.fromkeys(q.strip() for q in draft.harmful_queries)
            if (problem := query_problem(query)) is not None]
