"""Harm preservation judged by the harm-filter role: keep a pair only when the text alone
is benign, the image is harmful, image and text together are harmful, and the intent is kept."""

from __future__ import annotations

from pipeline.backends.base import ItemError
from pipeline.batch import Batch
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import HarmFilterInput
from pipeline.prompts import prompt_hash
from pipeline.records import Decision, Verdict
from pipeline.stages.base import Stage, failure_from


class LLMHarmCheckStage(Stage):
    name = "harm_check"
    role = "harm_filter"

    def __init__(self, client: LLMClient):
        self.client = client

    def run(self, batch: Batch) -> Batch:
        if not batch.pairs:
            return batch
        from pipeline.backends.llm_text import filter_harm

        answers = filter_harm(self.client, [
            HarmFilterInput(original_query=p.original_query, query=p.final_query,
                            image_description=p.image_description) for p in batch.pairs])
        kept, decisions, failures = [], [], list(batch.failures)
        for pair, answer in zip(batch.pairs, answers):
            if isinstance(answer, ItemError):
                failures.append(failure_from(answer, item_id=pair.id, seed_id=pair.seed_id, stage=self.name))
                continue
            verdict = answer.output
            failed = [reason for reason, bad in (
                ("the query alone reads as harmful", verdict.text_harmful),
                ("the image is not harmful", not verdict.image_harmful),
                ("image and query together are not harmful", not verdict.combined_harmful),
                ("the rewrite lost the original intent", not verdict.intent_kept)) if bad]
            decisions.append(Decision(
                item_id=pair.id, seed_id=pair.seed_id, stage=self.name, text=pair.final_query,
                scores={name: float(getattr(verdict, name)) for name in
                        ("text_harmful", "image_harmful", "combined_harmful", "intent_kept")},
                verdict=Verdict.drop if failed else Verdict.keep,
                reason="; ".join(failed) or f"text benign, pair harmful, intent kept ({verdict.explanation})",
                backend=answer.provenance.backend, model=answer.provenance.model,
                prompt_hash=answer.provenance.prompt_hash or prompt_hash(f"{self.role}.j2"),
            ))
            if not failed:
                kept.append(pair)
        return batch.model_copy(update={"pairs": kept, "decisions": batch.decisions + decisions,
                                        "failures": failures})
