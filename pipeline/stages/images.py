"""One image per seed that still has live pairs: guard the prompt, generate, save the PNG under the run."""

from __future__ import annotations

from pathlib import Path

from pipeline.backends.base import ImageGenerator, ImageRequest, ItemError
from pipeline.batch import Batch
from pipeline.guardrails import check_text
from pipeline.records import Blocked, Failure, content_id
from pipeline.storage import atomic_write_bytes
from pipeline.stages.base import Stage, drop_blocked_seeds, failure_from


def image_seed(item_id: str) -> int:
    """Each item's generation seed comes from its id, so reruns reproduce the image."""
    return int(content_id("image-seed", item_id)[:8], 16)


class ImageStage(Stage):
    name = "images"

    def __init__(self, generator: ImageGenerator, run_dir: Path):
        self.generator = generator
        self.run_dir = Path(run_dir)

    def run(self, batch: Batch) -> Batch:
        first_pair = {}
        for pair in batch.pairs:
            first_pair.setdefault(pair.seed_id, pair)
        blocked: list[Blocked] = []
        requests: list[ImageRequest] = []
        for seed_id, pair in first_pair.items():
            if seed_id in batch.images:  # an image-first seed already has its image
                continue
            hit = check_text(pair.image_description, pair.category)
            if hit:
                blocked.append(Blocked(item_id=seed_id, seed_id=seed_id, stage="image_prompt",
                                       rule=hit.rule, matched=hit.matched))
                continue
            requests.append(ImageRequest(item_id=seed_id, prompt=pair.image_description,
                                         seed=image_seed(seed_id)))

        images, meta = dict(batch.images), dict(batch.image_meta)
        failures: list[Failure] = list(batch.failures)
        for request, result in zip(requests, self.generator.generate(requests)):
            if isinstance(result, ItemError):
                failures.append(failure_from(result, item_id=request.item_id,
                                             seed_id=request.item_id, stage=self.name))
                continue
            relative = f"images/{request.item_id}.png"
            atomic_write_bytes(self.run_dir / relative, result.png)
            images[request.item_id] = relative
            meta[request.item_id] = {**result.meta, "backend": self.generator.backend}

        image_by = self.generator.provenance
        pairs = [pair.model_copy(update={"image_ref": images[pair.seed_id], "image_by": image_by})
                 for pair in batch.pairs if pair.seed_id in images]
        batch = batch.model_copy(update={"pairs": pairs, "images": images, "image_meta": meta,
                                         "failures": failures})
        return drop_blocked_seeds(batch, blocked)
