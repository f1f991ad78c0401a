"""A stage is a small block over a batch: it moves live items on and records why it stopped the others."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from pathlib import Path

from pipeline.batch import Batch
from pipeline.contracts import ItemError
from pipeline.guardrails import check_texts, kept_start
from pipeline.records import Blocked, Failure
from pipeline.stopping import stoppable
from pipeline.storage import WriteRefused, atomic_write_bytes, is_machine_error

KEPT_CHARS = 500  # of a failed request's error and of its raw answer, each: enough to see what went wrong


class Stage(ABC):
    name: str = "stage"

    def __call__(self, batch: Batch) -> Batch:
        if not isinstance(batch, Batch):  # a list of pairs from a script failed deep inside run()
            raise TypeError(f"the {self.name} stage takes a Batch (pipeline.batch.Batch(seeds=..., pairs=...)), "
                            f"not {type(batch).__name__}")
        started = time.perf_counter()
        with stoppable():  # Ctrl-C or SIGTERM drops the stage mid-way: no checkpoint (`pipeline.stopping`)
            result = self.run(batch)
        seconds = dict(result.seconds)
        seconds[self.name] = seconds.get(self.name, 0.0) + time.perf_counter() - started
        return result.model_copy(update={"seconds": seconds})

    @abstractmethod
    def run(self, batch: Batch) -> Batch: ...


def failure_text(error: ItemError, category: str | None = None) -> str:
    """What a run keeps of a failed request (failures.parquet, the ledger, summaries, the terminal):
    its error and its raw answer, each cut to KEPT_CHARS. A model may have written either (a refusal's
    words, an answer that stayed invalid), so the hard block reads them as it reads every draft: a
    part it stops is kept as `(withheld: guardrail <rule>)`. The raw answer is read beside the error
    as kept, since the two are one record."""
    said = kept_start(error.error, KEPT_CHARS, category=category)
    if said != error.error[:KEPT_CHARS] and (kind := failure_kind(error.error)):
        said = f"{kind}: {said}"  # what failed stays readable ("HTTP 429", "invalid answer after one repair")
    text = f"refused: {said}" if error.refused else said
    if error.raw:
        text += f" | raw answer: {kept_start(error.raw, KEPT_CHARS, (said,), category)}"
    return text


def failure_kind(error: str) -> str | None:
    """The error's opening words before its first colon ("HTTP 429", "invalid answer after one
    repair"), when they are short, quote nothing and pass the hard block: ours, not a model's."""
    kind = error.split(":", 1)[0]
    if ":" not in error or len(kind) > 60 or any(mark in kind for mark in "'\"(") or check_texts([kind]):
        return None
    return kind


def failure_from(error: ItemError, *, item_id: str, seed_id: str, stage: str, category: str | None) -> Failure:
    """The failure record; the seed's category is read with it, as the drafts were (in the Erotic
    category a minor reference alone is a hit)."""
    return Failure(item_id=item_id, seed_id=seed_id, stage=stage, error=failure_text(error, category),
                   transient=error.transient)


def save_image(run_dir: Path, seed_id: str, png: bytes, stage: str) -> str | Failure:
    """`images/<seed>.png`, written whole; its path in the run, or the seed's failure."""
    relative = f"images/{seed_id}.png"
    try:
        atomic_write_bytes(run_dir / relative, png)
    except OSError as error:
        stop_on_machine_error(error, run_dir / relative)
        return Failure(item_id=seed_id, seed_id=seed_id, stage=stage, error=f"cannot write {relative}: {error}")
    return relative


def stop_on_machine_error(error: OSError, path: Path) -> None:
    """A full or read-only disk met writing `path` stops the build (one `error:` line naming the file,
    exit 2) before the stage's checkpoint is saved, so a rerun once it is fixed writes the file. As the
    item's failure it would be checkpointed and never tried again, while the build exited 0."""
    if isinstance(error, WriteRefused):  # names the file already, and its disk
        raise error
    if is_machine_error(error):
        raise OSError(error.errno, error.strerror, str(path)) from error


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
