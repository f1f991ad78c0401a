"""What the review app's routes share (`Review`): the runs folder, the store, the exported batches
and the edit scorer; and who may see and decide what. The routes themselves are in `app.py`."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import HTTPException

from pipeline.review.batches import ReviewBatch, ReviewItem, find_batch
from pipeline.review.decisions import DecisionIn, Event
from pipeline.review.forms import DecisionRefused, EditNeedsOverride
from pipeline.review.scoring import EditScorer, edit_refusal
from pipeline.review.store import ReviewStore, Token

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # one path segment, no dot-dot, no slash


class Review:
    """What the routes share: the runs folder, the store, the batch cache and the edit scorer."""

    def __init__(self, runs_dir: Path, store: ReviewStore, detector=None):
        self.runs_dir = Path(runs_dir).resolve()
        self.store = store
        self.rescore = EditScorer(detector, runs_dir=self.runs_dir)
        self._batches: dict[str, ReviewBatch] = {}

    def batch(self, batch_id: str) -> ReviewBatch | None:
        # Exported batches never change (a re-export is refused), so caching them is safe.
        if batch_id not in self._batches:
            found = find_batch(self.runs_dir, batch_id)
            if found is None:
                return None
            self._batches[batch_id] = found
        return self._batches[batch_id]

    def allowed_batch(self, token: Token, batch_id: str) -> ReviewBatch:
        if not token.allows(batch_id):
            raise HTTPException(403, f"this token is not scoped to batch {batch_id}")
        batch = self.batch(batch_id)
        if batch is None:
            raise HTTPException(404, f"no batch {batch_id}")
        return batch

    def decide(self, token: Token, decision: DecisionIn, source: str = "web", shown: int | None = None) -> Event:
        batch = self.allowed_batch(token, decision.batch_id)
        if decision.pair_id not in batch.items:
            raise HTTPException(404, f"no pair {decision.pair_id} in batch {decision.batch_id}")
        if decision.pair_id not in batch.manifest.pairs_for(token.annotator):
            raise HTTPException(403, f"pair {decision.pair_id} is not assigned to {token.annotator}")
        item = batch.items[decision.pair_id]
        if decision.action == "edit" and (
                refusal := edit_refusal(item, decision.edited_query, decision.override_reason)):
            raise DecisionRefused(refusal)  # too long, or the edit or its override reason blocked: no override passes
        check = self.rescore.check(item, decision.edited_query) if decision.action == "edit" else None
        if check and not check.passes and not decision.override_reason:
            raise EditNeedsOverride(check, decision.edited_query)
        if check is None or check.passes:  # an override is on record only where it overrode something
            decision = decision.model_copy(update={"override_reason": None})
        return self.store.record(decision, annotator=token.annotator, run_id=item.run_id, source=source,
                                 check=check, shown=shown)

    def progress(self, token: Token, batch: ReviewBatch) -> dict:
        mine = {e.pair_id: e for e in self.store.current(batch_id=batch.manifest.batch_id,
                                                         annotator=token.annotator)}
        items = batch.items_for(token.annotator)
        decided = [item for item in items if item.pair_id in mine]
        return {"batch_id": batch.manifest.batch_id, "run_id": batch.manifest.run_id, "total": len(items),
                "decided": len(decided), "skipped": sum(mine[i.pair_id].action == "skip" for i in decided),
                "decisions": mine}

    def image(self, token: Token, run_id: str, name: str) -> Path:
        """An image of a pair assigned to this annotator, and no other."""
        if not (SAFE_NAME.match(run_id) and SAFE_NAME.match(name)):
            raise HTTPException(400, "bad image path")
        mine = any(item.run_id == run_id and Path(item.image).name == name
                   for batch_id in token.batches if (batch := self.batch(batch_id))
                   for item in batch.items_for(token.annotator))
        if not mine:
            raise HTTPException(403, "this image belongs to no pair assigned to you")
        folder = (self.runs_dir / run_id / "images").resolve()
        path = (folder / name).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            raise HTTPException(404, "no such image")
        return path


def next_open(items: list[ReviewItem], decided: dict, after: int) -> int | None:
    """The first undecided item after `after` (wrapping round), None when all are decided."""
    order = list(range(after + 1, len(items))) + list(range(0, after + 1))
    return next((i for i in order if items[i].pair_id not in decided), None)
