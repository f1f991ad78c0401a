"""The unit of work a Prefect task handles: a batch of seeds and everything made from them.

Stages move items forward and, for every item they stop, record why
(a Decision with verdict drop, a Blocked, or a Failure). So at any point each
seed of a batch is either still live or has a recorded end; the ledger is
derived from that, never kept by hand.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pipeline.records import Blocked, CandidatePair, Decision, Draft, Failure, Seed, content_id


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seeds: list[Seed]
    drafts: list[Draft] = Field(default_factory=list)
    pairs: list[CandidatePair] = Field(default_factory=list)  # the live ones
    decisions: list[Decision] = Field(default_factory=list)
    blocked: list[Blocked] = Field(default_factory=list)
    failures: list[Failure] = Field(default_factory=list)
    images: dict[str, str] = Field(default_factory=dict)  # seed id -> PNG path relative to the run
    image_meta: dict[str, dict] = Field(default_factory=dict)
    seconds: dict[str, float] = Field(default_factory=dict)  # stage -> time spent

    @property
    def id(self) -> str:
        return content_id("batch", [seed.id for seed in self.seeds])


def make_batches(seeds: list[Seed], batch_size: int) -> list[Batch]:
    return [Batch(seeds=seeds[start:start + batch_size])
            for start in range(0, len(seeds), batch_size)]
