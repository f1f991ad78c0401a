"""A stage is a small block over a batch: it moves live items on and records why it stopped the others."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from pathlib import Path

from pipeline.batch import Batch
from pipeline.contracts import ItemError
from pipeline.records import Blocked, Failure
from pipeline.storage import atomic_write_bytes


class Stage(ABC):
    name: str = "stage"

    def __call__(self, batch: Batch) -> Batch:
        started = time.perf_counter()
        result = self.run(batch)
        seconds = dict(result.seconds)
        seconds[self.name] = seconds.get(self.name, 0.0) + time.perf_counter() - started
        return result.model_copy(update={"seconds": seconds})

    @abstractmethod
    def run(self, batch: Batch) -> Batch: ...


def failure_text(error: ItemError) -> str:
    text = f"refused: {error.error}" if error.refused else error.error
    if error.raw:
        text += f" | raw answer: {error.raw[:500]}"
    return text


def failure_from(error: ItemError, *, item_id: str, seed_id: str, stage: str) -> Failure:
    return Failure(item_id=item_id, seed_id=seed_id, stage=stage, error=failure_text(error),
                   transient=error.transient)


def save_image(run_dir: Path, seed_id: str, png: bytes, stage: str) -> str | Failure:
    """`images/<seed>.png`, written whole; its path in the run, or the seed's failure. If the disk
    stays full, saving the stage's checkpoint stops the run next, and a rerun makes the image again."""
    relative = f"images/{seed_id}.png"
    try:
        atomic_write_bytes(run_dir / relative, png)
    except OSError as error:
        return Failure(item_id=seed_id, seed_id=seed_id, stage=stage, error=f"cannot write {relative}: {error}")
    return relative


def drop_blocked_seeds(batch: Batch, new_blocks: list[Blocked]) -> Batch:
    """A guardrail hit taints its whole seed: every live pair of that seed goes too."""
    if not new_blocks:
        return batch
    tainted = {block.seed_id for block in new_blocks}
    return batch.model_copy(update={
        "blocked": batch.blocked + new_blocks,
        "pairs": [pair for pair in batch.pairs if pair.seed_id not in tainted],
        "drafts": [draft for draft in batch.drafts if draft.seed_id not in tainted],
    })
